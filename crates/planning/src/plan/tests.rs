//! Planner tests across modules: provisioning and maintenance plans over hand-made and
//! random inventories.

use aurora_clone_model::ClusterStatus;
use chrono::TimeDelta;
use proptest::prelude::*;

use crate::plan::inventory::Inventory;
use crate::plan::maintenance::RootTarget;
use crate::plan::maintenance::{MaintenanceInput, plan_maintenance};
use crate::plan::pool::SourceKind;
use crate::plan::provision::{
    CloneRequest, KeyPlan, Placement, PlanError, ProvisionInput, ProvisionOutcome, ProvisionPlan,
    RequestOrigin, plan_provision,
};
use crate::plan::request::CloneProperties;
use aurora_clone_model::config::Config;
use aurora_clone_model::tags;
use aurora_clone_model::testing::{cluster, copy_of, now, tagged_clone};
use aurora_clone_model::{
    ClusterInfo, InstanceInfo, KeyAlias, RestoreSettings, SecretSummary, ServerlessV2Scaling,
};

pub(super) fn config() -> Config {
    Config::for_stack("acm")
}

pub(super) fn placement() -> Placement {
    Placement {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
    }
}

pub(super) fn writer() -> InstanceInfo {
    InstanceInfo {
        id: "prod-1".into(),
        arn: "arn:aws:rds:us-east-1:123456789012:db:prod-1".into(),
        cluster_id: Some("prod".into()),
        status: "available".into(),
        instance_class: "db.r6g.large".into(),
        engine: "aurora-postgresql".into(),
        endpoint: None,
        port: Some(5432),
        db_parameter_group: Some("default.aurora-postgresql15".into()),
        publicly_accessible: false,
    }
}

pub(super) fn request(properties: CloneProperties) -> CloneRequest {
    CloneRequest {
        properties,
        origin: RequestOrigin {
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111".into(),
            logical_resource_id: "Db".into(),
            request_id: "req-1".into(),
        },
        requester_waits_at_most_an_hour: false,
    }
}

pub(super) fn plan_for(
    request: &CloneRequest,
    inventory: &Inventory,
    config: &Config,
) -> Result<ProvisionOutcome, PlanError> {
    let writer = writer();
    plan_provision(ProvisionInput {
        request,
        inventory,
        config,
        placement: &placement(),
        root_writer: Some(&writer),
        now: now(),
    })
}

pub(super) fn made(outcome: Result<ProvisionOutcome, PlanError>) -> ProvisionPlan {
    match outcome {
        Ok(ProvisionOutcome::Make(plan)) => *plan,
        other => panic!("expected a plan, got {other:?}"),
    }
}

pub(super) fn root_with_clones(count: usize) -> Vec<ClusterInfo> {
    let mut root = cluster("prod");
    root.clone_group_id = Some("g-prod".into());
    let mut clusters = vec![root.clone()];
    for index in 0..count {
        let mut clone = tagged_clone("acm", &format!("clone-{index}"), &root);
        clone.clone_group_id = Some("g-prod".into());
        clusters.push(clone);
    }
    clusters
}

#[test]
fn a_clone_of_a_root_with_room_is_fully_decided() {
    let inventory = Inventory::new(root_with_clones(3));
    let plan = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    ));
    assert_eq!(plan.source.cluster_id, "prod");
    assert_eq!(plan.source.kind, SourceKind::Root);
    assert!(plan.copy.is_none());
    assert!(
        plan.cluster_id.starts_with("acm-app-db-"),
        "{}",
        plan.cluster_id
    );
    assert_eq!(
        plan.cluster_arn,
        format!(
            "arn:aws:rds:us-east-1:123456789012:cluster:{}",
            plan.cluster_id
        )
    );
    let tags = &plan.restore.tags;
    assert_eq!(tags[tags::ROLE], "clone");
    assert_eq!(tags[tags::STACK], "acm");
    assert_eq!(tags[tags::REQUEST], "req-1");
    assert_eq!(tags[tags::SOURCE_ARN], cluster("prod").arn);
    assert_eq!(tags[tags::ROOT_ARN], cluster("prod").arn);
    assert_eq!(tags[tags::STATE], "pending");
    assert_eq!(
        plan.restore.db_subnet_group_name.as_deref(),
        Some("db-subnets")
    );
    assert_eq!(plan.restore.vpc_security_group_ids, vec!["sg-0123"]);
    assert_eq!(plan.instance.instance_class, "db.r6g.large");
    assert_eq!(plan.instance.cluster_id, plan.cluster_id);
    assert_eq!(plan.instance.tags[tags::STACK], "acm");
    assert_eq!(plan.instance.tags[tags::ROLE], "clone");
}

#[test]
fn the_same_inventory_and_request_give_the_same_plan() {
    let inventory = Inventory::new(root_with_clones(3));
    let first = plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    );
    let second = plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    );
    assert_eq!(first, second);
}

