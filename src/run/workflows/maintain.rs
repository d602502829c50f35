//! The maintenance run: for every configured root, purge obsolete copies and make enough
//! copies to keep the target of free clone slots; then finish clusters left unfinished and
//! remove secrets and keys whose cluster is gone. One root's failure does not stop the
//! others. A dry run plans and changes nothing.

use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::aws::AwsError;
use crate::input::maintenance_config::{ConfigProblem, MaintenanceConfig, UnreadableConfig};
use crate::metrics::{self, RootMetrics};
use crate::plan::inventory::Inventory;
use crate::plan::maintenance::RootTarget;
use crate::plan::maintenance::{MaintenanceInput, MaintenancePlan, RootPlan, plan_maintenance};
use crate::plan::refresh::{DEFAULT_MAX_CONCURRENT_REFRESHES, RefreshSchedule};
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::execute::{restore_or_adopt, try_create_instance};
use crate::run::machinery::inventory::{
    ConfigLoadError, ConfigSource, load_inventory, load_maintenance_config, load_password_artifacts,
};
use crate::run::machinery::lease::Lease;
use crate::run::machinery::teardown::{self, TeardownReport};
use crate::run::workflows::deferred;
use crate::run::workflows::finish::{self, FinishMode, FinishOutcome};
use crate::run::workflows::upgrade;

/// How long a finishing chain follows a new copy: a full copy of a large volume takes hours;
/// past this, the next maintenance sweep adds its instance.
const COPY_READY_WITHIN: chrono::TimeDelta = chrono::TimeDelta::hours(6);

/// Why a maintenance run could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum MaintainError {
    #[error(transparent)]
    Config(#[from] UnreadableConfig),
    #[error("reading {what}: {source}")]
    Aws {
        what: &'static str,
        #[source]
        source: AwsError,
    },
}

impl From<ConfigLoadError> for MaintainError {
    fn from(error: ConfigLoadError) -> MaintainError {
        match error {
            ConfigLoadError::Unreadable(unreadable) => MaintainError::Config(unreadable),
            ConfigLoadError::Aws(source) => MaintainError::Aws {
                what: "the maintenance config",
                source,
            },
        }
    }
}

/// What a run did, root by root.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceReport {
    pub dry_run: bool,
    pub config_problems: Vec<ConfigProblem>,
    pub plan: MaintenancePlan,
    pub roots: Vec<RootReport>,
    pub finished: Vec<String>,
    pub still_unfinished: Vec<String>,
    pub orphans_removed: Vec<String>,
    /// Clones whose refresh in place this run started (`:refresh-schedule`); the sweeps
    /// carry them on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refreshes_started: Vec<String>,
    pub failures: Vec<String>,
}

/// What happened for one root.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootReport {
    pub cluster_id: String,
    pub dry_run: bool,
    pub copies_created: Vec<String>,
    pub copies_purged: Vec<String>,
    /// Obsolete copies found stopped or starting: started so that a later run can delete
    /// them (AWS deletes only running clusters).
    pub copies_starting: Vec<String>,
    pub failures: Vec<String>,
    /// How long the root's lease took to get, in milliseconds.
    pub lease_wait_ms: u64,
}

/// Plans maintenance without changing anything.
pub async fn plan_only(
    app: &Context,
    config: &MaintenanceConfig,
) -> Result<MaintenancePlan, MaintainError> {
    // The inventory's pages come one after another; the other listings need not wait.
    let (inventory, artifacts, waiting) = tokio::join!(
        load_inventory(app.ports.rds.as_ref()),
        load_password_artifacts(&app.ports, &app.config.stack_name),
        deferred::load(app)
    );
    let inventory = inventory.map_err(|source| MaintainError::Aws {
        what: "clusters",
        source,
    })?;
    let artifacts = artifacts.map_err(|source| MaintainError::Aws {
        what: "secrets and keys",
        source,
    })?;
    let waiting_clone_ids: Vec<String> = waiting
        .map_err(|source| MaintainError::Aws {
            what: "clones waiting for a copy",
            source,
        })?
        .into_iter()
        .map(|job| job.cluster_id)
        .collect();
    Ok(plan_maintenance(MaintenanceInput {
        inventory: &inventory,
        targets: &config.targets,
        config: &app.config,
        secrets: &artifacts.secrets,
        key_aliases: &artifacts.key_aliases,
        stray_keys: &artifacts.stray_keys,
        waiting_clone_ids: &waiting_clone_ids,
        now: app.now(),
    }))
}

