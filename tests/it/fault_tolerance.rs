//! Faults on the wire: a proxy between the SDK and moto throttles (in each service's real
//! error format), fails with 500 and 503, slows down and drops connections on 30% of calls.
//! With the deployment's own retry settings, full lifecycles still end exactly right.

use crate::moto_harness;

use std::time::Duration;

use aurora_clone_manager::model::config::RetrySettings;
use aurora_clone_manager::model::tags;
use moto_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";

fn faults(seed: u64) -> FaultSchedule {
    FaultSchedule::random(
        seed,
        0.3,
        &[
            FaultKind::Throttle,
            FaultKind::ServerError500,
            FaultKind::ServiceUnavailable503,
            FaultKind::Slow(Duration::from_millis(300)),
            FaultKind::DropConnection,
        ],
    )
}

/// Create with a password, a maintenance run, Delete: the answers and what is left in the
/// emulator afterwards.
async fn lifecycle(env: &MotoEnv) -> (Vec<CapturedResponse>, Value, Vec<CapturedResponse>) {
    let properties =
        json!({"SourceClusterId": "prod-db", "SetPassword": "true", "AccessPrincipalArns": READER});
    send(
        env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            properties.clone(),
        ),
    )
    .await;
    let created = env.capture.responses_for("create");
    let maintenance = send(
        env,
        json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
               "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
               "resources": [], "detail": {}}),
    )
    .await;
    if let Some(physical) = created
        .first()
        .and_then(|answer| answer.json["PhysicalResourceId"].as_str())
    {
        send(
            env,
            cfn_request(
                "Delete",
                &env.capture.url("delete"),
                "req-2",
                Some(physical),
                properties,
            ),
        )
        .await;
    }
    (created, maintenance, env.capture.responses_for("delete"))
}

async fn managed_clusters(env: &MotoEnv) -> Vec<(String, String, String)> {
    let client = aws_sdk_rds::Client::new(&env.sdk);
    let output = client.describe_db_clusters().send().await.unwrap();
    output
        .db_clusters()
        .iter()
        .filter_map(|cluster| {
            let tags: std::collections::BTreeMap<_, _> = cluster
                .tag_list()
                .iter()
                .filter_map(|tag| Some((tag.key()?.to_string(), tag.value()?.to_string())))
                .collect();
            Some((
                cluster.db_cluster_identifier()?.to_string(),
                tags.get(tags::ROLE)?.clone(),
                cluster.status().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn with_thirty_percent_of_calls_faulted_every_lifecycle_ends_exactly_right() {
    for seed in [1, 2, 3] {
        let env = moto_env(FaultSchedule::none()).await;
        seed_root(&env.sdk, "prod-db").await;
        aws_sdk_ssm::Client::new(&env.sdk)
            .put_parameter()
            .name("/acm/maintenance-config")
            .value(r#"{:clusters [{:cluster-id "prod-db" :target-clone-slots 20}]}"#)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap();
        env.proxy.set_faults(faults(seed));

        let (created, maintenance, deleted) = lifecycle(&env).await;
        let stats = env.proxy.stats();
        env.proxy.set_faults(FaultSchedule::none());

        assert!(
            stats.faults_total() * 5 >= stats.requests,
            "seed {seed}: too few faults to prove anything: {stats:?}"
        );
        assert_eq!(created.len(), 1, "seed {seed}: {created:#?}");
        assert_eq!(
            created[0].status(),
            Some("SUCCESS"),
            "seed {seed}: {}",
            created[0].body
        );
        assert!(
            maintenance.get("error").is_none(),
            "seed {seed}: {maintenance}"
        );
        assert!(
            maintenance["roots"][0]["failures"]
                .as_array()
                .unwrap()
                .is_empty(),
            "seed {seed}: {maintenance}"
        );
        assert_eq!(deleted.len(), 1, "seed {seed}: {deleted:#?}");
        assert_eq!(
            deleted[0].status(),
            Some("SUCCESS"),
            "seed {seed}: {}",
            deleted[0].body
        );

        let clusters = managed_clusters(&env).await;
        let live_clones: Vec<_> = clusters
            .iter()
            .filter(|(_, role, status)| role == "clone" && status != "deleting")
            .collect();
        assert!(
            live_clones.is_empty(),
            "seed {seed}: clones left {live_clones:?}"
        );
        let copies: Vec<_> = clusters
            .iter()
            .filter(|(_, role, _)| role == "copy")
            .collect();
        assert_eq!(
            copies.len(),
            1,
            "seed {seed}: 15 on the root + one copy >= 20: {copies:?}"
        );
        let secrets = aws_sdk_secretsmanager::Client::new(&env.sdk)
            .list_secrets()
            .send()
            .await
            .unwrap();
        assert!(
            secrets.secret_list().is_empty(),
            "seed {seed}: secrets left"
        );
        let kms = aws_sdk_kms::Client::new(&env.sdk);
        for key in kms.list_keys().send().await.unwrap().keys() {
            let metadata = kms
                .describe_key()
                .key_id(key.key_id().unwrap())
                .send()
                .await
                .unwrap();
            let state = metadata
                .key_metadata()
                .unwrap()
                .key_state()
                .unwrap()
                .as_str()
                .to_string();
            assert_eq!(
                state, "PendingDeletion",
                "seed {seed}: a key is left enabled"
            );
        }
    }
}

#[tokio::test]
async fn without_retries_the_same_faults_break_the_lifecycle() {
    let env = moto_env_with(FaultSchedule::none(), |config| {
        config.retry = RetrySettings {
            max_attempts: 1,
            ..RetrySettings::default()
        };
    })
    .await;
    seed_root(&env.sdk, "prod-db").await;
    env.proxy.set_faults(faults(1));
    let (created, _, _) = lifecycle(&env).await;
    env.proxy.set_faults(FaultSchedule::none());
    assert_eq!(created.len(), 1, "still answered once: {created:#?}");
    assert_eq!(
        created[0].status(),
        Some("FAILED"),
        "the faults must bite without retries"
    );
}
