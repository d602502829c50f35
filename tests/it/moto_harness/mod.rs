//! The shared integration-test harness: a moto server per test binary, a per-test account
//! proxy that refuses what AWS refuses (botocore's model and the crate's AWS rules) and can
//! inject faults, a CloudFormation ResponseURL capture, and helpers that
//! seed and inspect the emulator. Test files include it with `mod common;`.
//!
//! ```ignore
//! let proxy = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
//! let config = moto_harness::sdk_config(&proxy.endpoint());
//! let root = moto_harness::seed_root(&config, "prod-db").await;
//! let capture = moto_harness::response_capture().await;
//! // ... run an event whose ResponseURL is capture.url("create") ...
//! let answers = capture.wait_for("create", 1, Duration::from_secs(30)).await;
//! ```
//!
//! Tests that use moto need real time: under `#[tokio::test(start_paused = true)]` the
//! clock jumps ahead whenever the runtime waits on moto, and the SDK's timeouts fire.

// Each test binary uses a different part of the harness; what one binary leaves unused
// is not dead code.
#![allow(dead_code)]

pub mod app;
pub mod capture;
pub mod events;
pub mod faults;
pub mod moto;
pub mod proxy;
pub mod runtime_api;
pub mod seed;
pub mod validate;

// Shortcuts for tests; a binary that uses few of them must not warn.
#[allow(unused_imports)]
pub use app::{
    MOTO_STATE_TABLE, MotoEnv, PasswordChanges, STACK_ID, cfn_request, create_state_table,
    lambda_invocation, moto_env, moto_env_with, moto_env_with_ports, send,
};
#[allow(unused_imports)]
pub use capture::{Capture, CapturedResponse, response_capture};
#[allow(unused_imports)]
pub use events::{EventQueue, event_queue};
#[allow(unused_imports)]
pub use faults::{FaultKind, FaultSchedule};
#[allow(unused_imports)]
pub use moto::{MotoServer, moto};
#[allow(unused_imports)]
pub use proxy::{Proxy, ProxyStats, ServiceStats, account_proxy, moto_account_proxy};
#[allow(unused_imports)]
pub use runtime_api::{InvocationResult, RuntimeApi, runtime_api};
#[allow(unused_imports)]
pub use seed::{
    ClusterSeed, cluster_exists, cluster_instances, cluster_tags, report, sdk_config,
    sdk_config_with_retry, seed_root,
};
