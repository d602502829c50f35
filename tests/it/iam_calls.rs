//! Every AWS call the code makes in its flows is allowed by the template's IAM policy, and
//! every action the template allows is one the code (or AWS on its behalf) uses.
//!
//! The flows run against the fake through ports that record, for each call, what IAM
//! evaluates: the action, the resource ARN, the condition keys (request tags, resource
//! tags, `kms:ViaService`, grant constraints) and the resource policy in force (a key's
//! policy, a secret's policy). Calls AWS authorizes as separate actions are recorded too:
//! tags given to a create (`rds:AddTagsToResource`, `kms:TagResource`,
//! `secretsmanager:TagResource`), the data keys Secrets Manager asks KMS for, the final
//! snapshot of a delete. The list goes to `tests/deploy/iam_calls.py`, which evaluates each
//! call against template.yaml with the repository's own policy evaluator
//! (`tests/deploy/cfn_eval.py`) and compares the two sets of actions. Nothing is kept
//! between runs, so the check cannot go stale.

use crate::fake_harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aurora_clone_manager::aws::fake::{FAKE_STATE_TABLE, FakeAws};
use aurora_clone_manager::aws::hooks::{Answer, Call, Hook};
use aurora_clone_manager::aws::{
    AwsError, BusEvent, InstanceRequest, KeyRef, KeyRequest, Keys, Params, RestoreRequest,
    SecretRef, SecretRequest, Tags,
};
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use fake_harness::*;
use serde_json::{Map, Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const STACK: &str = "acm";
const ROLE: &str = "arn:aws:iam::123456789012:role/acm-FunctionRole-1A2B3C";
const ROLE_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/acm-FunctionRole-1A2B3C/acm";
const DEFAULT_KEY_ID: &str = "11111111-2222-4333-8444-555555555555";
const PROPERTY_KEY_ID: &str = "99999999-2222-4333-8444-555555555555";
const READER: &str = "arn:aws:iam::123456789012:role/developer";

/// Ports that record what IAM evaluates for each call, then let the fake answer it.
struct Recorder {
    fake: Arc<FakeAws>,
    calls: Mutex<Vec<Value>>,
}

fn arn(service: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}")
}

fn tag_context(prefix: &str, tags: &Tags) -> Map<String, Value> {
    tags.iter()
        .map(|(key, value)| (format!("{prefix}/{key}"), json!(value)))
        .collect()
}

/// Request tags as IAM sees them: `aws:RequestTag/KEY` and the list `aws:TagKeys`.
fn request_tags(tags: &Tags) -> Map<String, Value> {
    let mut context = tag_context("aws:RequestTag", tags);
    context.insert("aws:TagKeys".into(), json!(tags.keys().collect::<Vec<_>>()));
    context
}

impl Recorder {
    fn record(&self, action: &str, resource: &str, context: Map<String, Value>) {
        self.record_with(action, resource, context, json!({}));
    }

    /// `extra` adds `resource_policy` (a key's or a secret's policy, JSON text),
    /// `identity_only` (tag-on-create of a key: only an IAM policy can allow it) and
    /// `key_id`.
    fn record_with(&self, action: &str, resource: &str, context: Map<String, Value>, extra: Value) {
        let mut call = json!({"action": action, "resource": resource, "context": context});
        if let (Value::Object(call), Value::Object(extra)) = (&mut call, extra) {
            call.extend(extra);
        }
        self.calls.lock().unwrap().push(call);
    }

    fn calls(&self) -> Vec<Value> {
        self.calls.lock().unwrap().clone()
    }

    fn cluster_tags(&self, cluster_id: &str) -> Tags {
        self.fake
            .cluster_snapshot(cluster_id)
            .map(|cluster| cluster.tags)
            .unwrap_or_default()
    }

