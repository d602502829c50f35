//! The maintenance plan: per configured root, which obsolete copies to purge and how many
//! copies to make so that the pool keeps its target of free clone slots; plus the clusters
//! left unfinished and the secrets and keys whose cluster is gone.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::plan::capacity::{CapacityField, CapacityRequest, choose_capacity};
use crate::plan::inventory::Inventory;
use crate::plan::pool::{FreshnessRule, PoolView};
use crate::plan::provision::{
    CopyInstance, CopyPlan, PurgePlan, plan_copies, plan_purges, root_named_like_ours,
};
use aurora_clone_model::config::Config;
use aurora_clone_model::naming;
use aurora_clone_model::tags::{self, LifecycleState, Role};
use aurora_clone_model::{KeyAlias, SecretSummary, StrayKey};

/// What maintenance keeps for one root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootTarget {
    pub cluster_id: String,
    pub target_clone_slots: u32,
    pub dry_run: bool,
    pub max_copy_age: Option<TimeDelta>,
    pub instance_class: Option<String>,
    pub purge_obsolete_copies: bool,
    pub max_clones_per_source: Option<u32>,
    /// How long clones of this root made outside CloudFormation live (`:clone-ttl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clone_ttl: Option<TimeDelta>,
    /// A Serverless v2 capacity range for new copies (`:copy-capacity`), instead of
    /// `instance_class`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_capacity: Option<CapacityRequest>,
    /// Clones of this root whose data is older than this are refreshed in place by the
    /// maintenance run (`:refresh-schedule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_schedule: Option<TimeDelta>,
    /// At most this many refreshes of this root's clones at once
    /// (`:max-concurrent-refreshes`; default `DEFAULT_MAX_CONCURRENT_REFRESHES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_refreshes: Option<u32>,
}

/// Everything maintenance looks at besides the inventory.
#[derive(Debug, Clone, Copy)]
pub struct MaintenanceInput<'a> {
    pub inventory: &'a Inventory,
    pub targets: &'a [RootTarget],
    pub config: &'a Config,
    /// This deployment's secrets (tagged with its stack).
    pub secrets: &'a [SecretSummary],
    /// This deployment's disposable key aliases.
    pub key_aliases: &'a [KeyAlias],
    /// This deployment's disposable keys that no alias points at.
    pub stray_keys: &'a [StrayKey],
    /// Clones recorded as waiting for a copy: no cluster yet, but their secret and key
    /// are in use.
    pub waiting_clone_ids: &'a [String],
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenancePlan {
    pub roots: Vec<RootPlan>,
    /// Managed clusters not finished yet (instance, password or announcement missing).
    pub unfinished: Vec<String>,
    pub orphaned_secrets: Vec<OrphanedSecret>,
    pub orphaned_keys: Vec<OrphanedKey>,
}

impl MaintenancePlan {
    /// Whether carrying out the plan would change anything.
    pub fn changes_nothing(&self) -> bool {
        self.roots
            .iter()
            .all(|root| root.dry_run || (root.purge.is_empty() && root.copies.is_empty()))
            && self.unfinished.is_empty()
            && self.orphaned_secrets.is_empty()
            && self.orphaned_keys.is_empty()
    }
}

