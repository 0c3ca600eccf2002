//! The one row builder every part of the SQL store writes with: placeholders for the two engines,
//! bound values of deferred rows, multi-row inserts, and the text form of stored times.

use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::sql::SqlStore;
use crate::types::Backend;

/// Rows per multi-row statement: well under SQLite's and PostgreSQL's parameter limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 100;

/// Times are stored as RFC 3339 text rounded to the second, so that text order is time order.
pub(crate) fn ts(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// A time as a column of whole seconds keeps it (the notices' times, migration 26): rounded to the
/// second, as [`ts`] writes one, so the two forms name the same instant.
pub(crate) fn seconds(t: jiff::Timestamp) -> i64 {
    t.round(jiff::Unit::Second).unwrap_or(t).as_second()
}

/// The text of a time kept in whole seconds: exactly what [`ts`] made of it.
pub(crate) fn time_text(column: &str, seconds: i64) -> Result<String, StoreError> {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .map_err(|_| StoreError::Corrupt(format!("{column} {seconds}")))
}

/// What `transitions.person` and `holdings.person` keep of a person key since migration 28: its
/// first 16 bytes, as `events` does and a record's list is bound to — with the case code they name the record
/// (two persons of one case sharing 128 bits of a keyed hash is as unlikely as two events sharing
/// an id); the record's row keeps all 32. Empty for a string that is not a key (it finds nothing).
pub(crate) fn person_ref(person_key: &str) -> Vec<u8> {
    crate::sql::events::person_column(person_key).unwrap_or_default()
}

/// A transition's actor (`t`): its text, or `automatic` for the empty text a transition the
/// platform took by itself keeps since migration 28 (nine bytes a transition).
pub(crate) const TRANSITION_ACTOR: &str =
    "CASE WHEN t.actor = '' THEN 'automatic' ELSE t.actor END";

/// A record's (`alias` `r`) or a transition's (`t`) policy name and version, two columns: the text
/// a row written before migration 28 keeps (or an older build writes since), otherwise the
/// version its `policy_ref` names in `policy_refs`, read by that table's key.
pub(crate) fn policy_columns(alias: &str) -> String {
    format!(
        "COALESCE(NULLIF({alias}.policy, ''), (SELECT p.name FROM policy_refs p WHERE p.ref = {alias}.policy_ref)), \
         COALESCE(NULLIF({alias}.policy_version, ''), (SELECT p.version FROM policy_refs p WHERE p.ref = {alias}.policy_ref))"
    )
}

/// A record's or a transition's time (`records.updated_at`, `transitions.at`): its text in a row
/// written before migration 28 (or by an older build since), its seconds (`updated_s`, `at_s`)
/// otherwise — the same text [`ts`] made of the time.
pub(crate) fn stored_time(
    column: &str,
    text: String,
    seconds: Option<i64>,
) -> Result<String, StoreError> {
    match seconds {
        Some(seconds) if text.is_empty() => time_text(column, seconds),
        _ => Ok(text),
    }
}

/// The stored form of a person key in `records`, `transitions` and `holdings` (their column
/// `person`, migration 20): the bytes its lowercase hex spells, half the size of the text. A string
/// that is not such hex (no key the store makes, `Keys::person_key`) becomes an empty value, which
/// no stored key equals: a look-up by it finds nothing, as the text comparison did.
pub(crate) fn person_bytes(person_key: &str) -> Vec<u8> {
    let digits = person_key.as_bytes();
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    if !digits.len().is_multiple_of(2) {
        return Vec::new();
    }
    digits
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_default()
}

/// The person key as every reader sees it (lowercase hex) from its stored bytes ([`person_bytes`]).
pub(crate) fn person_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// The stored form of a transition id (migration 20): the bytes its lowercase hex spells, as for
/// a person key ([`person_bytes`]); read back as the same hex by [`person_hex`].
pub(crate) fn transition_id_bytes(transition_id: &str) -> Vec<u8> {
    person_bytes(transition_id)
}

/// Reads a stored code into its enum; a code none of its values has is
/// [`StoreError::UnknownValue`], naming the column.
pub(crate) fn decode<T>(
    column: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| StoreError::UnknownValue {
        column,
        value: value.to_owned(),
    })
}

/// [`decode`] for a column that may be NULL.
pub(crate) fn decode_opt<T>(
    column: &'static str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    value.map(|v| decode(column, v, parse)).transpose()
}

/// A statement being bound.
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A bound value of a deferred row.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(Option<String>),
    Int(i64),
    MaybeInt(Option<i64>),
    Blob(Vec<u8>),
    MaybeBlob(Option<Vec<u8>>),
}

impl Param {
    pub(crate) fn text(value: impl Into<String>) -> Self {
        Param::Text(Some(value.into()))
    }

    pub(crate) fn bind(self, query: Query<'_>) -> Query<'_> {
        match self {
            Param::Text(value) => query.bind(value),
            Param::Int(value) => query.bind(value),
            Param::MaybeInt(value) => query.bind(value),
            Param::Blob(value) => query.bind(value),
            Param::MaybeBlob(value) => query.bind(value),
        }
    }

    /// [`Param::bind`] for a statement whose rows are read (`RETURNING`).
    pub(crate) fn bind_as<'q, O>(
        self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        match self {
            Param::Text(value) => query.bind(value),
            Param::Int(value) => query.bind(value),
            Param::MaybeInt(value) => query.bind(value),
            Param::Blob(value) => query.bind(value),
            Param::MaybeBlob(value) => query.bind(value),
        }
    }
}

