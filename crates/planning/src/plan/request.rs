//! The clone request the planner works from: what a user asked for (from CloudFormation
//! properties or the CLI's flags), and the rules that span its fields. Parsing the raw
//! JSON into it is `input::properties`' job; whether the result is acceptable is decided
//! here, once, for every way a request can arrive.

use aurora_clone_model::tags::IdleAction;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::capacity::{CapacityField, CapacityRequest, check_request};
use aurora_clone_model::Tags;
use aurora_clone_model::config::check_secret_prefix;
use aurora_clone_model::naming::check_rds_identifier;
use aurora_clone_model::rules::SERVERLESS_INSTANCE_CLASS;
use aurora_clone_model::tags::check_user_tags;
use aurora_clone_model::text::shorten;

/// Most principals one clone's password may be shared with; keeps the secret's resource
/// policy far below its 20 KB limit.
pub const MAX_ACCESS_PRINCIPALS: usize = 20;

/// A property that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{property}: {problem}")]
pub struct PropertyError {
    pub property: String,
    pub problem: String,
}

impl PropertyError {
    pub fn new(property: &str, problem: impl Into<String>) -> PropertyError {
        PropertyError {
            property: property.to_string(),
            problem: problem.into(),
        }
    }
}

/// What a user asked for, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneProperties {
    pub source_cluster_id: String,
    pub cluster_id: Option<String>,
    pub copy_ok: bool,
    pub purge_obsolete_copies: bool,
    pub instance_class: Option<String>,
    pub copy_created_since: Option<DateTime<Utc>>,
    pub max_copy_age: Option<TimeDelta>,
    pub set_password: bool,
    pub access_principal_arns: Vec<String>,
    pub kms_key_id: Option<String>,
    pub force_create_kms_key: bool,
    pub secret_prefix: Option<String>,
    pub no_fail_on_existing_cluster: bool,
    pub wait_for_ready: bool,
    pub tags: Tags,
    pub db_subnet_group_name: Option<String>,
    pub vpc_security_group_ids: Option<Vec<String>>,
    pub db_cluster_parameter_group_name: Option<String>,
    pub db_parameter_group_name: Option<String>,
    /// Take a final snapshot when the clone is deleted.
    pub final_snapshot: bool,
    /// Delete the clone this long after it was made (`ExpiresAfter`).
    #[serde(default)]
    pub expires_after: Option<TimeDelta>,
    /// Delete the clone at this time (`ExpiresAt`).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Stop (or delete) the clone when it had no connections for this long (`IdleAfter`).
    #[serde(default)]
    pub idle_after: Option<TimeDelta>,
    /// What to do to an idle clone (`IdleAction`).
    #[serde(default)]
    pub idle_action: IdleAction,
    /// A Serverless v2 capacity range: the clone gets a `db.serverless` instance with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless: Option<CapacityRequest>,
    /// Any value; an Update that changes only this refreshes the clone in place
    /// (`RefreshToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Shortest `IdleAfter`: connections are read as hourly maxima.
pub const MIN_IDLE_AFTER_HOURS: i64 = 1;
/// Longest `IdleAfter`: 500 clusters a GetMetricData call times 168 hourly points stays
/// under the call's limit of 100,800 data points.
pub const MAX_IDLE_AFTER_HOURS: i64 = 168;

impl CloneProperties {
    /// Properties for `source_cluster_id` with every default, as the CLI starts from.
    pub fn for_source(source_cluster_id: &str) -> CloneProperties {
        CloneProperties {
            source_cluster_id: source_cluster_id.to_string(),
            cluster_id: None,
            copy_ok: false,
            purge_obsolete_copies: true,
            instance_class: None,
            copy_created_since: None,
            max_copy_age: None,
            set_password: false,
            access_principal_arns: Vec::new(),
            kms_key_id: None,
            force_create_kms_key: false,
            secret_prefix: None,
            no_fail_on_existing_cluster: false,
            wait_for_ready: true,
            tags: Tags::new(),
            db_subnet_group_name: None,
            vpc_security_group_ids: None,
            db_cluster_parameter_group_name: None,
            db_parameter_group_name: None,
            final_snapshot: false,
            expires_after: None,
            expires_at: None,
            idle_after: None,
            idle_action: IdleAction::Stop,
            serverless: None,
            refresh_token: None,
        }
    }

    /// When a clone made at `made_at` with these properties expires, if it does.
    pub fn expiry(&self, made_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.expires_at
            .or_else(|| self.expires_after.map(|after| made_at + after))
    }

