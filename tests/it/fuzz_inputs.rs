//! Hostile input, fuzzed with proptest: event dispatch, CloudFormation request and property
//! parsing, whole payloads through the handler against the fake, and the EDN/JSON
//! maintenance config reader. Nothing may panic, and every refusal must say what is wrong
//! and where (a property from the known list or the offending key, a config path).
//!
//! Each target runs a fixed number of cases (`FUZZ_CASES`, default 2000) so that the suite
//! stays well under a minute in a debug build; set `FUZZ_CASES=50000` for a longer local
//! run. A failure prints the shrunk input.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aurora_clone_manager::aws::clock::{Clock, TokioClock};
use aurora_clone_manager::aws::fake::{FAKE_STATE_TABLE, FakeAws};
use aurora_clone_manager::input::cfn::parse_request;
use aurora_clone_manager::input::event::{Event, dispatch};
use aurora_clone_manager::input::maintenance_config::{
    MAX_TARGET_CLONE_SLOTS, MaintenanceConfig, parse_maintenance_config,
};
use aurora_clone_manager::input::properties::{PROPERTY_NAMES, parse_properties};
use aurora_clone_manager::lambda::handler::handle_payload;
use aurora_clone_manager::model::config::Config;
use aurora_clone_manager::model::naming::check_rds_identifier;
use aurora_clone_manager::plan::request::PropertyError;
use aurora_clone_manager::run::machinery::context::{Context, Invocation};
use aurora_clone_manager::run::machinery::respond::{
    MAX_RESPONSE_BYTES, RecordingResponder, Status,
};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError};
use serde_json::{Map, Number, Value, json};

// ---------------------------------------------------------------------------------------
// Settings and shared vocabulary.

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2000)
}

fn fuzz_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Failures are printed (shrunk); no regression files are written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Keys that steer dispatch and parsing, so that generated objects often look almost right.
const EVENT_KEYS: &[&str] = &[
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "ResourceType",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceProperties",
    "OldResourceProperties",
    "ServiceToken",
    "action",
    "dryRun",
    "dry-run",
    "source",
    "detail-type",
    "detail",
    "id",
    "time",
    "resources",
    "job",
    "clusterId",
    "readyBy",
    "hop",
    "respond",
    "sourceClusterId",
    "SourceClusterId",
    "EventID",
    "SourceIdentifier",
    "SourceArn",
    "SourceType",
    "Message",
    "Key",
    "Value",
];

/// Strings that parsers treat specially, plus a few that tend to break them.
const INTERESTING_STRINGS: &[&str] = &[
    "",
    " ",
    "true",
    "TRUE",
    "false",
    "yes",
    "0",
    "-1",
    "15",
    "1.5",
    "99999999999999999999999",
    "P3D",
    "PT50M",
    "P1DT12H",
    "P2W",
    "P1M",
    "P",
    "PT",
    "P99999999999999999D",
    "9223372036854775807",
    "2024-05-01T00:00:00Z",
    "2024-05-01",
    "9999-12-31T23:59:59Z",
    "0000-00-00T00:00:00",
    "arn:aws:iam::123456789012:role/dev",
    "arn:aws:sts::123456789012:assumed-role/dev/session",
    "arn:aws:rds:us-east-1:123456789012:cluster:prod-db",
    "arn:aws:iam::123456789012:role/dev,arn:aws:iam::123456789012:user/ann",
    "*",
    "https://example.invalid/response",
    "http://",
    "Create",
    "Update",
    "Delete",
    "Custom::AuroraClone",
    "maintain",
    "maintain!",
    "provision",
    "status",
    "finish",
    "events",
    "aws.events",
    "Scheduled Event",
    "aws.rds",
    "RDS DB Instance Event",
    "RDS-EVENT-0005",
    "prod-db",
    "a",
    "1bad",
    "a--b",
    "trailing-",
    "db.r6g.large",
    "db.serverless",
    "large",
    "sg-0123abcd",
    "sg-",
    "/aurora-clone-manager/",
    "alias/aws/secretsmanager",
    "\u{0}",
    "\n",
    "é",
    "🦀",
    "\u{202e}",
    "\"",
    "\\",
    "a,b,,c",
    ",,,",
];

fn arb_string() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(INTERESTING_STRINGS).prop_map(str::to_string),
        3 => ".{0,24}",
        1 => "[a-z][a-z0-9-]{0,70}",
        // Huge strings: names and reasons must be cut, never echoed whole.
        1 => (select(&["a", "é", "\"", "-", "🦀"][..]), 1_000usize..120_000)
            .prop_map(|(unit, count)| unit.repeat(count)),
    ]
    .boxed()
}

fn arb_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(EVENT_KEYS).prop_map(str::to_string),
        3 => select(PROPERTY_NAMES).prop_map(str::to_string),
        1 => select(PROPERTY_NAMES).prop_map(|name| name.to_lowercase()),
        2 => arb_string(),
    ]
    .boxed()
}

fn arb_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |number| {
            Number::from_f64(number).map(Value::Number)
        }),
        (-3i64..40).prop_map(Value::from),
    ]
    .boxed()
}

