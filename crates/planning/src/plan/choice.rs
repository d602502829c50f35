//! The clone-source rule, in one place: the root first, then the freshest fresh copy with a
//! free slot; with `CopyOk`, a fresh copy still being made, else a new copy; otherwise an
//! error that says where the slots went and how to get more.

use aurora_clone_model::ClusterStatus;
use std::fmt;

use serde::Serialize;

use crate::plan::pool::{Freshness, PoolView, SourceView};
use aurora_clone_model::time::format_duration;

/// Where the next clone comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SourceChoice {
    /// Clone this source now (the root or a fresh copy).
    Ready { source: SourceView },
    /// Wait for this fresh copy, still being made, then clone it (only with CopyOk).
    AwaitCopy { copy: SourceView },
    /// Make a new copy of the root, then clone it (only with CopyOk).
    MakeCopy,
}

/// No clone slot is free and no copy may be made: where the slots are and how to get more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoCloneSlot {
    pub root_id: String,
    pub root_used: u32,
    pub root_status: ClusterStatus,
    pub max_clones_per_source: u32,
    pub copies: Vec<String>,
    pub copy_in_preparation: Option<String>,
}

impl NoCloneSlot {
    fn situation(&self) -> String {
        let mut text = if self.root_status == ClusterStatus::Available
            || self.root_used >= self.max_clones_per_source
        {
            format!(
                "no clone slots on {} ({}/{} used)",
                self.root_id, self.root_used, self.max_clones_per_source
            )
        } else {
            format!(
                "{} cannot be cloned while it is '{}'",
                self.root_id, self.root_status
            )
        };
        if self.copies.is_empty() {
            text.push_str(" and no fresh copy");
        } else {
            text.push_str(&format!(
                " and no fresh copy with a free slot ({})",
                self.copies.join("; ")
            ));
        }
        if let Some(copy) = &self.copy_in_preparation {
            text.push_str(&format!(
                "; copy {copy} is still being made and will add slots when ready"
            ));
        }
        text
    }

    /// The explanation for a CloudFormation response.
    pub fn for_cloudformation(&self, config_parameter: &str) -> String {
        format!(
            "{}. Set CopyOk to \"true\" to make a copy now (slow), or keep spare slots by adding {{:cluster-id \"{}\" :target-clone-slots N}} to the maintenance config {} and running maintenance",
            self.situation(),
            self.root_id,
            config_parameter
        )
    }

    /// The explanation for the command line.
    pub fn for_cli(&self) -> String {
        format!(
            "{}; run `aurora-clone-manager maintain` with a target for {} or pass --copy-ok",
            self.situation(),
            self.root_id
        )
    }
}

impl fmt::Display for NoCloneSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.situation())
    }
}

/// Chooses the source of the next clone from the pool.
pub fn choose_clone_source(pool: &PoolView, copy_ok: bool) -> Result<SourceChoice, NoCloneSlot> {
    if pool.root.free_slots > 0 && pool.root.cloneable_now() {
        return Ok(SourceChoice::Ready {
            source: pool.root.clone(),
        });
    }
    // Copies are sorted freshest first.
    if let Some(copy) = pool
        .fresh_copies()
        .find(|copy| copy.free_slots > 0 && copy.cloneable_now())
    {
        return Ok(SourceChoice::Ready {
            source: copy.clone(),
        });
    }
    let in_preparation = pool
        .fresh_copies()
        .find(|copy| copy.free_slots > 0 && copy.in_preparation());
    if copy_ok {
        return Ok(match in_preparation {
            Some(copy) => SourceChoice::AwaitCopy { copy: copy.clone() },
            None => SourceChoice::MakeCopy,
        });
    }
    Err(NoCloneSlot {
        root_id: pool.root.cluster_id.clone(),
        root_used: pool.root.used_slots,
        root_status: pool.root.status.clone(),
        max_clones_per_source: pool.max_clones_per_source,
        copies: pool
            .copies
            .iter()
            .map(|copy| describe_copy(copy, pool))
            .collect(),
        copy_in_preparation: in_preparation.map(|copy| copy.cluster_id.clone()),
    })
}

