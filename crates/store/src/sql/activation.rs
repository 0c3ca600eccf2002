//! One-time activation codes of persons' accounts (docs/person.md): made at a counter, used once
//! on the activation page. Stored as digests made by the caller; each change with its audit in one
//! transaction.

use crate::access::{Activation, ActivationRow};
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
        let at = ts(now);
        // A newer code replaces the account's earlier ones: only the last code printed works.
        sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE username = $2 AND used_at IS NULL",
        )
        .bind(at.as_str())
        .bind(code.username.as_str())
        .execute(&mut *tx)
        .await?;
        self.insert_row(
            &mut tx,
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
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
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
