//! The read side of a record's life: records listed by state, date, agency and policy version (a
//! keyset page), a record's timeline (events, transitions with their evidence, notices), and the
//! numbers a supervisor watches. Data access only: who may read what, masking and the explanation
//! of each transition are the server's (its service layer) and the policy's.
//!
//! Every count is a `COUNT` over an index (migration 0009); a page reads at most its size plus one
//! row, and decrypts only the identities of the rows it returns.

use fengcun_domain::{Date, Record, ValidEvent, parse_record};
use serde::{Deserialize, Serialize};

use super::records::{EVIDENCE_COLUMNS, StoredFacts};
use super::{SqlStore, events, person_bytes, person_hex, ts};
use crate::error::StoreError;
use crate::keys;
use crate::record_events;
use crate::sql::notices::{optional_time, stored_number};
use crate::sql::rows::{
    TRANSITION_ACTOR, person_ref, policy_columns, seconds, stored_time, time_text,
};

/// Which records a page lists. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// A state code (`open`, `pending_seal`, `sealed`, …).
    pub state: Option<String>,
    /// Only pending seals due strictly before this date.
    pub due_before: Option<Date>,
    /// Only records an agency holds: it sent at least one of their events.
    pub agency: Option<String>,
    /// Only records whose current state was decided under this policy version.
    pub policy_version: Option<String>,
    /// The last record of the previous page: this page starts after it.
    pub after: Option<RecordKey>,
    /// At most this many records (the caller bounds it).
    pub limit: i64,
}

/// A record's place in the list's order: case code, then person key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    pub case_code: String,
    pub person_key: String,
}

/// The person a record is about, as its facts name them (decrypted; the server masks them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonShown {
    pub name: Option<String>,
    pub id_number: Option<String>,
}

/// One record of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSummary {
    pub person_key: String,
    pub case_code: String,
    pub state: String,
    /// The state's date: when a seal takes (or took) effect, when a record was unsealed.
    pub state_date: Option<String>,
    pub trigger: Option<String>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    /// When the record last changed.
    pub updated_at: String,
    pub person: PersonShown,
}

/// A page of records, and where the next one starts if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPage {
    pub records: Vec<RecordSummary>,
    pub next: Option<RecordKey>,
}

/// One stored event, as a timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventEntry {
    pub kind: String,
    pub agency_code: String,
    pub agency_kind: String,
    pub document_number: Option<String>,
    pub date: String,
    pub received_at: String,
}

/// One transition with its evidence: the record facts it was decided on and the date, read back
/// (with the policy version, the explanation is derived again from them).
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionEntry {
    pub from: Option<String>,
    pub to: String,
    pub date: Option<String>,
    pub trigger: Option<String>,
    /// The unsealing rule of the policy that lifted a seal, if one did.
    pub rule: Option<String>,
    pub policy: String,
    pub policy_version: String,
    /// `automatic` or the operator's name.
    pub actor: String,
    pub at: String,
    pub as_of: Date,
    pub facts: Record,
}

/// One notice of a record: to whom, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeEntry {
    pub notice_id: String,
    pub kind: String,
    /// An agency code, or `person`.
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
}

/// A record and everything that happened to it, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTimeline {
    pub record: RecordSummary,
    pub events: Vec<EventEntry>,
    pub transitions: Vec<TransitionEntry>,
    pub notices: Vec<NoticeEntry>,
}

/// The numbers a supervisor watches, each one indexed count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub records_by_state: Vec<(String, i64)>,
    /// Records each agency holds (sent at least one of their events).
    pub records_by_agency: Vec<(String, i64)>,
    /// Pending seals whose date is at most 7 (30) days after today (overdue ones included).
    pub seals_due_7_days: i64,
    pub seals_due_30_days: i64,
    /// Agency notices not acknowledged 3 (7) days after they were made.
    pub unacknowledged_after_3_days: i64,
    pub unacknowledged_after_7_days: i64,
    /// Agency notices that ran out of delivery attempts.
    pub failed_deliveries: i64,
    pub pending_requests: i64,
    /// Grants neither revoked nor expired, in force now.
    pub live_grants: i64,
}

/// The person fields of stored record facts.
#[derive(Deserialize)]
struct FactsPerson {
    #[serde(default)]
    person: PersonShown,
}

impl<'de> Deserialize<'de> for PersonShown {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            id_number: Option<String>,
        }
        let fields = Fields::deserialize(deserializer)?;
        Ok(Self {
            name: fields.name,
            id_number: fields.id_number,
        })
    }
}

