//! The fake KMS: keys with policies and tags, aliases and grants.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{FakeAws, not_found};
use crate::aws::rules;
use crate::aws::{
    AwsError, AwsErrorKind, GrantInfo, KeyAlias, KeyRef, KeyRequest, KeySummary, Keys, Tags,
};

#[derive(Default)]
pub(super) struct KmsState {
    keys: BTreeMap<String, FakeKey>,
    aliases: BTreeMap<String, (String, DateTime<Utc>)>,
    grants: Vec<FakeGrant>,
}

/// A key as the fake keeps it.
#[derive(Debug, Clone)]
pub struct FakeKey {
    pub key_id: String,
    pub arn: String,
    pub policy: String,
    pub tags: Tags,
    pub pending_deletion: bool,
    pub created_at: DateTime<Utc>,
}

/// A grant as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeGrant {
    pub key_id: String,
    pub grant_id: String,
    pub name: String,
    pub grantee: String,
    pub encryption_context: Vec<(String, String)>,
}

impl KmsState {
    fn resolve(&self, key_id: &str) -> Option<String> {
        if let Some((target, _)) = self.aliases.get(key_id) {
            return Some(target.clone());
        }
        self.keys
            .values()
            .find(|key| key.key_id == key_id || key.arn == key_id)
            .map(|key| key.key_id.clone())
    }

    /// Whether a key (id, ARN or alias) exists and is not pending deletion; keys the fake
    /// never made (a stack's default key, say) are taken to exist.
    pub(super) fn key_usable(&self, key_id: &str) -> bool {
        match self.resolve(key_id) {
            Some(id) => self.keys.get(&id).is_some_and(|key| !key.pending_deletion),
            None => true,
        }
    }
}

impl FakeAws {
    /// Every key the fake made.
    pub fn keys(&self) -> Vec<FakeKey> {
        self.lock().kms.keys.values().cloned().collect()
    }

    /// Every grant that exists now.
    pub fn grants(&self) -> Vec<FakeGrant> {
        self.lock().kms.grants.clone()
    }

    /// Every alias that exists now: (alias, key id).
    pub fn aliases(&self) -> Vec<(String, String)> {
        self.lock()
            .kms
            .aliases
            .iter()
            .map(|(alias, (key, _))| (alias.clone(), key.clone()))
            .collect()
    }
}

#[async_trait]
impl Keys for FakeAws {
    async fn create_key(&self, request: &KeyRequest) -> Result<KeyRef, AwsError> {
        const OPERATION: &str = "kms:CreateKey";
        self.enter(OPERATION, true).await?;
        rules::check_kms_tags(&request.tags)
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        self.check_principals_propagated(
            OPERATION,
            &request.policy,
            "Policy contains a statement with one or more invalid principals.",
        )?;
        if serde_json::from_str::<serde_json::Value>(&request.policy).is_err() {
            return Err(AwsError::new(
                AwsErrorKind::InvalidRequest,
                OPERATION,
                "MalformedPolicyDocumentException",
            ));
        }
        let now = self.now();
        let mut state = self.lock();
        let sequence = state.next_sequence();
        let key_id = format!("00000000-0000-4000-8000-{sequence:012}");
        let arn = format!(
            "arn:aws:kms:{}:{}:key/{key_id}",
            state.settings.region, state.settings.account_id
        );
        state.kms.keys.insert(
            key_id.clone(),
            FakeKey {
                key_id: key_id.clone(),
                arn: arn.clone(),
                policy: request.policy.clone(),
                tags: request.tags.clone(),
                pending_deletion: false,
                created_at: now,
            },
        );
        Ok(KeyRef { key_id, arn })
    }

