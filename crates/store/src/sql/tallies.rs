//! Counts kept as rows are written (`tallies`, migration 21): events stored, records by state,
//! notices by status.
//!
//! A row of `tallies` is a change to one count, inserted by the transaction that wrote what it
//! counts; a count is the sum of its rows. Inserting a change rather than updating one counter
//! row means two writing transactions never wait for each other on a count (on PostgreSQL a
//! scheduler's transaction and an ingestion batch could otherwise each hold a counter the other
//! needs). The writer folds the rows into one a name every [`COMPACT_EVERY`] writes, so a read
//! sums a few hundred rows at most, whatever the store's size (per process: each process folds
//! what it counts and what others left).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::sql::SqlStore;
use crate::sql::rows::placeholders;
use crate::types::Backend;

/// Writes of changes between two foldings (per opened store).
pub(crate) const COMPACT_EVERY: u64 = 256;

/// The name of the count of records in state `code` (`records.state`).
pub(crate) fn records_in(code: &str) -> String {
    format!("records:{code}")
}

/// The name of the count of notices with status `code` (`notices.status`).
pub(crate) fn notices_in(code: &str) -> String {
    format!("notices:{code}")
}

/// The name of the count of events stored.
pub(crate) const EVENTS: &str = "events";

impl SqlStore {
    /// Inserts the non-zero changes of `changes` in one statement, inside the transaction that
    /// wrote what they count.
    pub(crate) async fn add_tallies(
        &self,
        tx: &mut AnyConnection,
        changes: &BTreeMap<String, i64>,
    ) -> Result<(), StoreError> {
        let changes: Vec<(&String, &i64)> = changes.iter().filter(|(_, n)| **n != 0).collect();
        if changes.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO tallies (name, n) VALUES {}",
            placeholders(self.positional(), changes.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (name, n) in changes {
            query = query.bind(name.as_str()).bind(*n);
        }
        query.execute(&mut *tx).await?;
        let written = self.tally_writes.fetch_add(1, Ordering::Relaxed) + 1;
        if written.is_multiple_of(COMPACT_EVERY) {
            self.compact_tallies(tx).await?;
        }
        Ok(())
    }

    /// Folds the rows of each count into one, inside `tx`. On PostgreSQL in one statement, so
    /// that a change another transaction commits meanwhile is either folded or left, never
    /// deleted unsummed; on SQLite the one writer holds the database for the transaction.
    pub(crate) async fn compact_tallies(&self, tx: &mut AnyConnection) -> Result<(), StoreError> {
        match self.backend {
            Backend::Postgres => {
                sqlx::query(
                    "WITH folded AS (DELETE FROM tallies RETURNING name, n) \
                     INSERT INTO tallies (name, n) SELECT name, CAST(SUM(n) AS BIGINT) FROM folded GROUP BY name",
                )
                .execute(&mut *tx)
                .await?;
            }
            Backend::Sqlite => {
                let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(rowid) FROM tallies")
                    .fetch_one(&mut *tx)
                    .await?;
                let Some(last) = last else { return Ok(()) };
                sqlx::query(
                    "INSERT INTO tallies (name, n) SELECT name, SUM(n) FROM tallies WHERE rowid <= $1 GROUP BY name",
                )
                .bind(last)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM tallies WHERE rowid <= $1")
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every count, by name, in name order (counts at zero left out).
    pub(crate) async fn read_tallies(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT name, CAST(SUM(n) AS BIGINT) FROM tallies GROUP BY name ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter(|(_, n)| *n != 0).collect())
    }

    /// The counts whose names begin with `prefix`, by the rest of the name, in name order.
    async fn tallies_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self
            .read_tallies()
            .await?
            .into_iter()
            .filter_map(|(name, n)| Some((name.strip_prefix(prefix)?.to_owned(), n)))
            .collect())
    }

    /// Records by state code, in code order, from the counts.
    pub(crate) async fn records_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.tallies_under(&records_in("")).await
    }

    /// Notices by status code, in code order, from the counts.
    pub(crate) async fn notices_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.tallies_under(&notices_in("")).await
    }

    /// A notice's status, read inside `tx` before the transaction changes it: on PostgreSQL its
    /// row locked until `tx` ends, so the change counted is the one the update makes.
    pub(crate) async fn notice_status(
        &self,
        tx: &mut AnyConnection,
        (seq, position): (i64, i64),
    ) -> Result<Option<String>, StoreError> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT status FROM notices WHERE transition_seq = $1 AND position = $2 FOR UPDATE"
            }
            Backend::Sqlite => {
                "SELECT status FROM notices WHERE transition_seq = $1 AND position = $2"
            }
        };
        let row: Option<(String,)> = sqlx::query_as(sql)
            .bind(seq)
            .bind(position)
            .fetch_optional(&mut *tx)
            .await?;
        Ok(row.map(|(status,)| status))
    }

    /// Counts a notice's move from status `before` to `after` (none when they are the same).
    pub(crate) async fn count_notice_move(
        &self,
        tx: &mut AnyConnection,
        before: &str,
        after: &str,
    ) -> Result<(), StoreError> {
        if before == after {
            return Ok(());
        }
        let changes = BTreeMap::from([(notices_in(before), -1), (notices_in(after), 1)]);
        self.add_tallies(tx, &changes).await
    }

    /// Events stored, from the counts.
    pub(crate) async fn events_stored(&self) -> Result<i64, StoreError> {
        Ok(self
            .read_tallies()
            .await?
            .into_iter()
            .find(|(name, _)| name == EVENTS)
            .map_or(0, |(_, n)| n))
    }
}
