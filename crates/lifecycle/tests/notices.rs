//! Notices read as official documents (issue 14, decision 7): the issuing authority at the foot,
//! the instrument the policy is in force under (never the policy's own name), only the rules that
//! decided the case, each citation once, and for an unsealing the judgment that lifted the seal
//! and where and by when an objection is made. Notices sealed before these were kept render as
//! they were issued.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, Disposition, parse_record};
use fengcun_lifecycle::{NoticeFacts, NoticeKind, Recipient, TriggeringJudgment, render_notice};
use fengcun_policy::{Outcome, Policy, cite_once, evaluate};
use serde_json::json;

const POLICY: &str = r#"
[policy]
name = "test-notices"
version = "1"
title = "测试封存方案"
jurisdiction = "CN"
source = "测试来源"
instrument = "《测试封存办法》（试行）"

[[rule]]
id = "final_disposition"
title = "案件已经终结"
basis = "《测试封存办法》第三条"
require = { disposition = ["convicted", "not_prosecuted"] }
holds = "已终结"
fails = "未终结"

[[rule]]
id = "threshold"
title = "三年有期徒刑以下"
basis = "《测试封存办法》第三条；《刑法》第九十九条（以下包括本数）"
applies = { disposition = ["convicted"] }
require = { sentence_at_most = { principal = "fixed_term", months = 36 } }
holds = "三年以下"
fails = "超过三年"

[[rule]]
id = "non_prosecution_only"
title = "不起诉记录"
basis = "《测试封存办法》第九条：不起诉记录"
applies = { disposition = ["not_prosecuted"] }
require = { disposition = ["not_prosecuted"] }
holds = "不起诉"
fails = "—"

[[timing]]
id = "on_judgment_effective"
basis = "《测试封存办法》第四条：判决生效时封存"
applies = { disposition = ["convicted"] }
anchor = "judgment_effective"
text = "判决生效时封存"

[[timing]]
id = "after_execution"
basis = "《测试封存办法》第五条：一年以上刑期执行完毕二年后封存"
applies = { sentence_above = { principal = "fixed_term", months = 12 } }
anchor = "execution_completed"
wait = { years = 2 }
text = "执行完毕二年后封存"

[[unseal]]
id = "unseal_new_crime"
trigger = "new_conviction"
basis = "《测试封存办法》第八条：再犯新罪的，解除封存；《测试封存办法》第八条"
text = "再犯新罪被判处刑罚，解除封存"
"#;

const ID: &str = "110105199003070025";

fn record(months: u32) -> fengcun_domain::Record {
    let line = json!({
        "record_id": "R-1", "case_code": "110105-2024-000123",
        "person": {"id_number": ID, "name": "张三", "birth_date": "1990-03-07"},
        "offence_date": "2024-01-10",
        "charges": [{"name": "盗窃罪"}],
        "disposition": "convicted", "disposition_date": "2024-03-01",
        "sentence": {"principal": "fixed_term", "months": months},
        "judgment_effective_date": "2024-03-12",
        "execution_completed_date": "2025-09-01",
        "recidivist": false, "prior_convictions": 0
    });
    parse_record(&serde_json::to_vec(&line).unwrap()).unwrap()
}

fn court() -> Recipient {
    Recipient::Agency {
        agency: serde_json::from_value(
            json!({"kind": "public_security", "code": "110105-ga", "name": "北京市公安局朝阳分局"}),
        )
        .unwrap(),
        document_number: Some("京公朝立字〔2024〕123号".into()),
    }
}

/// The text between `依据：` and the next `。`.
fn basis_line(body: &str) -> &str {
    let from = body.find("依据：").expect(body) + "依据：".len();
    let rest = &body[from..];
    &rest[..rest.find('。').expect(body)]
}

struct Row {
    what: &'static str,
    kind: NoticeKind,
    recipient: Recipient,
    months: u32,
    /// Configured: authority, instrument kept, objection route.
    issued_now: bool,
    judgment: bool,
    basis: &'static str,
    contains: &'static [&'static str],
    lacks: &'static [&'static str],
}

