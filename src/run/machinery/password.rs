//! Clone passwords: generation from the OS random source, the credentials document stored
//! in the secret, and the access policies of the secret and of a disposable key.

use rand::TryRng;
use serde_json::{Value, json};

use crate::aws::SecretString;

/// Forty characters from a 72-symbol alphabet: about 246 bits, well above RDS's minimum of
/// 8 characters and our own floor of 32.
pub const PASSWORD_LENGTH: usize = 40;

/// Characters RDS accepts in a master password (printable ASCII except `/`, `"`, `@` and
/// space), further limited to ones that need no quoting in shells and connection URLs.
const PASSWORD_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!#%^*+=";

/// Why no password could be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomSourceError(#[source] rand::rngs::SysError);

/// A new random password from the operating system's random source.
pub fn generate_password() -> Result<SecretString, RandomSourceError> {
    let mut rng = rand::rngs::SysRng;
    let alphabet_len = PASSWORD_ALPHABET.len();
    // Reject bytes past the largest multiple of the alphabet size, so every character is
    // equally likely.
    let limit = 256 - (256 % alphabet_len);
    let mut password = String::with_capacity(PASSWORD_LENGTH);
    let mut buffer = [0u8; 64];
    while password.len() < PASSWORD_LENGTH {
        rng.try_fill_bytes(&mut buffer).map_err(RandomSourceError)?;
        for byte in buffer {
            if (byte as usize) < limit && password.len() < PASSWORD_LENGTH {
                password.push(PASSWORD_ALPHABET[byte as usize % alphabet_len] as char);
            }
        }
    }
    Ok(SecretString::new(password))
}

/// What the credentials document says besides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub engine: &'a str,
    pub cluster_id: &'a str,
    pub database: Option<&'a str>,
    pub host: Option<&'a str>,
    pub port: Option<i32>,
}

/// The secret value in the usual RDS credentials format.
pub fn credentials_document(
    credentials: &Credentials<'_>,
    password: &SecretString,
) -> SecretString {
    let document = json!({
        "username": credentials.username,
        "password": password.expose(),
        "engine": credentials.engine,
        "host": credentials.host,
        "port": credentials.port,
        "dbClusterIdentifier": credentials.cluster_id,
        "dbname": credentials.database,
    });
    SecretString::new(document.to_string())
}

/// The password inside a credentials document, if it is one.
pub fn password_from_document(document: &SecretString) -> Option<SecretString> {
    let value: Value = serde_json::from_str(document.expose()).ok()?;
    value
        .get("password")
        .and_then(Value::as_str)
        .map(|password| SecretString::new(password.to_string()))
}

/// The document with host and port filled in, password unchanged.
pub fn with_endpoint(
    document: &SecretString,
    host: &str,
    port: Option<i32>,
) -> Option<SecretString> {
    let mut value: Value = serde_json::from_str(document.expose()).ok()?;
    let object = value.as_object_mut()?;
    object.insert("host".into(), json!(host));
    object.insert("port".into(), json!(port));
    Some(SecretString::new(value.to_string()))
}

