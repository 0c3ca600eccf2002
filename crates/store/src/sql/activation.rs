//! One-time activation codes of persons' accounts (docs/person.md): made at a counter, used once
//! on the activation page. Stored as digests made by the caller; each change with its audit in one
//! transaction.

use crate::access::{Activation, ActivationRow, Confirmation, EnrolmentRow, EnrolmentState};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::sql::SqlStore;
use crate::sql::rows::{Param, ts};

impl SqlStore {
    pub(crate) async fn write_activation(
        &self,
        code: &ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.insert_activation(&mut tx, code, now).await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores `code`, ending the account's earlier unused codes: only the last code printed works.
    async fn insert_activation(
        &self,
        tx: &mut crate::sql::Tx,
        code: &ActivationRow,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let at = ts(now);
        sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE username = $2 AND used_at IS NULL",
        )
        .bind(at.as_str())
        .bind(code.username.as_str())
        .execute(&mut **tx)
        .await?;
        self.insert_row(
            tx,
            "INSERT INTO activation_codes (code_hash, username, person_key, created_by, created_at, expires_at) VALUES",
            [
                Param::text(code.code_hash.as_str()),
                Param::text(code.username.as_str()),
                Param::text(code.person_key.as_str()),
                Param::text(code.created_by.as_str()),
                Param::text(at.as_str()),
                Param::text(ts(code.expires_at)),
            ],
            "",
        )
        .await?;
        Ok(())
    }

    /// Orders the transactions about one clerk's or one person's enrolments (`name`): SQLite's
    /// write transactions run one at a time already; on PostgreSQL a transaction-scoped advisory
    /// lock on the name.
    async fn lock_enrolments_of(
        &self,
        tx: &mut crate::sql::Tx,
        name: &str,
    ) -> Result<(), StoreError> {
        if self.backend == crate::sql::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("enrolments/{name}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn write_enrolment(
        &self,
        enrolment: &EnrolmentRow,
        max_waiting: usize,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // Counted and inserted in one transaction, one clerk's at a time: SQLite's write
        // transactions run one at a time; on PostgreSQL a lock on the clerk's name orders them.
        self.lock_enrolments_of(&mut tx, &enrolment.created_by)
            .await?;
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM enrolments WHERE agency = $1 AND created_by = $2 \
             AND confirmed_at IS NULL AND closed_at IS NULL AND expires_at > $3",
        )
        .bind(enrolment.agency.as_str())
        .bind(enrolment.created_by.as_str())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        if usize::try_from(waiting).unwrap_or(usize::MAX) >= max_waiting {
            return Ok(false);
        }
        self.insert_row(
            &mut tx,
            "INSERT INTO enrolments (enrolment_id, username, person_key, name_digest, agency, created_by, created_at, expires_at) VALUES",
            [
                Param::text(enrolment.enrolment_id.as_str()),
                Param::text(enrolment.username.as_str()),
                Param::text(enrolment.person_key.as_str()),
                Param::text(enrolment.name_digest.as_str()),
                Param::text(enrolment.agency.as_str()),
                Param::text(enrolment.created_by.as_str()),
                Param::text(ts(enrolment.created_at)),
                Param::text(ts(enrolment.expires_at)),
            ],
            "",
        )
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn write_refusal(
        &self,
        enrolment_id: &str,
        agency: &str,
        closing_at: u32,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<u32, StoreError> {
        let mut tx = self.begin_write().await?;
        let count: Option<(i64,)> = sqlx::query_as(
            "UPDATE enrolments SET refusals = refusals + 1 \
             WHERE enrolment_id = $1 AND agency = $2 AND confirmed_at IS NULL RETURNING refusals",
        )
        .bind(enrolment_id)
        .bind(agency)
        .fetch_optional(&mut *tx)
        .await?;
        let count = count.map_or(0, |(n,)| u32::try_from(n).unwrap_or(u32::MAX));
        if count >= closing_at {
            sqlx::query(
                "UPDATE enrolments SET closed_at = $1 WHERE enrolment_id = $2 AND closed_at IS NULL",
            )
            .bind(ts(now))
            .bind(enrolment_id)
            .execute(&mut *tx)
            .await?;
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(count)
    }

    pub(crate) async fn read_waiting_enrolments(
        &self,
        agency: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<EnrolmentRow>, StoreError> {
        let rows: Vec<EnrolmentTuple> = sqlx::query_as(
            &format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE agency = $1 AND confirmed_at IS NULL AND closed_at IS NULL AND expires_at > $2 \
             ORDER BY created_at, enrolment_id LIMIT 200"),
        )
        .bind(agency)
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| enrolment_from_row(row).map(|(enrolment, _)| enrolment))
            .collect()
    }

    pub(crate) async fn read_enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
    ) -> Result<Option<(EnrolmentRow, EnrolmentState)>, StoreError> {
        let row: Option<EnrolmentTuple> = sqlx::query_as(&format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE enrolment_id = $1 AND agency = $2"
        ))
        .bind(enrolment_id)
        .bind(agency)
        .fetch_optional(&self.pool)
        .await?;
        row.map(enrolment_from_row).transpose()
    }

    pub(crate) async fn write_confirmation(
        &self,
        enrolment_id: &str,
        agency: &str,
        confirmer: &str,
        code: &ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<Confirmation, StoreError> {
        let mut tx = self.begin_write().await?;
        // One person's confirmations one after the other: each closes the person's other
        // enrolments, which the next must then see closed. (SQLite's write transactions run one
        // at a time already.)
        self.lock_enrolments_of(&mut tx, &code.username).await?;
        let row: Option<EnrolmentTuple> = sqlx::query_as(&format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE enrolment_id = $1 AND agency = $2"
        ))
        .bind(enrolment_id)
        .bind(agency)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Confirmation::Unknown);
        };
        let (enrolment, state) = enrolment_from_row(row)?;
        match state {
            EnrolmentState::Confirmed => return Ok(Confirmation::Done),
            EnrolmentState::Closed => return Ok(Confirmation::Closed),
            EnrolmentState::Waiting => {}
        }
        if enrolment.expires_at <= now {
            return Ok(Confirmation::Expired);
        }
        if enrolment.created_by == confirmer {
            return Ok(Confirmation::SameClerk);
        }
        if enrolment.person_key != code.person_key || enrolment.username != code.username {
            return Ok(Confirmation::OtherPerson);
        }
        let at = ts(now);
        let confirmed = sqlx::query(
            "UPDATE enrolments SET confirmed_by = $1, confirmed_at = $2 \
             WHERE enrolment_id = $3 AND confirmed_at IS NULL",
        )
        .bind(confirmer)
        .bind(at.as_str())
        .bind(enrolment_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if confirmed != 1 {
            return Ok(Confirmation::Done);
        }
        // The person's other enrolments still waiting end with it: a later confirmation of one
        // would set the password just chosen again.
        sqlx::query(
            "UPDATE enrolments SET closed_at = $1 \
             WHERE username = $2 AND confirmed_at IS NULL AND closed_at IS NULL AND enrolment_id <> $3",
        )
        .bind(at.as_str())
        .bind(code.username.as_str())
        .bind(enrolment_id)
        .execute(&mut *tx)
        .await?;
        self.insert_activation(&mut tx, code, now).await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(Confirmation::Confirmed)
    }

