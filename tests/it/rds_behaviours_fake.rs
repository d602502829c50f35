//! What RDS does that the emulator hides, against the in-process fake: stopped clusters
//! cannot be deleted, a restore does not inherit its source's settings, a `db.serverless`
//! instance needs a capacity range, and only Aurora clusters can be cloned. Each test
//! goes through the same paths a user's request does.

use crate::fake_harness;
use aurora_clone_manager::model::ClusterStatus;

use std::time::Duration;

use aurora_clone_manager::aws::failure::Fault;
use aurora_clone_manager::aws::fake::FakeClusterSeed;
use aurora_clone_manager::aws::{
    AwsErrorKind, InstanceRequest, Params, Rds, RestoreRequest, RestoreSettings, RestoreType,
    ServerlessV2Scaling, Tags,
};
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::run::machinery::context::Invocation;
use aurora_clone_manager::run::machinery::respond::Status;
use aurora_clone_manager::run::workflows::finish::{self, FinishMode, FinishOutcome};
use fake_harness::*;
use serde_json::{Value, json};

const SCALING: ServerlessV2Scaling = ServerlessV2Scaling {
    min_capacity: Some(0.5),
    max_capacity: Some(16.0),
    seconds_until_auto_pause: None,
};

/// Makes a clone of `prod` through CloudFormation and returns (physical id, cluster id).
async fn clone_of_prod(env: &FakeEnv, request_id: &str) -> (String, String) {
    env.send(create_event(
        "Db",
        request_id,
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    let answer = env.only_answer(&response_url(request_id));
    assert_success(&answer);
    let physical = answer.physical_resource_id.clone();
    let cluster_id = physical.rsplit(':').next().unwrap().to_string();
    (physical, cluster_id)
}

fn restore_of(source: &str, cluster_id: &str, settings: RestoreSettings) -> RestoreRequest {
    RestoreRequest {
        cluster_id: cluster_id.to_string(),
        source_cluster_id: source.to_string(),
        restore_type: RestoreType::CopyOnWrite,
        tags: Tags::new(),
        db_subnet_group_name: None,
        vpc_security_group_ids: Vec::new(),
        db_cluster_parameter_group_name: None,
        settings,
    }
}

fn instance_of(cluster_id: &str, class: &str) -> InstanceRequest {
    InstanceRequest {
        instance_id: format!("{cluster_id}-1"),
        cluster_id: cluster_id.to_string(),
        instance_class: class.to_string(),
        engine: "aurora-postgresql".to_string(),
        db_parameter_group_name: None,
        publicly_accessible: false,
        tags: Tags::new(),
    }
}

async fn let_transitions_finish(env: &FakeEnv) {
    for _ in 0..10 {
        env.fake.describe_for_test().await;
    }
}

// ---------------------------------------------------------------------------------------
// The fake refuses what AWS refuses.

#[tokio::test(start_paused = true)]
async fn the_fake_refuses_to_delete_a_stopped_cluster_until_it_is_started_again() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let mut seed = FakeClusterSeed::root("dev");
    seed.instance_class = None;
    env.fake.seed_cluster(seed);
    env.fake.stop_cluster("dev", 0);
    assert_eq!(
        env.fake.cluster_snapshot("dev").unwrap().status,
        ClusterStatus::Stopping
    );
    let refused = env.fake.delete_cluster("dev", None).await.unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    env.fake.describe_for_test().await;
    assert_eq!(
        env.fake.cluster_snapshot("dev").unwrap().status,
        ClusterStatus::Stopped
    );
    let refused = env.fake.delete_cluster("dev", None).await.unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    env.fake.start_cluster("dev").await.unwrap();
    assert_eq!(
        env.fake.cluster_snapshot("dev").unwrap().status,
        ClusterStatus::Starting
    );
    let refused = env.fake.delete_cluster("dev", None).await.unwrap_err();
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    let_transitions_finish(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot("dev").unwrap().status,
        ClusterStatus::Available
    );
    env.fake.delete_cluster("dev", None).await.unwrap();
    assert_eq!(
        env.fake.cluster_snapshot("dev").unwrap().status,
        ClusterStatus::Deleting
    );
}

#[tokio::test(start_paused = true)]
async fn the_fake_starts_only_a_stopped_cluster_and_its_instances_follow() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let refused = env.fake.start_cluster("prod").await.unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    let missing = env.fake.start_cluster("nothing").await.unwrap_err();
    assert_eq!(missing.kind(), AwsErrorKind::NotFound);

    env.fake.stop_cluster("prod", 0);
    env.fake.describe_for_test().await;
    let writer = |env: &FakeEnv| env.fake.all_instances()[0].status.clone();
    assert_eq!(writer(&env), "stopped");
    env.fake.start_cluster("prod").await.unwrap();
    assert_eq!(writer(&env), "starting");
    let_transitions_finish(&env).await;
    assert_eq!(writer(&env), "available");
}

