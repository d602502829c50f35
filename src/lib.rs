//! Aurora Clone Manager: copy-on-write clones of Aurora clusters as CloudFormation
//! resources, with a pool of full copies that keeps clone slots free.
//!
//! The folders are the layers, and imports point down only:
//!
//! ```text
//! lambda/, cli/   entry points: the runtime loop and dispatch; the operator CLI
//! input/          pure parsing of events, requests, properties and config into plan types
//! run/            the workflows, and the executor that applies plans through the ports
//! plan/           the pure planner: inventory + request + config + now -> plan (data)
//! aws/            ports, SDK adapters, and the in-process fake (`fake` feature)
//! base modules    config, time, clock, metrics, text, backoff
//! ```
//!
//! A file at the root of `src/` is a base module: it imports nothing of this crate but
//! other base modules. `tests/layering.rs` holds the folders to these rules.

pub mod aws;
pub mod cli;
pub mod input;
pub mod lambda;
pub mod plan;
pub mod run;

pub mod backoff;
pub mod clock;
pub mod config;
pub mod metrics;
pub mod text;
pub mod time;