#[test]
fn a_replayed_request_finds_the_clone_it_already_made() {
    let mut clusters = root_with_clones(1);
    let first = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &Inventory::new(clusters.clone()),
        &config(),
    ));
    let mut made_clone = cluster(&first.cluster_id);
    made_clone.tags = first.restore.tags.clone();
    made_clone.status = ClusterStatus::Creating;
    clusters.push(made_clone);
    let outcome = plan_for(
        &request(CloneProperties::for_source("prod")),
        &Inventory::new(clusters),
        &config(),
    )
    .unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::AlreadyMade {
            cluster_id: first.cluster_id.clone(),
            arn: cluster(&first.cluster_id).arn
        }
    );
}

#[test]
fn a_taken_cluster_id_fails_unless_a_suffix_is_allowed() {
    let mut clusters = root_with_clones(0);
    clusters.push(cluster("acm-wanted"));
    let inventory = Inventory::new(clusters);
    let mut properties = CloneProperties::for_source("prod");
    properties.cluster_id = Some("acm-wanted".into());
    let error = plan_for(&request(properties.clone()), &inventory, &config()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("ClusterId: 'acm-wanted' is already taken"),
        "{error}"
    );
    properties.no_fail_on_existing_cluster = true;
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    assert!(
        plan.cluster_id.starts_with("acm-wanted-"),
        "{}",
        plan.cluster_id
    );
}

#[test]
fn a_cluster_id_without_the_name_prefix_is_refused_naming_the_prefix() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut properties = CloneProperties::for_source("prod");
    properties.cluster_id = Some("my-clone".into());
    let error = plan_for(&request(properties), &inventory, &config()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "ClusterId: 'my-clone' must start with this deployment's name prefix 'acm-' (the clone \
         manager may only create and delete clusters named so); use 'acm-my-clone', or leave \
         it out for a derived name"
    );
}

#[test]
fn every_name_the_planner_makes_starts_with_the_name_prefix() {
    let mut config = config();
    config.name_prefix = "dev-clones-".into();
    let mut clusters = root_with_clones(0);
    for index in 0..15 {
        let mut clone = tagged_clone("acm", &format!("full-{index}"), &clusters[0]);
        clone.clone_group_id = Some("g-prod".into());
        clusters.push(clone);
    }
    let inventory = Inventory::new(clusters);
    let mut properties = CloneProperties::for_source("prod");
    properties.copy_ok = true;
    let plan = made(plan_for(&request(properties), &inventory, &config));
    let copy = plan.copy.as_ref().expect("no slot left: a copy first");
    for name in [
        &plan.cluster_id,
        &plan.instance.instance_id,
        &copy.cluster_id,
        &copy.instance.instance_id,
    ] {
        assert!(name.starts_with("dev-clones-"), "{name}");
    }
}

#[test]
fn a_root_named_with_the_prefix_is_never_cloned_or_copied() {
    let mut root = cluster("acm-prod");
    root.clone_group_id = Some("g".into());
    let inventory = Inventory::new(vec![root]);
    let error = plan_for(
        &request(CloneProperties::for_source("acm-prod")),
        &inventory,
        &config(),
    )
    .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "SourceClusterId: 'acm-prod' starts with this deployment's name prefix 'acm-'"
        ),
        "{error}"
    );
}

#[test]
fn with_fifteen_clones_on_the_root_the_next_clone_comes_from_a_fresh_copy() {
    let mut clusters = root_with_clones(15);
    let root = clusters[0].clone();
    clusters.push(copy_of(
        "acm",
        "prod-copy-a",
        &root,
        now() - TimeDelta::hours(3),
    ));
    let plan = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &Inventory::new(clusters),
        &config(),
    ));
    assert_eq!(plan.source.cluster_id, "prod-copy-a");
    assert_eq!(plan.source.kind, SourceKind::Copy);
    assert_eq!(plan.restore.source_cluster_id, "prod-copy-a");
    assert_eq!(plan.restore.tags[tags::ROOT_ARN], root.arn);
    assert_eq!(
        plan.restore.tags[tags::DATA_TIMESTAMP],
        aurora_clone_model::time::format_timestamp(now() - TimeDelta::hours(3))
    );
}

