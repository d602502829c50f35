//! Identifiers and names: RDS identifiers, secret names, key aliases, ownership tag values.
//!
//! Everything here is deterministic, so that the same request always derives the same names
//! and a replayed request finds what its first attempt made.

use crate::text::shorten;
use chrono::{DateTime, Utc};

use crate::time::compact_timestamp;

/// RDS identifiers are 1 to 63 letters, digits and hyphens.
pub const MAX_RDS_IDENTIFIER_LENGTH: usize = 63;

/// Checks an RDS cluster or instance identifier: 1-63 letters, digits or hyphens, starting
/// with a letter, no `--`, no trailing hyphen.
pub fn check_rds_identifier(identifier: &str) -> Result<(), String> {
    if identifier.is_empty() || identifier.len() > MAX_RDS_IDENTIFIER_LENGTH {
        return Err(format!(
            "'{}' must be 1 to {MAX_RDS_IDENTIFIER_LENGTH} characters long",
            shorten(identifier)
        ));
    }
    if !identifier
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(format!(
            "'{}' may only contain letters, digits and hyphens",
            shorten(identifier)
        ));
    }
    if !identifier.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("'{identifier}' must start with a letter"));
    }
    if identifier.contains("--") {
        return Err(format!(
            "'{identifier}' must not contain two hyphens in a row"
        ));
    }
    if identifier.ends_with('-') {
        return Err(format!("'{identifier}' must not end with a hyphen"));
    }
    Ok(())
}

/// Turns free text into a valid identifier fragment: lower case, other characters become
/// hyphens, no doubled or trailing hyphens, at most `max_length` characters. May be empty.
pub fn sanitize_fragment(text: &str, max_length: usize) -> String {
    let mut fragment = String::new();
    for character in text.chars() {
        let mapped = if character.is_ascii_alphanumeric() {
            character.to_ascii_lowercase()
        } else {
            '-'
        };
        if mapped == '-' && (fragment.is_empty() || fragment.ends_with('-')) {
            continue;
        }
        if fragment.len() >= max_length {
            break;
        }
        fragment.push(mapped);
    }
    while fragment.ends_with('-') {
        fragment.pop();
    }
    fragment
}

/// Joins fragments into a valid identifier of at most 63 characters; the last fragment (a
/// suffix that makes it unique) is always kept whole, the others are shortened to fit.
pub fn join_identifier(prefix_fragments: &[&str], unique_suffix: &str) -> String {
    join_identifier_within(prefix_fragments, unique_suffix, MAX_RDS_IDENTIFIER_LENGTH)
}

/// [`join_identifier`] for identifiers that start with the deployment's name prefix: the
/// prefix is kept whole, the fragments are shortened to fit behind it.
pub fn prefixed_identifier(name_prefix: &str, fragments: &[&str], unique_suffix: &str) -> String {
    let room = MAX_RDS_IDENTIFIER_LENGTH.saturating_sub(name_prefix.len());
    format!(
        "{name_prefix}{}",
        join_identifier_within(fragments, unique_suffix, room)
    )
}

fn join_identifier_within(
    prefix_fragments: &[&str],
    unique_suffix: &str,
    max_length: usize,
) -> String {
    let suffix = sanitize_fragment(unique_suffix, max_length.saturating_sub(2));
    let budget = max_length.saturating_sub(suffix.len() + 1);
    let joined = prefix_fragments
        .iter()
        .map(|fragment| sanitize_fragment(fragment, MAX_RDS_IDENTIFIER_LENGTH))
        .filter(|fragment| !fragment.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let mut prefix = sanitize_fragment(&joined, budget);
    if !prefix.starts_with(|c: char| c.is_ascii_alphabetic()) {
        prefix = sanitize_fragment(&format!("c-{prefix}"), budget);
    }
    if suffix.is_empty() {
        return prefix;
    }
    if prefix.is_empty() {
        return suffix;
    }
    format!("{prefix}-{suffix}")
}

/// A short, stable hash of some text, as 8 lower-case hex digits (FNV-1a, 64 bit).
pub fn short_hash(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0u8)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{:08x}", hash as u32 ^ (hash >> 32) as u32)
}

