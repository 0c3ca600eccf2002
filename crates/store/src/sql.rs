//! The SQL store, for SQLite and PostgreSQL alike (sqlx `Any`): connections, pools, the master
//! key check, write transactions and the persons' locks. Each kind of data is read and written in
//! a module of its own — records and transitions (`records`), events with the case numbers and
//! agencies they bring (`events`), notices and the outbox (`notices`), access (`access`), the
//! audit log (`audit`), the read side of a record's life (`reads`) — all with one row builder
//! (`rows`). Data access only: the services that decide are `crate::services`.

pub(crate) mod reads;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};

use crate::error::StoreError;
use crate::keys::Keys;
use crate::schema;
use crate::types::Backend;

mod access;
mod activation;
mod audit;
mod corrections;
pub(crate) mod events;
mod flags;
pub(crate) mod keyring;
mod notices;
pub(crate) mod records;
pub(crate) mod rows;
pub(crate) mod tallies;

pub(crate) type Tx = Transaction<'static, Any>;

/// The SQL store. Cheap to clone (a pool and keys).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// Where write transactions run. On SQLite one connection, kept: its page cache stays warm
    /// from one batch to the next, where alternating between the pool's connections made each
    /// batch start cold (a connection drops its cache whenever another one wrote).
    writer: AnyPool,
    pub(crate) backend: Backend,
    keys: Keys,
    /// Opened with the master key checked (not an auditor's store): loads the key ring.
    pub(crate) keyed: bool,
    /// When the key ring was last loaded (`keyring::RING_REFRESH`).
    pub(crate) ring_loaded: std::sync::Arc<std::sync::Mutex<std::time::Instant>>,
    /// Changes to the counts written through this store, to fold them every so many
    /// (`tallies::COMPACT_EVERY`).
    pub(crate) tally_writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Set while an import's pipeline has changed the write connection's checkpoint or cache:
    /// the write pool puts the usual ones back when the connection is released, and only then.
    pub(crate) bulk_settings: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub(crate) use rows::{person_bytes, person_hex, ts};

/// How long a request waits for a PostgreSQL connection before it is told the database is
/// unavailable.
const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Page cache of each reading connection.
const READ_CACHE_KIB: i64 = 64 * 1024;

/// Page cache of the one connection that writes: it walks every index a batch touches, several of
/// them keyed by pseudonymous (random) person keys, and a larger cache keeps their upper levels and
/// recent leaves in memory as the store grows past what 64 MB holds.
const WRITE_CACHE_KIB: i64 = 256 * 1024;

/// The log pages after which the committing connection copies the log back into the database
/// (`wal_autocheckpoint`; docs/storage.md, "SQLite settings and durability").
const CHECKPOINT_PAGES: i64 = 16_384;

/// The write connection's checkpoint and cache as every write but an import's has them.
const USUAL_WRITE_SETTINGS: &str =
    "PRAGMA wal_autocheckpoint = 16384; PRAGMA cache_size = -262144;";

/// Every connection's settings; on SQLite, with a page cache of `cache_kib`.
fn pool_options(sqlite: bool, cache_kib: i64) -> AnyPoolOptions {
    AnyPoolOptions::new().after_connect(move |conn, _| {
        Box::pin(async move {
            if sqlite {
                // WAL survives a killed process with every committed transaction intact.
                use sqlx::Executor;
                // The committing connection copies the log back into the database once it holds
                // 16,384 pages (64 MB) rather than SQLite's 1,000: a batch of events writes about
                // 1,600 pages, so the default checkpointed after every batch — two fsyncs each,
                // and the pages every batch touches (the tables' last pages, the indexes' upper
                // levels) copied back every time. Ingestion: -20 % time, -10 % processor
                // (docs/benchmarks.md); the log stays under 64 MB and a batch (docs/storage.md).
                conn.execute(
                    format!(
                        "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                         PRAGMA cache_size = -{cache_kib}; PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY; \
                         PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES};"
                    )
                    .as_str(),
                )
                .await?;
            }
            Ok(())
        })
    })
}

