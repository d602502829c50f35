//! Reading the world: the inventory (paged DescribeDBClusters with tags inline, never one
//! ListTagsForResource per cluster) and the secrets and key aliases maintenance looks at.

use crate::aws::{AwsError, KeyAlias, Ports, Rds, SecretSummary};
use crate::plan::inventory::Inventory;
use crate::plan::naming;
use crate::plan::tags;

/// The largest page DescribeDBClusters allows: the fewest calls per inventory.
pub const CLUSTER_PAGE_SIZE: i32 = 100;

/// Every cluster in the account and region, one call per 100 clusters.
pub async fn load_inventory(rds: &dyn Rds) -> Result<Inventory, AwsError> {
    let mut clusters = Vec::new();
    let mut marker = None;
    loop {
        let page = rds
            .describe_clusters_page(marker, CLUSTER_PAGE_SIZE)
            .await?;
        clusters.extend(page.clusters);
        match page.marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(Inventory::new(clusters))
}

/// This deployment's secrets and disposable key aliases.
pub async fn load_password_artifacts(
    ports: &Ports,
    stack_name: &str,
) -> Result<(Vec<SecretSummary>, Vec<KeyAlias>), AwsError> {
    let secrets = ports
        .secrets
        .list_secrets_tagged(tags::STACK, stack_name)
        .await?;
    let aliases = ports
        .keys
        .list_aliases(&naming::disposable_key_alias_prefix(stack_name))
        .await?;
    Ok((secrets, aliases))
}
