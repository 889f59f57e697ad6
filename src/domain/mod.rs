//! Pure rules of the hotline: no axum, redb or tantivy in here, and no
//! clock of its own — every function takes the instant it needs.
//!
//! Architecture invariant: `domain` depends on nothing else in the crate.

pub mod aggregate;
pub mod alarm;
pub mod assessment;
pub mod bulletin;
pub mod calendar;
pub mod chain;
pub mod geo;
pub mod kb;
pub mod kpi;
pub mod org;
pub mod permissions;
pub mod settings;
pub mod supervision;
pub mod ticket;
pub mod triage;
pub mod types;
pub mod workflow;

#[cfg(test)]
pub(crate) mod testkit;
