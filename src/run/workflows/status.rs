//! The pool as people want to see it: each root and its copies with age, data time,
//! state and free slots, and the clones of each, with what each runs on and an estimated
//! monthly cost from the maintenance config's price table.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::{AwsError, ClusterInfo};
use crate::model::tags::{self, Role};
use crate::plan::cost::{CostEstimate, PoolCost, PriceTable, pool_cost, sum_pools};
use crate::plan::inventory::{Inventory, data_timestamp};
use crate::plan::pool::{FreshnessRule, PoolView, SourceKind};
use crate::run::machinery::context::Context;
use crate::run::machinery::cost::{ClusterCost, cluster_costs};
use crate::run::machinery::inventory::{ConfigSource, load_inventory, load_maintenance_config};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub stack: String,
    pub taken_at: DateTime<Utc>,
    pub roots: Vec<RootStatus>,
    /// Roots asked about that do not exist.
    pub missing: Vec<String>,
    /// The prices the estimates are made from.
    pub prices: PriceTable,
    /// This deployment's copies and clones of every root shown, summed (estimate).
    pub pool_cost: PoolCost,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootStatus {
    pub root_id: String,
    /// Free slots on the root and its fresh copies: what can be cloned without a new copy.
    pub free_slots: u32,
    pub pool: PoolView,
    /// The root and its copies: what they run on, their age and their estimated cost.
    pub sources: Vec<SourceStatus>,
    pub clones: Vec<CloneStatus>,
    /// This deployment's copies and clones of this root, summed (estimate; the root's own
    /// cost is not in it).
    pub pool_cost: PoolCost,
}

/// The root or one of its copies, beside its clone slots in [`PoolView`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    pub cluster_id: String,
    pub kind: SourceKind,
    /// Instance classes or the Serverless v2 range: `db.r6g.large`, `db.serverless 0.5-4 ACU`.
    pub capacity: String,
    pub created_at: Option<DateTime<Utc>>,
    /// Seconds since the cluster was made.
    pub age_seconds: Option<i64>,
    /// Seconds since its data was taken from the root (none for the root: its data is live).
    pub data_age_seconds: Option<i64>,
    pub monthly_cost: CostEstimate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneStatus {
    pub cluster_id: String,
    pub source_id: String,
    pub status: String,
    pub state: Option<String>,
    pub instance_class: Option<String>,
    pub data_timestamp: Option<DateTime<Utc>>,
    /// `DbClusterResourceId`, which IAM database authentication names: a refresh gives
    /// the clone a new one (stack outputs change only on the stack's next Update).
    pub resource_id: Option<String>,
    /// Made by this deployment (others' clones in a clone group are shown too).
    pub managed: bool,
    /// When the sweep deletes it (its `expires-at` tag), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Until when it is protected from expiry and idle stop, if it is.
    pub protected_until: Option<DateTime<Utc>>,
    /// Instance classes or the Serverless v2 range.
    pub capacity: String,
    pub created_at: Option<DateTime<Utc>>,
    /// Seconds since the clone was made.
    pub age_seconds: Option<i64>,
    /// Seconds since its data was taken.
    pub data_age_seconds: Option<i64>,
    pub monthly_cost: CostEstimate,
}

/// The status of one root, or of every root this deployment knows (configured, or
/// referenced by its copies and clones).
pub async fn status(
    app: &Context,
    source_cluster_id: Option<&str>,
) -> Result<StatusReport, AwsError> {
    let inventory = load_inventory(app.ports.rds.as_ref()).await?;
    let config = match load_maintenance_config(
        app.ports.params.as_ref(),
        &app.config.maintenance_config_parameter,
        &ConfigSource::Parameter,
    )
    .await
    {
        Ok(config) => Some(config),
        Err(error) => {
            tracing::warn!(%error, "maintenance config unreadable: default prices are used");
            None
        }
    };
    let prices = config
        .as_ref()
        .map(|config| config.prices.clone())
        .unwrap_or_default();
    let mut root_ids: BTreeSet<String> = BTreeSet::new();
    match source_cluster_id {
        Some(id) => {
            root_ids.insert(id.to_string());
        }
        None => {
            if let Some(config) = config {
                root_ids.extend(config.targets.into_iter().map(|target| target.cluster_id));
            }
            let arns = inventory.ids_by_arn();
            for cluster in inventory
                .managed(&app.config.stack_name, Role::Copy)
                .into_iter()
                .chain(inventory.managed(&app.config.stack_name, Role::Clone))
            {
                if let Some(root_id) = cluster.tag(tags::ROOT_ARN).and_then(|arn| arns.get(arn)) {
                    root_ids.insert(root_id.to_string());
                }
            }
        }
    }
    let (pools, missing) = build_pools(app, &inventory, root_ids);
    let clusters: Vec<&ClusterInfo> = pools
        .iter()
        .flat_map(|(root, pool)| {
            std::iter::once(*root)
                .chain(
                    pool.copies
                        .iter()
                        .filter_map(|copy| inventory.cluster(&copy.cluster_id)),
                )
                .chain(
                    clones_of(&inventory, pool)
                        .into_iter()
                        .map(|(clone, _)| clone),
                )
        })
        .collect();
    let costs = cluster_costs(app, &clusters, &prices).await;
    let roots: Vec<RootStatus> = pools
        .into_iter()
        .map(|(root, pool)| root_status(app, &inventory, root, pool, &costs, &prices))
        .collect();
    let total = sum_pools(roots.iter().map(|root| &root.pool_cost), &prices.currency);
    Ok(StatusReport {
        stack: app.config.stack_name.clone(),
        taken_at: app.now(),
        roots,
        missing,
        pool_cost: total,
        prices,
    })
}

