//! The read side of a record's life, as services the JSON handlers (`crate::api::records`) and the
//! console call alike: who may read, the audit entry of each read, masking, and each transition's
//! rule-by-rule explanation — derived by the pure policy engine from the evidence the transition
//! sealed (facts and date) and the policy version that decided it (table `policies`).

use std::collections::{BTreeMap, HashMap};

use fengcun_access::{Purpose, RequesterKind};
use fengcun_domain::Date;
use fengcun_lifecycle::StateCode;
use fengcun_policy::{Policy, Trigger, evaluate};
use fengcun_store::{
    AuditEvent, AuditKind, RecordFilter, RecordKey, RecordSummary, RecordTimeline, StoreError,
    TransitionEntry,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::config::Role;
use crate::mask;
use crate::service::{Caller, ServiceError};

/// Who lists records and reads the numbers: operators, and auditors (监督/审计), who supervise.
pub const SUPERVISORS: &[Role] = &[Role::Operator, Role::Auditor];
/// Records a page lists when the caller does not say.
pub const DEFAULT_PAGE: i64 = 50;
/// The most records one page lists.
pub const MAX_PAGE: i64 = 200;
/// The purpose an operator reads a timeline for (running the platform: deliveries, schedules);
/// a clerk reads for one of the disclosure purposes (`case_handling`, …).
pub const OPERATIONS: &str = "operations";

/// The list's filters, as the query string gives them (checked by [`list`]).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub state: Option<String>,
    pub due_before: Option<String>,
    pub agency: Option<String>,
    pub policy_version: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The person a record is about, masked: `张某`, `1101**********0025`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MaskedPerson {
    pub name: Option<String>,
    pub id_number: Option<String>,
}

/// One record of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordItem {
    pub case_code: String,
    /// `open`, `not_eligible`, `pending_seal`, `sealed`, `unsealed` or `revoked`.
    pub state: String,
    /// The state's date: when a pending seal is due or a seal took effect, when a seal was lifted.
    pub state_date: Option<String>,
    /// What lifted a seal (`new_conviction`, …), for an unsealed or revoked record.
    pub trigger: Option<String>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    /// When the record last changed.
    pub updated_at: String,
    pub person: MaskedPerson,
}

/// A page of records; `next_cursor` asks for the next page, absent on the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordList {
    pub records: Vec<RecordItem>,
    pub next_cursor: Option<String>,
}

/// An event of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EventItem {
    pub kind: String,
    /// The sending agency's code and kind.
    pub agency: String,
    pub agency_kind: String,
    /// The agency's own document number (案号, 文书号), if the event gave one.
    pub document_number: Option<String>,
    /// When it happened.
    pub date: String,
    /// When the platform received it.
    pub received_at: String,
}

/// One reason of a decision: a rule, whether it held, in Chinese, with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReasonItem {
    pub rule: String,
    pub holds: bool,
    pub text: String,
    pub basis: String,
    /// The facts that were missing, where the rule could not be decided.
    pub missing: Vec<String>,
}

/// The policy's unsealing rule that lifted a seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnsealItem {
    pub rule: String,
    pub trigger: String,
    pub text: String,
    pub basis: String,
}

/// A change of state, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TransitionItem {
    pub from: Option<String>,
    pub to: String,
    /// The date the new state takes effect.
    pub date: Option<String>,
    /// When it was decided.
    pub at: String,
    /// `automatic` (the policy, by the platform) or the operator who acted.
    pub actor: String,
    pub policy: String,
    pub policy_version: String,
    /// What lifted a seal (`new_conviction`, …) and its name in Chinese (再犯新罪, …).
    pub trigger: Option<String>,
    pub trigger_text: Option<String>,
    /// The unsealing rule, for a seal lifted.
    pub unseal: Option<UnsealItem>,
    /// The date the decision was taken on and its outcome under the policy.
    pub as_of: String,
    pub outcome: String,
    pub effective_date: Option<String>,
    /// Every rule of the policy, in order: held or not, why, on what legal basis.
    pub reasons: Vec<ReasonItem>,
}

