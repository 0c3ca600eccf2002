//! Running the platform (operators): the policy in force and its change, the scheduler and the
//! outbox on demand, the metrics.

use fengcun_lifecycle::Actor;
use fengcun_policy::{Policy, presets};
use fengcun_store::RecordFailure;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Result, ServiceError};
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyInForce {
    /// The policy's TOML document.
    pub document: String,
    pub name: String,
    pub title: String,
    pub version: String,
}

/// The policy in force.
pub async fn policy_in_force(state: &AppState, caller: &Caller) -> Result<PolicyInForce> {
    caller.require_operator(state, "read the policy").await?;
    let policy = state.policy.read().await.clone();
    Ok(PolicyInForce {
        document: policy.source_text.clone(),
        name: policy.name().to_owned(),
        title: policy.meta.title.clone(),
        version: policy.version().to_owned(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChangeRequest {
    /// A shipped policy by name …
    pub name: Option<String>,
    /// … or a policy document.
    pub document: Option<String>,
    /// Put it in force (else a preview).
    #[serde(default)]
    pub apply: bool,
}

/// A record that could not be decided: it stays as it was, the failure is audited
/// (refresh_failed) and the scheduler tries it again at its next round.
#[derive(Debug, Serialize, ToSchema)]
pub struct Failure {
    pub case_code: String,
    /// The kind of error: crypto, corrupt, database, invalid, …
    pub error: String,
    pub person_key: String,
}

impl From<&RecordFailure> for Failure {
    fn from(f: &RecordFailure) -> Self {
        Failure {
            case_code: f.case_code.clone(),
            error: f.error.clone(),
            person_key: f.person_key.clone(),
        }
    }
}

/// What another policy changes (or changed): every record re-evaluated.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyChange {
    pub applied: bool,
    /// Pending seals that would be cancelled (no longer eligible).
    pub cancelled: Vec<String>,
    /// Records that could not be decided under the new policy.
    pub failures: Vec<Failure>,
    /// Records that would become pending seal.
    pub pending: Vec<String>,
    pub policy: String,
    pub records: usize,
    /// Records that would be (or were) newly sealed now.
    pub sealed: Vec<String>,
    /// Sealed records the new policy would not seal (a policy change does not lift a seal).
    pub sealed_no_longer_eligible: Vec<String>,
    pub version: String,
}

/// Previews or applies another policy: every record is re-evaluated and the difference reported.
pub async fn change_policy(
    state: &AppState,
    caller: &Caller,
    request: PolicyChangeRequest,
) -> Result<PolicyChange> {
    caller.require_operator(state, "change the policy").await?;
    let policy = candidate(request.name.as_deref(), request.document.as_deref())?;
    refuse_a_changed_version(state, &policy, request.name.is_some()).await?;
    let ctx = state.context(Actor::Operator(caller.name.clone())).await;
    let report = state
        .store
        .change_policy(&policy, &ctx, request.apply)
        .await?;
    if request.apply {
        *state.policy.write().await = std::sync::Arc::new(policy);
        crate::scheduler::count_failures(state, &report.failures);
        tracing::info!(operator = %caller.name, policy = %report.policy, version = %report.version, failures = report.failures.len(), "policy put in force");
    }
    Ok(PolicyChange {
        applied: report.applied,
        cancelled: report.cancelled,
        failures: report.failures.iter().map(Failure::from).collect(),
        pending: report.pending,
        policy: report.policy,
        records: report.records,
        sealed: report.sealed,
        sealed_no_longer_eligible: report.sealed_no_longer_eligible,
        version: report.version,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerRun {
    /// The records that could not be decided.
    pub failures: Vec<Failure>,
    /// How many transitions the round made.
    pub transitions: usize,
}

/// Makes due pending seals take effect now.
pub async fn run_scheduler(state: &AppState, caller: &Caller) -> Result<SchedulerRun> {
    caller.require_operator(state, "run the scheduler").await?;
    let report = crate::scheduler::run_once(state).await?;
    Ok(SchedulerRun {
        failures: report.failures.iter().map(Failure::from).collect(),
        transitions: report.transitions.len(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxRun {
    /// How many notices were delivered.
    pub delivered: usize,
}

/// Delivers up to a hundred notices due now, without waiting for the outbox's next round (an
/// operator retrying after an agency's endpoint came back).
pub async fn run_outbox(state: &AppState, caller: &Caller) -> Result<OutboxRun> {
    caller.require_operator(state, "run the outbox").await?;
    // Five claims (a hundred notices) at most: an operator's request returns in bounded time;
    // the timer takes the rest.
    let delivered = crate::outbox::deliver_due(state, &crate::outbox::client(), 5).await?;
    Ok(OutboxRun { delivered })
}

/// The Prometheus exposition of the metrics (operators).
pub async fn metrics(state: &AppState, caller: &Caller) -> Result<String> {
    caller.require_operator(state, "read metrics").await?;
    let counts = state.store.counts().await?;
    let mut text = state.metrics.render(&counts);
    // Open supervision flags by rule (docs/supervision.md), every rule listed, 0 included.
    let open = state.store.open_flags_by_rule().await?;
    text.push_str("# HELP fengcun_supervision_open_flags Supervision flags not reviewed yet, by rule.\n# TYPE fengcun_supervision_open_flags gauge\n");
    for rule in &state.supervision.rules.rules {
        let n = open
            .iter()
            .find(|(r, _)| *r == rule.id)
            .map_or(0, |(_, n)| *n);
        text.push_str(&format!(
            "fengcun_supervision_open_flags{{rule=\"{}\"}} {n}\n",
            rule.id
        ));
    }
    Ok(text)
}

/// A policy as a lawyer reads it: what it is, under what instrument, each rule with its legal
/// basis and what it requires, each waiting period (the TOML document beside it).
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyReading {
    pub name: String,
    pub version: String,
    pub title: String,
    pub summary: String,
    pub jurisdiction: String,
    pub source: String,
    pub instrument: Option<String>,
    pub effective_from: Option<String>,
    pub rules: Vec<ReadingRule>,
    pub timings: Vec<ReadingRule>,
    pub document: String,
}

/// A rule or a waiting period: its title, basis and text.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingRule {
    pub id: String,
    pub title: String,
    pub basis: String,
    pub text: String,
}

impl From<&Policy> for PolicyReading {
    fn from(policy: &Policy) -> Self {
        PolicyReading {
            name: policy.name().to_owned(),
            version: policy.version().to_owned(),
            title: policy.meta.title.clone(),
            summary: policy.meta.summary.clone(),
            jurisdiction: policy.meta.jurisdiction.clone(),
            source: policy.meta.source.clone(),
            instrument: policy.meta.instrument.clone(),
            effective_from: policy
                .meta
                .effective_from
                .map(fengcun_domain::date::chinese_date),
            rules: policy
                .rules
                .iter()
                .map(|r| ReadingRule {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    basis: r.basis.clone(),
                    text: r.holds.clone(),
                })
                .collect(),
            timings: policy
                .timings
                .iter()
                .map(|t| ReadingRule {
                    id: t.id.clone(),
                    title: t.id.clone(),
                    basis: t.basis.clone(),
                    text: t.text.clone(),
                })
                .collect(),
            document: policy.source_text.clone(),
        }
    }
}

/// The policy in force, as a lawyer reads it (operators).
pub async fn policy_reading(state: &AppState, caller: &Caller) -> Result<PolicyReading> {
    caller.require_operator(state, "read the policy").await?;
    let policy = state.policy.read().await.clone();
    Ok(PolicyReading::from(policy.as_ref()))
}

/// A shipped policy by name, or a policy document, as a lawyer reads it (operators: before
/// previewing its impact).
pub async fn read_candidate(
    state: &AppState,
    caller: &Caller,
    name: Option<&str>,
    document: Option<&str>,
) -> Result<PolicyReading> {
    caller.require_operator(state, "read the policy").await?;
    let policy = candidate(name, document)?;
    Ok(PolicyReading::from(&policy))
}

/// A policy version is one document for good: the records it decided are explained from its
/// text. A changed document under a version already recorded is refused before it is previewed
/// or put in force — otherwise it would be shown in force while every record it decides fails
/// to be decided under it (`policy_version`), seen only in the log.
async fn refuse_a_changed_version(state: &AppState, policy: &Policy, named: bool) -> Result<()> {
    let recorded = state
        .store
        .recorded_policy(policy.name(), policy.version())
        .await?;
    match recorded {
        Some(text) if text != policy.source_text => {
            let field = if named { "name" } else { "document" };
            Err(ServiceError::Invalid(format!(
                "{field}: {} version {} is recorded with a different document: a changed policy needs a new `version`",
                policy.name(),
                policy.version()
            )))
        }
        _ => Ok(()),
    }
}

fn candidate(name: Option<&str>, document: Option<&str>) -> Result<Policy> {
    let policy = candidate_of_any_kind(name, document)?;
    // The policy put in force here decides criminal records; violation records are decided by
    // the art. 136 preset, in force beside it (docs/disclosure.md). Putting a violation policy in
    // its place would take every criminal record out of scope.
    if policy.meta.records != fengcun_domain::RecordKind::Criminal {
        let field = if name.is_some() { "name" } else { "document" };
        return Err(ServiceError::Invalid(format!(
            "{field}: `{}` decides {} records; the policy changed here decides criminal records \
             (violation records are decided by `{}`, in force beside it)",
            policy.name(),
            policy.meta.records.code(),
            fengcun_store::VIOLATION_PRESET
        )));
    }
    Ok(policy)
}

fn candidate_of_any_kind(name: Option<&str>, document: Option<&str>) -> Result<Policy> {
    match (name, document) {
        (Some(name), None) => presets::get(name)
            .cloned()
            .ok_or_else(|| ServiceError::Invalid(format!("name: no shipped policy `{name}`"))),
        (None, Some(document)) => Policy::from_toml("request", document)
            .map_err(|e| ServiceError::Invalid(format!("document: {e}"))),
        _ => Err(ServiceError::Invalid(
            "name: give `name` or `document`".into(),
        )),
    }
}

/// A policy put in force, from the audit log's `policy_changed` entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyInForceSince {
    pub at: String,
    pub actor: String,
    pub policy: String,
    pub version: String,
    pub records: u64,
}

/// The policies put in force, newest first (operators; the read is audited).
pub async fn policy_history(state: &AppState, caller: &Caller) -> Result<Vec<PolicyInForceSince>> {
    caller
        .require_operator(state, "read the policy history")
        .await?;
    let filter = fengcun_store::AuditFilter {
        kind: Some(fengcun_store::AuditKind::PolicyChanged),
        limit: 100,
        ..fengcun_store::AuditFilter::default()
    };
    let entries = state.store.audit_search(&filter).await?;
    let read = fengcun_store::AuditEvent::new(
        fengcun_store::AuditKind::Read,
        &caller.name,
        "policy_history",
    )
    .detail(serde_json::json!({"rows": entries.len()}));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            PolicyInForceSince {
                at: e.at,
                actor: e.actor,
                policy: detail["policy"].as_str().unwrap_or_default().to_owned(),
                version: detail["version"].as_str().unwrap_or_default().to_owned(),
                records: detail["records"].as_u64().unwrap_or_default(),
            }
        })
        .collect())
}

/// How many records of one main charge (the first of the record's charges) a policy change
/// touches, by kind of change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeImpact {
    pub charge: String,
    pub sealed: usize,
    pub pending: usize,
    pub cancelled: usize,
    pub sealed_no_longer_eligible: usize,
}

/// The change of a policy (previewed or applied) by main charge, most records first: each
/// changed record's facts read by its case code. Operators only, as the change itself.
pub async fn change_by_charge(
    state: &AppState,
    caller: &Caller,
    change: &PolicyChange,
) -> Result<Vec<ChargeImpact>> {
    caller.require_operator(state, "change the policy").await?;
    let mut counts: std::collections::BTreeMap<String, [usize; 4]> = Default::default();
    let kinds = [
        &change.sealed,
        &change.pending,
        &change.cancelled,
        &change.sealed_no_longer_eligible,
    ];
    for (kind, cases) in kinds.into_iter().enumerate() {
        for label in cases {
            // The report names a record `CASE/PERSON-KEY-PREFIX` (a case may have several persons).
            let (case, person) = label.split_once('/').unwrap_or((label, ""));
            let records = state
                .store
                .records_of(None, Some(case), &|_, _, _| true)
                .await?;
            let mut charge = "—".to_owned();
            if let Some(record) = records.iter().find(|r| r.person_key.starts_with(person))
                && let Some(facts) = super::disclosure::stored_record(record)?
                && let Some(first) = super::disclosure::offence_names(&facts).into_iter().next()
            {
                charge = first;
            }
            counts.entry(charge).or_default()[kind] += 1;
        }
    }
    let mut rows: Vec<ChargeImpact> = counts
        .into_iter()
        .map(
            |(charge, [sealed, pending, cancelled, no_longer])| ChargeImpact {
                charge,
                sealed,
                pending,
                cancelled,
                sealed_no_longer_eligible: no_longer,
            },
        )
        .collect();
    let total = |r: &ChargeImpact| r.sealed + r.pending + r.cancelled + r.sealed_no_longer_eligible;
    rows.sort_by(|a, b| {
        total(b)
            .cmp(&total(a))
            .then_with(|| a.charge.cmp(&b.charge))
    });
    Ok(rows)
}
