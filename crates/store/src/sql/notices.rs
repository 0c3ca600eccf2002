//! Notices and the outbox in SQL: lists of notices rendered from their sealed facts, claims of due
//! deliveries, delivery outcomes, retries, acknowledgements, and the agencies delivered to.

use async_trait::async_trait;
use fengcun_crypto::DataKey;
use fengcun_domain::{Date, Disposition};

use crate::audit::{AuditEvent, AuditKind};
use crate::error::StoreError;
use crate::keys;
use crate::notices::{
    AgencyEndpoint, AgencyKind, Delivery, IdentityMask, NoticeContent, NoticeFilter, NoticeKind,
    NoticeStatus, NoticeStore, NoticeView, OutboxItem, notice_number, notice_number_parts,
};
use crate::sql::SqlStore;
use crate::sql::records::EvidenceParts;
use crate::sql::rows::{Param, decode, person_bytes, person_hex, seconds, time_text};

/// The notices due for delivery, oldest due first, at most `$2` of them.
///
/// One arm per status, each read in order from the outbox's index `notices_to_deliver (status,
/// next_attempt_at)` and stopped at the limit, then the two short lists merged: a single `status IN
/// (…)` cannot be read in `next_attempt_at` order from that index, and both engines then sorted
/// every due notice — at ten million records 13 million, 84–93 s a claim on SQLite. Each arm
/// repeats the index's own condition (`status IN ('pending', 'retrying')`) because SQLite uses a
/// partial index only for a query whose WHERE contains its condition; `status = 'pending'` alone
/// does not. Notices due at the same instant (a whole import batch is) come in the order the
/// index holds them — the order they were written on SQLite (the table's key, transition then
/// place), on PostgreSQL the heap's —
/// not by id: ordering by id as well sorted every notice of that instant.
pub(crate) const CLAIM_DUE_NOTICES: &str = "SELECT n.transition_seq, n.position, n.number, r.person, t.case_code, n.recipient, \
     a.endpoint, n.attempts, n.kind, t.transition_id, t.notice_facts, \
     CASE WHEN t.notice_facts IS NULL THEN t.reasons END, r.data_key FROM ( \
     SELECT * FROM (SELECT transition_seq, position, number, recipient, attempts, kind, next_attempt_at FROM notices \
       WHERE status IN ('pending', 'retrying') AND status = 'pending' AND next_attempt_at <= $1 \
       ORDER BY next_attempt_at LIMIT $2) pending \
     UNION ALL \
     SELECT * FROM (SELECT transition_seq, position, number, recipient, attempts, kind, next_attempt_at FROM notices \
       WHERE status IN ('pending', 'retrying') AND status = 'retrying' AND next_attempt_at <= $1 \
       ORDER BY next_attempt_at LIMIT $2) retrying \
     ) n \
     JOIN transitions t ON t.seq = n.transition_seq \
     JOIN records r ON r.case_code = t.case_code AND substr(r.person, 1, 16) = t.person \
     LEFT JOIN agencies a ON a.agency_code = n.recipient \
     ORDER BY n.next_attempt_at LIMIT $2";

/// A case's notices at one place (`$2`) whose numbers are made from their transitions: the
/// candidates for a number naming that case (`$1`) and place. Read through the case's transitions
/// (`transitions_by_record (case_code, …)`) and each one's notice by the primary key, never by
/// reading the notices.
pub(crate) const NOTICES_OF_CASE_AT: &str = "SELECT t.seq, t.transition_id, n.kind FROM transitions t \
     JOIN notices n ON n.transition_seq = t.seq AND n.position = $2 \
     WHERE t.case_code = $1 AND n.number IS NULL ORDER BY t.seq";

#[async_trait]
impl NoticeStore for SqlStore {
    async fn notices(&self, filter: NoticeFilter) -> Result<Vec<NoticeView>, StoreError> {
        // Where the page starts: the notice it follows, by when it was made, then by its
        // transition and place. A notice that is not there starts nothing (no page follows it).
        let after = match &filter.after {
            None => None,
            Some(number) => {
                let mut conn = self.pool.acquire().await?;
                let Some(key) = self.locate_notice(&mut conn, number).await? else {
                    return Ok(Vec::new());
                };
                let (created_at,): (i64,) = sqlx::query_as(
                    "SELECT created_at FROM notices WHERE transition_seq = $1 AND position = $2",
                )
                .bind(key.0)
                .bind(key.1)
                .fetch_one(&mut *conn)
                .await?;
                Some((created_at, key))
            }
        };
        let (sql, params) = notice_list_statement(&filter, after, self.positional());
        let mut query = sqlx::query_as::<_, NoticeRow>(&sql);
        for param in params {
            query = param.bind_as(query);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| self.notice_view(row, filter.mask))
            .collect()
    }

