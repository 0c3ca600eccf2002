//! The OpenAPI 3.1 document served at `/api/openapi.json`. Written as data next to the routes it
//! describes; a test checks that every route is in it.

use serde_json::{Value, json};

pub const PATHS: &[(&str, &str)] = &[
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/api/openapi.json", "get"),
    ("/api/v1/events", "post"),
    ("/api/v1/events/batch", "post"),
    ("/api/v1/notices", "get"),
    ("/api/v1/notices/{id}/ack", "post"),
    ("/api/v1/policy", "get"),
    ("/api/v1/policy", "post"),
    ("/api/v1/scheduler/run", "post"),
    ("/api/v1/outbox/run", "post"),
    ("/api/v1/notices/{id}/retry", "post"),
    ("/api/v1/audit/entries", "get"),
    ("/api/v1/audit/heads", "get"),
    ("/api/v1/audit/heads", "post"),
    ("/api/v1/audit/proofs/inclusion", "get"),
    ("/api/v1/audit/proofs/consistency", "get"),
    ("/api/v1/public-key", "get"),
    ("/api/v1/session", "post"),
    ("/api/v1/session", "get"),
    ("/api/v1/session", "delete"),
    ("/api/v1/users", "get"),
    ("/api/v1/users", "post"),
    ("/api/v1/users/{username}/disable", "post"),
    ("/api/v1/users/{username}/enable", "post"),
    ("/api/v1/session/password", "post"),
    ("/api/v1/keys", "get"),
    ("/api/v1/keys", "post"),
    ("/api/v1/keys/{id}", "delete"),
    ("/api/v1/lookups", "post"),
    ("/api/v1/requests", "get"),
    ("/api/v1/requests", "post"),
    ("/api/v1/requests/{id}/approve", "post"),
    ("/api/v1/requests/{id}/refuse", "post"),
    ("/api/v1/grants", "get"),
    ("/api/v1/grants/{id}", "delete"),
    ("/api/v1/certificates", "post"),
    ("/api/v1/certificates/{number}", "get"),
    ("/api/v1/certificates/{number}/page", "get"),
    ("/api/v1/verify", "post"),
    ("/verify", "get"),
    ("/api/v1/records", "get"),
    ("/api/v1/records/{case_code}", "get"),
    ("/api/v1/stats", "get"),
];

