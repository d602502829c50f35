//! The rules AWS enforces and the emulators do not, written down once.
//!
//! Each [`Rule`] is a row: a stable id, the API and field it governs, the rule in words, the
//! AWS page it comes from, the error code AWS answers with, and the tests that prove we
//! respect it. The check functions below apply the rows. The planner validates what it
//! builds with them, the in-process fake refuses what they refuse, and the moto test proxy
//! applies them to the requests the SDK really sends, so a rule lives in one place only.
//!
//! `docs/aws-rules.md` is the same table for people; a test keeps the two in step.

use std::sync::LazyLock;

use regex::Regex;

use crate::aws::{AwsError, AwsErrorKind, Tags};
use crate::text::shorten;

/// One rule AWS enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, used in violations, the docs table and test names.
    pub id: &'static str,
    /// The API operations the rule applies to, as `service:Operation`.
    pub api: &'static str,
    /// The request field the rule governs.
    pub field: &'static str,
    /// The rule in words.
    pub rule: &'static str,
    /// The AWS page the rule is taken from.
    pub source: &'static str,
    /// The error code AWS answers a violating request with.
    pub error_code: &'static str,
    /// How our error mapping classifies that answer.
    pub kind: AwsErrorKind,
    /// Tests that prove we respect the rule, as `path::function`.
    pub tests: &'static [&'static str],
    /// What the source does not settle (for example an error code AWS's page does not name).
    pub note: &'static str,
}

/// RDS tags: Unicode letters, digits, white space and `_ . : / = + - @` only.
pub const RDS_TAG_CHARSET: &str = "rds-tag-charset";
/// RDS tags: key 1 to 128 characters, value 0 to 256.
pub const RDS_TAG_LENGTH: &str = "rds-tag-length";
/// RDS tags: neither key nor value may start with `aws:` or `rds:`.
pub const RDS_TAG_RESERVED_PREFIX: &str = "rds-tag-reserved-prefix";
/// RDS cluster identifiers: 1 to 63 letters, digits or hyphens, and so on.
pub const RDS_CLUSTER_IDENTIFIER: &str = "rds-cluster-identifier";
/// RDS instance identifiers: the same constraints as cluster identifiers.
pub const RDS_INSTANCE_IDENTIFIER: &str = "rds-instance-identifier";

const RDS_TAG_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html";
const RDS_RESTORE_PAGE: &str = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html";
const RDS_CREATE_INSTANCE_PAGE: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html";

/// Operations that take RDS tags.
const RDS_TAGGING_APIS: &str =
    "rds:RestoreDBClusterToPointInTime, rds:CreateDBInstance, rds:AddTagsToResource";

/// Every rule, in the order of `docs/aws-rules.md`.
pub static RULES: &[Rule] = &[
    Rule {
        id: RDS_TAG_CHARSET,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "Keys and values hold only Unicode letters, digits, white space and `_ . : / = + - @` \
               (Java regex `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`).",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &["src/aws/rules.rs::rds_tags_refuse_a_pipe_and_name_the_tag"],
        note: "The Tag page does not name the error code; InvalidParameterValue is unverified.",
    },
    Rule {
        id: RDS_TAG_LENGTH,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "A key is 1 to 128 Unicode characters, a value 0 to 256.",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &["src/aws/rules.rs::rds_tag_lengths_are_counted_in_characters"],
        note: "The Tag page does not name the error code; InvalidParameterValue is unverified.",
    },
    Rule {
        id: RDS_TAG_RESERVED_PREFIX,
        api: RDS_TAGGING_APIS,
        field: "Tags[].Key, Tags[].Value",
        rule: "Neither a key nor a value may start with `aws:` or `rds:`.",
        source: RDS_TAG_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &["src/aws/rules.rs::rds_tags_refuse_reserved_prefixes_in_keys_and_values"],
        note: "Checked in any letter case, which is stricter than the page says; the error code \
               is unverified.",
    },
    Rule {
        id: RDS_CLUSTER_IDENTIFIER,
        api: "rds:RestoreDBClusterToPointInTime",
        field: "DBClusterIdentifier",
        rule: "1 to 63 letters, digits or hyphens; the first character a letter; no trailing \
               hyphen and no two consecutive hyphens.",
        source: RDS_RESTORE_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &["src/aws/rules.rs::cluster_and_instance_identifiers_follow_the_rds_constraints"],
        note: "The page does not name the error code; InvalidParameterValue is unverified.",
    },
    Rule {
        id: RDS_INSTANCE_IDENTIFIER,
        api: "rds:CreateDBInstance",
        field: "DBInstanceIdentifier",
        rule: "1 to 63 letters, digits or hyphens; the first character a letter; no trailing \
               hyphen and no two consecutive hyphens.",
        source: RDS_CREATE_INSTANCE_PAGE,
        error_code: "InvalidParameterValue",
        kind: AwsErrorKind::InvalidRequest,
        tests: &["src/aws/rules.rs::cluster_and_instance_identifiers_follow_the_rds_constraints"],
        note: "The page does not name the error code; InvalidParameterValue is unverified.",
    },
];

