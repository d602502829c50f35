//! The provisioning plan: from one clone request and the inventory, every identifier, tag,
//! secret name and step of making the clone, decided before anything is changed.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::capacity::{self, CapacityChoice, choose_capacity};
use crate::plan::choice::{NoCloneSlot, SourceChoice, choose_clone_source};
use crate::plan::inventory::Inventory;
use crate::plan::pool::{FreshnessRule, PoolView, SourceKind, SourceView};
use crate::plan::request::{CloneProperties, PropertyError, capacity_property};
use aurora_clone_model::config::Config;
use aurora_clone_model::naming;
use aurora_clone_model::rules::{self, RuleViolation};
use aurora_clone_model::tags::{self, LifecycleState, Role};
use aurora_clone_model::time::format_timestamp;
use aurora_clone_model::{
    ClusterInfo, InstanceInfo, InstanceRequest, RestoreRequest, RestoreSettings, RestoreType, Tags,
};

/// Where the request came from: identifies it for idempotency and ownership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOrigin {
    pub stack_id: String,
    pub logical_resource_id: String,
    pub request_id: String,
}

impl RequestOrigin {
    /// The `owner` tag value for clones made for this origin.
    pub fn owner(&self) -> String {
        naming::owner_tag_value(&self.stack_id, &self.logical_resource_id)
    }

    /// Whether an `owner` tag value names this origin (also in the legacy form).
    pub fn owns(&self, owner_tag: Option<&str>) -> bool {
        naming::owner_tag_matches(owner_tag, &self.stack_id, &self.logical_resource_id)
    }
}

/// A request for one clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneRequest {
    pub properties: CloneProperties,
    pub origin: RequestOrigin,
    /// The requester gives up after an hour (a CloudFormation custom resource): a clone
    /// that must first wait for a full copy cannot be answered ready in that time.
    #[serde(default)]
    pub requester_waits_at_most_an_hour: bool,
}

/// The account and region resources live in, for ARNs and policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub partition: String,
    pub region: String,
    pub account_id: String,
}

/// Everything the provisioning planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct ProvisionInput<'a> {
    pub request: &'a CloneRequest,
    pub inventory: &'a Inventory,
    pub config: &'a Config,
    pub placement: &'a Placement,
    /// The root's writer instance (its class and parameter group are the defaults).
    pub root_writer: Option<&'a InstanceInfo>,
    pub now: DateTime<Utc>,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum ProvisionOutcome {
    /// This request already made its clone (a replayed request): nothing new to make.
    AlreadyMade { cluster_id: String, arn: String },
    /// Make a clone as planned.
    Make(Box<ProvisionPlan>),
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Property(#[from] PropertyError),
    #[error("source cluster '{0}' does not exist")]
    SourceMissing(String),
    #[error("{0} is managed by this clone manager as a {1}; clone the root cluster instead")]
    SourceIsManaged(String, Role),
    #[error("{0}")]
    NoSlot(NoCloneSlot),
    /// The plan would send AWS something it refuses (a name built from a property, say).
    #[error("{0}")]
    AwsRule(#[from] RuleViolation),
    #[error(
        "no clone slot of {root_id} is free now, and CopyOk would clone {copy_word}; a full copy takes longer than the hour CloudFormation waits for a custom resource, so WaitForReady cannot be met. Set WaitForReady: \"false\" (the resource is answered as soon as the copy is under way and the clone follows when the copy is ready), or keep spare slots with the maintenance config (target-clone-slots for {root_id})"
    )]
    CopyTooSlowToWaitFor { root_id: String, copy_word: String },
}

/// A clone to make, completely decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionPlan {
    pub cluster_id: String,
    pub cluster_arn: String,
    pub root_id: String,
    pub source: PlannedSource,
    /// A copy of the root to make first, when no slot is free and CopyOk allows it.
    pub copy: Option<CopyPlan>,
    pub restore: RestoreRequest,
    pub instance: InstanceRequest,
    pub password: Option<PasswordPlan>,
    pub purge: Vec<PurgePlan>,
    pub wait_for_ready: bool,
    /// The plan in words, for dry runs and logs.
    pub summary: Vec<String>,
}