#[tokio::test(start_paused = true)]
async fn aurora_starts_a_cluster_stopped_for_seven_days_by_itself() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake.stop_cluster("prod", 0);
    env.fake.describe_for_test().await;
    tokio::time::advance(Duration::from_secs(6 * 24 * 3600)).await;
    env.fake.describe_for_test().await;
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        ClusterStatus::Stopped
    );
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    env.fake.describe_for_test().await;
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        ClusterStatus::Starting
    );
    let_transitions_finish(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        ClusterStatus::Available
    );
}

#[tokio::test(start_paused = true)]
async fn a_restore_gets_the_engine_defaults_unless_the_request_names_the_settings() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake.modify_cluster("prod", |root| {
        root.port = Some(6543);
        root.iam_database_authentication_enabled = true;
        root.storage_type = Some("aurora-iopt1".into());
        root.enabled_cloudwatch_logs_exports = vec!["postgresql".into()];
        root.serverless_v2_scaling = Some(SCALING);
    });
    let bare = env
        .fake
        .restore_cluster(&restore_of("prod", "bare", RestoreSettings::default()))
        .await
        .unwrap();
    assert_eq!(bare.port, Some(5432), "the engine's port, not the source's");
    assert!(!bare.iam_database_authentication_enabled);
    assert_eq!(bare.storage_type.as_deref(), Some("aurora"));
    assert!(bare.enabled_cloudwatch_logs_exports.is_empty());
    assert_eq!(bare.serverless_v2_scaling, None);

    let root = env.fake.cluster_snapshot("prod").unwrap();
    let like_root = env
        .fake
        .restore_cluster(&restore_of("prod", "like-root", RestoreSettings::of(&root)))
        .await
        .unwrap();
    assert_eq!(like_root.port, Some(6543));
    assert!(like_root.iam_database_authentication_enabled);
    assert_eq!(like_root.storage_type.as_deref(), Some("aurora-iopt1"));
    assert_eq!(
        like_root.enabled_cloudwatch_logs_exports,
        vec!["postgresql"]
    );
    assert_eq!(like_root.serverless_v2_scaling, Some(SCALING));
}

#[tokio::test(start_paused = true)]
async fn the_fake_refuses_a_serverless_instance_in_a_cluster_without_a_capacity_range() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let mut seed = FakeClusterSeed::root("provisioned");
    seed.instance_class = None;
    env.fake.seed_cluster(seed);
    let refused = env
        .fake
        .create_instance(&instance_of("provisioned", "db.serverless"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    assert!(
        refused.message().starts_with(
            "Set the Serverless v2 scaling configuration on the parent DB cluster before creating a Serverless v2 DB instance."
        ),
        "AWS's words: {refused}"
    );
    env.fake.modify_cluster("provisioned", |cluster| {
        cluster.serverless_v2_scaling = Some(SCALING)
    });
    let accepted = env
        .fake
        .create_instance(&instance_of("provisioned", "db.serverless"))
        .await
        .unwrap();
    assert_eq!(accepted.instance_class, "db.serverless");
}

// ---------------------------------------------------------------------------------------
// Defect 4: a stopped clone is started, then deleted, wherever it is deleted from.

#[tokio::test(start_paused = true)]
async fn deleting_a_stopped_clone_starts_it_waits_and_then_deletes_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let (physical, clone_id) = clone_of_prod(&env, "req-1").await;
    env.fake.stop_cluster(&clone_id, 2);
    let_transitions_finish(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot(&clone_id).unwrap().status,
        ClusterStatus::Stopped
    );
    env.fake.reset_call_counts();

    env.send(delete_event(
        "Db",
        "req-2",
        &physical,
        json!({"SourceClusterId": "prod"}),
    ))
    .await;

    assert_success(&env.only_answer(&response_url("req-2")));
    assert_eq!(
        env.fake
            .call_counts()
            .get(operations::RDS_START_DB_CLUSTER.name),
        Some(&1)
    );
    let status = env
        .fake
        .cluster_snapshot(&clone_id)
        .map(|cluster| cluster.status);
    assert!(
        matches!(status, None | Some(ClusterStatus::Deleting)),
        "the clone is being deleted: {status:?}"
    );
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        ClusterStatus::Available,
        "the root is untouched"
    );
}

