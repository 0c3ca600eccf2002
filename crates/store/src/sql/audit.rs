//! The audit log's rows in SQL: entries appended in the caller's transaction, pages of entries,
//! signed tree heads, proofs, and the audit that recomputes the tree from the rows.

use async_trait::async_trait;
use fengcun_crypto::{Suite, VerifyingKey};
use fengcun_ledger::{Hash, SignedTreeHead, TreeHead};

use crate::audit::{
    AuditEntry, AuditEvent, AuditFilter, AuditKind, AuditProblem, AuditReport, AuditStore,
    RowAudit, frontier_bytes, frontier_from_row, leaf_bytes, read_heads,
};
use crate::error::StoreError;
use crate::sql::rows::{Param, decode, ts};

/// The actor of what the platform does by itself (`fengcun_lifecycle::Actor::Automatic`).
const AUTOMATIC: &str = "automatic";

/// The hash of the log read on `conn`: see [`crate::SqlStore::audit_hash`].
async fn log_hash(conn: &mut sqlx::AnyConnection) -> Result<Option<Suite>, StoreError> {
    let newest: Option<(String,)> =
        sqlx::query_as("SELECT line FROM tree_heads ORDER BY size DESC, at DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(head) = newest.and_then(|(line,)| SignedTreeHead::from_json(&line).ok()) {
        return Ok(Some(head.unverified_head().suite()));
    }
    // No head: the entries' recorded leaf hashes say it. A few are read, so that an altered first
    // entry does not hide the hash of the others.
    let rows: Vec<EntryRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_entries ORDER BY seq LIMIT 16"
    ))
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        // An entry whose kind (or packed column) was altered into none known says nothing of the
        // hash.
        let Ok(entry) = entry_from_row(row) else {
            continue;
        };
        let bytes = entry.leaf_bytes();
        for suite in [Suite::Sm, Suite::International] {
            if fengcun_ledger::Hasher::new(suite)
                .leaf_hash(&bytes)
                .to_hex()
                == entry.leaf_hash
            {
                return Ok(Some(suite));
            }
        }
    }
    Ok(None)
}

/// Rows read per statement when the log is streamed.
const PAGE: i64 = 10_000;

/// An entry's columns as read, in this order (`e.` before each where joined).
const COLUMNS: &str = "seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash, subject_packed, detail_packed, at_s";

type EntryRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// The first byte of a packed subject of the form `record:<64 hex person key>/<case code>`: the key's
/// 32 bytes and the case code follow.
const RECORD_SUBJECT: u8 = 0x01;

/// A subject as stored in `subject_packed` (migration 19): a record's subject,
/// `record:<64 lower-case hex>/<rest>`, as `0x01 ‖ 32 key bytes ‖ rest`; any other subject has no
/// packed form and stays in `subject`. Packing is a function of the text alone, so a search for a
/// subject compares packed forms.
pub(crate) fn pack_subject(subject: &str) -> Option<Vec<u8>> {
    let rest = subject.strip_prefix("record:")?;
    let (key, case) = (rest.get(..64)?, rest.get(64..)?.strip_prefix('/')?);
    let digits = key
        .as_bytes()
        .iter()
        .map(|b| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()?;
    let mut packed = Vec::with_capacity(33 + case.len());
    packed.push(RECORD_SUBJECT);
    packed.extend(digits.chunks(2).map(|pair| pair[0] << 4 | pair[1]));
    packed.extend_from_slice(case.as_bytes());
    Some(packed)
}

/// The subject `pack_subject` made `packed` from.
fn unpack_subject(seq: i64, packed: &[u8]) -> Result<String, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("the subject of audit entry {seq}"));
    match packed.split_first() {
        Some((&RECORD_SUBJECT, rest)) if rest.len() >= 32 => {
            let key: String = rest[..32].iter().map(|b| format!("{b:02x}")).collect();
            let case = std::str::from_utf8(&rest[32..]).map_err(|_| corrupt())?;
            Ok(format!("record:{key}/{case}"))
        }
        _ => Err(corrupt()),
    }
}