/// The clone's source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedSource {
    pub cluster_id: String,
    pub arn: String,
    pub kind: SourceKind,
    pub data_timestamp: DateTime<Utc>,
    /// The source is a copy still being made: the restore waits until it can take it.
    pub wait_until_cloneable: bool,
}

/// A full copy of a root, with its one small instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyPlan {
    pub cluster_id: String,
    pub restore: RestoreRequest,
    pub instance: InstanceRequest,
    /// The Serverless v2 capacity range in words, for a `db.serverless` copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// Why the capacity differs from what was asked (the engine version rule), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_note: Option<String>,
}

/// The instance new copies get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyInstance {
    /// A provisioned instance class.
    Class(String),
    /// A `db.serverless` instance; the copy is restored with this capacity range.
    Serverless(CapacityChoice),
}

/// A copy to delete, instances first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgePlan {
    pub cluster_id: String,
    pub arn: String,
    pub instance_ids: Vec<String>,
    pub reason: String,
}

/// The clone's own password: its secret, key and readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordPlan {
    pub secret_name: String,
    pub secret_tags: Tags,
    pub key: KeyPlan,
    pub principals: Vec<String>,
    pub master_username: String,
    pub engine: String,
    pub database_name: Option<String>,
}

/// Which KMS key encrypts the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum KeyPlan {
    /// A key this clone does not own (the `KmsKeyId` property or the stack's default key);
    /// it is never changed or deleted. On the default key the readers get KMS grants
    /// limited to this secret; a property's key is governed by its owner's key policy.
    Shared {
        key_id: String,
        grant_name: String,
        from_property: bool,
    },
    /// A key made for this clone alone, deleted with it.
    Disposable {
        alias: String,
        description: String,
        tags: Tags,
    },
}

/// Plans one clone, step by step: check the request, answer a replay with its earlier
/// clone, find the root, choose the source, name the clone, shape its instance, then its
/// tags, password, restore, instance and purges, and the steps for people.
pub fn plan_provision(input: ProvisionInput<'_>) -> Result<ProvisionOutcome, PlanError> {
    let ProvisionInput {
        request,
        inventory,
        config,
        placement,
        root_writer,
        now,
    } = input;
    let properties = &request.properties;
    properties.validate()?;
    // A replay of a request that already made its clone answers with that clone, before
    // anything that may have changed since (the clock, the pool) is judged again.
    if let Some(made) = earlier_attempt(request, inventory, config) {
        return Ok(made);
    }
    validate_input(properties, config, now)?;
    let root = find_root(properties, inventory, config)?;
    let choice = choose_source(request, inventory, root, config, now)?;
    let cluster_id = choose_cluster_id(request, inventory, &config.name_prefix)?;
    let shape = instance_shape(properties, root, root_writer)?;
    let (source, copy, source_step) = plan_source(
        &choice,
        root,
        &cluster_id,
        inventory,
        config,
        placement,
        now,
    );
    let password = properties
        .set_password
        .then(|| plan_password(properties, config, root, &cluster_id, now));
    let (cluster_tags, tag_steps) = clone_tags(
        request,
        config,
        root,
        &source,
        &shape,
        password.as_ref(),
        now,
    );
    let restore = restore_request(
        &cluster_id,
        &source,
        &cluster_tags,
        properties,
        root,
        &shape,
    );
    let instance = instance_request(&cluster_id, &shape, &cluster_tags, root, inventory);
    let purge = if properties.purge_obsolete_copies {
        plan_purges(
            &pool_by_stack_age(inventory, root, config, now),
            inventory,
            Some(&source.cluster_id),
        )
    } else {
        Vec::new()
    };
    let summary = steps(
        source_step,
        tag_steps,
        &instance,
        shape.capacity.as_ref(),
        &purge,
        properties.wait_for_ready,
    );
    let plan = ProvisionPlan {
        cluster_arn: naming::cluster_arn(
            &placement.partition,
            &placement.region,
            &placement.account_id,
            &cluster_id,
        ),
        cluster_id,
        root_id: root.id.clone(),
        source,
        copy,
        restore,
        instance,
        password,
        purge,
        wait_for_ready: properties.wait_for_ready,
        summary,
    };
    check_plan_against_aws_rules(&plan)?;
    Ok(ProvisionOutcome::Make(Box::new(plan)))
}

