//! Faults around any port: [`FailureClient`] wraps a port and, before each call reaches
//! it, applies the [`Faults`] a test or benchmark scheduled: an AWS error (throttling, a
//! server error, a refusal) or a panic for the next calls of an operation, latency on
//! every call, and a halt after a number of changing calls that models a Lambda killed
//! mid-step. [`Faults::wrap`] wraps every port of a [`Ports`] bundle, so the same faults
//! apply to the in-process fake, a recorder, or any other implementation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::aws::{
    AwsError, AwsErrorKind, BusEvent, CallerIdentity, ClusterInfo, ClusterPage, Events, GrantInfo,
    Identity, InstanceInfo, InstanceRequest, Invoker, KeyAlias, KeyRef, KeyRequest, KeySummary,
    Keys, Metrics, ParameterValue, Params, Ports, Rds, RestoreRequest, SecretRef, SecretRequest,
    SecretString, SecretSummary, Secrets, Tags,
};

/// A failure to inject into calls of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttle,
    ServerError,
    NotFound,
    Denied,
    InvalidState,
    /// The call panics, as a bug would.
    Panic,
}

impl Fault {
    fn into_error(self, operation: &'static str) -> AwsError {
        let (kind, message) = match self {
            Fault::Throttle => (AwsErrorKind::Throttled, "Rate exceeded (injected)"),
            Fault::ServerError => (AwsErrorKind::Other, "Internal failure (injected)"),
            Fault::NotFound => (AwsErrorKind::NotFound, "Not found (injected)"),
            Fault::Denied => (AwsErrorKind::Denied, "Access denied (injected)"),
            Fault::InvalidState => (AwsErrorKind::InvalidState, "Invalid state (injected)"),
            Fault::Panic => panic!("injected panic in {operation}"),
        };
        AwsError::new(kind, operation, message)
    }
}

#[derive(Debug, Clone)]
struct FaultRule {
    operation: String,
    fault: Fault,
    skip: u32,
    remaining: u32,
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<FaultRule>,
    /// Faults returned so far, by operation.
    fired: BTreeMap<&'static str, u64>,
    latency: Duration,
    /// Changing calls let through so far: the step counter of a halt.
    mutations: u64,
    halt_after_mutations: Option<u64>,
}

/// The faults scheduled for the calls of one or more wrapped ports.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<FaultState>,
    halted: tokio::sync::Notify,
}

impl Faults {
    pub fn new() -> Arc<Faults> {
        Arc::new(Faults::default())
    }

    /// Every port of `ports`, wrapped so that these faults apply to its calls.
    pub fn wrap(self: &Arc<Self>, ports: Ports) -> Ports {
        Ports {
            rds: Arc::new(FailureClient::new(ports.rds, self.clone())),
            params: Arc::new(FailureClient::new(ports.params, self.clone())),
            identity: Arc::new(FailureClient::new(ports.identity, self.clone())),
            secrets: Arc::new(FailureClient::new(ports.secrets, self.clone())),
            keys: Arc::new(FailureClient::new(ports.keys, self.clone())),
            events: Arc::new(FailureClient::new(ports.events, self.clone())),
            invoker: Arc::new(FailureClient::new(ports.invoker, self.clone())),
            metrics: Arc::new(FailureClient::new(ports.metrics, self.clone())),
        }
    }

    /// Makes the next `times` calls of `operation` (for example
    /// `rds:RestoreDBClusterToPointInTime`, or `*` for every operation) fail.
    pub fn inject(&self, operation: &str, fault: Fault, times: u32) {
        self.inject_after(operation, fault, 0, times);
    }

    /// Like [`Faults::inject`], but lets `skip` calls through first.
    pub fn inject_after(&self, operation: &str, fault: Fault, skip: u32, times: u32) {
        self.lock().rules.push(FaultRule {
            operation: operation.to_string(),
            fault,
            skip,
            remaining: times,
        });
    }

    pub fn clear_faults(&self) {
        self.lock().rules.clear();
    }

