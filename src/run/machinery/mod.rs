//! What the workflows stand on: the context of an invocation, the inventory loader, the
//! executor of plans and the teardown it undoes with, leases, the one hand-over to a fresh
//! invocation, the CloudFormation response, passwords and their policies, waiting out IAM
//! propagation, and cost readings.
//!
//! `password` lives here rather than in a lower crate: it builds the secret document and
//! the access policies out of the ports' types (`SecretString`) and draws from the OS
//! random source, so it is neither pure nor free of the ports.
//!
//! May import: the lower crates (planning, aws, model) and the base modules.
//! Must not import: `run::workflows`, `lambda/`, `cli/`.

pub mod context;
pub mod cost;
pub mod execute;
pub mod handover;
pub mod inventory;
pub mod lease;
pub mod password;
pub mod propagation;
pub mod respond;
pub mod teardown;