/// The clone this very request made on an earlier attempt (Lambda retried it, or the
/// answer was lost), if there is one.
fn earlier_attempt(
    request: &CloneRequest,
    inventory: &Inventory,
    config: &Config,
) -> Option<ProvisionOutcome> {
    inventory
        .clusters()
        .iter()
        .find(|cluster| {
            tags::managed_role(cluster, &config.stack_name) == Some(Role::Clone)
                && cluster.tag(tags::REQUEST) == Some(request.origin.request_id.as_str())
                && request.origin.owns(cluster.tag(tags::OWNER))
        })
        .map(|existing| ProvisionOutcome::AlreadyMade {
            cluster_id: existing.id.clone(),
            arn: existing.arn.clone(),
        })
}

/// The checks of a request that depend on the deployment and the clock (the properties'
/// own rules were checked by `validate`).
fn validate_input(
    properties: &CloneProperties,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(), PlanError> {
    if let Some(expires_at) = properties.expires_at
        && expires_at <= now
    {
        // The sweep would delete the clone while it is being made.
        return Err(PropertyError::new(
            "ExpiresAt",
            format!(
                "{} has passed; a new clone must expire in the future",
                format_timestamp(expires_at)
            ),
        )
        .into());
    }
    if let Some(prefix) = &properties.secret_prefix
        && !config.secret_prefix_allowed(prefix)
    {
        return Err(PropertyError::new(
            "SecretPrefix",
            format!(
                "'{prefix}' is not one of the prefixes this deployment may write: {}",
                config.allowed_secret_prefixes.join(", ")
            ),
        )
        .into());
    }
    Ok(())
}

/// The cluster to clone: it exists, is Aurora, and is not one of our copies or clones
/// nor named like one.
fn find_root<'a>(
    properties: &CloneProperties,
    inventory: &'a Inventory,
    config: &Config,
) -> Result<&'a ClusterInfo, PlanError> {
    let root = inventory
        .cluster(&properties.source_cluster_id)
        .ok_or_else(|| PlanError::SourceMissing(properties.source_cluster_id.clone()))?;
    if let Some(role) = tags::managed_role(root, &config.stack_name) {
        return Err(PlanError::SourceIsManaged(root.id.clone(), role));
    }
    if !root.is_aurora() {
        return Err(PropertyError::new("SourceClusterId", not_aurora(root)).into());
    }
    if let Some(problem) = root_named_like_ours(&root.id, config) {
        return Err(PropertyError::new("SourceClusterId", problem).into());
    }
    Ok(root)
}

