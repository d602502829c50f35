//! `invoke`: runs a Lambda event through the function's handler in this process, exactly
//! as Lambda would (without a deadline), and prints the result. CloudFormation's answer is
//! kept and printed; it is PUT to the event's ResponseURL only with `--send-response`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::cli::args::{GlobalArgs, InvokeArgs};
use crate::cli::context::build_app;
use crate::cli::error::Failure;
use crate::cli::output::{print_json, print_text};
use crate::lambda::handler::handle_payload;
use crate::run::machinery::context::Invocation;
use crate::run::machinery::respond::{
    CfnResponse, HttpResponder, RecordingResponder, Responder, ResponseError, Status,
};

pub async fn run(global: &GlobalArgs, args: &InvokeArgs) -> Result<(), Failure> {
    let payload = read_event(&args.event)?;
    let responder = Arc::new(KeepingResponder {
        kept: RecordingResponder::default(),
        sender: if args.send_response {
            Some(HttpResponder::new(
                super::context::allow_local_response_urls()?,
            ))
        } else {
            None
        },
        deliveries: Mutex::new(Vec::new()),
    });
    let app = Arc::new(build_app(global, responder.clone()).await?);
    let result = handle_payload(app, Invocation::unbounded(), &payload).await;
    let answers = responder.answers();
    let (output, handler_error) = match result {
        Ok(value) => (value, None),
        Err(error) => (Value::Null, Some(error.to_string())),
    };
    if global.json {
        print_json(&InvokeOutput {
            result: &output,
            error: handler_error.as_deref(),
            cloud_formation_answers: &answers,
        })?;
    } else {
        print_text(&render(&output, &answers, args.send_response));
    }
    if let Some(error) = handler_error {
        return Err(Failure::new(format!("the handler failed: {error}")));
    }
    if let Some(failed) = answers
        .iter()
        .find(|answer| answer.response.status == Status::Failed)
    {
        return Err(Failure::new(format!(
            "CloudFormation would be told FAILED: {}",
            failed
                .response
                .reason
                .as_deref()
                .unwrap_or("no reason given")
        )));
    }
    if let Some(undelivered) = answers
        .iter()
        .find_map(|answer| answer.delivery_error.as_ref())
    {
        return Err(Failure::new(format!(
            "the answer could not be sent to the ResponseURL: {undelivered}"
        )));
    }
    Ok(())
}

fn read_event(path: &Path) -> Result<Vec<u8>, Failure> {
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map(String::into_bytes)
    } else {
        std::fs::read(path)
    };
    read.map_err(|error| Failure::new(format!("cannot read the event {}: {error}", path.display())))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvokeOutput<'a> {
    /// What the handler returned (`null` when it failed).
    result: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    cloud_formation_answers: &'a [KeptAnswer],
}

/// One CloudFormation answer, as it went (or would have gone) on the wire.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptAnswer {
    pub response_url: String,
    pub response: CfnResponse,
    pub sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
}

/// Keeps every answer and, when asked to, also sends it.
struct KeepingResponder {
    kept: RecordingResponder,
    sender: Option<HttpResponder>,
    /// Per answer, in order: `None` when not sent, else the delivery's outcome.
    deliveries: Mutex<Vec<Option<Result<(), String>>>>,
}

impl KeepingResponder {
    fn answers(&self) -> Vec<KeptAnswer> {
        let deliveries = self
            .deliveries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        self.kept
            .responses()
            .into_iter()
            .zip(deliveries)
            .map(|((response_url, response), delivery)| KeptAnswer {
                response_url,
                response,
                sent: matches!(delivery, Some(Ok(()))),
                delivery_error: delivery.and_then(Result::err),
            })
            .collect()
    }
}

#[async_trait]
impl Responder for KeepingResponder {
    async fn send(&self, response_url: &str, response: &CfnResponse) -> Result<(), ResponseError> {
        self.kept.send(response_url, response).await?;
        let (delivery, result) = match &self.sender {
            None => (None, Ok(())),
            Some(sender) => {
                let result = sender.send(response_url, response).await;
                (
                    Some(result.as_ref().map(|_| ()).map_err(ToString::to_string)),
                    result,
                )
            }
        };
        self.deliveries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(delivery);
        result
    }
}

fn render(result: &Value, answers: &[KeptAnswer], send_response: bool) -> String {
    let mut text = String::new();
    for answer in answers {
        let status = match answer.response.status {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        };
        let what = match (send_response, answer.sent) {
            (false, _) => "not sent; pass --send-response to PUT it to the ResponseURL",
            (true, true) => "sent to the ResponseURL",
            (true, false) => "could not be sent to the ResponseURL",
        };
        text.push_str(&format!("CloudFormation answer: {status} ({what})\n"));
        let body = serde_json::from_str::<Value>(&answer.response.to_body())
            .ok()
            .and_then(|body| serde_json::to_string_pretty(&body).ok())
            .unwrap_or_default();
        text.push_str(&body);
        text.push('\n');
    }
    if answers.is_empty() && !result.is_null() {
        text.push_str(&serde_json::to_string_pretty(result).unwrap_or_default());
        text.push('\n');
    }
    text
}