    /// How many injected faults each operation has returned: proof that a test's fault
    /// was reached.
    pub fn fired(&self) -> BTreeMap<&'static str, u64> {
        self.lock().fired.clone()
    }

    /// Every call waits this long before it reaches the port.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// After `mutations` more changing calls, every further call blocks until
    /// [`Faults::resume`], as if the process had been killed; the test drops the caller's
    /// future.
    pub fn halt_after_mutations(&self, mutations: u64) {
        let mut state = self.lock();
        state.halt_after_mutations = Some(state.mutations + mutations);
    }

    /// Lets calls through again after a halt.
    pub fn resume(&self) {
        self.lock().halt_after_mutations = None;
        self.halted.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every wrapped call passes here: honours a halt, waits the latency, and returns an
    /// injected failure when one is due; a changing call let through counts as a step.
    async fn enter(&self, operation: &'static str, mutating: bool) -> Result<(), AwsError> {
        let (latency, halted) = {
            let state = self.lock();
            let halted = state
                .halt_after_mutations
                .is_some_and(|limit| state.mutations >= limit);
            (state.latency, halted)
        };
        if halted {
            loop {
                let notified = self.halted.notified();
                if self.lock().halt_after_mutations.is_none() {
                    break;
                }
                notified.await;
            }
        }
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        for rule in state.rules.iter_mut() {
            if rule.remaining == 0 || (rule.operation != "*" && rule.operation != operation) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            rule.remaining -= 1;
            let fault = rule.fault;
            *state.fired.entry(operation).or_insert(0) += 1;
            drop(state);
            return Err(fault.into_error(operation));
        }
        if mutating {
            state.mutations += 1;
        }
        Ok(())
    }
}

/// A port that injects [`Faults`] before each call reaches the port it wraps. Operations
/// are named as IAM names them (`rds:CreateDBInstance`), the names the faults match.
pub struct FailureClient<P: ?Sized> {
    inner: Arc<P>,
    faults: Arc<Faults>,
}

impl<P: ?Sized> FailureClient<P> {
    pub fn new(inner: Arc<P>, faults: Arc<Faults>) -> FailureClient<P> {
        FailureClient { inner, faults }
    }
}

#[async_trait]
impl Rds for FailureClient<dyn Rds> {
    async fn describe_clusters_page(
        &self,
        marker: Option<String>,
        max_records: i32,
    ) -> Result<ClusterPage, AwsError> {
        self.faults.enter("rds:DescribeDBClusters", false).await?;
        self.inner.describe_clusters_page(marker, max_records).await
    }

    async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError> {
        self.faults.enter("rds:DescribeDBClusters", false).await?;
        self.inner.describe_cluster(cluster_id).await
    }

    async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError> {
        self.faults.enter("rds:DescribeDBInstances", false).await?;
        self.inner.describe_instance(instance_id).await
    }

    async fn describe_cluster_instances(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError> {
        self.faults.enter("rds:DescribeDBInstances", false).await?;
        self.inner.describe_cluster_instances(cluster_id).await
    }

    async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError> {
        self.faults
            .enter("rds:RestoreDBClusterToPointInTime", true)
            .await?;
        self.inner.restore_cluster(request).await
    }

    async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError> {
        self.faults.enter("rds:CreateDBInstance", true).await?;
        self.inner.create_instance(request).await
    }

    async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError> {
        self.faults.enter("rds:DeleteDBInstance", true).await?;
        self.inner.delete_instance(instance_id).await
    }

    async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.faults.enter("rds:StartDBCluster", true).await?;
        self.inner.start_cluster(cluster_id).await
    }

    async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.faults.enter("rds:StopDBCluster", true).await?;
        self.inner.stop_cluster(cluster_id).await
    }

    async fn delete_cluster(
        &self,
        cluster_id: &str,
        final_snapshot_id: Option<&str>,
    ) -> Result<(), AwsError> {
        self.faults.enter("rds:DeleteDBCluster", true).await?;
        self.inner
            .delete_cluster(cluster_id, final_snapshot_id)
            .await
    }

    async fn set_master_password(
        &self,
        cluster_id: &str,
        password: &SecretString,
    ) -> Result<(), AwsError> {
        self.faults.enter("rds:ModifyDBCluster", true).await?;
        self.inner.set_master_password(cluster_id, password).await
    }

    async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError> {
        self.faults.enter("rds:ModifyDBCluster", true).await?;
        self.inner.rename_cluster(cluster_id, new_cluster_id).await
    }

    async fn rename_instance(
        &self,
        instance_id: &str,
        new_instance_id: &str,
    ) -> Result<(), AwsError> {
        self.faults.enter("rds:ModifyDBInstance", true).await?;
        self.inner
            .rename_instance(instance_id, new_instance_id)
            .await
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.faults.enter("rds:AddTagsToResource", true).await?;
        self.inner.add_tags(arn, tags).await
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.faults
            .enter("rds:RemoveTagsFromResource", true)
            .await?;
        self.inner.remove_tags(arn, keys).await
    }
}