/// The clone source by the rule in `plan::choice`, over the root's pool as the request's
/// freshness rule sees it; a requester that cannot wait for a copy is told so now.
fn choose_source(
    request: &CloneRequest,
    inventory: &Inventory,
    root: &ClusterInfo,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<SourceChoice, PlanError> {
    let properties = &request.properties;
    let rule = FreshnessRule {
        max_copy_age: properties.max_copy_age.unwrap_or(config.max_copy_age),
        created_since: properties.copy_created_since,
    };
    let pool = PoolView::build(
        inventory,
        root,
        &config.stack_name,
        config.max_clones_per_source,
        rule,
        now,
    );
    let choice = choose_clone_source(&pool, properties.copy_ok).map_err(PlanError::NoSlot)?;
    check_the_requester_can_wait(request, &choice, &root.id)?;
    Ok(choice)
}

/// What the clone's instance is like: its class (or a Serverless v2 capacity range),
/// parameter group and public access.
struct InstanceShape {
    capacity: Option<CapacityChoice>,
    class: String,
    parameter_group: Option<String>,
    publicly_accessible: bool,
}

/// The instance the properties ask for, filled in from the root's writer.
fn instance_shape(
    properties: &CloneProperties,
    root: &ClusterInfo,
    root_writer: Option<&InstanceInfo>,
) -> Result<InstanceShape, PlanError> {
    let capacity = match &properties.serverless {
        Some(wanted) => Some(choose_capacity(root, wanted).map_err(|problem| {
            PropertyError::new(capacity_property(problem.field), problem.message)
        })?),
        None => None,
    };
    // validate() has refused any other class beside a capacity range.
    let class = match (&properties.instance_class, root_writer) {
        _ if capacity.is_some() => rules::SERVERLESS_INSTANCE_CLASS.to_string(),
        (Some(class), _) => class.clone(),
        (None, Some(writer)) => writer.instance_class.clone(),
        (None, None) => {
            return Err(PropertyError::new(
                "InstanceClass",
                format!(
                    "is required because {} has no instance to take the class from",
                    root.id
                ),
            )
            .into());
        }
    };
    if class == rules::SERVERLESS_INSTANCE_CLASS
        && capacity.is_none()
        && root.serverless_v2_scaling.is_none()
    {
        return Err(PropertyError::new(
            "InstanceClass",
            format!(
                "{} needs a Serverless v2 capacity range, and {} has none to pass on; choose a provisioned class",
                rules::SERVERLESS_INSTANCE_CLASS, root.id
            ),
        )
        .into());
    }
    let parameter_group = properties
        .db_parameter_group_name
        .clone()
        .or_else(|| root_writer.and_then(|writer| writer.db_parameter_group.clone()));
    // Never more public than the root: its writer's setting, private when unknown.
    let publicly_accessible = root_writer.is_some_and(|writer| writer.publicly_accessible);
    Ok(InstanceShape {
        capacity,
        class,
        parameter_group,
        publicly_accessible,
    })
}

/// The source the clone is restored from, the copy to make first if the choice needs
/// one, and the step that says so.
fn plan_source(
    choice: &SourceChoice,
    root: &ClusterInfo,
    cluster_id: &str,
    inventory: &Inventory,
    config: &Config,
    placement: &Placement,
    now: DateTime<Utc>,
) -> (PlannedSource, Option<CopyPlan>, String) {
    match choice {
        SourceChoice::Ready { source } => (
            planned_source(source, now, false),
            None,
            format!(
                "clone {} ({}) into {cluster_id}: {} of {} slots free there",
                source.cluster_id,
                source_kind_word(source.kind),
                source.free_slots,
                config.max_clones_per_source
            ),
        ),
        SourceChoice::AwaitCopy { copy } => (
            planned_source(copy, now, true),
            None,
            format!(
                "wait for copy {} (still being made), then clone it into {cluster_id}",
                copy.cluster_id
            ),
        ),
        SourceChoice::MakeCopy => {
            let instance = CopyInstance::Class(config.copy_instance_class.clone());
            let copy = plan_copies(root, config, &instance, now, 1, inventory).remove(0);
            let step = format!(
                "no free clone slot: make copy {} of {} (slow, full copy), then clone it into {cluster_id}",
                copy.cluster_id, root.id
            );
            let source = PlannedSource {
                cluster_id: copy.cluster_id.clone(),
                arn: naming::cluster_arn(
                    &placement.partition,
                    &placement.region,
                    &placement.account_id,
                    &copy.cluster_id,
                ),
                kind: SourceKind::Copy,
                data_timestamp: now,
                wait_until_cloneable: true,
            };
            (source, Some(copy), step)
        }
    }
}

/// The clone's tags: the user's, ours (role, owner, request, source, data time), how to
/// make its instance, where its password is, and when it expires or idles; with the
/// steps the password, expiry and idle tags stand for.
fn clone_tags(
    request: &CloneRequest,
    config: &Config,
    root: &ClusterInfo,
    source: &PlannedSource,
    shape: &InstanceShape,
    password: Option<&PasswordPlan>,
    now: DateTime<Utc>,
) -> (Tags, Vec<String>) {
    let properties = &request.properties;
    let mut steps = Vec::new();
    let mut cluster_tags = properties.tags.clone();
    cluster_tags.extend(base_tags(config, Role::Clone, root, now));
    cluster_tags.insert(tags::OWNER.into(), request.origin.owner());
    cluster_tags.insert(tags::REQUEST.into(), request.origin.request_id.clone());
    cluster_tags.insert(tags::SOURCE_ARN.into(), source.arn.clone());
    cluster_tags.insert(
        tags::DATA_TIMESTAMP.into(),
        format_timestamp(source.data_timestamp),
    );
    cluster_tags.insert(tags::INSTANCE_CLASS.into(), shape.class.clone());
    if let Some(group) = &shape.parameter_group {
        cluster_tags.insert(tags::INSTANCE_PARAMETER_GROUP.into(), group.clone());
    }
    cluster_tags.insert(
        tags::INSTANCE_PUBLICLY_ACCESSIBLE.into(),
        shape.publicly_accessible.to_string(),
    );
    if let Some(password) = password {
        cluster_tags.insert(tags::PASSWORD_SECRET.into(), password.secret_name.clone());
        if let KeyPlan::Shared {
            key_id,
            from_property,
            ..
        } = &password.key
        {
            cluster_tags.insert(tags::PASSWORD_KEY.into(), key_id.clone());
            if !from_property {
                cluster_tags.insert(tags::PASSWORD_KEY_GRANTS.into(), "true".into());
            }
        }
        steps.push(format!(
            "store a new master password in secret {} readable by {}",
            password.secret_name,
            password.principals.join(", ")
        ));
    }
    if let Some(expires_at) = properties.expiry(now) {
        cluster_tags.insert(tags::EXPIRES_AT.into(), format_timestamp(expires_at));
        if properties.final_snapshot {
            cluster_tags.insert(tags::FINAL_SNAPSHOT.into(), "true".into());
        }
        steps.push(format!(
            "delete the clone when it expires at {}",
            format_timestamp(expires_at)
        ));
    }
    if let Some(idle_after) = properties.idle_after {
        cluster_tags.insert(
            tags::IDLE.into(),
            tags::idle_tag_value(idle_after, properties.idle_action),
        );
        steps.push(format!(
            "{} the clone after {} without connections",
            properties.idle_action.as_str(),
            aurora_clone_model::time::format_duration(idle_after)
        ));
    }
    (cluster_tags, steps)
}

/// The copy-on-write restore that makes the clone; network and parameter settings come
/// from the properties, else from the root.
fn restore_request(
    cluster_id: &str,
    source: &PlannedSource,
    cluster_tags: &Tags,
    properties: &CloneProperties,
    root: &ClusterInfo,
    shape: &InstanceShape,
) -> RestoreRequest {
    RestoreRequest {
        cluster_id: cluster_id.to_string(),
        source_cluster_id: source.cluster_id.clone(),
        restore_type: RestoreType::CopyOnWrite,
        tags: cluster_tags.clone(),
        db_subnet_group_name: properties
            .db_subnet_group_name
            .clone()
            .or_else(|| root.db_subnet_group.clone()),
        vpc_security_group_ids: properties
            .vpc_security_group_ids
            .clone()
            .unwrap_or_else(|| root.vpc_security_group_ids.clone()),
        db_cluster_parameter_group_name: properties
            .db_cluster_parameter_group_name
            .clone()
            .or_else(|| root.db_cluster_parameter_group.clone()),
        // From the root even when cloning a copy: the clone looks like the root whatever
        // it was cloned from; a capacity range asked for replaces the root's.
        settings: with_capacity(RestoreSettings::of(root), shape.capacity.as_ref()),
    }
}

/// The clone's first instance.
fn instance_request(
    cluster_id: &str,
    shape: &InstanceShape,
    cluster_tags: &Tags,
    root: &ClusterInfo,
    inventory: &Inventory,
) -> InstanceRequest {
    InstanceRequest {
        instance_id: unique_identifier(naming::first_instance_id(cluster_id), inventory),
        cluster_id: cluster_id.to_string(),
        instance_class: shape.class.clone(),
        engine: root.engine.clone(),
        db_parameter_group_name: shape.parameter_group.clone(),
        publicly_accessible: shape.publicly_accessible,
        tags: instance_tags(cluster_tags),
    }
}

/// The plan's steps for people, in the order the executor carries them out.
fn steps(
    source_step: String,
    tag_steps: Vec<String>,
    instance: &InstanceRequest,
    capacity: Option<&CapacityChoice>,
    purge: &[PurgePlan],
    wait_for_ready: bool,
) -> Vec<String> {
    let mut summary = vec![source_step];
    summary.extend(tag_steps);
    summary.push(format!(
        "add instance {} ({})",
        instance.instance_id, instance.instance_class
    ));
    if let Some(capacity) = capacity {
        summary.push(format!(
            "capacity {}",
            capacity::describe(&capacity.scaling)
        ));
        summary.extend(capacity.note.clone());
    }
    for purge in purge {
        summary.push(format!(
            "delete obsolete copy {}: {}",
            purge.cluster_id, purge.reason
        ));
    }
    summary.push(if wait_for_ready {
        "report back when the clone is usable (WaitForReady)".to_string()
    } else {
        "report back once the restore has started (WaitForReady: false)".to_string()
    });
    summary
}

/// Restore settings with a decided capacity range instead of the root's, if one is given.
fn with_capacity(settings: RestoreSettings, capacity: Option<&CapacityChoice>) -> RestoreSettings {
    match capacity {
        Some(capacity) => RestoreSettings {
            serverless_v2_scaling: Some(capacity.scaling),
            ..settings
        },
        None => settings,
    }
}

/// Checks every name and tag set the plan will send against AWS's rules, so that a plan AWS
/// would refuse fails here, naming the rule, before anything is changed.
pub fn check_plan_against_aws_rules(plan: &ProvisionPlan) -> Result<(), RuleViolation> {
    if let Some(copy) = &plan.copy {
        rules::check_restore_request(&copy.restore)?;
        rules::check_instance_request(&copy.instance)?;
    }
    rules::check_restore_request(&plan.restore)?;
    rules::check_instance_request(&plan.instance)?;
    if let Some(password) = &plan.password {
        rules::check_secret_name(&password.secret_name)?;
        rules::check_secret_tags(&password.secret_tags)?;
        if let KeyPlan::Disposable { alias, tags, .. } = &password.key {
            rules::check_alias_name(alias)?;
            rules::check_kms_tags(tags)?;
        }
    }
    Ok(())
}

/// Why a root that is not an Aurora cluster cannot be cloned, in words.
fn not_aurora(root: &ClusterInfo) -> String {
    format!(
        "'{}' is a {} cluster, not an Aurora cluster (aurora-mysql or aurora-postgresql); only Aurora clusters can be cloned",
        root.id, root.engine
    )
}

fn source_kind_word(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Root => "the root",
        SourceKind::Copy => "a fresh copy",
    }
}

