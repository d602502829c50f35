//! Scale-to-zero copies and clones against moto, through the SDK adapters and the
//! validating proxy: the capacity range asked for is what DescribeDBClusters reports, the
//! instance is `db.serverless`, and an impossible range is answered FAILED, naming the
//! property and the rule, before any request reaches RDS.

use crate::moto_harness;

use std::time::Duration;

use moto_harness::*;
use serde_json::json;

/// A root of Aurora PostgreSQL `version` with one provisioned writer.
async fn root_of_version(env: &MotoEnv, cluster_id: &str, version: &str) {
    let rds = aws_sdk_rds::Client::new(&env.sdk);
    rds.create_db_cluster()
        .db_cluster_identifier(cluster_id)
        .engine("aurora-postgresql")
        .engine_version(version)
        .master_username("postgres")
        .master_user_password("root-password-for-tests-only")
        .database_name("app")
        .send()
        .await
        .expect("create the root");
    rds.create_db_instance()
        .db_instance_identifier(format!("{cluster_id}-writer"))
        .db_cluster_identifier(cluster_id)
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .expect("create the root's writer");
}

/// (MinCapacity, MaxCapacity, SecondsUntilAutoPause) as DescribeDBClusters reports them.
async fn described_scaling(
    env: &MotoEnv,
    cluster_id: &str,
) -> (Option<f64>, Option<f64>, Option<i32>) {
    let described = aws_sdk_rds::Client::new(&env.sdk)
        .describe_db_clusters()
        .db_cluster_identifier(cluster_id)
        .send()
        .await
        .expect("describe the cluster");
    let scaling = described.db_clusters()[0]
        .serverless_v2_scaling_configuration()
        .expect("a Serverless v2 scaling configuration");
    (
        scaling.min_capacity(),
        scaling.max_capacity(),
        scaling.seconds_until_auto_pause(),
    )
}

async fn cluster_ids(env: &MotoEnv) -> Vec<String> {
    aws_sdk_rds::Client::new(&env.sdk)
        .describe_db_clusters()
        .send()
        .await
        .unwrap()
        .db_clusters()
        .iter()
        .filter_map(|cluster| cluster.db_cluster_identifier().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_serverless_clone_is_made_with_the_capacity_asked_for() {
    let env = moto_env(FaultSchedule::none()).await;
    root_of_version(&env, "prod-db", "16.3").await;
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            json!({"SourceClusterId": "prod-db", "ServerlessMinCapacity": "0",
                   "ServerlessMaxCapacity": "4", "AutoPauseAfter": "PT10M"}),
        ),
    )
    .await;
    let answers = env
        .capture
        .wait_for("create", 1, Duration::from_secs(30))
        .await;
    assert_eq!(answers[0].status(), Some("SUCCESS"), "{}", answers[0].body);
    let clone_id = answers[0].json["Data"]["ClusterId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        described_scaling(&env, &clone_id).await,
        (Some(0.0), Some(4.0), Some(600))
    );
    let instances = cluster_instances(&env.sdk, &clone_id).await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].db_instance_class(), Some("db.serverless"));
    assert!(env.proxy.stats().refusals.is_empty());
}

#[tokio::test]
async fn the_schedule_makes_a_serverless_copy_with_the_capacity_the_config_asks_for() {
    let env = moto_env(FaultSchedule::none()).await;
    root_of_version(&env, "prod-db", "16.3").await;
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name("/acm/maintenance-config")
        .value(
            r#"{:clusters [{:cluster-id "prod-db" :target-clone-slots 20
                            :copy-capacity {:min 0 :max 4 :auto-pause "PT10M"}}]}"#,
        )
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
    let created = report["roots"][0]["copiesCreated"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(created.len(), 1, "{report}");
    let copy_id = created[0].as_str().unwrap();
    assert_eq!(
        described_scaling(&env, copy_id).await,
        (Some(0.0), Some(4.0), Some(600))
    );
    let instances = cluster_instances(&env.sdk, copy_id).await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].db_instance_class(), Some("db.serverless"));
    assert!(env.proxy.stats().refusals.is_empty());
}

#[tokio::test]
async fn an_impossible_serverless_clone_is_answered_failed_before_any_request_reaches_rds() {
    let env = moto_env(FaultSchedule::none()).await;
    root_of_version(&env, "prod-db", "16.3").await;
    send(
        &env,
        cfn_request(
            "Create",
            &env.capture.url("create"),
            "req-1",
            None,
            json!({"SourceClusterId": "prod-db", "ServerlessMinCapacity": "0.25",
                   "ServerlessMaxCapacity": "4"}),
        ),
    )
    .await;
    let answers = env
        .capture
        .wait_for("create", 1, Duration::from_secs(30))
        .await;
    assert_eq!(answers[0].status(), Some("FAILED"), "{}", answers[0].body);
    let reason = answers[0].json["Reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "ServerlessMinCapacity: MinCapacity 0.25 is not a half-step ACU value from 0 to 256"
        ) && reason.contains("(AWS rule rds-serverless-capacity-range)"),
        "{reason}"
    );
    assert_eq!(cluster_ids(&env).await, vec!["prod-db".to_string()]);
    assert!(
        env.proxy.stats().refusals.is_empty(),
        "refused by the planner, not by AWS"
    );
}
