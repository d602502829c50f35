//! Catches the EventBridge events a test makes: a rule on the default bus for one
//! `source`, targeting an SQS queue that the test reads.
//!
//! SQS is reached with three hand-written awsJson calls instead of `aws-sdk-sqs`: the
//! crate never uses SQS, and a dev-dependency (and its build time) for three calls to an
//! emulator that does not check signatures is not worth it. The calls carry a SigV4-shaped
//! `Authorization` header only so that moto and the account proxy can tell the service.

use std::sync::Mutex;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::{RuleState, Target};
use serde_json::{Value, json};

use super::seed::report;

/// How often a raw SQS call is tried: the proxy may be injecting faults, and the SDK's
/// retries do not cover these hand-written calls.
const SQS_ATTEMPTS: u32 = 8;

/// Long-poll time of one receive; moto delivers events during `PutEvents`, so a short
/// wait only covers the crate publishing from another task.
const RECEIVE_WAIT_SECONDS: u32 = 1;

/// Received messages stay hidden this long, so a later receive never repeats them
/// (12 hours, SQS's maximum, outlasts any test).
const HIDE_RECEIVED_SECONDS: u32 = 43_200;

/// An SQS queue subscribed to one event source.
#[derive(Debug)]
pub struct EventQueue {
    http: reqwest::Client,
    endpoint: String,
    queue_url: String,
    queue_arn: String,
    rule_name: String,
    received: Mutex<Vec<Value>>,
}

/// Creates a queue and a rule `{"source": [source]}` on the default bus targeting it,
/// in the account of `config`'s endpoint.
pub async fn event_queue(config: &SdkConfig, source: &str) -> EventQueue {
    let endpoint = config
        .endpoint_url()
        .expect("event_queue needs an SdkConfig with an endpoint URL (a proxy or moto)")
        .trim_end_matches('/')
        .to_string();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("build the SQS client");
    let name = format!("harness-events-{:016x}", rand::random::<u64>());

    let created = sqs_call(
        &http,
        &endpoint,
        "CreateQueue",
        json!({ "QueueName": name }),
    )
    .await;
    let queue_url = string_field(&created, "/QueueUrl", "CreateQueue");
    let attributes = sqs_call(
        &http,
        &endpoint,
        "GetQueueAttributes",
        json!({ "QueueUrl": queue_url, "AttributeNames": ["QueueArn"] }),
    )
    .await;
    let queue_arn = string_field(&attributes, "/Attributes/QueueArn", "GetQueueAttributes");

    let events = aws_sdk_eventbridge::Client::new(config);
    events
        .put_rule()
        .name(&name)
        .event_pattern(json!({ "source": [source] }).to_string())
        .state(RuleState::Enabled)
        .send()
        .await
        .unwrap_or_else(|error| panic!("put rule {name}: {}", report(&error)));
    let targets = events
        .put_targets()
        .rule(&name)
        .targets(
            Target::builder()
                .id("harness-queue")
                .arn(&queue_arn)
                .build()
                .expect("target id and arn are set"),
        )
        .send()
        .await
        .unwrap_or_else(|error| panic!("put targets of rule {name}: {}", report(&error)));
    assert_eq!(
        targets.failed_entry_count(),
        0,
        "put targets of rule {name}: {:?}",
        targets.failed_entries()
    );

    EventQueue {
        http,
        endpoint,
        queue_url,
        queue_arn,
        rule_name: name,
        received: Mutex::new(Vec::new()),
    }
}

impl EventQueue {
    /// Receives what has arrived (long-polling about a second) and returns every event
    /// received so far by this queue, oldest first, each as EventBridge's JSON
    /// (`source`, `detail-type`, `detail`, `resources`, ...).
    pub async fn drain(&self) -> Vec<Value> {
        loop {
            let output = sqs_call(
                &self.http,
                &self.endpoint,
                "ReceiveMessage",
                json!({
                    "QueueUrl": self.queue_url,
                    "MaxNumberOfMessages": 10,
                    "WaitTimeSeconds": RECEIVE_WAIT_SECONDS,
                    "VisibilityTimeout": HIDE_RECEIVED_SECONDS,
                }),
            )
            .await;
            let messages = output
                .get("Messages")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let events = messages.iter().map(|message| {
                let body = message.get("Body").and_then(Value::as_str).unwrap_or("");
                serde_json::from_str(body)
                    .unwrap_or_else(|error| panic!("event body is not JSON ({error}): {body}"))
            });
            self.lock().extend(events);
        }
        self.lock().clone()
    }

    /// The queue's ARN (the rule's target).
    pub fn queue_arn(&self) -> &str {
        &self.queue_arn
    }

    /// The EventBridge rule's name (on the default bus).
    pub fn rule_name(&self) -> &str {
        &self.rule_name
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.received
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One awsJson 1.0 SQS call, retried on any failure; panics with the last one.
async fn sqs_call(http: &reqwest::Client, endpoint: &str, operation: &str, input: Value) -> Value {
    let mut last_failure = String::new();
    for _ in 0..SQS_ATTEMPTS {
        let sent = http
            .post(format!("{endpoint}/"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{operation}"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-target, Signature=unchecked",
            )
            .body(input.to_string())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let body = response.bytes().await.unwrap_or_default();
                if status.is_success() {
                    return serde_json::from_slice(&body).unwrap_or_else(|error| {
                        panic!(
                            "SQS {operation}: answer is not JSON ({error}): {}",
                            String::from_utf8_lossy(&body)
                        )
                    });
                }
                last_failure = format!("HTTP {status}: {}", String::from_utf8_lossy(&body));
            }
            Err(error) => last_failure = format!("{error:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("SQS {operation} failed {SQS_ATTEMPTS} times; last: {last_failure}")
}

fn string_field(value: &Value, pointer: &str, operation: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("SQS {operation}: no {pointer} in {value}"))
        .to_string()
}