/// A notice of a record and its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoticeItem {
    pub notice_id: String,
    /// `seal` or `unseal`.
    pub kind: String,
    /// An agency code, or `person`.
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered: bool,
    pub delivered_at: Option<String>,
    pub acknowledged: bool,
    pub acknowledged_at: Option<String>,
}

/// One record of a case and its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordLife {
    pub person: MaskedPerson,
    /// What the record is: `criminal` (a conviction: 犯罪记录), `non_conviction` (a case still
    /// open, an acquittal, a non-prosecution, a withdrawn case: 涉罪记录, never called a criminal
    /// record) or `violation` (治安违法记录).
    pub designation: String,
    pub state: String,
    pub state_date: Option<String>,
    pub trigger: Option<String>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    pub events: Vec<EventItem>,
    pub transitions: Vec<TransitionItem>,
    pub notices: Vec<NoticeItem>,
}

/// A case's records (those the caller may read), each with its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Timeline {
    pub case_code: String,
    pub records: Vec<RecordLife>,
}

/// The numbers a supervisor watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsView {
    /// The date the counts are taken on (China), and the time.
    pub today: String,
    pub now: String,
    pub records_by_state: BTreeMap<String, i64>,
    /// Records each agency holds (sent at least one of their events).
    pub records_by_agency: BTreeMap<String, i64>,
    /// Pending seals due within 7 (30) days of today, those overdue included.
    pub seals_due_7_days: i64,
    pub seals_due_30_days: i64,
    /// Agency notices not acknowledged 3 (7) days after they were made.
    pub notices_unacknowledged_after_3_days: i64,
    pub notices_unacknowledged_after_7_days: i64,
    /// Agency notices that ran out of delivery attempts.
    pub failed_deliveries: i64,
    pub pending_requests: i64,
    pub live_grants: i64,
}

fn invalid(message: String) -> ServiceError {
    ServiceError::Invalid(message)
}

/// A short code from the query (an agency code, a policy version): printable ASCII, no spaces.
fn code_field(field: &str, value: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(value) = value else { return Ok(None) };
    if value.is_empty() || value.len() > 64 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(format!(
            "{field}: must be 1 to 64 printable ASCII characters without spaces"
        )));
    }
    Ok(Some(value))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cursor names the last record of a page (case code, person key), opaque to the caller.
fn cursor_of(key: &RecordKey) -> String {
    hex(format!("{}\n{}", key.case_code, key.person_key).as_bytes())
}