    async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = "kms:CreateAlias";
        self.enter(OPERATION, true).await?;
        rules::check_alias_name(alias_name).map_err(|refused| refused.into_aws_error(OPERATION))?;
        let now = self.now();
        let mut state = self.lock();
        if state.kms.aliases.contains_key(alias_name) {
            return Err(AwsError::new(
                AwsErrorKind::AlreadyExists,
                OPERATION,
                format!("{alias_name} already exists"),
            ));
        }
        let target = state
            .kms
            .resolve(key_id)
            .ok_or_else(|| not_found(OPERATION, format!("key {key_id} not found")))?;
        state
            .kms
            .aliases
            .insert(alias_name.to_string(), (target, now));
        Ok(())
    }

    async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError> {
        self.enter("kms:DeleteAlias", true).await?;
        self.lock().kms.aliases.remove(alias_name);
        Ok(())
    }

    async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError> {
        self.enter("kms:ListAliases", false).await?;
        Ok(self
            .lock()
            .kms
            .aliases
            .iter()
            .filter(|(alias, _)| alias.starts_with(prefix))
            .map(|(alias, (key, created))| KeyAlias {
                alias_name: alias.clone(),
                key_id: Some(key.clone()),
                created_at: Some(*created),
            })
            .collect())
    }

    async fn list_keys(&self) -> Result<Vec<String>, AwsError> {
        self.enter("kms:ListKeys", false).await?;
        Ok(self.lock().kms.keys.keys().cloned().collect())
    }

    async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError> {
        self.enter("kms:DescribeKey", false).await?;
        let state = self.lock();
        Ok(state
            .kms
            .resolve(key_id)
            .and_then(|id| state.kms.keys.get(&id))
            .map(|key| KeySummary {
                key_id: key.key_id.clone(),
                created_at: Some(key.created_at),
                pending_deletion: key.pending_deletion,
            }))
    }

    async fn key_tags(&self, key_id: &str) -> Result<Option<Tags>, AwsError> {
        self.enter("kms:ListResourceTags", false).await?;
        let state = self.lock();
        Ok(state
            .kms
            .resolve(key_id)
            .and_then(|id| state.kms.keys.get(&id))
            .map(|key| key.tags.clone()))
    }

    async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        const OPERATION: &str = "kms:PutKeyPolicy";
        self.enter(OPERATION, true).await?;
        self.check_principals_propagated(
            OPERATION,
            policy,
            "Policy contains a statement with one or more invalid principals.",
        )?;
        let mut state = self.lock();
        let id = state
            .kms
            .resolve(key_id)
            .ok_or_else(|| not_found(OPERATION, format!("key {key_id} not found")))?;
        match state.kms.keys.get_mut(&id) {
            Some(key) => {
                key.policy = policy.to_string();
                Ok(())
            }
            None => Err(not_found(OPERATION, format!("key {key_id} not found"))),
        }
    }

    async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError> {
        self.enter("kms:ScheduleKeyDeletion", true).await?;
        let mut state = self.lock();
        if let Some(id) = state.kms.resolve(key_id)
            && let Some(key) = state.kms.keys.get_mut(&id)
        {
            key.pending_deletion = true;
        }
        Ok(())
    }

    async fn grant_decrypt(
        &self,
        key_id: &str,
        grant_name: &str,
        grantee: &str,
        encryption_context: &[(String, String)],
    ) -> Result<(), AwsError> {
        self.enter("kms:CreateGrant", true).await?;
        let mut state = self.lock();
        let key_id = state
            .kms
            .resolve(key_id)
            .unwrap_or_else(|| key_id.to_string());
        let exists = state.kms.grants.iter().any(|grant| {
            grant.key_id == key_id
                && grant.name == grant_name
                && grant.grantee == grantee
                && grant.encryption_context == encryption_context
        });
        if !exists {
            let sequence = state.next_sequence();
            state.kms.grants.push(FakeGrant {
                key_id,
                grant_id: format!("grant-{sequence}"),
                name: grant_name.to_string(),
                grantee: grantee.to_string(),
                encryption_context: encryption_context.to_vec(),
            });
        }
        Ok(())
    }

    async fn list_grants(&self, key_id: &str) -> Result<Vec<GrantInfo>, AwsError> {
        self.enter("kms:ListGrants", false).await?;
        let state = self.lock();
        let key_id = state
            .kms
            .resolve(key_id)
            .unwrap_or_else(|| key_id.to_string());
        Ok(state
            .kms
            .grants
            .iter()
            .filter(|grant| grant.key_id == key_id)
            .map(|grant| GrantInfo {
                grant_id: grant.grant_id.clone(),
                name: Some(grant.name.clone()),
                grantee: grant.grantee.clone(),
            })
            .collect())
    }

    async fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<(), AwsError> {
        self.enter("kms:RevokeGrant", true).await?;
        let mut state = self.lock();
        let key_id = state
            .kms
            .resolve(key_id)
            .unwrap_or_else(|| key_id.to_string());
        state
            .kms
            .grants
            .retain(|grant| !(grant.key_id == key_id && grant.grant_id == grant_id));
        Ok(())
    }
}
