//! The `Custom::AuroraClone` resource: Create, Update and Delete as docs/resource.md describes,
//! each answered exactly once through the request's [`AnswerSlot`].

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{ClusterInfo, ClusterStatus};
use crate::input::cfn::{CfnRequest, Envelope};
use crate::input::properties::ResourceProperties;
use crate::model::naming;
use crate::model::tags::{self, Role};
use crate::plan::provision::{CloneRequest, RequestOrigin};
use crate::plan::request::CloneProperties;
use crate::plan::update::{InPlaceChanges, UpdateDecision, decide_update};
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::execute::Started;
use crate::run::machinery::handover::{self, HandOver};
use crate::run::machinery::password;
use crate::run::machinery::propagation::{PolicyCallError, while_principals_propagate};
use crate::run::machinery::respond::AnswerSlot;
use crate::run::machinery::teardown::{self, TeardownReport};
use crate::run::workflows::deferred;
use crate::run::workflows::finish::{
    self, DeferredRestore, FinishJob, FinishMode, PendingResponse, RespondWhen,
};
use crate::run::workflows::provision::{Audience, start_clone};

/// Handles one CloudFormation request, read once by the dispatcher (or what is wrong with
/// it); the answer goes through `slot`.
pub async fn handle(
    app: &Context,
    invocation: &Invocation,
    request: Result<CfnRequest<ResourceProperties>, String>,
    slot: &Arc<AnswerSlot>,
) {
    let request = match request {
        Ok(request) => request,
        Err(reason) => {
            slot.fail(app.responder.as_ref(), &reason).await;
            return;
        }
    };
    match request {
        CfnRequest::Create(create) => {
            let origin = RequestOrigin {
                stack_id: create.stack_id,
                logical_resource_id: create.logical_resource_id,
                request_id: create.request_id,
            };
            match create.resource_properties.clone {
                Ok(properties) => create_clone(app, invocation, properties, origin, slot).await,
                Err(error) => {
                    slot.fail(app.responder.as_ref(), &error.to_string()).await;
                }
            }
        }
        CfnRequest::Update(update) => {
            let origin = RequestOrigin {
                stack_id: update.stack_id,
                logical_resource_id: update.logical_resource_id,
                request_id: update.request_id,
            };
            let new = match update.resource_properties.clone {
                Ok(properties) => properties,
                Err(error) => {
                    slot.fail(app.responder.as_ref(), &error.to_string()).await;
                    return;
                }
            };
            let old = update.old_resource_properties.clone.ok();
            update_clone(
                app,
                invocation,
                &update.physical_resource_id,
                old,
                new,
                origin,
                slot,
            )
            .await;
        }
        CfnRequest::Delete(delete) => {
            let origin = RequestOrigin {
                stack_id: delete.stack_id,
                logical_resource_id: delete.logical_resource_id,
                request_id: delete.request_id,
            };
            let job = DeleteJob {
                envelope: slot.envelope().clone(),
                physical_id: delete.physical_resource_id,
                origin,
                final_snapshot: delete.resource_properties.final_snapshot,
                give_up_at: app.now() + DELETE_TIMEOUT,
                hop: 0,
            };
            delete_until_done(app, invocation, job, slot).await;
        }
    }
}

/// CloudFormation waits one hour for a custom resource. A Delete that first has to start a
/// stopped clone (AWS deletes only running clusters) answers FAILED after 50 minutes at
/// the latest, so that the stack never hangs; deleting the stack again carries on.
pub const DELETE_TIMEOUT: TimeDelta = TimeDelta::minutes(50);

/// A CloudFormation Delete, carried from one invocation to the next while its clone starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteJob {
    pub envelope: Envelope,
    pub physical_id: String,
    pub origin: RequestOrigin,
    pub final_snapshot: bool,
    /// After this moment the Delete answers FAILED instead of waiting longer.
    pub give_up_at: DateTime<Utc>,
    #[serde(default)]
    pub hop: u32,
}