fn parse_cursor(text: &str) -> Result<RecordKey, ServiceError> {
    let bad = || invalid("cursor: not a cursor this API gave (next_cursor)".into());
    if !text.len().is_multiple_of(2) || text.len() > 512 {
        return Err(bad());
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, ServiceError>>()?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (case_code, person_key) = text.split_once('\n').ok_or_else(bad)?;
    Ok(RecordKey {
        case_code: case_code.to_owned(),
        person_key: person_key.to_owned(),
    })
}

fn masked(person: &fengcun_store::PersonShown) -> MaskedPerson {
    MaskedPerson {
        name: person.name.as_deref().map(mask::name),
        id_number: person.id_number.as_deref().map(mask::id_number),
    }
}

fn item(record: RecordSummary) -> RecordItem {
    RecordItem {
        person: masked(&record.person),
        case_code: record.case_code,
        state: record.state,
        state_date: record.state_date,
        trigger: record.trigger,
        policy: record.policy,
        policy_version: record.policy_version,
        updated_at: record.updated_at,
    }
}

/// `GET /api/v1/records`: a page of records, identities masked; audited as a `read`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: ListQuery,
) -> Result<RecordList, ServiceError> {
    caller.require(state, "list records", SUPERVISORS).await?;
    let record_state = query
        .state
        .map(|code| {
            StateCode::parse(&code)
                .map(|_| code.clone())
                .ok_or_else(|| {
                    invalid(format!(
                        "state: `{code}` is none of {}",
                        StateCode::ALL.map(StateCode::code).join(", ")
                    ))
                })
        })
        .transpose()?;
    let due_before = query
        .due_before
        .as_deref()
        .map(|d| {
            fengcun_domain::date::parse_date(d)
                .map_err(|e| invalid(format!("due_before: {e} (YYYY-MM-DD)")))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(invalid(format!(
            "limit: must be 1 to {MAX_PAGE}, is {limit}"
        )));
    }
    let filter = RecordFilter {
        state: record_state,
        due_before,
        agency: code_field("agency", query.agency)?,
        policy_version: code_field("policy_version", query.policy_version)?,
        after: query.cursor.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let page = state.store.record_page(&filter).await?;
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "records").detail(json!({
        "state": filter.state,
        "due_before": filter.due_before.map(|d| d.to_string()),
        "agency": filter.agency,
        "policy_version": filter.policy_version,
        "after": filter.after.as_ref().map(|k| &k.case_code),
        "limit": limit,
        "rows": page.records.len(),
    }));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(RecordList {
        next_cursor: page.next.as_ref().map(cursor_of),
        records: page.records.into_iter().map(item).collect(),
    })
}

/// A timeline's declared purpose: `operations` or one of the disclosure purposes.
fn checked_purpose(purpose: Option<&str>) -> Result<String, ServiceError> {
    match purpose {
        None => Err(invalid("purpose: required".into())),
        Some(code) if code == OPERATIONS || Purpose::parse(code).is_some() => Ok(code.to_owned()),
        Some(code) => Err(invalid(format!(
            "purpose: `{code}` is none of {OPERATIONS}, {}",
            Purpose::ALL.map(Purpose::code).join(", ")
        ))),
    }
}

/// Which records of a case the caller may read: an operator all, a clerk those its agency sent an
/// event of; anyone else none — answered as a case that does not exist.
enum Reader {
    All,
    HeldBy(String),
    Nobody,
}

fn reader(caller: &Caller) -> Reader {
    match (caller.role, &caller.agency) {
        (Role::Operator, _) => Reader::All,
        (Role::Clerk, Some(agency)) => Reader::HeldBy(agency.clone()),
        _ => Reader::Nobody,
    }
}

/// `GET /api/v1/records/{case_code}`: the case's records the caller may read, each with every
/// event, transition (explained rule by rule) and notice. Every read is a `lookup` entry with its
/// purpose, whatever its answer; a case the caller may not read is not found, exactly as one that
/// does not exist.
pub async fn timeline(
    state: &AppState,
    caller: &Caller,
    case_code: &str,
    purpose: Option<&str>,
) -> Result<Timeline, ServiceError> {
    let purpose = checked_purpose(purpose)?;
    let case_code = fengcun_domain::CaseCode::parse(case_code)
        .map_err(|e| invalid(format!("case_code: {e}")))?
        .to_string();
    let lives = match reader(caller) {
        Reader::All => state.store.timelines(&case_code, None).await?,
        Reader::HeldBy(agency) => state.store.timelines(&case_code, Some(&agency)).await?,
        Reader::Nobody => Vec::new(),
    };
    let outcome = if lives.is_empty() {
        "no_record"
    } else {
        "timeline"
    };
    // Whom the caller asks as, so that the person's list of who looked withholds a case-handling
    // read as the withholding rules say (a clerk has no kind of its own: its agency's).
    let requester_kind = match (caller.kind, &caller.agency) {
        (Some(kind), _) => Some(kind),
        (None, Some(agency)) => super::requester_of_agency_code(state, agency).await?,
        (None, None) => None,
    };
    // Whose records were behind the seal when read: a holding agency reads its own sealed
    // records without a grant, and the person's list of who looked must say a sealed record was
    // shown (it once said so only of reads under a grant).
    let today = fengcun_domain::date::china_date(state.clock.now());
    let sealed_for: Vec<&str> = lives
        .iter()
        .filter(|life| {
            fengcun_lifecycle::sealed_on(
                &life.record.state,
                life.record.state_date.as_deref(),
                today,
            )
        })
        .map(|life| life.record.person_key.as_str())
        .collect();
    let entry = AuditEvent::new(AuditKind::Lookup, &caller.name, outcome)
        .purpose(purpose.as_str())
        .subject(format!("case:{case_code}"))
        .detail(json!({
            "by": "case_code",
            "view": "timeline",
            "role": caller.role.code(),
            "requester_kind": requester_kind.map(RequesterKind::code),
            "agency": caller.agency,
            "shown": lives.len(),
            "sealed_for": sealed_for,
        }));
    let entry = lives.iter().fold(entry, |entry, life| {
        entry.concerning(life.record.person_key.clone())
    });
    state.store.audit(&[entry], state.clock.now()).await?;
    if lives.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let mut policies = Policies::default();
    let mut records = Vec::with_capacity(lives.len());
    for life in lives {
        records.push(record_life(state, &mut policies, life).await?);
    }
    Ok(Timeline { case_code, records })
}

/// A case found by an agency's own document number (案号, 文书号): the number is mapped to its
/// case code (一案一码) and the case's timeline read as [`timeline`] reads it, with its audit entry.
/// A number never mapped is a `lookup` entry of its own and not found — exactly the answer a case
/// the caller may not read gets, so the answer tells nothing of whether the number exists.
pub async fn timeline_by_document(
    state: &AppState,
    caller: &Caller,
    agency: &str,
    document_number: &str,
    purpose: Option<&str>,
) -> Result<Timeline, ServiceError> {
    let checked = checked_purpose(purpose)?;
    let agency = code_field("agency", Some(agency.trim().to_owned()))?.unwrap_or_default();
    let document = document_number.trim();
    if document.is_empty()
        || document.chars().count() > 100
        || document.chars().any(char::is_control)
    {
        return Err(invalid(
            "document_number: must be 1 to 100 characters without control characters".into(),
        ));
    }
    match state.store.case_code_of_document(&agency, document).await? {
        Some(case_code) => timeline(state, caller, &case_code, purpose).await,
        None => {
            let entry = AuditEvent::new(AuditKind::Lookup, &caller.name, "no_record")
                .purpose(checked.as_str())
                .subject(format!("document:{agency}/{document}"))
                .detail(json!({
                    "by": "document_number",
                    "view": "timeline",
                    "role": caller.role.code(),
                    "agency": caller.agency,
                    "shown": 0,
                }));
            state.store.audit(&[entry], state.clock.now()).await?;
            Err(ServiceError::NotFound)
        }
    }
}

/// The policy versions a timeline's transitions were decided under, each loaded once.
#[derive(Default)]
pub(crate) struct Policies(HashMap<(String, String), Policy>);

impl Policies {
    pub(crate) async fn get(
        &mut self,
        state: &AppState,
        name: &str,
        version: &str,
    ) -> Result<&Policy, ServiceError> {
        let key = (name.to_owned(), version.to_owned());
        if !self.0.contains_key(&key) {
            let text = state
                .store
                .recorded_policy(name, version)
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("policy {name} {version} is not recorded"))
                })?;
            let policy = Policy::from_toml(&format!("recorded policy {name} {version}"), &text)
                .map_err(|e| {
                    StoreError::Corrupt(format!("recorded policy {name} {version}: {e}"))
                })?;
            self.0.insert(key.clone(), policy);
        }
        self.0
            .get(&key)
            .ok_or_else(|| ServiceError::Store(StoreError::Corrupt("policy cache".into())))
    }
}

