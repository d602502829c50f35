//! Event dispatch: tells the shapes of Lambda input apart by the keys that distinguish them,
//! then parses each into its typed form. An unknown shape is an error, never a guess.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::cfn::CloudFormationEvent;
use crate::input::properties::{ResourceProperties, read_resource_properties};

/// Everything the function can be invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A CloudFormation custom-resource request (has `RequestType` and `ResponseURL`), read
    /// here once: its envelope leniently (so that even a malformed one can be answered),
    /// the request and its properties strictly.
    CloudFormation(Box<CloudFormationEvent<ResourceProperties>>),
    /// The maintenance schedule: an EventBridge scheduled event, or the original tool's
    /// constant input `{"source": "events", "action": "maintain!"}`.
    Scheduled(ScheduledEvent),
    /// An RDS instance event from EventBridge (`RDS-EVENT-0005`: instance created).
    RdsInstance(RdsInstanceEvent),
    /// A manual invocation or a continuation of our own (`{"action": ...}`).
    Action(Action),
}

/// An EventBridge scheduled event (or the legacy constant input, with defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ScheduledEvent {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub resources: Vec<String>,
}

/// An `RDS DB Instance Event` from EventBridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdsInstanceEvent {
    #[serde(default)]
    pub id: Option<String>,
    /// The ARNs the event is about; for an instance event, the instance's ARN.
    #[serde(default)]
    pub resources: Vec<String>,
    pub detail: RdsEventDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RdsEventDetail {
    #[serde(rename = "EventID")]
    pub event_id: String,
    pub source_identifier: String,
    #[serde(default)]
    pub source_arn: Option<String>,
    #[serde(default)]
    pub source_type: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl RdsInstanceEvent {
    /// Whether this is the "DB instance created" event the finisher listens for.
    pub fn is_instance_created(&self) -> bool {
        self.detail.event_id.ends_with("RDS-EVENT-0005")
    }

    /// The DB instance identifier the event is about.
    ///
    /// Taken from an ARN (`SourceArn`, else the instance ARN in `resources`), because
    /// `SourceIdentifier` is not reliably the bare identifier: AWS's own EventBridge
    /// sample for RDS events shows it as `rds:<id>`. Only when no ARN names an instance
    /// is `SourceIdentifier` used, with an `rds:` prefix removed.
    pub fn instance_id(&self) -> &str {
        let from_arn = self
            .detail
            .source_arn
            .iter()
            .chain(self.resources.iter())
            .find_map(|arn| aurora_clone_model::naming::instance_id_from_arn(arn));
        from_arn.unwrap_or_else(|| {
            let identifier = self.detail.source_identifier.as_str();
            identifier.strip_prefix("rds:").unwrap_or(identifier)
        })
    }
}

/// Actions invoked by hand (dry runs, status) or by this function itself (continuations).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Maintain {
        dry_run: bool,
    },
    /// The clone properties (CloudFormation names) are the rest of the object.
    Provision {
        dry_run: bool,
        properties: Value,
    },
    Status {
        source_cluster_id: Option<String>,
    },
    /// The lifecycle sweep (its schedule, or by hand): expire clones, announce expiring ones.
    Sweep {
        dry_run: bool,
    },
    /// A hand-over from an earlier invocation that was finishing a clone.
    Finish {
        job: Value,
    },
    /// A hand-over from an earlier invocation whose CloudFormation Delete waits for a
    /// stopped clone to start.
    Delete {
        job: Value,
    },
}

/// Why an event could not be dispatched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    #[error("the event is not a JSON object")]
    NotAnObject,
    #[error(
        "unrecognised event: expected a CloudFormation request (RequestType and ResponseURL), an EventBridge event (source and detail-type), or an action ({{\"action\": \"maintain\"|\"provision\"|\"status\"|\"sweep\"}})"
    )]
    UnknownShape,
    #[error("unsupported EventBridge event: source '{event_source}', detail-type '{detail_type}'")]
    UnsupportedEventBridge {
        event_source: String,
        detail_type: String,
    },
    #[error("action: '{0}' is not one of maintain, provision, status, sweep")]
    UnknownAction(String),
    #[error("{field}: {problem}")]
    BadField { field: String, problem: String },
}

