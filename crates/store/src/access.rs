//! Controlled disclosure's storage: console users, sessions, stored agency keys, penetration
//! requests and their grants, issued certificates, and the records a look-up reads. Every change
//! is written with its audit events in one transaction.
//!
//! Secrets are stored only as hashes made by the caller (argon2id for passwords, a digest for
//! random tokens and keys): the store never sees a password or a key.

use serde::Serialize;

use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::sql::{SqlStore, ts};

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub username: String,
    /// The argon2id PHC string; never serialised out.
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub requester_kind: Option<String>,
    pub agency: Option<String>,
    /// For a person (requester kind `person`): the keyed hash of their identity.
    #[serde(skip)]
    pub person_key: Option<String>,
    pub disabled: bool,
}

/// A login session; the token and the CSRF token are stored as digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub csrf_hash: String,
    pub expires_at: jiff::Timestamp,
}

/// A stored API key (the key itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRow {
    pub key_id: String,
    pub name: String,
    pub role: String,
    pub requester_kind: Option<String>,
    pub agency: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A request to see a person's sealed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub request_id: String,
    #[serde(skip)]
    pub person_key: String,
    pub requester: String,
    pub requester_kind: String,
    pub purpose: String,
    pub post: Option<String>,
    pub basis: String,
    pub reason: String,
    /// `pending`, `approved` or `refused`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub grant_id: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// An approved request: one requester, purpose (and post), person, window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    pub grant_id: String,
    pub request_id: String,
    #[serde(skip)]
    pub person_key: String,
    pub requester: String,
    pub purpose: String,
    pub post: Option<String>,
    pub not_before: String,
    pub expires: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// Whether to decrypt a record's facts, given its person key, state and the state's date (to
/// decide whether it is sealed on a day: `fengcun_lifecycle::sealed_on`).
pub type OpenFacts = dyn for<'a, 'b, 'c> Fn(&'a str, &'b str, Option<&'c str>) -> bool + Sync;

/// A record as a look-up reads it: its state now and its decrypted facts.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub person_key: String,
    pub case_code: String,
    pub state: String,
    pub state_date: Option<String>,
    pub facts: Option<serde_json::Value>,
}

impl PersonRecord {
    /// Whether the record is behind the seal on `today` (`fengcun_lifecycle::sealed_on`): sealed,
    /// or a pending seal whose date has come, whether or not the scheduler has run since.
    pub fn sealed_on(&self, today: jiff::civil::Date) -> bool {
        fengcun_lifecycle::sealed_on(&self.state, self.state_date.as_deref(), today)
    }
}

/// A certificate as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    pub number: String,
    pub person_key: String,
    pub result: String,
    pub issued_by: String,
    pub issued_at: String,
    pub file: Vec<u8>,
}

/// How a decision on a request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve(Box<GrantRow>),
    Refuse,
}

type UserTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);
type KeyTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);
type RequestTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);
type GrantTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

const USER_COLUMNS: &str =
    "username, password_hash, role, requester_kind, agency, person_key, disabled";
const KEY_COLUMNS: &str =
    "key_id, name, role, requester_kind, agency, created_by, created_at, revoked_at";
const REQUEST_COLUMNS: &str = "request_id, person_key, requester, requester_kind, purpose, post, basis, reason, status, \
     decided_by, decision_reason, grant_id, created_at, decided_at";
const GRANT_COLUMNS: &str = "grant_id, request_id, person_key, requester, purpose, post, not_before, expires, revoked_at, revoked_by";

fn user_from(row: UserTuple) -> UserRow {
    let (username, password_hash, role, requester_kind, agency, person_key, disabled) = row;
    UserRow {
        username,
        password_hash,
        role,
        requester_kind,
        agency,
        person_key,
        disabled: disabled != 0,
    }
}

fn key_from(row: KeyTuple) -> KeyRow {
    let (key_id, name, role, requester_kind, agency, created_by, created_at, revoked_at) = row;
    KeyRow {
        key_id,
        name,
        role,
        requester_kind,
        agency,
        created_by,
        created_at,
        revoked_at,
    }
}

fn request_from(row: RequestTuple) -> RequestRow {
    let (
        request_id,
        person_key,
        requester,
        requester_kind,
        purpose,
        post,
        basis,
        reason,
        status,
        decided_by,
        decision_reason,
        grant_id,
        created_at,
        decided_at,
    ) = row;
    RequestRow {
        request_id,
        person_key,
        requester,
        requester_kind,
        purpose,
        post,
        basis,
        reason,
        status,
        decided_by,
        decision_reason,
        grant_id,
        created_at,
        decided_at,
    }
}

