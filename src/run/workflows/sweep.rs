//! The lifecycle sweep: announces clones about to expire and deletes expired ones, with
//! their secret, grants and disposable key. It runs on a schedule (every 15 minutes by
//! default, so a clone is deleted well within an hour of its expiry) and on demand from
//! the CLI.
//!
//! One sweep reads the inventory once (DescribeDBClusters pages with tags inline, 100
//! clusters a page) and makes further calls only for the clones it acts on. A clone that
//! is stopped is started by the teardown and deleted by a later sweep, once it runs.

use serde::Serialize;
use serde_json::json;

use crate::aws::AwsErrorKind;
use crate::aws::{AwsError, ClusterInfo, Tags};
use crate::model::tags;
use crate::model::tags::IdleAction;
use crate::model::time::format_timestamp;
use crate::plan::sweep::{
    HourlySeries, SweepAction, SweepInput, SweepItem, idle_candidates, idle_window_end, plan_idle,
    plan_sweep,
};
use crate::run::machinery::context::Context;
use crate::run::machinery::inventory::load_inventory;
use crate::run::machinery::teardown::{self, TeardownReport};
use crate::run::workflows::lifecycle::lifecycle_event;

/// What one sweep did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub dry_run: bool,
    /// Every clone the sweep had something to do or say about, with its decision.
    pub planned: Vec<SweepItem>,
    /// Clones announced as expiring.
    pub warned: Vec<String>,
    /// Clones deleted (deletion started), with what went with them.
    pub expired: Vec<TeardownReport>,
    /// Idle clones stopped.
    pub stopped: Vec<String>,
    /// Clones that could not be deleted or stopped yet (stopped and now starting, or in
    /// another transition): a later sweep finishes them.
    pub pending: Vec<String>,
    /// Clones whose refresh in place this sweep moved on (see `run::refresh`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refreshes: Vec<String>,
    pub failures: Vec<String>,
}

/// A sweep that could not even read the inventory.
#[derive(Debug, thiserror::Error)]
#[error("sweep: reading the clusters: {source}")]
pub struct SweepError {
    #[source]
    pub source: AwsError,
}

/// Runs one sweep. Failures on single clones are reported and never stop the others.
pub async fn run(app: &Context, dry_run: bool) -> Result<SweepReport, SweepError> {
    let inventory = load_inventory(app.ports.rds.as_ref())
        .await
        .map_err(|source| SweepError { source })?;
    let now = app.now();
    let input = SweepInput {
        clusters: inventory.clusters(),
        stack_name: &app.config.stack_name,
        expiry_warning: app.config.expiry_warning,
        now,
    };
    let mut planned = plan_sweep(input);
    let mut report = SweepReport {
        dry_run,
        ..SweepReport::default()
    };
    // Connections are read only for clones with an idle rule, in as few calls as possible.
    let candidates = idle_candidates(input, &planned);
    if let Some(longest) = candidates
        .iter()
        .map(|candidate| candidate.idle_after)
        .max()
    {
        let end = idle_window_end(now);
        let ids: Vec<String> = candidates
            .iter()
            .map(|candidate| candidate.cluster_id.clone())
            .collect();
        // Paused hours matter only to clones deleted when idle.
        let deleted_when_idle: Vec<String> = candidates
            .iter()
            .filter(|candidate| candidate.action == IdleAction::Delete)
            .map(|candidate| candidate.cluster_id.clone())
            .collect();
        let metrics = app.ports.metrics.as_ref();
        let readings = async {
            let connections = metrics
                .hourly_max_connections(&ids, end - longest, end)
                .await?;
            let capacity = if deleted_when_idle.is_empty() {
                HourlySeries::new()
            } else {
                metrics
                    .hourly_max_capacity(&deleted_when_idle, end - longest, end)
                    .await?
            };
            Ok::<_, AwsError>((connections, capacity))
        };
        match readings.await {
            Ok((connections, capacity)) => {
                planned.extend(plan_idle(&candidates, &connections, &capacity, end))
            }
            Err(error) => report.failures.push(format!(
                "reading the connections of idle candidates: {error}"
            )),
        }
    }
    report.planned = planned.clone();
    if dry_run {
        return Ok(report);
    }
    for item in &planned {
        let Some(cluster) = inventory.cluster(&item.cluster_id) else {
            continue;
        };
        match &item.action {
            SweepAction::Warn { expires_at } => {
                match warn(app, cluster, &format_timestamp(*expires_at)).await {
                    Ok(()) => report.warned.push(cluster.id.clone()),
                    Err(error) => report
                        .failures
                        .push(format!("announcing {} as expiring: {error}", cluster.id)),
                }
            }
            SweepAction::Expire { expires_at } => {
                let fields =
                    json!({"expiresAt": format_timestamp(*expires_at), "reason": "expired"});
                delete(app, cluster, fields, &mut report).await;
            }
            SweepAction::DeleteIdle { idle_after } => {
                let fields = json!({
                    "expiresAt": cluster.tag(tags::EXPIRES_AT),
                    "reason": "idle",
                    "idleAfter": idle_after,
                });
                delete(app, cluster, fields, &mut report).await;
            }
            SweepAction::Stop { idle_after } => {
                stop(app, cluster, idle_after, &mut report).await;
            }
            SweepAction::Protected { .. } => {}
            SweepAction::Unreadable { tag, value } => {
                tracing::warn!(cluster = %cluster.id, tag, value, "a lifecycle tag cannot be read; the clone is left alone");
            }
        }
    }
    // Refreshes in progress: the new clone names the clone it replaces until the old one
    // is being deleted.
    let mut refreshing: Vec<&str> = inventory
        .managed(&app.config.stack_name, crate::model::tags::Role::Clone)
        .into_iter()
        .filter_map(|cluster| cluster.tag(crate::model::tags::REFRESH_OF))
        .collect();
    refreshing.sort_unstable();
    refreshing.dedup();
    for clone_id in refreshing {
        match crate::run::workflows::refresh::refresh(app, clone_id, false).await {
            Ok(_) => report.refreshes.push(clone_id.to_string()),
            Err(error) => report
                .failures
                .push(format!("refreshing {clone_id}: {error}")),
        }
    }
    Ok(report)
}