/// What a record is called, from the facts its last decision was taken on (or, before any, its
/// events): a conviction, a violation, or a record without a conviction.
fn designation(life: &RecordTimeline) -> &'static str {
    let facts = life.transitions.last().map(|t| &t.facts);
    let violation = facts.is_some_and(|f| f.is_violation())
        || life.events.iter().any(|e| {
            fengcun_domain::event::EventKind::parse(&e.kind).is_some_and(|k| k.is_violation())
        });
    if violation {
        "violation"
    } else if facts.is_some_and(|f| f.disposition == fengcun_domain::Disposition::Convicted) {
        "criminal"
    } else {
        "non_conviction"
    }
}

pub(crate) async fn record_life(
    state: &AppState,
    policies: &mut Policies,
    life: RecordTimeline,
) -> Result<RecordLife, ServiceError> {
    let mut transitions = Vec::with_capacity(life.transitions.len());
    for transition in &life.transitions {
        let policy = policies
            .get(state, &transition.policy, &transition.policy_version)
            .await?;
        transitions.push(explain(policy, transition));
    }
    Ok(RecordLife {
        designation: designation(&life).to_owned(),
        person: masked(&life.record.person),
        state: life.record.state,
        state_date: life.record.state_date,
        trigger: life.record.trigger,
        policy: life.record.policy,
        policy_version: life.record.policy_version,
        events: life
            .events
            .into_iter()
            .map(|e| EventItem {
                kind: e.kind,
                agency: e.agency_code,
                agency_kind: e.agency_kind,
                document_number: e.document_number,
                date: e.date,
                received_at: e.received_at,
            })
            .collect(),
        transitions,
        notices: life
            .notices
            .into_iter()
            .map(|n| NoticeItem {
                delivered: n.delivered_at.is_some(),
                acknowledged: n.acknowledged_at.is_some(),
                notice_id: n.notice_id,
                kind: n.kind,
                recipient: n.recipient,
                status: n.status,
                attempts: n.attempts,
                last_error: n.last_error,
                created_at: n.created_at,
                delivered_at: n.delivered_at,
                acknowledged_at: n.acknowledged_at,
            })
            .collect(),
    })
}

