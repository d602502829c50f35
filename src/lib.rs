//! Aurora Clone Manager: copy-on-write clones of Aurora clusters as CloudFormation
//! resources, with a pool of full copies that keeps clone slots free.

pub mod aws;
pub mod config;
pub mod maintenance_config;
pub mod plan;
pub mod properties;
pub mod time;
