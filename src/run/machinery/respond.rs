//! Answering a CloudFormation custom-resource request: the response, sending it to the
//! pre-signed `ResponseURL` exactly as CloudFormation expects (a PUT with an empty
//! `Content-Type` and a body under 4096 bytes), and the slot that makes sure a request is
//! answered once.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
#[cfg(test)]
use serde_json::Value;

use crate::input::cfn::Envelope;
use crate::model::response_url::check_response_url;

/// CloudFormation refuses response bodies of 4096 bytes or more.
pub const MAX_RESPONSE_BYTES: usize = 4096;

/// Longest identifier echoed in a response. A stack id is at most about 220 characters, a
/// logical id 255, a request id 36; four of these leave room for the rest of the body.
pub const MAX_ECHOED_ID_CHARS: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// The response body CloudFormation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnResponse {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub no_echo: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

impl CfnResponse {
    pub fn success(
        envelope: &Envelope,
        physical_id: &str,
        data: BTreeMap<String, String>,
    ) -> CfnResponse {
        CfnResponse {
            status: Status::Success,
            reason: None,
            physical_resource_id: physical_id.to_string(),
            stack_id: envelope.stack_id.clone(),
            request_id: envelope.request_id.clone(),
            logical_resource_id: envelope.logical_resource_id.clone(),
            no_echo: false,
            data,
        }
    }

    pub fn failed(envelope: &Envelope, physical_id: &str, reason: &str) -> CfnResponse {
        CfnResponse {
            status: Status::Failed,
            reason: Some(reason.to_string()),
            physical_resource_id: physical_id.to_string(),
            stack_id: envelope.stack_id.clone(),
            request_id: envelope.request_id.clone(),
            logical_resource_id: envelope.logical_resource_id.clone(),
            no_echo: false,
            data: BTreeMap::new(),
        }
    }

    /// The JSON body, always under [`MAX_RESPONSE_BYTES`]: the reason is shortened first,
    /// then, if ever needed, the data. Identifiers CloudFormation really sends are far
    /// shorter than [`MAX_ECHOED_ID_CHARS`]; a request with longer ones is not CloudFormation's
    /// and gets them cut.
    pub fn to_body(&self) -> String {
        let mut response = self.clone();
        for id in [
            &mut response.physical_resource_id,
            &mut response.stack_id,
            &mut response.request_id,
            &mut response.logical_resource_id,
        ] {
            if id.chars().count() > MAX_ECHOED_ID_CHARS {
                *id = id.chars().take(MAX_ECHOED_ID_CHARS).collect();
            }
        }
        let body = serde_json::to_string(&response).expect("a response always serialises");
        if body.len() < MAX_RESPONSE_BYTES {
            return body;
        }
        if let Some(reason) = &response.reason {
            let without_reason = {
                let mut copy = response.clone();
                copy.reason = Some(String::new());
                serde_json::to_string(&copy)
                    .expect("a response always serialises")
                    .len()
            };
            // Escaping can grow a character up to six bytes; leave room for it.
            let budget = MAX_RESPONSE_BYTES.saturating_sub(without_reason + 64) / 6;
            let shortened: String = reason.chars().take(budget.max(16)).collect();
            response.reason = Some(format!("{shortened}..."));
        }
        let body = serde_json::to_string(&response).expect("a response always serialises");
        if body.len() < MAX_RESPONSE_BYTES {
            return body;
        }
        response.data.clear();
        serde_json::to_string(&response).expect("a response always serialises")
    }
}

/// Failure to deliver a response.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("the response URL is not an http(s) URL")]
    BadUrl,
    /// Never contacted: the response names the clone, its endpoint and its secret.
    #[error("the response URL is not CloudFormation's, so it was not contacted: {0}")]
    NotCloudFormation(String),
    #[error("the response could not be delivered")]
    Transport(#[source] reqwest::Error),
    #[error("the response URL answered HTTP {0}")]
    Rejected(u16),
}

/// Delivers responses to CloudFormation.
#[async_trait]
pub trait Responder: Send + Sync {
    async fn send(&self, response_url: &str, response: &CfnResponse) -> Result<(), ResponseError>;
}

/// Sends responses with an HTTP PUT, retrying transient failures a few times.
pub struct HttpResponder {
    client: reqwest::Client,
    attempts: u32,
    /// Whether `http://127.0.0.1` (a local emulator) may be answered too.
    allow_local: bool,
}

impl HttpResponder {
    /// Sends responses only to CloudFormation's response URLs, and to 127.0.0.1 when
    /// `allow_local` (see `model::response_url`).
    pub fn new(allow_local: bool) -> HttpResponder {
        HttpResponder {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("the HTTP client builds with static settings"),
            attempts: 4,
            allow_local,
        }
    }
}

#[async_trait]
impl Responder for HttpResponder {
    async fn send(&self, response_url: &str, response: &CfnResponse) -> Result<(), ResponseError> {
        if !(response_url.starts_with("https://") || response_url.starts_with("http://")) {
            return Err(ResponseError::BadUrl);
        }
        check_response_url(response_url, self.allow_local)
            .map_err(ResponseError::NotCloudFormation)?;
        let body = response.to_body();
        let mut last_error = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
            }
            let result = self
                .client
                .put(response_url)
                // The pre-signed URL is signed for an empty content type.
                .header("content-type", "")
                .body(body.clone())
                .send()
                .await;
            match result {
                Ok(reply) if reply.status().is_success() => return Ok(()),
                Ok(reply) if reply.status().is_server_error() => {
                    last_error = Some(ResponseError::Rejected(reply.status().as_u16()));
                }
                Ok(reply) => return Err(ResponseError::Rejected(reply.status().as_u16())),
                Err(error) => last_error = Some(ResponseError::Transport(error)),
            }
        }
        Err(last_error.unwrap_or(ResponseError::BadUrl))
    }
}

