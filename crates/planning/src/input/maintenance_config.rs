//! The maintenance config, stored in SSM as EDN (`{:clusters [...]}`) or JSON (kebab-case or
//! camelCase keys). Both are read into one JSON value and validated by one set of rules; a
//! bad entry is reported by its path and does not stop the others.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use clojure_reader::edn::{self, Edn};
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::input::capacity::{parse_acu, parse_auto_pause};
use crate::input::prices::parse_prices;
use crate::plan::capacity::{CapacityField, CapacityRequest, check_request};
use crate::plan::cost::PriceTable;
use crate::plan::maintenance::RootTarget;
use crate::plan::request::check_instance_class;
use aurora_clone_model::config::AWS_MAX_CLONES_PER_SOURCE;
use aurora_clone_model::naming::check_rds_identifier;
use aurora_clone_model::time::parse_duration;

/// Most spare slots one root may ask for: 100 copies' worth.
pub const MAX_TARGET_CLONE_SLOTS: u32 = 1_500;

/// A config entry or setting that could not be used, named by its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    pub path: String,
    pub problem: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// The usable entries and the problems of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaintenanceConfig {
    pub targets: Vec<RootTarget>,
    pub problems: Vec<ConfigProblem>,
    /// The prices cost estimates use (`:prices`, else the defaults).
    pub prices: PriceTable,
}

/// The config as a whole cannot be read; the run fails loudly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("maintenance config {0}")]
pub struct UnreadableConfig(pub String);

/// An SSM parameter holds at most 8 KB; a config file for the CLI gets more room, but not
/// unbounded: reading is quadratic in nothing, but memory and messages should stay small.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// The config is a map of a list of maps of scalars: three levels. Anything nested much
/// deeper is refused before it can exhaust the stack.
const MAX_NESTING: usize = 16;

/// Reads a maintenance config in EDN or JSON.
pub fn parse_maintenance_config(text: &str) -> Result<MaintenanceConfig, UnreadableConfig> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(UnreadableConfig(format!(
            "is {} bytes; at most {MAX_CONFIG_BYTES} are read",
            text.len()
        )));
    }
    if nesting_depth(text) > MAX_NESTING {
        return Err(UnreadableConfig(format!(
            "is nested more than {MAX_NESTING} levels deep; a config is a map with a list of maps"
        )));
    }
    let value = read_document(text)?;
    validate(&value)
}

