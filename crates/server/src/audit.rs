//! The audit log over HTTP: entries, signed tree heads (periodic and on demand), proofs, and the
//! public key that verifies heads and certificates.

use axum::Json;
use axum::extract::{Query, State};
use fengcun_ledger::Hash;
use fengcun_store::{AuditEvent, AuditKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::config::Role;
use crate::error::ApiError;

/// Who reads the log (entries, heads, proofs): auditors only. Its entries name whose records were
/// looked up and why, national-security reviews included.
const READERS: &[Role] = &[Role::Auditor];
/// Who signs a head now: auditors, and operators who run the platform (a head signs hashes only).
const SIGNERS: &[Role] = &[Role::Auditor, Role::Operator];
/// The most entries one read answers (the OpenAPI document's `maximum`).
const MAX_LIMIT: i64 = 1000;

/// Signs a head every `tree_head_interval_seconds` when the log grew, so that an outside party
/// fetching heads regularly holds one recent enough to catch a truncation. (One is signed at start,
/// before the server answers: a server restarted more often than the interval still signs.)
pub async fn sign_periodically(state: AppState) {
    let mut interval = crate::rounds(state.config.tree_head_interval_seconds);
    loop {
        interval.tick().await;
        sign_if_grown(&state).await;
    }
}

/// Signs a head if the log grew since the last one.
pub async fn sign_if_grown(state: &AppState) {
    match state
        .store
        .sign_tree_head(&state.signing, state.clock.now(), false)
        .await
    {
        Ok(Some(head)) => {
            tracing::info!(size = head.unverified_head().size(), "tree head signed")
        }
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "signing a tree head failed"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    #[serde(default)]
    from: u64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "read the audit log", READERS)
        .await?;
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: must be 1 to {MAX_LIMIT}, is {}",
            query.limit
        )));
    }
    let entries = state.store.audit_entries(query.from, query.limit).await?;
    // Reading the log is itself in the log (after the entries read, so never among them).
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "audit_entries")
        .detail(json!({"from": query.from, "limit": query.limit, "rows": entries.len()}));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(Json(json!({"entries": entries})))
}

pub async fn heads(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "read the audit log", READERS)
        .await?;
    let lines = state.store.tree_heads().await?;
    let heads: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok(Json(json!({"heads": heads, "lines": lines})))
}

/// Signs a head now (an auditor about to take one away).
pub async fn sign_now(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(&state, "sign a tree head", SIGNERS).await?;
    let head = state
        .store
        .sign_tree_head(&state.signing, state.clock.now(), true)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(json!({"line": head.to_json()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

fn hex(path: &[Hash]) -> Vec<String> {
    path.iter().map(Hash::to_hex).collect()
}

/// The inclusion proof in the shape `fengcun audit check` reads.
pub async fn inclusion(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "read the audit log", READERS)
        .await?;
    let entry = state
        .store
        .audit_entries(query.index, 1)
        .await?
        .into_iter()
        .find(|e| e.seq == query.index)
        .ok_or(ApiError::NotFound)?;
    let path = state
        .store
        .inclusion_proof(query.index, query.size)
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(json!({
        "proof": "inclusion", "index": query.index, "size": query.size,
        "leaf_hash": entry.leaf_hash, "path": hex(&path),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

pub async fn consistency(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "read the audit log", READERS)
        .await?;
    let path = state
        .store
        .consistency_proof(query.from, query.to)
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(json!({
        "proof": "consistency", "old_size": query.from, "new_size": query.to, "path": hex(&path),
    })))
}

/// The public key of the platform's signatures (tree heads, certificates): public, like
/// certificate verification, so that anyone can check what the platform signed.
pub async fn public_key(State(state): State<AppState>) -> String {
    state.signing.verifying_key().to_text()
}
