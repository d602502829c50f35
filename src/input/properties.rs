//! The `Custom::AuroraClone` resource properties: parsed from the JSON CloudFormation sends
//! (every scalar arrives as a string) into a typed, validated [`CloneProperties`].
//! Every error names the property it is about.

use crate::text::shorten;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aws::Tags;
use crate::config::check_secret_prefix;
use crate::plan::naming::check_rds_identifier;
use crate::plan::tags::check_user_tags;
use crate::time::{parse_duration, parse_timestamp};

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
}

/// The property names this resource understands (besides CloudFormation's `ServiceToken`).
pub const PROPERTY_NAMES: &[&str] = &[
    "SourceClusterId",
    "ClusterId",
    "CopyOk",
    "PurgeObsoleteCopies",
    "InstanceClass",
    "CopyCreatedSince",
    "MaxCopyAge",
    "SetPassword",
    "AccessPrincipalArns",
    "KmsKeyId",
    "ForceCreateKmsKey",
    "SecretPrefix",
    "NoFailOnExistingCluster",
    "WaitForReady",
    "Tags",
    "DBSubnetGroupName",
    "VpcSecurityGroupIds",
    "DBClusterParameterGroupName",
    "DBParameterGroupName",
    "FinalSnapshot",
    "ExpiresAfter",
    "ExpiresAt",
    "IdleAfter",
    "IdleAction",
];

/// Parses CloudFormation's `ResourceProperties` into validated properties.
pub fn parse_properties(value: &Value) -> Result<CloneProperties, PropertyError> {
    let empty = Map::new();
    // No properties at all reads as an empty set, so the error names the first one needed.
    let object = if value.is_null() {
        Some(&empty)
    } else {
        value.as_object()
    };
    let Some(object) = object else {
        return Err(PropertyError::new(
            "ResourceProperties",
            "must be an object of properties",
        ));
    };
    for key in object.keys() {
        if key != "ServiceToken" && !PROPERTY_NAMES.contains(&key.as_str()) {
            let hint = PROPERTY_NAMES
                .iter()
                .find(|known| known.eq_ignore_ascii_case(key))
                .map(|known| format!(" (did you mean {known}?)"))
                .unwrap_or_default();
            return Err(PropertyError::new(
                &shorten(key),
                format!("is not a property of Custom::AuroraClone{hint}"),
            ));
        }
    }
    let fields = Fields { object };
    let source_cluster_id = fields.required_string("SourceClusterId")?;
    let properties = CloneProperties {
        source_cluster_id,
        cluster_id: fields.string("ClusterId")?,
        copy_ok: fields.boolean("CopyOk", false)?,
        purge_obsolete_copies: fields.boolean("PurgeObsoleteCopies", true)?,
        instance_class: fields.string("InstanceClass")?,
        copy_created_since: fields
            .string("CopyCreatedSince")?
            .map(|text| parse_timestamp(&text))
            .transpose()
            .map_err(|problem| PropertyError::new("CopyCreatedSince", problem))?,
        max_copy_age: fields
            .string("MaxCopyAge")?
            .map(|text| parse_duration(&text))
            .transpose()
            .map_err(|problem| PropertyError::new("MaxCopyAge", problem))?,
        set_password: fields.boolean("SetPassword", false)?,
        access_principal_arns: fields.list("AccessPrincipalArns")?.unwrap_or_default(),
        kms_key_id: fields.string("KmsKeyId")?,
        force_create_kms_key: fields.boolean("ForceCreateKmsKey", false)?,
        secret_prefix: fields.string("SecretPrefix")?,
        no_fail_on_existing_cluster: fields.boolean("NoFailOnExistingCluster", false)?,
        wait_for_ready: fields.boolean("WaitForReady", true)?,
        tags: fields.tags("Tags")?,
        db_subnet_group_name: fields.string("DBSubnetGroupName")?,
        vpc_security_group_ids: fields.list("VpcSecurityGroupIds")?,
        db_cluster_parameter_group_name: fields.string("DBClusterParameterGroupName")?,
        db_parameter_group_name: fields.string("DBParameterGroupName")?,
        final_snapshot: fields.boolean("FinalSnapshot", false)?,
        expires_after: fields
            .string("ExpiresAfter")?
            .map(|text| parse_duration(&text))
            .transpose()
            .map_err(|problem| PropertyError::new("ExpiresAfter", problem))?,
        expires_at: fields
            .string("ExpiresAt")?
            .map(|text| parse_timestamp(&text))
            .transpose()
            .map_err(|problem| PropertyError::new("ExpiresAt", problem))?,
        idle_after: fields
            .string("IdleAfter")?
            .map(|text| parse_duration(&text))
            .transpose()
            .map_err(|problem| PropertyError::new("IdleAfter", problem))?,
        idle_action: match fields.string("IdleAction")? {
            None => IdleAction::Stop,
            Some(text) => IdleAction::parse(&text).ok_or_else(|| {
                PropertyError::new(
                    "IdleAction",
                    format!(
                        "expected \"stop\" or \"delete\", got \"{}\"",
                        shorten(&text)
                    ),
                )
            })?,
        },
    };
    properties.validate()?;
    Ok(properties)
}

