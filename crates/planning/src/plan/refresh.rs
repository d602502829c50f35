//! Refresh in place, planned: a clone gets the newest data of its root while keeping its
//! identifier, endpoint hostname and password secret. A new clone is made under a
//! temporary identifier and given the clone's own password; then the old cluster is renamed
//! out of the way and the new one renamed in, and the old one is deleted. Only clusters are
//! renamed: renaming an instance reboots it and its new DNS name takes about ten minutes
//! (RDS user guide, renaming a DB instance), while clients reach a clone through its cluster
//! endpoint. So the new clone's writer keeps an identifier of its own, new for each refresh.
//!
//! The state lives in AWS, so that every step can be replayed after a crash: which of the
//! three names exist (the clone's, the temporary one, the retired one) says how far a
//! refresh got, and the temporary cluster's tags name the clone it replaces, its writer's
//! identifier and whether it has the clone's password yet. [`next_step`] reads those facts
//! and names the one thing to do next.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::plan::choice::{NoCloneSlot, SourceChoice, choose_clone_source};
use crate::plan::inventory::Inventory;
use crate::plan::pool::{FreshnessRule, PoolView, SourceKind};
use aurora_clone_model::config::Config;
use aurora_clone_model::naming;
use aurora_clone_model::tags::{self, LifecycleState, Role};
use aurora_clone_model::time::{compact_timestamp, format_timestamp};
use aurora_clone_model::{
    ClusterInfo, ClusterStatus, InstanceInfo, InstanceRequest, RestoreRequest, RestoreSettings,
    RestoreType, Tags,
};

/// Suffix of the temporary identifier the new clone is made under.
const TEMPORARY_SUFFIX: &str = "next";
/// Suffix of the identifier the old clone and its writer are renamed to before deletion.
const RETIRED_SUFFIX: &str = "old";

/// The names one refresh of a clone uses. They are derived from the clone's identifier only,
/// so a replay finds the same ones, and they keep the clone's prefix (IAM allows renames
/// only within the deployment's name prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshNames {
    pub clone_id: String,
    pub temporary_id: String,
    pub retired_id: String,
}

impl RefreshNames {
    pub fn of(clone_id: &str) -> RefreshNames {
        RefreshNames {
            clone_id: clone_id.to_string(),
            temporary_id: naming::with_suffix(clone_id, TEMPORARY_SUFFIX),
            retired_id: naming::with_suffix(clone_id, RETIRED_SUFFIX),
        }
    }

    /// The writer of the new clone of a refresh started at `now`: the clone's prefix and
    /// the start time, so that no two refreshes of a clone (one at a time, each longer than
    /// a second) ever use the same identifier, and an earlier refresh's writer is never
    /// mistaken for this one's.
    pub fn new_writer_id(clone_id: &str, now: DateTime<Utc>) -> String {
        let started = compact_timestamp(now).to_ascii_lowercase();
        naming::with_suffix(clone_id, &format!("r{started}"))
    }
}

/// A cluster as a refresh step sees it: the cluster and its writer instance.
#[derive(Debug, Clone)]
pub struct Observed {
    pub cluster: ClusterInfo,
    pub writer: Option<InstanceInfo>,
}

impl Observed {
    /// Usable: the cluster and its writer are available, and no password change is pending.
    pub fn is_usable(&self) -> bool {
        self.cluster.is_available()
            && !self.cluster.pending_master_password
            && self.writer.as_ref().is_some_and(InstanceInfo::is_available)
    }

    fn writer_id(&self) -> Option<&str> {
        self.writer
            .as_ref()
            .map(|writer| writer.id.as_str())
            .or_else(|| self.cluster.writer_instance_id())
    }
}

/// What exists under the three names of a refresh, read in one go.
#[derive(Debug, Clone)]
pub struct RefreshFacts {
    pub names: RefreshNames,
    pub clone: Option<Observed>,
    pub temporary: Option<Observed>,
    pub retired: Option<Observed>,
}

/// The one thing a refresh does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "step")]
pub enum RefreshStep {
    /// Make the new clone under the temporary identifier.
    MakeTemporary,
    /// Add the temporary cluster's writer, once the cluster is available.
    AddTemporaryWriter { instance_id: String },
    /// Give the temporary clone the password in the clone's secret, before the swap.
    SetTemporaryPassword,
    /// Wait: `what` is not usable yet.
    Wait { what: String },
    /// The temporary clone cannot become usable: delete it, the old clone stays as it was.
    Abandon { reason: String },
    /// Rename a cluster.
    RenameCluster { from: String, to: String },
    /// The new clone is in place: give it the old clone's tags and the secret its host,
    /// then delete the old one.
    Finish,
    /// Nothing is in progress for this clone.
    Idle,
}