/// The deepest nesting of brackets and braces outside strings, counted without parsing (so
/// that no parser recurses into a hostile document).
fn nesting_depth(text: &str) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    for character in text.chars() {
        if in_comment {
            in_comment = character != '\n';
            continue;
        }
        if in_string {
            match (escaped, character) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match character {
            '"' => in_string = true,
            ';' => in_comment = true,
            '[' | '{' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn read_document(text: &str) -> Result<Value, UnreadableConfig> {
    if text.trim().is_empty() {
        return Err(UnreadableConfig(
            "is empty; use {:clusters []} for none".into(),
        ));
    }
    let json_error = match serde_json::from_str::<Value>(text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    match read_edn(text) {
        Ok(value) => Ok(value),
        Err(edn_error) => {
            let looks_like_json =
                text.trim_start().starts_with('{') && text.contains('"') && text.contains("\":");
            Err(UnreadableConfig(if looks_like_json {
                format!("is not valid JSON: {json_error}")
            } else {
                format!("is neither valid EDN ({edn_error}) nor valid JSON ({json_error})")
            }))
        }
    }
}

fn read_edn(text: &str) -> Result<Value, String> {
    let (document, rest) = edn::read(text).map_err(|error| describe_edn_error(&error))?;
    if let Ok((extra, _)) = edn::read(rest)
        && !matches!(extra, Edn::Nil)
    {
        return Err("more than one form; put everything in one map".into());
    }
    edn_to_json(&document, "")
}

/// An EDN reader error in words, with where it happened.
fn describe_edn_error(error: &clojure_reader::error::Error) -> String {
    use clojure_reader::error::Code;
    let what = match &error.code {
        Code::UnexpectedEOF => "the text ends before the form does".to_string(),
        Code::UnmatchedDelimiter(delimiter) => format!("'{delimiter}' has no match"),
        Code::HashMapDuplicateKey => "a map has the same key twice".to_string(),
        Code::SetDuplicateKey => "a set has the same value twice".to_string(),
        Code::InvalidChar => "an invalid character".to_string(),
        Code::InvalidEscape => "an invalid escape in a string".to_string(),
        Code::InvalidKeyword => "an invalid keyword".to_string(),
        Code::InvalidNumber => "an invalid number".to_string(),
        Code::InvalidTag => "an invalid tag".to_string(),
        other => format!("{other:?}"),
    };
    match (error.line, error.column) {
        (Some(line), Some(column)) => format!("{what} at line {line}, column {column}"),
        _ => what,
    }
}

/// How a config key appears in a problem's path: shortened, and visible when empty.
fn display_key(key: &str) -> String {
    if key.is_empty() {
        "\"\"".to_string()
    } else {
        aurora_clone_model::text::shorten(key)
    }
}

/// Converts EDN to JSON: keywords become strings without the colon, vectors and lists
/// become arrays. Anything without a JSON form is refused, naming where it is.
fn edn_to_json(value: &Edn<'_>, path: &str) -> Result<Value, String> {
    let at = |path: &str| {
        if path.is_empty() {
            "top level".to_string()
        } else {
            path.to_string()
        }
    };
    Ok(match value {
        Edn::Nil => Value::Null,
        Edn::Bool(flag) => Value::Bool(*flag),
        Edn::Int(number) => Value::Number((*number).into()),
        Edn::Str(text) => Value::String(text.to_string()),
        Edn::Key(keyword) => Value::String(keyword.trim_start_matches(':').to_string()),
        Edn::Symbol(symbol) => Value::String(symbol.to_string()),
        Edn::Double(number) => Number::from_f64(number.into_inner())
            .map(Value::Number)
            .ok_or_else(|| format!("{}: a number that JSON cannot hold", at(path)))?,
        Edn::Vector(items) | Edn::List(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| edn_to_json(item, &format!("{path}[{index}]")))
                .collect::<Result<_, _>>()?,
        ),
        Edn::Map(entries) => {
            let mut object = Map::new();
            for (key, item) in entries {
                let key = match key {
                    Edn::Key(text) | Edn::Str(text) | Edn::Symbol(text) => {
                        text.trim_start_matches(':').to_string()
                    }
                    _ => {
                        return Err(format!(
                            "{}: map keys must be keywords or strings",
                            at(path)
                        ));
                    }
                };
                let shown = display_key(&key);
                let child = if path.is_empty() {
                    shown
                } else {
                    format!("{path}.{shown}")
                };
                object.insert(key, edn_to_json(item, &child)?);
            }
            Value::Object(object)
        }
        _ => return Err(format!("{}: a value this config does not use", at(path))),
    })
}

/// `cluster-id`, `clusterId` and `dry-run?` all name the same setting: compare them as
/// kebab-case without the trailing `?`.
fn normalize_key(key: &str) -> String {
    let mut normalized = String::new();
    for character in key.trim_end_matches('?').chars() {
        if character.is_ascii_uppercase() {
            normalized.push('-');
            normalized.push(character.to_ascii_lowercase());
        } else if character == '_' {
            normalized.push('-');
        } else {
            normalized.push(character);
        }
    }
    normalized
}

fn validate(document: &Value) -> Result<MaintenanceConfig, UnreadableConfig> {
    let Some(top) = document.as_object() else {
        return Err(UnreadableConfig(
            "must be a map like {:clusters [...]}".into(),
        ));
    };
    let mut config = MaintenanceConfig::default();
    let mut clusters = None;
    for (key, value) in top {
        match normalize_key(key).as_str() {
            "clusters" => clusters = Some(value),
            "prices" => config.prices = parse_prices(value, &mut config.problems),
            _ => config.problems.push(ConfigProblem {
                path: display_key(key),
                problem: "is not a setting (only clusters and prices are)".into(),
            }),
        }
    }
    let entries = match clusters {
        None => {
            return Err(UnreadableConfig(
                "has no clusters list; use {:clusters []} for none".into(),
            ));
        }
        Some(Value::Null) => return Ok(config),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(UnreadableConfig(
                "clusters: expected a list of cluster entries".into(),
            ));
        }
    };
    let mut seen = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("clusters[{index}]");
        match parse_entry(entry, &path) {
            Ok(target) if !seen.insert(target.cluster_id.clone()) => {
                config.problems.push(ConfigProblem {
                    path: format!("{path}.cluster-id"),
                    problem: format!(
                        "{} appears more than once; only the first entry is used",
                        target.cluster_id
                    ),
                });
            }
            Ok(target) => config.targets.push(target),
            Err(problem) => config.problems.push(problem),
        }
    }
    Ok(config)
}

fn parse_entry(entry: &Value, path: &str) -> Result<RootTarget, ConfigProblem> {
    let problem = |key: &str, text: String| ConfigProblem {
        path: if key.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{key}")
        },
        problem: text,
    };
    let Some(object) = entry.as_object() else {
        return Err(problem(
            "",
            "expected a map like {:cluster-id \"db\" :target-clone-slots 20}".into(),
        ));
    };
    let mut cluster_id = None;
    let mut target = None;
    let mut dry_run = false;
    let mut max_copy_age = None;
    let mut instance_class = None;
    let mut purge = true;
    let mut max_clones = None;
    let mut clone_ttl = None;
    let mut refresh_schedule = None;
    let mut max_concurrent_refreshes = None;
    let mut copy_capacity = None;
    let mut class_key = None;
    for (raw_key, value) in object {
        let key = normalize_key(raw_key);
        match key.as_str() {
            "cluster-id" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| problem(&key, "expected a string".into()))?;
                check_rds_identifier(text).map_err(|text| problem(&key, text))?;
                cluster_id = Some(text.to_string());
            }
            "target-clone-slots" => {
                target = Some(
                    positive_integer(value, MAX_TARGET_CLONE_SLOTS)
                        .map_err(|text| problem(&key, text))?,
                );
            }
            "dry-run" => dry_run = boolean(value).map_err(|text| problem("dry-run?", text))?,
            "purge-obsolete-copies" => {
                purge = boolean(value).map_err(|text| problem("purge-obsolete-copies?", text))?;
            }
            "max-copy-age" => {
                let age = duration(value, "P3D").map_err(|text| problem(&key, text))?;
                if age <= TimeDelta::zero() {
                    return Err(problem(&key, "must be longer than zero".into()));
                }
                max_copy_age = Some(age);
            }
            "clone-ttl" => {
                let ttl = duration(value, "P7D").map_err(|text| problem(&key, text))?;
                if ttl <= TimeDelta::zero() {
                    return Err(problem(&key, "must be longer than zero".into()));
                }
                clone_ttl = Some(ttl);
            }
            "refresh-schedule" => {
                let every = duration(value, "P7D").map_err(|text| problem(&key, text))?;
                if every < MIN_REFRESH_SCHEDULE {
                    return Err(problem(&key, "must be at least one hour".into()));
                }
                refresh_schedule = Some(every);
            }
            "max-concurrent-refreshes" => {
                max_concurrent_refreshes = Some(
                    positive_integer(value, MAX_CONCURRENT_REFRESHES)
                        .map_err(|text| problem(&key, text))?,
                );
            }
            "instance-class" | "copy-instance-class" => {
                let text = value.as_str().ok_or_else(|| {
                    problem(&key, "expected a string like \"db.t4g.medium\"".into())
                })?;
                check_instance_class(text).map_err(|text| problem(&key, text))?;
                if let Some(other) = &class_key {
                    return Err(problem(&key, format!("is given twice, also as {other}")));
                }
                instance_class = Some(text.to_string());
                class_key = Some(key.clone());
            }
            "copy-capacity" => {
                copy_capacity = Some(
                    parse_copy_capacity(value)
                        .map_err(|(part, text)| problem(&format!("{key}{part}"), text))?,
                );
            }
            "max-clones-per-source" => {
                max_clones = Some(
                    positive_integer(value, AWS_MAX_CLONES_PER_SOURCE)
                        .map_err(|text| problem(&key, text))?,
                );
            }
            _ => {
                return Err(problem(
                    &display_key(raw_key),
                    "is not a cluster setting".into(),
                ));
            }
        }
    }
    if let (Some(_), Some(class_key)) = (&copy_capacity, &class_key) {
        return Err(problem(
            "copy-capacity",
            format!(
                "cannot be combined with {class_key}: copies get either a db.serverless \
                 instance with copy-capacity or an instance of {class_key}; keep one"
            ),
        ));
    }
    Ok(RootTarget {
        cluster_id: cluster_id.ok_or_else(|| problem("cluster-id", "is required".into()))?,
        target_clone_slots: target
            .ok_or_else(|| problem("target-clone-slots", "is required".into()))?,
        dry_run,
        max_copy_age,
        instance_class,
        purge_obsolete_copies: purge,
        max_clones_per_source: max_clones,
        clone_ttl,
        copy_capacity,
        refresh_schedule,
        max_concurrent_refreshes,
    })
}