    /// A key as KMS identifies it (id, ARN or alias), with its policy when the fake made it.
    fn key(&self, key_id: &str) -> (String, Option<String>) {
        let aliased = self
            .fake
            .aliases()
            .into_iter()
            .find(|(alias, _)| alias == key_id)
            .map(|(_, target)| target);
        let key_id = aliased.as_deref().unwrap_or(key_id);
        match self
            .fake
            .keys()
            .into_iter()
            .find(|key| key.key_id == key_id || key.arn == key_id)
        {
            Some(key) => (key.arn, Some(key.policy)),
            None if key_id.starts_with("arn:") => (key_id.to_string(), None),
            None => (arn("kms", &format!("key/{key_id}")), None),
        }
    }

    fn record_key_use(&self, action: &str, key_id: &str, context: Map<String, Value>) {
        let (key_arn, policy) = self.key(key_id);
        self.record_with(
            action,
            &key_arn,
            context,
            json!({"resource_policy": policy, "key_id": key_id}),
        );
    }

    fn secret(&self, secret_id: &str) -> Option<(String, Tags, Option<String>, Option<String>)> {
        self.fake
            .secrets()
            .into_iter()
            .find(|secret| secret.arn == secret_id || secret.name == secret_id)
            .map(|secret| (secret.arn, secret.tags, secret.policy, secret.kms_key_id))
    }

    fn record_secret_call(&self, action: &str, secret_id: &str, mut context: Map<String, Value>) {
        let (secret_arn, secret_tags, policy) = match self.secret(secret_id) {
            Some((secret_arn, secret_tags, policy, _)) => (secret_arn, secret_tags, policy),
            None => (
                arn("secretsmanager", &format!("secret:{secret_id}-AbCdEf")),
                Tags::new(),
                None,
            ),
        };
        context.extend(tag_context("aws:ResourceTag", &secret_tags));
        self.record_with(
            action,
            &secret_arn,
            context,
            json!({"resource_policy": policy}),
        );
    }

    /// Secrets Manager asks KMS for a data key, or to decrypt one, as the caller.
    fn record_secret_key_use(&self, action: &str, key_id: Option<&str>) {
        if let Some(key_id) = key_id {
            let via = json!(format!("secretsmanager.{REGION}.amazonaws.com"));
            self.record_key_use(
                action,
                key_id,
                Map::from_iter([("kms:ViaService".into(), via)]),
            );
        }
    }
}

