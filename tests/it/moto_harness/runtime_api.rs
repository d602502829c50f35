//! A stand-in for the Lambda runtime API on 127.0.0.1, enough to run the real binary as
//! Lambda would: `next` hands out queued events with the usual headers, `response` and
//! `error` record what the function answered. It also notes when the first `next` poll
//! arrived, which is how cold start is measured.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What one invocation ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationResult {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Value)>,
    results: HashMap<String, InvocationResult>,
    first_poll: Option<Instant>,
    init_error: Option<Value>,
    next_id: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    queued: Notify,
    finished: Notify,
}

/// The runtime API server; stops when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// The function's ARN the stand-in reports.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:acm";

pub async fn runtime_api() -> RuntimeApi {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind the runtime API stand-in on 127.0.0.1");
    let address = listener.local_addr().expect("runtime API address");
    let shared = Arc::new(Shared::default());
    let server = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(shared.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    };
    RuntimeApi {
        address,
        shared,
        server,
    }
}

impl RuntimeApi {
    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an event; returns its request id.
    pub fn invoke(&self, event: Value) -> String {
        let id = {
            let mut state = self.lock();
            state.next_id += 1;
            let id = format!("request-{}", state.next_id);
            state.queue.push_back((id.clone(), event));
            id
        };
        self.shared.queued.notify_waiters();
        self.shared.queued.notify_one();
        id
    }

    /// Waits for the function's answer to one invocation.
    pub async fn result(&self, id: &str, timeout: Duration) -> InvocationResult {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let finished = self.shared.finished.notified();
            if let Some(result) = self.lock().results.get(id).cloned() {
                return result;
            }
            if let Some(error) = self.lock().init_error.clone() {
                panic!("the function failed to start: {error}");
            }
            if tokio::time::timeout_at(deadline, finished).await.is_err() {
                panic!("no answer to {id} within {timeout:?}");
            }
        }
    }

    /// When the function first asked for an event.
    pub fn first_poll(&self) -> Option<Instant> {
        self.lock().first_poll
    }

    /// Waits until the function first asks for an event.
    pub async fn wait_first_poll(&self, timeout: Duration) -> Instant {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(at) = self.first_poll() {
                return at;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the function never polled for an event within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let body = request.into_body().collect().await?.to_bytes();
    let json = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let ok = |status: StatusCode, body: &str| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a static response")
    };
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        loop {
            let queued = shared.queued.notified();
            {
                let mut state = shared
                    .state
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                state.first_poll.get_or_insert_with(Instant::now);
                if let Some((id, event)) = state.queue.pop_front() {
                    let deadline_ms = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .expect("after the epoch")
                        .as_millis()
                        + 900_000;
                    return Ok(Response::builder()
                        .status(StatusCode::OK)
                        .header("lambda-runtime-aws-request-id", id)
                        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
                        .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
                        .header(
                            "lambda-runtime-trace-id",
                            "Root=1-00000000-000000000000000000000000",
                        )
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(event.to_string())))
                        .expect("an event response"));
                }
            }
            queued.await;
        }
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, outcome]) => {
            let result = match *outcome {
                "response" => InvocationResult::Response(json),
                "error" => InvocationResult::Error(json),
                _ => return Ok(ok(StatusCode::NOT_FOUND, "{}")),
            };
            shared
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .results
                .insert(id.to_string(), result);
            shared.finished.notify_waiters();
            Ok(ok(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"))
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            shared
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .init_error = Some(json);
            shared.finished.notify_waiters();
            Ok(ok(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"))
        }
        _ => Ok(ok(StatusCode::NOT_FOUND, "{}")),
    }
}
