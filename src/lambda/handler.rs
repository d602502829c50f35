//! The Lambda handler: dispatches each event to its handler and makes sure every
//! CloudFormation request is answered exactly once, also on a panic and shortly before the
//! Lambda deadline.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::input::cfn::{CloudFormationEvent, Envelope};
use crate::input::event::{Action, Event, RdsInstanceEvent, dispatch};
use crate::input::properties::parse_properties;
use crate::metrics;
use crate::model::tags;
use crate::plan::provision::{CloneRequest, ProvisionOutcome, RequestOrigin};
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::inventory::ConfigSource;
use crate::run::machinery::respond::{AnswerSlot, Status};
use crate::run::workflows::finish::{self, FinishJob, FinishMode, FinishOutcome};
use crate::run::workflows::lifecycle;
use crate::run::workflows::maintain;
use crate::run::workflows::provision::{self, Audience};
use crate::run::workflows::resource;
use crate::run::workflows::status;
use crate::run::workflows::sweep;

/// A failure to report as the invocation's error (never used for CloudFormation requests,
/// which are answered instead).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

fn handler_error(error: impl std::fmt::Display) -> HandlerError {
    HandlerError(error.to_string())
}

/// Handles a payload that may not even be JSON (the CLI's `invoke` reads files). When it
/// does not parse but names a ResponseURL, CloudFormation is still told FAILED. (Lambda's
/// runtime refuses non-JSON payloads before they reach the handler.)
pub async fn handle_payload(
    app: Arc<Context>,
    invocation: Invocation,
    payload: &[u8],
) -> Result<Value, HandlerError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(raw) => handle_event(app, invocation, raw).await,
        Err(error) => {
            let text = String::from_utf8_lossy(payload);
            let reason = format!("the request is not valid JSON: {error}");
            if let Some(response_url) = salvage_response_url(&text) {
                let envelope = Envelope {
                    response_url,
                    stack_id: salvage_string(&text, "StackId").unwrap_or_default(),
                    request_id: salvage_string(&text, "RequestId").unwrap_or_default(),
                    logical_resource_id: salvage_string(&text, "LogicalResourceId")
                        .unwrap_or_default(),
                    physical_resource_id: None,
                };
                let physical_id = envelope.placeholder_physical_id();
                AnswerSlot::new(envelope, physical_id)
                    .fail(app.responder.as_ref(), &reason)
                    .await;
            }
            Err(HandlerError(reason))
        }
    }
}

fn salvage_response_url(text: &str) -> Option<String> {
    salvage_string(text, "ResponseURL")
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// The string value after `"key"` in text that is not valid JSON, if it can be read.
fn salvage_string(text: &str, key: &str) -> Option<String> {
    let after_key = &text[text.find(&format!("\"{key}\""))? + key.len() + 2..];
    let after_colon = after_key.trim_start().strip_prefix(':')?.trim_start();
    let body = after_colon.strip_prefix('"')?;
    let end = body.find('"')?;
    Some(body[..end].to_string())
}

/// Handles one invocation.
pub async fn handle_event(
    app: Arc<Context>,
    invocation: Invocation,
    raw: Value,
) -> Result<Value, HandlerError> {
    let event = match dispatch(raw) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(%error, "event not understood");
            return Err(handler_error(error));
        }
    };
    match event {
        Event::CloudFormation(event) => {
            let CloudFormationEvent { envelope, request } = *event;
            let physical_id = envelope
                .physical_resource_id
                .clone()
                .unwrap_or_else(|| envelope.placeholder_physical_id());
            let slot = AnswerSlot::new(envelope, physical_id);
            let work = {
                let app = app.clone();
                let invocation = invocation.clone();
                let slot = slot.clone();
                async move { resource::handle(&app, &invocation, request, &slot).await }
            };
            guard_answer(&app, &invocation, &slot, work).await;
            Ok(json!({
                "handled": "cloudformation",
                "answered": slot.answered_status(),
                "handedOver": slot.is_settled() && !slot.is_answered(),
                "physicalResourceId": slot.physical_id(),
            }))
        }
        Event::Scheduled(_) => {
            let report = maintain::run(&app, &invocation, &ConfigSource::Parameter, false)
                .await
                .map_err(handler_error)?;
            Ok(serde_json::to_value(report).map_err(handler_error)?)
        }
        Event::RdsInstance(event) => Ok(handle_rds_event(&app, &invocation, &event).await),
        Event::Action(Action::Maintain { dry_run }) => {
            let report = maintain::run(&app, &invocation, &ConfigSource::Parameter, dry_run)
                .await
                .map_err(handler_error)?;
            Ok(serde_json::to_value(report).map_err(handler_error)?)
        }
        Event::Action(Action::Sweep { dry_run }) => {
            let report = sweep::run(&app, dry_run).await.map_err(handler_error)?;
            Ok(serde_json::to_value(report).map_err(handler_error)?)
        }
        Event::Action(Action::Status { source_cluster_id }) => {
            let report = status::status(&app, source_cluster_id.as_deref())
                .await
                .map_err(handler_error)?;
            Ok(serde_json::to_value(report).map_err(handler_error)?)
        }
        Event::Action(Action::Provision {
            dry_run,
            properties,
        }) => handle_manual_provision(&app, &invocation, dry_run, &properties).await,
        Event::Action(Action::Finish { job }) => {
            let job: FinishJob = serde_json::from_value(job).map_err(|error| {
                HandlerError(format!(
                    "job: {}",
                    crate::model::text::shorten_to(&error.to_string(), 300)
                ))
            })?;
            Ok(handle_continuation(app, invocation, job).await)
        }
        Event::Action(Action::Delete { job }) => {
            let job: resource::DeleteJob = serde_json::from_value(job).map_err(|error| {
                HandlerError(format!(
                    "job: {}",
                    crate::model::text::shorten_to(&error.to_string(), 300)
                ))
            })?;
            Ok(handle_delete_continuation(app, invocation, job).await)
        }
    }
}

