//! The moto harness refuses what AWS refuses: one violating request per rule of
//! `aurora_clone_manager::model::rules`, sent with the real SDK (through the crate's adapters
//! where they can express it) to the validating account proxy, each answered with AWS's
//! error code; requests that break botocore's model of their operation; and a whole clone
//! that passes without a single refusal.

use crate::moto_harness;

use std::time::Duration;

use aurora_clone_manager::aws::sdk::sdk_ports;
use aurora_clone_manager::aws::{
    AwsError, BusEvent, InstanceRequest, KeyRequest, Ports, RestoreRequest, RestoreType,
    SecretRequest, SecretString, ServerlessV2Scaling, Tags,
};
use aurora_clone_manager::model::rules;
use aurora_clone_manager::model::tags;
use aws_config::SdkConfig;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::primitives::DateTime;
use moto_harness::*;
use serde_json::json;

/// A fresh account behind a validating proxy, with a root, the crate's adapters and an SDK
/// configuration for raw calls.
struct Account {
    proxy: Proxy,
    sdk: SdkConfig,
    ports: Ports,
    root: ClusterSeed,
}

async fn account() -> Account {
    let proxy = moto_account_proxy(FaultSchedule::none()).await;
    let sdk = sdk_config(&proxy.endpoint());
    let root = seed_root(&sdk, "prod").await;
    let ports = sdk_ports(&sdk);
    Account {
        proxy,
        sdk,
        ports,
        root,
    }
}

impl Account {
    /// The proxy refused exactly one request, for this rule (or this botocore member).
    fn assert_one_refusal(&self, mentioning: &str) {
        let refusals = self.proxy.stats().refusals;
        assert_eq!(refusals.len(), 1, "{refusals:#?}");
        assert!(refusals[0].contains(mentioning), "{refusals:#?}");
    }

    fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.sdk)
    }
}

fn tags_of(pairs: &[(&str, &str)]) -> Tags {
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

fn instance(instance_id: &str, class: &str, tags: Tags) -> InstanceRequest {
    InstanceRequest {
        instance_id: instance_id.to_string(),
        cluster_id: "prod".into(),
        instance_class: class.to_string(),
        engine: "aurora-postgresql".into(),
        db_parameter_group_name: None,
        publicly_accessible: false,
        tags,
    }
}

/// The adapter's error is AWS's answer to the rule.
fn assert_code(error: &AwsError, code: &str) {
    assert_eq!(error.code(), Some(code), "{error}");
}

#[tokio::test]
async fn the_proxy_refuses_a_restore_with_a_tag_rds_refuses() {
    let account = account().await;
    let owner = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1|TestDb";
    let error = account
        .ports
        .rds
        .restore_cluster(&restore(
            "clone-1",
            tags_of(&[("aurora-clone-manager:owner", owner)]),
        ))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_TAG_CHARSET);
    assert!(
        !cluster_exists(&account.sdk, "clone-1").await,
        "moto never saw it"
    );
}

#[tokio::test]
async fn the_proxy_refuses_an_rds_tag_value_that_is_too_long() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .add_tags(
            &account.root.cluster_arn,
            &tags_of(&[("note", &"n".repeat(257))]),
        )
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_TAG_LENGTH);
    assert!(
        !cluster_tags(&account.sdk, "prod")
            .await
            .contains_key("note")
    );
}

#[tokio::test]
async fn the_proxy_refuses_an_rds_tag_with_a_reserved_prefix() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .create_instance(&instance(
            "prod-reader",
            "db.r6g.large",
            tags_of(&[("aws:team", "x")]),
        ))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_TAG_RESERVED_PREFIX);
}

#[tokio::test]
async fn the_proxy_refuses_an_invalid_cluster_identifier() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .restore_cluster(&restore("clone--1", Tags::new()))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_CLUSTER_IDENTIFIER);
}

#[tokio::test]
async fn the_proxy_refuses_an_invalid_instance_identifier() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .create_instance(&instance("reader-", "db.r6g.large", Tags::new()))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_INSTANCE_IDENTIFIER);
}

