//! The fake RDS: clusters, instances, clone groups and status transitions, including
//! stopped clusters (which AWS refuses to delete), what a restore does not inherit, and
//! renames, whose endpoints stop answering for a while on the fake's clock.

use crate::ClusterStatus;
use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::{FakeAws, State, not_found};
use crate::{
    AwsError, AwsErrorKind, ClusterInfo, ClusterMember, ClusterPage, InstanceInfo, InstanceRequest,
    Rds, RestoreRequest, RestoreType, SecretString, Tags,
};
use aurora_clone_model::rules;

/// AWS's limit of copy-on-write clones per cluster volume.
const AWS_CLONE_LIMIT: usize = 15;

/// Aurora starts a cluster that has been stopped for seven days again by itself (Aurora user
/// guide, "Stopping and starting an Amazon Aurora DB cluster",
/// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-cluster-stop-start.html;
/// DescribeDBClusters shows the moment as `AutomaticRestartTime`).
const AUTOMATIC_RESTART_AFTER: TimeDelta = TimeDelta::days(7);

/// How long a renamed cluster stays `renaming` before its new endpoint answers. AWS gives
/// "about two minutes" for the new DNS name of a renamed Multi-AZ DB cluster (RDS user
/// guide, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-cluster-rename.html);
/// for an Aurora cluster the delay is unverified and the same value is used.
pub const CLUSTER_RENAME_TAKES: TimeDelta = TimeDelta::minutes(2);

#[derive(Default)]
pub(super) struct RdsState {
    clusters: BTreeMap<String, FakeCluster>,
    instances: BTreeMap<String, FakeInstance>,
    silent_full_copies: Vec<String>,
    restores: Vec<RestoreRequest>,
    password_changes: Vec<(String, String)>,
    final_snapshots: Vec<String>,
}

struct FakeCluster {
    info: ClusterInfo,
    /// Describe calls left before the current transition completes.
    countdown: u32,
    master_password: Option<String>,
    /// A password change accepted by ModifyDBCluster and not applied yet.
    pending_password: Option<String>,
    /// When the cluster was stopped, for the automatic restart.
    stopped_at: Option<DateTime<Utc>>,
    /// While `renaming`: when the new name is in effect.
    renamed_at: Option<DateTime<Utc>>,
}

struct FakeInstance {
    info: InstanceInfo,
    tags: Tags,
    countdown: u32,
}

/// A cluster to seed the fake with (a root that exists before the test).
#[derive(Debug, Clone)]
pub struct FakeClusterSeed {
    pub id: String,
    pub engine: String,
    pub instance_class: Option<String>,
    pub tags: Tags,
    pub clone_group_id: Option<String>,
}

impl FakeClusterSeed {
    /// An available Aurora PostgreSQL cluster with one writer instance.
    pub fn root(id: &str) -> FakeClusterSeed {
        FakeClusterSeed {
            id: id.to_string(),
            engine: "aurora-postgresql".into(),
            instance_class: Some("db.r6g.large".into()),
            tags: Tags::new(),
            clone_group_id: None,
        }
    }
}

impl FakeAws {
    /// Adds an available cluster (and its writer instance) that exists before the test.
    pub fn seed_cluster(&self, seed: FakeClusterSeed) -> ClusterInfo {
        let now = self.now();
        let mut state = self.lock();
        let account = state.settings.account_id.clone();
        let region = state.settings.region.clone();
        let mut info = new_cluster_info(&seed.id, &seed.engine, &account, &region, now);
        info.resource_id = Some(resource_id(state.next_sequence()));
        info.status = ClusterStatus::Available;
        info.tags = seed.tags.clone();
        info.clone_group_id = seed.clone_group_id.clone();
        state.rds.clusters.insert(
            seed.id.clone(),
            FakeCluster {
                info: info.clone(),
                countdown: 0,
                master_password: Some("root-password".into()),
                pending_password: None,
                stopped_at: None,
                renamed_at: None,
            },
        );
        if let Some(class) = seed.instance_class {
            let instance_id = format!("{}-writer", seed.id);
            let mut instance = new_instance_info(
                &instance_id,
                &seed.id,
                &class,
                &seed.engine,
                &account,
                &region,
            );
            instance.status = "available".into();
            state.rds.instances.insert(
                instance_id,
                FakeInstance {
                    info: instance,
                    tags: Tags::new(),
                    countdown: 0,
                },
            );
        }
        drop(state);
        self.cluster_snapshot(&seed.id).expect("just seeded")
    }