/// A Delete handed over by an earlier invocation (its clone was starting): carry on, and
/// guard its answer like a fresh request's.
async fn handle_delete_continuation(
    app: Arc<Context>,
    invocation: Invocation,
    job: resource::DeleteJob,
) -> Value {
    let hop = job.hop;
    let slot = AnswerSlot::new(job.envelope.clone(), job.physical_id.clone());
    let work = {
        let app = app.clone();
        let invocation = invocation.clone();
        let slot = slot.clone();
        async move { resource::delete_until_done(&app, &invocation, job, &slot).await }
    };
    guard_answer(&app, &invocation, &slot, work).await;
    json!({
        "handled": "delete",
        "hop": hop,
        "answered": slot.answered_status(),
        "physicalResourceId": slot.physical_id(),
    })
}

/// Runs `work` (which answers through `slot`) and answers FAILED itself if the work
/// panics, ends without an answer, or is still running shortly before the deadline.
async fn guard_answer<F>(
    app: &Arc<Context>,
    invocation: &Invocation,
    slot: &Arc<AnswerSlot>,
    work: F,
) where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let task = tokio::spawn(work);
    let abort = task.abort_handle();
    // If this invocation itself is dropped (its runtime shut down), the work goes with it.
    let _abort_on_drop = AbortOnDrop(abort.clone());
    let outcome = match invocation.time_left(app.config.deadline_margin / 2) {
        Some(left) => tokio::time::timeout(left, task).await,
        None => Ok(task.await),
    };
    let reason = match outcome {
        Ok(Ok(())) => {
            if slot.is_settled() {
                None
            } else {
                Some("internal error: the request ended without an answer".to_string())
            }
        }
        Ok(Err(join_error)) => {
            let detail = if join_error.is_panic() {
                let payload = join_error.into_panic();
                payload
                    .downcast_ref::<&str>()
                    .map(|text| text.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string())
            } else {
                "the work was cancelled".to_string()
            };
            tracing::error!(%detail, "the request handler failed");
            Some(format!("internal error: {detail}"))
        }
        Err(_) => {
            abort.abort();
            Some("timed out: the Lambda deadline was near before the request finished".to_string())
        }
    };
    if let Some(reason) = reason {
        slot.fail(app.responder.as_ref(), &reason).await;
    }
    if slot.answered_status() == Some(Status::Failed) {
        app.metrics
            .emit(metrics::failures_line(&app.config.stack_name, 1, app.now()));
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A hand-over from an earlier invocation: finish the job; if it owes CloudFormation an
/// answer, guard that answer like a fresh request.
async fn handle_continuation(app: Arc<Context>, invocation: Invocation, job: FinishJob) -> Value {
    let cluster_id = job.cluster_id.clone();
    let hop = job.hop;
    let Some(pending) = job.respond.clone() else {
        let outcome = finish::run(&app, &invocation, job, FinishMode::Poll, None, &|_| {}).await;
        return json!({"handled": "finish", "clusterId": cluster_id, "hop": hop, "outcome": describe(&outcome)});
    };
    let slot = AnswerSlot::new(pending.envelope.clone(), pending.physical_id.clone());
    let work = {
        let app = app.clone();
        let invocation = invocation.clone();
        let slot = slot.clone();
        async move {
            finish::run(
                &app,
                &invocation,
                job,
                FinishMode::Poll,
                Some(&slot),
                &|_| {},
            )
            .await;
        }
    };
    guard_answer(&app, &invocation, &slot, work).await;
    json!({
        "handled": "finish",
        "clusterId": cluster_id,
        "hop": hop,
        "answered": slot.answered_status(),
    })
}

fn describe(outcome: &FinishOutcome) -> String {
    match outcome {
        FinishOutcome::Ready(cluster) => format!("ready: {}", cluster.id),
        FinishOutcome::HandedOver { hop } => format!("handed over (hop {hop})"),
        FinishOutcome::StillPending(reason) => format!("pending: {reason}"),
        FinishOutcome::Busy => "another invocation is finishing it".to_string(),
        FinishOutcome::Failed(reason) => format!("failed: {reason}"),
    }
}

/// "DB instance created": finish the instance's cluster if it is one of ours.
async fn handle_rds_event(
    app: &Context,
    invocation: &Invocation,
    event: &RdsInstanceEvent,
) -> Value {
    if !event.is_instance_created() {
        return json!({"handled": "rds-event", "ignored": format!("event {}", event.detail.event_id)});
    }
    let instance_id = event.instance_id();
    let cluster_id = match app.ports.rds.describe_instance(instance_id).await {
        Ok(Some(instance)) => instance.cluster_id,
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, instance_id, "could not look up the instance of an RDS event");
            None
        }
    };
    let Some(cluster_id) = cluster_id else {
        return json!({"handled": "rds-event", "ignored": format!("instance {instance_id} has no cluster")});
    };
    let managed = match app.ports.rds.describe_cluster(&cluster_id).await {
        Ok(Some(cluster)) => tags::managed_role(&cluster, &app.config.stack_name).is_some(),
        _ => false,
    };
    if !managed {
        return json!({"handled": "rds-event", "ignored": format!("{cluster_id} is not managed by this clone manager")});
    }
    let job = finish::sweep_job(app, &cluster_id);
    let outcome = finish::run(app, invocation, job, FinishMode::PollHere, None, &|_| {}).await;
    // A copy's instance is what clones waiting for that copy wait for.
    let resumed =
        match crate::run::workflows::deferred::resume(app, invocation, Some(&cluster_id)).await {
            Ok(outcomes) => outcomes
                .iter()
                .map(|(clone_id, outcome)| format!("{clone_id}: {}", describe(outcome)))
                .collect(),
            Err(error) => vec![format!(
                "could not read the clones waiting for {cluster_id}: {error}"
            )],
        };
    json!({"handled": "rds-event", "clusterId": cluster_id, "outcome": describe(&outcome), "waitingClones": resumed})
}

