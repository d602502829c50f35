//! The fake SSM, STS, Secrets Manager, EventBridge and Lambda.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::kms::{KeyUse, authorize_key_use};
use super::policy::{PolicyDecision, PolicyRequest, evaluate};
use super::{FakeAws, not_found};
use crate::{
    AwsError, AwsErrorKind, BusEvent, CallerIdentity, Events, Identity, Invoker, ParameterValue,
    Params, SecretRef, SecretRequest, SecretString, SecretSummary, Secrets, Tags,
};
use aurora_clone_model::rules;

const PUT_PARAMETER: &str = crate::operations::SSM_PUT_PARAMETER.name;

#[derive(Default)]
pub(super) struct ServiceState {
    /// Every version of each parameter, oldest first: version N is at index N - 1.
    parameters: BTreeMap<String, Vec<String>>,
    /// The second (Unix time) SSM calls are being counted in, and how many it has had.
    ssm_window: (i64, u32),
    secrets: BTreeMap<String, FakeSecret>,
    pub(super) events: Vec<BusEvent>,
    pub(super) invocations: Vec<(String, serde_json::Value)>,
}

/// A secret as the fake keeps it; `policy` is the resource policy JSON.
#[derive(Debug, Clone)]
pub struct FakeSecret {
    pub arn: String,
    pub name: String,
    pub value: String,
    pub kms_key_id: Option<String>,
    pub policy: Option<String>,
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
}

impl FakeAws {
    /// Every secret that exists now.
    pub fn secrets(&self) -> Vec<FakeSecret> {
        self.lock().services.secrets.values().cloned().collect()
    }

    /// Every SSM parameter that exists now.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        self.lock()
            .services
            .parameters
            .iter()
            .filter_map(|(name, versions)| Some((name.clone(), versions.last()?.clone())))
            .collect()
    }

    /// PutParameter's rules: name (for this fake's region) and value.
    fn check_parameter(&self, name: &str, value: &str) -> Result<(), AwsError> {
        let region = self.lock().settings.region.clone();
        rules::check_parameter_name(name, &region)
            .and_then(|()| rules::check_parameter_value(name, value))
            .map_err(|refused| refused.into_aws_error(PUT_PARAMETER))
    }

    fn find_secret_name(&self, secret_id: &str) -> Option<String> {
        let state = self.lock();
        state
            .services
            .secrets
            .values()
            .find(|secret| secret.arn == secret_id || secret.name == secret_id)
            .map(|secret| secret.name.clone())
    }
}

/// A secret's resource policy may deny the caller reading it (Secrets Manager evaluates it
/// with the caller's IAM policies; an explicit deny in either refuses).
fn check_secret_policy(
    state: &super::State,
    operation: &'static str,
    secret: &FakeSecret,
) -> Result<(), AwsError> {
    let Some(policy) = &secret.policy else {
        return Ok(());
    };
    let caller_arn = state.caller_arn();
    let principal = CallerIdentity::principal_arn_of(&caller_arn);
    let context = BTreeMap::from([
        ("aws:PrincipalArn".to_string(), vec![principal.clone()]),
        (
            "aws:PrincipalAccount".to_string(),
            vec![state.settings.account_id.clone()],
        ),
    ]);
    let request = PolicyRequest {
        principal: &principal,
        action: operation,
        context: &context,
    };
    if evaluate(policy, &request) == PolicyDecision::Deny {
        return Err(AwsError::new(
            AwsErrorKind::Denied,
            operation,
            format!(
                "AccessDeniedException: User: {caller_arn} is not authorized to perform: \
                 {operation} on resource: {} with an explicit deny in a resource-based policy",
                secret.arn
            ),
        ));
    }
    Ok(())
}

#[async_trait]
impl Params for FakeAws {
    async fn get(&self, name: &str) -> Result<Option<ParameterValue>, AwsError> {
        self.enter_ssm(crate::operations::SSM_GET_PARAMETER.name)
            .await?;
        Ok(self
            .lock()
            .services
            .parameters
            .get(name)
            .and_then(|versions| {
                versions.last().map(|value| ParameterValue {
                    value: value.clone(),
                    version: versions.len() as i64,
                })
            }))
    }

    async fn get_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ParameterValue>, AwsError> {
        self.enter_ssm(crate::operations::SSM_GET_PARAMETER.name)
            .await?;
        let state = self.lock();
        let Some(versions) = state.services.parameters.get(name) else {
            return Ok(None);
        };
        let found = usize::try_from(version)
            .ok()
            .and_then(|version| version.checked_sub(1))
            .and_then(|index| versions.get(index));
        Ok(found.map(|value| ParameterValue {
            value: value.clone(),
            version,
        }))
    }

