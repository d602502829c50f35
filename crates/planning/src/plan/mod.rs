//! The pure planner: synchronous functions from (inventory, request, config, now) to plans
//! that are complete data. No clock, no environment, no I/O in here.
//!
//! May import: the model crate (cluster facts, tags, naming, the rules AWS applies to names
//! and values, config, time).
//! Must not import: `input/`. The workflows, the entry points and the ports are out of
//! reach: this crate does not depend on them, so Cargo refuses any such import.

pub mod capacity;
pub mod choice;
pub mod cost;
pub mod finish;
pub mod inventory;
pub mod maintenance;
pub mod pool;
pub mod provision;
pub mod refresh;
pub mod request;
pub mod sweep;
pub mod update;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
