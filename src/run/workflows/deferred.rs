//! Clones waiting for a copy that is still being made. Such a clone is answered to
//! CloudFormation as soon as its copy is under way (`WaitForReady: false`), and the copy
//! may take hours: longer than a chain of invocations may follow it. So the clone's restore
//! is recorded in an SSM parameter, one per clone, and any trigger carries it out once the
//! copy is ready: the invocation chain, the RDS event of the copy's instance, or the
//! maintenance run. A Delete of the clone removes the record, which cancels it.

use crate::aws::AwsError;
use crate::run::machinery::context::{Context, Invocation};
use crate::run::workflows::finish::{self, FinishJob, FinishMode, FinishOutcome};

/// SSM's standard tier holds at most 4 KB per value (PutParameter, Value).
const MAX_RECORD_BYTES: usize = 4096;

/// Why a waiting clone could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "the clone's restore is {size} bytes, more than the {MAX_RECORD_BYTES} an SSM parameter holds; use fewer or shorter Tags"
    )]
    TooLarge { size: usize },
    #[error("recording the clone that waits for its copy: {0}")]
    Aws(#[from] AwsError),
}

fn parameter_name(app: &Context, clone_id: &str) -> String {
    format!("{}{clone_id}", app.config.deferred_parameter_prefix)
}

/// Records a job whose clone waits for its copy. The job must owe no answer and have
/// nothing to undo: whoever picks it up later has neither the answer slot nor the right
/// to delete what CloudFormation was told exists.
pub async fn record(app: &Context, job: &FinishJob) -> Result<(), RecordError> {
    debug_assert!(job.respond.is_none() && job.record.is_none());
    let value = serde_json::to_string(job).expect("a finish job serialises");
    if value.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge { size: value.len() });
    }
    app.ports
        .params
        .put(&parameter_name(app, &job.cluster_id), &value)
        .await?;
    Ok(())
}

/// Whether the clone is still recorded as waiting (a Delete removes the record).
pub async fn is_recorded(app: &Context, clone_id: &str) -> Result<bool, AwsError> {
    Ok(app
        .ports
        .params
        .get(&parameter_name(app, clone_id))
        .await?
        .is_some())
}

/// The recorded job of a waiting clone, if there is a readable one.
pub async fn recorded_job(app: &Context, clone_id: &str) -> Result<Option<FinishJob>, AwsError> {
    let value = app.ports.params.get(&parameter_name(app, clone_id)).await?;
    Ok(value.and_then(|value| serde_json::from_str(&value.value).ok()))
}

/// Removes the record: the clone's restore has started, or it is no longer wanted.
/// Succeeds when there is none.
pub async fn forget(app: &Context, clone_id: &str) -> Result<(), AwsError> {
    app.ports
        .params
        .delete(&parameter_name(app, clone_id))
        .await
}

/// Every recorded waiting clone. A record that cannot be read is reported and skipped.
pub async fn load(app: &Context) -> Result<Vec<FinishJob>, AwsError> {
    let records = app
        .ports
        .params
        .list_path(&app.config.deferred_parameter_prefix)
        .await?;
    Ok(records
        .into_iter()
        .filter_map(|(name, value)| match serde_json::from_str::<FinishJob>(&value) {
            Ok(job) => Some(job),
            Err(error) => {
                tracing::error!(parameter = %name, %error, "unreadable waiting-clone record skipped");
                None
            }
        })
        .collect())
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
