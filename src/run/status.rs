//! The pool as people want to see it: each root and its copies with age, data time,
//! state and free slots, and the clones of each.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::{AwsError, ClusterInfo};
use crate::plan::inventory::{Inventory, data_timestamp};
use crate::plan::pool::{FreshnessRule, PoolView};
use crate::plan::tags::{self, Role};
use crate::run::context::Context;
use crate::run::inventory::{ConfigSource, load_inventory, load_maintenance_config};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub stack: String,
    pub taken_at: DateTime<Utc>,
    pub roots: Vec<RootStatus>,
    /// Roots asked about that do not exist.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootStatus {
    pub root_id: String,
    /// Free slots on the root and its fresh copies: what can be cloned without a new copy.
    pub free_slots: u32,
    pub pool: PoolView,
    pub clones: Vec<CloneStatus>,
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
    /// Made by this deployment (others' clones in a clone group are shown too).
    pub managed: bool,
    /// When the sweep deletes it (its `expires-at` tag), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Until when it is protected from expiry and idle stop, if it is.
    pub protected_until: Option<DateTime<Utc>>,
}

/// The status of one root, or of every root this deployment knows (configured, or
/// referenced by its copies and clones).
pub async fn status(
    app: &Context,
    source_cluster_id: Option<&str>,
) -> Result<StatusReport, AwsError> {
    let inventory = load_inventory(app.ports.rds.as_ref()).await?;
    let mut root_ids: BTreeSet<String> = BTreeSet::new();
    match source_cluster_id {
        Some(id) => {
            root_ids.insert(id.to_string());
        }
        None => {
            if let Ok(config) = load_maintenance_config(
                app.ports.params.as_ref(),
                &app.config.maintenance_config_parameter,
                &ConfigSource::Parameter,
            )
            .await
            {
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
    Ok(build_report(app, &inventory, root_ids))
}

fn build_report(app: &Context, inventory: &Inventory, root_ids: BTreeSet<String>) -> StatusReport {
    let now = app.now();
    let rule = FreshnessRule {
        max_copy_age: app.config.max_copy_age,
        created_since: None,
    };
    let mut roots = Vec::new();
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
            now,
        );
        let mut clones = Vec::new();
        for source in std::iter::once(&pool.root).chain(pool.copies.iter()) {
            for clone_id in &source.clone_ids {
                if let Some(clone) = inventory.cluster(clone_id) {
                    clones.push(clone_status(app, clone, &source.cluster_id));
                }
            }
        }
        roots.push(RootStatus {
            root_id: root.id.clone(),
            free_slots: pool.free_slots(),
            pool,
            clones,
        });
    }
    StatusReport {
        stack: app.config.stack_name.clone(),
        taken_at: now,
        roots,
        missing,
    }
}

fn clone_status(app: &Context, clone: &ClusterInfo, source_id: &str) -> CloneStatus {
    let lifecycle = crate::plan::sweep::CloneLifecycle::of(clone);
    CloneStatus {
        cluster_id: clone.id.clone(),
        source_id: source_id.to_string(),
        status: clone.status.clone(),
        state: clone.tag(tags::STATE).map(str::to_string),
        instance_class: clone.tag(tags::INSTANCE_CLASS).map(str::to_string),
        data_timestamp: data_timestamp(clone),
        managed: tags::managed_role(clone, &app.config.stack_name).is_some(),
        expires_at: lifecycle.expires_at,
        protected_until: lifecycle.protected_until,
    }
}
