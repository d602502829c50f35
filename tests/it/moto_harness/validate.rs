//! What the account proxy checks before it forwards a request to moto: the request against
//! botocore's service model of its operation (required members, enums, lengths, patterns,
//! ranges, list sizes) and against the crate's table of AWS rules
//! (`aurora_clone_manager::model::rules`). moto accepts much that AWS refuses; this step
//! refuses it the way AWS would, so an adapter that sends it fails in the tests too.
//!
//! Protocols: RDS and STS speak awsQuery (a form body, lists as `Tags.Tag.1.Key`, the
//! member's `locationName` or `member` naming the list entries); SSM, Secrets Manager, KMS
//! and EventBridge speak awsJson (the operation in `X-Amz-Target`). Lambda's restJson
//! requests are not checked.
//!
//! Refusals use the codes of AWS's common errors
//! (<https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html>): on
//! awsQuery `MissingParameter` for an absent required member and `InvalidParameterValue`
//! for a value outside the model; on awsJson `ValidationException`. A broken rule of the
//! table is answered with the rule's own code.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use aurora_clone_manager::aws::{ServerlessV2Scaling, Tags};
use aurora_clone_manager::model::ClusterStatus;
use aurora_clone_manager::model::rules::{self, EventEntry, RuleViolation};
use regex::Regex;
use serde_json::Value;

/// Why the proxy answers a request itself instead of forwarding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The AWS error code to answer with.
    pub code: String,
    pub message: String,
    /// The AWS rule broken, when the refusal comes from the rules table.
    pub rule_id: Option<&'static str>,
}

impl Refusal {
    fn shape(code: &str, message: String) -> Refusal {
        Refusal {
            code: code.to_string(),
            message,
            rule_id: None,
        }
    }
}

impl From<RuleViolation> for Refusal {
    fn from(violation: RuleViolation) -> Refusal {
        Refusal {
            code: violation.error_code.to_string(),
            message: violation.to_string(),
            rule_id: Some(violation.rule_id),
        }
    }
}

/// A rule that depends on a cluster's state, which the proxy learns from moto before it
/// decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateCheck {
    /// DeleteDBCluster: refused while the cluster is stopped.
    DeleteCluster { cluster_id: String },
    /// StartDBCluster: refused unless the cluster is stopped.
    StartCluster { cluster_id: String },
    /// CreateDBInstance of a `db.serverless` instance: the cluster needs a scaling
    /// configuration.
    ServerlessInstance {
        cluster_id: String,
        instance_class: String,
    },
    /// RestoreDBClusterToPointInTime with MinCapacity 0: the source's engine version must
    /// allow it (the restore keeps that version).
    ScaleToZero { source_cluster_id: String },
    /// ModifyDBCluster with a new master password: its limits depend on the engine.
    MasterPassword {
        cluster_id: String,
        password: String,
    },
}

/// What moto says about a cluster, for a [`StateCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFacts {
    pub status: String,
    pub engine: String,
    pub has_serverless_v2_scaling: bool,
    pub engine_version: Option<String>,
}

impl StateCheck {
    /// The cluster whose facts the check needs.
    pub fn cluster_id(&self) -> &str {
        match self {
            StateCheck::DeleteCluster { cluster_id }
            | StateCheck::StartCluster { cluster_id }
            | StateCheck::ServerlessInstance { cluster_id, .. }
            | StateCheck::MasterPassword { cluster_id, .. } => cluster_id,
            StateCheck::ScaleToZero { source_cluster_id } => source_cluster_id,
        }
    }

    /// Applies the rule to the cluster's facts; a cluster moto does not know is left to
    /// moto's own answer (DBClusterNotFoundFault).
    pub fn check(&self, facts: Option<&ClusterFacts>) -> Result<(), Refusal> {
        let Some(facts) = facts else {
            return Ok(());
        };
        match self {
            StateCheck::DeleteCluster { cluster_id } => {
                rules::check_cluster_deletable(cluster_id, &ClusterStatus::parse(&facts.status))?
            }
            StateCheck::StartCluster { cluster_id } => {
                rules::check_cluster_startable(cluster_id, &ClusterStatus::parse(&facts.status))?
            }
            StateCheck::ServerlessInstance {
                cluster_id,
                instance_class,
            } => rules::check_serverless_instance(
                instance_class,
                cluster_id,
                facts.has_serverless_v2_scaling,
            )?,
            StateCheck::MasterPassword { password, .. } => {
                rules::check_master_password(&facts.engine, password)?
            }
            StateCheck::ScaleToZero { .. } => {
                rules::check_scale_to_zero(&facts.engine, facts.engine_version.as_deref(), 0.0)?
            }
        }
        Ok(())
    }
}

