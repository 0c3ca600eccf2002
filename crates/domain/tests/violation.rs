//! Violation record facts (FORMATS.md, "Violation record facts"): what the 治安管理处罚法 allows is
//! accepted, what it does not is refused naming the field. Expected values written by hand.
#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly")]

use std::path::{Path, PathBuf};

use fengcun_domain::{Disposition, RecordKind, ViolationCatalogue, parse_record};
use serde_json::{Value, json};

/// The example of FORMATS.md, a resident born 1990-03-07 who hit someone on 2026-02-10.
fn example() -> Value {
    json!({
        "record_id": "W-000001",
        "kind": "public_security_violation",
        "case_code": "110105-2026-900012",
        "person": {"id_number": "110105199003070025", "name": "张三", "birth_date": "1990-03-07"},
        "offence_date": "2026-02-10",
        "violations": [{"name": "殴打他人"}],
        "disposition": "penalized",
        "disposition_date": "2026-02-12",
        "penalty": {"warning": false, "fine_yuan": 500, "detention_days": 10, "licence_revoked": false,
                    "deportation": false},
        "decision_effective_date": "2026-02-12",
        "execution_completed_date": "2026-02-22"
    })
}

fn parse(v: &Value) -> Result<fengcun_domain::Record, fengcun_domain::FieldError> {
    parse_record(v.to_string().as_bytes())
}

fn with(mut base: Value, edits: &[(&str, Value)]) -> Value {
    for (path, value) in edits {
        let mut target = &mut base;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        let last = parts[parts.len() - 1];
        if value.is_null() {
            target.as_object_mut().expect("object").remove(last);
        } else {
            target[last] = value.clone();
        }
    }
    base
}

#[test]
fn the_formats_example_is_a_penalized_violation_record() {
    let record = parse(&example()).expect("the FORMATS.md example is valid");
    assert_eq!(record.kind, RecordKind::PublicSecurityViolation);
    assert_eq!(record.disposition, Disposition::Penalized);
    let penalty = record.penalty.expect("penalty");
    assert_eq!((penalty.fine_yuan, penalty.detention_days), (500, 10));
    assert_eq!(penalty.chinese(), "行政拘留十日，罚款五百元");
    assert_eq!(
        ViolationCatalogue::builtin()
            .get(record.violations[0])
            .article,
        "43"
    );
    assert!(record.charges.is_empty() && record.sentence.is_none());
    // Written back and read again: the same record.
    let again = parse(&record.to_json()).expect("written facts read back");
    assert_eq!(again, record);
}

/// Each penalty kind of art. 10, alone (the measures for foreigners only in addition to one).
#[test]
fn each_penalty_kind_is_accepted() {
    let foreigner = json!({"name": "JOHN SMITH", "birth_date": "1990-03-07"});
    #[rustfmt::skip]
    let table: [(&str, &str, Value, Value, &str); 6] = [
        ("warning", "扰乱公共场所秩序", json!({"warning": true}), Value::Null, "警告"),
        ("fine", "赌博", json!({"fine_yuan": 500}), Value::Null, "罚款五百元"),
        ("detention", "盗窃", json!({"detention_days": 5}), Value::Null, "行政拘留五日"),
        ("licence", "擅自经营需公安机关许可的行业", json!({"licence_revoked": true}), Value::Null, "吊销公安机关发放的许可证件"),
        ("deadline to leave", "殴打他人", json!({"fine_yuan": 500, "deadline_to_leave": true}), foreigner.clone(), "罚款五百元，限期出境"),
        ("deportation", "吸毒", json!({"detention_days": 15, "deportation": true}), foreigner, "行政拘留十五日，驱逐出境"),
    ];
    for (what, behaviour, penalty, person, chinese) in table {
        let mut facts = with(
            example(),
            &[
                ("violations", json!([{"name": behaviour}])),
                ("penalty", penalty),
                ("execution_completed_date", Value::Null),
            ],
        );
        if !person.is_null() {
            facts["person"] = person;
        }
        let record = parse(&facts).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            record.penalty.expect("penalty").chinese(),
            chinese,
            "{what}"
        );
    }
}

