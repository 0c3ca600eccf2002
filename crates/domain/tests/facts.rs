//! The record-facts format: valid lines parse, and every impossible fact is refused with its field.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Disposition, PrincipalKind, parse_record};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "record_id": "R-000001",
        "case_code": "110105-2024-000123",
        "person": {"id_number": "110105199003070025", "name": "张三", "birth_date": "1990-03-07"},
        "offence_date": "2024-01-10",
        "charges": [{"name": "危险驾驶罪", "article": "133之一", "culpability": "intentional"}],
        "disposition": "convicted",
        "disposition_date": "2024-03-01",
        "sentence": {"principal": "criminal_detention", "months": 3, "probation_months": 6,
                     "fine_yuan": 3000, "political_rights_months": 0},
        "judgment_effective_date": "2024-03-01",
        "execution_completed_date": "2024-09-01",
        "recidivist": false,
        "prior_convictions": 0,
        "conditions": {"civil_compensation_fulfilled": true, "victim_forgiveness": null, "plea": true}
    })
}

/// Applies `path = value` edits (dotted paths; `null` removes).
fn edit(edits: &[(&str, Value)]) -> Vec<u8> {
    let mut record = base();
    for (path, value) in edits {
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().expect("path");
        let mut target = &mut record;
        for part in parts {
            target = &mut target[part];
        }
        let object = target.as_object_mut().expect("object");
        if value.is_null() {
            object.remove(last);
        } else {
            object.insert(last.to_owned(), value.clone());
        }
    }
    serde_json::to_vec(&record).expect("json")
}

#[test]
fn the_formats_md_example_parses() {
    let record = parse_record(&edit(&[])).expect("valid");
    assert_eq!(record.record_id, "R-000001");
    assert_eq!(record.disposition, Disposition::Convicted);
    let sentence = record.sentence.expect("sentence");
    assert_eq!(
        (
            sentence.kind(),
            sentence.principal.months,
            sentence.probation_months
        ),
        (PrincipalKind::CriminalDetention, 3, Some(6))
    );
    assert_eq!(record.conditions.victim_forgiveness, None);
    assert_eq!(record.first_offender(), Some(true));
}

#[test]
fn record_id_defaults_to_case_code_and_id_number() {
    let record = parse_record(&edit(&[("record_id", Value::Null)])).expect("valid");
    assert_eq!(record.record_id, "110105-2024-000123:110105199003070025");
    let error = parse_record(&edit(&[
        ("record_id", Value::Null),
        ("case_code", Value::Null),
    ]))
    .expect_err("no id");
    assert_eq!(error.field, "record_id");
}

