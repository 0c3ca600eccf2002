//! The record-facts interchange format (FORMATS.md): one JSON object per line.
//!
//! Parsing is two steps: serde reads the shape into borrowed strings (no copy of the common case),
//! then `RecordParser::validate` turns it into a `Record`, naming the field of the first problem.

use std::borrow::Cow;

use jiff::civil::Date;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::age::age_in_full_years;
use crate::case_code::CaseCode;
use crate::catalogue::Catalogue;
use crate::charge::Culpability;
use crate::date::parse_date;
use crate::disposition::{Disposition, NonProsecutionGround};
use crate::error::{FactError, FieldError};
use crate::id_number::IdNumber;
use crate::record::{ChargeRef, Conditions, Person, Record};
use crate::sentence::{PrincipalKind, Sentence, SentenceError, SentenceInput};
use crate::violation::RecordKind;

/// Youngest age at which anyone bears criminal responsibility (Criminal Law art. 17, as amended
/// by Amendment XI): a conviction for an offence committed younger is impossible.
const MIN_AGE_OF_RESPONSIBILITY: u32 = 12;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordJson<'a> {
    #[serde(borrow, default)]
    pub(crate) record_id: Option<Cow<'a, str>>,
    /// `criminal` (the default) or `public_security_violation` (FORMATS.md, "Violation record facts").
    #[serde(borrow, default)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) violations: Option<Vec<ViolationJson<'a>>>,
    #[serde(default)]
    pub(crate) penalty: Option<PenaltyJson>,
    #[serde(borrow, default)]
    pub(crate) decision_effective_date: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) case_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) person: Option<PersonJson<'a>>,
    #[serde(borrow, default)]
    pub(crate) offence_date: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) charges: Vec<ChargeJson<'a>>,
    #[serde(borrow)]
    pub(crate) disposition: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) disposition_date: Option<Cow<'a, str>>,
    #[serde(borrow, default, alias = "ground")]
    pub(crate) non_prosecution_ground: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) sentence: Option<SentenceJson<'a>>,
    #[serde(borrow, default)]
    pub(crate) judgment_effective_date: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) execution_completed_date: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) main_conduct_under_18: Option<bool>,
    #[serde(default)]
    pub(crate) recidivist: Option<bool>,
    #[serde(default)]
    pub(crate) prior_convictions: Option<u32>,
    #[serde(default)]
    pub(crate) sealed_juvenile_priors: Option<u32>,
    #[serde(default)]
    pub(crate) conditions: Option<ConditionsJson>,
    // Extensions written by fengcun's own tools (e.g. the judgment extractor); read and ignored here.
    #[serde(default, rename = "flags")]
    pub(crate) _flags: Option<IgnoredAny>,
    #[serde(default, rename = "source")]
    pub(crate) _source: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonJson<'a> {
    #[serde(borrow, default)]
    pub(crate) id_number: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) birth_date: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChargeJson<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) article: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) culpability: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViolationJson<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) article: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PenaltyJson {
    #[serde(default)]
    pub(crate) warning: bool,
    #[serde(default)]
    pub(crate) fine_yuan: Option<u64>,
    #[serde(default)]
    pub(crate) detention_days: Option<u32>,
    #[serde(default)]
    pub(crate) licence_revoked: bool,
    #[serde(default)]
    pub(crate) deadline_to_leave: bool,
    #[serde(default)]
    pub(crate) deportation: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SentenceJson<'a> {
    #[serde(borrow)]
    pub(crate) principal: Cow<'a, str>,
    #[serde(default)]
    pub(crate) months: Option<u32>,
    #[serde(default)]
    pub(crate) probation_months: Option<u32>,
    #[serde(default)]
    pub(crate) fine_yuan: Option<u64>,
    #[serde(default)]
    pub(crate) political_rights_months: Option<u32>,
    #[serde(default)]
    pub(crate) combined: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionsJson {
    #[serde(default)]
    pub(crate) civil_compensation_fulfilled: Option<bool>,
    #[serde(default)]
    pub(crate) victim_forgiveness: Option<bool>,
    #[serde(default)]
    pub(crate) plea: Option<bool>,
}

/// Parses record-facts lines against a charge catalogue.
#[derive(Debug, Clone, Copy)]
pub struct RecordParser<'c> {
    catalogue: &'c Catalogue,
}

