//! Who may vet, and what each post's law lets them see (data/disclosure/, docs/law.md): one row per
//! requester, purpose and record, each worked out from the article the table cites.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_access::{
    Answer, Candidate, Disclosure, Established, Grant, Purpose, Query, RequesterKind, Sees, answer,
    may_request,
};
use fengcun_domain::{Catalogue, PrincipalKind};
use serde_json::json;

fn now() -> jiff::Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

/// A sealed record of person `p-1` for `charge`, with the catalogue's tags and culpability.
fn sealed(charge: &str, principal: Option<PrincipalKind>, political_rights: bool) -> Candidate {
    let entry = Catalogue::builtin().resolve(charge).expect("charge");
    Candidate {
        person_key: "p-1".to_owned(),
        case_code: "110105-2024-000001".to_owned(),
        kind: fengcun_domain::RecordKind::Criminal,
        sealed: true,
        // A punishment is a conviction's; without one, nothing established.
        established: principal.map(|_| Established::Conviction),
        tags: entry.tags,
        charges: vec![entry.name.clone()],
        intentional: entry.culpability == fengcun_domain::Culpability::Intentional,
        principal,
        political_rights,
        violation_tags: Vec::new(),
        violation_behaviours: Vec::new(),
        detention: false,
        summary: json!({"case_code": "110105-2024-000001", "charges": [entry.name]}),
        full: json!({"case_code": "110105-2024-000001"}),
    }
}

fn query(kind: RequesterKind, purpose: Purpose, post: Option<&str>) -> Query {
    Query {
        requester: "u-1".to_owned(),
        kind,
        purpose,
        post: post.map(str::to_owned),
        own_person_key: None,
    }
}

fn grant_for(query: &Query) -> Grant {
    Grant {
        id: "G1".to_owned(),
        requester: query.requester.clone(),
        person_key: "p-1".to_owned(),
        purpose: query.purpose,
        post: query.post.clone(),
        not_before: "2026-05-01T00:00:00Z".parse().unwrap(),
        expires: "2026-07-01T00:00:00Z".parse().unwrap(),
        revoked: false,
    }
}

/// Whether `kind` vetting for `post` under an approved grant sees the record.
fn sees(kind: RequesterKind, post: &str, record: &Candidate) -> bool {
    let table = Disclosure::cn_default().unwrap();
    let q = query(kind, Purpose::SpecialPostVetting, Some(post));
    match answer(
        &table,
        &q,
        std::slice::from_ref(record),
        &[grant_for(&q)],
        now(),
    ) {
        Answer::Records(shown) => !shown.is_empty(),
        Answer::NoRight { .. } => false,
    }
}

/// 未成年人保护法第六十二条: the employer of a post in close contact with minors queries at hiring and
/// every year, and it queries the public security organ and the procuratorate; the 2021 MPS rules
/// (art. 4(2)) let a unit query its staff and recruits where a law or administrative regulation
/// restricts the post. Both vet within the post's scope only, under a grant.
#[test]
fn employers_and_the_procuratorate_vet_within_the_posts_scope() {
    let table = Disclosure::cn_default().unwrap();
    // (requester, may request to see sealed records for special-post vetting)
    let rows = [
        (RequesterKind::Employer, true),
        (RequesterKind::Procuratorate, true),
        (RequesterKind::PublicSecurity, true),
        (RequesterKind::Lawyer, false),
        (RequesterKind::Person, false),
    ];
    for (kind, expected) in rows {
        let q = query(kind, Purpose::SpecialPostVetting, Some("minors_contact"));
        assert_eq!(may_request(&table, &q).is_ok(), expected, "{}", kind.code());
        if expected {
            let rule = table.rule(kind, Purpose::SpecialPostVetting).unwrap();
            assert_eq!(rule.sees, Sees::Post, "{}", kind.code());
            assert!(
                rule.basis.contains("未成年人保护法第六十二条"),
                "{}",
                rule.basis
            );
        }
    }
    let employer = table
        .rule(RequesterKind::Employer, Purpose::SpecialPostVetting)
        .unwrap();
    assert!(
        employer.basis.contains("第四条第二款") && employer.basis.contains("从业禁止"),
        "{}",
        employer.basis
    );
    // An employer still may not query for anything else.
    for purpose in [Purpose::CaseHandling, Purpose::Certificate] {
        let rule = table.rule(RequesterKind::Employer, purpose).unwrap();
        assert!(!rule.may_query);
        assert!(!rule.basis.contains("第3条"), "{}", rule.basis);
        assert!(rule.basis.contains("第四条"), "{}", rule.basis);
    }
}

/// Scope of the posts: minors' contact covers sexual crimes, 嫖宿幼女罪 included; a violence crime
/// is covered, theft is not. The employer sees exactly what the authorities see.
#[test]
fn a_minors_contact_post_sees_the_crimes_article_62_names() {
    // (charge, covered)
    let rows = [
        ("嫖宿幼女罪", true),
        ("强奸罪", true),
        ("猥亵儿童罪", true),
        ("故意伤害罪", true),
        ("拐卖妇女、儿童罪", true),
        ("盗窃罪", false),
        ("危险驾驶罪", false),
    ];
    for (charge, expected) in rows {
        let record = sealed(charge, Some(PrincipalKind::FixedTerm), false);
        for kind in [
            RequesterKind::Employer,
            RequesterKind::Procuratorate,
            RequesterKind::PublicSecurity,
        ] {
            assert_eq!(
                sees(kind, "minors_contact", &record),
                expected,
                "{charge} for {}",
                kind.code()
            );
        }
    }
}

