//! Controlled disclosure's rows in SQL: console users, sessions, stored agency keys, penetration
//! requests and their grants, issued certificates, and the records a look-up reads. Every change
//! is written with its audit events in one transaction.
//!
//! Secrets are stored only as hashes made by the caller (argon2id for passwords, a digest for
//! random tokens and keys): the store never sees a password or a key.

use async_trait::async_trait;

use crate::access::{
    AccessStore, CertificateOutcome, CertificateRow, Decision, GrantRow, KeyRow, OpenFacts,
    PersonRecord, Purpose, RequestPerson, RequestRow, RequestStatus, RequesterKind, Role,
    SessionRow, StateCode, UserRow,
};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::sql::SqlStore;
use crate::sql::records::{EVIDENCE_COLUMNS, StoredFacts};
use crate::sql::rows::{Param, decode, decode_opt, ts};

type UserTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<Vec<u8>>,
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
    Option<Vec<u8>>,
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
    Option<Vec<u8>>,
);

const USER_COLUMNS: &str =
    "username, password_hash, role, requester_kind, agency, person_key, disabled, name_sealed";
const KEY_COLUMNS: &str =
    "key_id, name, role, requester_kind, agency, created_by, created_at, revoked_at, owner";
const REQUEST_COLUMNS: &str = "request_id, person_key, requester, requester_kind, purpose, post, basis, reason, status, \
     decided_by, decision_reason, grant_id, created_at, decided_at, person_sealed";
const GRANT_COLUMNS: &str = "grant_id, request_id, person_key, requester, purpose, post, not_before, expires, revoked_at, revoked_by";
/// A grant's columns with its request's sealed person, from `grants g LEFT JOIN
/// penetration_requests r`.
const GRANT_SELECT: &str = "g.grant_id, g.request_id, g.person_key, g.requester, g.purpose, g.post, g.not_before, \
     g.expires, g.revoked_at, g.revoked_by, r.person_sealed";

/// A user's values in the order of `USER_COLUMNS`, then its creation and update time.
fn user_params(user: &UserRow, name_sealed: Option<Vec<u8>>, at: &str) -> [Param; 10] {
    [
        Param::text(user.username.as_str()),
        Param::text(user.password_hash.as_str()),
        Param::text(user.role.as_str()),
        Param::Text(user.requester_kind.map(|k| k.code().to_owned())),
        Param::Text(user.agency.clone()),
        Param::Text(user.person_key.clone()),
        Param::Int(i64::from(user.disabled)),
        Param::MaybeBlob(name_sealed),
        Param::text(at),
        Param::text(at),
    ]
}

fn user_context(username: &str) -> String {
    format!("user/{username}")
}

fn request_context(request_id: &str) -> String {
    format!("request/{request_id}")
}

fn key_from(row: KeyTuple) -> Result<KeyRow, StoreError> {
    let (key_id, name, role, requester_kind, agency, created_by, created_at, revoked_at, owner) =
        row;
    Ok(KeyRow {
        key_id,
        name,
        role: decode("api_keys.role", &role, Role::parse)?,
        requester_kind: decode_opt(
            "api_keys.requester_kind",
            requester_kind.as_deref(),
            RequesterKind::parse,
        )?,
        agency,
        owner,
        created_by,
        created_at,
        revoked_at,
    })
}

fn request_from(
    row: RequestTuple,
    person: Option<RequestPerson>,
) -> Result<RequestRow, StoreError> {
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
        _,
    ) = row;
    Ok(RequestRow {
        request_id,
        person_key,
        requester,
        requester_kind: decode(
            "penetration_requests.requester_kind",
            &requester_kind,
            RequesterKind::parse,
        )?,
        purpose: decode("penetration_requests.purpose", &purpose, Purpose::parse)?,
        post,
        basis,
        reason,
        status: decode("penetration_requests.status", &status, RequestStatus::parse)?,
        decided_by,
        decision_reason,
        grant_id,
        created_at,
        decided_at,
        person,
    })
}

