//! The pure planner: synchronous functions from (inventory, request, config, now) to plans
//! that are complete data. No clock, no environment, no I/O in here.
//!
//! May import: the base modules, and the types and rules of `aws/` that a plan is made of
//! (cluster facts, tags, the rules AWS applies to names and values).
//! Must not import: `input/`, `run/`, `lambda/`, `cli/`, nor any port trait or adapter.
//! `tests/layering.rs` checks this.

pub mod capacity;
pub mod choice;
pub mod cost;
pub mod finish;
pub mod inventory;
pub mod maintenance;
pub mod naming;
pub mod pool;
pub mod provision;
pub mod refresh;
pub mod request;
pub mod sweep;
pub mod tags;
pub mod update;

#[cfg(test)]
mod golden;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