/// An edit that breaks the facts, the field the error must name, a word of the message.
type BrokenFacts = (
    &'static str,
    Vec<(&'static str, Value)>,
    &'static str,
    &'static str,
);

/// Each row: an edit that makes the facts impossible or malformed, the field the error must name,
/// and a word of the message.
#[test]
fn impossible_facts_are_refused_naming_the_field() {
    let s = |v: Value| v;
    let cases: Vec<BrokenFacts> = vec![
        (
            "拘役 of seven months (art. 42)",
            vec![(
                "sentence",
                s(json!({"principal": "criminal_detention", "months": 7})),
            )],
            "sentence.months",
            "1 to 6",
        ),
        (
            "拘役 of zero months",
            vec![(
                "sentence",
                s(json!({"principal": "criminal_detention", "months": 0})),
            )],
            "sentence.months",
            "art. 42",
        ),
        (
            "combined 拘役 over a year (art. 69)",
            vec![
                (
                    "charges",
                    json!([{"name": "危险驾驶罪"}, {"name": "妨害公务罪"}]),
                ),
                (
                    "sentence",
                    s(json!({"principal": "criminal_detention", "months": 13})),
                ),
            ],
            "sentence.months",
            "1 year",
        ),
        (
            "管制 of two months (art. 38)",
            vec![(
                "sentence",
                s(json!({"principal": "public_surveillance", "months": 2})),
            )],
            "sentence.months",
            "art. 38",
        ),
        (
            "管制 over two years",
            vec![(
                "sentence",
                s(json!({"principal": "public_surveillance", "months": 25})),
            )],
            "sentence.months",
            "2 years",
        ),
        (
            "combined 管制 over three years",
            vec![(
                "sentence",
                s(json!({"principal": "public_surveillance", "months": 37, "combined": true})),
            )],
            "sentence.months",
            "3 years",
        ),
        (
            "有期徒刑 under six months (art. 45)",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 5})),
            )],
            "sentence.months",
            "art. 45",
        ),
        (
            "有期徒刑 over fifteen years for one crime",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 181})),
            )],
            "sentence.months",
            "15 years",
        ),
        (
            "combined 有期徒刑 over 25 years",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 301, "combined": true})),
            )],
            "sentence.months",
            "25 years",
        ),
        (
            "有期徒刑 without a term",
            vec![("sentence", s(json!({"principal": "fixed_term"})))],
            "sentence.months",
            "required",
        ),
        (
            "a term on a life sentence",
            vec![("sentence", s(json!({"principal": "life", "months": 12})))],
            "sentence.months",
            "no term",
        ),
        (
            "probation on 管制 (art. 72)",
            vec![(
                "sentence",
                s(json!({"principal": "public_surveillance", "months": 6, "probation_months": 12})),
            )],
            "sentence.probation_months",
            "art. 72",
        ),
        (
            "probation on four years",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 48, "probation_months": 60})),
            )],
            "sentence.probation_months",
            "3 years",
        ),
        (
            "probation for a recidivist (art. 74)",
            vec![("recidivist", json!(true)), ("prior_convictions", json!(1))],
            "sentence.probation_months",
            "art. 74",
        ),
        (
            "probation shorter than the sentence",
            vec![(
                "sentence",
                s(json!({"principal": "criminal_detention", "months": 5, "probation_months": 4})),
            )],
            "sentence.probation_months",
            "not shorter",
        ),
        (
            "拘役 probation over a year",
            vec![(
                "sentence",
                s(json!({"principal": "criminal_detention", "months": 3, "probation_months": 13})),
            )],
            "sentence.probation_months",
            "2 months to 1 year",
        ),
        (
            "有期徒刑 probation under a year",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 6, "probation_months": 11})),
            )],
            "sentence.probation_months",
            "1 to 5 years",
        ),
        (
            "有期徒刑 probation over five years",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 36, "probation_months": 61})),
            )],
            "sentence.probation_months",
            "1 to 5 years",
        ),
        (
            "a fine with exemption (art. 37)",
            vec![(
                "sentence",
                s(json!({"principal": "exempt", "fine_yuan": 100})),
            )],
            "sentence.fine_yuan",
            "art. 37",
        ),
        (
            "supplementary alone with nothing",
            vec![("sentence", s(json!({"principal": "supplementary_only"})))],
            "sentence.fine_yuan",
            "supplementary",
        ),
        (
            "political rights over five years",
            vec![(
                "sentence",
                s(json!({"principal": "fixed_term", "months": 12, "political_rights_months": 61})),
            )],
            "sentence.political_rights_months",
            "art. 55",
        ),
        (
            "an unknown punishment",
            vec![("sentence", s(json!({"principal": "prison", "months": 12})))],
            "sentence.principal",
            "prison",
        ),
        (
            "a conviction without a sentence",
            vec![("sentence", Value::Null)],
            "sentence",
            "required",
        ),
        (
            "a sentence without a conviction",
            vec![
                ("disposition", json!("acquitted")),
                ("execution_completed_date", Value::Null),
            ],
            "sentence",
            "only for",
        ),
        (
            "a conviction without charges",
            vec![("charges", json!([]))],
            "charges",
            "required",
        ),
        (
            "an unknown charge",
            vec![("charges", json!([{"name": "醉酒驾驶罪"}]))],
            "charges[0].name",
            "醉酒驾驶罪",
        ),
        (
            "the wrong article",
            vec![("charges", json!([{"name": "危险驾驶罪", "article": "133"}]))],
            "charges[0].article",
            "133之一",
        ),
        (
            "an unknown culpability",
            vec![(
                "charges",
                json!([{"name": "危险驾驶罪", "culpability": "reckless"}]),
            )],
            "charges[0].culpability",
            "reckless",
        ),
        (
            "an unknown disposition",
            vec![("disposition", json!("pardoned"))],
            "disposition",
            "pardoned",
        ),
        (
            "a wrong check character",
            vec![("person.id_number", json!("110105199003070021"))],
            "person.id_number",
            "check character",
        ),
        (
            "a birth date contradicting the identity number",
            vec![("person.birth_date", json!("1990-03-08"))],
            "person.birth_date",
            "contradicts",
        ),
        (
            "a malformed date",
            vec![("offence_date", json!("2024/01/10"))],
            "offence_date",
            "YYYY-MM-DD",
        ),
        (
            "a date not in the calendar",
            vec![("offence_date", json!("2023-02-29"))],
            "offence_date",
            "calendar",
        ),
        (
            "judgment before the offence",
            vec![("disposition_date", json!("2023-12-31"))],
            "disposition_date",
            "before",
        ),
        (
            "execution completed before the judgment took effect",
            vec![("execution_completed_date", json!("2024-02-01"))],
            "execution_completed_date",
            "before",
        ),
        (
            "a conviction for an offence at eleven (art. 17)",
            vec![("person", json!({"birth_date": "2013-01-01"}))],
            "offence_date",
            "under 12",
        ),
        (
            "a recidivist with no prior conviction",
            vec![
                ("recidivist", json!(true)),
                (
                    "sentence",
                    json!({"principal": "criminal_detention", "months": 3}),
                ),
            ],
            "prior_convictions",
            "at least one",
        ),
        (
            "a recidivist for a negligent crime (art. 65)",
            vec![
                ("recidivist", json!(true)),
                ("prior_convictions", json!(1)),
                ("charges", json!([{"name": "交通肇事罪"}])),
                ("sentence", json!({"principal": "fixed_term", "months": 12})),
            ],
            "recidivist",
            "negligent",
        ),
        (
            "a recidivist for a crime under 18 (art. 65)",
            vec![
                ("recidivist", json!(true)),
                ("prior_convictions", json!(1)),
                ("person", json!({"birth_date": "2007-01-01"})),
                (
                    "sentence",
                    json!({"principal": "criminal_detention", "months": 3}),
                ),
            ],
            "recidivist",
            "under 18",
        ),
        (
            "a wrong type",
            vec![("prior_convictions", json!("none"))],
            "prior_convictions",
            "invalid type",
        ),
        (
            "a misspelt field",
            vec![("recidivst", json!(false))],
            "recidivst",
            "unknown field",
        ),
        (
            "a ground for a conviction",
            vec![("non_prosecution_ground", json!("discretionary"))],
            "non_prosecution_ground",
            "only for",
        ),
        (
            "a malformed case code",
            vec![("case_code", json!("(2024)京0105刑初123号"))],
            "case_code",
            "RRRRRR",
        ),
    ];
    for (what, edits, field, word) in cases {
        let error = parse_record(&edit(&edits)).expect_err(what);
        assert_eq!(error.field, field, "{what}: {error}");
        assert!(
            error.to_string().contains(word),
            "{what}: `{error}` lacks `{word}`"
        );
    }
}

