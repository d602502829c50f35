//! The rules AWS enforces and the emulators do not, written down once.
//!
//! Each [`Rule`] is a row: a stable id, the API and field it governs, the rule in words, the
//! AWS page it comes from, the error code AWS answers with, and the tests that prove we
//! respect it. The check functions below apply the rows. The planner validates what it
//! builds with them, the in-process fake refuses what they refuse, and the moto test proxy
//! applies them to the requests the SDK really sends, so a rule lives in one place only.
//!
//! `docs/aws-rules.md` is the same table for people; a test keeps the two in step.

use std::sync::LazyLock;

use regex::Regex;

use crate::ClusterStatus;
use crate::text::shorten;
use crate::{
    AwsError, AwsErrorKind, BusEvent, InstanceRequest, RestoreRequest, ServerlessV2Scaling, Tags,
};

/// One rule AWS enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, used in violations, the docs table and test names.
    pub id: &'static str,
    /// The API operations the rule applies to, as `service:Operation`.
    pub api: &'static str,
    /// The request field the rule governs.
    pub field: &'static str,
    /// The rule in words.
    pub rule: &'static str,
    /// The AWS page the rule is taken from.
    pub source: &'static str,
    /// The error code AWS answers a violating request with.
    pub error_code: &'static str,
    /// How our error mapping classifies that answer.
    pub kind: AwsErrorKind,
    /// Tests that prove we respect the rule, as `path::function`.
    pub tests: &'static [&'static str],
    /// What the source does not settle (for example an error code AWS's page does not name).
    pub note: &'static str,
}

pub const RDS_TAG_CHARSET: &str = "rds-tag-charset";
pub const RDS_TAG_LENGTH: &str = "rds-tag-length";
pub const RDS_TAG_RESERVED_PREFIX: &str = "rds-tag-reserved-prefix";
pub const RDS_CLUSTER_IDENTIFIER: &str = "rds-cluster-identifier";
pub const RDS_INSTANCE_IDENTIFIER: &str = "rds-instance-identifier";
pub const RDS_RESTORE_POINT_IN_TIME: &str = "rds-restore-point-in-time";
pub const RDS_RESTORE_MULTI_AZ_ONLY: &str = "rds-restore-multi-az-only";
pub const RDS_RESTORE_NO_MONITORING: &str = "rds-restore-no-monitoring";
pub const RDS_MASTER_PASSWORD: &str = "rds-master-password";
pub const RDS_SERVERLESS_NEEDS_SCALING: &str = "rds-serverless-needs-scaling";
pub const RDS_DELETE_STOPPED_CLUSTER: &str = "rds-delete-stopped-cluster";
pub const RDS_START_STOPPED_CLUSTER: &str = "rds-start-stopped-cluster";
pub const RDS_STOP_AVAILABLE_CLUSTER: &str = "rds-stop-available-cluster";
pub const RDS_INSTANCE_NEEDS_AVAILABLE_CLUSTER: &str = "rds-instance-needs-available-cluster";
pub const RDS_NEW_CLUSTER_IDENTIFIER: &str = "rds-new-cluster-identifier";
pub const RDS_RENAME_CLUSTER_NAME_TAKEN: &str = "rds-rename-cluster-name-taken";
pub const RDS_RENAME_AVAILABLE_CLUSTER: &str = "rds-rename-available-cluster";
pub const RDS_SERVERLESS_CAPACITY_RANGE: &str = "rds-serverless-capacity-range";
pub const RDS_SERVERLESS_AUTO_PAUSE_SECONDS: &str = "rds-serverless-auto-pause-seconds";
pub const RDS_SERVERLESS_SCALE_TO_ZERO_VERSION: &str = "rds-serverless-scale-to-zero-version";
pub const SECRETS_TAG_LENGTH: &str = "secretsmanager-tag-length";
pub const SECRETS_TAG_RESERVED_PREFIX: &str = "secretsmanager-tag-reserved-prefix";
pub const SECRETS_SECRET_NAME: &str = "secretsmanager-secret-name";
pub const KMS_TAG_LENGTH: &str = "kms-tag-length";
pub const KMS_TAG_RESERVED_PREFIX: &str = "kms-tag-reserved-prefix";
pub const KMS_ALIAS_NAME: &str = "kms-alias-name";
pub const EVENTS_ENTRY_FIELDS: &str = "events-entry-fields";
pub const EVENTS_ENTRY_SIZE: &str = "events-entry-size";
pub const SSM_PARAMETER_NAME: &str = "ssm-parameter-name";
pub const SSM_PARAMETER_DEPTH: &str = "ssm-parameter-depth";
pub const SSM_PARAMETER_VALUE_SIZE: &str = "ssm-parameter-value-size";
pub const DYNAMODB_KEY_LENGTH: &str = "dynamodb-key-length";
pub const DYNAMODB_ITEM_SIZE: &str = "dynamodb-item-size";

const RDS_TAG_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html";
const RDS_RESTORE_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html";
const RDS_CREATE_INSTANCE_PAGE: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html";
const RDS_MODIFY_CLUSTER_PAGE: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html";
const AURORA_SERVERLESS_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.upgrade.html#aurora-serverless-v2.switch-from-provisioned";
const RDS_SCALING_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html";
const AURORA_AUTO_PAUSE_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html";
const RDS_START_CLUSTER_PAGE: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartDBCluster.html";
const RDS_STOP_CLUSTER_PAGE: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StopDBCluster.html";
const AURORA_DELETE_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html#USER_Deletion_Stopped_Cluster";
const SECRETS_TAG_PAGE: &str =
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html";
const SECRETS_CREATE_PAGE: &str =
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html";
const KMS_TAG_PAGE: &str = "https://docs.aws.amazon.com/kms/latest/APIReference/API_Tag.html";
const KMS_ALIAS_PAGE: &str =
    "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html";
const EVENTS_PUT_PAGE: &str =
    "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html";
const EVENTS_SIZE_PAGE: &str =
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html";
const DYNAMODB_CONSTRAINTS_PAGE: &str =
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html";
const SSM_PUT_PAGE: &str =
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html";

/// Operations that take RDS tags.
const RDS_TAGGING_APIS: &str =
    "rds:RestoreDBClusterToPointInTime, rds:CreateDBInstance, rds:AddTagsToResource";
/// Operations that take Secrets Manager tags.
const SECRETS_TAGGING_APIS: &str = "secretsmanager:CreateSecret, secretsmanager:TagResource";
/// Operations that take KMS tags.
const KMS_TAGGING_APIS: &str = "kms:CreateKey, kms:TagResource";

const UNVERIFIED_CODE: &str = "The page does not name the error code this rule is answered \
                               with; the code is unverified.";

