//! Ownership and bookkeeping tags. Ownership is decided by tags only: a cluster without a
//! `role` tag and this deployment's `stack` tag is never modified or deleted.

use crate::text::shorten;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rules;
use crate::{ClusterInfo, Tags};

/// Every tag this deployment writes starts with this prefix; user tags may not.
pub const TAG_PREFIX: &str = "aurora-clone-manager:";

pub const ROLE: &str = "aurora-clone-manager:role";
pub const STACK: &str = "aurora-clone-manager:stack";
pub const OWNER: &str = "aurora-clone-manager:owner";
pub const SOURCE_ARN: &str = "aurora-clone-manager:source-arn";
pub const ROOT_ARN: &str = "aurora-clone-manager:root-arn";
pub const DATA_TIMESTAMP: &str = "aurora-clone-manager:data-timestamp";
pub const REQUEST: &str = "aurora-clone-manager:request";
pub const PASSWORD_SECRET: &str = "aurora-clone-manager:password-secret";
/// The secret's ARN, which CloudFormation returns as `PasswordSecretArn`.
pub const PASSWORD_SECRET_ARN: &str = "aurora-clone-manager:password-secret-arn";
pub const PASSWORD_KEY: &str = "aurora-clone-manager:password-key";
pub const STATE: &str = "aurora-clone-manager:state";
/// Instance class the finisher gives the cluster's instance if it has to add it later.
pub const INSTANCE_CLASS: &str = "aurora-clone-manager:instance-class";
/// DB parameter group for that instance, when not the engine default.
pub const INSTANCE_PARAMETER_GROUP: &str = "aurora-clone-manager:instance-parameter-group";
/// `true` or `false`: PubliclyAccessible for that instance (the root writer's for a clone,
/// never public for a copy). Missing means private.
pub const INSTANCE_PUBLICLY_ACCESSIBLE: &str = "aurora-clone-manager:instance-publicly-accessible";
/// On secrets and keys: the cluster they belong to.
pub const CLUSTER: &str = "aurora-clone-manager:cluster";
/// On keys: `true` when this deployment created the key for one clone and may delete it.
pub const DISPOSABLE: &str = "aurora-clone-manager:disposable";

/// When the clone expires: an RFC 3339 UTC timestamp (`2026-05-01T10:00:00Z`). The sweep
/// deletes a clone once this time has passed, unless it is protected.
pub const EXPIRES_AT: &str = "aurora-clone-manager:expires-at";
/// The `expires-at` value for which `lifecycle-event/clone-expiring` has been sent, so that
/// the warning goes out once per expiry time (a new expiry warns again).
pub const EXPIRING_NOTICE: &str = "aurora-clone-manager:expiring-notice";
/// `true` on an expiring clone whose `FinalSnapshot` property asks for a final snapshot,
/// so that the sweep takes one when it deletes the clone.
pub const FINAL_SNAPSHOT: &str = "aurora-clone-manager:final-snapshot";
/// Until when the clone is protected: an RFC 3339 UTC timestamp. Before it, the sweep
/// neither expires the clone nor stops it as idle.
pub const PROTECTED_UNTIL: &str = "aurora-clone-manager:protected-until";

/// The clone's idle rule: its `IdleAfter` and `IdleAction`, e.g. `PT12H stop`.
pub const IDLE: &str = "aurora-clone-manager:idle";

/// On the new clone of a refresh in place: the clone it is to replace. Together with which
/// of the refresh's names exist, it is the refresh's state (see `plan::refresh`).
pub const REFRESH_OF: &str = "aurora-clone-manager:refresh-of";
/// On the new clone of a refresh in place: the identifier of its writer, new for each
/// refresh (instances are never renamed: a rename reboots the instance).
pub const REFRESH_INSTANCE: &str = "aurora-clone-manager:refresh-instance";
/// On the new clone of a refresh in place: `set` once it has been given the clone's own
/// password, before it takes the clone's name.
pub const REFRESH_PASSWORD: &str = "aurora-clone-manager:refresh-password";

/// AWS allows at most 50 tags on an RDS resource and our own take up to 21, which leaves 29.
pub const MAX_USER_TAGS: usize = 29;

/// What a managed cluster is to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A full copy of a root, kept as an extra clone source.
    Copy,
    /// A copy-on-write clone handed to a user.
    Clone,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Copy => "copy",
            Role::Clone => "clone",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `true` on a clone whose restore AWS turned into a full copy (its clone group differs from
/// its source's): from then on its source is counted as having no clone slot left.
pub const FULL_COPY_FALLBACK: &str = "aurora-clone-manager:full-copy-fallback";

/// `true` when the password's readers hold KMS grants on the (shared) key, to revoke on delete.
pub const PASSWORD_KEY_GRANTS: &str = "aurora-clone-manager:password-key-grants";

/// Progress of a managed cluster, kept in the `state` tag so any invocation can pick it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleState {
    /// Restored; instance, password or announcement still to do.
    Pending,
    /// The master password has been changed; waiting for the cluster to settle.
    PasswordSet,
    /// Usable; the lifecycle event has been sent.
    Ready,
}