/// The most `:max-concurrent-refreshes` a root may allow: each running refresh doubles a
/// clone, and a volume takes 15 clones.
const MAX_CONCURRENT_REFRESHES: u32 = AWS_MAX_CLONES_PER_SOURCE;

/// The shortest `:refresh-schedule`: a refresh takes many minutes (a restore, then about
/// ten for the writer's rename), so a shorter one would ask for the next refresh before
/// the last has finished.
const MIN_REFRESH_SCHEDULE: TimeDelta = TimeDelta::hours(1);

/// `{:min 0 :max 4 :auto-pause "PT10M"}`; an error names the part (`.min`) and the problem.
fn parse_copy_capacity(value: &Value) -> Result<CapacityRequest, (String, String)> {
    let shape = || {
        (
            String::new(),
            "expected a map like {:min 0 :max 4 :auto-pause \"PT10M\"}".to_string(),
        )
    };
    let object = value.as_object().ok_or_else(shape)?;
    let mut min = None;
    let mut max = None;
    let mut auto_pause_seconds = None;
    for (raw_key, value) in object {
        let key = normalize_key(raw_key);
        let at = |text: String| (format!(".{key}"), text);
        match key.as_str() {
            "min" => min = Some(parse_acu(value).map_err(at)?),
            "max" => max = Some(parse_acu(value).map_err(at)?),
            "auto-pause" => {
                let text = value.as_str().ok_or_else(|| {
                    at("expected an ISO-8601 duration string like \"PT10M\"".into())
                })?;
                auto_pause_seconds = Some(parse_auto_pause(text).map_err(at)?);
            }
            _ => {
                return Err((
                    format!(".{}", display_key(raw_key)),
                    "is not a copy-capacity setting (min, max, auto-pause)".into(),
                ));
            }
        }
    }
    let wanted = CapacityRequest {
        min_acu: min.ok_or_else(|| (".min".to_string(), "is required".to_string()))?,
        max_acu: max.ok_or_else(|| (".max".to_string(), "is required".to_string()))?,
        auto_pause_seconds,
    };
    check_request(&wanted).map_err(|problem| {
        let part = match problem.field {
            CapacityField::Min => ".min",
            CapacityField::Max => ".max",
            CapacityField::AutoPause => ".auto-pause",
        };
        (part.to_string(), problem.message)
    })?;
    Ok(wanted)
}