/// Runs maintenance. With `dry_run`, only plans.
pub async fn run(
    app: &Context,
    invocation: &Invocation,
    source: &ConfigSource,
    dry_run: bool,
) -> Result<MaintenanceReport, MaintainError> {
    let config = load_maintenance_config(
        app.ports.params.as_ref(),
        &app.config.maintenance_config_parameter,
        source,
    )
    .await?;
    if dry_run {
        return dry_run_report(app, &config).await;
    }
    // Before any lease is taken: an earlier version's SSM leases must count.
    if let Err(error) = upgrade::carry_over_ssm_records(app).await {
        tracing::error!(%error, "could not carry SSM leases and records over to the state table");
    }
    // Take the leases of the roots to change first, so that the one inventory read next
    // cannot miss a clone a concurrent request starts.
    let leases = take_root_leases(app, &config).await;
    let plan = match plan_only(app, &config).await {
        Ok(plan) => plan,
        Err(error) => {
            for (lease, _) in leases.held.into_values() {
                release(app, lease).await;
            }
            return Err(error);
        }
    };
    let roots = execute_roots(app, &plan, leases).await;
    let mut report = MaintenanceReport {
        dry_run: false,
        config_problems: config.problems.clone(),
        roots,
        finished: Vec::new(),
        still_unfinished: Vec::new(),
        orphans_removed: Vec::new(),
        refreshes_started: Vec::new(),
        failures: Vec::new(),
        plan,
    };
    follow_new_copies(app, invocation, &report).await;
    sweep_unfinished(app, invocation, &mut report).await;
    restore_waiting_clones(app, invocation, &mut report).await;
    remove_orphans(app, &mut report).await;
    refresh_and_measure(app, &config, &mut report).await;
    Ok(report)
}

/// What a dry run reports: the plan, and for each root that nothing was changed.
async fn dry_run_report(
    app: &Context,
    config: &MaintenanceConfig,
) -> Result<MaintenanceReport, MaintainError> {
    let plan = plan_only(app, config).await?;
    Ok(MaintenanceReport {
        dry_run: true,
        config_problems: config.problems.clone(),
        roots: plan
            .roots
            .iter()
            .map(|root| RootReport {
                cluster_id: root.cluster_id.clone(),
                dry_run: true,
                ..RootReport::default()
            })
            .collect(),
        plan,
        finished: Vec::new(),
        still_unfinished: Vec::new(),
        orphans_removed: Vec::new(),
        refreshes_started: Vec::new(),
        failures: Vec::new(),
    })
}

/// The root leases a run took, and those it could not take, with how long each waited
/// (milliseconds).
struct RootLeases {
    held: BTreeMap<String, (Lease, u64)>,
    failed: BTreeMap<String, (String, u64)>,
}

