//! The Lambda entry point: reads the configuration once, builds the SDK ports, and serves
//! invocations through [`handle_event`](crate::lambda::handler::handle_event).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::aws::clock::SystemClock;
use crate::aws::sdk::{Connection, load_sdk_config, sdk_ports};
use crate::input::cfn::Envelope;
use crate::lambda::handler::handle_event;
use crate::metrics::StdoutMetrics;
use crate::model::config::{Config, ConfigError};
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::respond::{CfnResponse, HttpResponder, Responder};

/// Runs the Lambda runtime loop until the process is stopped.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => return serve_misconfigured(error).await,
    };
    init_json_logging(&config.log_level);
    let sdk_config = load_sdk_config(&Connection::default(), &config.retry).await;
    let region = sdk_config
        .region()
        .map(|region| region.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    let responder = Arc::new(HttpResponder::new(config.allow_local_response_urls));
    let app = Arc::new(
        Context::new(
            config,
            sdk_ports(&sdk_config),
            responder,
            Arc::new(SystemClock),
            &region,
        )
        .with_metrics(Arc::new(StdoutMetrics)),
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let invocation = Invocation {
                deadline: Some(deadline_instant(event.context.deadline)),
                function_name: Some(unqualified_function(&event.context.invoked_function_arn)),
            };
            handle_event(app, invocation, event.payload)
                .await
                .map_err(|error| lambda_runtime::Diagnostic {
                    error_type: "AuroraCloneManagerError".to_string(),
                    error_message: error.0,
                })
        }
    }))
    .await
}

/// With a configuration that cannot be used, the function still starts and answers every
/// CloudFormation request FAILED with the reason, so that no stack waits an hour for an
/// answer; every other event fails with the same reason.
async fn serve_misconfigured(error: ConfigError) -> Result<(), lambda_runtime::Error> {
    init_json_logging("info");
    tracing::error!(%error, "the function is misconfigured");
    let reason = format!("the clone manager is misconfigured: {error}");
    // The setting is read on its own: the rest of the configuration is what failed.
    let allow_local = crate::model::config::allow_local_response_urls(
        std::env::var("ALLOW_LOCAL_RESPONSE_URLS").ok(),
    )
    .unwrap_or(false);
    let responder = Arc::new(HttpResponder::new(allow_local));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let reason = reason.clone();
        let responder = responder.clone();
        async move {
            if let Some(response_url) = event.payload.get("ResponseURL").and_then(Value::as_str) {
                let envelope = Envelope::read(&event.payload);
                let physical_id = envelope
                    .physical_resource_id
                    .clone()
                    .unwrap_or_else(|| envelope.placeholder_physical_id());
                let response = CfnResponse::failed(&envelope, &physical_id, &reason);
                if let Err(error) = responder.send(response_url, &response).await {
                    tracing::error!(%error, "could not deliver the CloudFormation response");
                }
            }
            Err::<Value, _>(lambda_runtime::Diagnostic {
                error_type: "AuroraCloneManagerMisconfigured".to_string(),
                error_message: reason,
            })
        }
    }))
    .await
}

/// Lambda gives the deadline as milliseconds since the epoch; the code waits on tokio's clock.
fn deadline_instant(deadline_epoch_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or_default();
    tokio::time::Instant::now() + Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms))
}

/// The function's ARN without a version or alias, which is what the role may invoke.
fn unqualified_function(invoked_arn: &str) -> String {
    let parts: Vec<&str> = invoked_arn.split(':').collect();
    if parts.len() > 7 && parts[5] == "function" {
        parts[..7].join(":")
    } else {
        invoked_arn.to_string()
    }
}

fn init_json_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{level},aws_smithy_runtime=warn,aws_config=warn,hyper=warn"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_function_arns_lose_their_qualifier() {
        assert_eq!(
            unqualified_function("arn:aws:lambda:us-east-1:123456789012:function:acm:live"),
            "arn:aws:lambda:us-east-1:123456789012:function:acm"
        );
        assert_eq!(
            unqualified_function("arn:aws:lambda:us-east-1:123456789012:function:acm"),
            "arn:aws:lambda:us-east-1:123456789012:function:acm"
        );
    }
}
