//! The CloudFormation custom-resource request: the envelope every request carries (read
//! leniently, so that even a malformed request can be answered) and the typed request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fields every request carries and every response echoes, read leniently so that even
/// a malformed request can be answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

impl Envelope {
    /// Reads the envelope from any JSON; missing fields become empty strings.
    pub fn read(raw: &Value) -> Envelope {
        let text = |key: &str| {
            raw.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Envelope {
            response_url: text("ResponseURL"),
            stack_id: text("StackId"),
            request_id: text("RequestId"),
            logical_resource_id: text("LogicalResourceId"),
            physical_resource_id: raw
                .get("PhysicalResourceId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_string),
        }
    }

    /// The physical id to report when a request fails before a resource exists: not a
    /// cluster ARN, so that the Delete CloudFormation sends on rollback does nothing.
    pub fn placeholder_physical_id(&self) -> String {
        format!(
            "aurora-clone-not-created-{}",
            crate::plan::naming::short_hash(&[
                &self.stack_id,
                &self.logical_resource_id,
                &self.request_id
            ])
        )
    }
}

/// A typed custom-resource request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "RequestType")]
pub enum CfnRequest {
    Create(CreateRequest),
    Update(UpdateRequest),
    Delete(DeleteRequest),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub resource_properties: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRequest {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    pub physical_resource_id: String,
    #[serde(default)]
    pub resource_properties: Value,
    #[serde(default)]
    pub old_resource_properties: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    pub physical_resource_id: String,
    #[serde(default)]
    pub resource_properties: Value,
}

/// Parses a request, with an error that says what is wrong with it.
pub fn parse_request(raw: &Value) -> Result<CfnRequest, String> {
    match raw.get("RequestType").and_then(Value::as_str) {
        Some("Create" | "Update" | "Delete") => {}
        Some(other) => {
            return Err(format!(
                "RequestType: '{}' is not Create, Update or Delete",
                other.chars().take(40).collect::<String>()
            ));
        }
        None => return Err("RequestType: expected a string".into()),
    }
    for field in [
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "ResourceType",
    ] {
        match raw.get(field) {
            Some(Value::String(text)) if !text.is_empty() => {}
            Some(Value::String(_)) | None => return Err(format!("{field}: is required")),
            Some(_) => return Err(format!("{field}: expected a string")),
        }
    }
    if raw.get("RequestType").and_then(Value::as_str) != Some("Create") {
        match raw.get("PhysicalResourceId") {
            Some(Value::String(text)) if !text.is_empty() => {}
            _ => return Err("PhysicalResourceId: is required for Update and Delete".into()),
        }
    }
    if let Some(properties) = raw.get("ResourceProperties")
        && !properties.is_object()
    {
        return Err("ResourceProperties: expected an object".into());
    }
    serde_json::from_value(raw.clone()).map_err(|error| format!("request: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_parse_by_type_and_bad_ones_say_why() {
        let base = json!({
            "ResponseURL": "https://example.invalid/r", "StackId": "s", "RequestId": "r",
            "ResourceType": "Custom::AuroraClone", "LogicalResourceId": "Db",
            "ResourceProperties": {"SourceClusterId": "prod"}
        });
        let mut create = base.clone();
        create["RequestType"] = json!("Create");
        assert!(matches!(parse_request(&create), Ok(CfnRequest::Create(_))));
        let mut delete = base.clone();
        delete["RequestType"] = json!("Delete");
        assert_eq!(
            parse_request(&delete).unwrap_err(),
            "PhysicalResourceId: is required for Update and Delete"
        );
        let mut odd = base;
        odd["RequestType"] = json!("Replace");
        assert!(parse_request(&odd).unwrap_err().starts_with("RequestType:"));
    }
}
