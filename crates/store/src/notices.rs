//! Notices and their outbox: the rows a notice list and a delivery read, and the trait that keeps
//! them (written in SQL by `sql/notices.rs`). A notice's text is rendered from the facts sealed
//! with its transition (`fengcun_lifecycle::render_notice`) whenever it is read or delivered.

use async_trait::async_trait;
use serde::Serialize;

use crate::code::stored_enum;
use crate::error::StoreError;

pub use fengcun_domain::AgencyKind;
pub use fengcun_lifecycle::NoticeKind;

stored_enum! {
    /// Where a notice stands. An agency's notice is `pending` until delivered (`retrying` after a
    /// failed attempt, `failed` once out of attempts), then `delivered`, then `acknowledged`; the
    /// person's notice is `available` to read.
    pub enum NoticeStatus ("notice status") {
        Pending => "pending",
        Retrying => "retrying",
        Delivered => "delivered",
        Failed => "failed",
        Acknowledged => "acknowledged",
        Available => "available",
    }
}

/// Sealing and unsealing notices, their delivery to agencies and their acknowledgement, and the
/// agencies they are delivered to.
#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// The notices `filter` selects, oldest first (by when they were made, then in the order they
    /// were made: by transition, then place among its recipients): at most
    /// `filter.limit`, after the notice `filter.after` when given.
    async fn notices(&self, filter: NoticeFilter) -> Result<Vec<NoticeView>, StoreError>;

    /// One notice by its id, if `recipient` (when given) is whom it is addressed to; `mask` as
    /// for a list. Read through the notices' primary key: never by rendering a list.
    async fn notice(
        &self,
        notice_id: &str,
        recipient: Option<&str>,
        mask: Option<IdentityMask>,
    ) -> Result<Option<NoticeView>, StoreError>;

    /// The notices addressed to the person `person_key` themself (recipient `person`), in full:
    /// their own portal's (docs/person.md). Never another person's, whatever case they share.
    async fn person_notices(&self, person_key: &str) -> Result<Vec<NoticeView>, StoreError>;

    /// Agency notices due for (re)delivery, with the endpoint to deliver to, claimed until
    /// `lease_until`: no other outbox run, in this process or in another server on the same
    /// database, is handed them before then. A run that dies mid-delivery leaves its claims to
    /// expire; a run that finishes records each outcome with [`NoticeStore::record_delivery`].
    async fn claim_due_notices(
        &self,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    async fn record_delivery(
        &self,
        notice_id: &str,
        result: Delivery,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Puts a notice that ran out of attempts (`failed`) back in the outbox, due at `now`, for one
    /// more attempt; `actor` (an operator) is named in the log. False if it is not an agency
    /// notice in `failed`.
    async fn retry_failed_notice(
        &self,
        notice_id: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// The receiver confirms a notice with the token it was delivered with: only the agency the
    /// notice is addressed to (`agency`, its code), acting as `actor` (named in the log). False for
    /// an unknown notice, a wrong token or another agency's notice alike.
    async fn acknowledge(
        &self,
        notice_id: &str,
        agency: &str,
        token: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Configures an agency: its kind, name and endpoint, whatever was registered before.
    async fn set_agency(&self, agency: &AgencyEndpoint) -> Result<(), StoreError>;

    /// The kind an agency is registered with (configured, or by its first event), if it is.
    async fn agency_kind(&self, agency_code: &str) -> Result<Option<AgencyKind>, StoreError>;
}

#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub status: Option<NoticeStatus>,
    pub case_code: Option<String>,
    /// Only agency notices not acknowledged yet.
    pub unacknowledged: bool,
    /// Only the notices addressed to this recipient (an agency code, or `person`).
    pub recipient: Option<String>,
    /// Only those after this notice (by when they were made, then by their transition and place
    /// among its recipients): the next page.
    pub after: Option<String>,
    /// At most this many; all without one. A national store holds tens of millions: every caller
    /// a person waits on gives one.
    pub limit: Option<i64>,
    /// How the notices' text shows the person they are about: in full without one (an agency
    /// acting on its own notices), else masked by it (an operator watching deliveries).
    pub mask: Option<IdentityMask>,
}

/// The masking a list applies to the person's name and identity number before a notice is
/// rendered (the server's `mask` module): the text reads as the notice with those masked.
#[derive(Clone, Copy)]
pub struct IdentityMask {
    pub name: fn(&str) -> String,
    pub id_number: fn(&str) -> String,
}

impl std::fmt::Debug for IdentityMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityMask")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeView {
    pub notice_id: String,
    pub case_code: String,
    pub kind: NoticeKind,
    /// An agency code, or `person`.
    pub recipient: String,
    pub status: NoticeStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub title: String,
    pub body: String,
}

/// A notice to deliver, with everything the delivery needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub notice_id: String,
    pub recipient: String,
    pub endpoint: Option<String>,
    pub attempts: i64,
    /// The document, or why it could not be read back (a damaged row, a key that does not open
    /// it): the outbox records that as a failed attempt, so such a notice runs out its attempts and
    /// is listed as `failed` instead of failing every round it is claimed in.
    pub content: Result<NoticeContent, String>,
    /// Given to the receiver to acknowledge with; stored only as a hash.
    pub ack_token: String,
}