fn error_responses() -> Value {
    json!({
        "401": {"description": "No or unknown key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "403": {"description": "The key's role may not do this", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "422": {"description": "Invalid input: JSON that fails validation, a query value out of range; the message names the line and field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "400": {"description": "A body that is not JSON, or a query string that does not parse", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "415": {"description": "A request body without `Content-Type: application/json`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    })
}

pub fn document() -> Value {
    let errors = error_responses();
    let with_errors = |mut responses: Value| {
        if let (Some(target), Some(extra)) = (responses.as_object_mut(), errors.as_object()) {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        responses
    };
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fengcun 封存 — minor-criminal-record sealing platform",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Agencies submit case events; records are sealed and unsealed automatically under the policy in force; every agency holding a record is notified; look-ups, penetration requests and certificates follow the disclosure table (docs/disclosure.md). Every endpoint except /healthz, login and certificate verification needs `Authorization: Bearer <key>` or a console session (cookie, with X-CSRF-Token on changes)."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "enum": ["unauthenticated", "forbidden", "throttled", "csrf", "too_large", "unsupported_media_type", "invalid", "not_found", "conflict", "internal"]},
                    "message": {"type": "string"},
                    "line": {"type": ["integer", "null"], "description": "The batch line the error is about"}}},
                "Event": {"type": "object", "required": ["idempotency_key", "kind", "date", "agency", "person"],
                    "description": "See docs/events.md for every kind and its fields.",
                    "properties": {
                        "idempotency_key": {"type": "string", "maxLength": 200},
                        "kind": {"type": "string", "enum": ["filed", "investigation", "arrest_approved", "arrest_refused", "case_withdrawn", "indicted", "not_prosecuted", "judgment", "judgment_effective", "execution_started", "execution_completed", "probation_completed", "correction"]},
                        "date": {"type": "string", "format": "date"},
                        "case_code": {"type": "string", "pattern": "^[0-9]{6}-[0-9]{4}-[0-9]{6,10}$"},
                        "agency": {"type": "object", "required": ["kind", "code"], "properties": {
                            "kind": {"type": "string", "enum": ["public_security", "procuratorate", "court", "prison", "community_correction", "state_security"]},
                            "code": {"type": "string"}, "name": {"type": "string"}}},
                        "document_number": {"type": "string"},
                        "person": {"type": "object", "properties": {"id_number": {"type": "string"}, "document_type": {"type": "string"}, "document_number": {"type": "string"}, "name": {"type": "string"}, "birth_date": {"type": "string", "format": "date"}}},
                        "charges": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "article": {"type": "string"}, "culpability": {"type": "string", "enum": ["intentional", "negligent"]}}}},
                        "offence_date": {"type": "string", "format": "date"},
                        "ground": {"type": "string", "enum": ["statutory", "discretionary", "insufficient_evidence", "conditional"]},
                        "prior_convictions": {"type": "integer", "minimum": 0, "description": "not_prosecuted only: convictions before this case"},
                        "judgment": {"type": "object", "required": ["instance", "verdict"]},
                        "corrects": {"type": "string"},
                        "replacement": {"$ref": "#/components/schemas/Event"},
                        "reason": {"type": "string"}}},
                "PolicyChange": {"type": "object", "properties": {
                    "policy": {"type": "string"}, "version": {"type": "string"}, "applied": {"type": "boolean"}, "records": {"type": "integer"},
                    "sealed": {"type": "array", "items": {"type": "string"}}, "pending": {"type": "array", "items": {"type": "string"}},
                    "cancelled": {"type": "array", "items": {"type": "string"}}, "sealed_no_longer_eligible": {"type": "array", "items": {"type": "string"}},
                    "failures": {"type": "array", "items": {"$ref": "#/components/schemas/RecordFailure"}}}},
                "RecordFailure": {"type": "object", "description": "A record that could not be decided: it stays as it was, the failure is audited (refresh_failed) and the scheduler tries it again at its next round",
                    "properties": {"case_code": {"type": "string"}, "person_key": {"type": "string"}, "error": {"type": "string", "description": "the kind of error: crypto, corrupt, database, invalid, …"}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {"summary": "Ready when the database answers", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (operator)", "responses": with_errors(json!({"200": {"description": "text/plain exposition format"}}))}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": with_errors(json!({"200": {"description": "OpenAPI 3.1"}}))}},
            "/api/v1/events": {"post": {"summary": "Submit one event",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                "responses": with_errors(json!({"201": {"description": "stored"}, "200": {"description": "the same event was stored before"}, "409": {"description": "the sending agency used the idempotency key for a different event"}}))}},
            "/api/v1/events/batch": {"post": {"summary": "Submit up to 10,000 events atomically: all are stored or none is",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}}}},
                "responses": with_errors(json!({"200": {"description": "every line stored or a duplicate; `results` per line"}, "409": {"description": "a line reuses a key for a different event; nothing stored"}}))}},
            "/api/v1/notices": {"get": {"summary": "Sealing and unsealing notices: an operator sees every one with the person masked (张某, 1101**********0025), an agency those addressed to it in full; every read is audited",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "retrying", "delivered", "failed", "acknowledged", "available"]}},
                    {"name": "case_code", "in": "query", "schema": {"type": "string"}},
                    {"name": "unacknowledged", "in": "query", "schema": {"type": "boolean"}}],
                "responses": with_errors(json!({"200": {"description": "notices"}}))}},
            "/api/v1/notices/{id}/ack": {"post": {"summary": "Acknowledge a delivered notice with its token (the agency it is addressed to)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}}}},
                "responses": with_errors(json!({"200": {"description": "acknowledged"}, "404": {"description": "unknown notice, wrong token, or another agency's notice"}}))}},
            "/api/v1/notices/{id}/retry": {"post": {"summary": "Put a failed notice back in the outbox for one more attempt, due now (operator)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": with_errors(json!({"200": {"description": "retrying"}, "404": {"description": "no failed agency notice with this number"}}))}},
            "/api/v1/policy": {
                "get": {"summary": "The policy in force (operator)", "responses": with_errors(json!({"200": {"description": "name, version, document"}}))},
                "post": {"summary": "Preview or apply another policy (operator): every record is re-evaluated and the difference reported",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}, "document": {"type": "string"}, "apply": {"type": "boolean"}}}}}},
                    "responses": with_errors(json!({"200": {"description": "the difference", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PolicyChange"}}}}}))}},
            "/api/v1/scheduler/run": {"post": {"summary": "Make due pending seals take effect now (operator)", "responses": with_errors(json!({"200": {"description": "how many transitions, and the records that could not be decided",
                "content": {"application/json": {"schema": {"type": "object", "properties": {"transitions": {"type": "integer"}, "failures": {"type": "array", "items": {"$ref": "#/components/schemas/RecordFailure"}}}}}}}}))}},
            "/api/v1/outbox/run": {"post": {"summary": "Deliver up to 100 notices due now, without waiting for the outbox's next round (operator)", "responses": with_errors(json!({"200": {"description": "how many were delivered"}}))}}
        }
    });
    let more = [
        audit_paths(&with_errors),
        identity_paths(&with_errors),
        disclosure_paths(&with_errors),
    ];
    if let Some(paths) = document["paths"].as_object_mut() {
        for extra in more {
            if let Value::Object(extra) = extra {
                paths.extend(extra);
            }
        }
    }
    // The read side of a record's life: derived from its handlers and types (utoipa).
    let (paths, schemas) = crate::records_api::openapi();
    if let (Some(target), Value::Object(extra)) = (document["paths"].as_object_mut(), paths) {
        target.extend(extra);
    }
    if let (Some(target), Value::Object(extra)) =
        (document["components"]["schemas"].as_object_mut(), schemas)
    {
        target.extend(extra);
    }
    document
}

