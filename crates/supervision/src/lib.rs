//! Supervision of queries (廉政风险): rules as data (data/supervision/*.toml), evaluated over the
//! audit log's entries into flags a supervisor reviews (docs/supervision.md) — pure: the entries,
//! the rules and the time to close at are given.
//!
//! - [`Entry`]: an audit entry's columns and the facts of its detail the rules read;
//! - [`RuleSet`]: the rules and the calendar (working hours, holidays), [`RuleSet::shipped`];
//! - [`Engine`]: entries pushed in log order, flags given out by [`Engine::close`] once certain;
//!   [`evaluate`] does both at once.

mod calendar;
mod engine;
mod entry;
mod rules;
mod stats;

pub use calendar::{Calendar, date_of, day_of, day_start};
pub use engine::{Engine, Flag, evaluate, sort};
pub use entry::{Entry, EntryError, Facts, Kind};
pub use rules::{Params, Rule, RuleError, RuleSet, Window};
pub use stats::{median_mad, robust_z};
