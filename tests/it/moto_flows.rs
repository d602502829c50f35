//! End to end against moto: the SDK adapters for real, CloudFormation answers PUT to a
//! captured ResponseURL, lifecycle events read from an EventBridge rule's SQS queue.

use crate::moto_harness;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aurora_clone_manager::aws::{AwsError, Metrics};
use aurora_clone_manager::model::tags;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use moto_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";

async fn one_answer(env: &MotoEnv, name: &str) -> CapturedResponse {
    let answers = env.capture.wait_for(name, 1, Duration::from_secs(30)).await;
    assert_eq!(answers.len(), 1, "one answer for {name}: {answers:#?}");
    let answer = answers.into_iter().next().unwrap();
    assert_eq!(
        answer.content_type.as_deref(),
        Some(""),
        "CloudFormation needs an empty Content-Type"
    );
    assert!(answer.body_len < 4096);
    answer
}

async fn cluster_status(env: &MotoEnv, cluster_id: &str) -> Option<String> {
    let client = aws_sdk_rds::Client::new(&env.sdk);
    match client
        .describe_db_clusters()
        .db_cluster_identifier(cluster_id)
        .send()
        .await
    {
        Ok(output) => output
            .db_clusters()
            .first()
            .and_then(|c| c.status().map(str::to_string)),
        Err(_) => None,
    }
}

#[tokio::test]
async fn create_update_and_delete_a_clone_in_the_emulator() {
    let env = moto_env(FaultSchedule::none()).await;
    let root = seed_root(&env.sdk, "prod-db").await;
    let properties = json!({"SourceClusterId": "prod-db", "Tags": {"team": "data"}});
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            properties.clone(),
        ),
    )
    .await;
    let answer = one_answer(&env, "create").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let data = &answer.json["Data"];
    for key in [
        "Arn",
        "ClusterId",
        "Endpoint",
        "ReaderEndpoint",
        "Port",
        "MasterUsername",
        "DatabaseName",
        "PasswordSecret",
        "PasswordSecretArn",
        "KmsKeyId",
        "ClonedFrom",
        "DataTimestamp",
    ] {
        assert!(data.get(key).is_some(), "missing {key} in {data}");
    }
    let clone_id = data["ClusterId"].as_str().unwrap().to_string();
    assert_eq!(answer.json["PhysicalResourceId"], data["Arn"]);
    assert_eq!(data["ClonedFrom"], "prod-db");
    assert_eq!(data["MasterUsername"], root.master_username.as_str());

    let clone_tags = cluster_tags(&env.sdk, &clone_id).await;
    assert_eq!(clone_tags[tags::ROLE], "clone");
    assert_eq!(clone_tags[tags::STACK], "acm");
    assert_eq!(clone_tags[tags::SOURCE_ARN], root.cluster_arn);
    assert_eq!(clone_tags[tags::REQUEST], "req-1");
    assert_eq!(clone_tags["team"], "data");
    let instances = cluster_instances(&env.sdk, &clone_id).await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].db_instance_class(), Some("db.r6g.large"));

    let physical = data["Arn"].as_str().unwrap().to_string();
    let retagged = json!({"SourceClusterId": "prod-db", "Tags": {"team": "platform"}});
    let mut update = cfn_request(
        "Update",
        &env.capture.url("update"),
        "req-2",
        Some(&physical),
        retagged,
    );
    update["OldResourceProperties"] = properties.clone();
    send(&env, update).await;
    let answer = one_answer(&env, "update").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    assert_eq!(answer.json["PhysicalResourceId"], physical.as_str());
    assert_eq!(cluster_tags(&env.sdk, &clone_id).await["team"], "platform");

    send(
        &env,
        cfn_request(
            "Delete",
            &env.capture.url("delete"),
            "req-3",
            Some(&physical),
            properties,
        ),
    )
    .await;
    let answer = one_answer(&env, "delete").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let status = cluster_status(&env, &clone_id).await;
    assert!(
        matches!(status.as_deref(), None | Some("deleting")),
        "clone still there: {status:?}"
    );
    assert!(cluster_instances(&env.sdk, &clone_id).await.is_empty());
    assert_eq!(
        cluster_status(&env, "prod-db").await.as_deref(),
        Some("available"),
        "the root is untouched"
    );
    assert_eq!(cluster_instances(&env.sdk, "prod-db").await.len(), 1);
}

