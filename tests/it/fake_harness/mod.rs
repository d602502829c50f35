//! Shared setup for tests that run the handlers against the in-process fake AWS.
#![allow(dead_code)]

use aurora_clone_manager::model::ClusterStatus;
use std::sync::Arc;
use std::time::Duration;

use aurora_clone_manager::aws::clock::{Clock, TokioClock};
use aurora_clone_manager::aws::failure::Faults;
use aurora_clone_manager::aws::fake::{FAKE_STATE_TABLE, FakeAws, FakeClusterSeed};
use aurora_clone_manager::aws::{ClusterInfo, Ports, Tags};
use aurora_clone_manager::lambda::handler::handle_event;
use aurora_clone_manager::metrics::RecordedMetrics;
use aurora_clone_manager::model::config::Config;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::run::machinery::context::{Context, Invocation};
use aurora_clone_manager::run::machinery::respond::{CfnResponse, RecordingResponder, Status};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

pub const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f0e0d0c-aaaa-bbbb-cccc-000000000001";

/// One fake account, one deployment of the clone manager, and a recorder of answers.
pub struct FakeEnv {
    pub fake: Arc<FakeAws>,
    /// Failures, latency and halts injected around every port the app uses.
    pub faults: Arc<Faults>,
    pub app: Arc<Context>,
    pub responses: Arc<RecordingResponder>,
    pub metrics: Arc<RecordedMetrics>,
    pub clock: Arc<dyn Clock>,
}

/// A Lambda invocation with the usual 15 minutes.
pub fn lambda_invocation() -> Invocation {
    Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(900)),
        function_name: Some("arn:aws:lambda:us-east-1:123456789012:function:acm".into()),
    }
}

impl FakeEnv {
    /// Must run inside a tokio runtime (tests use paused time).
    pub fn new() -> FakeEnv {
        FakeEnv::with_config(|_| {})
    }

    pub fn with_config(change: impl FnOnce(&mut Config)) -> FakeEnv {
        FakeEnv::with_ports(change, |fake| fake.ports())
    }

    /// Like [`FakeEnv::with_config`], with the app's ports made from the fake by `ports`
    /// (a wrapper that records or alters calls); the faults wrap whatever it returns.
    pub fn with_ports(
        change: impl FnOnce(&mut Config),
        ports: impl FnOnce(Arc<FakeAws>) -> Ports,
    ) -> FakeEnv {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
            Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        ));
        let fake = FakeAws::with_clock(clock.clone());
        let mut config = Config::for_stack("acm");
        config.poll_interval = Duration::from_secs(10);
        config.state_table = FAKE_STATE_TABLE.to_string();
        change(&mut config);
        fake.create_state_table(&config.state_table);
        let faults = Faults::new();
        let responses = Arc::new(RecordingResponder::default());
        let metrics = Arc::new(RecordedMetrics::default());
        let app = Arc::new(
            Context::new(
                config,
                faults.wrap(ports(fake.clone())),
                responses.clone(),
                clock.clone(),
                "us-east-1",
            )
            .with_metrics(metrics.clone()),
        );
        FakeEnv {
            fake,
            faults,
            app,
            responses,
            metrics,
            clock,
        }
    }

    pub fn seed_root(&self, id: &str) -> ClusterInfo {
        self.fake.seed_cluster(FakeClusterSeed::root(id))
    }

    /// Runs one event through the handler as Lambda would.
    pub async fn send(&self, event: Value) -> Value {
        self.send_with(event, lambda_invocation()).await
    }

    pub async fn send_with(&self, event: Value, invocation: Invocation) -> Value {
        match handle_event(self.app.clone(), invocation, event).await {
            Ok(value) => value,
            Err(error) => json!({"error": error.0}),
        }
    }

    /// Delivers every hand-over to a fresh invocation until none is left; returns how many.
    pub async fn run_continuations(&self) -> usize {
        let mut count = 0;
        loop {
            let pending = self.fake.take_invocations();
            if pending.is_empty() {
                return count;
            }
            for (_, payload) in pending {
                count += 1;
                self.send(payload).await;
            }
        }
    }

    pub fn answers(&self, response_url: &str) -> Vec<CfnResponse> {
        self.responses.responses_to(response_url)
    }

    /// The one answer a request got; fails the test unless there is exactly one.
    pub fn only_answer(&self, response_url: &str) -> CfnResponse {
        let answers = self.answers(response_url);
        assert_eq!(
            answers.len(),
            1,
            "expected exactly one answer to {response_url}, got {answers:#?}"
        );
        answers.into_iter().next().unwrap()
    }

    /// Clusters of this deployment with the given role.
    pub fn managed(&self, role: &str) -> Vec<ClusterInfo> {
        self.fake
            .all_clusters()
            .into_iter()
            .filter(|cluster| cluster.tags.get(tags::STACK).map(String::as_str) == Some("acm"))
            .filter(|cluster| cluster.tags.get(tags::ROLE).map(String::as_str) == Some(role))
            .filter(|cluster| cluster.status != ClusterStatus::Deleting)
            .collect()
    }

    /// Adds `count` clones of `source` made by someone else (no tags), in its clone group.
    pub fn add_foreign_clones(&self, source: &str, count: usize) {
        let mut seed = FakeClusterSeed::root("placeholder");
        seed.instance_class = None;
        let group = self
            .fake
            .cluster_snapshot(source)
            .and_then(|cluster| cluster.clone_group_id)
            .unwrap_or_else(|| format!("group-of-{source}"));
        for index in 0..count {
            let mut foreign = seed.clone();
            foreign.id = format!("{source}-foreign-{index}");
            foreign.clone_group_id = Some(group.clone());
            self.fake.seed_cluster(foreign);
        }
        // The source joins the group too, as AWS would show it after the first clone.
        if let Some(cluster) = self.fake.cluster_snapshot(source)
            && cluster.clone_group_id.is_none()
        {
            self.fake.set_clone_group(source, &group);
        }
    }
}

