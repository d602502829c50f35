//! The fake KMS: keys with policies and tags, aliases and grants, and authorization of
//! every use of a key the fake made: its key policy first, then, where the key policy
//! delegates to the account, the caller's own IAM rights, of which those that depend on
//! the key's tags or aliases count only five minutes after the tag or alias changed.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::policy::{PolicyDecision, PolicyRequest, evaluate, wildcard_match};
use super::{FakeAws, State, not_found};
use crate::{
    AwsError, AwsErrorKind, CallerIdentity, GrantInfo, KeyAlias, KeyRef, KeyRequest, KeySummary,
    Keys, Tags,
};
use aurora_clone_model::rules;

/// "It might take up to five minutes for tag and alias changes to affect KMS key
/// authorization" (<https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>): the
/// fake lets rights that depend on a key's tags or aliases count only this long after the
/// change, while key policy rights count at once.
pub const KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY: TimeDelta = TimeDelta::minutes(5);

/// A right the caller's own IAM policies give it on keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKeyRight {
    /// Actions (`kms:Decrypt`, `kms:*`).
    pub actions: Vec<String>,
    pub condition: IdentityKeyCondition,
    /// Only requests a service makes on the caller's behalf (`kms:ViaService`, e.g.
    /// `secretsmanager.us-east-1.amazonaws.com`).
    pub via_service: Option<String>,
}

/// Which keys an [`IdentityKeyRight`] reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityKeyCondition {
    /// Every key.
    AnyKey,
    /// Keys carrying this tag (`aws:ResourceTag/KEY`).
    ResourceTag { key: String, value: String },
    /// Keys with an alias that starts with this (`kms:ResourceAliases`).
    ResourceAliasPrefix(String),
}

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
    /// When the tags last changed (at creation: tags are given to CreateKey).
    pub tags_changed_at: DateTime<Utc>,
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

/// What a request to KMS carries besides the key and the action.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyUse {
    /// `kms:ViaService` when a service calls on the caller's behalf.
    pub via_service: Option<String>,
    /// Further condition keys (`kms:GrantOperations`, `kms:GranteePrincipal`).
    pub context: BTreeMap<String, Vec<String>>,
}

impl KeyUse {
    pub(super) fn via(service: &str, region: &str) -> KeyUse {
        KeyUse {
            via_service: Some(format!("{service}.{region}.amazonaws.com")),
            context: BTreeMap::new(),
        }
    }
}

/// Authorizes `action` on a key for the fake's caller, as KMS would: an explicit deny in
/// the key policy refuses; the key policy naming the caller allows at once; a key policy
/// that delegates to the account allows what the caller's IAM rights allow, rights through
/// tags and aliases only [`KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY`] after the change. Keys
/// the fake never made (a stack's default key, a key named by a property) are allowed.
pub(super) fn authorize_key_use(
    state: &State,
    now: DateTime<Utc>,
    operation: &'static str,
    key_id: &str,
    action: &str,
    key_use: &KeyUse,
) -> Result<(), AwsError> {
    let Some(key) = state
        .kms
        .resolve(key_id)
        .and_then(|id| state.kms.keys.get(&id))
    else {
        return Ok(());
    };
    let caller_arn = state.caller_arn();
    let principal = CallerIdentity::principal_arn_of(&caller_arn);
    let mut context = key_use.context.clone();
    context.insert("aws:PrincipalArn".into(), vec![principal.clone()]);
    if let Some(service) = &key_use.via_service {
        context.insert("kms:ViaService".into(), vec![service.clone()]);
    }
    let request = PolicyRequest {
        principal: &principal,
        action,
        context: &context,
    };
    let allowed = match evaluate(&key.policy, &request) {
        PolicyDecision::Allow => true,
        PolicyDecision::Deny | PolicyDecision::Silent => false,
        PolicyDecision::DelegatedToAccount => state
            .settings
            .identity_key_rights
            .iter()
            .any(|right| identity_right_allows(state, now, right, key, action, key_use)),
    };
    if allowed {
        Ok(())
    } else {
        Err(AwsError::new(
            AwsErrorKind::Denied,
            operation,
            format!(
                "AccessDeniedException: User: {caller_arn} is not authorized to perform: \
                 {action} on resource: {} because no resource-based policy allows the \
                 {action} action",
                key.arn
            ),
        ))
    }
}

fn identity_right_allows(
    state: &State,
    now: DateTime<Utc>,
    right: &IdentityKeyRight,
    key: &FakeKey,
    action: &str,
    key_use: &KeyUse,
) -> bool {
    let settled =
        |changed_at: DateTime<Utc>| now - changed_at >= KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY;
    let action_ok = right
        .actions
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    let via_ok = right.via_service.is_none() || right.via_service == key_use.via_service;
    let key_ok = match &right.condition {
        IdentityKeyCondition::AnyKey => true,
        IdentityKeyCondition::ResourceTag { key: tag, value } => {
            key.tags.get(tag) == Some(value) && settled(key.tags_changed_at)
        }
        IdentityKeyCondition::ResourceAliasPrefix(prefix) => {
            state
                .kms
                .aliases
                .iter()
                .any(|(alias, (target, created_at))| {
                    alias.starts_with(prefix.as_str())
                        && *target == key.key_id
                        && settled(*created_at)
                })
        }
    };
    action_ok && via_ok && key_ok
}