#[tokio::test]
async fn deleting_a_stopped_clone_starts_it_through_the_sdk_and_then_deletes_it() {
    let env = moto_env(FaultSchedule::none()).await;
    seed_root(&env.sdk, "prod-db").await;
    let properties = json!({"SourceClusterId": "prod-db"});
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            properties.clone(),
        ),
    )
    .await;
    let answer = one_answer(&env, "create").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let clone_id = answer.json["Data"]["ClusterId"]
        .as_str()
        .unwrap()
        .to_string();
    let physical = answer.json["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .to_string();
    aws_sdk_rds::Client::new(&env.sdk)
        .stop_db_cluster()
        .db_cluster_identifier(&clone_id)
        .send()
        .await
        .expect("stop the clone");
    assert_eq!(
        cluster_status(&env, &clone_id).await.as_deref(),
        Some("stopped")
    );

    send(
        &env,
        cfn_request(
            "Delete",
            &env.capture.url("delete"),
            "req-2",
            Some(&physical),
            properties,
        ),
    )
    .await;

    let answer = one_answer(&env, "delete").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let status = cluster_status(&env, &clone_id).await;
    assert!(
        matches!(status.as_deref(), None | Some("deleting")),
        "clone still there: {status:?}"
    );
    let rds = env.proxy.stats().service("rds");
    assert_eq!(
        rds.operations.get("StartDBCluster"),
        Some(&1),
        "AWS deletes only running clusters: {:?}",
        rds.operations
    );
}

#[tokio::test]
async fn deleting_an_unmanaged_cluster_fails_and_leaves_it() {
    let env = moto_env(FaultSchedule::none()).await;
    let root = seed_root(&env.sdk, "prod-db").await;
    send(
        &env,
        cfn_request(
            "Delete",
            &env.capture.url("delete"),
            "req-1",
            Some(&root.cluster_arn),
            json!({}),
        ),
    )
    .await;
    let answer = one_answer(&env, "delete").await;
    assert_eq!(answer.status(), Some("FAILED"));
    assert!(
        answer.reason().unwrap().contains("not a clone managed"),
        "{}",
        answer.body
    );
    assert_eq!(
        cluster_status(&env, "prod-db").await.as_deref(),
        Some("available")
    );
    assert_eq!(cluster_instances(&env.sdk, "prod-db").await.len(), 1);
}

