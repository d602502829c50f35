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

/// The secret's resource policy: only the named principals may read it.
pub fn secret_policy(principals: &[String]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadClonePassword",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The policy of a disposable key: the account keeps administration (so IAM policies, and
/// this function's role, work as usual) and the named principals may decrypt through
/// Secrets Manager only.
pub fn disposable_key_policy(
    partition: &str,
    account_id: &str,
    region: &str,
    principals: &[String],
) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "aurora-clone-manager-disposable-key",
        "Statement": [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account_id}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "ReadClonePassword",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")}}
            }
        ]
    })
    .to_string()
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
        let secret: Value = serde_json::from_str(&secret_policy(&principals)).unwrap();
        assert_eq!(
            secret["Statement"][0]["Principal"]["AWS"],
            json!(principals)
        );
        assert_eq!(secret["Statement"].as_array().unwrap().len(), 1);
        let key: Value = serde_json::from_str(&disposable_key_policy(
            "aws",
            "123456789012",
            "us-east-1",
            &principals,
        ))
        .unwrap();
        assert_eq!(key["Statement"][1]["Principal"]["AWS"], json!(principals));
        assert_eq!(key["Statement"][1]["Action"], "kms:Decrypt");
        assert_eq!(
            key["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
    }
}
