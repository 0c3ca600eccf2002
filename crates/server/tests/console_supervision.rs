//! The console's supervision page (docs/supervision.md): a supervisor lists the flags, opens one
//! with the audit entries behind it (keys, never facts), and reviews it with the form; the review
//! is in the audit log. Plain HTTP.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_server::Clock;
use fengcun_store::prelude::*;
use fengcun_store::{AuditEvent, AuditKind};
use reqwest::StatusCode;
use serde_json::json;
use support::console::{
    AUDITOR, KEYS, SEALED, SEALED_CASE, USERS, console_login, create_users, get_page, post_form,
    start_with,
};

mod support;

#[tokio::test]
async fn a_supervisor_reviews_a_flag_on_the_console() {
    let server = start_with("console-supervision", &KEYS, USERS).await;
    create_users(
        &server,
        KEYS.admin,
        &[("jiandu-wang", "supervisor", None, None)],
    )
    .await;
    // A clerk's run of look-ups by identity number that found only a sealed record.
    let person = server.store.person_key(&format!("id:{SEALED}"));
    let lookups: Vec<AuditEvent> = (0..3)
        .map(|_| {
            AuditEvent::new(AuditKind::Lookup, "user:clerk-zhang", "no_record")
                .purpose("case_handling")
                .subject(person.clone())
                .detail(json!({"by": "id_number", "shown": 0, "withheld": 1, "role": "clerk", "agency": null}))
        })
        .collect();
    server
        .store
        .audit(&lookups, server.clock.now())
        .await
        .unwrap();
    server
        .clock
        .set(server.clock.now() + jiff::SignedDuration::from_hours(1));
    let state = &server.running.state;
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 1);

    // Not in a clerk's menu, and refused to a clerk who asks all the same.
    let (clerk, _) = console_login(&server, "clerk-zhang").await;
    let (status, home) = get_page(&server, &clerk, "/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!home.contains("/console/supervision"), "{home}");
    assert_eq!(
        get_page(&server, &clerk, "/console/supervision").await.0,
        StatusCode::FORBIDDEN
    );

    let (cookies, csrf) = console_login(&server, "jiandu-wang").await;
    let (status, page) = get_page(&server, &cookies, "/console/supervision").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("查询监督"), "{page}");
    assert!(
        page.contains("连续按身份证号查询无结果或仅命中封存记录"),
        "{page}"
    );
    assert!(page.contains("user:clerk-zhang"), "{page}");
    let link = page
        .split('"')
        .find(|part| part.starts_with("/console/supervision/"))
        .expect("a flag's link")
        .to_owned();
    let (status, flag) = get_page(&server, &cookies, &link).await;
    assert_eq!(status, StatusCode::OK, "{flag}");
    assert_eq!(
        flag.matches("<tr><td><a href=\"/console/audit/proof/")
            .count(),
        3,
        "{flag}"
    );
    assert!(flag.contains(&person), "the person by key");
    for fact in ["危险驾驶罪", SEALED, SEALED_CASE, "李封存"] {
        assert!(!flag.contains(fact), "{fact} shown through a flag");
    }
    let review = format!("{link}/review");
    let (status, page) = post_form(
        &server,
        &cookies,
        &review,
        &[
            ("csrf_token", &csrf),
            ("conclusion", "no_issue"),
            ("note", "系正常办案查询"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("审查结论已记录"), "{page}");
    assert!(page.contains("id=\"conclusion\">无问题"), "{page}");
    assert!(!page.contains("id=\"review\""), "no form once reviewed");
    let log = support::console::audit(&server, AUDITOR).await;
    let reviewed: Vec<_> = log
        .iter()
        .filter(|e| e["kind"] == "flag_reviewed")
        .collect();
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["actor"], "user:jiandu-wang");
    assert_eq!(reviewed[0]["outcome"], "no_issue");
    server.stop();
}

/// After a restart the supervision takes up the state its rounds saved, over the signed log, and
/// reads on from there (at ten million entries, reading the log again took minutes): the flags
/// are those of a server that never stopped. A saved state claiming more of the log than there
/// is, is not taken up (the log is read from its beginning, as before).
#[tokio::test]
async fn the_supervision_resumes_after_a_restart_from_its_saved_state() {
    let server = start_with("supervision-restart", &KEYS, USERS).await;
    let person = server.store.person_key(&format!("id:{SEALED}"));
    let run_of = |actor: &str| -> Vec<AuditEvent> {
        (0..3)
            .map(|_| {
                AuditEvent::new(AuditKind::Lookup, actor, "no_record")
                    .purpose("case_handling")
                    .subject(person.clone())
                    .detail(json!({"by": "id_number", "shown": 0, "withheld": 1, "role": "clerk", "agency": null}))
            })
            .collect()
    };
    let now = server.clock.now();
    server
        .store
        .audit(&run_of("user:clerk-zhang"), now)
        .await
        .unwrap();
    server.clock.set(now + jiff::SignedDuration::from_hours(1));
    let state = &server.running.state;
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 1);
    let (saved_at, saved) = server
        .store
        .supervision_state()
        .await
        .unwrap()
        .expect("saved");
    let log_size = server.store.audit_entries(0, 100_000).await.unwrap().len() as u64;
    assert_eq!(saved_at, log_size, "saved after reading the whole log");

    // Restarted: a second clerk's run; the first round after the start takes the state up.
    let clock = server.clock.clone();
    // The same configuration: its database, and the signing key kept beside it.
    let config = (*server.running.state.config).clone();
    let server = server.restarted(config.clone(), clock).await;
    let now = server.clock.now();
    server
        .store
        .audit(&run_of("user:clerk-li"), now)
        .await
        .unwrap();
    server.clock.set(now + jiff::SignedDuration::from_hours(1));
    let state = &server.running.state;
    assert_eq!(
        fengcun_server::supervision::round(state).await.unwrap(),
        1,
        "the second run only: the first is kept already"
    );
    assert_eq!(state.supervision.resumed_from().await, Some(saved_at));
    let flags = server.store.flags(false).await.unwrap();
    let subjects: Vec<&str> = flags.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["user:clerk-zhang", "user:clerk-li"]);

    // A state claiming more of the log than there is: not taken up; the log is read again and
    // finds the same flags (kept once).
    server
        .store
        .put_supervision_state(log_size + 1_000, &saved, server.clock.now())
        .await
        .unwrap();
    let clock = server.clock.clone();
    let server = server.restarted(config, clock).await;
    let state = &server.running.state;
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 0);
    assert_eq!(state.supervision.resumed_from().await, None);
    assert_eq!(server.store.flags(false).await.unwrap().len(), 2);
    server.stop();
}
