//! Answering the CloudFormation requests that no invocation answered: asynchronous
//! invocations that failed every attempt (or that Lambda's recursion guard stopped) are
//! recorded in the stack's on-failure destination queue, and a stack waits an hour for a
//! request inside one. This reads those records and answers each request, so the stack
//! moves on at once.
//!
//! A record is Lambda's invocation record: `requestContext` (why it failed, how often it
//! was tried) and `requestPayload`, the event as it was sent
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).
//! The payload is a CloudFormation request, or a hand-over of this function that was
//! finishing one, or something no one waits for (the schedule, an RDS event).

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::aws::{AwsError, Queue};
use crate::input::cfn::Envelope;
use crate::model::naming;
use crate::model::tags::{self, Role};
use crate::plan::provision::RequestOrigin;
use crate::run::machinery::context::Context;
use crate::run::machinery::inventory::load_inventory;
use crate::run::machinery::respond::{CfnResponse, Status};

/// How long a received record stays hidden from other readers: long enough to answer it
/// and delete it; if this process dies first, the record shows up again.
pub const ANSWER_VISIBILITY: Duration = Duration::from_secs(120);

/// A dry run only looks; its records show up again soon after.
pub const DRY_RUN_VISIBILITY: Duration = Duration::from_secs(10);

/// What a failed invocation was about.
#[derive(Debug, Clone, PartialEq)]
pub enum FailedPayload {
    /// A CloudFormation request.
    Request {
        envelope: Envelope,
        request_type: String,
    },
    /// A hand-over of this function that would have answered a request.
    Handover {
        envelope: Envelope,
        physical_id: String,
    },
    /// Nobody waits for it (the schedule, an RDS event, a hand-over without a request).
    Unwaited(String),
    /// Not an invocation record.
    Unreadable(String),
}

/// One record from the queue, read.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedInvocation {
    /// Why Lambda gave up (`RetriesExhausted`, `EventAgeExceeded`, ...).
    pub condition: Option<String>,
    pub attempts: Option<u64>,
    /// The failed invocation's own request id, to find it in the function's logs.
    pub invocation_id: Option<String>,
    pub payload: FailedPayload,
}

/// Reads an invocation record.
pub fn read_record(body: &str) -> FailedInvocation {
    let unreadable = |why: &str| FailedInvocation {
        condition: None,
        attempts: None,
        invocation_id: None,
        payload: FailedPayload::Unreadable(why.to_string()),
    };
    let Ok(record) = serde_json::from_str::<Value>(body) else {
        return unreadable("the message is not JSON");
    };
    let Some(payload) = record.get("requestPayload") else {
        return unreadable("the message has no requestPayload: not a Lambda invocation record");
    };
    let context = &record["requestContext"];
    FailedInvocation {
        condition: context["condition"].as_str().map(str::to_string),
        attempts: context["approximateInvokeCount"].as_u64(),
        invocation_id: context["requestId"].as_str().map(str::to_string),
        payload: read_payload(payload),
    }
}

fn read_payload(payload: &Value) -> FailedPayload {
    if let Some(request_type) = payload.get("RequestType").and_then(Value::as_str) {
        let envelope = Envelope::read(payload);
        if envelope.response_url.is_empty() {
            return FailedPayload::Unreadable(
                "a CloudFormation request without a ResponseURL".to_string(),
            );
        }
        return FailedPayload::Request {
            envelope,
            request_type: request_type.to_string(),
        };
    }
    let respond = &payload["job"]["respond"];
    if payload["action"] == "finish" && respond.is_object() {
        let envelope = Envelope::read(&respond["envelope"]);
        if !envelope.response_url.is_empty() {
            return FailedPayload::Handover {
                physical_id: respond["physicalId"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| envelope.placeholder_physical_id()),
                envelope,
            };
        }
    }
    let what = payload["action"]
        .as_str()
        .or_else(|| payload["detail-type"].as_str())
        .unwrap_or("an event");
    FailedPayload::Unwaited(format!("{what}: no CloudFormation request waits for it"))
}

/// What was done with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerLine {
    pub message_id: String,
    /// `Create`, `Update`, `Delete`, or `hand-over`; empty for records left alone.
    pub request: String,
    pub stack_id: String,
    pub logical_resource_id: String,
    /// The answer given (or that a dry run would give).
    pub status: Option<Status>,
    pub reason: Option<String>,
    /// `answered`, `would answer`, `left in the queue: ...` or `not answered: ...`.
    pub outcome: String,
}

/// Everything one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerReport {
    pub dry_run: bool,
    pub records: Vec<AnswerLine>,
}

impl AnswerReport {
    /// Records whose request could not be answered.
    pub fn unanswered(&self) -> usize {
        self.records
            .iter()
            .filter(|line| line.outcome.starts_with("not answered"))
            .count()
    }
}