/// The one answer a request gets: whoever answers first (the work, the deadline guard or
/// the panic guard) answers, everyone after is told it is done.
pub struct AnswerSlot {
    envelope: Envelope,
    state: std::sync::Mutex<AnswerState>,
}

#[derive(Debug, Default)]
struct AnswerState {
    answered: bool,
    status: Option<Status>,
    handed_over: bool,
    physical_id: String,
}

impl AnswerSlot {
    /// A slot for one request; `physical_id` is what a failure reports until the work knows
    /// better (the request's own id for Update and Delete, a placeholder for Create).
    pub fn new(envelope: Envelope, physical_id: String) -> std::sync::Arc<AnswerSlot> {
        std::sync::Arc::new(AnswerSlot {
            envelope,
            state: std::sync::Mutex::new(AnswerState {
                physical_id,
                ..AnswerState::default()
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AnswerState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The physical id a failure would report now.
    pub fn physical_id(&self) -> String {
        self.lock().physical_id.clone()
    }

    /// Records the physical id once the resource's identity is known: a failed Create then
    /// reports the clone's ARN, so the Delete of the rollback removes whatever exists.
    pub fn set_physical_id(&self, physical_id: &str) {
        self.lock().physical_id = physical_id.to_string();
    }

    /// The work passed the answer on to a fresh invocation.
    pub fn mark_handed_over(&self) {
        self.lock().handed_over = true;
    }

    /// Answered here or handed over: nothing more to send from this invocation.
    pub fn is_settled(&self) -> bool {
        let state = self.lock();
        state.answered || state.handed_over
    }

    pub fn is_answered(&self) -> bool {
        self.lock().answered
    }

    /// The status sent, once answered.
    pub fn answered_status(&self) -> Option<Status> {
        self.lock().status
    }

    /// Sends SUCCESS with `physical_id` and `data`, unless already answered.
    pub async fn succeed(
        &self,
        responder: &dyn Responder,
        physical_id: &str,
        data: BTreeMap<String, String>,
    ) -> bool {
        self.set_physical_id(physical_id);
        let response = CfnResponse::success(&self.envelope, physical_id, data);
        self.send(responder, response).await
    }

    /// Sends FAILED with the current physical id, unless already answered.
    pub async fn fail(&self, responder: &dyn Responder, reason: &str) -> bool {
        let response = CfnResponse::failed(&self.envelope, &self.physical_id(), reason);
        self.send(responder, response).await
    }

    async fn send(&self, responder: &dyn Responder, response: CfnResponse) -> bool {
        {
            let mut state = self.lock();
            if state.answered || state.handed_over {
                return false;
            }
            state.answered = true;
            state.status = Some(response.status);
        }
        tracing::info!(
            status = ?response.status,
            physical_id = %response.physical_resource_id,
            reason = response.reason.as_deref().unwrap_or(""),
            "answering CloudFormation"
        );
        if let Err(error) = responder.send(&self.envelope.response_url, &response).await {
            tracing::error!(%error, "could not deliver the CloudFormation response");
        }
        true
    }
}

/// Keeps responses instead of sending them: for tests, and for the CLI's `invoke`, which
/// prints the answer a CloudFormation event would get.
#[derive(Default)]
pub struct RecordingResponder {
    responses: std::sync::Mutex<Vec<(String, CfnResponse)>>,
}

impl RecordingResponder {
    /// Every (ResponseURL, response) so far, oldest first.
    pub fn responses(&self) -> Vec<(String, CfnResponse)> {
        self.responses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The responses sent to one ResponseURL.
    pub fn responses_to(&self, response_url: &str) -> Vec<CfnResponse> {
        self.responses()
            .into_iter()
            .filter(|(url, _)| url == response_url)
            .map(|(_, response)| response)
            .collect()
    }
}

#[async_trait]
impl Responder for RecordingResponder {
    async fn send(&self, response_url: &str, response: &CfnResponse) -> Result<(), ResponseError> {
        // Keep what would have been sent: the body as it goes on the wire.
        let sent: CfnResponse =
            serde_json::from_str(&response.to_body()).expect("a response body parses back");
        self.responses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((response_url.to_string(), sent));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Envelope {
        Envelope::read(&json!({
            "ResponseURL": "https://example.invalid/r",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
            "RequestId": "req",
            "LogicalResourceId": "Db"
        }))
    }

    #[test]
    fn a_huge_reason_is_cut_to_fit_the_body_limit() {
        let reason = "é\"\\".repeat(10_000);
        let body = CfnResponse::failed(&envelope(), "id", &reason).to_body();
        assert!(body.len() < MAX_RESPONSE_BYTES, "{}", body.len());
        let parsed: CfnResponse = serde_json::from_str(&body).unwrap();
        assert!(parsed.reason.unwrap().ends_with("..."));
        assert_eq!(parsed.status, Status::Failed);
    }

    #[test]
    fn a_success_body_carries_the_data_and_echoes_the_request() {
        let data = [("Endpoint".to_string(), "db.example".to_string())].into();
        let body = CfnResponse::success(&envelope(), "arn:x", data).to_body();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["Status"], "SUCCESS");
        assert_eq!(parsed["RequestId"], "req");
        assert_eq!(parsed["LogicalResourceId"], "Db");
        assert_eq!(parsed["PhysicalResourceId"], "arn:x");
        assert_eq!(parsed["Data"]["Endpoint"], "db.example");
        assert!(parsed.get("Reason").is_none());
    }
}