/// A cluster rename, and what it depends on besides the request: the cluster's state and
/// whether its new name is taken, which the proxy learns from moto (moto renames over an
/// existing cluster and in any state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub id: String,
    pub new_id: String,
}

impl Rename {
    /// Applies the rename rules; `status` is `None` when moto does not know the resource
    /// (left to moto's own NotFound answer).
    pub fn check(&self, status: Option<&str>, new_name_taken: bool) -> Result<(), Refusal> {
        let Some(status) = status else {
            return Ok(());
        };
        rules::check_cluster_renamable(
            &self.id,
            &ClusterStatus::parse(status),
            &self.new_id,
            new_name_taken,
        )?;
        Ok(())
    }
}

/// The rename a request asks for (ModifyDBCluster with `NewDBClusterIdentifier`), if any;
/// the clone manager never renames an instance. The new name is compared in
/// lower case, as RDS stores it.
pub fn rename_of(request: &Request<'_>) -> Option<Rename> {
    if request.service != "rds" {
        return None;
    }
    let mut form = Form::new();
    for text in [
        request.query.unwrap_or_default(),
        std::str::from_utf8(request.body).unwrap_or_default(),
    ] {
        form.extend(parse_form(text));
    }
    if form.get("Action").map(String::as_str) != Some("ModifyDBCluster") {
        return None;
    }
    let id = form.get("DBClusterIdentifier")?;
    let new_id = form.get("NewDBClusterIdentifier")?;
    Some(Rename {
        id: id.clone(),
        new_id: new_id.to_ascii_lowercase(),
    })
}

/// One request as the proxy received it.
pub struct Request<'a> {
    /// The signing name: `rds`, `ssm`, ...
    pub service: &'a str,
    /// From the SigV4 credential scope.
    pub region: &'a str,
    /// `X-Amz-Target`, for awsJson services.
    pub target: Option<&'a str>,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks one request. `Ok(Some(check))` means the request passed what can be checked
/// from the request alone and `check` still needs the cluster's state.
pub fn validate(request: &Request<'_>) -> Result<Option<StateCheck>, Refusal> {
    let Some(model) = model_of(request.service) else {
        return Ok(None);
    };
    match model.protocol.as_str() {
        "query" => validate_query(&model, request),
        "json" => validate_json(&model, request),
        // restJson (Lambda) and anything else: not checked.
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------
// awsQuery

/// A form body (and URL query) as flat `name -> value` pairs.
type Form = BTreeMap<String, String>;

fn validate_query(model: &Model, request: &Request<'_>) -> Result<Option<StateCheck>, Refusal> {
    let mut form = Form::new();
    for text in [
        request.query.unwrap_or_default(),
        std::str::from_utf8(request.body).unwrap_or_default(),
    ] {
        for (name, value) in parse_form(text) {
            form.insert(name, value);
        }
    }
    let Some(operation) = form.get("Action").cloned() else {
        return Ok(None);
    };
    let Some(input) = model.input_shape(&operation) else {
        return Ok(None);
    };
    let mut checker = QueryChecker {
        model,
        form: &form,
        path: String::new(),
    };
    checker.structure(input, "")?;
    if request.service == "rds" {
        return rds_rules(&operation, &form);
    }
    Ok(None)
}

struct QueryChecker<'a> {
    model: &'a Model,
    form: &'a Form,
    /// The member path for messages (`Tags[0].Key`).
    path: String,
}

impl QueryChecker<'_> {
    fn present(&self, prefix: &str) -> bool {
        self.form.contains_key(prefix)
            || self
                .form
                .range(format!("{prefix}.")..)
                .next()
                .is_some_and(|(name, _)| name.starts_with(&format!("{prefix}.")))
    }

    fn structure(&mut self, shape_name: &str, prefix: &str) -> Result<(), Refusal> {
        let shape = self.model.shape(shape_name);
        let required = string_list(&shape["required"]);
        let Some(members) = shape["members"].as_object() else {
            return Ok(());
        };
        for (member, spec) in members {
            let wire_name = spec["locationName"].as_str().unwrap_or(member);
            let key = if prefix.is_empty() {
                wire_name.to_string()
            } else {
                format!("{prefix}.{wire_name}")
            };
            let outer = self.path.clone();
            self.path = join_path(&outer, member);
            if !self.present(&key) {
                if required.contains(member) {
                    return Err(Refusal::shape(
                        "MissingParameter",
                        format!("The request must contain the parameter {}", self.path),
                    ));
                }
            } else {
                self.value(spec["shape"].as_str().unwrap_or_default(), &key)?;
            }
            self.path = outer;
        }
        Ok(())
    }

    fn value(&mut self, shape_name: &str, key: &str) -> Result<(), Refusal> {
        let shape = self.model.shape(shape_name);
        match shape["type"].as_str().unwrap_or_default() {
            "structure" => self.structure(shape_name, key),
            "list" => {
                let member = &shape["member"];
                let entry_prefix = if shape["flattened"].as_bool() == Some(true) {
                    key.to_string()
                } else {
                    format!(
                        "{key}.{}",
                        member["locationName"].as_str().unwrap_or("member")
                    )
                };
                let mut count = 0;
                while self.present(&format!("{entry_prefix}.{}", count + 1)) {
                    count += 1;
                    let outer = self.path.clone();
                    self.path = format!("{outer}[{}]", count - 1);
                    self.value(
                        member["shape"].as_str().unwrap_or_default(),
                        &format!("{entry_prefix}.{count}"),
                    )?;
                    self.path = outer;
                }
                check_count(shape, count, &self.path, "InvalidParameterValue")
            }
            "map" => Ok(()),
            _ => {
                let text = self.form.get(key).map(String::as_str).unwrap_or_default();
                check_scalar(shape, text, &self.path, "InvalidParameterValue")
            }
        }
    }
}