#[tokio::test(start_paused = true)]
async fn a_delete_that_finds_the_clone_stopping_waits_until_it_is_stopped_then_starts_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let (physical, clone_id) = clone_of_prod(&env, "req-1").await;
    env.fake.stop_cluster(&clone_id, 5);
    env.fake.reset_call_counts();
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_eq!(
        env.fake
            .call_counts()
            .get(operations::RDS_START_DB_CLUSTER.name),
        Some(&1)
    );
    assert_eq!(
        env.fake
            .cluster_snapshot(&clone_id)
            .map(|cluster| cluster.status),
        Some(ClusterStatus::Deleting)
    );
}

#[tokio::test(start_paused = true)]
async fn a_delete_that_finds_the_clone_starting_waits_without_starting_it_again() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let (physical, clone_id) = clone_of_prod(&env, "req-1").await;
    env.fake
        .set_cluster_status(&clone_id, ClusterStatus::Starting, 4);
    env.fake.reset_call_counts();
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_eq!(
        env.fake
            .call_counts()
            .get(operations::RDS_START_DB_CLUSTER.name),
        None
    );
    assert_eq!(
        env.fake
            .cluster_snapshot(&clone_id)
            .map(|cluster| cluster.status),
        Some(ClusterStatus::Deleting)
    );
}

#[tokio::test(start_paused = true)]
async fn a_stopped_clone_that_starts_slowly_is_handed_over_and_deleted_by_a_fresh_invocation() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let (physical, clone_id) = clone_of_prod(&env, "req-1").await;
    env.fake.stop_cluster(&clone_id, 0);
    env.fake
        .configure(|settings| settings.describes_until_available = 250);
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert!(
        env.answers(&response_url("req-2")).is_empty(),
        "no answer while the clone is starting"
    );
    let continuations = env.run_continuations().await;
    assert!(continuations >= 1, "handed over at least once");
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_eq!(
        env.fake
            .cluster_snapshot(&clone_id)
            .map(|cluster| cluster.status),
        Some(ClusterStatus::Deleting)
    );
}

#[tokio::test(start_paused = true)]
async fn a_clone_that_never_finishes_starting_is_answered_failed_within_the_hour() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let (physical, clone_id) = clone_of_prod(&env, "req-1").await;
    env.fake.stop_cluster(&clone_id, 0);
    env.fake
        .configure(|settings| settings.describes_until_available = 1_000_000);
    let started = env.clock.now();
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    env.run_continuations().await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_eq!(
        answer.status,
        Status::Failed,
        "never SUCCESS while it exists"
    );
    assert_failed_with(&answer, "starting");
    assert!(env.clock.now() - started < chrono::TimeDelta::minutes(60));
    assert_eq!(
        env.fake
            .cluster_snapshot(&clone_id)
            .map(|cluster| cluster.status),
        Some(ClusterStatus::Starting),
        "the clone is still there, and CloudFormation was told so"
    );
}

