//! Per-clone passwords against the fake: the secret, its readers, the key, the finisher
//! and the lifecycle event, and that nothing is left behind when anything fails.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::failure::Fault;
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use fake_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";
const OTHER_READER: &str = "arn:aws:iam::123456789012:role/analyst";

fn with_password(readers: &[&str]) -> Value {
    json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": readers.join(",")})
}

#[tokio::test(start_paused = true)]
async fn a_clone_with_its_own_password_is_answered_only_once_everything_is_in_place() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event("Db", "req-1", with_password(&[READER])))
        .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_success(&answer);

    let clone = env.managed("clone").remove(0);
    let secrets = env.fake.secrets();
    assert_eq!(secrets.len(), 1);
    let secret = &secrets[0];
    assert!(
        secret
            .name
            .starts_with(&format!("/aurora-clone-manager/acm/password/{}-", clone.id))
    );
    let document: Value = serde_json::from_str(&secret.value).unwrap();
    for key in [
        "username",
        "password",
        "engine",
        "host",
        "port",
        "dbClusterIdentifier",
        "dbname",
    ] {
        assert!(!document[key].is_null(), "{key} missing in {document}");
    }
    assert_eq!(document["host"], clone.endpoint.clone().unwrap());
    let password = document["password"].as_str().unwrap();
    assert!(password.len() >= 32);
    assert_eq!(
        env.fake.master_password(&clone.id).as_deref(),
        Some(password)
    );
    assert_eq!(env.fake.password_changes().len(), 1, "one ModifyDBCluster");

    let policy: Value = serde_json::from_str(secret.policy.as_deref().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], json!([READER]));
    assert_eq!(
        policy["Statement"][0]["Action"],
        operations::SECRETS_GET_SECRET_VALUE.name
    );

    let keys = env.fake.keys();
    assert_eq!(keys.len(), 1, "a disposable key");
    assert_eq!(secret.kms_key_id.as_deref(), Some(keys[0].key_id.as_str()));
    assert_eq!(keys[0].tags[tags::DISPOSABLE], "true");
    let key_policy: Value = serde_json::from_str(&keys[0].policy).unwrap();
    let decrypt = key_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|statement| statement["Action"] == "kms:Decrypt")
        .expect("a decrypt statement");
    assert_eq!(decrypt["Principal"]["AWS"], json!([READER]));

    assert_eq!(clone.tags[tags::PASSWORD_SECRET], secret.name);
    assert_eq!(clone.tags[tags::PASSWORD_KEY], keys[0].key_id);
    assert_eq!(clone.tags[tags::STATE], "ready");
    assert_eq!(answer.data["PasswordSecret"], secret.name);
    assert_eq!(answer.data["PasswordSecretArn"], secret.arn);
    assert_eq!(answer.data["KmsKeyId"], keys[0].key_id);

    let events = env.fake.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, "aurora-clone-manager");
    assert_eq!(events[0].detail_type, "lifecycle-event/instance-ready");
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
            !events[0].detail[key].is_null(),
            "{key} missing in the event"
        );
    }
    assert_eq!(events[0].resources.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn with_a_default_key_readers_get_grants_limited_to_their_secret() {
    let env =
        FakeEnv::with_config(|config| config.default_kms_key_id = Some("default-key-id".into()));
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        with_password(&[READER, OTHER_READER]),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    assert!(env.fake.keys().is_empty(), "no key of its own");
    let secret = env.fake.secrets().remove(0);
    assert_eq!(secret.kms_key_id.as_deref(), Some("default-key-id"));
    let grants = env.fake.grants();
    assert_eq!(grants.len(), 2);
    for grant in &grants {
        assert_eq!(grant.key_id, "default-key-id");
        assert_eq!(
            grant.encryption_context,
            vec![("SecretARN".to_string(), secret.arn.clone())]
        );
    }
    let physical = env.managed("clone")[0].arn.clone();
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_no_password_leftovers(&env);
}

#[tokio::test(start_paused = true)]
async fn delete_removes_the_secret_and_schedules_the_disposable_key_for_deletion() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event("Db", "req-1", with_password(&[READER])))
        .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_no_password_leftovers(&env);
    assert_eq!(
        env.fake.keys().len(),
        1,
        "the key is pending deletion, not gone"
    );
}

#[tokio::test(start_paused = true)]
async fn changing_the_readers_rewrites_the_secret_and_key_policies_in_place() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let old = with_password(&[READER]);
    env.send(create_event("Db", "req-1", old.clone())).await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.send(update_event(
        "Db",
        "req-2",
        &physical,
        with_password(&[OTHER_READER]),
        old,
    ))
    .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_success(&answer);
    assert_eq!(answer.physical_resource_id, physical, "in place");
    let secret_policy: Value =
        serde_json::from_str(env.fake.secrets()[0].policy.as_deref().unwrap()).unwrap();
    assert_eq!(
        secret_policy["Statement"][0]["Principal"]["AWS"],
        json!([OTHER_READER])
    );
    let key_policy = env.fake.keys()[0].policy.clone();
    assert!(key_policy.contains(OTHER_READER) && !key_policy.contains(READER));
}

