//! The inventory: one snapshot of the account's Aurora clusters (tags inline), and the
//! questions the planner asks of it. Loading it is done at the edge (`observe`).
//!
//! DescribeDBClusters also lists Neptune, DocumentDB and Multi-AZ DB clusters. They are
//! kept in the snapshot, but only as taken identifiers: they share the identifier space
//! (Neptune's ARNs are RDS cluster ARNs, https://docs.aws.amazon.com/neptune/latest/userguide/tagging-arns-constructing.html),
//! so a new clone must not take one of their names. Every other question (clone slots,
//! copies, managed clusters) considers Aurora clusters only, and the planners refuse a
//! root that is not Aurora. That is why the listing is not filtered by engine on the
//! server, although DescribeDBClusters offers an `engine` filter.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use aurora_clone_model::ClusterInfo;
use aurora_clone_model::tags::{self, Role};
use aurora_clone_model::time::parse_timestamp;

/// All clusters at one moment. Clusters still `creating` are included: they take a clone
/// slot from the moment the restore is accepted.
///
/// Built once per plan, with indexes by identifier, clone group and tag, so that planning
/// for many roots in an account of thousands of clusters never scans the list per question.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "InventoryData", into = "InventoryData")]
pub struct Inventory {
    clusters: Vec<ClusterInfo>,
    index: Index,
}

/// The serialised form: just the clusters; the index is rebuilt.
#[derive(Serialize, Deserialize)]
struct InventoryData {
    clusters: Vec<ClusterInfo>,
}

impl From<InventoryData> for Inventory {
    fn from(data: InventoryData) -> Inventory {
        Inventory::new(data.clusters)
    }
}

impl From<Inventory> for InventoryData {
    fn from(inventory: Inventory) -> InventoryData {
        InventoryData {
            clusters: inventory.clusters,
        }
    }
}

impl PartialEq for Inventory {
    fn eq(&self, other: &Inventory) -> bool {
        self.clusters == other.clusters
    }
}

impl Eq for Inventory {}

#[derive(Debug, Clone, Default)]
struct Index {
    by_id: HashMap<String, usize>,
    by_arn: HashMap<String, usize>,
    by_clone_group: HashMap<String, Vec<usize>>,
    by_source_arn: HashMap<String, Vec<usize>>,
    by_root_arn: HashMap<String, Vec<usize>>,
    /// Cluster identifiers and the identifiers of their member instances.
    identifiers: HashSet<String>,
}

impl Index {
    fn build(clusters: &[ClusterInfo]) -> Index {
        let mut index = Index::default();
        for (position, cluster) in clusters.iter().enumerate() {
            index.by_id.insert(cluster.id.clone(), position);
            index.by_arn.insert(cluster.arn.clone(), position);
            index.identifiers.insert(cluster.id.clone());
            for member in &cluster.members {
                index.identifiers.insert(member.instance_id.clone());
            }
            if !cluster.is_aurora() {
                continue;
            }
            if let Some(group) = &cluster.clone_group_id {
                index
                    .by_clone_group
                    .entry(group.clone())
                    .or_default()
                    .push(position);
            }
            if let Some(source) = cluster.tag(tags::SOURCE_ARN) {
                index
                    .by_source_arn
                    .entry(source.to_string())
                    .or_default()
                    .push(position);
            }
            if let Some(root) = cluster.tag(tags::ROOT_ARN) {
                index
                    .by_root_arn
                    .entry(root.to_string())
                    .or_default()
                    .push(position);
            }
        }
        index
    }
}

impl Inventory {
    pub fn new(clusters: Vec<ClusterInfo>) -> Inventory {
        let index = Index::build(&clusters);
        Inventory { clusters, index }
    }

    pub fn clusters(&self) -> &[ClusterInfo] {
        &self.clusters
    }

    pub fn into_clusters(self) -> Vec<ClusterInfo> {
        self.clusters
    }

    pub fn cluster(&self, cluster_id: &str) -> Option<&ClusterInfo> {
        self.index
            .by_id
            .get(cluster_id)
            .map(|&position| &self.clusters[position])
    }

    pub fn cluster_by_arn(&self, arn: &str) -> Option<&ClusterInfo> {
        self.index
            .by_arn
            .get(arn)
            .map(|&position| &self.clusters[position])
    }

    /// Whether an identifier is taken by a cluster or by any cluster member instance.
    pub fn identifier_taken(&self, identifier: &str) -> bool {
        self.index.identifiers.contains(identifier)
    }

    /// The clusters that use a clone slot of `source`: every other member of its clone group
    /// (ours or not), plus every cluster tagged as cloned from it, for clusters AWS reports
    /// without a clone group id. In inventory order, each once.
    pub fn clones_using_slots_of<'a>(&'a self, source: &ClusterInfo) -> Vec<&'a ClusterInfo> {
        let in_group = source
            .clone_group_id
            .as_ref()
            .and_then(|group| self.index.by_clone_group.get(group));
        let tagged = self.index.by_source_arn.get(&source.arn);
        let mut positions: Vec<usize> = in_group
            .into_iter()
            .flatten()
            .chain(tagged.into_iter().flatten())
            .copied()
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .map(|position| &self.clusters[position])
            .filter(|other| other.id != source.id)
            .collect()
    }

    /// Clusters tagged as cloned from `source` whose restore AWS turned into a full copy:
    /// proof that `source` takes no more copy-on-write clones, whatever the count says.
    pub fn full_copy_fallbacks_of<'a>(&'a self, source: &ClusterInfo) -> Vec<&'a ClusterInfo> {
        self.index
            .by_source_arn
            .get(&source.arn)
            .into_iter()
            .flatten()
            .map(|&position| &self.clusters[position])
            .filter(|cluster| cluster.tag(tags::FULL_COPY_FALLBACK) == Some("true"))
            .collect()
    }

    /// This deployment's copies of `root`, whatever their state.
    pub fn copies_of<'a>(&'a self, root: &ClusterInfo, stack_name: &str) -> Vec<&'a ClusterInfo> {
        self.index
            .by_root_arn
            .get(&root.arn)
            .into_iter()
            .flatten()
            .map(|&position| &self.clusters[position])
            .filter(|cluster| tags::managed_role(cluster, stack_name) == Some(Role::Copy))
            .collect()
    }

    /// This deployment's clusters by role.
    pub fn managed<'a>(&'a self, stack_name: &str, role: Role) -> Vec<&'a ClusterInfo> {
        self.clusters
            .iter()
            .filter(|cluster| cluster.is_aurora())
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

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::testing::{cluster, tagged_clone};

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
