//! The deployment's configuration, read once at start from the environment into a typed
//! [`Config`]. Nothing else in the code reads environment variables.

use std::time::Duration;

use chrono::TimeDelta;
use serde::Serialize;

use crate::time::{format_duration, parse_duration};

/// AWS's limit of copy-on-write clones per cluster volume; a 16th clone silently becomes a
/// full copy. The deployment may lower it (to keep headroom), never raise it.
pub const AWS_MAX_CLONES_PER_SOURCE: u32 = 15;

/// How old a copy may be before it stops being a clone source: three days keeps clone data
/// reasonably current while a nightly run has two chances to replace a copy.
pub const DEFAULT_MAX_COPY_AGE_DAYS: i64 = 3;

/// Longest name prefix: every identifier the clone manager makes starts with the whole
/// prefix, and the longest derived name (a final snapshot, `<cluster>-final-<15-character
/// timestamp>`) keeps its first 47 characters, so 40 leaves room for a readable rest.
pub const MAX_NAME_PREFIX_LENGTH: usize = 40;

/// CloudFormation gives a custom resource one hour; answering by 50 minutes leaves room for
/// cleanup and the response itself.
pub const DEFAULT_READY_TIMEOUT_MINUTES: i64 = 50;

/// How long before a clone expires `lifecycle-event/clone-expiring` is sent: a day gives
/// its users a working day to extend or protect it.
pub const DEFAULT_EXPIRY_WARNING_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The clone manager's own stack name: the value of every `stack` ownership tag.
    pub stack_name: String,
    /// Every cluster, instance and final snapshot the deployment makes is named with this
    /// prefix; the IAM policy allows changes only to resources named so.
    pub name_prefix: String,
    /// The function's IAM role, named in the key and secret policies the code writes so that
    /// the role keeps exactly the rights it needs on them; `None` outside Lambda.
    pub function_role_arn: Option<String>,
    /// Whether those policies also name the caller itself (the CLI, run by a person or a
    /// pipeline that must be able to finish what it started).
    pub policies_name_caller: bool,
    pub max_copy_age: TimeDelta,
    pub max_clones_per_source: u32,
    pub default_secret_prefix: String,
    /// Prefixes a `SecretPrefix` property may use; the IAM policy allows exactly these.
    pub allowed_secret_prefixes: Vec<String>,
    pub default_kms_key_id: Option<String>,
    /// Instance class for the one instance of every copy (copies only need to exist).
    pub copy_instance_class: String,
    pub maintenance_config_parameter: String,
    /// Prefix of the SSM parameters that held leases before the state table; read only
    /// to carry such leases over after an upgrade.
    pub lease_parameter_prefix: String,
    /// The DynamoDB table of leases and records (`STATE_TABLE`); empty when not configured,
    /// and then every lease fails naming the setting.
    pub state_table: String,
    /// Whether CloudFormation responses may go to a local emulator on 127.0.0.1
    /// (`ALLOW_LOCAL_RESPONSE_URLS=true`); never set by the template.
    pub allow_local_response_urls: bool,
    /// Prefix of the SSM parameters that record clones waiting for a copy.
    pub deferred_parameter_prefix: String,
    pub event_bus_name: String,
    /// How often the finisher looks at a clone that is not ready yet.
    pub poll_interval: Duration,
    /// How long after a Create a clone may take to become ready before the request fails.
    pub ready_timeout: TimeDelta,
    /// How long before the Lambda deadline an invocation stops work and answers or hands over.
    pub deadline_margin: Duration,
    /// Most hand-overs one Create may use; far below Lambda's recursive-loop detection (16).
    pub max_hops: u32,
    pub lease_ttl: Duration,
    pub lease_wait: Duration,
    /// Secrets and keys younger than this are never called orphans: a Create makes its secret
    /// before its cluster, and CloudFormation waits at most an hour for it.
    pub orphan_grace: TimeDelta,
    /// How many roots a maintenance run works on at once.
    pub maintenance_concurrency: usize,
    pub retry: RetrySettings,
    pub log_level: String,
    /// How long clones made outside CloudFormation (CLI, manual invocations) live when
    /// neither they nor their root's maintenance entry say (`DEFAULT_CLONE_TTL`; none when
    /// empty). Clones owned by a stack expire only if their own properties ask for it.
    pub default_clone_ttl: Option<TimeDelta>,
    /// How long before its expiry a clone is announced as expiring.
    pub expiry_warning: TimeDelta,
}