/// An entry's time as stored in `at_s` (migration 19): its seconds since the epoch, and whether
/// they read back as the very text (`ts` writes every time so: whole seconds, UTC); a time that
/// would not is kept in `at` as well.
pub(crate) fn pack_time(at: &str) -> (Option<i64>, bool) {
    match at.parse::<jiff::Timestamp>() {
        Ok(time) => {
            let second = time.as_second();
            let same = jiff::Timestamp::from_second(second).is_ok_and(|t| t.to_string() == at);
            (Some(second), same)
        }
        Err(_) => (None, false),
    }
}

fn unpack_time(seq: i64, at: String, at_s: Option<i64>) -> Result<String, StoreError> {
    match at_s {
        Some(second) if at.is_empty() => jiff::Timestamp::from_second(second)
            .map(|t| t.to_string())
            .map_err(|_| StoreError::Corrupt(format!("the time of audit entry {seq}"))),
        _ => Ok(at),
    }
}

/// A detail as stored in `detail_packed` (migration 19): compressed with the audit dictionary
/// (`compress::pack`: the JSON as it is when that would not shrink it). Not sealed: the log is
/// readable without the master key, as before.
pub(crate) fn pack_detail(detail: &str) -> Vec<u8> {
    crate::compress::pack(detail.as_bytes(), crate::compress::Dictionary::Audit1)
}

fn unpack_detail(seq: i64, packed: Vec<u8>) -> Result<String, StoreError> {
    let corrupt =
        |why: String| StoreError::Corrupt(format!("the detail of audit entry {seq}: {why}"));
    let plain = crate::compress::unpack(packed).map_err(|e| corrupt(e.to_string()))?;
    String::from_utf8(plain).map_err(|_| corrupt("not UTF-8".into()))
}

fn entry_from_row(row: EntryRow) -> Result<AuditEntry, StoreError> {
    let (
        seq,
        at,
        kind,
        actor,
        purpose,
        outcome,
        subject,
        detail,
        leaf_hash,
        subject_packed,
        detail_packed,
        at_s,
    ) = row;
    let at = unpack_time(seq, at, at_s)?;
    // A row written since migration 19 holds its subject and detail packed; one of before (or
    // written by a server of before during an upgrade) in clear, until converted.
    let subject = match subject_packed {
        Some(packed) => Some(unpack_subject(seq, &packed)?),
        None => subject,
    };
    let detail = match detail_packed {
        Some(packed) => unpack_detail(seq, packed)?,
        None => detail,
    };
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt("audit seq".into()))?,
        at,
        kind: decode("audit_entries.kind", &kind, AuditKind::parse)?,
        actor,
        purpose,
        outcome,
        subject,
        detail,
        leaf_hash: leaf_hash.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