#[tokio::test]
async fn the_proxy_refuses_a_copy_on_write_restore_to_a_point_in_time() {
    let account = account().await;
    let error = account
        .rds()
        .restore_db_cluster_to_point_in_time()
        .db_cluster_identifier("clone-1")
        .source_db_cluster_identifier("prod")
        .restore_type("copy-on-write")
        .restore_to_time(DateTime::from_secs(1_700_000_000))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterCombination"));
    account.assert_one_refusal(rules::RDS_RESTORE_POINT_IN_TIME);
}

#[tokio::test]
async fn the_proxy_refuses_a_multi_az_only_member_on_an_aurora_restore() {
    let account = account().await;
    let error = account
        .rds()
        .restore_db_cluster_to_point_in_time()
        .db_cluster_identifier("clone-1")
        .source_db_cluster_identifier("prod")
        .restore_type("copy-on-write")
        .use_latest_restorable_time(true)
        .publicly_accessible(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterCombination"));
    account.assert_one_refusal(rules::RDS_RESTORE_MULTI_AZ_ONLY);
}

#[tokio::test]
async fn the_proxy_refuses_performance_insights_on_an_aurora_restore() {
    let account = account().await;
    let error = account
        .rds()
        .restore_db_cluster_to_point_in_time()
        .db_cluster_identifier("clone-1")
        .source_db_cluster_identifier("prod")
        .restore_type("copy-on-write")
        .use_latest_restorable_time(true)
        .enable_performance_insights(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterCombination"));
    account.assert_one_refusal(rules::RDS_RESTORE_NO_MONITORING);
}

#[tokio::test]
async fn the_proxy_refuses_a_master_password_rds_refuses() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .set_master_password("prod", &SecretString::new("pass\"word-1234".into()))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    assert!(!error.message().contains("pass\"word"), "never quoted");
    account.assert_one_refusal(rules::RDS_MASTER_PASSWORD);
}

#[tokio::test]
async fn the_proxy_refuses_a_serverless_instance_in_a_cluster_without_scaling() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .create_instance(&instance("prod-serverless", "db.serverless", Tags::new()))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidDBClusterStateFault");
    account.assert_one_refusal(rules::RDS_SERVERLESS_NEEDS_SCALING);
    assert_eq!(cluster_instances(&account.sdk, "prod").await.len(), 1);

    // A cluster with a capacity range takes the same instance.
    account
        .rds()
        .create_db_cluster()
        .db_cluster_identifier("scaling")
        .engine("aurora-postgresql")
        .master_username("postgres")
        .master_user_password("root-password-for-tests-only")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(0.5)
                .max_capacity(4.0)
                .build(),
        )
        .send()
        .await
        .expect("create a cluster with a capacity range");
    let mut serverless = instance("scaling-1", "db.serverless", Tags::new());
    serverless.cluster_id = "scaling".into();
    account
        .ports
        .rds
        .create_instance(&serverless)
        .await
        .unwrap();
    assert_eq!(account.proxy.stats().refusals.len(), 1);
}

#[tokio::test]
async fn the_proxy_refuses_to_delete_a_stopped_cluster() {
    let account = account().await;
    account
        .rds()
        .stop_db_cluster()
        .db_cluster_identifier("prod")
        .send()
        .await
        .expect("moto stops an available cluster");
    let error = account
        .rds()
        .delete_db_cluster()
        .db_cluster_identifier("prod")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidDBClusterStateFault"));
    account.assert_one_refusal(rules::RDS_DELETE_STOPPED_CLUSTER);
    assert!(cluster_exists(&account.sdk, "prod").await);
}

#[tokio::test]
async fn the_proxy_refuses_to_start_a_cluster_that_is_not_stopped() {
    let account = account().await;
    let error = account.ports.rds.start_cluster("prod").await.unwrap_err();
    assert_code(&error, "InvalidDBClusterStateFault");
    account.assert_one_refusal(rules::RDS_START_STOPPED_CLUSTER);
}