/// Every rule, in the order of `docs/aws-rules.md`.
pub static RULES: &[Rule] = &[
    Rule {
        id: RDS_TAG_CHARSET,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "Keys and values hold only Unicode letters, digits, white space and \
               `_ . : / = + - @` (Java regex `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`).",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::rds_tags_refuse_a_pipe_and_name_the_tag",
            "crates/planning/src/plan/tests.rs::a_planned_clone_carries_no_tag_aws_would_refuse",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_restore_with_a_tag_rds_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_restore_with_a_tag_rds_refuses",
        ],
        note: UNVERIFIED_CODE,
    },
    Rule {
        id: RDS_TAG_LENGTH,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "A key is 1 to 128 Unicode characters, a value 0 to 256.",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::rds_tag_lengths_are_counted_in_characters",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_rds_tag_value_that_is_too_long",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_rds_tag_value_that_is_too_long",
        ],
        note: UNVERIFIED_CODE,
    },
    Rule {
        id: RDS_TAG_RESERVED_PREFIX,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "Neither a key nor a value starts with `aws:` or `rds:`.",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::rds_tags_refuse_reserved_prefixes_in_keys_and_values",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_rds_tag_with_a_reserved_prefix",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_rds_tag_with_a_reserved_prefix",
        ],
        note: "We check the prefixes in any letter case, which is stricter than the page \
               says. The error code is unverified.",
    },
    Rule {
        id: RDS_CLUSTER_IDENTIFIER,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "DBClusterIdentifier",
        rule: "1 to 63 letters, digits or hyphens; the first character a letter; no trailing \
               hyphen and no two consecutive hyphens.",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::cluster_and_instance_identifiers_follow_the_rds_constraints",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_invalid_cluster_identifier",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_invalid_cluster_identifier",
        ],
        note: UNVERIFIED_CODE,
    },
    Rule {
        id: RDS_INSTANCE_IDENTIFIER,
        api: crate::operations::RDS_CREATE_DB_INSTANCE.name,
        field: "DBInstanceIdentifier",
        rule: "1 to 63 letters, digits or hyphens; the first character a letter; no trailing \
               hyphen and no two consecutive hyphens.",
        source: RDS_CREATE_INSTANCE_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::cluster_and_instance_identifiers_follow_the_rds_constraints",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_invalid_instance_identifier",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_invalid_instance_identifier",
        ],
        note: UNVERIFIED_CODE,
    },
    Rule {
        id: RDS_RESTORE_POINT_IN_TIME,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "RestoreToTime, UseLatestRestorableTime, RestoreType",
        rule: "Exactly one of `RestoreToTime` and `UseLatestRestorableTime=true`; \
               `RestoreToTime` can't be specified when `RestoreType` is `copy-on-write`.",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidParameterCombination",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::a_restore_takes_a_time_or_the_latest_time_and_no_time_with_copy_on_write",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_copy_on_write_restore_to_a_point_in_time",
        ],
        note: "The fake's restore has no time field (it always restores to the latest time), \
               so only the proxy can see a violation. The error code is unverified.",
    },
    Rule {
        id: RDS_RESTORE_MULTI_AZ_ONLY,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "DBClusterInstanceClass, PubliclyAccessible, Iops",
        rule: "These members are \"Valid for: Multi-AZ DB clusters only\"; an Aurora restore \
               leaves them out (an Aurora clone's public access is set on CreateDBInstance).",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidParameterCombination",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::an_aurora_restore_leaves_out_multi_az_monitoring_and_performance_insights_members",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_multi_az_only_member_on_an_aurora_restore",
        ],
        note: "Our restore request type has none of these fields, so only the proxy can see a \
               violation. The error code is unverified.",
    },
    Rule {
        id: RDS_RESTORE_NO_MONITORING,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "MonitoringInterval, MonitoringRoleArn, EnablePerformanceInsights, \
                PerformanceInsightsKMSKeyId, PerformanceInsightsRetentionPeriod",
        rule: "A clone's restore sets no Enhanced Monitoring or Performance Insights: for \
               Aurora these are settings of the instances (CreateDBInstance), and \
               ModifyDBCluster marks MonitoringInterval \"Multi-AZ DB clusters only\".",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidParameterCombination",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::an_aurora_restore_leaves_out_multi_az_monitoring_and_performance_insights_members",
            "tests/it/aws_rules.rs::the_proxy_refuses_performance_insights_on_an_aurora_restore",
        ],
        note: "Unverified: the current RestoreDBClusterToPointInTime page gives these members \
               no cluster type, so whether AWS refuses them on an Aurora restore is not \
               settled; we hold our adapters to the stricter rule. The error code is unverified.",
    },
    Rule {
        id: RDS_MASTER_PASSWORD,
        api: crate::operations::RDS_MODIFY_DB_CLUSTER.name,
        field: "MasterUserPassword",
        rule: "8 to 41 characters for every Aurora engine (the page gives one limit for all \
               cluster engines), any printable ASCII character except `/`, `\"`, `@` and \
               space.",
        source: RDS_MODIFY_CLUSTER_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::master_passwords_follow_the_length_and_characters_of_their_engine",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_master_password_rds_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_master_password_rds_refuses",
        ],
        note: "The ModifyDBCluster page excludes `/`, `\"` and `@` only; space is refused as \
               the stricter reading (unverified that AWS refuses it; we never generate it). \
               The error code is unverified.",
    },
    Rule {
        id: RDS_SERVERLESS_NEEDS_SCALING,
        api: crate::operations::RDS_CREATE_DB_INSTANCE.name,
        field: "DBInstanceClass",
        rule: "A `db.serverless` instance can only be added to a cluster that has a \
               ServerlessV2ScalingConfiguration (capacity range).",
        source: AURORA_SERVERLESS_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::a_serverless_instance_needs_a_cluster_with_a_scaling_configuration",
            "crates/planning/src/plan/tests.rs::a_serverless_instance_class_needs_a_root_with_a_capacity_range",
            "tests/it/rds_behaviours_fake.rs::the_fake_refuses_a_serverless_instance_in_a_cluster_without_a_capacity_range",
            "tests/it/rds_behaviours_fake.rs::a_root_on_serverless_v2_yields_a_clone_with_a_serverless_instance",
            "tests/it/rds_behaviours_fake.rs::an_instance_refused_by_an_available_cluster_fails_the_clone_at_once_with_awss_message",
            "tests/it/rds_wire.rs::a_restore_sends_the_roots_port_iam_auth_storage_type_log_exports_and_scaling",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_serverless_instance_in_a_cluster_without_scaling",
        ],
        note: "Code and message are those of the user guide's example (\"Set the Serverless v2 \
               scaling configuration on the parent DB cluster before creating a Serverless v2 DB \
               instance.\"); the requirement itself is also in \"Requirements and limitations \
               for Aurora Serverless v2\". The cluster is available, so it does not clear by \
               waiting. A restore does not copy the capacity range: we pass the root's.",
    },
    Rule {
        id: RDS_DELETE_STOPPED_CLUSTER,
        api: crate::operations::RDS_DELETE_DB_CLUSTER.name,
        field: "DBClusterIdentifier",
        rule: "A cluster in the `stopped` state can't be deleted; start it first. We treat \
               `stopping` and `starting`, which lead to and from it, the same way.",
        source: AURORA_DELETE_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::a_stopped_cluster_cannot_be_deleted",
            "tests/it/rds_behaviours_fake.rs::the_fake_refuses_to_delete_a_stopped_cluster_until_it_is_started_again",
            "tests/it/rds_behaviours_fake.rs::deleting_a_stopped_clone_starts_it_waits_and_then_deletes_it",
            "tests/it/rds_behaviours_fake.rs::a_stopped_clone_that_starts_slowly_is_handed_over_and_deleted_by_a_fresh_invocation",
            "tests/it/rds_behaviours_fake.rs::maintenance_starts_a_stopped_obsolete_copy_and_deletes_it_on_its_next_run",
            "tests/it/moto_flows.rs::deleting_a_stopped_clone_starts_it_through_the_sdk_and_then_deletes_it",
            "tests/it/cli.rs::delete_of_a_stopped_clone_starts_it_first_and_then_deletes_it",
            "tests/it/aws_rules.rs::the_proxy_refuses_to_delete_a_stopped_cluster",
        ],
        note: "The user guide does not name the error code; InvalidDBClusterStateFault (one \
               of DeleteDBCluster's documented errors) is unverified, and so is the refusal \
               while `stopping` or `starting`.",
    },
    Rule {
        id: RDS_START_STOPPED_CLUSTER,
        api: crate::operations::RDS_START_DB_CLUSTER.name,
        field: "DBClusterIdentifier",
        rule: "Only a `stopped` cluster can be started.",
        source: RDS_START_CLUSTER_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::only_a_stopped_cluster_can_be_started",
            "tests/it/rds_behaviours_fake.rs::the_fake_starts_only_a_stopped_cluster_and_its_instances_follow",
            "tests/it/rds_wire.rs::starting_a_cluster_sends_start_db_cluster_and_maps_its_refusal",
            "tests/it/aws_rules.rs::the_proxy_refuses_to_start_a_cluster_that_is_not_stopped",
        ],
        note: "The API page lists InvalidDBClusterStateFault among StartDBCluster's errors; \
               that the cluster must be stopped is stated by the AWS-StartStopAuroraCluster \
               runbook (https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/start-stop-aurora-cluster.html).",
    },
    Rule {
        id: RDS_STOP_AVAILABLE_CLUSTER,
        api: crate::operations::RDS_STOP_DB_CLUSTER.name,
        field: "DBClusterIdentifier",
        rule: "Only an `available` cluster can be stopped.",
        source: RDS_STOP_CLUSTER_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::only_an_available_cluster_can_be_stopped",
            "tests/it/lifecycle_fake.rs::the_fake_stops_only_an_available_cluster",
            "tests/it/rds_wire.rs::stopping_a_cluster_sends_stop_db_cluster_and_maps_its_refusal",
        ],
        note: "The API page lists InvalidDBClusterStateFault among StopDBCluster's errors; \
               that the cluster must be `available` is stated by the DocumentDB StopDBCluster \
               page and the AWS-StartStopAuroraCluster runbook, and is unverified for Aurora's \
               own API page.",
    },
    Rule {
        id: RDS_INSTANCE_NEEDS_AVAILABLE_CLUSTER,
        api: crate::operations::RDS_CREATE_DB_INSTANCE.name,
        field: "DBClusterIdentifier",
        rule: "An instance is added to a restored cluster only once the restore has completed \
               and the cluster is `available`: not while it is `creating`.",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::an_instance_waits_until_its_restored_cluster_is_available",
            "crates/planning/src/plan/refresh.rs::the_new_clones_writer_is_added_only_once_its_cluster_is_available",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_instance_in_a_cluster_that_is_still_creating",
            "tests/it/refresh_fake.rs::a_refresh_keeps_identifier_endpoint_and_secret_and_brings_newer_data",
        ],
        note: "The API reference says \"You can create DB instances only after the \
               RestoreDBClusterToPointInTime operation has completed and the DB cluster is \
               available\"; it does not name the error, so InvalidDBClusterStateFault (one of \
               CreateDBInstance's documented errors) is unverified. moto makes every cluster \
               available at once, so the proxy never sees a creating cluster: the rule is \
               proven through the fake, which refuses it by default.",
    },
    Rule {
        id: RDS_NEW_CLUSTER_IDENTIFIER,
        api: crate::operations::RDS_MODIFY_DB_CLUSTER.name,
        field: "NewDBClusterIdentifier",
        rule: "1 to 63 letters, digits or hyphens; the first character a letter; no trailing \
               hyphen and no two consecutive hyphens (stored in lower case).",
        source: RDS_MODIFY_CLUSTER_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::new_identifiers_of_a_rename_follow_the_rds_constraints",
            "tests/it/rds_rename_fake.rs::the_fake_refuses_a_rename_to_an_identifier_rds_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_cluster_rename_to_an_invalid_identifier",
        ],
        note: UNVERIFIED_CODE,
    },
    Rule {
        id: RDS_RENAME_CLUSTER_NAME_TAKEN,
        api: crate::operations::RDS_MODIFY_DB_CLUSTER.name,
        field: "NewDBClusterIdentifier",
        rule: "A cluster cannot be renamed to the identifier of a cluster that exists.",
        source: RDS_MODIFY_CLUSTER_PAGE,
        error_code: "DBClusterAlreadyExistsFault",
        kind: AwsErrorKind::AlreadyExists,
        tests: &[
            "crates/model/src/rules.rs::a_rename_needs_a_free_name_and_an_available_resource",
            "tests/it/rds_rename_fake.rs::the_fake_refuses_a_rename_to_a_name_in_use",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_cluster_rename_to_a_name_in_use",
        ],
        note: "ModifyDBCluster lists DBClusterAlreadyExistsFault (\"The user already has a DB \
               cluster with the given identifier\"); the Multi-AZ DB cluster rename page states \
               the rule in words. moto renames over an existing cluster without an error.",
    },
    Rule {
        id: RDS_RENAME_AVAILABLE_CLUSTER,
        api: crate::operations::RDS_MODIFY_DB_CLUSTER.name,
        field: "NewDBClusterIdentifier",
        rule: "We rename only an `available` cluster.",
        source: RDS_MODIFY_CLUSTER_PAGE,
        error_code: "InvalidDBClusterStateFault",
        kind: AwsErrorKind::InvalidState,
        tests: &[
            "crates/model/src/rules.rs::a_rename_needs_a_free_name_and_an_available_resource",
            "tests/it/rds_rename_fake.rs::the_fake_renames_only_an_available_cluster",
            "tests/it/aws_rules.rs::the_proxy_refuses_to_rename_a_cluster_that_is_not_available",
        ],
        note: "ModifyDBCluster lists InvalidDBClusterStateFault; which states refuse a rename \
               is not stated on AWS's pages (unverified), so the fake and the proxy refuse \
               every state but `available`, the strictest reading.",
    },
    Rule {
        id: RDS_SERVERLESS_CAPACITY_RANGE,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "ServerlessV2ScalingConfiguration.MinCapacity, MaxCapacity",
        rule: "Capacities are in half-step ACU increments (0, 0.5, 1, 1.5, ...); MinCapacity is \
               at least 0 and MaxCapacity at most 256; MaxCapacity is at least 1 and not below \
               MinCapacity.",
        source: RDS_SCALING_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::serverless_capacities_are_half_steps_within_the_documented_range",
            "crates/planning/src/plan/capacity.rs::an_impossible_capacity_range_is_refused_naming_the_field_and_the_rule",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_restore_with_a_capacity_that_is_not_a_half_step",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_restore_with_a_capacity_that_is_not_a_half_step",
        ],
        note: "The API reference gives the half steps, the floor of 0 (0.5 on versions without \
               auto-pause, rule rds-serverless-scale-to-zero-version) and the ceiling of 256 \
               (128 on older versions: which versions is unverified, so only 256 is checked). \
               \"The maximum capacity must be higher than 0.5 ACUs\" is the CloudFormation \
               page's (AWS::RDS::DBCluster ServerlessV2ScalingConfiguration), not the API \
               reference's. That AWS refuses a maximum below the minimum, and the error code, \
               are unverified.",
    },
    Rule {
        id: RDS_SERVERLESS_AUTO_PAUSE_SECONDS,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause",
        rule: "Between 300 seconds (five minutes) and 86,400 seconds (one day); the default is \
               300.",
        source: RDS_SCALING_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::seconds_until_auto_pause_lie_between_five_minutes_and_a_day",
            "crates/planning/src/plan/capacity.rs::an_impossible_capacity_range_is_refused_naming_the_field_and_the_rule",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_restore_that_pauses_after_less_than_five_minutes",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_restore_that_pauses_after_less_than_five_minutes",
        ],
        note: "The auto-pause page gives the same range. DescribeDBClusters shows the value \
               only while MinCapacity is 0 (ServerlessV2ScalingConfigurationInfo); what AWS \
               does with it beside a nonzero minimum is unverified, so we never send it then. \
               The error code is unverified.",
    },
    Rule {
        id: RDS_SERVERLESS_SCALE_TO_ZERO_VERSION,
        api: crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name,
        field: "ServerlessV2ScalingConfiguration.MinCapacity",
        rule: "MinCapacity 0 (auto-pause) needs Aurora PostgreSQL 16.3, 15.7, 14.12 or 13.15 \
               or later, or Aurora MySQL 3.08.0 or later; other versions take 0.5 at the least. \
               A restored cluster has its source's engine version.",
        source: AURORA_AUTO_PAUSE_PAGE,
        error_code: "InvalidParameterCombination",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::only_the_documented_engine_versions_scale_to_zero",
            "crates/planning/src/plan/capacity.rs::a_version_that_cannot_scale_to_zero_gets_half_an_acu_and_the_plan_says_why",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_to_scale_to_zero_a_restore_of_a_version_without_auto_pause",
            "tests/it/aws_rules.rs::the_proxy_refuses_to_scale_to_zero_a_restore_of_a_version_without_auto_pause",
        ],
        note: "\"You can't turn on auto-pause if you're using an engine version that doesn't \
               support it\" (Prerequisites and Limitations); the page names no error code, so \
               the code is unverified. Major versions after 16 are taken as supported (\"at \
               least version 16.3\"); an Aurora MySQL version string without its \
               `mysql_aurora.3.x` part, and the legacy `aurora` engine, are taken as not \
               supported. DescribeDBEngineVersions reports it per version \
               (ServerlessV2FeaturesSupport.MinCapacity); we do not call it.",
    },
    Rule {
        id: SECRETS_TAG_LENGTH,
        api: SECRETS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "A key is 1 to 128 characters, a value 0 to 256 (the `Tag` data type; older \
               TagResource text said 127 and 255, so we stay at or below 127 and 255).",
        source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Tag.html",
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::secret_tags_follow_the_secrets_manager_limits",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_secret_tags_secrets_manager_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_secret_tags_secrets_manager_refuses",
        ],
        note: "ValidationException is what awsJson services answer a model length violation \
               with; for this member it is unverified.",
    },
    Rule {
        id: SECRETS_TAG_RESERVED_PREFIX,
        api: SECRETS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "Neither a key nor a value starts with `aws:` (reserved for AWS).",
        source: SECRETS_TAG_PAGE,
        error_code: "InvalidParameterException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::secret_tags_follow_the_secrets_manager_limits",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_secret_tags_secrets_manager_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_secret_tags_secrets_manager_refuses",
        ],
        note: "InvalidParameterException is among TagResource's errors; that AWS answers this \
               rule with it is unverified. Checked in any letter case.",
    },
    Rule {
        id: SECRETS_SECRET_NAME,
        api: crate::operations::SECRETS_CREATE_SECRET.name,
        field: "Name",
        rule: "1 to 512 characters: ASCII letters, digits and `/ _ + = . @ -`.",
        source: SECRETS_CREATE_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::secret_names_follow_the_create_secret_rules",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_invalid_secret_name",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_invalid_secret_name",
        ],
        note: "The length is botocore's model of the member; the error code is unverified.",
    },
    Rule {
        id: KMS_TAG_LENGTH,
        api: KMS_TAGGING_APIS,
        field: "Tags[].TagKey, Tags[].TagValue",
        rule: "A key is 1 to 128 characters, a value 0 to 256.",
        source: KMS_TAG_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::kms_tags_follow_the_kms_limits",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_kms_tags_kms_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_kms_tags_kms_refuses",
        ],
        note: "The lengths are also botocore's model of the members, and awsJson services \
               answer a model violation with ValidationException; for these members that is \
               unverified.",
    },
    Rule {
        id: KMS_TAG_RESERVED_PREFIX,
        api: KMS_TAGGING_APIS,
        field: "Tags[].TagKey, Tags[].TagValue",
        rule: "Neither a key nor a value starts with `aws:` (the user-defined tag restrictions \
               the KMS `Tag` page points to).",
        source: KMS_TAG_PAGE,
        error_code: "TagException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::kms_tags_follow_the_kms_limits",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_kms_tags_kms_refuses",
            "tests/it/aws_rules.rs::the_proxy_refuses_kms_tags_kms_refuses",
        ],
        note: "Checked in any letter case; the error code is unverified.",
    },
    Rule {
        id: KMS_ALIAS_NAME,
        api: crate::operations::KMS_CREATE_ALIAS.name,
        field: "AliasName",
        rule: "`alias/` and a name; 1 to 256 characters of letters, digits, `/`, `_` and `-`; \
               never `alias/aws/...` (reserved for AWS managed keys).",
        source: KMS_ALIAS_PAGE,
        error_code: "InvalidAliasNameException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::alias_names_follow_the_create_alias_rules",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_invalid_alias_name",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_invalid_alias_name",
        ],
        note: "InvalidAliasNameException is among CreateAlias's errors; a pattern violation \
               may instead be answered with ValidationException (unverified).",
    },
    Rule {
        id: EVENTS_ENTRY_FIELDS,
        api: crate::operations::EVENTS_PUT_EVENTS.name,
        field: "Entries[].Source, DetailType, Detail",
        rule: "`Source`, `DetailType` and `Detail` are required; `Detail` is a JSON object; \
               `DetailType` is at most 128 characters; 1 to 10 entries per request.",
        source: EVENTS_PUT_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::event_entries_are_complete_json_objects_under_the_size_limit",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_event_whose_detail_is_not_an_object",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_event_without_detail",
        ],
        note: "AWS fails such an entry inside a 200 answer when other entries are complete and \
               the whole request otherwise; we send one entry, so the request fails. The error \
               code is unverified.",
    },
    Rule {
        id: EVENTS_ENTRY_SIZE,
        api: crate::operations::EVENTS_PUT_EVENTS.name,
        field: "Entries[]",
        rule: "An entry (Time 14 bytes, UTF-8 bytes of Source, DetailType, Detail and each \
               Resource) must be less than 256 KB.",
        source: EVENTS_SIZE_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::event_entries_are_complete_json_objects_under_the_size_limit",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_event_entry_over_the_size_limit",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_event_entry_over_the_size_limit",
        ],
        note: "The current PutEvents API reference speaks of 1 MB; the user guide's size page \
               says 256 KB. We keep to the smaller. The error code is unverified.",
    },
    Rule {
        id: SSM_PARAMETER_NAME,
        api: crate::operations::SSM_PUT_PARAMETER.name,
        field: "Name",
        rule: "Only `a-zA-Z0-9_.-` and `/` between levels; no spaces; not prefixed with `aws` \
               or `ssm` (any case); at most 1011 characters counting the ARN before the name.",
        source: SSM_PUT_PAGE,
        error_code: "ParameterPatternMismatchException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::parameter_names_follow_the_ssm_rules",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_an_invalid_parameter_name",
            "tests/it/aws_rules.rs::the_proxy_refuses_an_invalid_parameter_name",
        ],
        note: "We read \"prefixed\" as the first level of the name. Spaces between characters \
               are answered with ValidationException per the page; the code for the other \
               cases is unverified.",
    },
    Rule {
        id: SSM_PARAMETER_DEPTH,
        api: crate::operations::SSM_PUT_PARAMETER.name,
        field: "Name",
        rule: "A parameter hierarchy has at most 15 levels.",
        source: SSM_PUT_PAGE,
        error_code: "HierarchyLevelLimitExceededException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::parameter_names_follow_the_ssm_rules",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_parameter_hierarchy_that_is_too_deep",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_parameter_hierarchy_that_is_too_deep",
        ],
        note: "We count the levels as the name's `/`-separated parts.",
    },
    Rule {
        id: SSM_PARAMETER_VALUE_SIZE,
        api: crate::operations::SSM_PUT_PARAMETER.name,
        field: "Value",
        rule: "A standard parameter's value is at most 4 KB (advanced: 8 KB; we write \
               standard parameters).",
        source: SSM_PUT_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::parameter_values_fit_a_standard_parameter",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_parameter_value_that_is_too_large",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_parameter_value_that_is_too_large",
        ],
        note: "We read 4 KB as 4096 bytes of UTF-8; the error code is unverified.",
    },
    Rule {
        id: DYNAMODB_KEY_LENGTH,
        api: "dynamodb:PutItem, dynamodb:GetItem, dynamodb:DeleteItem, dynamodb:Query",
        field: "Key (pk, sk)",
        rule: "A partition key value is 1 to 2048 bytes, a sort key value 1 to 1024 bytes; \
               an empty string is refused for a key attribute.",
        source: DYNAMODB_CONSTRAINTS_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::state_keys_are_one_to_2048_and_one_to_1024_bytes",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_state_key_that_is_empty_or_too_long",
            "tests/it/aws_rules.rs::the_proxy_refuses_a_state_key_that_is_too_long",
        ],
        note: "The error code is unverified.",
    },
    Rule {
        id: DYNAMODB_ITEM_SIZE,
        api: "dynamodb:PutItem",
        field: "Item",
        rule: "An item, attribute names and values together, is at most 400 KB.",
        source: DYNAMODB_CONSTRAINTS_PAGE,
        error_code: "ValidationException",
        kind: AwsErrorKind::InvalidRequest,
        tests: &[
            "crates/model/src/rules.rs::state_items_are_at_most_400_kb",
            "tests/it/aws_rules_fake.rs::the_fake_refuses_a_state_item_over_400_kb",
        ],
        note: "We count names and text values as UTF-8 bytes and every number as 21 bytes \
               (DynamoDB's most for a number), so we refuse slightly early, never late. The \
               400 KB figure is the Constraints page's Items section as others quote it; we \
               have not read that sentence on the page itself (unverified), nor the error \
               code.",
    },
];