#[test]
fn notices_name_authority_instrument_deciding_rules_judgment_and_objection_route() {
    let policy = Policy::from_toml("test-notices.toml", POLICY).unwrap();
    let triggering = TriggeringJudgment {
        court: "北京市朝阳区人民法院".into(),
        court_code: "110105-fy".into(),
        case_number: Some("（2026）京0105刑初88号".into()),
        date: Date::constant(2026, 5, 10),
        effective: Some(Date::constant(2026, 5, 21)),
    };
    let rows = [
        Row {
            what: "a seal decided by the judgment's effect: the later timing rule is not in scope",
            kind: NoticeKind::Seal,
            recipient: court(),
            months: 6,
            issued_now: true,
            judgment: false,
            basis: "《测试封存办法》第三条；《刑法》第九十九条（以下包括本数）；《测试封存办法》第四条：判决生效时封存",
            contains: &[
                "北京市公安局朝阳分局：\n    根据《测试封存办法》（试行），张三（公民身份号码110105199003070025）在案件110105-2024-000123（你单位文书编号京公朝立字〔2024〕123号）中的犯罪记录，自2024年3月12日起予以封存。",
                "请收到后回执确认。\n\n北京市朝阳区人民法院\n2026年6月1日",
            ],
            lacks: &["测试封存方案", "第五条", "第九条", "异议"],
        },
        Row {
            what: "a seal decided by the later candidate: the earlier timing rule did not decide it",
            kind: NoticeKind::Seal,
            recipient: Recipient::Person,
            months: 18,
            issued_now: true,
            judgment: false,
            basis: "《测试封存办法》第三条；《刑法》第九十九条（以下包括本数）；《测试封存办法》第五条：一年以上刑期执行完毕二年后封存",
            contains: &[
                "张三：\n    你在案件110105-2024-000123中的犯罪记录，已根据《测试封存办法》（试行）自2027年9月1日起予以封存。",
                "\n\n北京市朝阳区人民法院\n2026年6月1日",
            ],
            lacks: &["测试封存方案", "第四条", "第九条"],
        },
        Row {
            what: "an unseal names the judgment that lifted the seal and the objection route",
            kind: NoticeKind::Unseal,
            recipient: court(),
            months: 6,
            issued_now: true,
            judgment: true,
            basis: "《测试封存办法》第八条：再犯新罪的，解除封存",
            contains: &[
                "北京市公安局朝阳分局：\n    张三（公民身份号码110105199003070025）在案件110105-2024-000123（你单位文书编号京公朝立字〔2024〕123号）中被封存的犯罪记录，因北京市朝阳区人民法院2026年5月10日作出的（2026）京0105刑初88号刑事判决（2026年5月21日发生法律效力），再犯新罪被判处刑罚，自2026年6月1日起解除封存。",
                "你单位对解除封存有异议的，可以自收到本通知书之日起30日内向北京市朝阳区人民检察院提出。",
                "\n\n北京市朝阳区人民法院\n2026年6月1日",
            ],
            lacks: &["测试封存方案", "第三条"],
        },
        Row {
            what: "the person's unseal: the same judgment and route, addressed to the person",
            kind: NoticeKind::Unseal,
            recipient: Recipient::Person,
            months: 6,
            issued_now: true,
            judgment: true,
            basis: "《测试封存办法》第八条：再犯新罪的，解除封存",
            contains: &[
                "因北京市朝阳区人民法院2026年5月10日作出的（2026）京0105刑初88号刑事判决（2026年5月21日发生法律效力），再犯新罪被判处刑罚，自2026年6月1日起解除封存",
                "你对解除封存有异议的，可以自收到本通知书之日起30日内向北京市朝阳区人民检察院提出。",
            ],
            lacks: &["公民身份号码", "依法提出"],
        },
        Row {
            what: "a notice sealed before authority and instrument were kept reads as it was issued",
            kind: NoticeKind::Unseal,
            recipient: Recipient::Person,
            months: 6,
            issued_now: false,
            judgment: false,
            basis: "《测试封存办法》第八条：再犯新罪的，解除封存",
            contains: &[
                "，因再犯新罪被判处刑罚，解除封存，自2026年6月1日起解除封存。",
                "如对本决定有异议，可以依法提出。\n\n2026年6月1日",
            ],
            lacks: &["北京市朝阳区人民法院", "刑事判决"],
        },
    ];
    let today = Date::constant(2026, 6, 1);
    let unseal = &policy.unseals[0];
    for row in rows {
        let record = record(row.months);
        let decision = evaluate(&policy, &record, today);
        let (basis, effective) = match row.kind {
            NoticeKind::Seal => {
                assert!(decision.outcome.is_eligible(), "{}", row.what);
                (
                    decision.deciding_bases(&policy),
                    decision.effective_date.unwrap(),
                )
            }
            NoticeKind::Unseal => (cite_once([unseal.basis.as_str()]), today),
        };
        let notice = render_notice(
            row.kind,
            &row.recipient,
            &NoticeFacts {
                number: "FC-N-1",
                case_code: "110105-2024-000123",
                person_name: Some("张三"),
                id_number: Some(ID),
                effective,
                issued: today,
                policy_title: &policy.meta.title,
                instrument: row.issued_now.then(|| policy.meta.instrument()),
                basis: &basis,
                authority: row.issued_now.then_some("北京市朝阳区人民法院"),
                judgment: row.judgment.then_some(&triggering),
                objection_body: row.issued_now.then_some("北京市朝阳区人民检察院"),
                objection_days: row.issued_now.then_some(30),
                reason: (row.kind == NoticeKind::Unseal).then_some(unseal.text.as_str()),
                disposition: Disposition::Convicted,
            },
        );
        let body = &notice.body;
        assert_eq!(basis_line(body), row.basis, "{}: {body}", row.what);
        for text in row.contains {
            assert!(body.contains(text), "{}: wants {text}\n{body}", row.what);
        }
        for text in row.lacks {
            assert!(
                !body.contains(text),
                "{}: must not say {text}\n{body}",
                row.what
            );
        }
    }
    // Old notices cite the policy's title, as they did when issued.
    let old = render_notice(
        NoticeKind::Seal,
        &Recipient::Person,
        &NoticeFacts {
            number: "FC-N-1",
            case_code: "110105-2024-000123",
            person_name: Some("张三"),
            id_number: None,
            effective: today,
            issued: today,
            policy_title: "测试封存方案",
            instrument: None,
            basis: &["旧依据".to_owned()],
            authority: None,
            judgment: None,
            objection_body: None,
            objection_days: None,
            reason: None,
            disposition: Disposition::Convicted,
        },
    );
    assert!(
        old.body
            .contains("已根据《测试封存方案》自2026年6月1日起予以封存"),
        "{}",
        old.body
    );
    assert!(
        old.body.ends_with("依据：旧依据。\n\n2026年6月1日"),
        "{}",
        old.body
    );
    assert_eq!(Outcome::Seal, evaluate(&policy, &record(6), today).outcome);
}

/// Each citation once: repeated ones go, a bare reference gives way to the same reference with a
/// gloss, and two different glosses of one reference both stay.
#[test]
fn each_citation_once() {
    for (bases, cited) in [
        (
            vec![
                "《刑事诉讼法》第二百八十六条；《刑法》第九十九条",
                "《刑事诉讼法》第二百八十六条",
                "《刑事诉讼法》第二百八十六条：应当对相关犯罪记录予以封存",
            ],
            vec![
                "《刑事诉讼法》第二百八十六条：应当对相关犯罪记录予以封存",
                "《刑法》第九十九条",
            ],
        ),
        (
            vec![
                "调研报告二(四)：以刑事程序终结为节点启动封存",
                "调研报告二(四)",
                "调研报告二(四)：一至二年刑期的案件执行完毕二年后封存",
            ],
            vec![
                "调研报告二(四)：以刑事程序终结为节点启动封存",
                "调研报告二(四)：一至二年刑期的案件执行完毕二年后封存",
            ],
        ),
        (vec!["甲；；甲 ", "乙"], vec!["甲", "乙"]),
    ] {
        assert_eq!(cite_once(bases.iter().copied()), cited);
    }
}