/// The secret's resource policy: the named principals may read it, and everyone else is
/// denied reading it, even a principal whose own IAM policy allows
/// `secretsmanager:GetSecretValue` on every secret. The only exception is `managers` (the
/// clone manager's role, which sets the clone's master password from the secret).
///
/// The deny names who may read with the `aws:PrincipalArn` condition key and an ARN
/// operator rather than `NotPrincipal`, as the IAM User Guide recommends
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
/// For a role session `aws:PrincipalArn` is the role's ARN, so an assumed-role principal is
/// exempted by its role; a whole account (`arn:…:root`) is exempted through
/// `aws:PrincipalAccount`.
pub fn secret_policy(principals: &[String], managers: &[String]) -> String {
    let mut readers: Vec<String> = Vec::new();
    for reader in principals
        .iter()
        .filter(|principal| !principal.ends_with(":root"))
        .map(|principal| principal_arn(principal))
        .chain(managers.iter().cloned())
    {
        if !readers.contains(&reader) {
            readers.push(reader);
        }
    }
    let accounts: Vec<&str> = principals
        .iter()
        .filter(|principal| principal.ends_with(":root"))
        .filter_map(|principal| principal.split(':').nth(4))
        .collect();
    let mut unless = serde_json::Map::new();
    unless.insert(
        "ArnNotEquals".into(),
        json!({ "aws:PrincipalArn": readers }),
    );
    if !accounts.is_empty() {
        unless.insert(
            "StringNotEquals".into(),
            json!({ "aws:PrincipalAccount": accounts }),
        );
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadClonePassword",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*"
            },
            {
                "Sid": "NobodyElseReadsIt",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": unless
            }
        ]
    })
    .to_string()
}

/// What a disposable key lets the account's own IAM policies do: administration (look,
/// change the policy, disable, schedule deletion, tag, aliases, revoke grants), never
/// encryption, decryption or new grants. Reading the password therefore takes a visible
/// key-policy change, not only an IAM policy that allows `kms:Decrypt` on `*`.
pub const KEY_ADMINISTRATION_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/// What the clone manager itself does with a disposable key, granted to its role by name in
/// the key policy. A key policy takes effect at once, while rights through tags or aliases
/// may take up to five minutes ("It might take up to five minutes for tag and alias changes
/// to affect KMS key authorization",
/// <https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>): the secret is created
/// right after the key, so the role must not depend on tags.
pub const KEY_MANAGER_ACTIONS: &[&str] = &[
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
];

/// The key use Secrets Manager needs on the caller's behalf to store and read a secret
/// encrypted with a customer managed key.
pub const SECRET_KEY_USE_ACTIONS: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// The policy of a disposable key: the account keeps administration but not decryption, the
/// clone manager's role (`managers`) may do exactly what the code does with the key, and the
/// named principals may decrypt through Secrets Manager only.
pub fn disposable_key_policy(
    partition: &str,
    account_id: &str,
    region: &str,
    principals: &[String],
    managers: &[String],
) -> String {
    let via_secrets_manager = json!({"StringEquals": {"kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")}});
    json!({
        "Version": "2012-10-17",
        "Id": "aurora-clone-manager-disposable-key",
        "Statement": [
            {
                "Sid": "AccountAdministersButDoesNotDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account_id}:root")},
                "Action": KEY_ADMINISTRATION_ACTIONS,
                "Resource": "*"
            },
            {
                "Sid": "CloneManagerAdministersThisKey",
                "Effect": "Allow",
                "Principal": {"AWS": managers},
                "Action": KEY_MANAGER_ACTIONS,
                "Resource": "*"
            },
            {
                "Sid": "CloneManagerStoresThePassword",
                "Effect": "Allow",
                "Principal": {"AWS": managers},
                "Action": SECRET_KEY_USE_ACTIONS,
                "Resource": "*",
                "Condition": via_secrets_manager
            },
            {
                "Sid": "ReadClonePassword",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": via_secrets_manager
            }
        ]
    })
    .to_string()
}

