//! Records and their transitions in SQL: a person's records as a decision reads them, their rows
//! as a decision writes them (facts sealed with the record's key, state, policy), the
//! transitions with their sealed evidence, the policy versions that decided them and the one in
//! force, the records left for the scheduler to decide again, and the reads of [`RecordStore`].
//! Data access only: what a record becomes is `fengcun_lifecycle::decide`'s (`crate::decisions`).

use crate::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use fengcun_crypto::DataKey;
use fengcun_domain::{Date, Record, ValidEvent};
use fengcun_lifecycle::{State, StateCode};
use fengcun_policy::{Policy, Trigger};
use serde::Deserialize;
use serde_json::value::RawValue;
use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::keys;
use crate::records::RecordStore;
use crate::sql::rows::{
    Param, ROWS_PER_STATEMENT, TRANSITION_ACTOR, decode, decode_opt, list, person_bytes,
    person_hex, person_ref, placeholders, policy_columns, seconds, stored_time, ts,
};
use crate::sql::{SqlStore, Tx};
use crate::types::{Backend, Counts, RecordView, StateRow, TransitionView};
use crate::{NoticeStatus, RecordFilter, RecordPage, RecordTimeline, Stats};

/// A record's facts as its row keeps them: sealed in `records.facts`, or, when that is empty
/// ([`IN_EVIDENCE`]), once, in the evidence of the record's latest transition, which was taken on
/// these facts in the decision that wrote them ([`EVIDENCE_COLUMNS`] reads its id and evidence).
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredFacts {
    pub(crate) sealed: Option<Vec<u8>>,
    /// The latest transition's id and sealed evidence, read when `sealed` is empty.
    pub(crate) evidence: Option<(String, Vec<u8>)>,
}

/// What a decision writes to `records.facts` when a transition it writes in the same transaction
/// keeps the record's facts in its evidence: the facts are kept once, there.
pub(crate) const IN_EVIDENCE: &[u8] = b"";

/// For a query over `records r`, after its other columns: the id and the sealed evidence of the
/// record's latest transition when the record's facts are kept there (an empty `r.facts`); NULL
/// and NULL otherwise. Each is the last entry of `transitions_by_record` for the record.
pub(crate) const EVIDENCE_COLUMNS: &str = "CASE WHEN length(r.facts) = 0 THEN (SELECT t.transition_id FROM transitions t \
     WHERE t.case_code = r.case_code AND t.person = substr(r.person, 1, 16) ORDER BY t.seq DESC LIMIT 1) END, \
     CASE WHEN length(r.facts) = 0 THEN (SELECT t.reasons FROM transitions t \
     WHERE t.case_code = r.case_code AND t.person = substr(r.person, 1, 16) ORDER BY t.seq DESC LIMIT 1) END";

impl StoredFacts {
    /// From a row's `facts` and its [`EVIDENCE_COLUMNS`].
    pub(crate) fn new(
        sealed: Option<Vec<u8>>,
        transition_id: Option<Vec<u8>>,
        evidence: Option<Vec<u8>>,
    ) -> Self {
        Self {
            sealed,
            evidence: transition_id.map(|id| person_hex(&id)).zip(evidence),
        }
    }

    /// The facts in clear, as the decision that wrote them serialised them (byte for byte); `None`
    /// for a record that has none yet.
    pub(crate) fn open(
        &self,
        key: &DataKey,
        case_code: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.sealed {
            None => Ok(None),
            Some(sealed) if sealed.as_slice() == IN_EVIDENCE => {
                let corrupt =
                    |what: &str| StoreError::Corrupt(format!("facts of {case_code}: {what}"));
                let (transition_id, evidence) = self
                    .evidence
                    .as_ref()
                    .ok_or_else(|| corrupt("kept in a transition that is missing"))?;
                let plain = keys::open(key, evidence, &format!("transition/{transition_id}"))?;
                facts_of_evidence(&plain)
                    .map(|facts| Some(facts.to_vec()))
                    .ok_or_else(|| {
                        corrupt(&format!(
                            "not in the evidence of transition {transition_id}"
                        ))
                    })
            }
            Some(sealed) => keys::open(key, sealed, &format!("facts/{case_code}")).map(Some),
        }
    }
}

