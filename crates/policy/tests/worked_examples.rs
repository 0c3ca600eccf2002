//! Legal worked examples, one row each: facts, policy, as-of date, and the decision the law gives,
//! worked out by hand from the rule cited in the row (never computed by the engine).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Catalogue, Date, Tag, parse_record};
use fengcun_policy::{Outcome, ReasonKind, Verdict, evaluate, presets};
use serde_json::{Value, json};

/// An adult first offender convicted of dangerous driving: 拘役三个月, effective 2024-03-01.
fn base() -> Value {
    json!({
        "record_id": "R-1",
        "person": {"birth_date": "1990-03-07"},
        "offence_date": "2024-01-10",
        "charges": [{"name": "危险驾驶罪"}],
        "disposition": "convicted",
        "disposition_date": "2024-03-01",
        "sentence": {"principal": "criminal_detention", "months": 3},
        "judgment_effective_date": "2024-03-01",
        "execution_completed_date": "2024-06-01",
        "recidivist": false,
        "prior_convictions": 0
    })
}

/// `base()` with the given top-level fields replaced (`null` removes one).
fn with(patch: Value) -> Value {
    merged(base(), patch)
}

/// `record` with the given top-level fields replaced (`null` removes one).
fn merged(mut record: Value, patch: Value) -> Value {
    let (Value::Object(target), Value::Object(patch)) = (&mut record, patch) else {
        panic!("patch must be an object");
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
    record
}

fn charges(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({"name": n})).collect())
}

fn fixed_term(months: u32) -> Value {
    json!({"principal": "fixed_term", "months": months})
}

fn detention(months: u32) -> Value {
    json!({"principal": "criminal_detention", "months": months})
}

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

struct Case {
    name: &'static str,
    policy: &'static str,
    as_of: &'static str,
    record: Value,
    outcome: Outcome,
    effective: Option<&'static str>,
    /// The eligibility rule that must have failed (for `not_eligible`).
    failed_rule: Option<&'static str>,
    /// The facts reported missing (for `needs_facts`).
    missing: &'static [&'static str],
}

fn case(name: &'static str, policy: &'static str, record: Value, outcome: Outcome) -> Case {
    Case {
        name,
        policy,
        as_of: "2026-11-26",
        record,
        outcome,
        effective: None,
        failed_rule: None,
        missing: &[],
    }
}

impl Case {
    fn on(mut self, date: &'static str) -> Self {
        self.effective = Some(date);
        self
    }
    fn failing(mut self, rule: &'static str) -> Self {
        self.failed_rule = Some(rule);
        self
    }
    fn missing(mut self, fields: &'static [&'static str]) -> Self {
        self.missing = fields;
        self
    }
    fn seen_on(mut self, date: &'static str) -> Self {
        self.as_of = date;
        self
    }
}

use Outcome::{NeedsFacts, NotEligible, Seal, SealLater};

