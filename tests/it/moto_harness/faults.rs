//! What the account proxy can do wrong, and how each fault looks on the wire.
//!
//! A [`FaultSchedule`] decides per AWS API call whether to inject a [`FaultKind`];
//! [`fault_response`] renders throttling and server errors in the error format of the
//! called service's protocol (awsQuery XML, awsJson, restJson), so the SDK parses and
//! classifies them exactly as it would errors from AWS.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

/// One kind of failure the proxy can put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The service's own throttling error (query: 400 `Throttling`; awsJson: 400
    /// `ThrottlingException`; Lambda: 429 `TooManyRequestsException`).
    Throttle,
    /// HTTP 500 `InternalFailure` in the service's error format.
    ServerError500,
    /// HTTP 503 `ServiceUnavailable` in the service's error format.
    ServiceUnavailable503,
    /// Wait this long, then forward the request normally.
    Slow(Duration),
    /// Read the request, then close the connection without any response.
    DropConnection,
}

impl FaultKind {
    /// A stable name for statistics and messages.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::ServerError500 => "server_error_500",
            FaultKind::ServiceUnavailable503 => "service_unavailable_503",
            FaultKind::Slow(_) => "slow",
            FaultKind::DropConnection => "drop_connection",
        }
    }
}

/// Decides, per AWS API call, whether the proxy injects a fault. Deterministic: the same
/// schedule and the same sequence of calls give the same faults.
#[derive(Clone, Debug)]
pub struct FaultSchedule {
    rule: FaultRule,
    /// When set, only calls to these services (signing names: "rds", "ssm", ...) are faulted.
    services: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
enum FaultRule {
    Never,
    Random {
        seed: u64,
        probability: f64,
        kinds: Vec<FaultKind>,
    },
    FirstCalls {
        count: u64,
        kind: FaultKind,
    },
}

impl FaultSchedule {
    /// Forward everything.
    pub fn none() -> Self {
        FaultSchedule {
            rule: FaultRule::Never,
            services: None,
        }
    }

    /// Each call is faulted with `probability` (0.0–1.0), the kind picked from `kinds`;
    /// both choices come from `seed` and the call's position, not from a global RNG.
    pub fn random(seed: u64, probability: f64, kinds: &[FaultKind]) -> Self {
        assert!(
            (0.0..=1.0).contains(&probability),
            "fault probability must be within 0.0..=1.0, got {probability}"
        );
        assert!(
            !kinds.is_empty(),
            "a random fault schedule needs fault kinds"
        );
        FaultSchedule {
            rule: FaultRule::Random {
                seed,
                probability,
                kinds: kinds.to_vec(),
            },
            services: None,
        }
    }

    /// The first `count` calls to `service` (signing name, e.g. "rds") get `kind`; every
    /// other call is forwarded.
    pub fn first_calls(service: &str, count: u64, kind: FaultKind) -> Self {
        FaultSchedule {
            rule: FaultRule::FirstCalls { count, kind },
            services: Some(vec![service.to_string()]),
        }
    }

    /// Restricts the schedule to calls of these services.
    pub fn only_services(mut self, services: &[&str]) -> Self {
        self.services = Some(services.iter().map(|name| name.to_string()).collect());
        self
    }

