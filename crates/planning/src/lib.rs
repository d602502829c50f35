//! The pure side of Aurora Clone Manager: parsing what comes in ([`input`]) and planning
//! what to do about it ([`plan`]).
//!
//! Nothing here awaits, reads the clock or the environment, or names an AWS SDK: every
//! function takes its inputs (inventory, request, config, `now`) as arguments and returns
//! data. Cargo keeps it so: this crate depends on the model only, so it cannot reach the
//! ports, the workflows or the entry points, and its tests build and run in seconds.

pub mod input;
pub mod plan;

/// Cargo keeps the layers: the planner cannot name the ports, which this crate does not
/// depend on, so an upward import does not compile.
///
/// ```compile_fail
/// use aurora_clone_aws::Ports;
/// ```
///
/// Nor the application above it:
///
/// ```compile_fail
/// use aurora_clone_manager::run::workflows::provision;
/// ```
#[cfg(doctest)]
pub struct UpwardImportsDoNotCompile;
