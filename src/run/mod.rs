//! Running things against AWS, in two rooms: [`workflows`] (what a request asks for, from
//! start to end) and [`machinery`] (what every workflow stands on: context, inventory,
//! executor, leases, hand-over, deferred work, the CloudFormation response).
//!
//! May import: the lower crates (planning, aws, model) and the base modules.
//! Must not import: `lambda/` or `cli/` (the entry points call in, never the reverse).
//! `tests/it/layering.rs` checks both, and that the machinery never reaches a workflow.

pub mod machinery;
pub mod workflows;