/// Parses one line with the built-in catalogue.
pub fn parse_record(line: &[u8]) -> Result<Record, FieldError> {
    RecordParser::new(Catalogue::builtin()).parse(line)
}

impl<'c> RecordParser<'c> {
    pub fn new(catalogue: &'c Catalogue) -> Self {
        Self { catalogue }
    }

    pub fn parse(&self, line: &[u8]) -> Result<Record, FieldError> {
        match serde_json::from_slice::<RecordJson<'_>>(line) {
            Ok(json) => self.validate(json),
            Err(_) => Err(locate_json_error(line)),
        }
    }

    /// Parses facts already read as JSON (as `derive_record` builds them), without writing them
    /// out to bytes first. A value that does not have the shape is reported as [`Self::parse`]
    /// reports its text, naming the field.
    pub fn parse_value(&self, value: &serde_json::Value) -> Result<Record, FieldError> {
        match RecordJson::deserialize(value) {
            Ok(json) => self.validate(json),
            Err(_) => self.parse(value.to_string().as_bytes()),
        }
    }

    fn validate(&self, json: RecordJson<'_>) -> Result<Record, FieldError> {
        let kind = match json.kind.as_deref() {
            None => RecordKind::Criminal,
            Some(code) => RecordKind::parse(code)
                .ok_or_else(|| FieldError::new("kind", unknown("kind", code, RecordKind::CODES)))?,
        };
        if kind == RecordKind::PublicSecurityViolation {
            return crate::violation_facts::validate(self, json);
        }
        for (present, field) in [
            (json.violations.is_some(), "violations"),
            (json.penalty.is_some(), "penalty"),
            (
                json.decision_effective_date.is_some(),
                "decision_effective_date",
            ),
        ] {
            if present {
                return Err(FieldError::new(
                    field,
                    FactError::NotAllowed(
                        "only on a violation record (\"kind\": \"public_security_violation\")",
                    ),
                ));
            }
        }
        let disposition = Disposition::parse(&json.disposition).ok_or_else(|| {
            FieldError::new(
                "disposition",
                unknown("disposition", &json.disposition, Disposition::CODES),
            )
        })?;
        let case_code = json
            .case_code
            .as_deref()
            .map(CaseCode::parse)
            .transpose()
            .map_err(|e| FieldError::new("case_code", e))?;
        let person = self.person(json.person)?;
        let record_id = record_id(json.record_id, case_code.as_ref(), &person)?;
        let charges = json
            .charges
            .iter()
            .enumerate()
            .map(|(i, c)| self.charge(i, c))
            .collect::<Result<Vec<_>, _>>()?;
        let recidivist = json.recidivist;
        if recidivist == Some(true) && json.prior_convictions == Some(0) {
            return Err(FieldError::new(
                "prior_convictions",
                FactError::NotAllowed(
                    "a recidivist (累犯, art. 65) has at least one prior conviction",
                ),
            ));
        }
        match (json.sealed_juvenile_priors, json.prior_convictions) {
            (Some(_), None) => {
                return Err(FieldError::new(
                    "sealed_juvenile_priors",
                    FactError::Required("prior_convictions alongside it (it counts some of them)"),
                ));
            }
            (Some(sealed), Some(prior)) if sealed > prior => {
                return Err(FieldError::new(
                    "sealed_juvenile_priors",
                    FactError::NotAllowed(
                        "more sealed juvenile priors than prior_convictions, which counts every prior conviction, sealed or not",
                    ),
                ));
            }
            _ => {}
        }
        let sentence = match (disposition, json.sentence) {
            (Disposition::Convicted, Some(s)) => Some(sentence(&s, charges.len(), recidivist)?),
            (Disposition::Convicted, None) => {
                return Err(FieldError::new(
                    "sentence",
                    FactError::Required("when disposition is convicted"),
                ));
            }
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "sentence",
                    FactError::NotAllowed("a sentence is only for disposition convicted"),
                ));
            }
            (_, None) => None,
        };
        if disposition == Disposition::Convicted && charges.is_empty() {
            return Err(FieldError::new(
                "charges",
                FactError::Required("(at least one) when convicted"),
            ));
        }
        let non_prosecution_ground = json
            .non_prosecution_ground
            .as_deref()
            .map(|g| {
                NonProsecutionGround::parse(g).ok_or_else(|| {
                    FieldError::new(
                        "non_prosecution_ground",
                        unknown("ground", g, NonProsecutionGround::CODES),
                    )
                })
            })
            .transpose()?;
        if non_prosecution_ground.is_some() && disposition != Disposition::NotProsecuted {
            return Err(FieldError::new(
                "non_prosecution_ground",
                FactError::NotAllowed("a ground is only for disposition not_prosecuted"),
            ));
        }
        let record = Record {
            record_id,
            kind,
            violations: Vec::new(),
            penalty: None,
            decision_effective_date: None,
            case_code,
            person,
            offence_date: date_field("offence_date", json.offence_date.as_deref())?,
            charges,
            disposition,
            disposition_date: date_field("disposition_date", json.disposition_date.as_deref())?,
            non_prosecution_ground,
            sentence,
            judgment_effective_date: date_field(
                "judgment_effective_date",
                json.judgment_effective_date.as_deref(),
            )?,
            execution_completed_date: date_field(
                "execution_completed_date",
                json.execution_completed_date.as_deref(),
            )?,
            main_conduct_under_18: json.main_conduct_under_18,
            recidivist,
            prior_convictions: json.prior_convictions,
            sealed_juvenile_priors: json.sealed_juvenile_priors,
            conditions: json
                .conditions
                .map_or_else(Conditions::default, |c| Conditions {
                    civil_compensation_fulfilled: c.civil_compensation_fulfilled,
                    victim_forgiveness: c.victim_forgiveness,
                    plea: c.plea,
                }),
        };
        check_dates(&record)?;
        Ok(record)
    }

    pub(crate) fn person(&self, json: Option<PersonJson<'_>>) -> Result<Person, FieldError> {
        let Some(json) = json else {
            return Ok(Person::default());
        };
        let id_number = json
            .id_number
            .as_deref()
            .map(IdNumber::parse)
            .transpose()
            .map_err(|e| FieldError::new("person.id_number", e))?;
        let given_birth = date_field("person.birth_date", json.birth_date.as_deref())?;
        let birth_date = match (given_birth, &id_number) {
            (Some(given), Some(id)) if given != id.birth_date() => {
                return Err(FieldError::new(
                    "person.birth_date",
                    FactError::BirthDateMismatch {
                        given: given.to_string(),
                        from_id: id.birth_date().to_string(),
                    },
                ));
            }
            (Some(given), _) => Some(given),
            (None, Some(id)) => Some(id.birth_date()),
            (None, None) => None,
        };
        Ok(Person {
            id_number,
            name: json.name.map(Cow::into_owned),
            birth_date,
        })
    }

    fn charge(&self, index: usize, json: &ChargeJson<'_>) -> Result<ChargeRef, FieldError> {
        let charge = self.catalogue.resolve(&json.name).ok_or_else(|| {
            FieldError::new(
                format!("charges[{index}].name"),
                FactError::UnknownCharge(json.name.to_string()),
            )
        })?;
        if let Some(article) = json.article.as_deref() {
            if article != charge.article {
                return Err(FieldError::new(
                    format!("charges[{index}].article"),
                    FactError::ArticleMismatch {
                        charge: charge.name.clone(),
                        expected: charge.article.clone(),
                        given: article.to_owned(),
                    },
                ));
            }
        }
        let culpability = match json.culpability.as_deref() {
            None => charge.culpability,
            Some(code) => Culpability::parse(code).ok_or_else(|| {
                FieldError::new(
                    format!("charges[{index}].culpability"),
                    unknown("culpability", code, Culpability::CODES),
                )
            })?,
        };
        Ok(ChargeRef {
            id: charge.id,
            culpability,
            tags: charge.tags,
        })
    }
}