#[tokio::test]
async fn a_clone_with_its_own_password_is_announced_and_leaves_nothing_on_delete() {
    let env = moto_env(FaultSchedule::none()).await;
    seed_root(&env.sdk, "prod-db").await;
    let events = event_queue(&env.sdk, "aurora-clone-manager").await;
    let properties =
        json!({"SourceClusterId": "prod-db", "SetPassword": "true", "AccessPrincipalArns": READER});
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            properties.clone(),
        ),
    )
    .await;
    let answer = one_answer(&env, "create").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let data = answer.json["Data"].clone();
    let clone_id = data["ClusterId"].as_str().unwrap().to_string();

    let secrets = aws_sdk_secretsmanager::Client::new(&env.sdk);
    let secret_arn = data["PasswordSecretArn"].as_str().unwrap();
    let value = secrets
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    let document: Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    for key in [
        "username",
        "password",
        "engine",
        "host",
        "port",
        "dbClusterIdentifier",
        "dbname",
    ] {
        assert!(!document[key].is_null(), "{key} missing: {document}");
    }
    assert_eq!(document["dbClusterIdentifier"], clone_id.as_str());
    let password = document["password"].as_str().unwrap().to_string();
    assert_eq!(
        env.passwords.password_changes(),
        vec![(clone_id.clone(), password)],
        "the master password was set to the secret's value, once"
    );
    let policy = secrets
        .get_resource_policy()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.resource_policy().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], json!([READER]));
    let deny = &policy["Statement"][1];
    assert_eq!(deny["Effect"], "Deny", "everyone else is denied: {policy}");
    let readers = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        .as_array()
        .unwrap();
    assert_eq!(readers[0], READER);
    assert_eq!(
        readers.len(),
        2,
        "the reader and the clone manager: {policy}"
    );

    let kms = aws_sdk_kms::Client::new(&env.sdk);
    let key_id = data["KmsKeyId"].as_str().unwrap();
    let key_policy = kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let key_policy: Value = serde_json::from_str(key_policy.policy().unwrap()).unwrap();
    let decrypt = key_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|statement| statement["Action"] == "kms:Decrypt")
        .cloned()
        .expect("a statement granting decrypt");
    assert_eq!(decrypt["Principal"]["AWS"], json!([READER]));

    let clone_tags = cluster_tags(&env.sdk, &clone_id).await;
    assert_eq!(
        clone_tags[tags::PASSWORD_SECRET],
        data["PasswordSecret"].as_str().unwrap()
    );
    assert_eq!(clone_tags[tags::PASSWORD_KEY], key_id);
    assert_eq!(clone_tags[tags::STATE], "ready");

    let received = events.drain().await;
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0]["detail-type"], "lifecycle-event/instance-ready");
    for key in [
        "instanceId",
        "clusterId",
        "host",
        "port",
        "user",
        "passwordSecret",
        "database",
    ] {
        assert!(
            !received[0]["detail"][key].is_null(),
            "{key} missing: {}",
            received[0]
        );
    }

    let physical = data["Arn"].as_str().unwrap().to_string();
    send(
        &env,
        cfn_request(
            "Delete",
            &env.capture.url("delete"),
            "req-2",
            Some(&physical),
            properties,
        ),
    )
    .await;
    assert_eq!(one_answer(&env, "delete").await.status(), Some("SUCCESS"));
    assert!(
        secrets
            .get_secret_value()
            .secret_id(secret_arn)
            .send()
            .await
            .is_err(),
        "the secret is gone"
    );
    let key = kms.describe_key().key_id(key_id).send().await.unwrap();
    assert_eq!(
        key.key_metadata()
            .unwrap()
            .key_state()
            .map(|state| state.as_str()),
        Some("PendingDeletion")
    );
}