#[tokio::test(start_paused = true)]
async fn maintenance_starts_a_stopped_obsolete_copy_and_deletes_it_on_its_next_run() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let root_arn = env.fake.cluster_snapshot("prod").unwrap().arn;
    let mut seed = FakeClusterSeed::root("prod-old-copy");
    seed.tags = [
        (tags::ROLE.to_string(), "copy".to_string()),
        (tags::STACK.to_string(), "acm".to_string()),
        (tags::ROOT_ARN.to_string(), root_arn),
        (
            tags::DATA_TIMESTAMP.to_string(),
            aurora_clone_manager::model::time::format_timestamp(
                env.clock.now() - chrono::TimeDelta::days(5),
            ),
        ),
        (tags::STATE.to_string(), "ready".to_string()),
    ]
    .into();
    env.fake.seed_cluster(seed);
    env.fake.stop_cluster("prod-old-copy", 0);
    env.fake.describe_for_test().await;
    env.fake
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 5}]}"#,
        )
        .await
        .unwrap();
    let maintain = json!({"action": "maintain"});

    let first = env.send(maintain.clone()).await;
    assert_eq!(
        first["roots"][0]["copiesStarting"],
        json!(["prod-old-copy"]),
        "{first}"
    );
    assert_eq!(first["roots"][0]["copiesPurged"], json!([]));
    assert_eq!(first["roots"][0]["failures"], json!([]));
    let_transitions_finish(&env).await;

    let second = env.send(maintain).await;
    assert_eq!(
        second["roots"][0]["copiesPurged"],
        json!(["prod-old-copy"]),
        "{second}"
    );
    assert!(env.managed("copy").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_clone_is_stopped_before_it_is_ready_fails_and_the_rollback_deletes_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .configure(|settings| settings.describes_until_available = 3);
    let fake = env.fake.clone();
    // Someone stops the clone as soon as it is available, before the finisher is done.
    let stopper = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let clone = fake
                .all_clusters()
                .into_iter()
                .find(|cluster| cluster.tags.get(tags::ROLE).map(String::as_str) == Some("clone"));
            if let Some(clone) = clone
                && clone.is_available()
            {
                fake.stop_cluster(&clone.id, 0);
                return clone.id;
            }
        }
    });
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true",
               "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev"}),
    ))
    .await;
    let clone_id = stopper.await.unwrap();
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "stopped");
    assert!(
        answer
            .physical_resource_id
            .ends_with(&format!(":cluster:{clone_id}")),
        "the failed create names the clone, so the rollback deletes it: {answer:?}"
    );

    env.send(delete_event(
        "Db",
        "req-2",
        &answer.physical_resource_id,
        json!({}),
    ))
    .await;
    env.run_continuations().await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_eq!(
        env.fake
            .cluster_snapshot(&clone_id)
            .map(|cluster| cluster.status),
        Some(ClusterStatus::Deleting)
    );
    assert_no_password_leftovers(&env);
}

// ---------------------------------------------------------------------------------------
// Defects 5 and 6: what the clone inherits, and a root on Serverless v2.

#[tokio::test(start_paused = true)]
async fn a_clone_inherits_port_iam_auth_storage_type_log_exports_and_scaling_from_its_root() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake.modify_cluster("prod", |root| {
        root.port = Some(6543);
        root.iam_database_authentication_enabled = true;
        root.storage_type = Some("aurora-iopt1".into());
        root.enabled_cloudwatch_logs_exports = vec!["postgresql".into()];
        root.serverless_v2_scaling = Some(SCALING);
    });
    let (_, clone_id) = clone_of_prod(&env, "req-1").await;
    let clone = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert_eq!(clone.port, Some(6543));
    assert!(clone.iam_database_authentication_enabled);
    assert_eq!(clone.storage_type.as_deref(), Some("aurora-iopt1"));
    assert_eq!(clone.enabled_cloudwatch_logs_exports, vec!["postgresql"]);
    assert_eq!(clone.serverless_v2_scaling, Some(SCALING));
    let answer = env.only_answer(&response_url("req-1"));
    assert_eq!(answer.data["Port"], "6543");
}