fn describe_copy(copy: &SourceView, pool: &PoolView) -> String {
    let age = copy
        .age_seconds
        .map(|seconds| format_duration(chrono::TimeDelta::seconds(seconds)))
        .unwrap_or_else(|| "unknown age".to_string());
    match copy.freshness {
        Freshness::Fresh => format!(
            "{}: {}/{} used, {}",
            copy.cluster_id, copy.used_slots, pool.max_clones_per_source, copy.status
        ),
        Freshness::TooOld => format!("{}: too old ({age})", copy.cluster_id),
        Freshness::BeforeRequiredTime => {
            format!("{}: data older than CopyCreatedSince", copy.cluster_id)
        }
        Freshness::Unknown => format!("{}: data time unknown", copy.cluster_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::inventory::Inventory;
    use crate::plan::pool::FreshnessRule;
    use aurora_clone_model::testing::{cluster, copy_of, now, tagged_clone};
    use chrono::TimeDelta;

    fn pool(clusters: Vec<aurora_clone_model::ClusterInfo>) -> PoolView {
        let root = clusters[0].clone();
        PoolView::build(
            &Inventory::new(clusters),
            &root,
            "acm",
            15,
            FreshnessRule {
                max_copy_age: TimeDelta::days(3),
                created_since: None,
            },
            now(),
        )
    }

    fn full_root() -> Vec<aurora_clone_model::ClusterInfo> {
        let root = cluster("root");
        let mut clusters = vec![root.clone()];
        for index in 0..15 {
            clusters.push(tagged_clone("acm", &format!("c{index}"), &root));
        }
        clusters
    }

    #[test]
    fn the_root_comes_first_while_it_has_a_slot() {
        let choice = choose_clone_source(&pool(vec![cluster("root")]), false).unwrap();
        assert!(matches!(choice, SourceChoice::Ready { source } if source.cluster_id == "root"));
    }

    #[test]
    fn a_full_root_sends_the_clone_to_the_freshest_copy() {
        let mut clusters = full_root();
        let root = clusters[0].clone();
        clusters.push(copy_of("acm", "older", &root, now() - TimeDelta::days(2)));
        clusters.push(copy_of("acm", "newer", &root, now() - TimeDelta::hours(2)));
        let choice = choose_clone_source(&pool(clusters), false).unwrap();
        assert!(matches!(choice, SourceChoice::Ready { source } if source.cluster_id == "newer"));
    }

    #[test]
    fn without_copy_ok_a_full_pool_explains_itself() {
        let mut clusters = full_root();
        let root = clusters[0].clone();
        clusters.push(copy_of("acm", "stale", &root, now() - TimeDelta::days(4)));
        let error = choose_clone_source(&pool(clusters), false).unwrap_err();
        let text = error.for_cloudformation("/acm/maintenance-config");
        assert!(
            text.contains("no clone slots on root (15/15 used)"),
            "{text}"
        );
        assert!(text.contains("stale: too old"), "{text}");
        assert!(text.contains("CopyOk"), "{text}");
        assert!(text.contains("/acm/maintenance-config"), "{text}");
        assert!(error.for_cli().contains("--copy-ok"));
    }

    #[test]
    fn with_copy_ok_a_copy_in_the_making_is_awaited_before_a_new_one_is_made() {
        let clusters = full_root();
        assert_eq!(
            choose_clone_source(&pool(clusters.clone()), true).unwrap(),
            SourceChoice::MakeCopy
        );
        let mut with_copy = clusters;
        let root = with_copy[0].clone();
        let mut making = copy_of("acm", "making", &root, now());
        making.status = ClusterStatus::Creating;
        making.members.clear();
        with_copy.push(making);
        assert!(matches!(
            choose_clone_source(&pool(with_copy), true).unwrap(),
            SourceChoice::AwaitCopy { copy } if copy.cluster_id == "making"
        ));
    }
}
