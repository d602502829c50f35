//! The finisher: takes a started clone (or copy) to *ready*: cluster and first instance
//! available, the master password set to the secret's value, the secret completed with the
//! endpoint, `state=ready` tagged and, for clones, the lifecycle event sent once.
//!
//! It is idempotent and starts from what it observes, so any trigger can run it: the
//! invocation that started the clone (polling, then handing over to a fresh invocation
//! before the Lambda deadline), an RDS "instance created" event, or the maintenance sweep.
//! A pass runs under a per-cluster lease so that two triggers never finish one clone twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::aws::{
    AwsError, AwsErrorKind, BusEvent, ClusterInfo, InstanceInfo, InstanceRequest, RestoreRequest,
    Tags,
};
use crate::input::cfn::Envelope;
use crate::model::naming;
use crate::model::tags::{self, LifecycleState};
use crate::model::time::format_duration;
use crate::plan::finish::{
    FinishStep, FirstLook, first_instance, first_instance_request, look_at_cluster, next_step,
    will_not_become_usable,
};
use crate::plan::pool::free_clone_slots;
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::execute::{CreateRecord, undo_create};
use crate::run::machinery::handover::{self, HandOver};
use crate::run::machinery::inventory::load_inventory;
use crate::run::machinery::lease::Lease;
use crate::run::machinery::password;
use crate::run::machinery::respond::AnswerSlot;
use crate::run::workflows::deferred;

pub use crate::run::workflows::lifecycle::EVENT_SOURCE;
/// `detail-type` of the lifecycle event.
pub const READY_DETAIL_TYPE: &str = "lifecycle-event/instance-ready";
/// `detail-type` of the event saying AWS made a clone as a full copy.
pub const FULL_COPY_DETAIL_TYPE: &str = "lifecycle-event/full-copy-fallback";

/// When the CloudFormation answer is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RespondWhen {
    /// `WaitForReady: true`: when the clone is usable.
    Ready,
    /// `WaitForReady: false`: as soon as the clone's restore has started.
    Restored,
}

/// A CloudFormation answer this job still owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingResponse {
    pub envelope: Envelope,
    pub when: RespondWhen,
    /// The physical id a failure reports (the clone's ARN once known).
    pub physical_id: String,
}

/// A clone restore that waits until its source copy can be cloned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredRestore {
    pub root_id: String,
    pub restore: RestoreRequest,
    pub instance: InstanceRequest,
}

/// Everything the finisher needs, carried from one invocation to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishJob {
    pub cluster_id: String,
    /// What the create made, while a failure must still undo it (until CloudFormation has
    /// been told SUCCESS).
    #[serde(default)]
    pub record: Option<CreateRecord>,
    #[serde(default)]
    pub respond: Option<PendingResponse>,
    #[serde(default)]
    pub deferred: Option<DeferredRestore>,
    /// After this moment the job gives up and answers FAILED.
    pub ready_by: DateTime<Utc>,
    #[serde(default)]
    pub hop: u32,
    /// The clone waits for its copy and is recorded as waiting (see [`crate::run::workflows::deferred`]):
    /// the record is removed once it is restored, and its removal by a Delete cancels it.
    #[serde(default)]
    pub recorded: bool,
}

impl FinishJob {
    /// The request this job finishes, if it finishes one: a retry of that request (Lambda
    /// re-delivering an event whose invocation died) may take over its leases at once.
    pub fn request_id(&self) -> Option<&str> {
        self.respond
            .as_ref()
            .map(|respond| respond.envelope.request_id.as_str())
            .or_else(|| {
                self.record
                    .as_ref()
                    .map(|record| record.request_id.as_str())
            })
            .filter(|request_id| !request_id.is_empty())
    }
}

/// How long the finisher keeps at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishMode {
    /// Poll until ready, handing over to a fresh invocation before the deadline.
    Poll,
    /// Poll until ready or until this invocation's time is up, then leave the rest to
    /// other triggers (an RDS event must not start a second chain of invocations).
    PollHere,
    /// Look once and do the next step (RDS events, the maintenance sweep).
    OnePass,
}

