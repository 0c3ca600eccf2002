//! Sealed public-security violation records under 治安管理处罚法 art. 136: shown only to state
//! organs handling a case and to units querying under a national rule (national-rules.toml), each
//! under a grant and with the duty of confidentiality; to everyone else exactly as no record.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_access::{Answer, Candidate, Disclosure, Grant, Purpose, Query, RequesterKind, answer};
use fengcun_domain::RecordKind;
use serde_json::json;

const CONFIDENTIALITY: &str = "本记录系依法查询的被封存的违反治安管理记录，查询单位应当对被封存的违法记录的情况予以保密（《中华人民共和国治安管理处罚法》第一百三十六条）。";

fn now() -> jiff::Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn violation(behaviour: &str, tags: &[&str], detention: bool, sealed: bool) -> Candidate {
    Candidate {
        person_key: "p-1".to_owned(),
        case_code: "110105-2026-000009".to_owned(),
        kind: RecordKind::PublicSecurityViolation,
        sealed,
        established: Some(fengcun_access::Established::Penalty),
        tags: Default::default(),
        charges: Vec::new(),
        intentional: false,
        principal: None,
        political_rights: false,
        violation_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        violation_behaviours: vec![behaviour.to_owned()],
        detention,
        summary: json!({"case_code": "110105-2026-000009", "violations": [behaviour]}),
        full: json!({"case_code": "110105-2026-000009", "violations": [behaviour], "full": true}),
    }
}

/// The record without a penalty decision: still open, not penalised, or its penalty revoked.
fn undecided(mut record: Candidate) -> Candidate {
    record.established = None;
    record
}

fn query(kind: RequesterKind, purpose: Purpose, post: Option<&str>) -> Query {
    Query {
        requester: "u-1".to_owned(),
        kind,
        purpose,
        post: post.map(str::to_owned),
        own_person_key: (kind == RequesterKind::Person).then(|| "p-1".to_owned()),
    }
}

fn grant(query: &Query) -> Grant {
    Grant {
        id: "G1".to_owned(),
        requester: query.requester.clone(),
        person_key: "p-1".to_owned(),
        purpose: query.purpose,
        post: query.post.clone(),
        not_before: now() - jiff::SignedDuration::from_hours(1),
        expires: now() + jiff::SignedDuration::from_hours(1),
        revoked: false,
    }
}

const NO_RECORD: &str = r#"{"answer":"no_record","message":"查无记录","records":[]}"#;

/// Table-driven: who sees a sealed violation record of 殴打他人 (violence, detention) under a
/// grant, and with which words; every one who may not gets exactly the no-record answer, or 无权查询
/// where the kind may not query for the purpose at all (as for a person never recorded).
#[test]
fn art_136_exceptions_and_everyone_else() {
    let table = Disclosure::cn_default().unwrap();
    let beat = violation("殴打他人", &["person", "violence"], true, true);
    use Purpose::*;
    use RequesterKind::*;
    // (kind, purpose, post, shown with the grant)
    #[rustfmt::skip]
    let cases: [(RequesterKind, Purpose, Option<&str>, bool); 16] = [
        // Exception 1: state organs for case handling.
        (Court, CaseHandling, None, true),
        (Procuratorate, CaseHandling, None, true),
        (PublicSecurity, CaseHandling, None, true),
        (StateSecurity, CaseHandling, None, true),
        (SupervisionCommission, CaseHandling, None, true),
        // Exception 2: units under a national rule (未成年人保护法 art. 62), within the post.
        (Employer, SpecialPostVetting, Some("minors_contact"), true),
        (PublicSecurity, SpecialPostVetting, Some("minors_contact"), true),
        (Procuratorate, SpecialPostVetting, Some("minors_contact"), true),
        // A post no national rule restricts for violations sees none.
        (Employer, SpecialPostVetting, Some("teacher"), false),
        (Employer, SpecialPostVetting, Some("civil_servant"), false),
        // Everyone else.
        (JusticeAdministration, CaseHandling, None, false),
        (StateSecurity, NationalSecurityReview, None, false),
        (Person, Certificate, None, false),
        (Employer, CaseHandling, None, false),
        (Lawyer, CaseHandling, None, false),
        (Court, SpecialPostVetting, Some("minors_contact"), false),
    ];
    for (kind, purpose, post, shown) in cases {
        let q = query(kind, purpose, post);
        let given = answer(&table, &q, std::slice::from_ref(&beat), &[grant(&q)], now());
        let never_recorded = answer(&table, &q, &[], &[grant(&q)], now());
        if shown {
            let Answer::Records(records) = &given else {
                panic!("{kind:?} {purpose:?}: {given:?}")
            };
            assert_eq!(records.len(), 1, "{kind:?} {purpose:?}");
            assert_eq!(records[0].grant.as_deref(), Some("G1"));
            assert_eq!(
                records[0].confidentiality.as_deref(),
                Some(CONFIDENTIALITY),
                "{kind:?} {purpose:?}"
            );
            assert!(given.to_json().contains(CONFIDENTIALITY));
        } else {
            assert_eq!(
                given.to_json(),
                never_recorded.to_json(),
                "{kind:?} {purpose:?} {post:?}"
            );
        }
        // Without a grant: the same bytes as for a person never recorded, for everyone.
        assert_eq!(
            answer(&table, &q, std::slice::from_ref(&beat), &[], now()).to_json(),
            answer(&table, &q, &[], &[], now()).to_json(),
            "{kind:?} {purpose:?} {post:?}"
        );
    }
    // The person sees their own sealed violation record, with no duty (nobody queried it).
    let own = query(Person, SelfInspection, None);
    match answer(&table, &own, std::slice::from_ref(&beat), &[], now()) {
        Answer::Records(records) => {
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].confidentiality, None);
        }
        other => panic!("{other:?}"),
    }
}