#[tokio::test]
async fn the_schedule_makes_copies_for_a_target_and_purges_an_old_one() {
    let env = moto_env(FaultSchedule::none()).await;
    let root = seed_root(&env.sdk, "prod-db").await;
    // An old copy: our tags, data from a week ago.
    let old = seed_root(&env.sdk, "prod-db-copy-old").await;
    let rds = aws_sdk_rds::Client::new(&env.sdk);
    let old_tags = [
        (tags::ROLE, "copy".to_string()),
        (tags::STACK, "acm".to_string()),
        (tags::ROOT_ARN, root.cluster_arn.clone()),
        (tags::DATA_TIMESTAMP, "2020-01-01T00:00:00Z".to_string()),
        (tags::STATE, "ready".to_string()),
    ];
    rds.add_tags_to_resource()
        .resource_name(&old.cluster_arn)
        .set_tags(Some(
            old_tags
                .iter()
                .map(|(key, value)| {
                    aws_sdk_rds::types::Tag::builder()
                        .key(*key)
                        .value(value)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let ssm = aws_sdk_ssm::Client::new(&env.sdk);
    ssm.put_parameter()
        .name("/acm/maintenance-config")
        .value(r#"{:clusters [{:cluster-id "prod-db" :target-clone-slots 20}]}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let report = send(
        &env,
        json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
               "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
               "resources": [], "detail": {}}),
    )
    .await;
    let root_report = &report["roots"][0];
    assert_eq!(
        root_report["copiesPurged"],
        json!(["prod-db-copy-old"]),
        "{report}"
    );
    let created: Vec<String> = root_report["copiesCreated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        created.len(),
        1,
        "15 free on the root + 15 per copy >= 20: {report}"
    );
    for copy in &created {
        let copy_tags = cluster_tags(&env.sdk, copy).await;
        assert_eq!(copy_tags[tags::ROLE], "copy");
        assert_eq!(copy_tags[tags::STACK], "acm");
        assert_eq!(copy_tags[tags::ROOT_ARN], root.cluster_arn);
        assert!(copy_tags.contains_key(tags::DATA_TIMESTAMP));
        assert_eq!(
            cluster_instances(&env.sdk, copy).await.len(),
            1,
            "one instance per copy"
        );
    }
    let old_status = cluster_status(&env, "prod-db-copy-old").await;
    assert!(
        matches!(old_status.as_deref(), None | Some("deleting")),
        "old copy still there: {old_status:?}"
    );
    assert_eq!(
        cluster_status(&env, "prod-db").await.as_deref(),
        Some("available")
    );
}

/// The SSM and Secrets Manager calls that leases, waiting clones and secret lookups rely on,
/// through the SDK adapters: a parameter's earlier version by `name:version`, the
/// parameters under a path, and a secret found by name the moment it exists.
#[tokio::test]
async fn parameter_versions_paths_and_secrets_by_name_work_through_the_sdk_adapters() {
    let env = moto_env(FaultSchedule::none()).await;
    let params = &env.app.ports.params;
    params.put("/acm/deferred-clones/a", "first").await.unwrap();
    let second = params
        .put("/acm/deferred-clones/a", "second")
        .await
        .unwrap();
    assert_eq!(second, 2);
    let first = params
        .get_version("/acm/deferred-clones/a", 1)
        .await
        .unwrap()
        .expect("version 1 is kept");
    assert_eq!(first.value, "first");
    assert_eq!(first.version, 1);
    assert!(
        params
            .get_version("/acm/deferred-clones/a", 7)
            .await
            .unwrap()
            .is_none(),
        "a version that never existed is none"
    );
    params.put("/acm/deferred-clones/b", "other").await.unwrap();
    params.put("/acm/leases/prod", "not listed").await.unwrap();
    let mut listed = params.list_path("/acm/deferred-clones/").await.unwrap();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("/acm/deferred-clones/a".to_string(), "second".to_string()),
            ("/acm/deferred-clones/b".to_string(), "other".to_string()),
        ]
    );

    let secrets = &env.app.ports.secrets;
    let made = secrets
        .create_secret(&aurora_clone_manager::aws::SecretRequest {
            name: "/aurora-clone-manager/password/clone-1-20261101".into(),
            description: "test".into(),
            value: aurora_clone_manager::aws::SecretString::new("{}".into()),
            kms_key_id: None,
            tags: [(
                "aurora-clone-manager:cluster".to_string(),
                "clone-1".to_string(),
            )]
            .into(),
        })
        .await
        .unwrap();
    let found = secrets
        .describe_secret(&made.name)
        .await
        .unwrap()
        .expect("found by name");
    assert_eq!(found.arn, made.arn);
    assert_eq!(found.tags["aurora-clone-manager:cluster"], "clone-1");
    assert!(secrets.describe_secret("/nope").await.unwrap().is_none());
}