/// The SDK retry and timeout settings, explicit rather than inherited defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrySettings {
    /// `standard` or `adaptive`.
    pub mode: String,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            mode: "standard".to_string(),
            max_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(120),
        }
    }
}

/// A configuration value that could not be used, named by its variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    /// Defaults for a deployment named `stack_name`; used by tests and the CLI.
    pub fn for_stack(stack_name: &str) -> Config {
        let default_secret_prefix = "/aurora-clone-manager/".to_string();
        Config {
            stack_name: stack_name.to_string(),
            name_prefix: default_name_prefix(stack_name),
            function_role_arn: None,
            policies_name_caller: true,
            max_copy_age: TimeDelta::days(DEFAULT_MAX_COPY_AGE_DAYS),
            max_clones_per_source: AWS_MAX_CLONES_PER_SOURCE,
            allowed_secret_prefixes: vec![default_secret_prefix.clone()],
            default_secret_prefix,
            default_kms_key_id: None,
            copy_instance_class: "db.t4g.medium".to_string(),
            maintenance_config_parameter: format!("/{stack_name}/maintenance-config"),
            lease_parameter_prefix: format!("/{stack_name}/leases/"),
            state_table: String::new(),
            allow_local_response_urls: false,
            deferred_parameter_prefix: format!("/{stack_name}/deferred-clones/"),
            event_bus_name: "default".to_string(),
            poll_interval: Duration::from_secs(15),
            ready_timeout: TimeDelta::minutes(DEFAULT_READY_TIMEOUT_MINUTES),
            deadline_margin: Duration::from_secs(20),
            max_hops: 8,
            lease_ttl: Duration::from_secs(120),
            lease_wait: Duration::from_secs(90),
            orphan_grace: TimeDelta::hours(2),
            maintenance_concurrency: 8,
            retry: RetrySettings::default(),
            log_level: "info".to_string(),
            default_clone_ttl: None,
            expiry_warning: TimeDelta::hours(DEFAULT_EXPIRY_WARNING_HOURS),
        }
    }

    /// Reads the configuration through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let value = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let stack_name = value("STACK_NAME").ok_or_else(|| ConfigError {
            variable: "STACK_NAME",
            problem: "is required (the name of the clone manager's stack)".to_string(),
        })?;
        let mut config = Config::for_stack(stack_name.trim());
        let prefix = value("NAME_PREFIX").unwrap_or_else(|| config.name_prefix.clone());
        config.name_prefix = check_name_prefix(prefix.trim()).map_err(|problem| ConfigError {
            variable: "NAME_PREFIX",
            problem,
        })?;
        config.state_table = value("STATE_TABLE")
            .map(|table| table.trim().to_string())
            .ok_or_else(|| ConfigError {
                variable: "STATE_TABLE",
                problem: "is required (the DynamoDB table of leases and records; the template \
                          sets it)"
                    .to_string(),
            })?;
        config.allow_local_response_urls =
            allow_local_response_urls(value("ALLOW_LOCAL_RESPONSE_URLS"))?;
        if let Some(arn) = value("FUNCTION_ROLE_ARN") {
            config.function_role_arn = Some(arn.trim().to_string());
            config.policies_name_caller = false;
        }
        if let Some(text) = value("MAX_COPY_AGE") {
            config.max_copy_age = parse_positive_duration("MAX_COPY_AGE", &text)?;
        }
        if let Some(text) = value("MAX_CLONES_PER_SOURCE") {
            config.max_clones_per_source =
                parse_number("MAX_CLONES_PER_SOURCE", &text, 1, AWS_MAX_CLONES_PER_SOURCE)?;
        }
        if let Some(text) = value("DEFAULT_SECRET_PREFIX") {
            config.default_secret_prefix = parse_secret_prefix("DEFAULT_SECRET_PREFIX", &text)?;
        }
        config.allowed_secret_prefixes = vec![config.default_secret_prefix.clone()];
        if let Some(text) = value("ALLOWED_SECRET_PREFIXES") {
            for prefix in text.split(',').filter(|prefix| !prefix.trim().is_empty()) {
                let prefix = parse_secret_prefix("ALLOWED_SECRET_PREFIXES", prefix)?;
                if !config.allowed_secret_prefixes.contains(&prefix) {
                    config.allowed_secret_prefixes.push(prefix);
                }
            }
        }
        config.default_kms_key_id = value("DEFAULT_KMS_KEY_ID").map(|key| key.trim().to_string());
        if let Some(text) = value("COPY_INSTANCE_CLASS") {
            config.copy_instance_class = text.trim().to_string();
        }
        if let Some(text) = value("MAINTENANCE_CONFIG_PARAMETER") {
            config.maintenance_config_parameter = text.trim().to_string();
        }
        if let Some(text) = value("EVENT_BUS_NAME") {
            config.event_bus_name = text.trim().to_string();
        }
        if let Some(text) = value("POLL_INTERVAL_SECONDS") {
            config.poll_interval =
                Duration::from_secs(parse_number("POLL_INTERVAL_SECONDS", &text, 1, 600)?.into());
        }
        if let Some(text) = value("READY_TIMEOUT") {
            let timeout = parse_positive_duration("READY_TIMEOUT", &text)?;
            if timeout > TimeDelta::minutes(58) {
                return Err(ConfigError {
                    variable: "READY_TIMEOUT",
                    problem: format!(
                        "{} is too close to CloudFormation's one-hour limit; use at most PT58M",
                        format_duration(timeout)
                    ),
                });
            }
            config.ready_timeout = timeout;
        }
        if let Some(text) = value("MAX_HOPS") {
            config.max_hops = parse_number("MAX_HOPS", &text, 1, 12)?;
        }
        if let Some(text) = value("LEASE_TTL_SECONDS") {
            config.lease_ttl =
                Duration::from_secs(parse_number("LEASE_TTL_SECONDS", &text, 5, 900)?.into());
        }
        if let Some(text) = value("LEASE_WAIT_SECONDS") {
            config.lease_wait =
                Duration::from_secs(parse_number("LEASE_WAIT_SECONDS", &text, 1, 900)?.into());
        }
        if let Some(text) = value("MAINTENANCE_CONCURRENCY") {
            config.maintenance_concurrency =
                parse_number("MAINTENANCE_CONCURRENCY", &text, 1, 64)? as usize;
        }
        if let Some(text) = value("RETRY_MODE") {
            let mode = text.trim().to_ascii_lowercase();
            if mode != "standard" && mode != "adaptive" {
                return Err(ConfigError {
                    variable: "RETRY_MODE",
                    problem: format!("'{text}' is not 'standard' or 'adaptive'"),
                });
            }
            config.retry.mode = mode;
        }
        if let Some(text) = value("RETRY_MAX_ATTEMPTS") {
            config.retry.max_attempts = parse_number("RETRY_MAX_ATTEMPTS", &text, 1, 20)?;
        }
        if let Some(text) = value("DEFAULT_CLONE_TTL") {
            config.default_clone_ttl = Some(parse_positive_duration("DEFAULT_CLONE_TTL", &text)?);
        }
        if let Some(text) = value("EXPIRY_WARNING") {
            config.expiry_warning = parse_positive_duration("EXPIRY_WARNING", &text)?;
        }
        if let Some(text) = value("LOG_LEVEL") {
            config.log_level = text.trim().to_ascii_lowercase();
        }
        Ok(config)
    }

    /// Whether a secret name prefix is one the deployment allows.
    pub fn secret_prefix_allowed(&self, prefix: &str) -> bool {
        self.allowed_secret_prefixes
            .iter()
            .any(|allowed| prefix.starts_with(allowed.as_str()))
    }
}