#[tokio::test(start_paused = true)]
async fn the_same_rds_event_delivered_twice_sends_one_lifecycle_event() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    // This test is about RDS events delivered twice, so it needs the instance to exist
    // while the clone is still `creating`: the one place the fake accepts an instance in a
    // cluster that is not available yet (AWS refuses it).
    env.fake.configure(|settings| {
        settings.describes_until_available = 30;
        settings.instances_wait_for_cluster = true;
    });
    // The first invocation has little time: it hands over before the clone is ready.
    let short = aurora_clone_manager::run::machinery::context::Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
        function_name: Some("acm".into()),
    };
    env.send_with(create_event("Db", "req-1", with_password(&[READER])), short)
        .await;
    assert!(env.answers(&response_url("req-1")).is_empty());
    let handed_over = env.fake.take_invocations();
    assert_eq!(handed_over.len(), 1);
    let clone = env.managed("clone").remove(0);
    let instance_id = clone.members[0].instance_id.clone();
    env.send(instance_created_event(&instance_id)).await;
    env.send(instance_created_event(&instance_id)).await;
    assert_eq!(env.fake.events().len(), 1);
    // The hand-over still answers CloudFormation, once.
    for (_, payload) in handed_over {
        env.send(payload).await;
    }
    assert_success(&env.only_answer(&response_url("req-1")));
    assert_eq!(env.fake.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_at_any_step_of_create_leaves_no_secret_key_or_cluster() {
    let steps = [
        (operations::KMS_CREATE_KEY, false),
        (operations::KMS_CREATE_ALIAS, false),
        (operations::SECRETS_CREATE_SECRET, false),
        (operations::SECRETS_PUT_RESOURCE_POLICY, false),
        (operations::KMS_CREATE_GRANT, true),
        (operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME, false),
        (operations::RDS_CREATE_DB_INSTANCE, false),
        (operations::SECRETS_GET_SECRET_VALUE, false),
        (operations::RDS_MODIFY_DB_CLUSTER, false),
        (operations::RDS_ADD_TAGS_TO_RESOURCE, false),
        (operations::SECRETS_PUT_SECRET_VALUE, false),
        (operations::EVENTS_PUT_EVENTS, false),
    ];
    for (operation, with_default_key) in steps {
        let env = FakeEnv::with_config(|config| {
            if with_default_key {
                config.default_kms_key_id = Some("default-key-id".into());
            }
        });
        env.seed_root("prod");
        env.faults.inject(operation, Fault::Denied, 1);
        env.send(create_event("Db", "req-1", with_password(&[READER])))
            .await;
        env.run_continuations().await;
        let answer = env.only_answer(&response_url("req-1"));
        assert_failed_with(&answer, "denied");
        assert!(
            env.managed("clone").is_empty(),
            "{operation}: a clone is left"
        );
        assert_no_password_leftovers(&env);
        assert!(
            !answer.physical_resource_id.starts_with("arn:"),
            "{operation}: nothing is left for the rollback to delete"
        );
        assert!(
            env.faults.fired().contains_key(operation.name),
            "{operation} was never reached: the test proves nothing"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_reader_created_moments_ago_is_waited_for_until_iam_has_propagated_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .principal_created_now(READER, Duration::from_secs(45));
    env.send(create_event("Db", "req-1", with_password(&[READER])))
        .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    let secret_policy = env.fake.secrets()[0].policy.clone().unwrap();
    assert!(secret_policy.contains(READER));
    assert!(env.fake.keys()[0].policy.contains(READER));
}

#[tokio::test(start_paused = true)]
async fn a_reader_iam_never_accepts_fails_the_create_naming_it_and_leaves_nothing() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake
        .principal_created_now(READER, Duration::from_secs(3600));
    let started = tokio::time::Instant::now();
    env.send(create_event("Db", "req-1", with_password(&[READER])))
        .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, READER);
    assert_failed_with(&answer, "MalformedPolicyDocumentException");
    assert!(
        started.elapsed() < Duration::from_secs(600),
        "gave up after about two minutes, not {:?}",
        started.elapsed()
    );
    assert_no_password_leftovers(&env);
    assert!(env.managed("clone").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_new_reader_added_by_an_update_is_waited_for_until_iam_has_propagated_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let old = with_password(&[READER]);
    env.send(create_event("Db", "req-1", old.clone())).await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.fake
        .principal_created_now(OTHER_READER, Duration::from_secs(30));
    env.send(update_event(
        "Db",
        "req-2",
        &physical,
        with_password(&[OTHER_READER]),
        old,
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert!(
        env.fake.secrets()[0]
            .policy
            .as_deref()
            .unwrap()
            .contains(OTHER_READER)
    );
}
