//! Builds the [`Context`] a command runs with, from the global options: the deployment's
//! defaults for `--stack`, SDK ports for the chosen account, region and endpoint.

use std::sync::Arc;
use std::time::Duration;

use crate::aws::clock::SystemClock;
use crate::aws::sdk::{Connection, SdkQueue, load_sdk_config, sdk_ports};
use crate::cli::args::GlobalArgs;
use crate::cli::error::Failure;
use crate::model::config::{Config, check_name_prefix};
use crate::run::machinery::context::Context;
use crate::run::machinery::respond::Responder;

/// The configuration the CLI runs with: the deployment's defaults plus the global options.
pub fn config_from(global: &GlobalArgs) -> Result<Config, Failure> {
    let mut config = Config::for_stack(global.stack.trim());
    config.poll_interval = Duration::from_secs(global.poll_interval);
    if let Some(prefix) = &global.name_prefix {
        config.name_prefix = check_name_prefix(prefix.trim())
            .map_err(|problem| Failure::new(format!("--name-prefix: {problem}")))?;
    } else if let Err(problem) = check_name_prefix(&config.name_prefix) {
        return Err(Failure::new(format!(
            "the name prefix derived from --stack is unusable: {problem}; pass --name-prefix"
        )));
    }
    // The caller is always named too: it must be able to finish what it starts.
    config.function_role_arn = global
        .function_role_arn
        .as_ref()
        .map(|arn| arn.trim().to_string())
        .filter(|arn| !arn.is_empty());
    config.policies_name_caller = true;
    config.state_table = global
        .state_table
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    Ok(config)
}

/// Whether responses may go to a local emulator (`ALLOW_LOCAL_RESPONSE_URLS=true`), as
/// for the function.
pub fn allow_local_response_urls() -> Result<bool, Failure> {
    crate::model::config::allow_local_response_urls(std::env::var("ALLOW_LOCAL_RESPONSE_URLS").ok())
        .map_err(|error| Failure::new(error.to_string()))
}

/// Connects to AWS as the global options say. `responder` receives CloudFormation answers
/// (only `invoke` and `answer` produce any).
pub async fn build_app(
    global: &GlobalArgs,
    responder: Arc<dyn Responder>,
) -> Result<Context, Failure> {
    build_app_and_queue(global, responder)
        .await
        .map(|(app, _)| app)
}

/// [`build_app`], with an SQS client for the same account, region and endpoint.
pub async fn build_app_and_queue(
    global: &GlobalArgs,
    responder: Arc<dyn Responder>,
) -> Result<(Context, SdkQueue), Failure> {
    if global.stack.trim().is_empty() {
        return Err(Failure::new(
            "--stack is empty; name the clone manager's stack (or unset STACK_NAME for the default)",
        ));
    }
    let config = config_from(global)?;
    let connection = Connection {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        static_credentials: None,
    };
    let sdk_config = load_sdk_config(&connection, &config.retry).await;
    let Some(region) = sdk_config.region().map(|region| region.to_string()) else {
        return Err(Failure::new(
            "no AWS region is configured; pass --region (or set AWS_REGION, or a region in your profile)",
        ));
    };
    tracing::debug!(%region, stack = %config.stack_name, endpoint = ?global.endpoint_url, "connecting");
    let ports = sdk_ports(&sdk_config);
    let app = Context::new(config, ports, responder, Arc::new(SystemClock), &region);
    Ok((app, SdkQueue::from_config(&sdk_config)))
}