/// The rule with this id. Panics on an unknown id: ids are constants of this module.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| rule.id == id)
        .unwrap_or_else(|| panic!("no AWS rule with id '{id}'"))
}

/// A request that breaks one rule: which rule, what AWS would answer, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (AWS rule {rule_id})")]
pub struct RuleViolation {
    pub rule_id: &'static str,
    pub error_code: &'static str,
    pub kind: AwsErrorKind,
    pub message: String,
}

impl RuleViolation {
    /// A violation of the rule `rule_id`; the error code and kind come from the table.
    pub fn new(rule_id: &'static str, message: impl Into<String>) -> Self {
        let rule = rule(rule_id);
        RuleViolation {
            rule_id: rule.id,
            error_code: rule.error_code,
            kind: rule.kind,
            message: message.into(),
        }
    }

    /// The error AWS would have answered `operation` with.
    pub fn into_aws_error(self, operation: &'static str) -> AwsError {
        let message = self.to_string();
        AwsError::with_code(self.kind, operation, self.error_code, message)
    }
}

// ---------------------------------------------------------------------------------------
// Tags

/// RDS tag keys and values, from the RDS `Tag` data type's Java regex.
static RDS_TAG_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("valid regex"));

/// Tag key length limit of RDS and KMS, in Unicode characters.
pub const TAG_KEY_MAX_CHARS: usize = 128;
/// Tag value length limit of RDS and KMS, in Unicode characters.
pub const TAG_VALUE_MAX_CHARS: usize = 256;
/// Secrets Manager key limit: the `Tag` data type says 128, older TagResource text 127;
/// we keep to the smaller.
pub const SECRET_TAG_KEY_MAX_CHARS: usize = 127;
/// Secrets Manager value limit: the `Tag` data type says 256, older TagResource text 255.
pub const SECRET_TAG_VALUE_MAX_CHARS: usize = 255;

