//! Sealing policies as data.
//!
//! A policy is a TOML document a lawyer can read and diff (see `docs/policy-format.md`): ordered
//! eligibility rules, each a condition on the record's facts with its legal basis, and timing rules
//! that give candidate dates. `evaluate` is a pure function of (policy, record, as-of date): no
//! clock, no I/O. Every decision carries the reason of every rule that was evaluated.

mod condition;
mod decision;
mod error;
mod eval;
mod explain;
mod format;
mod policy;
pub mod presets;
mod text;

pub use condition::{AgeAt, Cond, Leaf, Missing, Truth};
pub use decision::{
    Candidate, Decision, DecisionView, Outcome, Reason, ReasonKind, ReasonView, Verdict, cite_once,
};
pub use error::PolicyError;
pub use eval::evaluate;
pub use explain::{ExplainError, explain, explain_recorded};
pub use policy::{Anchor, Meta, Policy, Rule, Timing, Trigger, Unseal, Wait};
