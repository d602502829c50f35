//! A per-test reverse proxy in front of moto: its own AWS account, AWS's validation, and
//! faults on the wire.
//!
//! Every request is forwarded unchanged except for the header `x-moto-account-id`, which
//! moto uses as the caller's account: each proxy is a fresh, empty account, so tests run
//! in parallel against one moto without resetting it. Before forwarding, the request is
//! checked against botocore's model of its operation and the crate's AWS rules
//! ([`super::validate`]); what AWS would refuse is answered with AWS's error instead. A
//! [`FaultSchedule`] decides per AWS API call whether to answer with a fault instead, in the
//! error format the real service uses, so the SDK classifies it exactly as it would in AWS.
//! Calls to moto's own API (`/moto-api/...`) are never faulted or checked.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::faults::{FaultKind, FaultSchedule, error_response, fault_response};
use super::validate::{self, ClusterFacts, Refusal};

/// The header moto reads to decide which account a request belongs to.
const ACCOUNT_HEADER: &str = "x-moto-account-id";

/// Headers that describe one hop, not the request; the forwarding client sets its own.
const HOP_BY_HOP_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
];

/// What a proxy has seen so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyStats {
    /// Every request, AWS calls and moto's own API alike.
    pub requests: u64,
    /// Faults injected, by [`FaultKind::name`].
    pub faults: BTreeMap<&'static str, u64>,
    /// Per service signing name ("rds", "ssm", ...); "moto-api" for moto's own API and
    /// "unknown" for requests whose service could not be told.
    pub services: BTreeMap<String, ServiceStats>,
    /// Requests answered with AWS's error because AWS would refuse them, as
    /// `service:Operation: Code: message`.
    pub refusals: Vec<String>,
}

/// What a proxy has seen of one service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceStats {
    pub requests: u64,
    /// Faults injected, by [`FaultKind::name`].
    pub faults: BTreeMap<&'static str, u64>,
    /// Requests by operation (`DescribeDBClusters`, `GetParameter`; `METHOD /path` for
    /// REST services), faulted ones included.
    pub operations: BTreeMap<String, u64>,
}

impl ProxyStats {
    /// All faults injected, of any kind.
    pub fn faults_total(&self) -> u64 {
        self.faults.values().sum()
    }

    /// The statistics of one service (empty if it was never called).
    pub fn service(&self, name: &str) -> ServiceStats {
        self.services.get(name).cloned().unwrap_or_default()
    }
}