/// Deletes the clone of a Delete request and answers: SUCCESS once AWS has accepted the
/// deletion (or the clone is gone), never while the clone still runs or is stopped. A
/// clone that must be started first is polled, and handed over to a fresh invocation
/// before this one's deadline.
pub async fn delete_until_done(
    app: &Context,
    invocation: &Invocation,
    mut job: DeleteJob,
    slot: &Arc<AnswerSlot>,
) {
    loop {
        let reason =
            match delete_clone_resource(app, &job.physical_id, &job.origin, job.final_snapshot)
                .await
            {
                Ok(report) => {
                    tracing::info!(?report, "deleted");
                    slot.succeed(app.responder.as_ref(), &job.physical_id, Default::default())
                        .await;
                    return;
                }
                Err(DeleteProblem::Failed(reason)) => {
                    slot.fail(app.responder.as_ref(), &reason).await;
                    return;
                }
                Err(DeleteProblem::NotYet(reason)) => reason,
            };
        if app.now() >= job.give_up_at {
            let reason = format!(
                "{reason}; gave up waiting after {} so that CloudFormation gets its answer in time: delete again to carry on",
                crate::model::time::format_duration(DELETE_TIMEOUT)
            );
            slot.fail(app.responder.as_ref(), &reason).await;
            return;
        }
        tracing::info!(physical_id = %job.physical_id, %reason, "waiting to delete");
        let poll = app.config.poll_interval;
        if handover::must_hand_over(app, invocation) {
            job.hop += 1;
            return hand_over_delete(app, invocation, job, slot, &reason).await;
        }
        tokio::time::sleep(poll).await;
    }
}

async fn hand_over_delete(
    app: &Context,
    invocation: &Invocation,
    job: DeleteJob,
    slot: &Arc<AnswerSlot>,
    waiting_for: &str,
) {
    let reason = match handover::hand_over(app, invocation, "delete", &job, job.hop).await {
        HandOver::Sent => {
            slot.mark_handed_over();
            return;
        }
        HandOver::TooManyHops { max_hops } => {
            format!("{waiting_for}; still waiting after {max_hops} hand-overs")
        }
        HandOver::NoFunction => {
            format!("{waiting_for}; the deadline is near and there is no function to continue in")
        }
        HandOver::Failed(error) => {
            format!("{waiting_for}; could not continue in a fresh invocation: {error}")
        }
    };
    slot.fail(app.responder.as_ref(), &reason).await;
}

/// Starts a clone and finishes it (or hands it over); the finisher answers.
async fn create_clone(
    app: &Context,
    invocation: &Invocation,
    properties: CloneProperties,
    origin: RequestOrigin,
    slot: &Arc<AnswerSlot>,
) {
    let when = if properties.wait_for_ready {
        RespondWhen::Ready
    } else {
        RespondWhen::Restored
    };
    let request = CloneRequest {
        properties,
        origin,
        requester_waits_at_most_an_hour: true,
    };
    let started = match start_clone(app, &request).await {
        Ok(started) => started,
        Err(error) => {
            let reason = error.explain(
                Audience::CloudFormation,
                &app.config.maintenance_config_parameter,
            );
            slot.fail(app.responder.as_ref(), &reason).await;
            return;
        }
    };
    let ready_by = app.now() + app.config.ready_timeout;
    let job = match started {
        Started::Existing { cluster_id, arn } => {
            tracing::info!(%cluster_id, "this request already made its clone; finishing it");
            slot.set_physical_id(&arn);
            FinishJob {
                cluster_id,
                record: None,
                respond: Some(pending(slot.envelope(), when, &arn)),
                deferred: None,
                ready_by,
                hop: 0,
                recorded: false,
            }
        }
        Started::Made {
            plan,
            record,
            restore,
            restored,
        } => {
            slot.set_physical_id(&plan.cluster_arn);
            FinishJob {
                cluster_id: plan.cluster_id.clone(),
                record: Some(*record),
                respond: Some(pending(slot.envelope(), when, &plan.cluster_arn)),
                deferred: restored.is_none().then(|| DeferredRestore {
                    root_id: plan.root_id.clone(),
                    restore: *restore,
                    instance: plan.instance.clone(),
                }),
                ready_by,
                hop: 0,
                recorded: false,
            }
        }
    };
    let job = if job.deferred.is_some() && when == RespondWhen::Restored {
        match answer_while_the_copy_is_made(app, job, slot).await {
            Some(job) => job,
            None => return,
        }
    } else {
        job
    };
    let outcome = finish::run(app, invocation, job, FinishMode::Poll, Some(slot), &|_| {}).await;
    tracing::info!(?outcome, "create finished");
}