/// A violation record not sealed (a case still open) is shown by the violation rules only: a
/// community-correction office, which sees criminal records for its cases, sees none of it.
#[test]
fn an_unsealed_violation_record_is_shown_by_its_own_rules_only() {
    let table = Disclosure::cn_default().unwrap();
    let open = violation("殴打他人", &["person", "violence"], false, false);
    let q = query(
        RequesterKind::JusticeAdministration,
        Purpose::CaseHandling,
        None,
    );
    assert_eq!(
        answer(&table, &q, std::slice::from_ref(&open), &[], now()).to_json(),
        NO_RECORD
    );
    let q = query(RequesterKind::PublicSecurity, Purpose::CaseHandling, None);
    match answer(&table, &q, &[open], &[], now()) {
        Answer::Records(records) => {
            assert_eq!(records.len(), 1);
            // Not sealed, not read under a grant: no duty attached.
            assert_eq!(
                (&records[0].grant, &records[0].confidentiality),
                (&None, &None)
            );
        }
        other => panic!("{other:?}"),
    }
}

/// 娱乐场所管理条例 art. 5(4): 因卖淫、嫖娼曾被处以行政拘留的 — a detention for 嫖娼 is in the post's
/// scope, a fine for it is not, nor a detention for another behaviour of the same category.
#[test]
fn the_entertainment_venue_post_sees_detention_for_prostitution_only() {
    let table = Disclosure::cn_default().unwrap();
    let q = query(
        RequesterKind::Employer,
        Purpose::SpecialPostVetting,
        Some("entertainment_venue"),
    );
    #[rustfmt::skip]
    let cases = [
        (violation("嫖娼", &["prostitution"], true, true), true),
        (violation("卖淫", &["prostitution"], true, true), true),
        (violation("嫖娼", &["prostitution"], false, true), false),
        (violation("拉客招嫖", &["prostitution"], true, true), false),
        (violation("殴打他人", &["person", "violence"], true, true), false),
        // Only a penalty decision counts: a case accepted and not yet decided, a decision not to
        // penalise, a revoked penalty establish nothing (入职查询意见 art. 4(3): 被行政处罚).
        (undecided(violation("嫖娼", &["prostitution"], true, true)), false),
    ];
    for (record, shown) in cases {
        let given = answer(
            &table,
            &q,
            std::slice::from_ref(&record),
            &[grant(&q)],
            now(),
        );
        let count = match &given {
            Answer::Records(records) => records.len(),
            Answer::NoRight { .. } => panic!("{given:?}"),
        };
        assert_eq!(
            count,
            usize::from(shown),
            "{:?}",
            record.violation_behaviours
        );
    }
}

/// Every national rule is named, quoted and sourced; every rule of the table that names one names
/// a listed one; a violation rule that may penetrate carries the duty of confidentiality.
#[test]
fn national_rules_are_named_and_the_loader_holds_the_table_to_them() {
    let table = Disclosure::cn_default().unwrap();
    let codes: Vec<&str> = table
        .national_rules
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(codes, ["minors-protection-62", "entertainment-venues-5"]);
    for rule in &table.national_rules {
        assert!(
            rule.name.starts_with('《') && rule.article.starts_with('第'),
            "{rule:?}"
        );
    }
    let violation_rules: Vec<_> = table
        .rules
        .iter()
        .filter(|r| r.records == RecordKind::PublicSecurityViolation)
        .collect();
    assert_eq!(violation_rules.len(), 3);
    assert!(
        violation_rules
            .iter()
            .filter(|r| r.penetrate)
            .all(|r| r.basis.contains("第一百三十六条") && r.confidentiality.is_some())
    );
    let posts = include_str!("../../../data/disclosure/vetting-posts.toml");
    let rule = |extra: &str| {
        format!(
            "[disclosure]\nname = \"t\"\nversion = \"1\"\ntitle = \"t\"\n[[rule]]\nrecords = \"public_security_violation\"\n\
             kinds = [\"employer\"]\npurpose = \"special_post_vetting\"\nmay_query = true\npenetrate = true\n\
             sees = \"post\"\ngrant_days = 15\nbasis = \"第一百三十六条\"\n{extra}"
        )
    };
    let unknown = Disclosure::from_toml(
        "t.toml",
        &rule("national_rules = [\"nowhere\"]\nconfidentiality = \"保密\"\n"),
        posts,
    )
    .unwrap_err()
    .to_string();
    assert!(unknown.contains("national_rules: `nowhere`"), "{unknown}");
    let silent = Disclosure::from_toml("t.toml", &rule(""), posts)
        .unwrap_err()
        .to_string();
    assert!(silent.contains("confidentiality:"), "{silent}");
    let kind = Disclosure::from_toml(
        "t.toml",
        &rule("confidentiality = \"保密\"\n").replace("public_security_violation", "traffic"),
        posts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        kind.contains("records: unknown record kind `traffic`"),
        "{kind}"
    );
}