/// The audit log's endpoints (docs/audit.md).
fn audit_paths(with_errors: &dyn Fn(Value) -> Value) -> Value {
    let size = |name: &str, what: &str| json!({"name": name, "in": "query", "required": true, "schema": {"type": "integer", "minimum": 0}, "description": what});
    json!({
        "/api/v1/audit/entries": {"get": {"summary": "Audit entries in log order (auditor); the read is itself an entry",
            "parameters": [{"name": "from", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "description": "out of range: 422"}],
            "responses": with_errors(json!({"200": {"description": "entries: seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash"}}))}},
        "/api/v1/audit/heads": {
            "get": {"summary": "Every signed tree head (auditor): `lines` are what `fengcun audit verify --against` reads", "responses": with_errors(json!({"200": {"description": "heads"}}))},
            "post": {"summary": "Sign a tree head now (auditor, operator)", "responses": with_errors(json!({"200": {"description": "the new head's line"}}))}},
        "/api/v1/audit/proofs/inclusion": {"get": {"summary": "Inclusion proof of an entry in the tree of a head's size (RFC 9162 §2.1.3; auditor)",
            "parameters": [size("index", "the entry"), size("size", "the tree size (a signed head's)")],
            "responses": with_errors(json!({"200": {"description": "{proof, index, size, leaf_hash, path}; check with `fengcun audit check`"}}))}},
        "/api/v1/audit/proofs/consistency": {"get": {"summary": "Consistency proof between two tree sizes (RFC 9162 §2.1.4; auditor)",
            "parameters": [size("from", "the earlier size"), size("to", "the later size")],
            "responses": with_errors(json!({"200": {"description": "{proof, old_size, new_size, path}"}}))}},
        "/api/v1/public-key": {"get": {"summary": "The public key of tree heads and certificates (PEM; public)", "security": [],
            "responses": {"200": {"description": "PEM text"}}}}
    })
}

fn body(properties: Value, required: &[&str]) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": required, "properties": properties}}}})
}

fn path_id(name: &str) -> Value {
    json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}])
}

