//! A person's requests that the agency holding one of their records correct it (docs/person.md,
//! "Asking for a correction"): the rows and the trait that keeps them (written in SQL by
//! `sql/corrections.rs`). Every change is written with its audit events in one transaction. The
//! person's words and the agency's reason are stored sealed.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::code::stored_enum;
use crate::error::StoreError;

stored_enum! {
    /// Where a correction request stands: `open` until the agency answers it, then `accepted`
    /// (with the agency's correction event) or `refused` (with a reason).
    pub enum CorrectionStatus ("correction status") {
        Open => "open",
        Accepted => "accepted",
        Refused => "refused",
    }
}

/// A correction request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    pub request_id: String,
    pub person_key: String,
    /// The person's user (`user:<name>`).
    pub requested_by: String,
    pub case_code: String,
    /// Which fact the person says is wrong (a code the server checks).
    pub field: String,
    /// The agency the request is addressed to: the one holding the fact.
    pub agency: String,
    /// The person's words.
    pub text: String,
    pub status: CorrectionStatus,
    pub answered_by: Option<String>,
    /// A refusal's reason, or the note that goes with an acceptance.
    pub answer: Option<String>,
    /// Accepted: the idempotency key of the agency's correction event.
    pub correction_key: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    /// When the person first saw the answer (the portal's "new answer" mark until then).
    pub seen_at: Option<String>,
}

/// An answer to an open request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionAnswer {
    pub status: CorrectionStatus,
    pub answered_by: String,
    pub answer: Option<String>,
    pub correction_key: Option<String>,
}

/// Correction requests: made by a person, listed for the agency they are addressed to, answered
/// there. Every change is written with its audit events in one transaction.
#[async_trait]
pub trait CorrectionStore: Send + Sync {
    async fn put_correction(
        &self,
        request: &CorrectionRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    async fn correction(&self, request_id: &str) -> Result<Option<CorrectionRow>, StoreError>;

    /// A person's requests, newest first.
    async fn corrections_of_person(
        &self,
        person_key: &str,
    ) -> Result<Vec<CorrectionRow>, StoreError>;

    /// The requests addressed to an agency (only those of `status`, if given), oldest first.
    async fn corrections_for_agency(
        &self,
        agency: &str,
        status: Option<CorrectionStatus>,
    ) -> Result<Vec<CorrectionRow>, StoreError>;

    /// Answers an open request; false (nothing written) when it is not open.
    async fn answer_correction(
        &self,
        request_id: &str,
        answer: &CorrectionAnswer,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Marks the answered requests of a person as seen by them (at `now`), returning how many
    /// were new to them.
    async fn mark_corrections_seen(
        &self,
        person_key: &str,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError>;
}