/// How long opening a new SQLite file waits for the other processes opening it at the same time.
const WAL_SWITCH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Puts the database in WAL mode. Switching a new file from its rollback journal takes a shared
/// lock and then asks for the exclusive one; two connections doing so at once (servers started
/// together on a new file) would each wait for the other, so SQLite answers one of them "database
/// is locked" at once, without its busy timeout. That one tries again until the switch is made
/// (then the mode is already WAL and the statement takes no lock) or the patience runs out.
async fn enter_wal(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match sqlx::raw_sql("PRAGMA journal_mode = WAL")
            .execute(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("5") && started.elapsed() < WAL_SWITCH_PATIENCE =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A database URL fit to show: whatever stands between the scheme and the last `@` (a user and
/// password, even one holding `/` or `@`) reduced to the user, the password as `***`.
pub fn without_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_owned(),
    };
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{scheme}{shown}@{host}")
}

/// Refuses a master key the database was not made with. A database from before the check was
/// kept proves the key by opening one record's data key, then keeps the check.
async fn check_master_key(conn: &mut sqlx::AnyConnection, keys: &Keys) -> Result<(), StoreError> {
    let ours = keys.check_value();
    if let Some(kept) = kept_key_check(conn).await? {
        return same_key(&kept, &ours);
    }
    let sample: Option<(Vec<u8>, String, Vec<u8>)> =
        sqlx::query_as("SELECT person, case_code, data_key FROM records LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((person, case_code, wrapped)) = sample {
        keys.record_key(&wrapped, &person_hex(&person), &case_code)
            .map_err(|_| StoreError::WrongMasterKey)?;
    }
    // Two processes opening a new database at once: the first check kept wins, the other is
    // compared with it.
    sqlx::query(
        "INSERT INTO key_check (name, check_value) VALUES ('master', $1) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&ours)
    .execute(&mut *conn)
    .await?;
    let kept = kept_key_check(conn).await?.unwrap_or_default();
    same_key(&kept, &ours)
}

async fn kept_key_check(conn: &mut sqlx::AnyConnection) -> Result<Option<String>, StoreError> {
    let kept: Option<(String,)> =
        sqlx::query_as("SELECT check_value FROM key_check WHERE name = 'master'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(kept.map(|(value,)| value))
}

fn same_key(kept: &str, ours: &str) -> Result<(), StoreError> {
    if kept == ours {
        Ok(())
    } else {
        Err(StoreError::WrongMasterKey)
    }
}

impl SqlStore {
    /// Opens (creating and migrating) the store; with `check_key`, refuses a master key the
    /// database was not made with.
    pub async fn connect(url: &str, keys: Keys, check_key: bool) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let url = if path.contains('?') {
                format!("sqlite://{path}")
            } else {
                create_owner_only(std::path::Path::new(path))?;
                format!("sqlite://{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl(without_password(url)));
        };
        let sqlite = backend == Backend::Sqlite;
        let mut options = pool_options(sqlite, READ_CACHE_KIB);
        if !sqlite {
            // A stopped or restarting PostgreSQL: a request waits this long for a connection,
            // then is answered 503 (`StoreError::is_unavailable`) rather than hanging for the
            // default 30 s; the pool connects again by itself once the server answers.
            options = options.acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT);
        }
        let pool = options
            .max_connections(if sqlite { 4 } else { 8 })
            .connect(&url)
            .await?;
        let mut conn = pool.acquire().await?;
        if sqlite {
            enter_wal(&mut conn).await?;
        }
        schema::migrate(&mut conn, backend).await?;
        let bulk_settings = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let bulk = std::sync::Arc::clone(&bulk_settings);
        let writer = if sqlite {
            pool_options(sqlite, WRITE_CACHE_KIB)
                .max_connections(1)
                .after_release(move |conn, _| {
                    // An import's pipeline sets its own checkpoint and cache on the one write
                    // connection (`SqlStore::pipeline`); whatever ends it — finished, failed,
                    // dropped — the connection goes back to everyone with the usual ones. Every
                    // other release costs nothing.
                    let reset = bulk.swap(false, std::sync::atomic::Ordering::SeqCst);
                    Box::pin(async move {
                        if reset {
                            use sqlx::Executor;
                            conn.execute(USUAL_WRITE_SETTINGS).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(&url)
                .await?
        } else {
            pool.clone()
        };
        let store = Self {
            pool,
            writer,
            backend,
            keys,
            keyed: check_key,
            ring_loaded: std::sync::Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
            tally_writes: Default::default(),
            bulk_settings,
        };
        if check_key {
            // The ring first: after a rotation, the check value is the index key's.
            store.load_ring(&mut conn).await?;
            check_master_key(&mut conn, &store.keys).await?;
        }
        drop(conn);
        // Audit entries stored before migration 19 take its packed shape (needs no key).
        store.convert_audit_rows().await?;
        if check_key {
            // Events stored before migration 17 move to the compact table first (needs the key).
            store.convert_v16_events().await?;
            store.rewrite_legacy_content_hashes().await?;
            // Document numbers kept in plaintext before migration 22 become MACs.
            store.convert_case_numbers().await?;
            // Certificate files kept in clear before migration 23 are sealed.
            store.seal_kept_certificates().await?;
        }
        Ok(store)
    }

    /// On SQLite, whether the rows `tx` deletes or overwrites are zeroed in the file rather than
    /// left in its free pages (`PRAGMA secure_delete`, per connection: set back after a
    /// conversion that moves plaintext out). Nothing on PostgreSQL, whose dead rows go at VACUUM.
    pub(crate) async fn secure_delete(&self, tx: &mut Tx, on: bool) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            let pragma = if on {
                "PRAGMA secure_delete = ON"
            } else {
                "PRAGMA secure_delete = OFF"
            };
            sqlx::raw_sql(pragma).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first cannot become a writer after another
    /// connection commits, and would fail at once, whatever the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        self.refresh_keys_if_due().await?;
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Serialises the write transactions about these persons: on PostgreSQL, takes the
    /// transaction-scoped advisory lock of each person's bucket, in ascending order, waiting for
    /// any transaction that holds one; they are released when `tx` commits or rolls back. Every
    /// transaction that reads a person's records to decide what to write about them calls this
    /// first, before reading them (`ingest_in`, `refresh`): a read made under READ COMMITTED after
    /// the lock sees everything the lock's previous holder committed, so two batches about one
    /// person are decided one after the other, as SQLite, whose write transactions are serial,
    /// decides them. Taking a person's lock again in the same transaction waits for nothing.
    ///
    /// A person's bucket is the first ten bits of their key (1,024 buckets): the locks one
    /// transaction takes, and all transactions together hold, stay well inside PostgreSQL's
    /// shared lock table (room for 64 locks per connection by default) even for a batch of 10,000
    /// persons, where a lock per person would exhaust it; the price is that two persons share a
    /// lock one time in 1,024. Buckets follow person key order, so a transaction that takes them
    /// person by person in key order takes them in ascending order too. A transaction takes all
    /// its locks before its first write: one that holds the audit log's tip (every transition
    /// appends to the log) while waiting for a person's lock would deadlock with the holder of
    /// that lock, which waits for the tip. A no-op on SQLite (`BEGIN IMMEDIATE` holds the
    /// database's write lock).
    pub(crate) async fn lock_persons(
        &self,
        tx: &mut AnyConnection,
        person_keys: &[String],
    ) -> Result<(), StoreError> {
        if self.backend != crate::types::Backend::Postgres || person_keys.is_empty() {
            return Ok(());
        }
        let mut locks: Vec<i64> = person_keys.iter().map(|key| person_lock(key)).collect();
        locks.sort_unstable();
        locks.dedup();
        // One round trip: the statements of a simple query run in order.
        let sql: String = locks
            .iter()
            .map(|lock| format!("SELECT pg_advisory_xact_lock({lock});"))
            .collect();
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(&sql)).await?;
        Ok(())
    }

    /// The connections write transactions use (on SQLite one, kept warm), for a caller that
    /// writes with its own SQL — the ingestion benchmark's baseline.
    pub fn write_pool(&self) -> &AnyPool {
        &self.writer
    }

    /// One round trip to the database, reading no table (a health check).
    pub(crate) async fn round_trip(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of an SQLite database to `path` while it is in use (`VACUUM
    /// INTO`: one read transaction, so the copy is the database as of one commit, and compacted).
    /// A file already at `path` is refused. PostgreSQL is backed up with `pg_dump`
    /// (docs/operations.md, "Backup and restore").
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Backup(
                "a PostgreSQL database is backed up with pg_dump (docs/operations.md)".to_owned(),
            ));
        }
        create_private(path)?;
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Backup(format!("{}: not a UTF-8 path", path.display())))?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await;
        if let Err(error) = copied {
            // A full disk leaves a partial file: nothing is left to be taken for a backup (nor to
            // block the next night's run).
            let _ = std::fs::remove_file(path);
            return Err(error.into());
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A record's facts as JSON (`None` for a record without facts yet).
    pub(crate) async fn decrypt_view(
        &self,
        person_key: &str,
        case_code: &str,
        wrapped: &[u8],
        facts: records::StoredFacts,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        if facts.sealed.is_none() {
            return Ok(None);
        }
        let key = self.keys.record_key(wrapped, person_key, case_code)?;
        let Some(plain) = facts.open(&key, case_code)? else {
            return Ok(None);
        };
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// The first of PostgreSQL's advisory lock numbers for persons (`lock_persons`): "fengp" and a
/// bucket number in the last two bytes, apart from the migrations' lock ("fengcun").
const PERSON_LOCKS: i64 = 0x0066_656e_6770_0000;

/// Bits of a person key that name its lock's bucket.
const PERSON_LOCK_BITS: u32 = 10;

/// The advisory lock number of a person key's bucket: its first ten bits, so that locks in
/// ascending order are persons in key order. A key that is not hexadecimal (none is) falls in
/// bucket 0.
fn person_lock(person_key: &str) -> i64 {
    let head = person_key
        .get(..4)
        .and_then(|digits| u16::from_str_radix(digits, 16).ok())
        .unwrap_or(0);
    PERSON_LOCKS + i64::from(head >> (16 - PERSON_LOCK_BITS))
}

/// A new embedded database is made readable by its owner only, as a backup is: it holds every
/// wrapped key, password hash and sealed row. (SQLite gives its WAL and shared-memory files the
/// database file's permissions.) A file already there is left as it is.
fn create_owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    match new_owner_only(path) {
        Ok(_) => Ok(()),
        // Another connection made it meanwhile.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Backup(format!("{}: {error}", path.display()))),
    }
}

/// A new, empty file that only its owner may read (mode 0600 from its creation, never after);
/// an error if one is there.
fn new_owner_only(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Checks that `path` is a backup of a fengcun SQLite database before it is restored: an SQLite
/// file that passes SQLite's own check and holds the platform's schema. Read only; any other
/// file (an empty one a failed backup left, a PostgreSQL dump, a key file) is refused, with
/// SQLite's reason.
pub async fn check_sqlite_backup(path: &std::path::Path) -> Result<i64, StoreError> {
    use sqlx::Connection as _;
    let refuse = |why: String| {
        StoreError::Backup(format!("{}: not a fengcun backup: {why}", path.display()))
    };
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| refuse(e.to_string()))?;
    let (check,): (String,) = sqlx::query_as("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| refuse(e.to_string()))?;
    if check != "ok" {
        return Err(refuse(format!("SQLite's check says {check}")));
    }
    let (version,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM schema_version")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| refuse("it holds no fengcun schema".to_owned()))?;
    version.ok_or_else(|| refuse("it holds no fengcun schema".to_owned()))
}

/// Creates `path` empty and readable by its owner only, before anything is written to it: a
/// backup holds every wrapped key, password hash and sealed row. Never replaces a file.
pub fn create_private(path: &std::path::Path) -> Result<(), StoreError> {
    match new_owner_only(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(StoreError::Backup(format!(
                "{}: a file is there already; a backup never replaces one",
                path.display()
            )))
        }
        Err(error) => Err(StoreError::Backup(format!("{}: {error}", path.display()))),
    }
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        for (url, shown) in [
            ("mysql://fengcun:hunter2@h/db", "mysql://fengcun:***@h/db"),
            (
                "postgres://a:b:c@h:5432/db?x=1",
                "postgres://a:***@h:5432/db?x=1",
            ),
            ("postgres://fengcun@h/db", "postgres://fengcun@h/db"),
            ("sqlite://fengcun.sqlite", "sqlite://fengcun.sqlite"),
            ("fengcun.sqlite", "fengcun.sqlite"),
            ("postgres://u:p/w@rd@h/db", "postgres://u:***@h/db"),
            ("u:pw@h/db", "u:***@h/db"),
        ] {
            assert_eq!(super::without_password(url), shown);
        }
    }
}

#[cfg(test)]
mod settings_tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly on a broken fixture"
    )]
    use super::{CHECKPOINT_PAGES, USUAL_WRITE_SETTINGS, WRITE_CACHE_KIB};

    /// The bundled SQLite is compiled as `.cargo/config.toml` asks (`LIBSQLITE3_FLAGS`): each
    /// connection with a page cache of its own, and no memory statistics — both took a mutex of
    /// the whole process on every page a connection fetched (docs/storage.md, "SQLite settings
    /// and durability"). A build that loses the setting (another `LIBSQLITE3_FLAGS` in the
    /// environment, a build outside this workspace) fails here rather than importing 9 % slower.
    #[tokio::test]
    async fn the_bundled_sqlite_has_no_shared_page_cache_nor_memory_statistics() {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let options: Vec<(String,)> = sqlx::query_as("PRAGMA compile_options")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let options: Vec<String> = options.into_iter().map(|(option,)| option).collect();
        assert!(
            options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options
                .iter()
                .any(|option| option == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }

    /// The settings the write pool puts back after an import are the ones it opened with.
    #[test]
    fn the_usual_write_settings_are_the_opening_ones() {
        assert_eq!(
            USUAL_WRITE_SETTINGS,
            format!(
                "PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}; PRAGMA cache_size = -{WRITE_CACHE_KIB};"
            )
        );
    }
}
