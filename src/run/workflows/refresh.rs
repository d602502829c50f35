//! Refresh in place, carried out: each pass reads what exists under the refresh's three
//! names, asks `plan::refresh::next_step` for the one thing to do, and does it. Nothing is
//! remembered between passes, so a pass after a crash continues where the last one stopped.
//!
//! One pass at a time per clone: each holds the clone's refresh lease, so the sweep,
//! maintenance, `refresh --wait` and a CloudFormation Update never send the same rename
//! twice or clean up under each other. The new clone's restore is made under its root's
//! lease, like any clone, so two requests never take the same last slot.
//!
//! An error worth retrying (throttling, a service fault, a resource busy for a moment) is
//! "try again next pass". Any other failure before the swap (the old clone is still under
//! its name) removes the temporary clone and leaves the old one as it was. From the first
//! rename on, the refresh only goes forward.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::aws::{AwsError, AwsErrorKind, ClusterInfo, InstanceRequest, Tags};
use crate::model::tags::{self, LifecycleState, Role};
use crate::plan::refresh::{
    Observed, PASSWORD_TAGS, RefreshFacts, RefreshNames, RefreshPlanError, RefreshStep,
    TemporaryInput, carried_tags, next_step, plan_temporary,
};
use crate::run::machinery::context::Context;
use crate::run::machinery::inventory::load_inventory;
use crate::run::machinery::lease::{Lease, LeaseError};
use crate::run::machinery::password::{password_from_document, with_endpoint};
use crate::run::workflows::lifecycle::lifecycle_event;

/// How long `refresh --wait` waits for a refresh to finish: a clone usually takes minutes
/// to restore and its writer about ten to rename (RDS user guide, "Renaming a DB instance":
/// "about 10 minutes"), so two hours is a stuck refresh, not a slow one.
pub const REFRESH_WAIT_LIMIT: Duration = Duration::from_secs(2 * 3600);

/// How long one pass may hold the clone's refresh lease: a pass makes a few calls (the
/// restore's under the root's lease, which may wait `LEASE_WAIT_SECONDS`), so a lease left
/// by a pass that died keeps others out for at most this long.
const REFRESH_PASS_LEASE_TTL: Duration = Duration::from_secs(300);

/// Why a refresh stopped.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Plan(#[from] RefreshPlanError),
    #[error("{cluster_id} is '{status}'; only an available clone is refreshed")]
    NotAvailable { cluster_id: String, status: String },
    #[error("{step}: {source}")]
    Aws {
        step: String,
        #[source]
        source: AwsError,
    },
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The secret has no password for the new clone: it is removed, the old one kept.
    #[error("the clone's secret {secret_id} holds no password to give the new clone")]
    NoPassword { secret_id: String },
    /// The new clone could not be made; it was removed and the old clone is untouched.
    #[error("the refresh of {cluster_id} was given up and the old clone kept: {reason}")]
    Abandoned { cluster_id: String, reason: String },
    #[error(
        "the refresh of {cluster_id} did not finish within {limit_minutes} minutes (last: {last})"
    )]
    TimedOut {
        cluster_id: String,
        limit_minutes: u64,
        last: String,
    },
}

fn aws(step: impl Into<String>) -> impl FnOnce(AwsError) -> RefreshError {
    let step = step.into();
    move |source| RefreshError::Aws { step, source }
}

/// Where a refresh is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshReport {
    pub cluster_id: String,
    /// The refresh is complete: the new clone is in place and the old one is being deleted.
    pub done: bool,
    /// What the last pass did or waits for.
    pub last_step: RefreshStep,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_data_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_timestamp: Option<String>,
}

