//! Builds the [`App`] a command runs with, from the global options: the deployment's
//! defaults for `--stack`, SDK ports for the chosen account, region and endpoint.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::aws::sdk::{Connection, load_sdk_config, sdk_ports};
use crate::cfn::Responder;
use crate::cli::args::GlobalArgs;
use crate::cli::failure::Failure;
use crate::clock::SystemClock;
use crate::config::Config;

/// The configuration the CLI runs with: the deployment's defaults plus the global options.
pub fn config_from(global: &GlobalArgs) -> Config {
    let mut config = Config::for_stack(global.stack.trim());
    config.poll_interval = Duration::from_secs(global.poll_interval);
    config
}

/// Connects to AWS as the global options say. `responder` receives CloudFormation answers
/// (only `invoke` produces any).
pub async fn build_app(global: &GlobalArgs, responder: Arc<dyn Responder>) -> Result<App, Failure> {
    if global.stack.trim().is_empty() {
        return Err(Failure::new(
            "--stack is empty; name the clone manager's stack (or unset STACK_NAME for the default)",
        ));
    }
    let config = config_from(global);
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
    Ok(App::new(
        config,
        ports,
        responder,
        Arc::new(SystemClock),
        &region,
    ))
}