#[tokio::test]
async fn the_proxy_refuses_a_cluster_rename_to_an_invalid_identifier() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .rename_cluster("prod", "prod--old")
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_NEW_CLUSTER_IDENTIFIER);
    assert!(cluster_exists(&account.sdk, "prod").await);
}

#[tokio::test]
async fn the_proxy_refuses_a_cluster_rename_to_a_name_in_use() {
    let account = account().await;
    seed_root(&account.sdk, "other").await;
    // moto would rename over `other`; AWS refuses.
    let error = account
        .ports
        .rds
        .rename_cluster("prod", "Other")
        .await
        .unwrap_err();
    assert_code(&error, "DBClusterAlreadyExistsFault");
    account.assert_one_refusal(rules::RDS_RENAME_CLUSTER_NAME_TAKEN);
    assert!(cluster_exists(&account.sdk, "prod").await);
    assert!(cluster_exists(&account.sdk, "other").await);
}

#[tokio::test]
async fn the_proxy_refuses_to_rename_a_cluster_that_is_not_available() {
    let account = account().await;
    account
        .rds()
        .stop_db_cluster()
        .db_cluster_identifier("prod")
        .send()
        .await
        .unwrap();
    let error = account
        .ports
        .rds
        .rename_cluster("prod", "prod-old")
        .await
        .unwrap_err();
    assert_code(&error, "InvalidDBClusterStateFault");
    account.assert_one_refusal(rules::RDS_RENAME_AVAILABLE_CLUSTER);
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
async fn the_proxy_refuses_secret_tags_secrets_manager_refuses() {
    let account = account().await;
    // 256 characters pass botocore's model and break the stricter 255 of the rule.
    let long = account
        .ports
        .secrets
        .create_secret(&secret("/p/one", tags_of(&[("k", &"v".repeat(256))])))
        .await
        .unwrap_err();
    assert_code(&long, "ValidationException");
    account.assert_one_refusal(rules::SECRETS_TAG_LENGTH);
    let reserved = account
        .ports
        .secrets
        .create_secret(&secret("/p/two", tags_of(&[("aws:team", "x")])))
        .await
        .unwrap_err();
    assert_code(&reserved, "InvalidParameterException");
    let refusals = account.proxy.stats().refusals;
    assert!(refusals[1].contains(rules::SECRETS_TAG_RESERVED_PREFIX));
}

#[tokio::test]
async fn the_proxy_refuses_an_invalid_secret_name() {
    let account = account().await;
    let error = account
        .ports
        .secrets
        .create_secret(&secret("/team space/password", Tags::new()))
        .await
        .unwrap_err();
    assert_code(&error, "ValidationException");
    account.assert_one_refusal(rules::SECRETS_SECRET_NAME);
}

fn key(tags: Tags) -> KeyRequest {
    KeyRequest {
        description: "test".into(),
        policy: json!({"Version": "2012-10-17", "Statement": []}).to_string(),
        tags,
    }
}

#[tokio::test]
async fn the_proxy_refuses_kms_tags_kms_refuses() {
    let account = account().await;
    let reserved = account
        .ports
        .keys
        .create_key(&key(tags_of(&[("aws:team", "x")])))
        .await
        .unwrap_err();
    assert_code(&reserved, "TagException");
    account.assert_one_refusal(rules::KMS_TAG_RESERVED_PREFIX);
    // Too long a key breaks botocore's model first: the same code, the member named.
    let long = account
        .ports
        .keys
        .create_key(&key(tags_of(&[(&"k".repeat(129), "v")])))
        .await
        .unwrap_err();
    assert_code(&long, "ValidationException");
    let refusals = account.proxy.stats().refusals;
    assert!(refusals[1].contains("Tags[0].TagKey"), "{refusals:#?}");
}

#[tokio::test]
async fn the_proxy_refuses_an_invalid_alias_name() {
    let account = account().await;
    let made = account
        .ports
        .keys
        .create_key(&key(Tags::new()))
        .await
        .unwrap();
    let error = account
        .ports
        .keys
        .create_alias("alias/aws/mine", &made.key_id)
        .await
        .unwrap_err();
    assert_code(&error, "InvalidAliasNameException");
    account.assert_one_refusal(rules::KMS_ALIAS_NAME);
}

#[tokio::test]
async fn the_proxy_refuses_an_event_without_detail() {
    let account = account().await;
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("aurora-clone-manager")
        .detail_type("Clone Ready")
        .build();
    let error = aws_sdk_eventbridge::Client::new(&account.sdk)
        .put_events()
        .entries(entry)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ValidationException"));
    account.assert_one_refusal(rules::EVENTS_ENTRY_FIELDS);
}

#[tokio::test]
async fn the_proxy_refuses_an_event_entry_over_the_size_limit() {
    let account = account().await;
    let error = account
        .ports
        .events
        .put_event(&BusEvent {
            bus_name: "default".into(),
            source: "aurora-clone-manager".into(),
            detail_type: "Clone Ready".into(),
            detail: json!({"log": "x".repeat(rules::EVENT_ENTRY_MAX_BYTES)}),
            resources: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_code(&error, "ValidationException");
    account.assert_one_refusal(rules::EVENTS_ENTRY_SIZE);
}

#[tokio::test]
async fn the_proxy_refuses_an_invalid_parameter_name() {
    let account = account().await;
    let error = account
        .ports
        .params
        .put("/aws/lease", "holder")
        .await
        .unwrap_err();
    assert_code(&error, "ParameterPatternMismatchException");
    account.assert_one_refusal(rules::SSM_PARAMETER_NAME);
}

#[tokio::test]
async fn the_proxy_refuses_a_parameter_hierarchy_that_is_too_deep() {
    let account = account().await;
    let deep = format!("/{}", vec!["level"; 16].join("/"));
    let error = account
        .ports
        .params
        .put_if_absent(&deep, "holder")
        .await
        .unwrap_err();
    assert_code(&error, "HierarchyLevelLimitExceededException");
    account.assert_one_refusal(rules::SSM_PARAMETER_DEPTH);
}

#[tokio::test]
async fn the_proxy_refuses_a_parameter_value_that_is_too_large() {
    let account = account().await;
    let error = account
        .ports
        .params
        .put("/aurora-clone-manager/config", &"v".repeat(4097))
        .await
        .unwrap_err();
    assert_code(&error, "ValidationException");
    account.assert_one_refusal(rules::SSM_PARAMETER_VALUE_SIZE);
}

#[tokio::test]
async fn the_proxy_refuses_a_request_without_a_member_botocore_requires() {
    let account = account().await;
    // CreateDBInstance requires Engine (botocore's model); moto would accept it without.
    let error = account
        .rds()
        .create_db_instance()
        .db_instance_identifier("prod-reader")
        .db_cluster_identifier("prod")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("MissingParameter"));
    account.assert_one_refusal("Engine");
}

#[tokio::test]
async fn the_proxy_refuses_a_name_longer_than_botocore_allows() {
    let account = account().await;
    let error = aws_sdk_ssm::Client::new(&account.sdk)
        .get_parameter()
        .name(format!("/{}", "n".repeat(2048)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ValidationException"));
    account.assert_one_refusal("the maximum is 2048");
}

#[tokio::test]
async fn the_proxy_refuses_a_value_outside_a_botocore_enum() {
    let account = account().await;
    let error = aws_sdk_kms::Client::new(&account.sdk)
        .create_key()
        .key_usage(aws_sdk_kms::types::KeyUsageType::from("SIGN_EVERYTHING"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ValidationException"));
    account.assert_one_refusal("KeyUsage");
}

#[tokio::test]
async fn a_clone_with_its_own_password_passes_the_proxy_without_one_refusal() {
    let env = moto_env(FaultSchedule::none()).await;
    seed_root(&env.sdk, "prod-db").await;
    let properties = json!({
        "SourceClusterId": "prod-db",
        "SetPassword": "true",
        "AccessPrincipalArns": "arn:aws:iam::123456789012:role/developer",
        "Tags": {"team": "data platform", "équipe": "données"},
    });
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
    let answers = env
        .capture
        .wait_for("create", 1, Duration::from_secs(30))
        .await;
    assert_eq!(answers[0].status(), Some("SUCCESS"), "{}", answers[0].body);
    let refusals = env.proxy.stats().refusals;
    assert!(refusals.is_empty(), "{refusals:#?}");
    let clone_id = answers[0].json["Data"]["ClusterId"].as_str().unwrap();
    let owner = cluster_tags(&env.sdk, clone_id).await[tags::OWNER].clone();
    assert_eq!(owner, format!("{STACK_ID}/TestDb"));
}

/// Makes a root of Aurora PostgreSQL `version` to restore from, with raw SDK calls.
async fn root_of_version(account: &Account, cluster_id: &str, version: &str) {
    account
        .rds()
        .create_db_cluster()
        .db_cluster_identifier(cluster_id)
        .engine("aurora-postgresql")
        .engine_version(version)
        .master_username("postgres")
        .master_user_password("root-password-for-tests-only")
        .send()
        .await
        .expect("create a root of a given version");
}

fn serverless_restore(
    cluster_id: &str,
    source: &str,
    min: f64,
    max: f64,
    seconds: Option<i32>,
) -> RestoreRequest {
    let mut request = restore(cluster_id, Tags::new());
    request.source_cluster_id = source.to_string();
    request.settings.serverless_v2_scaling = Some(ServerlessV2Scaling {
        min_capacity: Some(min),
        max_capacity: Some(max),
        seconds_until_auto_pause: seconds,
    });
    request
}

#[tokio::test]
async fn the_proxy_refuses_a_restore_with_a_capacity_that_is_not_a_half_step() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .restore_cluster(&serverless_restore("clone-1", "prod", 0.75, 4.0, None))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_SERVERLESS_CAPACITY_RANGE);
    assert!(error.message().contains("MinCapacity 0.75"), "{error}");
}

#[tokio::test]
async fn the_proxy_refuses_a_restore_that_pauses_after_less_than_five_minutes() {
    let account = account().await;
    let error = account
        .ports
        .rds
        .restore_cluster(&serverless_restore(
            "clone-1",
            "prod",
            0.0,
            4.0,
            Some(86_401),
        ))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterValue");
    account.assert_one_refusal(rules::RDS_SERVERLESS_AUTO_PAUSE_SECONDS);
}

#[tokio::test]
async fn the_proxy_refuses_to_scale_to_zero_a_restore_of_a_version_without_auto_pause() {
    let account = account().await;
    root_of_version(&account, "old", "14.9").await;
    let error = account
        .ports
        .rds
        .restore_cluster(&serverless_restore("clone-1", "old", 0.0, 4.0, Some(600)))
        .await
        .unwrap_err();
    assert_code(&error, "InvalidParameterCombination");
    account.assert_one_refusal(rules::RDS_SERVERLESS_SCALE_TO_ZERO_VERSION);
    assert!(
        error.message().contains("aurora-postgresql 14.9"),
        "{error}"
    );

    // A version with auto-pause takes the same range, and moto reports it back.
    root_of_version(&account, "new", "16.3").await;
    let made = account
        .ports
        .rds
        .restore_cluster(&serverless_restore("clone-2", "new", 0.0, 4.0, Some(600)))
        .await
        .unwrap();
    assert_eq!(account.proxy.stats().refusals.len(), 1);
    let described = account
        .ports
        .rds
        .describe_cluster(&made.id)
        .await
        .unwrap()
        .expect("the restored cluster");
    assert_eq!(
        described
            .serverless_v2_scaling
            .map(|scaling| scaling.min_capacity),
        Some(Some(0.0))
    );
}

#[tokio::test]
async fn the_proxy_refuses_a_state_key_that_is_too_long() {
    let account = account().await;
    let item = aurora_clone_manager::aws::StateItem::new("lease", &"s".repeat(1025));
    let error = account
        .ports
        .state
        .put_item(
            "acm-state",
            &item,
            &aurora_clone_manager::aws::StateCondition::Absent,
        )
        .await
        .unwrap_err();
    assert_code(&error, "ValidationException");
    account.assert_one_refusal(rules::DYNAMODB_KEY_LENGTH);
}
