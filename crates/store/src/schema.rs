//! Migrations, one directory per backend, applied in order and recorded in `schema_version`.

use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::types::Backend;

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_core.sql")),
    (2, include_str!("../migrations/sqlite/0002_audit.sql")),
    (3, include_str!("../migrations/sqlite/0003_access.sql")),
    (4, include_str!("../migrations/sqlite/0004_ingest.sql")),
    (5, include_str!("../migrations/sqlite/0005_key_check.sql")),
    (6, include_str!("../migrations/sqlite/0006_refresh.sql")),
    (7, include_str!("../migrations/sqlite/0007_owners.sql")),
    (
        8,
        include_str!("../migrations/sqlite/0008_idempotency_per_agency.sql"),
    ),
    (9, include_str!("../migrations/sqlite/0009_reads.sql")),
    (10, include_str!("../migrations/sqlite/0010_console.sql")),
    (11, include_str!("../migrations/sqlite/0011_holdings.sql")),
    (12, include_str!("../migrations/sqlite/0012_portal.sql")),
    (
        13,
        include_str!("../migrations/sqlite/0013_person_portal.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_supervision.sql"),
    ),
    (
        16,
        include_str!("../migrations/sqlite/0016_key_rotation.sql"),
    ),
    (
        17,
        include_str!("../migrations/sqlite/0017_compact_events.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_rows_indexes.sql"),
    ),
    (19, include_str!("../migrations/sqlite/0019_audit.sql")),
    (20, include_str!("../migrations/sqlite/0020_keys.sql")),
    (21, include_str!("../migrations/sqlite/0021_tallies.sql")),
    (
        22,
        include_str!("../migrations/sqlite/0022_case_documents.sql"),
    ),
    (
        23,
        include_str!("../migrations/sqlite/0023_certificates.sql"),
    ),
    (24, include_str!("../migrations/sqlite/0024_enrolments.sql")),
    (
        25,
        include_str!("../migrations/sqlite/0025_supervision_state.sql"),
    ),
    (
        26,
        include_str!("../migrations/sqlite/0026_notice_indexes.sql"),
    ),
    (
        27,
        include_str!("../migrations/sqlite/0027_record_events.sql"),
    ),
    (
        28,
        include_str!("../migrations/sqlite/0028_policy_refs.sql"),
    ),
    (
        29,
        include_str!("../migrations/sqlite/0029_records_events.sql"),
    ),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_core.sql")),
    (2, include_str!("../migrations/postgres/0002_audit.sql")),
    (3, include_str!("../migrations/postgres/0003_access.sql")),
    (4, include_str!("../migrations/postgres/0004_ingest.sql")),
    (5, include_str!("../migrations/postgres/0005_key_check.sql")),
    (6, include_str!("../migrations/postgres/0006_refresh.sql")),
    (7, include_str!("../migrations/postgres/0007_owners.sql")),
    (
        8,
        include_str!("../migrations/postgres/0008_idempotency_per_agency.sql"),
    ),
    (9, include_str!("../migrations/postgres/0009_reads.sql")),
    (10, include_str!("../migrations/postgres/0010_console.sql")),
    (11, include_str!("../migrations/postgres/0011_holdings.sql")),
    (12, include_str!("../migrations/postgres/0012_portal.sql")),
    (
        13,
        include_str!("../migrations/postgres/0013_person_portal.sql"),
    ),
    (
        15,
        include_str!("../migrations/postgres/0015_supervision.sql"),
    ),
    (
        16,
        include_str!("../migrations/postgres/0016_key_rotation.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_compact_events.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_rows_indexes.sql"),
    ),
    (19, include_str!("../migrations/postgres/0019_audit.sql")),
    (20, include_str!("../migrations/postgres/0020_keys.sql")),
    (21, include_str!("../migrations/postgres/0021_tallies.sql")),
    (
        22,
        include_str!("../migrations/postgres/0022_case_documents.sql"),
    ),
    (
        23,
        include_str!("../migrations/postgres/0023_certificates.sql"),
    ),
    (
        24,
        include_str!("../migrations/postgres/0024_enrolments.sql"),
    ),
    (
        25,
        include_str!("../migrations/postgres/0025_supervision_state.sql"),
    ),
    (
        26,
        include_str!("../migrations/postgres/0026_notice_indexes.sql"),
    ),
    (
        27,
        include_str!("../migrations/postgres/0027_record_events.sql"),
    ),
    (
        28,
        include_str!("../migrations/postgres/0028_policy_refs.sql"),
    ),
    (
        29,
        include_str!("../migrations/postgres/0029_records_events.sql"),
    ),
];