#[test]
fn broken_json_is_refused_with_a_message() {
    let error = parse_record(b"{\"record_id\": \"x\", ").expect_err("truncated");
    assert!(
        error.to_string().contains("JSON") || error.to_string().contains("EOF"),
        "{error}"
    );
}

/// Issue 14, decisions 3 and 4: `main_conduct_under_18` (acts straddling the 18th birthday) and
/// `sealed_juvenile_priors` (how many of `prior_convictions` are sealed juvenile records) are
/// read; `true` is allowed whatever the ages the dates give (that is its point); the sealed
/// juvenile priors are some of the prior convictions, never without them and never more.
#[test]
fn straddling_acts_and_sealed_juvenile_priors_are_read_and_checked() {
    // The FORMATS.md example is 33 at its offence: `true` says the main conduct came before 18.
    let record = parse_record(&edit(&[
        ("main_conduct_under_18", json!(true)),
        ("prior_convictions", json!(2)),
        ("sealed_juvenile_priors", json!(1)),
    ]))
    .expect("valid");
    assert_eq!(record.main_conduct_under_18, Some(true));
    assert_eq!(
        (record.prior_convictions, record.sealed_juvenile_priors),
        (Some(2), Some(1))
    );
    let record = parse_record(&edit(&[("main_conduct_under_18", json!(false))])).expect("valid");
    assert_eq!(record.main_conduct_under_18, Some(false));
    assert_eq!(
        parse_record(&edit(&[]))
            .expect("valid")
            .main_conduct_under_18,
        None
    );
    let refused = [
        (
            vec![
                ("prior_convictions", json!(1)),
                ("sealed_juvenile_priors", json!(2)),
            ],
            "sealed_juvenile_priors",
            "more sealed juvenile priors than prior_convictions",
        ),
        (
            vec![
                ("prior_convictions", Value::Null),
                ("sealed_juvenile_priors", json!(1)),
            ],
            "sealed_juvenile_priors",
            "required prior_convictions",
        ),
        (
            vec![("main_conduct_under_18", json!("yes"))],
            "main_conduct_under_18",
            "boolean",
        ),
        (
            vec![("sealed_juvenile_priors", json!(-1))],
            "sealed_juvenile_priors",
            "",
        ),
    ];
    for (edits, field, words) in refused {
        let error = parse_record(&edit(&edits)).expect_err(field);
        assert_eq!(error.field, field, "{error}");
        assert!(
            error.to_string().contains(words),
            "`{error}` lacks `{words}`"
        );
    }
}