/// The name prefix a deployment gets when none is given: its stack name and a hyphen.
pub fn default_name_prefix(stack_name: &str) -> String {
    format!("{stack_name}-")
}

/// Checks a name prefix: lower case (RDS keeps identifiers in lower case, and IAM compares
/// ARNs case-sensitively), a letter first, letters, digits and single hyphens, a hyphen last,
/// at most [`MAX_NAME_PREFIX_LENGTH`] characters.
pub fn check_name_prefix(prefix: &str) -> Result<String, String> {
    let fix = "set the NamePrefix parameter of the clone manager's stack";
    if prefix.len() < 2 || prefix.len() > MAX_NAME_PREFIX_LENGTH {
        return Err(format!(
            "'{prefix}' must be 2 to {MAX_NAME_PREFIX_LENGTH} characters long; {fix}"
        ));
    }
    let valid = prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.ends_with('-')
        && !prefix.contains("--")
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(format!(
            "'{prefix}' must start with a lower-case letter, hold only lower-case letters, \
             digits and single hyphens, and end with a hyphen (RDS names are lower case); {fix}"
        ));
    }
    Ok(prefix.to_string())
}

fn parse_positive_duration(variable: &'static str, text: &str) -> Result<TimeDelta, ConfigError> {
    let duration = parse_duration(text).map_err(|problem| ConfigError { variable, problem })?;
    if duration <= TimeDelta::zero() {
        return Err(ConfigError {
            variable,
            problem: format!("'{text}' must be longer than zero"),
        });
    }
    Ok(duration)
}