fn cases() -> Vec<Case> {
    vec![
        // ---- cn-minor-opt1: intentional ≤ 1 year, negligent ≤ 3 years, exclusions, first offenders.
        case("opt1: FORMATS.md example, 拘役 sealed when the judgment takes effect", "cn-minor-opt1", base(), Seal).on("2024-03-01"),
        case("opt1: intentional, exactly one year is included (art. 99)", "cn-minor-opt1",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": fixed_term(12)})), Seal).on("2024-03-01"),
        case("opt1: intentional, one year and one month is not minor", "cn-minor-opt1",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": fixed_term(13)})), NotEligible).failing("threshold"),
        case("opt1: negligent, exactly three years is included", "cn-minor-opt1",
            with(json!({"charges": charges(&["交通肇事罪"]), "sentence": fixed_term(36)})), Seal).on("2024-03-01"),
        case("opt1: negligent, three years and one month is not minor", "cn-minor-opt1",
            with(json!({"charges": charges(&["交通肇事罪"]), "sentence": fixed_term(37)})), NotEligible).failing("threshold"),
        case("opt1: mixed culpability counts as intentional (two years is too long)", "cn-minor-opt1",
            with(json!({"charges": charges(&["交通肇事罪", "盗窃罪"]), "sentence": fixed_term(24)})), NotEligible).failing("threshold"),
        case("opt1: two negligent crimes, combined 2 years 6 months", "cn-minor-opt1",
            with(json!({"charges": charges(&["交通肇事罪", "失火罪"]), "sentence": fixed_term(30)})), Seal).on("2024-03-01"),
        case("opt1: 管制 of two years is lighter than one year of 有期徒刑", "cn-minor-opt1",
            with(json!({"charges": charges(&["寻衅滋事罪"]), "sentence": {"principal": "public_surveillance", "months": 24}})), Seal).on("2024-03-01"),
        case("opt1: combined 拘役 of one year (art. 69) is still 拘役", "cn-minor-opt1",
            with(json!({"charges": charges(&["危险驾驶罪", "妨害公务罪"]), "sentence": detention(12)})), Seal).on("2024-03-01"),
        case("opt1: exemption from punishment (art. 37)", "cn-minor-opt1",
            with(json!({"sentence": {"principal": "exempt"}})), Seal).on("2024-03-01"),
        case("opt1: recidivist", "cn-minor-opt1",
            with(json!({"charges": charges(&["盗窃罪"]), "recidivist": true, "prior_convictions": 1})), NotEligible).failing("first_offender"),
        case("opt1: repeat offender (an earlier conviction) who is not a recidivist", "cn-minor-opt1",
            with(json!({"prior_convictions": 2})), NotEligible).failing("first_offender"),
        case("opt1: prior convictions unknown", "cn-minor-opt1",
            with(json!({"prior_convictions": null})), NeedsFacts).missing(&["prior_convictions"]),
        case("opt1: a known earlier conviction decides even if recidivism is unknown", "cn-minor-opt1",
            with(json!({"prior_convictions": 1, "recidivist": null})), NotEligible).failing("first_offender"),
        case("opt1: a failing rule wins over a missing fact", "cn-minor-opt1",
            with(json!({"sentence": fixed_term(24), "prior_convictions": null})), NotEligible).failing("threshold")
            .missing(&["prior_convictions"]),
        case("opt1: duty crime excluded", "cn-minor-opt1",
            with(json!({"charges": charges(&["受贿罪"]), "sentence": fixed_term(12)})), NotEligible).failing("excluded_charges"),
        case("opt1: one excluded charge among several excludes the record", "cn-minor-opt1",
            with(json!({"charges": charges(&["盗窃罪", "容留他人吸毒罪"]), "sentence": fixed_term(10)})), NotEligible).failing("excluded_charges"),
        case("opt1: not prosecuted, sealed on the decision date", "cn-minor-opt1",
            json!({"record_id": "N-1", "disposition": "not_prosecuted", "non_prosecution_ground": "discretionary",
                   "disposition_date": "2024-05-20", "charges": charges(&["故意伤害罪"]), "prior_convictions": 0}), Seal).on("2024-05-20"),
        case("opt1: case withdrawn by the police", "cn-minor-opt1",
            json!({"record_id": "N-2", "disposition": "case_withdrawn", "disposition_date": "2023-11-02"}), Seal).on("2023-11-02"),
        case("opt1: acquittal", "cn-minor-opt1",
            json!({"record_id": "N-3", "disposition": "acquitted", "disposition_date": "2025-02-14"}), Seal).on("2025-02-14"),
        case("opt1: not prosecuted without a decision date", "cn-minor-opt1",
            json!({"record_id": "N-4", "disposition": "not_prosecuted", "non_prosecution_ground": "statutory"}), NeedsFacts).missing(&["disposition_date"]),
        case("opt1: an open case is not sealed", "cn-minor-opt1",
            json!({"record_id": "O-1", "disposition": "open"}), NotEligible).failing("final_disposition"),
        case("opt1: judgment not yet effective waits for it", "cn-minor-opt1",
            with(json!({"judgment_effective_date": null, "execution_completed_date": null})), SealLater),
        case("opt1: as of a day before the judgment takes effect", "cn-minor-opt1",
            with(json!({"disposition_date": "2024-02-20"})), SealLater).on("2024-03-01").seen_on("2024-02-29"),
        // ---- cn-minor-opt2: ≤ 1 year whatever the culpability.
        case("opt2: negligent two years is not minor under option 2", "cn-minor-opt2",
            with(json!({"charges": charges(&["交通肇事罪"]), "sentence": fixed_term(24)})), NotEligible).failing("threshold"),
        case("opt2: one year exactly", "cn-minor-opt2",
            with(json!({"charges": charges(&["交通肇事罪"]), "sentence": fixed_term(12)})), Seal).on("2024-03-01"),
        case("opt2: 帮信 seven months, sealed", "cn-minor-opt2",
            with(json!({"charges": charges(&["帮助信息网络犯罪活动罪"]), "sentence": fixed_term(7)})), Seal).on("2024-03-01"),
        // ---- cn-minor-opt3: 拘役 or lighter.
        case("opt3: 拘役 six months", "cn-minor-opt3", with(json!({"sentence": detention(6)})), Seal).on("2024-03-01"),
        case("opt3: the lightest 有期徒刑 is heavier than 拘役", "cn-minor-opt3",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": fixed_term(6)})), NotEligible).failing("threshold"),
        case("opt3: 管制", "cn-minor-opt3",
            with(json!({"sentence": {"principal": "public_surveillance", "months": 12}})), Seal).on("2024-03-01"),
        case("opt3: fine alone", "cn-minor-opt3",
            with(json!({"sentence": {"principal": "supplementary_only", "fine_yuan": 5000}})), Seal).on("2024-03-01"),
        // ---- cn-minor-tiered: ≤ 3 years; 1–2 years +2 after execution; 2–3 years +3.
        case("tiered: one year, sealed at once", "cn-minor-tiered",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": fixed_term(12)})), Seal).on("2024-03-01"),
        case("tiered: eighteen months, two years after execution", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(18), "execution_completed_date": "2025-06-30"})),
            SealLater).on("2027-06-30"),
        case("tiered: exactly two years is in the 1–2 band", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(24), "execution_completed_date": "2026-03-01"})),
            SealLater).on("2028-03-01"),
        case("tiered: thirty months, three years after execution", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(30), "execution_completed_date": "2026-09-01"})),
            SealLater).on("2029-09-01"),
        case("tiered: still serving, waits for the end of execution", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(18), "execution_completed_date": null})), SealLater),
        case("tiered: three years with probation, counted from the end of probation", "cn-minor-tiered",
            with(json!({"charges": charges(&["交通肇事罪"]), "sentence": {"principal": "fixed_term", "months": 36, "probation_months": 36},
                        "execution_completed_date": "2027-03-01"})), SealLater).on("2030-03-01"),
        case("tiered: the 2–3 band sealed once three years have passed", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(30), "execution_completed_date": "2026-09-01"})),
            Seal).on("2029-09-01").seen_on("2029-09-01"),
        case("tiered: over three years", "cn-minor-tiered",
            with(json!({"charges": charges(&["诈骗罪"]), "sentence": fixed_term(37)})), NotEligible).failing("threshold"),
        // ---- cn-pilot-dangerous-driving.
        case("pilot DD: drunk driving, first offender", "cn-pilot-dangerous-driving", base(), Seal).on("2024-03-01"),
        case("pilot DD: dangerous driving together with obstructing officials", "cn-pilot-dangerous-driving",
            with(json!({"charges": charges(&["危险驾驶罪", "妨害公务罪"]), "sentence": detention(8)})), NotEligible).failing("pilot_charge"),
        case("pilot DD: theft is outside the pilot", "cn-pilot-dangerous-driving",
            with(json!({"charges": charges(&["盗窃罪"])})), NotEligible).failing("pilot_charge"),
        case("pilot DD: a non-prosecuted dangerous-driving case is outside the pilot", "cn-pilot-dangerous-driving",
            json!({"record_id": "N-5", "disposition": "not_prosecuted", "disposition_date": "2024-05-20", "charges": charges(&["危险驾驶罪"])}),
            NotEligible).failing("conviction"),
        case("pilot DD: a second drunk-driving conviction", "cn-pilot-dangerous-driving",
            with(json!({"prior_convictions": 1})), NotEligible).failing("first_offender"),
        // ---- cn-pilot-light-penalty: 拘役, 管制 or a fine alone (单处罚金); not exemption.
        case("pilot light: 拘役", "cn-pilot-light-penalty", base(), Seal).on("2024-03-01"),
        case("pilot light: fine alone", "cn-pilot-light-penalty",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": {"principal": "supplementary_only", "fine_yuan": 2000}})), Seal).on("2024-03-01"),
        // The report names 单处罚金 (§三(一)), not any supplementary punishment alone.
        case("pilot light: deprivation of political rights alone is not in the pilot", "cn-pilot-light-penalty",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": {"principal": "supplementary_only", "political_rights_months": 12}})), NotEligible).failing("light_penalty"),
        case("pilot light: a fine and a deprivation, both alone, is not a fine alone", "cn-pilot-light-penalty",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": {"principal": "supplementary_only", "fine_yuan": 2000, "political_rights_months": 12}})), NotEligible).failing("light_penalty"),
        case("pilot light: 拘役 with a deprivation of political rights is still 拘役", "cn-pilot-light-penalty",
            with(json!({"sentence": {"principal": "criminal_detention", "months": 4, "political_rights_months": 12}})), Seal).on("2024-03-01"),
        case("pilot light: exemption is not in the pilot", "cn-pilot-light-penalty",
            with(json!({"sentence": {"principal": "exempt"}})), NotEligible).failing("light_penalty"),
        case("pilot light: six months of 有期徒刑", "cn-pilot-light-penalty",
            with(json!({"charges": charges(&["盗窃罪"]), "sentence": fixed_term(6)})), NotEligible).failing("light_penalty"),
        case("pilot light: drugs excluded even with 拘役", "cn-pilot-light-penalty",
            with(json!({"charges": charges(&["非法持有毒品罪"]), "sentence": detention(4)})), NotEligible).failing("excluded_charges"),
        // ---- cn-juvenile: under 18 at the offence (from the day after the birthday), ≤ 5 years.
        case("juvenile: the eighteenth birthday itself is still under 18; five years included", "cn-juvenile",
            with(json!({"person": {"birth_date": "2006-05-10"}, "offence_date": "2024-05-10", "charges": charges(&["抢劫罪"]),
                        "disposition_date": "2024-09-01", "judgment_effective_date": "2024-09-12", "sentence": fixed_term(60),
                        "execution_completed_date": null})), Seal).on("2024-09-12"),
        case("juvenile: the day after the eighteenth birthday is 18", "cn-juvenile",
            with(json!({"person": {"birth_date": "2006-05-10"}, "offence_date": "2024-05-11", "charges": charges(&["抢劫罪"]),
                        "disposition_date": "2024-09-01", "judgment_effective_date": "2024-09-12", "sentence": fixed_term(60),
                        "execution_completed_date": null})), NotEligible).failing("juvenile_at_offence"),
        case("juvenile: five years and one month", "cn-juvenile",
            with(json!({"person": {"birth_date": "2008-01-01"}, "charges": charges(&["抢劫罪"]), "sentence": fixed_term(61),
                        "execution_completed_date": null})), NotEligible).failing("threshold"),
        case("juvenile: no charge is excluded (a drug crime)", "cn-juvenile",
            with(json!({"person": {"birth_date": "2008-01-01"}, "charges": charges(&["贩卖毒品罪"]), "sentence": fixed_term(12),
                        "execution_completed_date": null})), Seal).on("2024-03-01"),
        case("juvenile: no first-offender rule", "cn-juvenile",
            with(json!({"person": {"birth_date": "2008-01-01"}, "prior_convictions": 1})), Seal).on("2024-03-01"),
        case("juvenile: not prosecuted (conditional), sealed on the decision date", "cn-juvenile",
            json!({"record_id": "J-1", "person": {"birth_date": "2008-01-01"}, "offence_date": "2024-01-10",
                   "disposition": "not_prosecuted", "non_prosecution_ground": "conditional", "disposition_date": "2024-04-02"}), Seal).on("2024-04-02"),
        case("juvenile: birth date unknown", "cn-juvenile",
            with(json!({"person": null})), NeedsFacts).missing(&["person.birth_date"]),
        case("juvenile: birth date read from the identity number", "cn-juvenile",
            with(json!({"person": {"id_number": "110105200801010014"}})), Seal).on("2024-03-01"),
        case("juvenile: an adult's non-prosecution is not a juvenile record", "cn-juvenile",
            json!({"record_id": "J-2", "person": {"birth_date": "1990-01-01"}, "offence_date": "2024-01-10",
                   "disposition": "not_prosecuted", "disposition_date": "2024-04-02"}), NotEligible).failing("juvenile_at_offence"),
        // ---- uk-rehabilitation-2023: GOV.UK and Ministry of Justice examples (see docs/policy-format.md).
        case("UK GOV.UK example: 3 years given 5 May 2021, spent 5 May 2028", "uk-rehabilitation-2023",
            uk(json!({"sentence": fixed_term(36), "disposition_date": "2021-05-05", "judgment_effective_date": "2021-05-05"})), SealLater).on("2028-05-05"),
        case("UK MoJ: adult, 11 months custody from 2016-10-20", "uk-rehabilitation-2023",
            uk(json!({"sentence": fixed_term(11)})), Seal).on("2018-09-20"),
        case("UK MoJ: adult, 29 months", "uk-rehabilitation-2023", uk(json!({"sentence": fixed_term(29)})), Seal).on("2023-03-20"),
        case("UK MoJ: adult, exactly 48 months is in the 4-year band", "uk-rehabilitation-2023",
            uk(json!({"sentence": fixed_term(48)})), Seal).on("2024-10-20"),
        case("UK MoJ: adult, 49 months (not Schedule 18)", "uk-rehabilitation-2023",
            uk(json!({"sentence": fixed_term(49)})), SealLater).on("2027-11-20"),
        case("UK MoJ: adult, 11 months suspended: the term counts, not the operational period", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "fixed_term", "months": 11, "probation_months": 24}})), Seal).on("2018-09-20"),
        case("UK MoJ: adult, 24 months suspended", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "fixed_term", "months": 24, "probation_months": 24}})), Seal).on("2022-10-20"),
        case("UK MoJ: under 18, 11 months detention", "uk-rehabilitation-2023",
            uk_youth(fixed_term(11)), Seal).on("2018-03-20"),
        case("UK MoJ: under 18, 29 months", "uk-rehabilitation-2023", uk_youth(fixed_term(29)), Seal).on("2021-03-20"),
        case("UK MoJ: under 18, 48 months", "uk-rehabilitation-2023", uk_youth(fixed_term(48)), Seal).on("2022-10-20"),
        case("UK MoJ: under 18, 49 months", "uk-rehabilitation-2023", uk_youth(fixed_term(49)), Seal).on("2024-05-20"),
        case("UK: more than 4 years for a Schedule 18 (sexual) offence is never spent", "uk-rehabilitation-2023",
            uk(json!({"charges": charges(&["强奸罪"]), "sentence": fixed_term(60)})), NotEligible).failing("not_schedule_18_over_4_years"),
        case("UK: 4 years for the same offence is spent", "uk-rehabilitation-2023",
            uk(json!({"charges": charges(&["强奸罪"]), "sentence": fixed_term(48)})), Seal).on("2024-10-20"),
        case("UK: life is never spent", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "life"}})), NotEligible).failing("not_life"),
        case("UK: fine, adult, 1 year from conviction", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "supplementary_only", "fine_yuan": 150}})), Seal).on("2017-10-20"),
        case("UK: fine on the 18th birthday is an adult's (the birthday counts)", "uk-rehabilitation-2023",
            uk(json!({"person": {"birth_date": "1998-10-20"}, "sentence": {"principal": "supplementary_only", "fine_yuan": 150}})), Seal).on("2017-10-20"),
        case("UK: fine the day before the 18th birthday, 6 months", "uk-rehabilitation-2023",
            uk(json!({"person": {"birth_date": "1998-10-21"}, "sentence": {"principal": "supplementary_only", "fine_yuan": 150}})), Seal).on("2017-04-20"),
        case("UK GOV.UK: an absolute discharge is spent straight away", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "exempt"}})), Seal).on("2016-10-20"),
        case("UK GOV.UK: a community order is spent when it ends", "uk-rehabilitation-2023",
            uk(json!({"sentence": {"principal": "public_surveillance", "months": 12}, "execution_completed_date": "2017-10-20"})), Seal).on("2017-10-20"),
        case("UK: a caution-like non-conviction is outside the Act", "uk-rehabilitation-2023",
            json!({"record_id": "U-9", "disposition": "not_prosecuted", "disposition_date": "2020-01-01"}), NotEligible).failing("conviction"),
    ]
}