    async fn notice(
        &self,
        notice_id: &str,
        recipient: Option<&str>,
        mask: Option<IdentityMask>,
    ) -> Result<Option<NoticeView>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some((seq, position)) = self.locate_notice(&mut conn, notice_id).await? else {
            return Ok(None);
        };
        let row: Option<NoticeRow> = sqlx::query_as(
            "SELECT n.position, n.number, r.person, t.case_code, n.kind, n.recipient, n.status, n.attempts, n.last_error, \
             n.created_at, n.delivered_at, n.acknowledged_at, t.transition_id, t.notice_facts, \
     CASE WHEN t.notice_facts IS NULL THEN t.reasons END, r.data_key FROM notices n \
             JOIN transitions t ON t.seq = n.transition_seq \
             JOIN records r ON r.case_code = t.case_code AND substr(r.person, 1, 16) = t.person \
             WHERE n.transition_seq = $1 AND n.position = $2 AND ($3 IS NULL OR n.recipient = $3)",
        )
        .bind(seq)
        .bind(position)
        .bind(recipient)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|row| self.notice_view(row, mask)).transpose()
    }

    async fn person_notices(&self, person_key: &str) -> Result<Vec<NoticeView>, StoreError> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT n.position, n.number, r.person, t.case_code, n.kind, n.recipient, n.status, n.attempts, n.last_error, \
             n.created_at, n.delivered_at, n.acknowledged_at, t.transition_id, t.notice_facts, \
     CASE WHEN t.notice_facts IS NULL THEN t.reasons END, r.data_key FROM records r \
             JOIN transitions t ON t.case_code = r.case_code AND t.person = substr(r.person, 1, 16) \
             JOIN notices n ON n.transition_seq = t.seq \
             WHERE r.person = $1 AND n.recipient = 'person' ORDER BY n.created_at, n.transition_seq, n.position",
        )
        .bind(person_bytes(person_key))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| self.notice_view(row, None))
            .collect()
    }

    async fn claim_due_notices(
        &self,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        type Row = (
            i64,
            i64,
            Option<String>,
            Vec<u8>,
            String,
            String,
            Option<String>,
            i64,
            String,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Vec<u8>,
        );
        let mut tx = self.begin_write().await?;
        let candidates: Vec<Row> = sqlx::query_as(CLAIM_DUE_NOTICES)
            .bind(seconds(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        // The claim repeats the due condition: on PostgreSQL a concurrent run that claimed the
        // notice first makes this update match nothing once its transaction commits.
        let mut rows = Vec::with_capacity(candidates.len());
        for row in candidates {
            let claimed = sqlx::query(
                "UPDATE notices SET next_attempt_at = $1 \
                 WHERE transition_seq = $2 AND position = $3 AND status IN ('pending', 'retrying') \
                 AND next_attempt_at <= $4",
            )
            .bind(seconds(lease_until))
            .bind(row.0)
            .bind(row.1)
            .bind(seconds(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 1 {
                rows.push(row);
            }
        }
        tx.commit().await?;
        let mut items = Vec::with_capacity(rows.len());
        for (
            _seq,
            position,
            number,
            person_key,
            case_code,
            recipient,
            endpoint,
            attempts,
            kind,
            transition_id,
            facts,
            evidence,
            wrapped,
        ) in rows
        {
            let notice_id = stored_number(number, &kind, &case_code, &transition_id, position)?;
            // One unreadable notice must not hold up the others claimed with it.
            let content = decode("notices.kind", &kind, NoticeKind::parse)
                .and_then(|kind| {
                    self.render_stored_notice(
                        &notice_id,
                        kind,
                        &recipient,
                        &person_hex(&person_key),
                        &case_code,
                        &person_hex(&transition_id),
                        SealedNoticeFacts { facts, evidence },
                        &wrapped,
                        None,
                    )
                    .map(|(title, body, authority)| NoticeContent {
                        kind,
                        title,
                        body,
                        authority,
                    })
                })
                .map_err(|error| error.to_string());
            items.push(OutboxItem {
                ack_token: self.keys.ack_token(&notice_id),
                notice_id,
                recipient,
                endpoint,
                attempts,
                content,
            });
        }
        Ok(items)
    }

    async fn record_delivery(
        &self,
        notice_id: &str,
        result: Delivery,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        // Every attempt is recorded whatever the status meanwhile: a receiver may acknowledge
        // while it handles the delivery, before this is written. The status only moves forward
        // (an acknowledgement stays; a failed repeat of a delivered notice changes no status).
        let mut tx = self.begin_write().await?;
        let Some((seq, position)) = self.locate_notice(&mut tx, notice_id).await? else {
            return Ok(());
        };
        let query = match &result {
            Delivery::Delivered => sqlx::query_as::<_, (String,)>(
                "UPDATE notices SET status = CASE WHEN status = 'acknowledged' THEN status ELSE 'delivered' END, \
                 attempts = attempts + 1, delivered_at = COALESCE(delivered_at, $1), last_error = NULL, next_attempt_at = NULL \
                 WHERE transition_seq = $2 AND position = $3 AND recipient <> 'person' RETURNING status",
            )
            .bind(seconds(now))
            .bind(seq)
            .bind(position),
            Delivery::Failed { error, retry_at: Some(at) } => sqlx::query_as(
                "UPDATE notices SET attempts = attempts + 1, \
                 last_error = CASE WHEN status IN ('pending', 'retrying') THEN $1 ELSE last_error END, \
                 next_attempt_at = CASE WHEN status IN ('pending', 'retrying') THEN $2 ELSE next_attempt_at END, \
                 status = CASE WHEN status IN ('pending', 'retrying') THEN 'retrying' ELSE status END \
                 WHERE transition_seq = $3 AND position = $4 AND recipient <> 'person' RETURNING status",
            )
            .bind(error.clone())
            .bind(seconds(*at))
            .bind(seq)
            .bind(position),
            Delivery::Failed { error, retry_at: None } => sqlx::query_as(
                "UPDATE notices SET attempts = attempts + 1, \
                 last_error = CASE WHEN status IN ('pending', 'retrying') THEN $1 ELSE last_error END, \
                 next_attempt_at = CASE WHEN status IN ('pending', 'retrying') THEN NULL ELSE next_attempt_at END, \
                 status = CASE WHEN status IN ('pending', 'retrying') THEN 'failed' ELSE status END \
                 WHERE transition_seq = $2 AND position = $3 AND recipient <> 'person' RETURNING status",
            )
            .bind(error.clone())
            .bind(seq)
            .bind(position),
        };
        let before = self.notice_status(&mut tx, (seq, position)).await?;
        if let Some((status,)) = query.fetch_optional(&mut *tx).await? {
            if let Some(before) = before {
                self.count_notice_move(&mut tx, &before, &status).await?;
            }
            let outcome = match (&result, status.as_str()) {
                (Delivery::Delivered, _) => "delivered",
                (Delivery::Failed { .. }, "retrying") => "retrying",
                (Delivery::Failed { .. }, "failed") => "failed",
                // A repeated delivery of a notice delivered or acknowledged already failed.
                (Delivery::Failed { .. }, _) => "not_delivered",
            };
            let event = AuditEvent::new(AuditKind::NoticeDelivery, "outbox", outcome)
                .subject(format!("notice:{notice_id}"))
                .detail(serde_json::json!({ "status": status }));
            self.append_audit(&mut tx, &[event], now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn retry_failed_notice(
        &self,
        notice_id: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some((seq, position)) = self.locate_notice(&mut tx, notice_id).await? else {
            return Ok(false);
        };
        let retried = sqlx::query(
            "UPDATE notices SET status = 'retrying', next_attempt_at = $1 \
             WHERE transition_seq = $2 AND position = $3 AND status = 'failed' AND recipient <> 'person'",
        )
        .bind(seconds(now))
        .bind(seq)
        .bind(position)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if retried {
            self.count_notice_move(&mut tx, "failed", "retrying")
                .await?;
            let event = AuditEvent::new(AuditKind::NoticeDelivery, actor, "requeued")
                .subject(format!("notice:{notice_id}"));
            self.append_audit(&mut tx, &[event], now).await?;
        }
        tx.commit().await?;
        Ok(retried)
    }

    async fn acknowledge(
        &self,
        notice_id: &str,
        agency: &str,
        token: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let expected = self.keys.ack_token(notice_id);
        let matches = expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !matches {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let Some((seq, position)) = self.locate_notice(&mut tx, notice_id).await? else {
            return Ok(false);
        };
        let before = self.notice_status(&mut tx, (seq, position)).await?;
        let done = sqlx::query(
            "UPDATE notices SET status = 'acknowledged', acknowledged_at = $1, next_attempt_at = NULL \
             WHERE transition_seq = $2 AND position = $3 AND recipient = $4 AND recipient <> 'person'",
        )
        .bind(seconds(now))
        .bind(seq)
        .bind(position)
        .bind(agency)
        .execute(&mut *tx)
        .await?;
        let acknowledged = done.rows_affected() == 1;
        if let (true, Some(before)) = (acknowledged, before) {
            self.count_notice_move(&mut tx, &before, "acknowledged")
                .await?;
        }
        if acknowledged {
            let event = AuditEvent::new(AuditKind::NoticeAcknowledged, actor, "acknowledged")
                .subject(format!("notice:{notice_id}"))
                .detail(serde_json::json!({"agency": agency}));
            self.append_audit(&mut tx, &[event], now).await?;
        }
        tx.commit().await?;
        Ok(acknowledged)
    }

    async fn set_agency(&self, agency: &AgencyEndpoint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agencies (agency_code, kind, name, endpoint) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agency_code) DO UPDATE SET kind = excluded.kind, name = COALESCE(excluded.name, agencies.name), endpoint = excluded.endpoint",
        )
        .bind(agency.code.as_str())
        .bind(agency.kind.code())
        .bind(agency.name.clone())
        .bind(agency.endpoint.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn agency_kind(&self, agency_code: &str) -> Result<Option<AgencyKind>, StoreError> {
        let kind: Option<(String,)> =
            sqlx::query_as("SELECT kind FROM agencies WHERE agency_code = $1")
                .bind(agency_code)
                .fetch_optional(&self.pool)
                .await?;
        kind.map(|(kind,)| decode("agencies.kind", &kind, AgencyKind::parse))
            .transpose()
    }
}

/// A transition's notice facts as its row holds them: sealed apart under `notices/<id>`
/// (`transitions.notice_facts`, as transitions written before `Dictionary::Transition1` keep them), or in its evidence under
/// `transition/<id>` (`transitions.reasons`, read only when the column is empty).
pub(crate) struct SealedNoticeFacts {
    pub facts: Option<Vec<u8>>,
    pub evidence: Option<Vec<u8>>,
}

/// Why a transition's notice facts did not open.
enum OpenError {
    /// The transition has none.
    Missing,
    Store(StoreError),
}

impl From<StoreError> for OpenError {
    fn from(error: StoreError) -> Self {
        OpenError::Store(error)
    }
}

impl SealedNoticeFacts {
    /// The notice facts in clear, as the decision serialised them.
    fn open(&self, key: &DataKey, transition_id: &str) -> Result<Vec<u8>, OpenError> {
        match (&self.facts, &self.evidence) {
            (Some(apart), _) => Ok(keys::open(key, apart, &format!("notices/{transition_id}"))?),
            (None, Some(evidence)) => {
                let evidence = keys::open(key, evidence, &format!("transition/{transition_id}"))?;
                EvidenceParts::of(&evidence)
                    .and_then(|parts| parts.notices)
                    .map(|notices| notices.get().as_bytes().to_vec())
                    .ok_or(OpenError::Missing)
            }
            (None, None) => Err(OpenError::Missing),
        }
    }
}

type NoticeRow = (
    i64,
    Option<String>,
    Vec<u8>,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<u8>,
);

/// The text of a notice's time that may not be there yet (delivered, acknowledged).
pub(crate) fn optional_time(
    column: &str,
    seconds: Option<i64>,
) -> Result<Option<String>, StoreError> {
    seconds.map(|t| time_text(column, t)).transpose()
}

/// The number of a notice read from its row: the one kept as issued (`number`), or the one its
/// transition makes (migration 26).
pub(crate) fn stored_number(
    number: Option<String>,
    kind: &str,
    case_code: &str,
    transition_id: &[u8],
    position: i64,
) -> Result<String, StoreError> {
    match number {
        Some(number) => Ok(number),
        None => notice_number(kind, case_code, &person_hex(transition_id), position)
            .ok_or_else(|| StoreError::Corrupt(format!("a notice of case {case_code}: no number"))),
    }
}

impl SqlStore {
    /// Where the notice numbered `number` is: its transition's sequence number and its place. A
    /// number kept as issued is found by `notices_by_number`; any other names its case and place,
    /// and is the one of that case's notices at that place whose transition makes the same number
    /// (a case has a handful of transitions, read through `transitions_by_record`).
    pub(crate) async fn locate_notice(
        &self,
        conn: &mut sqlx::AnyConnection,
        number: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let kept: Option<(i64, i64)> =
            sqlx::query_as("SELECT transition_seq, position FROM notices WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut *conn)
                .await?;
        if kept.is_some() {
            return Ok(kept);
        }
        let Some((case_code, position)) = notice_number_parts(number) else {
            return Ok(None);
        };
        let candidates: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(NOTICES_OF_CASE_AT)
            .bind(case_code)
            .bind(position)
            .fetch_all(&mut *conn)
            .await?;
        Ok(candidates
            .into_iter()
            .find(|(_, transition_id, kind)| {
                notice_number(kind, case_code, &person_hex(transition_id), position).as_deref()
                    == Some(number)
            })
            .map(|(seq, _, _)| (seq, position)))
    }

    /// Inserts notice rows (the transition's sequence number, the notice's place among its
    /// recipients, kind, recipient, status, next attempt, created), as a decision made them; the
    /// notice's record and number are its transition's.
    pub(crate) async fn insert_notices(
        &self,
        tx: &mut sqlx::AnyConnection,
        rows: Vec<[Param; 7]>,
    ) -> Result<(), StoreError> {
        self.insert_rows(
            tx,
            "INSERT INTO notices (transition_seq, position, kind, recipient, status, next_attempt_at, created_at) VALUES",
            rows,
        )
        .await
    }

    fn notice_view(
        &self,
        row: NoticeRow,
        mask: Option<IdentityMask>,
    ) -> Result<NoticeView, StoreError> {
        let (
            position,
            number,
            person_key,
            case_code,
            kind,
            recipient,
            status,
            attempts,
            last_error,
            created_at,
            delivered_at,
            acknowledged_at,
            transition_id,
            facts,
            evidence,
            wrapped,
        ) = row;
        let notice_id = stored_number(number, &kind, &case_code, &transition_id, position)?;
        let kind = decode("notices.kind", &kind, NoticeKind::parse)?;
        let status = decode("notices.status", &status, NoticeStatus::parse)?;
        let (title, body, _) = self.render_stored_notice(
            &notice_id,
            kind,
            &recipient,
            &person_hex(&person_key),
            &case_code,
            &person_hex(&transition_id),
            SealedNoticeFacts { facts, evidence },
            &wrapped,
            mask,
        )?;
        Ok(NoticeView {
            notice_id,
            case_code,
            kind,
            recipient,
            status,
            attempts,
            last_error,
            created_at: time_text("notices.created_at", created_at)?,
            delivered_at: optional_time("notices.delivered_at", delivered_at)?,
            acknowledged_at: optional_time("notices.acknowledged_at", acknowledged_at)?,
            title,
            body,
        })
    }

    /// Renders one notice from the facts sealed with its transition: the same text whenever it is
    /// read or delivered.
    #[allow(clippy::too_many_arguments, reason = "the columns of one notice row")]
    fn render_stored_notice(
        &self,
        notice_id: &str,
        kind: NoticeKind,
        recipient: &str,
        person_key: &str,
        case_code: &str,
        transition_id: &str,
        sealed: SealedNoticeFacts,
        wrapped: &[u8],
        mask: Option<IdentityMask>,
    ) -> Result<(String, String, Option<String>), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("notice {notice_id}: {what}"));
        let key = self.keys.record_key(wrapped, person_key, case_code)?;
        let facts: serde_json::Value =
            serde_json::from_slice(&sealed.open(&key, transition_id).map_err(|e| match e {
                OpenError::Missing => corrupt("no notice facts"),
                OpenError::Store(e) => e,
            })?)
            .map_err(|e| corrupt(&e.to_string()))?;
        let recipient = if recipient == "person" {
            fengcun_lifecycle::Recipient::Person
        } else {
            let entry = &facts["agencies"][recipient];
            fengcun_lifecycle::Recipient::Agency {
                agency: serde_json::from_value(entry["agency"].clone())
                    .map_err(|e| corrupt(&e.to_string()))?,
                // A document number or a judgment's 案号 finds the person in published
                // judgments: a masked reading shows neither.
                document_number: entry["document_number"]
                    .as_str()
                    .filter(|_| mask.is_none())
                    .map(str::to_owned),
            }
        };
        let date = |field: &str| -> Result<Date, StoreError> {
            facts[field]
                .as_str()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| corrupt(field))
        };
        let basis: Vec<String> = facts["basis"]
            .as_array()
            .map(|b| {
                b.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let (mut person_name, mut id_number) = (
            facts["person_name"].as_str().map(str::to_owned),
            facts["id_number"].as_str().map(str::to_owned),
        );
        if let Some(mask) = mask {
            person_name = person_name.map(|name| (mask.name)(&name));
            id_number = id_number.map(|id| (mask.id_number)(&id));
        }
        // Notices sealed before the disposition was kept with them were all worded as convictions,
        // and keep the words they were issued with. A violation record's disposition is one of
        // its own kind (`penalized`, …), so either kind's codes are read.
        let disposition = match facts["disposition"].as_str() {
            None => Disposition::Convicted,
            Some(code) => Disposition::parse_any(code).ok_or_else(|| corrupt("disposition"))?,
        };
        // Notices sealed before these were kept with them render as they were issued: no
        // authority, the policy's title, no judgment, no objection route.
        let judgment = match &facts["judgment"] {
            serde_json::Value::Null => None,
            j => {
                let day = |v: &serde_json::Value| v.as_str().and_then(|d| d.parse::<Date>().ok());
                Some(fengcun_lifecycle::TriggeringJudgment {
                    court: j["court"]
                        .as_str()
                        .ok_or_else(|| corrupt("judgment.court"))?
                        .to_owned(),
                    court_code: j["court_code"].as_str().unwrap_or_default().to_owned(),
                    case_number: j["case_number"]
                        .as_str()
                        .filter(|_| mask.is_none())
                        .map(str::to_owned),
                    date: day(&j["date"]).ok_or_else(|| corrupt("judgment.date"))?,
                    effective: day(&j["effective"]),
                })
            }
        };
        let objection_days = match &facts["objection_days"] {
            serde_json::Value::Null => None,
            days => Some(
                days.as_u64()
                    .and_then(|d| u32::try_from(d).ok())
                    .ok_or_else(|| corrupt("objection_days"))?,
            ),
        };
        let notice = fengcun_lifecycle::render_notice(
            kind,
            &recipient,
            &fengcun_lifecycle::NoticeFacts {
                number: notice_id,
                case_code,
                person_name: person_name.as_deref(),
                id_number: id_number.as_deref(),
                effective: date("effective")?,
                issued: date("issued")?,
                policy_title: facts["policy_title"].as_str().unwrap_or_default(),
                instrument: facts["instrument"].as_str(),
                basis: &basis,
                authority: facts["authority"].as_str(),
                judgment: judgment.as_ref(),
                objection_body: facts["objection_body"].as_str(),
                objection_days,
                reason: facts["reason"].as_str(),
                disposition,
            },
        );
        let authority = facts["authority"].as_str().map(str::to_owned);
        Ok((notice.title, notice.body, authority))
    }
}

impl SqlStore {
    /// For tests of the upgrade: puts `notices` back as migrations 18–25 left them — each notice's
    /// number stored in full as its primary key, `notices_by_transition` beside it — and sets
    /// `schema_version` back to 25, so that the next opening converts it again.
    #[doc(hidden)]
    pub async fn put_notices_back_as_before_migration_26(&self) -> Result<(), StoreError> {
        self.put_rows_back_as_before_migration_28().await?;
        let sql = match self.backend {
            crate::Backend::Sqlite => {
                "CREATE TABLE notices_v25 (notice_id TEXT PRIMARY KEY, transition_seq INTEGER NOT NULL, \
                 kind TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, \
                 next_attempt_at TEXT, last_error TEXT, created_at TEXT NOT NULL, delivered_at TEXT, acknowledged_at TEXT);
                 INSERT INTO notices_v25 SELECT COALESCE(n.number, 'FC-' || upper(n.kind) || '-' || t.case_code || '-' \
                 || substr(hex(t.transition_id), 21, 8) || '-' || n.position), n.transition_seq, n.kind, n.recipient, \
                 n.status, n.attempts, strftime('%Y-%m-%dT%H:%M:%SZ', n.next_attempt_at, 'unixepoch'), n.last_error, \
                 strftime('%Y-%m-%dT%H:%M:%SZ', n.created_at, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', n.delivered_at, 'unixepoch'), \
                 strftime('%Y-%m-%dT%H:%M:%SZ', n.acknowledged_at, 'unixepoch') \
                 FROM notices n LEFT JOIN transitions t ON t.seq = n.transition_seq ORDER BY n.transition_seq, n.position;
                 DROP TABLE notices;
                 ALTER TABLE notices_v25 RENAME TO notices;
                 CREATE INDEX notices_by_transition ON notices (transition_seq);
                 CREATE INDEX notices_to_deliver ON notices (status, next_attempt_at) WHERE status IN ('pending', 'retrying');
                 CREATE INDEX notices_by_status ON notices (status, created_at);
                 DELETE FROM schema_version WHERE version >= 26;"
            }
            crate::Backend::Postgres => {
                "CREATE TABLE notices_v25 (notice_id TEXT PRIMARY KEY, transition_seq BIGINT NOT NULL, \
                 kind TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, \
                 next_attempt_at TEXT, last_error TEXT, created_at TEXT NOT NULL, delivered_at TEXT, acknowledged_at TEXT);
                 INSERT INTO notices_v25 SELECT COALESCE(n.number, 'FC-' || upper(n.kind) || '-' || t.case_code || '-' \
                 || upper(substr(encode(t.transition_id, 'hex'), 21, 8)) || '-' || n.position), n.transition_seq, n.kind, \
                 n.recipient, n.status, n.attempts, to_char(to_timestamp(n.next_attempt_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), n.last_error, \
                 to_char(to_timestamp(n.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(to_timestamp(n.delivered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                 to_char(to_timestamp(n.acknowledged_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                 FROM notices n LEFT JOIN transitions t ON t.seq = n.transition_seq ORDER BY n.transition_seq, n.position;
                 DROP TABLE notices;
                 ALTER TABLE notices_v25 RENAME TO notices;
                 ALTER INDEX notices_v25_pkey RENAME TO notices_pkey;
                 CREATE INDEX notices_by_transition ON notices (transition_seq);
                 CREATE INDEX notices_to_deliver ON notices (status, next_attempt_at) WHERE status IN ('pending', 'retrying');
                 CREATE INDEX notices_by_status ON notices (status, created_at);
                 DELETE FROM schema_version WHERE version >= 26;"
            }
        };
        let mut tx = self.begin_write().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The statuses a list reads: those asked for, the agency notices not acknowledged
/// (`unacknowledged`: a person's notice is `available`, never acknowledged), or every one.
fn listed_statuses(filter: &NoticeFilter) -> Vec<NoticeStatus> {
    let backlog = [
        NoticeStatus::Pending,
        NoticeStatus::Retrying,
        NoticeStatus::Delivered,
        NoticeStatus::Failed,
    ];
    match (filter.status, filter.unacknowledged) {
        (Some(status), false) => vec![status],
        (Some(status), true) => backlog.into_iter().filter(|s| *s == status).collect(),
        (None, true) => backlog.to_vec(),
        (None, false) => NoticeStatus::ALL.to_vec(),
    }
}

/// The statement of a page of notices and its values, made of fixed pieces (the values are
/// bound, never written into it).
///
/// A list of a national store's notices (tens of millions) must not read them all to find the
/// oldest: a case's notices are found through the case (`transitions_by_record`); otherwise each
/// status is read in order from `notices_by_status (status, created_at)` and stopped at the page,
/// and the short lists are merged — as the outbox's claim does. One statement with optional
/// conditions (`$1 IS NULL OR …`) can use no index, and took over three minutes a page over ten
/// million records.
fn notice_list_statement(
    filter: &NoticeFilter,
    after: Option<(i64, (i64, i64))>,
    positional: bool,
) -> (String, Vec<Param>) {
    let mut params: Vec<Param> = Vec::new();
    let next = |value: Param, params: &mut Vec<Param>| {
        params.push(value);
        crate::sql::rows::param(positional, params.len())
    };
    let limit = filter.limit.unwrap_or(i64::MAX);
    let statuses = listed_statuses(filter);
    // The conditions every notice of the page meets, on the columns of `notices` named `prefix`.
    let conditions = |prefix: &str, params: &mut Vec<Param>| {
        let mut out = Vec::new();
        if let Some(recipient) = &filter.recipient {
            let p = next(Param::text(recipient.clone()), params);
            out.push(format!("{prefix}recipient = {p}"));
        }
        if let Some((created_at, (seq, position))) = &after {
            let from = next(Param::Int(*created_at), params);
            let at = next(Param::Int(*created_at), params);
            let same_at = next(Param::Int(*created_at), params);
            let after_seq = next(Param::Int(*seq), params);
            let same_seq = next(Param::Int(*seq), params);
            let after_position = next(Param::Int(*position), params);
            out.push(format!(
                "{prefix}created_at >= {from} AND ({prefix}created_at > {at} OR ({prefix}created_at = {same_at} \
                 AND ({prefix}transition_seq > {after_seq} OR ({prefix}transition_seq = {same_seq} \
                 AND {prefix}position > {after_position}))))"
            ));
        }
        out
    };
    const COLUMNS: &str = "n.position, n.number, r.person, t.case_code, n.kind, n.recipient, n.status, n.attempts, \
        n.last_error, n.created_at, n.delivered_at, n.acknowledged_at, t.transition_id, t.notice_facts, \
     CASE WHEN t.notice_facts IS NULL THEN t.reasons END, r.data_key";
    const NOTICE_COLUMNS: &str = "transition_seq, position, number, kind, recipient, status, attempts, last_error, \
        created_at, delivered_at, acknowledged_at";
    let sql = if let Some(case_code) = &filter.case_code {
        let case = next(Param::text(case_code.clone()), &mut params);
        let mut wheres = vec![format!("t.case_code = {case}")];
        if filter.status.is_some() || filter.unacknowledged {
            let codes: Vec<String> = statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            wheres.push(format!("n.status IN ({})", codes.join(", ")));
        }
        wheres.extend(conditions("n.", &mut params));
        let limit = next(Param::Int(limit), &mut params);
        format!(
            "SELECT {COLUMNS} FROM transitions t \
             JOIN notices n ON n.transition_seq = t.seq \
             JOIN records r ON r.case_code = t.case_code AND substr(r.person, 1, 16) = t.person \
             WHERE {} ORDER BY n.created_at, n.transition_seq, n.position LIMIT {limit}",
            wheres.join(" AND ")
        )
    } else {
        let mut arms = Vec::new();
        let mut selections: Vec<String> = statuses
            .iter()
            .map(|s| format!("status = '{}'", s.as_str()))
            .collect();
        if filter.status.is_none() && !filter.unacknowledged {
            // Every notice: a row whose status is none of the known ones is listed too, and
            // refused as it is read, never passed over.
            let known: Vec<String> = NoticeStatus::ALL
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            selections.push(format!("status NOT IN ({})", known.join(", ")));
        }
        for selection in selections {
            let mut wheres = vec![selection];
            wheres.extend(conditions("", &mut params));
            let limit = next(Param::Int(limit), &mut params);
            arms.push(format!(
                "SELECT * FROM (SELECT {NOTICE_COLUMNS} FROM notices WHERE {} \
                 ORDER BY created_at, transition_seq, position LIMIT {limit}) a{}",
                wheres.join(" AND "),
                arms.len()
            ));
        }
        let limit = next(Param::Int(limit), &mut params);
        format!(
            "SELECT {COLUMNS} FROM ({}) n \
             JOIN transitions t ON t.seq = n.transition_seq \
             JOIN records r ON r.case_code = t.case_code AND substr(r.person, 1, 16) = t.person \
             ORDER BY n.created_at, n.transition_seq, n.position LIMIT {limit}",
            arms.join(" UNION ALL ")
        )
    };
    (sql, params)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::expect_used,
        clippy::unwrap_used,
        reason = "a test fails loudly on a broken fixture"
    )]

    use super::{CLAIM_DUE_NOTICES, NOTICES_OF_CASE_AT};
    use crate::sql::SqlStore;
    use crate::testing::{fresh_urls, plan};
    use crate::{Backend, Keys, Store};

    /// The steps of the claim's plan.
    async fn claim_plan(store: &SqlStore) -> Vec<String> {
        use crate::sql::rows::Param;
        let params = vec![Param::Int(1_796_515_200), Param::Int(20)];
        plan(store, CLAIM_DUE_NOTICES, params).await
    }

    /// The plan of a page of the agency notices not acknowledged, with a cursor.
    async fn page_plan(store: &SqlStore) -> Vec<String> {
        let filter = crate::NoticeFilter {
            unacknowledged: true,
            limit: Some(200),
            ..crate::NoticeFilter::default()
        };
        let after = Some((1_796_515_200, (1, 1)));
        let (sql, params) = super::notice_list_statement(&filter, after, store.positional());
        plan(store, &sql, params).await
    }

    /// A page of the notices not acknowledged reads each status from `notices_by_status` from
    /// the cursor on, never every notice: one statement with optional conditions took over three
    /// minutes a page over ten million records.
    #[tokio::test]
    async fn a_page_of_notices_reads_each_status_from_its_index() {
        for url in fresh_urls("page_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let plan = page_plan(&store).await;
            // SQLite, without statistics, is held to the index kept for it; PostgreSQL, with an
            // empty table, may as well take the outbox's for `pending` and `retrying` (its
            // planner proves the partial index's condition): an index either way.
            let by_index = plan
                .iter()
                .filter(|step| match store.backend() {
                    Backend::Sqlite => step.contains("USING INDEX notices_by_status (status=?"),
                    Backend::Postgres => step.contains("Index Scan using notices_"),
                })
                .count();
            assert_eq!(
                by_index, 4,
                "{url}: the four statuses of the backlog: {plan:#?}"
            );
            assert!(
                !plan
                    .iter()
                    .any(|step| step.trim_start().starts_with("SCAN notices")
                        || step.contains("Seq Scan on notices")),
                "{url}: {plan:#?}"
            );
        }
    }

    /// Claiming due notices reads both statuses in order from the outbox's index and sorts only
    /// the two short lists it takes, never every due notice: at ten million records the claim
    /// that sorted them took 84–93 s, and the outbox claims every few seconds.
    #[tokio::test]
    async fn the_outbox_claim_reads_its_index_in_order() {
        for url in fresh_urls("claim_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let plan = claim_plan(&store).await;
            let by_index = plan
                .iter()
                .filter(|step| step.contains("notices_to_deliver"))
                .count();
            assert_eq!(by_index, 2, "{url}: each status from the index: {plan:#?}");
            assert!(
                !plan.iter().any(|step| step.contains("notices_by_status")),
                "{url}: {plan:#?}"
            );
            let sorts: Vec<&String> = plan
                .iter()
                .filter(|step| step.contains("TEMP B-TREE") || step.contains("Sort"))
                .collect();
            assert!(
                sorts.len() <= 1,
                "{url}: only the merged short lists are sorted: {plan:#?}"
            );
        }
    }

    /// A notice looked up by its number reads the case's transitions from `transitions_by_record`
    /// and each one's notice by the notices' primary key: at national scale a scan of either table
    /// would take minutes for one acknowledgement.
    #[tokio::test]
    async fn a_number_is_looked_up_through_its_case_and_the_notices_key() {
        use crate::sql::rows::Param;
        for url in fresh_urls("number_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let params = vec![Param::text("110105-2026-000001"), Param::Int(1)];
            let plan = plan(&store, NOTICES_OF_CASE_AT, params).await;
            let uses = |name: &str| plan.iter().any(|step| step.contains(name));
            match store.backend() {
                Backend::Sqlite => assert!(
                    uses("USING INDEX transitions_by_record (case_code=?)")
                        && uses("USING PRIMARY KEY (transition_seq=? AND position=?)"),
                    "{url}: {plan:#?}"
                ),
                Backend::Postgres => assert!(
                    uses("transitions_by_record") && uses("notices_pkey"),
                    "{url}: {plan:#?}"
                ),
            }
            assert!(
                !plan.iter().any(|step| step.trim_start().starts_with("SCAN ")
                    || step.contains("Seq Scan")),
                "{url}: {plan:#?}"
            );
        }
    }
}