/// How a finisher run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    Ready(Box<ClusterInfo>),
    HandedOver {
        hop: u32,
    },
    StillPending(String),
    /// Another invocation holds this cluster's finish lease.
    Busy,
    Failed(String),
}

/// What one pass found.
enum Pass {
    Waiting(String),
    Restored(Box<ClusterInfo>),
    Ready(Box<ClusterInfo>),
}

/// Progress callback for people watching (the CLI's `--wait`).
pub type ProgressFn<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Runs the finisher on a job.
pub async fn run(
    app: &Context,
    invocation: &Invocation,
    job: FinishJob,
    mode: FinishMode,
    slot: Option<&Arc<AnswerSlot>>,
    progress: ProgressFn<'_>,
) -> FinishOutcome {
    let mut held = None;
    let outcome = drive(app, invocation, job, mode, slot, progress, &mut held).await;
    release_finish_lease(app, &mut held).await;
    outcome
}

async fn release_finish_lease(app: &Context, held: &mut Option<Lease>) {
    if let Some(lease) = held.take()
        && let Err(error) = app.leases().release(lease).await
    {
        tracing::warn!(%error, "could not release a finish lease; it will expire");
    }
}

/// The finisher's loop; `held` is the cluster's finish lease while this run holds it, kept
/// across polls (and renewed) rather than taken for every look.
async fn drive(
    app: &Context,
    invocation: &Invocation,
    mut job: FinishJob,
    mode: FinishMode,
    slot: Option<&Arc<AnswerSlot>>,
    progress: ProgressFn<'_>,
    held: &mut Option<Lease>,
) -> FinishOutcome {
    let leases = app.leases();
    loop {
        if app.now() > job.ready_by {
            let reason = match describe_status(app, &job.cluster_id).await {
                Some(status) => format!(
                    "clone {} was not ready in time (ready-by {}); last status: {status}",
                    job.cluster_id,
                    crate::model::time::format_timestamp(job.ready_by)
                ),
                None => format!("clone {} was not ready in time", job.cluster_id),
            };
            return fail(app, job, slot, &reason).await;
        }
        let lease_name = format!("finish-{}", job.cluster_id);
        let work = job.request_id();
        let pass = match hold_finish_lease(app, &leases, &lease_name, work, held).await {
            Ok(true) => advance(app, &mut job).await,
            Ok(false) if mode == FinishMode::OnePass => return FinishOutcome::Busy,
            Ok(false) => Ok(Pass::Waiting("another invocation is working on it".into())),
            Err(error) => Ok(Pass::Waiting(format!("lease unavailable: {error}"))),
        };
        match pass {
            Err(StepError::Permanent(reason)) => {
                release_finish_lease(app, held).await;
                return fail(app, job, slot, &reason).await;
            }
            Err(StepError::Transient(reason)) => {
                tracing::warn!(cluster = %job.cluster_id, %reason, "finisher step failed; will retry");
                progress(&reason);
                if mode == FinishMode::OnePass {
                    return FinishOutcome::StillPending(reason);
                }
            }
            Ok(Pass::Ready(cluster)) => {
                // Give the lease back before answering: after the answer nothing is left to
                // do, so nothing can be cut off after it.
                release_finish_lease(app, held).await;
                answer_success(app, &mut job, slot, &cluster).await;
                progress("ready");
                return FinishOutcome::Ready(cluster);
            }
            Ok(Pass::Restored(cluster)) => {
                if job
                    .respond
                    .as_ref()
                    .is_some_and(|pending| pending.when == RespondWhen::Restored)
                {
                    answer_success(app, &mut job, slot, &cluster).await;
                }
                progress("restore started");
                continue;
            }
            Ok(Pass::Waiting(reason)) => {
                tracing::info!(cluster = %job.cluster_id, %reason, "waiting");
                progress(&reason);
                if mode == FinishMode::OnePass {
                    return FinishOutcome::StillPending(reason);
                }
            }
        }
        let poll = app.config.poll_interval;
        if handover::must_hand_over(app, invocation) {
            if mode == FinishMode::PollHere {
                return FinishOutcome::StillPending("this invocation's time is up".into());
            }
            return hand_over(app, invocation, job, slot).await;
        }
        tokio::time::sleep(poll).await;
    }
}

