//! The workflows: each takes a request, loads the inventory, asks the planner for a plan
//! and applies it through the ports, under leases where two invocations could collide.
//! Provisioning and finishing a clone, clones waiting for a copy (deferred), refreshing in
//! place, the maintenance run and the lifecycle sweep, the lifecycle verbs and events, the
//! `Custom::AuroraClone` resource, answering dead-lettered requests, and the pool's status.
//!
//! May import: `run::machinery`, and the lower crates (planning, aws, model).
//! Must not import: `lambda/` or `cli/` (the entry points call in, never the reverse).

pub mod answer;
pub mod deferred;
pub mod finish;
pub mod lifecycle;
pub mod maintain;
pub mod provision;
pub mod refresh;
pub mod resource;
pub mod status;
pub mod sweep;
pub mod upgrade;