fn grant_from(row: GrantTuple, person: Option<RequestPerson>) -> Result<GrantRow, StoreError> {
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
        _,
    ) = row;
    Ok(GrantRow {
        grant_id,
        request_id,
        person_key,
        requester,
        purpose: decode("grants.purpose", &purpose, Purpose::parse)?,
        post,
        not_before,
        expires,
        revoked_at,
        revoked_by,
        person,
    })
}

impl SqlStore {
    fn user_from(&self, row: UserTuple) -> Result<UserRow, StoreError> {
        let (username, password_hash, role, requester_kind, agency, person_key, disabled, sealed) =
            row;
        let name = sealed
            .map(|sealed| {
                let plain = self.keys().open_detail(&user_context(&username), &sealed)?;
                String::from_utf8(plain)
                    .map_err(|_| StoreError::Corrupt(format!("name of user {username}")))
            })
            .transpose()?;
        Ok(UserRow {
            role: decode("users.role", &role, Role::parse)?,
            requester_kind: decode_opt(
                "users.requester_kind",
                requester_kind.as_deref(),
                RequesterKind::parse,
            )?,
            username,
            password_hash,
            agency,
            person_key,
            name,
            disabled: disabled != 0,
        })
    }

    fn open_person(
        &self,
        request_id: &str,
        sealed: Option<&[u8]>,
    ) -> Result<Option<RequestPerson>, StoreError> {
        sealed
            .map(|sealed| {
                let plain = self
                    .keys()
                    .open_detail(&request_context(request_id), sealed)?;
                serde_json::from_slice(&plain)
                    .map_err(|_| StoreError::Corrupt(format!("person of request {request_id}")))
            })
            .transpose()
    }

    fn request_row(&self, row: RequestTuple) -> Result<RequestRow, StoreError> {
        let person = self.open_person(&row.0, row.14.as_deref())?;
        request_from(row, person)
    }

    fn grant_row(&self, row: GrantTuple) -> Result<GrantRow, StoreError> {
        let person = self.open_person(&row.1, row.10.as_deref())?;
        grant_from(row, person)
    }

