//! A small evaluator of the resource policies the fakes hold (key policies, secret
//! policies), so that the fakes refuse what those policies refuse.
//!
//! It covers what our policies use: `Principal` as `*`, an ARN or a list of ARNs (an
//! account's `:root` principal delegates to the account's IAM policies), `Action` with `*`
//! wildcards, and the condition operators below. An operator it does not know makes an
//! Allow not apply and a Deny apply, so an unmodelled policy fails closed.

use std::collections::BTreeMap;

use serde_json::Value;

/// The request a policy is asked about.
#[derive(Debug, Clone)]
pub(super) struct PolicyRequest<'a> {
    /// The caller as IAM names it (`aws:PrincipalArn`: a role session is its role).
    pub principal: &'a str,
    pub action: &'a str,
    /// Condition keys and their values; a multi-valued key (`kms:GrantOperations`) holds
    /// several.
    pub context: &'a BTreeMap<String, Vec<String>>,
}

/// What a resource policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PolicyDecision {
    /// A statement denies it.
    Deny,
    /// A statement allows the caller by name (or everyone).
    Allow,
    /// A statement allows the caller's account: the caller's own IAM policies decide.
    DelegatedToAccount,
    /// No statement speaks of it.
    Silent,
}

/// Evaluates `policy` (JSON) for `request`. A policy that does not parse allows nothing.
pub(super) fn evaluate(policy: &str, request: &PolicyRequest<'_>) -> PolicyDecision {
    let Ok(document) = serde_json::from_str::<Value>(policy) else {
        return PolicyDecision::Silent;
    };
    let statements = match &document["Statement"] {
        Value::Array(statements) => statements.clone(),
        statement @ Value::Object(_) => vec![statement.clone()],
        _ => Vec::new(),
    };
    let mut decision = PolicyDecision::Silent;
    for statement in &statements {
        if !action_matches(&statement["Action"], request.action) {
            continue;
        }
        let deny = statement["Effect"] == "Deny";
        let Some(principal) = principal_match(&statement["Principal"], request) else {
            continue;
        };
        if !conditions_hold(&statement["Condition"], request.context, deny) {
            continue;
        }
        match (deny, principal) {
            (true, _) => return PolicyDecision::Deny,
            (false, PrincipalMatch::Named) => decision = PolicyDecision::Allow,
            (false, PrincipalMatch::Account) if decision == PolicyDecision::Silent => {
                decision = PolicyDecision::DelegatedToAccount
            }
            (false, PrincipalMatch::Account) => {}
        }
    }
    decision
}

enum PrincipalMatch {
    Named,
    Account,
}

fn as_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn principal_match(principal: &Value, request: &PolicyRequest<'_>) -> Option<PrincipalMatch> {
    let named = match principal {
        Value::String(star) if star == "*" => return Some(PrincipalMatch::Named),
        Value::Object(map) => map.get("AWS").map(as_strings).unwrap_or_default(),
        _ => return None,
    };
    // An account principal (`arn:…:iam::ACCOUNT:root`, or the bare account id) stands for
    // every principal of that account.
    let caller_account = request.principal.split(':').nth(4).unwrap_or_default();
    let account_root = |arn: &str| {
        arn == caller_account
            || (arn.ends_with(":root") && arn.split(':').nth(4) == Some(caller_account))
    };
    if named
        .iter()
        .any(|arn| arn == "*" || arn == request.principal)
    {
        Some(PrincipalMatch::Named)
    } else if named.iter().any(|arn| account_root(arn)) {
        Some(PrincipalMatch::Account)
    } else {
        None
    }
}

fn action_matches(actions: &Value, action: &str) -> bool {
    as_strings(actions)
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase()))
}

/// IAM's wildcards: `*` any run of characters, `?` one character.
pub(super) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Whether every condition holds. `deny` decides how an unknown operator counts: it makes
/// a Deny apply and an Allow not apply.
fn conditions_hold(
    conditions: &Value,
    context: &BTreeMap<String, Vec<String>>,
    deny: bool,
) -> bool {
    let Value::Object(operators) = conditions else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        let Value::Object(keys) = keys else {
            return deny;
        };
        keys.iter().all(|(key, wanted)| {
            let wanted = as_strings(wanted);
            let actual = context.get(key);
            match condition_holds(operator, &wanted, actual) {
                Some(holds) => holds,
                None => deny,
            }
        })
    })
}