/// Checks tags for an RDS cluster or instance. The message names the offending tag.
pub fn check_rds_tags(tags: &Tags) -> Result<(), RuleViolation> {
    tags.iter()
        .try_for_each(|(key, value)| check_rds_tag(key, value))
}

/// Checks one RDS tag.
pub fn check_rds_tag(key: &str, value: &str) -> Result<(), RuleViolation> {
    check_tag_lengths(
        RDS_TAG_LENGTH,
        "RDS",
        key,
        value,
        TAG_KEY_MAX_CHARS,
        TAG_VALUE_MAX_CHARS,
    )?;
    for (what, text) in [("key", key), ("value", value)] {
        if !RDS_TAG_TEXT.is_match(text) {
            return Err(RuleViolation::new(
                RDS_TAG_CHARSET,
                format!(
                    "the {what} of tag '{}' holds characters RDS refuses ({}); allowed are letters, digits, white space and _ . : / = + - @",
                    shorten(key),
                    refused_characters(text)
                ),
            ));
        }
    }
    check_reserved_prefixes(
        RDS_TAG_RESERVED_PREFIX,
        "RDS",
        key,
        value,
        &["aws:", "rds:"],
    )
}

/// Checks tags for a Secrets Manager secret.
pub fn check_secret_tags(tags: &Tags) -> Result<(), RuleViolation> {
    tags.iter().try_for_each(|(key, value)| {
        check_tag_lengths(
            SECRETS_TAG_LENGTH,
            "Secrets Manager",
            key,
            value,
            SECRET_TAG_KEY_MAX_CHARS,
            SECRET_TAG_VALUE_MAX_CHARS,
        )?;
        check_reserved_prefixes(
            SECRETS_TAG_RESERVED_PREFIX,
            "Secrets Manager",
            key,
            value,
            &["aws:"],
        )
    })
}

/// Checks tags for a KMS key.
pub fn check_kms_tags(tags: &Tags) -> Result<(), RuleViolation> {
    tags.iter().try_for_each(|(key, value)| {
        check_tag_lengths(
            KMS_TAG_LENGTH,
            "KMS",
            key,
            value,
            TAG_KEY_MAX_CHARS,
            TAG_VALUE_MAX_CHARS,
        )?;
        check_reserved_prefixes(KMS_TAG_RESERVED_PREFIX, "KMS", key, value, &["aws:"])
    })
}

fn check_tag_lengths(
    rule_id: &'static str,
    service: &str,
    key: &str,
    value: &str,
    key_max: usize,
    value_max: usize,
) -> Result<(), RuleViolation> {
    let key_chars = key.chars().count();
    if key_chars == 0 || key_chars > key_max {
        return Err(RuleViolation::new(
            rule_id,
            format!(
                "tag key '{}' has {key_chars} characters; {service} allows 1 to {key_max}",
                shorten(key)
            ),
        ));
    }
    let value_chars = value.chars().count();
    if value_chars > value_max {
        return Err(RuleViolation::new(
            rule_id,
            format!(
                "the value of tag '{}' has {value_chars} characters; {service} allows at most {value_max}",
                shorten(key)
            ),
        ));
    }
    Ok(())
}

fn check_reserved_prefixes(
    rule_id: &'static str,
    service: &str,
    key: &str,
    value: &str,
    prefixes: &[&str],
) -> Result<(), RuleViolation> {
    for (what, text) in [("key", key), ("value", value)] {
        if let Some(prefix) = prefixes
            .iter()
            .find(|prefix| has_prefix_ignoring_case(text, prefix))
        {
            return Err(RuleViolation::new(
                rule_id,
                format!(
                    "the {what} of tag '{}' starts with '{prefix}', which {service} reserves",
                    shorten(key)
                ),
            ));
        }
    }
    Ok(())
}

/// The characters of `text` that an RDS tag may not hold, quoted for a message.
fn refused_characters(text: &str) -> String {
    let mut refused: Vec<char> = text
        .chars()
        .filter(|c| !RDS_TAG_TEXT.is_match(c.encode_utf8(&mut [0; 4])))
        .collect();
    refused.sort_unstable();
    refused.dedup();
    refused
        .iter()
        .take(5)
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn has_prefix_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

// ---------------------------------------------------------------------------------------
// RDS identifiers and requests

/// RDS identifiers hold at most this many characters (CreateDBInstance,
/// RestoreDBClusterToPointInTime).
pub const RDS_IDENTIFIER_MAX_CHARS: usize = 63;

/// Checks a `DBClusterIdentifier` for a new cluster.
pub fn check_cluster_identifier(identifier: &str) -> Result<(), RuleViolation> {
    check_rds_identifier(RDS_CLUSTER_IDENTIFIER, "DBClusterIdentifier", identifier)
}

/// Checks a `DBInstanceIdentifier` for a new instance.
pub fn check_instance_identifier(identifier: &str) -> Result<(), RuleViolation> {
    check_rds_identifier(RDS_INSTANCE_IDENTIFIER, "DBInstanceIdentifier", identifier)
}

fn check_rds_identifier(
    rule_id: &'static str,
    field: &str,
    identifier: &str,
) -> Result<(), RuleViolation> {
    let problem = if identifier.is_empty() || identifier.len() > RDS_IDENTIFIER_MAX_CHARS {
        format!("must be 1 to {RDS_IDENTIFIER_MAX_CHARS} characters long")
    } else if !identifier
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        "may only contain letters, digits and hyphens".to_string()
    } else if !identifier.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "must start with a letter".to_string()
    } else if identifier.contains("--") {
        "must not contain two consecutive hyphens".to_string()
    } else if identifier.ends_with('-') {
        "must not end with a hyphen".to_string()
    } else {
        return Ok(());
    };
    Err(RuleViolation::new(
        rule_id,
        format!("{field} '{}' {problem}", shorten(identifier)),
    ))
}

/// Checks how a RestoreDBClusterToPointInTime picks its point in time.
pub fn check_restore_point(
    restore_type: Option<&str>,
    restore_to_time_given: bool,
    use_latest_restorable_time: bool,
) -> Result<(), RuleViolation> {
    let problem = match (restore_to_time_given, use_latest_restorable_time) {
        (true, true) => "RestoreToTime can't be given together with UseLatestRestorableTime",
        (false, false) => "either RestoreToTime or UseLatestRestorableTime=true is required",
        (true, false) if restore_type == Some("copy-on-write") => {
            "RestoreToTime can't be given when RestoreType is copy-on-write"
        }
        _ => return Ok(()),
    };
    Err(RuleViolation::new(RDS_RESTORE_POINT_IN_TIME, problem))
}

/// Restore members that are valid for Multi-AZ DB clusters only.
pub const RESTORE_MULTI_AZ_ONLY_MEMBERS: &[&str] =
    &["DBClusterInstanceClass", "PubliclyAccessible", "Iops"];

/// Restore members for Enhanced Monitoring and Performance Insights.
pub const RESTORE_MONITORING_MEMBERS: &[&str] = &[
    "MonitoringInterval",
    "MonitoringRoleArn",
    "EnablePerformanceInsights",
    "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod",
];

/// Checks the members present in a RestoreDBClusterToPointInTime of an Aurora cluster.
pub fn check_aurora_restore_members<'a>(
    present: impl IntoIterator<Item = &'a str>,
) -> Result<(), RuleViolation> {
    for member in present {
        if RESTORE_MULTI_AZ_ONLY_MEMBERS.contains(&member) {
            return Err(RuleViolation::new(
                RDS_RESTORE_MULTI_AZ_ONLY,
                format!(
                    "{member} is valid for Multi-AZ DB clusters only, not on an Aurora restore"
                ),
            ));
        }
        if RESTORE_MONITORING_MEMBERS.contains(&member) {
            return Err(RuleViolation::new(
                RDS_RESTORE_NO_MONITORING,
                format!("{member} is not set on an Aurora restore; set it on the instance"),
            ));
        }
    }
    Ok(())
}

/// Checks the restore a clone or copy is made with: identifier and tags.
pub fn check_restore_request(request: &RestoreRequest) -> Result<(), RuleViolation> {
    check_cluster_identifier(&request.cluster_id)?;
    check_rds_tags(&request.tags)
}

/// Checks the instance a clone or copy gets: identifier and tags.
pub fn check_instance_request(request: &InstanceRequest) -> Result<(), RuleViolation> {
    check_instance_identifier(&request.instance_id)?;
    check_rds_tags(&request.tags)
}

/// Shortest master password of every Aurora engine (ModifyDBCluster).
pub const MASTER_PASSWORD_MIN_CHARS: usize = 8;
/// Longest master password of every Aurora engine (ModifyDBCluster gives one limit for all
/// cluster engines).
pub const MASTER_PASSWORD_MAX_CHARS: usize = 41;

/// Checks a new master password for a cluster of `engine`.
pub fn check_master_password(engine: &str, password: &str) -> Result<(), RuleViolation> {
    let (min, max) = master_password_length(engine);
    let length = password.chars().count();
    if !(min..=max).contains(&length) {
        return Err(RuleViolation::new(
            RDS_MASTER_PASSWORD,
            format!("a master password for {engine} has {min} to {max} characters, not {length}"),
        ));
    }
    if let Some(bad) = password
        .chars()
        .find(|c| !('!'..='~').contains(c) || matches!(c, '/' | '"' | '@'))
    {
        let shown = if bad.is_ascii_graphic() {
            format!("'{bad}'")
        } else if bad == ' ' {
            "a space".to_string()
        } else {
            "a character that is not printable ASCII".to_string()
        };
        return Err(RuleViolation::new(
            RDS_MASTER_PASSWORD,
            format!("a master password may not contain {shown}"),
        ));
    }
    Ok(())
}

/// The master password length range of an engine.
fn master_password_length(_engine: &str) -> (usize, usize) {
    // The ModifyDBCluster page states one range for Aurora MySQL, Aurora PostgreSQL and
    // Multi-AZ clusters alike; an engine-specific range goes here once AWS documents one.
    (MASTER_PASSWORD_MIN_CHARS, MASTER_PASSWORD_MAX_CHARS)
}

/// The instance class of Aurora Serverless v2 instances.
pub const SERVERLESS_INSTANCE_CLASS: &str = "db.serverless";

/// Checks that an instance of `instance_class` can join a cluster that has (or lacks) a
/// ServerlessV2ScalingConfiguration.
pub fn check_serverless_instance(
    instance_class: &str,
    cluster_id: &str,
    cluster_has_scaling_configuration: bool,
) -> Result<(), RuleViolation> {
    if instance_class == SERVERLESS_INSTANCE_CLASS && !cluster_has_scaling_configuration {
        // AWS's own words (the rule's source); the cluster is named for the reader.
        return Err(RuleViolation::new(
            RDS_SERVERLESS_NEEDS_SCALING,
            format!(
                "Set the Serverless v2 scaling configuration on the parent DB cluster before creating a Serverless v2 DB instance. (cluster {cluster_id})"
            ),
        ));
    }
    Ok(())
}