fn arb_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => arb_number(),
        5 => arb_string().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, biased towards the keys and strings the code looks at.
fn arb_json() -> BoxedStrategy<Value> {
    arb_leaf()
        .prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((arb_key(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
        .boxed()
}

/// `value` wrapped `depth` times in arrays or objects (JSON off the wire stops at 128).
fn nested(value: Value, depth: usize, in_objects: bool) -> Value {
    (0..depth).fold(value, |inner, _| {
        if in_objects {
            json!({ "a": inner })
        } else {
            json!([inner])
        }
    })
}

// ---------------------------------------------------------------------------------------
// Mutations of real samples.

fn fixture_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/events"
    ))
}

/// Every event sample, by file name.
fn fixtures() -> Vec<(String, Value)> {
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(fixture_dir())
        .expect("the fixtures directory")
        .map(|entry| entry.expect("a fixture").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable fixture");
            let value = serde_json::from_str(&text).expect("a fixture is JSON");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(samples.len() >= 10, "expected one sample per event shape");
    samples
}

fn fixture(name: &str) -> Value {
    fixtures()
        .into_iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

/// One change to a JSON document, applied at a position chosen by index.
#[derive(Debug, Clone)]
enum Mutation {
    /// Deletes the key or array element.
    Remove,
    /// Puts another value in its place.
    Replace(Value),
    /// Changes its type: a string becomes a number, a list, ...
    Retype(u8),
    /// Replaces it with a huge string.
    Huge(usize),
    /// Wraps it in deep nesting.
    Nest(usize, bool),
    /// Renames the key (objects only).
    Rename(String),
}

fn arb_mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => Just(Mutation::Remove),
        3 => arb_json().prop_map(Mutation::Replace),
        3 => any::<u8>().prop_map(Mutation::Retype),
        1 => (1_000usize..200_000).prop_map(Mutation::Huge),
        1 => (1usize..120, any::<bool>()).prop_map(|(depth, objects)| Mutation::Nest(depth, objects)),
        2 => arb_key().prop_map(Mutation::Rename),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Paths to every value below the root.
fn paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    prefix.push(Step::Key(key.clone()));
                    out.push(prefix.clone());
                    walk(child, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    prefix.push(Step::Index(index));
                    out.push(prefix.clone());
                    walk(child, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn retype(value: &Value, choice: u8) -> Value {
    match (value, choice % 4) {
        (Value::String(text), 0) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| json!(text.len())),
        (Value::String(text), 1) => json!([text]),
        (Value::String(text), 2) => json!({ "Value": text }),
        (Value::String(text), _) => json!(text.eq_ignore_ascii_case("true")),
        (Value::Number(number), 0) => json!(number.to_string()),
        (Value::Bool(flag), 0) => json!(flag.to_string()),
        (Value::Array(items), 0) => json!(items.first().cloned().unwrap_or(Value::Null)),
        (Value::Array(items), _) => json!(serde_json::to_string(items).unwrap()),
        (Value::Object(map), 0) => json!(serde_json::to_string(map).unwrap()),
        (Value::Object(map), _) => Value::Array(map.values().cloned().collect()),
        (_, 1) => Value::Null,
        (other, _) => json!([other]),
    }
}

fn mutate(document: &mut Value, selector: usize, mutation: &Mutation) {
    let all = paths(document);
    if all.is_empty() {
        if let Mutation::Replace(value) = mutation {
            *document = value.clone();
        }
        return;
    }
    let path = &all[selector % all.len()];
    let (last, parent_path) = path.split_last().expect("paths are never empty");
    let mut parent = &mut *document;
    for step in parent_path {
        parent = match step {
            Step::Key(key) => parent.get_mut(key.as_str()).expect("a path that exists"),
            Step::Index(index) => parent.get_mut(*index).expect("a path that exists"),
        };
    }
    match (parent, last) {
        (Value::Object(map), Step::Key(key)) => match mutation {
            Mutation::Remove => {
                map.remove(key);
            }
            Mutation::Rename(new_key) => {
                if let Some(value) = map.remove(key) {
                    map.insert(new_key.clone(), value);
                }
            }
            other => {
                let slot = map.get_mut(key).expect("a path that exists");
                *slot = changed(slot, other);
            }
        },
        (Value::Array(items), Step::Index(index)) => match mutation {
            Mutation::Remove => {
                items.remove(*index);
            }
            Mutation::Rename(_) => items.push(items[*index].clone()),
            other => items[*index] = changed(&items[*index], other),
        },
        _ => unreachable!("paths follow the document"),
    }
}

fn changed(value: &Value, mutation: &Mutation) -> Value {
    match mutation {
        Mutation::Replace(new) => new.clone(),
        Mutation::Retype(choice) => retype(value, *choice),
        Mutation::Huge(length) => Value::String("x".repeat(*length)),
        Mutation::Nest(depth, objects) => nested(value.clone(), *depth, *objects),
        Mutation::Remove | Mutation::Rename(_) => value.clone(),
    }
}

fn arb_mutations() -> BoxedStrategy<Vec<(usize, Mutation)>> {
    proptest::collection::vec((any::<usize>(), arb_mutation()), 1..5).boxed()
}

/// A real sample with a few mutations.
fn arb_mutated_fixture() -> BoxedStrategy<Value> {
    let samples: Vec<Value> = fixtures().into_iter().map(|(_, value)| value).collect();
    (select(samples), arb_mutations())
        .prop_map(|(mut document, mutations)| {
            for (selector, mutation) in &mutations {
                mutate(&mut document, *selector, mutation);
            }
            document
        })
        .boxed()
}

/// A byte-level change to a payload.
#[derive(Debug, Clone)]
enum ByteEdit {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn arb_byte_edit() -> BoxedStrategy<ByteEdit> {
    let junk = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..8),
        select(
            &[
                "\"",
                "{",
                "}",
                "[",
                ",",
                ":",
                "\\",
                "\"ResponseURL\":",
                "\u{0}",
                "é"
            ][..]
        )
        .prop_map(|text| text.as_bytes().to_vec()),
    ];
    prop_oneof![
        any::<usize>().prop_map(ByteEdit::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| ByteEdit::Flip(at, byte)),
        (any::<usize>(), junk).prop_map(|(at, bytes)| ByteEdit::Insert(at, bytes)),
        (any::<usize>(), 1usize..40).prop_map(|(at, length)| ByteEdit::Delete(at, length)),
    ]
    .boxed()
}

fn edit_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    if bytes.is_empty() {
        return;
    }
    match edit {
        ByteEdit::Truncate(at) => bytes.truncate(at % bytes.len()),
        ByteEdit::Flip(at, byte) => {
            let at = at % bytes.len();
            bytes[at] ^= byte | 1;
        }
        ByteEdit::Insert(at, junk) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, junk.iter().copied());
        }
        ByteEdit::Delete(at, length) => {
            let at = at % bytes.len();
            let end = (at + length).min(bytes.len());
            bytes.drain(at..end);
        }
    }
}