mod events {
    use fengcun_domain::Event;
    use serde_json::json;

    fn parse(
        patch: serde_json::Value,
    ) -> Result<fengcun_domain::ValidEvent, fengcun_domain::FieldError> {
        let mut e = json!({"idempotency_key": "k-1", "kind": "not_prosecuted", "date": "2024-05-01", "case_code": "110105-2024-000001",
                           "agency": {"kind": "procuratorate", "code": "110105-jc"}, "person": {"id_number": "110105199003070025"}});
        for (k, v) in patch.as_object().unwrap() {
            e[k] = v.clone();
        }
        Event::parse(&serde_json::to_vec(&e).unwrap())
    }

    #[test]
    fn events_are_checked_at_the_edge() {
        assert!(parse(json!({})).is_ok());
        let cases = [
            (
                json!({"person": {"id_number": "110105199003070025", "birth_date": "1990-01-01"}}),
                "person.birth_date",
            ),
            (
                json!({"charges": [{"name": "醉酒驾驶罪"}], "ground": "discretionary"}),
                "charges[0].name",
            ),
            (json!({"idempotency_key": " k-1"}), "idempotency_key"),
            (
                json!({"idempotency_key": "键".repeat(201)}),
                "idempotency_key",
            ),
            (
                json!({"kind": "judgment", "agency": {"kind": "procuratorate", "code": "x"}}),
                "kind",
            ),
            (json!({"ground": "pardon"}), "ground"),
            (
                json!({"kind": "correction", "agency": {"kind": "court", "code": "x"}}),
                "corrects",
            ),
        ];
        for (patch, field) in cases {
            let error = parse(patch.clone()).expect_err(&patch.to_string());
            assert_eq!(error.field, field, "{patch}: {error}");
        }
        assert!(
            parse(json!({"idempotency_key": "键".repeat(200)})).is_ok(),
            "200 characters, whatever their bytes"
        );
    }

