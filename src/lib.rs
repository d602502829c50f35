//! Aurora Clone Manager: copy-on-write clones of Aurora clusters as CloudFormation
//! resources, with a pool of full copies that keeps clone slots free.

pub mod answer;
pub mod app;
pub mod aws;
pub mod backoff;
pub mod cfn;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deferred;
pub mod event;
pub mod finish;
pub mod handler;
pub mod lambda;
pub mod lease;
pub mod lifecycle;
pub mod maintain;
pub mod maintenance_config;
pub mod metrics;
pub mod observe;
pub mod password;
pub mod plan;
pub mod propagation;
pub mod properties;
pub mod provision;
pub mod resource;
pub mod status;
pub mod sweep;
pub mod teardown;
pub mod text;
pub mod time;