/// Why the queue could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading the queue {queue_url}: {source}")]
pub struct QueueError {
    pub queue_url: String,
    #[source]
    pub source: AwsError,
}

/// Reads every record in the queue and answers the CloudFormation requests in them
/// (nothing is sent or deleted in a dry run). A record is deleted once its request is
/// answered; records nobody waits for stay.
pub async fn answer_from_queue(
    app: &Context,
    queue: &dyn Queue,
    queue_url: &str,
    dry_run: bool,
) -> Result<AnswerReport, QueueError> {
    let mut report = AnswerReport {
        dry_run,
        records: Vec::new(),
    };
    let visibility = if dry_run {
        DRY_RUN_VISIBILITY
    } else {
        ANSWER_VISIBILITY
    };
    let mut seen = BTreeSet::new();
    loop {
        let messages = queue
            .receive(queue_url, visibility)
            .await
            .map_err(|source| QueueError {
                queue_url: queue_url.to_string(),
                source,
            })?;
        let fresh: Vec<_> = messages
            .into_iter()
            .filter(|message| seen.insert(message.message_id.clone()))
            .collect();
        if fresh.is_empty() {
            return Ok(report);
        }
        for message in fresh {
            let record = read_record(&message.body);
            let mut line = answer_record(app, &record, dry_run).await;
            line.message_id = message.message_id.clone();
            if line.outcome == "answered"
                && let Err(error) = queue.delete(queue_url, &message.receipt_handle).await
            {
                line.outcome = format!("answered, but the record could not be deleted: {error}");
            }
            report.records.push(line);
        }
    }
}

async fn answer_record(app: &Context, record: &FailedInvocation, dry_run: bool) -> AnswerLine {
    let (envelope, request, response) = match &record.payload {
        FailedPayload::Unreadable(why) | FailedPayload::Unwaited(why) => {
            return AnswerLine {
                message_id: String::new(),
                request: String::new(),
                stack_id: String::new(),
                logical_resource_id: String::new(),
                status: None,
                reason: None,
                outcome: format!("left in the queue: {why}"),
            };
        }
        FailedPayload::Handover {
            envelope,
            physical_id,
        } => (
            envelope,
            "hand-over".to_string(),
            CfnResponse::failed(envelope, physical_id, &failure_reason(record)),
        ),
        FailedPayload::Request {
            envelope,
            request_type,
        } => (
            envelope,
            request_type.clone(),
            answer_request(app, envelope, request_type, record).await,
        ),
    };
    let outcome = if dry_run {
        "would answer".to_string()
    } else {
        match app.responder.send(&envelope.response_url, &response).await {
            Ok(()) => "answered".to_string(),
            Err(error) => format!(
                "not answered: {error} (a ResponseURL stops working some hours after the \
                 request; the stack may have given up already)"
            ),
        }
    };
    AnswerLine {
        message_id: String::new(),
        request,
        stack_id: envelope.stack_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        status: Some(response.status),
        reason: response.reason.clone(),
        outcome,
    }
}

/// The answer to a request no invocation answered.
async fn answer_request(
    app: &Context,
    envelope: &Envelope,
    request_type: &str,
    record: &FailedInvocation,
) -> CfnResponse {
    let reason = failure_reason(record);
    match request_type {
        "Delete" => {
            let physical_id = envelope.physical_resource_id.clone().unwrap_or_default();
            let Some(cluster_id) = naming::cluster_id_from_arn(&physical_id) else {
                // A create that failed before it made anything: nothing to delete.
                return CfnResponse::success(envelope, &physical_id, Default::default());
            };
            match app.ports.rds.describe_cluster(cluster_id).await {
                Ok(None) => CfnResponse::success(envelope, &physical_id, Default::default()),
                Ok(Some(_)) => CfnResponse::failed(
                    envelope,
                    &physical_id,
                    &format!(
                        "{reason} The clone {cluster_id} still exists: delete it with \
                         `aurora-clone-manager delete {cluster_id}`, then delete the stack again."
                    ),
                ),
                Err(error) => CfnResponse::failed(
                    envelope,
                    &physical_id,
                    &format!("{reason} Whether the clone {cluster_id} is gone is unknown: {error}"),
                ),
            }
        }
        "Create" => {
            // A clone this request made gets its ARN as the physical id, so that the
            // rollback CloudFormation starts deletes it.
            let physical_id = match clone_made_by(app, envelope).await {
                Some(arn) => arn,
                None => envelope.placeholder_physical_id(),
            };
            CfnResponse::failed(envelope, &physical_id, &reason)
        }
        _ => {
            let physical_id = envelope.physical_resource_id.clone().unwrap_or_default();
            CfnResponse::failed(envelope, &physical_id, &reason)
        }
    }
}