fn parse_number(
    variable: &'static str,
    text: &str,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let number: u32 = text.trim().parse().map_err(|_| ConfigError {
        variable,
        problem: format!("'{text}' is not a whole number"),
    })?;
    if number < min || number > max {
        return Err(ConfigError {
            variable,
            problem: format!("{number} is outside {min}..={max}"),
        });
    }
    Ok(number)
}

/// A secret prefix: starts and ends with `/`, only characters secret names allow.
pub fn parse_secret_prefix(variable: &'static str, text: &str) -> Result<String, ConfigError> {
    check_secret_prefix(text.trim())
        .map(str::to_string)
        .map_err(|problem| ConfigError { variable, problem })
}

/// Checks a secret name prefix; shared by the config and the `SecretPrefix` property.
///
/// The template's `AllowedPattern` is the same rule,
/// `^/[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*/$`: a leading `/` keeps every prefix away
/// from the names RDS gives the master secrets it manages (`rds!cluster-…`), and segments
/// are never empty.
pub fn check_secret_prefix(prefix: &str) -> Result<&str, String> {
    let segment_ok = |segment: &str| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c))
    };
    let valid = prefix.len() >= 3
        && prefix.starts_with('/')
        && prefix.ends_with('/')
        && prefix[1..prefix.len() - 1].split('/').all(segment_ok);
    if !valid {
        return Err(format!(
            "'{prefix}' must start and end with '/' and hold one or more non-empty segments of \
             letters, digits and _+=.@- (for example /team/db/)"
        ));
    }
    if prefix.len() > 256 {
        return Err("is longer than 256 characters".to_string());
    }
    Ok(prefix)
}