/// Refreshes `clone_id`, or continues a refresh in progress. With `wait`, passes are made
/// until the refresh is complete (at most [`REFRESH_WAIT_LIMIT`]); without, until the
/// first pass that has to wait for AWS. Running it again continues where it stopped.
pub async fn refresh(
    app: &Context,
    clone_id: &str,
    wait: bool,
) -> Result<RefreshReport, RefreshError> {
    let names = RefreshNames::of(clone_id);
    let started = tokio::time::Instant::now();
    let mut refreshing = true;
    loop {
        let report = match pass_under_lease(app, &names, refreshing).await {
            Ok(Some(report)) => {
                // Once a pass has run, later passes only continue what it found or began.
                refreshing = false;
                report
            }
            Ok(None) => waiting(
                clone_id,
                format!("another pass of the refresh of {clone_id}"),
            ),
            Err(error) if worth_retrying(&error) => {
                tracing::info!(clone = %clone_id, %error, "refresh: trying again next pass");
                waiting(clone_id, format!("a retry after: {error}"))
            }
            Err(error) => return Err(give_up_before_swap(app, &names, error).await),
        };
        if report.done || report.last_step == RefreshStep::Idle {
            return Ok(report);
        }
        let waiting = matches!(report.last_step, RefreshStep::Wait { .. });
        if waiting && !wait {
            return Ok(report);
        }
        if waiting {
            if started.elapsed() >= REFRESH_WAIT_LIMIT {
                return Err(RefreshError::TimedOut {
                    cluster_id: clone_id.to_string(),
                    limit_minutes: REFRESH_WAIT_LIMIT.as_secs() / 60,
                    last: format!("{:?}", report.last_step),
                });
            }
            tokio::time::sleep(app.config.poll_interval).await;
        }
    }
}

/// A report of a pass that could not run, and waits for `what`.
fn waiting(clone_id: &str, what: String) -> RefreshReport {
    RefreshReport {
        cluster_id: clone_id.to_string(),
        done: false,
        last_step: RefreshStep::Wait { what },
        previous_data_timestamp: None,
        data_timestamp: None,
    }
}

/// Whether an error is a passing one, for the next pass to try again: throttling, a
/// service fault or timeout, a resource busy for a moment, a lease held by another pass.
fn worth_retrying(error: &RefreshError) -> bool {
    match error {
        RefreshError::Aws { source, .. } => matches!(
            source.kind(),
            AwsErrorKind::Throttled | AwsErrorKind::Other | AwsErrorKind::InvalidState
        ),
        RefreshError::Lease(LeaseError::Busy { .. }) => true,
        RefreshError::Lease(LeaseError::Aws { source, .. }) => {
            matches!(source.kind(), AwsErrorKind::Throttled | AwsErrorKind::Other)
        }
        _ => false,
    }
}

/// One pass under the clone's refresh lease; `Ok(None)` when another pass holds it.
async fn pass_under_lease(
    app: &Context,
    names: &RefreshNames,
    refreshing: bool,
) -> Result<Option<RefreshReport>, RefreshError> {
    let leases = app.leases();
    let Some(lease) = leases
        .try_acquire_for(
            &refresh_lease_name(&names.clone_id),
            None,
            REFRESH_PASS_LEASE_TTL,
        )
        .await?
    else {
        return Ok(None);
    };
    let outcome = pass(app, names, refreshing).await;
    release(app, lease).await;
    outcome.map(Some)
}

/// The lease every pass of a refresh of the clone holds.
pub fn refresh_lease_name(clone_id: &str) -> String {
    format!("refresh-{clone_id}")
}

async fn release(app: &Context, lease: Lease) {
    if let Err(error) = app.leases().release(lease).await {
        tracing::warn!(%error, "could not release a refresh lease; it will expire");
    }
}

/// After a failure: if the old clone is still under its name (the swap has not begun), the
/// temporary clone is removed so that nothing is left behind.
async fn give_up_before_swap(
    app: &Context,
    names: &RefreshNames,
    error: RefreshError,
) -> RefreshError {
    if matches!(
        error,
        RefreshError::Abandoned { .. } | RefreshError::Plan(_) | RefreshError::NotAvailable { .. }
    ) {
        return error;
    }
    if swap_begun(app, names).await || !temporary_is_ours(app, names).await {
        return error;
    }
    if let Err(cleanup) = remove_refresh_cluster(app, &names.temporary_id).await {
        tracing::warn!(%cleanup, cluster = %names.temporary_id, "could not remove the temporary clone; the next refresh removes it");
        return error;
    }
    RefreshError::Abandoned {
        cluster_id: names.clone_id.clone(),
        reason: error.to_string(),
    }
}

/// Whether the swap has begun: the old clone has been renamed out of the way. When in
/// doubt (AWS cannot be read), it has.
async fn swap_begun(app: &Context, names: &RefreshNames) -> bool {
    let rds = app.ports.rds.as_ref();
    let (Ok(retired), Ok(clone)) = (
        rds.describe_cluster(&names.retired_id).await,
        rds.describe_cluster(&names.clone_id).await,
    ) else {
        return true;
    };
    retired.is_some() || clone.is_none()
}

