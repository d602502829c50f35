//! The `Custom::AuroraClone` resource properties: parsed from the JSON CloudFormation sends
//! (every scalar arrives as a string) into the planner's [`CloneProperties`], validated
//! by its own rules.
//! Every error names the property it is about.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::input::capacity::{parse_acu, parse_auto_pause};
use crate::plan::capacity::CapacityRequest;
use crate::plan::request::{CloneProperties, PropertyError};
use aurora_clone_model::tags::IdleAction;
use aurora_clone_model::text::shorten;
use aurora_clone_model::time::{parse_duration, parse_timestamp};

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
    "ServerlessMinCapacity",
    "ServerlessMaxCapacity",
    "AutoPauseAfter",
    "RefreshToken",
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
        serverless: serverless_capacity(&fields)?,
        refresh_token: fields.string("RefreshToken")?,
    };
    properties.validate()?;
    Ok(properties)
}

/// `ServerlessMinCapacity`, `ServerlessMaxCapacity` and `AutoPauseAfter`: both capacities
/// or none, and the pause only with them.
fn serverless_capacity(fields: &Fields<'_>) -> Result<Option<CapacityRequest>, PropertyError> {
    let acu = |name: &str| -> Result<Option<f64>, PropertyError> {
        match fields.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(value) => parse_acu(value)
                .map(Some)
                .map_err(|problem| PropertyError::new(name, problem)),
        }
    };
    let min = acu("ServerlessMinCapacity")?;
    let max = acu("ServerlessMaxCapacity")?;
    let auto_pause_seconds = fields
        .string("AutoPauseAfter")?
        .map(|text| parse_auto_pause(&text))
        .transpose()
        .map_err(|problem| PropertyError::new("AutoPauseAfter", problem))?;
    match (min, max) {
        (Some(min_acu), Some(max_acu)) => Ok(Some(CapacityRequest {
            min_acu,
            max_acu,
            auto_pause_seconds,
        })),
        (Some(_), None) => Err(PropertyError::new(
            "ServerlessMaxCapacity",
            "is required with ServerlessMinCapacity",
        )),
        (None, Some(_)) => Err(PropertyError::new(
            "ServerlessMinCapacity",
            "is required with ServerlessMaxCapacity",
        )),
        (None, None) if auto_pause_seconds.is_some() => Err(PropertyError::new(
            "AutoPauseAfter",
            "needs ServerlessMinCapacity 0 and a ServerlessMaxCapacity: only a Serverless v2 \
             instance with a minimum of 0 ACUs pauses",
        )),
        (None, None) => Ok(None),
    }
}

/// A request's `ResourceProperties` as the `Custom::AuroraClone` resource reads them, once.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceProperties {
    /// The validated clone properties, or what is wrong with them: a Create or Update
    /// fails with it; an Update whose old properties fail treats them as unknown.
    pub clone: Result<CloneProperties, PropertyError>,
    /// `FinalSnapshot`, read leniently: a Delete must work even when the stored properties
    /// would no longer pass validation.
    pub final_snapshot: bool,
}

/// Reads `ResourceProperties` for every use a request makes of them.
pub fn read_resource_properties(value: Value) -> ResourceProperties {
    ResourceProperties {
        clone: parse_properties(&value),
        final_snapshot: final_snapshot_requested(&value),
    }
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
    fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, PropertyError> {
        let mut tags = BTreeMap::new();
        match self.object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if map.len() > 50 {
                    return Err(PropertyError::new(
                        name,
                        format!(
                            "has {} tags; at most {} are allowed",
                            map.len(),
                            aurora_clone_model::tags::MAX_USER_TAGS
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
                            aurora_clone_model::tags::MAX_USER_TAGS
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
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
    fn final_snapshot_is_read_leniently_for_deletes() {
        assert!(final_snapshot_requested(&json!({"FinalSnapshot": "true"})));
        assert!(!final_snapshot_requested(
            &json!({"FinalSnapshot": "nope", "SourceClusterId": 5})
        ));
        assert!(!final_snapshot_requested(&json!(null)));
    }
}
