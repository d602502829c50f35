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

use crate::app::App;
use crate::aws::{AwsError, ClusterInfo, Tags};
use crate::lifecycle::lifecycle_event;
use crate::observe::load_inventory;
use crate::plan::sweep::{SweepAction, SweepInput, SweepItem, plan_sweep};
use crate::plan::tags;
use crate::teardown::{self, TeardownReport};
use crate::time::format_timestamp;

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
    /// Clones that could not be deleted yet (stopped and now starting): a later sweep
    /// finishes them.
    pub pending: Vec<String>,
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
pub async fn run(app: &App, dry_run: bool) -> Result<SweepReport, SweepError> {
    let inventory = load_inventory(app.ports.rds.as_ref())
        .await
        .map_err(|source| SweepError { source })?;
    let planned = plan_sweep(SweepInput {
        clusters: inventory.clusters(),
        stack_name: &app.config.stack_name,
        expiry_warning: app.config.expiry_warning,
        now: app.now(),
    });
    let mut report = SweepReport {
        dry_run,
        planned: planned.clone(),
        ..SweepReport::default()
    };
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
                expire(app, cluster, &format_timestamp(*expires_at), &mut report).await;
            }
            SweepAction::Protected { .. } => {}
            SweepAction::Unreadable { tag, value } => {
                tracing::warn!(cluster = %cluster.id, tag, value, "a lifecycle tag is not a timestamp; the clone is left alone");
            }
        }
    }
    Ok(report)
}

/// Sends `clone-expiring`, then records it, so that a lost tag write means one more event
/// rather than none.
async fn warn(app: &App, cluster: &ClusterInfo, expires_at: &str) -> Result<(), AwsError> {
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

async fn expire(app: &App, cluster: &ClusterInfo, expires_at: &str, report: &mut SweepReport) {
    tracing::info!(cluster = %cluster.id, expires_at, "deleting an expired clone");
    let final_snapshot = cluster.tag(tags::FINAL_SNAPSHOT) == Some("true");
    match teardown::delete_clone(app, cluster, final_snapshot).await {
        Ok(deleted) => {
            let event = lifecycle_event(
                &app.config.event_bus_name,
                "clone-expired",
                cluster,
                json!({
                    "expiresAt": expires_at,
                    "secretsDeleted": deleted.secrets_deleted,
                    "keysScheduledForDeletion": deleted.keys_scheduled_for_deletion,
                }),
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