    /// A cluster as DescribeDBClusters would show it, without counting as a describe.
    pub fn cluster_snapshot(&self, cluster_id: &str) -> Option<ClusterInfo> {
        let state = self.lock();
        state
            .rds
            .clusters
            .get(cluster_id)
            .map(|cluster| with_members(&state.rds, &cluster.info))
    }

    /// Every cluster, without counting as a describe.
    pub fn all_clusters(&self) -> Vec<ClusterInfo> {
        let state = self.lock();
        let members = members_by_cluster(&state.rds);
        state
            .rds
            .clusters
            .values()
            .map(|cluster| with_members_from(&members, &cluster.info))
            .collect()
    }

    /// An instance's tags, without counting as a call.
    pub fn instance_tags(&self, instance_id: &str) -> Option<Tags> {
        self.lock()
            .rds
            .instances
            .get(instance_id)
            .map(|instance| instance.tags.clone())
    }

    /// Every instance, without counting as a describe.
    pub fn all_instances(&self) -> Vec<InstanceInfo> {
        self.lock()
            .rds
            .instances
            .values()
            .map(|instance| instance.info.clone())
            .collect()
    }

    /// The master password a cluster has now, once a change is applied (fake only: AWS
    /// never shows it).
    pub fn master_password(&self, cluster_id: &str) -> Option<String> {
        self.lock()
            .rds
            .clusters
            .get(cluster_id)
            .and_then(|cluster| cluster.master_password.clone())
    }

    /// Every ModifyDBCluster password change seen: (cluster id, password).
    pub fn password_changes(&self) -> Vec<(String, String)> {
        self.lock().rds.password_changes.clone()
    }

    /// Restores that AWS silently turned into full copies because the source had 15 clones.
    pub fn silent_full_copies(&self) -> Vec<String> {
        self.lock().rds.silent_full_copies.clone()
    }

    /// Final snapshots requested by cluster deletions so far.
    pub fn final_snapshots(&self) -> Vec<String> {
        self.lock().rds.final_snapshots.clone()
    }

    /// Every restore request accepted so far.
    pub fn restores(&self) -> Vec<RestoreRequest> {
        self.lock().rds.restores.clone()
    }

    /// Sets a cluster's status directly (for example to keep it `creating`), and how many
    /// describes it keeps it for.
    pub fn set_cluster_status(&self, cluster_id: &str, status: ClusterStatus, describes: u32) {
        if let Some(cluster) = self.lock().rds.clusters.get_mut(cluster_id) {
            cluster.info.status = status;
            cluster.countdown = describes;
        }
    }

    /// One describe's worth of progress for every pending transition, without counting a
    /// call (tests use it to let deletions complete).
    pub async fn describe_for_test(&self) {
        let now = self.now();
        tick(&mut self.lock(), now);
    }

    /// Changes a cluster as someone outside the test's subject would (a root's settings, a
    /// scaling configuration); its members are not touched.
    pub fn modify_cluster(&self, cluster_id: &str, change: impl FnOnce(&mut ClusterInfo)) {
        if let Some(cluster) = self.lock().rds.clusters.get_mut(cluster_id) {
            change(&mut cluster.info);
        }
    }

    /// Changes an instance as someone outside the test's subject would.
    pub fn modify_instance(&self, instance_id: &str, change: impl FnOnce(&mut InstanceInfo)) {
        if let Some(instance) = self.lock().rds.instances.get_mut(instance_id) {
            change(&mut instance.info);
        }
    }

    /// Stops an available cluster as StopDBCluster does (a person stopping a dev clone): it
    /// is `stopping` for `describes` describes, then `stopped` with its instances. Aurora
    /// starts it again by itself after seven days. Panics if the cluster is not available.
    pub fn stop_cluster(&self, cluster_id: &str, describes: u32) {
        let now = self.now();
        let mut state = self.lock();
        let rds = &mut state.rds;
        let cluster = rds
            .clusters
            .get_mut(cluster_id)
            .unwrap_or_else(|| panic!("no cluster {cluster_id} to stop"));
        assert!(
            cluster.info.is_available(),
            "StopDBCluster needs an available cluster; {cluster_id} is {}",
            cluster.info.status
        );
        cluster.info.status = ClusterStatus::Stopping;
        cluster.countdown = describes;
        cluster.stopped_at = Some(now);
        for instance in rds.instances.values_mut() {
            if instance.info.cluster_id.as_deref() == Some(cluster_id) {
                instance.info.status = "stopping".into();
            }
        }
    }