/// The rule with this id. Panics on an unknown id: ids are constants of this module.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| rule.id == id)
        .unwrap_or_else(|| panic!("no AWS rule with id '{id}'"))
}

/// A request that breaks one rule: which rule, what AWS would answer, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (AWS rule {rule_id})")]
pub struct RuleViolation {
    pub rule_id: &'static str,
    pub error_code: &'static str,
    pub kind: AwsErrorKind,
    pub message: String,
}

impl RuleViolation {
    /// A violation of the rule `rule_id`; the error code and kind come from the table.
    pub fn new(rule_id: &'static str, message: impl Into<String>) -> Self {
        let rule = rule(rule_id);
        RuleViolation {
            rule_id: rule.id,
            error_code: rule.error_code,
            kind: rule.kind,
            message: message.into(),
        }
    }

    /// The error AWS would have answered `operation` with.
    pub fn into_aws_error(self, operation: &'static str) -> AwsError {
        let message = self.to_string();
        AwsError::with_code(self.kind, operation, self.error_code, message)
    }
}

/// RDS tag keys and values, from the RDS `Tag` data type's Java regex.
static RDS_TAG_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("valid regex"));

/// RDS tag key length limit, in Unicode characters (RDS `Tag`).
pub const RDS_TAG_KEY_MAX_CHARS: usize = 128;
/// RDS tag value length limit, in Unicode characters (RDS `Tag`).
pub const RDS_TAG_VALUE_MAX_CHARS: usize = 256;

/// Checks tags for an RDS cluster or instance. The message names the offending tag.
pub fn check_rds_tags(tags: &Tags) -> Result<(), RuleViolation> {
    tags.iter()
        .try_for_each(|(key, value)| check_rds_tag(key, value))
}

/// Checks one RDS tag.
pub fn check_rds_tag(key: &str, value: &str) -> Result<(), RuleViolation> {
    let key_chars = key.chars().count();
    if key_chars == 0 || key_chars > RDS_TAG_KEY_MAX_CHARS {
        return Err(RuleViolation::new(
            RDS_TAG_LENGTH,
            format!(
                "tag key '{}' has {key_chars} characters; RDS allows 1 to {RDS_TAG_KEY_MAX_CHARS}",
                shorten(key)
            ),
        ));
    }
    let value_chars = value.chars().count();
    if value_chars > RDS_TAG_VALUE_MAX_CHARS {
        return Err(RuleViolation::new(
            RDS_TAG_LENGTH,
            format!(
                "the value of tag '{}' has {value_chars} characters; RDS allows at most {RDS_TAG_VALUE_MAX_CHARS}",
                shorten(key)
            ),
        ));
    }
    for (what, text) in [("key", key), ("value", value)] {
        if !RDS_TAG_TEXT.is_match(text) {
            return Err(RuleViolation::new(
                RDS_TAG_CHARSET,
                format!(
                    "the {what} of tag '{}' holds characters RDS refuses{}; allowed are letters, digits, white space and _ . : / = + - @",
                    shorten(key),
                    refused_characters(text)
                ),
            ));
        }
        if has_prefix_ignoring_case(text, "aws:") || has_prefix_ignoring_case(text, "rds:") {
            return Err(RuleViolation::new(
                RDS_TAG_RESERVED_PREFIX,
                format!(
                    "the {what} of tag '{}' starts with a prefix RDS reserves ('aws:' or 'rds:')",
                    shorten(key)
                ),
            ));
        }
    }
    Ok(())
}