/// person (bytes of the person key), case_code, state, state_date, trigger, policy, policy_version, updated_at (text
/// and seconds), facts,
/// data_key, and the latest transition's id and evidence when it keeps the facts.
type SummaryRow = (
    Vec<u8>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<Vec<u8>>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

/// With the facts, the evidence that keeps them when the row does not (`EVIDENCE_COLUMNS`).
fn summary_columns() -> String {
    format!(
        "r.person, r.case_code, r.state, r.state_date, r.state_trigger, {}, \
         r.updated_at, r.updated_s, r.facts, r.data_key, {EVIDENCE_COLUMNS}",
        policy_columns("r")
    )
}

/// The agency holds the record `r`: it sent one of its events (table `holdings`, kept as events
/// arrive).
const HELD_BY: &str = "EXISTS (SELECT 1 FROM holdings h WHERE h.agency_code = $1 AND h.case_code = r.case_code AND h.person = substr(r.person, 1, 16))";

impl SqlStore {
    /// The person a record is about, from its sealed facts (none if it has none).
    fn person_shown(
        &self,
        person_key: &str,
        case_code: &str,
        facts: &StoredFacts,
        wrapped: &[u8],
    ) -> Result<PersonShown, StoreError> {
        if facts.sealed.is_none() {
            return Ok(PersonShown::default());
        }
        let key = self.keys.record_key(wrapped, person_key, case_code)?;
        let Some(plain) = facts.open(&key, case_code)? else {
            return Ok(PersonShown::default());
        };
        let parsed: FactsPerson = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt(format!("facts of {case_code}: {e}")))?;
        Ok(parsed.person)
    }

    fn summary(&self, row: SummaryRow) -> Result<RecordSummary, StoreError> {
        let (
            person,
            case_code,
            state,
            state_date,
            trigger,
            policy,
            policy_version,
            updated_at,
            updated_s,
            facts,
            wrapped,
            transition_id,
            evidence,
        ) = row;
        let updated_at = stored_time("records.updated_at", updated_at, updated_s)?;
        let person_key = person_hex(&person);
        let facts = StoredFacts::new(facts, transition_id, evidence);
        let person = self.person_shown(&person_key, &case_code, &facts, &wrapped)?;
        Ok(RecordSummary {
            person_key,
            case_code,
            state,
            state_date,
            trigger,
            policy,
            policy_version,
            updated_at,
            person,
        })
    }

    pub(crate) async fn read_record_page(
        &self,
        filter: &RecordFilter,
    ) -> Result<RecordPage, StoreError> {
        let limit = filter.limit.max(1);
        let sql = format!(
            "SELECT {} FROM records r \
             WHERE ($2 IS NULL OR r.state = $2) \
             AND ($3 IS NULL OR (r.state = 'pending_seal' AND r.state_date IS NOT NULL AND r.state_date < $3)) \
             AND ($4 IS NULL OR {version} = $4) \
             AND ($1 IS NULL OR {HELD_BY}) \
             AND ($5 IS NULL OR r.case_code > $5 OR (r.case_code = $5 AND r.person > $6)) \
             ORDER BY r.case_code, r.person LIMIT $7",
            summary_columns(),
            version = "COALESCE(NULLIF(r.policy_version, ''), (SELECT p.version FROM policy_refs p WHERE p.ref = r.policy_ref))"
        );
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(filter.agency.clone())
            .bind(filter.state.clone())
            .bind(filter.due_before.map(|d| d.to_string()))
            .bind(filter.policy_version.clone())
            .bind(filter.after.as_ref().map(|k| k.case_code.clone()))
            .bind(
                filter
                    .after
                    .as_ref()
                    .map(|k| person_bytes(&k.person_key))
                    .unwrap_or_default(),
            )
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        let records = rows
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|row| self.summary(row))
            .collect::<Result<Vec<_>, _>>()?;
        let next = more
            .then(|| records.last())
            .flatten()
            .map(|last| RecordKey {
                case_code: last.case_code.clone(),
                person_key: last.person_key.clone(),
            });
        Ok(RecordPage { records, next })
    }

    pub(crate) async fn read_timelines(
        &self,
        case_code: &str,
        held_by: Option<&str>,
    ) -> Result<Vec<RecordTimeline>, StoreError> {
        let sql = format!(
            "SELECT {} FROM records r WHERE r.case_code = $2 AND ($1 IS NULL OR {HELD_BY}) \
             ORDER BY r.person",
            summary_columns()
        );
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(held_by)
            .bind(case_code)
            .fetch_all(&self.pool)
            .await?;
        let mut timelines = Vec::with_capacity(rows.len());
        for row in rows {
            let key = self.keys.record_key(&row.10, &person_hex(&row.0), &row.1)?;
            let record = self.summary(row)?;
            let events = self.timeline_events(&record, &key).await?;
            let transitions = self.timeline_transitions(&record, &key).await?;
            let notices = self.timeline_notices(&record).await?;
            timelines.push(RecordTimeline {
                record,
                events,
                transitions,
                notices,
            });
        }
        Ok(timelines)
    }

    async fn timeline_events(
        &self,
        record: &RecordSummary,
        key: &fengcun_crypto::DataKey,
    ) -> Result<Vec<EventEntry>, StoreError> {
        let Some(person) = events::person_column(&record.person_key) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT event_id, received_at, body FROM events \
             WHERE person = $1 AND case_code = $2 ORDER BY seq",
        )
        .bind(person.as_slice())
        .bind(record.case_code.as_str())
        .fetch_all(&self.pool)
        .await?;
        // Events stored a row each (before migration 27) arrived before those of the list.
        let mut entries = rows
            .into_iter()
            .map(|(event_id, received_at, body)| {
                // The kind, agency and date as the event row kept them before migration 17:
                // what the body says.
                let event = events::open_event(key, &event_id, &body)?;
                event_entry(event, received_at)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // The list in the record's row (migration 29), which keeps the whole person key.
        let list: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT events FROM records WHERE person = $1 AND case_code = $2")
                .bind(crate::sql::rows::person_bytes(&record.person_key))
                .bind(record.case_code.as_str())
                .fetch_optional(&self.pool)
                .await?;
        if let Some((Some(sealed),)) = list {
            for kept in record_events::open(key, &person, &record.case_code, &sealed)? {
                entries.push(event_entry(events::parse_kept(&kept)?, kept.received_at)?);
            }
        }
        Ok(entries)
    }

    async fn timeline_transitions(
        &self,
        record: &RecordSummary,
        key: &fengcun_crypto::DataKey,
    ) -> Result<Vec<TransitionEntry>, StoreError> {
        type Row = (
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
            Option<i64>,
            Vec<u8>,
            Vec<u8>,
        );
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT t.from_state, t.to_state, t.state_date, t.state_trigger, t.rule, {}, {TRANSITION_ACTOR}, t.at, t.at_s, \
             t.reasons, t.transition_id FROM transitions t WHERE t.case_code = $1 AND t.person = $2 ORDER BY t.seq",
            policy_columns("t")
        ))
        .bind(record.case_code.as_str())
        .bind(person_ref(&record.person_key))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(
                    from,
                    to,
                    date,
                    trigger,
                    rule,
                    policy,
                    policy_version,
                    actor,
                    at,
                    at_s,
                    evidence,
                    transition_id,
                )| {
                    let at = stored_time("transitions.at", at, at_s)?;
                    let transition_id = person_hex(&transition_id);
                    let plain = keys::open(key, &evidence, &format!("transition/{transition_id}"))?;
                    let (as_of, facts) = evidence_of(&plain).map_err(|e| {
                        StoreError::Corrupt(format!("transition {transition_id}: {e}"))
                    })?;
                    Ok(TransitionEntry {
                        from,
                        to,
                        date,
                        trigger,
                        rule,
                        policy,
                        policy_version,
                        actor,
                        at,
                        as_of,
                        facts,
                    })
                },
            )
            .collect()
    }

    async fn timeline_notices(
        &self,
        record: &RecordSummary,
    ) -> Result<Vec<NoticeEntry>, StoreError> {
        type Row = (
            i64,
            Option<String>,
            Vec<u8>,
            String,
            String,
            String,
            i64,
            Option<String>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT n.position, n.number, t.transition_id, n.kind, n.recipient, n.status, n.attempts, n.last_error, \
             n.created_at, n.delivered_at, n.acknowledged_at \
             FROM transitions t JOIN notices n ON n.transition_seq = t.seq \
             WHERE t.case_code = $1 AND t.person = $2 ORDER BY n.created_at, n.transition_seq, n.position",
        )
        .bind(record.case_code.as_str())
        .bind(person_ref(&record.person_key))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(
                    position,
                    number,
                    transition_id,
                    kind,
                    recipient,
                    status,
                    attempts,
                    last_error,
                    created_at,
                    delivered_at,
                    acknowledged_at,
                )| {
                    Ok(NoticeEntry {
                        notice_id: stored_number(
                            number,
                            &kind,
                            record.case_code.as_str(),
                            &transition_id,
                            position,
                        )?,
                        kind,
                        recipient,
                        status,
                        attempts,
                        last_error,
                        created_at: time_text("notices.created_at", created_at)?,
                        delivered_at: optional_time("notices.delivered_at", delivered_at)?,
                        acknowledged_at: optional_time("notices.acknowledged_at", acknowledged_at)?,
                    })
                },
            )
            .collect()
    }

    pub(crate) async fn read_recorded_policy(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        let text: Option<(String,)> =
            sqlx::query_as("SELECT source_text FROM policies WHERE name = $1 AND version = $2")
                .bind(name)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(text.map(|(text,)| text))
    }

    /// The primary key of `case_documents` answers it, by the number's MAC.
    pub(crate) async fn read_case_code_of_document(
        &self,
        agency: &str,
        document_number: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT case_code FROM case_documents WHERE agency_code = $1 AND document_mac = $2",
        )
        .bind(agency)
        .bind(self.keys.document_mac(document_number))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(case_code,)| case_code))
    }

    pub(crate) async fn read_stats(
        &self,
        today: Date,
        now: jiff::Timestamp,
    ) -> Result<Stats, StoreError> {
        let count = |sql: &'static str| sqlx::query_as::<_, (i64,)>(sql);
        let records_by_state = self.records_by_state().await?;
        let records_by_agency =
            sqlx::query_as("SELECT agency_code, records FROM agency_holdings ORDER BY agency_code")
                .fetch_all(&self.pool)
                .await?;
        let due = |days: i32| {
            fengcun_domain::date::add_period(today, 0, 0, days)
                .map(|d| d.to_string())
                .ok_or_else(|| StoreError::Corrupt(format!("{today} + {days} days")))
        };
        const DUE: &str = "SELECT COUNT(*) FROM records WHERE state = 'pending_seal' AND state_date IS NOT NULL AND state_date <= $1";
        let (seals_due_7_days,) = count(DUE).bind(due(7)?).fetch_one(&self.pool).await?;
        let (seals_due_30_days,) = count(DUE).bind(due(30)?).fetch_one(&self.pool).await?;
        // A person's notice is `available`, never acknowledged: only agency notices are counted.
        const UNACKNOWLEDGED: &str = "SELECT COUNT(*) FROM notices WHERE status IN ('pending', 'retrying', 'delivered', 'failed') \
             AND created_at <= $1";
        let before = |days: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(24 * days))
                .map(seconds)
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let (unacknowledged_after_3_days,) = count(UNACKNOWLEDGED)
            .bind(before(3)?)
            .fetch_one(&self.pool)
            .await?;
        let (unacknowledged_after_7_days,) = count(UNACKNOWLEDGED)
            .bind(before(7)?)
            .fetch_one(&self.pool)
            .await?;
        let failed_deliveries = self
            .notices_by_status()
            .await?
            .into_iter()
            .find(|(status, _)| status == "failed")
            .map_or(0, |(_, n)| n);
        let (pending_requests,) =
            count("SELECT COUNT(*) FROM penetration_requests WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        let (live_grants,) = count(
            "SELECT COUNT(*) FROM grants WHERE revoked_at IS NULL AND expires > $1 AND not_before <= $1",
        )
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(Stats {
            records_by_state,
            records_by_agency,
            seals_due_7_days,
            seals_due_30_days,
            unacknowledged_after_3_days,
            unacknowledged_after_7_days,
            failed_deliveries,
            pending_requests,
            live_grants,
        })
    }
}

/// A transition's evidence as stored: `{"as_of": "<date>", "facts": {record facts}}`.
fn evidence_of(plain: &[u8]) -> Result<(Date, Record), String> {
    #[derive(Deserialize)]
    struct Evidence {
        as_of: String,
        facts: serde_json::Value,
    }
    let evidence: Evidence = serde_json::from_slice(plain).map_err(|e| e.to_string())?;
    let as_of = evidence
        .as_of
        .parse()
        .map_err(|_| format!("evidence date {}", evidence.as_of))?;
    let facts = serde_json::to_vec(&evidence.facts).map_err(|e| e.to_string())?;
    let facts = parse_record(&facts).map_err(|e| e.to_string())?;
    Ok((as_of, facts))
}

/// A timeline's line for an event.
fn event_entry(event: ValidEvent, received_at: i64) -> Result<EventEntry, StoreError> {
    Ok(EventEntry {
        kind: event.event.kind.code().to_owned(),
        agency_code: event.event.agency.code.clone(),
        agency_kind: event.event.agency.kind.code().to_owned(),
        date: event.date.to_string(),
        document_number: event.event.document_number,
        received_at: events::received_text(received_at)?,
    })
}