// ---------------------------------------------------------------------------------------
// What a clear error is.

/// The longest error message a caller should have to read; refusals of huge inputs must
/// quote a part, not the whole (the code shortens most quotes to 60-70 characters).
const MAX_ERROR_CHARS: usize = 1_000;

fn check_clear(message: &str, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.trim().is_empty(), "{what}: an empty error message");
    Ok(())
}

/// Property errors name a property from the known list (or one of its items, `Tags.team`,
/// `AccessPrincipalArns[2]`), the properties object itself, or the offending key.
fn names_a_property(error: &PropertyError, input: &Value) -> bool {
    let offending_key = input.as_object().is_some_and(|object| {
        object
            .keys()
            .any(|key| shortened(key, 60) == error.property)
    });
    let base = error.property.split(['[', '.']).next().unwrap_or_default();
    offending_key || base == "ResourceProperties" || PROPERTY_NAMES.contains(&base)
}

fn shortened(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(limit).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------
// Event dispatch.

fn check_dispatch(input: Value) -> Result<(), TestCaseError> {
    let looks_like_cloudformation = input.as_object().is_some_and(|object| {
        object.contains_key("RequestType") && object.contains_key("ResponseURL")
    });
    match dispatch(input) {
        Ok(Event::CloudFormation(_)) => prop_assert!(
            looks_like_cloudformation,
            "only a RequestType with a ResponseURL is a CloudFormation request"
        ),
        Ok(_) => prop_assert!(
            !looks_like_cloudformation,
            "a CloudFormation request was taken for something else"
        ),
        Err(error) => check_clear(&error.to_string(), "dispatch")?,
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn dispatch_of_arbitrary_json_never_panics_and_every_refusal_says_why(input in arb_json()) {
        check_dispatch(input)?;
    }

    #[test]
    fn dispatch_of_mutated_samples_never_panics_and_every_refusal_says_why(input in arb_mutated_fixture()) {
        check_dispatch(input)?;
    }
}

#[test]
fn deeply_nested_and_huge_events_are_classified_and_refused_in_few_words() {
    for depth in [1, 64, 127] {
        for objects in [false, true] {
            let deep = nested(json!("maintain"), depth, objects);
            assert!(dispatch(json!({ "action": deep.clone() })).is_err());
            assert!(matches!(
                dispatch(json!({ "RequestType": "Create", "ResponseURL": deep.clone() })),
                Ok(Event::CloudFormation(_))
            ));
            assert!(dispatch(deep).is_err());
        }
    }
    let error = dispatch(json!({ "action": "x".repeat(1_000_000) })).unwrap_err();
    assert!(error.to_string().len() < MAX_ERROR_CHARS, "{error}");
    let error =
        dispatch(json!({ "source": "y".repeat(1_000_000), "detail-type": "z".repeat(1_000_000) }))
            .unwrap_err();
    assert!(error.to_string().len() < MAX_ERROR_CHARS, "{error}");
}

// ---------------------------------------------------------------------------------------
// CloudFormation requests and properties.

const REQUEST_FIELDS: &[&str] = &[
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "ResourceType",
    "PhysicalResourceId",
    "ResourceProperties",
    "request",
];

fn arb_cloudformation_request() -> BoxedStrategy<Value> {
    let samples: Vec<Value> = [
        "cloudformation-create.json",
        "cloudformation-update.json",
        "cloudformation-delete.json",
    ]
    .into_iter()
    .map(fixture)
    .collect();
    (select(samples), arb_mutations())
        .prop_map(|(mut document, mutations)| {
            for (selector, mutation) in &mutations {
                mutate(&mut document, *selector, mutation);
            }
            document
        })
        .boxed()
}

fn check_request(input: &Value) -> Result<(), TestCaseError> {
    if let Err(reason) = parse_request(input) {
        check_clear(&reason, "parse_request")?;
        prop_assert!(
            REQUEST_FIELDS
                .iter()
                .any(|field| reason.starts_with(&format!("{field}: "))),
            "the reason does not start with the field it is about: {reason}"
        );
        prop_assert!(
            reason.chars().count() < MAX_ERROR_CHARS,
            "an unbounded reason: {} chars",
            reason.len()
        );
    }
    Ok(())
}

/// A property value: what CloudFormation sends (strings), and what a template author might
/// write by mistake.
fn arb_property_value() -> BoxedStrategy<Value> {
    let tag_value = prop_oneof![
        arb_string().prop_map(Value::String),
        arb_number(),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(json!({})),
    ];
    prop_oneof![
        6 => arb_string().prop_map(Value::String),
        2 => arb_leaf(),
        2 => proptest::collection::vec(arb_string(), 0..6)
            .prop_map(|items| json!(items)),
        1 => proptest::collection::vec(select(&["arn:aws:iam::123456789012:role/dev", "arn:aws:iam::123456789012:root"][..]), 0..30)
            .prop_map(|items| json!(items)),
        2 => proptest::collection::btree_map(arb_string(), tag_value.clone(), 0..60)
            .prop_map(|tags| json!(tags)),
        1 => proptest::collection::vec((arb_string(), tag_value), 0..60).prop_map(|pairs| {
            Value::Array(pairs.into_iter().map(|(key, value)| json!({"Key": key, "Value": value})).collect())
        }),
        1 => arb_json(),
    ]
    .boxed()
}

fn arb_properties() -> BoxedStrategy<Value> {
    let name = prop_oneof![
        12 => select(PROPERTY_NAMES).prop_map(str::to_string),
        1 => Just("ServiceToken".to_string()),
        1 => select(PROPERTY_NAMES).prop_map(|name| name.to_uppercase()),
        1 => arb_string(),
    ];
    let source = prop_oneof![
        Just(json!("prod-db")),
        arb_string().prop_map(Value::String),
        arb_leaf(),
    ];
    (
        source,
        proptest::collection::vec((name, arb_property_value()), 0..10),
    )
        .prop_map(|(source, entries)| {
            let mut object: Map<String, Value> = entries.into_iter().collect();
            object.entry("SourceClusterId").or_insert(source);
            Value::Object(object)
        })
        .boxed()
}

fn arb_mutated_properties() -> BoxedStrategy<Value> {
    let samples: Vec<Value> = ["cloudformation-create.json", "cloudformation-update.json"]
        .into_iter()
        .map(|name| fixture(name)["ResourceProperties"].clone())
        .collect();
    (select(samples), arb_mutations())
        .prop_map(|(mut document, mutations)| {
            for (selector, mutation) in &mutations {
                mutate(&mut document, *selector, mutation);
            }
            document
        })
        .boxed()
}

fn check_properties(input: &Value) -> Result<(), TestCaseError> {
    match parse_properties(input) {
        Ok(properties) => {
            prop_assert!(
                properties.validate().is_ok(),
                "parsed properties must pass their own validation"
            );
            prop_assert!(check_rds_identifier(&properties.source_cluster_id).is_ok());
        }
        Err(error) => {
            check_clear(&error.problem, "parse_properties")?;
            prop_assert!(
                names_a_property(&error, input),
                "the error names neither a known property nor the offending key: {error}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn mutated_cloudformation_requests_parse_or_name_the_field_at_fault(input in arb_cloudformation_request()) {
        check_request(&input)?;
    }

    #[test]
    fn arbitrary_json_as_a_cloudformation_request_parses_or_names_the_field_at_fault(input in arb_json()) {
        check_request(&input)?;
    }

    #[test]
    fn generated_properties_parse_or_name_the_property_at_fault(input in arb_properties()) {
        check_properties(&input)?;
    }

    #[test]
    fn mutated_sample_properties_parse_or_name_the_property_at_fault(input in arb_mutated_properties()) {
        check_properties(&input)?;
    }

    #[test]
    fn arbitrary_json_as_properties_parses_or_names_the_property_at_fault(input in arb_json()) {
        check_properties(&input)?;
    }
}

// ---------------------------------------------------------------------------------------
// Whole payloads through the handler, against the fake.

/// The ResponseURL a reader could still find in text that is not JSON: the first
/// `"ResponseURL"` followed by a quoted http(s) URL.
fn readable_response_url(text: &str) -> Option<String> {
    let start = text.find("\"ResponseURL\"")? + "\"ResponseURL\"".len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start();
    let body = rest.strip_prefix('"')?;
    let url = &body[..body.find('"')?];
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_string())
}

/// What a payload must get: exactly one answer (and to which URL), or at most one.
#[derive(Debug, PartialEq)]
enum Expected {
    ExactlyOne(Option<String>),
    None,
    AtMostOne,
}

fn expected_answers(payload: &[u8]) -> Expected {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(object))
            if object.contains_key("RequestType") && object.contains_key("ResponseURL") =>
        {
            Expected::ExactlyOne(object["ResponseURL"].as_str().map(str::to_string))
        }
        // A continuation may owe CloudFormation an answer; anything else owes none.
        Ok(_) => Expected::AtMostOne,
        Err(_) => match readable_response_url(&String::from_utf8_lossy(payload)) {
            Some(url) => Expected::ExactlyOne(Some(url)),
            None => Expected::None,
        },
    }
}

fn arb_response_url() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => select(&[
            "https://cloudformation-custom-resource-response.example/fuzz",
            "http://127.0.0.1:9/answer",
            "https://example.invalid/a\\\"quote",
        ][..]).prop_map(|url| json!(url)),
        1 => arb_leaf(),
    ]
    .boxed()
}