/// Reads only `FinalSnapshot`, leniently: a Delete must work even when the stored
/// properties would no longer pass validation.
pub fn final_snapshot_requested(value: &Value) -> bool {
    value
        .get("FinalSnapshot")
        .and_then(|flag| match flag {
            Value::Bool(flag) => Some(*flag),
            Value::String(text) => parse_bool(text),
            _ => None,
        })
        .unwrap_or(false)
}

/// Typed access to one properties object, with errors naming the property.
struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn string(&self, name: &str) -> Result<Option<String>, PropertyError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => {
                if text.len() > 2048 {
                    return Err(PropertyError::new(name, "is longer than 2048 characters"));
                }
                Ok(Some(text.trim().to_string()))
            }
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(other) => Err(PropertyError::new(
                name,
                format!("expected a string, got {}", kind_of(other)),
            )),
        }
    }

    fn required_string(&self, name: &str) -> Result<String, PropertyError> {
        self.string(name)?
            .ok_or_else(|| PropertyError::new(name, "is required"))
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool, PropertyError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(default),
            Some(Value::String(text)) => parse_bool(text).ok_or_else(|| {
                PropertyError::new(
                    name,
                    format!("expected \"true\" or \"false\", got \"{}\"", shorten(text)),
                )
            }),
            Some(other) => Err(PropertyError::new(
                name,
                format!("expected \"true\" or \"false\", got {}", kind_of(other)),
            )),
        }
    }

    /// A list given as a JSON array of strings or as one comma-separated string.
    fn list(&self, name: &str) -> Result<Option<Vec<String>>, PropertyError> {
        let items: Vec<String> = match self.object.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => text.split(',').map(str::to_string).collect(),
            Some(Value::Array(values)) => {
                let mut items = Vec::with_capacity(values.len());
                for (index, value) in values.iter().enumerate() {
                    match value {
                        Value::String(text) => items.push(text.clone()),
                        other => {
                            return Err(PropertyError::new(
                                &format!("{name}[{index}]"),
                                format!("expected a string, got {}", kind_of(other)),
                            ));
                        }
                    }
                }
                items
            }
            Some(other) => {
                return Err(PropertyError::new(
                    name,
                    format!(
                        "expected a list or a comma-separated string, got {}",
                        kind_of(other)
                    ),
                ));
            }
        };
        if items.len() > 100 {
            return Err(PropertyError::new(name, "has more than 100 entries"));
        }
        let mut cleaned: Vec<String> = Vec::new();
        for item in items {
            let item = item.trim().to_string();
            if !item.is_empty() && !cleaned.contains(&item) {
                cleaned.push(item);
            }
        }
        Ok(Some(cleaned))
    }

    /// Tags as a map (`{"team": "data"}`) or CloudFormation's list of `{Key, Value}`.
    fn tags(&self, name: &str) -> Result<Tags, PropertyError> {
        let mut tags = Tags::new();
        match self.object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if map.len() > 50 {
                    return Err(PropertyError::new(
                        name,
                        format!(
                            "has {} tags; at most {} are allowed",
                            map.len(),
                            crate::plan::tags::MAX_USER_TAGS
                        ),
                    ));
                }
                for (key, value) in map {
                    tags.insert(key.clone(), tag_value(name, key, value)?);
                }
            }
            Some(Value::Array(entries)) => {
                if entries.len() > 50 {
                    return Err(PropertyError::new(
                        name,
                        format!(
                            "has {} tags; at most {} are allowed",
                            entries.len(),
                            crate::plan::tags::MAX_USER_TAGS
                        ),
                    ));
                }
                for (index, entry) in entries.iter().enumerate() {
                    let key = entry.get("Key").and_then(Value::as_str).ok_or_else(|| {
                        PropertyError::new(
                            &format!("{name}[{index}]"),
                            "expected an object with a string Key and Value",
                        )
                    })?;
                    let value = entry.get("Value").unwrap_or(&Value::Null);
                    tags.insert(key.to_string(), tag_value(name, key, value)?);
                }
            }
            Some(other) => {
                return Err(PropertyError::new(
                    name,
                    format!(
                        "expected a map of tag names to values, got {}",
                        kind_of(other)
                    ),
                ));
            }
        }
        Ok(tags)
    }
}