/// KMS's policy lockout check on CreateKey and PutKeyPolicy: the new policy must let the
/// caller change the policy again, else MalformedPolicyDocumentException
/// (<https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html>,
/// BypassPolicyLockoutSafetyCheck). A policy that delegates to the account passes.
fn check_policy_lockout(
    state: &State,
    operation: &'static str,
    policy: &str,
) -> Result<(), AwsError> {
    let principal = CallerIdentity::principal_arn_of(&state.caller_arn());
    let context = BTreeMap::from([("aws:PrincipalArn".to_string(), vec![principal.clone()])]);
    let request = PolicyRequest {
        principal: &principal,
        action: crate::operations::KMS_PUT_KEY_POLICY.name,
        context: &context,
    };
    match evaluate(policy, &request) {
        PolicyDecision::Allow | PolicyDecision::DelegatedToAccount => Ok(()),
        PolicyDecision::Deny | PolicyDecision::Silent => Err(AwsError::new(
            AwsErrorKind::InvalidRequest,
            operation,
            "MalformedPolicyDocumentException: The new key policy will not allow you to update \
             the key policy in the future.",
        )),
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
        const OPERATION: &str = crate::operations::KMS_CREATE_KEY.name;
        self.enter(OPERATION).await?;
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
        check_policy_lockout(&state, OPERATION, &request.policy)?;
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
                tags_changed_at: now,
            },
        );
        Ok(KeyRef { key_id, arn })
    }

    async fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::KMS_CREATE_ALIAS.name;
        self.enter(OPERATION).await?;
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
        authorize_key_use(
            &state,
            now,
            OPERATION,
            &target,
            OPERATION,
            &KeyUse::default(),
        )?;
        state
            .kms
            .aliases
            .insert(alias_name.to_string(), (target, now));
        Ok(())
    }

    async fn delete_alias(&self, alias_name: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::KMS_DELETE_ALIAS.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let mut state = self.lock();
        if let Some((target, _)) = state.kms.aliases.get(alias_name).cloned() {
            authorize_key_use(
                &state,
                now,
                OPERATION,
                &target,
                OPERATION,
                &KeyUse::default(),
            )?;
        }
        state.kms.aliases.remove(alias_name);
        Ok(())
    }

    async fn list_aliases(&self, prefix: &str) -> Result<Vec<KeyAlias>, AwsError> {
        self.enter(crate::operations::KMS_LIST_ALIASES.name).await?;
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
        self.enter(crate::operations::KMS_LIST_KEYS.name).await?;
        Ok(self.lock().kms.keys.keys().cloned().collect())
    }

    async fn describe_key(&self, key_id: &str) -> Result<Option<KeySummary>, AwsError> {
        const OPERATION: &str = crate::operations::KMS_DESCRIBE_KEY.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let state = self.lock();
        authorize_key_use(
            &state,
            now,
            OPERATION,
            key_id,
            OPERATION,
            &KeyUse::default(),
        )?;
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
        const OPERATION: &str = crate::operations::KMS_LIST_RESOURCE_TAGS.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let state = self.lock();
        authorize_key_use(
            &state,
            now,
            OPERATION,
            key_id,
            OPERATION,
            &KeyUse::default(),
        )?;
        Ok(state
            .kms
            .resolve(key_id)
            .and_then(|id| state.kms.keys.get(&id))
            .map(|key| key.tags.clone()))
    }

    async fn put_key_policy(&self, key_id: &str, policy: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::KMS_PUT_KEY_POLICY.name;
        self.enter(OPERATION).await?;
        self.check_principals_propagated(
            OPERATION,
            policy,
            "Policy contains a statement with one or more invalid principals.",
        )?;
        let now = self.now();
        let mut state = self.lock();
        let id = state
            .kms
            .resolve(key_id)
            .ok_or_else(|| not_found(OPERATION, format!("key {key_id} not found")))?;
        authorize_key_use(&state, now, OPERATION, &id, OPERATION, &KeyUse::default())?;
        check_policy_lockout(&state, OPERATION, policy)?;
        match state.kms.keys.get_mut(&id) {
            Some(key) => {
                key.policy = policy.to_string();
                Ok(())
            }
            None => Err(not_found(OPERATION, format!("key {key_id} not found"))),
        }
    }

    async fn schedule_key_deletion(&self, key_id: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::KMS_SCHEDULE_KEY_DELETION.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let mut state = self.lock();
        authorize_key_use(
            &state,
            now,
            OPERATION,
            key_id,
            OPERATION,
            &KeyUse::default(),
        )?;
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
        const OPERATION: &str = crate::operations::KMS_CREATE_GRANT.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let mut state = self.lock();
        let grant_use = KeyUse {
            via_service: None,
            context: BTreeMap::from([
                (
                    "kms:GrantOperations".to_string(),
                    vec!["Decrypt".to_string()],
                ),
                (
                    "kms:GranteePrincipal".to_string(),
                    vec![grantee.to_string()],
                ),
            ]),
        };
        authorize_key_use(&state, now, OPERATION, key_id, OPERATION, &grant_use)?;
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
        const OPERATION: &str = crate::operations::KMS_LIST_GRANTS.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let state = self.lock();
        authorize_key_use(
            &state,
            now,
            OPERATION,
            key_id,
            OPERATION,
            &KeyUse::default(),
        )?;
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
        const OPERATION: &str = crate::operations::KMS_REVOKE_GRANT.name;
        self.enter(OPERATION).await?;
        let now = self.now();
        let mut state = self.lock();
        authorize_key_use(
            &state,
            now,
            OPERATION,
            key_id,
            OPERATION,
            &KeyUse::default(),
        )?;
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
