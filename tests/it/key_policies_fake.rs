//! The function's rights on the keys and secrets it makes come from the policies it writes,
//! not from tags: KMS honours tag and alias changes only up to five minutes later, so a
//! secret made right after its key would fail if the role depended on the key's tags. The
//! fake models that delay and evaluates key and secret policies for its caller.

use crate::fake_harness;

use std::sync::Arc;
use std::time::Duration;

use aurora_clone_manager::aws::clock::TokioClock;
use aurora_clone_manager::aws::fake::{
    FakeAws, IdentityKeyCondition, IdentityKeyRight, KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY,
};
use aurora_clone_manager::aws::{
    AwsErrorKind, KeyRequest, Keys, SecretRequest, SecretString, Secrets, Tags,
};
use aurora_clone_manager::model::operations;
use aurora_clone_manager::run::machinery::password;
use fake_harness::*;
use serde_json::json;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/acm-FunctionRole-1";
const ROLE_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/acm-FunctionRole-1/acm";
const READER: &str = "arn:aws:iam::123456789012:role/developer";
const ADMIN_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/admin/alice";

fn our_tags() -> Tags {
    [
        ("aurora-clone-manager:stack".to_string(), "acm".to_string()),
        (
            "aurora-clone-manager:disposable".to_string(),
            "true".to_string(),
        ),
    ]
    .into()
}

/// The key policy the template used to write: everything through the account's IAM
/// policies, which gave the role its rights by tag.
fn account_only_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*",
        "Resource": "*"
    }]})
    .to_string()
}

/// A fake acting as the function's role, whose IAM policy also gives it secret-encryption
/// rights on keys tagged with its stack (the rights the old template gave by tag).
fn fake_as_the_role_with_tag_rights() -> Arc<FakeAws> {
    let fake = FakeAws::with_clock(Arc::new(TokioClock::starting_at(
        chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    )));
    fake.configure(|settings| {
        settings.caller_arn = Some(ROLE_SESSION.into());
        settings.identity_key_rights = vec![IdentityKeyRight {
            actions: vec!["kms:GenerateDataKey".into(), "kms:Decrypt".into()],
            condition: IdentityKeyCondition::ResourceTag {
                key: "aurora-clone-manager:stack".into(),
                value: "acm".into(),
            },
            via_service: Some("secretsmanager.us-east-1.amazonaws.com".into()),
        }];
    });
    fake
}

