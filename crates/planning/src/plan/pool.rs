//! The pool of one root: the root and this deployment's copies of it, with their clone
//! slots, ages and freshness. Shared by clone choice, maintenance and `status`.

use aurora_clone_model::ClusterStatus;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::inventory::{Inventory, data_timestamp};
use aurora_clone_model::ClusterInfo;
use aurora_clone_model::tags::{self, LifecycleState};

/// What makes a copy fresh enough to clone from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshnessRule {
    /// A copy whose data is this old or older is too old.
    pub max_copy_age: TimeDelta,
    /// When set, a copy must hold data taken after this moment.
    pub created_since: Option<DateTime<Utc>>,
}

/// Root or copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Root,
    Copy,
}

/// How a copy stands against a [`FreshnessRule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Freshness {
    Fresh,
    /// Its data is older than the maximum copy age.
    TooOld,
    /// Young enough, but its data was taken before the required `CopyCreatedSince`.
    BeforeRequiredTime,
    /// Its data timestamp is unknown, so it is never used.
    Unknown,
}

/// One clone source (the root or a copy) and its clone slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceView {
    pub cluster_id: String,
    pub arn: String,
    pub kind: SourceKind,
    pub status: ClusterStatus,
    pub data_timestamp: Option<DateTime<Utc>>,
    pub age_seconds: Option<i64>,
    pub used_slots: u32,
    /// No slot is free once AWS has turned a restore from it into a full copy, however
    /// few clones the count finds.
    pub free_slots: u32,
    /// Clones from this source that AWS made as full copies instead of clones.
    #[serde(default)]
    pub full_copy_fallbacks: Vec<String>,
    /// The clusters using its slots (ours and others').
    pub clone_ids: Vec<String>,
    pub clones_creating: u32,
    pub has_instance: bool,
    /// The class this deployment gave the source's instance (copies); `None` for the root,
    /// whose class only DescribeDBInstances knows.
    pub instance_class: Option<String>,
    pub freshness: Freshness,
    pub lifecycle_state: Option<LifecycleState>,
}

impl SourceView {
    /// Whether a restore can start from it right now.
    pub fn cloneable_now(&self) -> bool {
        self.status.is_cloneable() && self.has_instance
    }

    /// Whether it is a copy still being made (restoring, or waiting for its instance).
    pub fn in_preparation(&self) -> bool {
        self.kind == SourceKind::Copy
            && !matches!(self.status, ClusterStatus::Deleting)
            && !self.cloneable_now()
    }
}

/// The root and its copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    pub root: SourceView,
    pub copies: Vec<SourceView>,
    pub max_clones_per_source: u32,
}

impl PoolView {
    /// Builds the pool of `root` from the inventory, judging copies by `rule`.
    pub fn build(
        inventory: &Inventory,
        root: &ClusterInfo,
        stack_name: &str,
        max_clones_per_source: u32,
        rule: FreshnessRule,
        now: DateTime<Utc>,
    ) -> PoolView {
        let root_view = source_view(
            inventory,
            root,
            SourceKind::Root,
            max_clones_per_source,
            Freshness::Fresh,
            now,
        );
        let mut copies: Vec<SourceView> = inventory
            .copies_of(root, stack_name)
            .into_iter()
            .map(|copy| {
                let freshness = freshness(copy, rule, now);
                source_view(
                    inventory,
                    copy,
                    SourceKind::Copy,
                    max_clones_per_source,
                    freshness,
                    now,
                )
            })
            .collect();
        // Freshest first: that is the order clone choice prefers them in.
        copies.sort_by(|a, b| {
            b.data_timestamp
                .cmp(&a.data_timestamp)
                .then_with(|| a.cluster_id.cmp(&b.cluster_id))
        });
        PoolView {
            root: root_view,
            copies,
            max_clones_per_source,
        }
    }