/// The step of Serverless v2 capacities, in ACUs (ServerlessV2ScalingConfiguration).
pub const ACU_STEP: f64 = 0.5;
/// Largest MaxCapacity of recent Aurora versions (older versions: 128).
pub const MAX_ACU: f64 = 256.0;
/// Smallest MaxCapacity: CloudFormation's page says it "must be higher than 0.5 ACUs".
pub const MIN_MAX_ACU: f64 = 1.0;
/// Smallest MinCapacity of a version without auto-pause.
pub const MIN_ACU_WITHOUT_AUTO_PAUSE: f64 = 0.5;
/// Shortest SecondsUntilAutoPause (five minutes), also AWS's default.
pub const MIN_SECONDS_UNTIL_AUTO_PAUSE: i32 = 300;
/// Longest SecondsUntilAutoPause (one day).
pub const MAX_SECONDS_UNTIL_AUTO_PAUSE: i32 = 86_400;

fn is_half_step(value: f64) -> bool {
    value.is_finite() && (value / ACU_STEP).fract() == 0.0
}

/// Checks a MinCapacity on its own (its engine version is checked apart).
pub fn check_min_capacity(min: f64) -> Result<(), RuleViolation> {
    if !is_half_step(min) || !(0.0..=MAX_ACU).contains(&min) {
        return Err(RuleViolation::new(
            RDS_SERVERLESS_CAPACITY_RANGE,
            format!(
                "MinCapacity {min} is not a half-step ACU value from 0 to {MAX_ACU} (0, 0.5, 1, 1.5, ...)"
            ),
        ));
    }
    Ok(())
}

/// Checks a MaxCapacity against the range and the minimum beside it.
pub fn check_max_capacity(min: f64, max: f64) -> Result<(), RuleViolation> {
    if !is_half_step(max) || !(MIN_MAX_ACU..=MAX_ACU).contains(&max) {
        return Err(RuleViolation::new(
            RDS_SERVERLESS_CAPACITY_RANGE,
            format!(
                "MaxCapacity {max} is not a half-step ACU value from {MIN_MAX_ACU} to {MAX_ACU}"
            ),
        ));
    }
    if max < min {
        return Err(RuleViolation::new(
            RDS_SERVERLESS_CAPACITY_RANGE,
            format!("MaxCapacity {max} is below MinCapacity {min}"),
        ));
    }
    Ok(())
}

/// Checks a SecondsUntilAutoPause.
pub fn check_seconds_until_auto_pause(seconds: i32) -> Result<(), RuleViolation> {
    if !(MIN_SECONDS_UNTIL_AUTO_PAUSE..=MAX_SECONDS_UNTIL_AUTO_PAUSE).contains(&seconds) {
        return Err(RuleViolation::new(
            RDS_SERVERLESS_AUTO_PAUSE_SECONDS,
            format!(
                "SecondsUntilAutoPause {seconds} is outside {MIN_SECONDS_UNTIL_AUTO_PAUSE} to {MAX_SECONDS_UNTIL_AUTO_PAUSE} (five minutes to one day)"
            ),
        ));
    }
    Ok(())
}

/// Checks a whole ServerlessV2ScalingConfiguration as sent, except the engine version rule.
pub fn check_serverless_scaling(scaling: &ServerlessV2Scaling) -> Result<(), RuleViolation> {
    if let Some(min) = scaling.min_capacity {
        check_min_capacity(min)?;
    }
    if let Some(max) = scaling.max_capacity {
        check_max_capacity(scaling.min_capacity.unwrap_or(0.0), max)?;
    }
    if let Some(seconds) = scaling.seconds_until_auto_pause {
        check_seconds_until_auto_pause(seconds)?;
    }
    Ok(())
}

/// The first Aurora PostgreSQL minor version of each major that scales to 0 ACUs.
const AURORA_POSTGRESQL_SCALE_TO_ZERO: &[(u32, u32)] = &[(13, 15), (14, 12), (15, 7), (16, 3)];
/// The first Aurora MySQL version (`<mysql>.mysql_aurora.<aurora version>`) that scales to 0.
const AURORA_MYSQL_SCALE_TO_ZERO: (u32, u32, u32) = (3, 8, 0);

/// Whether an engine version can take MinCapacity 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleToZero {
    Allowed,
    /// Not this version: `needs` says which versions can ("14.12 or later").
    NotThisVersion {
        needs: String,
    },
    /// The engine version is not known or not understood, so it cannot be told.
    Unknown,
}

/// Which engine versions can scale to 0 ACUs (the auto-pause page's prerequisites).
pub fn scale_to_zero(engine: &str, engine_version: Option<&str>) -> ScaleToZero {
    let numbers = |text: &str| -> Option<Vec<u32>> {
        text.split('.').map(|part| part.parse().ok()).collect()
    };
    match engine {
        "aurora-postgresql" => {
            let Some(version) = engine_version.and_then(numbers) else {
                return ScaleToZero::Unknown;
            };
            let (major, minor) = match version.as_slice() {
                [major, minor, ..] => (*major, *minor),
                _ => return ScaleToZero::Unknown,
            };
            let all = "13.15, 14.12, 15.7 or 16.3 or later".to_string();
            match AURORA_POSTGRESQL_SCALE_TO_ZERO
                .iter()
                .find(|(first_major, _)| *first_major == major)
            {
                Some((_, first_minor)) if minor >= *first_minor => ScaleToZero::Allowed,
                Some((_, first_minor)) => ScaleToZero::NotThisVersion {
                    needs: format!("{major}.{first_minor}+"),
                },
                None if major > 16 => ScaleToZero::Allowed,
                None => ScaleToZero::NotThisVersion { needs: all },
            }
        }
        "aurora-mysql" => {
            let (major, minor, patch) = AURORA_MYSQL_SCALE_TO_ZERO;
            let needs = format!("Aurora MySQL {major}.{minor:02}.{patch}+");
            let Some(aurora) = engine_version
                .and_then(|version| version.split_once(".mysql_aurora."))
                .and_then(|(_, aurora)| numbers(aurora))
            else {
                return ScaleToZero::Unknown;
            };
            match aurora.as_slice() {
                [a, b, c, ..] if (*a, *b, *c) >= AURORA_MYSQL_SCALE_TO_ZERO => ScaleToZero::Allowed,
                [_, _, _, ..] => ScaleToZero::NotThisVersion { needs },
                _ => ScaleToZero::Unknown,
            }
        }
        _ => ScaleToZero::NotThisVersion {
            needs: "aurora-postgresql or aurora-mysql".to_string(),
        },
    }
}

/// Checks that a restore of a cluster of `engine` `engine_version` may ask for `min_capacity`.
pub fn check_scale_to_zero(
    engine: &str,
    engine_version: Option<&str>,
    min_capacity: f64,
) -> Result<(), RuleViolation> {
    if min_capacity > 0.0 {
        return Ok(());
    }
    let version = engine_version.unwrap_or("of unknown version");
    match scale_to_zero(engine, engine_version) {
        ScaleToZero::Allowed => Ok(()),
        ScaleToZero::NotThisVersion { needs } => Err(RuleViolation::new(
            RDS_SERVERLESS_SCALE_TO_ZERO_VERSION,
            format!(
                "{engine} {version} cannot scale to 0 ACUs (needs {needs}); MinCapacity must be at least {MIN_ACU_WITHOUT_AUTO_PAUSE}"
            ),
        )),
        ScaleToZero::Unknown => Err(RuleViolation::new(
            RDS_SERVERLESS_SCALE_TO_ZERO_VERSION,
            format!(
                "{engine} {version} is not known to scale to 0 ACUs; MinCapacity must be at least {MIN_ACU_WITHOUT_AUTO_PAUSE}"
            ),
        )),
    }
}

/// Checks that a cluster in `status` can be deleted: not `stopped` (the user guide), nor in
/// the transitions to and from it.
pub fn check_cluster_deletable(
    cluster_id: &str,
    status: &ClusterStatus,
) -> Result<(), RuleViolation> {
    if matches!(
        status,
        ClusterStatus::Stopped | ClusterStatus::Stopping | ClusterStatus::Starting
    ) {
        return Err(RuleViolation::new(
            RDS_DELETE_STOPPED_CLUSTER,
            format!("DB cluster {cluster_id} is {status}; start it before deleting it"),
        ));
    }
    Ok(())
}

/// Checks that a cluster in `status` can be started.
pub fn check_cluster_startable(
    cluster_id: &str,
    status: &ClusterStatus,
) -> Result<(), RuleViolation> {
    if *status != ClusterStatus::Stopped {
        return Err(RuleViolation::new(
            RDS_START_STOPPED_CLUSTER,
            format!("DB cluster {cluster_id} is {status}; only a stopped cluster can be started"),
        ));
    }
    Ok(())
}

/// Checks that a cluster in `status` can take a new instance: not while it is `creating`
/// (a restore that has not completed).
pub fn check_cluster_takes_instances(
    cluster_id: &str,
    status: &ClusterStatus,
) -> Result<(), RuleViolation> {
    if *status == ClusterStatus::Creating {
        return Err(RuleViolation::new(
            RDS_INSTANCE_NEEDS_AVAILABLE_CLUSTER,
            format!(
                "DB cluster {cluster_id} is {status}; instances are added once it is available"
            ),
        ));
    }
    Ok(())
}

/// Checks that a cluster in `status` can be stopped.
pub fn check_cluster_stoppable(
    cluster_id: &str,
    status: &ClusterStatus,
) -> Result<(), RuleViolation> {
    if *status != ClusterStatus::Available {
        return Err(RuleViolation::new(
            RDS_STOP_AVAILABLE_CLUSTER,
            format!(
                "DB cluster {cluster_id} is {status}; only an available cluster can be stopped"
            ),
        ));
    }
    Ok(())
}

/// Checks the `NewDBClusterIdentifier` of a cluster rename.
pub fn check_new_cluster_identifier(identifier: &str) -> Result<(), RuleViolation> {
    check_rds_identifier(
        RDS_NEW_CLUSTER_IDENTIFIER,
        "NewDBClusterIdentifier",
        identifier,
    )
}