/// A notice document as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContent {
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// The issuing authority sealed with the transition, named at the foot of the body (none on
    /// notices sealed before it was kept): the signature names the same one.
    pub authority: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Failed {
        error: String,
        retry_at: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyEndpoint {
    pub code: String,
    pub kind: AgencyKind,
    pub name: Option<String>,
    pub endpoint: Option<String>,
}

/// Where a transition id's random part starts (in its hexadecimal digits), after its time and its
/// count: a notice's number takes eight of its digits.
pub(crate) const TRANSITION_RANDOM_FROM: usize = 20;

/// A notice's number: `FC-<KIND>-<case code>-<eight hex digits of its transition id's random
/// part>-<position>`, the position being its place among its transition's recipients, from 1.
/// Made from the transition whenever a notice is read, never stored (migration 26): `None` for a
/// transition id too short to hold the digits (none this store makes).
pub(crate) fn notice_number(
    kind: &str,
    case_code: &str,
    transition_id: &str,
    position: i64,
) -> Option<String> {
    let random = transition_id.get(TRANSITION_RANDOM_FROM..TRANSITION_RANDOM_FROM + 8)?;
    Some(format!(
        "FC-{}-{case_code}-{}-{position}",
        kind.to_uppercase(),
        random.to_uppercase()
    ))
}

/// The case code and position a notice number names, when it has the form [`notice_number`]
/// makes: what a look-up searches by. The number is then made again from the transition found and
/// compared in full, so a number that merely parses finds nothing.
pub(crate) fn notice_number_parts(number: &str) -> Option<(&str, i64)> {
    let rest = number.strip_prefix("FC-")?;
    let (_kind, rest) = rest.split_once('-')?;
    let (rest, position) = rest.rsplit_once('-')?;
    let (case_code, _random) = rest.rsplit_once('-')?;
    let position: i64 = position.parse().ok().filter(|p| *p >= 1)?;
    Some((case_code, position))
}

#[cfg(test)]
mod number_tests {
    use super::{notice_number, notice_number_parts};

    #[test]
    fn a_number_is_made_from_its_transition_and_read_back_to_its_case_and_position() {
        let id = "01a24a908234000000647e9c4aa1fdb62fef";
        let number = notice_number("seal", "350102-2022-9000000064", id, 2);
        assert_eq!(
            number.as_deref(),
            Some("FC-SEAL-350102-2022-9000000064-7E9C4AA1-2")
        );
        assert_eq!(
            notice_number_parts("FC-SEAL-350102-2022-9000000064-7E9C4AA1-2"),
            Some(("350102-2022-9000000064", 2))
        );
        assert_eq!(
            notice_number_parts("FC-UNSEAL-X-00000000-12"),
            Some(("X", 12))
        );
    }

    #[test]
    fn what_is_not_a_made_number_names_nothing() {
        for number in [
            "",
            "FC-",
            "FC-SEAL",
            "FC-SEAL-7E9C4AA1-1",
            "FC-SEAL-A-7E9C4AA1-0",
            "FC-SEAL-A-7E9C4AA1-x",
            "XX-SEAL-A-7E9C4AA1-1",
        ] {
            assert_eq!(notice_number_parts(number), None, "{number:?}");
        }
        assert_eq!(notice_number("seal", "A", "01a24a90", 1), None);
    }
}