fn planned_source(source: &SourceView, now: DateTime<Utc>, wait: bool) -> PlannedSource {
    PlannedSource {
        cluster_id: source.cluster_id.clone(),
        arn: source.arn.clone(),
        kind: source.kind,
        data_timestamp: match source.kind {
            SourceKind::Root => now,
            SourceKind::Copy => source.data_timestamp.unwrap_or(now),
        },
        wait_until_cloneable: wait,
    }
}

/// Why a root must not be cloned: its name starts with the deployment's name prefix, which
/// IAM reserves for what the clone manager makes, so a bug could change it.
pub fn root_named_like_ours(root_id: &str, config: &Config) -> Option<String> {
    root_id.starts_with(&config.name_prefix).then(|| {
        format!(
            "'{root_id}' starts with this deployment's name prefix '{}', which IAM reserves for \
             the clusters the clone manager makes; deploy the clone manager with another \
             NamePrefix",
            config.name_prefix
        )
    })
}

fn choose_cluster_id(
    request: &CloneRequest,
    inventory: &Inventory,
    name_prefix: &str,
) -> Result<String, PlanError> {
    let origin = &request.origin;
    if let Some(wanted) = &request.properties.cluster_id
        && !wanted.starts_with(name_prefix)
    {
        return Err(PropertyError::new(
            "ClusterId",
            format!(
                "'{wanted}' must start with this deployment's name prefix '{name_prefix}' (the \
                 clone manager may only create and delete clusters named so); use \
                 '{}', or leave it out for a derived name",
                naming::prefixed_identifier(name_prefix, &[wanted], "")
            ),
        )
        .into());
    }
    match &request.properties.cluster_id {
        Some(wanted) if !inventory.identifier_taken(wanted) => Ok(wanted.clone()),
        Some(wanted) if request.properties.no_fail_on_existing_cluster => Ok(unique_identifier(
            naming::with_suffix(wanted, &naming::short_hash(&[&origin.request_id])),
            inventory,
        )),
        Some(wanted) => Err(PropertyError::new(
            "ClusterId",
            format!(
                "'{wanted}' is already taken by an existing cluster; choose another name or set NoFailOnExistingCluster to \"true\""
            ),
        )
        .into()),
        None => Ok(unique_identifier(
            naming::derived_clone_id(
                name_prefix,
                &origin.stack_id,
                &origin.logical_resource_id,
                &origin.request_id,
            ),
            inventory,
        )),
    }
}