/// A CloudFormation request from a sample, with its URL replaced and a few mutations.
fn arb_cloudformation_payload() -> BoxedStrategy<Value> {
    (arb_cloudformation_request(), arb_response_url())
        .prop_map(|(mut request, url)| {
            if let Some(object) = request.as_object_mut() {
                object.insert("ResponseURL".into(), url);
            }
            request
        })
        .boxed()
}

fn arb_payload() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..400),
        2 => arb_json().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        3 => arb_mutated_fixture().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        4 => arb_cloudformation_payload().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        4 => (arb_cloudformation_payload(), proptest::collection::vec(arb_byte_edit(), 1..4))
            .prop_map(|(value, edits)| {
                let mut bytes = serde_json::to_vec_pretty(&value).unwrap();
                for edit in &edits {
                    edit_bytes(&mut bytes, edit);
                }
                bytes
            }),
        1 => (select(&["[", "{\"a\":"][..]), 129usize..20_000).prop_map(|(open, depth)| {
            let mut bytes = br#"{"RequestType":"Create","ResponseURL":"https://deep.example/x","ResourceProperties":"#.to_vec();
            bytes.extend(open.repeat(depth).into_bytes());
            bytes
        }),
    ]
    .boxed()
}

/// A fresh fake account and deployment for one payload.
fn fresh_app() -> (Arc<Context>, Arc<RecordingResponder>) {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
    ));
    let fake = FakeAws::with_clock(clock.clone());
    let responder = Arc::new(RecordingResponder::default());
    let mut config = Config::for_stack("acm");
    config.state_table = FAKE_STATE_TABLE.to_string();
    fake.create_state_table(&config.state_table);
    let app = Context::new(config, fake.ports(), responder.clone(), clock, "us-east-1");
    (Arc::new(app), responder)
}