/// The evidence of a transition as a decision writes it: the date, the record's facts and, when
/// the transition has notices, everything they say (`notices`, the notice facts): sealed as one
/// payload, they are compressed together — the notices repeat the record's names, numbers and
/// agencies — and cost one nonce and tag (`compress::Dictionary::Transition1`; the notice facts were sealed
/// apart, in `transitions.notice_facts`, before, and such rows are read as they are).
pub(crate) fn evidence(as_of: Date, facts: &[u8], notices: Option<&[u8]>) -> Vec<u8> {
    let notices_len = notices.map_or(0, |n| n.len() + 12);
    let mut evidence = Vec::with_capacity(facts.len() + notices_len + 32);
    evidence.extend_from_slice(format!("{{\"as_of\":\"{as_of}\",\"facts\":").as_bytes());
    evidence.extend_from_slice(facts);
    if let Some(notices) = notices {
        evidence.extend_from_slice(b",\"notices\":");
        evidence.extend_from_slice(notices);
    }
    evidence.push(b'}');
    evidence
}

/// A transition's evidence ([`evidence`]) in its parts, each the bytes it was written as.
#[derive(Deserialize)]
pub(crate) struct EvidenceParts<'a> {
    #[serde(borrow)]
    pub facts: &'a RawValue,
    #[serde(borrow, default)]
    pub notices: Option<&'a RawValue>,
}

impl<'a> EvidenceParts<'a> {
    pub(crate) fn of(evidence: &'a [u8]) -> Option<Self> {
        serde_json::from_slice(evidence).ok()
    }
}

/// The record's facts in a transition's evidence ([`evidence`]), byte for byte as they were given.
pub(crate) fn facts_of_evidence(evidence: &[u8]) -> Option<&[u8]> {
    EvidenceParts::of(evidence).map(|parts| parts.facts.get().as_bytes())
}

/// One record of a person as a decision reads it: its row, and its facts once decrypted.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    /// `None` until the record's first decision.
    pub state: Option<State>,
    /// Whether the record has a row (with the state above, `new` for `None`): what a write
    /// changes in the counts of records by state (`tallies`).
    pub stored: bool,
    pub convicted: bool,
    pub facts: StoredFacts,
    pub wrapped: Vec<u8>,
    /// Decrypted facts, filled on first use.
    pub record: Option<Record>,
}

/// Every record of some persons, keyed by person, then case.
pub(crate) type PersonRows = HashMap<String, HashMap<String, Cached>>;

/// A record's row as a decision writes it: person key, case code, the values from its facts to
/// its state's trigger, and its wrapped data key.
#[derive(Debug)]
pub(crate) struct RecordRow {
    pub(crate) person_key: String,
    pub(crate) case_code: String,
    /// Facts, convicted, policy, policy version, state, state date, state trigger.
    pub(crate) values: [Param; 7],
    /// The record's data key, wrapped: written with a new record, kept by an existing one.
    pub(crate) wrapped: Vec<u8>,
    /// The record's list of events, sealed, when the batch brings it events (`events` keeps the
    /// list stored otherwise).
    pub(crate) events: Option<Vec<u8>>,
}

/// The (policy, version) a row to write names at `at` and `at + 1`, as text.
fn policy_of(values: &[Param], at: usize) -> (String, String) {
    let text = |value: Option<&Param>| match value {
        Some(Param::Text(Some(text))) => text.clone(),
        _ => String::new(),
    };
    (text(values.get(at)), text(values.get(at + 1)))
}

pub(crate) fn state_from_row(state: &str, date: Option<&str>, trigger: Option<&str>) -> State {
    let date: Option<Date> = date.and_then(|d| d.parse().ok());
    let trigger = trigger.and_then(Trigger::parse);
    match StateCode::parse(state) {
        Some(StateCode::Open) | None => State::Open,
        Some(StateCode::NotEligible) => State::NotEligible,
        Some(StateCode::PendingSeal) => State::PendingSeal { on: date },
        Some(StateCode::Sealed) => State::Sealed {
            since: date.unwrap_or(Date::MIN),
        },
        Some(StateCode::Unsealed) => State::Unsealed {
            trigger: trigger.unwrap_or(Trigger::NewConviction),
            since: date.unwrap_or(Date::MIN),
        },
        Some(StateCode::Revoked) => State::Revoked {
            since: date.unwrap_or(Date::MIN),
        },
    }
}