    pub(crate) async fn use_activation(
        &self,
        code_hash: &str,
        person_key: &str,
        password_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<Activation, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT username, person_key, expires_at, used_at FROM activation_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((username, owner, expires_at, used_at)) = row else {
            return Ok(Activation::Unknown);
        };
        if owner != person_key {
            return Ok(Activation::Unknown);
        }
        if used_at.is_some() {
            return Ok(Activation::Used);
        }
        let expires_at: jiff::Timestamp = expires_at.parse().map_err(|_| {
            StoreError::Corrupt(format!("activation_codes.expires_at of {username}"))
        })?;
        if expires_at <= now {
            return Ok(Activation::Expired);
        }
        let at = ts(now);
        let used = sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL",
        )
        .bind(at.as_str())
        .bind(code_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used != 1 {
            return Ok(Activation::Used);
        }
        let set = sqlx::query(
            "UPDATE users SET password_hash = $1, disabled = 0, updated_at = $2 \
             WHERE username = $3 AND person_key = $4 AND role = 'person'",
        )
        .bind(password_hash)
        .bind(at.as_str())
        .bind(username.as_str())
        .bind(person_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if set != 1 {
            // The account is gone or stands for someone else now: the code opens nothing.
            return Ok(Activation::Unknown);
        }
        sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username.as_str())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(Activation::Activated { username })
    }
}

/// The columns of an [`EnrolmentTuple`], in its order.
const ENROLMENT_COLUMNS: &str = "enrolment_id, username, person_key, name_digest, agency, created_by, \
    created_at, expires_at, confirmed_at, closed_at";

/// An `enrolments` row as read: its columns up to `closed_at` (not `refusals`).
type EnrolmentTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// The enrolment of a row, and where it stands.
fn enrolment_from_row(row: EnrolmentTuple) -> Result<(EnrolmentRow, EnrolmentState), StoreError> {
    let (
        enrolment_id,
        username,
        person_key,
        name_digest,
        agency,
        created_by,
        created_at,
        expires_at,
        confirmed_at,
        closed_at,
    ) = row;
    let time = |text: &str, column: &str| {
        text.parse::<jiff::Timestamp>()
            .map_err(|_| StoreError::Corrupt(format!("enrolments.{column} of {enrolment_id}")))
    };
    let created_at = time(&created_at, "created_at")?;
    let expires_at = time(&expires_at, "expires_at")?;
    Ok((
        EnrolmentRow {
            enrolment_id,
            username,
            person_key,
            name_digest,
            agency,
            created_by,
            created_at,
            expires_at,
        },
        match (confirmed_at, closed_at) {
            (Some(_), _) => EnrolmentState::Confirmed,
            (None, Some(_)) => EnrolmentState::Closed,
            (None, None) => EnrolmentState::Waiting,
        },
    ))
}
