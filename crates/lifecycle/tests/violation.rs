//! A public-security violation case through its events (治安管理处罚法 art. 136), and what a violation
//! record never does to a criminal one. Expected values written by hand.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly"
)]

use fengcun_domain::{Date, Disposition, Event, parse_record};
use fengcun_lifecycle::{Cause, State, StoredEvent, derive_record, lifted_by, next_state};
use fengcun_policy::{Outcome, evaluate, presets};
use serde_json::{Value, json};

fn event(seq: i64, kind: &str, date: &str, agency: &str, extra: Value) -> StoredEvent {
    let mut e = json!({
        "idempotency_key": format!("k{seq}"), "kind": kind, "date": date,
        "case_code": "110105-2026-900012",
        "agency": {"kind": agency, "code": format!("110105-{agency}")},
        "person": {"id_number": "110105199003070025"},
    });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    StoredEvent {
        seq,
        event: Event::parse(e.to_string().as_bytes()).expect("valid event"),
    }
}

fn case(revoked: bool) -> Vec<StoredEvent> {
    let mut events = vec![
        event(
            1,
            "violation_accepted",
            "2026-02-10",
            "public_security",
            json!({"offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}]}),
        ),
        event(
            2,
            "violation_penalized",
            "2026-02-12",
            "public_security",
            json!({"violations": [{"name": "殴打他人"}], "penalty": {"detention_days": 10, "fine_yuan": 500}}),
        ),
        event(
            3,
            "violation_decision_effective",
            "2026-02-12",
            "public_security",
            json!({}),
        ),
        event(
            4,
            "violation_execution_completed",
            "2026-02-22",
            "public_security",
            json!({}),
        ),
    ];
    if revoked {
        events.push(event(
            5,
            "violation_decision_revoked",
            "2026-04-01",
            "public_security",
            json!({"review": "reconsideration"}),
        ));
    }
    events
}

const AS_OF: Date = Date::constant(2026, 6, 1);

#[test]
fn a_penalty_decision_is_sealed_when_it_takes_effect() {
    let derived = derive_record("W-1", &case(false)).expect("derives");
    let record = &derived.record;
    assert_eq!(record.disposition, Disposition::Penalized);
    assert_eq!(
        record.decision_effective_date,
        Some(Date::constant(2026, 2, 12))
    );
    assert_eq!(
        record.execution_completed_date,
        Some(Date::constant(2026, 2, 22))
    );
    let policy = presets::get("cn-public-security-violation").unwrap();
    let d = evaluate(policy, record, AS_OF);
    assert_eq!(
        (d.outcome, d.effective_date),
        (Outcome::Seal, Some(Date::constant(2026, 2, 12)))
    );
}

/// A case only accepted (受案) is open — its decision, and so its seal date, still to come — not
/// a seal pending on no date; it is sealed when the decision takes effect.
#[test]
fn an_accepted_case_is_open_until_its_decision_takes_effect() {
    let policy = presets::get("cn-public-security-violation").unwrap();
    let accepted = &case(false)[..1];
    let record = derive_record("W-1", accepted).expect("derives").record;
    assert_eq!(record.disposition, Disposition::Open);
    let decision = evaluate(policy, &record, AS_OF);
    let events = Cause::Events { correction: false };
    let step = next_state(None, &decision, false, &record, events, policy, AS_OF);
    assert_eq!(step.map(|s| s.to), Some(State::Open));
    let decided = derive_record("W-1", &case(false)[..3])
        .expect("derives")
        .record;
    let decision = evaluate(policy, &decided, AS_OF);
    let step = next_state(
        Some(&State::Open),
        &decision,
        false,
        &decided,
        events,
        policy,
        AS_OF,
    );
    assert_eq!(
        step.map(|s| s.to),
        Some(State::Sealed {
            since: Date::constant(2026, 2, 12)
        })
    );
}

/// A sealed violation record whose penalty decision is retracted as entered in error is the
/// record of a case still open: art. 136 seals it all the same, so it stays sealed — once it
/// became `open`, readable again, and no agency was told.
#[test]
fn a_sealed_violation_record_whose_decision_is_retracted_stays_sealed() {
    let policy = presets::get("cn-public-security-violation").unwrap();
    let accepted = &case(false)[..1];
    let record = derive_record("W-1", accepted).expect("derives").record;
    assert_eq!(record.disposition, Disposition::Open);
    let decision = evaluate(policy, &record, AS_OF);
    let sealed = State::Sealed {
        since: Date::constant(2026, 2, 12),
    };
    for correction in [true, false] {
        let step = next_state(
            Some(&sealed),
            &decision,
            false,
            &record,
            Cause::Events { correction },
            policy,
            AS_OF,
        );
        assert_eq!(step.map(|s| s.to), None, "correction: {correction}");
    }
}

/// Revoked on reconsideration: the record of the withdrawn case stays, sealed from the revocation.
#[test]
fn a_reconsideration_that_revokes_the_decision_leaves_a_sealed_withdrawn_record() {
    let derived = derive_record("W-1", &case(true)).expect("derives");
    let record = &derived.record;
    assert_eq!(record.disposition, Disposition::Withdrawn);
    assert_eq!(record.disposition_date, Some(Date::constant(2026, 4, 1)));
    assert_eq!(
        (record.penalty, record.decision_effective_date),
        (None, None)
    );
    let policy = presets::get("cn-public-security-violation").unwrap();
    let d = evaluate(policy, record, AS_OF);
    assert_eq!(
        (d.outcome, d.effective_date),
        (Outcome::Seal, Some(Date::constant(2026, 4, 1)))
    );
}

#[test]
fn violation_events_are_sent_by_their_agencies_and_hold_the_law() {
    let base = |kind: &str, agency: &str, extra: Value| {
        let mut e = json!({"idempotency_key": "k", "kind": kind, "date": "2026-02-12",
            "case_code": "110105-2026-900012", "agency": {"kind": agency, "code": "x"},
            "person": {"id_number": "110105199003070025"}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        Event::parse(e.to_string().as_bytes())
    };
    let penalty = json!({"violations": [{"name": "盗窃"}], "penalty": {"fine_yuan": 200}});
    #[rustfmt::skip]
    let table: [(&str, &str, Value, Option<&str>); 8] = [
        ("a police penalty decision", "violation_penalized", penalty.clone(), None),
        ("a court's penalty decision", "court", penalty.clone(), Some("kind")),
        ("a court revoking on litigation", "violation_decision_revoked", json!({"review": "litigation"}), None),
        ("a court on reconsideration", "violation_decision_revoked", json!({"review": "reconsideration"}), Some("review")),
        ("a revocation without review", "violation_decision_revoked", json!({}), Some("review")),
        ("a penalty of 21 days for two", "violation_penalized", json!({"violations": [{"name": "盗窃"}, {"name": "殴打他人"}], "penalty": {"detention_days": 21}}), Some("penalty.detention_days")),
        ("a penalty without a behaviour", "violation_penalized", json!({"penalty": {"warning": true}}), Some("violations")),
        ("an unknown behaviour", "violation_accepted", json!({"violations": [{"name": "醉驾"}]}), Some("violations[0].name")),
    ];
    for (what, kind, extra, refused) in table {
        let (kind, agency) = match (what, kind) {
            ("a court's penalty decision", _) => ("violation_penalized", "court"),
            (w, k) if w.starts_with("a court") => (k, "court"),
            (_, k) => (k, "public_security"),
        };
        match (base(kind, agency, extra), refused) {
            (Ok(_), None) => {}
            (Err(e), Some(field)) => assert_eq!(e.field, field, "{what}: {e}"),
            (Ok(_), Some(field)) => panic!("{what}: accepted, expected refused on {field}"),
            (Err(e), None) => panic!("{what}: refused: {e}"),
        }
    }
}

/// A violation never lifts a seal: not a new crime, not a discovered one — whatever its penalty.
#[test]
fn a_violation_never_unseals_a_criminal_record() {
    let sealed = parse_record(json!({
        "record_id": "R-1", "person": {"birth_date": "2008-01-01"}, "offence_date": "2024-03-01",
        "charges": [{"name": "盗窃罪"}], "disposition": "convicted", "disposition_date": "2024-09-01",
        "sentence": {"principal": "fixed_term", "months": 12}, "judgment_effective_date": "2024-09-12",
        "recidivist": false, "prior_convictions": 0
    }).to_string().as_bytes()).unwrap();
    let violation = derive_record("W-1", &case(false)).unwrap().record;
    for policy in presets::all() {
        assert_eq!(
            lifted_by(&sealed, &violation, None, policy),
            None,
            "{}",
            policy.meta.name
        );
    }
    // A mixed case is refused: a case's events are of one kind.
    let mut mixed = case(false);
    mixed.push(StoredEvent {
        seq: 9,
        event: Event::parse(
            json!({"idempotency_key": "f", "kind": "filed", "date": "2026-03-01",
            "case_code": "110105-2026-900012", "agency": {"kind": "public_security", "code": "p"},
            "person": {"id_number": "110105199003070025"}})
            .to_string()
            .as_bytes(),
        )
        .unwrap(),
    });
    assert_eq!(
        derive_record("W-1", &mixed).expect_err("mixed").field,
        "kind"
    );
}

/// A decision takes effect on or after the day it is made, and is executed after it takes
/// effect: an effect dated before the penalty decision, or an execution before the effect, is a
/// legally impossible fact, refused naming the field — once it was silently left uncounted.
#[test]
fn a_violation_case_s_dates_keep_their_order() {
    let mut early_effect = case(false);
    early_effect[2] = event(
        3,
        "violation_decision_effective",
        "2026-02-11",
        "public_security",
        json!({}),
    );
    let error = derive_record("W-1", &early_effect).unwrap_err();
    assert_eq!(error.field, "date");
    assert!(
        error
            .to_string()
            .contains("2026-02-11 is before the case's first penalty decision (2026-02-12)"),
        "{error}"
    );
    let mut early_execution = case(false);
    early_execution[3] = event(
        4,
        "violation_execution_completed",
        "2026-02-01",
        "public_security",
        json!({}),
    );
    let error = derive_record("W-1", &early_execution).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("2026-02-01 is before the decision took effect (2026-02-12)"),
        "{error}"
    );
    // In order, and after a reconsideration that revokes it, the case derives.
    assert!(derive_record("W-1", &case(false)).is_ok());
    assert!(derive_record("W-1", &case(true)).is_ok());
}