#[tokio::test]
async fn renames_swap_a_cluster_for_another_through_the_sdk_adapters() {
    let env = moto_env(FaultSchedule::none()).await;
    let current = seed_root(&env.sdk, "acm-app").await;
    let next = seed_root(&env.sdk, "acm-app-next").await;
    let rds = env.rds.as_ref();
    let team = aurora_clone_manager::aws::Tags::from([("team".to_string(), "data".to_string())]);
    rds.add_tags(&current.cluster_arn, &team).await.unwrap();

    // Out of the way, then in: the order a refresh takes. Instances keep their names.
    rds.rename_cluster("acm-app", "acm-app-old").await.unwrap();
    rds.rename_cluster("acm-app-next", "acm-app").await.unwrap();

    let swapped = rds.describe_cluster("acm-app").await.unwrap().unwrap();
    let old = rds.describe_cluster("acm-app-old").await.unwrap().unwrap();
    assert!(
        rds.describe_cluster("acm-app-next")
            .await
            .unwrap()
            .is_none()
    );
    // Identifier, ARN and endpoint follow the new name; tags stay with the cluster.
    assert!(swapped.arn.ends_with(":cluster:acm-app"), "{}", swapped.arn);
    assert!(old.arn.ends_with(":cluster:acm-app-old"), "{}", old.arn);
    assert!(
        swapped
            .endpoint
            .as_deref()
            .unwrap()
            .starts_with("acm-app.cluster-")
    );
    assert!(
        old.endpoint
            .as_deref()
            .unwrap()
            .starts_with("acm-app-old.cluster-")
    );
    assert_eq!(old.tags, team);
    assert!(swapped.tags.is_empty(), "{:?}", swapped.tags);
    for writer in [&current.writer_instance_id, &next.writer_instance_id] {
        assert!(
            rds.describe_instance(writer).await.unwrap().is_some(),
            "{writer}"
        );
    }
    // moto 5.2.5 ties an instance to its cluster's name, not to the cluster: after the
    // swap it lists the old writer under `acm-app`. AWS keeps a renamed cluster's
    // instances (modelled by the fake), so membership is not asserted here.
    assert_eq!(env.proxy.stats().refusals, Vec::<String>::new());
}