/// Why a refresh cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshPlanError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0} is not a clone of this clone manager")]
    NotOurs(String),
    #[error("{0} has no writer instance to take over")]
    NoWriter(String),
    #[error("the root {0} of the clone does not exist")]
    RootGone(String),
    #[error("no source to refresh from: {0}")]
    NoSlot(String),
    #[error("{0} exists and is not part of a refresh; a refresh needs that name")]
    NameTaken(String),
}

/// The next step of a refresh of `facts.names.clone_id` (see the module header for the
/// order). `refreshing` is true when a new refresh is asked for, false to only continue
/// one in progress.
pub fn next_step(facts: &RefreshFacts, refreshing: bool) -> Result<RefreshStep, RefreshPlanError> {
    let names = &facts.names;
    // Only a temporary clone that says so belongs to this refresh.
    let ours = |observed: &Observed| {
        observed.cluster.tag(tags::REFRESH_OF) == Some(names.clone_id.as_str())
    };
    if let Some(temporary) = &facts.temporary
        && !ours(temporary)
    {
        return Err(RefreshPlanError::NameTaken(temporary.cluster.id.clone()));
    }
    // A retired cluster belongs to this refresh only while the new clone (under either
    // name) still carries the refresh's tag.
    if let Some(retired) = &facts.retired {
        let refresh_in_progress =
            facts.temporary.is_some() || facts.clone.as_ref().is_some_and(ours);
        if !refresh_in_progress {
            return Err(RefreshPlanError::NameTaken(retired.cluster.id.clone()));
        }
    }
    match (&facts.clone, &facts.temporary, &facts.retired) {
        // Half-way through the swap: the old clone is out, the new one goes in.
        (None, Some(temporary), Some(_)) => {
            if !temporary.cluster.is_available() {
                return Ok(wait_for(&temporary.cluster.id));
            }
            Ok(RefreshStep::RenameCluster {
                from: temporary.cluster.id.clone(),
                to: names.clone_id.clone(),
            })
        }
        (None, _, _) => Err(RefreshPlanError::NotFound(names.clone_id.clone())),
        // The new clone is in place, the old one not yet gone.
        (Some(_), None, Some(_)) => Ok(RefreshStep::Finish),
        (Some(clone), None, None) if clone.cluster.tag(tags::REFRESH_OF).is_some() => {
            Ok(RefreshStep::Finish)
        }
        (Some(clone), Some(temporary), None) => {
            if let Some(reason) = failed(temporary) {
                return Ok(RefreshStep::Abandon { reason });
            }
            if temporary.writer_id().is_none() {
                // AWS adds an instance to a restored cluster only once the cluster is
                // available (RestoreDBClusterToPointInTime, API reference).
                if temporary.cluster.status != ClusterStatus::Available {
                    return Ok(wait_for(&temporary.cluster.id));
                }
                let instance_id = temporary
                    .cluster
                    .tag(tags::REFRESH_INSTANCE)
                    .ok_or_else(|| RefreshPlanError::NoWriter(temporary.cluster.id.clone()))?;
                return Ok(RefreshStep::AddTemporaryWriter {
                    instance_id: instance_id.to_string(),
                });
            }
            if !temporary.is_usable() {
                return Ok(wait_for(&temporary.cluster.id));
            }
            // The moment the new clone answers under the clone's name, the secret's
            // password must work on it: it gets the password now, and the swap waits
            // until the change is applied (`is_usable` above).
            if clone.cluster.tag(tags::PASSWORD_SECRET).is_some()
                && temporary.cluster.tag(tags::REFRESH_PASSWORD).is_none()
            {
                return Ok(RefreshStep::SetTemporaryPassword);
            }
            if !clone.cluster.is_available() {
                return Ok(wait_for(&clone.cluster.id));
            }
            Ok(RefreshStep::RenameCluster {
                from: clone.cluster.id.clone(),
                to: names.retired_id.clone(),
            })
        }
        (Some(_), Some(temporary), Some(_)) => Ok(RefreshStep::Abandon {
            reason: format!(
                "{} and {} both exist beside the clone; the temporary one is removed",
                temporary.cluster.id, names.retired_id
            ),
        }),
        (Some(_), None, None) if refreshing => Ok(RefreshStep::MakeTemporary),
        (Some(_), None, None) => Ok(RefreshStep::Idle),
    }
}

