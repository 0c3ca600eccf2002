//! Violation record facts (FORMATS.md, "Violation record facts"): the same NDJSON stream, marked by
//! `"kind": "public_security_violation"`, validated against the 治安管理处罚法.

use jiff::civil::Date;

use crate::age::age_in_full_years;
use crate::case_code::CaseCode;
use crate::disposition::Disposition;
use crate::error::{FactError, FieldError};
use crate::facts::{PenaltyJson, RecordJson, RecordParser, date_field, record_id, unknown};
use crate::record::{Conditions, Record};
use crate::violation::{
    BehaviourId, DETENTION_MAX_COMBINED, DETENTION_MAX_ONE, MIN_AGE_PENALTY, Penalty, RecordKind,
    ViolationCatalogue,
};

const ONLY_CRIMINAL: &str = "only on a criminal record; a violation record (\"kind\": \"public_security_violation\") has violations, penalty and decision_effective_date";

pub(crate) fn validate(
    parser: &RecordParser<'_>,
    json: RecordJson<'_>,
) -> Result<Record, FieldError> {
    // The criminal record's facts have no place on a violation record: a sentence or a charge
    // there would be read by no rule and mislead every reader.
    for (present, field) in [
        (!json.charges.is_empty(), "charges"),
        (json.sentence.is_some(), "sentence"),
        (
            json.non_prosecution_ground.is_some(),
            "non_prosecution_ground",
        ),
        (
            json.judgment_effective_date.is_some(),
            "judgment_effective_date",
        ),
        (json.recidivist.is_some(), "recidivist"),
        (json.prior_convictions.is_some(), "prior_convictions"),
        (
            json.sealed_juvenile_priors.is_some(),
            "sealed_juvenile_priors",
        ),
        (
            json.main_conduct_under_18.is_some(),
            "main_conduct_under_18",
        ),
        (json.conditions.is_some(), "conditions"),
    ] {
        if present {
            return Err(FieldError::new(field, FactError::NotAllowed(ONLY_CRIMINAL)));
        }
    }
    let disposition = Disposition::parse_violation(&json.disposition).ok_or_else(|| {
        FieldError::new(
            "disposition",
            unknown(
                "disposition of a violation record",
                &json.disposition,
                Disposition::VIOLATION_CODES,
            ),
        )
    })?;
    let case_code = json
        .case_code
        .as_deref()
        .map(CaseCode::parse)
        .transpose()
        .map_err(|e| FieldError::new("case_code", e))?;
    let person = parser.person(json.person)?;
    let record_id = record_id(json.record_id, case_code.as_ref(), &person)?;
    let catalogue = ViolationCatalogue::builtin();
    let mut violations: Vec<BehaviourId> = Vec::new();
    for (index, v) in json.violations.iter().flatten().enumerate() {
        let behaviour = catalogue.resolve(&v.name).ok_or_else(|| {
            FieldError::new(
                format!("violations[{index}].name"),
                FactError::Shape(format!(
                    "unknown behaviour `{}`: not in the catalogue of violations (data/violations.tsv)",
                    v.name
                )),
            )
        })?;
        if let Some(article) = v.article.as_deref() {
            let matches =
                article == behaviour.article || behaviour.article_2025.as_deref() == Some(article);
            if !matches {
                return Err(FieldError::new(
                    format!("violations[{index}].article"),
                    FactError::Shape(format!(
                        "{} is article {} of the 治安管理处罚法, not {article}",
                        behaviour.name, behaviour.article
                    )),
                ));
            }
        }
        violations.push(behaviour.id);
    }
    if disposition == Disposition::Penalized && violations.is_empty() {
        return Err(FieldError::new(
            "violations",
            FactError::Required("(at least one) when penalized"),
        ));
    }
    let penalty = match (disposition, json.penalty) {
        (Disposition::Penalized, Some(p)) => Some(penalty(&p, &violations, &person)?),
        (Disposition::Penalized, None) => {
            return Err(FieldError::new(
                "penalty",
                FactError::Required("when disposition is penalized"),
            ));
        }
        (_, Some(_)) => {
            return Err(FieldError::new(
                "penalty",
                FactError::NotAllowed("a penalty is only for disposition penalized"),
            ));
        }
        (_, None) => None,
    };
    let record = Record {
        record_id,
        kind: RecordKind::PublicSecurityViolation,
        case_code,
        person,
        offence_date: date_field("offence_date", json.offence_date.as_deref())?,
        charges: Vec::new(),
        disposition,
        disposition_date: date_field("disposition_date", json.disposition_date.as_deref())?,
        non_prosecution_ground: None,
        sentence: None,
        judgment_effective_date: None,
        execution_completed_date: date_field(
            "execution_completed_date",
            json.execution_completed_date.as_deref(),
        )?,
        main_conduct_under_18: None,
        recidivist: None,
        prior_convictions: None,
        sealed_juvenile_priors: None,
        conditions: Conditions::default(),
        violations,
        penalty,
        decision_effective_date: date_field(
            "decision_effective_date",
            json.decision_effective_date.as_deref(),
        )?,
    };
    check(&record)?;
    Ok(record)
}