/// How long a clone answered while its copy is made may wait for that copy: copies of
/// large volumes take hours; past this the clone is given up (and its record removed).
const COPY_WAIT_LIMIT: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// `WaitForReady: false` and the clone must wait for a copy: records the clone as waiting
/// (so that the copy's RDS event or the maintenance run restores it if this chain stops)
/// and answers SUCCESS now. The outputs hold what is known: ARN, id, source, data time and
/// password secret; the endpoints exist once the clone does. Returns the job to follow the
/// copy with, or `None` when the create failed (answered and undone).
async fn answer_while_the_copy_is_made(
    app: &Context,
    job: FinishJob,
    slot: &Arc<AnswerSlot>,
) -> Option<FinishJob> {
    let Some(deferred) = job.deferred.clone() else {
        return Some(job);
    };
    let waiting = FinishJob {
        record: None,
        respond: None,
        recorded: true,
        ready_by: app.now() + COPY_WAIT_LIMIT,
        ..job.clone()
    };
    if let Err(error) = deferred::record(app, &waiting).await {
        finish::fail(app, job, Some(slot), &error.to_string()).await;
        return None;
    }
    let placeholder = ClusterInfo {
        id: deferred.restore.cluster_id.clone(),
        arn: job
            .respond
            .as_ref()
            .map(|respond| respond.physical_id.clone())
            .unwrap_or_default(),
        status: ClusterStatus::Other("waiting-for-copy".into()),
        engine: deferred.instance.engine.clone(),
        tags: deferred.restore.tags.clone(),
        ..ClusterInfo::default()
    };
    slot.succeed(
        app.responder.as_ref(),
        &placeholder.arn,
        finish::clone_outputs(&placeholder),
    )
    .await;
    Some(waiting)
}

fn pending(envelope: &Envelope, when: RespondWhen, physical_id: &str) -> PendingResponse {
    PendingResponse {
        envelope: envelope.clone(),
        when,
        physical_id: physical_id.to_string(),
    }
}

/// Whether a cluster is a clone this deployment made for this stack's logical resource.
fn owned_by(app: &Context, cluster: &ClusterInfo, origin: &RequestOrigin) -> Result<(), String> {
    if tags::managed_role(cluster, &app.config.stack_name) != Some(Role::Clone) {
        return Err(format!(
            "refusing to change {}: it is not a clone managed by this clone manager ({})",
            cluster.id, app.config.stack_name
        ));
    }
    if !origin.owns(cluster.tag(tags::OWNER)) {
        return Err(format!(
            "refusing to change {}: it belongs to another stack or resource",
            cluster.id
        ));
    }
    Ok(())
}

async fn update_clone(
    app: &Context,
    invocation: &Invocation,
    physical_id: &str,
    old: Option<CloneProperties>,
    new: CloneProperties,
    origin: RequestOrigin,
    slot: &Arc<AnswerSlot>,
) {
    let existing = match naming::cluster_id_from_arn(physical_id) {
        None => None,
        Some(cluster_id) => match app.ports.rds.describe_cluster(cluster_id).await {
            Ok(found) => found,
            Err(error) => {
                slot.fail(app.responder.as_ref(), &error.to_string()).await;
                return;
            }
        },
    };
    let Some(cluster) = existing else {
        tracing::info!(physical_id, "the clone does not exist; making a new one");
        return create_clone(app, invocation, new, origin, slot).await;
    };
    if let Err(reason) = owned_by(app, &cluster, &origin) {
        slot.fail(app.responder.as_ref(), &reason).await;
        return;
    }
    let changes = match decide_update(old.as_ref(), &new, &cluster) {
        UpdateDecision::Replace {
            same_clone,
            data_still_new_enough,
        } => {
            tracing::info!(
                same_clone,
                data_still_new_enough,
                "making a replacement clone"
            );
            return create_clone(app, invocation, new, origin, slot).await;
        }
        UpdateDecision::NoChange => InPlaceChanges::default(),
        UpdateDecision::InPlace(changes) => changes,
    };
    let updated = update_in_place(app, &cluster, &changes, &new).await;
    if updated.is_ok() && changes.refresh {
        // Started here; each sweep moves it on until the new clone is in place.
        if let Err(error) = crate::run::workflows::refresh::refresh(app, &cluster.id, false).await {
            slot.fail(
                app.responder.as_ref(),
                &format!("refreshing {}: {error}", cluster.id),
            )
            .await;
            return;
        }
    }
    match updated {
        Ok(()) => {
            let refreshed = app
                .ports
                .rds
                .describe_cluster(&cluster.id)
                .await
                .ok()
                .flatten()
                .unwrap_or(cluster);
            slot.succeed(
                app.responder.as_ref(),
                physical_id,
                finish::clone_outputs(&refreshed),
            )
            .await;
        }
        Err(error) => {
            slot.fail(
                app.responder.as_ref(),
                &format!("updating {} in place: {error}", cluster.id),
            )
            .await;
        }
    }
}