/// The stack name inside a CloudFormation stack id
/// (`arn:aws:cloudformation:region:account:stack/NAME/uuid`), or the id itself.
pub fn stack_name_from_id(stack_id: &str) -> &str {
    stack_id
        .split(":stack/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(stack_id)
}

/// The identifier of a clone when the request names none: the deployment's name prefix,
/// then readable (requesting stack and logical id) and unique per request (a hash of stack
/// id, logical id and request id).
pub fn derived_clone_id(
    name_prefix: &str,
    stack_id: &str,
    logical_id: &str,
    request_id: &str,
) -> String {
    prefixed_identifier(
        name_prefix,
        &[stack_name_from_id(stack_id), logical_id],
        &short_hash(&[stack_id, logical_id, request_id]),
    )
}

/// The identifier of the `index`-th copy of `root_id` made at `now`, behind the deployment's
/// name prefix.
pub fn copy_id(name_prefix: &str, root_id: &str, now: DateTime<Utc>, index: usize) -> String {
    let stamp = now.format("%Y%m%d%H%M").to_string();
    let suffix = if index == 0 {
        stamp
    } else {
        format!("{stamp}-{index}")
    };
    prefixed_identifier(name_prefix, &[root_id, "copy"], &suffix)
}

/// The identifier of a cluster's first instance.
pub fn first_instance_id(cluster_id: &str) -> String {
    join_identifier(&[cluster_id], "1")
}

/// An identifier with a uniqueness suffix, for `NoFailOnExistingCluster`.
pub fn with_suffix(identifier: &str, suffix: &str) -> String {
    join_identifier(&[identifier], suffix)
}

/// The path under a secret prefix that holds one deployment's secrets: `<prefix><stack>/`.
/// IAM allows the function only this path, so deployments never reach each other's secrets.
pub fn secret_path(secret_prefix: &str, stack_name: &str) -> String {
    format!("{secret_prefix}{stack_name}/")
}

/// `<prefix><stack>/password/<cluster-id>-<timestamp>`.
pub fn secret_name(
    secret_prefix: &str,
    stack_name: &str,
    cluster_id: &str,
    now: DateTime<Utc>,
) -> String {
    format!(
        "{}password/{cluster_id}-{}",
        secret_path(secret_prefix, stack_name),
        compact_timestamp(now)
    )
}

/// The alias that marks a disposable key as this deployment's key for one cluster.
pub fn disposable_key_alias(stack_name: &str, cluster_id: &str) -> String {
    format!("{}{cluster_id}", disposable_key_alias_prefix(stack_name))
}

/// The prefix of every disposable key alias of one deployment.
pub fn disposable_key_alias_prefix(stack_name: &str) -> String {
    format!("alias/aurora-clone-manager/{stack_name}/")
}

/// The name of KMS grants made for one cluster's secret on a shared key.
pub fn grant_name(stack_name: &str, cluster_id: &str) -> String {
    format!("aurora-clone-manager-{stack_name}-{cluster_id}")
}

/// Joins the stack id and the logical id in the `owner` tag value. RDS tag values may only
/// hold letters, digits, white space and `_ . : / = + - @`; a logical id is alphanumeric,
/// so the last `/` still tells the two apart.
pub const OWNER_SEPARATOR: char = '/';

/// The separator of `owner` values written before RDS's tag rules were enforced; RDS never
/// accepted it, so only emulators can hold such values. Read, never written.
const LEGACY_OWNER_SEPARATOR: char = '|';

/// The `owner` tag value: the requesting stack id and logical id. Tag values hold at most 256
/// characters, so a long pair keeps its end (the stack's unique id) and a hash of the whole.
pub fn owner_tag_value(stack_id: &str, logical_id: &str) -> String {
    owner_value_with(OWNER_SEPARATOR, stack_id, logical_id)
}

/// Whether an `owner` tag value names this stack id and logical id, in the current form or
/// the legacy one.
pub fn owner_tag_matches(value: Option<&str>, stack_id: &str, logical_id: &str) -> bool {
    value.is_some_and(|value| {
        value == owner_value_with(OWNER_SEPARATOR, stack_id, logical_id)
            || value == owner_value_with(LEGACY_OWNER_SEPARATOR, stack_id, logical_id)
    })
}

fn owner_value_with(separator: char, stack_id: &str, logical_id: &str) -> String {
    let full = format!("{stack_id}{separator}{logical_id}");
    if full.chars().count() <= 256 {
        return full;
    }
    let hash = short_hash(&[stack_id, logical_id]);
    let tail: String = full
        .chars()
        .rev()
        .take(256 - hash.len() - 4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{hash}{separator}...{tail}")
}

/// The ARN of an RDS cluster.
pub fn cluster_arn(partition: &str, region: &str, account_id: &str, cluster_id: &str) -> String {
    format!("arn:{partition}:rds:{region}:{account_id}:cluster:{cluster_id}")
}

/// The cluster identifier inside an RDS cluster ARN, or `None` when the text is not one.
pub fn cluster_id_from_arn(arn: &str) -> Option<&str> {
    rds_id_from_arn(arn, "cluster")
}

/// The DB instance identifier inside an RDS instance ARN (`…:db:<id>`), or `None` when
/// the text is not one.
pub fn instance_id_from_arn(arn: &str) -> Option<&str> {
    rds_id_from_arn(arn, "db")
}

/// `arn:<partition>:rds:<region>:<account>:<resource_type>:<id>` → `<id>`, when the id is
/// a valid RDS identifier.
fn rds_id_from_arn<'a>(arn: &'a str, resource_type: &str) -> Option<&'a str> {
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_partition), Some("rds"), Some(_region), Some(_account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    match (parts.next(), parts.next()) {
        (Some(kind), Some(id)) if kind == resource_type && check_rds_identifier(id).is_ok() => {
            Some(id)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identifier_rules_match_rds() {
        assert!(check_rds_identifier("prod-db").is_ok());
        assert!(check_rds_identifier(&"a".repeat(63)).is_ok());
        assert!(check_rds_identifier(&"a".repeat(64)).is_err());
        assert!(check_rds_identifier("").is_err());
        assert!(check_rds_identifier("1db").is_err());
        assert!(check_rds_identifier("db--x").is_err());
        assert!(check_rds_identifier("db-").is_err());
        assert!(check_rds_identifier("db_x").is_err());
    }

    #[test]
    fn derived_clone_ids_are_readable_stable_and_unique_per_request() {
        let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/My-App/0b1d2c3e";
        let first = derived_clone_id("acm-", stack, "TestDb", "req-1");
        assert!(first.starts_with("acm-my-app-testdb-"), "{first}");
        assert_eq!(first, derived_clone_id("acm-", stack, "TestDb", "req-1"));
        assert_ne!(first, derived_clone_id("acm-", stack, "TestDb", "req-2"));
        check_rds_identifier(&first).unwrap();
    }

    #[test]
    fn a_long_name_prefix_is_kept_whole_and_the_rest_is_shortened() {
        let prefix = format!("{}-", "p".repeat(39));
        let stack = format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/0b1d2c3e",
            "s".repeat(60)
        );
        let clone = derived_clone_id(&prefix, &stack, "TestDb", "req-1");
        let copy = copy_id(&prefix, &"r".repeat(63), chrono::Utc::now(), 3);
        for id in [&clone, &copy] {
            assert!(id.starts_with(&prefix), "{id}");
            check_rds_identifier(id).unwrap();
        }
        assert!(copy.ends_with("-3"), "{copy}");
    }

    #[test]
    fn secret_names_live_under_the_deployments_own_path() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            secret_name("/aurora-clone-manager/", "acm", "acm-clone", now),
            "/aurora-clone-manager/acm/password/acm-clone-20240102T030405"
        );
    }

    #[test]
    fn cluster_arns_are_recognised_and_other_text_is_not() {
        assert_eq!(
            cluster_id_from_arn("arn:aws:rds:us-east-1:123456789012:cluster:clone-1"),
            Some("clone-1")
        );
        assert_eq!(cluster_id_from_arn("clone-1"), None);
        assert_eq!(
            cluster_id_from_arn("arn:aws:rds:us-east-1:123456789012:db:inst-1"),
            None
        );
        assert_eq!(
            cluster_id_from_arn("arn:aws:rds:us-east-1:123456789012:cluster:bad--id"),
            None
        );
    }

    #[test]
    fn long_owner_values_fit_a_tag_and_stay_distinct() {
        let stack = format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/uuid",
            "s".repeat(128)
        );
        let a = owner_tag_value(&stack, &"A".repeat(200));
        let b = owner_tag_value(&stack, &format!("B{}", "A".repeat(199)));
        assert!(a.chars().count() <= 256);
        assert_ne!(a, b);
        assert_eq!(owner_tag_value("s", "L"), "s/L");
        crate::rules::check_rds_tag("aurora-clone-manager:owner", &a).unwrap();
    }

    #[test]
    fn owner_values_pass_the_rds_tag_rules_and_legacy_values_are_still_recognised() {
        let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/My-App/0b1d2c3e-aaaa-bbbb";
        let value = owner_tag_value(stack, "TestDb");
        assert_eq!(value, format!("{stack}/TestDb"));
        crate::rules::check_rds_tag("aurora-clone-manager:owner", &value).unwrap();
        assert!(owner_tag_matches(Some(&value), stack, "TestDb"));
        assert!(owner_tag_matches(
            Some(&format!("{stack}|TestDb")),
            stack,
            "TestDb"
        ));
        assert!(!owner_tag_matches(Some(&value), stack, "OtherDb"));
        assert!(!owner_tag_matches(None, stack, "TestDb"));
    }

    proptest! {
        #[test]
        fn joined_identifiers_are_always_valid(
            parts in proptest::collection::vec(".{0,80}", 0..4),
            suffix in "[a-z0-9]{1,12}",
        ) {
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let id = join_identifier(&refs, &suffix);
            prop_assert!(check_rds_identifier(&id).is_ok(), "{id}");
            prop_assert!(id.ends_with(&suffix));
        }

        #[test]
        fn instance_and_copy_ids_derived_from_valid_ids_are_valid(
            id in "[a-z][a-z0-9]{0,20}(-[a-z0-9]{1,20}){0,3}",
            index in 0usize..20,
        ) {
            prop_assert!(check_rds_identifier(&first_instance_id(&id)).is_ok());
            let now = chrono::Utc::now();
            let copy = copy_id("acm-", &id, now, index);
            prop_assert!(copy.starts_with("acm-"));
            prop_assert!(check_rds_identifier(&copy).is_ok());
            prop_assert!(check_rds_identifier(&with_suffix(&id, "ab12cd34")).is_ok());
        }
    }
}
