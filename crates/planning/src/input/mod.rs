//! Pure parsing of what comes in into the planner's types: the shapes of Lambda events, the
//! CloudFormation request envelope, the `Custom::AuroraClone` properties and the
//! maintenance config. No I/O and no clock: a parser gets text or JSON and returns a typed
//! value or an error that names the field.
//!
//! May import: `plan/` (the types it parses into) and the base modules.
//! Must not import: the ports, the workflows and the entry points, which this crate
//! cannot reach: it depends on the model only.

pub mod capacity;
pub mod cfn;
pub mod event;
pub mod maintenance_config;
pub mod prices;
pub mod properties;