    /// Whether a database endpoint answers connections now: some cluster has this writer
    /// (or reader) endpoint, the cluster is not being renamed, stopped, created or deleted,
    /// and its writer instance is available.
    /// The old hostname of a renamed cluster answers no more at once; the new one answers
    /// once the rename is in effect. Read on the fake's clock; counts no call.
    pub fn endpoint_answers(&self, host: &str) -> bool {
        let now = self.now();
        let state = self.lock();
        let rds = &state.rds;
        let settled = |status: &str, renamed_at: Option<DateTime<Utc>>| match status {
            "available" => true,
            "renaming" => renamed_at.is_some_and(|at| now >= at),
            _ => false,
        };
        let Some(cluster) = rds.clusters.values().find(|cluster| {
            cluster.info.endpoint.as_deref() == Some(host)
                || cluster.info.reader_endpoint.as_deref() == Some(host)
        }) else {
            return false;
        };
        if !settled(cluster.info.status.as_str(), cluster.renamed_at) {
            return false;
        }
        let members = with_members(rds, &cluster.info);
        let Some(writer) = members
            .writer_instance_id()
            .and_then(|id| rds.instances.get(id))
        else {
            return false;
        };
        writer.info.status == "available"
    }

    /// Puts a cluster into a clone group (as AWS shows a source once it has been cloned).
    pub fn set_clone_group(&self, cluster_id: &str, group: &str) {
        if let Some(cluster) = self.lock().rds.clusters.get_mut(cluster_id) {
            cluster.info.clone_group_id = Some(group.to_string());
        }
    }

    /// Removes a cluster and its instances at once, as if someone else deleted it.
    pub fn remove_cluster(&self, cluster_id: &str) {
        let mut state = self.lock();
        state.rds.clusters.remove(cluster_id);
        state
            .rds
            .instances
            .retain(|_, instance| instance.info.cluster_id.as_deref() != Some(cluster_id));
    }
}

