//! The clone manager wired to moto through a per-test account proxy, for end-to-end tests
//! of the SDK adapters: real HTTP to the emulator, real PUTs to a captured ResponseURL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aurora_clone_manager::aws::sdk::{Connection, StaticCredentials, load_sdk_config, sdk_ports};
use aurora_clone_manager::aws::{
    AwsError, ClusterInfo, ClusterPage, InstanceInfo, InstanceRequest, Ports, Rds, RestoreRequest,
    SecretString, Tags,
};
use aurora_clone_manager::clock::SystemClock;
use aurora_clone_manager::config::Config;
use aurora_clone_manager::metrics::RecordedMetrics;
use aurora_clone_manager::run::context::{Context, Invocation};
use aurora_clone_manager::run::respond::HttpResponder;
use aws_config::SdkConfig;

use super::capture::{Capture, response_capture};
use super::faults::FaultSchedule;
use super::proxy::{Proxy, moto_account_proxy};
use super::seed::sdk_config;

/// One moto account, the clone manager deployed as `acm`, and a capture for its answers.
pub struct MotoEnv {
    pub proxy: Proxy,
    /// An SDK config for the test's own checks (through the same proxy, so the same account).
    pub sdk: SdkConfig,
    pub capture: Capture,
    pub app: Arc<Context>,
    pub rds: Arc<RecordingRds>,
    pub metrics: Arc<RecordedMetrics>,
}

pub async fn moto_env(faults: FaultSchedule) -> MotoEnv {
    moto_env_with(faults, |_| {}).await
}

pub async fn moto_env_with(faults: FaultSchedule, change: impl FnOnce(&mut Config)) -> MotoEnv {
    moto_env_with_ports(faults, change, |_| {}).await
}

/// As [`moto_env_with`], with a change to the SDK ports before the clone manager gets them:
/// for a port moto cannot serve (its CloudWatch answers the Rust client's requests with 404),
/// while every other call still goes through the SDK adapters to moto.
pub async fn moto_env_with_ports(
    faults: FaultSchedule,
    change: impl FnOnce(&mut Config),
    change_ports: impl FnOnce(&mut Ports),
) -> MotoEnv {
    let proxy = moto_account_proxy(faults).await;
    let mut config = Config::for_stack("acm");
    config.poll_interval = Duration::from_millis(200);
    config.lease_wait = Duration::from_secs(30);
    change(&mut config);
    let connection = Connection {
        region: Some("us-east-1".into()),
        profile: None,
        endpoint_url: Some(proxy.endpoint()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
        }),
    };
    let sdk_for_app = load_sdk_config(&connection, &config.retry).await;
    let mut ports = sdk_ports(&sdk_for_app);
    change_ports(&mut ports);
    let rds = Arc::new(RecordingRds {
        inner: ports.rds.clone(),
        password_changes: Mutex::new(Vec::new()),
    });
    ports.rds = rds.clone();
    let metrics = Arc::new(RecordedMetrics::default());
    let app = Arc::new(
        Context::new(
            config,
            ports,
            Arc::new(HttpResponder::new()),
            Arc::new(SystemClock),
            "us-east-1",
        )
        .with_metrics(metrics.clone()),
    );
    MotoEnv {
        sdk: sdk_config(&proxy.endpoint()),
        capture: response_capture().await,
        proxy,
        app,
        rds,
        metrics,
    }
}

/// The stack that sends the tests' CloudFormation requests.
pub const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f0e0d0c-aaaa-bbbb-cccc-000000000001";

/// A CloudFormation request for the resource `TestDb` (with a physical id for Update and
/// Delete).
pub fn cfn_request(
    kind: &str,
    response_url: &str,
    request_id: &str,
    physical_id: Option<&str>,
    properties: serde_json::Value,
) -> serde_json::Value {
    let mut event = serde_json::json!({
        "RequestType": kind,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": request_id,
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": "TestDb",
        "ResourceProperties": properties,
    });
    if let Some(physical_id) = physical_id {
        event["PhysicalResourceId"] = serde_json::json!(physical_id);
    }
    event
}

/// Runs one event through the handler as Lambda would; an error becomes `{"error": ...}`.
pub async fn send(env: &MotoEnv, event: serde_json::Value) -> serde_json::Value {
    aurora_clone_manager::lambda::handler::handle_event(env.app.clone(), lambda_invocation(), event)
        .await
        .unwrap_or_else(|error| serde_json::json!({"error": error.0}))
}

/// A Lambda invocation with the usual 15 minutes, in real time.
pub fn lambda_invocation() -> Invocation {
    Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(900)),
        function_name: Some("arn:aws:lambda:us-east-1:123456789012:function:acm".into()),
    }
}

/// The RDS port with ModifyDBCluster password changes recorded (moto does not show them).
pub struct RecordingRds {
    inner: Arc<dyn Rds>,
    password_changes: Mutex<Vec<(String, String)>>,
}

impl RecordingRds {
    pub fn password_changes(&self) -> Vec<(String, String)> {
        self.password_changes.lock().unwrap().clone()
    }
}

#[async_trait]
impl Rds for RecordingRds {
    async fn describe_clusters_page(
        &self,
        marker: Option<String>,
        max_records: i32,
    ) -> Result<ClusterPage, AwsError> {
        self.inner.describe_clusters_page(marker, max_records).await
    }

    async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError> {
        self.inner.describe_cluster(cluster_id).await
    }

    async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError> {
        self.inner.describe_instance(instance_id).await
    }

    async fn describe_cluster_instances(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError> {
        self.inner.describe_cluster_instances(cluster_id).await
    }

    async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError> {
        self.inner.restore_cluster(request).await
    }

    async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError> {
        self.inner.create_instance(request).await
    }

    async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError> {
        self.inner.delete_instance(instance_id).await
    }

    async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.inner.start_cluster(cluster_id).await
    }

    async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.inner.stop_cluster(cluster_id).await
    }

    async fn delete_cluster(
        &self,
        cluster_id: &str,
        final_snapshot_id: Option<&str>,
    ) -> Result<(), AwsError> {
        self.inner
            .delete_cluster(cluster_id, final_snapshot_id)
            .await
    }

    async fn set_master_password(
        &self,
        cluster_id: &str,
        password: &SecretString,
    ) -> Result<(), AwsError> {
        let result = self.inner.set_master_password(cluster_id, password).await;
        if result.is_ok() {
            self.password_changes
                .lock()
                .unwrap()
                .push((cluster_id.to_string(), password.expose().to_string()));
        }
        result
    }

    async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError> {
        self.inner.rename_cluster(cluster_id, new_cluster_id).await
    }

    async fn rename_instance(
        &self,
        instance_id: &str,
        new_instance_id: &str,
    ) -> Result<(), AwsError> {
        self.inner
            .rename_instance(instance_id, new_instance_id)
            .await
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.inner.add_tags(arn, tags).await
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.inner.remove_tags(arn, keys).await
    }
}
