//! The master key ring: which master wraps record keys now, the index key every keyed hash is
//! made with, and the rotation of record keys from one master to the next (docs/operations.md,
//! "Rotating the master key").
//!
//! The first master key of a database stays its *index key*: persons, event contents and notice
//! tokens are indexed by keyed hashes under it, which a rotation keeps (re-indexing every person
//! would rewrite every table). A rotation to a new master:
//!
//! 1. **begins** (`begin_master_rotation`): a row per generation in `master_keys` holds the index
//!    key wrapped under that generation's master; the new master is kept wrapped under the old
//!    (`next_key`) and the old under the new (`previous`), so a server holding either key reads
//!    every record and wraps new ones under the new master once it has loaded the ring (at open,
//!    and at most [`RING_REFRESH`] apart: `refresh_keys`);
//! 2. **re-wraps** (`rewrap_record_keys`): every record key, in key order, a page per
//!    transaction, the cursor kept with the page, so a crash loses at most the page in flight and
//!    the next run goes on from the cursor; then the sealed details of users and requests;
//! 3. **finishes**: one more pass re-wraps whatever a writer that had not yet loaded the ring
//!    wrapped under the old key, then both links are deleted: from then on the old master opens
//!    nothing and is refused at open.

use std::time::{Duration, Instant};

use fengcun_crypto::{MasterKey, WrappedKey};
use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, AuditKind};
use crate::error::StoreError;
use crate::keys;
use crate::sql::{SqlStore, ts};

/// How often a store that writes loads the ring again, so that a server that was running when a
/// rotation began wraps new keys under the new master within this time.
pub const RING_REFRESH: Duration = Duration::from_secs(5);

/// Record keys re-wrapped per transaction.
const PAGE: i64 = 500;

type Row = (
    i64,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
    Option<String>,
);

struct Generation {
    generation: i64,
    key_id: String,
    index_key: Vec<u8>,
    next_key: Option<Vec<u8>>,
    previous: Option<Vec<u8>>,
    cursor: Option<(String, String)>,
    finished: bool,
}

fn context(what: &str, generation: i64) -> Vec<u8> {
    format!("fengcun/master/{what}/{generation}").into_bytes()
}

fn crypto(what: &str) -> impl Fn(fengcun_crypto::CryptoError) -> StoreError + '_ {
    move |e| StoreError::Crypto(format!("{what}: {e}"))
}

async fn generations(conn: &mut sqlx::AnyConnection) -> Result<Vec<Generation>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT generation, key_id, index_key, next_key, previous, cursor_person, cursor_case, finished_at \
         FROM master_keys ORDER BY generation",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Generation {
            generation: r.0,
            key_id: r.1,
            index_key: r.2,
            next_key: r.3,
            previous: r.4,
            cursor: r.5.zip(r.6),
            finished: r.7.is_some(),
        })
        .collect())
}

/// The ring the configured master key opens: the index key and the masters that wrap (the one
/// new keys are wrapped under first).
fn ring_of(
    configured: &MasterKey,
    rows: &[Generation],
) -> Result<Option<(MasterKey, Vec<MasterKey>)>, StoreError> {
    let Some(latest) = rows.last() else {
        return Ok(None);
    };
    let ours = configured.key_id();
    let Some(row) = rows.iter().find(|r| r.key_id == ours) else {
        return Err(StoreError::WrongMasterKey);
    };
    let g = row.generation;
    let index = configured
        .unwrap_master(&WrappedKey(row.index_key.clone()), &context("index", g))
        .map_err(crypto("the index key"))?;
    if g == latest.generation {
        let mut wrapping = vec![configured.clone()];
        if let Some(previous) = &row.previous {
            wrapping.push(
                configured
                    .unwrap_master(&WrappedKey(previous.clone()), &context("previous", g))
                    .map_err(crypto("the previous master key"))?,
            );
        }
        return Ok(Some((index, wrapping)));
    }
    match (&row.next_key, g + 1 == latest.generation) {
        (Some(next), true) => {
            let next = configured
                .unwrap_master(&WrappedKey(next.clone()), &context("next", g))
                .map_err(crypto("the next master key"))?;
            Ok(Some((index, vec![next, configured.clone()])))
        }
        _ => Err(StoreError::KeyRotation(format!(
            "master key {ours} was retired when the database was rotated to key {}; give that key",
            latest.key_id
        ))),
    }
}

/// How far a rotation has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationStatus {
    /// The key the record keys are being (or were) re-wrapped under.
    pub key_id: String,
    /// Its generation (1 after the first rotation).
    pub generation: i64,
    /// Record keys re-wrapped by this call.
    pub rewrapped: u64,
    /// Whether every key is wrapped under it and the old master is no longer needed.
    pub finished: bool,
}

