//! Records and their life: the trait that reads them — a record with the transition that made its
//! state, every record's state, every event, a record's transitions, counts, the policy in force,
//! and the read side (pages of records, a case's timelines, recorded policies, a supervisor's
//! numbers). Written in SQL by `sql/records.rs` and `sql/events.rs`; the rows are in `types.rs`
//! and `sql/reads.rs`. Records are written only by the services of [`crate::Store`] (ingestion,
//! the scheduler, policy changes), which decide with `fengcun_lifecycle::decide`.

use async_trait::async_trait;
use fengcun_domain::ValidEvent;

use crate::error::StoreError;
use crate::types::{Counts, RecordView, StateRow, TransitionView};
use crate::{RecordFilter, RecordPage, RecordTimeline, Stats};

/// The records, their events and transitions, as they are read.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// The policy recorded as in force, if any: (name, version, document).
    async fn policy_in_force(&self) -> Result<Option<(String, String, String)>, StoreError>;

    /// One record, by case code and person identity (`id:<number>`).
    async fn record(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Option<RecordView>, StoreError>;

    /// Every record's state, in key order: what a rebuild must reproduce.
    async fn states(&self) -> Result<Vec<StateRow>, StoreError>;

    /// Every stored event in arrival order, decrypted, with its arrival time (for rebuilds).
    async fn events(&self) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError>;

    async fn transitions(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Vec<TransitionView>, StoreError>;

    /// Counts for metrics: records by state, events, notices by status.
    async fn counts(&self) -> Result<Counts, StoreError>;

    // The read side of a record's life (sql/reads.rs). Data only: who may read, masking and the
    // explanation of transitions are the server's and the policy's.

    /// A page of records in case-code order (then person key), filtered; `next` names where the
    /// following page starts.
    async fn record_page(&self, filter: &RecordFilter) -> Result<RecordPage, StoreError>;

    /// The records of a case — with `held_by`, only those that agency sent an event of — each
    /// with its events, transitions (with their evidence) and notices, in order.
    async fn timelines(
        &self,
        case_code: &str,
        held_by: Option<&str>,
    ) -> Result<Vec<RecordTimeline>, StoreError>;

    /// The case code an agency's own document number (案号, 文书号) was mapped to when its event
    /// arrived (table `case_documents`, by the number's MAC, 一案一码), if any.
    async fn case_code_of_document(
        &self,
        agency: &str,
        document_number: &str,
    ) -> Result<Option<String>, StoreError>;

    /// The text of a policy version that decided a transition (table `policies`), if recorded.
    async fn recorded_policy(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError>;

    /// The supervisor's numbers on `today` / at `now`, each an indexed count.
    async fn stats(
        &self,
        today: fengcun_domain::Date,
        now: jiff::Timestamp,
    ) -> Result<Stats, StoreError>;
}
