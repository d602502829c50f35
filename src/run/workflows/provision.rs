//! Starting a clone: under the root's lease, take one inventory, plan, and hand the plan
//! to the executor ([`crate::run::machinery::execute`]), which carries out its API calls and removes
//! what it made if one fails. The finisher takes the clone from there; the two never call
//! each other.

use crate::aws::{AwsError, ClusterInfo, InstanceInfo};
use crate::plan::inventory::Inventory;
use crate::plan::provision::{
    CloneRequest, PlanError, ProvisionInput, ProvisionOutcome, plan_provision,
};
use crate::run::machinery::context::Context;
use crate::run::machinery::execute::{ExecuteError, Started, apply_provision_plan};
use crate::run::machinery::inventory::load_inventory;
use crate::run::machinery::lease::LeaseError;

/// Why a clone could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error("{step}: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: AwsError,
    },
    /// A call of the plan failed; what was made for the request has been removed.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
}

/// Who reads an explanation: the fix it suggests differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    CloudFormation,
    Cli,
}

impl ProvisionError {
    /// The error in plain words, with the fix for the given audience.
    pub fn explain(&self, audience: Audience, config_parameter: &str) -> String {
        match (self, audience) {
            (ProvisionError::Plan(PlanError::NoSlot(no_slot)), Audience::CloudFormation) => {
                no_slot.for_cloudformation(config_parameter)
            }
            (ProvisionError::Plan(PlanError::NoSlot(no_slot)), Audience::Cli) => no_slot.for_cli(),
            (other, _) => other.to_string(),
        }
    }
}

fn step_error(step: &'static str) -> impl Fn(AwsError) -> ProvisionError {
    move |source| ProvisionError::Aws { step, source }
}

/// The inventory and the facts the planner needs besides it.
async fn gather(
    app: &Context,
    request: &CloneRequest,
) -> Result<(Inventory, Option<InstanceInfo>), ProvisionError> {
    let inventory = load_inventory(app.ports.rds.as_ref())
        .await
        .map_err(step_error("reading clusters"))?;
    let root_writer = match inventory
        .cluster(&request.properties.source_cluster_id)
        .and_then(ClusterInfo::writer_instance_id)
    {
        Some(writer_id) => app
            .ports
            .rds
            .describe_instance(writer_id)
            .await
            .map_err(step_error("reading the source's writer instance"))?,
        None => None,
    };
    Ok((inventory, root_writer))
}

/// Plans a clone without changing anything (a dry run).
pub async fn plan_clone(
    app: &Context,
    request: &CloneRequest,
) -> Result<ProvisionOutcome, ProvisionError> {
    let placement = app
        .placement()
        .await
        .map_err(step_error("reading the account"))?;
    let (inventory, root_writer) = gather(app, request).await?;
    Ok(plan_provision(ProvisionInput {
        request,
        inventory: &inventory,
        config: &app.config,
        placement: &placement,
        root_writer: root_writer.as_ref(),
        now: app.now(),
    })?)
}

/// Plans and starts a clone under the root's lease.
pub async fn start_clone(app: &Context, request: &CloneRequest) -> Result<Started, ProvisionError> {
    request.properties.validate().map_err(PlanError::from)?;
    let placement = app
        .placement()
        .await
        .map_err(step_error("reading the account"))?;
    let leases = app.leases();
    let lease = leases
        .acquire(
            &request.properties.source_cluster_id,
            Some(&request.origin.request_id),
            app.config.lease_wait,
        )
        .await?;
    // Kept renewed: the password's IAM propagation waits under it can outlast its TTL.
    let lease = leases.keep(lease, app.config.lease_ttl);
    let result = async {
        let (inventory, root_writer) = gather(app, request).await?;
        let outcome = plan_provision(ProvisionInput {
            request,
            inventory: &inventory,
            config: &app.config,
            placement: &placement,
            root_writer: root_writer.as_ref(),
            now: app.now(),
        })?;
        match outcome {
            ProvisionOutcome::AlreadyMade { cluster_id, arn } => {
                Ok(Started::Existing { cluster_id, arn })
            }
            ProvisionOutcome::Make(plan) => {
                for line in &plan.summary {
                    tracing::info!(cluster = %plan.cluster_id, "plan: {line}");
                }
                let (record, restore, restored) =
                    apply_provision_plan(app, &plan, &placement, &lease).await?;
                Ok(Started::Made {
                    plan,
                    record: Box::new(record),
                    restore: Box::new(restore),
                    restored: restored.map(Box::new),
                })
            }
        }
    }
    .await;
    if let Err(error) = lease.release(&leases).await {
        tracing::warn!(%error, "could not release a lease; it will expire");
    }
    result
}