/// The rules of the table that apply to RDS requests.
fn rds_rules(operation: &str, form: &Form) -> Result<Option<StateCheck>, Refusal> {
    let get = |name: &str| form.get(name).map(String::as_str);
    let tags = || query_tags(form, "Tags", "Tag");
    match operation {
        "RestoreDBClusterToPointInTime" => {
            rules::check_cluster_identifier(get("DBClusterIdentifier").unwrap_or_default())?;
            rules::check_rds_tags(&tags())?;
            rules::check_restore_point(
                get("RestoreType"),
                get("RestoreToTime").is_some(),
                get("UseLatestRestorableTime") == Some("true"),
            )?;
            let top_level: Vec<&str> = form
                .keys()
                .map(|name| name.split('.').next().unwrap_or_default())
                .collect();
            rules::check_aurora_restore_members(top_level)?;
            let capacity = |member: &str| {
                get(&format!("ServerlessV2ScalingConfiguration.{member}"))
                    .map(|text| text.parse::<f64>().unwrap_or(f64::NAN))
            };
            let scaling = ServerlessV2Scaling {
                min_capacity: capacity("MinCapacity"),
                max_capacity: capacity("MaxCapacity"),
                seconds_until_auto_pause: get(
                    "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause",
                )
                .map(|text| text.parse::<i32>().unwrap_or(i32::MIN)),
            };
            rules::check_serverless_scaling(&scaling)?;
            match (scaling.min_capacity, get("SourceDBClusterIdentifier")) {
                (Some(0.0), Some(source)) => Ok(Some(StateCheck::ScaleToZero {
                    source_cluster_id: source.to_string(),
                })),
                _ => Ok(None),
            }
        }
        "CreateDBInstance" => {
            rules::check_instance_identifier(get("DBInstanceIdentifier").unwrap_or_default())?;
            rules::check_rds_tags(&tags())?;
            match (get("DBClusterIdentifier"), get("DBInstanceClass")) {
                (Some(cluster_id), Some(class)) if class == rules::SERVERLESS_INSTANCE_CLASS => {
                    Ok(Some(StateCheck::ServerlessInstance {
                        cluster_id: cluster_id.to_string(),
                        instance_class: class.to_string(),
                    }))
                }
                _ => Ok(None),
            }
        }
        "AddTagsToResource" => {
            rules::check_rds_tags(&tags())?;
            Ok(None)
        }
        "ModifyDBCluster" => {
            if let Some(new_id) = get("NewDBClusterIdentifier") {
                rules::check_new_cluster_identifier(new_id)?;
            }
            Ok(
                get("MasterUserPassword").map(|password| StateCheck::MasterPassword {
                    cluster_id: get("DBClusterIdentifier").unwrap_or_default().to_string(),
                    password: password.to_string(),
                }),
            )
        }
        "DeleteDBCluster" => Ok(Some(StateCheck::DeleteCluster {
            cluster_id: get("DBClusterIdentifier").unwrap_or_default().to_string(),
        })),
        "StartDBCluster" => Ok(Some(StateCheck::StartCluster {
            cluster_id: get("DBClusterIdentifier").unwrap_or_default().to_string(),
        })),
        _ => Ok(None),
    }
}