/// What IAM evaluates for each call, recorded before the fake answers it (and, for the
/// creates whose new ARN IAM checks, once it has). The operation's IAM action comes from
/// the operations table; what this adds per operation is only the resource and the
/// condition keys IAM sees. An operation without a rule here fails the test.
#[async_trait]
impl Hook for Recorder {
    async fn before(&self, call: &Call<'_>) -> Result<(), AwsError> {
        let action = call.operation.iam_action;
        let text = |name: &str| call.argument::<String>(name).expect(name);
        match (call.port, call.method) {
            ("Rds", "describe_clusters_page" | "describe_cluster_instances") => {
                self.record(action, "*", Map::new())
            }
            ("Rds", "describe_cluster") => {
                let cluster = arn("rds", &format!("cluster:{}", text("cluster_id")));
                self.record(action, &cluster, Map::new());
            }
            ("Rds", "describe_instance") => {
                let instance = arn("rds", &format!("db:{}", text("instance_id")));
                self.record(action, &instance, Map::new());
            }
            ("Rds", "restore_cluster") => {
                let request: RestoreRequest = call.argument("request").expect("request");
                let context = request_tags(&request.tags);
                let source = arn("rds", &format!("cluster:{}", request.source_cluster_id));
                let target = arn("rds", &format!("cluster:{}", request.cluster_id));
                for resource in [&source, &target] {
                    self.record(action, resource, context.clone());
                }
                if let Some(group) = &request.db_subnet_group_name {
                    let subnet_group = arn("rds", &format!("subgrp:{group}"));
                    self.record(action, &subnet_group, context.clone());
                }
                if let Some(group) = &request.db_cluster_parameter_group_name {
                    let parameter_group = arn("rds", &format!("cluster-pg:{group}"));
                    self.record(action, &parameter_group, context.clone());
                }
                // Tags given to a create are authorised as AddTagsToResource on the new cluster.
                self.record(
                    operations::RDS_ADD_TAGS_TO_RESOURCE.iam_action,
                    &target,
                    context,
                );
            }
            ("Rds", "create_instance") => {
                let request: InstanceRequest = call.argument("request").expect("request");
                let context = request_tags(&request.tags);
                let instance = arn("rds", &format!("db:{}", request.instance_id));
                let cluster = arn("rds", &format!("cluster:{}", request.cluster_id));
                for resource in [&instance, &cluster] {
                    self.record(action, resource, context.clone());
                }
                if let Some(group) = &request.db_parameter_group_name {
                    let parameter_group = arn("rds", &format!("pg:{group}"));
                    self.record(action, &parameter_group, context.clone());
                }
                self.record(
                    operations::RDS_ADD_TAGS_TO_RESOURCE.iam_action,
                    &instance,
                    context,
                );
            }
            ("Rds", "delete_instance") => {
                let instance_id = text("instance_id");
                let instance_tags = self.fake.instance_tags(&instance_id).unwrap_or_default();
                let instance = arn("rds", &format!("db:{instance_id}"));
                self.record(
                    action,
                    &instance,
                    tag_context("aws:ResourceTag", &instance_tags),
                );
            }
            ("Rds", "start_cluster" | "stop_cluster" | "set_master_password") => {
                let cluster_id = text("cluster_id");
                let context = tag_context("aws:ResourceTag", &self.cluster_tags(&cluster_id));
                let cluster = arn("rds", &format!("cluster:{cluster_id}"));
                self.record(action, &cluster, context);
            }
            ("Rds", "delete_cluster") => {
                let cluster_id = text("cluster_id");
                let context = tag_context("aws:ResourceTag", &self.cluster_tags(&cluster_id));
                let cluster = arn("rds", &format!("cluster:{cluster_id}"));
                self.record(action, &cluster, context.clone());
                let final_snapshot_id: Option<String> = call
                    .argument("final_snapshot_id")
                    .expect("final_snapshot_id");
                if let Some(snapshot_id) = final_snapshot_id {
                    let snapshot = arn("rds", &format!("cluster-snapshot:{snapshot_id}"));
                    self.record(action, &snapshot, Map::new());
                    self.record("rds:CreateDBClusterSnapshot", &snapshot, Map::new());
                    self.record("rds:CreateDBClusterSnapshot", &cluster, context);
                }
            }
            ("Rds", "rename_cluster") => {
                // Whether RDS also authorises a rename against the new name's ARN is not
                // stated (unverified): both are recorded, so the policy must allow both.
                let cluster_id = text("cluster_id");
                let context = tag_context("aws:ResourceTag", &self.cluster_tags(&cluster_id));
                for id in [cluster_id, text("new_cluster_id")] {
                    let cluster = arn("rds", &format!("cluster:{id}"));
                    self.record(action, &cluster, context.clone());
                }
            }
            ("Rds", "add_tags") => {
                let resource = text("arn");
                let new_tags: Tags = call.argument("tags").expect("tags");
                let mut context = request_tags(&new_tags);
                context.extend(tag_context(
                    "aws:ResourceTag",
                    &self.resource_tags(&resource),
                ));
                self.record(action, &resource, context);
            }
            ("Rds", "remove_tags") => {
                let resource = text("arn");
                let keys: Vec<String> = call.argument("keys").expect("keys");
                let mut context = tag_context("aws:ResourceTag", &self.resource_tags(&resource));
                context.insert("aws:TagKeys".into(), json!(keys));
                self.record(action, &resource, context);
            }
            ("Params", "get" | "get_version" | "put_if_absent" | "put" | "delete") => {
                self.record(action, &parameter_arn(&text("name")), Map::new());
            }
            ("Params", "list_path") => {
                let path_arn = parameter_arn(text("path").trim_end_matches('/'));
                self.record(action, &path_arn, Map::new());
            }
            ("StateTable", _) => {
                let table = arn("dynamodb", &format!("table/{}", text("table")));
                self.record(action, &table, Map::new());
            }
            // GetCallerIdentity needs no permission: nothing to record.
            ("Identity", "caller") => {}
            // Recorded once the secret exists, with its ARN.
            ("Secrets", "create_secret") => {}
            ("Secrets", "put_resource_policy") => {
                // The SDK adapter always asks Secrets Manager to block public policies.
                let context = Map::from_iter([(
                    "secretsmanager:BlockPublicPolicy".to_string(),
                    json!("true"),
                )]);
                self.record_secret_call(action, &text("secret_id"), context);
            }
            ("Secrets", "get_value") => {
                let secret_id = text("secret_id");
                self.record_secret_call(action, &secret_id, Map::new());
                let key = self.secret(&secret_id).and_then(|(_, _, _, key)| key);
                self.record_secret_key_use("kms:Decrypt", key.as_deref());
            }
            ("Secrets", "put_value") => {
                let secret_id = text("secret_id");
                self.record_secret_call(action, &secret_id, Map::new());
                let key = self.secret(&secret_id).and_then(|(_, _, _, key)| key);
                self.record_secret_key_use("kms:GenerateDataKey", key.as_deref());
            }
            ("Secrets", "delete_secret" | "describe_secret") => {
                self.record_secret_call(action, &text("secret_id"), Map::new());
            }
            ("Secrets", "list_secrets_tagged") | ("Keys", "list_aliases" | "list_keys") => {
                self.record(action, "*", Map::new())
            }
            ("Metrics", _) => {
                // GetMetricData has no resource-level permissions: IAM evaluates each call
                // (one per 500 clusters) against "*".
                let cluster_ids: Vec<String> = call.argument("cluster_ids").expect("ids");
                for _ in cluster_ids.chunks(aurora_clone_manager::aws::METRIC_QUERIES_PER_CALL) {
                    self.record(action, "*", Map::new());
                }
            }
            ("Keys", "create_key") => {
                let request: KeyRequest = call.argument("request").expect("request");
                self.record(action, "*", request_tags(&request.tags));
            }
            ("Keys", "create_alias") => {
                self.record(action, &arn("kms", &text("alias_name")), Map::new());
                self.record_key_use(action, &text("key_id"), Map::new());
            }
            ("Keys", "delete_alias") => {
                let alias_name = text("alias_name");
                self.record(action, &arn("kms", &alias_name), Map::new());
                if let Some((_, target)) = self
                    .fake
                    .aliases()
                    .into_iter()
                    .find(|(alias, _)| *alias == alias_name)
                {
                    self.record_key_use(action, &target, Map::new());
                }
            }
            (
                "Keys",
                "describe_key"
                | "key_tags"
                | "put_key_policy"
                | "schedule_key_deletion"
                | "list_grants"
                | "revoke_grant",
            ) => self.record_key_use(action, &text("key_id"), Map::new()),
            ("Keys", "grant_decrypt") => {
                let context = Map::from_iter([
                    ("kms:GrantOperations".to_string(), json!(["Decrypt"])),
                    ("kms:GranteePrincipal".to_string(), json!(text("grantee"))),
                ]);
                self.record_key_use(action, &text("key_id"), context);
            }
            ("Events", "put_event") => {
                let event: BusEvent = call.argument("event").expect("event");
                let bus = arn("events", &format!("event-bus/{}", event.bus_name));
                let context = Map::from_iter([("events:source".to_string(), json!(event.source))]);
                self.record(action, &bus, context);
            }
            ("Invoker", "invoke_async") => {
                let function_name = text("function_name");
                let function = if function_name.starts_with("arn:") {
                    function_name
                } else {
                    arn("lambda", &format!("function:{function_name}"))
                };
                self.record(action, &function, Map::new());
            }
            (port, method) => panic!("the IAM recorder has no rule for {port}::{method}"),
        }
        Ok(())
    }