impl crate::SqlStore {
    /// Appends audit events in the caller's transaction, so that they commit with the action they
    /// record or not at all. Updating the tip first takes its row lock: appenders queue on it.
    pub(crate) async fn append_audit(
        &self,
        tx: &mut sqlx::AnyConnection,
        events: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        sqlx::query("UPDATE audit_tip SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let (size, nodes): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, nodes FROM audit_tip WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let suite = self.keys().suite();
        let mut frontier = frontier_from_row(suite, size, &nodes)?;
        let hasher = frontier.hasher();
        let at = ts(now);
        // The time as seconds (migration 19), its text column then empty.
        let (second, same) = pack_time(&at);
        let at_text = if same { String::new() } else { at.clone() };
        let mut rows = Vec::with_capacity(events.len());
        let mut concerns = Vec::new();
        for event in events {
            let seq = frontier.size();
            for person in &event.concerns {
                concerns.push([Param::text(person.clone()), Param::Int(seq as i64)]);
            }
            let detail = event.detail.to_string();
            let bytes = leaf_bytes(
                seq,
                &at,
                event.kind.code(),
                &event.actor,
                event.purpose.as_deref(),
                &event.outcome,
                event.subject.as_deref(),
                &detail,
            );
            let leaf = hasher.leaf_hash(&bytes);
            frontier.push_leaf_hash(leaf);
            // Packed as migration 19 keeps them: the detail compressed (its column empty), a
            // record's subject as bytes (its column NULL).
            let subject_packed = event.subject.as_deref().and_then(pack_subject);
            let subject = match subject_packed {
                Some(_) => None,
                None => event.subject.clone(),
            };
            rows.push([
                Param::Int(seq as i64),
                Param::text(at_text.clone()),
                Param::text(event.kind.code()),
                Param::text(event.actor.clone()),
                Param::Text(event.purpose.clone()),
                Param::text(event.outcome.clone()),
                Param::Text(subject),
                Param::text(String::new()),
                Param::Blob(leaf.0.to_vec()),
                Param::MaybeBlob(subject_packed),
                Param::Blob(pack_detail(&detail)),
                second.map_or(Param::Text(None), Param::Int),
            ]);
        }
        self.insert_rows(
            tx,
            "INSERT INTO audit_entries (seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash, subject_packed, detail_packed, at_s) VALUES",
            rows,
        )
        .await?;
        if !concerns.is_empty() {
            self.insert_rows(
                tx,
                "INSERT INTO audit_concerns (person_key, seq) VALUES",
                concerns,
            )
            .await?;
        }
        sqlx::query("UPDATE audit_tip SET size = $1, nodes = $2 WHERE id = 1")
            .bind(frontier.size() as i64)
            .bind(frontier_bytes(&frontier))
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Rewrites the audit entries stored before migration 19 into its shape: the detail packed
    /// (`pack_detail`, its text column emptied), a record's subject packed (`pack_subject`, its
    /// text column NULL). Every read returns the same entry from either shape, and the leaf hash
    /// is not touched: it is of the entry's text, which is unchanged. Needs no key (the log is not
    /// sealed), so it runs whenever the store opens. 500 rows to a transaction, each row updated
    /// only while still unpacked: an interrupted run resumes where it stopped, and two processes
    /// doing it together write the same bytes.
    pub(crate) async fn convert_audit_rows(&self) -> Result<(), StoreError> {
        let mut after = -1i64;
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
                "SELECT seq, at, subject, detail FROM audit_entries \
                 WHERE seq > $1 AND detail_packed IS NULL ORDER BY seq LIMIT 500",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last().map(|row| row.0) else {
                tx.commit().await?;
                return Ok(());
            };
            after = last;
            for (seq, at, subject, detail) in rows {
                let (second, same) = pack_time(&at);
                let at = if same { String::new() } else { at };
                let subject_packed = subject.as_deref().and_then(pack_subject);
                let subject = match subject_packed {
                    Some(_) => None,
                    None => subject,
                };
                sqlx::query(
                    "UPDATE audit_entries SET subject = $1, subject_packed = $2, detail = '', \
                     detail_packed = $3, at = $4, at_s = $5 WHERE seq = $6 AND detail_packed IS NULL",
                )
                .bind(subject)
                .bind(subject_packed)
                .bind(pack_detail(&detail))
                .bind(at)
                .bind(second)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }

    pub(crate) async fn audit_page(
        &self,
        from: u64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.audit_rows(from, limit).await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    /// The rows of entries from `from` (in log order), at most `limit`, as stored.
    async fn audit_rows(&self, from: u64, limit: i64) -> Result<Vec<EntryRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(from as i64)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The hash the stored log is built with, as the log itself says: the hash its newest stored
    /// head names, else the hash under which its first entries' columns give their recorded leaf
    /// hashes. `None` for a log with neither (empty, or every entry read altered).
    pub async fn audit_hash(&self) -> Result<Option<Suite>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        log_hash(&mut conn).await
    }

    /// Signs the tree as it stands. Without `force`, nothing is signed when no entry was appended
    /// since the last head (the periodic signer's case). The head is of the store's suite, which
    /// must be the log's own hash: a store opened for another hash signs nothing.
    pub(crate) async fn sign_head(
        &self,
        key: &fengcun_crypto::SigningKey,
        now: jiff::Timestamp,
        force: bool,
    ) -> Result<Option<SignedTreeHead>, StoreError> {
        let mut tx = self.begin_write().await?;
        let suite = self.keys().suite();
        if let Some(found) = log_hash(&mut tx).await?
            && found != suite
        {
            return Err(StoreError::AuditHash {
                log: found,
                given: suite,
            });
        }
        let (size, nodes): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, nodes FROM audit_tip WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(size) FROM tree_heads")
            .fetch_one(&mut *tx)
            .await?;
        if !force && last == Some(size) {
            return Ok(None);
        }
        let frontier = frontier_from_row(suite, size, &nodes)?;
        // A head's time is whole milliseconds; stored times are whole seconds.
        let now = now.round(jiff::Unit::Second).unwrap_or(now);
        // The tree's hash is the log's; the signature is the key's own algorithm (SM2 or Ed25519,
        // either over either hash: the head names both).
        let head = TreeHead::new(frontier.size(), frontier.root(), now, suite).sign(key);
        sqlx::query("INSERT INTO tree_heads (size, at, line) VALUES ($1, $2, $3) ON CONFLICT (size, at) DO NOTHING")
            .bind(size)
            .bind(ts(now))
            .bind(head.to_json())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(head))
    }

    pub(crate) async fn head_lines(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT line FROM tree_heads ORDER BY size, at")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }

    /// The tree of recorded leaf hashes up to `size`, for proofs.
    async fn proof_tree(&self, size: u64) -> Result<fengcun_ledger::Tree, StoreError> {
        let mut tree = fengcun_ledger::Tree::with_capacity(self.keys().suite(), size);
        let mut from = 0u64;
        while tree.len() < size {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT seq, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3",
            )
            .bind(from as i64)
            .bind(size as i64)
            .bind(PAGE * 10)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Err(StoreError::NotFound(format!(
                    "the audit log has fewer than {size} entries"
                )));
            }
            for (seq, leaf) in rows {
                let leaf = <[u8; 32]>::try_from(leaf.as_slice())
                    .map_err(|_| StoreError::Corrupt(format!("leaf hash of entry {seq}")))?;
                tree.push_leaf_hash(Hash(leaf));
                from = seq as u64 + 1;
            }
        }
        Ok(tree)
    }

    pub(crate) async fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        let tree = self.proof_tree(size).await?;
        tree.inclusion_proof(index, size)
            .map_err(|e| StoreError::NotFound(e.to_string()))
    }