fn check_payload(payload: &[u8]) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a test runtime");
    let (result, answers) = runtime.block_on(async {
        let (app, responder) = fresh_app();
        let invocation = Invocation {
            deadline: Some(tokio::time::Instant::now() + Duration::from_secs(900)),
            function_name: Some("arn:aws:lambda:us-east-1:123456789012:function:acm".into()),
        };
        let result = handle_payload(app, invocation, payload).await;
        (result, responder.responses())
    });
    if let Err(error) = &result {
        check_clear(&error.0, "handle_payload")?;
    }
    for (_, answer) in &answers {
        // The echoed ids cannot be shortened (CloudFormation matches them), so only answers
        // to requests with ids of a sane size can be held to the body limit.
        let echoed =
            answer.stack_id.len() + answer.request_id.len() + answer.logical_resource_id.len();
        if echoed < 2_048 {
            prop_assert!(
                answer.to_body().len() < MAX_RESPONSE_BYTES,
                "{} bytes",
                answer.to_body().len()
            );
        }
        if answer.status == Status::Failed {
            check_clear(
                answer.reason.as_deref().unwrap_or_default(),
                "a FAILED answer",
            )?;
        }
    }
    match expected_answers(payload) {
        Expected::ExactlyOne(url) => {
            prop_assert_eq!(
                answers.len(),
                1,
                "a CloudFormation request must get exactly one answer"
            );
            if let Some(url) = url {
                prop_assert_eq!(&answers[0].0, &url, "the answer went to another URL");
            }
        }
        Expected::None => prop_assert!(
            answers.is_empty(),
            "an answer to a payload without a ResponseURL"
        ),
        Expected::AtMostOne => prop_assert!(answers.len() <= 1, "{} answers", answers.len()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn any_payload_is_handled_without_panic_and_a_cloudformation_one_is_answered_exactly_once(payload in arb_payload()) {
        check_payload(&payload)?;
    }
}

#[test]
fn a_truncated_create_is_answered_once_while_its_response_url_is_readable_and_never_after() {
    let create = serde_json::to_string_pretty(&fixture("cloudformation-create.json")).unwrap();
    let url = fixture("cloudformation-create.json")["ResponseURL"]
        .as_str()
        .unwrap()
        .to_string();
    let cut = create.find(&url).unwrap() + url.len() + 1;
    for end in [cut, cut + 10, create.len() - 1] {
        let payload = &create.as_bytes()[..end];
        assert_eq!(
            expected_answers(payload),
            Expected::ExactlyOne(Some(url.clone()))
        );
        check_payload(payload).unwrap();
    }
    let payload = &create.as_bytes()[..cut - 5];
    assert_eq!(expected_answers(payload), Expected::None);
    check_payload(payload).unwrap();
}

// ---------------------------------------------------------------------------------------
// The maintenance config reader.

/// A config entry's keys in every accepted spelling, and some near misses.
const ENTRY_KEYS: &[&str] = &[
    "cluster-id",
    "clusterId",
    "cluster_id",
    "target-clone-slots",
    "targetCloneSlots",
    "dry-run?",
    "dryRun",
    "dry-run",
    "max-copy-age",
    "maxCopyAge",
    "instance-class",
    "instanceClass",
    "purge-obsolete-copies?",
    "purgeObsoleteCopies",
    "max-clones-per-source",
    "maxClonesPerSource",
    "target-slots",
    "ClusterId",
];

fn arb_entry_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => select(&["prod-db", "reporting", "a", "1bad", "a--b", "P3D", "P1M", "db.r6g.large", "large", "true", "20"][..])
            .prop_map(|text| json!(text)),
        3 => (0i64..2_000).prop_map(Value::from),
        2 => arb_leaf(),
        1 => arb_json(),
    ]
    .boxed()
}

