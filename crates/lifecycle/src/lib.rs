//! The record lifecycle, pure: events → facts → policy decision → state transition → notices.
//!
//! The store feeds it a person's stored records and events, the policy and today's date
//! ([`person::decide`]); it answers with each record's facts and decision, the transitions with
//! their notices, and the unsealing cascade across the person's records.
//! Nothing here reads a database, a file or the time.

mod derive;
mod notice;
pub mod person;
mod state;

pub use derive::{Derived, StoredEvent, derive_record, first_contradicting};
pub use notice::{
    Issuing, Notice, NoticeFacts, NoticeKind, Recipient, TriggeringJudgment, UnknownNoticeKind,
    render_notice,
};
pub use person::{
    Decided, DecidedRecord, NOTIFY_NEW_AGENCIES, PersonRecords, Transition, Under, decide,
    deciding_policy, is_effective_conviction, notice_kind,
};
pub use state::{
    Actor, Cause, State, StateCode, Step, UnknownState, lifted_by, next_state, sealed_on,
    trigger_for, trigger_reaches,
};
