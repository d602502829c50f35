//! Refresh in place, carried out: each pass reads what exists under the refresh's three
//! names, asks `plan::refresh::next_step` for the one thing to do, and does it. Nothing is
//! remembered between passes, so a pass after a crash continues where the last one stopped.
//!
//! A failure before the swap (the old clone is still under its name) removes the temporary
//! clone and leaves the old one as it was. From the first rename on, the refresh only goes
//! forward.

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
use crate::run::machinery::password::{password_from_document, with_endpoint};
use crate::run::workflows::lifecycle::lifecycle_event;

/// How long `refresh --wait` waits for a refresh to finish: a clone usually takes minutes
/// to restore and its writer about ten to rename (RDS user guide, "Renaming a DB instance":
/// "about 10 minutes"), so two hours is a stuck refresh, not a slow one.
pub const REFRESH_WAIT_LIMIT: Duration = Duration::from_secs(2 * 3600);

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
        let report = match pass(app, &names, refreshing).await {
            Ok(report) => report,
            Err(error) => return Err(give_up_before_swap(app, &names, error).await),
        };
        // Once started, later passes only continue it.
        refreshing = false;
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

/// Whether the swap has begun: the old clone's writer or the old clone itself has been
/// renamed out of the way. When in doubt (AWS cannot be read), it has.
async fn swap_begun(app: &Context, names: &RefreshNames) -> bool {
    let rds = app.ports.rds.as_ref();
    let (Ok(retired), Ok(clone), Ok(temporary)) = (
        rds.describe_cluster(&names.retired_id).await,
        rds.describe_cluster(&names.clone_id).await,
        rds.describe_cluster(&names.temporary_id).await,
    ) else {
        return true;
    };
    if retired.is_some() {
        return true;
    }
    match (clone, temporary) {
        (Some(clone), Some(temporary)) => {
            temporary.tag(tags::REFRESH_INSTANCE).is_some()
                && clone.writer_instance_id() != temporary.tag(tags::REFRESH_INSTANCE)
        }
        (None, _) => true,
        (Some(_), None) => false,
    }
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
        RefreshStep::AddTemporaryWriter => {
            let clone = facts
                .clone
                .as_ref()
                .expect("a clone beside the temporary one");
            let plan = temporary_plan(app, clone).await?;
            add_temporary_writer(app, &plan.instance).await?;
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
        RefreshStep::RenameInstance { from, to } => {
            tracing::info!(%from, %to, "refresh: renaming instance");
            rds.rename_instance(&from, &to)
                .await
                .map_err(aws(format!("renaming instance {from} to {to}")))?;
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

/// Restores the new clone and adds its writer.
async fn make_temporary(app: &Context, clone: &Observed) -> Result<(), RefreshError> {
    let plan = temporary_plan(app, clone).await?;
    tracing::info!(clone = %clone.cluster.id, source = %plan.source_id, "refresh: making the new clone");
    let rds = app.ports.rds.as_ref();
    match rds.restore_cluster(&plan.restore).await {
        Ok(_) => {}
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => {}
        Err(error) => return Err(aws("restoring the new clone")(error)),
    }
    add_temporary_writer(app, &plan.instance).await
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
        keep_password(app, cluster, secret_id).await?;
        let keys: Vec<String> = PASSWORD_TAGS.iter().map(|key| key.to_string()).collect();
        rds.remove_tags(&old.arn, &keys)
            .await
            .map_err(aws("detaching the password from the old clone"))?;
        // The password change is applied asynchronously; the next pass waits for it.
        report.last_step = RefreshStep::Wait {
            what: cluster.id.clone(),
        };
        return Ok(());
    }
    let mut announced = cluster.clone();
    announced.tags.extend(carried);
    // Sent before the old clone is deleted, so a crash repeats it rather than losing it.
    let event = lifecycle_event(
        &app.config.event_bus_name,
        "clone-refreshed",
        &announced,
        json!({"previousDataTimestamp": report.previous_data_timestamp}),
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

/// The new clone gets the password in the clone's secret, and the secret the new host.
async fn keep_password(
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
    if let Some(password) = password_from_document(&document) {
        app.ports
            .rds
            .set_master_password(&cluster.id, &password)
            .await
            .map_err(aws("setting the new clone's password"))?;
    }
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