#[tokio::test]
async fn a_refresh_through_the_sdk_adapters_keeps_the_identifier_and_the_secret() {
    use aurora_clone_manager::run::workflows::refresh::refresh;
    let env = moto_env(FaultSchedule::none()).await;
    seed_root(&env.sdk, "prod-db").await;
    let properties =
        json!({"SourceClusterId": "prod-db", "SetPassword": "true", "AccessPrincipalArns": READER});
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            properties,
        ),
    )
    .await;
    let answer = one_answer(&env, "create").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let data = answer.json["Data"].clone();
    let clone_id = data["ClusterId"].as_str().unwrap().to_string();
    let before = cluster_tags(&env.sdk, &clone_id).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let report = refresh(&env.app, &clone_id, true).await.unwrap();
    assert!(report.done, "{report:?}");

    let after = cluster_tags(&env.sdk, &clone_id).await;
    assert!(
        after[tags::DATA_TIMESTAMP] > before[tags::DATA_TIMESTAMP],
        "{after:?}"
    );
    for key in [
        tags::OWNER,
        tags::PASSWORD_SECRET,
        tags::PASSWORD_SECRET_ARN,
    ] {
        assert_eq!(after.get(key), before.get(key), "{key}");
    }
    assert!(!after.contains_key(tags::REFRESH_OF));
    assert!(!cluster_exists(&env.sdk, &format!("{clone_id}-next")).await);
    // The retired cluster is deleted (moto deletes at once).
    assert!(!cluster_exists(&env.sdk, &format!("{clone_id}-old")).await);
    // The secret is the same one, with the same password, and the new cluster has it.
    let secrets = aws_sdk_secretsmanager::Client::new(&env.sdk);
    let document: Value = serde_json::from_str(
        secrets
            .get_secret_value()
            .secret_id(data["PasswordSecretArn"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    // The new clone got the secret's password under its temporary name, before it took
    // the clone's: the swap never exposes the root's password under the clone's hostname.
    let changes = env.passwords.password_changes();
    let temporary_id = format!("{clone_id}-next");
    assert_eq!(
        changes
            .last()
            .map(|(id, password)| (id.as_str(), password.as_str())),
        Some((
            temporary_id.as_str(),
            document["password"].as_str().unwrap()
        ))
    );
    assert_eq!(env.proxy.stats().refusals, Vec::<String>::new());
    // moto 5.2.5 ties instances to their cluster's name, not to the cluster, so after the
    // swap it lists instances by the names their clusters had; instance membership is
    // checked in the fake only. No instance was renamed.
    assert_eq!(
        env.proxy
            .stats()
            .service("rds")
            .operations
            .get("ModifyDBInstance"),
        None,
        "no instance is renamed"
    );
}

/// A CloudWatch stand-in for a clone nobody connects to: a zero for every hour asked about.
/// moto answers the Rust CloudWatch client with 404, so only this port is not moto's; the
/// stop, the start and the events go through the SDK adapters.
struct NoConnections;

#[async_trait::async_trait]
impl Metrics for NoConnections {
    async fn hourly_max_connections(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        let first_hour = start.duration_trunc(TimeDelta::hours(1)).unwrap();
        let hours: Vec<(DateTime<Utc>, f64)> = (0..)
            .map(|hour| first_hour + TimeDelta::hours(hour))
            .take_while(|hour| *hour < end)
            .map(|hour| (hour, 0.0))
            .collect();
        Ok(cluster_ids
            .iter()
            .map(|id| (id.clone(), hours.clone()))
            .collect())
    }

    async fn hourly_max_capacity(
        &self,
        _cluster_ids: &[String],
        _start: DateTime<Utc>,
        _end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        Ok(BTreeMap::new())
    }

    async fn latest_volume_bytes(
        &self,
        _cluster_ids: &[String],
        _start: DateTime<Utc>,
        _end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, AwsError> {
        Ok(BTreeMap::new())
    }
}

#[tokio::test]
async fn an_idle_clone_is_stopped_through_the_sdk_and_stopped_again_after_it_is_started() {
    let env = moto_env_with_ports(
        FaultSchedule::none(),
        |_| {},
        |ports| ports.metrics = Arc::new(NoConnections),
    )
    .await;
    seed_root(&env.sdk, "prod-db").await;
    let events = event_queue(&env.sdk, "aurora-clone-manager").await;
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            json!({"SourceClusterId": "prod-db", "IdleAfter": "PT2H"}),
        ),
    )
    .await;
    let answer = one_answer(&env, "create").await;
    assert_eq!(answer.status(), Some("SUCCESS"), "{}", answer.body);
    let clone_id = answer.json["Data"]["ClusterId"]
        .as_str()
        .unwrap()
        .to_string();

    let report = send(&env, json!({"action": "sweep"})).await;
    assert_eq!(report["stopped"], json!([clone_id]), "{report}");
    assert_eq!(
        cluster_status(&env, &clone_id).await.as_deref(),
        Some("stopped")
    );
    let stops = env.proxy.stats().service("rds");
    assert_eq!(stops.operations.get("StopDBCluster"), Some(&1));

    // A stopped clone is left alone.
    let report = send(&env, json!({"action": "sweep"})).await;
    assert_eq!(report["stopped"], json!([]), "{report}");

    // As Aurora does after seven days: the cluster is started again, and stays idle.
    aws_sdk_rds::Client::new(&env.sdk)
        .start_db_cluster()
        .db_cluster_identifier(&clone_id)
        .send()
        .await
        .expect("start the clone");
    let report = send(&env, json!({"action": "sweep"})).await;
    assert_eq!(report["stopped"], json!([clone_id]), "{report}");
    assert_eq!(
        cluster_status(&env, &clone_id).await.as_deref(),
        Some("stopped")
    );
    assert_eq!(
        cluster_status(&env, "prod-db").await.as_deref(),
        Some("available"),
        "the root is never stopped"
    );

    let stopped: Vec<Value> = events
        .drain()
        .await
        .into_iter()
        .filter(|event| event["detail-type"] == "lifecycle-event/clone-stopped")
        .collect();
    assert_eq!(stopped.len(), 2, "{stopped:#?}");
    for event in &stopped {
        assert_eq!(event["detail"]["clusterId"], clone_id.as_str(), "{event}");
        assert_eq!(event["detail"]["idleAfter"], "PT2H", "{event}");
    }
}
