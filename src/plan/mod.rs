//! The pure planner: synchronous functions from (inventory, request, config, now) to plans
//! that are complete data. No clock, no environment, no I/O in here.

pub mod choice;
pub mod inventory;
pub mod maintenance;
pub mod naming;
pub mod pool;
pub mod provision;
pub mod sweep;
pub mod tags;

#[cfg(test)]
mod golden;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