    /// Checks the rules that span properties, after each one parsed on its own.
    pub fn validate(&self) -> Result<(), PropertyError> {
        check_rds_identifier(&self.source_cluster_id)
            .map_err(|problem| PropertyError::new("SourceClusterId", problem))?;
        if let Some(cluster_id) = &self.cluster_id {
            check_rds_identifier(cluster_id)
                .map_err(|problem| PropertyError::new("ClusterId", problem))?;
            if cluster_id == &self.source_cluster_id {
                return Err(PropertyError::new(
                    "ClusterId",
                    "must differ from SourceClusterId",
                ));
            }
        }
        if self.set_password && self.access_principal_arns.is_empty() {
            return Err(PropertyError::new(
                "AccessPrincipalArns",
                "is required when SetPassword is true: name the IAM principals that may read the password",
            ));
        }
        for arn in &self.access_principal_arns {
            check_principal_arn(arn)
                .map_err(|problem| PropertyError::new("AccessPrincipalArns", problem))?;
        }
        if self.access_principal_arns.len() > MAX_ACCESS_PRINCIPALS {
            return Err(PropertyError::new(
                "AccessPrincipalArns",
                format!(
                    "names {} principals; at most {MAX_ACCESS_PRINCIPALS} are allowed",
                    self.access_principal_arns.len()
                ),
            ));
        }
        if let Some(class) = &self.instance_class {
            check_instance_class(class)
                .map_err(|problem| PropertyError::new("InstanceClass", problem))?;
        }
        if let Some(wanted) = &self.serverless {
            check_request(wanted).map_err(|problem| {
                PropertyError::new(capacity_property(problem.field), problem.message)
            })?;
            if let Some(class) = self
                .instance_class
                .as_ref()
                .filter(|class| *class != SERVERLESS_INSTANCE_CLASS)
            {
                return Err(PropertyError::new(
                    "InstanceClass",
                    format!(
                        "'{class}' cannot be combined with ServerlessMinCapacity and \
                         ServerlessMaxCapacity, which make a {SERVERLESS_INSTANCE_CLASS} \
                         instance; leave one out"
                    ),
                ));
            }
        }
        if let Some(prefix) = &self.secret_prefix {
            check_secret_prefix(prefix)
                .map_err(|problem| PropertyError::new("SecretPrefix", problem))?;
        }
        if let Some(age) = self.max_copy_age
            && age <= TimeDelta::zero()
        {
            return Err(PropertyError::new("MaxCopyAge", "must be longer than zero"));
        }
        if let Some(after) = self.expires_after
            && after <= TimeDelta::zero()
        {
            return Err(PropertyError::new(
                "ExpiresAfter",
                "must be longer than zero",
            ));
        }
        if self.expires_after.is_some() && self.expires_at.is_some() {
            return Err(PropertyError::new(
                "ExpiresAt",
                "cannot be given together with ExpiresAfter; use one or the other",
            ));
        }
        if let Some(idle) = self.idle_after {
            let hours = idle.num_hours();
            if idle != TimeDelta::hours(hours)
                || !(MIN_IDLE_AFTER_HOURS..=MAX_IDLE_AFTER_HOURS).contains(&hours)
            {
                return Err(PropertyError::new(
                    "IdleAfter",
                    format!(
                        "must be whole hours from PT{MIN_IDLE_AFTER_HOURS}H to PT{MAX_IDLE_AFTER_HOURS}H (connections are read hour by hour)"
                    ),
                ));
            }
        } else if self.idle_action != IdleAction::Stop {
            return Err(PropertyError::new(
                "IdleAction",
                "needs IdleAfter: the time without connections after which to act",
            ));
        }
        check_user_tags(&self.tags).map_err(|problem| PropertyError::new("Tags", problem))?;
        for (property, value) in [
            ("KmsKeyId", &self.kms_key_id),
            ("DBSubnetGroupName", &self.db_subnet_group_name),
            (
                "DBClusterParameterGroupName",
                &self.db_cluster_parameter_group_name,
            ),
            ("DBParameterGroupName", &self.db_parameter_group_name),
        ] {
            if let Some(value) = value {
                check_plain_name(value).map_err(|problem| PropertyError::new(property, problem))?;
            }
        }
        for group in self.vpc_security_group_ids.iter().flatten() {
            if !group.starts_with("sg-") || !group[3..].chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PropertyError::new(
                    "VpcSecurityGroupIds",
                    format!("'{}' is not a security group id (sg-...)", shorten(group)),
                ));
            }
        }
        Ok(())
    }

    /// The properties that make a clone what it is: when one changes, an Update makes a
    /// new clone. Tags, readers, expiry and idle settings change in place; `CopyCreatedSince` is judged against the
    /// clone's data; the rest only steer how a clone is made or deleted.
    pub fn identity(&self) -> CloneIdentity {
        CloneIdentity {
            source_cluster_id: self.source_cluster_id.clone(),
            cluster_id: self.cluster_id.clone(),
            instance_class: self.instance_class.clone(),
            set_password: self.set_password,
            kms_key_id: self.kms_key_id.clone(),
            force_create_kms_key: self.force_create_kms_key,
            secret_prefix: self.secret_prefix.clone(),
            db_subnet_group_name: self.db_subnet_group_name.clone(),
            vpc_security_group_ids: self.vpc_security_group_ids.clone(),
            db_cluster_parameter_group_name: self.db_cluster_parameter_group_name.clone(),
            db_parameter_group_name: self.db_parameter_group_name.clone(),
            serverless: self.serverless,
        }
    }
}