impl SqlStore {
    /// Puts in force the ring the configured master key opens (at open). A key the database was
    /// rotated away from is refused.
    pub(crate) async fn load_ring(&self, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        let rows = generations(conn).await?;
        if let Some((index, wrapping)) = ring_of(self.keys().configured(), &rows)? {
            let refs: Vec<&MasterKey> = wrapping.iter().collect();
            self.keys().set_ring(index, &refs);
        }
        Ok(())
    }

    /// Loads the ring again (a rotation begun or finished by another process since). A ring the
    /// configured key no longer opens (the rotation finished) is kept as it is: this process holds
    /// the new master already, and will be refused the old one at its next start.
    pub async fn refresh_keys(&self) -> Result<(), StoreError> {
        if !self.keyed {
            return Ok(());
        }
        let mut conn = self.pool().acquire().await?;
        match self.load_ring(&mut conn).await {
            Ok(()) | Err(StoreError::KeyRotation(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// [`Self::refresh_keys`] if the last load is older than [`RING_REFRESH`].
    pub(crate) async fn refresh_keys_if_due(&self) -> Result<(), StoreError> {
        if !self.keyed {
            return Ok(());
        }
        {
            let mut last = match self.ring_loaded.lock() {
                Ok(last) => last,
                Err(poisoned) => poisoned.into_inner(),
            };
            if last.elapsed() < RING_REFRESH {
                return Ok(());
            }
            *last = Instant::now();
        }
        self.refresh_keys().await
    }

    /// Begins a rotation of the master key to `new` (the store is open with the current master),
    /// or finds the one to `new` begun already (a second run goes on). Refused while a rotation to
    /// another key is unfinished. Audited (`key_changed`, `master_key_rotation_started`).
    pub async fn begin_master_rotation(
        &self,
        new: &MasterKey,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<RotationStatus, StoreError> {
        let configured = self.keys().configured().clone();
        if new.suite() != configured.suite() {
            return Err(StoreError::KeyRotation(format!(
                "the new key is for {}, the database's for {}",
                new.suite(),
                configured.suite()
            )));
        }
        let new_id = new.key_id();
        let mut tx = self.begin_write().await?;
        let rows = generations(&mut tx).await?;
        if let Some(latest) = rows.last()
            && latest.key_id == new_id
        {
            drop(tx);
            self.load_ring_with(new, &rows)?;
            return Ok(RotationStatus {
                key_id: new_id,
                generation: latest.generation,
                rewrapped: 0,
                finished: latest.finished,
            });
        }
        if new_id == configured.key_id() {
            return Err(StoreError::KeyRotation(
                "the new key is the one in use".to_owned(),
            ));
        }
        let (index, current) = match rows.last() {
            None => {
                sqlx::query(
                    "INSERT INTO master_keys (generation, key_id, index_key, started_at, finished_at) \
                     VALUES (0, $1, $2, $3, $3)",
                )
                .bind(configured.key_id())
                .bind(configured.wrap_master(&configured, &context("index", 0)).0)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                (configured.clone(), 0)
            }
            Some(latest) if !latest.finished => {
                return Err(StoreError::KeyRotation(format!(
                    "the rotation to key {} is unfinished: run it again with that key first",
                    latest.key_id
                )));
            }
            Some(latest) if latest.key_id != configured.key_id() => {
                return Err(StoreError::WrongMasterKey);
            }
            Some(latest) => {
                let index = configured
                    .unwrap_master(
                        &WrappedKey(latest.index_key.clone()),
                        &context("index", latest.generation),
                    )
                    .map_err(crypto("the index key"))?;
                (index, latest.generation)
            }
        };
        let next = current + 1;
        sqlx::query(
            "INSERT INTO master_keys (generation, key_id, index_key, previous, started_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(next)
        .bind(&new_id)
        .bind(new.wrap_master(&index, &context("index", next)).0)
        .bind(new.wrap_master(&configured, &context("previous", next)).0)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE master_keys SET next_key = $1 WHERE generation = $2")
            .bind(configured.wrap_master(new, &context("next", current)).0)
            .bind(current)
            .execute(&mut *tx)
            .await?;
        let entry = AuditEvent::new(AuditKind::KeyChanged, actor, "master_key_rotation_started")
            .subject(format!("master:{new_id}"))
            .detail(json!({"from": configured.key_id(), "to": new_id, "generation": next}));
        self.append_audit(&mut tx, &[entry], now).await?;
        tx.commit().await?;
        self.keys().set_ring(index, &[new, &configured]);
        Ok(RotationStatus {
            key_id: new_id,
            generation: next,
            rewrapped: 0,
            finished: false,
        })
    }

    /// The ring of a rotation to `new` found begun: `new` wraps, the other generation's master
    /// (through the links while they last) opens what is not re-wrapped yet.
    fn load_ring_with(&self, new: &MasterKey, rows: &[Generation]) -> Result<(), StoreError> {
        if let Some((index, wrapping)) = ring_of(new, rows)? {
            let refs: Vec<&MasterKey> = wrapping.iter().collect();
            self.keys().set_ring(index, &refs);
        }
        Ok(())
    }

    /// Re-wraps record keys under the master the rotation begun by
    /// [`Self::begin_master_rotation`] goes to, from where the last run stopped; with `limit`,
    /// stops after that many (a test's crash). Once every one is, finishes the rotation: the links
    /// between the two masters are deleted and the old one opens nothing any more. Audited
    /// (`master_key_rotation_finished`).
    pub async fn rewrap_record_keys(
        &self,
        limit: Option<u64>,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<RotationStatus, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let rows = generations(&mut conn).await?;
        drop(conn);
        let Some(latest) = rows.last() else {
            return Err(StoreError::KeyRotation("no rotation was begun".to_owned()));
        };
        if !latest.finished {
            // Whichever of the two keys this store was opened with, the new one must wrap.
            match ring_of(self.keys().configured(), &rows)? {
                Some((index, wrapping)) if wrapping[0].key_id() == latest.key_id => {
                    let refs: Vec<&MasterKey> = wrapping.iter().collect();
                    self.keys().set_ring(index, &refs);
                }
                _ => {
                    return Err(StoreError::KeyRotation(format!(
                        "this store does not hold key {} the rotation goes to",
                        latest.key_id
                    )));
                }
            }
        }
        let generation = latest.generation;
        let mut status = RotationStatus {
            key_id: latest.key_id.clone(),
            generation,
            rewrapped: 0,
            finished: latest.finished,
        };
        if latest.finished {
            return Ok(status);
        }
        let mut cursor = latest
            .cursor
            .clone()
            .unwrap_or_else(|| (String::new(), String::new()));
        // The first pass, resumable: the cursor moves with each page.
        loop {
            let page = match limit {
                Some(limit) => PAGE.min(i64::try_from(limit - status.rewrapped).unwrap_or(PAGE)),
                None => PAGE,
            };
            if page == 0 {
                return Ok(status);
            }
            let (done, last) = self.rewrap_page(&cursor, page, generation, true).await?;
            status.rewrapped += done;
            match last {
                Some(last) => cursor = last,
                None => break,
            }
        }
        // The last pass: what a writer that had not yet loaded the ring wrapped under the old
        // master, behind the cursor; then the details, a few rows.
        let mut cursor = (String::new(), String::new());
        loop {
            let (done, last) = self.rewrap_page(&cursor, PAGE, generation, false).await?;
            status.rewrapped += done;
            match last {
                Some(last) => cursor = last,
                None => break,
            }
        }
        let mut tx = self.begin_write().await?;
        self.rewrap_details(&mut tx).await?;
        sqlx::query(
            "UPDATE master_keys SET previous = NULL, finished_at = $1 WHERE generation = $2",
        )
        .bind(ts(now))
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE master_keys SET next_key = NULL WHERE generation = $1")
            .bind(generation - 1)
            .execute(&mut *tx)
            .await?;
        let entry = AuditEvent::new(AuditKind::KeyChanged, actor, "master_key_rotation_finished")
            .subject(format!("master:{}", status.key_id))
            .detail(json!({"to": status.key_id, "generation": generation}));
        self.append_audit(&mut tx, &[entry], now).await?;
        tx.commit().await?;
        // Only the new master opens anything now.
        let index = self.keys().index_key();
        let new = self.keys().wrapping_key();
        self.keys().set_ring(index, &[&new]);
        status.finished = true;
        Ok(status)
    }

    /// Re-wraps the record keys of one page after `cursor`, in a transaction holding the page's
    /// persons' locks (a batch that read a record's key commits before the key is re-wrapped, and
    /// one that reads it after sees the new one); with `keep`, the cursor is kept with the page.
    /// Returns how many were re-wrapped and the page's last key, `None` past the end.
    async fn rewrap_page(
        &self,
        cursor: &(String, String),
        page: i64,
        generation: i64,
        keep: bool,
    ) -> Result<(u64, Option<(String, String)>), StoreError> {
        let mut tx = self.begin_write().await?;
        // The cursor keeps the person key's hex; the records its bytes, in the same order.
        let rows: Vec<(Vec<u8>, String, Vec<u8>)> = sqlx::query_as(
            "SELECT person, case_code, data_key FROM records \
             WHERE person > $1 OR (person = $1 AND case_code > $2) \
             ORDER BY person, case_code LIMIT $3",
        )
        .bind(crate::sql::person_bytes(&cursor.0))
        .bind(&cursor.1)
        .bind(page)
        .fetch_all(&mut *tx)
        .await?;
        let rows: Vec<(String, String, Vec<u8>)> = rows
            .into_iter()
            .map(|(person, case_code, wrapped)| {
                (crate::sql::person_hex(&person), case_code, wrapped)
            })
            .collect();
        let Some(last) = rows.last().map(|r| (r.0.clone(), r.1.clone())) else {
            return Ok((0, None));
        };
        let persons: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        self.lock_persons(&mut tx, &persons).await?;
        let mut done = 0;
        for (person_key, case_code, wrapped) in &rows {
            let context = keys::record_context(person_key, case_code);
            if let Some(rewrapped) = self.keys().rewrap(wrapped, &context)? {
                sqlx::query(
                    "UPDATE records SET data_key = $1 WHERE person = $2 AND case_code = $3 AND data_key = $4",
                )
                .bind(rewrapped)
                .bind(crate::sql::person_bytes(person_key))
                .bind(case_code)
                .bind(wrapped.clone())
                .execute(&mut *tx)
                .await?;
                done += 1;
            }
        }
        if keep {
            sqlx::query(
                "UPDATE master_keys SET cursor_person = $1, cursor_case = $2 WHERE generation = $3",
            )
            .bind(&last.0)
            .bind(&last.1)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((done, Some(last)))
    }

    /// Re-wraps the keys of the sealed details kept outside records: users' enrolled names, whom
    /// requests are about and kept certificates' files (`Keys::seal_detail`: length, wrapped key,
    /// envelope).
    async fn rewrap_details(&self, tx: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        for (table, key, column, context, sealed) in [
            (
                "users",
                "username",
                "name_sealed",
                "user",
                "name_sealed IS NOT NULL",
            ),
            (
                "penetration_requests",
                "request_id",
                "person_sealed",
                "request",
                "person_sealed IS NOT NULL",
            ),
            // Sealed at every opening with the key before a rotation can run (migration 23).
            (
                "certificates",
                "number",
                "file",
                "certificate",
                "sealed = 1",
            ),
        ] {
            let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(&format!(
                "SELECT {key}, {column} FROM {table} WHERE {sealed}"
            ))
            .fetch_all(&mut *tx)
            .await?;
            for (id, sealed) in rows {
                let corrupt = || StoreError::Corrupt(format!("sealed detail of {context} {id}"));
                let (length, rest) = sealed.split_at_checked(2).ok_or_else(corrupt)?;
                let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
                let (wrapped, envelope) = rest.split_at_checked(length).ok_or_else(corrupt)?;
                let name = keys::detail_context_bytes(&format!("{context}/{id}"));
                let Some(rewrapped) = self.keys().rewrap(wrapped, &name)? else {
                    continue;
                };
                let length = u16::try_from(rewrapped.len()).unwrap_or(u16::MAX);
                let mut new = length.to_be_bytes().to_vec();
                new.extend_from_slice(&rewrapped);
                new.extend_from_slice(envelope);
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE {key} = $2"
                ))
                .bind(new)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }

    /// `AuditStore::register_signing_key`.
    pub(crate) async fn register_signer(
        &self,
        key: &fengcun_crypto::VerifyingKey,
        key_id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let known: Option<(String,)> =
            sqlx::query_as("SELECT key_id FROM signing_keys WHERE key_id = $1")
                .bind(key_id)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_some() {
            return Ok(false);
        }
        let algorithm = match key.suite() {
            fengcun_crypto::Suite::Sm => "sm2",
            fengcun_crypto::Suite::International => "ed25519",
        };
        let replaced: Vec<(String,)> =
            sqlx::query_as("SELECT key_id FROM signing_keys WHERE valid_until IS NULL")
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("UPDATE signing_keys SET valid_until = $1 WHERE valid_until IS NULL")
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signing_keys (key_id, algorithm, public_key, valid_from) VALUES ($1, $2, $3, $4)",
        )
        .bind(key_id)
        .bind(algorithm)
        .bind(key.to_text())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let replaced: Vec<String> = replaced.into_iter().map(|(id,)| id).collect();
        let entry = AuditEvent::new(AuditKind::KeyChanged, "platform", "signing_key_registered")
            .subject(format!("signing:{key_id}"))
            .detail(json!({"key_id": key_id, "algorithm": algorithm, "replaces": replaced}));
        self.append_audit(&mut tx, &[entry], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `AuditStore::signing_keys`.
    pub(crate) async fn signers(&self) -> Result<Vec<crate::audit::SigningKeyRow>, StoreError> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT key_id, algorithm, public_key, valid_from, valid_until FROM signing_keys \
             ORDER BY valid_from, key_id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::audit::SigningKeyRow {
                key_id: r.0,
                algorithm: r.1,
                public_key: r.2,
                valid_from: r.3,
                valid_until: r.4,
            })
            .collect())
    }
}