/// Takes the lease of every root the run may change (not the dry-run ones), a few at once.
async fn take_root_leases(app: &Context, config: &MaintenanceConfig) -> RootLeases {
    let leases = app.leases();
    let live_targets: Vec<&RootTarget> = config
        .targets
        .iter()
        .filter(|target| !target.dry_run)
        .collect();
    let acquired: Vec<(String, Result<Lease, String>, u64)> = futures::stream::iter(live_targets)
        .map(|target| {
            let leases = leases.clone();
            async move {
                let started = tokio::time::Instant::now();
                let lease = leases
                    .acquire(&target.cluster_id, None, app.config.lease_wait)
                    .await
                    .map_err(|error| error.to_string());
                (
                    target.cluster_id.clone(),
                    lease,
                    started.elapsed().as_millis() as u64,
                )
            }
        })
        .buffer_unordered(app.config.maintenance_concurrency)
        .collect()
        .await;
    let mut taken = RootLeases {
        held: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    for (cluster_id, lease, waited) in acquired {
        match lease {
            Ok(lease) => {
                taken.held.insert(cluster_id, (lease, waited));
            }
            Err(error) => {
                taken.failed.insert(cluster_id, (error, waited));
            }
        }
    }
    taken
}

/// Carries out each root's plan under its lease, a few roots at once, and releases the
/// leases; one root's failure is its own report's and does not stop the others.
async fn execute_roots(
    app: &Context,
    plan: &MaintenancePlan,
    leases: RootLeases,
) -> Vec<RootReport> {
    let mut reports: Vec<RootReport> = futures::stream::iter(plan.roots.iter())
        .map(|root_plan| {
            let lease = leases.held.get(&root_plan.cluster_id).cloned();
            let lease_failure = leases.failed.get(&root_plan.cluster_id).cloned();
            async move {
                let mut report = RootReport {
                    cluster_id: root_plan.cluster_id.clone(),
                    dry_run: root_plan.dry_run,
                    ..RootReport::default()
                };
                if let Some(problem) = &root_plan.problem {
                    report.failures.push(problem.clone());
                } else if root_plan.dry_run {
                    tracing::info!(root = %root_plan.cluster_id, "dry run: nothing changed");
                } else if let Some((error, waited)) = lease_failure {
                    report.lease_wait_ms = waited;
                    report.failures.push(error);
                } else if let Some((_, waited)) = &lease {
                    report.lease_wait_ms = *waited;
                    execute_root(app, root_plan, &mut report).await;
                }
                if let Some((lease, _)) = lease {
                    release(app, lease).await;
                }
                for failure in &report.failures {
                    tracing::error!(root = %report.cluster_id, %failure, "maintenance failure");
                }
                report
            }
        })
        .buffer_unordered(app.config.maintenance_concurrency)
        .collect()
        .await;
    reports.sort_by(|a, b| a.cluster_id.cmp(&b.cluster_id));
    reports
}

/// Follows every copy the run started until it has its instance (or hands it over).
async fn follow_new_copies(app: &Context, invocation: &Invocation, report: &MaintenanceReport) {
    for copy_id in report
        .roots
        .iter()
        .flat_map(|root| root.copies_created.iter())
    {
        finish::start_chain(app, invocation, copy_id, COPY_READY_WITHIN).await;
    }
}

/// Starts the refreshes that are due and publishes the run's metrics and the pools' cost,
/// from one read of the clusters as the run left them.
async fn refresh_and_measure(
    app: &Context,
    config: &MaintenanceConfig,
    report: &mut MaintenanceReport,
) {
    let root_ids: Vec<String> = report
        .roots
        .iter()
        .map(|root| root.cluster_id.clone())
        .collect();
    let schedules = refresh_schedules(config);
    let after_run = if schedules.is_empty() && root_ids.is_empty() {
        None
    } else {
        match load_inventory(app.ports.rds.as_ref()).await {
            Ok(inventory) => Some(inventory),
            Err(error) => {
                if schedules.is_empty() {
                    tracing::warn!(%error, "could not read the clusters for the pool cost metrics");
                } else {
                    report
                        .failures
                        .push(format!("reading clusters for due refreshes: {error}"));
                }
                None
            }
        }
    };
    if let Some(inventory) = &after_run {
        start_due_refreshes(app, inventory, &schedules, report).await;
    }
    emit_metrics(app, report).await;
    if let Some(inventory) = &after_run
        && !root_ids.is_empty()
    {
        crate::run::machinery::cost::emit_pool_cost_metrics(
            app,
            inventory,
            &root_ids,
            &config.prices,
        )
        .await;
    }
}

fn refresh_schedules(config: &MaintenanceConfig) -> Vec<RefreshSchedule> {
    config
        .targets
        .iter()
        .filter(|target| !target.dry_run)
        .filter_map(|target| {
            Some(RefreshSchedule {
                root_id: target.cluster_id.clone(),
                every: target.refresh_schedule?,
                max_concurrent: target
                    .max_concurrent_refreshes
                    .unwrap_or(DEFAULT_MAX_CONCURRENT_REFRESHES),
            })
        })
        .collect()
}

/// Starts a refresh in place of every clone whose root has a `:refresh-schedule` and whose
/// data is older than it; the sweeps move each one on until the new clone is in place.
async fn start_due_refreshes(
    app: &Context,
    inventory: &Inventory,
    schedules: &[RefreshSchedule],
    report: &mut MaintenanceReport,
) {
    if schedules.is_empty() {
        return;
    }
    let due = crate::plan::refresh::due_refreshes(
        inventory.clusters(),
        &app.config.stack_name,
        schedules,
        app.now(),
    );
    for clone_id in due {
        match crate::run::workflows::refresh::refresh(app, &clone_id, false).await {
            Ok(_) => report.refreshes_started.push(clone_id),
            Err(error) => report
                .failures
                .push(format!("refreshing {clone_id}: {error}")),
        }
    }
}

async fn release(app: &Context, lease: Lease) {
    if let Err(error) = app.leases().release(lease).await {
        tracing::warn!(%error, "could not release a lease; it will expire");
    }
}

async fn execute_root(app: &Context, plan: &RootPlan, report: &mut RootReport) {
    for purge in &plan.purge {
        match teardown::delete_copy(app, &purge.cluster_id).await {
            Ok(_) => {
                tracing::info!(copy = %purge.cluster_id, reason = %purge.reason, "purged an obsolete copy");
                report.copies_purged.push(purge.cluster_id.clone());
            }
            Err(error) if error.is_not_yet() => {
                tracing::info!(copy = %purge.cluster_id, %error, "an obsolete copy is deleted on a later run");
                report.copies_starting.push(purge.cluster_id.clone());
            }
            Err(error) => report.failures.push(error.to_string()),
        }
    }
    for copy in &plan.copies {
        match restore_or_adopt(app, &copy.restore).await {
            Ok(_) => {
                tracing::info!(copy = %copy.cluster_id, root = %plan.cluster_id, "started a copy");
                report.copies_created.push(copy.cluster_id.clone());
                if let Err(error) = try_create_instance(app, &copy.instance).await {
                    report.failures.push(error.to_string());
                }
            }
            Err(error) => report
                .failures
                .push(format!("starting copy {}: {error}", copy.cluster_id)),
        }
    }
}

/// Gives every unfinished cluster one finisher pass; copies just started are left to the
/// next pass because they cannot take their instance yet.
async fn sweep_unfinished(app: &Context, invocation: &Invocation, report: &mut MaintenanceReport) {
    let targets: Vec<String> = report.plan.unfinished.clone();
    let outcomes: Vec<(String, FinishOutcome)> = futures::stream::iter(targets)
        .map(|cluster_id| async move {
            let job = finish::sweep_job(app, &cluster_id);
            let outcome =
                finish::run(app, invocation, job, FinishMode::OnePass, None, &|_| {}).await;
            (cluster_id, outcome)
        })
        .buffer_unordered(app.config.maintenance_concurrency)
        .collect()
        .await;
    for (cluster_id, outcome) in outcomes {
        match outcome {
            FinishOutcome::Ready(_) => report.finished.push(cluster_id),
            FinishOutcome::Failed(reason) => report
                .failures
                .push(format!("finishing {cluster_id}: {reason}")),
            _ => report.still_unfinished.push(cluster_id),
        }
    }
}

/// Gives every clone waiting for a copy one pass: restored once its copy is ready (the
/// chain that followed the copy may have stopped long before).
async fn restore_waiting_clones(
    app: &Context,
    invocation: &Invocation,
    report: &mut MaintenanceReport,
) {
    match deferred::resume(app, invocation, None).await {
        Ok(outcomes) => {
            for (cluster_id, outcome) in outcomes {
                match outcome {
                    FinishOutcome::Failed(reason) => report
                        .failures
                        .push(format!("restoring waiting clone {cluster_id}: {reason}")),
                    _ => report.still_unfinished.push(cluster_id),
                }
            }
        }
        Err(error) => report
            .failures
            .push(format!("reading the clones waiting for a copy: {error}")),
    }
}

async fn remove_orphans(app: &Context, report: &mut MaintenanceReport) {
    for secret in report.plan.orphaned_secrets.clone() {
        match app.ports.secrets.delete_secret(&secret.arn).await {
            Ok(()) => report.orphans_removed.push(secret.name),
            Err(error) => report
                .failures
                .push(format!("removing orphaned secret {}: {error}", secret.name)),
        }
    }
    for key in report.plan.orphaned_keys.clone() {
        let mut scratch = TeardownReport::default();
        let removed = async {
            teardown::schedule_disposable_key_deletion(app, &key.key_id, &mut scratch).await?;
            match &key.alias {
                Some(alias) => app.ports.keys.delete_alias(alias).await,
                None => Ok(()),
            }
        }
        .await;
        let name = key.alias.clone().unwrap_or_else(|| key.key_id.clone());
        match removed {
            Ok(()) => report.orphans_removed.push(name),
            Err(error) => report
                .failures
                .push(format!("removing orphaned key {name}: {error}")),
        }
    }
}

/// One EMF line per root, computed from the plan and what was done, and one line with the
/// run's failures.
async fn emit_metrics(app: &Context, report: &MaintenanceReport) {
    let now = app.now();
    let mut total_failures = report.failures.len() as u32;
    for root in &report.roots {
        let plan = report
            .plan
            .roots
            .iter()
            .find(|plan| plan.cluster_id == root.cluster_id);
        let metrics = root_metrics(plan, root);
        total_failures += metrics.failures;
        app.metrics
            .emit(metrics::root_line(&app.config.stack_name, &metrics, now));
    }
    app.metrics.emit(metrics::failures_line(
        &app.config.stack_name,
        total_failures,
        now,
    ));
}

fn root_metrics(plan: Option<&RootPlan>, root: &RootReport) -> RootMetrics {
    let created = root.copies_created.len() as u32;
    let purged = root.copies_purged.len() as u32;
    let mut metrics = RootMetrics {
        source_cluster_id: root.cluster_id.clone(),
        copies_created: created,
        copies_purged: purged,
        failures: root.failures.len() as u32,
        ..RootMetrics::default()
    };
    if let Some(pool) = plan.and_then(|plan| plan.pool.as_ref()) {
        metrics.free_clone_slots =
            plan.map_or(0, |plan| plan.free_slots) + created * pool.max_clones_per_source;
        metrics.copies = (pool.copies.len() as u32 + created).saturating_sub(purged);
        metrics.clones =
            pool.root.used_slots + pool.copies.iter().map(|copy| copy.used_slots).sum::<u32>();
        metrics.full_copy_fallbacks = std::iter::once(&pool.root)
            .chain(pool.copies.iter())
            .map(|source| source.full_copy_fallbacks.len() as u32)
            .sum();
    }
    metrics
}