/// A transition explained: the policy that decided it evaluated again on the facts and date it
/// sealed (the engine is pure, so this is the decision as it was made), and the unsealing rule
/// that lifted a seal.
pub fn explain(policy: &Policy, transition: &TransitionEntry) -> TransitionItem {
    let decision = evaluate(policy, &transition.facts, transition.as_of);
    let view = decision.view(policy, &transition.facts);
    let unseal = transition
        .rule
        .as_deref()
        .and_then(|id| policy.unseals.iter().find(|u| u.id == id))
        .map(|u| UnsealItem {
            rule: u.id.clone(),
            trigger: u.trigger.code().to_owned(),
            text: u.text.clone(),
            basis: u.basis.clone(),
        });
    TransitionItem {
        from: transition.from.clone(),
        to: transition.to.clone(),
        date: transition.date.clone(),
        at: transition.at.clone(),
        actor: transition.actor.clone(),
        policy: transition.policy.clone(),
        policy_version: transition.policy_version.clone(),
        trigger_text: transition
            .trigger
            .as_deref()
            .and_then(Trigger::parse)
            .map(|t| t.chinese().to_owned()),
        trigger: transition.trigger.clone(),
        unseal,
        as_of: transition.as_of.to_string(),
        outcome: view.outcome.to_owned(),
        effective_date: view.effective_date.clone(),
        reasons: view
            .reasons
            .iter()
            .map(|r| ReasonItem {
                rule: r.rule.to_owned(),
                holds: r.holds,
                text: r.text.clone(),
                basis: r.basis.to_owned(),
                missing: r.missing.iter().map(|m| (*m).to_owned()).collect(),
            })
            .collect(),
    }
}