/// How long a finish lease lives unless renewed: long enough that polling renews it rarely,
/// short enough that a crashed holder blocks the next trigger only briefly.
const FINISH_LEASE_TTL: Duration = Duration::from_secs(300);

/// A held finish lease is renewed when less than this is left of it.
const FINISH_LEASE_RENEW_BEFORE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Makes sure this run holds the cluster's finish lease: takes it if free, renews it when
/// it runs low. `Ok(false)` when another invocation holds it.
async fn hold_finish_lease(
    app: &Context,
    leases: &crate::run::machinery::lease::Leases,
    lease_name: &str,
    work: Option<&str>,
    held: &mut Option<Lease>,
) -> Result<bool, String> {
    if let Some(lease) = held {
        if lease.expires - app.now() > FINISH_LEASE_RENEW_BEFORE {
            return Ok(true);
        }
        match leases.renew(lease, FINISH_LEASE_TTL).await {
            Ok(true) => return Ok(true),
            Ok(false) => *held = None,
            Err(error) => return Err(error.to_string()),
        }
    }
    match leases
        .try_acquire_for(lease_name, work, FINISH_LEASE_TTL)
        .await
    {
        Ok(Some(lease)) => {
            *held = Some(lease);
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(error) => Err(error.to_string()),
    }
}

/// A step that could not be done.
enum StepError {
    /// Waiting will not help: answer FAILED and undo.
    Permanent(String),
    /// Worth trying again on the next pass (throttling, a blip).
    Transient(String),
}

impl From<AwsError> for StepError {
    fn from(error: AwsError) -> StepError {
        if error.is_retryable() {
            StepError::Transient(error.to_string())
        } else {
            StepError::Permanent(error.to_string())
        }
    }
}

async fn describe_status(app: &Context, cluster_id: &str) -> Option<String> {
    app.ports
        .rds
        .describe_cluster(cluster_id)
        .await
        .ok()
        .flatten()
        .map(|cluster| cluster.status.to_string())
}

/// One look at the world and the next step, as the planner decides it.
async fn advance(app: &Context, job: &mut FinishJob) -> Result<Pass, StepError> {
    if let Some(deferred) = job.deferred.clone() {
        return restore_when_source_ready(app, job, &deferred).await;
    }
    let rds = &app.ports.rds;
    let Some(cluster) = rds.describe_cluster(&job.cluster_id).await? else {
        return Err(StepError::Permanent(format!(
            "cluster {} no longer exists",
            job.cluster_id
        )));
    };
    let stack_name = &app.config.stack_name;
    // The instances are read only when the cluster alone does not decide the step.
    let step = match look_at_cluster(&cluster, stack_name) {
        FirstLook::Decided(step) => step,
        FirstLook::NeedsInstances => {
            let instances = rds.describe_cluster_instances(&cluster.id).await?;
            next_step(&cluster, stack_name, &instances)
        }
    };
    match step {
        FinishStep::Fail(reason) => Err(StepError::Permanent(reason)),
        FinishStep::AlreadyReady => Ok(Pass::Ready(Box::new(cluster))),
        FinishStep::Wait(reason) => Ok(Pass::Waiting(reason)),
        FinishStep::AddFirstInstance(request) => add_first_instance(app, &cluster, *request).await,
        FinishStep::SetPassword { secret_id } => {
            let document = read_secret(app, &secret_id).await?;
            let new_password = password::password_from_document(&document).ok_or_else(|| {
                StepError::Permanent(format!("password secret {secret_id} holds no password"))
            })?;
            rds.set_master_password(&cluster.id, &new_password).await?;
            set_state(app, &cluster, LifecycleState::PasswordSet).await?;
            Ok(Pass::Waiting("setting the master password".into()))
        }
        FinishStep::MakeReady {
            secret_id,
            announce,
            instance,
        } => {
            if let Some(secret_id) = &secret_id {
                let document = read_secret(app, secret_id).await?;
                let host = cluster.endpoint.clone().unwrap_or_default();
                if let Some(completed) = password::with_endpoint(&document, &host, cluster.port)
                    && completed != document
                {
                    app.ports.secrets.put_value(secret_id, &completed).await?;
                }
            }
            if announce {
                record_full_copy_fallback(app, &cluster).await?;
                app.ports
                    .events
                    .put_event(&lifecycle_event(
                        &app.config.event_bus_name,
                        &cluster,
                        &instance,
                    ))
                    .await?;
            }
            set_state(app, &cluster, LifecycleState::Ready).await?;
            let mut ready = cluster;
            ready
                .tags
                .insert(tags::STATE.into(), LifecycleState::Ready.as_str().into());
            Ok(Pass::Ready(Box::new(ready)))
        }
    }
}

/// The deferred restore of a clone whose source copy is still being made.
async fn restore_when_source_ready(
    app: &Context,
    job: &mut FinishJob,
    deferred: &DeferredRestore,
) -> Result<Pass, StepError> {
    let rds = &app.ports.rds;
    let source_id = &deferred.restore.source_cluster_id;
    let Some(source) = rds.describe_cluster(source_id).await? else {
        return Err(StepError::Permanent(format!(
            "copy {source_id} no longer exists"
        )));
    };
    if will_not_become_usable(&source.status) {
        return Err(StepError::Permanent(format!(
            "copy {source_id} is {}",
            source.status
        )));
    }
    if !source.is_available() {
        return Ok(Pass::Waiting(format!(
            "copy {source_id} is {} (a full copy takes a while)",
            source.status
        )));
    }
    let instances = rds.describe_cluster_instances(source_id).await?;
    match first_instance(&source, &instances) {
        None => {
            return add_first_instance(app, &source, first_instance_request(&source)).await;
        }
        Some(instance) if !instance.is_available() => {
            return Ok(Pass::Waiting(format!(
                "copy {source_id}'s instance is {}",
                instance.status
            )));
        }
        Some(_) => {}
    }
    // The copy can take clones now. Restore under the root's lease, after checking that
    // other requests waiting on the same copy have not used its slots up meanwhile.
    let leases = app.leases();
    let lease = leases
        .acquire(&deferred.root_id, job.request_id(), app.config.lease_wait)
        .await
        .map_err(|error| StepError::Transient(error.to_string()))?;
    let restored = async {
        // A waiting clone's record is removed by whoever restores it (below, under this
        // lease) or by a Delete that cancels it: without the record, an existing clone was
        // restored by another trigger, and no clone means it was cancelled.
        let still_wanted = !job.recorded || deferred::is_recorded(app, &job.cluster_id).await?;
        let inventory = load_inventory(rds.as_ref()).await?;
        if let Some(existing) = inventory.cluster(&deferred.restore.cluster_id) {
            let ours = existing.tag(tags::REQUEST)
                == deferred.restore.tags.get(tags::REQUEST).map(String::as_str);
            if !ours {
                return Err(StepError::Permanent(format!(
                    "cluster id {} was taken by someone else while waiting",
                    existing.id
                )));
            }
            if !still_wanted && existing.is_deleting() {
                return Err(cancelled(&job.cluster_id, source_id));
            }
            return Ok(existing.clone());
        }
        if !still_wanted {
            return Err(cancelled(&job.cluster_id, source_id));
        }
        let source = inventory
            .cluster(source_id)
            .ok_or_else(|| StepError::Permanent(format!("copy {source_id} no longer exists")))?;
        if free_clone_slots(&inventory, source, app.config.max_clones_per_source) == 0 {
            return Err(StepError::Permanent(format!(
                "copy {source_id} filled up ({} clones) while this clone waited for it; try again",
                inventory.clones_using_slots_of(source).len()
            )));
        }
        let restored =
            crate::run::machinery::execute::restore_or_adopt(app, &deferred.restore).await?;
        if job.recorded {
            // A Delete that came between the check above and the restore removed the
            // record and found no cluster: the clone it was told is gone must not stay.
            if !deferred::is_recorded(app, &job.cluster_id).await? {
                crate::run::machinery::teardown::delete_clone(app, &restored, false)
                    .await
                    .map_err(|error| StepError::Transient(error.to_string()))?;
                return Err(cancelled(&job.cluster_id, source_id));
            }
            deferred::forget(app, &job.cluster_id).await?;
        }
        Ok(restored)
    }
    .await;
    if let Err(error) = leases.release(lease).await {
        tracing::warn!(%error, "could not release a lease; it will expire");
    }
    let restored = restored?;
    match rds.create_instance(&deferred.instance).await {
        Ok(_) => {}
        Err(error)
            if matches!(
                error.kind(),
                AwsErrorKind::InvalidState | AwsErrorKind::AlreadyExists
            ) => {}
        Err(error) => return Err(error.into()),
    }
    job.recorded = false;
    job.deferred = None;
    Ok(Pass::Restored(Box::new(restored)))
}

fn cancelled(clone_id: &str, copy_id: &str) -> StepError {
    StepError::Permanent(format!(
        "clone {clone_id} was deleted while it waited for copy {copy_id}"
    ))
}

/// Adds a managed cluster's first instance, as its tags describe it. An instance that is
/// already there means waiting; so does a cluster that cannot take it yet, unless a fresh
/// look shows the cluster `available`: then the refusal will not clear by waiting (a
/// `db.serverless` instance in a cluster without a capacity range, for one) and the
/// clone fails at once with AWS's message.
async fn add_first_instance(
    app: &Context,
    cluster: &ClusterInfo,
    request: InstanceRequest,
) -> Result<Pass, StepError> {
    match app.ports.rds.create_instance(&request).await {
        Ok(_) => Ok(Pass::Waiting(format!(
            "adding instance {} to {}",
            request.instance_id, cluster.id
        ))),
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => Ok(Pass::Waiting(format!(
            "instance {}: {}",
            request.instance_id,
            error.message()
        ))),
        Err(error) if error.kind() == AwsErrorKind::InvalidState => {
            match app.ports.rds.describe_cluster(&cluster.id).await? {
                Some(fresh) if fresh.is_available() => Err(StepError::Permanent(format!(
                    "cannot add instance {} ({}) to {}: {error}",
                    request.instance_id, request.instance_class, cluster.id
                ))),
                _ => Ok(Pass::Waiting(format!(
                    "instance {}: {}",
                    request.instance_id,
                    error.message()
                ))),
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// A clone's password secret, which must still exist.
async fn read_secret(
    app: &Context,
    secret_id: &str,
) -> Result<crate::aws::SecretString, StepError> {
    app.ports
        .secrets
        .get_value(secret_id)
        .await?
        .ok_or_else(|| {
            StepError::Permanent(format!("password secret {secret_id} no longer exists"))
        })
}

/// Compares a usable clone's clone group with its source's. Different groups mean AWS
/// restored it as a full copy (as it does, silently, past the clone limit of a volume):
/// that is announced, and the clone tagged so that the planner counts its source as full.
/// When either side reports no group, nothing can be told and nothing is recorded.
async fn record_full_copy_fallback(app: &Context, clone: &ClusterInfo) -> Result<(), AwsError> {
    if clone.tag(tags::FULL_COPY_FALLBACK).is_some() {
        return Ok(());
    }
    let Some(source_id) = clone
        .tag(tags::SOURCE_ARN)
        .and_then(naming::cluster_id_from_arn)
    else {
        return Ok(());
    };
    let Some(source) = app.ports.rds.describe_cluster(source_id).await? else {
        return Ok(());
    };
    let (Some(clone_group), Some(source_group)) = (&clone.clone_group_id, &source.clone_group_id)
    else {
        return Ok(());
    };
    if clone_group == source_group {
        return Ok(());
    }
    tracing::warn!(
        clone = %clone.id,
        source = %source.id,
        %clone_group,
        %source_group,
        "AWS made this clone as a full copy: its source takes no more clones"
    );
    app.ports
        .events
        .put_event(&crate::run::workflows::lifecycle::lifecycle_event(
            &app.config.event_bus_name,
            "full-copy-fallback",
            clone,
            json!({
                "clonedFrom": source.id,
                "cloneGroupId": clone_group,
                "sourceCloneGroupId": source_group,
            }),
            vec![clone.arn.clone(), source.arn.clone()],
        ))
        .await?;
    let tags: Tags = [(tags::FULL_COPY_FALLBACK.to_string(), "true".to_string())].into();
    app.ports.rds.add_tags(&clone.arn, &tags).await
}

async fn set_state(
    app: &Context,
    cluster: &ClusterInfo,
    state: LifecycleState,
) -> Result<(), AwsError> {
    let tags: Tags = [(tags::STATE.to_string(), state.as_str().to_string())].into();
    app.ports.rds.add_tags(&cluster.arn, &tags).await
}

/// The lifecycle event of a usable clone (`instance-ready`), in the shared schema.
pub fn lifecycle_event(bus_name: &str, cluster: &ClusterInfo, instance: &InstanceInfo) -> BusEvent {
    crate::run::workflows::lifecycle::lifecycle_event(
        bus_name,
        "instance-ready",
        cluster,
        json!({
            "instanceId": instance.id,
            "host": cluster.endpoint,
            "port": cluster.port,
            "user": cluster.master_username,
            "passwordSecret": cluster.tag(tags::PASSWORD_SECRET),
            "database": cluster.database_name,
            "readerHost": cluster.reader_endpoint,
            "clonedFrom": cloned_from(cluster),
        }),
        vec![instance.arn.clone(), cluster.arn.clone()],
    )
}

fn cloned_from(cluster: &ClusterInfo) -> Option<String> {
    cluster
        .tag(tags::SOURCE_ARN)
        .map(|arn| naming::cluster_id_from_arn(arn).unwrap_or(arn).to_string())
}

/// The custom resource's return values (`Fn::GetAtt`), every key always present.
pub fn clone_outputs(cluster: &ClusterInfo) -> BTreeMap<String, String> {
    let text = |value: Option<&str>| value.unwrap_or_default().to_string();
    BTreeMap::from([
        ("Arn".to_string(), cluster.arn.clone()),
        ("ClusterId".to_string(), cluster.id.clone()),
        ("Endpoint".to_string(), text(cluster.endpoint.as_deref())),
        (
            "ReaderEndpoint".to_string(),
            text(cluster.reader_endpoint.as_deref()),
        ),
        (
            "Port".to_string(),
            cluster
                .port
                .map(|port| port.to_string())
                .unwrap_or_default(),
        ),
        (
            "MasterUsername".to_string(),
            text(cluster.master_username.as_deref()),
        ),
        (
            "DatabaseName".to_string(),
            text(cluster.database_name.as_deref()),
        ),
        (
            "PasswordSecret".to_string(),
            text(cluster.tag(tags::PASSWORD_SECRET)),
        ),
        (
            "PasswordSecretArn".to_string(),
            text(cluster.tag(tags::PASSWORD_SECRET_ARN)),
        ),
        (
            "KmsKeyId".to_string(),
            text(cluster.tag(tags::PASSWORD_KEY)),
        ),
        (
            "ClonedFrom".to_string(),
            cloned_from(cluster).unwrap_or_default(),
        ),
        (
            "DataTimestamp".to_string(),
            text(cluster.tag(tags::DATA_TIMESTAMP)),
        ),
    ])
}

async fn answer_success(
    app: &Context,
    job: &mut FinishJob,
    slot: Option<&Arc<AnswerSlot>>,
    cluster: &ClusterInfo,
) {
    if job.respond.take().is_some()
        && let Some(slot) = slot
    {
        slot.succeed(app.responder.as_ref(), &cluster.arn, clone_outputs(cluster))
            .await;
    }
    // CloudFormation owns the clone from here on: a later failure must not delete it.
    job.record = None;
}

/// Gives up: undoes the create if CloudFormation has not been told SUCCESS, and answers
/// FAILED if an answer is owed.
pub async fn fail(
    app: &Context,
    job: FinishJob,
    slot: Option<&Arc<AnswerSlot>>,
    reason: &str,
) -> FinishOutcome {
    tracing::error!(cluster = %job.cluster_id, %reason, "finishing failed");
    if job.recorded
        && let Err(error) = deferred::forget(app, &job.cluster_id).await
    {
        tracing::warn!(%error, "could not remove the record of a clone that gave up waiting");
    }
    if let Some(record) = &job.record {
        let report = undo_create(app, record).await;
        tracing::info!(?report, "undid the failed create");
        let clone_still_there = matches!(app.ports.rds.describe_cluster(&record.cluster_id).await, Ok(Some(cluster)) if !cluster.is_deleting());
        if let (Some(slot), false) = (slot, clone_still_there) {
            // Nothing is left to delete: the rollback's Delete must not look for a cluster.
            slot.set_physical_id(&slot.envelope().placeholder_physical_id());
        }
    }
    if job.respond.is_some()
        && let Some(slot) = slot
    {
        slot.fail(app.responder.as_ref(), reason).await;
    }
    FinishOutcome::Failed(reason.to_string())
}

async fn hand_over(
    app: &Context,
    invocation: &Invocation,
    mut job: FinishJob,
    slot: Option<&Arc<AnswerSlot>>,
) -> FinishOutcome {
    job.hop += 1;
    let hop = job.hop;
    let reason = match handover::hand_over(app, invocation, "finish", &job, hop).await {
        HandOver::Sent => {
            if let Some(slot) = slot {
                slot.mark_handed_over();
            }
            return FinishOutcome::HandedOver { hop };
        }
        HandOver::TooManyHops { max_hops } => {
            if job.respond.is_none() && job.record.is_none() {
                // Nobody waits for an answer (a copy, a swept clone): the next maintenance
                // sweep carries on where this chain stops.
                return FinishOutcome::StillPending(format!(
                    "{} not ready after {max_hops} hand-overs; left for the maintenance sweep",
                    job.cluster_id
                ));
            }
            format!(
                "clone {} was not ready after {max_hops} hand-overs",
                job.cluster_id
            )
        }
        HandOver::NoFunction => format!(
            "clone {} was not ready before the deadline and there is no function to continue in",
            job.cluster_id
        ),
        HandOver::Failed(error) => format!("could not continue in a fresh invocation: {error}"),
    };
    fail(app, job, slot, &reason).await
}

/// A job for a cluster found unfinished (by an RDS event or the sweep): no answer owed and
/// nothing to undo, a generous deadline.
pub fn sweep_job(app: &Context, cluster_id: &str) -> FinishJob {
    FinishJob {
        cluster_id: cluster_id.to_string(),
        record: None,
        respond: None,
        deferred: None,
        ready_by: app.now() + app.config.ready_timeout,
        hop: 0,
        recorded: false,
    }
}

/// The job that finishes a clone just started outside CloudFormation (no answer owed, nothing
/// to undo); when the clone waits for a copy, the job carries its restore.
pub fn job_for_started(
    app: &Context,
    started: &crate::run::machinery::execute::Started,
) -> FinishJob {
    match started {
        crate::run::machinery::execute::Started::Existing { cluster_id, .. } => {
            sweep_job(app, cluster_id)
        }
        crate::run::machinery::execute::Started::Made {
            plan,
            restore,
            restored,
            ..
        } => {
            let mut job = sweep_job(app, &plan.cluster_id);
            job.deferred = restored.is_none().then(|| DeferredRestore {
                root_id: plan.root_id.clone(),
                restore: (**restore).clone(),
                instance: plan.instance.clone(),
            });
            job
        }
    }
}

/// Starts a finishing chain for a cluster in a fresh asynchronous invocation (maintenance
/// does it for the copies it starts: their instance can only be added once the restore is
/// done, which takes longer than one invocation). Outside Lambda there is no function to
/// invoke and the maintenance sweep finishes the cluster instead.
pub async fn start_chain(
    app: &Context,
    invocation: &Invocation,
    cluster_id: &str,
    ready_within: chrono::TimeDelta,
) {
    let Some(function_name) = &invocation.function_name else {
        return;
    };
    let mut job = sweep_job(app, cluster_id);
    job.ready_by = app.now() + ready_within;
    let payload = json!({"action": "finish", "job": job});
    if let Err(error) = app
        .ports
        .invoker
        .invoke_async(function_name, &payload)
        .await
    {
        tracing::warn!(cluster = %cluster_id, %error, "could not start finishing; the maintenance sweep will");
    }
}

/// Human words for how long something took.
pub fn describe_elapsed(elapsed: Duration) -> String {
    format_duration(chrono::TimeDelta::from_std(elapsed).unwrap_or_default())
}
