//! The KMS port on aws-sdk-kms.

use async_trait::async_trait;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation, Tag};

use super::{collect_pages, map_sdk_error, to_chrono};
use crate::{
    AwsError, AwsErrorKind, GrantInfo, KeyAlias, KeyRef, KeyRequest, KeySummary, Keys, Tags,
};

/// KMS pages carry a next marker only while `truncated` says more follow.
fn next_marker(truncated: bool, marker: Option<&str>) -> Option<String> {
    marker.filter(|_| truncated).map(str::to_string)
}

/// KMS waits at least seven days before deleting a key; we ask for the shortest wait.
const KEY_DELETION_WAIT_DAYS: i32 = 7;

pub struct SdkKeys {
    client: aws_sdk_kms::Client,
}

impl SdkKeys {
    pub fn new(client: aws_sdk_kms::Client) -> SdkKeys {
        SdkKeys { client }
    }
}

fn build_error(
    operation: &'static str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> AwsError {
    AwsError::from_source(
        AwsErrorKind::InvalidRequest,
        operation,
        None,
        "the request could not be built",
        error,
    )
}

#[async_trait]
impl Keys for SdkKeys {
    async fn create_key(&self, request: &KeyRequest) -> Result<KeyRef, AwsError> {
        const OPERATION: &str = "kms:CreateKey";
        let tags = request
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().tag_key(key).tag_value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| build_error(OPERATION, error))?;
        let output = self
            .client
            .create_key()
            .description(&request.description)
            .policy(&request.policy)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|error| map_sdk_error(OPERATION, error))?;
        let metadata = output.key_metadata().ok_or_else(|| {
            AwsError::new(AwsErrorKind::Other, OPERATION, "no key in the response")
        })?;
        Ok(KeyRef {
            key_id: metadata.key_id().to_string(),
            arn: metadata.arn().unwrap_or_default().to_string(),
        })
    }

    async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError> {
        self.client
            .create_alias()
            .alias_name(alias_name)
            .target_key_id(key_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("kms:CreateAlias", error))
    }

    async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_alias()
            .alias_name(alias_name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("kms:DeleteAlias", error);
                if error.is_not_found() {
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError> {
        let aliases = collect_pages(|marker| async move {
            let output = self
                .client
                .list_aliases()
                .limit(100)
                .set_marker(marker)
                .send()
                .await
                .map_err(|error| map_sdk_error("kms:ListAliases", error))?;
            let page = output
                .aliases()
                .iter()
                .map(|alias| KeyAlias {
                    alias_name: alias.alias_name().unwrap_or_default().to_string(),
                    key_id: alias.target_key_id().map(str::to_string),
                    created_at: alias.creation_date().and_then(to_chrono),
                })
                .collect();
            Ok((page, next_marker(output.truncated(), output.next_marker())))
        })
        .await?;
        Ok(aliases
            .into_iter()
            .filter(|alias| alias.alias_name.starts_with(prefix))
            .collect())
    }

    async fn list_keys(&self) -> Result<Vec<String>, AwsError> {
        collect_pages(|marker| async move {
            let output = self
                .client
                .list_keys()
                .limit(1000)
                .set_marker(marker)
                .send()
                .await
                .map_err(|error| map_sdk_error("kms:ListKeys", error))?;
            let page = output
                .keys()
                .iter()
                .filter_map(|key| key.key_id().map(str::to_string))
                .collect();
            Ok((page, next_marker(output.truncated(), output.next_marker())))
        })
        .await
    }

    async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError> {
        match self.client.describe_key().key_id(key_id).send().await {
            Ok(output) => Ok(output.key_metadata().map(|metadata| KeySummary {
                key_id: metadata.key_id().to_string(),
                created_at: metadata.creation_date().and_then(to_chrono),
                pending_deletion: metadata
                    .key_state()
                    .is_some_and(|state| state.as_str().starts_with("Pending")),
            })),
            Err(error) => {
                let error = map_sdk_error("kms:DescribeKey", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn key_tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError> {
        let pages = collect_pages(|marker| async move {
            let output = self
                .client
                .list_resource_tags()
                .key_id(key_id)
                .set_marker(marker)
                .send()
                .await
                .map_err(|error| map_sdk_error("kms:ListResourceTags", error))?;
            let page: Vec<(String, String)> = output
                .tags()
                .iter()
                .map(|tag| (tag.tag_key().to_string(), tag.tag_value().to_string()))
                .collect();
            Ok((page, next_marker(output.truncated(), output.next_marker())))
        })
        .await;
        match pages {
            Ok(tags) => Ok(Some(tags.into_iter().collect())),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .put_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("kms:PutKeyPolicy", error))
    }

    async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .schedule_key_deletion()
            .key_id(key_id)
            .pending_window_in_days(KEY_DELETION_WAIT_DAYS)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("kms:ScheduleKeyDeletion", error);
                match error.kind() {
                    // Gone, or already pending deletion (KMSInvalidStateException).
                    AwsErrorKind::NotFound | AwsErrorKind::InvalidState => Ok(()),
                    _ => Err(error),
                }
            }
        }
    }

    async fn grant_decrypt(
        &self,
        key_id: &str,
        grant_name: &str,
        grantee: &str,
        encryption_context: &[(String, String)],
    ) -> Result<(), AwsError> {
        let constraints = GrantConstraints::builder()
            .set_encryption_context_subset(Some(encryption_context.iter().cloned().collect()))
            .build();
        self.client
            .create_grant()
            .key_id(key_id)
            .grantee_principal(grantee)
            .operations(GrantOperation::Decrypt)
            .name(grant_name)
            .constraints(constraints)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("kms:CreateGrant", error))
    }

    async fn list_grants(&self, key_id: &str) -> Result<Vec<GrantInfo>, AwsError> {
        collect_pages(|marker| async move {
            let output = self
                .client
                .list_grants()
                .key_id(key_id)
                .limit(100)
                .set_marker(marker)
                .send()
                .await
                .map_err(|error| map_sdk_error("kms:ListGrants", error))?;
            let page = output
                .grants()
                .iter()
                .filter_map(|grant| {
                    Some(GrantInfo {
                        grant_id: grant.grant_id()?.to_string(),
                        name: grant.name().map(str::to_string),
                        grantee: grant.grantee_principal().unwrap_or_default().to_string(),
                    })
                })
                .collect();
            Ok((page, next_marker(output.truncated(), output.next_marker())))
        })
        .await
    }

    async fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .revoke_grant()
            .key_id(key_id)
            .grant_id(grant_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("kms:RevokeGrant", error);
                if error.is_not_found() {
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }
}