/// RDS tags of a form: `Tags.Tag.N.Key` / `Tags.Tag.N.Value` (or `member` for the entries).
fn query_tags(form: &Form, list: &str, entry: &str) -> Tags {
    let mut tags = Tags::new();
    for entry_name in [entry, "member"] {
        let mut index = 1;
        while let Some(key) = form.get(&format!("{list}.{entry_name}.{index}.Key")) {
            let value = form
                .get(&format!("{list}.{entry_name}.{index}.Value"))
                .cloned()
                .unwrap_or_default();
            tags.insert(key.clone(), value);
            index += 1;
        }
    }
    tags
}

/// `a=b&c=d` with `+` as space and `%XX` escapes.
fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or_default();
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        decoded.push(byte);
                        index += 2;
                    }
                    Err(_) => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

// ---------------------------------------------------------------------------------------
// awsJson

fn validate_json(model: &Model, request: &Request<'_>) -> Result<Option<StateCheck>, Refusal> {
    let Some(operation) = request
        .target
        .and_then(|target| target.split_once('.'))
        .map(|(_, operation)| operation)
    else {
        return Ok(None);
    };
    let Some(input) = model.input_shape(operation) else {
        return Ok(None);
    };
    let body: Value = if request.body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(request.body).map_err(|error| {
            Refusal::shape(
                "SerializationException",
                format!("the body is not JSON: {error}"),
            )
        })?
    };
    json_value(model, input, &body, "")?;
    json_rules(request.service, operation, &body, request.region)?;
    Ok(None)
}

fn json_value(model: &Model, shape_name: &str, value: &Value, path: &str) -> Result<(), Refusal> {
    let shape = model.shape(shape_name);
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            let object = value.as_object().cloned().unwrap_or_default();
            for member in string_list(&shape["required"]) {
                if object.get(&member).is_none_or(Value::is_null) {
                    return Err(Refusal::shape(
                        "ValidationException",
                        format!(
                            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                            join_path(path, &member)
                        ),
                    ));
                }
            }
            if let Some(members) = shape["members"].as_object() {
                for (member, spec) in members {
                    if let Some(member_value) = object.get(member).filter(|v| !v.is_null()) {
                        json_value(
                            model,
                            spec["shape"].as_str().unwrap_or_default(),
                            member_value,
                            &join_path(path, member),
                        )?;
                    }
                }
            }
            Ok(())
        }
        "list" => {
            let items = value.as_array().cloned().unwrap_or_default();
            for (index, item) in items.iter().enumerate() {
                json_value(
                    model,
                    shape["member"]["shape"].as_str().unwrap_or_default(),
                    item,
                    &format!("{path}[{index}]"),
                )?;
            }
            check_count(shape, items.len(), path, "ValidationException")
        }
        "map" => {
            let entries = value.as_object().cloned().unwrap_or_default();
            for (key, item) in &entries {
                json_value(
                    model,
                    shape["key"]["shape"].as_str().unwrap_or_default(),
                    &Value::String(key.clone()),
                    &format!("{path}.key"),
                )?;
                json_value(
                    model,
                    shape["value"]["shape"].as_str().unwrap_or_default(),
                    item,
                    &format!("{path}[{key}]"),
                )?;
            }
            check_count(shape, entries.len(), path, "ValidationException")
        }
        _ => {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            check_scalar(shape, &text, path, "ValidationException")
        }
    }
}