/// The characters of `text` that an RDS tag may not hold, quoted for a message.
fn refused_characters(text: &str) -> String {
    let mut refused: Vec<char> = text
        .chars()
        .filter(|c| !RDS_TAG_TEXT.is_match(c.encode_utf8(&mut [0; 4])))
        .collect();
    refused.sort_unstable();
    refused.dedup();
    let quoted: Vec<String> = refused.iter().take(5).map(|c| format!("{:?}", c)).collect();
    format!(" ({})", quoted.join(", "))
}

fn has_prefix_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// RDS identifiers hold at most this many characters (CreateDBInstance,
/// RestoreDBClusterToPointInTime).
pub const RDS_IDENTIFIER_MAX_CHARS: usize = 63;

/// Checks a `DBClusterIdentifier` for a new cluster.
pub fn check_cluster_identifier(identifier: &str) -> Result<(), RuleViolation> {
    check_rds_identifier(RDS_CLUSTER_IDENTIFIER, "DBClusterIdentifier", identifier)
}

/// Checks a `DBInstanceIdentifier` for a new instance.
pub fn check_instance_identifier(identifier: &str) -> Result<(), RuleViolation> {
    check_rds_identifier(RDS_INSTANCE_IDENTIFIER, "DBInstanceIdentifier", identifier)
}