#[test]
fn a_clone_group_filled_by_someone_else_counts_as_full() {
    let mut root = cluster("prod");
    root.clone_group_id = Some("g-prod".into());
    let mut clusters = vec![root];
    for index in 0..15 {
        let mut foreign = cluster(&format!("someone-{index}"));
        foreign.clone_group_id = Some("g-prod".into());
        clusters.push(foreign);
    }
    let error = plan_for(
        &request(CloneProperties::for_source("prod")),
        &Inventory::new(clusters),
        &config(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("15/15 used"), "{error}");
}

#[test]
fn with_copy_ok_and_no_slot_a_copy_is_made_first() {
    let inventory = Inventory::new(root_with_clones(15));
    let mut properties = CloneProperties::for_source("prod");
    properties.copy_ok = true;
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    let copy = plan.copy.expect("a copy step");
    assert_eq!(
        copy.restore.restore_type,
        aurora_clone_model::RestoreType::FullCopy
    );
    assert_eq!(copy.restore.tags[tags::ROLE], "copy");
    assert_eq!(copy.instance.instance_class, "db.t4g.medium");
    assert_eq!(plan.source.cluster_id, copy.cluster_id);
    assert!(plan.source.wait_until_cloneable);
}

#[test]
fn a_requester_that_waits_an_hour_is_never_promised_a_clone_that_must_wait_for_a_copy() {
    let inventory = Inventory::new(root_with_clones(15));
    let mut properties = CloneProperties::for_source("prod");
    properties.copy_ok = true;
    let mut from_cloudformation = request(properties.clone());
    from_cloudformation.requester_waits_at_most_an_hour = true;
    let refused = plan_for(&from_cloudformation, &inventory, &config()).unwrap_err();
    assert!(matches!(refused, PlanError::CopyTooSlowToWaitFor { .. }));
    assert!(refused.to_string().contains("WaitForReady"));

    from_cloudformation.properties.wait_for_ready = false;
    let plan = made(plan_for(&from_cloudformation, &inventory, &config()));
    assert!(plan.copy.is_some(), "answered once the copy is under way");

    let with_a_slot = Inventory::new(root_with_clones(3));
    let mut waits = request(properties);
    waits.requester_waits_at_most_an_hour = true;
    let plan = made(plan_for(&waits, &with_a_slot, &config()));
    assert!(
        plan.copy.is_none(),
        "a free slot needs no copy and no refusal"
    );
}

#[test]
fn password_keys_follow_the_documented_order() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut properties = CloneProperties::for_source("prod");
    properties.set_password = true;
    properties.access_principal_arns = vec!["arn:aws:iam::123456789012:role/dev".into()];
    let key_of = |properties: &CloneProperties, config: &Config| {
        made(plan_for(&request(properties.clone()), &inventory, config))
            .password
            .unwrap()
            .key
    };
    let mut with_default = config();
    with_default.default_kms_key_id = Some("default-key".into());
    assert!(matches!(
        key_of(&properties, &config()),
        KeyPlan::Disposable { .. }
    ));
    assert!(
        matches!(key_of(&properties, &with_default), KeyPlan::Shared { key_id, from_property: false, .. } if key_id == "default-key")
    );
    let mut forced = properties.clone();
    forced.force_create_kms_key = true;
    assert!(matches!(
        key_of(&forced, &with_default),
        KeyPlan::Disposable { .. }
    ));
    let mut given = forced.clone();
    given.kms_key_id = Some("given-key".into());
    assert!(
        matches!(key_of(&given, &with_default), KeyPlan::Shared { key_id, from_property: true, .. } if key_id == "given-key")
    );
    let password = made(plan_for(&request(properties), &inventory, &config()))
        .password
        .unwrap();
    assert!(
        password
            .secret_name
            .starts_with("/aurora-clone-manager/acm/password/acm-app-db-")
    );
    assert_eq!(password.master_username, "postgres");
}

/// Every tag set and name of a plan, checked by the AWS rule of the service it goes to.
fn check_every_aws_rule(plan: &ProvisionPlan) {
    use aurora_clone_model::rules;
    let mut rds_requests = vec![(&plan.restore, &plan.instance)];
    if let Some(copy) = &plan.copy {
        rds_requests.push((&copy.restore, &copy.instance));
    }
    for (restore, instance) in rds_requests {
        rules::check_cluster_identifier(&restore.cluster_id).unwrap();
        rules::check_rds_tags(&restore.tags).unwrap();
        rules::check_instance_identifier(&instance.instance_id).unwrap();
        rules::check_rds_tags(&instance.tags).unwrap();
    }
    if let Some(password) = &plan.password {
        rules::check_secret_name(&password.secret_name).unwrap();
        rules::check_secret_tags(&password.secret_tags).unwrap();
        if let KeyPlan::Disposable { alias, tags, .. } = &password.key {
            rules::check_alias_name(alias).unwrap();
            rules::check_kms_tags(tags).unwrap();
        }
    }
}

#[test]
fn a_planned_clone_carries_no_tag_aws_would_refuse() {
    // The owner tag used to join stack id and logical id with '|', which RDS refuses.
    let inventory = Inventory::new(root_with_clones(15));
    let mut properties = CloneProperties::for_source("prod");
    properties.copy_ok = true;
    properties.set_password = true;
    properties.access_principal_arns = vec!["arn:aws:iam::123456789012:role/dev".into()];
    properties.tags = [("team".to_string(), "data platform".to_string())].into();
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    assert!(plan.copy.is_some(), "the plan covers a copy too");
    assert!(matches!(
        plan.password.as_ref().map(|password| &password.key),
        Some(KeyPlan::Disposable { .. })
    ));
    let owner = &plan.restore.tags[tags::OWNER];
    assert_eq!(
        owner,
        "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111/Db"
    );
    check_every_aws_rule(&plan);
    crate::plan::provision::check_plan_against_aws_rules(&plan).unwrap();
}