/// The rules of the table that apply to awsJson requests.
fn json_rules(service: &str, operation: &str, body: &Value, region: &str) -> Result<(), Refusal> {
    let text = |name: &str| body[name].as_str().unwrap_or_default();
    match (service, operation) {
        ("secretsmanager", "CreateSecret") => {
            rules::check_secret_name(text("Name"))?;
            rules::check_secret_tags(&json_tags(&body["Tags"], "Key", "Value"))?;
        }
        ("secretsmanager", "TagResource") => {
            rules::check_secret_tags(&json_tags(&body["Tags"], "Key", "Value"))?;
        }
        ("kms", "CreateKey" | "TagResource") => {
            rules::check_kms_tags(&json_tags(&body["Tags"], "TagKey", "TagValue"))?;
        }
        ("kms", "CreateAlias") => rules::check_alias_name(text("AliasName"))?,
        ("events", "PutEvents") => {
            let entries = body["Entries"].as_array().cloned().unwrap_or_default();
            rules::check_event_entry_count(entries.len())?;
            for entry in &entries {
                let resources: Vec<String> = entry["Resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|resource| resource.as_str().map(str::to_string))
                    .collect();
                rules::check_event_entry(&EventEntry {
                    source: entry["Source"].as_str(),
                    detail_type: entry["DetailType"].as_str(),
                    detail: entry["Detail"].as_str(),
                    resources: &resources,
                    has_time: !entry["Time"].is_null(),
                })?;
            }
        }
        ("dynamodb", "PutItem") => rules::check_state_item(&state_item(&body["Item"]))?,
        ("dynamodb", "GetItem" | "DeleteItem") => {
            let key = &body["Key"];
            rules::check_state_key(
                key["pk"]["S"].as_str().unwrap_or_default(),
                key["sk"]["S"].as_str().unwrap_or_default(),
            )?;
        }
        ("ssm", "PutParameter") => {
            rules::check_parameter_name(text("Name"), region)?;
            if text("Tier") != "Advanced" {
                rules::check_parameter_value(text("Name"), text("Value"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A DynamoDB item in its wire form (`{"pk": {"S": ".."}, "n": {"N": "1"}}`) as the rules
/// see it; other attribute types are counted as text of their JSON.
fn state_item(item: &Value) -> aurora_clone_manager::aws::StateItem {
    use aurora_clone_manager::aws::{StateItem, StateValue};
    let text = |name: &str| item[name]["S"].as_str().unwrap_or_default().to_string();
    let mut state = StateItem::new(&text("pk"), &text("sk"));
    for (name, value) in item.as_object().into_iter().flatten() {
        if name == "pk" || name == "sk" {
            continue;
        }
        let value = match (value["S"].as_str(), value["N"].as_str()) {
            (Some(text), _) => StateValue::Text(text.to_string()),
            (None, Some(number)) => StateValue::Number(number.parse().unwrap_or(i64::MAX)),
            _ => StateValue::Text(value.to_string()),
        };
        state.attributes.insert(name.clone(), value);
    }
    state
}

fn json_tags(list: &Value, key_name: &str, value_name: &str) -> Tags {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|tag| {
            (
                tag[key_name].as_str().unwrap_or_default().to_string(),
                tag[value_name].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Constraints shared by both protocols

fn check_count(shape: &Value, count: usize, path: &str, code: &str) -> Result<(), Refusal> {
    let count = count as i64;
    if let Some(min) = shape["min"].as_i64()
        && count < min
    {
        return Err(Refusal::shape(
            code,
            format!("{path} has {count} entries; at least {min} are required"),
        ));
    }
    if let Some(max) = shape["max"].as_i64()
        && count > max
    {
        return Err(Refusal::shape(
            code,
            format!("{path} has {count} entries; at most {max} are allowed"),
        ));
    }
    Ok(())
}

fn check_scalar(shape: &Value, text: &str, path: &str, code: &str) -> Result<(), Refusal> {
    match shape["type"].as_str().unwrap_or_default() {
        "string" => {
            let length = text.chars().count() as i64;
            if let Some(min) = shape["min"].as_i64()
                && length < min
            {
                return Err(Refusal::shape(
                    code,
                    format!("{path} has length {length}; the minimum is {min}"),
                ));
            }
            if let Some(max) = shape["max"].as_i64()
                && length > max
            {
                return Err(Refusal::shape(
                    code,
                    format!("{path} has length {length}; the maximum is {max}"),
                ));
            }
            let allowed = string_list(&shape["enum"]);
            if !allowed.is_empty() && !allowed.iter().any(|value| value == text) {
                return Err(Refusal::shape(
                    code,
                    format!(
                        "{path} is '{text}'; it must be one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if let Some(pattern) = shape["pattern"].as_str()
                && let Some(regex) = compiled(pattern)
                && !regex.is_match(text)
            {
                return Err(Refusal::shape(
                    code,
                    format!("{path} does not match the pattern {pattern}"),
                ));
            }
            Ok(())
        }
        "integer" | "long" => {
            let Ok(number) = text.parse::<i64>() else {
                return Err(Refusal::shape(
                    code,
                    format!("{path} is '{text}', not an integer"),
                ));
            };
            if let Some(min) = shape["min"].as_i64()
                && number < min
            {
                return Err(Refusal::shape(
                    code,
                    format!("{path} is {number}; the minimum is {min}"),
                ));
            }
            if let Some(max) = shape["max"].as_i64()
                && number > max
            {
                return Err(Refusal::shape(
                    code,
                    format!("{path} is {number}; the maximum is {max}"),
                ));
            }
            Ok(())
        }
        "boolean" if !matches!(text, "true" | "false") => Err(Refusal::shape(
            code,
            format!("{path} is '{text}', not a boolean"),
        )),
        _ => Ok(()),
    }
}

/// A model pattern, compiled once; `None` when the Rust regex engine cannot express it
/// (look-around, for example), in which case the pattern is not checked. Smithy patterns
/// are not implicitly anchored, so they are matched anywhere in the value.
fn compiled(pattern: &str) -> Option<Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| Regex::new(pattern).ok())
        .clone()
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}

fn join_path(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

// ---------------------------------------------------------------------------------------
// botocore's service models

/// One service's model, as botocore loads it.
pub struct Model {
    protocol: String,
    operations: Value,
    shapes: Value,
}

impl Model {
    fn input_shape(&self, operation: &str) -> Option<&str> {
        self.operations[operation]["input"]["shape"].as_str()
    }

    fn shape(&self, name: &str) -> &Value {
        &self.shapes[name]
    }
}

/// Signing names of the services whose requests are checked, and botocore's names for them.
const CHECKED_SERVICES: &[(&str, &str)] = &[
    ("rds", "rds"),
    ("sts", "sts"),
    ("ssm", "ssm"),
    ("secretsmanager", "secretsmanager"),
    ("kms", "kms"),
    ("events", "events"),
    ("dynamodb", "dynamodb"),
];

/// The model of a checked service, loaded once per test binary; `None` for services that
/// are not checked (Lambda).
fn model_of(service: &str) -> Option<Arc<Model>> {
    static MODELS: OnceLock<Mutex<HashMap<String, Arc<Model>>>> = OnceLock::new();
    let (_, botocore_name) = CHECKED_SERVICES
        .iter()
        .find(|(signing_name, _)| *signing_name == service)?;
    let mut models = MODELS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let model = models
        .entry(service.to_string())
        .or_insert_with(|| Arc::new(load_model(botocore_name)));
    Some(model.clone())
}

/// botocore's newest model of a service, loaded by botocore itself with the Python next to
/// moto, so compressed models and API versions are handled as botocore does.
fn load_model(service: &str) -> Model {
    let python = python_next_to_moto();
    let output = Command::new(&python)
        .args([
            "-c",
            "import json, sys, botocore.loaders; \
             print(json.dumps(botocore.loaders.Loader().load_service_model(sys.argv[1], 'service-2')))",
            service,
        ])
        .output()
        .unwrap_or_else(|error| panic!("run {} to load botocore's model: {error}", python.display()));
    assert!(
        output.status.success(),
        "botocore could not load the {service} model: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let model: Value = serde_json::from_slice(&output.stdout).expect("botocore prints JSON");
    Model {
        protocol: model["metadata"]["protocol"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        operations: model["operations"].clone(),
        shapes: model["shapes"].clone(),
    }
}

/// The Python of moto's environment (botocore comes with moto).
fn python_next_to_moto() -> PathBuf {
    let moto = super::moto::find_moto_binary().unwrap_or_else(|message| panic!("{message}"));
    let next_to_moto = moto.with_file_name("python3");
    if next_to_moto.is_file() {
        next_to_moto
    } else {
        PathBuf::from("python3")
    }
}