#[async_trait]
impl Params for FailureClient<dyn Params> {
    async fn get(&self, name: &str) -> Result<Option<ParameterValue>, AwsError> {
        self.faults.enter("ssm:GetParameter", false).await?;
        self.inner.get(name).await
    }

    async fn get_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ParameterValue>, AwsError> {
        self.faults.enter("ssm:GetParameter", false).await?;
        self.inner.get_version(name, version).await
    }

    async fn list_path(&self, path: &str) -> Result<Vec<(String, String)>, AwsError> {
        self.faults.enter("ssm:GetParametersByPath", false).await?;
        self.inner.list_path(path).await
    }

    async fn put_if_absent(&self, name: &str, value: &str) -> Result<Option<i64>, AwsError> {
        self.faults.enter("ssm:PutParameter", true).await?;
        self.inner.put_if_absent(name, value).await
    }

    async fn put(&self, name: &str, value: &str) -> Result<i64, AwsError> {
        self.faults.enter("ssm:PutParameter", true).await?;
        self.inner.put(name, value).await
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        self.faults.enter("ssm:DeleteParameter", true).await?;
        self.inner.delete(name).await
    }
}

#[async_trait]
impl Identity for FailureClient<dyn Identity> {
    async fn caller(&self) -> Result<CallerIdentity, AwsError> {
        self.faults.enter("sts:GetCallerIdentity", false).await?;
        self.inner.caller().await
    }
}

#[async_trait]
impl Secrets for FailureClient<dyn Secrets> {
    async fn create_secret(&self, request: &SecretRequest) -> Result<SecretRef, AwsError> {
        self.faults
            .enter("secretsmanager:CreateSecret", true)
            .await?;
        self.inner.create_secret(request).await
    }

    async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), AwsError> {
        self.faults
            .enter("secretsmanager:PutResourcePolicy", true)
            .await?;
        self.inner.put_resource_policy(secret_id, policy).await
    }

    async fn get_value(&self, secret_id: &str) -> Result<Option<SecretString>, AwsError> {
        self.faults
            .enter("secretsmanager:GetSecretValue", false)
            .await?;
        self.inner.get_value(secret_id).await
    }

    async fn put_value(&self, secret_id: &str, value: &SecretString) -> Result<(), AwsError> {
        self.faults
            .enter("secretsmanager:PutSecretValue", true)
            .await?;
        self.inner.put_value(secret_id, value).await
    }

    async fn delete_secret(&self, secret_id: &str) -> Result<(), AwsError> {
        self.faults
            .enter("secretsmanager:DeleteSecret", true)
            .await?;
        self.inner.delete_secret(secret_id).await
    }

    async fn describe_secret(&self, secret_id: &str) -> Result<Option<SecretSummary>, AwsError> {
        self.faults
            .enter("secretsmanager:DescribeSecret", false)
            .await?;
        self.inner.describe_secret(secret_id).await
    }

    async fn list_secrets_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<SecretSummary>, AwsError> {
        self.faults
            .enter("secretsmanager:ListSecrets", false)
            .await?;
        self.inner.list_secrets_tagged(key, value).await
    }
}

#[async_trait]
impl Keys for FailureClient<dyn Keys> {
    async fn create_key(&self, request: &KeyRequest) -> Result<KeyRef, AwsError> {
        self.faults.enter("kms:CreateKey", true).await?;
        self.inner.create_key(request).await
    }

    async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError> {
        self.faults.enter("kms:CreateAlias", true).await?;
        self.inner.create_alias(alias_name, key_id).await
    }

    async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError> {
        self.faults.enter("kms:DeleteAlias", true).await?;
        self.inner.delete_alias(alias_name).await
    }

    async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError> {
        self.faults.enter("kms:ListAliases", false).await?;
        self.inner.list_aliases(prefix).await
    }

    async fn list_keys(&self) -> Result<Vec<String>, AwsError> {
        self.faults.enter("kms:ListKeys", false).await?;
        self.inner.list_keys().await
    }

    async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError> {
        self.faults.enter("kms:DescribeKey", false).await?;
        self.inner.describe_key(key_id).await
    }

    async fn key_tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError> {
        self.faults.enter("kms:ListResourceTags", false).await?;
        self.inner.key_tags(key_id).await
    }