/// The clone a Create request made, found by its `request` and `owner` tags.
async fn clone_made_by(app: &Context, envelope: &Envelope) -> Option<String> {
    let origin = RequestOrigin {
        stack_id: envelope.stack_id.clone(),
        logical_resource_id: envelope.logical_resource_id.clone(),
        request_id: envelope.request_id.clone(),
    };
    let inventory = load_inventory(app.ports.rds.as_ref()).await.ok()?;
    inventory
        .clusters()
        .iter()
        .find(|cluster| {
            tags::managed_role(cluster, &app.config.stack_name) == Some(Role::Clone)
                && cluster.tag(tags::REQUEST) == Some(envelope.request_id.as_str())
                && origin.owns(cluster.tag(tags::OWNER))
        })
        .map(|cluster| cluster.arn.clone())
}

fn failure_reason(record: &FailedInvocation) -> String {
    let attempts = record
        .attempts
        .map(|count| format!(" after {count} attempts"))
        .unwrap_or_default();
    let condition = record
        .condition
        .as_deref()
        .map(|condition| format!(" ({condition})"))
        .unwrap_or_default();
    let logs = record
        .invocation_id
        .as_deref()
        .map(|id| format!("; see the function's logs for request {id}"))
        .unwrap_or_default();
    format!(
        "The clone manager's invocation for this request failed{attempts}{condition}{logs}. \
         Answered from the failed-invocations queue."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(payload: Value) -> String {
        json!({
            "version": "1.0",
            "timestamp": "2026-11-01T09:00:00.000Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-4b7b-a1b1-3e0f1c7e1a2b",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:acm:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "boom"}
        })
        .to_string()
    }

    fn request(request_type: &str) -> Value {
        json!({
            "RequestType": request_type,
            "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
            "RequestId": "req-1",
            "LogicalResourceId": "Db",
            "ResourceType": "Custom::AuroraClone",
            "PhysicalResourceId": "arn:aws:rds:us-east-1:123456789012:cluster:acm-db",
            "ResourceProperties": {"SourceClusterId": "prod"}
        })
    }

    #[test]
    fn a_cloudformation_request_is_read_with_why_it_failed() {
        let read = read_record(&record(request("Delete")));
        assert_eq!(read.condition.as_deref(), Some("RetriesExhausted"));
        assert_eq!(read.attempts, Some(3));
        let FailedPayload::Request {
            envelope,
            request_type,
        } = &read.payload
        else {
            panic!("{read:?}");
        };
        assert_eq!(request_type, "Delete");
        assert_eq!(envelope.request_id, "req-1");
        assert_eq!(
            envelope.physical_resource_id.as_deref(),
            Some("arn:aws:rds:us-east-1:123456789012:cluster:acm-db")
        );
        let reason = failure_reason(&read);
        assert!(
            reason.contains("after 3 attempts (RetriesExhausted)"),
            "{reason}"
        );
        assert!(
            reason.contains("e4b46cbf-b738-4b7b-a1b1-3e0f1c7e1a2b"),
            "{reason}"
        );
    }

    #[test]
    fn a_hand_over_that_was_finishing_a_request_answers_for_it() {
        let handover = json!({"action": "finish", "job": {
            "clusterId": "acm-db",
            "readyBy": "2026-11-01T09:50:00Z",
            "respond": {
                "envelope": {
                    "ResponseURL": "https://example.com/r",
                    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
                    "RequestId": "req-1",
                    "LogicalResourceId": "Db"
                },
                "when": "ready",
                "physicalId": "arn:aws:rds:us-east-1:123456789012:cluster:acm-db"
            }
        }});
        assert!(matches!(
            read_record(&record(handover)).payload,
            FailedPayload::Handover { physical_id, .. }
                if physical_id == "arn:aws:rds:us-east-1:123456789012:cluster:acm-db"
        ));
    }

    #[test]
    fn records_nobody_waits_for_and_other_messages_are_left_alone() {
        let schedule = read_record(&record(json!({"source": "events", "action": "maintain!"})));
        assert!(
            matches!(schedule.payload, FailedPayload::Unwaited(ref what) if what.starts_with("maintain!"))
        );
        let finish_without_request = read_record(&record(
            json!({"action": "finish", "job": {"clusterId": "x"}}),
        ));
        assert!(matches!(
            finish_without_request.payload,
            FailedPayload::Unwaited(_)
        ));
        assert!(matches!(
            read_record("not json").payload,
            FailedPayload::Unreadable(_)
        ));
        assert!(matches!(
            read_record("{\"RequestType\": \"Create\"}").payload,
            FailedPayload::Unreadable(_)
        ));
    }
}