fn check_rds_identifier(
    rule_id: &'static str,
    field: &str,
    identifier: &str,
) -> Result<(), RuleViolation> {
    let quoted = shorten(identifier);
    let problem = if identifier.is_empty() || identifier.len() > RDS_IDENTIFIER_MAX_CHARS {
        Some(format!(
            "must be 1 to {RDS_IDENTIFIER_MAX_CHARS} characters long"
        ))
    } else if !identifier
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Some("may only contain letters, digits and hyphens".to_string())
    } else if !identifier.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("must start with a letter".to_string())
    } else if identifier.contains("--") {
        Some("must not contain two consecutive hyphens".to_string())
    } else if identifier.ends_with('-') {
        Some("must not end with a hyphen".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(RuleViolation::new(
            rule_id,
            format!("{field} '{quoted}' {problem}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn rds_tags_refuse_a_pipe_and_name_the_tag() {
        let refused = check_rds_tags(&tags(&[(
            "aurora-clone-manager:owner",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1|TestDb",
        )]))
        .unwrap_err();
        assert_eq!(refused.rule_id, RDS_TAG_CHARSET);
        assert_eq!(refused.error_code, "InvalidParameterValue");
        assert!(
            refused.message.contains("aurora-clone-manager:owner"),
            "{refused}"
        );
        assert!(refused.message.contains("'|'"), "{refused}");
        let refused_key = check_rds_tags(&tags(&[("team#1", "x")])).unwrap_err();
        assert_eq!(refused_key.rule_id, RDS_TAG_CHARSET);
        let emoji = check_rds_tags(&tags(&[("drink", "☕")])).unwrap_err();
        assert_eq!(emoji.rule_id, RDS_TAG_CHARSET);
        check_rds_tags(&tags(&[
            ("Équipe données", "café au lait"),
            ("path", "a/b:c=d+e-f@g_h.i"),
            ("empty", ""),
            ("日本", "値 1"),
        ]))
        .unwrap();
    }

    #[test]
    fn rds_tags_refuse_reserved_prefixes_in_keys_and_values() {
        for (key, value) in [
            ("aws:x", "v"),
            ("rds:x", "v"),
            ("k", "aws:v"),
            ("k", "RDS:v"),
        ] {
            let refused = check_rds_tag(key, value).unwrap_err();
            assert_eq!(refused.rule_id, RDS_TAG_RESERVED_PREFIX, "{key}={value}");
        }
        check_rds_tag("k", "arn:aws:rds:us-east-1:123456789012:cluster:a").unwrap();
    }

    #[test]
    fn rds_tag_lengths_are_counted_in_characters() {
        check_rds_tag(&"é".repeat(128), &"é".repeat(256)).unwrap();
        let long_key = check_rds_tag(&"k".repeat(129), "v").unwrap_err();
        assert_eq!(long_key.rule_id, RDS_TAG_LENGTH);
        let empty_key = check_rds_tag("", "v").unwrap_err();
        assert_eq!(empty_key.rule_id, RDS_TAG_LENGTH);
        let long_value = check_rds_tag("k", &"v".repeat(257)).unwrap_err();
        assert_eq!(long_value.rule_id, RDS_TAG_LENGTH);
        assert!(long_value.message.contains("257"), "{long_value}");
    }

    #[test]
    fn cluster_and_instance_identifiers_follow_the_rds_constraints() {
        for good in ["a", "prod-db", &"a".repeat(63)] {
            check_cluster_identifier(good).unwrap();
            check_instance_identifier(good).unwrap();
        }
        for bad in ["", "1db", "db--x", "db-", "db_x", "db.x", &"a".repeat(64)] {
            let refused = check_cluster_identifier(bad).unwrap_err();
            assert_eq!(refused.rule_id, RDS_CLUSTER_IDENTIFIER, "{bad}");
            assert_eq!(refused.error_code, "InvalidParameterValue");
            let refused = check_instance_identifier(bad).unwrap_err();
            assert_eq!(refused.rule_id, RDS_INSTANCE_IDENTIFIER, "{bad}");
        }
    }

    #[test]
    fn a_violation_becomes_the_aws_error_aws_would_answer() {
        let error = check_cluster_identifier("db--x")
            .unwrap_err()
            .into_aws_error("rds:RestoreDBClusterToPointInTime");
        assert_eq!(error.kind(), AwsErrorKind::InvalidRequest);
        assert_eq!(error.code(), Some("InvalidParameterValue"));
        assert_eq!(error.operation(), "rds:RestoreDBClusterToPointInTime");
        assert!(
            error.message().contains("rds-cluster-identifier"),
            "{error}"
        );
    }

    #[test]
    fn every_rule_has_a_unique_id_a_source_an_error_code_and_existing_tests() {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let mut ids: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "rule ids must be unique");
        for rule in RULES {
            assert!(
                rule.source.starts_with("https://docs.aws.amazon.com/"),
                "{}: source must be an AWS page",
                rule.id
            );
            assert!(!rule.error_code.is_empty(), "{}", rule.id);
            assert!(!rule.tests.is_empty(), "{}: no test named", rule.id);
            for test in rule.tests {
                let (path, function) = test
                    .split_once("::")
                    .unwrap_or_else(|| panic!("{}: test '{test}' is not path::function", rule.id));
                let text = std::fs::read_to_string(format!("{manifest}/{path}"))
                    .unwrap_or_else(|error| panic!("{}: cannot read {path}: {error}", rule.id));
                assert!(
                    text.contains(&format!("fn {function}(")),
                    "{}: {path} has no test fn {function}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn the_rules_doc_lists_exactly_the_rules_of_this_module() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/aws-rules.md"))
                .expect("docs/aws-rules.md");
        let documented: Vec<&str> = doc
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(id, _)| id))
            .collect();
        let mut in_module: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
        let mut in_doc = documented.clone();
        in_module.sort_unstable();
        in_doc.sort_unstable();
        assert_eq!(in_doc, in_module, "docs/aws-rules.md and RULES disagree");
        for rule in RULES {
            let row = doc
                .lines()
                .find(|line| line.starts_with(&format!("| `{}`", rule.id)))
                .unwrap();
            assert!(
                row.contains(rule.source),
                "{}: doc row must cite {}",
                rule.id,
                rule.source
            );
            assert!(
                row.contains(rule.error_code),
                "{}: doc row must name {}",
                rule.id,
                rule.error_code
            );
        }
    }
}