/// Checks that a cluster can be renamed: it is `available` and the new name is free.
pub fn check_cluster_renamable(
    cluster_id: &str,
    status: &ClusterStatus,
    new_cluster_id: &str,
    new_name_taken: bool,
) -> Result<(), RuleViolation> {
    if *status != ClusterStatus::Available {
        return Err(RuleViolation::new(
            RDS_RENAME_AVAILABLE_CLUSTER,
            format!("DB cluster {cluster_id} is {status}; only an available cluster is renamed"),
        ));
    }
    if new_name_taken {
        return Err(RuleViolation::new(
            RDS_RENAME_CLUSTER_NAME_TAKEN,
            format!("DB cluster {new_cluster_id} already exists"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Secrets Manager and KMS names

/// Longest secret name (botocore's model of CreateSecret's `Name`).
pub const SECRET_NAME_MAX_CHARS: usize = 512;

/// Checks a new secret's name.
pub fn check_secret_name(name: &str) -> Result<(), RuleViolation> {
    if name.is_empty() || name.len() > SECRET_NAME_MAX_CHARS {
        return Err(RuleViolation::new(
            SECRETS_SECRET_NAME,
            format!(
                "secret name '{}' must be 1 to {SECRET_NAME_MAX_CHARS} characters",
                shorten(name)
            ),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(*c)))
    {
        return Err(RuleViolation::new(
            SECRETS_SECRET_NAME,
            format!(
                "secret name '{}' contains {bad:?}; allowed are ASCII letters, digits and / _ + = . @ -",
                shorten(name)
            ),
        ));
    }
    Ok(())
}

/// Longest KMS alias name (CreateAlias).
pub const ALIAS_NAME_MAX_CHARS: usize = 256;

/// Checks a new KMS alias name.
pub fn check_alias_name(alias: &str) -> Result<(), RuleViolation> {
    let problem = if !alias.starts_with("alias/") || alias.len() == "alias/".len() {
        "must be 'alias/' followed by a name"
    } else if alias.len() > ALIAS_NAME_MAX_CHARS {
        "is longer than 256 characters"
    } else if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
    {
        "may only contain letters, digits, '/', '_' and '-'"
    } else if alias.starts_with("alias/aws/") {
        "must not begin with 'alias/aws/', which AWS reserves for its managed keys"
    } else {
        return Ok(());
    };
    Err(RuleViolation::new(
        KMS_ALIAS_NAME,
        format!("alias name '{}' {problem}", shorten(alias)),
    ))
}

// ---------------------------------------------------------------------------------------
// EventBridge

/// A PutEvents entry must be smaller than this many bytes (EventBridge user guide).
pub const EVENT_ENTRY_MAX_BYTES: usize = 256 * 1024;
/// Longest `DetailType` (PutEventsRequestEntry).
pub const EVENT_DETAIL_TYPE_MAX_CHARS: usize = 128;
/// Entries per PutEvents request (botocore's model of `Entries`).
pub const EVENT_ENTRIES_MAX: usize = 10;
/// What a `Time` field counts for in an entry's size.
const EVENT_TIME_BYTES: usize = 14;

/// One PutEvents entry as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventEntry<'a> {
    pub source: Option<&'a str>,
    pub detail_type: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub resources: &'a [String],
    pub has_time: bool,
}

impl EventEntry<'_> {
    /// The entry's size as EventBridge counts it.
    pub fn size(&self) -> usize {
        let text = |field: Option<&str>| field.map_or(0, str::len);
        (if self.has_time { EVENT_TIME_BYTES } else { 0 })
            + text(self.source)
            + text(self.detail_type)
            + text(self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// Checks the number of entries of one PutEvents request.
pub fn check_event_entry_count(count: usize) -> Result<(), RuleViolation> {
    if !(1..=EVENT_ENTRIES_MAX).contains(&count) {
        return Err(RuleViolation::new(
            EVENTS_ENTRY_FIELDS,
            format!("PutEvents takes 1 to {EVENT_ENTRIES_MAX} entries, not {count}"),
        ));
    }
    Ok(())
}

/// Checks one PutEvents entry.
pub fn check_event_entry(entry: &EventEntry<'_>) -> Result<(), RuleViolation> {
    let missing: Vec<&str> = [
        ("Source", entry.source),
        ("DetailType", entry.detail_type),
        ("Detail", entry.detail),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_none_or(str::is_empty))
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(RuleViolation::new(
            EVENTS_ENTRY_FIELDS,
            format!("the event entry lacks {}", missing.join(", ")),
        ));
    }
    let detail_type_chars = entry.detail_type.unwrap_or_default().chars().count();
    if detail_type_chars > EVENT_DETAIL_TYPE_MAX_CHARS {
        return Err(RuleViolation::new(
            EVENTS_ENTRY_FIELDS,
            format!(
                "DetailType has {detail_type_chars} characters; at most {EVENT_DETAIL_TYPE_MAX_CHARS} are allowed"
            ),
        ));
    }
    let detail_is_object =
        serde_json::from_str::<serde_json::Value>(entry.detail.unwrap_or_default())
            .is_ok_and(|detail| detail.is_object());
    if !detail_is_object {
        return Err(RuleViolation::new(
            EVENTS_ENTRY_FIELDS,
            "Detail must be a JSON object",
        ));
    }
    let size = entry.size();
    if size >= EVENT_ENTRY_MAX_BYTES {
        return Err(RuleViolation::new(
            EVENTS_ENTRY_SIZE,
            format!(
                "the event entry has {size} bytes; it must be less than {EVENT_ENTRY_MAX_BYTES}"
            ),
        ));
    }
    Ok(())
}

/// Checks an event as our [`BusEvent`] puts it (one entry, no `Time`).
pub fn check_bus_event(event: &BusEvent) -> Result<(), RuleViolation> {
    let detail = event.detail.to_string();
    check_event_entry(&EventEntry {
        source: Some(&event.source),
        detail_type: Some(&event.detail_type),
        detail: Some(&detail),
        resources: &event.resources,
        has_time: false,
    })
}

// ---------------------------------------------------------------------------------------
// SSM parameters

/// Longest parameter name, counting the ARN before it (PutParameter).
pub const PARAMETER_NAME_MAX_CHARS_WITH_ARN: usize = 1011;
/// Deepest parameter hierarchy (PutParameter).
pub const PARAMETER_MAX_LEVELS: usize = 15;
/// Largest value of a standard parameter, in bytes (PutParameter: "4 KB").
pub const PARAMETER_VALUE_MAX_BYTES: usize = 4096;

/// Checks a parameter name written in `region` (the region's length counts against the
/// name's limit through the ARN; the account id is always 12 digits).
pub fn check_parameter_name(name: &str, region: &str) -> Result<(), RuleViolation> {
    let arn_prefix = format!("arn:aws:ssm:{region}:123456789012:parameter/");
    let name_part = name.strip_prefix('/').unwrap_or(name);
    let total = arn_prefix.len() + name_part.len();
    if name_part.is_empty() || total > PARAMETER_NAME_MAX_CHARS_WITH_ARN {
        return Err(RuleViolation::new(
            SSM_PARAMETER_NAME,
            format!(
                "parameter name '{}' must be 1 to {} characters in {region}",
                shorten(name),
                PARAMETER_NAME_MAX_CHARS_WITH_ARN - arn_prefix.len()
            ),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-/".contains(*c)))
    {
        return Err(RuleViolation::new(
            SSM_PARAMETER_NAME,
            format!(
                "parameter name '{}' contains {bad:?}; allowed are a-z A-Z 0-9 _ . - and /",
                shorten(name)
            ),
        ));
    }
    let first_level = name_part.split('/').next().unwrap_or_default();
    if has_prefix_ignoring_case(first_level, "aws") || has_prefix_ignoring_case(first_level, "ssm")
    {
        return Err(RuleViolation::new(
            SSM_PARAMETER_NAME,
            format!(
                "parameter name '{}' starts with 'aws' or 'ssm', which SSM reserves",
                shorten(name)
            ),
        ));
    }
    let levels = name_part.split('/').count();
    if levels > PARAMETER_MAX_LEVELS {
        return Err(RuleViolation::new(
            SSM_PARAMETER_DEPTH,
            format!(
                "parameter name '{}' has {levels} levels; at most {PARAMETER_MAX_LEVELS} are allowed",
                shorten(name)
            ),
        ));
    }
    Ok(())
}

/// Longest partition key value DynamoDB accepts, in bytes.
pub const STATE_PARTITION_KEY_MAX_BYTES: usize = 2048;
/// Longest sort key value DynamoDB accepts, in bytes.
pub const STATE_SORT_KEY_MAX_BYTES: usize = 1024;
/// Largest item DynamoDB stores: 400 KB, names and values together.
pub const STATE_ITEM_MAX_BYTES: usize = 400 * 1024;
/// The most bytes DynamoDB takes for one number (38 digits of precision).
const STATE_NUMBER_MAX_BYTES: usize = 21;

/// Checks the key of a state-table item.
pub fn check_state_key(pk: &str, sk: &str) -> Result<(), RuleViolation> {
    for (name, value, max) in [
        ("partition key", pk, STATE_PARTITION_KEY_MAX_BYTES),
        ("sort key", sk, STATE_SORT_KEY_MAX_BYTES),
    ] {
        if value.is_empty() || value.len() > max {
            return Err(RuleViolation::new(
                DYNAMODB_KEY_LENGTH,
                format!(
                    "the {name} '{}' has {} bytes; DynamoDB takes 1 to {max}",
                    shorten(value),
                    value.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a state-table item before it is written: its key and its size.
pub fn check_state_item(item: &crate::StateItem) -> Result<(), RuleViolation> {
    check_state_key(&item.pk, &item.sk)?;
    let size = "pk".len()
        + item.pk.len()
        + "sk".len()
        + item.sk.len()
        + item
            .attributes
            .iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        crate::StateValue::Text(text) => text.len(),
                        crate::StateValue::Number(_) => STATE_NUMBER_MAX_BYTES,
                    }
            })
            .sum::<usize>();
    if size > STATE_ITEM_MAX_BYTES {
        return Err(RuleViolation::new(
            DYNAMODB_ITEM_SIZE,
            format!(
                "the item '{}'/'{}' has {size} bytes; DynamoDB stores at most {STATE_ITEM_MAX_BYTES}",
                shorten(&item.pk),
                shorten(&item.sk)
            ),
        ));
    }
    Ok(())
}

/// Checks a standard parameter's value.
pub fn check_parameter_value(name: &str, value: &str) -> Result<(), RuleViolation> {
    if value.len() > PARAMETER_VALUE_MAX_BYTES {
        return Err(RuleViolation::new(
            SSM_PARAMETER_VALUE_SIZE,
            format!(
                "the value of parameter '{}' has {} bytes; a standard parameter holds at most {PARAMETER_VALUE_MAX_BYTES}",
                shorten(name),
                value.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's top folder: the tests and the doc this table names live there.
    const REPOSITORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn rds_tags_refuse_a_pipe_and_name_the_tag() {
        let refused = check_rds_tags(&tags(&[(
            "aurora-clone-manager:owner",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1|TestDb",
        )]))
        .unwrap_err();
        assert_eq!(refused.rule_id, RDS_TAG_CHARSET);
        assert_eq!(refused.error_code, "InvalidParameterValue");
        assert!(
            refused.message.contains("aurora-clone-manager:owner"),
            "{refused}"
        );
        assert!(refused.message.contains("'|'"), "{refused}");
        let refused_key = check_rds_tags(&tags(&[("team#1", "x")])).unwrap_err();
        assert_eq!(refused_key.rule_id, RDS_TAG_CHARSET);
        let emoji = check_rds_tags(&tags(&[("drink", "☕")])).unwrap_err();
        assert_eq!(emoji.rule_id, RDS_TAG_CHARSET);
        check_rds_tags(&tags(&[
            ("Équipe données", "café au lait"),
            ("path", "a/b:c=d+e-f@g_h.i"),
            ("empty", ""),
            ("日本", "値 1"),
        ]))
        .unwrap();
    }

    #[test]
    fn rds_tags_refuse_reserved_prefixes_in_keys_and_values() {
        for (key, value) in [
            ("aws:x", "v"),
            ("rds:x", "v"),
            ("k", "aws:v"),
            ("k", "RDS:v"),
        ] {
            let refused = check_rds_tag(key, value).unwrap_err();
            assert_eq!(refused.rule_id, RDS_TAG_RESERVED_PREFIX, "{key}={value}");
        }
        check_rds_tag("k", "arn:aws:rds:us-east-1:123456789012:cluster:a").unwrap();
    }

    #[test]
    fn rds_tag_lengths_are_counted_in_characters() {
        check_rds_tag(&"é".repeat(128), &"é".repeat(256)).unwrap();
        let long_key = check_rds_tag(&"k".repeat(129), "v").unwrap_err();
        assert_eq!(long_key.rule_id, RDS_TAG_LENGTH);
        let empty_key = check_rds_tag("", "v").unwrap_err();
        assert_eq!(empty_key.rule_id, RDS_TAG_LENGTH);
        let long_value = check_rds_tag("k", &"v".repeat(257)).unwrap_err();
        assert_eq!(long_value.rule_id, RDS_TAG_LENGTH);
        assert!(long_value.message.contains("257"), "{long_value}");
    }

    #[test]
    fn cluster_and_instance_identifiers_follow_the_rds_constraints() {
        for good in ["a", "prod-db", &"a".repeat(63)] {
            check_cluster_identifier(good).unwrap();
            check_instance_identifier(good).unwrap();
        }
        for bad in ["", "1db", "db--x", "db-", "db_x", "db.x", &"a".repeat(64)] {
            let refused = check_cluster_identifier(bad).unwrap_err();
            assert_eq!(refused.rule_id, RDS_CLUSTER_IDENTIFIER, "{bad}");
            assert_eq!(refused.error_code, "InvalidParameterValue");
            let refused = check_instance_identifier(bad).unwrap_err();
            assert_eq!(refused.rule_id, RDS_INSTANCE_IDENTIFIER, "{bad}");
        }
    }

    #[test]
    fn a_restore_takes_a_time_or_the_latest_time_and_no_time_with_copy_on_write() {
        check_restore_point(Some("copy-on-write"), false, true).unwrap();
        check_restore_point(Some("full-copy"), true, false).unwrap();
        check_restore_point(None, true, false).unwrap();
        for (restore_type, time, latest) in [
            (Some("copy-on-write"), true, false),
            (Some("full-copy"), true, true),
            (Some("full-copy"), false, false),
        ] {
            let refused = check_restore_point(restore_type, time, latest).unwrap_err();
            assert_eq!(refused.rule_id, RDS_RESTORE_POINT_IN_TIME);
            assert_eq!(refused.error_code, "InvalidParameterCombination");
        }
    }

    #[test]
    fn an_aurora_restore_leaves_out_multi_az_monitoring_and_performance_insights_members() {
        check_aurora_restore_members(["DBClusterIdentifier", "Port", "StorageType"]).unwrap();
        let public = check_aurora_restore_members(["Port", "PubliclyAccessible"]).unwrap_err();
        assert_eq!(public.rule_id, RDS_RESTORE_MULTI_AZ_ONLY);
        assert!(public.message.contains("PubliclyAccessible"), "{public}");
        let insights = check_aurora_restore_members(["EnablePerformanceInsights"]).unwrap_err();
        assert_eq!(insights.rule_id, RDS_RESTORE_NO_MONITORING);
        let monitoring = check_aurora_restore_members(["MonitoringInterval"]).unwrap_err();
        assert_eq!(monitoring.rule_id, RDS_RESTORE_NO_MONITORING);
    }

    #[test]
    fn master_passwords_follow_the_length_and_characters_of_their_engine() {
        for engine in ["aurora-postgresql", "aurora-mysql"] {
            check_master_password(engine, "abcdefgh").unwrap();
            check_master_password(engine, &"a".repeat(41)).unwrap();
            check_master_password(engine, "a-b_c.d~e!f#g%h^i*j+k=").unwrap();
            for bad in [
                "short".to_string(),
                "a".repeat(42),
                "abcd/efgh".into(),
                "abcd\"efgh".into(),
                "abcd@efgh".into(),
                "abcdéfghi".into(),
                "abcd\tefgh".into(),
                "abcd efgh".into(),
            ] {
                let refused = check_master_password(engine, &bad).unwrap_err();
                assert_eq!(refused.rule_id, RDS_MASTER_PASSWORD, "{engine}: {bad}");
                assert!(!refused.message.contains(&bad), "never quote the password");
            }
        }
    }

    #[test]
    fn a_serverless_instance_needs_a_cluster_with_a_scaling_configuration() {
        check_serverless_instance("db.serverless", "c1", true).unwrap();
        check_serverless_instance("db.r6g.large", "c1", false).unwrap();
        let refused = check_serverless_instance("db.serverless", "c1", false).unwrap_err();
        assert_eq!(refused.rule_id, RDS_SERVERLESS_NEEDS_SCALING);
        assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
        assert_eq!(refused.kind, AwsErrorKind::InvalidState);
    }

    #[test]
    fn serverless_capacities_are_half_steps_within_the_documented_range() {
        let scaling = |min: f64, max: f64| ServerlessV2Scaling {
            min_capacity: Some(min),
            max_capacity: Some(max),
            seconds_until_auto_pause: None,
        };
        for (min, max) in [(0.0, 1.0), (0.5, 4.0), (8.5, 256.0), (2.0, 2.0)] {
            check_serverless_scaling(&scaling(min, max)).unwrap();
        }
        for (min, max) in [
            (0.25, 4.0),
            (-0.5, 4.0),
            (0.0, 0.5),
            (0.0, 256.5),
            (4.0, 2.0),
            (0.0, f64::NAN),
        ] {
            let refused = check_serverless_scaling(&scaling(min, max)).unwrap_err();
            assert_eq!(
                refused.rule_id, RDS_SERVERLESS_CAPACITY_RANGE,
                "{min}-{max}"
            );
            assert_eq!(refused.error_code, "InvalidParameterValue");
        }
        assert!(
            check_max_capacity(4.0, 2.0)
                .unwrap_err()
                .message
                .contains("MaxCapacity 2 is below MinCapacity 4")
        );
    }

    #[test]
    fn seconds_until_auto_pause_lie_between_five_minutes_and_a_day() {
        check_seconds_until_auto_pause(300).unwrap();
        check_seconds_until_auto_pause(86_400).unwrap();
        for seconds in [0, 299, 86_401] {
            let refused = check_seconds_until_auto_pause(seconds).unwrap_err();
            assert_eq!(refused.rule_id, RDS_SERVERLESS_AUTO_PAUSE_SECONDS);
        }
    }

    #[test]
    fn only_the_documented_engine_versions_scale_to_zero() {
        for version in ["13.15", "14.12", "15.7", "16.3", "16.4", "17.4", "14.13.1"] {
            assert_eq!(
                scale_to_zero("aurora-postgresql", Some(version)),
                ScaleToZero::Allowed,
                "{version}"
            );
        }
        assert_eq!(
            scale_to_zero("aurora-postgresql", Some("14.9")),
            ScaleToZero::NotThisVersion {
                needs: "14.12+".into()
            }
        );
        assert!(matches!(
            scale_to_zero("aurora-postgresql", Some("12.22")),
            ScaleToZero::NotThisVersion { .. }
        ));
        assert_eq!(
            scale_to_zero("aurora-mysql", Some("8.0.mysql_aurora.3.08.0")),
            ScaleToZero::Allowed
        );
        assert_eq!(
            scale_to_zero("aurora-mysql", Some("8.0.mysql_aurora.3.10.1")),
            ScaleToZero::Allowed
        );
        assert_eq!(
            scale_to_zero("aurora-mysql", Some("8.0.mysql_aurora.3.05.2")),
            ScaleToZero::NotThisVersion {
                needs: "Aurora MySQL 3.08.0+".into()
            }
        );
        assert_eq!(
            scale_to_zero("aurora-mysql", Some("8.0")),
            ScaleToZero::Unknown
        );
        assert_eq!(
            scale_to_zero("aurora-postgresql", None),
            ScaleToZero::Unknown
        );
        check_scale_to_zero("aurora-postgresql", Some("14.9"), 0.5).unwrap();
        let refused = check_scale_to_zero("aurora-postgresql", Some("14.9"), 0.0).unwrap_err();
        assert_eq!(refused.rule_id, RDS_SERVERLESS_SCALE_TO_ZERO_VERSION);
        assert_eq!(
            refused.message,
            "aurora-postgresql 14.9 cannot scale to 0 ACUs (needs 14.12+); MinCapacity must be at least 0.5"
        );
    }

    #[test]
    fn a_stopped_cluster_cannot_be_deleted() {
        check_cluster_deletable("c1", &ClusterStatus::parse("available")).unwrap();
        let refused = check_cluster_deletable("c1", &ClusterStatus::parse("stopped")).unwrap_err();
        assert_eq!(refused.rule_id, RDS_DELETE_STOPPED_CLUSTER);
        assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
        for passing in ["stopping", "starting"] {
            let refused =
                check_cluster_deletable("c1", &ClusterStatus::parse(passing)).unwrap_err();
            assert_eq!(refused.rule_id, RDS_DELETE_STOPPED_CLUSTER, "{passing}");
        }
    }

    #[test]
    fn only_a_stopped_cluster_can_be_started() {
        check_cluster_startable("c1", &ClusterStatus::parse("stopped")).unwrap();
        for status in ["available", "stopping", "starting", "creating"] {
            let refused = check_cluster_startable("c1", &ClusterStatus::parse(status)).unwrap_err();
            assert_eq!(refused.rule_id, RDS_START_STOPPED_CLUSTER, "{status}");
            assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
            assert_eq!(refused.kind, AwsErrorKind::InvalidState);
        }
    }

    #[test]
    fn an_instance_waits_until_its_restored_cluster_is_available() {
        check_cluster_takes_instances("c1", &ClusterStatus::Available).unwrap();
        let refused = check_cluster_takes_instances("c1", &ClusterStatus::Creating).unwrap_err();
        assert_eq!(refused.rule_id, RDS_INSTANCE_NEEDS_AVAILABLE_CLUSTER);
        assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
        assert_eq!(refused.kind, AwsErrorKind::InvalidState);
    }

    #[test]
    fn only_an_available_cluster_can_be_stopped() {
        check_cluster_stoppable("c1", &ClusterStatus::parse("available")).unwrap();
        for status in ["stopped", "stopping", "starting", "creating"] {
            let refused = check_cluster_stoppable("c1", &ClusterStatus::parse(status)).unwrap_err();
            assert_eq!(refused.rule_id, RDS_STOP_AVAILABLE_CLUSTER, "{status}");
            assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
            assert_eq!(refused.kind, AwsErrorKind::InvalidState);
        }
    }

    #[test]
    fn new_identifiers_of_a_rename_follow_the_rds_constraints() {
        check_new_cluster_identifier("acm-app-1").unwrap();
        for bad in ["", "1acm", "acm--x", "acm-", "acm_x", &"a".repeat(64)] {
            let refused = check_new_cluster_identifier(bad).unwrap_err();
            assert_eq!(refused.rule_id, RDS_NEW_CLUSTER_IDENTIFIER, "{bad}");
            assert_eq!(refused.error_code, "InvalidParameterValue");
            assert!(refused.message.contains("NewDBClusterIdentifier"));
        }
    }

    #[test]
    fn a_rename_needs_a_free_name_and_an_available_resource() {
        check_cluster_renamable("c1", &ClusterStatus::parse("available"), "c2", false).unwrap();
        let refused = check_cluster_renamable("c1", &ClusterStatus::parse("available"), "c2", true)
            .unwrap_err();
        assert_eq!(refused.rule_id, RDS_RENAME_CLUSTER_NAME_TAKEN);
        assert_eq!(refused.error_code, "DBClusterAlreadyExistsFault");
        assert_eq!(refused.kind, AwsErrorKind::AlreadyExists);
        for status in ["creating", "renaming", "stopped", "modifying", "deleting"] {
            let refused = check_cluster_renamable("c1", &ClusterStatus::parse(status), "c2", false)
                .unwrap_err();
            assert_eq!(refused.rule_id, RDS_RENAME_AVAILABLE_CLUSTER, "{status}");
            assert_eq!(refused.error_code, "InvalidDBClusterStateFault");
            assert_eq!(refused.kind, AwsErrorKind::InvalidState);
        }
    }

    #[test]
    fn secret_tags_follow_the_secrets_manager_limits() {
        check_secret_tags(&tags(&[("team|x", "any text: even | and #")])).unwrap();
        let long = check_secret_tags(&tags(&[("k", &"v".repeat(256))])).unwrap_err();
        assert_eq!(long.rule_id, SECRETS_TAG_LENGTH);
        assert_eq!(long.error_code, "ValidationException");
        let reserved = check_secret_tags(&tags(&[("AWS:x", "v")])).unwrap_err();
        assert_eq!(reserved.rule_id, SECRETS_TAG_RESERVED_PREFIX);
        assert_eq!(reserved.error_code, "InvalidParameterException");
    }

    #[test]
    fn secret_names_follow_the_create_secret_rules() {
        check_secret_name("aurora-clone-manager/password/c1-20240101T000000Z").unwrap();
        check_secret_name("a+b=c.d@e_f").unwrap();
        for bad in ["", "with space", "pipe|x", "é", &"a".repeat(513)] {
            let refused = check_secret_name(bad).unwrap_err();
            assert_eq!(refused.rule_id, SECRETS_SECRET_NAME, "{bad}");
        }
    }

    #[test]
    fn kms_tags_follow_the_kms_limits() {
        check_kms_tags(&tags(&[("aurora-clone-manager:disposable", "true")])).unwrap();
        let long = check_kms_tags(&tags(&[(&"k".repeat(129), "v")])).unwrap_err();
        assert_eq!(long.rule_id, KMS_TAG_LENGTH);
        assert_eq!(long.error_code, "ValidationException");
        let reserved_key = check_kms_tags(&tags(&[("aws:k", "v")])).unwrap_err();
        assert_eq!(reserved_key.error_code, "TagException");
        let reserved = check_kms_tags(&tags(&[("k", "aws:v")])).unwrap_err();
        assert_eq!(reserved.rule_id, KMS_TAG_RESERVED_PREFIX);
    }

    #[test]
    fn alias_names_follow_the_create_alias_rules() {
        check_alias_name("alias/aurora-clone-manager/acm/c1").unwrap();
        for bad in [
            "aurora",
            "alias/",
            "alias/aws/rds",
            "alias/with space",
            "alias/x.y",
            &format!("alias/{}", "a".repeat(251)),
        ] {
            let refused = check_alias_name(bad).unwrap_err();
            assert_eq!(refused.rule_id, KMS_ALIAS_NAME, "{bad}");
            assert_eq!(refused.error_code, "InvalidAliasNameException");
        }
    }

    #[test]
    fn event_entries_are_complete_json_objects_under_the_size_limit() {
        let resources = vec!["arn:aws:rds:us-east-1:123456789012:cluster:c1".to_string()];
        let entry = EventEntry {
            source: Some("aurora-clone-manager"),
            detail_type: Some("Clone Ready"),
            detail: Some(r#"{"cluster":"c1"}"#),
            resources: &resources,
            has_time: true,
        };
        check_event_entry(&entry).unwrap();
        assert_eq!(entry.size(), 14 + 20 + 11 + 16 + resources[0].len());
        let no_detail = check_event_entry(&EventEntry {
            detail: None,
            ..entry
        })
        .unwrap_err();
        assert_eq!(no_detail.rule_id, EVENTS_ENTRY_FIELDS);
        let array = check_event_entry(&EventEntry {
            detail: Some("[1]"),
            ..entry
        })
        .unwrap_err();
        assert_eq!(array.rule_id, EVENTS_ENTRY_FIELDS);
        let big_detail = format!(r#"{{"x":"{}"}}"#, "a".repeat(EVENT_ENTRY_MAX_BYTES));
        let big = check_event_entry(&EventEntry {
            detail: Some(&big_detail),
            ..entry
        })
        .unwrap_err();
        assert_eq!(big.rule_id, EVENTS_ENTRY_SIZE);
        assert_eq!(
            check_event_entry_count(11).unwrap_err().rule_id,
            EVENTS_ENTRY_FIELDS
        );
        check_event_entry_count(1).unwrap();
    }

    #[test]
    fn parameter_names_follow_the_ssm_rules() {
        check_parameter_name("/aurora-clone-manager/acm/lease/prod-db", "us-east-1").unwrap();
        check_parameter_name("plain_name.v1", "us-east-1").unwrap();
        for bad in [
            "/with space/x",
            "/pipe|x",
            "/aws/x",
            "/SSM-things/x",
            "awsome",
            "",
        ] {
            let refused = check_parameter_name(bad, "us-east-1").unwrap_err();
            assert_eq!(refused.rule_id, SSM_PARAMETER_NAME, "{bad}");
            assert_eq!(refused.error_code, "ParameterPatternMismatchException");
        }
        let prefix = "arn:aws:ssm:us-east-1:123456789012:parameter/".len();
        check_parameter_name(&"a".repeat(1011 - prefix), "us-east-1").unwrap();
        let long = check_parameter_name(&"a".repeat(1012 - prefix), "us-east-1").unwrap_err();
        assert_eq!(long.rule_id, SSM_PARAMETER_NAME);
        let fifteen = format!("/{}", vec!["l"; 15].join("/"));
        check_parameter_name(&fifteen, "us-east-1").unwrap();
        let deep = check_parameter_name(&format!("{fifteen}/x"), "us-east-1").unwrap_err();
        assert_eq!(deep.rule_id, SSM_PARAMETER_DEPTH);
        assert_eq!(deep.error_code, "HierarchyLevelLimitExceededException");
    }

    #[test]
    fn parameter_values_fit_a_standard_parameter() {
        check_parameter_value("p", &"v".repeat(4096)).unwrap();
        let refused = check_parameter_value("p", &"v".repeat(4097)).unwrap_err();
        assert_eq!(refused.rule_id, SSM_PARAMETER_VALUE_SIZE);
        let multibyte = check_parameter_value("p", &"é".repeat(2049)).unwrap_err();
        assert_eq!(multibyte.rule_id, SSM_PARAMETER_VALUE_SIZE);
    }

    #[test]
    fn a_violation_becomes_the_aws_error_aws_would_answer() {
        let error = check_cluster_identifier("db--x")
            .unwrap_err()
            .into_aws_error(crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name);
        assert_eq!(error.kind(), AwsErrorKind::InvalidRequest);
        assert_eq!(error.code(), Some("InvalidParameterValue"));
        assert_eq!(
            error.operation(),
            crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name
        );
        assert!(
            error.message().contains("rds-cluster-identifier"),
            "{error}"
        );
    }

    #[test]
    fn every_rule_kind_is_the_kind_the_sdk_mapping_gives_its_error_code() {
        for rule in RULES {
            assert_eq!(
                rule.kind,
                crate::error::classify_error_code(rule.error_code, Some(400)),
                "{}: {} must be classified as {:?}",
                rule.id,
                rule.error_code,
                rule.kind
            );
        }
    }

    #[test]
    fn every_rule_has_a_unique_id_a_source_an_error_code_and_existing_tests() {
        let repository = REPOSITORY;
        let mut ids: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "rule ids must be unique");
        for rule in RULES {
            assert!(
                rule.source.starts_with("https://docs.aws.amazon.com/"),
                "{}: source must be an AWS page",
                rule.id
            );
            assert!(!rule.error_code.is_empty(), "{}", rule.id);
            assert!(!rule.tests.is_empty(), "{}: no test named", rule.id);
            for test in rule.tests {
                let (path, function) = test
                    .split_once("::")
                    .unwrap_or_else(|| panic!("{}: test '{test}' is not path::function", rule.id));
                let text = std::fs::read_to_string(format!("{repository}/{path}"))
                    .unwrap_or_else(|error| panic!("{}: cannot read {path}: {error}", rule.id));
                assert!(
                    text.contains(&format!("fn {function}(")),
                    "{}: {path} has no test fn {function}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn the_rules_doc_lists_exactly_the_rules_of_this_module() {
        let doc = std::fs::read_to_string(format!("{REPOSITORY}/docs/aws-rules.md"))
            .expect("docs/aws-rules.md");
        let rows: Vec<&str> = doc.lines().filter(|line| line.starts_with("| `")).collect();
        let mut in_doc: Vec<&str> = rows
            .iter()
            .filter_map(|row| row["| `".len()..].split_once('`').map(|(id, _)| id))
            .collect();
        let mut in_module: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
        in_module.sort_unstable();
        in_doc.sort_unstable();
        assert_eq!(in_doc, in_module, "docs/aws-rules.md and RULES disagree");
        for rule in RULES {
            let row = rows
                .iter()
                .find(|row| row.starts_with(&format!("| `{}`", rule.id)))
                .unwrap();
            assert!(
                row.contains(rule.source),
                "{}: doc row must cite {}",
                rule.id,
                rule.source
            );
            assert!(
                row.contains(rule.error_code),
                "{}: doc row must name {}",
                rule.id,
                rule.error_code
            );
        }
    }

    #[test]
    fn state_keys_are_one_to_2048_and_one_to_1024_bytes() {
        check_state_key(&"p".repeat(2048), &"s".repeat(1024)).unwrap();
        for (pk, sk) in [
            ("", "s"),
            ("p", ""),
            (&*"p".repeat(2049), "s"),
            ("p", &*"s".repeat(1025)),
        ] {
            let refused = check_state_key(pk, sk).unwrap_err();
            assert_eq!(refused.rule_id, DYNAMODB_KEY_LENGTH);
            assert_eq!(refused.error_code, "ValidationException");
        }
        // Bytes, not characters: 700 three-byte characters are 2100 bytes.
        assert!(check_state_key(&"€".repeat(700), "s").is_err());
    }

    #[test]
    fn state_items_are_at_most_400_kb() {
        let base = crate::StateItem::new("lease", "prod").with_number("expires", 1);
        let fixed = "pk".len() + "lease".len() + "sk".len() + "prod".len() + "expires".len() + 21;
        let body = STATE_ITEM_MAX_BYTES - fixed - "body".len();
        check_state_item(&base.clone().with_text("body", &"x".repeat(body))).unwrap();
        let refused = check_state_item(&base.with_text("body", &"x".repeat(body + 1))).unwrap_err();
        assert_eq!(refused.rule_id, DYNAMODB_ITEM_SIZE);
    }
}