    fn after(&self, call: &Call<'_>, answer: Answer<'_>) {
        match (call.port, call.method) {
            ("Secrets", "create_secret") => {
                let request: SecretRequest = call.argument("request").expect("request");
                let secret_arn = match answer.map(|made| made.downcast_ref::<SecretRef>()) {
                    Ok(Some(secret)) => secret.arn.clone(),
                    _ => arn("secretsmanager", &format!("secret:{}-AbCdEf", request.name)),
                };
                let context = request_tags(&request.tags);
                self.record(call.operation.iam_action, &secret_arn, context.clone());
                self.record("secretsmanager:TagResource", &secret_arn, context);
                self.record_secret_key_use("kms:GenerateDataKey", request.kms_key_id.as_deref());
            }
            ("Keys", "create_key") => {
                // Tags given to CreateKey need kms:TagResource in an IAM policy: the new
                // key's policy does not count.
                let request: KeyRequest = call.argument("request").expect("request");
                let key_arn = match answer.map(|made| made.downcast_ref::<KeyRef>()) {
                    Ok(Some(key)) => key.arn.clone(),
                    _ => arn("kms", "key/00000000-0000-4000-8000-000000000000"),
                };
                self.record_with(
                    "kms:TagResource",
                    &key_arn,
                    request_tags(&request.tags),
                    json!({"identity_only": true}),
                );
            }
            _ => {}
        }
    }
}

