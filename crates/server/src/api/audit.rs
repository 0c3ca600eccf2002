//! The audit log over HTTP (docs/audit.md).

use axum::Json;
use axum::extract::{Query, State};

use super::{Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::audit::{
    self, ConsistencyProof, ConsistencyQuery, Entries, EntriesQuery, Heads, InclusionProof,
    InclusionQuery, PublishedKeys, SignedHead,
};

/// Audit entries in log order (auditor); the read is itself an entry
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(EntriesQuery),
    responses((status = 200, description = "Entries in log order, from `after`", body = Entries), Errors))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<Entries>, ApiError> {
    super::json(audit::entries(&state, &caller, &query).await)
}

/// Every signed tree head (auditor): `lines` are what `fengcun audit verify --against` reads
#[utoipa::path(get, path = "/api/v1/audit/heads", tag = "audit",
    responses((status = 200, description = "Every signed tree head, parsed and as its line", body = Heads), Errors))]
pub async fn heads(State(state): State<AppState>, caller: Caller) -> Result<Json<Heads>, ApiError> {
    super::json(audit::heads(&state, &caller).await)
}

/// Sign a tree head now (auditor, operator)
#[utoipa::path(post, path = "/api/v1/audit/heads", tag = "audit",
    responses((status = 200, description = "The head signed now", body = SignedHead), NotFound, Errors))]
pub async fn sign_now(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SignedHead>, ApiError> {
    super::json(audit::sign_now(&state, &caller).await)
}

/// Inclusion proof of an entry in the tree of a head's size (RFC 9162 §2.1.3; auditor)
#[utoipa::path(get, path = "/api/v1/audit/proofs/inclusion", tag = "audit", params(InclusionQuery),
    responses((status = 200, description = "check with `fengcun audit check`", body = InclusionProof), NotFound, Errors))]
pub async fn inclusion(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    super::json(audit::inclusion(&state, &caller, &query).await)
}

/// Consistency proof between two tree sizes (RFC 9162 §2.1.4; auditor)
#[utoipa::path(get, path = "/api/v1/audit/proofs/consistency", tag = "audit", params(ConsistencyQuery),
    responses((status = 200, description = "The proof, as `fengcun audit check` reads it", body = ConsistencyProof), Errors))]
pub async fn consistency(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    super::json(audit::consistency(&state, &caller, &query).await)
}

/// The public key of tree heads and certificates (PEM; public)
#[utoipa::path(get, path = "/api/v1/public-key", tag = "audit", security(()),
    responses((status = 200, description = "PEM text", body = String, content_type = "text/plain")))]
pub async fn public_key(State(state): State<AppState>) -> String {
    audit::public_key(&state)
}

/// Every signing key, past and present, with its validity (public)
#[utoipa::path(get, path = "/api/v1/signing-keys", tag = "audit", security(()),
    responses((status = 200, description = "the keys, oldest first", body = PublishedKeys), Errors))]
pub async fn signing_keys(State(state): State<AppState>) -> Result<Json<PublishedKeys>, ApiError> {
    super::json(audit::keys(&state).await)
}
