//! AWS ports: narrow traits in our own terms, one SDK adapter and one in-process fake each.
//!
//! Every method documents what happens when the thing is missing and whether it is
//! idempotent, because the executor relies on both to make retries and replays safe, and
//! names the AWS operation it performs (`#[operation(..)]`, a row of the operations table in
//! the model crate). From that one declaration `ports!` writes the trait and its
//! [`hooks::Hooked`] forwarding, so fault injection, counting and recording reach every
//! method without wrapper code of their own.
//!
//! This crate builds on the model only. Cargo keeps it from the planner (the fake keeps
//! its own copy of every AWS behaviour, so a bug in a planner rule cannot hide in the model
//! meant to catch it) and from the workflows above. Inside the crate the fake never uses
//! the SDK adapters: `tests/it/layering.rs` checks that.

pub mod clock;
#[cfg(any(test, feature = "fake"))]
pub mod failure;
#[cfg(any(test, feature = "fake"))]
pub mod fake;
pub mod hooks;
pub mod sdk;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use aurora_clone_model::ClusterStatus;
pub use aurora_clone_model::error::{AwsError, AwsErrorKind};
pub use aurora_clone_model::operations::{self, Operation};
pub use aurora_clone_model::types::*;

use hooks::{Call, Hooked, Recordable};