/// Whether the cluster under the temporary name is this refresh's (it says so in its tags);
/// when in doubt, it is not, and it is left alone.
async fn temporary_is_ours(app: &Context, names: &RefreshNames) -> bool {
    match app.ports.rds.describe_cluster(&names.temporary_id).await {
        Ok(Some(temporary)) => temporary.tag(tags::REFRESH_OF) == Some(names.clone_id.as_str()),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// One pass: read the facts, do the next step.
pub async fn pass(
    app: &Context,
    names: &RefreshNames,
    refreshing: bool,
) -> Result<RefreshReport, RefreshError> {
    let facts = RefreshFacts {
        names: names.clone(),
        clone: observe(app, &names.clone_id).await?,
        temporary: observe(app, &names.temporary_id).await?,
        retired: observe(app, &names.retired_id).await?,
    };
    if let Some(clone) = &facts.clone
        && clone.cluster.tag(tags::REFRESH_OF).is_none()
        && tags::managed_role(&clone.cluster, &app.config.stack_name) != Some(Role::Clone)
    {
        return Err(RefreshPlanError::NotOurs(clone.cluster.id.clone()).into());
    }
    let step = next_step(&facts, refreshing)?;
    let mut report = RefreshReport {
        cluster_id: names.clone_id.clone(),
        done: false,
        last_step: step.clone(),
        previous_data_timestamp: None,
        data_timestamp: None,
    };
    let rds = app.ports.rds.as_ref();
    match step {
        RefreshStep::Idle | RefreshStep::Wait { .. } => {}
        RefreshStep::MakeTemporary => {
            let clone = facts.clone.as_ref().expect("a clone to refresh");
            if !clone.is_usable() {
                return Err(RefreshError::NotAvailable {
                    cluster_id: clone.cluster.id.clone(),
                    status: clone.cluster.status.to_string(),
                });
            }
            make_temporary(app, clone).await?;
        }
        RefreshStep::AddTemporaryWriter { instance_id } => {
            let clone = facts
                .clone
                .as_ref()
                .expect("a clone beside the temporary one");
            let plan = temporary_plan(app, clone).await?;
            let instance = InstanceRequest {
                instance_id,
                ..plan.instance
            };
            add_temporary_writer(app, &instance).await?;
        }
        RefreshStep::SetTemporaryPassword => {
            let clone = facts.clone.as_ref().expect("a clone with a secret");
            let temporary = facts.temporary.as_ref().expect("the new clone");
            give_temporary_the_password(app, &clone.cluster, &temporary.cluster).await?;
            // Applied asynchronously: the next passes wait for it before the swap.
            report.last_step = RefreshStep::Wait {
                what: temporary.cluster.id.clone(),
            };
        }
        RefreshStep::Abandon { reason } => {
            remove_refresh_cluster(app, &names.temporary_id)
                .await
                .map_err(aws("removing the temporary clone"))?;
            return Err(RefreshError::Abandoned {
                cluster_id: names.clone_id.clone(),
                reason,
            });
        }
        RefreshStep::RenameCluster { from, to } => {
            tracing::info!(%from, %to, "refresh: renaming cluster");
            rds.rename_cluster(&from, &to)
                .await
                .map_err(aws(format!("renaming cluster {from} to {to}")))?;
        }
        RefreshStep::Finish => {
            let clone = facts.clone.as_ref().expect("the new clone in place");
            if !clone.is_usable() {
                report.last_step = RefreshStep::Wait {
                    what: clone.cluster.id.clone(),
                };
                return Ok(report);
            }
            finish(app, clone, facts.retired.as_ref(), &mut report).await?;
        }
    }
    Ok(report)
}

/// A cluster and its writer as they are now; `None` when the cluster does not exist.
async fn observe(app: &Context, cluster_id: &str) -> Result<Option<Observed>, RefreshError> {
    let rds = app.ports.rds.as_ref();
    let Some(cluster) = rds
        .describe_cluster(cluster_id)
        .await
        .map_err(aws(format!("reading {cluster_id}")))?
    else {
        return Ok(None);
    };
    let writer = match cluster.writer_instance_id() {
        Some(writer_id) => rds
            .describe_instance(writer_id)
            .await
            .map_err(aws(format!("reading {writer_id}")))?,
        None => None,
    };
    Ok(Some(Observed { cluster, writer }))
}

async fn temporary_plan(
    app: &Context,
    clone: &Observed,
) -> Result<crate::plan::refresh::TemporaryClonePlan, RefreshError> {
    let writer = clone
        .writer
        .as_ref()
        .ok_or_else(|| RefreshPlanError::NoWriter(clone.cluster.id.clone()))?;
    let inventory = load_inventory(app.ports.rds.as_ref())
        .await
        .map_err(aws("reading clusters"))?;
    Ok(plan_temporary(TemporaryInput {
        clone: &clone.cluster,
        writer,
        inventory: &inventory,
        config: &app.config,
        now: app.now(),
    })?)
}

/// Restores the new clone under its root's lease, so that no concurrent request takes the
/// slot it was planned into. Its writer follows once it is available (a later pass).
async fn make_temporary(app: &Context, clone: &Observed) -> Result<(), RefreshError> {
    let root_id = clone
        .cluster
        .tag(tags::ROOT_ARN)
        .and_then(crate::model::naming::cluster_id_from_arn)
        .ok_or_else(|| RefreshPlanError::NotOurs(clone.cluster.id.clone()))?;
    let leases = app.leases();
    let lease = leases.acquire(root_id, None, app.config.lease_wait).await?;
    let outcome = async {
        let plan = temporary_plan(app, clone).await?;
        tracing::info!(clone = %clone.cluster.id, source = %plan.source_id, "refresh: making the new clone");
        match app.ports.rds.restore_cluster(&plan.restore).await {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == AwsErrorKind::AlreadyExists => Ok(()),
            Err(error) => Err(aws("restoring the new clone")(error)),
        }
    }
    .await;
    release(app, lease).await;
    outcome
}

/// The new clone gets the password in the clone's secret, and a tag that says so.
async fn give_temporary_the_password(
    app: &Context,
    clone: &ClusterInfo,
    temporary: &ClusterInfo,
) -> Result<(), RefreshError> {
    let secret_id = clone
        .tag(tags::PASSWORD_SECRET)
        .expect("the planner asks only for a clone with a secret");
    let document = app
        .ports
        .secrets
        .get_value(secret_id)
        .await
        .map_err(aws("reading the clone's secret"))?;
    let password = document.as_ref().and_then(password_from_document);
    let Some(password) = password else {
        return Err(RefreshError::NoPassword {
            secret_id: secret_id.to_string(),
        });
    };
    app.ports
        .rds
        .set_master_password(&temporary.id, &password)
        .await
        .map_err(aws("giving the new clone the clone's password"))?;
    let set: Tags = [(tags::REFRESH_PASSWORD.to_string(), "set".to_string())].into();
    app.ports
        .rds
        .add_tags(&temporary.arn, &set)
        .await
        .map_err(aws("marking the new clone's password as set"))?;
    Ok(())
}

/// Adds the new clone's writer. AWS refuses an instance while the restored cluster is not
/// yet available (RestoreDBClusterToPointInTime, API reference): that is no failure, a
/// later pass adds it once the cluster is available.
async fn add_temporary_writer(
    app: &Context,
    instance: &InstanceRequest,
) -> Result<(), RefreshError> {
    match app.ports.rds.create_instance(instance).await {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => Ok(()),
        Err(error) if error.kind() == AwsErrorKind::InvalidState => {
            tracing::info!(instance = %instance.instance_id, reason = %error, "refresh: the new clone's writer waits for its cluster");
            Ok(())
        }
        Err(error) => Err(aws("adding the new clone's writer")(error)),
    }
}

/// The new clone is in place and usable: it takes over the old clone's tags and password,
/// the secret gets its host, `clone-refreshed` is sent, and the old clone is deleted.
async fn finish(
    app: &Context,
    clone: &Observed,
    retired: Option<&Observed>,
    report: &mut RefreshReport,
) -> Result<(), RefreshError> {
    let rds = app.ports.rds.as_ref();
    let cluster = &clone.cluster;
    // `refresh-instance` is done with. `refresh-of` stays until the old clone is being
    // deleted: it is what marks the old clone, under its retired name, as this refresh's.
    // With the old clone's tags the new one then has at most 50 (the old one's, less the
    // source, data timestamp, state and full-copy tags it does not take, plus those three
    // of its own and `refresh-of`).
    if cluster.tags.contains_key(tags::REFRESH_INSTANCE) {
        rds.remove_tags(&cluster.arn, &[tags::REFRESH_INSTANCE.to_string()])
            .await
            .map_err(aws("removing the refresh's tags"))?;
    }
    report.data_timestamp = cluster.tag(tags::DATA_TIMESTAMP).map(str::to_string);
    let old = retired.map(|retired| &retired.cluster);
    report.previous_data_timestamp = old
        .and_then(|old| old.tag(tags::DATA_TIMESTAMP))
        .map(str::to_string);
    let Some(old) = old.filter(|old| !old.is_deleting()) else {
        return done(app, cluster, report).await;
    };
    let mut carried = carried_tags(old);
    carried.insert(tags::STATE.into(), LifecycleState::Ready.as_str().into());
    rds.add_tags(&cluster.arn, &carried)
        .await
        .map_err(aws("giving the new clone the old clone's tags"))?;
    if let Some(writer) = &clone.writer {
        let instance_tags: Tags = carried
            .iter()
            .filter(|(key, _)| {
                !key.starts_with(tags::TAG_PREFIX)
                    || [tags::ROLE, tags::STACK, tags::OWNER, tags::ROOT_ARN]
                        .contains(&key.as_str())
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        rds.add_tags(&writer.arn, &instance_tags)
            .await
            .map_err(aws("tagging the new writer"))?;
    }
    if let Some(secret_id) = old.tag(tags::PASSWORD_SECRET) {
        point_secret_at(app, cluster, secret_id).await?;
        let keys: Vec<String> = PASSWORD_TAGS.iter().map(|key| key.to_string()).collect();
        rds.remove_tags(&old.arn, &keys)
            .await
            .map_err(aws("detaching the password from the old clone"))?;
    }
    let mut announced = cluster.clone();
    announced.tags.extend(carried);
    // Sent before the old clone is deleted, so a crash repeats it rather than losing it.
    let event = lifecycle_event(
        &app.config.event_bus_name,
        "clone-refreshed",
        &announced,
        // A new cluster has a new DbClusterResourceId: IAM database authentication
        // policies (`rds-db:connect` on `dbuser:<resource id>/...`) must follow it.
        json!({
            "previousDataTimestamp": report.previous_data_timestamp,
            "resourceId": cluster.resource_id,
            "previousResourceId": old.resource_id,
        }),
        vec![cluster.arn.clone()],
    );
    app.ports
        .events
        .put_event(&event)
        .await
        .map_err(aws("sending clone-refreshed"))?;
    remove_refresh_cluster(app, &old.id)
        .await
        .map_err(aws(format!("deleting the old clone {}", old.id)))?;
    done(app, cluster, report).await
}

/// The old clone is gone or being deleted: the refresh's last tag comes off.
async fn done(
    app: &Context,
    cluster: &ClusterInfo,
    report: &mut RefreshReport,
) -> Result<(), RefreshError> {
    if cluster.tags.contains_key(tags::REFRESH_OF) {
        app.ports
            .rds
            .remove_tags(&cluster.arn, &[tags::REFRESH_OF.to_string()])
            .await
            .map_err(aws("removing the refresh's tag"))?;
    }
    report.done = true;
    Ok(())
}

/// The secret gets the new clone's host (the same hostname, unless AWS changed it).
async fn point_secret_at(
    app: &Context,
    cluster: &ClusterInfo,
    secret_id: &str,
) -> Result<(), RefreshError> {
    let secrets = app.ports.secrets.as_ref();
    let Some(document) = secrets
        .get_value(secret_id)
        .await
        .map_err(aws("reading the clone's secret"))?
    else {
        return Ok(());
    };
    if let Some(host) = &cluster.endpoint
        && let Some(updated) = with_endpoint(&document, host, cluster.port)
    {
        secrets
            .put_value(secret_id, &updated)
            .await
            .map_err(aws("writing the new host into the secret"))?;
    }
    Ok(())
}

/// Removes a cluster the refresh made or replaced: its instances, then the cluster, with no
/// final snapshot; nothing to do when it is gone. The caller has checked the refresh tag.
async fn remove_refresh_cluster(app: &Context, cluster_id: &str) -> Result<(), AwsError> {
    let rds = app.ports.rds.as_ref();
    for instance in rds.describe_cluster_instances(cluster_id).await? {
        rds.delete_instance(&instance.id).await?;
    }
    match rds.delete_cluster(cluster_id, None).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == AwsErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}