    async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        self.faults.enter("kms:PutKeyPolicy", true).await?;
        self.inner.put_key_policy(key_id, policy).await
    }

    async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError> {
        self.faults.enter("kms:ScheduleKeyDeletion", true).await?;
        self.inner.schedule_key_deletion(key_id).await
    }

    async fn grant_decrypt(
        &self,
        key_id: &str,
        grant_name: &str,
        grantee: &str,
        encryption_context: &[(String, String)],
    ) -> Result<(), AwsError> {
        self.faults.enter("kms:CreateGrant", true).await?;
        self.inner
            .grant_decrypt(key_id, grant_name, grantee, encryption_context)
            .await
    }

    async fn list_grants(&self, key_id: &str) -> Result<Vec<GrantInfo>, AwsError> {
        self.faults.enter("kms:ListGrants", false).await?;
        self.inner.list_grants(key_id).await
    }

    async fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<(), AwsError> {
        self.faults.enter("kms:RevokeGrant", true).await?;
        self.inner.revoke_grant(key_id, grant_id).await
    }
}

#[async_trait]
impl Events for FailureClient<dyn Events> {
    async fn put_event(&self, event: &BusEvent) -> Result<(), AwsError> {
        self.faults.enter("events:PutEvents", true).await?;
        self.inner.put_event(event).await
    }
}

#[async_trait]
impl Metrics for FailureClient<dyn Metrics> {
    async fn hourly_max_connections(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        self.faults.enter("cloudwatch:GetMetricData", false).await?;
        self.inner
            .hourly_max_connections(cluster_ids, start, end)
            .await
    }

    async fn latest_volume_bytes(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, AwsError> {
        self.faults.enter("cloudwatch:GetMetricData", false).await?;
        self.inner
            .latest_volume_bytes(cluster_ids, start, end)
            .await
    }
}

#[async_trait]
impl Invoker for FailureClient<dyn Invoker> {
    async fn invoke_async(
        &self,
        function_name: &str,
        payload: &serde_json::Value,
    ) -> Result<(), AwsError> {
        self.faults.enter("lambda:Invoke", true).await?;
        self.inner.invoke_async(function_name, payload).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::FakeAws;

    fn wrapped() -> (Arc<FakeAws>, Arc<Faults>, Ports) {
        let fake = FakeAws::new();
        let faults = Faults::new();
        let ports = faults.wrap(fake.ports());
        (fake, faults, ports)
    }

    #[tokio::test]
    async fn an_injected_fault_reaches_the_caller_and_never_the_wrapped_port() {
        let (fake, faults, ports) = wrapped();
        faults.inject("ssm:GetParameter", Fault::Throttle, 1);
        let error = ports.params.get("/acm/x").await.unwrap_err();
        assert_eq!(error.kind(), AwsErrorKind::Throttled);
        assert_eq!(error.operation(), "ssm:GetParameter");
        assert_eq!(fake.call_counts().get("ssm:GetParameter"), None);
        assert_eq!(faults.fired().get("ssm:GetParameter"), Some(&1));
        assert_eq!(ports.params.get("/acm/x").await.unwrap(), None);
        assert_eq!(fake.call_counts().get("ssm:GetParameter"), Some(&1));
    }

    #[tokio::test]
    async fn a_fault_after_skipped_calls_matches_only_its_operation() {
        let (_fake, faults, ports) = wrapped();
        faults.inject_after("ssm:PutParameter", Fault::Denied, 1, 1);
        ports.params.get("/acm/x").await.unwrap();
        ports.params.put("/acm/x", "1").await.unwrap();
        let error = ports.params.put("/acm/x", "2").await.unwrap_err();
        assert_eq!(error.kind(), AwsErrorKind::Denied);
        ports.params.put("/acm/x", "3").await.unwrap();
        faults.inject("*", Fault::ServerError, 1);
        assert_eq!(
            ports.identity.caller().await.unwrap_err().operation(),
            "sts:GetCallerIdentity"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_halt_stops_calls_after_the_given_changing_calls_until_resumed() {
        let (fake, faults, ports) = wrapped();
        faults.halt_after_mutations(1);
        ports.params.get("/acm/x").await.unwrap();
        ports.params.put("/acm/x", "1").await.unwrap();
        let blocked = tokio::time::timeout(Duration::from_secs(60), ports.params.get("/acm/x"));
        assert!(blocked.await.is_err(), "a halted call returned");
        assert_eq!(fake.mutation_count(), 1);
        faults.resume();
        assert!(ports.params.get("/acm/x").await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_every_call_before_it_reaches_the_port() {
        let (_fake, faults, ports) = wrapped();
        faults.set_latency(Duration::from_millis(250));
        let started = tokio::time::Instant::now();
        ports.params.get("/acm/x").await.unwrap();
        ports.rds.describe_cluster("nothing").await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