fn bad_field(field: &str, problem: impl Into<String>) -> DispatchError {
    DispatchError::BadField {
        field: field.to_string(),
        // Parse errors quote the offending value; a huge one must not make a huge message.
        problem: aurora_clone_model::text::shorten_to(&problem.into(), 300),
    }
}

/// Classifies and parses an incoming event.
pub fn dispatch(raw: Value) -> Result<Event, DispatchError> {
    let Some(object) = raw.as_object() else {
        return Err(DispatchError::NotAnObject);
    };
    if object.contains_key("RequestType") && object.contains_key("ResponseURL") {
        return Ok(Event::CloudFormation(Box::new(CloudFormationEvent::read(
            &raw,
            read_resource_properties,
        ))));
    }
    if let Some(action) = object.get("action") {
        let Some(action) = action.as_str() else {
            return Err(bad_field("action", "expected a string"));
        };
        return parse_action(action, object).map(|parsed| match parsed {
            ParsedAction::Legacy => Event::Scheduled(ScheduledEvent::default()),
            ParsedAction::Action(action) => Event::Action(action),
        });
    }
    let source = object.get("source").and_then(Value::as_str);
    let detail_type = object.get("detail-type").and_then(Value::as_str);
    match (source, detail_type) {
        (Some("aws.events"), Some("Scheduled Event")) => serde_json::from_value(raw.clone())
            .map(Event::Scheduled)
            .map_err(|error| bad_field("scheduled event", error.to_string())),
        (Some("aws.rds"), Some("RDS DB Instance Event")) => serde_json::from_value(raw.clone())
            .map(Event::RdsInstance)
            .map_err(|error| bad_field("detail", error.to_string())),
        (Some(source), Some(detail_type)) => Err(DispatchError::UnsupportedEventBridge {
            event_source: source.chars().take(60).collect(),
            detail_type: detail_type.chars().take(60).collect(),
        }),
        _ => Err(DispatchError::UnknownShape),
    }
}

enum ParsedAction {
    Legacy,
    Action(Action),
}

