//! Domain types that the ports take and return; no SDK type leaks past the adapters.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ClusterStatus;

/// Resource tags, sorted by key so that plans and outputs are stable.
pub type Tags = BTreeMap<String, String>;

/// One Aurora cluster as DescribeDBClusters reports it, tags included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    pub id: String,
    pub arn: String,
    /// As RDS reported it: `creating`, `available`, `deleting`, ...
    pub status: ClusterStatus,
    /// A master password change is accepted but not applied yet
    /// (`PendingModifiedValues.MasterUserPassword`); the status may read `available` meanwhile.
    #[serde(default)]
    pub pending_master_password: bool,
    pub engine: String,
    #[serde(default)]
    pub engine_version: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub members: Vec<ClusterMember>,
    /// Shared by a cluster and its copy-on-write clones; AWS omits it for clusters never cloned.
    #[serde(default)]
    pub clone_group_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub reader_endpoint: Option<String>,
    #[serde(default)]
    pub port: Option<i32>,
    #[serde(default)]
    pub master_username: Option<String>,
    #[serde(default)]
    pub database_name: Option<String>,
    #[serde(default)]
    pub db_subnet_group: Option<String>,
    #[serde(default)]
    pub vpc_security_group_ids: Vec<String>,
    #[serde(default)]
    pub db_cluster_parameter_group: Option<String>,
    #[serde(default)]
    pub iam_database_authentication_enabled: bool,
    /// `aurora` (Standard) or `aurora-iopt1` (I/O-Optimized).
    #[serde(default)]
    pub storage_type: Option<String>,
    /// Log types exported to CloudWatch Logs (`postgresql`, `audit`, `slowquery`, ...).
    #[serde(default)]
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// Present when the cluster can run Aurora Serverless v2 (`db.serverless`) instances.
    #[serde(default)]
    pub serverless_v2_scaling: Option<ServerlessV2Scaling>,
    /// `DbClusterResourceId`: what IAM database authentication (`rds-db:connect`) and
    /// CloudWatch Logs name the cluster by. A rename keeps it; a new cluster (a refresh's)
    /// gets a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// The engines of Aurora clusters: `aurora` is the legacy Aurora MySQL 1 (MySQL 5.6).
/// DescribeDBClusters also lists Neptune (`neptune`), DocumentDB (`docdb`) and Multi-AZ DB
/// clusters (`mysql`, `postgres`), which cannot be cloned as Aurora clusters.
/// Source: RDS API reference, DescribeDBClusters and CreateDBCluster `Engine`
/// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
pub const AURORA_ENGINES: &[&str] = &["aurora-mysql", "aurora-postgresql", "aurora"];

/// Whether an engine name is one of [`AURORA_ENGINES`].
pub fn is_aurora_engine(engine: &str) -> bool {
    AURORA_ENGINES.contains(&engine)
}

/// The capacity range of Aurora Serverless v2 instances in a cluster, in Aurora capacity
/// units. A cluster needs one before it can take a `db.serverless` instance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerlessV2Scaling {
    #[serde(default)]
    pub min_capacity: Option<f64>,
    #[serde(default)]
    pub max_capacity: Option<f64>,
    #[serde(default)]
    pub seconds_until_auto_pause: Option<i32>,
}

// Capacities are half-step ACU values from the API, never NaN, so equality is total.
impl Eq for ServerlessV2Scaling {}

impl ClusterInfo {
    pub fn is_available(&self) -> bool {
        self.status == ClusterStatus::Available
    }

    pub fn is_aurora(&self) -> bool {
        is_aurora_engine(&self.engine)
    }

    pub fn is_creating(&self) -> bool {
        self.status == ClusterStatus::Creating
    }

    pub fn is_deleting(&self) -> bool {
        self.status == ClusterStatus::Deleting
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    pub fn writer_instance_id(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|member| member.is_writer)
            .or_else(|| self.members.first())
            .map(|member| member.instance_id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMember {
    pub instance_id: String,
    pub is_writer: bool,
}

/// One page of DescribeDBClusters.
#[derive(Debug, Clone, Default)]
pub struct ClusterPage {
    pub clusters: Vec<ClusterInfo>,
    /// Present when more pages follow.
    pub marker: Option<String>,
}

/// One DB instance as DescribeDBInstances reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    pub id: String,
    pub arn: String,
    pub cluster_id: Option<String>,
    pub status: String,
    pub instance_class: String,
    pub engine: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub port: Option<i32>,
    #[serde(default)]
    pub db_parameter_group: Option<String>,
    #[serde(default)]
    pub publicly_accessible: bool,
}

impl InstanceInfo {
    pub fn is_available(&self) -> bool {
        self.status == "available"
    }

    pub fn is_deleting(&self) -> bool {
        self.status == "deleting"
    }
}

/// How a restore copies the data: a copy-on-write clone or a full copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreType {
    CopyOnWrite,
    FullCopy,
}

impl RestoreType {
    /// The value of the `RestoreType` API parameter.
    pub fn as_api_str(self) -> &'static str {
        match self {
            RestoreType::CopyOnWrite => "copy-on-write",
            RestoreType::FullCopy => "full-copy",
        }
    }
}