/// `{"action": "provision", ...properties...}`: a dry run prints the plan; otherwise the
/// clone is made as CloudFormation would, without a stack to answer.
async fn handle_manual_provision(
    app: &Context,
    invocation: &Invocation,
    dry_run: bool,
    properties: &Value,
) -> Result<Value, HandlerError> {
    let mut properties = parse_properties(properties).map_err(handler_error)?;
    let default_ttl = lifecycle::default_clone_ttl(app, &properties.source_cluster_id).await;
    lifecycle::apply_default_expiry(&mut properties, default_ttl);
    let now = app.now();
    let request = CloneRequest {
        origin: RequestOrigin {
            stack_id: "manual-invoke".to_string(),
            logical_resource_id: properties
                .cluster_id
                .clone()
                .unwrap_or_else(|| format!("{}-clone", properties.source_cluster_id)),
            request_id: format!("manual-{}", now.timestamp_millis()),
        },
        properties,
        requester_waits_at_most_an_hour: false,
    };
    let parameter = &app.config.maintenance_config_parameter;
    if dry_run {
        return Ok(match provision::plan_clone(app, &request).await {
            Ok(ProvisionOutcome::Make(plan)) => json!({"dryRun": true, "plan": plan}),
            Ok(outcome) => json!({"dryRun": true, "plan": outcome}),
            Err(error) => {
                json!({"dryRun": true, "wouldFail": error.explain(Audience::Cli, parameter)})
            }
        });
    }
    let started = provision::start_clone(app, &request)
        .await
        .map_err(|error| HandlerError(error.explain(Audience::Cli, parameter)))?;
    let job = finish::job_for_started(app, &started);
    let cluster_id = job.cluster_id.clone();
    let outcome = finish::run(app, invocation, job, FinishMode::Poll, None, &|_| {}).await;
    Ok(json!({"clusterId": cluster_id, "outcome": describe(&outcome)}))
}