#[test]
fn a_clone_that_asks_to_expire_carries_its_expiry_as_a_tag_rds_accepts() {
    let inventory = Inventory::new(root_with_clones(1));
    let mut properties = CloneProperties::for_source("prod");
    properties.expires_after = Some(TimeDelta::hours(2));
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    let expires_at = &plan.restore.tags[tags::EXPIRES_AT];
    assert_eq!(
        expires_at,
        &aurora_clone_model::time::format_timestamp(now() + TimeDelta::hours(2))
    );
    assert!(expires_at.ends_with('Z'), "{expires_at}");
    assert!(
        !plan.instance.tags.contains_key(tags::EXPIRES_AT),
        "only the cluster expires"
    );
    aurora_clone_model::rules::check_rds_tags(&plan.restore.tags).unwrap();

    let plan = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    ));
    assert!(!plan.restore.tags.contains_key(tags::EXPIRES_AT));

    let mut past = CloneProperties::for_source("prod");
    past.expires_at = Some(now() - TimeDelta::minutes(1));
    match plan_for(&request(past), &inventory, &config()) {
        Err(PlanError::Property(error)) => assert_eq!(error.property, "ExpiresAt"),
        other => panic!("expected ExpiresAt refused, got {other:?}"),
    }
}

#[test]
fn a_plan_aws_would_refuse_fails_naming_the_rule() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut properties = CloneProperties::for_source("prod");
    properties.set_password = true;
    properties.access_principal_arns = vec!["arn:aws:iam::123456789012:role/dev".into()];
    let mut config = config();
    // A prefix the deployment allows but Secrets Manager refuses in a name.
    config.default_secret_prefix = "/team space/".into();
    config.allowed_secret_prefixes = vec!["/team space/".into()];
    let error = plan_for(&request(properties), &inventory, &config).unwrap_err();
    assert!(matches!(error, PlanError::AwsRule(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(aurora_clone_model::rules::SECRETS_SECRET_NAME),
        "{error}"
    );
}

#[test]
fn a_secret_prefix_outside_the_allowed_ones_is_refused() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut properties = CloneProperties::for_source("prod");
    properties.secret_prefix = Some("/elsewhere/".into());
    let error = plan_for(&request(properties), &inventory, &config()).unwrap_err();
    assert!(error.to_string().starts_with("SecretPrefix:"), "{error}");
}

#[test]
fn obsolete_copies_are_purged_by_the_stack_age_never_the_chosen_source() {
    let mut clusters = root_with_clones(15);
    let root = clusters[0].clone();
    clusters.push(copy_of("acm", "old", &root, now() - TimeDelta::days(5)));
    let inventory = Inventory::new(clusters);
    let mut properties = CloneProperties::for_source("prod");
    properties.max_copy_age = Some(TimeDelta::days(10));
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    assert_eq!(plan.source.cluster_id, "old", "fresh for this request");
    assert!(plan.purge.is_empty(), "the chosen source is kept");

    let mut properties = CloneProperties::for_source("prod");
    properties.copy_ok = true;
    let plan = made(plan_for(&request(properties), &inventory, &config()));
    assert_eq!(plan.purge.len(), 1);
    assert_eq!(plan.purge[0].cluster_id, "old");
    assert_eq!(plan.purge[0].instance_ids, vec!["old-1"]);
}

#[test]
fn cloning_a_managed_cluster_or_a_missing_one_is_refused() {
    let mut clusters = root_with_clones(1);
    let root = clusters[0].clone();
    clusters.push(copy_of("acm", "a-copy", &root, now()));
    let inventory = Inventory::new(clusters);
    assert!(matches!(
        plan_for(
            &request(CloneProperties::for_source("a-copy")),
            &inventory,
            &config()
        ),
        Err(PlanError::SourceIsManaged(..))
    ));
    assert!(matches!(
        plan_for(
            &request(CloneProperties::for_source("nope")),
            &inventory,
            &config()
        ),
        Err(PlanError::SourceMissing(..))
    ));
}

/// A root with every setting a restore does not inherit by itself set away from AWS's
/// defaults.
fn root_with_own_settings() -> ClusterInfo {
    let mut root = cluster("prod");
    root.port = Some(6543);
    root.iam_database_authentication_enabled = true;
    root.storage_type = Some("aurora-iopt1".into());
    root.enabled_cloudwatch_logs_exports = vec!["postgresql".into(), "instance".into()];
    root.serverless_v2_scaling = Some(ServerlessV2Scaling {
        min_capacity: Some(0.5),
        max_capacity: Some(16.0),
        seconds_until_auto_pause: None,
    });
    root
}