fn secret_with_key(name: &str, key_id: &str) -> SecretRequest {
    SecretRequest {
        name: name.into(),
        description: "test".into(),
        value: SecretString::new("{\"password\":\"x\"}".into()),
        kms_key_id: Some(key_id.into()),
        tags: our_tags(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_secret_made_right_after_its_key_works_through_the_key_policy_and_not_through_tags() {
    let fake = fake_as_the_role_with_tag_rights();

    let tagged_only = fake
        .create_key(&KeyRequest {
            description: "rights by tag".into(),
            policy: account_only_policy(),
            tags: our_tags(),
        })
        .await
        .unwrap();
    let refused = fake
        .create_secret(&secret_with_key("/a/acm/password/one", &tagged_only.key_id))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::Denied, "{refused}");
    assert!(
        refused.to_string().contains("AccessDeniedException"),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("kms:GenerateDataKey"),
        "{refused}"
    );

    let by_policy = fake
        .create_key(&KeyRequest {
            description: "rights by key policy".into(),
            policy: password::disposable_key_policy(
                "aws",
                ACCOUNT,
                "us-east-1",
                &[READER.to_string()],
                &[ROLE.to_string()],
            ),
            tags: our_tags(),
        })
        .await
        .unwrap();
    fake.create_secret(&secret_with_key("/a/acm/password/two", &by_policy.key_id))
        .await
        .expect("the key policy names the role: usable at once");

    // Five minutes on, the tag has reached KMS authorization and the old way works too.
    tokio::time::advance(
        KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY
            .to_std()
            .unwrap()
            .saturating_sub(Duration::from_secs(1)),
    )
    .await;
    assert!(
        fake.create_secret(&secret_with_key(
            "/a/acm/password/three",
            &tagged_only.key_id
        ))
        .await
        .is_err(),
        "still within the five minutes"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    fake.create_secret(&secret_with_key(
        "/a/acm/password/four",
        &tagged_only.key_id,
    ))
    .await
    .expect("the tag counts after five minutes");
}

#[tokio::test(start_paused = true)]
async fn the_role_schedules_deletion_of_a_new_key_at_once_only_through_the_key_policy() {
    let fake = fake_as_the_role_with_tag_rights();
    fake.configure(|settings| {
        settings.identity_key_rights.push(IdentityKeyRight {
            actions: vec![operations::KMS_SCHEDULE_KEY_DELETION.name.into()],
            condition: IdentityKeyCondition::ResourceTag {
                key: "aurora-clone-manager:disposable".into(),
                value: "true".into(),
            },
            via_service: None,
        });
    });
    let tagged_only = fake
        .create_key(&KeyRequest {
            description: "rights by tag".into(),
            policy: account_only_policy(),
            tags: our_tags(),
        })
        .await
        .unwrap();
    let refused = fake
        .schedule_key_deletion(&tagged_only.key_id)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::Denied, "{refused}");

    let by_policy = fake
        .create_key(&KeyRequest {
            description: "rights by key policy".into(),
            policy: password::disposable_key_policy(
                "aws",
                ACCOUNT,
                "us-east-1",
                &[READER.to_string()],
                &[ROLE.to_string()],
            ),
            tags: our_tags(),
        })
        .await
        .unwrap();
    fake.schedule_key_deletion(&by_policy.key_id)
        .await
        .expect("the undo of a failed create can remove the key at once");
}

#[tokio::test(start_paused = true)]
async fn a_key_policy_that_would_lock_the_caller_out_is_refused_as_kms_does() {
    let fake = fake_as_the_role_with_tag_rights();
    let error = fake
        .create_key(&KeyRequest {
            description: "only the readers".into(),
            policy: password::disposable_key_policy(
                "aws",
                ACCOUNT,
                "us-east-1",
                &[READER.to_string()],
                &["arn:aws:iam::123456789012:role/someone-else".to_string()],
            )
            .replace(
                &format!("arn:aws:iam::{ACCOUNT}:root"),
                "arn:aws:iam::999999999999:root",
            ),
            tags: our_tags(),
        })
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("MalformedPolicyDocumentException"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_whole_clone_with_a_disposable_key_works_as_the_function_role_from_the_first_minute() {
    let env = FakeEnv::with_config(|config| {
        config.function_role_arn = Some(ROLE.into());
        config.policies_name_caller = false;
    });
    env.fake.configure(|settings| {
        settings.caller_arn = Some(ROLE_SESSION.into());
    });
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": READER}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    let secret = env.fake.secrets().remove(0);
    assert!(
        env.fake
            .master_password(&env.managed("clone")[0].id)
            .is_some()
    );

    // The secret's policy denies every other principal, whatever their IAM policies say.
    env.fake.configure(|settings| {
        settings.caller_arn = Some(ADMIN_SESSION.into());
    });
    let denied = env.fake.get_value(&secret.arn).await.unwrap_err();
    assert_eq!(denied.kind(), AwsErrorKind::Denied, "{denied}");
    assert!(denied.to_string().contains("explicit deny"), "{denied}");

    // The named reader reads it through Secrets Manager with the key's decrypt right.
    env.fake.configure(|settings| {
        settings.caller_arn = Some("arn:aws:sts::123456789012:assumed-role/developer/bob".into());
    });
    assert!(env.fake.get_value(&secret.arn).await.unwrap().is_some());

    // The clone's delete, as the role, removes the secret and schedules the key.
    env.fake.configure(|settings| {
        settings.caller_arn = Some(ROLE_SESSION.into());
    });
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert!(env.fake.secrets().is_empty());
    assert!(env.fake.keys().iter().all(|key| key.pending_deletion));
}

#[tokio::test(start_paused = true)]
async fn a_clone_whose_policies_name_another_role_than_the_caller_cannot_store_its_password() {
    let env = FakeEnv::with_config(|config| {
        config.function_role_arn = Some("arn:aws:iam::123456789012:role/not-the-caller".into());
        config.policies_name_caller = false;
    });
    env.fake.configure(|settings| {
        settings.caller_arn = Some(ROLE_SESSION.into());
    });
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": READER}),
    ))
    .await;
    let answer = env.only_answer(&response_url("req-1"));
    assert_failed_with(&answer, "AccessDeniedException");
    assert!(env.managed("clone").is_empty());
}
