//! The workflows: each takes a request, loads the inventory, asks the planner for a plan
//! and applies it through the ports, under leases where two invocations could collide.
//!
//! May import: `input/` (parsers for what the workflows read from AWS, such as the
//! maintenance config in SSM), `plan/`, `aws/` and the base modules.
//! Must not import: `lambda/` or `cli/` (the entry points call in, never the reverse).
//!
//! `password` lives here rather than at the root: it builds the secret document and the
//! access policies out of the ports' types (`SecretString`) and draws from the OS random
//! source, so it is neither pure nor free of `aws/`, which a base module must be.
//! `backoff` stays a base module: a generic retry loop that knows nothing of this crate.

pub mod answer;
pub mod context;
pub mod cost;
pub mod deferred;
pub mod execute;
pub mod finish;
pub mod inventory;
pub mod lease;
pub mod lifecycle;
pub mod maintain;
pub mod password;
pub mod propagation;
pub mod provision;
pub mod refresh;
pub mod resource;
pub mod respond;
pub mod status;
pub mod sweep;
pub mod teardown;