    pub(crate) async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        let tree = self.proof_tree(new).await?;
        tree.consistency_proof(old, new)
            .map_err(|e| StoreError::NotFound(e.to_string()))
    }

    /// Recomputes the tree from every row and checks it against the stored heads (signatures
    /// checked when `key` is given) and the heads given from outside.
    pub(crate) async fn verify_log(
        &self,
        outside: &[String],
        key: &[VerifyingKey],
    ) -> Result<AuditReport, StoreError> {
        let stored = self.head_lines().await?;
        let suite = self.keys().suite();
        let mut report = AuditReport {
            entries: 0,
            root: String::new(),
            stored_heads: stored.len(),
            outside_heads: outside.len(),
            signatures_checked: 0,
            problem: None,
        };
        let heads = read_heads(&stored, key, false).and_then(|(mut heads, checked)| {
            report.signatures_checked = checked;
            // Heads kept outside are checked with the key when there is one, like the stored.
            let (more, checked) = read_heads(outside, key, true)?;
            report.signatures_checked += checked;
            heads.extend(more);
            Ok(heads)
        });
        let mut audit = match heads.and_then(|heads| RowAudit::new(suite, heads)) {
            Ok(audit) => audit,
            Err(problem) => {
                report.problem = Some(problem);
                return Ok(report);
            }
        };
        let mut from = 0u64;
        // An entry whose kind was altered into none known is named as altered, like any other
        // altered column, rather than failing the audit.
        let mut unreadable = None;
        'pages: loop {
            let page = self.audit_rows(from, PAGE).await?;
            let Some(last) = page.last() else { break };
            from = u64::try_from(last.0).map_err(|_| StoreError::Corrupt("audit seq".into()))? + 1;
            for row in page {
                let (seq, kind) = (row.0, row.2.clone());
                let entry = match entry_from_row(row) {
                    Ok(entry) => entry,
                    Err(StoreError::UnknownValue { .. }) => {
                        unreadable = Some(AuditProblem::Altered {
                            entry: u64::try_from(seq).unwrap_or_default(),
                            detail: format!("its kind `{kind}` is none an entry can have"),
                        });
                        break 'pages;
                    }
                    // A packed subject or detail that no longer unpacks was altered as surely.
                    Err(StoreError::Corrupt(what)) if seq >= 0 => {
                        unreadable = Some(AuditProblem::Altered {
                            entry: u64::try_from(seq).unwrap_or_default(),
                            detail: format!("{what} does not read back"),
                        });
                        break 'pages;
                    }
                    Err(e) => return Err(e),
                };
                if !audit.push(&entry, suite) {
                    break 'pages;
                }
            }
        }
        let (entries, root, problem) = audit.finish();
        report.entries = entries;
        report.root = root.map(|r| r.to_hex()).unwrap_or_default();
        // Where an unreadable entry stopped the audit, the audit's end (a log shorter than its
        // heads) says nothing more.
        report.problem = unreadable.or(problem);
        Ok(report)
    }
}

