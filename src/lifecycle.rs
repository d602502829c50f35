//! What clones share over their life: the lifecycle events' common schema, and the
//! default expiry of clones made outside CloudFormation.
//!
//! Every lifecycle event has source `aurora-clone-manager`, detail-type
//! `lifecycle-event/<name>`, and a detail with `clusterId`, `clusterArn`, `owner` and
//! `dataTimestamp` (null when unknown) plus the event's own fields.

use chrono::TimeDelta;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::aws::{BusEvent, ClusterInfo};
use crate::maintain::{self, ConfigSource};
use crate::plan::tags;
use crate::properties::CloneProperties;

/// `source` of every lifecycle event.
pub const EVENT_SOURCE: &str = "aurora-clone-manager";

/// The `lifecycle-event/<name>` names this deployment sends, in the README's order.
pub const EVENT_NAMES: &[&str] = &[
    "instance-ready",
    "full-copy-fallback",
    "clone-expiring",
    "clone-expired",
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
pub async fn default_clone_ttl(app: &App, root_id: &str) -> Option<TimeDelta> {
    match maintain::read_config(app, &ConfigSource::Parameter).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{cluster, tagged_clone};

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
        let event = crate::finish::lifecycle_event("default", &clone, &instance);
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
        at.expires_at = Some(crate::plan::testing::now());
        apply_default_expiry(&mut at, Some(TimeDelta::days(7)));
        assert_eq!(at.expires_after, None);
    }
}
