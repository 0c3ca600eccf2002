//! Test fixtures shared by the crates' tests, never a dependency of the platform itself (each
//! crate lists it under `[dev-dependencies]`).
//!
//! - [`histories`]: random histories of one person's cases, driven through the pure lifecycle by
//!   `fengcun-lifecycle`'s `tests/histories.rs` and through the store by `fengcun-store`'s.
//! - [`leftovers`]: the scratch directories and PostgreSQL databases of finished test runs,
//!   removed when a new run starts.

pub mod audit_history;
pub mod histories;
pub mod leftovers;