/// Conversions of a table's shape that run before their version's SQL, and only over a database
/// not converted yet: when `table` has no column `column`. Re-running a migration over its own
/// result (a database whose version rows were set back) must not convert twice, and a conversion
/// that rebuilds a table cannot be written to tolerate its own output in SQL alone.
struct Conversion {
    version: i64,
    table: &'static str,
    column: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const CONVERSIONS: &[Conversion] = &[
    Conversion {
        version: 23,
        table: "certificates",
        column: "sealed",
        sqlite: include_str!("../migrations/sqlite/0023_certificates_column.sql"),
        postgres: include_str!("../migrations/postgres/0023_certificates_column.sql"),
    },
    Conversion {
        version: 18,
        table: "notices",
        column: "transition_seq",
        sqlite: include_str!("../migrations/sqlite/0018_rows.sql"),
        postgres: include_str!("../migrations/postgres/0018_rows.sql"),
    },
    Conversion {
        version: 19,
        table: "audit_entries",
        column: "detail_packed",
        sqlite: include_str!("../migrations/sqlite/0019_audit_rows.sql"),
        postgres: include_str!("../migrations/postgres/0019_audit_rows.sql"),
    },
    // Migration 20: the person key as bytes, each table by itself (a test of an older database
    // may have put one of them back).
    Conversion {
        version: 20,
        table: "records",
        column: "person",
        sqlite: include_str!("../migrations/sqlite/0020_records_keys.sql"),
        postgres: include_str!("../migrations/postgres/0020_records_keys.sql"),
    },
    Conversion {
        version: 20,
        table: "transitions",
        column: "person",
        sqlite: include_str!("../migrations/sqlite/0020_transitions_keys.sql"),
        postgres: include_str!("../migrations/postgres/0020_transitions_keys.sql"),
    },
    Conversion {
        version: 20,
        table: "holdings",
        column: "person",
        sqlite: include_str!("../migrations/sqlite/0020_holdings_keys.sql"),
        postgres: include_str!("../migrations/postgres/0020_holdings_keys.sql"),
    },
    // Migration 26: a notice keyed by its transition and position, its number made as it is read.
    Conversion {
        version: 26,
        table: "notices",
        column: "position",
        sqlite: include_str!("../migrations/sqlite/0026_notice_numbers.sql"),
        postgres: include_str!("../migrations/postgres/0026_notice_numbers.sql"),
    }, // Migration 28: policies as numbers, times as seconds, in the rows written since.
    Conversion {
        version: 28,
        table: "records",
        column: "updated_s",
        sqlite: include_str!("../migrations/sqlite/0028_records_columns.sql"),
        postgres: include_str!("../migrations/postgres/0028_records_columns.sql"),
    },
    Conversion {
        version: 28,
        table: "transitions",
        column: "at_s",
        sqlite: include_str!("../migrations/sqlite/0028_transitions_columns.sql"),
        postgres: include_str!("../migrations/postgres/0028_transitions_columns.sql"),
    },
    // Migration 29: a record's list of events in its row.
    Conversion {
        version: 29,
        table: "records",
        column: "events",
        sqlite: include_str!("../migrations/sqlite/0029_records_events_column.sql"),
        postgres: include_str!("../migrations/postgres/0029_records_events_column.sql"),
    },
];

/// Whether `table` has a column `column`.
pub(crate) async fn has_column(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    column: &str,
) -> Result<bool, StoreError> {
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2",
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
        }
    };
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(table)
        .bind(column)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// The migration that made `events` compact (0017).
const COMPACT_EVENTS: i64 = 17;

/// Held on PostgreSQL while migrating, so that servers started together (an upgrade) migrate one
/// after another instead of racing to create the same tables.
const MIGRATION_LOCK: i64 = 0x0066_656e_6763_756e;

/// Refuses a database a newer build has migrated: what this build would write there (in tables
/// the newer one no longer reads), the newer build would not see.
fn refuse_a_newer_schema(applied: &[(i64,)], migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    let known = migrations.iter().map(|(v, _)| *v).max().unwrap_or(0);
    match applied.iter().map(|(v,)| *v).max() {
        Some(found) if found > known => Err(StoreError::NewerSchema { found, known }),
        _ => Ok(()),
    }
}

pub(crate) async fn migrate(conn: &mut AnyConnection, backend: Backend) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let applied = apply_pending(conn, backend).await;
    if backend == Backend::Postgres {
        // Released whatever happened: the connection goes back to the pool.
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    applied
}

/// Applies what is missing in one transaction that first takes the write lock on SQLite (`BEGIN
/// IMMEDIATE`), so that two processes opening a new file together do not both create its tables.
async fn apply_pending(conn: &mut AnyConnection, backend: Backend) -> Result<(), StoreError> {
    let mut tx = match backend {
        Backend::Sqlite => sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?,
        Backend::Postgres => sqlx::Connection::begin(&mut *conn).await?,
    };
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM schema_version")
        .fetch_all(&mut *tx)
        .await?;
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    refuse_a_newer_schema(&applied, migrations)?;
    for (version, sql) in migrations {
        if applied.iter().any(|(v,)| v == version) {
            continue;
        }
        for conversion in CONVERSIONS.iter().filter(|c| c.version == *version) {
            if !has_column(&mut tx, backend, conversion.table, conversion.column).await? {
                let sql = match backend {
                    Backend::Sqlite => conversion.sqlite,
                    Backend::Postgres => conversion.postgres,
                };
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
            }
        }
        // Migration 17 renames `events` to keep its old rows for the conversion in Rust; run again
        // over a database whose schema_version was set back, it would take the converted table for
        // the old one. Every other migration tolerates running again by itself.
        let converted = *version == COMPACT_EVENTS
            && has_column(&mut tx, backend, "events", "event_id").await?;
        if !converted {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
        }
        // Dated by the database: the store reads no clock of its own.
        sqlx::query(
            "INSERT INTO schema_version (version, applied_at) VALUES ($1, CAST(CURRENT_TIMESTAMP AS TEXT))",
        )
        .bind(*version)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