/// Art. 16: several behaviours, decided separately and executed together, at most 20 days; one
/// behaviour at most its article's term (15 for the heaviest).
#[test]
fn detention_within_the_articles_and_the_combined_limit() {
    let two = json!([{"name": "殴打他人"}, {"name": "故意损毁财物"}]);
    #[rustfmt::skip]
    let table: [(&str, Value, u32, Option<&str>); 7] = [
        ("two behaviours, 20 days combined", two.clone(), 20, None),
        ("two behaviours, 21 days combined", two.clone(), 21, Some("penalty.detention_days")),
        ("two behaviours, 25 days", two, 25, Some("penalty.detention_days")),
        ("one behaviour of art. 43, 15 days", json!([{"name": "殴打他人"}]), 15, None),
        ("one behaviour, 16 days", json!([{"name": "殴打他人"}]), 16, Some("penalty.detention_days")),
        ("侮辱 (art. 42: at most 10 days), 11 days", json!([{"name": "侮辱"}]), 11, Some("penalty.detention_days")),
        ("制造噪声 (art. 58: no detention), 1 day", json!([{"name": "制造噪声干扰他人正常生活"}]), 1, Some("penalty.detention_days")),
    ];
    for (what, violations, days, refused) in table {
        let facts = with(
            example(),
            &[
                ("violations", violations),
                ("penalty", json!({"detention_days": days})),
                ("execution_completed_date", Value::Null),
            ],
        );
        match (parse(&facts), refused) {
            (Ok(record), None) => {
                assert_eq!(
                    record.penalty.expect("penalty").detention_days,
                    days,
                    "{what}"
                )
            }
            (Err(e), Some(field)) => assert_eq!(e.field, field, "{what}: {e}"),
            (Ok(_), Some(field)) => panic!("{what}: accepted, expected refused on {field}"),
            (Err(e), None) => panic!("{what}: refused: {e}"),
        }
    }
}

/// Art. 12: no penalty for a person under 14 at the act; 14 from the day after the 14th birthday.
#[test]
fn a_fourteen_year_old_may_be_penalized_a_thirteen_year_old_not() {
    let person = json!({"birth_date": "2012-02-10"});
    #[rustfmt::skip]
    let table: [(&str, &str, &str, Option<&str>); 4] = [
        ("14 years and a day", "2026-02-11", "penalized", None),
        ("on the 14th birthday: still 13", "2026-02-10", "penalized", Some("penalty")),
        ("13, not penalized", "2026-02-10", "not_penalized", None),
        ("13, penalized", "2025-08-01", "penalized", Some("penalty")),
    ];
    for (what, offence, disposition, refused) in table {
        let mut facts = with(
            example(),
            &[
                ("offence_date", json!(offence)),
                ("disposition", json!(disposition)),
                ("disposition_date", json!("2026-02-12")),
                ("penalty", json!({"warning": true})),
                ("decision_effective_date", json!("2026-02-12")),
                ("execution_completed_date", Value::Null),
            ],
        );
        facts["person"] = person.clone();
        if disposition != "penalized" {
            for field in ["penalty", "decision_effective_date"] {
                facts.as_object_mut().expect("object").remove(field);
            }
        }
        match (parse(&facts), refused) {
            (Ok(_), None) => {}
            (Err(e), Some(field)) => {
                assert_eq!(e.field, field, "{what}: {e}");
                assert!(e.to_string().contains("art. 12"), "{what}: {e}");
            }
            (Ok(_), Some(field)) => panic!("{what}: accepted, expected refused on {field}"),
            (Err(e), None) => panic!("{what}: refused: {e}"),
        }
    }
}

/// (what, edits to the example, the field named).
type Invalid = (&'static str, Vec<(&'static str, Value)>, &'static str);

/// Every fact the law or the format does not allow, refused with the field it is about.
#[test]
fn every_invalid_fact_is_refused_with_its_field() {
    #[rustfmt::skip]
    let table: Vec<Invalid> = vec![
        ("unknown kind", vec![("kind", json!("traffic"))], "kind"),
        ("unknown behaviour", vec![("violations", json!([{"name": "醉驾"}]))], "violations[0].name"),
        ("wrong article", vec![("violations", json!([{"name": "殴打他人", "article": "49"}]))], "violations[0].article"),
        ("a criminal disposition", vec![("disposition", json!("convicted"))], "disposition"),
        ("penalized without a penalty", vec![("penalty", Value::Null)], "penalty"),
        ("penalized without a behaviour", vec![("violations", Value::Null)], "violations"),
        ("a penalty of no kind", vec![("penalty", json!({"warning": false}))], "penalty"),
        ("a fine of 0", vec![("penalty", json!({"fine_yuan": 0, "warning": true}))], "penalty.fine_yuan"),
        ("a detention of 0", vec![("penalty", json!({"detention_days": 0, "warning": true}))], "penalty.detention_days"),
        ("a detention of 25 days", vec![("penalty", json!({"detention_days": 25}))], "penalty.detention_days"),
        ("deportation of a resident", vec![("penalty", json!({"fine_yuan": 200, "deportation": true}))], "penalty.deportation"),
        ("an unknown penalty field", vec![("penalty", json!({"fine": 200}))], "penalty.fine"),
        ("a penalty not penalized", vec![("disposition", json!("not_penalized")), ("decision_effective_date", Value::Null), ("execution_completed_date", Value::Null)], "penalty"),
        ("a charge on a violation", vec![("charges", json!([{"name": "盗窃罪"}]))], "charges"),
        ("a sentence on a violation", vec![("sentence", json!({"principal": "criminal_detention", "months": 1}))], "sentence"),
        ("prior convictions on a violation", vec![("prior_convictions", json!(0))], "prior_convictions"),
        ("decision before the offence", vec![("disposition_date", json!("2026-02-09")), ("decision_effective_date", Value::Null), ("execution_completed_date", Value::Null)], "disposition_date"),
        ("effect before the decision", vec![("decision_effective_date", json!("2026-02-11"))], "decision_effective_date"),
        ("executed before the effect", vec![("execution_completed_date", json!("2026-02-11"))], "execution_completed_date"),
        ("executed with no effect", vec![("decision_effective_date", Value::Null)], "decision_effective_date"),
        ("offence before birth", vec![("person", json!({"birth_date": "2026-03-01"}))], "offence_date"),
        ("a bad date", vec![("offence_date", json!("2026-02-30"))], "offence_date"),
    ];
    for (what, edits, field) in table {
        let facts = with(example(), &edits);
        match parse(&facts) {
            Ok(_) => panic!("{what}: accepted, expected refused on {field}"),
            Err(e) => assert_eq!(e.field, field, "{what}: {e}"),
        }
    }
    // A criminal line does not take a violation's fields.
    let criminal = json!({"record_id": "R-1", "disposition": "open", "penalty": {"warning": true}});
    assert_eq!(parse(&criminal).expect_err("refused").field, "penalty");
}