/// Applies the planner's in-place changes to an existing clone: user tags on the clone and
/// its instances, the password's readers, the tags that carry its lifetime.
async fn update_in_place(
    app: &Context,
    cluster: &ClusterInfo,
    changes: &InPlaceChanges,
    new: &CloneProperties,
) -> Result<(), PolicyCallError> {
    if let Some(change) = &changes.tags {
        let mut arns = vec![cluster.arn.clone()];
        arns.extend(
            app.ports
                .rds
                .describe_cluster_instances(&cluster.id)
                .await?
                .into_iter()
                .map(|instance| instance.arn),
        );
        for arn in &arns {
            if !change.removed.is_empty() {
                app.ports.rds.remove_tags(arn, &change.removed).await?;
            }
            if !change.set.is_empty() {
                app.ports.rds.add_tags(arn, &change.set).await?;
            }
        }
    }
    if let Some(readers) = &changes.readers {
        rewrite_readers(app, cluster, readers).await?;
    }
    if changes.lifetime {
        retag_expiry(app, cluster, new).await?;
    }
    Ok(())
}

/// Writes a changed expiry or idle rule to the clone's tags: `ExpiresAfter` counts from when the clone
/// was made, as it did at Create. The expiring notice goes, so a new expiry is announced
/// again; with no expiry left, the clone lives until deleted. The sweep takes a final
/// snapshot when the `final-snapshot` tag asks for one.
async fn retag_expiry(
    app: &Context,
    cluster: &ClusterInfo,
    properties: &CloneProperties,
) -> Result<(), PolicyCallError> {
    let made_at = cluster.created_at.unwrap_or_else(|| app.now());
    let mut stale = vec![tags::EXPIRING_NOTICE.to_string()];
    match properties.expiry(made_at) {
        Some(expires_at) => {
            let mut tag: crate::aws::Tags = [(
                tags::EXPIRES_AT.to_string(),
                crate::model::time::format_timestamp(expires_at),
            )]
            .into();
            if properties.final_snapshot {
                tag.insert(tags::FINAL_SNAPSHOT.to_string(), "true".to_string());
            } else {
                stale.push(tags::FINAL_SNAPSHOT.to_string());
            }
            app.ports.rds.add_tags(&cluster.arn, &tag).await?;
        }
        None => {
            stale.push(tags::EXPIRES_AT.to_string());
            stale.push(tags::FINAL_SNAPSHOT.to_string());
        }
    }
    match properties.idle_after {
        Some(idle_after) => {
            let tag: crate::aws::Tags = [(
                tags::IDLE.to_string(),
                tags::idle_tag_value(idle_after, properties.idle_action),
            )]
            .into();
            app.ports.rds.add_tags(&cluster.arn, &tag).await?;
        }
        None => stale.push(tags::IDLE.to_string()),
    }
    app.ports.rds.remove_tags(&cluster.arn, &stale).await?;
    Ok(())
}