impl SqlStore {
    /// Every record of these persons, in one statement per 500 persons.
    pub(crate) async fn load_persons(
        &self,
        tx: &mut AnyConnection,
        person_keys: &[String],
    ) -> Result<PersonRows, StoreError> {
        let mut persons = PersonRows::default();
        for chunk in person_keys.chunks(500) {
            let sql = format!(
                "SELECT r.person, r.case_code, r.state, r.state_date, r.state_trigger, r.convicted, r.facts, r.data_key, {EVIDENCE_COLUMNS} \
                 FROM records r WHERE r.person IN ({})",
                list(self.positional(), chunk.len())
            );
            type Row = (
                Vec<u8>,
                String,
                String,
                Option<String>,
                Option<String>,
                i64,
                Option<Vec<u8>>,
                Vec<u8>,
                Option<Vec<u8>>,
                Option<Vec<u8>>,
            );
            let mut query = sqlx::query_as::<_, Row>(&sql);
            for key in chunk {
                query = query.bind(person_bytes(key));
            }
            for (
                person_key,
                case_code,
                state,
                date,
                trigger,
                convicted,
                facts,
                wrapped,
                transition_id,
                evidence,
            ) in query.fetch_all(&mut *tx).await?
            {
                let state = (state != "new")
                    .then(|| state_from_row(&state, date.as_deref(), trigger.as_deref()));
                persons.entry(person_hex(&person_key)).or_default().insert(
                    case_code,
                    Cached {
                        state,
                        stored: true,
                        convicted: convicted != 0,
                        facts: StoredFacts::new(facts, transition_id, evidence),
                        wrapped,
                        record: None,
                    },
                );
            }
        }
        Ok(persons)
    }

    pub(crate) async fn record_key(
        &self,
        tx: &mut AnyConnection,
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        let (wrapped,): (Vec<u8>,) =
            sqlx::query_as("SELECT data_key FROM records WHERE person = $1 AND case_code = $2")
                .bind(person_bytes(person_key))
                .bind(case_code)
                .fetch_one(&mut *tx)
                .await?;
        self.keys().record_key(&wrapped, person_key, case_code)
    }