    /// The fault for one AWS API call, given its service, its position among all AWS
    /// calls through the proxy and among the calls to its service (both from 0).
    pub fn fault_for(
        &self,
        service: &str,
        call_index: u64,
        service_call_index: u64,
    ) -> Option<FaultKind> {
        if let Some(services) = &self.services
            && !services.iter().any(|name| name == service)
        {
            return None;
        }
        match &self.rule {
            FaultRule::Never => None,
            FaultRule::FirstCalls { count, kind } => (service_call_index < *count).then_some(*kind),
            FaultRule::Random {
                seed,
                probability,
                kinds,
            } => {
                let draw = splitmix64(seed ^ splitmix64(call_index));
                // The top 53 bits as a uniform number in [0, 1).
                let uniform = (draw >> 11) as f64 / (1u64 << 53) as f64;
                (uniform < *probability)
                    .then(|| kinds[(splitmix64(draw) % kinds.len() as u64) as usize])
            }
        }
    }
}

/// A small, well-mixed hash (SplitMix64), so decisions depend only on seed and position.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The response that replaces the call for an answering fault (throttle, 500, 503);
/// `None` for faults that are not an answer (`Slow`, `DropConnection`).
pub(super) fn fault_response(kind: FaultKind, service: &str) -> Option<Response<Full<Bytes>>> {
    match kind {
        FaultKind::Throttle => Some(throttle_response(service)),
        FaultKind::ServerError500 => Some(error_response(
            service,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Receiver",
            "InternalFailure",
            "We encountered an internal error. Please try again.",
        )),
        FaultKind::ServiceUnavailable503 => Some(error_response(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "Receiver",
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )),
        FaultKind::Slow(_) | FaultKind::DropConnection => None,
    }
}

/// How a service reports errors on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// awsQuery: XML `<ErrorResponse><Error>...</Error></ErrorResponse>`.
    Query,
    /// awsJson 1.0/1.1: `{"__type": ...}` plus the `x-amzn-ErrorType` header.
    AwsJson,
    /// restJson1 (Lambda): the `x-amzn-ErrorType` header names the error.
    RestJson,
}

fn protocol_of(service: &str) -> Protocol {
    match service {
        "rds" | "sts" | "iam" | "sns" | "cloudformation" | "elasticloadbalancing" => {
            Protocol::Query
        }
        "lambda" => Protocol::RestJson,
        // ssm, secretsmanager, kms, events, sqs, logs and unknown services.
        _ => Protocol::AwsJson,
    }
}

/// Throttling as each protocol family really sends it; the SDK's retry classifier
/// recognises all three codes as throttling.
fn throttle_response(service: &str) -> Response<Full<Bytes>> {
    let (status, code) = match protocol_of(service) {
        Protocol::Query => (StatusCode::BAD_REQUEST, "Throttling"),
        Protocol::AwsJson => (StatusCode::BAD_REQUEST, "ThrottlingException"),
        Protocol::RestJson => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
    };
    error_response(service, status, "Sender", code, "Rate exceeded")
}

/// An error in the service's own format (XML for query services, JSON otherwise).
pub(super) fn error_response(
    service: &str,
    status: StatusCode,
    fault_type: &str,
    code: &str,
    message: &str,
) -> Response<Full<Bytes>> {
    match protocol_of(service) {
        Protocol::Query => {
            let namespace = match service {
                "rds" => " xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"",
                "sts" => " xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"",
                _ => "",
            };
            let message = message
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            let body = format!(
                "<ErrorResponse{namespace}><Error><Type>{fault_type}</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                request_id()
            );
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("text/xml"));
            response
        }
        Protocol::AwsJson => json_error(
            status,
            // SQS speaks awsJson 1.0; the services we call speak 1.1.
            if service == "sqs" {
                "application/x-amz-json-1.0"
            } else {
                "application/x-amz-json-1.1"
            },
            code,
            serde_json::json!({"__type": code, "message": message}),
        ),
        Protocol::RestJson => json_error(
            status,
            "application/json",
            code,
            // Lambda's errors carry `Type` (User/Service) beside the message.
            serde_json::json!({
                "Type": if fault_type == "Sender" { "User" } else { "Service" },
                "message": message,
            }),
        ),
    }
}

fn json_error(
    status: StatusCode,
    content_type: &'static str,
    code: &str,
    body: serde_json::Value,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_str(code).expect("error codes are header values"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_str(&request_id()).expect("request ids are header values"),
    );
    response
}

/// A request id shaped like AWS's (a UUID); only its presence matters.
fn request_id() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
