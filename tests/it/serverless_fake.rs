//! Scale-to-zero copies and clones against the fake: a copy made by maintenance and a clone
//! made through CloudFormation get a `db.serverless` instance and exactly the capacity range
//! asked for; a root whose engine version cannot scale to 0 gets the lowest it allows, and
//! an impossible range is refused, naming the field and the rule, before anything is made.

use crate::fake_harness;

use aurora_clone_manager::aws::{InstanceInfo, Params, ServerlessV2Scaling};
use aurora_clone_manager::run::machinery::respond::CfnResponse;
use fake_harness::*;
use serde_json::{Value, json};

fn scheduled_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-01T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/acm-maintenance"],
        "detail": {}
    })
}

fn root_of_version(env: &FakeEnv, version: &str) {
    env.seed_root("prod");
    env.fake.modify_cluster("prod", |root| {
        root.engine_version = Some(version.to_string())
    });
}

fn scaling(min: f64, max: f64, seconds: Option<i32>) -> Option<ServerlessV2Scaling> {
    Some(ServerlessV2Scaling {
        min_capacity: Some(min),
        max_capacity: Some(max),
        seconds_until_auto_pause: seconds,
    })
}

fn instances_of(env: &FakeEnv, cluster_id: &str) -> Vec<InstanceInfo> {
    env.fake
        .all_instances()
        .into_iter()
        .filter(|instance| instance.cluster_id.as_deref() == Some(cluster_id))
        .collect()
}

/// Sends a create with `properties` and returns its answer and the clone's cluster id.
async fn create(env: &FakeEnv, properties: Value) -> (CfnResponse, String) {
    env.send(create_event("Db", "req-1", properties)).await;
    let answer = env.only_answer(&response_url("req-1"));
    let cluster_id = answer
        .physical_resource_id
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    (answer, cluster_id)
}

#[tokio::test(start_paused = true)]
async fn maintenance_makes_a_serverless_copy_with_the_capacity_the_config_asks_for() {
    let env = FakeEnv::new();
    root_of_version(&env, "16.3");
    env.fake
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 20
                            :copy-capacity {:min 0 :max 4 :auto-pause "PT10M"}}]}"#,
        )
        .await
        .unwrap();
    env.send(scheduled_event()).await;
    env.run_continuations().await;
    let copies = env.managed("copy");
    assert_eq!(copies.len(), 1);
    let copy = &copies[0];
    assert_eq!(copy.serverless_v2_scaling, scaling(0.0, 4.0, Some(600)));
    let instances = instances_of(&env, &copy.id);
    assert_eq!(instances.len(), 1, "{instances:#?}");
    assert_eq!(instances[0].instance_class, "db.serverless");
    assert_eq!(instances[0].status, "available");
}

#[tokio::test(start_paused = true)]
async fn a_serverless_clone_gets_the_capacity_its_properties_ask_for() {
    let env = FakeEnv::new();
    root_of_version(&env, "16.3");
    let (answer, clone_id) = create(
        &env,
        json!({"SourceClusterId": "prod", "ServerlessMinCapacity": "0",
               "ServerlessMaxCapacity": "4", "AutoPauseAfter": "PT10M"}),
    )
    .await;
    assert_success(&answer);
    let clone = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert_eq!(clone.serverless_v2_scaling, scaling(0.0, 4.0, Some(600)));
    let instances = instances_of(&env, &clone_id);
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].instance_class, "db.serverless");
}

#[tokio::test(start_paused = true)]
async fn a_root_that_cannot_scale_to_zero_gets_a_clone_at_half_an_acu_that_never_pauses() {
    let env = FakeEnv::new();
    root_of_version(&env, "14.9");
    let (answer, clone_id) = create(
        &env,
        json!({"SourceClusterId": "prod", "ServerlessMinCapacity": 0,
               "ServerlessMaxCapacity": 4, "AutoPauseAfter": "PT10M"}),
    )
    .await;
    assert_success(&answer);
    let clone = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert_eq!(clone.serverless_v2_scaling, scaling(0.5, 4.0, None));
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_names_the_engine_version_rule_it_applied() {
    let env = FakeEnv::new();
    root_of_version(&env, "14.9");
    let plan = env
        .send(json!({"action": "provision", "SourceClusterId": "prod",
                     "ServerlessMinCapacity": "0", "ServerlessMaxCapacity": "4",
                     "dryRun": true}))
        .await;
    let summary = plan.to_string();
    assert!(
        summary.contains(
            "aurora-postgresql 14.9 cannot scale to 0 (needs 14.12+); using min 0.5 ACU, so it \
             never pauses (AWS rule rds-serverless-scale-to-zero-version)"
        ),
        "{plan:#}"
    );
    assert!(summary.contains("capacity 0.5-4 ACU"), "{plan:#}");
    assert!(env.managed("clone").is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_impossible_serverless_clone_is_refused_naming_the_field_and_the_rule_before_anything_is_made()
 {
    let env = FakeEnv::new();
    root_of_version(&env, "16.3");
    let (answer, _) = create(
        &env,
        json!({"SourceClusterId": "prod", "ServerlessMinCapacity": "4",
               "ServerlessMaxCapacity": "2", "SetPassword": "true",
               "AccessPrincipalArns": "arn:aws:iam::123456789012:role/developer"}),
    )
    .await;
    assert_failed_with(
        &answer,
        "ServerlessMaxCapacity: MaxCapacity 2 is below MinCapacity 4 (AWS rule rds-serverless-capacity-range)",
    );
    assert!(env.managed("clone").is_empty());
    assert_eq!(env.fake.all_clusters().len(), 1, "only the root");
    assert_no_password_leftovers(&env);
}

#[tokio::test(start_paused = true)]
async fn a_copy_capacity_aws_would_refuse_is_reported_by_path_and_no_copy_is_made() {
    let env = FakeEnv::new();
    root_of_version(&env, "16.3");
    env.fake
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 10
                            :copy-capacity {:min 0 :max 4 :auto-pause "PT1M"}}]}"#,
        )
        .await
        .unwrap();
    let report = env.send(scheduled_event()).await;
    let problem = &report["configProblems"][0];
    assert_eq!(
        problem["path"], "clusters[0].copy-capacity.auto-pause",
        "{report:#}"
    );
    assert_eq!(
        problem["problem"],
        "SecondsUntilAutoPause 60 is outside 300 to 86400 (five minutes to one day) (AWS rule \
         rds-serverless-auto-pause-seconds)"
    );
    assert!(env.managed("copy").is_empty());
}
