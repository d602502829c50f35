//! The `Custom::AuroraClone` lifecycle against the in-process fake AWS: every behaviour,
//! including the clone limit, the copy pool, updates, deletes and answers on failure.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::failure::Fault;
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use fake_harness::*;
use serde_json::json;

const READER: &str = "arn:aws:iam::123456789012:role/developer";

#[tokio::test(start_paused = true)]
async fn create_makes_a_usable_clone_of_the_root_and_answers_with_every_return_value() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;

    let answer = env.only_answer(&response_url("req-1"));
    assert_success(&answer);
    let clones = env.managed("clone");
    assert_eq!(clones.len(), 1);
    let clone = &clones[0];
    assert_eq!(answer.physical_resource_id, clone.arn);
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
        assert!(answer.data.contains_key(key), "missing return value {key}");
    }
    assert_eq!(answer.data["ClusterId"], clone.id);
    assert_eq!(answer.data["ClonedFrom"], "prod");
    assert_eq!(answer.data["Port"], "5432");
    assert_eq!(
        clone.tags[tags::STATE],
        "ready",
        "answered only once usable"
    );
    assert_eq!(
        clone.tags[tags::SOURCE_ARN],
        env.fake.cluster_snapshot("prod").unwrap().arn
    );
    assert_eq!(clone.tags[tags::REQUEST], "req-1");
    let instances: Vec<_> = env
        .fake
        .all_instances()
        .into_iter()
        .filter(|instance| instance.cluster_id.as_deref() == Some(clone.id.as_str()))
        .collect();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].status, "available");
    assert_eq!(
        instances[0].instance_class, "db.r6g.large",
        "the root writer's class"
    );
    assert_eq!(env.fake.events().len(), 1, "one lifecycle event");
}

#[tokio::test(start_paused = true)]
async fn a_replayed_create_finds_its_own_clone_instead_of_making_a_second() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let event = create_event("Db", "req-1", json!({"SourceClusterId": "prod"}));
    env.send(event.clone()).await;
    env.send(event).await;
    assert_eq!(env.managed("clone").len(), 1);
    let answers = env.answers(&response_url("req-1"));
    assert_eq!(answers.len(), 2, "each delivery is answered");
    assert_eq!(
        answers[0].physical_resource_id,
        answers[1].physical_resource_id
    );
}

#[tokio::test(start_paused = true)]
async fn with_fifteen_clones_on_the_root_the_next_create_uses_a_fresh_copy() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    for index in 0..15 {
        env.send(create_event(
            &format!("Db{index}"),
            &format!("req-{index}"),
            json!({"SourceClusterId": "prod"}),
        ))
        .await;
    }
    // Maintenance made a copy earlier.
    env.fake.seed_cluster({
        let mut seed = aurora_clone_manager::aws::fake::FakeClusterSeed::root("prod-copy-1");
        seed.tags = [
            (tags::ROLE.to_string(), "copy".to_string()),
            (tags::STACK.to_string(), "acm".to_string()),
            (
                tags::ROOT_ARN.to_string(),
                env.fake.cluster_snapshot("prod").unwrap().arn,
            ),
            (
                tags::DATA_TIMESTAMP.to_string(),
                aurora_clone_manager::model::time::format_timestamp(env.clock.now()),
            ),
            (tags::STATE.to_string(), "ready".to_string()),
        ]
        .into();
        seed
    });
    env.send(create_event(
        "Db15",
        "req-15",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-15"));
    assert_success(&answer);
    assert_eq!(answer.data["ClonedFrom"], "prod-copy-1");
    assert!(
        env.fake.silent_full_copies().is_empty(),
        "no restore went past the limit"
    );
}

#[tokio::test(start_paused = true)]
async fn with_no_fresh_copy_and_copy_ok_false_create_fails_explaining_where_the_slots_went() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    for index in 0..15 {
        env.send(create_event(
            &format!("Db{index}"),
            &format!("req-{index}"),
            json!({"SourceClusterId": "prod"}),
        ))
        .await;
    }
    env.send(create_event(
        "Extra",
        "req-extra",
        json!({"SourceClusterId": "prod", "CopyOk": "false"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-extra"));
    assert_failed_with(&answer, "no clone slots on prod (15/15 used)");
    assert_failed_with(&answer, "CopyOk");
    assert_failed_with(&answer, "/acm/maintenance-config");
    assert!(
        !answer.physical_resource_id.starts_with("arn:"),
        "nothing to delete on rollback"
    );
    assert_eq!(env.managed("clone").len(), 15);
}

#[tokio::test(start_paused = true)]
async fn a_clone_group_filled_by_clusters_someone_else_made_counts_as_full() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_failed_with(&env.only_answer(&response_url("req-1")), "15/15 used");
    assert!(env.managed("clone").is_empty());
}

#[tokio::test(start_paused = true)]
async fn with_copy_ok_and_wait_for_ready_a_full_root_is_refused_before_anything_is_made() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "CopyOk": "true", "SetPassword": "true",
               "AccessPrincipalArns": READER}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "WaitForReady");
    assert_failed_with(&answer, "longer than the hour CloudFormation waits");
    assert!(env.managed("copy").is_empty(), "no copy was started");
    assert!(env.managed("clone").is_empty());
    assert!(env.fake.secrets().is_empty());
    assert!(env.fake.restores().is_empty());
}

