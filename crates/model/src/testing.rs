//! Builders of inventories for the planner's unit tests.

use chrono::{DateTime, TimeZone, Utc};

use crate::tags;
use crate::time::format_timestamp;
use crate::{ClusterInfo, ClusterMember};

/// A fixed "now" so that plans are reproducible.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

/// An available, unmanaged cluster with one writer instance.
pub fn cluster(id: &str) -> ClusterInfo {
    ClusterInfo {
        id: id.to_string(),
        arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}"),
        status: crate::ClusterStatus::Available,
        pending_master_password: false,
        engine: "aurora-postgresql".to_string(),
        engine_version: Some("15.4".to_string()),
        created_at: Some(now() - chrono::TimeDelta::days(100)),
        tags: Default::default(),
        members: vec![ClusterMember {
            instance_id: format!("{id}-1"),
            is_writer: true,
        }],
        clone_group_id: None,
        endpoint: Some(format!("{id}.cluster-x.us-east-1.rds.amazonaws.com")),
        reader_endpoint: Some(format!("{id}.cluster-ro-x.us-east-1.rds.amazonaws.com")),
        port: Some(5432),
        master_username: Some("postgres".to_string()),
        database_name: Some("app".to_string()),
        db_subnet_group: Some("db-subnets".to_string()),
        vpc_security_group_ids: vec!["sg-0123".to_string()],
        db_cluster_parameter_group: Some("default.aurora-postgresql15".to_string()),
        iam_database_authentication_enabled: false,
        storage_type: Some("aurora".to_string()),
        enabled_cloudwatch_logs_exports: Vec::new(),
        serverless_v2_scaling: None,
        resource_id: None,
    }
}

/// A clone of `source` made by deployment `stack`.
pub fn tagged_clone(stack: &str, id: &str, source: &ClusterInfo) -> ClusterInfo {
    let mut clone = cluster(id);
    clone.tags.insert(tags::ROLE.into(), "clone".into());
    clone.tags.insert(tags::STACK.into(), stack.into());
    clone
        .tags
        .insert(tags::SOURCE_ARN.into(), source.arn.clone());
    clone.tags.insert(
        tags::ROOT_ARN.into(),
        source
            .tags
            .get(tags::ROOT_ARN)
            .cloned()
            .unwrap_or_else(|| source.arn.clone()),
    );
    clone.tags.insert(tags::STATE.into(), "ready".into());
    clone
}

/// An available copy of `root` made by deployment `stack`, holding data from `taken_at`.
pub fn copy_of(stack: &str, id: &str, root: &ClusterInfo, taken_at: DateTime<Utc>) -> ClusterInfo {
    let mut copy = cluster(id);
    copy.created_at = Some(taken_at);
    copy.tags.insert(tags::ROLE.into(), "copy".into());
    copy.tags.insert(tags::STACK.into(), stack.into());
    copy.tags.insert(tags::ROOT_ARN.into(), root.arn.clone());
    copy.tags
        .insert(tags::DATA_TIMESTAMP.into(), format_timestamp(taken_at));
    copy.tags.insert(tags::STATE.into(), "ready".into());
    copy
}