fn grant_from(row: GrantTuple) -> GrantRow {
    let (
        grant_id,
        request_id,
        person_key,
        requester,
        purpose,
        post,
        not_before,
        expires,
        revoked_at,
        revoked_by,
    ) = row;
    GrantRow {
        grant_id,
        request_id,
        person_key,
        requester,
        purpose,
        post,
        not_before,
        expires,
        revoked_at,
        revoked_by,
    }
}

impl SqlStore {
    /// Creates or replaces a user (a password change, a role change, disabling), with its audit.
    pub(crate) async fn write_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = ts(now);
        sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(user.username.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        ))
        .bind(user.username.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.role.as_str())
        .bind(user.requester_kind.clone())
        .bind(user.agency.clone())
        .bind(user.person_key.clone())
        .bind(i64::from(user.disabled))
        .bind(at.as_str())
        .execute(&mut *tx)
        .await?;
        // Any change to a user — disabled, a new password, a new role — ends their sessions.
        sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(user.username.as_str())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(user_from))
    }

    pub(crate) async fn read_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(user_from).collect())
    }

    pub(crate) async fn write_session(
        &self,
        token_hash: &str,
        session: &SessionRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // Expired sessions go when a new one comes: the table holds live sessions only.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, username, csrf_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(session.username.as_str())
        .bind(session.csrf_hash.as_str())
        .bind(ts(now))
        .bind(ts(session.expires_at))
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT username, csrf_hash, expires_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(username, csrf_hash, expires_at)| {
            Ok(SessionRow {
                username,
                csrf_hash,
                expires_at: expires_at
                    .parse()
                    .map_err(|_| StoreError::Corrupt("session expiry".into()))?,
            })
        })
        .transpose()
    }

    pub(crate) async fn remove_session(
        &self,
        token_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn write_key(
        &self,
        key_hash: &str,
        key: &KeyRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO api_keys ({KEY_COLUMNS}, key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(key.key_id.as_str())
        .bind(key.name.as_str())
        .bind(key.role.as_str())
        .bind(key.requester_kind.clone())
        .bind(key.agency.clone())
        .bind(key.created_by.as_str())
        .bind(key.created_at.as_str())
        .bind(key.revoked_at.clone())
        .bind(key_hash)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<KeyRow>, StoreError> {
        let row: Option<KeyTuple> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(key_from))
    }

    pub(crate) async fn read_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(key_from).collect())
    }

    /// Revokes a key; false when there is no such key or it was revoked already.
    pub(crate) async fn revoke_key_row(
        &self,
        key_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.revoke_once("api_keys", "key_id", key_id, by, audit, now)
            .await
    }

    /// Marks one row of `table` revoked, with its audit, in one transaction; false (and nothing
    /// written) when there is no such row or it was revoked already. The check and the change are
    /// one statement, so two revocations at once write one entry.
    async fn revoke_once(
        &self,
        table: &str,
        id_column: &str,
        id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(&format!(
            "UPDATE {table} SET revoked_at = $1, revoked_by = $2 WHERE {id_column} = $3 AND revoked_at IS NULL"
        ))
        .bind(ts(now))
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn write_request(
        &self,
        request: &RequestRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO penetration_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(request.request_id.as_str())
        .bind(request.person_key.as_str())
        .bind(request.requester.as_str())
        .bind(request.requester_kind.as_str())
        .bind(request.purpose.as_str())
        .bind(request.post.clone())
        .bind(request.basis.as_str())
        .bind(request.reason.as_str())
        .bind(request.status.as_str())
        .bind(request.decided_by.clone())
        .bind(request.decision_reason.clone())
        .bind(request.grant_id.clone())
        .bind(request.created_at.as_str())
        .bind(request.decided_at.clone())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        let row: Option<RequestTuple> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM penetration_requests WHERE request_id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(request_from))
    }

    pub(crate) async fn read_requests(
        &self,
        status: Option<&str>,
        requester: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<RequestTuple> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM penetration_requests \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR requester = $2) \
             ORDER BY created_at, request_id"
        ))
        .bind(status)
        .bind(requester)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(request_from).collect())
    }

    /// Decides a pending request; false when it is not pending (decided already, by someone
    /// else at the same moment too: the status check and the change are one statement).
    pub(crate) async fn write_decision(
        &self,
        request_id: &str,
        decided_by: &str,
        reason: &str,
        decision: &Decision,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let (status, grant_id) = match decision {
            Decision::Approve(grant) => ("approved", Some(grant.grant_id.clone())),
            Decision::Refuse => ("refused", None),
        };
        let changed = sqlx::query(
            "UPDATE penetration_requests SET status = $1, decided_by = $2, decision_reason = $3, grant_id = $4, decided_at = $5 \
             WHERE request_id = $6 AND status = 'pending'",
        )
        .bind(status)
        .bind(decided_by)
        .bind(reason)
        .bind(grant_id)
        .bind(ts(now))
        .bind(request_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Decision::Approve(grant) = decision {
            sqlx::query(&format!(
                "INSERT INTO grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(grant.grant_id.as_str())
            .bind(grant.request_id.as_str())
            .bind(grant.person_key.as_str())
            .bind(grant.requester.as_str())
            .bind(grant.purpose.as_str())
            .bind(grant.post.clone())
            .bind(grant.not_before.as_str())
            .bind(grant.expires.as_str())
            .bind(grant.revoked_at.clone())
            .bind(grant.revoked_by.clone())
            .execute(&mut *tx)
            .await?;
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn read_grants(
        &self,
        requester: Option<&str>,
    ) -> Result<Vec<GrantRow>, StoreError> {
        let rows: Vec<GrantTuple> = sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE ($1 IS NULL OR requester = $1) ORDER BY not_before, grant_id"
        ))
        .bind(requester)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(grant_from).collect())
    }

    pub(crate) async fn read_grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        let row: Option<GrantTuple> = sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE grant_id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(grant_from))
    }

    /// Revokes a grant; false when there is no such grant or it was revoked already.
    pub(crate) async fn revoke_grant_row(
        &self,
        grant_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.revoke_once("grants", "grant_id", grant_id, by, audit, now)
            .await
    }

    /// The records of one person (by person key) or of one case, in case order; facts
    /// decrypted where `open(person_key, state)` says so.
    pub(crate) async fn read_records(
        &self,
        person_key: Option<&str>,
        case_code: Option<&str>,
        open: &OpenFacts,
    ) -> Result<Vec<PersonRecord>, StoreError> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<Vec<u8>>,
            Vec<u8>,
        );
        let rows: Vec<Row> =
            match (person_key, case_code) {
                (Some(person_key), _) => sqlx::query_as(
                    "SELECT person_key, case_code, state, state_date, facts, data_key FROM records \
                     WHERE person_key = $1 AND ($2 IS NULL OR case_code = $2) ORDER BY case_code",
                )
                .bind(person_key)
                .bind(case_code)
                .fetch_all(self.pool())
                .await?,
                (None, Some(case_code)) => sqlx::query_as(
                    "SELECT person_key, case_code, state, state_date, facts, data_key FROM records \
                     WHERE case_code = $1 ORDER BY person_key",
                )
                .bind(case_code)
                .fetch_all(self.pool())
                .await?,
                (None, None) => Vec::new(),
            };
        let mut records = Vec::with_capacity(rows.len());
        for (person_key, case_code, state, state_date, facts, wrapped) in rows {
            let facts = if open(&person_key, &state, state_date.as_deref()) {
                let aad = format!("facts/{case_code}");
                self.decrypt_view(&person_key, &case_code, &wrapped, facts, &aad)
                    .await?
            } else {
                None
            };
            records.push(PersonRecord {
                person_key,
                case_code,
                state,
                state_date,
                facts,
            });
        }
        Ok(records)
    }

    pub(crate) async fn write_certificate(
        &self,
        certificate: &CertificateRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO certificates (number, person_key, result, issued_by, issued_at, file) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(certificate.number.as_str())
        .bind(certificate.person_key.as_str())
        .bind(certificate.result.as_str())
        .bind(certificate.issued_by.as_str())
        .bind(certificate.issued_at.as_str())
        .bind(certificate.file.clone())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_certificate(
        &self,
        number: &str,
    ) -> Result<Option<CertificateRow>, StoreError> {
        let row: Option<(String, String, String, String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT number, person_key, result, issued_by, issued_at, file FROM certificates WHERE number = $1",
        )
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(number, person_key, result, issued_by, issued_at, file)| CertificateRow {
                number,
                person_key,
                result,
                issued_by,
                issued_at,
                file,
            },
        ))
    }
}
