//! AWS ports: narrow traits in our own terms, one SDK adapter and one in-process fake each.
//!
//! Every method documents what happens when the thing is missing and whether it is
//! idempotent, because the executor relies on both to make retries and replays safe.
//!
//! May import: the base modules only.
//! Must not import: `plan/`, `input/`, `run/`, `lambda/`, `cli/`. The fake in particular
//! keeps its own copy of every AWS behaviour, so a bug in a planner rule cannot hide in
//! the model meant to catch it. `tests/layering.rs` checks this.

pub mod error;
#[cfg(any(test, feature = "fake"))]
pub mod failure;
#[cfg(any(test, feature = "fake"))]
pub mod fake;
pub mod rules;
pub mod sdk;
pub mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use error::{AwsError, AwsErrorKind};
pub use types::*;

/// Aurora clusters and instances.
#[async_trait]
pub trait Rds: Send + Sync {
    /// One page of DescribeDBClusters with tags inline. `marker` is `None` for the first page.
    async fn describe_clusters_page(
        &self,
        marker: Option<String>,
        max_records: i32,
    ) -> Result<ClusterPage, AwsError>;

    /// One cluster by identifier; `Ok(None)` when it does not exist.
    async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError>;

    /// One instance by identifier; `Ok(None)` when it does not exist.
    async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError>;

    /// The instances of one cluster (empty when the cluster has none or does not exist).
    async fn describe_cluster_instances(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError>;

    /// Starts a restore at the latest restorable time and returns the new cluster, which is
    /// `creating`. Fails with `AlreadyExists` when the identifier is taken (never replaces).
    async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError>;

    /// Adds an instance to a cluster. Fails with `AlreadyExists` when the identifier is taken
    /// and with `InvalidState` when the cluster cannot take an instance yet.
    async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError>;

    /// Deletes an instance. Succeeds when it is already gone or already being deleted.
    async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError>;

    /// Starts a `stopped` cluster (StartDBCluster); it is `starting`, then `available`.
    /// `NotFound` when the cluster is gone, `InvalidState` when it is not stopped.
    async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError>;

    /// Stops an `available` cluster (StopDBCluster); it is `stopping`, then `stopped`, and
    /// Aurora starts it again by itself after seven days. `NotFound` when the cluster is
    /// gone, `InvalidState` when it is not available.
    async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError>;

    /// Deletes a cluster whose instances are gone or being deleted, with a final snapshot
    /// only when one is named. Succeeds when it is already gone or already being deleted;
    /// `InvalidState` while it is stopped (AWS refuses to delete a stopped cluster).
    async fn delete_cluster(
        &self,
        cluster_id: &str,
        final_snapshot_id: Option<&str>,
    ) -> Result<(), AwsError>;

    /// Sets the master password, applied immediately. `NotFound` when the cluster is gone.
    async fn set_master_password(
        &self,
        cluster_id: &str,
        password: &SecretString,
    ) -> Result<(), AwsError>;

    /// Renames a cluster (ModifyDBCluster `NewDBClusterIdentifier`, applied immediately). The
    /// cluster keeps its tags and instances; its ARN and endpoint hostname change at once and
    /// it is `renaming` until the new name is in effect, meanwhile the endpoint does not
    /// answer. `NotFound` when the cluster is gone, `AlreadyExists` when the new name is
    /// taken, `InvalidState` unless it is available. Not idempotent: a replay finds the old
    /// name gone, so callers check both names first.
    async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError>;

    /// Renames an instance (ModifyDBInstance `NewDBInstanceIdentifier`, applied immediately;
    /// AWS reboots it). It stays in its cluster and keeps its tags; its ARN and endpoint
    /// change. `NotFound` when the instance is gone, `AlreadyExists` when the new name is
    /// taken, `InvalidState` unless it is available. Not idempotent, as for clusters.
    async fn rename_instance(
        &self,
        instance_id: &str,
        new_instance_id: &str,
    ) -> Result<(), AwsError>;

    /// Adds or overwrites tags. Idempotent. `NotFound` when the resource is gone.
    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;

    /// Removes tags; keys that are not present are ignored. `NotFound` when the resource is gone.
    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError>;
}

/// SSM parameters: the maintenance config and the leases.
#[async_trait]
pub trait Params: Send + Sync {
    /// The value and version; `Ok(None)` when the parameter does not exist.
    async fn get(&self, name: &str) -> Result<Option<ParameterValue>, AwsError>;

    /// One earlier version of the parameter (GetParameter with `name:version`); `Ok(None)`
    /// when the parameter or that version does not exist.
    async fn get_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ParameterValue>, AwsError>;

    /// The parameters directly under `path` (GetParametersByPath, not recursive), every
    /// page: (name, value). Empty when there are none.
    async fn list_path(&self, path: &str) -> Result<Vec<(String, String)>, AwsError>;

    /// Creates the parameter only if it does not exist (Overwrite=false). Returns the new
    /// version, or `Ok(None)` when it already existed.
    async fn put_if_absent(&self, name: &str, value: &str) -> Result<Option<i64>, AwsError>;

    /// Creates or overwrites the parameter and returns its new version.
    async fn put(&self, name: &str, value: &str) -> Result<i64, AwsError>;

    /// Deletes the parameter. Succeeds when it is already gone.
    async fn delete(&self, name: &str) -> Result<(), AwsError>;
}

/// Who we are (STS).
#[async_trait]
pub trait Identity: Send + Sync {
    async fn caller(&self) -> Result<CallerIdentity, AwsError>;
}

/// Secrets Manager.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// Creates a secret. `AlreadyExists` when the name is taken.
    async fn create_secret(&self, request: &SecretRequest) -> Result<SecretRef, AwsError>;