fn parse_action(
    action: &str,
    object: &serde_json::Map<String, Value>,
) -> Result<ParsedAction, DispatchError> {
    let dry_run = match object.get("dryRun").or_else(|| object.get("dry-run")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => true,
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(bad_field("dryRun", "expected true or false")),
    };
    match action {
        // The original tool's schedule input.
        "maintain!" if object.get("source").and_then(Value::as_str) == Some("events") => {
            Ok(ParsedAction::Legacy)
        }
        "maintain" | "maintain!" => Ok(ParsedAction::Action(Action::Maintain { dry_run })),
        "provision" => {
            let properties: serde_json::Map<String, Value> = object
                .iter()
                .filter(|(key, _)| !matches!(key.as_str(), "action" | "dryRun" | "dry-run"))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            Ok(ParsedAction::Action(Action::Provision {
                dry_run,
                properties: Value::Object(properties),
            }))
        }
        "sweep" => Ok(ParsedAction::Action(Action::Sweep { dry_run })),
        "status" => {
            let source_cluster_id = match object
                .get("sourceClusterId")
                .or_else(|| object.get("SourceClusterId"))
            {
                None | Some(Value::Null) => None,
                Some(Value::String(id)) => Some(id.clone()),
                Some(_) => return Err(bad_field("sourceClusterId", "expected a string")),
            };
            Ok(ParsedAction::Action(Action::Status { source_cluster_id }))
        }
        "finish" => {
            let job = object
                .get("job")
                .cloned()
                .ok_or_else(|| bad_field("job", "is required for a finish action"))?;
            Ok(ParsedAction::Action(Action::Finish { job }))
        }
        "delete" => {
            let job = object
                .get("job")
                .cloned()
                .ok_or_else(|| bad_field("job", "is required for a delete action"))?;
            Ok(ParsedAction::Action(Action::Delete { job }))
        }
        other => Err(DispatchError::UnknownAction(
            other.chars().take(40).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_told_apart_by_their_keys() {
        assert!(matches!(
            dispatch(json!({"RequestType": "Create", "ResponseURL": "https://x"})),
            Ok(Event::CloudFormation(_))
        ));
        assert!(matches!(
            dispatch(json!({"source": "events", "action": "maintain!"})),
            Ok(Event::Scheduled(_))
        ));
        assert_eq!(
            dispatch(json!({"action": "maintain", "dryRun": true})).unwrap(),
            Event::Action(Action::Maintain { dry_run: true })
        );
        assert_eq!(
            dispatch(json!({"action": "sweep"})).unwrap(),
            Event::Action(Action::Sweep { dry_run: false })
        );
        assert_eq!(
            dispatch(json!({"action": "sweep", "dryRun": true})).unwrap(),
            Event::Action(Action::Sweep { dry_run: true })
        );
        assert!(matches!(
            dispatch(json!({"action": "status", "sourceClusterId": "prod"})),
            Ok(Event::Action(Action::Status {
                source_cluster_id: Some(_)
            }))
        ));
    }

    fn rds_event(source_identifier: &str, source_arn: Option<&str>, resources: &[&str]) -> Value {
        json!({
            "source": "aws.rds",
            "detail-type": "RDS DB Instance Event",
            "resources": resources,
            "detail": {
                "EventID": "RDS-EVENT-0005",
                "SourceIdentifier": source_identifier,
                "SourceArn": source_arn,
                "SourceType": "DB_INSTANCE",
            }
        })
    }

    fn instance_id_of(raw: Value) -> String {
        match dispatch(raw).unwrap() {
            Event::RdsInstance(event) => event.instance_id().to_string(),
            other => panic!("not an RDS event: {other:?}"),
        }
    }

    #[test]
    fn an_rds_event_names_its_instance_by_arn_even_when_source_identifier_is_prefixed() {
        let arn = "arn:aws:rds:us-east-1:123456789012:db:clone-1-1";
        assert_eq!(
            instance_id_of(rds_event("rds:clone-1-1", Some(arn), &[arn])),
            "clone-1-1"
        );
        assert_eq!(
            instance_id_of(rds_event("rds:clone-1-1", None, &[arn])),
            "clone-1-1"
        );
        assert_eq!(
            instance_id_of(rds_event("rds:clone-1-1", None, &[])),
            "clone-1-1"
        );
        assert_eq!(
            instance_id_of(rds_event("clone-1-1", None, &[])),
            "clone-1-1"
        );
        let cluster_arn = "arn:aws:rds:us-east-1:123456789012:cluster:clone-1";
        assert_eq!(
            instance_id_of(rds_event("clone-1-1", Some(cluster_arn), &[cluster_arn])),
            "clone-1-1",
            "a cluster ARN does not name the instance"
        );
    }

    #[test]
    fn unknown_shapes_are_errors_not_guesses() {
        assert_eq!(dispatch(json!([1])), Err(DispatchError::NotAnObject));
        assert_eq!(
            dispatch(json!({"hello": 1})),
            Err(DispatchError::UnknownShape)
        );
        assert_eq!(
            dispatch(json!({"RequestType": "Create"})),
            Err(DispatchError::UnknownShape)
        );
        assert!(matches!(
            dispatch(json!({"source": "aws.s3", "detail-type": "Object Created"})),
            Err(DispatchError::UnsupportedEventBridge { .. })
        ));
        assert!(matches!(
            dispatch(json!({"action": "explode"})),
            Err(DispatchError::UnknownAction(_))
        ));
        assert!(matches!(
            dispatch(json!({"action": "maintain", "dryRun": "perhaps"})),
            Err(DispatchError::BadField { .. })
        ));
    }
}