/// An adult convicted of theft on 2016-10-20 (the MoJ checker's test date).
fn uk(patch: Value) -> Value {
    let record = with(json!({
        "charges": charges(&["盗窃罪"]),
        "person": {"birth_date": "1980-01-01"},
        "offence_date": "2016-06-01",
        "disposition_date": "2016-10-20",
        "judgment_effective_date": "2016-10-20",
        "execution_completed_date": null,
    }));
    merged(record, patch)
}

fn uk_youth(sentence: Value) -> Value {
    uk(json!({"person": {"birth_date": "2000-01-01"}, "sentence": sentence}))
}

#[test]
fn worked_examples() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the issue asks for at least 40 worked examples"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let policy =
            presets::get(case.policy).unwrap_or_else(|| panic!("no preset {}", case.policy));
        let line = serde_json::to_vec(&case.record).expect("json");
        let record = match parse_record(&line) {
            Ok(record) => record,
            Err(error) => {
                failures.push(format!("{}: facts rejected: {error}", case.name));
                continue;
            }
        };
        let decision = evaluate(policy, &record, d(case.as_of));
        let mut problems = Vec::new();
        if decision.outcome != case.outcome {
            problems.push(format!(
                "outcome {:?}, expected {:?}",
                decision.outcome, case.outcome
            ));
        }
        let effective = decision.effective_date.map(|d| d.to_string());
        if effective.as_deref() != case.effective {
            problems.push(format!(
                "effective date {effective:?}, expected {:?}",
                case.effective
            ));
        }
        if let Some(rule) = case.failed_rule {
            if decision.first_failed_rule(policy) != Some(rule) {
                problems.push(format!(
                    "first failed rule {:?}, expected {rule}",
                    decision.first_failed_rule(policy)
                ));
            }
        }
        let view = decision.view(policy, &record);
        let missing: Vec<&str> = view
            .reasons
            .iter()
            .flat_map(|r| r.missing.iter().copied())
            .collect();
        if missing != case.missing {
            problems.push(format!("missing {missing:?}, expected {:?}", case.missing));
        }
        if view.reasons.is_empty()
            || view
                .reasons
                .iter()
                .any(|r| r.text.is_empty() || r.basis.is_empty())
        {
            problems.push("every reason needs a text and a legal basis".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} worked examples fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every charge of every category the report excludes, one record each: not eligible under option 1
/// because of that exclusion, and eligible under the juvenile rules, which exclude no charge.
#[test]
fn every_excluded_category_excludes_every_one_of_its_charges() {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let juvenile = presets::get("cn-juvenile").expect("preset");
    let excluded = [
        Tag::NationalSecurity,
        Tag::Terrorism,
        Tag::Sexual,
        Tag::Drugs,
        Tag::OrganizedCrime,
        Tag::DutyCrime,
    ];
    let mut checked = 0;
    for tag in excluded {
        let charges_with_tag: Vec<_> = Catalogue::builtin().with_tag(tag).collect();
        assert!(
            !charges_with_tag.is_empty(),
            "no charge tagged {}",
            tag.code()
        );
        for charge in charges_with_tag {
            let culpability = charge.culpability.code();
            // Six months of 有期徒刑: minor by every option's threshold, whatever the culpability.
            let adult = with(
                json!({"charges": [{"name": charge.name, "culpability": culpability}], "sentence": fixed_term(6)}),
            );
            let record =
                parse_record(&serde_json::to_vec(&adult).expect("json")).expect("valid facts");
            let decision = evaluate(opt1, &record, d("2026-11-26"));
            assert_eq!(
                decision.outcome,
                Outcome::NotEligible,
                "{} ({})",
                charge.name,
                tag.code()
            );
            assert_eq!(
                decision.first_failed_rule(opt1),
                Some("excluded_charges"),
                "{}",
                charge.name
            );
            let young = with(
                json!({"charges": [{"name": charge.name}], "sentence": fixed_term(6),
                                    "person": {"birth_date": "2008-01-01"}}),
            );
            let record =
                parse_record(&serde_json::to_vec(&young).expect("json")).expect("valid facts");
            assert_eq!(
                evaluate(juvenile, &record, d("2026-11-26")).outcome,
                Outcome::Seal,
                "{}",
                charge.name
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} excluded charges were checked");
}

#[test]
fn reasons_explain_in_chinese_with_the_facts() {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let record = parse_record(&serde_json::to_vec(&base()).expect("json")).expect("facts");
    let view = evaluate(opt1, &record, d("2026-11-26")).view(opt1, &record);
    let threshold = view
        .reasons
        .iter()
        .find(|r| r.rule == "threshold")
        .expect("threshold reason");
    assert!(threshold.holds);
    assert!(
        threshold.text.contains("宣告刑拘役三个月"),
        "{}",
        threshold.text
    );
    assert!(threshold.text.contains("故意犯罪"), "{}", threshold.text);
    let timing = view.reasons.last().expect("timing reason");
    assert!(timing.text.contains("2024年3月1日"), "{}", timing.text);
    assert!(matches!(
        evaluate(opt1, &record, d("2026-11-26"))
            .reasons
            .last()
            .map(|r| r.kind),
        Some(ReasonKind::Timing(..))
    ));
    assert!(
        evaluate(opt1, &record, d("2026-11-26"))
            .reasons
            .iter()
            .all(|r| r.verdict == Verdict::Holds)
    );
}
