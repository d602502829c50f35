//! The in-process fake refuses what AWS refuses: one violating call per rule of
//! `aurora_clone_manager::model::rules`, each answered with AWS's error code, and the
//! CloudFormation answer for user tags RDS would refuse.

use crate::fake_harness;

use std::sync::Arc;

use aurora_clone_manager::aws::fake::{FakeAws, FakeClusterSeed};
use aurora_clone_manager::aws::{
    AwsError, AwsErrorKind, BusEvent, InstanceRequest, KeyRequest, Ports, RestoreRequest,
    RestoreType, SecretRequest, SecretString, ServerlessV2Scaling, Tags,
};
use aurora_clone_manager::model::rules;
use fake_harness::*;
use serde_json::json;

/// A key policy KMS accepts: the account's IAM policies decide (KMS refuses a policy that
/// would lock its caller out).
const ACCOUNT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;

fn fake_with_root() -> (Arc<FakeAws>, Ports) {
    let fake = FakeAws::new();
    fake.seed_cluster(FakeClusterSeed::root("prod"));
    let ports = fake.ports();
    (fake, ports)
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn restore(cluster_id: &str, tags: Tags) -> RestoreRequest {
    RestoreRequest {
        cluster_id: cluster_id.to_string(),
        source_cluster_id: "prod".into(),
        restore_type: RestoreType::CopyOnWrite,
        tags,
        db_subnet_group_name: None,
        vpc_security_group_ids: Vec::new(),
        db_cluster_parameter_group_name: None,
        settings: Default::default(),
    }
}

/// The error is AWS's answer to the rule: its code, its kind, the rule named.
fn assert_refused(error: &AwsError, rule_id: &str, code: &str) {
    assert_eq!(error.code(), Some(code), "{error}");
    assert_eq!(error.kind(), rules::rule(rule_id).kind, "{error}");
    assert!(error.message().contains(rule_id), "{error}");
}

#[tokio::test]
async fn the_fake_refuses_a_restore_with_a_tag_rds_refuses() {
    let (fake, ports) = fake_with_root();
    let pipe = tags(&[("aurora-clone-manager:owner", "stack|Db")]);
    let error = ports
        .rds
        .restore_cluster(&restore("clone-1", pipe))
        .await
        .unwrap_err();
    assert_refused(&error, rules::RDS_TAG_CHARSET, "InvalidParameterValue");
    assert!(fake.cluster_snapshot("clone-1").is_none(), "nothing made");
}

#[tokio::test]
async fn the_fake_refuses_an_rds_tag_value_that_is_too_long() {
    let (fake, ports) = fake_with_root();
    let root = fake.cluster_snapshot("prod").unwrap();
    let error = ports
        .rds
        .add_tags(&root.arn, &tags(&[("note", &"n".repeat(257))]))
        .await
        .unwrap_err();
    assert_refused(&error, rules::RDS_TAG_LENGTH, "InvalidParameterValue");
    assert!(
        !fake
            .cluster_snapshot("prod")
            .unwrap()
            .tags
            .contains_key("note")
    );
}

#[tokio::test]
async fn the_fake_refuses_an_rds_tag_with_a_reserved_prefix() {
    let (_fake, ports) = fake_with_root();
    let error = ports
        .rds
        .restore_cluster(&restore("clone-1", tags(&[("rds:team", "x")])))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::RDS_TAG_RESERVED_PREFIX,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn the_fake_refuses_an_invalid_cluster_identifier() {
    let (_fake, ports) = fake_with_root();
    let error = ports
        .rds
        .restore_cluster(&restore("clone--1", Tags::new()))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::RDS_CLUSTER_IDENTIFIER,
        "InvalidParameterValue",
    );
}

/// Restores `clone-1` from the root (it is `creating`), then asks for an instance named
/// `instance_id` in it; returns the fake's refusal.
async fn instance_in_a_new_clone(instance_id: &str) -> AwsError {
    let (_fake, ports) = fake_with_root();
    ports
        .rds
        .restore_cluster(&restore("clone-1", Tags::new()))
        .await
        .unwrap();
    ports
        .rds
        .create_instance(&InstanceRequest {
            instance_id: instance_id.into(),
            cluster_id: "clone-1".into(),
            instance_class: "db.r6g.large".into(),
            engine: "aurora-postgresql".into(),
            db_parameter_group_name: None,
            publicly_accessible: false,
            tags: Tags::new(),
        })
        .await
        .unwrap_err()
}

#[tokio::test]
async fn the_fake_refuses_an_instance_in_a_cluster_that_is_still_creating() {
    let error = instance_in_a_new_clone("clone-1-1").await;
    assert_refused(
        &error,
        rules::RDS_INSTANCE_NEEDS_AVAILABLE_CLUSTER,
        "InvalidDBClusterStateFault",
    );
}

#[tokio::test]
async fn the_fake_refuses_an_invalid_instance_identifier() {
    let error = instance_in_a_new_clone("1-instance").await;
    assert_refused(
        &error,
        rules::RDS_INSTANCE_IDENTIFIER,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn the_fake_refuses_a_master_password_rds_refuses() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .rds
        .set_master_password("prod", &SecretString::new("pass@word-123".into()))
        .await
        .unwrap_err();
    assert_refused(&error, rules::RDS_MASTER_PASSWORD, "InvalidParameterValue");
    assert!(!error.message().contains("pass@word-123"), "never quoted");
    assert!(fake.password_changes().is_empty());
}

fn secret(name: &str, tags: Tags) -> SecretRequest {
    SecretRequest {
        name: name.to_string(),
        description: "test".into(),
        value: SecretString::new("{}".into()),
        kms_key_id: None,
        tags,
    }
}

#[tokio::test]
async fn the_fake_refuses_secret_tags_secrets_manager_refuses() {
    let (fake, ports) = fake_with_root();
    let long = ports
        .secrets
        .create_secret(&secret("/p/one", tags(&[("k", &"v".repeat(300))])))
        .await
        .unwrap_err();
    assert_refused(&long, rules::SECRETS_TAG_LENGTH, "ValidationException");
    let reserved = ports
        .secrets
        .create_secret(&secret("/p/two", tags(&[("aws:team", "x")])))
        .await
        .unwrap_err();
    assert_refused(
        &reserved,
        rules::SECRETS_TAG_RESERVED_PREFIX,
        "InvalidParameterException",
    );
    assert!(fake.secrets().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_an_invalid_secret_name() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .secrets
        .create_secret(&secret("/team space/password", Tags::new()))
        .await
        .unwrap_err();
    assert_refused(&error, rules::SECRETS_SECRET_NAME, "ValidationException");
    assert!(fake.secrets().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_kms_tags_kms_refuses() {
    let (fake, ports) = fake_with_root();
    let key = |tags: Tags| KeyRequest {
        description: "test".into(),
        policy: ACCOUNT_KEY_POLICY.into(),
        tags,
    };
    let long = ports
        .keys
        .create_key(&key(tags(&[(&"k".repeat(129), "v")])))
        .await
        .unwrap_err();
    assert_refused(&long, rules::KMS_TAG_LENGTH, "ValidationException");
    let reserved = ports
        .keys
        .create_key(&key(tags(&[("aws:team", "x")])))
        .await
        .unwrap_err();
    assert_refused(&reserved, rules::KMS_TAG_RESERVED_PREFIX, "TagException");
    assert!(fake.keys().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_an_invalid_alias_name() {
    let (fake, ports) = fake_with_root();
    let key = ports
        .keys
        .create_key(&KeyRequest {
            description: "test".into(),
            policy: ACCOUNT_KEY_POLICY.into(),
            tags: Tags::new(),
        })
        .await
        .unwrap();
    let error = ports
        .keys
        .create_alias("alias/aws/mine", &key.key_id)
        .await
        .unwrap_err();
    assert_refused(&error, rules::KMS_ALIAS_NAME, "InvalidAliasNameException");
    assert!(fake.aliases().is_empty());
}

fn event(detail: serde_json::Value) -> BusEvent {
    BusEvent {
        bus_name: "default".into(),
        source: "aurora-clone-manager".into(),
        detail_type: "Clone Ready".into(),
        detail,
        resources: Vec::new(),
    }
}

#[tokio::test]
async fn the_fake_refuses_an_event_whose_detail_is_not_an_object() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .events
        .put_event(&event(json!(["not", "an", "object"])))
        .await
        .unwrap_err();
    assert_refused(&error, rules::EVENTS_ENTRY_FIELDS, "ValidationException");
    assert!(fake.events().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_an_event_entry_over_the_size_limit() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .events
        .put_event(&event(
            json!({"log": "x".repeat(rules::EVENT_ENTRY_MAX_BYTES)}),
        ))
        .await
        .unwrap_err();
    assert_refused(&error, rules::EVENTS_ENTRY_SIZE, "ValidationException");
    assert_eq!(error.kind(), AwsErrorKind::InvalidRequest);
    assert!(fake.events().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_an_invalid_parameter_name() {
    let (fake, ports) = fake_with_root();
    for name in ["/aurora clone/lease", "/aws/lease", "/lease|1"] {
        let error = ports.params.put(name, "holder").await.unwrap_err();
        assert_refused(
            &error,
            rules::SSM_PARAMETER_NAME,
            "ParameterPatternMismatchException",
        );
    }
    assert!(fake.parameters().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_a_parameter_hierarchy_that_is_too_deep() {
    let (fake, ports) = fake_with_root();
    let deep = format!("/{}", vec!["level"; 16].join("/"));
    let error = ports
        .params
        .put_if_absent(&deep, "holder")
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::SSM_PARAMETER_DEPTH,
        "HierarchyLevelLimitExceededException",
    );
    assert!(fake.parameters().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_a_parameter_value_that_is_too_large() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .params
        .put("/aurora-clone-manager/config", &"v".repeat(4097))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::SSM_PARAMETER_VALUE_SIZE,
        "ValidationException",
    );
    assert!(fake.parameters().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_user_tag_rds_refuses_fails_the_stack_naming_the_tag_before_anything_is_made() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "Tags": [{"Key": "cost-center", "Value": "a|b"}]}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "Tags");
    assert_failed_with(&answer, "cost-center");
    assert_failed_with(&answer, rules::RDS_TAG_CHARSET);
    assert!(env.managed("clone").is_empty());
    assert!(env.fake.restores().is_empty());
}

fn serverless_restore(min: f64, max: f64, seconds: Option<i32>) -> RestoreRequest {
    let mut request = restore("clone-1", Tags::new());
    request.settings.serverless_v2_scaling = Some(ServerlessV2Scaling {
        min_capacity: Some(min),
        max_capacity: Some(max),
        seconds_until_auto_pause: seconds,
    });
    request
}

#[tokio::test]
async fn the_fake_refuses_a_restore_with_a_capacity_that_is_not_a_half_step() {
    let (fake, ports) = fake_with_root();
    let error = ports
        .rds
        .restore_cluster(&serverless_restore(0.5, 4.25, None))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::RDS_SERVERLESS_CAPACITY_RANGE,
        "InvalidParameterValue",
    );
    assert!(error.message().contains("MaxCapacity 4.25"), "{error}");
    assert!(fake.cluster_snapshot("clone-1").is_none(), "nothing made");
}

#[tokio::test]
async fn the_fake_refuses_a_restore_that_pauses_after_less_than_five_minutes() {
    let (fake, ports) = fake_with_root();
    fake.modify_cluster("prod", |root| root.engine_version = Some("16.3".into()));
    let error = ports
        .rds
        .restore_cluster(&serverless_restore(0.0, 4.0, Some(299)))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::RDS_SERVERLESS_AUTO_PAUSE_SECONDS,
        "InvalidParameterValue",
    );
    assert!(fake.cluster_snapshot("clone-1").is_none(), "nothing made");
}

#[tokio::test]
async fn the_fake_refuses_to_scale_to_zero_a_restore_of_a_version_without_auto_pause() {
    let (fake, ports) = fake_with_root();
    fake.modify_cluster("prod", |root| root.engine_version = Some("14.9".into()));
    let error = ports
        .rds
        .restore_cluster(&serverless_restore(0.0, 4.0, Some(600)))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        rules::RDS_SERVERLESS_SCALE_TO_ZERO_VERSION,
        "InvalidParameterCombination",
    );
    assert!(
        error.message().contains("aurora-postgresql 14.9"),
        "{error}"
    );
    assert!(fake.cluster_snapshot("clone-1").is_none(), "nothing made");

    fake.modify_cluster("prod", |root| root.engine_version = Some("14.12".into()));
    let made = ports
        .rds
        .restore_cluster(&serverless_restore(0.0, 4.0, Some(600)))
        .await
        .unwrap();
    assert_eq!(made.engine_version.as_deref(), Some("14.12"));
    assert_eq!(
        made.serverless_v2_scaling.unwrap().seconds_until_auto_pause,
        Some(600)
    );
}

#[tokio::test]
async fn the_fake_refuses_a_state_key_that_is_empty_or_too_long() {
    let (fake, ports) = fake_with_root();
    fake.create_state_table("acm-state");
    for (pk, sk) in [("lease", ""), ("", "prod"), ("lease", &*"s".repeat(1025))] {
        let item = aurora_clone_manager::aws::StateItem::new(pk, sk);
        let error = ports
            .state
            .put_item(
                "acm-state",
                &item,
                &aurora_clone_manager::aws::StateCondition::Always,
            )
            .await
            .unwrap_err();
        assert_refused(&error, rules::DYNAMODB_KEY_LENGTH, "ValidationException");
        let error = ports.state.get_item("acm-state", pk, sk).await.unwrap_err();
        assert_refused(&error, rules::DYNAMODB_KEY_LENGTH, "ValidationException");
    }
    assert!(fake.state_items("acm-state").is_empty());
}

#[tokio::test]
async fn the_fake_refuses_a_state_item_over_400_kb() {
    let (fake, ports) = fake_with_root();
    fake.create_state_table("acm-state");
    let item = aurora_clone_manager::aws::StateItem::new("deferred-clone", "acm-db")
        .with_text("job", &"x".repeat(400 * 1024));
    let error = ports
        .state
        .put_item(
            "acm-state",
            &item,
            &aurora_clone_manager::aws::StateCondition::Always,
        )
        .await
        .unwrap_err();
    assert_refused(&error, rules::DYNAMODB_ITEM_SIZE, "ValidationException");
    assert!(fake.state_items("acm-state").is_empty());
}
