//! Supervision flags in SQL (migration 0015): kept once by id, listed, reviewed with the review's
//! audit entry in one transaction.

use crate::audit::{AuditEvent, FlagRow};
use crate::error::StoreError;
use crate::sql::rows::ts;

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    f64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str = "id, rule, pattern, subject, other, period_from, period_until, score, entries, persons, found_at, conclusion, reviewed_by, reviewed_at, note";

fn from_row(r: Row) -> FlagRow {
    FlagRow {
        id: r.0,
        rule: r.1,
        pattern: r.2,
        subject: r.3,
        other: r.4,
        period_from: r.5,
        period_until: r.6,
        score: r.7,
        entries: r.8,
        persons: r.9,
        found_at: r.10,
        conclusion: r.11,
        reviewed_by: r.12,
        reviewed_at: r.13,
        note: r.14,
    }
}

impl crate::SqlStore {
    pub(crate) async fn read_supervision_state(
        &self,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT next_seq, state FROM supervision_state WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(next, state)| {
            u64::try_from(next)
                .map(|next| (next, state))
                .map_err(|_| StoreError::Corrupt(format!("supervision_state.next_seq {next}")))
        })
        .transpose()
    }

    pub(crate) async fn write_supervision_state(
        &self,
        next_seq: u64,
        state: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let next = i64::try_from(next_seq)
            .map_err(|_| StoreError::Corrupt(format!("supervision next_seq {next_seq}")))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO supervision_state (id, next_seq, state, saved_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET next_seq = excluded.next_seq, state = excluded.state, \
             saved_at = excluded.saved_at",
        )
        .bind(next)
        .bind(state)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_flags(&self, flags: &[FlagRow]) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut new = 0;
        for f in flags {
            let done = sqlx::query(
                "INSERT INTO supervision_flags (id, rule, pattern, subject, other, period_from, period_until, score, entries, persons, found_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&f.id)
            .bind(&f.rule)
            .bind(&f.pattern)
            .bind(&f.subject)
            .bind(&f.other)
            .bind(&f.period_from)
            .bind(&f.period_until)
            .bind(f.score)
            .bind(&f.entries)
            .bind(&f.persons)
            .bind(&f.found_at)
            .execute(&mut *tx)
            .await?;
            new += done.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(new)
    }

    pub(crate) async fn flag_rows(
        &self,
        id: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<FlagRow>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM supervision_flags");
        if id.is_some() {
            sql.push_str(" WHERE id = $1");
        } else if open_only {
            sql.push_str(" WHERE conclusion IS NULL");
        }
        sql.push_str(" ORDER BY period_from, rule, pattern, subject, id");
        let mut query = sqlx::query_as::<_, Row>(&sql);
        if let Some(id) = id {
            query = query.bind(id);
        }
        Ok(query
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    pub(crate) async fn review(
        &self,
        id: &str,
        by: &str,
        conclusion: &str,
        note: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE supervision_flags SET conclusion = $1, reviewed_by = $2, reviewed_at = $3, note = $4 \
             WHERE id = $5 AND conclusion IS NULL",
        )
        .bind(conclusion)
        .bind(by)
        .bind(ts(now))
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn open_by_rule(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT rule, COUNT(*) FROM supervision_flags WHERE conclusion IS NULL GROUP BY rule ORDER BY rule",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