/// The pool of each root that exists, and the ids of those that do not.
fn build_pools<'a>(
    app: &Context,
    inventory: &'a Inventory,
    root_ids: BTreeSet<String>,
) -> (Vec<(&'a ClusterInfo, PoolView)>, Vec<String>) {
    let rule = FreshnessRule {
        max_copy_age: app.config.max_copy_age,
        created_since: None,
    };
    let mut pools = Vec::new();
    let mut missing = Vec::new();
    for root_id in root_ids {
        let Some(root) = inventory.cluster(&root_id) else {
            missing.push(root_id);
            continue;
        };
        let pool = PoolView::build(
            inventory,
            root,
            &app.config.stack_name,
            app.config.max_clones_per_source,
            rule,
            app.now(),
        );
        pools.push((root, pool));
    }
    (pools, missing)
}

/// Every clone of the root and of its copies, with the id of its source.
fn clones_of<'a>(inventory: &'a Inventory, pool: &PoolView) -> Vec<(&'a ClusterInfo, String)> {
    std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .flat_map(|source| {
            source.clone_ids.iter().filter_map(|clone_id| {
                inventory
                    .cluster(clone_id)
                    .map(|clone| (clone, source.cluster_id.clone()))
            })
        })
        .collect()
}

fn root_status(
    app: &Context,
    inventory: &Inventory,
    root: &ClusterInfo,
    pool: PoolView,
    costs: &BTreeMap<String, ClusterCost>,
    prices: &PriceTable,
) -> RootStatus {
    let now = app.now();
    let cost_of = |cluster_id: &str| {
        costs
            .get(cluster_id)
            .cloned()
            .expect("every cluster shown was priced")
    };
    let sources: Vec<SourceStatus> = std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .map(|source| {
            let cluster = inventory.cluster(&source.cluster_id);
            let created_at = cluster.and_then(|cluster| cluster.created_at);
            let cost = cost_of(&source.cluster_id);
            SourceStatus {
                cluster_id: source.cluster_id.clone(),
                kind: source.kind,
                capacity: cost.capacity,
                created_at,
                age_seconds: created_at.map(|at| (now - at).num_seconds()),
                data_age_seconds: source.age_seconds,
                monthly_cost: cost.monthly_cost,
            }
        })
        .collect();
    let clones: Vec<CloneStatus> = clones_of(inventory, &pool)
        .into_iter()
        .map(|(clone, source_id)| clone_status(app, clone, &source_id, cost_of(&clone.id)))
        .collect();
    let pooled = sources
        .iter()
        .filter(|source| source.kind == SourceKind::Copy)
        .map(|source| (source.cluster_id.as_str(), &source.monthly_cost))
        .chain(
            clones
                .iter()
                .filter(|clone| clone.managed)
                .map(|clone| (clone.cluster_id.as_str(), &clone.monthly_cost)),
        );
    let pool_cost = pool_cost(pooled, &prices.currency);
    RootStatus {
        root_id: root.id.clone(),
        free_slots: pool.free_slots(),
        pool,
        sources,
        clones,
        pool_cost,
    }
}

fn clone_status(
    app: &Context,
    clone: &ClusterInfo,
    source_id: &str,
    cost: ClusterCost,
) -> CloneStatus {
    let now = app.now();
    let lifecycle = crate::plan::sweep::CloneLifecycle::of(clone);
    let data_timestamp = data_timestamp(clone);
    CloneStatus {
        cluster_id: clone.id.clone(),
        source_id: source_id.to_string(),
        status: clone.status.to_string(),
        state: clone.tag(tags::STATE).map(str::to_string),
        instance_class: clone.tag(tags::INSTANCE_CLASS).map(str::to_string),
        data_timestamp,
        resource_id: clone.resource_id.clone(),
        managed: tags::managed_role(clone, &app.config.stack_name).is_some(),
        expires_at: lifecycle.expires_at,
        protected_until: lifecycle.protected_until,
        capacity: cost.capacity,
        created_at: clone.created_at,
        age_seconds: clone.created_at.map(|at| (now - at).num_seconds()),
        data_age_seconds: data_timestamp.map(|at| (now - at).num_seconds()),
        monthly_cost: cost.monthly_cost,
    }
}