/// `GET /api/v1/stats`: the supervisor's numbers, each an indexed count; audited as a `read`.
pub async fn stats(state: &AppState, caller: &Caller) -> Result<StatsView, ServiceError> {
    caller
        .require(state, "read statistics", SUPERVISORS)
        .await?;
    let now = state.clock.now();
    let today: Date = fengcun_domain::date::china_date(now);
    let stats = state.store.stats(today, now).await?;
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "stats")
        .detail(json!({"today": today.to_string()}));
    state.store.audit(&[read], now).await?;
    Ok(view(today, now, stats))
}

/// How old the dashboard's numbers may grow before a view has them counted again.
pub const SNAPSHOT_SECONDS: u64 = 30;

/// The dashboard's numbers, shared by every view of one server: counting records by state and by
/// agency reads every row of an index (a second or so at a million people), too slow for a page
/// every official opens first. A view is answered from the last count while it is younger than
/// [`SNAPSHOT_SECONDS`] (and of the same day); an older one is still answered at once while one
/// background task counts again; only the first view (or the first of a new day) waits. The page
/// says when the numbers were counted. `GET /api/v1/stats` always counts.
#[derive(Debug, Default)]
pub struct StatsSnapshot {
    last: std::sync::Mutex<Option<Snapshot>>,
    counting: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone)]
struct Snapshot {
    taken: std::time::Instant,
    today: Date,
    now: jiff::Timestamp,
    stats: fengcun_store::Stats,
}

impl StatsSnapshot {
    fn last(&self) -> Option<Snapshot> {
        self.last.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn keep(&self, snapshot: Snapshot) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(snapshot);
        }
    }
}

/// The dashboard's numbers: [`stats`]'s role check and `read` entry (with the time the numbers
/// were counted), the numbers from the server's [`StatsSnapshot`].
pub async fn dashboard_stats(state: &AppState, caller: &Caller) -> Result<StatsView, ServiceError> {
    caller
        .require(state, "read statistics", SUPERVISORS)
        .await?;
    let now = state.clock.now();
    let today: Date = fengcun_domain::date::china_date(now);
    let snapshot = match state.dashboard.last() {
        Some(last) if last.today == today => {
            let stale = last.taken.elapsed().as_secs() >= SNAPSHOT_SECONDS;
            if stale
                && !state
                    .dashboard
                    .counting
                    .swap(true, std::sync::atomic::Ordering::AcqRel)
            {
                let state = state.clone();
                tokio::spawn(async move {
                    match state.store.stats(today, now).await {
                        Ok(stats) => state.dashboard.keep(Snapshot {
                            taken: std::time::Instant::now(),
                            today,
                            now,
                            stats,
                        }),
                        Err(error) => tracing::warn!(%error, "dashboard numbers not counted"),
                    }
                    state
                        .dashboard
                        .counting
                        .store(false, std::sync::atomic::Ordering::Release);
                });
            }
            last
        }
        _ => {
            let snapshot = Snapshot {
                taken: std::time::Instant::now(),
                today,
                now,
                stats: state.store.stats(today, now).await?,
            };
            state.dashboard.keep(snapshot.clone());
            snapshot
        }
    };
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "stats").detail(json!({
        "today": today.to_string(),
        "view": "dashboard",
        "counted_at": snapshot.now.to_string(),
    }));
    state.store.audit(&[read], now).await?;
    Ok(view(snapshot.today, snapshot.now, snapshot.stats))
}

fn view(today: Date, now: jiff::Timestamp, stats: fengcun_store::Stats) -> StatsView {
    StatsView {
        today: today.to_string(),
        now: now.to_string(),
        records_by_state: stats.records_by_state.into_iter().collect(),
        records_by_agency: stats.records_by_agency.into_iter().collect(),
        seals_due_7_days: stats.seals_due_7_days,
        seals_due_30_days: stats.seals_due_30_days,
        notices_unacknowledged_after_3_days: stats.unacknowledged_after_3_days,
        notices_unacknowledged_after_7_days: stats.unacknowledged_after_7_days,
        failed_deliveries: stats.failed_deliveries,
        pending_requests: stats.pending_requests,
        live_grants: stats.live_grants,
    }
}