fn scheduled_run() -> serde_json::Value {
    json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
           "resources": [], "detail": {}})
}

/// An invocation that hands over before a copy can be ready.
fn short_invocation() -> aurora_clone_manager::run::machinery::context::Invocation {
    aurora_clone_manager::run::machinery::context::Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
        function_name: Some("acm".into()),
    }
}

fn waiting_records(env: &FakeEnv) -> Vec<String> {
    env.fake
        .state_items(&env.app.config.state_table)
        .into_iter()
        .filter(|item| item.pk == "deferred-clone")
        .map(|item| item.sk)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn with_copy_ok_and_no_wait_the_answer_comes_when_the_copy_starts_and_the_clone_follows() {
    let env = FakeEnv::new();
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    let properties = json!({"SourceClusterId": "prod", "CopyOk": "true", "WaitForReady": "false",
                            "SetPassword": "true", "AccessPrincipalArns": READER});
    env.send_with(create_event("Db", "req-1", properties), short_invocation())
        .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_success(&answer);
    let copies = env.managed("copy");
    assert_eq!(copies.len(), 1, "the copy is under way");
    assert!(env.managed("clone").is_empty(), "the clone waits for it");
    let clone_id = answer.data["ClusterId"].clone();
    assert_eq!(answer.data["ClonedFrom"], copies[0].id);
    assert_eq!(
        answer.data["Endpoint"], "",
        "no endpoint before the clone exists"
    );
    assert!(
        answer
            .physical_resource_id
            .ends_with(&format!(":cluster:{clone_id}"))
    );
    assert_eq!(waiting_records(&env).len(), 1);

    // The chain that followed the copy is lost; maintenance runs carry the clone through.
    env.fake.take_invocations();
    for _ in 0..40 {
        if env
            .managed("clone")
            .first()
            .is_some_and(|clone| clone.tags[tags::STATE] == "ready")
        {
            break;
        }
        tokio::time::advance(Duration::from_secs(600)).await;
        env.send(scheduled_run()).await;
        env.fake.take_invocations();
    }
    let clones = env.managed("clone");
    assert_eq!(clones.len(), 1);
    assert_eq!(clones[0].id, clone_id);
    assert_eq!(clones[0].tags[tags::STATE], "ready");
    assert_eq!(
        env.fake.restores().last().unwrap().source_cluster_id,
        copies[0].id,
        "cloned from the copy"
    );
    assert!(
        waiting_records(&env).is_empty(),
        "the record is gone once restored"
    );
    assert_eq!(
        env.fake.secrets().len(),
        1,
        "the secret made at create time is kept"
    );
    assert_eq!(env.fake.events().len(), 1, "announced once");
}

/// The chain that follows a copy and a maintenance run may both pick up the same waiting
/// clone: the one that comes second finds it restored and finishes it, never taking the
/// missing record for a cancellation.
#[tokio::test(start_paused = true)]
async fn a_waiting_clone_restored_by_one_trigger_is_finished_not_removed_by_the_other() {
    let env = FakeEnv::new();
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    let properties = json!({"SourceClusterId": "prod", "CopyOk": "true", "WaitForReady": "false",
                            "SetPassword": "true", "AccessPrincipalArns": READER});
    env.send_with(create_event("Db", "req-1", properties), short_invocation())
        .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    let stale_chain = env.fake.take_invocations();
    assert_eq!(stale_chain.len(), 1, "the chain following the copy");
    for _ in 0..40 {
        if !env.managed("clone").is_empty() {
            break;
        }
        tokio::time::advance(Duration::from_secs(600)).await;
        env.send(scheduled_run()).await;
        env.fake.take_invocations();
    }
    assert_eq!(env.managed("clone").len(), 1, "maintenance restored it");
    assert!(waiting_records(&env).is_empty());
    // The chain's hand-over, still saying the clone waits, arrives late.
    for (_, payload) in stale_chain {
        env.send(payload).await;
    }
    env.run_continuations().await;
    let clones = env.managed("clone");
    assert_eq!(clones.len(), 1, "not removed");
    assert_eq!(clones[0].tags[tags::STATE], "ready", "and finished");
    assert_eq!(env.fake.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn another_resource_cannot_cancel_a_clone_that_waits_for_its_copy() {
    let env = FakeEnv::new();
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    let properties = json!({"SourceClusterId": "prod", "CopyOk": "true", "WaitForReady": "false"});
    env.send_with(create_event("Db", "req-1", properties), short_invocation())
        .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.send(delete_event("Other", "req-2", &physical, json!({})))
        .await;
    assert_failed_with(
        &env.only_answer(&response_url("req-2")),
        "another stack or resource",
    );
    assert_eq!(waiting_records(&env).len(), 1, "still waiting");
}

#[tokio::test(start_paused = true)]
async fn a_clone_deleted_while_it_waits_for_its_copy_is_never_made_and_leaves_nothing() {
    let env = FakeEnv::new();
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    let properties = json!({"SourceClusterId": "prod", "CopyOk": "true", "WaitForReady": "false",
                            "SetPassword": "true", "AccessPrincipalArns": READER});
    env.send_with(create_event("Db", "req-1", properties), short_invocation())
        .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    let chain = env.fake.take_invocations();
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert!(waiting_records(&env).is_empty());
    // The chain that was following the copy carries on, and maintenance runs: neither
    // makes the clone.
    for (_, payload) in chain {
        env.send(payload).await;
    }
    env.run_continuations().await;
    for _ in 0..10 {
        tokio::time::advance(Duration::from_secs(3 * 3600)).await;
        env.send(scheduled_run()).await;
        env.run_continuations().await;
    }
    assert!(env.managed("clone").is_empty());
    assert_no_password_leftovers(&env);
}

#[tokio::test(start_paused = true)]
async fn a_given_cluster_id_that_is_taken_fails_unless_a_suffix_is_allowed() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.seed_root("acm-taken");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "ClusterId": "acm-taken"}),
    ))
    .await;
    assert_failed_with(&env.only_answer(&response_url("req-1")), "ClusterId");
    env.send(create_event(
        "Db",
        "req-2",
        json!({"SourceClusterId": "prod", "ClusterId": "acm-taken", "NoFailOnExistingCluster": "true"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_success(&answer);
    assert!(
        answer.data["ClusterId"].starts_with("acm-taken-"),
        "{}",
        answer.data["ClusterId"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_cluster_id_without_the_name_prefix_is_answered_failed_naming_both() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "ClusterId": "my-clone"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "ClusterId: 'my-clone' must start with");
    assert_failed_with(&answer, "name prefix 'acm-'");
    assert!(env.managed("clone").is_empty());
}

#[tokio::test(start_paused = true)]
async fn set_password_without_readers_fails_naming_the_property() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true"}),
    ))
    .await;
    assert_failed_with(
        &env.only_answer(&response_url("req-1")),
        "AccessPrincipalArns",
    );
}

async fn created(env: &FakeEnv, request: &str, properties: serde_json::Value) -> String {
    env.send(create_event("Db", request, properties)).await;
    let answer = env.only_answer(&response_url(request));
    assert_success(&answer);
    answer.physical_resource_id
}

#[tokio::test(start_paused = true)]
async fn an_update_with_the_same_properties_changes_nothing() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let properties = json!({"SourceClusterId": "prod", "Tags": {"team": "data"}});
    let physical = created(&env, "req-1", properties.clone()).await;
    let restores = env.fake.restores().len();
    env.send(update_event(
        "Db",
        "req-2",
        &physical,
        properties.clone(),
        properties,
    ))
    .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_success(&answer);
    assert_eq!(answer.physical_resource_id, physical);
    assert_eq!(answer.data["Arn"], physical);
    assert_eq!(env.fake.restores().len(), restores);
}