    /// Creates or replaces a user (a password change, a role change, disabling), with its audit.
    pub(crate) async fn write_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = ts(now);
        let name_sealed = user.name.as_ref().map(|name| {
            self.keys()
                .seal_detail(&user_context(&user.username), name.as_bytes())
        });
        let before: Option<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(user.username.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let before = before.map(|row| self.user_from(row)).transpose()?;
        sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(user.username.as_str())
            .execute(&mut *tx)
            .await?;
        self.insert_row(
            &mut tx,
            &format!("INSERT INTO users ({USER_COLUMNS}, created_at, updated_at) VALUES"),
            user_params(user, name_sealed, &at),
            "",
        )
        .await?;
        // Any change to a user — disabled, a new password, a new role — ends their sessions.
        sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(user.username.as_str())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, audit, now).await?;
        // … and, when the account is disabled or now stands for someone or something else, their
        // grants and pending requests: a grant was approved for the person the account was for
        // then, so a reused username inherits none, nor a request awaiting a decision. A new
        // password or a re-enabled account is the same official and keeps what is still live.
        let same_holder = before.as_ref().is_some_and(|b| {
            b.role == user.role
                && b.requester_kind == user.requester_kind
                && b.agency == user.agency
                && b.person_key == user.person_key
        });
        if user.disabled || !same_holder {
            let by = audit.first().map_or("", |e| e.actor.as_str());
            let ended = self
                .end_grants_of(&mut tx, &format!("user:{}", user.username), by, now)
                .await?;
            self.append_audit(&mut tx, &ended, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a new user; false (and nothing written, nothing audited) if the username exists.
    pub(crate) async fn insert_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let name_sealed = user.name.as_ref().map(|name| {
            self.keys()
                .seal_detail(&user_context(&user.username), name.as_bytes())
        });
        let inserted = self
            .insert_row(
                &mut tx,
                &format!("INSERT INTO users ({USER_COLUMNS}, created_at, updated_at) VALUES"),
                user_params(user, name_sealed, &ts(now)),
                "ON CONFLICT (username) DO NOTHING",
            )
            .await?
            == 1;
        if !inserted {
            return Ok(false);
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes the live grants of `requester` and withdraws their pending requests, in `tx`; the
    /// audit events saying so (one per grant and per request), with `by` as their actor.
    async fn end_grants_of(
        &self,
        tx: &mut sqlx::AnyConnection,
        requester: &str,
        by: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let reason = "the user the grant was for was changed or disabled";
        let grants: Vec<(String,)> = sqlx::query_as(
            "UPDATE grants SET revoked_at = $1, revoked_by = $2 \
             WHERE requester = $3 AND revoked_at IS NULL RETURNING grant_id",
        )
        .bind(ts(now))
        .bind(by)
        .bind(requester)
        .fetch_all(&mut *tx)
        .await?;
        let requests: Vec<(String,)> = sqlx::query_as(
            "UPDATE penetration_requests SET status = 'withdrawn', decided_by = $1, decision_reason = $2, decided_at = $3 \
             WHERE requester = $4 AND status = 'pending' RETURNING request_id",
        )
        .bind(by)
        .bind(reason)
        .bind(ts(now))
        .bind(requester)
        .fetch_all(&mut *tx)
        .await?;
        let mut events: Vec<AuditEvent> = grants
            .into_iter()
            .map(|(id,)| {
                AuditEvent::new(crate::AuditKind::GrantRevoked, by, "revoked")
                    .subject(format!("grant:{id}"))
                    .detail(serde_json::json!({"reason": reason, "requester": requester}))
            })
            .collect();
        events.extend(requests.into_iter().map(|(id,)| {
            AuditEvent::new(crate::AuditKind::Request, by, "withdrawn")
                .subject(format!("request:{id}"))
                .detail(serde_json::json!({"reason": reason, "requester": requester}))
        }));
        Ok(events)
    }

    pub(crate) async fn read_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| self.user_from(row)).transpose()
    }

    pub(crate) async fn read_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|row| self.user_from(row)).collect()
    }

    /// The name a person's account was enrolled with, if the person has an account with one.
    pub(crate) async fn read_person_name(
        &self,
        person_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows: Vec<UserTuple> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE person_key = $1 AND name_sealed IS NOT NULL ORDER BY username"
        ))
        .bind(person_key)
        .fetch_all(self.pool())
        .await?;
        match rows.into_iter().next() {
            Some(row) => Ok(self.user_from(row)?.name),
            None => Ok(None),
        }
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
        self.insert_row(
            &mut tx,
            "INSERT INTO sessions (token_hash, username, csrf_hash, created_at, expires_at) VALUES",
            [
                Param::text(token_hash),
                Param::text(session.username.as_str()),
                Param::text(session.csrf_hash.as_str()),
                Param::text(ts(now)),
                Param::text(ts(session.expires_at)),
            ],
            "",
        )
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
        self.insert_row(
            &mut tx,
            &format!("INSERT INTO api_keys ({KEY_COLUMNS}, key_hash) VALUES"),
            [
                Param::text(key.key_id.as_str()),
                Param::text(key.name.as_str()),
                Param::text(key.role.as_str()),
                Param::Text(key.requester_kind.map(|k| k.code().to_owned())),
                Param::Text(key.agency.clone()),
                Param::text(key.created_by.as_str()),
                Param::text(key.created_at.as_str()),
                Param::Text(key.revoked_at.clone()),
                Param::Text(key.owner.clone()),
                Param::text(key_hash),
            ],
            "",
        )
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
        row.map(key_from).transpose()
    }

    pub(crate) async fn read_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(key_from).collect()
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
        let person_sealed = request
            .person
            .as_ref()
            .map(|person| {
                serde_json::to_vec(person).map(|plain| {
                    self.keys()
                        .seal_detail(&request_context(&request.request_id), &plain)
                })
            })
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        self.insert_row(
            &mut tx,
            &format!("INSERT INTO penetration_requests ({REQUEST_COLUMNS}) VALUES"),
            [
                Param::text(request.request_id.as_str()),
                Param::text(request.person_key.as_str()),
                Param::text(request.requester.as_str()),
                Param::text(request.requester_kind.code()),
                Param::text(request.purpose.code()),
                Param::Text(request.post.clone()),
                Param::text(request.basis.as_str()),
                Param::text(request.reason.as_str()),
                Param::text(request.status.as_str()),
                Param::Text(request.decided_by.clone()),
                Param::Text(request.decision_reason.clone()),
                Param::Text(request.grant_id.clone()),
                Param::text(request.created_at.as_str()),
                Param::Text(request.decided_at.clone()),
                Param::MaybeBlob(person_sealed),
            ],
            "",
        )
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
        row.map(|row| self.request_row(row)).transpose()
    }

    pub(crate) async fn read_requests(
        &self,
        status: Option<RequestStatus>,
        requester: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<RequestTuple> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM penetration_requests \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR requester = $2) \
             ORDER BY created_at, request_id"
        ))
        .bind(status.map(RequestStatus::as_str))
        .bind(requester)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|row| self.request_row(row)).collect()
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
            Decision::Approve(grant) => (RequestStatus::Approved, Some(grant.grant_id.clone())),
            Decision::Refuse => (RequestStatus::Refused, None),
        };
        let changed = sqlx::query(
            "UPDATE penetration_requests SET status = $1, decided_by = $2, decision_reason = $3, grant_id = $4, decided_at = $5 \
             WHERE request_id = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
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
            self.insert_row(
                &mut tx,
                &format!("INSERT INTO grants ({GRANT_COLUMNS}) VALUES"),
                [
                    Param::text(grant.grant_id.as_str()),
                    Param::text(grant.request_id.as_str()),
                    Param::text(grant.person_key.as_str()),
                    Param::text(grant.requester.as_str()),
                    Param::text(grant.purpose.code()),
                    Param::Text(grant.post.clone()),
                    Param::text(grant.not_before.as_str()),
                    Param::text(grant.expires.as_str()),
                    Param::Text(grant.revoked_at.clone()),
                    Param::Text(grant.revoked_by.clone()),
                ],
                "",
            )
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
            "SELECT {GRANT_SELECT} FROM grants g LEFT JOIN penetration_requests r ON r.request_id = g.request_id \
             WHERE ($1 IS NULL OR g.requester = $1) ORDER BY g.not_before, g.grant_id"
        ))
        .bind(requester)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|row| self.grant_row(row)).collect()
    }

    pub(crate) async fn read_grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        let row: Option<GrantTuple> = sqlx::query_as(&format!(
            "SELECT {GRANT_SELECT} FROM grants g LEFT JOIN penetration_requests r ON r.request_id = g.request_id \
             WHERE g.grant_id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| self.grant_row(row)).transpose()
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
            Vec<u8>,
            String,
            String,
            Option<String>,
            Option<Vec<u8>>,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> =
            match (person_key, case_code) {
                (Some(person_key), _) => sqlx::query_as(&format!(
                    "SELECT r.person, r.case_code, r.state, r.state_date, r.facts, r.data_key, {EVIDENCE_COLUMNS} FROM records r \
                     WHERE r.person = $1 AND ($2 IS NULL OR r.case_code = $2) ORDER BY r.case_code",
                ))
                .bind(crate::sql::person_bytes(person_key))
                .bind(case_code)
                .fetch_all(self.pool())
                .await?,
                (None, Some(case_code)) => sqlx::query_as(&format!(
                    "SELECT r.person, r.case_code, r.state, r.state_date, r.facts, r.data_key, {EVIDENCE_COLUMNS} FROM records r \
                     WHERE r.case_code = $1 ORDER BY r.person",
                ))
                .bind(case_code)
                .fetch_all(self.pool())
                .await?,
                (None, None) => Vec::new(),
            };
        let mut records = Vec::with_capacity(rows.len());
        for (person, case_code, state, state_date, facts, wrapped, transition_id, evidence) in rows
        {
            let person_key = crate::sql::person_hex(&person);
            let state = decode("records.state", &state, StateCode::parse)?;
            let facts = if open(&person_key, state.code(), state_date.as_deref()) {
                let facts = StoredFacts::new(facts, transition_id, evidence);
                self.decrypt_view(&person_key, &case_code, &wrapped, facts)
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
        self.insert_row(
            &mut tx,
            "INSERT INTO certificates (number, person_key, result, issued_by, issued_at, file, sealed) VALUES",
            [
                Param::text(certificate.number.as_str()),
                Param::text(certificate.person_key.as_str()),
                Param::text(certificate.result.as_str()),
                Param::text(certificate.issued_by.as_str()),
                Param::text(certificate.issued_at.as_str()),
                Param::Blob(self.keys.seal_detail(
                    &certificate_context(&certificate.number),
                    &certificate.file,
                )),
                Param::Int(1),
            ],
            "",
        )
        .await?;
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn read_certificate(
        &self,
        number: &str,
    ) -> Result<Option<CertificateRow>, StoreError> {
        let row: Option<CertificateColumns> = sqlx::query_as(
            "SELECT number, person_key, result, issued_by, issued_at, file, sealed FROM certificates WHERE number = $1",
        )
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        row.map(|columns| self.certificate_row(columns)).transpose()
    }

    /// A kept certificate as read: its file opened (one kept before migration 23 is in clear
    /// until the opening with the key seals it).
    fn certificate_row(&self, columns: CertificateColumns) -> Result<CertificateRow, StoreError> {
        let (number, person_key, result, issued_by, issued_at, file, sealed) = columns;
        let file = if sealed == 0 {
            file
        } else {
            self.keys
                .open_detail(&certificate_context(&number), &file)?
        };
        Ok(CertificateRow {
            result: decode("certificates.result", &result, CertificateOutcome::parse)?,
            number,
            person_key,
            issued_by,
            issued_at,
            file,
        })
    }

    /// Seals the files of certificates kept before migration 23, 500 a transaction, resumable.
    pub(crate) async fn seal_kept_certificates(&self) -> Result<(), StoreError> {
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
                "SELECT number, file FROM certificates WHERE sealed = 0 ORDER BY number LIMIT 500",
            )
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            // The clear files are overwritten in the file, not left in free pages.
            self.secure_delete(&mut tx, true).await?;
            for (number, file) in rows {
                sqlx::query("UPDATE certificates SET file = $1, sealed = 1 WHERE number = $2")
                    .bind(self.keys.seal_detail(&certificate_context(&number), &file))
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
            }
            self.secure_delete(&mut tx, false).await?;
            tx.commit().await?;
        }
    }
}

#[async_trait]
impl AccessStore for SqlStore {
    fn person_key(&self, identity: &str) -> String {
        self.keys.person_key(identity)
    }

    async fn records_of(
        &self,
        person_key: Option<&str>,
        case_code: Option<&str>,
        open: &OpenFacts,
    ) -> Result<Vec<PersonRecord>, StoreError> {
        self.read_records(person_key, case_code, open).await
    }

    async fn put_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_user(user, audit, now).await
    }

    async fn add_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.insert_user(user, audit, now).await
    }

    async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        self.read_user(username).await
    }

    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        self.read_users().await
    }

    async fn set_user_language(&self, username: &str, language: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_settings (username, language) VALUES ($1, $2) \
             ON CONFLICT (username) DO UPDATE SET language = excluded.language",
        )
        .bind(username)
        .bind(language)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn user_language(&self, username: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT language FROM user_settings WHERE username = $1")
                .bind(username)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn person_name(&self, person_key: &str) -> Result<Option<String>, StoreError> {
        self.read_person_name(person_key).await
    }

    async fn put_activation(
        &self,
        code: &crate::access::ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_activation(code, audit, now).await
    }

    async fn put_enrolment(
        &self,
        enrolment: &crate::access::EnrolmentRow,
        max_waiting: usize,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_enrolment(enrolment, max_waiting, audit, now)
            .await
    }

    async fn refuse_enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
        closing_at: u32,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<u32, StoreError> {
        self.write_refusal(enrolment_id, agency, closing_at, audit, now)
            .await
    }

    async fn enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
    ) -> Result<Option<(crate::access::EnrolmentRow, crate::access::EnrolmentState)>, StoreError>
    {
        self.read_enrolment(enrolment_id, agency).await
    }

    async fn waiting_enrolments(
        &self,
        agency: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<crate::access::EnrolmentRow>, StoreError> {
        self.read_waiting_enrolments(agency, now).await
    }

    async fn confirm_enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
        confirmer: &str,
        code: &crate::access::ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<crate::access::Confirmation, StoreError> {
        self.write_confirmation(enrolment_id, agency, confirmer, code, audit, now)
            .await
    }

    async fn activate(
        &self,
        code_hash: &str,
        person_key: &str,
        password_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<crate::access::Activation, StoreError> {
        self.use_activation(code_hash, person_key, password_hash, audit, now)
            .await
    }

    async fn put_session(
        &self,
        token_hash: &str,
        session: &SessionRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_session(token_hash, session, audit, now).await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        self.read_session(token_hash).await
    }

    async fn end_session(
        &self,
        token_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.remove_session(token_hash, audit, now).await
    }

    async fn put_key(
        &self,
        key_hash: &str,
        key: &KeyRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_key(key_hash, key, audit, now).await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRow>, StoreError> {
        self.read_key_by_hash(key_hash).await
    }

    async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        self.read_keys().await
    }

    async fn revoke_key(
        &self,
        key_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.revoke_key_row(key_id, by, audit, now).await
    }

    async fn put_request(
        &self,
        request: &RequestRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_request(request, audit, now).await
    }

    async fn request(&self, request_id: &str) -> Result<Option<RequestRow>, StoreError> {
        self.read_request(request_id).await
    }

    async fn requests(
        &self,
        status: Option<RequestStatus>,
        requester: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        self.read_requests(status, requester).await
    }

    async fn decide_request(
        &self,
        request_id: &str,
        decided_by: &str,
        reason: &str,
        decision: &Decision,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_decision(request_id, decided_by, reason, decision, audit, now)
            .await
    }

    async fn grants(&self, requester: Option<&str>) -> Result<Vec<GrantRow>, StoreError> {
        self.read_grants(requester).await
    }

    async fn grant(&self, grant_id: &str) -> Result<Option<GrantRow>, StoreError> {
        self.read_grant(grant_id).await
    }

    async fn revoke_grant(
        &self,
        grant_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.revoke_grant_row(grant_id, by, audit, now).await
    }

    async fn put_certificate(
        &self,
        certificate: &CertificateRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_certificate(certificate, audit, now).await
    }

    async fn certificate(&self, number: &str) -> Result<Option<CertificateRow>, StoreError> {
        self.read_certificate(number).await
    }

    async fn person_certificates(
        &self,
        person_key: &str,
    ) -> Result<Vec<CertificateRow>, StoreError> {
        let rows: Vec<CertificateColumns> = sqlx::query_as(
            "SELECT number, person_key, result, issued_by, issued_at, file, sealed FROM certificates \
             WHERE person_key = $1 ORDER BY issued_at, number",
        )
        .bind(person_key)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|columns| self.certificate_row(columns))
            .collect()
    }
}

/// A certificate's columns: number, person key, result, issuer, time, file, whether sealed.
type CertificateColumns = (String, String, String, String, String, Vec<u8>, i64);

/// What a kept certificate's file is sealed under: its number, so that a file moved to another
/// row does not open.
fn certificate_context(number: &str) -> String {
    format!("certificate/{number}")
}
