//! The record lifecycle, pure: events → facts → policy decision → state transition → notices.
//!
//! The store feeds it stored events and the clock; it answers with the record's facts, its next
//! state, and the notices a transition sends. Nothing here reads a database, a file or the time.

mod derive;
mod notice;
mod state;

pub use derive::{Derived, StoredEvent, derive_record};
pub use notice::{
    Issuing, Notice, NoticeFacts, NoticeKind, Recipient, TriggeringJudgment, UnknownNoticeKind,
    render_notice,
};
pub use state::{
    Actor, Cause, State, StateCode, Step, UnknownState, lifted_by, next_state, sealed_on,
    trigger_for, trigger_reaches,
};