/// Users, sessions and keys (docs/disclosure.md §Identities).
fn identity_paths(with_errors: &dyn Fn(Value) -> Value) -> Value {
    let string = json!({"type": "string"});
    json!({
        "/api/v1/session": {
            "post": {"summary": "Log in (public): sets the HttpOnly session cookie and answers the CSRF token to send as X-CSRF-Token with every change", "security": [],
                "requestBody": body(json!({"username": string, "password": string}), &["username", "password"]),
                "responses": with_errors(json!({"200": {"description": "username, role, requester_kind, csrf_token, expires_at"}, "429": {"description": "too many wrong logins for this username: locked for Retry-After seconds", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}))},
            "get": {"summary": "Who the caller is", "responses": with_errors(json!({"200": {"description": "name, role, agency, requester_kind"}}))},
            "delete": {"summary": "Log out", "responses": with_errors(json!({"204": {"description": "the session ended"}}))}},
        "/api/v1/session/password": {"post": {"summary": "Change one's own password (a logged-in console user; throttled with the username's logins): every session of the user's ends and a new one is opened, as at login",
            "requestBody": body(json!({"current_password": string, "new_password": {"type": "string", "minLength": 12}}), &["current_password", "new_password"]),
            "responses": with_errors(json!({"200": {"description": "username, role, requester_kind, csrf_token, expires_at; a new session cookie"}, "429": {"description": "too many wrong passwords for this username: locked for Retry-After seconds", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}))}},
        "/api/v1/users": {
            "get": {"summary": "Users (administrator, auditor)", "responses": with_errors(json!({"200": {"description": "users, without password hashes"}}))},
            "post": {"summary": "Create a user (administrator); argon2id password hash. An agency user needs `agency`; operators, auditors and administrators take no `requester_kind`. A person's account (requester_kind person) is refused (403): it is enrolled with `fengcun user enrol-person`",
                "requestBody": body(json!({"username": string, "password": string, "role": {"type": "string", "enum": ["agency", "operator", "auditor", "clerk", "approver", "administrator", "requester"]}, "requester_kind": string, "agency": string}), &["username", "password", "role"]),
                "responses": with_errors(json!({"201": {"description": "the user"}, "409": {"description": "the username exists"}}))}},
        "/api/v1/users/{username}/disable": {"post": {"summary": "Disable a user and end their sessions (administrator)", "parameters": path_id("username"),
            "responses": with_errors(json!({"200": {"description": "the user"}, "404": {"description": "no such user"}}))}},
        "/api/v1/users/{username}/enable": {"post": {"summary": "Let a disabled user log in again (administrator); their old sessions do not come back", "parameters": path_id("username"),
            "responses": with_errors(json!({"200": {"description": "the user"}, "404": {"description": "no such user"}, "409": {"description": "the user is not disabled"}}))}},
        "/api/v1/keys": {
            "get": {"summary": "Stored API keys, never their secrets (administrator, auditor)", "responses": with_errors(json!({"200": {"description": "keys"}}))},
            "post": {"summary": "Make an API key for an agency system (administrator), owned by an enabled user (approvals compare owners): the secret is in this answer only",
                "requestBody": body(json!({"name": string, "role": string, "requester_kind": string, "agency": string, "owner": string}), &["name", "role", "owner"]),
                "responses": with_errors(json!({"201": {"description": "key and secret"}}))}},
        "/api/v1/keys/{id}": {"delete": {"summary": "Revoke a key (administrator)", "parameters": path_id("id"),
            "responses": with_errors(json!({"200": {"description": "revoked"}, "404": {"description": "no such live key"}}))}}
    })
}

/// Look-ups, penetration requests, grants and certificates (docs/disclosure.md).
fn disclosure_paths(with_errors: &dyn Fn(Value) -> Value) -> Value {
    let string = json!({"type": "string"});
    let purpose = json!({"type": "string", "enum": ["case_handling", "national_security_review", "special_post_vetting", "certificate", "self_inspection"]});
    // Free-text bounds: docs/disclosure.md, "Limits" (crates/server/src/limits.rs).
    let text =
        |min: usize, max: usize| json!({"type": "string", "minLength": min, "maxLength": max});
    let decision = body(
        json!({"reason": text(4, 1000), "days": {"type": "integer", "minimum": 1, "description": "approval only; at most the disclosure table's grant_days (the default)"}}),
        &["reason"],
    );
    json!({
        "/api/v1/lookups": {"post": {"summary": "Records of a person or case as the caller may see them; without a covering grant a sealed record is answered as one that does not exist",
            "requestBody": body(json!({"purpose": purpose, "post": text(1, 64), "id_number": string, "case_code": string, "basis": text(4, 200)}), &["purpose"]),
            "responses": with_errors(json!({"200": {"description": "{answer: no_right | no_record | records, message: 无权查询 | 查无记录 | 查询结果, records}"}}))}},
        "/api/v1/requests": {
            "get": {"summary": "Penetration requests: every one for approvers and auditors, one's own otherwise",
                "parameters": [{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "approved", "refused", "withdrawn"]}}],
                "responses": with_errors(json!({"200": {"description": "requests, each with `person` {name, id_number}: in full for an approver, masked (张某, 1101**********0025) for others"}}))},
            "post": {"summary": "Ask to see a person's sealed records, with the legal basis",
                "requestBody": body(json!({"purpose": purpose, "post": text(1, 64), "id_number": string, "name": text(1, 50), "basis": text(4, 200), "reason": text(4, 1000)}), &["purpose", "id_number", "basis", "reason"]),
                "responses": with_errors(json!({"201": {"description": "the pending request"}}))}},
        "/api/v1/requests/{id}/approve": {"post": {"summary": "Approve (approver, not the requester): makes a grant for that person, purpose and window", "parameters": path_id("id"),
            "requestBody": decision.clone(), "responses": with_errors(json!({"200": {"description": "request and grant"}, "409": {"description": "decided already"}}))}},
        "/api/v1/requests/{id}/refuse": {"post": {"summary": "Refuse (approver, not the requester)", "parameters": path_id("id"),
            "requestBody": decision, "responses": with_errors(json!({"200": {"description": "the request"}, "409": {"description": "decided already"}}))}},
        "/api/v1/grants": {"get": {"summary": "Grants: every one for approvers and auditors, one's own otherwise", "responses": with_errors(json!({"200": {"description": "grants, each with `person` as requests have it"}}))}},
        "/api/v1/grants/{id}": {"delete": {"summary": "Revoke a grant (approver, administrator), with the reason (kept in the audit entry)", "parameters": path_id("id"),
            "requestBody": body(json!({"reason": text(4, 1000)}), &["reason"]),
            "responses": with_errors(json!({"200": {"description": "revoked"}, "404": {"description": "no such live grant"}}))}},
        "/api/v1/certificates": {"post": {"summary": "Issue a signed certificate (the person for themself, or a public-security clerk)",
            "requestBody": body(json!({"id_number": string, "name": {"type": "string", "minLength": 1, "maxLength": 50, "description": "as on the identity card; must equal the name the platform holds, entered by a clerk only where it holds none"}, "purpose": text(2, 50)}), &["id_number", "purpose"]),
            "responses": with_errors(json!({"201": {"description": "number, result, title, file (the signed document), token (for the QR code), page, verify"}}))}},
        "/api/v1/certificates/{number}": {"get": {"summary": "A certificate file (its issuer, an auditor, the person)", "parameters": path_id("number"),
            "responses": with_errors(json!({"200": {"description": "the signed certificate file"}, "404": {"description": "no such certificate for this caller"}}))}},
        "/api/v1/certificates/{number}/page": {"get": {"summary": "The printable page with its QR code", "parameters": path_id("number"),
            "responses": with_errors(json!({"200": {"description": "HTML"}}))}},
        "/api/v1/verify": {"post": {"summary": "Verify a certificate file or QR token (public)", "security": [],
            "requestBody": body(json!({"token": string, "file": string}), &[]),
            "responses": {"200": {"description": "{valid, message, number, result, issue_date, valid_until, validity, in_force}"}}}},
        "/verify": {"get": {"summary": "The verification page a phone opens from the QR code (public)", "security": [],
            "parameters": [{"name": "token", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "HTML"}}}}
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented() {
        let document = super::document();
        for (path, method) in super::PATHS {
            assert!(
                document["paths"][path][method].is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
        let documented: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, super::PATHS.len());
    }
}