/// `ALLOW_LOCAL_RESPONSE_URLS`: `true` or `false` (unset: false).
pub fn allow_local_response_urls(value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ConfigError {
            variable: "ALLOW_LOCAL_RESPONSE_URLS",
            problem: format!("'{other}' is not 'true' or 'false'"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The environment `pairs` give, with a state table unless they name one.
    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        map.entry("STATE_TABLE".to_string())
            .or_insert_with(|| "acm-StateTable-1A2B3C".to_string());
        move |name| map.get(name).cloned()
    }

    #[test]
    fn local_response_urls_are_allowed_only_when_the_environment_says_true() {
        let config = Config::from_lookup(lookup(&[("STACK_NAME", "acm")])).unwrap();
        assert!(!config.allow_local_response_urls);
        let config = Config::from_lookup(lookup(&[
            ("STACK_NAME", "acm"),
            ("ALLOW_LOCAL_RESPONSE_URLS", "true"),
        ]))
        .unwrap();
        assert!(config.allow_local_response_urls);
        let error = Config::from_lookup(lookup(&[
            ("STACK_NAME", "acm"),
            ("ALLOW_LOCAL_RESPONSE_URLS", "yes"),
        ]))
        .unwrap_err();
        assert_eq!(error.variable, "ALLOW_LOCAL_RESPONSE_URLS");
    }

    #[test]
    fn the_state_table_is_required_and_read_as_given() {
        let config = Config::from_lookup(lookup(&[("STACK_NAME", "acm")])).unwrap();
        assert_eq!(config.state_table, "acm-StateTable-1A2B3C");
        let error = Config::from_lookup(lookup(&[("STACK_NAME", "acm"), ("STATE_TABLE", " ")]))
            .unwrap_err();
        assert_eq!(error.variable, "STATE_TABLE", "{error}");
    }

    #[test]
    fn a_minimal_environment_gives_the_documented_defaults() {
        let config = Config::from_lookup(lookup(&[("STACK_NAME", "acm")])).unwrap();
        assert_eq!(config.stack_name, "acm");
        assert_eq!(config.max_copy_age, TimeDelta::days(3));
        assert_eq!(config.max_clones_per_source, 15);
        assert_eq!(config.default_secret_prefix, "/aurora-clone-manager/");
        assert_eq!(
            config.maintenance_config_parameter,
            "/acm/maintenance-config"
        );
        assert_eq!(config.ready_timeout, TimeDelta::minutes(50));
        assert_eq!(config.retry.mode, "standard");
        assert_eq!(config.default_clone_ttl, None, "no expiry unless asked");
        assert_eq!(config.expiry_warning, TimeDelta::hours(24));
    }

    #[test]
    fn every_variable_is_read() {
        let config = Config::from_lookup(lookup(&[
            ("STACK_NAME", "acm"),
            ("MAX_COPY_AGE", "P2D"),
            ("MAX_CLONES_PER_SOURCE", "10"),
            ("DEFAULT_SECRET_PREFIX", "/team/"),
            ("ALLOWED_SECRET_PREFIXES", "/other/,/team/"),
            ("DEFAULT_KMS_KEY_ID", "key-1"),
            ("COPY_INSTANCE_CLASS", "db.r6g.large"),
            ("POLL_INTERVAL_SECONDS", "5"),
            ("READY_TIMEOUT", "PT30M"),
            ("RETRY_MODE", "adaptive"),
            ("RETRY_MAX_ATTEMPTS", "5"),
            ("DEFAULT_CLONE_TTL", "P7D"),
            ("EXPIRY_WARNING", "PT6H"),
        ]))
        .unwrap();
        assert_eq!(config.max_copy_age, TimeDelta::days(2));
        assert_eq!(config.max_clones_per_source, 10);
        assert_eq!(config.allowed_secret_prefixes, vec!["/team/", "/other/"]);
        assert_eq!(config.default_kms_key_id.as_deref(), Some("key-1"));
        assert_eq!(config.copy_instance_class, "db.r6g.large");
        assert_eq!(config.poll_interval, Duration::from_secs(5));
        assert_eq!(config.ready_timeout, TimeDelta::minutes(30));
        assert_eq!(config.retry.mode, "adaptive");
        assert_eq!(config.retry.max_attempts, 5);
        assert_eq!(config.default_clone_ttl, Some(TimeDelta::days(7)));
        assert_eq!(config.expiry_warning, TimeDelta::hours(6));
        assert!(config.secret_prefix_allowed("/other/x/"));
        assert!(!config.secret_prefix_allowed("/elsewhere/"));
    }

    #[test]
    fn the_name_prefix_comes_from_the_stack_name_unless_given() {
        let derived = Config::from_lookup(lookup(&[("STACK_NAME", "acm")])).unwrap();
        assert_eq!(derived.name_prefix, "acm-");
        let given = Config::from_lookup(lookup(&[
            ("STACK_NAME", "acm"),
            ("NAME_PREFIX", "dev-clones-"),
        ]))
        .unwrap();
        assert_eq!(given.name_prefix, "dev-clones-");
    }

    #[test]
    fn a_name_prefix_that_iam_could_not_match_is_refused_with_the_fix() {
        for (stack, prefix) in [
            ("MyStack", None),
            ("acm", Some("Dev-")),
            ("acm", Some("dev")),
            ("acm", Some("dev--x-")),
            ("acm", Some("1dev-")),
            ("acm", Some("dev_x-")),
        ] {
            let mut pairs = vec![("STACK_NAME", stack)];
            if let Some(prefix) = prefix {
                pairs.push(("NAME_PREFIX", prefix));
            }
            let error = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(error.variable, "NAME_PREFIX", "{error}");
            assert!(error.problem.contains("NamePrefix parameter"), "{error}");
        }
        let long_stack = "s".repeat(40);
        let error =
            Config::from_lookup(lookup(&[("STACK_NAME", long_stack.as_str())])).unwrap_err();
        assert!(error.problem.contains("2 to 40 characters"), "{error}");
    }

    #[test]
    fn the_function_role_is_named_in_policies_instead_of_the_caller_when_given() {
        let lambda = Config::from_lookup(lookup(&[
            ("STACK_NAME", "acm"),
            (
                "FUNCTION_ROLE_ARN",
                "arn:aws:iam::123456789012:role/acm-FunctionRole-1",
            ),
        ]))
        .unwrap();
        assert_eq!(
            lambda.function_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/acm-FunctionRole-1")
        );
        assert!(!lambda.policies_name_caller);
        assert!(Config::for_stack("acm").policies_name_caller);
    }

    #[test]
    fn secret_prefixes_follow_the_strict_pattern() {
        for good in ["/a/", "/aurora-clone-manager/", "/team/db_1/", "/x.y@z+=/"] {
            assert!(check_secret_prefix(good).is_ok(), "{good}");
        }
        for bad in [
            "rds", "/", "//", "rds/", "/a//b/", "/a", "a/", "/a b/", "/rds!x/",
        ] {
            assert!(check_secret_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            (vec![], "STACK_NAME"),
            (vec![("MAX_COPY_AGE", "three days")], "MAX_COPY_AGE"),
            (
                vec![("MAX_CLONES_PER_SOURCE", "16")],
                "MAX_CLONES_PER_SOURCE",
            ),
            (
                vec![("DEFAULT_SECRET_PREFIX", "nope")],
                "DEFAULT_SECRET_PREFIX",
            ),
            (vec![("READY_TIMEOUT", "PT2H")], "READY_TIMEOUT"),
            (vec![("RETRY_MODE", "legacy")], "RETRY_MODE"),
            (vec![("DEFAULT_CLONE_TTL", "P1M")], "DEFAULT_CLONE_TTL"),
            (vec![("EXPIRY_WARNING", "PT0S")], "EXPIRY_WARNING"),
        ];
        for (extra, variable) in cases {
            let mut pairs = vec![];
            if variable != "STACK_NAME" {
                pairs.push(("STACK_NAME", "acm"));
            }
            pairs.extend(extra);
            let error = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