#[tokio::test(start_paused = true)]
async fn copy_created_since_still_satisfied_changes_nothing_and_unsatisfied_makes_a_new_clone() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let old = json!({"SourceClusterId": "prod"});
    let physical = created(&env, "req-1", old.clone()).await;
    let satisfied = json!({"SourceClusterId": "prod", "CopyCreatedSince": "2026-01-01T00:00:00Z"});
    env.send(update_event(
        "Db",
        "req-2",
        &physical,
        satisfied.clone(),
        old,
    ))
    .await;
    assert_eq!(
        env.only_answer(&response_url("req-2")).physical_resource_id,
        physical
    );
    let later = json!({"SourceClusterId": "prod", "CopyCreatedSince": "2027-01-01T00:00:00Z"});
    env.send(update_event("Db", "req-3", &physical, later, satisfied))
        .await;
    let answer = env.only_answer(&response_url("req-3"));
    assert_success(&answer);
    assert_ne!(answer.physical_resource_id, physical, "a replacement");
}

#[tokio::test(start_paused = true)]
async fn changing_only_tags_updates_them_in_place() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let old = json!({"SourceClusterId": "prod", "Tags": {"team": "data", "old": "yes"}});
    let physical = created(&env, "req-1", old.clone()).await;
    let new = json!({"SourceClusterId": "prod", "Tags": {"team": "platform"}});
    env.send(update_event("Db", "req-2", &physical, new, old))
        .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_eq!(answer.physical_resource_id, physical);
    let clone = env.managed("clone").remove(0);
    assert_eq!(
        user_tags(&clone),
        [("team".to_string(), "platform".to_string())].into()
    );
    assert_eq!(env.managed("clone").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn changing_the_source_makes_a_replacement_clone() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.seed_root("staging");
    let old = json!({"SourceClusterId": "prod"});
    let physical = created(&env, "req-1", old.clone()).await;
    env.send(update_event(
        "Db",
        "req-2",
        &physical,
        json!({"SourceClusterId": "staging"}),
        old,
    ))
    .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_success(&answer);
    assert_ne!(answer.physical_resource_id, physical);
    assert_eq!(answer.data["ClonedFrom"], "staging");
    // CloudFormation then deletes the old one.
    env.send(delete_event(
        "Db",
        "req-3",
        &physical,
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-3")));
    assert_eq!(env.managed("clone").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn delete_removes_the_instances_and_the_cluster() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let physical = created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    env.send(delete_event(
        "Db",
        "req-2",
        &physical,
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    // Let deletions complete.
    for _ in 0..5 {
        let _ = env.fake.describe_for_test().await;
    }
    assert!(
        env.fake
            .all_clusters()
            .iter()
            .all(|cluster| !cluster.arn.eq(&physical))
    );
    assert_eq!(
        env.fake.all_instances().len(),
        1,
        "only the root's writer is left"
    );
    assert!(
        env.fake.cluster_snapshot("prod").is_some(),
        "the root is untouched"
    );
}

#[tokio::test(start_paused = true)]
async fn delete_succeeds_for_a_placeholder_id_and_for_a_clone_already_gone() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(delete_event(
        "Db",
        "req-1",
        "aurora-clone-not-created-1234",
        json!({}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    let physical = created(&env, "req-2", json!({"SourceClusterId": "prod"})).await;
    let clone_id = env.managed("clone")[0].id.clone();
    env.fake.remove_cluster(&clone_id);
    env.send(delete_event("Db", "req-3", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-3")));
}

#[tokio::test(start_paused = true)]
async fn delete_refuses_an_unmanaged_cluster_and_leaves_it() {
    let env = FakeEnv::new();
    let root = env.seed_root("prod");
    env.send(delete_event("Db", "req-1", &root.arn, json!({})))
        .await;
    assert_failed_with(
        &env.only_answer(&response_url("req-1")),
        "not a clone managed by this clone manager",
    );
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Available
    );
    assert_eq!(
        env.fake
            .call_counts()
            .get(operations::RDS_DELETE_DB_CLUSTER.name),
        None
    );
}

#[tokio::test(start_paused = true)]
async fn delete_refuses_a_clone_that_belongs_to_another_resource() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let physical = created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    env.send(delete_event("OtherResource", "req-2", &physical, json!({})))
        .await;
    assert_failed_with(
        &env.only_answer(&response_url("req-2")),
        "belongs to another",
    );
    assert_eq!(env.managed("clone").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_aws_error_during_create_is_answered_failed_and_leaves_nothing() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.faults.inject(
        operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME,
        Fault::Denied,
        1,
    );
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "starting the clone");
    assert!(env.managed("clone").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_panic_inside_the_handler_is_answered_failed() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.faults
        .inject(operations::RDS_DESCRIBE_DB_CLUSTERS, Fault::Panic, 1);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_failed_with(&env.only_answer(&response_url("req-1")), "internal error");
}

#[tokio::test(start_paused = true)]
async fn a_request_still_running_near_the_deadline_is_answered_failed_before_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.faults.halt_after_mutations(0);
    let invocation = aurora_clone_manager::run::machinery::context::Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
        function_name: Some("acm".into()),
    };
    let started = tokio::time::Instant::now();
    env.send_with(
        create_event("Db", "req-1", json!({"SourceClusterId": "prod"})),
        invocation,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "answered before the deadline"
    );
    assert_failed_with(&env.only_answer(&response_url("req-1")), "timed out");
}

#[tokio::test(start_paused = true)]
async fn a_clone_still_creating_at_the_deadline_is_handed_over_and_finished_there() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .configure(|settings| settings.describes_until_available = 200);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert!(
        env.answers(&response_url("req-1")).is_empty(),
        "not answered while creating"
    );
    let continuations = env.run_continuations().await;
    assert!(continuations >= 1);
    assert_success(&env.only_answer(&response_url("req-1")));
    assert_eq!(env.fake.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_clone_never_ready_fails_inside_cloudformations_hour_and_is_removed() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .configure(|settings| settings.describes_until_available = 1_000_000);
    let started = env.clock.now();
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    env.run_continuations().await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "not ready");
    assert!(env.clock.now() - started < chrono::TimeDelta::minutes(60));
    assert!(
        env.managed("clone").is_empty(),
        "the failed clone is deleted"
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_ready_false_answers_right_after_the_api_calls_and_still_finishes() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "WaitForReady": "false"}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_success(&answer);
    env.run_continuations().await;
    assert_eq!(env.managed("clone")[0].tags[tags::STATE], "ready");
    assert_eq!(env.fake.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_final_snapshot_is_taken_only_when_asked_for() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let plain = created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    env.send(delete_event(
        "Db",
        "req-2",
        &plain,
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert!(env.fake.final_snapshots().is_empty());
    env.send(create_event(
        "Db",
        "req-3",
        json!({"SourceClusterId": "prod", "FinalSnapshot": "true"}),
    ))
    .await;
    let kept = env.only_answer(&response_url("req-3")).physical_resource_id;
    env.send(delete_event(
        "Db",
        "req-4",
        &kept,
        json!({"SourceClusterId": "prod", "FinalSnapshot": "true"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-4")));
    let snapshots = env.fake.final_snapshots();
    assert_eq!(snapshots.len(), 1);
    assert!(snapshots[0].contains("final"), "{snapshots:?}");
}

/// AWS's pages disagree on whether 15 clones per volume still holds; an operator who raised
/// MaxClonesPerSource (or clones another account made from the same volume) can make AWS
/// restore a "clone" as a full copy without an error. That must be seen and remembered.
#[tokio::test(start_paused = true)]
async fn a_restore_aws_turned_into_a_full_copy_is_announced_and_its_source_counts_as_full() {
    let env = FakeEnv::with_config(|config| config.max_clones_per_source = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    assert_eq!(
        env.fake.silent_full_copies().len(),
        1,
        "AWS made a full copy"
    );
    let clone = env.managed("clone").remove(0);
    assert_eq!(clone.tags[tags::FULL_COPY_FALLBACK], "true");
    let fallbacks: Vec<_> = env
        .fake
        .events()
        .into_iter()
        .filter(|event| event.detail_type == "lifecycle-event/full-copy-fallback")
        .collect();
    assert_eq!(fallbacks.len(), 1);
    assert_eq!(fallbacks[0].detail["clusterId"], clone.id);
    assert_eq!(fallbacks[0].detail["clonedFrom"], "prod");

    // The next request is told the truth instead of getting a second silent full copy.
    env.send(create_event(
        "Db2",
        "req-2",
        json!({"SourceClusterId": "prod"}),
    ))
    .await;
    assert_failed_with(&env.only_answer(&response_url("req-2")), "no clone slot");
    assert_eq!(env.fake.silent_full_copies().len(), 1);
}