/// Only what a record establishes is vetted: a post's law speaks of convictions (受过刑事处罚, 有罪
/// 判决) and, for posts in contact with minors, of the discretionary non-prosecution the 2020
/// 入职查询意见 (art. 4(2)) names beside them — never of a case still open, an acquittal, a
/// withdrawal or another non-prosecution: those establish nothing against the person.
#[test]
fn a_post_sees_what_a_record_establishes_and_nothing_open_or_acquitted() {
    use Established::{Conviction, DiscretionaryNonProsecution};
    // (charge, what the record establishes, post, covered)
    let rows = [
        ("强奸罪", Some(Conviction), "minors_contact", true),
        (
            "强奸罪",
            Some(DiscretionaryNonProsecution),
            "minors_contact",
            true,
        ),
        // Still open (立案侦查), acquitted, withdrawn, not prosecuted on another ground.
        ("强奸罪", None, "minors_contact", false),
        ("猥亵儿童罪", None, "minors_contact", false),
        ("盗窃罪", Some(Conviction), "civil_servant", true),
        (
            "盗窃罪",
            Some(DiscretionaryNonProsecution),
            "civil_servant",
            false,
        ),
        ("盗窃罪", None, "civil_servant", false),
        (
            "盗窃罪",
            Some(DiscretionaryNonProsecution),
            "security_guard",
            false,
        ),
        ("危险驾驶罪", None, "passenger_driver", false),
        ("危险驾驶罪", Some(Conviction), "passenger_driver", true),
    ];
    for (charge, established, post, expected) in rows {
        let mut record = sealed(charge, None, false);
        record.established = established;
        for kind in [RequesterKind::Employer, RequesterKind::PublicSecurity] {
            assert_eq!(
                sees(kind, post, &record),
                expected,
                "{charge}, {established:?}, {post}, for {}",
                kind.code()
            );
        }
    }
}

/// 教师法第十四条: 受到剥夺政治权利或者故意犯罪受到有期徒刑以上刑事处罚的. 拘役, a fine alone, an
/// exemption and a record without a conviction are outside; a negligent crime counts only with
/// deprivation of political rights.
#[test]
fn a_teacher_post_sees_intentional_fixed_term_or_deprivation_of_political_rights() {
    // (charge, principal punishment, deprivation of political rights, covered)
    let rows = [
        ("盗窃罪", Some(PrincipalKind::FixedTerm), false, true),
        ("盗窃罪", Some(PrincipalKind::Life), false, true),
        (
            "盗窃罪",
            Some(PrincipalKind::CriminalDetention),
            false,
            false,
        ),
        (
            "盗窃罪",
            Some(PrincipalKind::PublicSurveillance),
            false,
            false,
        ),
        (
            "盗窃罪",
            Some(PrincipalKind::SupplementaryOnly),
            false,
            false,
        ),
        ("盗窃罪", Some(PrincipalKind::Exempt), false, false),
        // Not prosecuted, withdrawn, acquitted: no punishment at all.
        ("盗窃罪", None, false, false),
        ("交通肇事罪", Some(PrincipalKind::FixedTerm), false, false),
        ("交通肇事罪", Some(PrincipalKind::FixedTerm), true, true),
        ("盗窃罪", Some(PrincipalKind::CriminalDetention), true, true),
        ("盗窃罪", Some(PrincipalKind::SupplementaryOnly), true, true),
    ];
    for (charge, principal, political_rights, expected) in rows {
        let record = sealed(charge, principal, political_rights);
        for kind in [RequesterKind::Employer, RequesterKind::PublicSecurity] {
            assert_eq!(
                sees(kind, "teacher", &record),
                expected,
                "{charge}, {principal:?}, political rights {political_rights}, for {}",
                kind.code()
            );
        }
    }
}

/// A supervision commission is not a judicial organ (司法机关) under CPL art. 286: it queries as a
/// unit under the Supervision Law (art. 18), and the table cites that.
#[test]
fn a_supervision_commission_queries_under_the_supervision_law() {
    let table = Disclosure::cn_default().unwrap();
    let rule = table
        .rule(RequesterKind::SupervisionCommission, Purpose::CaseHandling)
        .unwrap();
    assert!(rule.may_query && rule.penetrate);
    assert!(rule.basis.contains("监察法第十八条"), "{}", rule.basis);
    assert!(!rule.basis.contains("司法机关为办案需要"), "{}", rule.basis);
    for kind in [
        RequesterKind::Court,
        RequesterKind::Procuratorate,
        RequesterKind::PublicSecurity,
    ] {
        let judicial = table.rule(kind, Purpose::CaseHandling).unwrap();
        assert!(
            judicial.basis.contains("司法机关为办案需要"),
            "{}",
            judicial.basis
        );
        // Art. 18 of the juvenile measures is about unsealing, not about who may query.
        assert!(!judicial.basis.contains("第18条"), "{}", judicial.basis);
    }
}