fn arb_valid_entry() -> BoxedStrategy<Value> {
    (
        "[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,2}",
        1u32..=MAX_TARGET_CLONE_SLOTS,
        proptest::option::of(any::<bool>()),
        proptest::option::of(select(&["P3D", "PT12H", "P1DT2H", "2"][..])),
        proptest::option::of(select(
            &["db.t4g.medium", "db.r6g.large", "db.serverless"][..],
        )),
        proptest::option::of(1u32..=15),
    )
        .prop_map(|(id, slots, dry_run, age, class, max_clones)| {
            let mut entry = json!({"cluster-id": id, "target-clone-slots": slots});
            if let Some(flag) = dry_run {
                entry["dry-run?"] = json!(flag);
            }
            if let Some(age) = age {
                entry["max-copy-age"] = json!(age);
            }
            if let Some(class) = class {
                entry["instance-class"] = json!(class);
            }
            if let Some(max) = max_clones {
                entry["max-clones-per-source"] = json!(max);
            }
            entry
        })
        .boxed()
}

fn arb_entry() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => arb_valid_entry(),
        3 => proptest::collection::vec((select(ENTRY_KEYS).prop_map(str::to_string), arb_entry_value()), 0..7)
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        1 => arb_leaf(),
    ]
    .boxed()
}

/// A config document: `clusters` with entries, and sometimes other top-level keys.
fn arb_config_document() -> BoxedStrategy<Value> {
    let extra_key = select(
        &[
            "schedule",
            "Clusters",
            "cluster",
            "clusters-list",
            "dry-run?",
            "x",
        ][..],
    );
    (
        proptest::collection::vec(arb_entry(), 0..8),
        proptest::collection::vec((extra_key, arb_leaf()), 0..3),
    )
        .prop_map(|(entries, extras)| {
            let mut document = Map::new();
            for (key, value) in extras {
                document.insert(key.to_string(), value);
            }
            document.insert("clusters".into(), Value::Array(entries));
            Value::Object(document)
        })
        .boxed()
}

/// Renders JSON as EDN: keys that can be keywords become keywords, others strings.
fn to_edn(value: &Value) -> String {
    fn string(text: &str) -> String {
        let mut out = String::from("\"");
        for character in text.chars() {
            match character {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                other => out.push(other),
            }
        }
        out.push('"');
        out
    }
    match value {
        Value::Null => "nil".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string(text),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(to_edn).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(key, item)| {
                    let keyword = !key.is_empty()
                        && key.starts_with(|c: char| c.is_ascii_alphabetic())
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_?*!".contains(c));
                    let key = if keyword {
                        format!(":{key}")
                    } else {
                        string(key)
                    };
                    format!("{key} {}", to_edn(item))
                })
                .collect();
            format!("{{{}}}", entries.join(" "))
        }
    }
}