#[test]
fn a_clone_and_a_copy_carry_the_roots_port_iam_auth_storage_logs_and_scaling() {
    let root = root_with_own_settings();
    let inventory = Inventory::new(vec![root.clone()]);
    let plan = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    ));
    let expected = RestoreSettings {
        port: Some(6543),
        enable_iam_database_authentication: true,
        storage_type: Some("aurora-iopt1".into()),
        enable_cloudwatch_logs_exports: vec!["postgresql".into(), "instance".into()],
        serverless_v2_scaling: root.serverless_v2_scaling,
    };
    assert_eq!(plan.restore.settings, expected);
    let copies = crate::plan::provision::plan_copies(
        &root,
        &config(),
        &crate::plan::provision::CopyInstance::Class("db.t4g.medium".into()),
        now(),
        1,
        &inventory,
    );
    assert_eq!(copies[0].restore.settings, expected);
}

#[test]
fn a_clone_of_a_copy_still_carries_the_roots_settings() {
    let root = root_with_own_settings();
    let mut filled = vec![root.clone()];
    let mut grouped_root = root.clone();
    grouped_root.clone_group_id = Some("g-prod".into());
    filled[0] = grouped_root.clone();
    for index in 0..15 {
        let mut clone = tagged_clone("acm", &format!("clone-{index}"), &grouped_root);
        clone.clone_group_id = Some("g-prod".into());
        filled.push(clone);
    }
    // The copy itself has AWS's defaults, as a full copy made without them would.
    let copy = copy_of(
        "acm",
        "prod-copy",
        &grouped_root,
        now() - TimeDelta::hours(2),
    );
    filled.push(copy);
    let plan = made(plan_for(
        &request(CloneProperties::for_source("prod")),
        &Inventory::new(filled),
        &config(),
    ));
    assert_eq!(plan.source.cluster_id, "prod-copy");
    assert_eq!(plan.restore.settings, RestoreSettings::of(&root));
}

#[test]
fn the_clone_instance_is_as_public_as_the_root_writer_and_a_copy_never_is() {
    let inventory = Inventory::new(vec![cluster("prod")]);
    for root_public in [false, true] {
        let mut writer = writer();
        writer.publicly_accessible = root_public;
        let plan = made(plan_provision(ProvisionInput {
            request: &request(CloneProperties::for_source("prod")),
            inventory: &inventory,
            config: &config(),
            placement: &placement(),
            root_writer: Some(&writer),
            now: now(),
        }));
        assert_eq!(plan.instance.publicly_accessible, root_public);
        assert_eq!(
            plan.restore.tags[tags::INSTANCE_PUBLICLY_ACCESSIBLE],
            root_public.to_string(),
            "the finisher adds a late instance from this tag"
        );
    }
    let mut properties = CloneProperties::for_source("prod");
    properties.instance_class = Some("db.r6g.large".into());
    let without_writer = made(plan_provision(ProvisionInput {
        request: &request(properties),
        inventory: &inventory,
        config: &config(),
        placement: &placement(),
        root_writer: None,
        now: now(),
    }));
    assert!(
        !without_writer.instance.publicly_accessible,
        "unknown means private"
    );
    let copies = crate::plan::provision::plan_copies(
        &cluster("prod"),
        &config(),
        &crate::plan::provision::CopyInstance::Class("db.t4g.medium".into()),
        now(),
        1,
        &inventory,
    );
    assert!(!copies[0].instance.publicly_accessible);
    assert_eq!(
        copies[0].restore.tags[tags::INSTANCE_PUBLICLY_ACCESSIBLE],
        "false"
    );
}