impl Recorder {
    fn resource_tags(&self, resource: &str) -> Tags {
        match resource.rsplit_once(':') {
            Some((kind, id)) if kind.ends_with(":cluster") => self.cluster_tags(id),
            Some((kind, id)) if kind.ends_with(":db") => {
                self.fake.instance_tags(id).unwrap_or_default()
            }
            _ => Tags::new(),
        }
    }
}

fn parameter_arn(name: &str) -> String {
    arn(
        "ssm",
        &format!("parameter/{}", name.trim_start_matches('/')),
    )
}

/// The schedule's event, as the template's rule sends it.
fn scheduled_event() -> Value {
    json!({"source": "events", "action": "maintain!"})
}

/// A deployment of the clone manager whose calls are recorded: the function's role, a
/// default key, and the readers' principal.
fn recorded_env(default_key: bool) -> (FakeEnv, Arc<Recorder>) {
    let recorder: Arc<Mutex<Option<Arc<Recorder>>>> = Arc::new(Mutex::new(None));
    let slot = recorder.clone();
    let env = FakeEnv::with_ports(
        |config| {
            config.function_role_arn = Some(ROLE.into());
            config.policies_name_caller = false;
            config.default_kms_key_id = default_key.then(|| DEFAULT_KEY_ID.into());
        },
        move |fake| {
            fake.configure(|settings| settings.caller_arn = Some(ROLE_SESSION.into()));
            let recorder = Arc::new(Recorder {
                fake: fake.clone(),
                calls: Mutex::new(Vec::new()),
            });
            *slot.lock().unwrap() = Some(recorder.clone());
            fake.ports().hooked(recorder)
        },
    );
    let recorder = recorder.lock().unwrap().clone().expect("ports were built");
    (env, recorder)
}

fn with_password(extra: Value) -> Value {
    let mut properties = json!({
        "SourceClusterId": "prod",
        "SetPassword": "true",
        "AccessPrincipalArns": READER,
        "Tags": {"team": "data"},
    });
    if let (Value::Object(properties), Value::Object(extra)) = (&mut properties, extra) {
        properties.extend(extra);
    }
    properties
}