impl LifecycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Pending => "pending",
            LifecycleState::PasswordSet => "password-set",
            LifecycleState::Ready => "ready",
        }
    }

    pub fn parse(text: &str) -> Option<LifecycleState> {
        match text {
            "pending" => Some(LifecycleState::Pending),
            "password-set" => Some(LifecycleState::PasswordSet),
            "ready" => Some(LifecycleState::Ready),
            _ => None,
        }
    }
}

/// The role of a cluster if, and only if, this deployment manages it.
pub fn managed_role(cluster: &ClusterInfo, stack_name: &str) -> Option<Role> {
    if cluster.tag(STACK) != Some(stack_name) {
        return None;
    }
    match cluster.tag(ROLE)? {
        "copy" => Some(Role::Copy),
        "clone" => Some(Role::Clone),
        _ => None,
    }
}

/// The lifecycle state in the `state` tag, if any.
pub fn lifecycle_state(cluster: &ClusterInfo) -> Option<LifecycleState> {
    cluster.tag(STATE).and_then(LifecycleState::parse)
}

/// Checks user-supplied tags: a bounded count, none of our reserved prefix, and RDS's tag
/// rules (they end up on the clone and its instance). Returns a message naming the
/// offending tag and the AWS rule it breaks.
pub fn check_user_tags(tags: &Tags) -> Result<(), String> {
    if tags.len() > MAX_USER_TAGS {
        return Err(format!(
            "has {} tags; at most {MAX_USER_TAGS} are allowed (RDS allows 50 per cluster and this tool uses the rest)",
            tags.len()
        ));
    }
    for (key, value) in tags {
        if key.starts_with(TAG_PREFIX) {
            return Err(format!(
                "tag key '{}' uses the prefix '{TAG_PREFIX}', which this tool reserves for its own tags",
                shorten(key)
            ));
        }
        rules::check_rds_tag(key, value).map_err(|violation| violation.to_string())?;
    }
    Ok(())
}

/// What the sweep does to a clone that had no connections for its `IdleAfter`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdleAction {
    /// StopDBCluster; Aurora starts it again after seven days, and the sweep stops it again.
    #[default]
    Stop,
    /// Delete it, as an expired clone.
    Delete,
}

impl IdleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            IdleAction::Stop => "stop",
            IdleAction::Delete => "delete",
        }
    }

    pub fn parse(text: &str) -> Option<IdleAction> {
        match text.trim().to_ascii_lowercase().as_str() {
            "stop" => Some(IdleAction::Stop),
            "delete" => Some(IdleAction::Delete),
            _ => None,
        }
    }
}

/// The `idle` tag's value: `PT12H stop`.
pub fn idle_tag_value(idle_after: chrono::TimeDelta, action: IdleAction) -> String {
    format!(
        "{} {}",
        crate::time::format_duration(idle_after),
        action.as_str()
    )
}

/// Reads an `idle` tag's value; `None` when it does not read.
pub fn parse_idle_tag(value: &str) -> Option<(chrono::TimeDelta, IdleAction)> {
    let (after, action) = value.split_once(' ')?;
    Some((
        crate::time::parse_duration(after).ok()?,
        IdleAction::parse(action)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::cluster;

    #[test]
    fn only_a_role_and_this_stack_make_a_cluster_managed() {
        let mut clone = cluster("c1");
        clone.tags.insert(ROLE.into(), "clone".into());
        assert_eq!(managed_role(&clone, "acm"), None);
        clone.tags.insert(STACK.into(), "other".into());
        assert_eq!(managed_role(&clone, "acm"), None);
        clone.tags.insert(STACK.into(), "acm".into());
        assert_eq!(managed_role(&clone, "acm"), Some(Role::Clone));
        clone.tags.insert(ROLE.into(), "root".into());
        assert_eq!(managed_role(&clone, "acm"), None);
    }

    #[test]
    fn user_tags_may_not_use_reserved_prefixes_or_exceed_limits() {
        let ok: Tags = [("team".to_string(), "data".to_string())].into();
        assert!(check_user_tags(&ok).is_ok());
        let reserved: Tags = [(ROLE.to_string(), "copy".to_string())].into();
        assert!(check_user_tags(&reserved).unwrap_err().contains("reserves"));
        let aws: Tags = [("aws:cloudformation".to_string(), "x".to_string())].into();
        assert!(
            check_user_tags(&aws)
                .unwrap_err()
                .contains(rules::RDS_TAG_RESERVED_PREFIX)
        );
        let long_value: Tags = [("k".to_string(), "v".repeat(257))].into();
        assert!(check_user_tags(&long_value).unwrap_err().contains("256"));
        let most: Tags = (0..29)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert!(check_user_tags(&most).is_ok(), "29 fit beside our 21");
        let many: Tags = (0..30)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert!(check_user_tags(&many).unwrap_err().contains("30 tags"));
    }

    #[test]
    fn user_tags_rds_refuses_are_refused_with_the_tag_and_the_rule_named() {
        let pipe: Tags = [("cost-center".to_string(), "a|b".to_string())].into();
        let problem = check_user_tags(&pipe).unwrap_err();
        assert!(problem.contains("cost-center"), "{problem}");
        assert!(problem.contains(rules::RDS_TAG_CHARSET), "{problem}");
        let rds_prefix: Tags = [("team".to_string(), "rds:x".to_string())].into();
        assert!(
            check_user_tags(&rds_prefix)
                .unwrap_err()
                .contains(rules::RDS_TAG_RESERVED_PREFIX)
        );
    }
}
