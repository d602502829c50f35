//! What clones share over their life: the lifecycle events' common schema, and the
//! default expiry of clones made outside CloudFormation.
//!
//! Every lifecycle event has source `aurora-clone-manager`, detail-type
//! `lifecycle-event/<name>`, and a detail with `clusterId`, `clusterArn`, `owner` and
//! `dataTimestamp` (null when unknown) plus the event's own fields.

use crate::model::ClusterStatus;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::aws::{AwsError, BusEvent, ClusterInfo, Tags};
use crate::model::tags::{self, Role};
use crate::model::time::format_timestamp;
use crate::plan::request::CloneProperties;
use crate::plan::sweep::CloneLifecycle;
use crate::run::machinery::context::Context;
use crate::run::machinery::inventory::{ConfigSource, load_maintenance_config};
use crate::run::machinery::teardown::{self, TeardownError};

/// `source` of every lifecycle event.
pub const EVENT_SOURCE: &str = "aurora-clone-manager";

/// The `lifecycle-event/<name>` names this deployment sends, in the order of docs/events.md.
pub const EVENT_NAMES: &[&str] = &[
    "instance-ready",
    "full-copy-fallback",
    "clone-expiring",
    "clone-expired",
    "clone-stopped",
    "clone-started",
    "clone-refreshed",
];

/// A lifecycle event about `cluster`: the shared detail keys, then `fields` (an object;
/// its keys win over the shared ones only where they name the same thing).
pub fn lifecycle_event(
    bus_name: &str,
    name: &str,
    cluster: &ClusterInfo,
    fields: Value,
    resources: Vec<String>,
) -> BusEvent {
    let mut detail = Map::new();
    detail.insert("clusterId".into(), json!(cluster.id));
    detail.insert("clusterArn".into(), json!(cluster.arn));
    detail.insert("owner".into(), json!(cluster.tag(tags::OWNER)));
    detail.insert(
        "dataTimestamp".into(),
        json!(cluster.tag(tags::DATA_TIMESTAMP)),
    );
    if let Value::Object(own) = fields {
        detail.extend(own);
    }
    BusEvent {
        bus_name: bus_name.to_string(),
        source: EVENT_SOURCE.to_string(),
        detail_type: format!("lifecycle-event/{name}"),
        detail: Value::Object(detail),
        resources,
    }
}

/// How long a clone of `root_id` made outside CloudFormation lives when its request does
/// not say: the root's `:clone-ttl` in the maintenance config, else the stack's
/// `DefaultCloneTtl`, else forever. A maintenance config that cannot be read falls back to
/// the stack default (the provision itself must not fail over it).
pub async fn default_clone_ttl(app: &Context, root_id: &str) -> Option<TimeDelta> {
    match load_maintenance_config(
        app.ports.params.as_ref(),
        &app.config.maintenance_config_parameter,
        &ConfigSource::Parameter,
    )
    .await
    {
        Ok(config) => {
            if let Some(ttl) = config
                .targets
                .iter()
                .find(|target| target.cluster_id == root_id)
                .and_then(|target| target.clone_ttl)
            {
                return Some(ttl);
            }
        }
        Err(error) => {
            tracing::warn!(%error, "could not read the maintenance config for the root's clone-ttl");
        }
    }
    app.config.default_clone_ttl
}

/// Gives properties that name no expiry the default lifetime, if there is one.
pub fn apply_default_expiry(properties: &mut CloneProperties, default_ttl: Option<TimeDelta>) {
    if properties.expires_after.is_none() && properties.expires_at.is_none() {
        properties.expires_after = default_ttl;
    }
}

/// Why a clone's expiry or protection could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no cluster named {0} in this account and region")]
    NotFound(String),
    /// Not one of this deployment's clones.
    #[error(transparent)]
    Refused(#[from] TeardownError),
    #[error("{0} never expires: there is nothing to extend")]
    NoExpiry(String),
    #[error("{cluster_id}: the {tag} tag '{value}' is not a timestamp")]
    Unreadable {
        cluster_id: String,
        tag: String,
        value: String,
    },
    #[error("{0} is not in the future")]
    InThePast(String),
    #[error("{cluster_id} is {status}, not stopped: only a stopped clone can be started")]
    NotStopped { cluster_id: String, status: String },
    #[error("changing the tags of {cluster_id}: {source}")]
    Aws {
        cluster_id: String,
        #[source]
        source: AwsError,
    },
}

