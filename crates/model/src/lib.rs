//! The shared model of Aurora Clone Manager: what every layer above speaks in.
//!
//! - [`types`] and [`error`]: the AWS domain types the ports take and return, and the one
//!   error type every port answers with. No SDK type appears here.
//! - [`rules`]: the rules AWS enforces and the emulators do not, one row each, with its source.
//! - [`operations`]: every AWS operation the ports call, with its IAM action and whether it
//!   changes state, written once for the fake, the hooks, the recorders and the IAM check.
//! - [`tags`] and [`naming`]: ownership tags and the names this deployment gives things.
//! - [`config`], [`time`], [`text`]: the deployment's settings and small pure helpers.
//!
//! This crate depends on no AWS SDK and no async runtime: the planner builds on it and
//! stays pure, and the port crate builds on it without reaching the planner.

pub mod config;
pub mod error;
pub mod naming;
pub mod operations;
pub mod response_url;
pub mod rules;
pub mod status;
pub mod tags;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod time;
pub mod types;

pub use error::{AwsError, AwsErrorKind};
pub use status::ClusterStatus;
pub use types::*;

/// The model is the bottom layer: the planner and the ports build on it, never the
/// reverse, so naming either does not compile here.
///
/// ```compile_fail
/// use aurora_clone_planning::plan::provision::plan_provision;
/// ```
///
/// ```compile_fail
/// use aurora_clone_aws::Rds;
/// ```
#[cfg(doctest)]
pub struct UpwardImportsDoNotCompile;
