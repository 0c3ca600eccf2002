//! Without a grant that covers it, a sealed record is answered exactly as if it did not exist.
//!
//! 100,000 combinations of record histories (one to four records of two or three people, each
//! sealed or not, of various categories), requesters (every kind, two users of each), purposes
//! (every purpose, with and without a vetting post) and grants (covering, expired, not yet valid,
//! revoked, for another person, another purpose, another post, another requester): the answer's
//! bytes must equal the answer computed over the records with every uncovered sealed record
//! removed, and no sealed record may be shown without a covering grant (or as the person's own, on
//! self-inspection).

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_access::{
    Answer, Candidate, Disclosure, Grant, Purpose, Query, RequesterKind, answer, may_approve,
    may_request,
};
use fengcun_domain::{PrincipalKind, Tag, TagSet};
use serde_json::json;

const COMBINATIONS: usize = 100_000;

/// xorshift64*: deterministic, so a failure reproduces from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const PEOPLE: [&str; 3] = ["p-aaaa", "p-bbbb", "p-cccc"];
const POSTS: [Option<&str>; 4] = [
    None,
    Some("minors_contact"),
    Some("passenger_driver"),
    Some("no_such_post"),
];
const CHARGES: [(&str, Option<Tag>, bool); 5] = [
    ("危险驾驶罪", None, true),
    ("盗窃罪", None, true),
    ("故意伤害罪", Some(Tag::Violence), true),
    ("强制猥亵、侮辱罪", Some(Tag::Sexual), true),
    ("交通肇事罪", None, false),
];

fn now() -> jiff::Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn record(rng: &mut Rng, index: usize) -> Candidate {
    let person = PEOPLE[rng.below(3) as usize];
    let (charge, tag, intentional) = CHARGES[rng.below(CHARGES.len() as u64) as usize];
    let case_code = format!("110105-2024-{:06}", 100 + index);
    let tags = tag.map_or(TagSet::default(), |t| TagSet::default().with(t));
    // Every fourth record of a look-up is a public-security violation record (治安管理处罚法
    // art. 136), decided by the table's rules for that kind.
    let violation = index == 3;
    Candidate {
        person_key: person.to_owned(),
        case_code: case_code.clone(),
        kind: if violation {
            fengcun_domain::RecordKind::PublicSecurityViolation
        } else {
            fengcun_domain::RecordKind::Criminal
        },
        sealed: rng.chance(50),
        established: Some(if violation {
            fengcun_access::Established::Penalty
        } else {
            fengcun_access::Established::Conviction
        }),
        tags,
        charges: vec![charge.to_owned()],
        intentional,
        principal: Some(PrincipalKind::CriminalDetention),
        political_rights: false,
        violation_tags: if violation {
            vec!["violence".to_owned()]
        } else {
            Vec::new()
        },
        violation_behaviours: Vec::new(),
        detention: violation,
        summary: json!({"case_code": case_code, "charges": [charge]}),
        full: json!({"case_code": case_code, "charges": [charge], "sentence": {"principal": "criminal_detention", "months": 1 + index}}),
    }
}

fn grant(rng: &mut Rng, query: &Query, records: &[Candidate], index: usize) -> Grant {
    let hour = jiff::SignedDuration::from_hours(1);
    let mut grant = Grant {
        id: format!("G{index}"),
        requester: query.requester.clone(),
        person_key: records
            .get(rng.below(records.len() as u64) as usize)
            .map_or("p-zzzz".to_owned(), |r| r.person_key.clone()),
        purpose: query.purpose,
        post: query.post.clone(),
        not_before: now() - hour * 24,
        expires: now() + hour * 24,
        revoked: false,
    };
    // Most grants are wrong in one way: each must fail to cover.
    match rng.below(8) {
        0 => {}
        1 => grant.expires = now() - hour,
        2 => grant.not_before = now() + hour,
        3 => grant.revoked = true,
        4 => grant.person_key = "p-other".to_owned(),
        5 => grant.purpose = Purpose::ALL[rng.below(5) as usize],
        6 => grant.post = POSTS[rng.below(4) as usize].map(str::to_owned),
        _ => grant.requester = format!("{}-colleague", query.requester),
    }
    grant
}

