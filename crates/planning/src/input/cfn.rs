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
            aurora_clone_model::naming::short_hash(&[
                &self.stack_id,
                &self.logical_resource_id,
                &self.request_id
            ])
        )
    }
}

/// A typed custom-resource request, generic over how its properties are read (raw JSON
/// as CloudFormation sends them, or a resource's own reading of them); an Update carries
/// the old properties beside the new.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    tag = "RequestType",
    bound(deserialize = "P: Deserialize<'de> + Default")
)]
pub enum CfnRequest<P = Value> {
    Create(CreateRequest<P>),
    Update(UpdateRequest<P>),
    Delete(DeleteRequest<P>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest<P = Value> {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub resource_properties: P,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRequest<P = Value> {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    pub physical_resource_id: String,
    #[serde(default)]
    pub resource_properties: P,
    #[serde(default)]
    pub old_resource_properties: P,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest<P = Value> {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub logical_resource_id: String,
    pub physical_resource_id: String,
    #[serde(default)]
    pub resource_properties: P,
}

impl<P> CfnRequest<P> {
    /// The same request with its properties (and an Update's old ones) read by `read`.
    pub fn map_properties<Q>(self, read: impl Fn(P) -> Q) -> CfnRequest<Q> {
        match self {
            CfnRequest::Create(create) => CfnRequest::Create(CreateRequest {
                response_url: create.response_url,
                stack_id: create.stack_id,
                request_id: create.request_id,
                resource_type: create.resource_type,
                logical_resource_id: create.logical_resource_id,
                resource_properties: read(create.resource_properties),
            }),
            CfnRequest::Update(update) => CfnRequest::Update(UpdateRequest {
                response_url: update.response_url,
                stack_id: update.stack_id,
                request_id: update.request_id,
                resource_type: update.resource_type,
                logical_resource_id: update.logical_resource_id,
                physical_resource_id: update.physical_resource_id,
                resource_properties: read(update.resource_properties),
                old_resource_properties: read(update.old_resource_properties),
            }),
            CfnRequest::Delete(delete) => CfnRequest::Delete(DeleteRequest {
                response_url: delete.response_url,
                stack_id: delete.stack_id,
                request_id: delete.request_id,
                resource_type: delete.resource_type,
                logical_resource_id: delete.logical_resource_id,
                physical_resource_id: delete.physical_resource_id,
                resource_properties: read(delete.resource_properties),
            }),
        }
    }
}

/// A CloudFormation event read once: the envelope, read leniently so that even a malformed
/// request can be answered, and the typed request or what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudFormationEvent<P> {
    pub envelope: Envelope,
    pub request: Result<CfnRequest<P>, String>,
}

impl<P> CloudFormationEvent<P> {
    /// Reads the envelope and the request, and the request's properties with `read`.
    pub fn read(raw: &Value, read: impl Fn(Value) -> P) -> CloudFormationEvent<P> {
        CloudFormationEvent {
            envelope: Envelope::read(raw),
            request: parse_request(raw).map(|request| request.map_properties(read)),
        }
    }
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

    #[test]
    fn an_event_is_read_once_into_envelope_and_request_with_old_properties_on_update() {
        let raw = json!({
            "RequestType": "Update", "ResponseURL": "https://example.invalid/r",
            "StackId": "s", "RequestId": "r", "ResourceType": "Custom::AuroraClone",
            "LogicalResourceId": "Db", "PhysicalResourceId": "arn:x",
            "ResourceProperties": {"SourceClusterId": "new"},
            "OldResourceProperties": {"SourceClusterId": "old"}
        });
        let event = CloudFormationEvent::read(&raw, |properties| {
            properties["SourceClusterId"]
                .as_str()
                .unwrap_or("")
                .to_string()
        });
        assert_eq!(
            event.envelope.physical_resource_id.as_deref(),
            Some("arn:x")
        );
        let Ok(CfnRequest::Update(update)) = event.request else {
            panic!("expected an Update, got {:?}", event.request);
        };
        assert_eq!(update.resource_properties, "new");
        assert_eq!(update.old_resource_properties, "old");
        let broken = CloudFormationEvent::read(&json!({"ResponseURL": "https://x"}), |_| ());
        assert_eq!(broken.envelope.response_url, "https://x");
        assert_eq!(
            broken.request,
            Err("RequestType: expected a string".to_string())
        );
    }
}