/// A running proxy; it stops accepting and closes its connections when dropped.
pub struct Proxy {
    endpoint: String,
    account_id: String,
    state: Arc<Mutex<ProxyState>>,
    server: JoinHandle<()>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Proxy")
            .field("endpoint", &self.endpoint)
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl Proxy {
    /// `http://127.0.0.1:PORT`, to use as the SDK's endpoint URL.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The 12-digit account every request through this proxy belongs to.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// A snapshot of the statistics so far.
    pub fn stats(&self) -> ProxyStats {
        self.lock().stats.clone()
    }

    /// Replaces the schedule (e.g. seed without faults, then turn them on); call
    /// positions keep counting from where they are.
    pub fn set_faults(&self, faults: FaultSchedule) {
        self.lock().faults = faults;
    }

    /// Turns the check of requests against AWS's model and rules off (on by default), for
    /// a test that needs moto itself to see a request AWS would refuse.
    pub fn set_validation(&self, enabled: bool) {
        self.lock().validation = enabled;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

struct ProxyState {
    faults: FaultSchedule,
    validation: bool,
    aws_calls: u64,
    calls_by_service: BTreeMap<String, u64>,
    stats: ProxyStats,
}

/// Everything one request handler needs.
struct Forwarder {
    upstream: String,
    account_id: HeaderValue,
    client: reqwest::Client,
    state: Arc<Mutex<ProxyState>>,
}

impl Forwarder {
    fn lock(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts a proxy to `upstream` (moto's endpoint) as a fresh random account.
pub async fn account_proxy(upstream: &str, faults: FaultSchedule) -> Proxy {
    let account_id = format!("{:012}", rand::random_range(0..1_000_000_000_000u64));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind the account proxy on 127.0.0.1");
    let address: SocketAddr = listener.local_addr().expect("proxy address");
    let state = Arc::new(Mutex::new(ProxyState {
        faults,
        validation: true,
        aws_calls: 0,
        calls_by_service: BTreeMap::new(),
        stats: ProxyStats::default(),
    }));
    let forwarder = Arc::new(Forwarder {
        upstream: upstream.trim_end_matches('/').to_string(),
        account_id: HeaderValue::from_str(&account_id).expect("digits are a header value"),
        client: reqwest::Client::builder()
            // Forward exactly: no redirects followed, no HTTP_PROXY from the environment.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("build the forwarding client"),
        state: state.clone(),
    });
    let server = tokio::spawn(accept_loop(listener, forwarder));
    Proxy {
        endpoint: format!("http://{address}"),
        account_id,
        state,
        server,
    }
}

/// [`account_proxy`] in front of this test binary's moto server.
pub async fn moto_account_proxy(faults: FaultSchedule) -> Proxy {
    account_proxy(&super::moto::moto().endpoint(), faults).await
}

async fn accept_loop(listener: TcpListener, forwarder: Arc<Forwarder>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let forwarder = forwarder.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(forwarder.clone(), request));
            // Errors here are clients going away or our own DropConnection: both expected.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        // Reap finished connections so the set does not grow for the proxy's lifetime.
        while connections.try_join_next().is_some() {}
    }
}

/// Returned by the handler to make hyper close the connection without answering.
#[derive(Debug)]
struct DroppedConnection;

impl fmt::Display for DroppedConnection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("fault injected: connection dropped")
    }
}

impl std::error::Error for DroppedConnection {}

async fn handle(
    forwarder: Arc<Forwarder>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DroppedConnection> {
    let (parts, body) = request.into_parts();
    // A body that fails to arrive is forwarded as what arrived; moto will reject it.
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();

    let is_moto_api = parts.uri.path().starts_with("/moto-api");
    let service = if is_moto_api {
        None
    } else {
        service_of(&parts.headers)
    };
    let operation = operation_of(&parts.method, &parts.uri, &parts.headers, &body);
    let fault = record(
        &forwarder.state,
        is_moto_api,
        service.as_deref(),
        operation.clone(),
    );

    match fault {
        Some(FaultKind::DropConnection) => return Err(DroppedConnection),
        Some(FaultKind::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(kind) => {
            let service = service.as_deref().unwrap_or("unknown");
            if let Some(response) = fault_response(kind, service) {
                return Ok(response);
            }
        }
        None => {}
    }
    if let Some(service) = service.as_deref()
        && let Err(refusal) = check_request(&forwarder, service, &parts, &body).await
    {
        forwarder.lock().stats.refusals.push(format!(
            "{service}:{operation}: {}: {}",
            refusal.code, refusal.message
        ));
        return Ok(error_response(
            service,
            StatusCode::BAD_REQUEST,
            "Sender",
            &refusal.code,
            &refusal.message,
        ));
    }
    Ok(forward(&forwarder, parts, body).await)
}

/// Checks a request the way AWS would before moto sees it (unless validation is off).
async fn check_request(
    forwarder: &Forwarder,
    service: &str,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
) -> Result<(), Refusal> {
    if !forwarder.lock().validation {
        return Ok(());
    }
    let region = region_of(&parts.headers).unwrap_or_else(|| "us-east-1".to_string());
    let request = validate::Request {
        service,
        region: &region,
        target: parts
            .headers
            .get("x-amz-target")
            .and_then(|value| value.to_str().ok()),
        query: parts.uri.query(),
        body,
    };
    let state_check = validate::validate(&request)?;
    if let Some(rename) = validate::rename_of(&request) {
        let status = cluster_facts(forwarder, &rename.id)
            .await
            .map(|facts| facts.status);
        let new_name_taken = cluster_facts(forwarder, &rename.new_id).await.is_some();
        rename.check(status.as_deref(), new_name_taken)?;
    }
    match state_check {
        None => Ok(()),
        Some(check) => {
            let facts = cluster_facts(forwarder, check.cluster_id()).await;
            check.check(facts.as_ref())
        }
    }
}

/// One RDS describe sent straight to moto as this account; the body when it succeeded.
async fn describe_in_moto(
    forwarder: &Forwarder,
    action: &str,
    id_name: &str,
    id: &str,
) -> Option<String> {
    let body = format!(
        "Action={action}&Version=2014-10-31&{id_name}={}",
        id.bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (byte as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    );
    let response = forwarder
        .client
        .post(format!("{}/", forwarder.upstream))
        .header(ACCOUNT_HEADER, forwarder.account_id.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.text().await.ok()
}

/// An instance's status as moto reports it (None when it does not know the instance).
async fn instance_status(forwarder: &Forwarder, instance_id: &str) -> Option<String> {
    let xml = describe_in_moto(
        forwarder,
        "DescribeDBInstances",
        "DBInstanceIdentifier",
        instance_id,
    )
    .await?;
    let start = xml.find("<DBInstanceStatus>")? + "<DBInstanceStatus>".len();
    let end = start + xml[start..].find("</DBInstanceStatus>")?;
    Some(xml[start..end].to_string())
}

/// What moto says about one cluster of this account (None when it does not know it).
async fn cluster_facts(forwarder: &Forwarder, cluster_id: &str) -> Option<ClusterFacts> {
    let xml = describe_in_moto(
        forwarder,
        "DescribeDBClusters",
        "DBClusterIdentifier",
        cluster_id,
    )
    .await?;
    let element = |name: &str| {
        let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + xml[start..].find(&format!("</{name}>"))?;
        Some(xml[start..end].to_string())
    };
    Some(ClusterFacts {
        status: element("Status")?,
        engine: element("Engine").unwrap_or_default(),
        has_serverless_v2_scaling: xml.contains("<ServerlessV2ScalingConfiguration>"),
        engine_version: element("EngineVersion"),
    })
}

/// The region of the SigV4 credential scope.
fn region_of(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(2).map(str::to_string)
}

/// Counts the request and asks the schedule for a fault (AWS API calls only).
fn record(
    state: &Mutex<ProxyState>,
    is_moto_api: bool,
    service: Option<&str>,
    operation: String,
) -> Option<FaultKind> {
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let state = &mut *state;
    let service_key = match (is_moto_api, service) {
        (true, _) => "moto-api",
        (false, Some(service)) => service,
        (false, None) => "unknown",
    };
    state.stats.requests += 1;
    // `service` is None for moto's own API, so those calls are never faulted.
    let fault = match service {
        Some(service) => {
            let call_index = state.aws_calls;
            state.aws_calls += 1;
            let service_calls = state
                .calls_by_service
                .entry(service.to_string())
                .or_default();
            let service_call_index = *service_calls;
            *service_calls += 1;
            state
                .faults
                .fault_for(service, call_index, service_call_index)
        }
        None => None,
    };
    let service_stats = state
        .stats
        .services
        .entry(service_key.to_string())
        .or_default();
    service_stats.requests += 1;
    *service_stats.operations.entry(operation).or_default() += 1;
    if let Some(fault) = fault {
        *service_stats.faults.entry(fault.name()).or_default() += 1;
        *state.stats.faults.entry(fault.name()).or_default() += 1;
    }
    fault
}

async fn forward(
    forwarder: &Forwarder,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|value| value.as_str())
        .unwrap_or("/");
    let mut headers = without_hop_by_hop(&parts.headers);
    headers.insert(ACCOUNT_HEADER, forwarder.account_id.clone());
    let upstream_response = forwarder
        .client
        .request(
            parts.method,
            format!("{}{path_and_query}", forwarder.upstream),
        )
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream_response = match upstream_response {
        Ok(response) => response,
        Err(error) => return bad_gateway(&error),
    };
    let status = upstream_response.status();
    let headers = without_hop_by_hop(upstream_response.headers());
    let body = match upstream_response.bytes().await {
        Ok(body) => body,
        Err(error) => return bad_gateway(&error),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The proxy could not reach moto: say so plainly (a harness problem, not a fault).
fn bad_gateway(error: &reqwest::Error) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!(
        "account proxy: upstream request failed: {error:?}"
    ))));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for name in HOP_BY_HOP_HEADERS {
        kept.remove(*name);
    }
    kept
}

/// The service's signing name, from the SigV4 credential scope
/// (`Credential=AKID/20240101/us-east-1/rds/aws4_request`), else from `X-Amz-Target`.
fn service_of(headers: &HeaderMap) -> Option<String> {
    let from_scope = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|authorization| {
            let scope = authorization.split("Credential=").nth(1)?;
            let scope = scope.split([',', ' ']).next()?;
            let parts: Vec<&str> = scope.split('/').collect();
            (parts.len() == 5 && parts[4] == "aws4_request").then(|| parts[3].to_lowercase())
        });
    from_scope.or_else(|| {
        let target = headers.get("x-amz-target")?.to_str().ok()?;
        let prefix = target.split('.').next()?;
        Some(
            match prefix {
                "AmazonSSM" => "ssm",
                "secretsmanager" => "secretsmanager",
                "TrentService" => "kms",
                "AWSEvents" => "events",
                "AmazonSQS" => "sqs",
                other => return Some(other.to_lowercase()),
            }
            .to_string(),
        )
    })
}

/// The operation name: `X-Amz-Target`'s suffix (awsJson), the `Action` parameter (query
/// protocol, in the form body or the URL), else `METHOD /path` (REST protocols).
fn operation_of(
    method: &hyper::Method,
    uri: &hyper::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> String {
    if let Some(target) = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        && let Some((_, operation)) = target.split_once('.')
    {
        return operation.to_string();
    }
    let form = std::str::from_utf8(body).unwrap_or_default();
    let action = [uri.query().unwrap_or_default(), form]
        .into_iter()
        .flat_map(|parameters| parameters.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="));
    match action {
        Some(action) => action.to_string(),
        None => format!("{method} {}", uri.path()),
    }
}