fn without_uncovered_sealed(
    query: &Query,
    records: &[Candidate],
    grants: &[Grant],
    self_inspection: bool,
) -> Vec<Candidate> {
    records
        .iter()
        .filter(|r| {
            !r.sealed
                || grants.iter().any(|g| g.covers(query, r, now()))
                || (self_inspection && query.own_person_key.as_deref() == Some(&r.person_key))
        })
        .cloned()
        .collect()
}

#[test]
fn a_sealed_record_without_a_covering_grant_is_indistinguishable_from_none() {
    let table = Disclosure::cn_default().unwrap();
    let mut rng = Rng(0x5EA1_ED00_2026_1126);
    let mut shown_sealed = 0usize;
    let mut hidden = 0usize;
    let mut answers = [0usize; 3];
    for case in 0..COMBINATIONS {
        let records: Vec<Candidate> = (0..1 + rng.below(4) as usize)
            .map(|i| record(&mut rng, i))
            .collect();
        let kind = RequesterKind::ALL[rng.below(9) as usize];
        let purpose = Purpose::ALL[rng.below(5) as usize];
        let query = Query {
            requester: format!("{}-{}", kind.code(), rng.below(2)),
            kind,
            purpose,
            post: POSTS[rng.below(4) as usize].map(str::to_owned),
            own_person_key: (kind == RequesterKind::Person)
                .then(|| PEOPLE[rng.below(3) as usize].to_owned()),
        };
        let grants: Vec<Grant> = (0..rng.below(3) as usize)
            .map(|i| grant(&mut rng, &query, &records, i))
            .collect();
        let given = answer(&table, &query, &records, &grants, now());
        let self_inspection = purpose == Purpose::SelfInspection && kind == RequesterKind::Person;
        let visible = without_uncovered_sealed(&query, &records, &grants, self_inspection);
        hidden += records.len() - visible.len();
        let reference = answer(&table, &query, &visible, &grants, now());
        assert_eq!(
            given.to_json(),
            reference.to_json(),
            "case {case}: {query:?} with grants {grants:?} reveals a sealed record"
        );
        match &given {
            Answer::NoRight { .. } => answers[0] += 1,
            Answer::Records(shown) if shown.is_empty() => answers[1] += 1,
            Answer::Records(shown) => {
                answers[2] += 1;
                for s in shown {
                    let record = records.iter().find(|r| r.case_code == s.case_code).unwrap();
                    if record.sealed && !self_inspection {
                        shown_sealed += 1;
                        let grant = grants
                            .iter()
                            .find(|g| Some(&g.id) == s.grant.as_ref())
                            .expect("a sealed record is shown with the grant it was read under");
                        assert!(grant.covers(&query, record, now()), "case {case}");
                    }
                }
            }
        }
    }
    eprintln!(
        "{COMBINATIONS} combinations: {} 无权查询, {} 查无记录, {} with records; {hidden} sealed records hidden, {shown_sealed} shown under a grant",
        answers[0], answers[1], answers[2]
    );
    // The sweep must exercise every branch, or it proves nothing.
    assert!(answers.iter().all(|&n| n > 1000), "{answers:?}");
    assert!(shown_sealed > 1000 && hidden > 10_000);
}