fn penalty(
    json: &PenaltyJson,
    violations: &[BehaviourId],
    person: &crate::record::Person,
) -> Result<Penalty, FieldError> {
    let penalty = Penalty {
        warning: json.warning,
        fine_yuan: json.fine_yuan.unwrap_or(0),
        detention_days: json.detention_days.unwrap_or(0),
        licence_revoked: json.licence_revoked,
        deadline_to_leave: json.deadline_to_leave,
        deportation: json.deportation,
    };
    if json.fine_yuan == Some(0) {
        return Err(FieldError::new(
            "penalty.fine_yuan",
            FactError::NotAllowed("a fine of 0 yuan is no fine: leave the field out"),
        ));
    }
    if json.detention_days == Some(0) {
        return Err(FieldError::new(
            "penalty.detention_days",
            FactError::NotAllowed("a detention of 0 days is no detention: leave the field out"),
        ));
    }
    if !penalty.has_principal() {
        return Err(FieldError::new(
            "penalty",
            FactError::Required(
                "at least one kind: warning, fine_yuan, detention_days or licence_revoked (治安管理处罚法 art. 10; a deadline to leave or deportation is only in addition)",
            ),
        ));
    }
    if (penalty.deadline_to_leave || penalty.deportation) && person.id_number.is_some() {
        let field = if penalty.deportation {
            "penalty.deportation"
        } else {
            "penalty.deadline_to_leave"
        };
        return Err(FieldError::new(
            field,
            FactError::NotAllowed(
                "a deadline to leave or deportation is for a foreigner only (治安管理处罚法 art. 10(2)); person.id_number is a resident identity number",
            ),
        ));
    }
    if penalty.deadline_to_leave && penalty.deportation {
        return Err(FieldError::new(
            "penalty.deadline_to_leave",
            FactError::NotAllowed("a foreigner is deported or given a deadline to leave, not both"),
        ));
    }
    let days = penalty.detention_days;
    if days > 0 {
        let catalogue = ViolationCatalogue::builtin();
        let maxima: Vec<u32> = violations
            .iter()
            .map(|id| catalogue.get(*id).detention_max_days)
            .collect();
        let (limit, why) = match maxima.as_slice() {
            [one] => (
                *one,
                format!(
                    "{} allows at most {one} days (article {} of the 2012 text; never over {DETENTION_MAX_ONE} for one behaviour)",
                    catalogue.get(violations[0]).name,
                    catalogue.get(violations[0]).article
                ),
            ),
            several => {
                let sum: u32 = several.iter().sum();
                (
                    sum.min(DETENTION_MAX_COMBINED),
                    format!(
                        "several behaviours executed together: at most {DETENTION_MAX_COMBINED} days (治安管理处罚法 art. 16: 行政拘留处罚合并执行的，最长不超过二十日), and at most the sum of their articles' terms ({sum})"
                    ),
                )
            }
        };
        if days > limit {
            return Err(FieldError::new(
                "penalty.detention_days",
                FactError::Shape(format!("{days} days of detention are not allowed: {why}")),
            ));
        }
    }
    Ok(penalty)
}

fn check(record: &Record) -> Result<(), FieldError> {
    let chain: [(&'static str, Option<Date>); 5] = [
        ("person.birth_date", record.person.birth_date),
        ("offence_date", record.offence_date),
        ("disposition_date", record.disposition_date),
        ("decision_effective_date", record.decision_effective_date),
        ("execution_completed_date", record.execution_completed_date),
    ];
    crate::facts::check_date_order(chain)?;
    let penalized = record.disposition == Disposition::Penalized;
    if !penalized && record.decision_effective_date.is_some() {
        return Err(FieldError::new(
            "decision_effective_date",
            FactError::NotAllowed("only a penalty decision takes effect (disposition penalized)"),
        ));
    }
    if !penalized && record.execution_completed_date.is_some() {
        return Err(FieldError::new(
            "execution_completed_date",
            FactError::NotAllowed("execution is only for disposition penalized"),
        ));
    }
    if penalized
        && record.execution_completed_date.is_some()
        && record.decision_effective_date.is_none()
    {
        return Err(FieldError::new(
            "decision_effective_date",
            FactError::Required(
                "when execution_completed_date is given (a decision is executed once it took effect)",
            ),
        ));
    }
    if let (true, Some(birth), Some(offence)) =
        (penalized, record.person.birth_date, record.offence_date)
    {
        if age_in_full_years(birth, offence).is_some_and(|age| age < MIN_AGE_PENALTY) {
            return Err(FieldError::new(
                "penalty",
                FactError::NotAllowed(
                    "no penalty for a person under 14 at the act (治安管理处罚法 art. 12: 不满十四周岁的人违反治安管理的，不予处罚); the decision is not_penalized",
                ),
            ));
        }
    }
    Ok(())
}