/// One operator on one key; `None` for an operator this evaluator does not model.
fn condition_holds(
    operator: &str,
    wanted: &[String],
    actual: Option<&Vec<String>>,
) -> Option<bool> {
    let any = |test: &dyn Fn(&str, &str) -> bool| {
        actual.is_some_and(|values| {
            values
                .iter()
                .any(|value| wanted.iter().any(|pattern| test(pattern, value)))
        })
    };
    let equals = |pattern: &str, value: &str| pattern == value;
    let like = |pattern: &str, value: &str| wildcard_match(pattern, value);
    Some(match operator {
        "StringEquals" | "ArnEquals" => any(&equals),
        "StringLike" | "ArnLike" => any(&like),
        "StringNotEquals" | "ArnNotEquals" => !any(&equals),
        "StringNotLike" | "ArnNotLike" => !any(&like),
        "Bool" => any(&|pattern: &str, value: &str| pattern.eq_ignore_ascii_case(value)),
        "Null" => {
            let absent = actual.is_none_or(Vec::is_empty);
            wanted
                .first()
                .is_some_and(|flag| flag.eq_ignore_ascii_case("true"))
                == absent
        }
        "ForAllValues:StringEquals" => actual.is_none_or(|values| {
            values
                .iter()
                .all(|value| wanted.iter().any(|pattern| pattern == value))
        }),
        "ForAllValues:StringLike" => actual.is_none_or(|values| {
            values
                .iter()
                .all(|value| wanted.iter().any(|pattern| wildcard_match(pattern, value)))
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(key, values)| {
                (
                    key.to_string(),
                    values.iter().map(|v| v.to_string()).collect(),
                )
            })
            .collect()
    }

    fn decide(
        policy: &Value,
        principal: &str,
        action: &str,
        context: &BTreeMap<String, Vec<String>>,
    ) -> PolicyDecision {
        evaluate(
            &policy.to_string(),
            &PolicyRequest {
                principal,
                action,
                context,
            },
        )
    }

    #[test]
    fn a_named_principal_is_allowed_and_the_account_root_delegates() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/app"]}, "Action": ["kms:Decrypt"], "Resource": "*"}
        ]});
        let none = context(&[]);
        assert_eq!(
            decide(
                &policy,
                "arn:aws:iam::123456789012:role/app",
                "kms:Decrypt",
                &none
            ),
            PolicyDecision::Allow
        );
        assert_eq!(
            decide(
                &policy,
                "arn:aws:iam::123456789012:role/other",
                "kms:Decrypt",
                &none
            ),
            PolicyDecision::DelegatedToAccount
        );
        assert_eq!(
            decide(
                &policy,
                "arn:aws:iam::210987654321:role/app",
                "kms:Decrypt",
                &none
            ),
            PolicyDecision::Silent
        );
    }

    #[test]
    fn conditions_narrow_allows_and_unknown_operators_fail_closed() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"}, "Action": crate::operations::KMS_CREATE_GRANT.name, "Resource": "*",
             "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"}, "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"NumericLessThan": {"x": "1"}}}
        ]});
        let app = "arn:aws:iam::123456789012:role/app";
        assert_eq!(
            decide(
                &policy,
                app,
                crate::operations::KMS_CREATE_GRANT.name,
                &context(&[("kms:GrantOperations", &["Decrypt"])])
            ),
            PolicyDecision::Allow
        );
        assert_eq!(
            decide(
                &policy,
                app,
                crate::operations::KMS_CREATE_GRANT.name,
                &context(&[("kms:GrantOperations", &["Decrypt", "Encrypt"])])
            ),
            PolicyDecision::Silent
        );
        assert_eq!(
            decide(&policy, app, "kms:Encrypt", &context(&[("x", &["0"])])),
            PolicyDecision::Silent
        );
    }

    #[test]
    fn a_deny_with_principal_arn_exceptions_denies_everyone_else() {
        let policy = json!({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": crate::operations::SECRETS_GET_SECRET_VALUE.name, "Resource": "*",
             "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/reader"]}}}
        ]});
        let as_caller = |arn: &str| context(&[("aws:PrincipalArn", &[arn])]);
        let reader = "arn:aws:iam::123456789012:role/reader";
        let admin = "arn:aws:iam::123456789012:role/admin";
        assert_eq!(
            decide(
                &policy,
                reader,
                crate::operations::SECRETS_GET_SECRET_VALUE.name,
                &as_caller(reader)
            ),
            PolicyDecision::Silent
        );
        assert_eq!(
            decide(
                &policy,
                admin,
                crate::operations::SECRETS_GET_SECRET_VALUE.name,
                &as_caller(admin)
            ),
            PolicyDecision::Deny
        );
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("kms:*", "kms:decrypt"));
        assert!(wildcard_match("arn:aws:iam::1:*", "arn:aws:iam::1:role/x"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a*c", "abd"));
    }
}