    /// Writes records as one upsert per hundred. A record is only ever written under its stored
    /// data key: a row stored meanwhile under another key (a writer that decided without the
    /// person's lock) is left as it is and the batch refused, rather than its facts sealed under a
    /// key that is never stored.
    pub(crate) async fn write_records(
        &self,
        tx: &mut AnyConnection,
        records: &[RecordRow],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let now = seconds(now);
        let refs = self
            .policy_refs(tx, records.iter().map(|r| policy_of(&r.values, 2)))
            .await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            // The policy and the time as a number (migration 28): their text columns stay empty.
            let written = self
                .insert_chunk_with(
                    tx,
                    "INSERT INTO records (person, case_code, facts, convicted, policy, policy_version, state, state_date, state_trigger, \
                     data_key, updated_at, policy_ref, updated_s, events) VALUES",
                    "ON CONFLICT (person, case_code) DO UPDATE SET facts = excluded.facts, \
                     convicted = excluded.convicted, policy = excluded.policy, policy_version = excluded.policy_version, \
                     state = excluded.state, state_date = excluded.state_date, state_trigger = excluded.state_trigger, \
                     updated_at = excluded.updated_at, policy_ref = excluded.policy_ref, updated_s = excluded.updated_s, \
                     events = COALESCE(excluded.events, records.events) \
                     WHERE records.data_key = excluded.data_key",
                    chunk,
                    14,
                    |mut query, row| {
                        query = query
                            .bind(person_bytes(&row.person_key))
                            .bind(row.case_code.clone());
                        for (at, value) in row.values.iter().cloned().enumerate() {
                            query = match at {
                                2 | 3 => query.bind(None::<String>),
                                _ => value.bind(query),
                            };
                        }
                        let policy_ref = refs.get(&policy_of(&row.values, 2)).copied();
                        query
                            .bind(row.wrapped.clone())
                            .bind("")
                            .bind(policy_ref)
                            .bind(now)
                            .bind(row.events.as_deref())
                    },
                )
                .await?;
            let rows = chunk.len() as u64;
            if written != rows {
                return Err(StoreError::DataKeyChanged {
                    records: rows - written,
                });
            }
        }
        Ok(())
    }

    /// The numbers `policy_refs` keeps policy versions under (migration 28), by (name, version):
    /// read in the writing transaction, and given the first time a version decides a record.
    /// Never cached across transactions: a number given in one that is rolled back is not kept.
    pub(crate) async fn policy_refs(
        &self,
        tx: &mut AnyConnection,
        versions: impl Iterator<Item = (String, String)>,
    ) -> Result<HashMap<(String, String), i64>, StoreError> {
        let mut wanted: Vec<(String, String)> = versions.collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut refs = HashMap::with_capacity_and_hasher(wanted.len(), Default::default());
        for (name, version) in wanted {
            let find = || {
                sqlx::query_as::<_, (i64,)>(
                    "SELECT ref FROM policy_refs WHERE name = $1 AND version = $2",
                )
                .bind(name.clone())
                .bind(version.clone())
            };
            let found = match find().fetch_optional(&mut *tx).await? {
                Some((found,)) => found,
                None => {
                    sqlx::query(
                        "INSERT INTO policy_refs (name, version) VALUES ($1, $2) \
                         ON CONFLICT (name, version) DO NOTHING",
                    )
                    .bind(name.as_str())
                    .bind(version.as_str())
                    .execute(&mut *tx)
                    .await?;
                    find().fetch_one(&mut *tx).await?.0
                }
            };
            refs.insert((name, version), found);
        }
        Ok(refs)
    }

    /// Inserts transition rows (transition id, person key, case code, from, to, state date,
    /// trigger, rule, policy, policy version, actor, time in seconds, sealed evidence, sealed notice facts), a
    /// hundred to a statement; the sequence number each was given, by transition id (its notices
    /// name it).
    pub(crate) async fn insert_transitions(
        &self,
        tx: &mut AnyConnection,
        rows: Vec<[Param; 14]>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut seqs = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
        let refs = self
            .policy_refs(tx, rows.iter().map(|row| policy_of(row, 8)))
            .await?;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<[Param; 14]> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            // The policy as a number and the time in seconds (migration 28): their text columns
            // stay empty.
            let sql = format!(
                "INSERT INTO transitions (transition_id, person, case_code, from_state, to_state, state_date, state_trigger, rule, policy, \
                 policy_version, actor, at_s, reasons, notice_facts, at, policy_ref) VALUES {} RETURNING transition_id, seq",
                placeholders(self.positional(), chunk.len(), 16)
            );
            let mut query = sqlx::query_as::<_, (Vec<u8>, i64)>(&sql);
            for row in chunk {
                let policy_ref = refs.get(&policy_of(&row, 8)).copied();
                for (at, value) in row.into_iter().enumerate() {
                    query = match (at, value) {
                        (8 | 9, _) => query.bind(""),
                        // What the platform does by itself (`TRANSITION_ACTOR` reads it back).
                        (10, Param::Text(Some(actor))) if actor == "automatic" => query.bind(""),
                        (_, value) => value.bind_as(query),
                    };
                }
                query = query.bind("").bind(policy_ref);
            }
            seqs.extend(
                query
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(id, seq)| (person_hex(&id), seq)),
            );
        }
        Ok(seqs)
    }

    /// Keeps the policy that decided transitions, once per version; refuses a different document
    /// under a version already recorded (a changed policy needs a new version).
    pub(crate) async fn record_policy(
        &self,
        tx: &mut AnyConnection,
        policy: &fengcun_policy::Policy,
    ) -> Result<(), StoreError> {
        let stored: Option<(String,)> =
            sqlx::query_as("SELECT source_text FROM policies WHERE name = $1 AND version = $2")
                .bind(policy.name())
                .bind(policy.version())
                .fetch_optional(&mut *tx)
                .await?;
        match stored {
            Some((text,)) if text == policy.source_text => Ok(()),
            Some(_) => Err(StoreError::PolicyVersion {
                name: policy.name().to_owned(),
                version: policy.version().to_owned(),
            }),
            None => {
                sqlx::query(
                    "INSERT INTO policies (name, version, source_text) VALUES ($1, $2, $3)",
                )
                .bind(policy.name())
                .bind(policy.version())
                .bind(policy.source_text.as_str())
                .execute(&mut *tx)
                .await?;
                Ok(())
            }
        }
    }

    /// A record's transitions in order, with their evidence opened and the text of the policy
    /// version that took each.
    pub(crate) async fn transitions_by_key(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
    ) -> Result<Vec<TransitionView>, StoreError> {
        type Row = (
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
            Option<i64>,
            Vec<u8>,
            Vec<u8>,
        );
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT t.case_code, t.from_state, t.to_state, t.state_date, t.state_trigger, t.rule, {}, {TRANSITION_ACTOR}, t.at, t.at_s, \
             t.reasons, t.transition_id FROM transitions t WHERE t.person = $1 AND t.case_code = $2 ORDER BY t.seq",
            policy_columns("t")
        ))
        .bind(person_ref(person_key))
        .bind(case_code)
        .fetch_all(&mut **tx)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.record_key(tx, person_key, case_code).await?;
        // Each policy version's text, read once: the callers explain each transition under it
        // (`fengcun_policy::explain_recorded`).
        let mut policies: HashMap<(String, String), Arc<str>> = HashMap::default();
        let mut views = Vec::with_capacity(rows.len());
        for (
            case_code,
            from,
            to,
            date,
            trigger,
            rule,
            policy,
            policy_version,
            actor,
            at,
            at_s,
            evidence,
            transition_id,
        ) in rows
        {
            let at = stored_time("transitions.at", at, at_s)?;
            let transition_id = person_hex(&transition_id);
            let evidence = keys::open(&key, &evidence, &format!("transition/{transition_id}"))?;
            let mut evidence: serde_json::Value = serde_json::from_slice(&evidence)
                .map_err(|e| StoreError::Corrupt(format!("transition evidence: {e}")))?;
            // What the notices say is sealed with the evidence, not part of it.
            if let Some(parts) = evidence.as_object_mut() {
                parts.remove("notices");
            }
            let version = (policy.clone(), policy_version.clone());
            let policy_text = match policies.get(&version) {
                Some(text) => Arc::clone(text),
                None => {
                    let (text,): (String,) = sqlx::query_as(
                        "SELECT source_text FROM policies WHERE name = $1 AND version = $2",
                    )
                    .bind(policy.as_str())
                    .bind(policy_version.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
                    let text: Arc<str> = text.into();
                    policies.insert(version, Arc::clone(&text));
                    text
                }
            };
            views.push(TransitionView {
                case_code,
                from: decode_opt("transitions.from_state", from.as_deref(), StateCode::parse)?,
                to: decode("transitions.to_state", &to, StateCode::parse)?,
                date,
                trigger,
                rule,
                policy,
                policy_version,
                actor,
                at,
                evidence,
                policy_text,
            });
        }
        Ok(views)
    }

    /// Pending seals whose date has come on `today`, in key order.
    pub(crate) async fn records_due(
        &self,
        today: Date,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT person, case_code FROM records WHERE state = 'pending_seal' AND state_date IS NOT NULL AND state_date <= $1 \
             ORDER BY person, case_code",
        )
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(person, case_code)| (person_hex(&person), case_code))
            .collect())
    }

    /// Records a change to `policy` could not decide (`records_to_refresh`).
    pub(crate) async fn records_left_for(
        &self,
        policy: &Policy,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT person_key, case_code FROM records_to_refresh WHERE policy = $1 AND policy_version = $2",
        )
        .bind(policy.name())
        .bind(policy.version())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes a record off `records_to_refresh`.
    pub(crate) async fn forget_left_over(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM records_to_refresh WHERE person_key = $1 AND case_code = $2")
            .bind(person_key)
            .bind(case_code)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Lists a record in `records_to_refresh`, for the scheduler to decide again under `policy`.
    pub(crate) async fn leave_for_refresh(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        policy: &Policy,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO records_to_refresh (person_key, case_code, policy, policy_version, since) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (person_key, case_code) DO UPDATE SET policy = excluded.policy, policy_version = excluded.policy_version",
        )
        .bind(person_key)
        .bind(case_code)
        .bind(policy.name())
        .bind(policy.version())
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every record's person key, case code, stored facts and wrapped data key, in key order.
    pub(crate) async fn sealed_facts(
        &self,
    ) -> Result<Vec<(String, String, StoredFacts, Vec<u8>)>, StoreError> {
        type Row = (
            Vec<u8>,
            String,
            Option<Vec<u8>>,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT r.person, r.case_code, r.facts, r.data_key, {EVIDENCE_COLUMNS} FROM records r \
             ORDER BY r.person, r.case_code"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(person, case_code, facts, wrapped, transition_id, evidence)| {
                    (
                        person_hex(&person),
                        case_code,
                        StoredFacts::new(facts, transition_id, evidence),
                        wrapped,
                    )
                },
            )
            .collect())
    }

    /// Puts `policy` in force; what an earlier change left in `records_to_refresh` under another
    /// policy is forgotten (this change tried every record).
    pub(crate) async fn put_in_force(
        &self,
        tx: &mut Tx,
        policy: &Policy,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policy_in_force (id, name, version, source_text, since) VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, source_text = excluded.source_text, since = excluded.since",
        )
        .bind(policy.name())
        .bind(policy.version())
        .bind(policy.source_text.as_str())
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        // This change tried every record: what an earlier one left is decided or listed again.
        sqlx::query(
            "DELETE FROM records_to_refresh WHERE NOT (policy = $1 AND policy_version = $2)",
        )
        .bind(policy.name())
        .bind(policy.version())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn policy_in_force(&self) -> Result<Option<(String, String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, version, source_text FROM policy_in_force WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn record(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Option<RecordView>, StoreError> {
        let person_key = self.keys.person_key(identity);
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT r.state, r.state_date, r.state_trigger, {}, r.facts, r.data_key, {EVIDENCE_COLUMNS} \
             FROM records r WHERE r.person = $1 AND r.case_code = $2",
            policy_columns("r")
        ))
        .bind(person_bytes(&person_key))
        .bind(case_code)
        .fetch_optional(&self.pool)
        .await?;
        let Some((
            state,
            state_date,
            trigger,
            policy,
            policy_version,
            facts,
            wrapped,
            transition_id,
            evidence,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(RecordView {
            case_code: case_code.to_owned(),
            state: decode("records.state", &state, StateCode::parse)?,
            state_date,
            trigger,
            policy,
            policy_version,
            facts: self
                .decrypt_view(
                    &person_key,
                    case_code,
                    &wrapped,
                    StoredFacts::new(facts, transition_id, evidence),
                )
                .await?,
            // The transition that made the current state, with its evidence and policy text.
            transition: {
                let mut tx = self.pool.begin().await?;
                let transitions = self
                    .transitions_by_key(&mut tx, &person_key, case_code)
                    .await?;
                tx.rollback().await?;
                transitions.into_iter().last()
            },
        }))
    }

    async fn states(&self) -> Result<Vec<StateRow>, StoreError> {
        let rows: Vec<(Vec<u8>, String, String, Option<String>, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            &format!(
                "SELECT r.person, r.case_code, r.state, r.state_date, r.state_trigger, {} FROM records r \
                 ORDER BY r.person, r.case_code",
                policy_columns("r")
            ),
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(person, case_code, state, state_date, trigger, policy, policy_version)| {
                    Ok(StateRow {
                        state: decode("records.state", &state, StateCode::parse)?,
                        person_key: person_hex(&person),
                        case_code,
                        state_date,
                        trigger,
                        policy,
                        policy_version,
                    })
                },
            )
            .collect()
    }

    async fn events(&self) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError> {
        self.stored_events().await
    }

    async fn transitions(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Vec<TransitionView>, StoreError> {
        let person_key = self.keys.person_key(identity);
        let mut tx = self.pool.begin().await?;
        let views = self
            .transitions_by_key(&mut tx, &person_key, case_code)
            .await?;
        tx.rollback().await?;
        Ok(views)
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let events = self.events_stored().await?;
        let records_by_state = self.records_by_state().await?;
        let notices_by_status = self.notices_by_status().await?;
        let records_by_state = records_by_state
            .into_iter()
            .map(|(state, n)| Ok((decode("records.state", &state, StateCode::parse)?, n)))
            .collect::<Result<_, StoreError>>()?;
        let notices_by_status = notices_by_status
            .into_iter()
            .map(|(status, n)| Ok((decode("notices.status", &status, NoticeStatus::parse)?, n)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Counts {
            events,
            records_by_state,
            notices_by_status,
        })
    }

    async fn record_page(&self, filter: &RecordFilter) -> Result<RecordPage, StoreError> {
        self.read_record_page(filter).await
    }

    async fn timelines(
        &self,
        case_code: &str,
        held_by: Option<&str>,
    ) -> Result<Vec<RecordTimeline>, StoreError> {
        self.read_timelines(case_code, held_by).await
    }

    async fn recorded_policy(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_recorded_policy(name, version).await
    }

    async fn case_code_of_document(
        &self,
        agency: &str,
        document_number: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_case_code_of_document(agency, document_number)
            .await
    }

    async fn stats(&self, today: Date, now: jiff::Timestamp) -> Result<Stats, StoreError> {
        self.read_stats(today, now).await
    }
}

/// Puts `records`, `transitions` and `holdings` back as migrations 1–19 left them: the person key
/// as its lowercase hex in `person_key`, the transition id as its hex, their indexes as they were
/// (for tests of the upgrade).
pub(crate) async fn keys_as_before_migration_20(
    tx: &mut AnyConnection,
    backend: crate::types::Backend,
) -> Result<(), StoreError> {
    let sql = match backend {
        crate::types::Backend::Sqlite => {
            "CREATE TABLE records_v19 (person_key TEXT NOT NULL, case_code TEXT NOT NULL, state TEXT NOT NULL, \
             state_date TEXT, state_trigger TEXT, policy TEXT, policy_version TEXT, convicted INTEGER NOT NULL DEFAULT 0, \
             facts BLOB, data_key BLOB NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (person_key, case_code));
             INSERT INTO records_v19 SELECT lower(hex(person)), case_code, state, state_date, state_trigger, policy, \
             policy_version, convicted, facts, data_key, updated_at FROM records;
             DROP TABLE records;
             ALTER TABLE records_v19 RENAME TO records;
             CREATE INDEX records_by_state ON records (state);
             CREATE INDEX records_pending ON records (state_date) WHERE state = 'pending_seal';
             CREATE INDEX records_by_case ON records (case_code, person_key);
             CREATE TABLE transitions_v19 (seq INTEGER PRIMARY KEY AUTOINCREMENT, transition_id TEXT NOT NULL, \
             person_key TEXT NOT NULL, case_code TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, state_date TEXT, \
             state_trigger TEXT, rule TEXT, policy TEXT NOT NULL, policy_version TEXT NOT NULL, actor TEXT NOT NULL, \
             at TEXT NOT NULL, reasons BLOB NOT NULL, notice_facts BLOB);
             INSERT INTO transitions_v19 SELECT seq, lower(hex(transition_id)), lower(hex(person)), case_code, from_state, to_state, \
             state_date, state_trigger, rule, policy, policy_version, actor, at, reasons, notice_facts FROM transitions;
             DROP TABLE transitions;
             ALTER TABLE transitions_v19 RENAME TO transitions;
             CREATE INDEX transitions_by_record ON transitions (case_code, person_key, seq);
             CREATE TABLE holdings_v19 (agency_code TEXT NOT NULL, case_code TEXT NOT NULL, person_key TEXT NOT NULL, \
             PRIMARY KEY (agency_code, case_code, person_key)) WITHOUT ROWID;
             INSERT INTO holdings_v19 SELECT agency_code, case_code, lower(hex(person)) FROM holdings;
             DROP TABLE holdings;
             ALTER TABLE holdings_v19 RENAME TO holdings;
             DELETE FROM schema_version WHERE version >= 20;"
        }
        crate::types::Backend::Postgres => {
            "ALTER TABLE records ALTER COLUMN person TYPE TEXT USING encode(person, 'hex');
             ALTER TABLE records RENAME COLUMN person TO person_key;
             ALTER TABLE transitions ALTER COLUMN person TYPE TEXT USING encode(person, 'hex');
             ALTER TABLE transitions RENAME COLUMN person TO person_key;
             ALTER TABLE transitions ALTER COLUMN transition_id TYPE TEXT USING encode(transition_id, 'hex');
             ALTER TABLE holdings ALTER COLUMN person TYPE TEXT USING encode(person, 'hex');
             ALTER TABLE holdings RENAME COLUMN person TO person_key;
             DELETE FROM schema_version WHERE version >= 20;"
        }
    };
    sqlx::raw_sql(sql).execute(&mut *tx).await?;
    Ok(())
}

impl SqlStore {
    /// For tests of the upgrade: puts the person keys of `records`, `transitions` and `holdings`
    /// back in hex text as migrations 1–19 left them and sets `schema_version` back to 19, so that
    /// the next opening converts them again.
    #[doc(hidden)]
    pub async fn put_keys_back_as_before_migration_20(&self) -> Result<(), StoreError> {
        self.put_rows_back_as_before_migration_28().await?;
        let mut tx = self.begin_write().await?;
        keys_as_before_migration_20(&mut tx, self.backend).await?;
        tx.commit().await?;
        Ok(())
    }

    /// For tests of the upgrade: puts the records' lists of events back in a table of their own
    /// (`record_events`, keyed by the first 16 bytes of the person key), drops `records.events`
    /// and sets `schema_version` back to 28. Does nothing to a database without the column (a
    /// helper for an older migration calls it first).
    #[doc(hidden)]
    pub async fn put_lists_back_as_before_migration_29(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if !crate::schema::has_column(&mut tx, self.backend, "records", "events").await? {
            return Ok(());
        }
        let sql = match self.backend {
            Backend::Sqlite => {
                "CREATE TABLE record_events (person BLOB NOT NULL, case_code TEXT NOT NULL, \
                   body BLOB NOT NULL, PRIMARY KEY (person, case_code)) WITHOUT ROWID; \
                 INSERT INTO record_events (person, case_code, body) \
                   SELECT substr(person, 1, 16), case_code, events FROM records WHERE events IS NOT NULL; \
                 ALTER TABLE records DROP COLUMN events; \
                 DELETE FROM schema_version WHERE version >= 29;"
            }
            Backend::Postgres => {
                "CREATE TABLE record_events (person BYTEA NOT NULL, case_code TEXT NOT NULL, \
                   body BYTEA NOT NULL, PRIMARY KEY (person, case_code)); \
                 INSERT INTO record_events (person, case_code, body) \
                   SELECT substring(person FROM 1 FOR 16), case_code, events FROM records WHERE events IS NOT NULL; \
                 ALTER TABLE records DROP COLUMN events; \
                 DELETE FROM schema_version WHERE version >= 29;"
            }
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// For tests of the upgrade: writes the policy and time of every record and transition back
    /// as text and the actor of an automatic transition, the person keys of transitions and
    /// holdings in full, as the code before migration 28 wrote them, drops the numbers and seconds and
    /// `policy_refs`, and sets `schema_version` back to 27. Does nothing to a database without
    /// them (a helper for an older migration calls it first).
    #[doc(hidden)]
    pub async fn put_rows_back_as_before_migration_28(&self) -> Result<(), StoreError> {
        self.put_lists_back_as_before_migration_29().await?;
        let mut tx = self.begin_write().await?;
        if !crate::schema::has_column(&mut tx, self.backend, "records", "updated_s").await? {
            return Ok(());
        }
        let unguard = match self.backend {
            Backend::Sqlite => {
                "DROP TRIGGER IF EXISTS transitions_person_of_16_bytes; \
                 DROP TRIGGER IF EXISTS holdings_person_of_16_bytes;"
            }
            Backend::Postgres => {
                "ALTER TABLE transitions DROP CONSTRAINT IF EXISTS transitions_person_of_16_bytes; \
                 ALTER TABLE holdings DROP CONSTRAINT IF EXISTS holdings_person_of_16_bytes;"
            }
        };
        sqlx::raw_sql(unguard).execute(&mut *tx).await?;
        let time = |column: &str| match self.backend {
            Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%SZ', {column}, 'unixepoch')"),
            Backend::Postgres => format!(
                "to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
        };
        let sql = format!(
            "UPDATE records SET policy = (SELECT p.name FROM policy_refs p WHERE p.ref = records.policy_ref), \
               policy_version = (SELECT p.version FROM policy_refs p WHERE p.ref = records.policy_ref) \
               WHERE policy_ref IS NOT NULL AND (policy IS NULL OR policy = ''); \
             UPDATE records SET updated_at = {} WHERE updated_s IS NOT NULL AND updated_at = ''; \
             UPDATE transitions SET policy = (SELECT p.name FROM policy_refs p WHERE p.ref = transitions.policy_ref), \
               policy_version = (SELECT p.version FROM policy_refs p WHERE p.ref = transitions.policy_ref) \
               WHERE policy_ref IS NOT NULL AND policy = ''; \
             UPDATE transitions SET at = {} WHERE at_s IS NOT NULL AND at = ''; \
             UPDATE transitions SET actor = 'automatic' WHERE actor = ''; \
             UPDATE transitions SET person = (SELECT r.person FROM records r \
               WHERE r.case_code = transitions.case_code AND substr(r.person, 1, 16) = transitions.person) \
               WHERE length(person) = 16; \
             UPDATE holdings SET person = (SELECT r.person FROM records r \
               WHERE r.case_code = holdings.case_code AND substr(r.person, 1, 16) = holdings.person) \
               WHERE length(person) = 16; \
             ALTER TABLE records DROP COLUMN policy_ref; ALTER TABLE records DROP COLUMN updated_s; \
             ALTER TABLE transitions DROP COLUMN policy_ref; ALTER TABLE transitions DROP COLUMN at_s; \
             DROP TABLE policy_refs; DELETE FROM schema_version WHERE version >= 28;",
            time("updated_s"),
            time("at_s")
        );
        sqlx::raw_sql(&sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// For tests of the upgrade: seals each transition's notice facts apart again, in
    /// `transitions.notice_facts` under `notices/<id>`, and its evidence without them, as the code
    /// before [`crate::compress::Dictionary::Transition1`] wrote them. Returns how many
    /// transitions it changed.
    #[doc(hidden)]
    pub async fn put_notice_facts_apart_as_before(&self) -> Result<u64, StoreError> {
        type Row = (i64, Vec<u8>, Vec<u8>, String, Vec<u8>, Vec<u8>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT t.seq, t.transition_id, r.person, t.case_code, t.reasons, r.data_key \
             FROM transitions t JOIN records r ON r.case_code = t.case_code AND substr(r.person, 1, 16) = t.person \
             WHERE t.notice_facts IS NULL ORDER BY t.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for (seq, transition_id, person, case_code, sealed, wrapped) in rows {
            let transition_id = person_hex(&transition_id);
            let key = self
                .keys
                .record_key(&wrapped, &person_hex(&person), &case_code)?;
            let plain = keys::open(&key, &sealed, &format!("transition/{transition_id}"))?;
            let corrupt = || StoreError::Corrupt(format!("evidence of {transition_id}"));
            let parts = EvidenceParts::of(&plain).ok_or_else(corrupt)?;
            let Some(notices) = parts.notices else {
                continue;
            };
            let as_of: Date = serde_json::from_slice::<serde_json::Value>(&plain)
                .ok()
                .and_then(|v| v["as_of"].as_str()?.parse().ok())
                .ok_or_else(corrupt)?;
            let alone = evidence(as_of, parts.facts.get().as_bytes(), None);
            sqlx::query("UPDATE transitions SET reasons = $1, notice_facts = $2 WHERE seq = $3")
                .bind(keys::seal(
                    &key,
                    &alone,
                    &format!("transition/{transition_id}"),
                ))
                .bind(keys::seal(
                    &key,
                    notices.get().as_bytes(),
                    &format!("notices/{transition_id}"),
                ))
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        tx.commit().await?;
        Ok(changed)
    }
}