/// A RestoreDBClusterToPointInTime call at the latest restorable time, fully decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    pub cluster_id: String,
    pub source_cluster_id: String,
    pub restore_type: RestoreType,
    pub tags: Tags,
    #[serde(default)]
    pub db_subnet_group_name: Option<String>,
    #[serde(default)]
    pub vpc_security_group_ids: Vec<String>,
    #[serde(default)]
    pub db_cluster_parameter_group_name: Option<String>,
    #[serde(flatten)]
    pub settings: RestoreSettings,
}

/// What a restore does not take from its source by itself: RestoreDBClusterToPointInTime
/// uses the engine's default port, no IAM database authentication, Standard storage, no log
/// exports and no Serverless v2 capacity range unless the request names them (RDS API
/// reference, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html;
/// each is "Valid for: Aurora DB clusters and Multi-AZ DB clusters").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSettings {
    #[serde(default)]
    pub port: Option<i32>,
    /// Sent as given (true or false), never left to the API's default (off).
    #[serde(default)]
    pub enable_iam_database_authentication: bool,
    /// `aurora` or `aurora-iopt1`.
    #[serde(default)]
    pub storage_type: Option<String>,
    #[serde(default)]
    pub enable_cloudwatch_logs_exports: Vec<String>,
    /// Needed before the new cluster can take a `db.serverless` instance.
    #[serde(default)]
    pub serverless_v2_scaling: Option<ServerlessV2Scaling>,
}

impl RestoreSettings {
    /// The cluster's own settings, for a restore that should look like it.
    pub fn of(cluster: &ClusterInfo) -> RestoreSettings {
        RestoreSettings {
            port: cluster.port,
            enable_iam_database_authentication: cluster.iam_database_authentication_enabled,
            storage_type: cluster.storage_type.clone(),
            enable_cloudwatch_logs_exports: cluster.enabled_cloudwatch_logs_exports.clone(),
            serverless_v2_scaling: cluster.serverless_v2_scaling,
        }
    }
}

/// A CreateDBInstance call for a cluster member, fully decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRequest {
    pub instance_id: String,
    pub cluster_id: String,
    pub instance_class: String,
    pub engine: String,
    #[serde(default)]
    pub db_parameter_group_name: Option<String>,
    /// Sent explicitly: left out, the API's default depends on the subnet group and can be
    /// public.
    #[serde(default)]
    pub publicly_accessible: bool,
    pub tags: Tags,
}

/// A secret value (password or credentials document). Its `Debug` never shows the content,
/// and it has no `Display` and no `Serialize`, so it cannot end up in a log line or a plan.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: String) -> Self {
        SecretString(value)
    }

    /// The only way to read the content: call sites that need it are few and obvious.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// A Secrets Manager secret to create.
#[derive(Debug, Clone)]
pub struct SecretRequest {
    pub name: String,
    pub description: String,
    pub value: SecretString,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
}

/// A secret as the API identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    pub arn: String,
    pub name: String,
}

/// A secret found by ListSecrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSummary {
    pub arn: String,
    pub name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub tags: Tags,
}

/// A KMS key to create.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub description: String,
    pub policy: String,
    pub tags: Tags,
}

/// A KMS key as the API identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    pub key_id: String,
    pub arn: String,
}

/// A KMS alias as ListAliases reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAlias {
    pub alias_name: String,
    pub key_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// A KMS key as DescribeKey reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySummary {
    pub key_id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub pending_deletion: bool,
}

/// A key of ours that no alias points at (its create was interrupted before the alias).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StrayKey {
    pub key_id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub tags: Tags,
}

/// A KMS grant as ListGrants reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantInfo {
    pub grant_id: String,
    pub name: Option<String>,
    pub grantee: String,
}

/// An SSM parameter value with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterValue {
    pub value: String,
    pub version: i64,
}