/// The record's id: given, or `case_code:id_number`.
pub(crate) fn record_id(
    given: Option<Cow<'_, str>>,
    case_code: Option<&CaseCode>,
    person: &Person,
) -> Result<String, FieldError> {
    match (given, case_code, &person.id_number) {
        (Some(id), _, _) if !id.trim().is_empty() => Ok(id.into_owned()),
        (Some(_), _, _) => Err(FieldError::new(
            "record_id",
            FactError::Shape("must not be empty".into()),
        )),
        (None, Some(code), Some(id)) => Ok(format!("{code}:{id}")),
        (None, _, _) => Err(FieldError::new(
            "record_id",
            FactError::Required("when case_code or person.id_number is absent"),
        )),
    }
}

fn sentence(
    json: &SentenceJson<'_>,
    charges: usize,
    recidivist: Option<bool>,
) -> Result<Sentence, FieldError> {
    let kind = PrincipalKind::parse(&json.principal).ok_or_else(|| {
        FieldError::new(
            "sentence.principal",
            unknown(
                "principal punishment",
                &json.principal,
                PrincipalKind::CODES,
            ),
        )
    })?;
    let input = SentenceInput {
        months: json.months,
        probation_months: json.probation_months,
        fine_yuan: json.fine_yuan,
        political_rights_months: json.political_rights_months,
        combined: json.combined.unwrap_or(charges > 1),
        recidivist: recidivist == Some(true),
    };
    Sentence::new(kind, input).map_err(|error| {
        let field = match error {
            SentenceError::MissingTerm(_)
            | SentenceError::UnexpectedTerm { .. }
            | SentenceError::TermOutOfBounds { .. } => "sentence.months",
            SentenceError::ProbationNotAllowed(_)
            | SentenceError::ProbationForRecidivist
            | SentenceError::ProbationPeriod { .. } => "sentence.probation_months",
            SentenceError::ExemptWithPunishment | SentenceError::SupplementaryMissing => {
                "sentence.fine_yuan"
            }
            SentenceError::PoliticalRights(_) => "sentence.political_rights_months",
        };
        FieldError::new(field, error)
    })
}