    /// Replaces the resource policy. `NotFound` when the secret is gone.
    async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), AwsError>;

    /// The current value; `Ok(None)` when the secret does not exist.
    async fn get_value(&self, secret_id: &str) -> Result<Option<SecretString>, AwsError>;

    /// Stores a new current value. `NotFound` when the secret is gone.
    async fn put_value(&self, secret_id: &str, value: &SecretString) -> Result<(), AwsError>;

    /// Deletes the secret at once, without a recovery window. Succeeds when it is already gone.
    async fn delete_secret(&self, secret_id: &str) -> Result<(), AwsError>;

    /// One secret by name or ARN (DescribeSecret), with its tags; `Ok(None)` when it does
    /// not exist. Unlike listing, it sees a secret made a moment ago.
    async fn describe_secret(&self, secret_id: &str) -> Result<Option<SecretSummary>, AwsError>;

    /// All secrets carrying the tag `key=value`, every page. ListSecrets is eventually
    /// consistent: secrets changed in the last few minutes may be missing, so never use it
    /// to find a secret whose name is known.
    async fn list_secrets_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<SecretSummary>, AwsError>;
}

/// KMS keys, aliases and grants.
#[async_trait]
pub trait Keys: Send + Sync {
    /// Creates a symmetric encryption key with the given policy and tags.
    async fn create_key(&self, request: &KeyRequest) -> Result<KeyRef, AwsError>;

    /// Points a new alias at a key. `AlreadyExists` when the alias is taken.
    async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError>;

    /// Deletes an alias. Succeeds when it is already gone.
    async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError>;

    /// Aliases whose name starts with `prefix`, every page.
    async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError>;

    /// Ids of every key in the account and region, every page.
    async fn list_keys(&self) -> Result<Vec<String>, AwsError>;

    /// The key's state and creation time; `Ok(None)` when the key does not exist.
    async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError>;

    /// The key's tags; `Ok(None)` when the key does not exist.
    async fn key_tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError>;

    /// Replaces the key policy (the policy named `default`). `NotFound` when the key is gone.
    async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError>;

    /// Schedules deletion after the shortest waiting period (7 days). Succeeds when the key
    /// is already gone or already pending deletion.
    async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError>;

    /// Grants `kms:Decrypt` on the key to one principal, limited to requests whose
    /// encryption context contains the given pairs, under a grant name so that it can be found again. Idempotent for the same
    /// name, grantee and constraint.
    async fn grant_decrypt(
        &self,
        key_id: &str,
        grant_name: &str,
        grantee: &str,
        encryption_context: &[(String, String)],
    ) -> Result<(), AwsError>;

    /// Grants on the key, every page.
    async fn list_grants(&self, key_id: &str) -> Result<Vec<GrantInfo>, AwsError>;

    /// Revokes a grant. Succeeds when it is already gone.
    async fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<(), AwsError>;
}

/// EventBridge.
#[async_trait]
pub trait Events: Send + Sync {
    /// Puts one event; an entry the bus rejects is an error.
    async fn put_event(&self, event: &BusEvent) -> Result<(), AwsError>;
}

/// CloudWatch metrics.
#[async_trait]
pub trait Metrics: Send + Sync {
    /// The hourly maxima of `AWS/RDS` `DatabaseConnections` (dimension
    /// `DBClusterIdentifier`) of each cluster from `start` to `end`, in as few GetMetricData
    /// calls as possible (up to [`METRIC_QUERIES_PER_CALL`] clusters a call, every page).
    /// Hours without a data point (the cluster was stopped, or did not exist) are absent;
    /// a cluster without any data point is absent from the map.
    async fn hourly_max_connections(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError>;

    /// The newest hourly average of `AWS/RDS` `VolumeBytesUsed` (dimension
    /// `DBClusterIdentifier`: the cluster volume's billed bytes) of each cluster from `start`
    /// to `end`, in as few GetMetricData calls as possible (up to
    /// [`METRIC_QUERIES_PER_CALL`] clusters a call, every page). A cluster without a data
    /// point is absent from the map.
    async fn latest_volume_bytes(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, AwsError>;
}

/// GetMetricData retrieves as many as 500 metrics in one request, with at most 100,800
/// data points in all (CloudWatch API reference, GetMetricData,
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
pub const METRIC_QUERIES_PER_CALL: usize = 500;

/// Lambda, for handing work over to a fresh invocation of this function.
#[async_trait]
pub trait Invoker: Send + Sync {
    /// Invokes the function asynchronously (InvocationType=Event) with a JSON payload.
    async fn invoke_async(
        &self,
        function_name: &str,
        payload: &serde_json::Value,
    ) -> Result<(), AwsError>;
}

/// An SQS queue: the records of asynchronous invocations that failed every attempt, which
/// the CLI reads to answer the CloudFormation requests inside them. Not among [`Ports`]:
/// the function itself never reads the queue.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Up to 10 messages, hidden from other readers for `visibility` (ReceiveMessage); empty
    /// when none is visible now.
    async fn receive(
        &self,
        queue_url: &str,
        visibility: std::time::Duration,
    ) -> Result<Vec<QueueMessage>, AwsError>;

    /// Deletes a received message (DeleteMessage). Succeeds when it is already gone.
    async fn delete(&self, queue_url: &str, receipt_handle: &str) -> Result<(), AwsError>;
}

/// All ports together, as the executors need them.
#[derive(Clone)]
pub struct Ports {
    pub rds: Arc<dyn Rds>,
    pub params: Arc<dyn Params>,
    pub identity: Arc<dyn Identity>,
    pub secrets: Arc<dyn Secrets>,
    pub keys: Arc<dyn Keys>,
    pub events: Arc<dyn Events>,
    pub invoker: Arc<dyn Invoker>,
    pub metrics: Arc<dyn Metrics>,
}