/// Entry `index` of `clusters` is accounted for: it became a target or has a problem.
fn problem_index(path: &str) -> Option<usize> {
    path.strip_prefix("clusters[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

/// Checks a config read from any text.
fn check_config_text(text: &str) -> Result<Option<MaintenanceConfig>, TestCaseError> {
    match parse_maintenance_config(text) {
        Ok(config) => {
            for problem in &config.problems {
                check_clear(&problem.problem, "a config problem")?;
                // Outside clusters the path is the offending top-level key, whatever it is
                // (an empty key gives an empty path: see the ignored findings at the end).
                prop_assert!(
                    problem.path.starts_with("clusters[")
                        || problem.problem.contains("is not a setting"),
                    "a problem outside clusters that is not an unknown top-level key: {problem:?}"
                );
            }
            for target in &config.targets {
                prop_assert!(
                    check_rds_identifier(&target.cluster_id).is_ok(),
                    "{target:?}"
                );
                prop_assert!((1..=MAX_TARGET_CLONE_SLOTS).contains(&target.target_clone_slots));
                prop_assert!(
                    target
                        .max_clones_per_source
                        .is_none_or(|max| (1..=15).contains(&max))
                );
                prop_assert!(
                    target
                        .max_copy_age
                        .is_none_or(|age| age > chrono::TimeDelta::zero())
                );
            }
            Ok(Some(config))
        }
        Err(error) => {
            check_clear(&error.0, "an unreadable config")?;
            Ok(None)
        }
    }
}

/// Checks a config generated as a document: every entry ends up a target or a problem at
/// its own path, and problems outside `clusters` name a top-level key of the document.
fn check_config_document(document: &Value, text: &str) -> Result<(), TestCaseError> {
    let Some(config) = check_config_text(text)? else {
        return Ok(());
    };
    let top_keys: Vec<&String> = document
        .as_object()
        .map(|map| map.keys().collect())
        .unwrap_or_default();
    for problem in &config.problems {
        prop_assert!(
            problem.path.starts_with("clusters[") || top_keys.contains(&&problem.path),
            "a problem path that is neither in clusters nor a top-level key: {problem:?}"
        );
    }
    if let Some(Value::Array(entries)) = document.get("clusters") {
        let with_problems: std::collections::BTreeSet<usize> = config
            .problems
            .iter()
            .filter_map(|problem| problem_index(&problem.path))
            .collect();
        prop_assert_eq!(
            config.targets.len() + with_problems.len(),
            entries.len(),
            "every entry is a target or a problem: {:?}",
            config
        );
    }
    Ok(())
}

fn arb_config_token() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(&[
            "{", "}", "[", "]", "(", ")", "#{", ":clusters", "\"clusters\":", ":cluster-id", "\"cluster-id\":",
            ":target-clone-slots", "\"targetCloneSlots\":", ":dry-run?", ":max-copy-age", ":instance-class",
            ":max-clones-per-source", ":purge-obsolete-copies?", "\"prod-db\"", "\"P3D\"", "\"P1M\"",
            "\"db.r6g.large\"", "20", "-3", "0", "1.5", "1e400", "1N", "1M", "0x10", "99999999999999999999999",
            "true", "false", "nil", "null", ",", ":", "\"", "\\", "\\a", "\\newline", "#_", "#inst", "\"2020\"",
            "#uuid", "##Inf", "##NaN", "##-Inf", "#", "'", "`", "~@", "^", "#?", "#:ns{", ";", ";comment\n",
            "\n", "\u{0}", "é", "🦀", ":", "::", ":/", "/",
        ][..]).prop_map(str::to_string),
        1 => ".{0,6}",
    ]
    .boxed()
}

fn arb_config_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => ".{0,200}",
        3 => proptest::collection::vec(arb_config_token(), 0..60).prop_map(|tokens| tokens.join(" ")),
        3 => (arb_config_document(), any::<bool>(), proptest::collection::vec(arb_byte_edit(), 1..4))
            .prop_map(|(document, as_edn, edits)| {
                let text = if as_edn { to_edn(&document) } else { document.to_string() };
                let mut bytes = text.into_bytes();
                for edit in &edits {
                    edit_bytes(&mut bytes, edit);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }),
    ]
    .boxed()
}

fn arb_mutated_valid_config() -> BoxedStrategy<Value> {
    (
        proptest::collection::vec(arb_valid_entry(), 1..6),
        arb_mutations(),
    )
        .prop_map(|(entries, mutations)| {
            let mut document = json!({ "clusters": entries });
            for (selector, mutation) in &mutations {
                mutate(&mut document, *selector, mutation);
            }
            document
        })
        .boxed()
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn arbitrary_text_as_a_maintenance_config_is_read_or_refused_clearly(text in arb_config_text()) {
        check_config_text(&text)?;
    }

    #[test]
    fn generated_configs_account_for_every_entry_by_path_in_edn_and_json(
        document in arb_config_document(),
        as_edn in any::<bool>(),
    ) {
        let text = if as_edn { to_edn(&document) } else { document.to_string() };
        check_config_document(&document, &text)?;
    }

    #[test]
    fn mutated_valid_configs_account_for_every_entry_by_path_in_edn_and_json(
        document in arb_mutated_valid_config(),
        as_edn in any::<bool>(),
    ) {
        let text = if as_edn { to_edn(&document) } else { document.to_string() };
        check_config_document(&document, &text)?;
    }
}

