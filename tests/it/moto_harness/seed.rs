//! Puts the world a test starts from into the emulator, and reads back what a test left.
//!
//! These helpers use the AWS SDK directly (not the crate's ports), so a test checks the
//! crate's adapters against an independent view of the emulator. They panic with the
//! SDK error on failure: a seeding failure is a broken test setup, not a finding.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_rds::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_rds::types::{DbInstance, Filter};

/// The region every test uses; moto keeps separate state per region.
pub const REGION: &str = "us-east-1";

/// The root's master user, as the crate's clones will inherit it.
pub const ROOT_MASTER_USERNAME: &str = "postgres";
/// Moto stores but never checks it; it only has to satisfy RDS's password rules.
pub const ROOT_MASTER_PASSWORD: &str = "root-password-for-tests-only";
pub const ROOT_DATABASE_NAME: &str = "app";
pub const ROOT_ENGINE: &str = "aurora-postgresql";
pub const ROOT_INSTANCE_CLASS: &str = "db.r6g.large";

/// SDK configuration for `endpoint` (a proxy or moto): static test credentials,
/// us-east-1, and the SDK's standard retries with short backoffs, so a faulted call is
/// retried the way production retries it without slowing the suite down.
///
/// Built field by field rather than with `aws_config::defaults`, so nothing from the
/// developer's environment (profiles, `AWS_ENDPOINT_URL_*`) leaks into a test.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    sdk_config_with_retry(
        endpoint,
        RetryConfig::standard()
            .with_max_attempts(5)
            .with_initial_backoff(Duration::from_millis(10))
            .with_max_backoff(Duration::from_millis(200)),
    )
}

/// [`sdk_config`] with the given retry settings (e.g. `RetryConfig::standard()
/// .with_max_attempts(1)` to see the first error as it arrives).
pub fn sdk_config_with_retry(endpoint: &str, retry: RetryConfig) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .build()
}

/// A root cluster created by [`seed_root`].
#[derive(Clone, Debug)]
pub struct ClusterSeed {
    pub cluster_id: String,
    pub cluster_arn: String,
    pub writer_instance_id: String,
    pub master_username: String,
    pub database_name: String,
    pub endpoint: Option<String>,
    pub port: Option<i32>,
}

/// Creates an aurora-postgresql cluster (`postgres` / `app`) with one writer instance
/// (`<cluster_id>-writer`, db.r6g.large), like a production root.
pub async fn seed_root(config: &SdkConfig, cluster_id: &str) -> ClusterSeed {
    let rds = aws_sdk_rds::Client::new(config);
    let created = rds
        .create_db_cluster()
        .db_cluster_identifier(cluster_id)
        .engine(ROOT_ENGINE)
        .master_username(ROOT_MASTER_USERNAME)
        .master_user_password(ROOT_MASTER_PASSWORD)
        .database_name(ROOT_DATABASE_NAME)
        .send()
        .await
        .unwrap_or_else(|error| panic!("seed: create cluster {cluster_id}: {}", report(&error)));
    let cluster = created
        .db_cluster
        .unwrap_or_else(|| panic!("seed: CreateDBCluster {cluster_id} returned no cluster"));

    let writer_instance_id = format!("{cluster_id}-writer");
    rds.create_db_instance()
        .db_instance_identifier(&writer_instance_id)
        .db_cluster_identifier(cluster_id)
        .engine(ROOT_ENGINE)
        .db_instance_class(ROOT_INSTANCE_CLASS)
        .send()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "seed: create instance {writer_instance_id}: {}",
                report(&error)
            )
        });

    ClusterSeed {
        cluster_id: cluster_id.to_string(),
        cluster_arn: cluster.db_cluster_arn.unwrap_or_default(),
        writer_instance_id,
        master_username: ROOT_MASTER_USERNAME.to_string(),
        database_name: ROOT_DATABASE_NAME.to_string(),
        endpoint: cluster.endpoint,
        port: cluster.port,
    }
}

/// Whether the cluster exists (in the account the config's endpoint stands for).
pub async fn cluster_exists(config: &SdkConfig, cluster_id: &str) -> bool {
    let described = aws_sdk_rds::Client::new(config)
        .describe_db_clusters()
        .db_cluster_identifier(cluster_id)
        .send()
        .await;
    match described {
        Ok(output) => !output.db_clusters().is_empty(),
        Err(error) if error.code() == Some("DBClusterNotFoundFault") => false,
        Err(error) => panic!("describe cluster {cluster_id}: {}", report(&error)),
    }
}

/// The cluster's tags as a map; panics if the cluster does not exist.
pub async fn cluster_tags(config: &SdkConfig, cluster_id: &str) -> BTreeMap<String, String> {
    let described = aws_sdk_rds::Client::new(config)
        .describe_db_clusters()
        .db_cluster_identifier(cluster_id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("describe cluster {cluster_id}: {}", report(&error)));
    let cluster = described
        .db_clusters()
        .first()
        .unwrap_or_else(|| panic!("cluster {cluster_id} does not exist"));
    cluster
        .tag_list()
        .iter()
        .map(|tag| {
            (
                tag.key().unwrap_or_default().to_string(),
                tag.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The DB instances of a cluster, sorted by identifier (empty if there are none).
pub async fn cluster_instances(config: &SdkConfig, cluster_id: &str) -> Vec<DbInstance> {
    let described = aws_sdk_rds::Client::new(config)
        .describe_db_instances()
        .filters(
            Filter::builder()
                .name("db-cluster-id")
                .values(cluster_id)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "describe instances of cluster {cluster_id}: {}",
                report(&error)
            )
        });
    let mut instances = described.db_instances.unwrap_or_default();
    instances.sort_by(|left, right| {
        left.db_instance_identifier
            .cmp(&right.db_instance_identifier)
    });
    instances
}

/// The full error chain, since an SDK error's `Display` alone hides the cause.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    DisplayErrorContext(error).to_string()
}