/// One item of the state table (DynamoDB): its key and its other attributes.
///
/// The table's key is a string partition key `pk` and a string sort key `sk`; items of one
/// kind share a `pk`, so a Query lists them. `expires_at` (epoch seconds) is the table's TTL
/// attribute: DynamoDB deletes an item some time after it (typically within days), so it only
/// cleans up; whether an item still counts is decided by the reader or a write's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateItem {
    pub pk: String,
    pub sk: String,
    pub attributes: BTreeMap<String, StateValue>,
}

impl StateItem {
    pub fn new(pk: &str, sk: &str) -> StateItem {
        StateItem {
            pk: pk.to_string(),
            sk: sk.to_string(),
            attributes: BTreeMap::new(),
        }
    }

    /// Sets a text attribute.
    pub fn with_text(mut self, name: &str, value: &str) -> StateItem {
        self.attributes
            .insert(name.to_string(), StateValue::Text(value.to_string()));
        self
    }

    /// Sets a number attribute.
    pub fn with_number(mut self, name: &str, value: i64) -> StateItem {
        self.attributes
            .insert(name.to_string(), StateValue::Number(value));
        self
    }

    /// A text attribute; `None` when absent or not text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.attributes.get(name) {
            Some(StateValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// A number attribute; `None` when absent or not a number.
    pub fn number(&self, name: &str) -> Option<i64> {
        match self.attributes.get(name) {
            Some(StateValue::Number(number)) => Some(*number),
            _ => None,
        }
    }
}

/// An attribute value of the state table: DynamoDB's `S` or `N` (we store whole numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateValue {
    Text(String),
    Number(i64),
}

/// What must hold for a write to the state table to happen, checked by DynamoDB atomically
/// with the write (a condition expression): the compare-and-swap under leases and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateCondition {
    /// No condition.
    Always,
    /// The item does not exist (`attribute_not_exists(pk)`).
    Absent,
    /// The item lacks the attribute, or does not exist (`attribute_not_exists(#a)`).
    Missing(String),
    /// The attribute exists and equals the value (`#a = :v`).
    Equals(String, StateValue),
    /// The attribute is a number below the value (`#a < :v`); false when it is absent.
    Below(String, i64),
    /// Any of the conditions holds (`OR`).
    Any(Vec<StateCondition>),
    /// Every condition holds (`AND`).
    All(Vec<StateCondition>),
}

impl StateCondition {
    /// Whether `item` (`None`: no such item) meets the condition. DynamoDB decides this
    /// for real writes; the fake and the tests decide it here.
    pub fn holds_for(&self, item: Option<&StateItem>) -> bool {
        match self {
            StateCondition::Always => true,
            StateCondition::Absent => item.is_none(),
            StateCondition::Missing(name) => {
                item.is_none_or(|item| !item.attributes.contains_key(name))
            }
            StateCondition::Equals(name, value) => {
                item.and_then(|item| item.attributes.get(name)) == Some(value)
            }
            StateCondition::Below(name, limit) => item
                .and_then(|item| item.number(name))
                .is_some_and(|number| number < *limit),
            StateCondition::Any(conditions) => {
                conditions.iter().any(|condition| condition.holds_for(item))
            }
            StateCondition::All(conditions) => {
                conditions.iter().all(|condition| condition.holds_for(item))
            }
        }
    }
}

/// Who we are talking to AWS as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

impl CallerIdentity {
    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`) taken from the caller's ARN.
    pub fn partition(&self) -> &str {
        self.arn.split(':').nth(1).unwrap_or("aws")
    }

    /// The caller as IAM names it in `aws:PrincipalArn` and in policy principals.
    pub fn principal_arn(&self) -> String {
        CallerIdentity::principal_arn_of(&self.arn)
    }

    /// A role session (`arn:P:sts::A:assumed-role/ROLE/SESSION`) as its role
    /// (`arn:P:iam::A:role/ROLE`; the session ARN does not carry the role's path, so a role
    /// with a path must be named explicitly); any other ARN unchanged.
    pub fn principal_arn_of(arn: &str) -> String {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if let [_, partition, "sts", _, account, resource] = parts.as_slice()
            && let Some(rest) = resource.strip_prefix("assumed-role/")
            && let Some((role, _session)) = rest.split_once('/')
        {
            return format!("arn:{partition}:iam::{account}:role/{role}");
        }
        arn.to_string()
    }
}

/// An EventBridge event to put on a bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusEvent {
    pub bus_name: String,
    pub source: String,
    pub detail_type: String,
    pub detail: serde_json::Value,
    pub resources: Vec<String>,
}

/// A message received from an SQS queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub message_id: String,
    /// What DeleteMessage needs to delete this receipt of the message.
    pub receipt_handle: String,
    pub body: String,
}