/// Every flow that reaches AWS: clones with a disposable key, the default key and a key
/// named by a property; updates of tags and readers; deletes with and without a final
/// snapshot; a failed create undone; the lifecycle sweep expiring a clone; the maintenance run that makes, finishes and purges
/// copies and removes orphans; the pool's status with its cost; and the hand-over to a
/// fresh invocation.
async fn run_every_flow() -> Vec<Value> {
    let mut calls = Vec::new();

    // A disposable key per clone.
    let (env, recorder) = recorded_env(false);
    env.seed_root("prod");
    let disposable = with_password(json!({}));
    env.send(create_event("Disposable", "req-1", disposable.clone()))
        .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    let mut changed = disposable.clone();
    changed["AccessPrincipalArns"] = json!("arn:aws:iam::123456789012:role/analyst");
    changed["Tags"] = json!({"cost-centre": "analytics"});
    env.send(update_event(
        "Disposable",
        "req-2",
        &physical,
        changed.clone(),
        disposable,
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    env.send(delete_event(
        "Disposable",
        "req-3",
        &physical,
        json!({"FinalSnapshot": "true"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-3")));
    // A create that fails after its key and secret were made is undone.
    env.faults.inject(
        operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME,
        aurora_clone_manager::aws::failure::Fault::ServerError,
        20,
    );
    env.send(create_event("Failing", "req-4", with_password(json!({}))))
        .await;
    assert_failed_with(&env.only_answer(&response_url("req-4")), "");
    env.faults.clear_faults();
    calls.extend(recorder.calls());

    // The stack's default key with grants, and a key named by the KmsKeyId property.
    let (env, recorder) = recorded_env(true);
    env.seed_root("prod");
    let shared = with_password(json!({}));
    env.send(create_event("Shared", "req-1", shared.clone()))
        .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    let mut changed = shared.clone();
    changed["AccessPrincipalArns"] = json!("arn:aws:iam::123456789012:role/analyst");
    env.send(update_event("Shared", "req-2", &physical, changed, shared))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    // Someone stopped the clone: the delete starts it first.
    let stopped = env.managed("clone").remove(0);
    env.fake.stop_cluster(&stopped.id, 1);
    env.send(delete_event("Shared", "req-3", &physical, json!({})))
        .await;
    env.run_continuations().await;
    assert_success(&env.only_answer(&response_url("req-3")));
    env.send(create_event(
        "PropertyKey",
        "req-4",
        with_password(json!({"KmsKeyId": PROPERTY_KEY_ID, "WaitForReady": "false"})),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-4")));
    env.run_continuations().await;
    calls.extend(recorder.calls());

    // Expiry: the sweep announces a clone, retags it, and deletes it with its secret and
    // disposable key once expired (with the final snapshot it asked for).
    let (env, recorder) = recorded_env(false);
    env.seed_root("prod");
    env.send(create_event(
        "Expiring",
        "req-1",
        with_password(json!({"ExpiresAfter": "PT2H", "FinalSnapshot": "true"})),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    env.send(json!({"action": "sweep"})).await;
    tokio::time::advance(Duration::from_secs(3 * 3600)).await;
    let report = env.send(json!({"action": "sweep"})).await;
    assert_eq!(
        report["expired"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    // Idle stop: the sweep reads the connections and stops a clone that had none.
    env.send(create_event(
        "Idle",
        "req-2",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT1H"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    let idle = env.managed("clone").remove(0);
    let now = env.app.now();
    env.fake
        .record_connections(&idle.id, now, now + chrono::TimeDelta::hours(3), 0.0);
    tokio::time::advance(Duration::from_secs(2 * 3600)).await;
    let report = env.send(json!({"action": "sweep"})).await;
    assert_eq!(
        report["stopped"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    calls.extend(recorder.calls());

    // Maintenance: copies made and finished, obsolete ones purged, orphans removed (a
    // secret whose clone is gone, and a key whose create stopped before its alias).
    let (env, recorder) = recorded_env(false);
    env.seed_root("prod");
    let stray_tags: Tags = [
        (tags::STACK.to_string(), STACK.to_string()),
        (tags::DISPOSABLE.to_string(), "true".to_string()),
        (tags::CLUSTER.to_string(), "acm-gone".to_string()),
    ]
    .into();
    env.fake
        .create_key(&KeyRequest {
            description: "a key whose create stopped before its alias".into(),
            policy: aurora_clone_manager::run::machinery::password::disposable_key_policy(
                "aws",
                ACCOUNT,
                REGION,
                &[READER.to_string()],
                &[ROLE.to_string()],
            ),
            tags: stray_tags,
        })
        .await
        .unwrap();
    env.send(create_event("Orphan", "req-1", with_password(json!({}))))
        .await;
    let orphaned = env.managed("clone").remove(0);
    env.fake.remove_cluster(&orphaned.id);
    env.fake
        .put(
            &format!("/{STACK}/maintenance-config"),
            "{:clusters [{:cluster-id \"prod\" :target-clone-slots 20}]}",
        )
        .await
        .unwrap();
    // A lease an earlier version kept in SSM, which the run carries over and deletes.
    env.fake
        .put(
            &format!("/{STACK}/leases/retired"),
            &json!({"holder": "earlier", "expires": "2020-01-01T00:00:00Z"}).to_string(),
        )
        .await
        .unwrap();
    env.send(scheduled_event()).await;
    assert!(
        !env.fake
            .parameters()
            .keys()
            .any(|name| name.contains("/leases/")),
        "the earlier lease was carried over"
    );
    env.run_continuations().await;
    tokio::time::advance(Duration::from_secs(5 * 24 * 3600)).await;
    env.send(scheduled_event()).await;
    env.run_continuations().await;
    // A clone taken when the root is full comes from a copy.
    env.add_foreign_clones("prod", 15);
    env.send(create_event(
        "FromCopy",
        "req-2",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    // Status of the pool, with its cost: classes, volumes and the price table.
    let status = env.send(json!({"action": "status"})).await;
    assert!(
        status["roots"][0]["poolCost"]["clusters"].as_u64() > Some(0),
        "{status}"
    );
    calls.extend(recorder.calls());

    // Refresh in place: a new clone, the renames of the swap, the secret rewritten, the old
    // clone deleted.
    let (env, recorder) = recorded_env(false);
    env.seed_root("prod");
    env.send(create_event("Refreshed", "req-1", with_password(json!({}))))
        .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    let clone = env.managed("clone").remove(0);
    let report = aurora_clone_manager::run::workflows::refresh::refresh(&env.app, &clone.id, true)
        .await
        .unwrap();
    assert!(report.done, "{report:?}");
    calls.extend(recorder.calls());
    calls
}

/// The Python that runs the policy evaluator: the test venv's (it has cfn-lint, whose YAML
/// reader the evaluator uses), found as the moto tests find moto.
fn python() -> PathBuf {
    if let Some(server) = std::env::var_os("MOTO_SERVER") {
        let candidate = Path::new(&server).with_file_name("python");
        if candidate.is_file() {
            return candidate;
        }
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("python3")
}

#[tokio::test(start_paused = true)]
async fn every_call_of_every_flow_is_allowed_and_every_allowed_action_is_used() {
    let calls = run_every_flow().await;
    assert!(calls.len() > 100, "the flows made {} calls", calls.len());
    let document = json!({
        "stack_name": STACK,
        "region": REGION,
        "account": ACCOUNT,
        "role_arn": ROLE,
        "default_key_arn": arn("kms", &format!("key/{DEFAULT_KEY_ID}")),
        "state_table_arn": arn("dynamodb", &format!("table/{FAKE_STATE_TABLE}")),
        "parameters": {},
        "calls": calls,
    });
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("iam-calls.json");
    std::fs::write(&path, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deploy/iam_calls.py");
    let output = Command::new(python())
        .arg("-B")
        .arg(&checker)
        .arg(&path)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "the template does not fit the calls the code makes ({}):\n{}{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(start_paused = true)]
async fn the_recorder_sees_tags_given_to_creates_as_their_own_authorizations() {
    let (env, recorder) = recorded_env(false);
    env.seed_root("prod");
    env.send(create_event("Db", "req-1", with_password(json!({}))))
        .await;
    let calls = recorder.calls();
    let clone = env.managed("clone").remove(0);
    let clone_arn = arn("rds", &format!("cluster:{}", clone.id));
    let tag_on_create = calls
        .iter()
        .find(|call| {
            call["action"] == operations::RDS_ADD_TAGS_TO_RESOURCE.iam_action
                && call["resource"] == clone_arn.as_str()
        })
        .expect("the restore's tags are authorised on the new cluster");
    assert_eq!(
        tag_on_create["context"][format!("aws:RequestTag/{}", tags::STACK)],
        STACK
    );
    assert!(
        calls
            .iter()
            .any(|call| call["action"] == "kms:TagResource" && call["identity_only"] == true)
    );
    let data_key = calls
        .iter()
        .find(|call| call["action"] == "kms:GenerateDataKey")
        .expect("Secrets Manager asks KMS for a data key");
    assert!(
        data_key["resource_policy"].as_str().unwrap().contains(ROLE),
        "the disposable key's policy names the role"
    );
}