    /// Copies that are fresh and not being deleted, including copies still being made.
    pub fn fresh_copies(&self) -> impl Iterator<Item = &SourceView> {
        self.copies.iter().filter(|copy| {
            copy.freshness == Freshness::Fresh
                && copy.status != ClusterStatus::Deleting
                && !copy.status.is_failed()
        })
    }

    /// Free slots of the root plus every fresh copy (including copies still being made):
    /// what the pool can serve without making another copy.
    pub fn free_slots(&self) -> u32 {
        let root_free = if self.root.status == ClusterStatus::Deleting {
            0
        } else {
            self.root.free_slots
        };
        root_free + self.fresh_copies().map(|copy| copy.free_slots).sum::<u32>()
    }

    /// Copies too old to keep, or failed (they never become a clone source), that can be
    /// deleted without disturbing a restore in progress.
    pub fn obsolete_copies(&self) -> impl Iterator<Item = &SourceView> {
        self.copies.iter().filter(|copy| {
            (copy.freshness == Freshness::TooOld || copy.status.is_failed())
                && !matches!(
                    copy.status,
                    ClusterStatus::Creating | ClusterStatus::Deleting
                )
                && copy.clones_creating == 0
        })
    }
}

/// The clone-slot rule, in one place: a source has `max_clones_per_source` slots less the
/// clusters using them (its whole clone group, and clusters tagged as cloned from it),
/// and none at all once AWS has turned a restore from it into a full copy.
pub fn free_clone_slots(
    inventory: &Inventory,
    source: &ClusterInfo,
    max_clones_per_source: u32,
) -> u32 {
    if !inventory.full_copy_fallbacks_of(source).is_empty() {
        return 0;
    }
    let used = u32::try_from(inventory.clones_using_slots_of(source).len()).unwrap_or(u32::MAX);
    max_clones_per_source.saturating_sub(used)
}

fn source_view(
    inventory: &Inventory,
    cluster: &ClusterInfo,
    kind: SourceKind,
    max_clones_per_source: u32,
    freshness: Freshness,
    now: DateTime<Utc>,
) -> SourceView {
    let clones = inventory.clones_using_slots_of(cluster);
    let used_slots = u32::try_from(clones.len()).unwrap_or(u32::MAX);
    let full_copy_fallbacks: Vec<String> = inventory
        .full_copy_fallbacks_of(cluster)
        .into_iter()
        .map(|clone| clone.id.clone())
        .collect();
    let free_slots = free_clone_slots(inventory, cluster, max_clones_per_source);
    let timestamp = match kind {
        SourceKind::Root => Some(now),
        SourceKind::Copy => data_timestamp(cluster),
    };
    SourceView {
        cluster_id: cluster.id.clone(),
        arn: cluster.arn.clone(),
        kind,
        status: cluster.status.clone(),
        data_timestamp: timestamp,
        age_seconds: match kind {
            SourceKind::Root => None,
            SourceKind::Copy => timestamp.map(|at| (now - at).num_seconds()),
        },
        used_slots,
        free_slots,
        full_copy_fallbacks,
        clones_creating: u32::try_from(clones.iter().filter(|clone| clone.is_creating()).count())
            .unwrap_or(u32::MAX),
        clone_ids: clones.iter().map(|clone| clone.id.clone()).collect(),
        has_instance: !cluster.members.is_empty(),
        instance_class: cluster.tag(tags::INSTANCE_CLASS).map(str::to_string),
        freshness,
        lifecycle_state: tags::lifecycle_state(cluster),
    }
}

