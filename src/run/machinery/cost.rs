//! What clusters cost, for `status` and the maintenance run's metrics: the classes of their
//! instances (this deployment's `instance-class` tag, else DescribeDBInstances of that
//! cluster), the newest `VolumeBytesUsed` of every cluster (one GetMetricData call per 500
//! clusters), and the planner's arithmetic over the price table.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::Serialize;

use crate::aws::ClusterInfo;
use crate::metrics::{self, PoolCostMetrics};
use crate::model::tags::{self, Role};
use crate::plan::cost::{CostEstimate, CostInput, PriceTable, capacity_text, estimate, pool_cost};
use crate::plan::inventory::Inventory;
use crate::run::machinery::context::Context;

/// How far back `VolumeBytesUsed` is read: Aurora evaluates the volume's size for billing
/// every hour (Aurora user guide, "Managing performance and scaling for Aurora DB
/// clusters", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Performance.html),
/// so a day holds many points; the newest is used. A cluster without a point in a day
/// (made moments ago) has its storage shown as unknown.
pub const VOLUME_LOOKBACK: TimeDelta = TimeDelta::hours(24);

/// One cluster's capacity and estimated monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCost {
    /// `db.r6g.large`, `db.serverless 0.5-4 ACU`, `no instance`, ...
    pub capacity: String,
    pub monthly_cost: CostEstimate,
}

/// The cost of each of `clusters`, by cluster id. AWS errors never fail the caller: what
/// could not be read is priced as unknown, with the reason.
pub async fn cluster_costs(
    app: &Context,
    clusters: &[&ClusterInfo],
    prices: &PriceTable,
) -> BTreeMap<String, ClusterCost> {
    let now = app.now();
    let ids: Vec<String> = clusters.iter().map(|cluster| cluster.id.clone()).collect();
    let (classes, volumes) = tokio::join!(
        instance_classes(app, clusters),
        app.ports
            .metrics
            .latest_volume_bytes(&ids, now - VOLUME_LOOKBACK, now)
    );
    let (volumes, volume_error) = match volumes {
        Ok(volumes) => (volumes, None),
        Err(error) => {
            tracing::warn!(%error, "could not read VolumeBytesUsed; storage costs are unknown");
            (BTreeMap::new(), Some(error.to_string()))
        }
    };
    clusters
        .iter()
        .map(|cluster| {
            let instance_classes = classes.get(&cluster.id).cloned().unwrap_or_default();
            let input = CostInput {
                instance_classes,
                scaling: cluster.serverless_v2_scaling,
                status: cluster.status.clone(),
                volume_bytes: volumes.get(&cluster.id).copied(),
            };
            let mut monthly_cost = estimate(&input, prices);
            if let Some(error) = &volume_error {
                for reason in &mut monthly_cost.unknown {
                    if reason.starts_with("storage:") {
                        *reason = format!("storage: VolumeBytesUsed could not be read ({error})");
                    }
                }
            }
            let cost = ClusterCost {
                capacity: capacity_text(&input.instance_classes, input.scaling),
                monthly_cost,
            };
            (cluster.id.clone(), cost)
        })
        .collect()
}

/// The class of each instance of each cluster: our tag names the class we gave every
/// instance of a copy or clone; other clusters (roots, others' clones) are asked, one call
/// each, at the same time. An instance whose class cannot be read is `None`.
async fn instance_classes(
    app: &Context,
    clusters: &[&ClusterInfo],
) -> BTreeMap<String, Vec<Option<String>>> {
    let mut classes = BTreeMap::new();
    let mut to_ask = Vec::new();
    for cluster in clusters {
        if cluster.members.is_empty() {
            classes.insert(cluster.id.clone(), Vec::new());
        } else if let Some(class) = cluster.tag(tags::INSTANCE_CLASS) {
            classes.insert(
                cluster.id.clone(),
                vec![Some(class.to_string()); cluster.members.len()],
            );
        } else {
            to_ask.push(*cluster);
        }
    }
    let lookups = to_ask.into_iter().map(|cluster| async move {
        let found = match app.ports.rds.describe_cluster_instances(&cluster.id).await {
            Ok(instances) if !instances.is_empty() => instances
                .into_iter()
                .map(|instance| Some(instance.instance_class))
                .collect(),
            Ok(_) => vec![None; cluster.members.len()],
            Err(error) => {
                tracing::warn!(cluster = %cluster.id, %error, "could not read instance classes");
                vec![None; cluster.members.len()]
            }
        };
        (cluster.id.clone(), found)
    });
    classes.extend(futures::future::join_all(lookups).await);
    classes
}

/// This deployment's copies and clones of `root`: its pool.
pub fn pool_clusters<'a>(
    inventory: &'a Inventory,
    root: &ClusterInfo,
    stack_name: &str,
) -> Vec<&'a ClusterInfo> {
    let mut clusters = inventory.copies_of(root, stack_name);
    clusters.extend(
        inventory
            .managed(stack_name, Role::Clone)
            .into_iter()
            .filter(|clone| clone.tag(tags::ROOT_ARN) == Some(root.arn.as_str())),
    );
    clusters
}

/// After a maintenance run: one EMF line per root with its pool's size and estimated
/// monthly cost, from `inventory` as read after the run's changes (it made and purged
/// copies), and the volumes of every root's pool in one GetMetricData call per 500 clusters.
pub async fn emit_pool_cost_metrics(
    app: &Context,
    inventory: &Inventory,
    root_ids: &[String],
    prices: &PriceTable,
) {
    let stack_name = &app.config.stack_name;
    let pools: Vec<(String, Vec<&ClusterInfo>)> = root_ids
        .iter()
        .filter_map(|root_id| inventory.cluster(root_id))
        .map(|root| (root.id.clone(), pool_clusters(inventory, root, stack_name)))
        .collect();
    let everything: Vec<&ClusterInfo> = pools
        .iter()
        .flat_map(|(_, clusters)| clusters.iter().copied())
        .collect();
    let costs = cluster_costs(app, &everything, prices).await;
    let now = app.now();
    for (root_id, clusters) in pools {
        let pool = pool_cost(
            clusters.iter().filter_map(|cluster| {
                costs
                    .get(&cluster.id)
                    .map(|cost| (cluster.id.as_str(), &cost.monthly_cost))
            }),
            &prices.currency,
        );
        let line = PoolCostMetrics {
            source_cluster_id: root_id,
            clusters: pool.clusters,
            storage_gb: pool.volume_gb,
            estimated_monthly_cost: pool.total.low,
            estimated_monthly_cost_max: pool.total.high,
            unpriced_clusters: pool.incomplete.len() as u32,
            currency: pool.currency,
        };
        app.metrics
            .emit(metrics::pool_cost_line(stack_name, &line, now));
    }
}