/// An ISO-8601 duration string; the error names an `example` of one.
fn duration(value: &Value, example: &str) -> Result<TimeDelta, String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("expected an ISO-8601 duration string like \"{example}\""))?;
    parse_duration(text)
}

fn positive_integer(value: &Value, max: u32) -> Result<u32, String> {
    let number = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    };
    match number {
        Some(number) if number >= 1 && number <= u64::from(max) => Ok(number as u32),
        Some(number) if number > u64::from(max) => {
            Err(format!("{number} is more than the maximum of {max}"))
        }
        _ => Err("expected a positive integer".into()),
    }
}

fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::Null => Ok(false),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_may_give_its_manual_clones_a_lifetime() {
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "a" :target-clone-slots 1 :clone-ttl "P7D"}
                           {:cluster-id "b" :target-clone-slots 1 :clone-ttl "P1M"}
                           {:cluster-id "c" :target-clone-slots 1 :clone-ttl 7}]}"#,
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(config.targets[0].clone_ttl, Some(TimeDelta::days(7)));
        let paths: Vec<&str> = config.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["clusters[1].clone-ttl", "clusters[2].clone-ttl"]);
    }

    #[test]
    fn a_root_may_schedule_refreshes_of_its_clones_no_more_often_than_hourly() {
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "a" :target-clone-slots 1 :refresh-schedule "P7D"}
                           {:cluster-id "b" :target-clone-slots 1 :refresh-schedule "PT30M"}
                           {:cluster-id "c" :target-clone-slots 1 :refresh-schedule 7}]}"#,
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(config.targets[0].refresh_schedule, Some(TimeDelta::days(7)));
        let paths: Vec<&str> = config.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "clusters[1].refresh-schedule",
                "clusters[2].refresh-schedule"
            ]
        );
    }

    #[test]
    fn a_root_may_bound_how_many_refreshes_of_its_clones_run_at_once() {
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "a" :target-clone-slots 1 :refresh-schedule "P7D"
                            :max-concurrent-refreshes 3}
                           {:cluster-id "b" :target-clone-slots 1 :max-concurrent-refreshes 0}
                           {:cluster-id "c" :target-clone-slots 1 :max-concurrent-refreshes 16}]}"#,
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(config.targets[0].max_concurrent_refreshes, Some(3));
        let paths: Vec<&str> = config.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "clusters[1].max-concurrent-refreshes",
                "clusters[2].max-concurrent-refreshes"
            ]
        );
    }

    #[test]
    fn edn_and_both_json_styles_parse_equal() {
        let edn = r#"
            ; two roots
            {:clusters [{:cluster-id "prod-db" :target-clone-slots 20 :dry-run? false}
                        {:cluster-id "reporting" :target-clone-slots 5 :dry-run? true
                         :max-copy-age "P2D" :instance-class "db.r6g.large"
                         :purge-obsolete-copies? false :max-clones-per-source 10}]}"#;
        let kebab = r#"{"clusters": [{"cluster-id": "prod-db", "target-clone-slots": 20, "dry-run?": false},
            {"cluster-id": "reporting", "target-clone-slots": 5, "dry-run?": true, "max-copy-age": "P2D",
             "instance-class": "db.r6g.large", "purge-obsolete-copies?": false, "max-clones-per-source": 10}]}"#;
        let camel = r#"{"clusters": [{"clusterId": "prod-db", "targetCloneSlots": 20, "dryRun": false},
            {"clusterId": "reporting", "targetCloneSlots": 5, "dryRun": true, "maxCopyAge": "P2D",
             "instanceClass": "db.r6g.large", "purgeObsoleteCopies": false, "maxClonesPerSource": 10}]}"#;
        let from_edn = parse_maintenance_config(edn).unwrap();
        assert!(from_edn.problems.is_empty(), "{:?}", from_edn.problems);
        assert_eq!(from_edn.targets.len(), 2);
        assert_eq!(from_edn.targets[1].max_copy_age, Some(TimeDelta::days(2)));
        assert!(!from_edn.targets[1].purge_obsolete_copies);
        assert_eq!(from_edn, parse_maintenance_config(kebab).unwrap());
        assert_eq!(from_edn.targets[1].clone_ttl, None);
        assert_eq!(from_edn, parse_maintenance_config(camel).unwrap());
    }

    #[test]
    fn the_empty_default_config_has_no_targets() {
        let config = parse_maintenance_config("{:clusters []}").unwrap();
        assert_eq!(config, MaintenanceConfig::default());
    }

    #[test]
    fn malformed_entries_are_reported_by_path_and_do_not_stop_the_others() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 0}]}"#,
                "clusters[0].target-clone-slots",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots -3}]}"#,
                "clusters[0].target-clone-slots",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots "many"}]}"#,
                "clusters[0].target-clone-slots",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 99999}]}"#,
                "clusters[0].target-clone-slots",
            ),
            (
                r#"{:clusters [{:cluster-id "a"}]}"#,
                "clusters[0].target-clone-slots",
            ),
            (
                r#"{:clusters [{:target-clone-slots 5}]}"#,
                "clusters[0].cluster-id",
            ),
            (
                r#"{:clusters [{:cluster-id "1a" :target-clone-slots 5}]}"#,
                "clusters[0].cluster-id",
            ),
            (
                r#"{:clusters [{:cluster-id 7 :target-clone-slots 5}]}"#,
                "clusters[0].cluster-id",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :dry-run? "maybe"}]}"#,
                "clusters[0].dry-run?",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :max-copy-age "P1M"}]}"#,
                "clusters[0].max-copy-age",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :max-copy-age 3}]}"#,
                "clusters[0].max-copy-age",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :instance-class "large"}]}"#,
                "clusters[0].instance-class",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :max-clones-per-source 16}]}"#,
                "clusters[0].max-clones-per-source",
            ),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5 :target-slots 9}]}"#,
                "clusters[0].target-slots",
            ),
            (r#"{:clusters ["a"]}"#, "clusters[0]"),
            (
                r#"{:clusters [{:cluster-id "a" :target-clone-slots 5} {:cluster-id "a" :target-clone-slots 6}]}"#,
                "clusters[1].cluster-id",
            ),
            (r#"{:clusters [] :schedule "daily"}"#, "schedule"),
            (
                r#"{"clusters": [{"clusterId": "a", "targetCloneSlots": 1.5}]}"#,
                "clusters[0].target-clone-slots",
            ),
        ];
        for (text, path) in cases {
            let config =
                parse_maintenance_config(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert!(
                config.problems.iter().any(|problem| problem.path == *path),
                "{text}: expected a problem at {path}, got {:?}",
                config.problems
            );
        }
    }

    #[test]
    fn a_bad_entry_does_not_stop_the_good_ones() {
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "bad" :target-clone-slots 0}
                           {:cluster-id "good" :target-clone-slots 3}]}"#,
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(config.targets[0].cluster_id, "good");
        assert_eq!(
            config.problems[0].to_string(),
            "clusters[0].target-clone-slots: expected a positive integer"
        );
    }

    #[test]
    fn unreadable_documents_fail_the_whole_run() {
        for text in [
            "",
            "{:clusters [",
            "[1 2 3]",
            "{:clusters 5}",
            "{}",
            "{\"clusters\": [}",
            "#inst \"2020\"",
        ] {
            assert!(parse_maintenance_config(text).is_err(), "{text}");
        }
    }
}
