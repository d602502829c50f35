//! Aurora Clone Manager: copy-on-write clones of Aurora clusters as CloudFormation
//! resources, with a pool of full copies that keeps clone slots free.
//!
//! The layers are crates of one workspace, so Cargo keeps imports pointing down:
//!
//! ```text
//! this crate        lambda/, cli/ (entry points) -> run/ (workflows and their machinery)
//! aurora-clone-planning   input/ (pure parsing) and plan/ (the pure planner)
//! aurora-clone-aws        port traits, SDK adapters; the fake and hooks (`fake` feature)
//! aurora-clone-model      AWS types and errors, rules and operations tables, tags, naming,
//!                         config, time, text
//! ```
//!
//! The planning and AWS crates both build on the model and never on each other. Inside
//! this crate, `run/` never imports `lambda/` or `cli/`; `tests/it/layering.rs` checks that.
//! The lower crates are re-exported under the names the code has always used.

pub use aurora_clone_aws as aws;
pub use aurora_clone_model as model;
pub use aurora_clone_planning::{input, plan};

pub mod cli;
pub mod lambda;
pub mod run;

pub mod backoff;
pub mod metrics;