/// `rows` groups of `columns` placeholders, numbered on: `($1, $2), ($3, $4)` (`?` on SQLite).
pub(crate) fn placeholders(positional: bool, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..columns)
                .map(|c| param(positional, r * columns + c + 1))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` placeholders from the first: `$1, $2, $3` (`?, ?, ?` on SQLite).
pub(crate) fn list(positional: bool, n: usize) -> String {
    list_from(positional, 1, n)
}

/// `n` placeholders from the `first`th: `$3, $4, $5` (`?, ?, ?` on SQLite), for a list that
/// follows other parameters.
pub(crate) fn list_from(positional: bool, first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| param(positional, i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `n`th placeholder (from 1).
pub(crate) fn param(positional: bool, n: usize) -> String {
    if positional {
        "?".to_owned()
    } else {
        format!("${n}")
    }
}

impl SqlStore {
    /// Whether generated placeholders are positional (`?`, SQLite) or numbered (`$n`).
    pub(crate) fn positional(&self) -> bool {
        self.backend == Backend::Sqlite
    }

    /// Inserts one row of `N` values: `{head} ($1, …, $N) {tail}` (`tail` may be empty, or an
    /// `ON CONFLICT` clause). The number of rows written.
    pub(crate) async fn insert_row<const N: usize>(
        &self,
        tx: &mut AnyConnection,
        head: &str,
        row: [Param; N],
        tail: &str,
    ) -> Result<u64, StoreError> {
        let sql = format!("{head} {} {tail}", placeholders(self.positional(), 1, N));
        let mut query = sqlx::query(&sql);
        for value in row {
            query = value.bind(query);
        }
        Ok(query.execute(&mut *tx).await?.rows_affected())
    }

    /// Inserts rows of `N` values with one multi-row statement per hundred rows.
    pub(crate) async fn insert_rows<const N: usize>(
        &self,
        tx: &mut AnyConnection,
        head: &str,
        rows: Vec<[Param; N]>,
    ) -> Result<(), StoreError> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<[Param; N]> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            let sql = format!("{head} {}", placeholders(self.positional(), chunk.len(), N));
            let mut query = sqlx::query(&sql);
            for row in chunk {
                for value in row {
                    query = value.bind(query);
                }
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Inserts rows whose `columns` values `bind` binds from each row, borrowed rather than
    /// copied into [`Param`]s (event bodies), with one multi-row statement per hundred rows.
    pub(crate) async fn insert_rows_with<T>(
        &self,
        tx: &mut AnyConnection,
        head: &str,
        rows: &[T],
        columns: usize,
        bind: impl for<'q> Fn(Query<'q>, &'q T) -> Query<'q>,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            self.insert_chunk_with(tx, head, "", chunk, columns, &bind)
                .await?;
        }
        Ok(())
    }

    /// Inserts `rows` (at most [`ROWS_PER_STATEMENT`]) in one statement, `{head} (…), (…)
    /// {tail}`, each row's `columns` values bound by `bind`. The number of rows written (an
    /// `ON CONFLICT … DO UPDATE … WHERE` tail may write fewer than given).
    pub(crate) async fn insert_chunk_with<T>(
        &self,
        tx: &mut AnyConnection,
        head: &str,
        tail: &str,
        rows: &[T],
        columns: usize,
        bind: impl for<'q> Fn(Query<'q>, &'q T) -> Query<'q>,
    ) -> Result<u64, StoreError> {
        let mut sql = format!(
            "{head} {}",
            placeholders(self.positional(), rows.len(), columns)
        );
        if !tail.is_empty() {
            sql = format!("{sql} {tail}");
        }
        let mut query = sqlx::query(&sql);
        for row in rows {
            query = bind(query, row);
        }
        Ok(query.execute(&mut *tx).await?.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::{list, list_from, param, placeholders};

    #[test]
    fn placeholders_are_numbered_on_postgres_and_positional_on_sqlite() {
        assert_eq!(placeholders(false, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(true, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(false, 3), "$1, $2, $3");
        assert_eq!(list(true, 2), "?, ?");
        assert_eq!(list_from(false, 3, 2), "$3, $4");
        assert_eq!(list_from(true, 3, 2), "?, ?");
        assert_eq!(param(false, 7), "$7");
        assert_eq!(param(true, 7), "?");
    }
}

#[cfg(test)]
mod person_tests {
    use super::{person_bytes, person_hex};

    #[test]
    fn a_person_key_is_stored_as_its_bytes_and_read_back_as_the_same_hex() {
        let key = "00ff10a9b8c7d6e5f4030201aabbccddeeff00112233445566778899abcdef01";
        let bytes = person_bytes(key);
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[..4], &[0x00, 0xff, 0x10, 0xa9]);
        assert_eq!(person_hex(&bytes), key);
    }

    #[test]
    fn a_string_that_is_no_stored_key_matches_no_stored_key() {
        // Upper case, odd length, other characters: no key the store makes (lowercase hex), and
        // as text they equalled none; as bytes they are empty, which no stored key is.
        for other in ["00FF", "abc", "zz", "id:110105199003070025"] {
            assert_eq!(person_bytes(other), Vec::<u8>::new(), "{other}");
        }
    }
}
