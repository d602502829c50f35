//! The SDK adapters: one per port, built from one `SdkConfig` whose retry and timeout
//! settings come from our [`Config`](aurora_clone_model::config::Config). SDK errors are classified here,
//! once, into [`AwsError`].
//!
//! May import: the port traits of this crate, and the model (`config` for the retry and
//! timeout settings).
//! Must not import: `crate::fake`; nothing above this crate is in reach.

mod dynamodb;
mod kms;
mod metrics;
mod queue;
mod rds;
mod services;

use std::error::Error as StdError;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, TimeZone, Utc};

use crate::{AwsError, Ports};
use aurora_clone_model::config::RetrySettings;
use aurora_clone_model::error::classify_error_code;

pub use dynamodb::SdkStateTable;
pub use kms::SdkKeys;
pub use metrics::SdkMetrics;
pub use queue::SdkQueue;
pub use rds::SdkRds;
pub use services::{SdkEvents, SdkIdentity, SdkInvoker, SdkParams, SdkSecrets};

/// Where and as whom to talk to AWS; every field is optional and falls back to the
/// standard AWS configuration chain (environment, profile, instance role).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Fixed credentials (for a local emulator); `None` uses the standard chain.
    pub static_credentials: Option<StaticCredentials>,
}

/// An access key pair given directly rather than found by the credential chain.
#[derive(Debug, Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Loads the SDK configuration with our explicit retry and timeout settings.
pub async fn load_sdk_config(
    connection: &Connection,
    retry: &RetrySettings,
) -> aws_config::SdkConfig {
    let retry_config = match retry.mode.as_str() {
        "adaptive" => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    }
    .with_max_attempts(retry.max_attempts)
    .with_initial_backoff(retry.initial_backoff)
    .with_max_backoff(retry.max_backoff);
    let timeout_config = TimeoutConfig::builder()
        .connect_timeout(retry.connect_timeout)
        .operation_attempt_timeout(retry.attempt_timeout)
        .operation_timeout(retry.operation_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config)
        .timeout_config(timeout_config);
    if let Some(region) = &connection.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &connection.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &connection.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = &connection.static_credentials {
        loader = loader.credentials_provider(aws_sdk_rds::config::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            None,
            None,
            "static",
        ));
    }
    loader.load().await
}

/// Every port backed by the SDK.
pub fn sdk_ports(sdk_config: &aws_config::SdkConfig) -> Ports {
    Ports {
        rds: Arc::new(SdkRds::new(aws_sdk_rds::Client::new(sdk_config))),
        params: Arc::new(SdkParams::new(aws_sdk_ssm::Client::new(sdk_config))),
        state: Arc::new(SdkStateTable::new(aws_sdk_dynamodb::Client::new(
            sdk_config,
        ))),
        identity: Arc::new(SdkIdentity::new(aws_sdk_sts::Client::new(sdk_config))),
        secrets: Arc::new(SdkSecrets::new(aws_sdk_secretsmanager::Client::new(
            sdk_config,
        ))),
        keys: Arc::new(SdkKeys::new(aws_sdk_kms::Client::new(sdk_config))),
        events: Arc::new(SdkEvents::new(aws_sdk_eventbridge::Client::new(sdk_config))),
        invoker: Arc::new(SdkInvoker::new(aws_sdk_lambda::Client::new(sdk_config))),
        metrics: Arc::new(metrics::SdkMetrics::new(aws_sdk_cloudwatch::Client::new(
            sdk_config,
        ))),
    }
}

/// Classifies an SDK error into an [`AwsError`], keeping it as the source.
pub(crate) fn map_sdk_error<E>(
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    let code = error.code().map(str::to_string);
    let message = match &error {
        SdkError::ServiceError(_) => error.message().unwrap_or_default().to_string(),
        SdkError::TimeoutError(_) => format!("timed out ({})", DisplayErrorContext(&error)),
        SdkError::DispatchFailure(_) => {
            format!(
                "could not reach the service ({})",
                DisplayErrorContext(&error)
            )
        }
        SdkError::ResponseError(_) => {
            format!(
                "the response could not be read ({})",
                DisplayErrorContext(&error)
            )
        }
        SdkError::ConstructionFailure(_) => "the request could not be built".to_string(),
        _ => error.message().unwrap_or("failed").to_string(),
    };
    let kind = match (&code, &error) {
        (Some(code), _) => classify_error_code(code, status),
        (None, SdkError::ConstructionFailure(_)) => crate::AwsErrorKind::InvalidRequest,
        (None, _) => classify_error_code("", status),
    };
    AwsError::from_source(kind, operation, code, message, error)
}

/// Reads every page of a listing: `fetch` reads the page at a marker (`None` for the first)
/// and returns its items and the next page's marker, if any.
pub(crate) async fn collect_pages<T, Fetch, Page>(mut fetch: Fetch) -> Result<Vec<T>, AwsError>
where
    Fetch: FnMut(Option<String>) -> Page,
    Page: std::future::Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut marker = None;
    loop {
        let (page, next) = fetch(marker).await?;
        items.extend(page);
        match next.filter(|next| !next.is_empty()) {
            Some(next) => marker = Some(next),
            None => return Ok(items),
        }
    }
}

/// Converts the SDK's timestamp.
pub(crate) fn to_chrono(timestamp: &aws_sdk_rds::primitives::DateTime) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(timestamp.secs(), timestamp.subsec_nanos())
        .single()
}