fn wait_for(what: &str) -> RefreshStep {
    RefreshStep::Wait {
        what: what.to_string(),
    }
}

/// Why the temporary clone will never be usable, if it will not.
fn failed(temporary: &Observed) -> Option<String> {
    if temporary.cluster.status.is_failed() {
        return Some(format!(
            "{} is '{}'",
            temporary.cluster.id, temporary.cluster.status
        ));
    }
    if temporary.cluster.is_deleting() {
        return Some(format!("{} is being deleted", temporary.cluster.id));
    }
    None
}

/// The new clone to make: its restore and its writer, fully decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryClonePlan {
    pub restore: RestoreRequest,
    pub instance: InstanceRequest,
    pub source_id: String,
    pub data_timestamp: DateTime<Utc>,
}

/// Everything the refresh planner looks at to make the new clone.
#[derive(Debug, Clone, Copy)]
pub struct TemporaryInput<'a> {
    pub clone: &'a ClusterInfo,
    /// The clone's writer: the new writer gets its class, parameter group and public access.
    pub writer: &'a InstanceInfo,
    pub inventory: &'a Inventory,
    pub config: &'a Config,
    pub now: DateTime<Utc>,
}

/// Plans the new clone of a refresh: from the same root, by the same source rule as a new
/// clone (the root, else the freshest fresh copy with a free slot; never a copy still to be
/// made), looking like the old clone (subnet group, security groups, parameter groups, the
/// root's settings), under the temporary identifier. Its tags say it is a refresh of the
/// clone; the clone's own tags (owner, password, expiry, user tags) move over only once it
/// has taken the clone's place, so a refresh abandoned half-way never touches them.
pub fn plan_temporary(input: TemporaryInput<'_>) -> Result<TemporaryClonePlan, RefreshPlanError> {
    let clone = input.clone;
    if tags::managed_role(clone, &input.config.stack_name) != Some(Role::Clone) {
        return Err(RefreshPlanError::NotOurs(clone.id.clone()));
    }
    let root_arn = clone
        .tag(tags::ROOT_ARN)
        .ok_or_else(|| RefreshPlanError::NotOurs(clone.id.clone()))?;
    let root = input
        .inventory
        .cluster_by_arn(root_arn)
        .ok_or_else(|| RefreshPlanError::RootGone(root_arn.to_string()))?;
    let pool = PoolView::build(
        input.inventory,
        root,
        &input.config.stack_name,
        input.config.max_clones_per_source,
        FreshnessRule {
            max_copy_age: input.config.max_copy_age,
            created_since: None,
        },
        input.now,
    );
    let source = match choose_clone_source(&pool, false) {
        Ok(SourceChoice::Ready { source }) => source,
        Ok(_) => unreachable!("without CopyOk the choice is a ready source or no slot"),
        Err(no_slot) => return Err(RefreshPlanError::NoSlot(no_slot_text(&no_slot))),
    };
    let data_timestamp = match source.kind {
        SourceKind::Root => input.now,
        SourceKind::Copy => source.data_timestamp.unwrap_or(input.now),
    };
    let names = RefreshNames::of(&clone.id);
    let mut cluster_tags = Tags::new();
    for key in [tags::ROLE, tags::STACK, tags::ROOT_ARN] {
        if let Some(value) = clone.tag(key) {
            cluster_tags.insert(key.to_string(), value.to_string());
        }
    }
    cluster_tags.insert(tags::SOURCE_ARN.into(), source.arn.clone());
    cluster_tags.insert(
        tags::DATA_TIMESTAMP.into(),
        format_timestamp(data_timestamp),
    );
    // Ready, not pending: the finisher and maintenance must not take it for a clone of
    // theirs to finish; the refresh itself waits for it.
    cluster_tags.insert(tags::STATE.into(), LifecycleState::Ready.as_str().into());
    cluster_tags.insert(tags::REFRESH_OF.into(), clone.id.clone());
    let writer_id = RefreshNames::new_writer_id(&clone.id, input.now);
    cluster_tags.insert(tags::REFRESH_INSTANCE.into(), writer_id.clone());
    let instance_tags: Tags = cluster_tags
        .iter()
        .filter(|(key, _)| [tags::ROLE, tags::STACK, tags::ROOT_ARN].contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    // A clone made with its own Serverless capacity range (ServerlessMinCapacity, ...)
    // keeps it: its writer is db.serverless, which needs a range the root may not have.
    let settings = RestoreSettings {
        serverless_v2_scaling: clone.serverless_v2_scaling.or(root.serverless_v2_scaling),
        ..RestoreSettings::of(root)
    };
    Ok(TemporaryClonePlan {
        restore: RestoreRequest {
            cluster_id: names.temporary_id.clone(),
            source_cluster_id: source.cluster_id.clone(),
            restore_type: RestoreType::CopyOnWrite,
            tags: cluster_tags,
            db_subnet_group_name: clone.db_subnet_group.clone(),
            vpc_security_group_ids: clone.vpc_security_group_ids.clone(),
            db_cluster_parameter_group_name: clone.db_cluster_parameter_group.clone(),
            settings,
        },
        instance: InstanceRequest {
            instance_id: writer_id,
            cluster_id: names.temporary_id,
            instance_class: input.writer.instance_class.clone(),
            engine: clone.engine.clone(),
            db_parameter_group_name: input.writer.db_parameter_group.clone(),
            publicly_accessible: input.writer.publicly_accessible,
            tags: instance_tags,
        },
        source_id: source.cluster_id,
        data_timestamp,
    })
}

fn no_slot_text(no_slot: &NoCloneSlot) -> String {
    no_slot.for_cli()
}

/// The tags the new clone takes over from the old one once it is in its place: all but
/// what describes the new data (source, data timestamp, state) and the refresh's own.
pub fn carried_tags(old: &ClusterInfo) -> Tags {
    old.tags
        .iter()
        .filter(|(key, _)| {
            ![
                tags::SOURCE_ARN,
                tags::DATA_TIMESTAMP,
                tags::STATE,
                tags::REFRESH_OF,
                tags::REFRESH_INSTANCE,
                tags::REFRESH_PASSWORD,
                tags::FULL_COPY_FALLBACK,
            ]
            .contains(&key.as_str())
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The clusters a refresh in progress is working on: each new clone of a refresh (tag
/// `refresh-of`, kept until the old clone is being deleted), the clone it replaces and that
/// clone's retired name. The sweep and maintenance leave them, and the secrets of the
/// clones among them, to the refresh.
pub fn in_refresh(clusters: &[ClusterInfo]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for cluster in clusters {
        if let Some(clone_id) = cluster.tag(tags::REFRESH_OF) {
            ids.insert(cluster.id.clone());
            ids.insert(clone_id.to_string());
            ids.insert(RefreshNames::of(clone_id).retired_id);
        }
    }
    ids
}

/// How many refreshes of one root's clones run at once unless its maintenance entry says
/// (`:max-concurrent-refreshes`): each doubles a clone while it runs.
pub const DEFAULT_MAX_CONCURRENT_REFRESHES: u32 = 2;

/// A root's refresh schedule as the maintenance run applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSchedule {
    pub root_id: String,
    /// Clones whose data is older than this are due.
    pub every: TimeDelta,
    /// At most this many refreshes of the root's clones run at once.
    pub max_concurrent: u32,
}

/// The clones to start a refresh of now: this deployment's available clones of a root with
/// a refresh schedule whose data is older than its period, and which no refresh is under
/// way for (neither a new clone of one nor a refresh's own cluster); oldest data first, and
/// no more per root than its `max_concurrent` less the refreshes of its clones already
/// running.
pub fn due_refreshes(
    clusters: &[ClusterInfo],
    stack_name: &str,
    schedules: &[RefreshSchedule],
    now: DateTime<Utc>,
) -> Vec<String> {
    let root_of = |cluster: &ClusterInfo| {
        cluster
            .tag(tags::ROOT_ARN)
            .and_then(naming::cluster_id_from_arn)
            .map(str::to_string)
    };
    let refreshing = in_refresh(clusters);
    let mut due: Vec<(&ClusterInfo, DateTime<Utc>, &RefreshSchedule)> = clusters
        .iter()
        .filter(|cluster| tags::managed_role(cluster, stack_name) == Some(Role::Clone))
        .filter(|cluster| cluster.is_available() && !refreshing.contains(&cluster.id))
        .filter_map(|cluster| {
            let root_id = root_of(cluster)?;
            let schedule = schedules
                .iter()
                .find(|schedule| schedule.root_id == root_id)?;
            let taken = crate::plan::inventory::data_timestamp(cluster)?;
            (taken + schedule.every <= now).then_some((cluster, taken, schedule))
        })
        .collect();
    due.sort_by_key(|(cluster, taken, _)| (*taken, cluster.id.clone()));
    // The new clones of refreshes under way, by root.
    let mut running: BTreeMap<String, u32> = BTreeMap::new();
    for cluster in clusters {
        if cluster.tag(tags::REFRESH_OF).is_some()
            && let Some(root_id) = root_of(cluster)
        {
            *running.entry(root_id).or_default() += 1;
        }
    }
    let mut started = Vec::new();
    for (cluster, _, schedule) in due {
        let count = running.entry(schedule.root_id.clone()).or_default();
        if *count < schedule.max_concurrent {
            *count += 1;
            started.push(cluster.id.clone());
        }
    }
    started
}

/// The tags of the old clone that point at its password artifacts. They come off the
/// retired cluster before it is deleted, once the new clone uses the secret.
pub const PASSWORD_TAGS: &[&str] = &[
    tags::PASSWORD_SECRET,
    tags::PASSWORD_SECRET_ARN,
    tags::PASSWORD_KEY,
    tags::PASSWORD_KEY_GRANTS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::ClusterMember;
    use aurora_clone_model::ClusterStatus;
    use aurora_clone_model::testing::{cluster, now};

    fn config() -> Config {
        Config::for_stack("acm")
    }

    fn clone_of(root: &ClusterInfo, id: &str) -> ClusterInfo {
        let mut clone = cluster(id);
        for (key, value) in [
            (tags::ROLE, "clone"),
            (tags::STACK, "acm"),
            (tags::ROOT_ARN, root.arn.as_str()),
            (tags::SOURCE_ARN, root.arn.as_str()),
            (tags::DATA_TIMESTAMP, "2024-04-01T00:00:00Z"),
            (tags::OWNER, "stack|Db"),
            (tags::PASSWORD_SECRET, "/acm/acm-c1"),
            (tags::STATE, "ready"),
            ("team", "data"),
        ] {
            clone.tags.insert(key.to_string(), value.to_string());
        }
        clone
    }

    fn writer(cluster_id: &str, id: &str, status: &str) -> InstanceInfo {
        InstanceInfo {
            id: id.to_string(),
            arn: format!("arn:aws:rds:us-east-1:123456789012:db:{id}"),
            cluster_id: Some(cluster_id.to_string()),
            status: status.to_string(),
            instance_class: "db.r6g.large".into(),
            engine: "aurora-postgresql".into(),
            endpoint: None,
            port: Some(5432),
            db_parameter_group: Some("pg-app".into()),
            publicly_accessible: true,
        }
    }

    fn observed(id: &str, writer_id: &str, tags: &[(&str, &str)]) -> Observed {
        let mut info = cluster(id);
        info.members = vec![ClusterMember {
            instance_id: writer_id.to_string(),
            is_writer: true,
        }];
        for (key, value) in tags {
            info.tags.insert(key.to_string(), value.to_string());
        }
        Observed {
            cluster: info,
            writer: Some(writer(id, writer_id, "available")),
        }
    }

    fn facts(
        clone: Option<Observed>,
        temporary: Option<Observed>,
        retired: Option<Observed>,
    ) -> RefreshFacts {
        RefreshFacts {
            names: RefreshNames::of("acm-c1"),
            clone,
            temporary,
            retired,
        }
    }

    /// The new writer of the refresh the tests look at.
    const NEW_WRITER: &str = "acm-c1-r20240501t120000";

    fn temporary_tags() -> Vec<(&'static str, &'static str)> {
        vec![
            (tags::REFRESH_OF, "acm-c1"),
            (tags::REFRESH_INSTANCE, NEW_WRITER),
        ]
    }

    #[test]
    fn clones_older_than_their_roots_schedule_are_due_unless_a_refresh_is_under_way() {
        let root = cluster("prod");
        let other_root = cluster("other");
        let old = clone_of(&root, "acm-c1");
        let mut fresh = clone_of(&root, "acm-c2");
        fresh
            .tags
            .insert(tags::DATA_TIMESTAMP.into(), format_timestamp(now()));
        let unscheduled = clone_of(&other_root, "acm-c3");
        let busy = clone_of(&root, "acm-c4");
        let busy_next = observed(
            "acm-c4-next",
            "acm-c4-next-1",
            &[
                (tags::REFRESH_OF, "acm-c4"),
                (tags::REFRESH_INSTANCE, "acm-c4-1"),
            ],
        )
        .cluster;
        let mut stopped = clone_of(&root, "acm-c5");
        stopped.status = ClusterStatus::Stopped;
        let clusters = vec![
            root.clone(),
            other_root,
            old,
            fresh,
            unscheduled,
            busy,
            busy_next,
            stopped,
        ];
        let schedules = vec![RefreshSchedule {
            root_id: "prod".into(),
            every: TimeDelta::days(7),
            max_concurrent: 5,
        }];
        assert_eq!(
            due_refreshes(&clusters, "acm", &schedules, now()),
            vec!["acm-c1".to_string()]
        );
        assert!(due_refreshes(&clusters, "acm", &[], now()).is_empty());
    }

    #[test]
    fn no_more_refreshes_of_a_roots_clones_run_at_once_than_it_allows_oldest_data_first() {
        let root = cluster("prod");
        let aged = |id: &str, days: i64| {
            let mut clone = clone_of(&root, id);
            clone.tags.insert(
                tags::DATA_TIMESTAMP.into(),
                format_timestamp(now() - TimeDelta::days(days)),
            );
            clone
        };
        let schedule = |max_concurrent| {
            vec![RefreshSchedule {
                root_id: "prod".into(),
                every: TimeDelta::days(7),
                max_concurrent,
            }]
        };
        let clusters = vec![
            root.clone(),
            aged("acm-c1", 8),
            aged("acm-c2", 30),
            aged("acm-c3", 9),
            aged("acm-c4", 20),
        ];
        assert_eq!(
            due_refreshes(&clusters, "acm", &schedule(2), now()),
            ["acm-c2", "acm-c4"],
            "two at once, the oldest data first"
        );
        // One refresh already running (its new clone carries the root): one more starts.
        let mut running = clusters.clone();
        let mut next = observed("acm-c9-next", NEW_WRITER, &[(tags::REFRESH_OF, "acm-c9")]).cluster;
        next.tags.insert(tags::ROOT_ARN.into(), root.arn.clone());
        running.push(next);
        assert_eq!(
            due_refreshes(&running, "acm", &schedule(2), now()),
            ["acm-c2"]
        );
        assert!(due_refreshes(&running, "acm", &schedule(1), now()).is_empty());
    }

    #[test]
    fn the_clusters_of_a_refresh_in_progress_are_left_to_it() {
        let tmp = temporary_tags();
        let clone = observed("acm-c1", "acm-c1-1", &[]).cluster;
        let next = observed("acm-c1-next", "acm-c1-next-1", &tmp).cluster;
        let other = observed("acm-c2", "acm-c2-1", &[]).cluster;
        let ids = in_refresh(&[clone.clone(), next, other.clone()]);
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            ["acm-c1", "acm-c1-next", "acm-c1-old"]
        );
        // A cluster that only happens to have a refresh's name is no refresh.
        let old = observed("acm-c1-old", "acm-c1-1-old", &[]).cluster;
        assert!(in_refresh(&[clone, old, other]).is_empty());
    }

    #[test]
    fn the_names_of_a_refresh_keep_the_clones_prefix_and_are_the_same_on_replay() {
        let names = RefreshNames::of("acm-c1");
        assert_eq!(names.temporary_id, "acm-c1-next");
        assert_eq!(names.retired_id, "acm-c1-old");
        assert_eq!(RefreshNames::of("acm-c1"), names);
        // Each refresh's writer is new: a later refresh never meets an earlier one's.
        assert_eq!(RefreshNames::new_writer_id("acm-c1", now()), NEW_WRITER);
        let later = RefreshNames::new_writer_id("acm-c1", now() + TimeDelta::seconds(1));
        assert_ne!(later, NEW_WRITER);
        aurora_clone_model::rules::check_instance_identifier(&later).unwrap();
        let long = "acm-".to_string() + &"x".repeat(59);
        let names = RefreshNames::of(&long);
        assert!(names.temporary_id.len() <= 63 && names.temporary_id.starts_with("acm-"));
        assert_ne!(names.temporary_id, names.retired_id);
    }

    #[test]
    fn the_steps_follow_what_exists_under_the_three_names() {
        let tmp = temporary_tags();
        let clone = || Some(observed("acm-c1", "acm-c1-1", &[]));
        assert_eq!(
            next_step(&facts(clone(), None, None), true).unwrap(),
            RefreshStep::MakeTemporary
        );
        assert_eq!(
            next_step(&facts(clone(), None, None), false).unwrap(),
            RefreshStep::Idle
        );
        // The new clone is still being made.
        let mut making = observed("acm-c1-next", "acm-c1-next-1", &tmp);
        making.cluster.status = ClusterStatus::Creating;
        assert_eq!(
            next_step(&facts(clone(), Some(making), None), true).unwrap(),
            RefreshStep::Wait {
                what: "acm-c1-next".into()
            }
        );
        // Usable, with the clone's password: the old cluster goes out of the way. Only
        // clusters are renamed, never instances.
        let ready = || {
            let mut tags = tmp.clone();
            tags.push((tags::REFRESH_PASSWORD, "set"));
            Some(observed("acm-c1-next", NEW_WRITER, &tags))
        };
        assert_eq!(
            next_step(&facts(clone(), ready(), None), true).unwrap(),
            RefreshStep::RenameCluster {
                from: "acm-c1".into(),
                to: "acm-c1-old".into()
            }
        );
        // Half-way: the new cluster takes the clone's name, keeping its own writer.
        let retired = || Some(observed("acm-c1-old", "acm-c1-1", &[]));
        assert_eq!(
            next_step(&facts(None, ready(), retired()), false).unwrap(),
            RefreshStep::RenameCluster {
                from: "acm-c1-next".into(),
                to: "acm-c1".into()
            }
        );
        // In place: finish, also when the old one is already gone.
        let swapped = || Some(observed("acm-c1", NEW_WRITER, &tmp));
        assert_eq!(
            next_step(&facts(swapped(), None, retired()), false).unwrap(),
            RefreshStep::Finish
        );
        assert_eq!(
            next_step(&facts(swapped(), None, None), false).unwrap(),
            RefreshStep::Finish
        );
        assert_eq!(
            next_step(&facts(None, None, None), true),
            Err(RefreshPlanError::NotFound("acm-c1".into()))
        );
        // Clusters that only happen to have a refresh's names are never touched.
        let stranger = || Some(observed("acm-c1-old", "acm-c1-old-1", &[]));
        assert_eq!(
            next_step(&facts(clone(), None, stranger()), true),
            Err(RefreshPlanError::NameTaken("acm-c1-old".into()))
        );
        let stranger = Some(observed("acm-c1-next", "acm-c1-next-1", &[]));
        assert_eq!(
            next_step(&facts(clone(), stranger, None), true),
            Err(RefreshPlanError::NameTaken("acm-c1-next".into()))
        );
    }

    #[test]
    fn the_new_clones_writer_is_added_only_once_its_cluster_is_available() {
        // AWS refuses an instance in a restored cluster that is not available yet
        // (RestoreDBClusterToPointInTime, API reference): the refresh waits instead.
        let clone = || Some(observed("acm-c1", "acm-c1-1", &[]));
        let without_writer = |status: ClusterStatus| {
            let mut temporary = observed("acm-c1-next", "acm-c1-next-1", &temporary_tags());
            temporary.cluster.members.clear();
            temporary.writer = None;
            temporary.cluster.status = status;
            Some(temporary)
        };
        assert_eq!(
            next_step(
                &facts(clone(), without_writer(ClusterStatus::Creating), None),
                false
            )
            .unwrap(),
            RefreshStep::Wait {
                what: "acm-c1-next".into()
            }
        );
        assert_eq!(
            next_step(
                &facts(clone(), without_writer(ClusterStatus::Available), None),
                false
            )
            .unwrap(),
            RefreshStep::AddTemporaryWriter {
                instance_id: NEW_WRITER.into()
            }
        );
    }

    #[test]
    fn the_new_clone_gets_the_clones_password_before_it_takes_the_clones_name() {
        let with_secret = || {
            Some(observed(
                "acm-c1",
                "acm-c1-1",
                &[(tags::PASSWORD_SECRET, "/acm/acm-c1")],
            ))
        };
        let usable = || Some(observed("acm-c1-next", NEW_WRITER, &temporary_tags()));
        assert_eq!(
            next_step(&facts(with_secret(), usable(), None), false).unwrap(),
            RefreshStep::SetTemporaryPassword
        );
        // The change is pending: the swap waits for it.
        let mut pending = observed("acm-c1-next", NEW_WRITER, &temporary_tags());
        pending
            .cluster
            .tags
            .insert(tags::REFRESH_PASSWORD.into(), "set".into());
        pending.cluster.pending_master_password = true;
        assert_eq!(
            next_step(&facts(with_secret(), Some(pending.clone()), None), false).unwrap(),
            RefreshStep::Wait {
                what: "acm-c1-next".into()
            }
        );
        pending.cluster.pending_master_password = false;
        assert!(matches!(
            next_step(&facts(with_secret(), Some(pending), None), false).unwrap(),
            RefreshStep::RenameCluster { .. }
        ));
        // A clone without a password of its own keeps the source's: nothing to set.
        let plain = Some(observed("acm-c1", "acm-c1-1", &[]));
        assert!(matches!(
            next_step(&facts(plain, usable(), None), false).unwrap(),
            RefreshStep::RenameCluster { .. }
        ));
    }

    #[test]
    fn a_new_clone_that_failed_is_abandoned_and_a_renaming_one_is_waited_for() {
        let tmp = temporary_tags();
        let clone = Some(observed("acm-c1", "acm-c1-1", &[]));
        let mut broken = observed("acm-c1-next", "acm-c1-next-1", &tmp);
        broken.cluster.status = ClusterStatus::IncompatibleRestore;
        assert!(matches!(
            next_step(&facts(clone.clone(), Some(broken), None), true).unwrap(),
            RefreshStep::Abandon { .. }
        ));
        let retired = Some(observed("acm-c1-old", "acm-c1-1", &[]));
        let mut renaming = observed("acm-c1-next", NEW_WRITER, &tmp);
        renaming.cluster.status = ClusterStatus::Renaming;
        assert_eq!(
            next_step(&facts(None, Some(renaming), retired), true).unwrap(),
            RefreshStep::Wait {
                what: "acm-c1-next".into()
            }
        );
    }

    #[test]
    fn a_serverless_clone_is_refreshed_with_its_own_capacity_range_and_instance_class() {
        let root = cluster("prod");
        let mut old = clone_of(&root, "acm-c1");
        let range = aurora_clone_model::ServerlessV2Scaling {
            min_capacity: Some(0.0),
            max_capacity: Some(4.0),
            seconds_until_auto_pause: Some(600),
        };
        old.serverless_v2_scaling = Some(range);
        let mut serverless_writer = writer("acm-c1", "acm-c1-1", "available");
        serverless_writer.instance_class = "db.serverless".into();
        let inventory = Inventory::new(vec![root.clone(), old.clone()]);
        let plan = plan_temporary(TemporaryInput {
            clone: &old,
            writer: &serverless_writer,
            inventory: &inventory,
            config: &config(),
            now: now(),
        })
        .unwrap();
        assert_eq!(plan.restore.settings.serverless_v2_scaling, Some(range));
        assert_eq!(plan.instance.instance_class, "db.serverless");
    }

    #[test]
    fn the_new_clone_comes_from_the_root_and_looks_like_the_old_one_without_its_identity() {
        let root = cluster("prod");
        let old = clone_of(&root, "acm-c1");
        let inventory = Inventory::new(vec![root.clone(), old.clone()]);
        let config = config();
        let plan = plan_temporary(TemporaryInput {
            clone: &old,
            writer: &writer("acm-c1", "acm-c1-1", "available"),
            inventory: &inventory,
            config: &config,
            now: now(),
        })
        .unwrap();
        assert_eq!(plan.source_id, "prod");
        assert_eq!(plan.data_timestamp, now());
        assert_eq!(plan.restore.cluster_id, "acm-c1-next");
        assert_eq!(plan.restore.db_subnet_group_name, old.db_subnet_group);
        assert_eq!(plan.restore.tags[tags::REFRESH_OF], "acm-c1");
        assert_eq!(plan.restore.tags[tags::REFRESH_INSTANCE], NEW_WRITER);
        assert_eq!(plan.instance.instance_id, NEW_WRITER);
        assert_eq!(
            plan.restore.tags[tags::DATA_TIMESTAMP],
            format_timestamp(now())
        );
        for key in [tags::OWNER, tags::PASSWORD_SECRET, "team"] {
            assert!(!plan.restore.tags.contains_key(key), "{key}");
        }
        assert_eq!(plan.instance.cluster_id, "acm-c1-next");
        assert_eq!(
            plan.instance.db_parameter_group_name.as_deref(),
            Some("pg-app")
        );
        assert!(plan.instance.publicly_accessible);
        aurora_clone_model::rules::check_restore_request(&plan.restore).unwrap();
        aurora_clone_model::rules::check_instance_request(&plan.instance).unwrap();

        let carried = carried_tags(&old);
        assert_eq!(carried[tags::OWNER], "stack|Db");
        assert_eq!(carried["team"], "data");
        assert!(!carried.contains_key(tags::DATA_TIMESTAMP));

        let mut foreign = old.clone();
        foreign.tags.insert(tags::STACK.into(), "other".into());
        assert_eq!(
            plan_temporary(TemporaryInput {
                clone: &foreign,
                writer: &writer("acm-c1", "acm-c1-1", "available"),
                inventory: &inventory,
                config: &config,
                now: now(),
            }),
            Err(RefreshPlanError::NotOurs("acm-c1".into()))
        );
    }
}