/// Stops an idle clone and announces it. A clone that is no longer available (someone
/// stopped or started it since the inventory was read) is left to a later sweep.
async fn stop(app: &Context, cluster: &ClusterInfo, idle_after: &str, report: &mut SweepReport) {
    tracing::info!(cluster = %cluster.id, idle_after, "stopping an idle clone");
    match app.ports.rds.stop_cluster(&cluster.id).await {
        Ok(()) => {
            let event = lifecycle_event(
                &app.config.event_bus_name,
                "clone-stopped",
                cluster,
                json!({"reason": "idle", "idleAfter": idle_after}),
                vec![cluster.arn.clone()],
            );
            if let Err(error) = app.ports.events.put_event(&event).await {
                report.failures.push(format!(
                    "{} was stopped, but the clone-stopped event was not sent: {error}",
                    cluster.id
                ));
            }
            report.stopped.push(cluster.id.clone());
        }
        Err(error) if error.kind() == AwsErrorKind::InvalidState => {
            report
                .pending
                .push(format!("{} cannot be stopped now: {error}", cluster.id));
        }
        Err(error) => report
            .failures
            .push(format!("stopping {}: {error}", cluster.id)),
    }
}

/// Sends `clone-expiring`, then records it, so that a lost tag write means one more event
/// rather than none.
async fn warn(app: &Context, cluster: &ClusterInfo, expires_at: &str) -> Result<(), AwsError> {
    app.ports
        .events
        .put_event(&lifecycle_event(
            &app.config.event_bus_name,
            "clone-expiring",
            cluster,
            json!({
                "expiresAt": expires_at,
                "protectedUntil": cluster.tag(tags::PROTECTED_UNTIL),
            }),
            vec![cluster.arn.clone()],
        ))
        .await?;
    let notice: Tags = [(tags::EXPIRING_NOTICE.to_string(), expires_at.to_string())].into();
    app.ports.rds.add_tags(&cluster.arn, &notice).await
}

/// Deletes an expired (or idle) clone with everything made for it, then sends
/// `clone-expired` with `fields`.
async fn delete(
    app: &Context,
    cluster: &ClusterInfo,
    mut fields: serde_json::Value,
    report: &mut SweepReport,
) {
    tracing::info!(cluster = %cluster.id, "deleting an expired clone");
    let final_snapshot = cluster.tag(tags::FINAL_SNAPSHOT) == Some("true");
    match teardown::delete_clone(app, cluster, final_snapshot).await {
        Ok(deleted) => {
            fields["secretsDeleted"] = json!(deleted.secrets_deleted);
            fields["keysScheduledForDeletion"] = json!(deleted.keys_scheduled_for_deletion);
            let event = lifecycle_event(
                &app.config.event_bus_name,
                "clone-expired",
                cluster,
                fields,
                vec![cluster.arn.clone()],
            );
            if let Err(error) = app.ports.events.put_event(&event).await {
                report.failures.push(format!(
                    "{} was deleted, but the clone-expired event was not sent: {error}",
                    cluster.id
                ));
            }
            report.expired.push(deleted);
        }
        Err(error) if error.is_not_yet() => {
            tracing::info!(cluster = %cluster.id, %error, "an expired clone is deleted on a later sweep");
            report.pending.push(error.to_string());
        }
        Err(error) => report.failures.push(error.to_string()),
    }
}