fn tag_value(property: &str, key: &str, value: &Value) -> Result<String, PropertyError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(PropertyError::new(
            &format!("{property}.{}", shorten(key)),
            format!("expected a string, got {}", kind_of(other)),
        )),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
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
    use serde_json::json;

    #[test]
    fn string_scalars_as_cloudformation_sends_them_parse() {
        let properties = parse_properties(&json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:acm",
            "SourceClusterId": "prod-db",
            "CopyOk": "true",
            "PurgeObsoleteCopies": "false",
            "MaxCopyAge": "P2D",
            "CopyCreatedSince": "2024-05-01T00:00:00",
            "SetPassword": "true",
            "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev, arn:aws:iam::123456789012:user/ann",
            "WaitForReady": "false",
            "Tags": {"team": "data"},
            "VpcSecurityGroupIds": ["sg-0123abcd"]
        }))
        .unwrap();
        assert!(properties.copy_ok);
        assert!(!properties.purge_obsolete_copies);
        assert_eq!(properties.max_copy_age, Some(TimeDelta::days(2)));
        assert_eq!(properties.access_principal_arns.len(), 2);
        assert!(!properties.wait_for_ready);
        assert_eq!(
            properties.tags.get("team").map(String::as_str),
            Some("data")
        );
    }

    #[test]
    fn defaults_follow_the_design() {
        let properties = parse_properties(&json!({"SourceClusterId": "prod-db"})).unwrap();
        assert_eq!(properties, CloneProperties::for_source("prod-db"));
    }

    #[test]
    fn errors_name_the_property() {
        let cases = [
            (json!({}), "SourceClusterId"),
            (json!({"SourceClusterId": "1bad"}), "SourceClusterId"),
            (
                json!({"SourceClusterId": "db", "CopyOk": "maybe"}),
                "CopyOk",
            ),
            (
                json!({"SourceClusterId": "db", "SetPassword": "true"}),
                "AccessPrincipalArns",
            ),
            (
                json!({"SourceClusterId": "db", "SetPassword": true, "AccessPrincipalArns": "*"}),
                "AccessPrincipalArns",
            ),
            (
                json!({"SourceClusterId": "db", "MaxCopyAge": "P1M"}),
                "MaxCopyAge",
            ),
            (json!({"SourceClusterId": "db", "Tags": "x"}), "Tags"),
            (
                json!({"SourceClusterId": "db", "SourceClusterID": "x"}),
                "SourceClusterID",
            ),
        ];
        for (input, property) in cases {
            let error = parse_properties(&input).unwrap_err();
            assert_eq!(error.property, property, "{error}");
        }
    }

    #[test]
    fn expiry_is_a_duration_or_a_time_and_bad_values_name_their_property() {
        let after =
            parse_properties(&json!({"SourceClusterId": "db", "ExpiresAfter": "PT2H"})).unwrap();
        assert_eq!(after.expires_after, Some(TimeDelta::hours(2)));
        let made = parse_timestamp("2026-05-01T10:00:00Z").unwrap();
        assert_eq!(after.expiry(made), Some(made + TimeDelta::hours(2)));
        let at = parse_properties(
            &json!({"SourceClusterId": "db", "ExpiresAt": "2026-06-01T00:00:00+02:00"}),
        )
        .unwrap();
        assert_eq!(
            at.expiry(made),
            Some(parse_timestamp("2026-05-31T22:00:00Z").unwrap())
        );
        assert_eq!(CloneProperties::for_source("db").expiry(made), None);
        for (input, property) in [
            (
                json!({"SourceClusterId": "db", "ExpiresAfter": "P1M"}),
                "ExpiresAfter",
            ),
            (
                json!({"SourceClusterId": "db", "ExpiresAfter": "PT0S"}),
                "ExpiresAfter",
            ),
            (
                json!({"SourceClusterId": "db", "ExpiresAfter": "soon"}),
                "ExpiresAfter",
            ),
            (
                json!({"SourceClusterId": "db", "ExpiresAt": "tomorrow"}),
                "ExpiresAt",
            ),
            (
                json!({"SourceClusterId": "db", "ExpiresAfter": "P1D", "ExpiresAt": "2026-06-01"}),
                "ExpiresAt",
            ),
        ] {
            let error = parse_properties(&input).unwrap_err();
            assert_eq!(error.property, property, "{error}");
        }
    }

    #[test]
    fn idle_settings_are_whole_hours_and_a_known_action() {
        let idle = parse_properties(
            &json!({"SourceClusterId": "db", "IdleAfter": "PT12H", "IdleAction": "delete"}),
        )
        .unwrap();
        assert_eq!(idle.idle_after, Some(TimeDelta::hours(12)));
        assert_eq!(idle.idle_action, IdleAction::Delete);
        for (input, property) in [
            (
                json!({"SourceClusterId": "db", "IdleAfter": "PT30M"}),
                "IdleAfter",
            ),
            (
                json!({"SourceClusterId": "db", "IdleAfter": "P8D"}),
                "IdleAfter",
            ),
            (
                json!({"SourceClusterId": "db", "IdleAfter": "PT90M"}),
                "IdleAfter",
            ),
            (
                json!({"SourceClusterId": "db", "IdleAfter": "PT2H", "IdleAction": "nap"}),
                "IdleAction",
            ),
            (
                json!({"SourceClusterId": "db", "IdleAction": "delete"}),
                "IdleAction",
            ),
        ] {
            let error = parse_properties(&input).unwrap_err();
            assert_eq!(error.property, property, "{error}");
        }
    }

    #[test]
    fn changing_the_expiry_keeps_the_same_clone() {
        let old =
            parse_properties(&json!({"SourceClusterId": "db", "ExpiresAfter": "PT2H"})).unwrap();
        let new =
            parse_properties(&json!({"SourceClusterId": "db", "ExpiresAt": "2026-06-01"})).unwrap();
        assert_eq!(old.identity(), new.identity());
    }

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

    #[test]
    fn final_snapshot_is_read_leniently_for_deletes() {
        assert!(final_snapshot_requested(&json!({"FinalSnapshot": "true"})));
        assert!(!final_snapshot_requested(
            &json!({"FinalSnapshot": "nope", "SourceClusterId": 5})
        ));
        assert!(!final_snapshot_requested(&json!(null)));
    }
}