/// A clone's expiry and protection after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleChange {
    pub cluster_id: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub protected_until: Option<DateTime<Utc>>,
}

/// One of this deployment's clones, by identifier, with its lifecycle tags read.
async fn managed_clone(
    app: &Context,
    cluster_id: &str,
) -> Result<(ClusterInfo, CloneLifecycle), ChangeError> {
    let cluster = app
        .ports
        .rds
        .describe_cluster(cluster_id)
        .await
        .map_err(|source| ChangeError::Aws {
            cluster_id: cluster_id.to_string(),
            source,
        })?
        .ok_or_else(|| ChangeError::NotFound(cluster_id.to_string()))?;
    teardown::check_managed(app, &cluster, Role::Clone)?;
    let lifecycle = CloneLifecycle::of(&cluster);
    if let Some((tag, value)) = lifecycle.unreadable.first() {
        return Err(ChangeError::Unreadable {
            cluster_id: cluster.id.clone(),
            tag: tag.clone(),
            value: value.clone(),
        });
    }
    Ok((cluster, lifecycle))
}

async fn write_tags(
    app: &Context,
    cluster: &ClusterInfo,
    set: Tags,
    remove: &[String],
) -> Result<(), ChangeError> {
    let aws = |source| ChangeError::Aws {
        cluster_id: cluster.id.clone(),
        source,
    };
    app.ports
        .rds
        .add_tags(&cluster.arn, &set)
        .await
        .map_err(aws)?;
    if !remove.is_empty() {
        app.ports
            .rds
            .remove_tags(&cluster.arn, remove)
            .await
            .map_err(aws)?;
    }
    Ok(())
}

/// Moves a clone's expiry `by` later, counted from its expiry or from now if that has
/// passed; the clone is announced again before the new time.
pub async fn extend(
    app: &Context,
    cluster_id: &str,
    by: TimeDelta,
) -> Result<LifecycleChange, ChangeError> {
    let (cluster, lifecycle) = managed_clone(app, cluster_id).await?;
    let Some(expires_at) = lifecycle.expires_at else {
        return Err(ChangeError::NoExpiry(cluster.id));
    };
    let new_expiry = expires_at.max(app.now()) + by;
    let set: Tags = [(tags::EXPIRES_AT.to_string(), format_timestamp(new_expiry))].into();
    write_tags(app, &cluster, set, &[tags::EXPIRING_NOTICE.to_string()]).await?;
    Ok(LifecycleChange {
        cluster_id: cluster.id,
        expires_at: Some(new_expiry),
        protected_until: lifecycle.protected_until,
    })
}

/// Protects a clone until `until`: it is neither expired nor stopped as idle before then.
pub async fn protect(
    app: &Context,
    cluster_id: &str,
    until: DateTime<Utc>,
) -> Result<LifecycleChange, ChangeError> {
    if until <= app.now() {
        return Err(ChangeError::InThePast(format_timestamp(until)));
    }
    let (cluster, lifecycle) = managed_clone(app, cluster_id).await?;
    let set: Tags = [(tags::PROTECTED_UNTIL.to_string(), format_timestamp(until))].into();
    // The effective expiry may move: announce it again before the new time.
    write_tags(app, &cluster, set, &[tags::EXPIRING_NOTICE.to_string()]).await?;
    Ok(LifecycleChange {
        cluster_id: cluster.id,
        expires_at: lifecycle.expires_at,
        protected_until: Some(until),
    })
}