/// How a copy stands against a freshness rule at `now`.
pub fn freshness(copy: &ClusterInfo, rule: FreshnessRule, now: DateTime<Utc>) -> Freshness {
    let Some(timestamp) = data_timestamp(copy) else {
        return Freshness::Unknown;
    };
    if now - timestamp >= rule.max_copy_age {
        return Freshness::TooOld;
    }
    match rule.created_since {
        Some(since) if timestamp <= since => Freshness::BeforeRequiredTime,
        _ => Freshness::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::testing::{cluster, copy_of, now, tagged_clone};

    fn rule(days: i64) -> FreshnessRule {
        FreshnessRule {
            max_copy_age: TimeDelta::days(days),
            created_since: None,
        }
    }

    #[test]
    fn copies_are_fresh_too_old_or_older_than_required() {
        let root = cluster("root");
        let young = copy_of("acm", "young", &root, now() - TimeDelta::hours(5));
        let old = copy_of("acm", "old", &root, now() - TimeDelta::days(4));
        assert_eq!(freshness(&young, rule(3), now()), Freshness::Fresh);
        assert_eq!(freshness(&old, rule(3), now()), Freshness::TooOld);
        let since = FreshnessRule {
            max_copy_age: TimeDelta::days(3),
            created_since: Some(now() - TimeDelta::hours(1)),
        };
        assert_eq!(
            freshness(&young, since, now()),
            Freshness::BeforeRequiredTime
        );
    }

    #[test]
    fn free_slots_sum_the_root_and_fresh_copies_including_copies_in_the_making() {
        let mut root = cluster("root");
        root.clone_group_id = Some("g-root".into());
        let mut clusters = vec![root.clone()];
        for index in 0..3 {
            let mut clone = tagged_clone("acm", &format!("c{index}"), &root);
            clone.clone_group_id = Some("g-root".into());
            clusters.push(clone);
        }
        let mut making = copy_of("acm", "making", &root, now());
        making.status = ClusterStatus::Creating;
        making.members.clear();
        clusters.push(making);
        clusters.push(copy_of("acm", "old", &root, now() - TimeDelta::days(5)));
        let inventory = Inventory::new(clusters);
        let pool = PoolView::build(&inventory, &root, "acm", 15, rule(3), now());
        assert_eq!(pool.root.used_slots, 3);
        assert_eq!(pool.free_slots(), 12 + 15);
        let obsolete: Vec<_> = pool
            .obsolete_copies()
            .map(|c| c.cluster_id.as_str())
            .collect();
        assert_eq!(obsolete, vec!["old"]);
        assert!(pool.copies[0].in_preparation());
    }

    #[test]
    fn a_source_aws_made_a_full_copy_from_has_no_free_slot_whatever_the_count() {
        let mut root = cluster("root");
        root.clone_group_id = Some("g-root".into());
        let mut clone = tagged_clone("acm", "c0", &root);
        clone.clone_group_id = Some("g-root".into());
        let mut fallback = tagged_clone("acm", "c1", &root);
        fallback.clone_group_id = Some("g-other".into());
        fallback
            .tags
            .insert(tags::FULL_COPY_FALLBACK.into(), "true".into());
        let inventory = Inventory::new(vec![root.clone(), clone, fallback]);
        let pool = PoolView::build(&inventory, &root, "acm", 15, rule(3), now());
        assert_eq!(pool.root.used_slots, 2);
        assert_eq!(pool.root.free_slots, 0);
        assert_eq!(pool.root.full_copy_fallbacks, vec!["c1".to_string()]);
        assert_eq!(pool.free_slots(), 0);
    }

    #[test]
    fn a_failed_copy_gives_no_slots_and_is_purged() {
        let root = cluster("root");
        let mut failed = copy_of("acm", "failed", &root, now() - TimeDelta::hours(1));
        failed.status = ClusterStatus::IncompatibleRestore;
        let inventory = Inventory::new(vec![root.clone(), failed]);
        let pool = PoolView::build(&inventory, &root, "acm", 15, rule(3), now());
        assert_eq!(pool.fresh_copies().count(), 0);
        assert_eq!(pool.free_slots(), 15, "the root's only");
        let obsolete: Vec<_> = pool
            .obsolete_copies()
            .map(|c| c.cluster_id.as_str())
            .collect();
        assert_eq!(obsolete, vec!["failed"]);
    }
}