/// The given dates, those present, in legal order (each on or after the one before it); the first
/// out of order is named with the earlier one it precedes. Criminal and violation records share it.
pub(crate) fn check_date_order(chain: [(&'static str, Option<Date>); 5]) -> Result<(), FieldError> {
    let mut earlier: Option<(&'static str, Date)> = None;
    for (field, date) in chain {
        let Some(date) = date else { continue };
        if let Some((earlier_field, earlier_date)) = earlier {
            if date < earlier_date {
                return Err(FieldError::new(
                    field,
                    FactError::DateOrder {
                        earlier: earlier_field,
                        earlier_date: earlier_date.to_string(),
                        later: field,
                        later_date: date.to_string(),
                    },
                ));
            }
        }
        earlier = Some((field, date));
    }
    Ok(())
}

fn check_dates(record: &Record) -> Result<(), FieldError> {
    let chain: [(&'static str, Option<Date>); 5] = [
        ("person.birth_date", record.person.birth_date),
        ("offence_date", record.offence_date),
        ("disposition_date", record.disposition_date),
        ("judgment_effective_date", record.judgment_effective_date),
        ("execution_completed_date", record.execution_completed_date),
    ];
    check_date_order(chain)?;
    let convicted = record.disposition == Disposition::Convicted;
    if !convicted && record.execution_completed_date.is_some() {
        return Err(FieldError::new(
            "execution_completed_date",
            FactError::NotAllowed("execution is only for disposition convicted"),
        ));
    }
    if !matches!(
        record.disposition,
        Disposition::Convicted | Disposition::Acquitted
    ) && record.judgment_effective_date.is_some()
    {
        return Err(FieldError::new(
            "judgment_effective_date",
            FactError::NotAllowed("only a judgment (convicted or acquitted) takes effect"),
        ));
    }
    if record.recidivist == Some(true) {
        check_recidivism(record)?;
    }
    if let (true, Some(birth), Some(offence)) =
        (convicted, record.person.birth_date, record.offence_date)
    {
        if age_in_full_years(birth, offence).is_some_and(|age| age < MIN_AGE_OF_RESPONSIBILITY) {
            return Err(FieldError::new(
                "offence_date",
                FactError::NotAllowed(
                    "no one under 12 at the offence can be convicted (Criminal Law art. 17)",
                ),
            ));
        }
    }
    Ok(())
}

/// Criminal Law art. 65: negligent crimes and crimes committed under 18 never make a recidivist.
fn check_recidivism(record: &Record) -> Result<(), FieldError> {
    if record.culpability() == Some(Culpability::Negligent) {
        return Err(FieldError::new(
            "recidivist",
            FactError::NotAllowed(
                "a negligent crime cannot make a recidivist (累犯, Criminal Law art. 65)",
            ),
        ));
    }
    let age = record
        .offence_date
        .zip(record.person.birth_date)
        .and_then(|(offence, birth)| age_in_full_years(birth, offence));
    if age.is_some_and(|age| age < 18) {
        return Err(FieldError::new(
            "recidivist",
            FactError::NotAllowed(
                "a crime committed under 18 cannot make a recidivist (累犯, Criminal Law art. 65)",
            ),
        ));
    }
    Ok(())
}

pub(crate) fn date_field(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<Date>, FieldError> {
    text.map(parse_date)
        .transpose()
        .map_err(|e| FieldError::new(field, e))
}

pub(crate) fn unknown(what: &'static str, given: &str, expected: &'static str) -> FactError {
    FactError::UnknownValue {
        what,
        given: given.to_owned(),
        expected,
    }
}

/// Re-reads a line that serde refused, this time tracking the path, so that the error names the
/// field. Only runs on the error path, so the common path pays nothing for it.
fn locate_json_error(line: &[u8]) -> FieldError {
    let mut deserializer = serde_json::Deserializer::from_slice(line);
    match serde_path_to_error::deserialize::<_, RecordJson<'_>>(&mut deserializer) {
        Ok(_) => FieldError::new("", FactError::Json("trailing characters".into())),
        Err(error) => {
            let path = error.path().to_string();
            let field = if path == "." { String::new() } else { path };
            let inner = error.into_inner();
            if inner.is_data() {
                FieldError::new(field, FactError::Shape(inner.to_string()))
            } else {
                crate::error::json_syntax_error(line, &inner)
            }
        }
    }
}

impl Record {
    /// The facts as FORMATS.md writes them ([`write_record`]), beside their parser.
    pub fn to_json(&self) -> serde_json::Value {
        write_record(self)
    }
}

/// A record's facts written as FORMATS.md writes them: what [`RecordParser::parse`] reads back into
/// the same `Record` (the store keeps them, encrypted, with the record and its transitions).
pub fn write_record(record: &Record) -> serde_json::Value {
    if record.is_violation() {
        return write_violation(record);
    }
    let sentence = record.sentence.map(|s| {
        serde_json::json!({
            "principal": s.principal.kind.code(),
            "months": if s.principal.kind.has_term() { Some(s.principal.months) } else { None },
            "probation_months": s.probation_months,
            "fine_yuan": s.fine_yuan,
            "political_rights_months": s.political_rights_months,
            "combined": s.combined,
        })
    });
    let catalogue = Catalogue::builtin();
    let mut facts = serde_json::json!({
        "record_id": record.record_id,
        "disposition": record.disposition.code(),
        "charges": record.charges.iter().map(|c| serde_json::json!({"name": catalogue.get(c.id).name, "culpability": c.culpability.code()})).collect::<Vec<_>>(),
        "person": {
            "id_number": record.person.id_number.as_ref().map(ToString::to_string),
            "name": record.person.name,
            "birth_date": record.person.birth_date.map(|d| d.to_string()),
        },
    });
    let put = |facts: &mut serde_json::Value, field: &str, value: Option<String>| {
        if let Some(value) = value {
            facts[field] = value.into();
        }
    };
    put(
        &mut facts,
        "case_code",
        record.case_code.as_ref().map(ToString::to_string),
    );
    put(
        &mut facts,
        "offence_date",
        record.offence_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "disposition_date",
        record.disposition_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "judgment_effective_date",
        record.judgment_effective_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "execution_completed_date",
        record.execution_completed_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "non_prosecution_ground",
        record.non_prosecution_ground.map(|g| g.code().to_owned()),
    );
    if let Some(sentence) = sentence {
        facts["sentence"] = sentence;
    }
    if let Some(recidivist) = record.recidivist {
        facts["recidivist"] = recidivist.into();
    }
    if let Some(prior) = record.prior_convictions {
        facts["prior_convictions"] = prior.into();
    }
    if let Some(sealed) = record.sealed_juvenile_priors {
        facts["sealed_juvenile_priors"] = sealed.into();
    }
    if let Some(main) = record.main_conduct_under_18 {
        facts["main_conduct_under_18"] = main.into();
    }
    facts["conditions"] = serde_json::json!({
        "civil_compensation_fulfilled": record.conditions.civil_compensation_fulfilled,
        "victim_forgiveness": record.conditions.victim_forgiveness,
        "plea": record.conditions.plea,
    });
    facts
}

/// A violation record's facts, as FORMATS.md ("Violation record facts") writes them.
fn write_violation(record: &Record) -> serde_json::Value {
    let catalogue = crate::ViolationCatalogue::builtin();
    let date = |d: Option<Date>| d.map(|d| d.to_string());
    let mut facts = serde_json::json!({
        "record_id": record.record_id,
        "kind": record.kind.code(),
        "disposition": record.disposition.code(),
        "violations": record.violations.iter().map(|v| {
            let b = catalogue.get(*v);
            serde_json::json!({"name": b.name, "article": b.article})
        }).collect::<Vec<_>>(),
        "person": {
            "id_number": record.person.id_number.as_ref().map(ToString::to_string),
            "name": record.person.name,
            "birth_date": date(record.person.birth_date),
        },
    });
    for (field, value) in [
        (
            "case_code",
            record.case_code.as_ref().map(ToString::to_string),
        ),
        ("offence_date", date(record.offence_date)),
        ("disposition_date", date(record.disposition_date)),
        (
            "decision_effective_date",
            date(record.decision_effective_date),
        ),
        (
            "execution_completed_date",
            date(record.execution_completed_date),
        ),
    ] {
        if let Some(value) = value {
            facts[field] = value.into();
        }
    }
    if let Some(p) = record.penalty {
        let mut penalty = serde_json::json!({
            "warning": p.warning,
            "licence_revoked": p.licence_revoked,
            "deadline_to_leave": p.deadline_to_leave,
            "deportation": p.deportation,
        });
        if p.fine_yuan > 0 {
            penalty["fine_yuan"] = p.fine_yuan.into();
        }
        if p.detention_days > 0 {
            penalty["detention_days"] = p.detention_days.into();
        }
        facts["penalty"] = penalty;
    }
    facts
}

#[cfg(test)]
mod write_tests {
    #![allow(
        clippy::expect_used,
        reason = "a test fails loudly on a broken fixture"
    )]

    /// The stored facts are read back to explain transitions and to decide again: what the record
    /// says of straddling acts and sealed juvenile priors (issue 14) survives the round trip.
    #[test]
    fn stored_facts_keep_main_conduct_and_sealed_juvenile_priors() {
        let line = serde_json::json!({
            "record_id": "R-1",
            "person": {"birth_date": "2006-01-01"},
            "offence_date": "2024-03-05",
            "charges": [{"name": "盗窃罪"}],
            "disposition": "convicted",
            "disposition_date": "2024-09-01",
            "sentence": {"principal": "fixed_term", "months": 48},
            "judgment_effective_date": "2024-09-12",
            "recidivist": false,
            "prior_convictions": 2,
            "sealed_juvenile_priors": 1,
            "main_conduct_under_18": true
        });
        let record = crate::parse_record(line.to_string().as_bytes()).expect("valid");
        let stored = super::write_record(&record);
        assert_eq!(stored["main_conduct_under_18"], serde_json::json!(true));
        assert_eq!(stored["sealed_juvenile_priors"], serde_json::json!(1));
        let read_back = crate::parse_record(stored.to_string().as_bytes()).expect("read back");
        assert_eq!(read_back, record);
    }
}