/// Starts a stopped clone (StartDBCluster) and announces it with `clone-started`.
/// AWS starts only a `stopped` cluster (StartDBCluster, InvalidDBClusterStateFault).
pub async fn start(app: &Context, cluster_id: &str) -> Result<ClusterInfo, ChangeError> {
    let (cluster, _) = managed_clone(app, cluster_id).await?;
    if cluster.status != ClusterStatus::Stopped {
        return Err(ChangeError::NotStopped {
            cluster_id: cluster.id,
            status: cluster.status.to_string(),
        });
    }
    let aws = |source| ChangeError::Aws {
        cluster_id: cluster.id.clone(),
        source,
    };
    app.ports
        .rds
        .start_cluster(&cluster.id)
        .await
        .map_err(aws)?;
    app.ports
        .events
        .put_event(&lifecycle_event(
            &app.config.event_bus_name,
            "clone-started",
            &cluster,
            json!({"startedBy": "operator"}),
            vec![cluster.arn.clone()],
        ))
        .await
        .map_err(aws)?;
    Ok(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{cluster, tagged_clone};

    #[test]
    fn every_lifecycle_event_carries_the_shared_keys_and_its_own() {
        let mut clone = tagged_clone("acm", "c1", &cluster("prod"));
        clone
            .tags
            .insert(tags::OWNER.into(), "stack/app/1111/Db".into());
        let event = lifecycle_event(
            "default",
            "clone-expired",
            &clone,
            json!({"expiresAt": "2024-05-01T12:00:00Z"}),
            vec![clone.arn.clone()],
        );
        assert_eq!(event.source, "aurora-clone-manager");
        assert_eq!(event.detail_type, "lifecycle-event/clone-expired");
        assert_eq!(event.detail["clusterId"], "c1");
        assert_eq!(event.detail["clusterArn"], json!(clone.arn));
        assert_eq!(event.detail["owner"], "stack/app/1111/Db");
        assert_eq!(
            event.detail["dataTimestamp"],
            json!(clone.tag(tags::DATA_TIMESTAMP))
        );
        assert_eq!(event.detail["expiresAt"], "2024-05-01T12:00:00Z");
    }

    #[test]
    fn the_instance_ready_event_keeps_every_key_it_had_and_gains_the_owner() {
        let mut clone = tagged_clone("acm", "c1", &cluster("prod"));
        clone.tags.insert(tags::OWNER.into(), "stack/Db".into());
        let instance = crate::aws::InstanceInfo {
            id: "c1-1".into(),
            arn: "arn:aws:rds:us-east-1:123456789012:db:c1-1".into(),
            cluster_id: Some("c1".into()),
            status: "available".into(),
            instance_class: "db.r6g.large".into(),
            engine: "aurora-postgresql".into(),
            endpoint: None,
            port: Some(5432),
            db_parameter_group: None,
            publicly_accessible: false,
        };
        let event = crate::run::workflows::finish::lifecycle_event("default", &clone, &instance);
        assert_eq!(event.detail_type, "lifecycle-event/instance-ready");
        let keys: Vec<&str> = event
            .detail
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "instanceId",
            "clusterId",
            "host",
            "port",
            "user",
            "passwordSecret",
            "database",
            "clusterArn",
            "readerHost",
            "clonedFrom",
            "dataTimestamp",
            "owner",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert_eq!(event.detail["owner"], "stack/Db");
        assert_eq!(event.detail["clonedFrom"], "prod");
        assert_eq!(
            event.resources,
            vec![instance.arn.clone(), clone.arn.clone()]
        );
    }

    #[test]
    fn a_default_lifetime_applies_only_when_the_request_names_no_expiry() {
        let mut plain = CloneProperties::for_source("prod");
        apply_default_expiry(&mut plain, Some(TimeDelta::days(7)));
        assert_eq!(plain.expires_after, Some(TimeDelta::days(7)));

        let mut own = CloneProperties::for_source("prod");
        own.expires_after = Some(TimeDelta::hours(2));
        apply_default_expiry(&mut own, Some(TimeDelta::days(7)));
        assert_eq!(own.expires_after, Some(TimeDelta::hours(2)));

        let mut at = CloneProperties::for_source("prod");
        at.expires_at = Some(crate::model::testing::now());
        apply_default_expiry(&mut at, Some(TimeDelta::days(7)));
        assert_eq!(at.expires_after, None);
    }
}
