//! Clones waiting for a copy that is still being made. Such a clone is answered to
//! CloudFormation as soon as its copy is under way (`WaitForReady: false`), and the copy
//! may take hours: longer than a chain of invocations may follow it. So the clone's restore
//! is recorded in the state table, one item per clone (`pk` "deferred-clone", `sk` the
//! clone's id), and any trigger carries it out once the copy is ready: the invocation
//! chain, the RDS event of the copy's instance, or the maintenance run. A Delete of the
//! clone removes the record, which cancels it.
//!
//! Records are read back as untrusted input: one that does not parse, or that names
//! another clone than its key, is skipped and reported, never acted on.

use crate::aws::{AwsError, StateCondition, StateItem};
use crate::model::rules::check_state_item;
use crate::run::machinery::context::{Context, Invocation};
use crate::run::workflows::finish::{self, FinishJob, FinishMode, FinishOutcome};

/// The partition key of waiting-clone records.
pub const DEFERRED_ITEM_KIND: &str = "deferred-clone";

/// The attribute holding the recorded job (JSON).
const JOB: &str = "job";

/// Why a waiting clone could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the clone's restore cannot be recorded: {0}; use fewer or shorter Tags")]
    TooLarge(String),
    #[error("recording the clone that waits for its copy: {0}")]
    Aws(#[from] AwsError),
}

/// Records a job whose clone waits for its copy. The job must owe no answer and have
/// nothing to undo: whoever picks it up later has neither the answer slot nor the right
/// to delete what CloudFormation was told exists.
pub async fn record(app: &Context, job: &FinishJob) -> Result<(), RecordError> {
    debug_assert!(job.respond.is_none() && job.record.is_none());
    let value = serde_json::to_string(job).expect("a finish job serialises");
    let item = StateItem::new(DEFERRED_ITEM_KIND, &job.cluster_id).with_text(JOB, &value);
    check_state_item(&item).map_err(|violation| RecordError::TooLarge(violation.to_string()))?;
    app.ports
        .state
        .put_item(&app.config.state_table, &item, &StateCondition::Always)
        .await?;
    Ok(())
}

/// Records a waiting clone an earlier version recorded elsewhere (an SSM parameter),
/// unless the table already has a record of that clone.
pub async fn carry_over(app: &Context, job: &FinishJob) -> Result<(), RecordError> {
    let value = serde_json::to_string(job).expect("a finish job serialises");
    let item = StateItem::new(DEFERRED_ITEM_KIND, &job.cluster_id).with_text(JOB, &value);
    check_state_item(&item).map_err(|violation| RecordError::TooLarge(violation.to_string()))?;
    app.ports
        .state
        .put_item(&app.config.state_table, &item, &StateCondition::Absent)
        .await?;
    Ok(())
}

/// Whether the clone is still recorded as waiting (a Delete removes the record).
pub async fn is_recorded(app: &Context, clone_id: &str) -> Result<bool, AwsError> {
    Ok(app
        .ports
        .state
        .get_item(&app.config.state_table, DEFERRED_ITEM_KIND, clone_id)
        .await?
        .is_some())
}

/// The recorded job of a waiting clone, if there is a readable one.
pub async fn recorded_job(app: &Context, clone_id: &str) -> Result<Option<FinishJob>, AwsError> {
    let item = app
        .ports
        .state
        .get_item(&app.config.state_table, DEFERRED_ITEM_KIND, clone_id)
        .await?;
    Ok(item.and_then(|item| readable_job(&item)))
}

/// Removes the record: the clone's restore has started, or it is no longer wanted.
/// Succeeds when there is none.
pub async fn forget(app: &Context, clone_id: &str) -> Result<(), AwsError> {
    app.ports
        .state
        .delete_item(
            &app.config.state_table,
            DEFERRED_ITEM_KIND,
            clone_id,
            &StateCondition::Always,
        )
        .await?;
    Ok(())
}

/// Every recorded waiting clone. A record that cannot be trusted is reported and skipped.
pub async fn load(app: &Context) -> Result<Vec<FinishJob>, AwsError> {
    let items = app
        .ports
        .state
        .query(&app.config.state_table, DEFERRED_ITEM_KIND)
        .await?;
    Ok(items.iter().filter_map(readable_job).collect())
}

/// The job a record holds, when it parses and is about the clone its key names.
fn readable_job(item: &StateItem) -> Option<FinishJob> {
    let parsed = item
        .text(JOB)
        .ok_or_else(|| "no job".to_string())
        .and_then(|text| serde_json::from_str::<FinishJob>(text).map_err(|e| e.to_string()));
    match parsed {
        Ok(job) if job.cluster_id == item.sk && job.deferred.is_some() => Some(job),
        Ok(job) => {
            tracing::error!(
                record = %item.sk,
                names = %job.cluster_id,
                "waiting-clone record skipped: it is not a waiting restore of the clone its key names"
            );
            None
        }
        Err(error) => {
            tracing::error!(record = %item.sk, %error, "unreadable waiting-clone record skipped");
            None
        }
    }
}

/// Gives every recorded clone (or those waiting for `copy_id` only) one finisher pass,
/// which restores it if its copy is ready. Returns each clone's outcome.
pub async fn resume(
    app: &Context,
    invocation: &Invocation,
    copy_id: Option<&str>,
) -> Result<Vec<(String, FinishOutcome)>, AwsError> {
    let mut outcomes = Vec::new();
    for job in load(app).await? {
        let waits_for = job
            .deferred
            .as_ref()
            .map(|deferred| deferred.restore.source_cluster_id.as_str());
        if copy_id.is_some() && waits_for != copy_id {
            continue;
        }
        let cluster_id = job.cluster_id.clone();
        let outcome = finish::run(app, invocation, job, FinishMode::OnePass, None, &|_| {}).await;
        outcomes.push((cluster_id, outcome));
    }
    Ok(outcomes)
}