/// The ARN IAM evaluates as `aws:PrincipalArn` for a principal: a role session
/// (`arn:…:sts::…:assumed-role/ROLE/SESSION`) is its role (`arn:…:iam::…:role/ROLE`, without
/// the role's path, which the session ARN does not carry); anything else is itself.
pub fn principal_arn(arn: &str) -> String {
    crate::aws::CallerIdentity::principal_arn_of(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_only_use_accepted_characters() {
        let first = generate_password().unwrap();
        let second = generate_password().unwrap();
        assert_eq!(first.expose().len(), PASSWORD_LENGTH);
        assert_ne!(first, second);
        assert!(
            first
                .expose()
                .bytes()
                .all(|byte| PASSWORD_ALPHABET.contains(&byte) && !b"/\"@ ".contains(&byte))
        );
        assert_eq!(format!("{first:?}"), "SecretString(<redacted>)");
    }

    #[test]
    fn a_generated_password_is_one_rds_accepts_for_either_engine() {
        let generated = generate_password().unwrap();
        for engine in ["aurora-postgresql", "aurora-mysql"] {
            crate::model::rules::check_master_password(engine, generated.expose()).unwrap();
        }
    }

    #[test]
    fn the_credentials_document_round_trips_the_password_and_takes_the_endpoint() {
        let password = SecretString::new("p4ss".into());
        let document = credentials_document(
            &Credentials {
                username: "postgres",
                engine: "aurora-postgresql",
                cluster_id: "c1",
                database: Some("app"),
                host: None,
                port: None,
            },
            &password,
        );
        assert_eq!(password_from_document(&document), Some(password.clone()));
        let filled = with_endpoint(&document, "c1.example", Some(5432)).unwrap();
        let value: Value = serde_json::from_str(filled.expose()).unwrap();
        assert_eq!(value["host"], "c1.example");
        assert_eq!(value["port"], 5432);
        assert_eq!(value["password"], "p4ss");
        for key in ["username", "engine", "dbClusterIdentifier", "dbname"] {
            assert!(value.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn policies_name_exactly_the_given_principals() {
        let principals = vec!["arn:aws:iam::123456789012:role/dev".to_string()];
        let managers = vec!["arn:aws:iam::123456789012:role/acm-FunctionRole-1".to_string()];
        let secret: Value = serde_json::from_str(&secret_policy(&principals, &managers)).unwrap();
        assert_eq!(
            secret["Statement"][0]["Principal"]["AWS"],
            json!(principals)
        );
        let deny = &secret["Statement"][1];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Principal"], "*");
        assert_eq!(deny["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(
            deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"],
            json!([principals[0], managers[0]])
        );
        assert!(deny["Condition"].get("StringNotEquals").is_none());
        let key: Value = serde_json::from_str(&disposable_key_policy(
            "aws",
            "123456789012",
            "us-east-1",
            &principals,
            &managers,
        ))
        .unwrap();
        let statements = key["Statement"].as_array().unwrap();
        assert_eq!(
            statements[0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        for statement in statements {
            let actions = statement["Action"].clone();
            let names_manager = statement["Principal"]["AWS"] == json!(managers);
            for decrypting in [
                "kms:Decrypt",
                "kms:GenerateDataKey",
                "kms:CreateGrant",
                "kms:*",
            ] {
                let grants = actions == json!(decrypting)
                    || actions
                        .as_array()
                        .is_some_and(|list| list.contains(&json!(decrypting)));
                if grants && statement["Sid"] == "AccountAdministersButDoesNotDecrypt" {
                    panic!("the account may {decrypting}");
                }
                if grants && !names_manager {
                    assert_eq!(statement["Principal"]["AWS"], json!(principals));
                }
            }
        }
        assert_eq!(statements[3]["Principal"]["AWS"], json!(principals));
        assert_eq!(statements[3]["Action"], "kms:Decrypt");
    }

    #[test]
    fn role_sessions_and_whole_accounts_are_exempted_from_the_deny_by_what_iam_compares() {
        let principals = vec![
            "arn:aws:sts::123456789012:assumed-role/dev/alice".to_string(),
            "arn:aws:iam::210987654321:root".to_string(),
        ];
        let secret: Value = serde_json::from_str(&secret_policy(&principals, &[])).unwrap();
        let condition = &secret["Statement"][1]["Condition"];
        assert_eq!(
            condition["ArnNotEquals"]["aws:PrincipalArn"],
            json!(["arn:aws:iam::123456789012:role/dev"])
        );
        assert_eq!(
            condition["StringNotEquals"]["aws:PrincipalAccount"],
            json!(["210987654321"])
        );
    }
}