/// Table-driven: each kind and purpose, what the shipped table says.
#[test]
fn the_shipped_table_per_kind_and_purpose() {
    let table = Disclosure::cn_default().unwrap();
    use Purpose::*;
    use RequesterKind::*;
    // (kind, purpose, may query, may penetrate)
    let cases = [
        (Court, CaseHandling, true, true),
        (Procuratorate, CaseHandling, true, true),
        (PublicSecurity, CaseHandling, true, true),
        (StateSecurity, NationalSecurityReview, true, true),
        (SupervisionCommission, CaseHandling, true, true),
        (PublicSecurity, SpecialPostVetting, true, true),
        (JusticeAdministration, CaseHandling, true, false),
        (Person, SelfInspection, true, false),
        (Person, Certificate, true, false),
        (Procuratorate, SpecialPostVetting, true, true),
        (Employer, CaseHandling, false, false),
        (Employer, SpecialPostVetting, true, true),
        (Lawyer, CaseHandling, false, false),
        (Court, SpecialPostVetting, false, false),
    ];
    for (kind, purpose, query, penetrate) in cases {
        let rule = table.rule(kind, purpose);
        assert_eq!(
            rule.is_some_and(|r| r.may_query),
            query,
            "{kind:?} {purpose:?}"
        );
        let request = Query {
            requester: "u".into(),
            kind,
            purpose,
            post: Some("minors_contact".into()),
            own_person_key: None,
        };
        assert_eq!(
            may_request(&table, &request).is_ok(),
            penetrate,
            "{kind:?} {purpose:?}"
        );
    }
    assert!(may_approve("alice", "alice").is_err());
    assert!(may_approve("alice", "bob").is_ok());
}

/// Vetting for posts in close contact with minors sees sexual, abuse, trafficking and violence
/// records only (未成年人保护法 art. 62); a driver's vetting sees traffic crimes only.
#[test]
fn vetting_sees_only_the_posts_categories() {
    let table = Disclosure::cn_default().unwrap();
    let mut rng = Rng(7);
    let mut records: Vec<Candidate> = (0..CHARGES.len()).map(|i| record(&mut rng, i)).collect();
    for (record, (charge, tag, intentional)) in records.iter_mut().zip(CHARGES) {
        record.person_key = "p-aaaa".into();
        record.kind = fengcun_domain::RecordKind::Criminal;
        record.violation_tags.clear();
        record.detention = false;
        record.sealed = true;
        record.charges = vec![charge.to_owned()];
        record.tags = tag.map_or(TagSet::default(), |t| TagSet::default().with(t));
        record.intentional = intentional;
        // 有期徒刑: the teacher's scope covers intentional crimes so punished (教师法 art. 14).
        record.principal = Some(PrincipalKind::FixedTerm);
        record.established = Some(fengcun_access::Established::Conviction);
        record.summary = json!({"case_code": record.case_code, "charges": [charge]});
    }
    let shown = |post: &str| -> Vec<String> {
        let query = Query {
            requester: "vetting-officer".into(),
            kind: RequesterKind::PublicSecurity,
            purpose: Purpose::SpecialPostVetting,
            post: Some(post.into()),
            own_person_key: None,
        };
        let grant = Grant {
            id: "G".into(),
            requester: "vetting-officer".into(),
            person_key: "p-aaaa".into(),
            purpose: Purpose::SpecialPostVetting,
            post: Some(post.into()),
            not_before: now() - jiff::SignedDuration::from_hours(1),
            expires: now() + jiff::SignedDuration::from_hours(1),
            revoked: false,
        };
        match answer(&table, &query, &records, &[grant], now()) {
            Answer::Records(shown) => shown
                .iter()
                .map(|s| s.record["charges"][0].as_str().unwrap().to_owned())
                .collect(),
            Answer::NoRight { .. } => vec!["无权查询".into()],
        }
    };
    assert_eq!(shown("minors_contact"), ["故意伤害罪", "强制猥亵、侮辱罪"]);
    assert_eq!(shown("passenger_driver"), ["危险驾驶罪", "交通肇事罪"]);
    assert_eq!(shown("civil_servant").len(), CHARGES.len());
    assert_eq!(
        shown("teacher"),
        ["危险驾驶罪", "盗窃罪", "故意伤害罪", "强制猥亵、侮辱罪"],
        "negligent crimes do not bar a teacher"
    );
    assert_eq!(shown("no_such_post"), ["无权查询"]);
}