#[test]
fn a_serverless_instance_class_needs_a_root_with_a_capacity_range() {
    let mut properties = CloneProperties::for_source("prod");
    properties.instance_class = Some("db.serverless".into());
    let refused = plan_for(
        &request(properties.clone()),
        &Inventory::new(vec![cluster("prod")]),
        &config(),
    );
    match refused {
        Err(PlanError::Property(error)) => {
            assert_eq!(error.property, "InstanceClass");
            assert!(error.problem.contains("capacity range"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let plan = made(plan_for(
        &request(properties),
        &Inventory::new(vec![root_with_own_settings()]),
        &config(),
    ));
    assert_eq!(plan.instance.instance_class, "db.serverless");
    assert!(plan.restore.settings.serverless_v2_scaling.is_some());
}

#[test]
fn a_root_that_is_not_aurora_is_refused_naming_source_cluster_id() {
    for engine in ["neptune", "docdb", "mysql", "postgres"] {
        let mut root = cluster("prod");
        root.engine = engine.into();
        let refused = plan_for(
            &request(CloneProperties::for_source("prod")),
            &Inventory::new(vec![root]),
            &config(),
        );
        match refused {
            Err(PlanError::Property(error)) => {
                assert_eq!(error.property, "SourceClusterId");
                assert!(error.problem.contains(engine), "{error}");
                assert!(error.problem.contains("not an Aurora cluster"), "{error}");
            }
            other => panic!("{engine}: expected a refusal, got {other:?}"),
        }
    }
    for engine in ["aurora-mysql", "aurora-postgresql", "aurora"] {
        let mut root = cluster("prod");
        root.engine = engine.into();
        made(plan_for(
            &request(CloneProperties::for_source("prod")),
            &Inventory::new(vec![root]),
            &config(),
        ));
    }
}

#[test]
fn clusters_of_other_engines_keep_their_names_but_never_count_as_clones() {
    let mut root = cluster("prod");
    root.clone_group_id = Some("g-prod".into());
    let mut graph = tagged_clone("acm", "graph", &root);
    graph.engine = "neptune".into();
    graph.clone_group_id = Some("g-prod".into());
    let inventory = Inventory::new(vec![root.clone(), graph]);
    assert!(inventory.clones_using_slots_of(&root).is_empty());
    assert!(
        inventory
            .managed("acm", aurora_clone_model::tags::Role::Clone)
            .is_empty()
    );
    assert!(
        inventory.identifier_taken("graph"),
        "its name is still taken"
    );
}

#[test]
fn maintenance_refuses_a_configured_root_that_is_not_aurora() {
    let mut root = cluster("prod");
    root.engine = "docdb".into();
    let plan = maintain(&Inventory::new(vec![root]), &[target("prod", 40)]);
    let problem = plan.roots[0].problem.clone().unwrap_or_default();
    assert!(problem.contains("not an Aurora cluster"), "{problem}");
    assert!(plan.roots[0].copies.is_empty());
}

fn target(cluster_id: &str, slots: u32) -> RootTarget {
    RootTarget {
        cluster_id: cluster_id.into(),
        target_clone_slots: slots,
        dry_run: false,
        max_copy_age: None,
        instance_class: None,
        purge_obsolete_copies: true,
        max_clones_per_source: None,
        clone_ttl: None,
        copy_capacity: None,
        refresh_schedule: None,
        max_concurrent_refreshes: None,
    }
}

pub(super) fn maintain(
    inventory: &Inventory,
    targets: &[RootTarget],
) -> crate::plan::maintenance::MaintenancePlan {
    plan_maintenance(MaintenanceInput {
        inventory,
        targets,
        config: &config(),
        secrets: &[],
        key_aliases: &[],
        stray_keys: &[],
        waiting_clone_ids: &[],
        now: now(),
    })
}

#[test]
fn maintenance_makes_enough_copies_for_the_target_and_no_more() {
    let clusters = root_with_clones(3);
    let plan = maintain(&Inventory::new(clusters.clone()), &[target("prod", 40)]);
    let root_plan = &plan.roots[0];
    assert_eq!(root_plan.free_slots, 12);
    assert_eq!(root_plan.copies.len(), 2);
    assert_eq!(root_plan.free_slots_after, 42);
    assert_ne!(
        root_plan.copies[0].cluster_id,
        root_plan.copies[1].cluster_id
    );

    // The copies now exist (still creating): the next run makes none.
    let mut after = clusters;
    for copy in &root_plan.copies {
        let mut made = cluster(&copy.cluster_id);
        made.status = ClusterStatus::Creating;
        made.members.clear();
        made.tags = copy.restore.tags.clone();
        made.created_at = Some(now());
        after.push(made);
    }
    let second = maintain(&Inventory::new(after), &[target("prod", 40)]);
    assert!(second.roots[0].copies.is_empty());
    assert_eq!(second.roots[0].free_slots, 42);
}

#[test]
fn an_old_copy_is_purged_and_replaced_only_when_needed() {
    let mut clusters = root_with_clones(3);
    let root = clusters[0].clone();
    clusters.push(copy_of("acm", "old", &root, now() - TimeDelta::days(4)));
    let inventory = Inventory::new(clusters);
    let needed = maintain(&inventory, &[target("prod", 20)]);
    assert_eq!(needed.roots[0].purge.len(), 1);
    assert_eq!(needed.roots[0].copies.len(), 1);
    let not_needed = maintain(&inventory, &[target("prod", 10)]);
    assert_eq!(not_needed.roots[0].purge.len(), 1);
    assert!(not_needed.roots[0].copies.is_empty());
}

#[test]
fn maintenance_reports_unfinished_clusters_and_orphans_past_their_grace() {
    let mut clusters = root_with_clones(1);
    clusters[1]
        .tags
        .insert(tags::PASSWORD_SECRET.into(), "alive".into());
    let mut pending = tagged_clone("acm", "pending-clone", &clusters[0]);
    pending.tags.insert(tags::STATE.into(), "pending".into());
    clusters.push(pending);
    let inventory = Inventory::new(clusters);
    let secret = |name: &str, cluster: &str, age_hours: i64| SecretSummary {
        arn: format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}"),
        name: name.into(),
        created_at: Some(now() - TimeDelta::hours(age_hours)),
        tags: [
            (tags::STACK.to_string(), "acm".to_string()),
            (tags::CLUSTER.to_string(), cluster.to_string()),
        ]
        .into(),
    };
    let secrets = vec![
        secret("gone-old", "gone", 5),
        secret("gone-young", "gone", 0),
        secret("alive", "clone-0", 5),
        // An interrupted attempt's secret: its clone exists but uses another one.
        secret("replaced", "clone-0", 5),
    ];
    let aliases = vec![KeyAlias {
        alias_name: "alias/aurora-clone-manager/acm/gone".into(),
        key_id: Some("k1".into()),
        created_at: Some(now() - TimeDelta::hours(5)),
    }];
    let plan = plan_maintenance(MaintenanceInput {
        inventory: &inventory,
        targets: &[],
        config: &config(),
        secrets: &secrets,
        key_aliases: &aliases,
        stray_keys: &[],
        waiting_clone_ids: &[],
        now: now(),
    });
    assert_eq!(plan.unfinished, vec!["pending-clone"]);
    let orphan_names: Vec<_> = plan
        .orphaned_secrets
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(orphan_names, vec!["gone-old", "replaced"]);
    assert_eq!(plan.orphaned_keys.len(), 1);
    assert_eq!(plan.orphaned_keys[0].key_id, "k1");
}

#[test]
fn a_missing_or_managed_root_is_a_problem_for_that_root_only() {
    let mut clusters = root_with_clones(0);
    let root = clusters[0].clone();
    clusters.push(copy_of("acm", "a-copy", &root, now()));
    let plan = maintain(
        &Inventory::new(clusters),
        &[target("nope", 5), target("a-copy", 5), target("prod", 5)],
    );
    assert!(
        plan.roots[0]
            .problem
            .as_deref()
            .unwrap()
            .contains("does not exist")
    );
    assert!(
        plan.roots[1]
            .problem
            .as_deref()
            .unwrap()
            .contains("not a root")
    );
    assert!(plan.roots[2].problem.is_none());
}

/// Random inventories: a root, clones (ours, other deployments', strangers' in the clone
/// group), copies of every age and state, and unrelated clusters.
fn arbitrary_inventory() -> impl Strategy<Value = Inventory> {
    let copy = (
        0i64..200,
        prop::sample::select(vec!["available", "creating", "deleting"]),
        any::<bool>(),
        0usize..16,
    );
    (
        0usize..18,
        0usize..6,
        prop::collection::vec(copy, 0..5),
        0usize..4,
        any::<bool>(),
    )
        .prop_map(|(our_clones, foreign, copies, unrelated, grouped)| {
            let mut root = cluster("prod");
            if grouped {
                root.clone_group_id = Some("g-root".into());
            }
            let mut clusters = vec![root.clone()];
            for index in 0..our_clones {
                let mut clone = tagged_clone("acm", &format!("ours-{index}"), &root);
                clone.clone_group_id = root.clone_group_id.clone();
                clusters.push(clone);
            }
            for index in 0..foreign {
                let mut stranger = cluster(&format!("stranger-{index}"));
                stranger.clone_group_id = Some(if grouped {
                    "g-root".into()
                } else {
                    format!("g-s{index}")
                });
                clusters.push(stranger);
            }
            for (index, (age_hours, status, with_instance, clones)) in
                copies.into_iter().enumerate()
            {
                let id = format!("copy-{index}");
                let mut copy = copy_of("acm", &id, &root, now() - TimeDelta::hours(age_hours));
                copy.status = status.into();
                copy.clone_group_id = Some(format!("g-{id}"));
                if !with_instance {
                    copy.members.clear();
                }
                for clone_index in 0..clones {
                    let mut clone =
                        tagged_clone("acm", &format!("{id}-clone-{clone_index}"), &copy);
                    clone.clone_group_id = copy.clone_group_id.clone();
                    clusters.push(clone);
                }
                clusters.push(copy);
            }
            for index in 0..unrelated {
                let mut other = cluster(&format!("other-{index}"));
                other.tags.insert(tags::ROLE.into(), "copy".into());
                other
                    .tags
                    .insert(tags::STACK.into(), "another-deployment".into());
                other.tags.insert(tags::ROOT_ARN.into(), root.arn.clone());
                clusters.push(other);
            }
            Inventory::new(clusters)
        })
}

proptest! {
    #[test]
    fn provisioning_never_touches_the_root_or_unmanaged_clusters_and_never_overfills_a_source(
        inventory in arbitrary_inventory(),
        copy_ok in any::<bool>(),
        purge in any::<bool>(),
    ) {
        let mut properties = CloneProperties::for_source("prod");
        properties.copy_ok = copy_ok;
        properties.purge_obsolete_copies = purge;
        match plan_for(&request(properties), &inventory, &config()) {
            Ok(ProvisionOutcome::Make(plan)) => {
                for purge in &plan.purge {
                    let target = inventory.cluster(&purge.cluster_id).unwrap();
                    prop_assert_ne!(&target.id, "prod");
                    prop_assert_eq!(tags::managed_role(target, "acm"), Some(tags::Role::Copy));
                }
                prop_assert!(inventory.cluster(&plan.cluster_id).is_none());
                match inventory.cluster(&plan.source.cluster_id) {
                    Some(source) => {
                        let used = inventory.clones_using_slots_of(source).len();
                        prop_assert!(used < 15, "source {} already has {} clones", source.id, used);
                        prop_assert!(source.id == "prod" || tags::managed_role(source, "acm") == Some(tags::Role::Copy));
                    }
                    None => prop_assert!(plan.copy.is_some() && copy_ok),
                }
                prop_assert!(copy_ok || plan.copy.is_none());
            }
            Ok(ProvisionOutcome::AlreadyMade { .. }) => prop_assert!(false, "no request tag exists"),
            Err(PlanError::NoSlot(_)) => prop_assert!(!copy_ok),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn maintenance_only_purges_our_obsolete_copies_and_reaches_its_target(
        inventory in arbitrary_inventory(),
        slots in 1u32..100,
    ) {
        let plan = maintain(&inventory, &[target("prod", slots)]);
        let root_plan = &plan.roots[0];
        for purge in &root_plan.purge {
            let copy = inventory.cluster(&purge.cluster_id).unwrap();
            prop_assert_eq!(tags::managed_role(copy, "acm"), Some(tags::Role::Copy));
            prop_assert!(crate::plan::inventory::data_age(copy, now()).unwrap() >= TimeDelta::days(3));
        }
        prop_assert!(root_plan.free_slots_after >= slots);
        prop_assert!(root_plan.copies.len() as u32 <= slots.div_ceil(15));
        for copy in &root_plan.copies {
            prop_assert!(!inventory.identifier_taken(&copy.cluster_id));
            prop_assert_eq!(&copy.restore.source_cluster_id, "prod");
        }
    }

    #[test]
    fn an_unchanged_inventory_plans_nothing_new_after_its_copies_exist(
        inventory in arbitrary_inventory(),
        slots in 1u32..60,
    ) {
        let first = maintain(&inventory, &[target("prod", slots)]);
        let mut after = inventory.clone().into_clusters();
        after.retain(|c| !first.roots[0].purge.iter().any(|p| p.cluster_id == c.id));
        for copy in &first.roots[0].copies {
            let mut made = cluster(&copy.cluster_id);
            made.status = ClusterStatus::Creating;
            made.members.clear();
            made.tags = copy.restore.tags.clone();
            made.clone_group_id = Some(format!("g-{}", copy.cluster_id));
            after.push(made);
        }
        let second = maintain(&Inventory::new(after), &[target("prod", slots)]);
        prop_assert!(second.roots[0].copies.is_empty());
    }
}

fn serverless(min: f64, max: f64, auto_pause_seconds: Option<i32>) -> CloneProperties {
    let mut properties = CloneProperties::for_source("prod");
    properties.serverless = Some(crate::plan::capacity::CapacityRequest {
        min_acu: min,
        max_acu: max,
        auto_pause_seconds,
    });
    properties
}

#[test]
fn a_serverless_clone_gets_a_serverless_instance_and_the_range_asked_for() {
    let mut clusters = root_with_clones(0);
    clusters[0].engine_version = Some("16.3".into());
    let inventory = Inventory::new(clusters);
    let plan = made(plan_for(
        &request(serverless(0.0, 4.0, Some(600))),
        &inventory,
        &config(),
    ));
    assert_eq!(plan.instance.instance_class, "db.serverless");
    assert_eq!(
        plan.restore.settings.serverless_v2_scaling,
        Some(ServerlessV2Scaling {
            min_capacity: Some(0.0),
            max_capacity: Some(4.0),
            seconds_until_auto_pause: Some(600),
        })
    );
    assert!(
        plan.summary
            .contains(&"capacity 0-4 ACU, pauses after 600 s without connections".to_string()),
        "{:#?}",
        plan.summary
    );
}

#[test]
fn an_impossible_serverless_clone_is_refused_naming_the_property_before_anything_is_made() {
    let inventory = Inventory::new(root_with_clones(0));
    let error = plan_for(&request(serverless(4.0, 2.0, None)), &inventory, &config()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "ServerlessMaxCapacity: MaxCapacity 2 is below MinCapacity 4 (AWS rule rds-serverless-capacity-range)"
    );
    let mut both = serverless(0.5, 2.0, None);
    both.instance_class = Some("db.r6g.large".into());
    let error = plan_for(&request(both), &inventory, &config()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("InstanceClass: 'db.r6g.large' cannot be combined"),
        "{error}"
    );
}

#[test]
fn a_copy_capacity_maintenance_cannot_use_is_reported_for_its_root() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut target = target("prod", 20);
    target.copy_capacity = Some(crate::plan::capacity::CapacityRequest {
        min_acu: 0.5,
        max_acu: 4.0,
        auto_pause_seconds: Some(600),
    });
    let plan = maintain(&inventory, &[target]);
    let root = &plan.roots[0];
    assert!(root.copies.is_empty());
    assert!(
        root.problem.as_deref().unwrap().starts_with(
            "copy-capacity :auto-pause: an instance pauses only with a minimum of 0 ACUs"
        ),
        "{:?}",
        root.problem
    );
}