/// See [`CloneProperties::identity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneIdentity {
    source_cluster_id: String,
    cluster_id: Option<String>,
    instance_class: Option<String>,
    set_password: bool,
    kms_key_id: Option<String>,
    force_create_kms_key: bool,
    secret_prefix: Option<String>,
    db_subnet_group_name: Option<String>,
    vpc_security_group_ids: Option<Vec<String>>,
    db_cluster_parameter_group_name: Option<String>,
    db_parameter_group_name: Option<String>,
    serverless: Option<CapacityRequest>,
}

/// Checks an IAM principal ARN: an account root, user, role or assumed-role session in one
/// account. Wildcards and other accounts' "any principal" forms are refused, because the
/// password must only be readable by principals someone named.
pub fn check_principal_arn(arn: &str) -> Result<(), String> {
    if arn.contains('*') || arn.contains('?') {
        return Err(format!(
            "'{}' contains a wildcard; name each principal",
            shorten(arn)
        ));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(format!("'{}' is not an IAM principal ARN", shorten(arn)));
    };
    let partition_ok = matches!(*partition, "aws" | "aws-cn" | "aws-us-gov");
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    let resource_ok = match *service {
        "iam" => {
            *resource == "root"
                || ["user/", "role/"].iter().any(|kind| {
                    resource
                        .strip_prefix(kind)
                        .is_some_and(valid_iam_path_and_name)
                })
        }
        "sts" => resource
            .strip_prefix("assumed-role/")
            .is_some_and(|rest| rest.split('/').count() == 2 && valid_iam_path_and_name(rest)),
        _ => false,
    };
    if *scheme != "arn" || !partition_ok || !region.is_empty() || !account_ok || !resource_ok {
        return Err(format!(
            "'{}' is not an IAM principal ARN (arn:aws:iam::123456789012:role/name)",
            shorten(arn)
        ));
    }
    Ok(())
}

fn valid_iam_path_and_name(text: &str) -> bool {
    !text.is_empty()
        && !text.ends_with('/')
        && text.len() <= 512
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
}

/// Instance classes look like `db.r6g.large` or `db.serverless`.
/// The property that sets one part of a capacity range.
pub fn capacity_property(field: CapacityField) -> &'static str {
    match field {
        CapacityField::Min => "ServerlessMinCapacity",
        CapacityField::Max => "ServerlessMaxCapacity",
        CapacityField::AutoPause => "AutoPauseAfter",
    }
}

pub fn check_instance_class(class: &str) -> Result<(), String> {
    let parts: Vec<&str> = class.split('.').collect();
    let shape_ok = match parts.as_slice() {
        ["db", "serverless"] => true,
        ["db", family, size] => {
            !family.is_empty()
                && !size.is_empty()
                && family
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && size
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }
        _ => false,
    };
    if shape_ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not an instance class (like db.r6g.large)",
            shorten(class)
        ))
    }
}

/// Names and ids passed through to AWS: no whitespace or control characters.
fn check_plain_name(value: &str) -> Result<(), String> {
    if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("'{}' is not a valid name", shorten(value)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_arns_must_name_principals() {
        assert!(check_principal_arn("arn:aws:iam::123456789012:role/dev").is_ok());
        assert!(check_principal_arn("arn:aws:iam::123456789012:role/path/dev").is_ok());
        assert!(check_principal_arn("arn:aws:iam::123456789012:root").is_ok());
        assert!(check_principal_arn("arn:aws:sts::123456789012:assumed-role/dev/session").is_ok());
        assert!(check_principal_arn("*").is_err());
        assert!(check_principal_arn("arn:aws:iam::123456789012:role/*").is_err());
        assert!(check_principal_arn("arn:aws:iam::12345:role/dev").is_err());
        assert!(check_principal_arn("arn:aws:s3:::bucket").is_err());
        assert!(check_principal_arn("123456789012").is_err());
    }
}