/// A CloudFormation Create request.
pub fn create_event(logical_id: &str, request_id: &str, properties: Value) -> Value {
    json!({
        "RequestType": "Create",
        "ResponseURL": format!("https://cloudformation-custom-resource-response.example/{request_id}"),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": logical_id,
        "ResourceProperties": with_service_token(properties),
    })
}

pub fn update_event(
    logical_id: &str,
    request_id: &str,
    physical_id: &str,
    properties: Value,
    old: Value,
) -> Value {
    json!({
        "RequestType": "Update",
        "ResponseURL": format!("https://cloudformation-custom-resource-response.example/{request_id}"),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceProperties": with_service_token(properties),
        "OldResourceProperties": with_service_token(old),
    })
}

pub fn delete_event(
    logical_id: &str,
    request_id: &str,
    physical_id: &str,
    properties: Value,
) -> Value {
    json!({
        "RequestType": "Delete",
        "ResponseURL": format!("https://cloudformation-custom-resource-response.example/{request_id}"),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceProperties": with_service_token(properties),
    })
}

fn with_service_token(mut properties: Value) -> Value {
    if let Some(object) = properties.as_object_mut() {
        object.insert(
            "ServiceToken".into(),
            json!("arn:aws:lambda:us-east-1:123456789012:function:acm"),
        );
    }
    properties
}

pub fn response_url(request_id: &str) -> String {
    format!("https://cloudformation-custom-resource-response.example/{request_id}")
}

pub fn assert_success(response: &CfnResponse) {
    assert_eq!(
        response.status,
        Status::Success,
        "expected SUCCESS, got {response:#?}"
    );
}

pub fn assert_failed_with(response: &CfnResponse, text: &str) {
    assert_eq!(
        response.status,
        Status::Failed,
        "expected FAILED, got {response:#?}"
    );
    let reason = response.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(text),
        "reason {reason:?} does not mention {text:?}"
    );
}

pub fn user_tags(cluster: &ClusterInfo) -> Tags {
    cluster
        .tags
        .iter()
        .filter(|(key, _)| !key.starts_with(tags::TAG_PREFIX))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The RDS "DB instance created" event for an instance, as EventBridge delivers it.
pub fn instance_created_event(instance_id: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("evt-{instance_id}"),
        "detail-type": "RDS DB Instance Event",
        "source": "aws.rds",
        "account": "123456789012",
        "time": "2026-11-01T09:10:00Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:rds:us-east-1:123456789012:db:{instance_id}")],
        "detail": {
            "EventCategories": ["creation"],
            "SourceType": "DB_INSTANCE",
            "SourceArn": format!("arn:aws:rds:us-east-1:123456789012:db:{instance_id}"),
            "Date": "2026-11-01T09:10:00.000Z",
            "Message": "DB instance created",
            "SourceIdentifier": instance_id,
            "EventID": "RDS-EVENT-0005"
        }
    })
}

/// Everything that must be gone after a failed or deleted clone with a password.
pub fn assert_no_password_leftovers(env: &FakeEnv) {
    assert!(
        env.fake.secrets().is_empty(),
        "secrets left: {:?}",
        env.fake
            .secrets()
            .iter()
            .map(|s| &s.name)
            .collect::<Vec<_>>()
    );
    assert!(
        env.fake.keys().iter().all(|key| key.pending_deletion),
        "a key is not pending deletion"
    );
    assert!(
        env.fake.aliases().is_empty(),
        "aliases left: {:?}",
        env.fake.aliases()
    );
    assert!(
        env.fake.grants().is_empty(),
        "grants left: {:?}",
        env.fake.grants()
    );
}