    /// A line that is not JSON is described in the line's own terms: not UTF-8 (a GBK export),
    /// cut off, or a syntax error at a column — never serde's "line 2 column 0" for the line's
    /// own newline, nor a field the broken line happened to reach.
    #[test]
    fn a_broken_line_is_described_in_its_own_terms() {
        let line = r#"{"idempotency_key":"k-1","kind":"filed","date":"2024-01-10","case_code":"110105-2024-000123","agency":{"kind":"public_security","code":"110105-ga","name":"北京市公安局朝阳分局"},"person":{"id_number":"110105199203150038"}}"#;
        assert!(Event::parse(line.as_bytes()).is_ok());
        let gbk = "北京市".as_bytes();
        // 北京 in GBK: B1 B1 BE A9.
        let mut bytes = line.as_bytes().to_vec();
        let at = line.find("北京市").unwrap();
        bytes.splice(at..at + gbk.len(), [0xB1, 0xB1, 0xBE, 0xA9]);
        let error = Event::parse(&bytes).expect_err("GBK");
        assert_eq!(error.field, "", "{error}");
        let text = error.to_string();
        assert!(
            text.contains("not UTF-8")
                && text.contains(&format!("byte {}", at + 1))
                && text.contains("iconv"),
            "{text}"
        );
        let cut = format!("{}\n", &line[..120]);
        let error = Event::parse(cut.as_bytes()).expect_err("cut off");
        assert_eq!(error.field, "", "{error}");
        assert!(error.to_string().contains("is it cut off?"), "{error}");
        assert!(!error.to_string().contains("line 2"), "{error}");
        // A pretty-printed body (one event POSTed) keeps serde's own line and column.
        let pretty = "{\n  \"idempotency_key\": \"k-1\",\n  \"kind\": \"filed\",\n}\n";
        let error = Event::parse(pretty.as_bytes()).expect_err("trailing comma");
        assert!(error.to_string().contains("at line 4 column 1"), "{error}");
        let error =
            Event::parse(br#"{"idempotency_key":"k-1",,"kind":"filed"}"#).expect_err("syntax");
        assert!(error.to_string().ends_with("at column 26"), "{error}");
    }

    /// A judgment carries the court's findings on straddling acts and on sealed juvenile priors,
    /// checked by the record-facts rules (docs/events.md).
    #[test]
    fn a_judgment_carries_main_conduct_and_sealed_juvenile_priors() {
        let judgment = |extra: serde_json::Value| {
            let mut judgment = json!({"instance": "first", "verdict": "convicted",
                                      "charges": [{"name": "盗窃罪"}],
                                      "sentence": {"principal": "fixed_term", "months": 8},
                                      "recidivist": false, "prior_convictions": 1});
            for (k, v) in extra.as_object().unwrap() {
                judgment[k] = v.clone();
            }
            parse(
                json!({"kind": "judgment", "agency": {"kind": "court", "code": "110105-fy"},
                         "judgment": judgment}),
            )
        };
        let event = judgment(json!({"main_conduct_under_18": true, "sealed_juvenile_priors": 1}))
            .expect("valid");
        let facts = fengcun_domain::event::judgment_facts(
            event.event.judgment.as_ref().unwrap(),
            "2024-05-01",
            "J",
        );
        assert_eq!(facts["main_conduct_under_18"], json!(true));
        assert_eq!(facts["sealed_juvenile_priors"], json!(1));
        let error = judgment(json!({"sealed_juvenile_priors": 2})).expect_err("two of one");
        assert_eq!(error.field, "judgment.sealed_juvenile_priors", "{error}");
        // An offence after the judgment's date is named as the court sent it: the event's `date`
        // and `judgment.offence_date`, not the record's `disposition_date`.
        let error = judgment(json!({"offence_date": "2024-06-01"})).expect_err("offence after");
        assert_eq!(error.field, "date", "{error}");
        assert_eq!(
            error.to_string(),
            "field `date`: date (2024-05-01) is before judgment.offence_date (2024-06-01)"
        );
        // An offence before the birth the identity number holds is refused at the edge too.
        let error = judgment(json!({"offence_date": "1985-01-01"})).expect_err("before birth");
        assert_eq!(
            error.to_string(),
            "field `judgment.offence_date`: judgment.offence_date (1985-01-01) is before person.birth_date (1990-03-07)"
        );
    }

    /// A replacement keeps the corrected event's key and is the correcting agency's own, about the
    /// same person and case: a correction cannot move an event or speak for another agency.
    #[test]
    fn a_replacement_is_the_corrected_event_of_the_same_record() {
        let court = json!({"kind": "court", "code": "110105-fy"});
        let judgment = json!({"idempotency_key": "fy-1", "kind": "judgment", "date": "2024-05-01", "case_code": "110105-2024-000001",
                              "agency": court, "person": {"id_number": "110105199003070025"},
                              "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "盗窃罪"}],
                                           "sentence": {"principal": "fixed_term", "months": 8}}});
        let correction = |replacement: serde_json::Value| {
            parse(
                json!({"idempotency_key": "fy-fix-1", "kind": "correction", "agency": court,
                         "corrects": "fy-1", "replacement": replacement}),
            )
        };
        assert!(correction(judgment.clone()).is_ok());
        let changed = |field: &str, value: serde_json::Value| {
            let mut replacement = judgment.clone();
            replacement[field] = value;
            replacement
        };
        let cases = [
            (
                changed("idempotency_key", json!("fy-2")),
                "replacement.idempotency_key",
            ),
            (
                changed("agency", json!({"kind": "court", "code": "110106-fy"})),
                "replacement.agency.code",
            ),
            (
                changed("person", json!({"id_number": "11010519491231002X"})),
                "replacement.person",
            ),
            (
                changed("case_code", json!("110105-2024-000999")),
                "replacement.case_code",
            ),
            (
                changed(
                    "agency",
                    json!({"kind": "public_security", "code": "110105-ga"}),
                ),
                "replacement.kind",
            ),
        ];
        for (replacement, field) in cases {
            let error = correction(replacement.clone()).expect_err(&replacement.to_string());
            assert_eq!(error.field, field, "{replacement}: {error}");
        }
        // A police station correcting its own event cannot replace it with a court's judgment by
        // declaring the replacement's agency a court under its own code.
        let police = json!({"kind": "public_security", "code": "110105-ga"});
        let mut forged = judgment.clone();
        forged["agency"] = json!({"kind": "court", "code": "110105-ga"});
        let error = parse(
            json!({"idempotency_key": "ga-fix-1", "kind": "correction", "agency": police,
                     "corrects": "fy-1", "replacement": forged}),
        )
        .unwrap_err();
        assert_eq!(error.field, "replacement.agency.kind", "{error}");
        // A correction stored before these rules stays readable: the store reads back with the
        // rules it was accepted under.
        let stored = json!({"idempotency_key": "fy-fix-1", "kind": "correction", "date": "2024-05-01",
                            "case_code": "110105-2024-000001", "agency": court,
                            "person": {"id_number": "110105199003070025"}, "corrects": "fy-1",
                            "replacement": changed("idempotency_key", json!("fy-1-v2"))});
        let body = serde_json::to_vec(&stored).unwrap();
        assert!(Event::parse(&body).is_err());
        assert!(Event::parse_stored(&body).is_ok());
    }

