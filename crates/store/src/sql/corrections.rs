//! Correction requests in SQL (table `correction_requests`, migration 0013): written with their
//! audit events in one transaction; the person's words and the agency's answer sealed with the
//! row's id as context, so that a sealed text cannot be moved to another row.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::corrections::{CorrectionAnswer, CorrectionRow, CorrectionStatus, CorrectionStore};
use crate::error::StoreError;
use crate::sql::SqlStore;
use crate::sql::rows::{Param, decode, ts};

const COLUMNS: &str = "request_id, person_key, requested_by, case_code, field, agency, \
     text_sealed, status, answered_by, answer_sealed, correction_key, created_at, answered_at, seen_at";

type Tuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    String,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

fn text_context(request_id: &str) -> String {
    format!("correction:{request_id}:text")
}

fn answer_context(request_id: &str) -> String {
    format!("correction:{request_id}:answer")
}

impl SqlStore {
    fn correction_from(&self, row: Tuple) -> Result<CorrectionRow, StoreError> {
        let (
            request_id,
            person_key,
            requested_by,
            case_code,
            field,
            agency,
            text_sealed,
            status,
            answered_by,
            answer_sealed,
            correction_key,
            created_at,
            answered_at,
            seen_at,
        ) = row;
        let open_text = |context: String, sealed: &[u8]| -> Result<String, StoreError> {
            let plain = self.keys().open_detail(&context, sealed)?;
            String::from_utf8(plain).map_err(|_| StoreError::Corrupt(context))
        };
        let text = open_text(text_context(&request_id), &text_sealed)?;
        let answer = answer_sealed
            .as_deref()
            .map(|sealed| open_text(answer_context(&request_id), sealed))
            .transpose()?;
        Ok(CorrectionRow {
            status: decode(
                "correction_requests.status",
                &status,
                CorrectionStatus::parse,
            )?,
            request_id,
            person_key,
            requested_by,
            case_code,
            field,
            agency,
            text,
            answered_by,
            answer,
            correction_key,
            created_at,
            answered_at,
            seen_at,
        })
    }

    async fn read_corrections(
        &self,
        condition: &str,
        binds: &[&str],
        order: &str,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM correction_requests WHERE {condition} ORDER BY {order}");
        let mut query = sqlx::query_as::<_, Tuple>(&sql);
        for value in binds {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.into_iter()
            .map(|row| self.correction_from(row))
            .collect()
    }
}

#[async_trait]
impl CorrectionStore for SqlStore {
    async fn put_correction(
        &self,
        request: &CorrectionRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let text = self
            .keys()
            .seal_detail(&text_context(&request.request_id), request.text.as_bytes());
        let answer = request.answer.as_ref().map(|answer| {
            self.keys()
                .seal_detail(&answer_context(&request.request_id), answer.as_bytes())
        });
        self.insert_row(
            &mut tx,
            &format!("INSERT INTO correction_requests ({COLUMNS}) VALUES"),
            [
                Param::text(request.request_id.clone()),
                Param::text(request.person_key.clone()),
                Param::text(request.requested_by.clone()),
                Param::text(request.case_code.clone()),
                Param::text(request.field.clone()),
                Param::text(request.agency.clone()),
                Param::Blob(text),
                Param::text(request.status.as_str()),
                Param::Text(request.answered_by.clone()),
                Param::MaybeBlob(answer),
                Param::Text(request.correction_key.clone()),
                Param::text(ts(now)),
                Param::Text(request.answered_at.clone()),
                Param::Text(request.seen_at.clone()),
            ],
            "",
        )
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn correction(&self, request_id: &str) -> Result<Option<CorrectionRow>, StoreError> {
        Ok(self
            .read_corrections("request_id = $1", &[request_id], "request_id")
            .await?
            .into_iter()
            .next())
    }

    async fn corrections_of_person(
        &self,
        person_key: &str,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        self.read_corrections(
            "person_key = $1",
            &[person_key],
            "created_at DESC, request_id DESC",
        )
        .await
    }

    async fn corrections_for_agency(
        &self,
        agency: &str,
        status: Option<CorrectionStatus>,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        match status {
            Some(status) => {
                self.read_corrections(
                    "agency = $1 AND status = $2",
                    &[agency, status.as_str()],
                    "created_at, request_id",
                )
                .await
            }
            None => {
                self.read_corrections("agency = $1", &[agency], "created_at, request_id")
                    .await
            }
        }
    }

    async fn answer_correction(
        &self,
        request_id: &str,
        answer: &CorrectionAnswer,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let sealed = answer.answer.as_ref().map(|text| {
            self.keys()
                .seal_detail(&answer_context(request_id), text.as_bytes())
        });
        let changed = sqlx::query(
            "UPDATE correction_requests SET status = $1, answered_by = $2, answer_sealed = $3, \
             correction_key = $4, answered_at = $5 WHERE request_id = $6 AND status = $7",
        )
        .bind(answer.status.as_str())
        .bind(answer.answered_by.as_str())
        .bind(sealed)
        .bind(answer.correction_key.clone())
        .bind(ts(now))
        .bind(request_id)
        .bind(CorrectionStatus::Open.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Ok(false);
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn mark_corrections_seen(
        &self,
        person_key: &str,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE correction_requests SET seen_at = $1 \
             WHERE person_key = $2 AND status <> $3 AND seen_at IS NULL",
        )
        .bind(ts(now))
        .bind(person_key)
        .bind(CorrectionStatus::Open.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(changed)
    }
}
