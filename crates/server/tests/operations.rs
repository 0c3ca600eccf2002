//! Operations through the real server: a signing key rotated between two starts on one database
//! (docs/operations.md, "Rotating keys"), on both engines.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use fengcun_access::RequesterKind;
use fengcun_crypto::{SigningKey, Suite, VerifyingKey};
use fengcun_ledger::SignedTreeHead;
use fengcun_server::{FixedClock, Role};
use fengcun_store::prelude::*;
use serde_json::{Value, json};
use support::{Server, api_key, engines, registered_agency};

const CLERK: &str = "counter-clerk-key-for-operations-tests";
const AUDITOR: &str = "auditor-key-for-operations-tests";
/// Never recorded: a certificate of no criminal record.
const NOBODY: &str = "110105198001010016";

/// Writes a signing key file (owner-only) in `dir`; its path.
fn key_file(dir: &Path, name: &str, key: &SigningKey) -> PathBuf {
    let path = dir.join(name);
    fengcun_server::keyfile::create(
        &path,
        &format!("{}\n", key.to_pkcs8_pem().unwrap().trim_end()),
        fengcun_server::keyfile::Access::Owner,
    )
    .unwrap();
    path
}

/// The server stopped and started again on the same store, with another signing key and clock.
async fn restart(server: Server, signing_key_file: PathBuf, now: &str) -> Server {
    let mut config = (*server.running.state.config).clone();
    config.signing_key_file = Some(signing_key_file);
    let clock = Arc::new(FixedClock::new(now.parse().unwrap()));
    server.restarted(config, clock).await
}

async fn issue(server: &Server) -> Value {
    let (status, issued) = server
        .post(
            "/api/v1/certificates",
            CLERK,
            &json!({"id_number": NOBODY, "name": "测试人", "purpose": "就业"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued
}

/// The public verification of a certificate's token and of its file: both must say valid.
async fn verifies(server: &Server, issued: &Value) {
    for body in [
        json!({"token": issued["token"]}),
        json!({"file": issued["file"]}),
    ] {
        let response = server
            .http
            .post(format!("{}/api/v1/verify", server.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["valid"], true, "{answer}");
        assert_eq!(answer["message"], "证明真实有效：签名验证通过");
    }
}

async fn published(server: &Server) -> Vec<Value> {
    let response = server
        .http
        .get(format!("{}/api/v1/signing-keys", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["keys"].as_array().unwrap().clone()
}

async fn sign_head(server: &Server) -> String {
    let (status, head) = server
        .post("/api/v1/audit/heads", AUDITOR, &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{head}");
    head["line"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn after_a_signing_key_rotation_old_certificates_and_heads_verify_and_both_keys_are_published()
 {
    for engine in engines() {
        let scratch = Scratch(tempdir("ops-signing-keys"));
        let keys = scratch.0.clone();
        let old = SigningKey::generate(Suite::Sm);
        let new = SigningKey::generate(Suite::Sm);
        let (old_id, new_id) = (
            fengcun_certificate::key_id(&old.verifying_key()),
            fengcun_certificate::key_id(&new.verifying_key()),
        );
        let mut config = support::config("cn-minor-opt1");
        config.api_keys = vec![
            api_key(
                "counter",
                Role::Clerk,
                Some("110105-ga"),
                Some(RequesterKind::PublicSecurity),
                CLERK,
            ),
            api_key("audit", Role::Auditor, None, None, AUDITOR),
        ];
        config.agencies = vec![registered_agency("110105-ga")];
        config.signing_key_file = Some(key_file(&keys, "old.pem", &old));
        let server = Server::start(config, "2026-03-01T00:00:00Z", engine, "ops-signing").await;

        let before = issue(&server).await;
        verifies(&server, &before).await;
        let old_head = sign_head(&server).await;
        let shown = published(&server).await;
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert_eq!(shown[0]["key_id"], old_id.as_str());
        assert_eq!(shown[0]["current"], true);
        assert_eq!(shown[0]["valid_until"], Value::Null);

        // The new key in force from the next start.
        let server = restart(
            server,
            key_file(&keys, "new.pem", &new),
            "2026-06-01T00:00:00Z",
        )
        .await;
        let shown = published(&server).await;
        let summary: Vec<(Value, Value, Value, Value)> = shown
            .iter()
            .map(|k| {
                (
                    k["key_id"].clone(),
                    k["valid_from"].clone(),
                    k["valid_until"].clone(),
                    k["current"].clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    json!(old_id),
                    json!("2026-03-01T00:00:00Z"),
                    json!("2026-06-01T00:00:00Z"),
                    json!(false)
                ),
                (
                    json!(new_id),
                    json!("2026-06-01T00:00:00Z"),
                    Value::Null,
                    json!(true)
                ),
            ]
        );
        assert_eq!(
            shown[0]["public_key"].as_str().unwrap(),
            old.verifying_key().to_text()
        );

        // The certificate signed before the rotation still verifies (with the key its id names);
        // one signed after names and verifies with the new key.
        verifies(&server, &before).await;
        let after = issue(&server).await;
        assert!(
            after["file"]
                .as_str()
                .unwrap()
                .contains(&format!("\"key_id\":\"{new_id}\"")),
            "{}",
            after["file"]
        );
        verifies(&server, &after).await;

        // Heads: the old one with the old key alone, the new with the new alone; the whole log,
        // stored heads and both kept outside, with the keys the server publishes.
        let new_head = sign_head(&server).await;
        let old_signed = SignedTreeHead::from_json(&old_head).unwrap();
        let new_signed = SignedTreeHead::from_json(&new_head).unwrap();
        old_signed.verify(&old.verifying_key()).unwrap();
        assert!(old_signed.verify(&new.verifying_key()).is_err());
        new_signed.verify(&new.verifying_key()).unwrap();
        assert!(new_signed.verify(&old.verifying_key()).is_err());
        let ring: Vec<VerifyingKey> = shown
            .iter()
            .map(|k| VerifyingKey::from_text(k["public_key"].as_str().unwrap()).unwrap())
            .collect();
        let report = server
            .store
            .verify_audit_with_keys(&[old_head, new_head], &ring)
            .await
            .unwrap();
        assert!(report.problem.is_none(), "{:?}", report.problem);
        assert!(report.signatures_checked >= 4, "{report:?}");
        let registered: Vec<Value> = server
            .audit_log(AUDITOR)
            .await
            .into_iter()
            .filter(|e| e["outcome"] == "signing_key_registered")
            .map(|e| e["subject"].clone())
            .collect();
        assert_eq!(
            registered,
            [
                json!(format!("signing:{old_id}")),
                json!(format!("signing:{new_id}"))
            ]
        );

        // The current key alone is still at the old address.
        let current = server
            .http
            .get(format!("{}/api/v1/public-key", server.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(current, new.verifying_key().to_text());
        let dir = server.dir.clone();
        server.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A directory of the test's own, removed when dropped (a failed assertion included).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fengcun-{label}-{}-{}",
        std::process::id(),
        fengcun_crypto::random_hex::<4>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