/// The statement of an audit search and its parameters: only the conditions given are in it, so
/// that each is an index's range.
fn search_statement(filter: &AuditFilter) -> (String, Vec<Param>) {
    let mut conditions = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    fn bind(
        params: &mut Vec<Param>,
        conditions: &mut Vec<String>,
        condition: impl Fn(usize) -> String,
        values: Vec<Param>,
    ) {
        conditions.push(condition(params.len() + 1));
        params.extend(values);
    }
    let (p, c) = (&mut params, &mut conditions);
    // The indexes by actor and by kind leave out the automatic transitions (migration 28): a
    // search for another actor or kind says so, for the engine to use them; one for those
    // reads the log newest first, where they are most entries.
    if let Some(actor) = &filter.actor {
        let indexed = actor != AUTOMATIC;
        bind(
            p,
            c,
            |n| {
                if indexed {
                    format!("actor = ${n} AND actor <> '{AUTOMATIC}'")
                } else {
                    format!("actor = ${n}")
                }
            },
            vec![Param::text(actor.clone())],
        );
    }
    if let Some(kind) = filter.kind {
        let indexed = kind != AuditKind::Transition;
        bind(
            p,
            c,
            |n| {
                if indexed {
                    format!("kind = ${n} AND kind <> 'transition'")
                } else {
                    format!("kind = ${n}")
                }
            },
            vec![Param::text(kind.as_str())],
        );
    }
    if let Some(subject) = &filter.subject {
        // A record's subject is stored packed (migration 19), or in clear in a row not
        // converted yet.
        match pack_subject(subject) {
            Some(packed) => bind(
                p,
                c,
                |n| format!("(subject = ${n} OR subject_packed = ${})", n + 1),
                vec![Param::text(subject.clone()), Param::Blob(packed)],
            ),
            None => bind(
                p,
                c,
                |n| format!("subject = ${n}"),
                vec![Param::text(subject.clone())],
            ),
        }
    }
    // Times by their seconds (migration 19), as the text compared before: whole seconds.
    let second =
        |t: jiff::Timestamp| Param::Int(t.round(jiff::Unit::Second).unwrap_or(t).as_second());
    if let Some(since) = filter.since {
        bind(p, c, |n| format!("at_s >= ${n}"), vec![second(since)]);
    }
    if let Some(until) = filter.until {
        bind(p, c, |n| format!("at_s < ${n}"), vec![second(until)]);
    }
    if let Some(before) = filter.before {
        let before = i64::try_from(before).unwrap_or(i64::MAX);
        bind(p, c, |n| format!("seq < ${n}"), vec![Param::Int(before)]);
    }
    let mut sql = format!("SELECT {COLUMNS} FROM audit_entries");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", params.len() + 1));
    params.push(Param::Int(filter.limit));
    (sql, params)
}