/// Declares port traits whose methods each name their operation, and implements every
/// one for [`Hooked`]: the hook runs first (and may answer the call itself), then the
/// wrapped port, then the hook hears how it went.
macro_rules! ports {
    ($(
        $(#[doc = $port_doc:literal])*
        pub trait $port:ident {
            $(
                $(#[doc = $doc:literal])*
                #[operation($operation:ident)]
                async fn $method:ident(&self $(, $argument:ident: $argument_type:ty)* $(,)?) -> $answer:ty;
            )*
        }
    )*) => {
        $(
            $(#[doc = $port_doc])*
            #[async_trait]
            pub trait $port: Send + Sync {
                $(
                    $(#[doc = $doc])*
                    async fn $method(&self $(, $argument: $argument_type)*) -> $answer;
                )*
            }

            #[async_trait]
            impl $port for Hooked<dyn $port> {
                $(
                    async fn $method(&self $(, $argument: $argument_type)*) -> $answer {
                        let arguments: &[(&'static str, &(dyn Recordable + Sync))] =
                            &[$((stringify!($argument), &$argument)),*];
                        let call = Call::new(
                            operations::$operation,
                            stringify!($port),
                            stringify!($method),
                            arguments,
                        );
                        self.hook.before(&call).await?;
                        let answer = self
                            .inner
                            .$method($(Clone::clone(&$argument)),*)
                            .await;
                        self.hook.after(
                            &call,
                            answer.as_ref().map(|value| value as &(dyn std::any::Any + Send + Sync)),
                        );
                        answer
                    }
                )*
            }
        )*
    };
}

ports! {
    /// Aurora clusters and instances.
    pub trait Rds {
        /// One page of DescribeDBClusters with tags inline. `marker` is `None` for the first page.
        #[operation(RDS_DESCRIBE_DB_CLUSTERS)]
        async fn describe_clusters_page(
            &self,
            marker: Option<String>,
            max_records: i32,
        ) -> Result<ClusterPage, AwsError>;

        /// One cluster by identifier; `Ok(None)` when it does not exist.
        #[operation(RDS_DESCRIBE_DB_CLUSTERS)]
        async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError>;

        /// One instance by identifier; `Ok(None)` when it does not exist.
        #[operation(RDS_DESCRIBE_DB_INSTANCES)]
        async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError>;

        /// The instances of one cluster (empty when the cluster has none or does not exist).
        #[operation(RDS_DESCRIBE_DB_INSTANCES)]
        async fn describe_cluster_instances(
            &self,
            cluster_id: &str,
        ) -> Result<Vec<InstanceInfo>, AwsError>;

        /// Starts a restore at the latest restorable time and returns the new cluster, which is
        /// `creating`. Fails with `AlreadyExists` when the identifier is taken (never replaces).
        #[operation(RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME)]
        async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError>;

        /// Adds an instance to a cluster. Fails with `AlreadyExists` when the identifier is taken
        /// and with `InvalidState` when the cluster cannot take an instance yet.
        #[operation(RDS_CREATE_DB_INSTANCE)]
        async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError>;

        /// Deletes an instance. Succeeds when it is already gone or already being deleted.
        #[operation(RDS_DELETE_DB_INSTANCE)]
        async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError>;

        /// Starts a `stopped` cluster (StartDBCluster); it is `starting`, then `available`.
        /// `NotFound` when the cluster is gone, `InvalidState` when it is not stopped.
        #[operation(RDS_START_DB_CLUSTER)]
        async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError>;

        /// Stops an `available` cluster (StopDBCluster); it is `stopping`, then `stopped`, and
        /// Aurora starts it again by itself after seven days. `NotFound` when the cluster is
        /// gone, `InvalidState` when it is not available.
        #[operation(RDS_STOP_DB_CLUSTER)]
        async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError>;

        /// Deletes a cluster whose instances are gone or being deleted, with a final snapshot
        /// only when one is named. Succeeds when it is already gone or already being deleted;
        /// `InvalidState` while it is stopped (AWS refuses to delete a stopped cluster).
        #[operation(RDS_DELETE_DB_CLUSTER)]
        async fn delete_cluster(
            &self,
            cluster_id: &str,
            final_snapshot_id: Option<&str>,
        ) -> Result<(), AwsError>;

        /// Sets the master password, applied immediately. `NotFound` when the cluster is gone.
        #[operation(RDS_MODIFY_DB_CLUSTER)]
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
        #[operation(RDS_MODIFY_DB_CLUSTER)]
        async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError>;

        /// Adds or overwrites tags. Idempotent. `NotFound` when the resource is gone.
        #[operation(RDS_ADD_TAGS_TO_RESOURCE)]
        async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;

        /// Removes tags; keys that are not present are ignored. `NotFound` when the resource is gone.
        #[operation(RDS_REMOVE_TAGS_FROM_RESOURCE)]
        async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError>;
    }

    /// SSM parameters: the maintenance config and the leases.
    pub trait Params {
        /// The value and version; `Ok(None)` when the parameter does not exist.
        #[operation(SSM_GET_PARAMETER)]
        async fn get(&self, name: &str) -> Result<Option<ParameterValue>, AwsError>;

        /// One earlier version of the parameter (GetParameter with `name:version`); `Ok(None)`
        /// when the parameter or that version does not exist.
        #[operation(SSM_GET_PARAMETER)]
        async fn get_version(
            &self,
            name: &str,
            version: i64,
        ) -> Result<Option<ParameterValue>, AwsError>;

        /// The parameters directly under `path` (GetParametersByPath, not recursive), every
        /// page: (name, value). Empty when there are none.
        #[operation(SSM_GET_PARAMETERS_BY_PATH)]
        async fn list_path(&self, path: &str) -> Result<Vec<(String, String)>, AwsError>;

        /// Creates the parameter only if it does not exist (Overwrite=false). Returns the new
        /// version, or `Ok(None)` when it already existed.
        #[operation(SSM_PUT_PARAMETER)]
        async fn put_if_absent(&self, name: &str, value: &str) -> Result<Option<i64>, AwsError>;

        /// Creates or overwrites the parameter and returns its new version.
        #[operation(SSM_PUT_PARAMETER)]
        async fn put(&self, name: &str, value: &str) -> Result<i64, AwsError>;

        /// Deletes the parameter. Succeeds when it is already gone.
        #[operation(SSM_DELETE_PARAMETER)]
        async fn delete(&self, name: &str) -> Result<(), AwsError>;
    }

    /// The state table (DynamoDB): leases and records. Every read is strongly consistent,
    /// and a missing table is `NotFound`.
    pub trait StateTable {
        /// The item with this key; `Ok(None)` when there is none.
        #[operation(DYNAMODB_GET_ITEM)]
        async fn get_item(
            &self,
            table: &str,
            pk: &str,
            sk: &str,
        ) -> Result<Option<StateItem>, AwsError>;

        /// Writes the item, replacing any with its key, if `condition` holds for the item
        /// there now (DynamoDB checks and writes atomically); `Ok(false)` when it does not
        /// (ConditionalCheckFailedException), and then nothing was written.
        #[operation(DYNAMODB_PUT_ITEM)]
        async fn put_item(
            &self,
            table: &str,
            item: &StateItem,
            condition: &StateCondition,
        ) -> Result<bool, AwsError>;

        /// Deletes the item if `condition` holds for it; `Ok(false)` when it does not. An
        /// item that is not there is "deleted" when the condition allows a missing item.
        #[operation(DYNAMODB_DELETE_ITEM)]
        async fn delete_item(
            &self,
            table: &str,
            pk: &str,
            sk: &str,
            condition: &StateCondition,
        ) -> Result<bool, AwsError>;

        /// Every item with partition key `pk`, every page, in sort-key order.
        #[operation(DYNAMODB_QUERY)]
        async fn query(&self, table: &str, pk: &str) -> Result<Vec<StateItem>, AwsError>;
    }

    /// Who we are (STS).
    pub trait Identity {
        #[operation(STS_GET_CALLER_IDENTITY)]
        async fn caller(&self) -> Result<CallerIdentity, AwsError>;
    }

    /// Secrets Manager.
    pub trait Secrets {
        /// Creates a secret. `AlreadyExists` when the name is taken.
        #[operation(SECRETS_CREATE_SECRET)]
        async fn create_secret(&self, request: &SecretRequest) -> Result<SecretRef, AwsError>;

        /// Replaces the resource policy. `NotFound` when the secret is gone.
        #[operation(SECRETS_PUT_RESOURCE_POLICY)]
        async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), AwsError>;

        /// The current value; `Ok(None)` when the secret does not exist.
        #[operation(SECRETS_GET_SECRET_VALUE)]
        async fn get_value(&self, secret_id: &str) -> Result<Option<SecretString>, AwsError>;

        /// Stores a new current value. `NotFound` when the secret is gone.
        #[operation(SECRETS_PUT_SECRET_VALUE)]
        async fn put_value(&self, secret_id: &str, value: &SecretString) -> Result<(), AwsError>;

        /// Deletes the secret at once, without a recovery window. Succeeds when it is already gone.
        #[operation(SECRETS_DELETE_SECRET)]
        async fn delete_secret(&self, secret_id: &str) -> Result<(), AwsError>;

        /// One secret by name or ARN (DescribeSecret), with its tags; `Ok(None)` when it does
        /// not exist. Unlike listing, it sees a secret made a moment ago.
        #[operation(SECRETS_DESCRIBE_SECRET)]
        async fn describe_secret(&self, secret_id: &str) -> Result<Option<SecretSummary>, AwsError>;

        /// All secrets carrying the tag `key=value`, every page. ListSecrets is eventually
        /// consistent: secrets changed in the last few minutes may be missing, so never use it
        /// to find a secret whose name is known.
        #[operation(SECRETS_LIST_SECRETS)]
        async fn list_secrets_tagged(
            &self,
            key: &str,
            value: &str,
        ) -> Result<Vec<SecretSummary>, AwsError>;
    }

    /// KMS keys, aliases and grants.
    pub trait Keys {
        /// Creates a symmetric encryption key with the given policy and tags.
        #[operation(KMS_CREATE_KEY)]
        async fn create_key(&self, request: &KeyRequest) -> Result<KeyRef, AwsError>;

        /// Points a new alias at a key. `AlreadyExists` when the alias is taken.
        #[operation(KMS_CREATE_ALIAS)]
        async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError>;

        /// Deletes an alias. Succeeds when it is already gone.
        #[operation(KMS_DELETE_ALIAS)]
        async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError>;

        /// Aliases whose name starts with `prefix`, every page.
        #[operation(KMS_LIST_ALIASES)]
        async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError>;

        /// Ids of every key in the account and region, every page.
        #[operation(KMS_LIST_KEYS)]
        async fn list_keys(&self) -> Result<Vec<String>, AwsError>;

        /// The key's state and creation time; `Ok(None)` when the key does not exist.
        #[operation(KMS_DESCRIBE_KEY)]
        async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError>;

        /// The key's tags; `Ok(None)` when the key does not exist.
        #[operation(KMS_LIST_RESOURCE_TAGS)]
        async fn key_tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError>;

        /// Replaces the key policy (the policy named `default`). `NotFound` when the key is gone.
        #[operation(KMS_PUT_KEY_POLICY)]
        async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError>;

        /// Schedules deletion after the shortest waiting period (7 days). Succeeds when the key
        /// is already gone or already pending deletion.
        #[operation(KMS_SCHEDULE_KEY_DELETION)]
        async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError>;

        /// Grants `kms:Decrypt` on the key to one principal, limited to requests whose
        /// encryption context contains the given pairs, under a grant name so that it can be found again. Idempotent for the same
        /// name, grantee and constraint.
        #[operation(KMS_CREATE_GRANT)]
        async fn grant_decrypt(
            &self,
            key_id: &str,
            grant_name: &str,
            grantee: &str,
            encryption_context: &[(String, String)],
        ) -> Result<(), AwsError>;

        /// Grants on the key, every page.
        #[operation(KMS_LIST_GRANTS)]
        async fn list_grants(&self, key_id: &str) -> Result<Vec<GrantInfo>, AwsError>;

        /// Revokes a grant. Succeeds when it is already gone.
        #[operation(KMS_REVOKE_GRANT)]
        async fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<(), AwsError>;
    }

    /// EventBridge.
    pub trait Events {
        /// Puts one event; an entry the bus rejects is an error.
        #[operation(EVENTS_PUT_EVENTS)]
        async fn put_event(&self, event: &BusEvent) -> Result<(), AwsError>;
    }

    /// CloudWatch metrics.
    pub trait Metrics {
        /// The hourly maxima of `AWS/RDS` `DatabaseConnections` (dimension
        /// `DBClusterIdentifier`) of each cluster from `start` to `end`, in as few GetMetricData
        /// calls as possible (up to [`METRIC_QUERIES_PER_CALL`] clusters a call, every page).
        /// Hours without a data point (the cluster was stopped, or did not exist) are absent;
        /// a cluster without any data point is absent from the map.
        #[operation(CLOUDWATCH_GET_METRIC_DATA)]
        async fn hourly_max_connections(
            &self,
            cluster_ids: &[String],
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError>;

        /// The hourly maxima of `AWS/RDS` `ServerlessDatabaseCapacity` (dimension
        /// `DBClusterIdentifier`, in ACUs) of each cluster from `start` to `end`, batched and
        /// paged like [`Metrics::hourly_max_connections`]. An hour whose maximum is 0 is an
        /// hour the cluster's Serverless v2 writer was paused throughout (scaled to zero ACUs;
        /// that the metric reads 0 while paused is unverified in AWS's pages).
        #[operation(CLOUDWATCH_GET_METRIC_DATA)]
        async fn hourly_max_capacity(
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
        #[operation(CLOUDWATCH_GET_METRIC_DATA)]
        async fn latest_volume_bytes(
            &self,
            cluster_ids: &[String],
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        ) -> Result<BTreeMap<String, f64>, AwsError>;
    }

    /// Lambda, for handing work over to a fresh invocation of this function.
    pub trait Invoker {
        /// Invokes the function asynchronously (InvocationType=Event) with a JSON payload.
        #[operation(LAMBDA_INVOKE)]
        async fn invoke_async(
            &self,
            function_name: &str,
            payload: &serde_json::Value,
        ) -> Result<(), AwsError>;
    }

    /// An SQS queue: the records of asynchronous invocations that failed every attempt, which
    /// the CLI reads to answer the CloudFormation requests inside them. Not among [`Ports`]:
    /// the function itself never reads the queue.
    pub trait Queue {
        /// Up to 10 messages, hidden from other readers for `visibility` (ReceiveMessage); empty
        /// when none is visible now.
        #[operation(SQS_RECEIVE_MESSAGE)]
        async fn receive(
            &self,
            queue_url: &str,
            visibility: std::time::Duration,
        ) -> Result<Vec<QueueMessage>, AwsError>;

        /// Deletes a received message (DeleteMessage). Succeeds when it is already gone.
        #[operation(SQS_DELETE_MESSAGE)]
        async fn delete(&self, queue_url: &str, receipt_handle: &str) -> Result<(), AwsError>;
    }
}

/// GetMetricData retrieves as many as 500 metrics in one request, with at most 100,800
/// data points in all (CloudWatch API reference, GetMetricData,
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
pub const METRIC_QUERIES_PER_CALL: usize = 500;

/// All ports together, as the executors need them.
#[derive(Clone)]
pub struct Ports {
    pub rds: Arc<dyn Rds>,
    pub params: Arc<dyn Params>,
    pub state: Arc<dyn StateTable>,
    pub identity: Arc<dyn Identity>,
    pub secrets: Arc<dyn Secrets>,
    pub keys: Arc<dyn Keys>,
    pub events: Arc<dyn Events>,
    pub invoker: Arc<dyn Invoker>,
    pub metrics: Arc<dyn Metrics>,
}