#[test]
fn valid_configs_read_the_same_in_edn_and_json() {
    let mut runner = proptest::test_runner::TestRunner::new(fuzz_config());
    runner
        .run(
            &proptest::collection::vec(arb_valid_entry(), 0..6),
            |entries| {
                // Distinct ids, so that no entry is a duplicate.
                let mut seen = std::collections::BTreeSet::new();
                let entries: Vec<Value> = entries
                    .into_iter()
                    .filter(|entry| seen.insert(entry["cluster-id"].as_str().unwrap().to_string()))
                    .collect();
                let document = json!({ "clusters": entries });
                let from_json = parse_maintenance_config(&document.to_string()).unwrap();
                let from_edn = parse_maintenance_config(&to_edn(&document)).unwrap();
                prop_assert!(from_json.problems.is_empty(), "{:?}", from_json.problems);
                prop_assert_eq!(from_json.targets.len(), entries.len());
                prop_assert_eq!(from_json, from_edn);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn a_config_nested_two_hundred_deep_is_read_without_a_crash() {
    // Deeper than serde_json's limit of 128, so the EDN reader sees it too.
    for (open, close) in [("[", "]"), ("{:a ", "}")] {
        let depth = 200;
        let text = format!(
            "{{:clusters [{}1{}]}}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let run = move || check_config_text(&text).map(|_| ()).unwrap();
        // The stack of a tokio worker thread, where the Lambda reads its config.
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// What fuzzing once found, kept as checks.

/// Every refusal of a huge value quotes a part of it: serde's `invalid type: string "..."`
/// inside dispatch (`detail`, `scheduled event`) and inside a continuation's `job`; ISO-8601
/// durations and timestamps; and unknown config keys, which become the problem's path.
#[test]

fn errors_about_a_huge_value_quote_a_part_of_it_not_all_of_it() {
    let big = "a".repeat(100_000);
    let mut failures = Vec::new();
    let mut check = |what: &str, message: String| {
        if message.chars().count() >= MAX_ERROR_CHARS {
            failures.push(format!("{what}: {} characters", message.chars().count()));
        }
    };
    for event in [
        json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event", "detail": big.clone()}),
        json!({"source": "aws.events", "detail-type": "Scheduled Event", "resources": big}),
    ] {
        check("dispatch", dispatch(event).unwrap_err().to_string());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let finish = json!({"action": "finish", "job": big}).to_string();
    let error = runtime
        .block_on(handle_payload(
            fresh_app().0,
            Invocation::unbounded(),
            finish.as_bytes(),
        ))
        .unwrap_err();
    check("a finish job", error.0);
    for (what, text) in [
        (
            "config max-copy-age",
            format!(
                r#"{{:clusters [{{:cluster-id "db" :target-clone-slots 5 :max-copy-age "{big}"}}]}}"#
            ),
        ),
        (
            "config entry key",
            format!(r#"{{:clusters [{{:cluster-id "db" :target-clone-slots 5 :{big} 1}}]}}"#),
        ),
        (
            "config top-level key",
            format!(r#"{{:clusters [] :{big} 1}}"#),
        ),
    ] {
        let config = parse_maintenance_config(&text).unwrap();
        check(what, config.problems[0].to_string());
    }
    for properties in [
        json!({"SourceClusterId": "db", "MaxCopyAge": format!("P{}D", "1".repeat(2_000))}),
        json!({"SourceClusterId": "db", "CopyCreatedSince": "x".repeat(2_000)}),
    ] {
        check(
            "a property",
            parse_properties(&properties).unwrap_err().to_string(),
        );
    }
    assert!(
        failures.is_empty(),
        "errors that quote a huge input whole: {failures:#?}"
    );
}

/// A config key that is empty (JSON allows `""`) is named in the path (`""`), and an empty
/// key inside an entry is blamed, not the whole entry.
#[test]
fn an_empty_config_key_is_reported_with_a_path_that_names_it() {
    let config = parse_maintenance_config(r#"{"": 1, "clusters": [{"": 2}]}"#).unwrap();
    for problem in &config.problems {
        assert!(!problem.path.is_empty(), "{problem:?}");
        assert_ne!(problem.path, "clusters[0]", "{problem:?}");
    }
}

/// A config nested a few thousand levels deep (4,000 fits in an 8 KB advanced SSM parameter
/// or a CLI `--config` file) is refused before any reader recurses into it, on a 2 MiB
/// stack (a tokio worker's) in a debug build.
#[test]
fn a_config_nested_four_thousand_deep_is_refused_not_a_stack_overflow() {
    let depth = 4_000;
    let text = format!(
        "{{:clusters [{}1{}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let refused = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || parse_maintenance_config(&text).is_err())
        .unwrap()
        .join()
        .unwrap();
    assert!(refused, "a config nested {depth} deep must be refused");
}
