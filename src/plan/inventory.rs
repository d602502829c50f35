//! The inventory: one snapshot of the account's Aurora clusters (tags inline), and the
//! questions the planner asks of it. Loading it is done at the edge (`observe`).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::ClusterInfo;
use crate::plan::tags::{self, Role};
use crate::time::parse_timestamp;

/// All clusters at one moment. Clusters still `creating` are included: they take a clone
/// slot from the moment the restore is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub clusters: Vec<ClusterInfo>,
}

impl Inventory {
    pub fn new(clusters: Vec<ClusterInfo>) -> Inventory {
        Inventory { clusters }
    }

    pub fn cluster(&self, cluster_id: &str) -> Option<&ClusterInfo> {
        self.clusters
            .iter()
            .find(|cluster| cluster.id == cluster_id)
    }

    pub fn cluster_by_arn(&self, arn: &str) -> Option<&ClusterInfo> {
        self.clusters.iter().find(|cluster| cluster.arn == arn)
    }

    /// Whether an identifier is taken by a cluster or by any cluster member instance.
    pub fn identifier_taken(&self, identifier: &str) -> bool {
        self.clusters.iter().any(|cluster| {
            cluster.id == identifier
                || cluster
                    .members
                    .iter()
                    .any(|member| member.instance_id == identifier)
        })
    }

    /// The clusters that use a clone slot of `source`: every other member of its clone group
    /// (ours or not), plus every cluster tagged as cloned from it, for clusters AWS reports
    /// without a clone group id.
    pub fn clones_using_slots_of<'a>(&'a self, source: &ClusterInfo) -> Vec<&'a ClusterInfo> {
        self.clusters
            .iter()
            .filter(|other| other.id != source.id)
            .filter(|other| {
                let same_group = source.clone_group_id.is_some()
                    && other.clone_group_id == source.clone_group_id;
                let tagged_from_source = other.tag(tags::SOURCE_ARN) == Some(source.arn.as_str());
                same_group || tagged_from_source
            })
            .collect()
    }

    /// This deployment's copies of `root`, whatever their state.
    pub fn copies_of<'a>(&'a self, root: &ClusterInfo, stack_name: &str) -> Vec<&'a ClusterInfo> {
        self.clusters
            .iter()
            .filter(|cluster| tags::managed_role(cluster, stack_name) == Some(Role::Copy))
            .filter(|cluster| cluster.tag(tags::ROOT_ARN) == Some(root.arn.as_str()))
            .collect()
    }

    /// This deployment's clusters by role.
    pub fn managed<'a>(&'a self, stack_name: &str, role: Role) -> Vec<&'a ClusterInfo> {
        self.clusters
            .iter()
            .filter(|cluster| tags::managed_role(cluster, stack_name) == Some(role))
            .collect()
    }

    /// Ids of all clusters, for quick membership checks.
    pub fn ids_by_arn(&self) -> BTreeMap<&str, &str> {
        self.clusters
            .iter()
            .map(|cluster| (cluster.arn.as_str(), cluster.id.as_str()))
            .collect()
    }
}

/// When the data in a cluster was taken from its root: the `data-timestamp` tag, else the
/// cluster's creation time.
pub fn data_timestamp(cluster: &ClusterInfo) -> Option<DateTime<Utc>> {
    cluster
        .tag(tags::DATA_TIMESTAMP)
        .and_then(|text| parse_timestamp(text).ok())
        .or(cluster.created_at)
}

/// How old a cluster's data is at `now`; `None` when unknown.
pub fn data_age(cluster: &ClusterInfo, now: DateTime<Utc>) -> Option<TimeDelta> {
    data_timestamp(cluster).map(|timestamp| now - timestamp)
}

/// Whether a cluster is in a state that a restore can start from.
pub fn is_cloneable_status(status: &str) -> bool {
    matches!(
        status,
        "available" | "backing-up" | "maintenance" | "modifying" | "upgrading" | "renaming"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{cluster, tagged_clone};

    #[test]
    fn slots_count_the_whole_clone_group_even_clusters_we_did_not_make() {
        let mut root = cluster("root");
        root.clone_group_id = Some("g1".into());
        let mut foreign = cluster("someone-elses-clone");
        foreign.clone_group_id = Some("g1".into());
        let mut ours = tagged_clone("acm", "ours", &root);
        ours.clone_group_id = Some("g1".into());
        let mut unrelated = cluster("unrelated");
        unrelated.clone_group_id = Some("g2".into());
        let inventory = Inventory::new(vec![root.clone(), foreign, ours, unrelated]);
        let using: Vec<_> = inventory
            .clones_using_slots_of(&root)
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(using, vec!["someone-elses-clone", "ours"]);
    }

    #[test]
    fn without_a_clone_group_our_source_tags_are_counted() {
        let root = cluster("root");
        let ours = tagged_clone("acm", "ours", &root);
        let other_deployment = tagged_clone("other", "theirs", &root);
        let inventory = Inventory::new(vec![root.clone(), ours, other_deployment]);
        assert_eq!(inventory.clones_using_slots_of(&root).len(), 2);
    }
}