/// What to do for one root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootPlan {
    pub cluster_id: String,
    pub dry_run: bool,
    pub target_clone_slots: u32,
    /// Free slots now, counting copies still being made and not counting obsolete ones.
    pub free_slots: u32,
    pub free_slots_after: u32,
    pub purge: Vec<PurgePlan>,
    pub copies: Vec<CopyPlan>,
    /// Why nothing can be done for this root, if so.
    pub problem: Option<String>,
    pub pool: Option<PoolView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanedSecret {
    pub arn: String,
    pub name: String,
    pub cluster_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanedKey {
    /// `None` for a key whose create was interrupted before it got its alias.
    pub alias: Option<String>,
    pub key_id: String,
    pub cluster_id: String,
}

/// Plans one maintenance run.
pub fn plan_maintenance(input: MaintenanceInput<'_>) -> MaintenancePlan {
    let roots = input
        .targets
        .iter()
        .map(|target| plan_root(input, target))
        .collect();
    let stack = &input.config.stack_name;
    let unfinished = input
        .inventory
        .clusters()
        .iter()
        .filter(|cluster| tags::managed_role(cluster, stack).is_some())
        .filter(|cluster| !cluster.is_deleting())
        .filter(|cluster| {
            matches!(
                tags::lifecycle_state(cluster),
                Some(LifecycleState::Pending | LifecycleState::PasswordSet)
            ) || (tags::managed_role(cluster, stack) == Some(Role::Copy)
                && cluster.is_available()
                && cluster.members.is_empty())
        })
        .map(|cluster| cluster.id.clone())
        .collect();
    let old_enough = |created: Option<DateTime<Utc>>| {
        created.is_some_and(|at| input.now - at >= input.config.orphan_grace)
    };
    // A secret is an orphan when its clone is gone, or when its clone uses another secret
    // (an interrupted create made this one, and its replay made the one in use).
    // A refresh in progress moves its clone's secret from the old cluster to the new one.
    let refreshing = crate::plan::refresh::in_refresh(input.inventory.clusters());
    let orphaned_secrets = input
        .secrets
        .iter()
        .filter(|secret| secret.tags.get(tags::STACK) == Some(stack))
        .filter_map(|secret| {
            let cluster_id = secret.tags.get(tags::CLUSTER)?;
            if refreshing.contains(cluster_id) {
                return None;
            }
            let abandoned = match input.inventory.cluster(cluster_id) {
                None => !input.waiting_clone_ids.contains(cluster_id),
                Some(cluster) => {
                    tags::managed_role(cluster, stack).is_some()
                        && cluster.tag(tags::PASSWORD_SECRET) != Some(secret.name.as_str())
                }
            };
            (abandoned && old_enough(secret.created_at)).then(|| OrphanedSecret {
                arn: secret.arn.clone(),
                name: secret.name.clone(),
                cluster_id: cluster_id.clone(),
            })
        })
        .collect();
    let alias_prefix = naming::disposable_key_alias_prefix(stack);
    let mut orphaned_keys: Vec<OrphanedKey> = input
        .key_aliases
        .iter()
        .filter_map(|alias| {
            let cluster_id = alias.alias_name.strip_prefix(&alias_prefix)?;
            let key_id = alias.key_id.clone()?;
            let gone = input.inventory.cluster(cluster_id).is_none()
                && !input.waiting_clone_ids.iter().any(|id| id == cluster_id);
            (gone && old_enough(alias.created_at)).then(|| OrphanedKey {
                alias: Some(alias.alias_name.clone()),
                key_id,
                cluster_id: cluster_id.to_string(),
            })
        })
        .collect();
    orphaned_keys.extend(
        input
            .stray_keys
            .iter()
            .filter(|key| key.tags.get(tags::STACK) == Some(stack))
            .filter(|key| old_enough(key.created_at))
            .map(|key| OrphanedKey {
                alias: None,
                key_id: key.key_id.clone(),
                cluster_id: key.tags.get(tags::CLUSTER).cloned().unwrap_or_default(),
            }),
    );
    MaintenancePlan {
        roots,
        unfinished,
        orphaned_secrets,
        orphaned_keys,
    }
}

fn plan_root(input: MaintenanceInput<'_>, target: &RootTarget) -> RootPlan {
    let config = input.config;
    let mut plan = RootPlan {
        cluster_id: target.cluster_id.clone(),
        dry_run: target.dry_run,
        target_clone_slots: target.target_clone_slots,
        free_slots: 0,
        free_slots_after: 0,
        purge: Vec::new(),
        copies: Vec::new(),
        problem: None,
        pool: None,
    };
    let Some(root) = input.inventory.cluster(&target.cluster_id) else {
        plan.problem = Some(format!("cluster {} does not exist", target.cluster_id));
        return plan;
    };
    if let Some(role) = tags::managed_role(root, &config.stack_name) {
        plan.problem = Some(format!(
            "{} is one of this clone manager's {role}s, not a root; remove it from the config",
            root.id
        ));
        return plan;
    }
    if !root.is_aurora() {
        plan.problem = Some(format!(
            "{} is a {} cluster, not an Aurora cluster (aurora-mysql or aurora-postgresql); only Aurora clusters can be cloned; remove it from the config",
            root.id, root.engine
        ));
        return plan;
    }
    if let Some(problem) = root_named_like_ours(&root.id, config) {
        plan.problem = Some(problem);
        return plan;
    }
    let max_clones = target
        .max_clones_per_source
        .unwrap_or(config.max_clones_per_source);
    let max_copy_age: TimeDelta = target.max_copy_age.unwrap_or(config.max_copy_age);
    let pool = PoolView::build(
        input.inventory,
        root,
        &config.stack_name,
        max_clones,
        FreshnessRule {
            max_copy_age,
            created_since: None,
        },
        input.now,
    );
    if target.purge_obsolete_copies {
        plan.purge = plan_purges(&pool, input.inventory, None);
    }
    plan.free_slots = pool.free_slots();
    let deficit = target.target_clone_slots.saturating_sub(plan.free_slots);
    let copies_needed = deficit.div_ceil(max_clones) as usize;
    let instance = match &target.copy_capacity {
        Some(wanted) => match choose_capacity(root, wanted) {
            Ok(choice) => CopyInstance::Serverless(choice),
            Err(problem) => {
                plan.problem = Some(format!(
                    "copy-capacity {}: {problem}",
                    capacity_key(problem.field)
                ));
                return plan;
            }
        },
        None => CopyInstance::Class(
            target
                .instance_class
                .clone()
                .unwrap_or_else(|| config.copy_instance_class.clone()),
        ),
    };
    plan.copies = plan_copies(
        root,
        config,
        &instance,
        input.now,
        copies_needed,
        input.inventory,
    );
    plan.free_slots_after = plan.free_slots + max_clones * plan.copies.len() as u32;
    plan.pool = Some(pool);
    plan
}

/// The maintenance config's key for one part of `:copy-capacity`.
fn capacity_key(field: CapacityField) -> &'static str {
    match field {
        CapacityField::Min => ":min",
        CapacityField::Max => ":max",
        CapacityField::AutoPause => ":auto-pause",
    }
}