    async fn list_path(&self, path: &str) -> Result<Vec<(String, String)>, AwsError> {
        self.enter_ssm(crate::operations::SSM_GET_PARAMETERS_BY_PATH.name)
            .await?;
        let prefix = format!("{}/", path.trim_end_matches('/'));
        Ok(self
            .lock()
            .services
            .parameters
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .filter_map(|(name, versions)| Some((name.clone(), versions.last()?.clone())))
            .collect())
    }

    async fn put_if_absent(&self, name: &str, value: &str) -> Result<Option<i64>, AwsError> {
        self.enter_ssm(PUT_PARAMETER).await?;
        self.check_parameter(name, value)?;
        let mut state = self.lock();
        if state.services.parameters.contains_key(name) {
            return Ok(None);
        }
        state
            .services
            .parameters
            .insert(name.to_string(), vec![value.to_string()]);
        Ok(Some(1))
    }

    async fn put(&self, name: &str, value: &str) -> Result<i64, AwsError> {
        self.enter_ssm(PUT_PARAMETER).await?;
        self.check_parameter(name, value)?;
        let mut state = self.lock();
        let versions = state
            .services
            .parameters
            .entry(name.to_string())
            .or_default();
        versions.push(value.to_string());
        Ok(versions.len() as i64)
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        self.enter_ssm(crate::operations::SSM_DELETE_PARAMETER.name)
            .await?;
        self.lock().services.parameters.remove(name);
        Ok(())
    }
}

impl FakeAws {
    /// Every SSM call passes here: on top of [`FakeAws::enter`], it refuses calls beyond the
    /// configured transactions per second with SSM's ThrottlingException, since the
    /// account's parameter throughput is shared by every caller.
    async fn enter_ssm(&self, operation: &'static str) -> Result<(), AwsError> {
        self.enter(operation).await?;
        let now = self.now();
        let mut state = self.lock();
        let Some(limit) = state.settings.ssm_calls_per_second else {
            return Ok(());
        };
        let window = &mut state.services.ssm_window;
        if window.0 != now.timestamp() {
            *window = (now.timestamp(), 0);
        }
        if window.1 >= limit {
            return Err(AwsError::with_code(
                AwsErrorKind::Throttled,
                operation,
                "ThrottlingException",
                "Rate exceeded",
            ));
        }
        window.1 += 1;
        Ok(())
    }
}

#[async_trait]
impl Identity for FakeAws {
    async fn caller(&self) -> Result<CallerIdentity, AwsError> {
        self.enter(crate::operations::STS_GET_CALLER_IDENTITY.name)
            .await?;
        let state = self.lock();
        Ok(CallerIdentity {
            arn: state.caller_arn(),
            account_id: state.settings.account_id.clone(),
        })
    }
}

#[async_trait]
impl Secrets for FakeAws {
    async fn create_secret(&self, request: &SecretRequest) -> Result<SecretRef, AwsError> {
        const OPERATION: &str = crate::operations::SECRETS_CREATE_SECRET.name;
        self.enter(OPERATION).await?;
        rules::check_secret_name(&request.name)
            .and_then(|()| rules::check_secret_tags(&request.tags))
            .map_err(|refused| refused.into_aws_error(OPERATION))?;
        let now = self.now();
        let mut state = self.lock();
        if state.services.secrets.contains_key(&request.name) {
            return Err(AwsError::new(
                AwsErrorKind::AlreadyExists,
                OPERATION,
                format!(
                    "The operation failed because the secret {} already exists.",
                    request.name
                ),
            ));
        }
        if let Some(key_id) = &request.kms_key_id {
            if !state.kms.key_usable(key_id) {
                return Err(AwsError::new(
                    AwsErrorKind::InvalidState,
                    OPERATION,
                    format!("KMS key {key_id} is not usable"),
                ));
            }
            // Secrets Manager encrypts the value with a data key from KMS, as the caller.
            let key_use = KeyUse::via("secretsmanager", &state.settings.region);
            authorize_key_use(
                &state,
                now,
                OPERATION,
                key_id,
                "kms:GenerateDataKey",
                &key_use,
            )?;
        }
        let sequence = state.next_sequence();
        let region = state.settings.region.clone();
        let account = state.settings.account_id.clone();
        let arn = format!(
            "arn:aws:secretsmanager:{region}:{account}:secret:{}-{:06x}",
            request.name,
            sequence * 7919 % 0xFFFFFF
        );
        state.services.secrets.insert(
            request.name.clone(),
            FakeSecret {
                arn: arn.clone(),
                name: request.name.clone(),
                value: request.value.expose().to_string(),
                kms_key_id: request.kms_key_id.clone(),
                policy: None,
                tags: request.tags.clone(),
                created_at: now,
            },
        );
        Ok(SecretRef {
            arn,
            name: request.name.clone(),
        })
    }

