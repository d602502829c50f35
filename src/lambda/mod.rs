//! The Lambda function's entry point: the runtime loop ([`runtime`]) and the dispatch of
//! each event to its workflow ([`handler`]), which answers every CloudFormation request
//! exactly once.
//!
//! May import: `input/` (to parse each event once), `run/` (the workflows), `plan/` and
//! `aws/` types, and the base modules.
//! Must not import: `cli/`. Nothing but `main.rs` and the CLI's `invoke` (which runs an
//! event through the same dispatch locally) imports this folder.

pub mod handler;
mod runtime;

pub use runtime::run;