/// Rewrites who may read a clone's password: the secret's policy, and the disposable
/// key's policy or the grants on the shared key.
async fn rewrite_readers(
    app: &Context,
    cluster: &ClusterInfo,
    principals: &[String],
) -> Result<(), PolicyCallError> {
    let Some(secret_arn) = cluster.tag(tags::PASSWORD_SECRET_ARN) else {
        return Ok(());
    };
    let managers = app.policy_managers().await?;
    let secret_policy = password::secret_policy(principals, &managers);
    while_principals_propagate(principals, || {
        app.ports
            .secrets
            .put_resource_policy(secret_arn, &secret_policy)
    })
    .await?;
    let placement = app.placement().await?;
    if let Some(key_id) = teardown::disposable_key_of(app, &cluster.id).await? {
        let policy = password::disposable_key_policy(
            &placement.partition,
            &placement.account_id,
            &placement.region,
            principals,
            &managers,
        );
        while_principals_propagate(principals, || {
            app.ports.keys.put_key_policy(&key_id, &policy)
        })
        .await?;
    } else if cluster.tag(tags::PASSWORD_KEY_GRANTS) == Some("true")
        && let Some(key_id) = cluster.tag(tags::PASSWORD_KEY)
    {
        let mut report = TeardownReport::default();
        teardown::revoke_grants(app, key_id, &cluster.id, &mut report).await?;
        let grant_name = naming::grant_name(&app.config.stack_name, &cluster.id);
        let context = [("SecretARN".to_string(), secret_arn.to_string())];
        for principal in principals {
            app.ports
                .keys
                .grant_decrypt(key_id, &grant_name, principal, &context)
                .await?;
        }
    }
    Ok(())
}

/// Why one pass of a Delete did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteProblem {
    /// The clone cannot be deleted yet (it is being started); a later pass will.
    NotYet(String),
    /// Waiting will not help: answer FAILED with this reason.
    Failed(String),
}

/// One pass at deleting the clone behind a physical id, if it is ours. A physical id that
/// is not a cluster ARN (a create that failed before making anything) or a cluster already
/// gone is a success.
pub async fn delete_clone_resource(
    app: &Context,
    physical_id: &str,
    origin: &RequestOrigin,
    final_snapshot: bool,
) -> Result<TeardownReport, DeleteProblem> {
    let failed = |error: &dyn std::fmt::Display| DeleteProblem::Failed(error.to_string());
    let Some(cluster_id) = naming::cluster_id_from_arn(physical_id) else {
        tracing::info!(physical_id, "not a cluster ARN: nothing to delete");
        return Ok(TeardownReport::default());
    };
    // A clone still waiting for its copy is cancelled first, so that it is never made
    // after this Delete (the restore re-checks the record on both sides of starting).
    let waiting = deferred::recorded_job(app, cluster_id)
        .await
        .map_err(|error| failed(&error))?;
    if let Some(job) = &waiting {
        let owner = job
            .deferred
            .as_ref()
            .and_then(|deferred| deferred.restore.tags.get(tags::OWNER));
        if !origin.owns(owner.map(String::as_str)) {
            return Err(DeleteProblem::Failed(format!(
                "refusing to cancel {cluster_id}: it waits for a copy for another stack or resource"
            )));
        }
        deferred::forget(app, cluster_id)
            .await
            .map_err(|error| failed(&error))?;
    }
    let cluster = app
        .ports
        .rds
        .describe_cluster(cluster_id)
        .await
        .map_err(|error| failed(&error))?;
    let Some(cluster) = cluster else {
        let mut report = TeardownReport {
            cluster_id: cluster_id.to_string(),
            ..TeardownReport::default()
        };
        // A clone that never left the waiting list knows its secret only from its record.
        let planned_tags = waiting
            .as_ref()
            .and_then(|job| job.deferred.as_ref())
            .map(|deferred| deferred.restore.tags.clone())
            .unwrap_or_default();
        let known_secret = planned_tags.get(tags::PASSWORD_SECRET_ARN);
        let granted_key = planned_tags
            .get(tags::PASSWORD_KEY_GRANTS)
            .filter(|grants| grants.as_str() == "true")
            .and(planned_tags.get(tags::PASSWORD_KEY));
        teardown::delete_password_artifacts(
            app,
            cluster_id,
            known_secret.map(String::as_str),
            granted_key.map(String::as_str),
            &mut report,
        )
        .await
        .map_err(|error| failed(&error))?;
        return Ok(report);
    };
    owned_by(app, &cluster, origin).map_err(DeleteProblem::Failed)?;
    teardown::delete_clone(app, &cluster, final_snapshot)
        .await
        .map_err(|error| {
            if error.is_not_yet() {
                DeleteProblem::NotYet(error.to_string())
            } else {
                failed(&error)
            }
        })
}
