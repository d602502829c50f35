//! The inventory loader: reads the world the planner plans over. The clusters (paged
//! DescribeDBClusters with tags inline, never one ListTagsForResource per cluster), the
//! secrets and key aliases maintenance looks at, and the maintenance config with its
//! roots, which every workflow that needs it (maintenance, status, the CLI's clone
//! lifetimes) reads through here.

use std::collections::BTreeSet;

use crate::aws::{AwsError, AwsErrorKind, KeyAlias, Params, Ports, Rds, SecretSummary, StrayKey};
use crate::input::maintenance_config::{
    MaintenanceConfig, UnreadableConfig, parse_maintenance_config,
};
use crate::model::naming;
use crate::model::tags;
use crate::plan::inventory::Inventory;

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

/// Where the maintenance config comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// The SSM parameter named in the deployment's config.
    Parameter,
    /// Text given directly (the CLI's `--config FILE`).
    Text(String),
}

/// The maintenance config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    #[error(transparent)]
    Unreadable(#[from] UnreadableConfig),
    #[error("reading the maintenance config: {0}")]
    Aws(#[source] AwsError),
}

/// The maintenance config from `source`; `parameter` names the SSM parameter. No parameter
/// means nothing to maintain. Entries that cannot be used are logged and left out.
pub async fn load_maintenance_config(
    params: &dyn Params,
    parameter: &str,
    source: &ConfigSource,
) -> Result<MaintenanceConfig, ConfigLoadError> {
    let text = match source {
        ConfigSource::Text(text) => text.clone(),
        ConfigSource::Parameter => {
            match params.get(parameter).await.map_err(ConfigLoadError::Aws)? {
                Some(parameter) => parameter.value,
                None => {
                    tracing::info!(parameter = %parameter, "no maintenance config: nothing to maintain");
                    return Ok(MaintenanceConfig::default());
                }
            }
        }
    };
    let config = parse_maintenance_config(&text)?;
    for problem in &config.problems {
        tracing::error!(%problem, "maintenance config entry skipped");
    }
    Ok(config)
}

/// What maintenance needs to find password artifacts whose clone is gone.
#[derive(Debug, Clone, Default)]
pub struct PasswordArtifacts {
    /// This deployment's secrets (tagged with its stack).
    pub secrets: Vec<SecretSummary>,
    /// This deployment's disposable key aliases.
    pub key_aliases: Vec<KeyAlias>,
    /// This deployment's disposable keys that no alias points at.
    pub stray_keys: Vec<StrayKey>,
}

/// This deployment's secrets, disposable key aliases, and disposable keys without an alias
/// (a create interrupted between making the key and naming it).
pub async fn load_password_artifacts(
    ports: &Ports,
    stack_name: &str,
) -> Result<PasswordArtifacts, AwsError> {
    let secrets = ports
        .secrets
        .list_secrets_tagged(tags::STACK, stack_name)
        .await?;
    let all_aliases = ports.keys.list_aliases("alias/").await?;
    let aliased: BTreeSet<&str> = all_aliases
        .iter()
        .filter_map(|alias| alias.key_id.as_deref())
        .collect();
    let our_prefix = naming::disposable_key_alias_prefix(stack_name);
    let mut stray_keys = Vec::new();
    for key_id in ports.keys.list_keys().await? {
        if aliased.contains(key_id.as_str()) {
            continue;
        }
        // Keys we may not read are not ours: their tags answer AccessDenied.
        let key_tags = match ports.keys.key_tags(&key_id).await {
            Ok(Some(key_tags)) => key_tags,
            Ok(None) => continue,
            Err(error) if error.kind() == AwsErrorKind::Denied => continue,
            Err(error) => return Err(error),
        };
        let ours = key_tags.get(tags::STACK).map(String::as_str) == Some(stack_name)
            && key_tags.get(tags::DISPOSABLE).map(String::as_str) == Some("true");
        if !ours {
            continue;
        }
        let summary = match ports.keys.describe_key(&key_id).await {
            Ok(Some(summary)) if !summary.pending_deletion => summary,
            Ok(_) => continue,
            Err(error) if error.kind() == AwsErrorKind::Denied => continue,
            Err(error) => return Err(error),
        };
        stray_keys.push(StrayKey {
            key_id,
            created_at: summary.created_at,
            tags: key_tags,
        });
    }
    let key_aliases = all_aliases
        .into_iter()
        .filter(|alias| alias.alias_name.starts_with(&our_prefix))
        .collect();
    Ok(PasswordArtifacts {
        secrets,
        key_aliases,
        stray_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{FakeAws, FakeClusterSeed};

    #[tokio::test]
    async fn the_inventory_reads_every_page_with_one_call_per_hundred_clusters() {
        let fake = FakeAws::new();
        for index in 0..250 {
            let mut seed = FakeClusterSeed::root(&format!("db-{index:03}"));
            seed.instance_class = None;
            fake.seed_cluster(seed);
        }
        let inventory = load_inventory(fake.as_ref()).await.unwrap();
        assert_eq!(inventory.clusters().len(), 250);
        assert!(inventory.cluster("db-249").is_some());
        assert_eq!(
            fake.call_counts()
                .get(crate::model::operations::RDS_DESCRIBE_DB_CLUSTERS.name),
            Some(&3)
        );
    }
}
