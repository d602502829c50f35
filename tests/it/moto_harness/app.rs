//! The clone manager wired to moto through a per-test account proxy, for end-to-end tests
//! of the SDK adapters: real HTTP to the emulator, real PUTs to a captured ResponseURL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aurora_clone_manager::aws::clock::SystemClock;
use aurora_clone_manager::aws::hooks::{Answer, Call, Hook, Hooked};
use aurora_clone_manager::aws::sdk::{Connection, StaticCredentials, load_sdk_config, sdk_ports};
use aurora_clone_manager::aws::{AwsError, Ports, Rds, SecretString};
use aurora_clone_manager::metrics::RecordedMetrics;
use aurora_clone_manager::model::config::Config;
use aurora_clone_manager::run::machinery::context::{Context, Invocation};
use aurora_clone_manager::run::machinery::respond::HttpResponder;
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
    /// The RDS port the clone manager uses (through the proxy, with password changes kept).
    pub rds: Arc<dyn Rds>,
    pub passwords: Arc<PasswordChanges>,
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
    config.state_table = MOTO_STATE_TABLE.to_string();
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
    create_state_table(&sdk_for_app, &config.state_table).await;
    let mut ports = sdk_ports(&sdk_for_app);
    change_ports(&mut ports);
    let passwords = Arc::new(PasswordChanges::default());
    ports.rds = Arc::new(Hooked::new(ports.rds.clone(), passwords.clone()));
    let rds = ports.rds.clone();
    let metrics = Arc::new(RecordedMetrics::default());
    let app = Arc::new(
        Context::new(
            config,
            ports,
            // The capture server is on 127.0.0.1.
            Arc::new(HttpResponder::new(true)),
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
        passwords,
        metrics,
    }
}

/// The state table each test account gets, made as the template makes it.
pub const MOTO_STATE_TABLE: &str = "acm-StateTable-MOTO";

/// Creates the state table in moto with the key the template declares: string `pk` and
/// `sk`, billed per request.
pub async fn create_state_table(sdk: &aws_config::SdkConfig, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("moto creates the state table");
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

/// Records the master passwords set through RDS (moto does not show them): a hook around
/// the RDS port that keeps each successful `set_master_password`.
#[derive(Default)]
pub struct PasswordChanges {
    changes: Mutex<Vec<(String, String)>>,
}

impl PasswordChanges {
    pub fn password_changes(&self) -> Vec<(String, String)> {
        self.changes.lock().unwrap().clone()
    }
}

#[async_trait]
impl Hook for PasswordChanges {
    async fn before(&self, _call: &Call<'_>) -> Result<(), AwsError> {
        Ok(())
    }

    fn after(&self, call: &Call<'_>, answer: Answer<'_>) {
        if answer.is_err() || call.method != "set_master_password" {
            return;
        }
        let cluster_id = call.argument::<String>("cluster_id").expect("a cluster id");
        let password = call
            .argument::<SecretString>("password")
            .expect("a password");
        self.changes
            .lock()
            .unwrap()
            .push((cluster_id, password.expose().to_string()));
    }
}