/// A decision revoked on reconsideration is a withdrawn case: no penalty, sealed on its date.
#[test]
fn withdrawn_and_open_violation_records() {
    let withdrawn = with(
        example(),
        &[
            ("disposition", json!("withdrawn")),
            ("disposition_date", json!("2026-04-01")),
            ("penalty", Value::Null),
            ("decision_effective_date", Value::Null),
            ("execution_completed_date", Value::Null),
        ],
    );
    let record = parse(&withdrawn).expect("withdrawn");
    assert_eq!(record.disposition, Disposition::Withdrawn);
    assert_eq!(record.disposition.code(), "withdrawn");
    let open = json!({"record_id": "W-2", "kind": "public_security_violation",
                      "violations": [{"name": "盗窃"}], "disposition": "open"});
    assert_eq!(parse(&open).expect("open").disposition, Disposition::Open);
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            text_files(&path, out);
        } else if ["rs", "md", "toml", "ndjson", "json", "tsv"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
        {
            out.push(path);
        }
    }
}

/// Every behaviour named in a `violations` list anywhere in the project (code, tests, docs, data,
/// examples, FORMATS.md) is in the catalogue — except the deliberately unknown ones tests use.
#[test]
fn every_behaviour_name_used_in_the_project_resolves() {
    let list =
        regex::Regex::new(r#"(?s)"violations"\s*[:,]\s*(?:json!\()?\[(.*?)\]"#).expect("regex");
    let name = regex::Regex::new(r#""name"\s*:\s*"([^"]+)""#).expect("regex");
    let deliberately_unknown = ["醉驾"];
    let mut files = Vec::new();
    for dir in ["crates", "docs", "data", "examples"] {
        text_files(&repository().join(dir), &mut files);
    }
    files.push(repository().join("../shared/docs/FORMATS.md"));
    let catalogue = ViolationCatalogue::builtin();
    let mut seen = 0;
    let mut unknown = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for list in list.captures_iter(&text) {
            for n in name.captures_iter(&list[1]) {
                seen += 1;
                let n = &n[1];
                if catalogue.resolve(n).is_none() && !deliberately_unknown.contains(&n) {
                    unknown.push(format!("{}: {n}", file.display()));
                }
            }
        }
    }
    assert!(
        seen >= 3,
        "the scan found the project's behaviour names ({seen})"
    );
    assert!(
        unknown.is_empty(),
        "names not in data/violations.tsv: {unknown:#?}"
    );
}

/// The catalogue: every row has an article and a detention within the law's limit for one behaviour.
#[test]
fn the_catalogue_is_whole() {
    let catalogue = ViolationCatalogue::builtin();
    assert!(catalogue.all().len() >= 90, "{}", catalogue.all().len());
    for name in [
        "殴打他人",
        "盗窃",
        "寻衅滋事",
        "故意损毁财物",
        "吸毒",
        "嫖娼",
        "赌博",
    ] {
        assert!(catalogue.resolve(name).is_some(), "{name}");
    }
    assert!(catalogue.all().iter().all(|b| b.detention_max_days <= 15));
    assert_eq!(catalogue.resolve("寻衅滋事").expect("known").article, "26");
    assert_eq!(
        catalogue.resolve("吸毒").expect("known").detention_max_days,
        15
    );
}