/// The identifier itself if free, else the first free one with a numbered suffix.
fn unique_identifier(identifier: String, inventory: &Inventory) -> String {
    if !inventory.identifier_taken(&identifier) {
        return identifier;
    }
    (2..)
        .map(|number| naming::with_suffix(&identifier, &number.to_string()))
        .find(|candidate| !inventory.identifier_taken(candidate))
        .expect("an unbounded range always has a free identifier")
}

/// The tags every managed cluster carries.
fn base_tags(config: &Config, role: Role, root: &ClusterInfo, now: DateTime<Utc>) -> Tags {
    let mut tags = Tags::new();
    tags.insert(tags::ROLE.into(), role.as_str().into());
    tags.insert(tags::STACK.into(), config.stack_name.clone());
    tags.insert(tags::ROOT_ARN.into(), root.arn.clone());
    tags.insert(tags::DATA_TIMESTAMP.into(), format_timestamp(now));
    tags.insert(tags::STATE.into(), LifecycleState::Pending.as_str().into());
    tags
}

/// Instances carry the ownership tags of their cluster, so that IAM tag conditions and
/// people can tell them apart too.
fn instance_tags(cluster_tags: &Tags) -> Tags {
    cluster_tags
        .iter()
        .filter(|(key, _)| {
            !key.starts_with(tags::TAG_PREFIX)
                || [tags::ROLE, tags::STACK, tags::OWNER, tags::ROOT_ARN].contains(&key.as_str())
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// A copy's instance is never public: copies are only clone sources and nobody connects to
/// them, so private is never more public than the root and always enough.
const COPY_PUBLICLY_ACCESSIBLE: bool = false;

/// Plans `count` new copies of `root`, with identifiers free in the inventory and distinct
/// from each other.
pub fn plan_copies(
    root: &ClusterInfo,
    config: &Config,
    instance: &CopyInstance,
    now: DateTime<Utc>,
    count: usize,
    inventory: &Inventory,
) -> Vec<CopyPlan> {
    let mut planned: Vec<CopyPlan> = Vec::with_capacity(count);
    let taken = |identifier: &str, planned: &[CopyPlan]| {
        inventory.identifier_taken(identifier)
            || planned.iter().any(|copy| {
                copy.cluster_id == identifier || copy.instance.instance_id == identifier
            })
    };
    let (instance_class, capacity) = match instance {
        CopyInstance::Class(class) => (class.as_str(), None),
        CopyInstance::Serverless(choice) => (rules::SERVERLESS_INSTANCE_CLASS, Some(choice)),
    };
    let mut index = 0;
    while planned.len() < count {
        let cluster_id = naming::copy_id(&config.name_prefix, &root.id, now, index);
        let instance_id = naming::first_instance_id(&cluster_id);
        index += 1;
        if taken(&cluster_id, &planned) || taken(&instance_id, &planned) {
            continue;
        }
        let mut cluster_tags = base_tags(config, Role::Copy, root, now);
        cluster_tags.insert(tags::INSTANCE_CLASS.into(), instance_class.to_string());
        cluster_tags.insert(
            tags::INSTANCE_PUBLICLY_ACCESSIBLE.into(),
            COPY_PUBLICLY_ACCESSIBLE.to_string(),
        );
        planned.push(CopyPlan {
            restore: RestoreRequest {
                cluster_id: cluster_id.clone(),
                source_cluster_id: root.id.clone(),
                restore_type: RestoreType::FullCopy,
                tags: cluster_tags.clone(),
                db_subnet_group_name: root.db_subnet_group.clone(),
                vpc_security_group_ids: root.vpc_security_group_ids.clone(),
                db_cluster_parameter_group_name: root.db_cluster_parameter_group.clone(),
                settings: with_capacity(RestoreSettings::of(root), capacity),
            },
            instance: InstanceRequest {
                instance_id,
                cluster_id: cluster_id.clone(),
                instance_class: instance_class.to_string(),
                engine: root.engine.clone(),
                db_parameter_group_name: None,
                publicly_accessible: COPY_PUBLICLY_ACCESSIBLE,
                tags: instance_tags(&cluster_tags),
            },
            capacity: capacity.map(|choice| capacity::describe(&choice.scaling)),
            capacity_note: capacity.and_then(|choice| choice.note.clone()),
            cluster_id,
        });
    }
    planned
}

/// The pool judged by the deployment's own maximum copy age: what counts as obsolete never
/// depends on one request's `MaxCopyAge`.
fn pool_by_stack_age(
    inventory: &Inventory,
    root: &ClusterInfo,
    config: &Config,
    now: DateTime<Utc>,
) -> PoolView {
    PoolView::build(
        inventory,
        root,
        &config.stack_name,
        config.max_clones_per_source,
        FreshnessRule {
            max_copy_age: config.max_copy_age,
            created_since: None,
        },
        now,
    )
}

/// Obsolete copies to delete, never `keep` (the source a clone is about to use).
/// A clone that must wait for a copy is usable hours later: a requester that gives up
/// after an hour cannot be answered when it is ready, so such a request is refused before
/// anything is made, with the way out.
fn check_the_requester_can_wait(
    request: &CloneRequest,
    choice: &SourceChoice,
    root_id: &str,
) -> Result<(), PlanError> {
    if !request.requester_waits_at_most_an_hour || !request.properties.wait_for_ready {
        return Ok(());
    }
    let copy_word = match choice {
        SourceChoice::Ready { .. } => return Ok(()),
        SourceChoice::AwaitCopy { copy } => format!("copy {} (still being made)", copy.cluster_id),
        SourceChoice::MakeCopy => "a new full copy".to_string(),
    };
    Err(PlanError::CopyTooSlowToWaitFor {
        root_id: root_id.to_string(),
        copy_word,
    })
}

pub fn plan_purges(pool: &PoolView, inventory: &Inventory, keep: Option<&str>) -> Vec<PurgePlan> {
    pool.obsolete_copies()
        .filter(|copy| Some(copy.cluster_id.as_str()) != keep)
        .map(|copy| PurgePlan {
            cluster_id: copy.cluster_id.clone(),
            arn: copy.arn.clone(),
            instance_ids: inventory
                .cluster(&copy.cluster_id)
                .map(|cluster| {
                    cluster
                        .members
                        .iter()
                        .map(|member| member.instance_id.clone())
                        .collect()
                })
                .unwrap_or_default(),
            reason: if copy.status.is_failed() {
                format!("it is {}: it will never take clones", copy.status)
            } else {
                format!(
                    "data is {} old, past the maximum copy age",
                    copy.age_seconds
                        .map(|seconds| aurora_clone_model::time::format_duration(
                            TimeDelta::seconds(seconds)
                        ))
                        .unwrap_or_else(|| "of unknown age".to_string())
                )
            },
        })
        .collect()
}

fn plan_password(
    properties: &CloneProperties,
    config: &Config,
    root: &ClusterInfo,
    cluster_id: &str,
    now: DateTime<Utc>,
) -> PasswordPlan {
    let prefix = properties
        .secret_prefix
        .clone()
        .unwrap_or_else(|| config.default_secret_prefix.clone());
    let mut ownership = Tags::new();
    ownership.insert(tags::STACK.into(), config.stack_name.clone());
    ownership.insert(tags::CLUSTER.into(), cluster_id.to_string());
    let shared = |key_id: &str, from_property: bool| KeyPlan::Shared {
        key_id: key_id.to_string(),
        grant_name: naming::grant_name(&config.stack_name, cluster_id),
        from_property,
    };
    let key = match (
        &properties.kms_key_id,
        properties.force_create_kms_key,
        &config.default_kms_key_id,
    ) {
        (Some(key_id), _, _) => shared(key_id, true),
        (None, false, Some(default_key)) => shared(default_key, false),
        (None, _, _) => {
            let mut key_tags = ownership.clone();
            key_tags.insert(tags::DISPOSABLE.into(), "true".into());
            KeyPlan::Disposable {
                alias: naming::disposable_key_alias(&config.stack_name, cluster_id),
                description: format!(
                    "Password of Aurora clone {cluster_id} (aurora-clone-manager {})",
                    config.stack_name
                ),
                tags: key_tags,
            }
        }
    };
    PasswordPlan {
        secret_name: naming::secret_name(&prefix, &config.stack_name, cluster_id, now),
        secret_tags: ownership,
        key,
        principals: properties.access_principal_arns.clone(),
        master_username: root
            .master_username
            .clone()
            .unwrap_or_else(|| "postgres".to_string()),
        engine: root.engine.clone(),
        database_name: root.database_name.clone(),
    }
}
