//! The SSM, STS, Secrets Manager, EventBridge and Lambda ports on the SDK.

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use aws_sdk_ssm::types::ParameterType;

use super::{collect_pages, map_sdk_error, to_chrono};
use crate::{
    AwsError, AwsErrorKind, BusEvent, CallerIdentity, Events, Identity, Invoker, ParameterValue,
    Params, SecretRef, SecretRequest, SecretString, SecretSummary, Secrets,
};

pub struct SdkParams {
    client: aws_sdk_ssm::Client,
}

impl SdkParams {
    pub fn new(client: aws_sdk_ssm::Client) -> SdkParams {
        SdkParams { client }
    }
}

#[async_trait]
impl Params for SdkParams {
    async fn get(&self, name: &str) -> Result<Option<ParameterValue>, AwsError> {
        match self.client.get_parameter().name(name).send().await {
            Ok(output) => Ok(output.parameter().map(|parameter| ParameterValue {
                value: parameter.value().unwrap_or_default().to_string(),
                version: parameter.version(),
            })),
            Err(error) => {
                let error = map_sdk_error("ssm:GetParameter", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn get_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ParameterValue>, AwsError> {
        // GetParameter reads one version when the name carries the `:version` selector.
        self.get(&format!("{name}:{version}")).await
    }

    async fn list_path(&self, path: &str) -> Result<Vec<(String, String)>, AwsError> {
        collect_pages(|next_token| async move {
            let output = self
                .client
                .get_parameters_by_path()
                .path(path.trim_end_matches('/'))
                .recursive(false)
                // GetParametersByPath returns at most 10 parameters per call.
                .max_results(10)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| map_sdk_error("ssm:GetParametersByPath", error))?;
            let page = output
                .parameters()
                .iter()
                .filter_map(|parameter| {
                    Some((
                        parameter.name()?.to_string(),
                        parameter.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect();
            Ok((page, output.next_token().map(str::to_string)))
        })
        .await
    }

    async fn put_if_absent(&self, name: &str, value: &str) -> Result<Option<i64>, AwsError> {
        match self
            .client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .send()
            .await
        {
            Ok(output) => Ok(Some(output.version())),
            Err(error) => {
                let error = map_sdk_error("ssm:PutParameter", error);
                if error.kind() == AwsErrorKind::AlreadyExists {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn put(&self, name: &str, value: &str) -> Result<i64, AwsError> {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map(|output| output.version())
            .map_err(|error| map_sdk_error("ssm:PutParameter", error))
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("ssm:DeleteParameter", error);
                if error.is_not_found() {
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }
}

pub struct SdkIdentity {
    client: aws_sdk_sts::Client,
}

impl SdkIdentity {
    pub fn new(client: aws_sdk_sts::Client) -> SdkIdentity {
        SdkIdentity { client }
    }
}

#[async_trait]
impl Identity for SdkIdentity {
    async fn caller(&self) -> Result<CallerIdentity, AwsError> {
        let output = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| map_sdk_error("sts:GetCallerIdentity", error))?;
        Ok(CallerIdentity {
            account_id: output.account().unwrap_or_default().to_string(),
            arn: output.arn().unwrap_or_default().to_string(),
        })
    }
}

pub struct SdkSecrets {
    client: aws_sdk_secretsmanager::Client,
}

impl SdkSecrets {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> SdkSecrets {
        SdkSecrets { client }
    }
}

/// Secrets Manager tags as ours; a tag without a key is not one.
fn secret_tags(tags: &[Tag]) -> crate::Tags {
    tags.iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_string(),
                tag.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

#[async_trait]
impl Secrets for SdkSecrets {
    async fn create_secret(&self, request: &SecretRequest) -> Result<SecretRef, AwsError> {
        let tags = request
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        let output = self
            .client
            .create_secret()
            .name(&request.name)
            .description(&request.description)
            .secret_string(request.value.expose())
            .set_kms_key_id(request.kms_key_id.clone())
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|error| map_sdk_error("secretsmanager:CreateSecret", error))?;
        Ok(SecretRef {
            arn: output.arn().unwrap_or_default().to_string(),
            name: output.name().unwrap_or(&request.name).to_string(),
        })
    }

    async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .put_resource_policy()
            .secret_id(secret_id)
            .resource_policy(policy)
            .block_public_policy(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("secretsmanager:PutResourcePolicy", error))
    }

    async fn get_value(&self, secret_id: &str) -> Result<Option<SecretString>, AwsError> {
        match self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(output) => Ok(output
                .secret_string()
                .map(|value| SecretString::new(value.to_string()))),
            Err(error) => {
                let error = map_sdk_error("secretsmanager:GetSecretValue", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn put_value(&self, secret_id: &str, value: &SecretString) -> Result<(), AwsError> {
        self.client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(value.expose())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("secretsmanager:PutSecretValue", error))
    }

    async fn delete_secret(&self, secret_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_secret()
            .secret_id(secret_id)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("secretsmanager:DeleteSecret", error);
                if error.is_not_found() {
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn describe_secret(&self, secret_id: &str) -> Result<Option<SecretSummary>, AwsError> {
        match self
            .client
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(output) => Ok(Some(SecretSummary {
                arn: output.arn().unwrap_or_default().to_string(),
                name: output.name().unwrap_or_default().to_string(),
                created_at: output.created_date().and_then(to_chrono),
                tags: secret_tags(output.tags()),
            })),
            Err(error) => {
                let error = map_sdk_error("secretsmanager:DescribeSecret", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn list_secrets_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<SecretSummary>, AwsError> {
        let filters = vec![
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(key)
                .build(),
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values(value)
                .build(),
        ];
        let filters = &filters;
        let secrets: Vec<SecretSummary> = collect_pages(|next_token| async move {
            let output = self
                .client
                .list_secrets()
                .set_filters(Some(filters.clone()))
                .max_results(100)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| map_sdk_error("secretsmanager:ListSecrets", error))?;
            let page = output
                .secret_list()
                .iter()
                .map(|entry| SecretSummary {
                    arn: entry.arn().unwrap_or_default().to_string(),
                    name: entry.name().unwrap_or_default().to_string(),
                    created_at: entry.created_date().and_then(to_chrono),
                    tags: secret_tags(entry.tags()),
                })
                .collect();
            Ok((page, output.next_token().map(str::to_string)))
        })
        .await?;
        // The two filters match key and value separately; keep exact pairs only.
        Ok(secrets
            .into_iter()
            .filter(|secret| secret.tags.get(key).map(String::as_str) == Some(value))
            .collect())
    }
}

pub struct SdkEvents {
    client: aws_sdk_eventbridge::Client,
}

impl SdkEvents {
    pub fn new(client: aws_sdk_eventbridge::Client) -> SdkEvents {
        SdkEvents { client }
    }
}

#[async_trait]
impl Events for SdkEvents {
    async fn put_event(&self, event: &BusEvent) -> Result<(), AwsError> {
        const OPERATION: &str = "events:PutEvents";
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&event.bus_name)
            .source(&event.source)
            .detail_type(&event.detail_type)
            .detail(event.detail.to_string())
            .set_resources(Some(event.resources.clone()))
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|error| map_sdk_error(OPERATION, error))?;
        if output.failed_entry_count() > 0 {
            let failure = output.entries().first();
            let code = failure
                .and_then(|entry| entry.error_code())
                .unwrap_or("Failed");
            let message = failure
                .and_then(|entry| entry.error_message())
                .unwrap_or_default();
            return Err(AwsError::new(
                aurora_clone_model::error::classify_error_code(code, None),
                OPERATION,
                format!("{code}: {message}"),
            ));
        }
        Ok(())
    }
}

pub struct SdkInvoker {
    client: aws_sdk_lambda::Client,
}

impl SdkInvoker {
    pub fn new(client: aws_sdk_lambda::Client) -> SdkInvoker {
        SdkInvoker { client }
    }
}

#[async_trait]
impl Invoker for SdkInvoker {
    async fn invoke_async(
        &self,
        function_name: &str,
        payload: &serde_json::Value,
    ) -> Result<(), AwsError> {
        self.client
            .invoke()
            .function_name(function_name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string().into_bytes()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("lambda:Invoke", error))
    }
}