    async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::SECRETS_PUT_RESOURCE_POLICY.name;
        self.enter(OPERATION).await?;
        self.check_principals_propagated(
            OPERATION,
            policy,
            "This resource policy contains an unsupported principal.",
        )?;
        let name = self
            .find_secret_name(secret_id)
            .ok_or_else(|| not_found(OPERATION, format!("Secret {secret_id} not found")))?;
        if let Some(secret) = self.lock().services.secrets.get_mut(&name) {
            secret.policy = Some(policy.to_string());
        }
        Ok(())
    }

    async fn get_value(&self, secret_id: &str) -> Result<Option<SecretString>, AwsError> {
        const OPERATION: &str = crate::operations::SECRETS_GET_SECRET_VALUE.name;
        self.enter(OPERATION).await?;
        let Some(name) = self.find_secret_name(secret_id) else {
            return Ok(None);
        };
        let now = self.now();
        let state = self.lock();
        let Some(secret) = state.services.secrets.get(&name) else {
            return Ok(None);
        };
        check_secret_policy(&state, OPERATION, secret)?;
        if let Some(key_id) = &secret.kms_key_id {
            let key_use = KeyUse::via("secretsmanager", &state.settings.region);
            authorize_key_use(&state, now, OPERATION, key_id, "kms:Decrypt", &key_use)?;
        }
        Ok(Some(SecretString::new(secret.value.clone())))
    }

    async fn put_value(&self, secret_id: &str, value: &SecretString) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::SECRETS_PUT_SECRET_VALUE.name;
        self.enter(OPERATION).await?;
        let name = self
            .find_secret_name(secret_id)
            .ok_or_else(|| not_found(OPERATION, format!("Secret {secret_id} not found")))?;
        let now = self.now();
        let mut state = self.lock();
        let key_id = state
            .services
            .secrets
            .get(&name)
            .and_then(|secret| secret.kms_key_id.clone());
        if let Some(key_id) = key_id {
            let key_use = KeyUse::via("secretsmanager", &state.settings.region);
            authorize_key_use(
                &state,
                now,
                OPERATION,
                &key_id,
                "kms:GenerateDataKey",
                &key_use,
            )?;
        }
        if let Some(secret) = state.services.secrets.get_mut(&name) {
            secret.value = value.expose().to_string();
        }
        Ok(())
    }

    async fn delete_secret(&self, secret_id: &str) -> Result<(), AwsError> {
        self.enter(crate::operations::SECRETS_DELETE_SECRET.name)
            .await?;
        if let Some(name) = self.find_secret_name(secret_id) {
            self.lock().services.secrets.remove(&name);
        }
        Ok(())
    }

    async fn describe_secret(&self, secret_id: &str) -> Result<Option<SecretSummary>, AwsError> {
        self.enter(crate::operations::SECRETS_DESCRIBE_SECRET.name)
            .await?;
        let Some(name) = self.find_secret_name(secret_id) else {
            return Ok(None);
        };
        Ok(self.lock().services.secrets.get(&name).map(summary))
    }

    async fn list_secrets_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<SecretSummary>, AwsError> {
        self.enter(crate::operations::SECRETS_LIST_SECRETS.name)
            .await?;
        let now = self.now();
        let state = self.lock();
        let lag = chrono::TimeDelta::from_std(state.settings.list_secrets_lag)
            .unwrap_or(chrono::TimeDelta::MAX);
        Ok(state
            .services
            .secrets
            .values()
            // ListSecrets is eventually consistent: a secret made within the lag is not
            // listed yet.
            .filter(|secret| secret.created_at + lag <= now)
            .filter(|secret| secret.tags.get(key).map(String::as_str) == Some(value))
            .map(summary)
            .collect())
    }
}

fn summary(secret: &FakeSecret) -> SecretSummary {
    SecretSummary {
        arn: secret.arn.clone(),
        name: secret.name.clone(),
        created_at: Some(secret.created_at),
        tags: secret.tags.clone(),
    }
}

#[async_trait]
impl Events for FakeAws {
    async fn put_event(&self, event: &BusEvent) -> Result<(), AwsError> {
        const OPERATION: &str = crate::operations::EVENTS_PUT_EVENTS.name;
        self.enter(OPERATION).await?;
        rules::check_bus_event(event).map_err(|refused| refused.into_aws_error(OPERATION))?;
        self.lock().services.events.push(event.clone());
        Ok(())
    }
}

#[async_trait]
impl Invoker for FakeAws {
    async fn invoke_async(
        &self,
        function_name: &str,
        payload: &serde_json::Value,
    ) -> Result<(), AwsError> {
        self.enter(crate::operations::LAMBDA_INVOKE.name).await?;
        self.lock()
            .services
            .invocations
            .push((function_name.to_string(), payload.clone()));
        Ok(())
    }
}
