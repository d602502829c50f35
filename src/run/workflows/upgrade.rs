//! Carrying over what an earlier version kept in SSM parameters: its leases
//! (`/<stack>/leases/*`) and its clones waiting for a copy (`/<stack>/deferred-clones/*`)
//! move to the state table on the first maintenance run after an upgrade, and the
//! parameters are deleted. A lease keeps its holder and expiry, so work an invocation of
//! the earlier version still does is not trampled; an expired one is simply dropped.
//!
//! What this does not cover: between the upgrade and that run, an invocation of the new
//! version takes leases in the table only, so it does not see a lease an invocation of the
//! earlier version (which can run up to 15 minutes after the update) still holds in SSM.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::aws::AwsError;
use crate::run::machinery::context::Context;
use crate::run::workflows::deferred;
use crate::run::workflows::finish::FinishJob;

/// A lease as the earlier version wrote it.
#[derive(Debug, Deserialize)]
struct SsmLease {
    holder: String,
    expires: DateTime<Utc>,
    #[serde(default)]
    work: Option<String>,
}

/// What one carry-over moved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CarriedOver {
    pub leases: usize,
    pub waiting_clones: usize,
}

/// Moves the earlier version's SSM leases and waiting-clone records into the state table
/// and deletes the parameters. A record that cannot be read is reported and left in place.
pub async fn carry_over_ssm_records(app: &Context) -> Result<CarriedOver, AwsError> {
    let mut carried = CarriedOver::default();
    let params = &app.ports.params;
    let leases = app.leases();
    for (parameter, value) in params.list_path(&app.config.lease_parameter_prefix).await? {
        let name = parameter
            .strip_prefix(&app.config.lease_parameter_prefix)
            .unwrap_or(&parameter);
        match serde_json::from_str::<SsmLease>(&value) {
            Ok(lease) if lease.expires > app.now() => {
                leases
                    .carry_over(name, &lease.holder, lease.expires, lease.work.as_deref())
                    .await?;
                carried.leases += 1;
            }
            // Expired: nobody holds it any more.
            Ok(_) => {}
            Err(error) => {
                // The earlier version treated an unreadable lease as free: so do we.
                tracing::warn!(%parameter, %error, "unreadable SSM lease dropped");
            }
        }
        params.delete(&parameter).await?;
    }
    for (parameter, value) in params
        .list_path(&app.config.deferred_parameter_prefix)
        .await?
    {
        let clone_id = parameter
            .strip_prefix(&app.config.deferred_parameter_prefix)
            .unwrap_or(&parameter);
        match serde_json::from_str::<FinishJob>(&value) {
            Ok(job) if job.cluster_id == clone_id && job.deferred.is_some() => {
                deferred::carry_over(app, &job)
                    .await
                    .map_err(|error| match error {
                        deferred::RecordError::Aws(error) => error,
                        other => AwsError::new(
                            crate::aws::AwsErrorKind::InvalidRequest,
                            crate::model::operations::DYNAMODB_PUT_ITEM.name,
                            other.to_string(),
                        ),
                    })?;
                params.delete(&parameter).await?;
                carried.waiting_clones += 1;
            }
            _ => {
                tracing::error!(%parameter, "unreadable waiting-clone record left in SSM");
            }
        }
    }
    if carried != CarriedOver::default() {
        tracing::info!(?carried, "carried SSM records over to the state table");
    }
    Ok(carried)
}