    /// A person's name is printed on notices and certificates: it must be something a person can
    /// read, and read as it is.
    #[test]
    fn person_names_are_visible_text_of_bounded_length() {
        let named = |name: &str| {
            parse(json!({"person": {"id_number": "110105199003070025", "name": name}}))
        };
        for good in ["张三", "John Smith", "阿卜杜拉·买买提", &"名".repeat(64)] {
            assert!(named(good).is_ok(), "{good}");
        }
        let cases = [
            ("张\u{0}三", "control characters (U+0000)"),
            ("张三\n", "control characters (U+000A)"),
            ("\u{200B}", "at least one visible character"),
            (" \u{3000}\u{FEFF}", "at least one visible character"),
            ("张三\u{202E}四李", "bidirectional text controls (U+202E)"),
            ("\u{2067}张三", "bidirectional text controls (U+2067)"),
            // Visible, but with a character drawn as nothing: a certificate would refuse it.
            ("张\u{200B}三", "zero-width characters (U+200B)"),
            ("张三\u{FEFF}", "zero-width characters (U+FEFF)"),
        ];
        for (name, message) in cases {
            let error = named(name).expect_err(name);
            assert_eq!(error.field, "person.name", "{name:?}: {error}");
            assert!(error.to_string().contains(message), "{name:?}: {error}");
        }
        let error = named(&"名".repeat(10_000)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "field `person.name`: must have at most 64 characters, has 10000"
        );
        // The replacement of a correction is checked the same way, and named as such.
        let court = json!({"kind": "court", "code": "110105-fy"});
        let error = parse(json!({"idempotency_key": "fy-fix", "kind": "correction", "agency": court, "corrects": "fy-1",
            "replacement": {"idempotency_key": "fy-1", "kind": "judgment_effective", "date": "2024-05-01",
                            "case_code": "110105-2024-000001", "agency": court,
                            "person": {"id_number": "110105199003070025", "name": "\u{200B}"}}}))
        .unwrap_err();
        assert_eq!(error.field, "replacement.person.name", "{error}");
        // An event stored before the rule stays readable.
        let mut stored = parse(json!({})).unwrap().event;
        stored.person.name = Some("\u{200B}".into());
        let body = serde_json::to_vec(&stored).unwrap();
        assert!(Event::parse(&body).is_err());
        assert!(Event::parse_stored(&body).is_ok());
    }

    #[test]
    fn a_line_holds_one_event_and_nothing_after_it() {
        let one = serde_json::to_string(&parse(json!({})).unwrap().event).unwrap();
        assert!(Event::parse(format!("{one}  ").as_bytes()).is_ok());
        for line in [
            format!("{one}{one}"),
            format!("{one} ,garbage"),
            format!("{one}}}"),
        ] {
            let error = Event::parse(line.as_bytes()).expect_err(&line);
            assert!(
                error.to_string().contains("more than one JSON value"),
                "{error}"
            );
        }
    }
}
