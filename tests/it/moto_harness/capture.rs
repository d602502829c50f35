//! Plays CloudFormation's side of a custom resource: the pre-signed ResponseURL.
//!
//! A local HTTP server records every PUT (path, headers, body) and answers 200, or 500
//! for the first N PUTs when asked, so tests can check that the handler answers exactly
//! once, with the body CloudFormation expects, and retries a failed PUT.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// One PUT as it arrived.
#[derive(Clone, Debug)]
pub struct CapturedResponse {
    /// The URL path, e.g. `/create-1` for `Capture::url("create-1")`.
    pub path: String,
    /// The query string, if any (real ResponseURLs carry a signature there).
    pub query: Option<String>,
    /// Every header, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The `Content-Type` header exactly as sent: `None` when absent, `Some("")` when
    /// present and empty (what CloudFormation's pre-signed URL requires).
    pub content_type: Option<String>,
    pub body_len: usize,
    pub body: String,
    /// The body as JSON; `Value::Null` when it is not JSON (see `body`).
    pub json: serde_json::Value,
    /// The status this server answered with (500 while failing on purpose).
    pub answered_status: u16,
}

impl CapturedResponse {
    /// The response's `Status` field ("SUCCESS" or "FAILED"), if any.
    pub fn status(&self) -> Option<&str> {
        self.json.get("Status").and_then(|value| value.as_str())
    }

    /// The response's `Reason` field, if any.
    pub fn reason(&self) -> Option<&str> {
        self.json.get("Reason").and_then(|value| value.as_str())
    }
}

/// A running capture server; it stops when dropped.
pub struct Capture {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl fmt::Debug for Capture {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Capture")
            .field("address", &self.address)
            .finish()
    }
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Wakes `wait_for` whenever a PUT is recorded.
    arrived: Notify,
}

#[derive(Default)]
struct State {
    responses: Vec<CapturedResponse>,
    failures_left: usize,
}

/// Starts a capture server on 127.0.0.1 (a free port).
pub async fn response_capture() -> Capture {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind the response capture on 127.0.0.1");
    let address = listener.local_addr().expect("capture address");
    let shared = Arc::new(Shared::default());
    let server = tokio::spawn(accept_loop(listener, shared.clone()));
    Capture {
        address,
        shared,
        server,
    }
}

impl Capture {
    /// A ResponseURL whose PUTs are recorded under `name` (`http://127.0.0.1:PORT/<name>`).
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{}", self.address, name.trim_start_matches('/'))
    }

    /// Answers 500 to the next `count` PUTs (they are still recorded).
    pub fn fail_next_puts(&self, count: usize) {
        self.lock().failures_left = count;
    }

    /// Every PUT so far, in arrival order.
    pub fn responses(&self) -> Vec<CapturedResponse> {
        self.lock().responses.clone()
    }

    /// Every PUT to `url(name)` so far, in arrival order (the ones answered 500 too).
    pub fn responses_for(&self, name: &str) -> Vec<CapturedResponse> {
        let path = format!("/{}", name.trim_start_matches('/'));
        // A name may carry a query string; match on the path part.
        let path = path.split('?').next().unwrap_or_default().to_string();
        self.lock()
            .responses
            .iter()
            .filter(|response| response.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `url(name)` has received at least `count` PUTs and returns them all;
    /// panics on timeout, listing everything the server has seen.
    pub async fn wait_for(
        &self,
        name: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<CapturedResponse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so a PUT between the two is not missed.
            let arrived = self.shared.arrived.notified();
            let seen = self.responses_for(name);
            if seen.len() >= count {
                return seen;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let everything: Vec<String> = self
                    .responses()
                    .iter()
                    .map(|response| format!("  {} -> {}", response.path, response.body))
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {count} response(s) to {name:?}, \
                     got {}; all PUTs seen:\n{}",
                    seen.len(),
                    if everything.is_empty() {
                        "  (none)".to_string()
                    } else {
                        everything.join("\n")
                    }
                );
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if request.method() != Method::PUT {
        let mut response = Response::new(Full::new(Bytes::from_static(b"only PUT is accepted")));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(response);
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = parts
        .headers
        .get("content-type")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());

    let status = {
        let mut state = shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let status = if state.failures_left > 0 {
            state.failures_left -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        state.responses.push(CapturedResponse {
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers,
            content_type,
            body_len: body.len(),
            body: String::from_utf8_lossy(&body).into_owned(),
            json: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            answered_status: status.as_u16(),
        });
        status
    };
    shared.arrived.notify_waiters();

    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}