#[tokio::test(start_paused = true)]
async fn a_clone_instance_is_exactly_as_public_as_the_root_writer() {
    for root_public in [false, true] {
        let env = FakeEnv::new();
        env.seed_root("prod");
        env.fake.modify_instance("prod-writer", |writer| {
            writer.publicly_accessible = root_public
        });
        let (_, clone_id) = clone_of_prod(&env, "req-1").await;
        let instances: Vec<_> = env
            .fake
            .all_instances()
            .into_iter()
            .filter(|instance| instance.cluster_id.as_deref() == Some(clone_id.as_str()))
            .collect();
        assert_eq!(instances.len(), 1);
        assert_eq!(
            instances[0].publicly_accessible, root_public,
            "root writer public: {root_public}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_instance_the_finisher_adds_later_is_as_public_as_the_root_writer() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .modify_instance("prod-writer", |writer| writer.publicly_accessible = true);
    // The first CreateDBInstance, right after the restore, is refused: the finisher adds
    // the instance from the clone's tags once the clone is available.
    env.faults
        .inject(operations::RDS_CREATE_DB_INSTANCE, Fault::InvalidState, 1);
    let (_, clone_id) = clone_of_prod(&env, "req-1").await;
    let instance = env
        .fake
        .all_instances()
        .into_iter()
        .find(|instance| instance.cluster_id.as_deref() == Some(clone_id.as_str()))
        .unwrap();
    assert!(instance.publicly_accessible);
}

#[tokio::test(start_paused = true)]
async fn a_root_on_serverless_v2_yields_a_clone_with_a_serverless_instance() {
    let env = FakeEnv::new();
    let mut seed = FakeClusterSeed::root("prod");
    seed.instance_class = Some("db.serverless".into());
    env.fake.seed_cluster(seed);
    env.fake
        .modify_cluster("prod", |root| root.serverless_v2_scaling = Some(SCALING));
    let started = env.clock.now();
    let (_, clone_id) = clone_of_prod(&env, "req-1").await;
    assert!(env.clock.now() - started < chrono::TimeDelta::minutes(10));
    let instance = env
        .fake
        .all_instances()
        .into_iter()
        .find(|instance| instance.cluster_id.as_deref() == Some(clone_id.as_str()))
        .unwrap();
    assert_eq!(instance.instance_class, "db.serverless");
    assert_eq!(instance.status, "available");
}

#[tokio::test(start_paused = true)]
async fn an_instance_refused_by_an_available_cluster_fails_the_clone_at_once_with_awss_message() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    // A clone of ours that is available, has no instance yet and no capacity range, and
    // whose tags ask for a Serverless v2 instance.
    let mut seed = FakeClusterSeed::root("prod-clone");
    seed.instance_class = None;
    seed.tags = [
        (tags::ROLE.to_string(), "clone".to_string()),
        (tags::STACK.to_string(), "acm".to_string()),
        (tags::STATE.to_string(), "pending".to_string()),
        (
            tags::INSTANCE_CLASS.to_string(),
            "db.serverless".to_string(),
        ),
    ]
    .into();
    env.fake.seed_cluster(seed);
    let started = env.clock.now();
    let outcome = finish::run(
        &env.app,
        &Invocation::unbounded(),
        finish::sweep_job(&env.app, "prod-clone"),
        FinishMode::Poll,
        None,
        &|_| {},
    )
    .await;
    let FinishOutcome::Failed(reason) = outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert!(
        reason.contains("InvalidDBClusterStateFault")
            && reason.contains("Set the Serverless v2 scaling configuration"),
        "{reason}"
    );
    assert!(
        env.clock.now() - started < chrono::TimeDelta::minutes(1),
        "failed at once, not after waiting"
    );
}

#[tokio::test(start_paused = true)]
async fn an_instance_refused_while_the_clone_is_creating_is_added_once_it_is_available() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake.configure(|settings| {
        settings.instances_wait_for_cluster = false;
        settings.describes_until_available = 4;
    });
    let (_, clone_id) = clone_of_prod(&env, "req-1").await;
    let instances: Vec<_> = env
        .fake
        .all_instances()
        .into_iter()
        .filter(|instance| instance.cluster_id.as_deref() == Some(clone_id.as_str()))
        .collect();
    assert_eq!(instances.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Defect 14: only Aurora clusters are cloned.

fn seed_other_engine(env: &FakeEnv, id: &str, engine: &str) {
    let mut seed = FakeClusterSeed::root(id);
    seed.engine = engine.to_string();
    env.fake.seed_cluster(seed);
}

#[tokio::test(start_paused = true)]
async fn a_source_that_is_not_an_aurora_cluster_is_refused_naming_source_cluster_id() {
    for engine in ["neptune", "docdb", "mysql", "postgres"] {
        let env = FakeEnv::new();
        seed_other_engine(&env, "graph", engine);
        env.send(create_event(
            "Db",
            "req-1",
            json!({"SourceClusterId": "graph"}),
        ))
        .await;
        let answer = env.only_answer(&response_url("req-1"));
        assert_failed_with(&answer, "SourceClusterId");
        assert_failed_with(&answer, "not an Aurora cluster");
        assert!(env.fake.restores().is_empty(), "{engine}: nothing restored");
    }
}

#[tokio::test(start_paused = true)]
async fn maintenance_never_makes_copies_of_a_cluster_that_is_not_aurora() {
    let env = FakeEnv::new();
    seed_other_engine(&env, "graph", "neptune");
    env.fake
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "graph" :target-clone-slots 20}]}"#,
        )
        .await
        .unwrap();
    let report: Value = env.send(json!({"action": "maintain"})).await;
    assert!(
        report["plan"]["roots"][0]["problem"]
            .as_str()
            .is_some_and(|problem| problem.contains("not an Aurora cluster")),
        "{report}"
    );
    assert!(env.fake.restores().is_empty());
}