#[async_trait]
impl AuditStore for crate::SqlStore {
    async fn audit(&self, events: &[AuditEvent], now: jiff::Timestamp) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.append_audit(&mut tx, events, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_entries(&self, from: u64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_page(from, limit).await
    }

    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let (sql, params) = search_statement(filter);
        let mut query = sqlx::query_as::<_, EntryRow>(&sql);
        for value in params {
            query = value.bind_as(query);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    async fn audit_concerning(
        &self,
        person_key: &str,
        before: Option<u64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT e.seq, e.at, e.kind, e.actor, e.purpose, e.outcome, e.subject, e.detail, e.leaf_hash, \
             e.subject_packed, e.detail_packed, e.at_s FROM audit_concerns c JOIN audit_entries e ON e.seq = c.seq \
             WHERE c.person_key = $1 AND c.seq < $2 ORDER BY c.seq DESC LIMIT $3",
        )
        .bind(person_key)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    async fn sign_tree_head(
        &self,
        key: &fengcun_crypto::SigningKey,
        now: jiff::Timestamp,
        force: bool,
    ) -> Result<Option<fengcun_ledger::SignedTreeHead>, StoreError> {
        self.sign_head(key, now, force).await
    }

    async fn tree_heads(&self) -> Result<Vec<String>, StoreError> {
        self.head_lines().await
    }

    async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<fengcun_ledger::Hash>, StoreError> {
        self.inclusion(index, size).await
    }

    async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<fengcun_ledger::Hash>, StoreError> {
        self.consistency(old, new).await
    }

    async fn verify_audit(
        &self,
        outside: &[String],
        key: Option<&fengcun_crypto::VerifyingKey>,
    ) -> Result<AuditReport, StoreError> {
        self.verify_log(outside, key.map(std::slice::from_ref).unwrap_or_default())
            .await
    }

    async fn verify_audit_with_keys(
        &self,
        outside: &[String],
        keys: &[fengcun_crypto::VerifyingKey],
    ) -> Result<AuditReport, StoreError> {
        self.verify_log(outside, keys).await
    }

    async fn register_signing_key(
        &self,
        key: &fengcun_crypto::VerifyingKey,
        key_id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.register_signer(key, key_id, now).await
    }

    async fn signing_keys(&self) -> Result<Vec<crate::audit::SigningKeyRow>, StoreError> {
        self.signers().await
    }

    async fn put_flags(&self, flags: &[crate::audit::FlagRow]) -> Result<usize, StoreError> {
        self.insert_flags(flags).await
    }

    async fn supervision_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.read_supervision_state().await
    }

    async fn put_supervision_state(
        &self,
        next_seq: u64,
        state: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write_supervision_state(next_seq, state, now).await
    }

    async fn flags(&self, open_only: bool) -> Result<Vec<crate::audit::FlagRow>, StoreError> {
        self.flag_rows(None, open_only).await
    }

    async fn flag(&self, id: &str) -> Result<Option<crate::audit::FlagRow>, StoreError> {
        Ok(self.flag_rows(Some(id), false).await?.pop())
    }

    async fn review_flag(
        &self,
        id: &str,
        by: &str,
        conclusion: &str,
        note: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.review(id, by, conclusion, note, audit, now).await
    }

    async fn open_flags_by_rule(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.open_by_rule().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::expect_used,
        clippy::unwrap_used,
        reason = "a test fails loudly on a broken fixture"
    )]

    use super::{AUTOMATIC, search_statement};
    use crate::audit::{AuditFilter, AuditKind};
    use crate::sql::SqlStore;
    use crate::testing::{fresh_urls, plan};
    use crate::{Backend, Keys, Store};

    /// The automatic transitions are the actor and the kind of nearly every entry, and the
    /// indexes by actor and by kind leave them out (migration 28): a search for any other actor
    /// or kind is read from its index, never by reading the log.
    #[tokio::test]
    async fn searches_by_another_actor_or_kind_read_the_partial_indexes() {
        for url in fresh_urls("audit_search_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            for (filter, index) in [
                (
                    AuditFilter {
                        actor: Some("auditor-1".into()),
                        limit: 50,
                        ..AuditFilter::default()
                    },
                    "audit_by_actor",
                ),
                (
                    AuditFilter {
                        kind: Some(AuditKind::Lookup),
                        limit: 50,
                        ..AuditFilter::default()
                    },
                    "audit_by_kind",
                ),
            ] {
                let (sql, params) = search_statement(&filter);
                let plan = plan(&store, &sql, params).await;
                assert!(
                    plan.iter().any(|step| match store.backend() {
                        Backend::Sqlite => step.contains(&format!("USING INDEX {index}")),
                        Backend::Postgres =>
                            step.contains(&format!("Index Scan Backward using {index}"))
                                || step.contains(&format!("Index Scan using {index}")),
                    }),
                    "{url} {filter:?}: {plan:#?}"
                );
            }
        }
    }

    #[test]
    fn the_automatic_actor_is_the_lifecycles() {
        assert_eq!(AUTOMATIC, fengcun_lifecycle::Actor::Automatic.label());
    }
}