fn new_cluster_info(
    id: &str,
    engine: &str,
    account: &str,
    region: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ClusterInfo {
    ClusterInfo {
        id: id.to_string(),
        arn: format!("arn:aws:rds:{region}:{account}:cluster:{id}"),
        status: "creating".into(),
        pending_master_password: false,
        engine: engine.to_string(),
        engine_version: Some("15.4".into()),
        created_at: Some(now),
        tags: Tags::new(),
        members: Vec::new(),
        clone_group_id: None,
        endpoint: Some(format!("{id}.cluster-fake.{region}.rds.amazonaws.com")),
        reader_endpoint: Some(format!("{id}.cluster-ro-fake.{region}.rds.amazonaws.com")),
        port: Some(engine_default_port(engine)),
        master_username: Some("postgres".into()),
        database_name: Some("app".into()),
        db_subnet_group: Some("default".into()),
        vpc_security_group_ids: vec!["sg-0fake".into()],
        db_cluster_parameter_group: Some(format!("default.{engine}")),
        iam_database_authentication_enabled: false,
        storage_type: Some("aurora".into()),
        enabled_cloudwatch_logs_exports: Vec::new(),
        serverless_v2_scaling: None,
        resource_id: None,
    }
}

/// A `DbClusterResourceId` in AWS's shape: `cluster-` and 26 upper-case letters and digits.
fn resource_id(sequence: u64) -> String {
    format!("cluster-FAKE{sequence:022}")
}

/// The port a new cluster gets when the request names none: the engine's, not the source's
/// (RestoreDBClusterToPointInTime `Port`: "Default: The default port for the engine").
fn engine_default_port(engine: &str) -> i32 {
    if engine.contains("mysql") || engine == "aurora" {
        3306
    } else {
        5432
    }
}

fn new_instance_info(
    id: &str,
    cluster_id: &str,
    class: &str,
    engine: &str,
    account: &str,
    region: &str,
) -> InstanceInfo {
    InstanceInfo {
        id: id.to_string(),
        arn: format!("arn:aws:rds:{region}:{account}:db:{id}"),
        cluster_id: Some(cluster_id.to_string()),
        status: "creating".into(),
        instance_class: class.to_string(),
        engine: engine.to_string(),
        endpoint: Some(format!("{id}.fake.{region}.rds.amazonaws.com")),
        port: Some(engine_default_port(engine)),
        db_parameter_group: Some(format!("default.{engine}")),
        publicly_accessible: false,
    }
}

fn with_members(rds: &RdsState, info: &ClusterInfo) -> ClusterInfo {
    with_members_from(&members_by_cluster(rds), info)
}

/// Every cluster's member instances, from one pass over the instances (the first one is
/// the writer).
fn members_by_cluster(rds: &RdsState) -> HashMap<&str, Vec<ClusterMember>> {
    let mut members: HashMap<&str, Vec<ClusterMember>> = HashMap::new();
    for instance in rds.instances.values() {
        if let Some(cluster_id) = instance.info.cluster_id.as_deref() {
            let list = members.entry(cluster_id).or_default();
            list.push(ClusterMember {
                instance_id: instance.info.id.clone(),
                is_writer: list.is_empty(),
            });
        }
    }
    members
}

fn with_members_from(
    members: &HashMap<&str, Vec<ClusterMember>>,
    info: &ClusterInfo,
) -> ClusterInfo {
    let mut info = info.clone();
    info.members = members.get(info.id.as_str()).cloned().unwrap_or_default();
    info
}

/// One describe call: every pending transition moves one step.
fn tick(state: &mut State, now: DateTime<Utc>) {
    let rds = &mut state.rds;
    let mut gone_clusters = Vec::new();
    // Instances follow their cluster through stop and start.
    let mut instance_status_by_cluster: HashMap<String, &'static str> = HashMap::new();
    for cluster in rds.clusters.values_mut() {
        if cluster.info.status == ClusterStatus::Renaming {
            if cluster.renamed_at.is_some_and(|at| now >= at) {
                cluster.info.status = ClusterStatus::Available;
                cluster.renamed_at = None;
            }
            continue;
        }
        if cluster.info.status == ClusterStatus::Stopped
            && cluster
                .stopped_at
                .is_some_and(|stopped_at| now - stopped_at >= AUTOMATIC_RESTART_AFTER)
        {
            cluster.info.status = ClusterStatus::Starting;
            cluster.stopped_at = None;
            instance_status_by_cluster.insert(cluster.info.id.clone(), "starting");
            continue;
        }
        if cluster.countdown > 0 {
            cluster.countdown -= 1;
            continue;
        }
        if cluster.info.pending_master_password {
            cluster.info.pending_master_password = false;
            cluster.master_password = cluster.pending_password.take();
            cluster.info.status = ClusterStatus::ResettingMasterCredentials;
            cluster.countdown = 1;
            continue;
        }
        match cluster.info.status {
            ClusterStatus::Creating
            | ClusterStatus::ResettingMasterCredentials
            | ClusterStatus::Modifying => {
                cluster.info.status = ClusterStatus::Available;
            }
            ClusterStatus::Stopping => {
                cluster.info.status = ClusterStatus::Stopped;
                instance_status_by_cluster.insert(cluster.info.id.clone(), "stopped");
            }
            ClusterStatus::Starting => {
                cluster.info.status = ClusterStatus::Available;
                instance_status_by_cluster.insert(cluster.info.id.clone(), "available");
            }
            ClusterStatus::Deleting => gone_clusters.push(cluster.info.id.clone()),
            _ => {}
        }
    }
    for id in gone_clusters {
        rds.clusters.remove(&id);
    }
    for instance in rds.instances.values_mut() {
        if let Some(status) = instance
            .info
            .cluster_id
            .as_ref()
            .and_then(|id| instance_status_by_cluster.get(id))
            && instance.info.status != "deleting"
        {
            instance.info.status = (*status).to_string();
        }
    }
    let available_clusters: HashSet<String> = rds
        .clusters
        .values()
        .filter(|cluster| cluster.info.is_available())
        .map(|cluster| cluster.info.id.clone())
        .collect();
    let mut gone_instances = Vec::new();
    for instance in rds.instances.values_mut() {
        let cluster_ready = instance
            .info
            .cluster_id
            .as_ref()
            .is_some_and(|id| available_clusters.contains(id));
        match instance.info.status.as_str() {
            "creating" if cluster_ready => {
                if instance.countdown > 0 {
                    instance.countdown -= 1;
                } else {
                    instance.info.status = "available".into();
                }
            }
            "deleting" => {
                if instance.countdown > 0 {
                    instance.countdown -= 1;
                } else {
                    gone_instances.push(instance.info.id.clone());
                }
            }
            _ => {}
        }
    }
    for id in gone_instances {
        rds.instances.remove(&id);
    }
}

/// The ARN of a renamed resource: the identifier is its last part
/// (`arn:aws:rds:<region>:<account>:cluster:<id>`, `...:db:<id>`).
fn rename_arn(arn: &str, old_id: &str, new_id: &str) -> String {
    match arn.strip_suffix(old_id) {
        Some(base) => format!("{base}{new_id}"),
        None => arn.to_string(),
    }
}

fn cluster_not_found(operation: &'static str, id: &str) -> AwsError {
    not_found(operation, format!("DBCluster {id} not found."))
}

#[async_trait]
impl Rds for FakeAws {
    async fn describe_clusters_page(
        &self,
        marker: Option<String>,
        max_records: i32,
    ) -> Result<ClusterPage, AwsError> {
        const OPERATION: &str = crate::operations::RDS_DESCRIBE_DB_CLUSTERS.name;
        self.enter(OPERATION).await?;
        if !(20..=100).contains(&max_records) {
            return Err(AwsError::new(
                AwsErrorKind::InvalidRequest,
                OPERATION,
                "MaxRecords must be between 20 and 100",
            ));
        }
        let now = self.now();
        let mut state = self.lock();
        tick(&mut state, now);
        let start = match &marker {
            None => 0,
            Some(marker) => marker.parse::<usize>().map_err(|_| {
                AwsError::new(AwsErrorKind::InvalidRequest, OPERATION, "invalid marker")
            })?,
        };
        // Page first, then fill in members for that page only: a large fake account stays
        // cheap to list.
        let total = state.rds.clusters.len();
        let end = (start + max_records as usize).min(total);
        let members = members_by_cluster(&state.rds);
        let page: Vec<ClusterInfo> = state
            .rds
            .clusters
            .values()
            .skip(start)
            .take(end.saturating_sub(start))
            .map(|cluster| with_members_from(&members, &cluster.info))
            .collect();
        Ok(ClusterPage {
            clusters: page,
            marker: (end < total).then(|| end.to_string()),
        })
    }

    async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError> {
        self.enter(crate::operations::RDS_DESCRIBE_DB_CLUSTERS.name)
            .await?;
        let now = self.now();
        let mut state = self.lock();
        tick(&mut state, now);
        Ok(state
            .rds
            .clusters
            .get(cluster_id)
            .map(|cluster| with_members(&state.rds, &cluster.info)))
    }

    async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError> {
        self.enter(crate::operations::RDS_DESCRIBE_DB_INSTANCES.name)
            .await?;
        let now = self.now();
        let mut state = self.lock();
        tick(&mut state, now);
        Ok(state
            .rds
            .instances
            .get(instance_id)
            .map(|instance| instance.info.clone()))
    }

    async fn describe_cluster_instances(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError> {
        self.enter(crate::operations::RDS_DESCRIBE_DB_INSTANCES.name)
            .await?;
        let now = self.now();
        let mut state = self.lock();
        tick(&mut state, now);
        Ok(state
            .rds
            .instances
            .values()
            .filter(|instance| instance.info.cluster_id.as_deref() == Some(cluster_id))
            .map(|instance| instance.info.clone())
            .collect())
    }

    async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError> {
        const OPERATION: &str = crate::operations::RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME.name;
        self.enter(OPERATION).await?;
        rules::check_restore_request(request)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        let now = self.now();
        let mut state = self.lock();
        if state.rds.clusters.contains_key(&request.cluster_id) {
            return Err(AwsError::new(
                AwsErrorKind::AlreadyExists,
                OPERATION,
                format!("DB Cluster {} already exists", request.cluster_id),
            ));
        }
        let Some(source) = state.rds.clusters.get(&request.source_cluster_id) else {
            return Err(cluster_not_found(OPERATION, &request.source_cluster_id));
        };
        if !source.info.status.is_cloneable() {
            return Err(AwsError::new(
                AwsErrorKind::InvalidState,
                OPERATION,
                format!(
                    "DB cluster {} is not in a state that can be restored from ({})",
                    source.info.id, source.info.status
                ),
            ));
        }
        if let Some(scaling) = &request.settings.serverless_v2_scaling {
            rules::check_serverless_scaling(scaling)
                .and_then(|()| {
                    rules::check_scale_to_zero(
                        &source.info.engine,
                        source.info.engine_version.as_deref(),
                        scaling
                            .min_capacity
                            .unwrap_or(rules::MIN_ACU_WITHOUT_AUTO_PAUSE),
                    )
                })
                .map_err(|refused| refused.into_aws_error(OPERATION))?;
        }
        let source_info = source.info.clone();
        let source_password = source.master_password.clone();
        let account = state.settings.account_id.clone();
        let region = state.settings.region.clone();
        let countdown = state.settings.describes_until_available;
        let mut info = new_cluster_info(
            &request.cluster_id,
            &source_info.engine,
            &account,
            &region,
            now,
        );
        info.resource_id = Some(resource_id(state.next_sequence()));
        info.tags = request.tags.clone();
        info.master_username = source_info.master_username.clone();
        info.database_name = source_info.database_name.clone();
        // What AWS does not carry over from the source unless the request says so.
        let settings = &request.settings;
        if let Some(port) = settings.port {
            info.port = Some(port);
        }
        info.iam_database_authentication_enabled = settings.enable_iam_database_authentication;
        if let Some(storage_type) = &settings.storage_type {
            info.storage_type = Some(storage_type.clone());
        }
        info.enabled_cloudwatch_logs_exports = settings.enable_cloudwatch_logs_exports.clone();
        // DescribeDBClusters shows SecondsUntilAutoPause only while the minimum is 0
        // (ServerlessV2ScalingConfigurationInfo).
        info.serverless_v2_scaling = settings.serverless_v2_scaling.map(|mut scaling| {
            if scaling.min_capacity != Some(0.0) {
                scaling.seconds_until_auto_pause = None;
            }
            scaling
        });
        // A restore keeps its source's engine version.
        info.engine_version = source_info.engine_version.clone();
        if let Some(group) = &request.db_subnet_group_name {
            info.db_subnet_group = Some(group.clone());
        }
        if !request.vpc_security_group_ids.is_empty() {
            info.vpc_security_group_ids = request.vpc_security_group_ids.clone();
        }
        if let Some(group) = &request.db_cluster_parameter_group_name {
            info.db_cluster_parameter_group = Some(group.clone());
        }
        let sequence = state.next_sequence();
        match request.restore_type {
            RestoreType::FullCopy => {
                info.clone_group_id = None;
            }
            RestoreType::CopyOnWrite => {
                let group = source_info
                    .clone_group_id
                    .clone()
                    .unwrap_or_else(|| format!("clone-group-{sequence}"));
                let group_size = state
                    .rds
                    .clusters
                    .values()
                    .filter(|cluster| {
                        cluster.info.clone_group_id.as_deref() == Some(group.as_str())
                    })
                    .filter(|cluster| cluster.info.id != source_info.id)
                    .count();
                if group_size >= AWS_CLONE_LIMIT {
                    // What AWS does, without an error: the 16th clone becomes a full copy.
                    info.clone_group_id = Some(format!("clone-group-{sequence}-full"));
                    state
                        .rds
                        .silent_full_copies
                        .push(request.cluster_id.clone());
                } else {
                    if let Some(source) = state.rds.clusters.get_mut(&source_info.id) {
                        source.info.clone_group_id = Some(group.clone());
                    }
                    info.clone_group_id = Some(group);
                }
            }
        }
        state.rds.restores.push(request.clone());
        state.rds.clusters.insert(
            request.cluster_id.clone(),
            FakeCluster {
                info: info.clone(),
                countdown,
                master_password: source_password,
                pending_password: None,
                stopped_at: None,
                renamed_at: None,
            },
        );
        Ok(info)
    }

    async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError> {
        const OPERATION: &str = crate::operations::RDS_CREATE_DB_INSTANCE.name;
        self.enter(OPERATION).await?;
        rules::check_instance_request(request)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        let mut state = self.lock();
        if state.rds.instances.contains_key(&request.instance_id) {
            return Err(AwsError::new(
                AwsErrorKind::AlreadyExists,
                OPERATION,
                format!("DB instance {} already exists", request.instance_id),
            ));
        }
        let Some(cluster) = state.rds.clusters.get(&request.cluster_id) else {
            return Err(cluster_not_found(OPERATION, &request.cluster_id));
        };
        let cluster_status = cluster.info.status.clone();
        if cluster_status == ClusterStatus::Deleting {
            return Err(AwsError::new(
                AwsErrorKind::InvalidState,
                OPERATION,
                format!("DB cluster {} is {cluster_status}", request.cluster_id),
            ));
        }
        if !state.settings.instances_wait_for_cluster {
            rules::check_cluster_takes_instances(&request.cluster_id, &cluster_status)
                .map_err(|refused| refused.into_aws_error(OPERATION))?;
        }
        rules::check_serverless_instance(
            &request.instance_class,
            &request.cluster_id,
            cluster.info.serverless_v2_scaling.is_some(),
        )
        .map_err(|refused| refused.into_aws_error(OPERATION))?;
        let account = state.settings.account_id.clone();
        let region = state.settings.region.clone();
        let mut info = new_instance_info(
            &request.instance_id,
            &request.cluster_id,
            &request.instance_class,
            &request.engine,
            &account,
            &region,
        );
        if let Some(group) = &request.db_parameter_group_name {
            info.db_parameter_group = Some(group.clone());
        }
        info.publicly_accessible = request.publicly_accessible;
        let countdown = state.settings.describes_until_available;
        state.rds.instances.insert(
            request.instance_id.clone(),
            FakeInstance {
                info: info.clone(),
                tags: request.tags.clone(),
                countdown,
            },
        );
        Ok(info)
    }

    async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError> {
        self.enter(crate::operations::RDS_DELETE_DB_INSTANCE.name)
            .await?;
        let mut state = self.lock();
        let countdown = state.settings.describes_until_available;
        if let Some(instance) = state.rds.instances.get_mut(instance_id)
            && instance.info.status != "deleting"
        {
            instance.info.status = "deleting".into();
            instance.countdown = countdown;
        }
        Ok(())
    }

    async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_START_DB_CLUSTER.name;
        self.enter(OPERATION).await?;
        let mut state = self.lock();
        let countdown = state.settings.describes_until_available;
        let rds = &mut state.rds;
        let Some(cluster) = rds.clusters.get_mut(cluster_id) else {
            return Err(cluster_not_found(OPERATION, cluster_id));
        };
        rules::check_cluster_startable(cluster_id, &cluster.info.status)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        cluster.info.status = ClusterStatus::Starting;
        cluster.countdown = countdown;
        cluster.stopped_at = None;
        for instance in rds.instances.values_mut() {
            if instance.info.cluster_id.as_deref() == Some(cluster_id) {
                instance.info.status = "starting".into();
            }
        }
        Ok(())
    }

    async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_STOP_DB_CLUSTER.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let mut state = self.lock();
        let countdown = state.settings.describes_until_available;
        let rds = &mut state.rds;
        let Some(cluster) = rds.clusters.get_mut(cluster_id) else {
            return Err(cluster_not_found(OPERATION, cluster_id));
        };
        rules::check_cluster_stoppable(cluster_id, &cluster.info.status)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        cluster.info.status = ClusterStatus::Stopping;
        cluster.countdown = countdown;
        cluster.stopped_at = Some(now);
        for instance in rds.instances.values_mut() {
            if instance.info.cluster_id.as_deref() == Some(cluster_id) {
                instance.info.status = "stopping".into();
            }
        }
        Ok(())
    }

    async fn delete_cluster(
        &self,
        cluster_id: &str,
        final_snapshot_id: Option<&str>,
    ) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_DELETE_DB_CLUSTER.name;
        self.enter(OPERATION).await?;
        let mut state = self.lock();
        let live_instances = state
            .rds
            .instances
            .values()
            .filter(|instance| instance.info.cluster_id.as_deref() == Some(cluster_id))
            .any(|instance| instance.info.status != "deleting");
        let countdown = state.settings.describes_until_available;
        let Some(cluster) = state.rds.clusters.get_mut(cluster_id) else {
            return Ok(());
        };
        if cluster.info.status == ClusterStatus::Deleting {
            return Ok(());
        }
        rules::check_cluster_deletable(cluster_id, &cluster.info.status)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        if live_instances {
            return Err(AwsError::new(
                AwsErrorKind::InvalidState,
                OPERATION,
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
            ));
        }
        cluster.info.status = ClusterStatus::Deleting;
        cluster.countdown = countdown;
        if let Some(snapshot) = final_snapshot_id {
            state.rds.final_snapshots.push(snapshot.to_string());
        }
        Ok(())
    }

    async fn set_master_password(
        &self,
        cluster_id: &str,
        password: &SecretString,
    ) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_MODIFY_DB_CLUSTER.name;
        self.enter(OPERATION).await?;
        let mut state = self.lock();
        let countdown = state.settings.describes_until_available;
        let Some(cluster) = state.rds.clusters.get_mut(cluster_id) else {
            return Err(cluster_not_found(OPERATION, cluster_id));
        };
        rules::check_master_password(&cluster.info.engine, password.expose())
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        if cluster.info.status != ClusterStatus::Available {
            return Err(AwsError::new(
                AwsErrorKind::InvalidState,
                OPERATION,
                format!("DB cluster {cluster_id} is {}", cluster.info.status),
            ));
        }
        cluster.pending_password = Some(password.expose().to_string());
        // AWS may go on reporting `available` for a while after ModifyDBCluster, with the
        // change only listed in PendingModifiedValues; then `resetting-master-credentials`.
        cluster.info.pending_master_password = true;
        cluster.countdown = countdown;
        state
            .rds
            .password_changes
            .push((cluster_id.to_string(), password.expose().to_string()));
        Ok(())
    }

    async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_MODIFY_DB_CLUSTER.name;
        self.enter(OPERATION).await?;
        rules::check_new_cluster_identifier(new_cluster_id)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        // RDS stores the new identifier in lower case.
        let new_id = new_cluster_id.to_ascii_lowercase();
        let now = self.now();
        let mut state = self.lock();
        let region = state.settings.region.clone();
        let rds = &mut state.rds;
        let Some(cluster) = rds.clusters.get(cluster_id) else {
            return Err(cluster_not_found(OPERATION, cluster_id));
        };
        rules::check_cluster_renamable(
            cluster_id,
            &cluster.info.status,
            &new_id,
            rds.clusters.contains_key(&new_id),
        )
        .map_err(|refused| refused.into_aws_error(OPERATION))?;
        let mut cluster = rds.clusters.remove(cluster_id).expect("looked up above");
        let info = &mut cluster.info;
        info.arn = rename_arn(&info.arn, cluster_id, &new_id);
        info.endpoint = Some(format!("{new_id}.cluster-fake.{region}.rds.amazonaws.com"));
        info.reader_endpoint = Some(format!(
            "{new_id}.cluster-ro-fake.{region}.rds.amazonaws.com"
        ));
        info.id = new_id.clone();
        info.status = ClusterStatus::Renaming;
        cluster.renamed_at = Some(now + CLUSTER_RENAME_TAKES);
        rds.clusters.insert(new_id.clone(), cluster);
        // The instances stay members of the renamed cluster.
        for instance in rds.instances.values_mut() {
            if instance.info.cluster_id.as_deref() == Some(cluster_id) {
                instance.info.cluster_id = Some(new_id.clone());
            }
        }
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_ADD_TAGS_TO_RESOURCE.name;
        self.enter(OPERATION).await?;
        rules::check_rds_tags(tags).map_err(|refused| refused.into_aws_error(OPERATION))?;
        let mut state = self.lock();
        if let Some(cluster) = state.rds.clusters.values_mut().find(|c| c.info.arn == arn) {
            cluster.info.tags.extend(tags.clone());
            return Ok(());
        }
        if let Some(instance) = state.rds.instances.values_mut().find(|i| i.info.arn == arn) {
            instance.tags.extend(tags.clone());
            return Ok(());
        }
        Err(not_found(OPERATION, format!("{arn} not found")))
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::RDS_REMOVE_TAGS_FROM_RESOURCE.name;
        self.enter(OPERATION).await?;
        let mut state = self.lock();
        if let Some(cluster) = state.rds.clusters.values_mut().find(|c| c.info.arn == arn) {
            for key in keys {
                cluster.info.tags.remove(key);
            }
            return Ok(());
        }
        if let Some(instance) = state.rds.instances.values_mut().find(|i| i.info.arn == arn) {
            for key in keys {
                instance.tags.remove(key);
            }
            return Ok(());
        }
        Err(not_found(OPERATION, format!("{arn} not found")))
    }
}
