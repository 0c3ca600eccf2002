//! Case events: what agencies send (DESIGN.md §3). Events are immutable facts; a record's state is
//! derived from them. Validation happens here, at the edge, with errors naming the field.

use serde::{Deserialize, Serialize};

use crate::case_code::CaseCode;
use crate::date::parse_date;
use crate::error::{FactError, FieldError};
use crate::facts::parse_record;
use crate::id_number::IdNumber;
use crate::{Date, Record};

/// The agencies that send events (政法机关).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    PublicSecurity,
    Procuratorate,
    Court,
    /// Prison or detention centre (监狱、看守所).
    Prison,
    CommunityCorrection,
    StateSecurity,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 6] = [
        Self::PublicSecurity,
        Self::Procuratorate,
        Self::Court,
        Self::Prison,
        Self::CommunityCorrection,
        Self::StateSecurity,
    ];

    /// The code events and the configuration write it with (`court`, `public_security`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::PublicSecurity => "public_security",
            Self::Procuratorate => "procuratorate",
            Self::Court => "court",
            Self::Prison => "prison",
            Self::CommunityCorrection => "community_correction",
            Self::StateSecurity => "state_security",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::PublicSecurity => "公安机关",
            Self::Procuratorate => "人民检察院",
            Self::Court => "人民法院",
            Self::Prison => "监狱、看守所",
            Self::CommunityCorrection => "社区矫正机构",
            Self::StateSecurity => "国家安全机关",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub kind: AgencyKind,
    /// The agency's own code, unique nationwide (e.g. `110105-court`).
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Kinds of event, in the order a case normally goes through them (the order also breaks ties
/// between events of the same date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Filed,
    Investigation,
    ArrestApproved,
    ArrestRefused,
    CaseWithdrawn,
    Indicted,
    NotProsecuted,
    Judgment,
    JudgmentEffective,
    ExecutionStarted,
    ExecutionCompleted,
    ProbationCompleted,
    /// 治安案件受案: public security accepts a public-security (administrative) case.
    ViolationAccepted,
    /// 治安管理处罚决定: the penalty decision (`violations`, `penalty`).
    ViolationPenalized,
    /// 不予处罚决定: a decision not to penalise (治安管理处罚法: under 14, 情节特别轻微, …).
    ViolationNotPenalized,
    /// 撤销案件: the public-security case withdrawn.
    ViolationWithdrawn,
    /// 处罚决定生效: the penalty decision took effect.
    ViolationDecisionEffective,
    /// 处罚执行完毕: the penalty fully executed (detention served, fine paid).
    ViolationExecutionCompleted,
    /// 处罚决定被撤销: revoked on administrative reconsideration or litigation (`review`).
    ViolationDecisionRevoked,
    /// 处罚决定被变更: changed on administrative reconsideration or litigation (`review`, new `penalty`).
    ViolationDecisionChanged,
    Correction,
}

impl EventKind {
    pub const ALL: [EventKind; 21] = [
        Self::Filed,
        Self::Investigation,
        Self::ArrestApproved,
        Self::ArrestRefused,
        Self::CaseWithdrawn,
        Self::Indicted,
        Self::NotProsecuted,
        Self::Judgment,
        Self::JudgmentEffective,
        Self::ExecutionStarted,
        Self::ExecutionCompleted,
        Self::ProbationCompleted,
        Self::ViolationAccepted,
        Self::ViolationPenalized,
        Self::ViolationNotPenalized,
        Self::ViolationWithdrawn,
        Self::ViolationDecisionEffective,
        Self::ViolationExecutionCompleted,
        Self::ViolationDecisionRevoked,
        Self::ViolationDecisionChanged,
        Self::Correction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Filed => "filed",
            Self::Investigation => "investigation",
            Self::ArrestApproved => "arrest_approved",
            Self::ArrestRefused => "arrest_refused",
            Self::CaseWithdrawn => "case_withdrawn",
            Self::Indicted => "indicted",
            Self::NotProsecuted => "not_prosecuted",
            Self::Judgment => "judgment",
            Self::JudgmentEffective => "judgment_effective",
            Self::ExecutionStarted => "execution_started",
            Self::ExecutionCompleted => "execution_completed",
            Self::ProbationCompleted => "probation_completed",
            Self::ViolationAccepted => "violation_accepted",
            Self::ViolationPenalized => "violation_penalized",
            Self::ViolationNotPenalized => "violation_not_penalized",
            Self::ViolationWithdrawn => "violation_withdrawn",
            Self::ViolationDecisionEffective => "violation_decision_effective",
            Self::ViolationExecutionCompleted => "violation_execution_completed",
            Self::ViolationDecisionRevoked => "violation_decision_revoked",
            Self::ViolationDecisionChanged => "violation_decision_changed",
            Self::Correction => "correction",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Filed => "立案",
            Self::Investigation => "侦查",
            Self::ArrestApproved => "批准逮捕",
            Self::ArrestRefused => "不批准逮捕",
            Self::CaseWithdrawn => "撤销案件",
            Self::Indicted => "提起公诉",
            Self::NotProsecuted => "不起诉",
            Self::Judgment => "判决",
            Self::JudgmentEffective => "判决生效",
            Self::ExecutionStarted => "交付执行",
            Self::ExecutionCompleted => "刑罚执行完毕",
            Self::ProbationCompleted => "缓刑考验期满",
            Self::ViolationAccepted => "治安案件受案",
            Self::ViolationPenalized => "治安管理处罚决定",
            Self::ViolationNotPenalized => "不予处罚决定",
            Self::ViolationWithdrawn => "撤销治安案件",
            Self::ViolationDecisionEffective => "处罚决定生效",
            Self::ViolationExecutionCompleted => "处罚执行完毕",
            Self::ViolationDecisionRevoked => "处罚决定被撤销（复议、诉讼）",
            Self::ViolationDecisionChanged => "处罚决定被变更（复议、诉讼）",
            Self::Correction => "更正",
        }
    }

    /// Whether an agency that has sent nothing about a case yet may join it with this kind: only
    /// by a step that hands the case to it — the procuratorate reviewing it for arrest or
    /// prosecution, a court trying it (at first instance, on appeal, on retrial), the organ that
    /// receives the sentenced person for execution, a court hearing a suit against a penalty
    /// decision. Every other kind continues a case its agency already handles: otherwise any
    /// bureau could withdraw (and so seal) another's case, or report on a sealed case to be told
    /// whose it is.
    pub fn joins_a_case(self, agency: AgencyKind) -> bool {
        use AgencyKind::*;
        match self {
            Self::ArrestApproved | Self::ArrestRefused | Self::Indicted | Self::NotProsecuted => {
                agency == Procuratorate
            }
            Self::Judgment => agency == Court,
            Self::ExecutionStarted => self.sent_by(agency),
            Self::ViolationDecisionRevoked | Self::ViolationDecisionChanged => agency == Court,
            Self::Filed
            | Self::Investigation
            | Self::CaseWithdrawn
            | Self::JudgmentEffective
            | Self::ExecutionCompleted
            | Self::ProbationCompleted
            | Self::ViolationAccepted
            | Self::ViolationPenalized
            | Self::ViolationNotPenalized
            | Self::ViolationWithdrawn
            | Self::ViolationDecisionEffective
            | Self::ViolationExecutionCompleted
            | Self::Correction => false,
        }
    }

    /// The kinds by which an agency of `agency`'s kind joins a case it has not reported on.
    pub fn joining(agency: AgencyKind) -> Vec<EventKind> {
        Self::ALL
            .into_iter()
            .filter(|kind| kind.joins_a_case(agency))
            .collect()
    }

    /// Which agencies may send this kind: a court does not withdraw a police case.
    pub fn sent_by(self, agency: AgencyKind) -> bool {
        use AgencyKind::*;
        match self {
            Self::Filed | Self::Investigation | Self::CaseWithdrawn => {
                matches!(agency, PublicSecurity | StateSecurity | Procuratorate)
            }
            Self::ArrestApproved | Self::ArrestRefused | Self::Indicted | Self::NotProsecuted => {
                agency == Procuratorate
            }
            Self::Judgment | Self::JudgmentEffective => agency == Court,
            Self::ExecutionStarted | Self::ExecutionCompleted => {
                matches!(
                    agency,
                    Prison | CommunityCorrection | PublicSecurity | Court
                )
            }
            Self::ProbationCompleted => agency == CommunityCorrection,
            // 治安管理处罚法: public security accepts, decides and executes (detention in its
            // detention houses, art. 103 of the 2012 text).
            Self::ViolationAccepted
            | Self::ViolationPenalized
            | Self::ViolationNotPenalized
            | Self::ViolationWithdrawn
            | Self::ViolationDecisionEffective
            | Self::ViolationExecutionCompleted => agency == PublicSecurity,
            // A court on litigation; the deciding public-security organ records the outcome of an
            // administrative reconsideration (it must carry it out): `review` says which.
            Self::ViolationDecisionRevoked | Self::ViolationDecisionChanged => {
                matches!(agency, PublicSecurity | Court)
            }
            Self::Correction => true,
        }
    }

    /// An event of a public-security violation case (治安管理处罚法), not of criminal proceedings.
    pub fn is_violation(self) -> bool {
        matches!(
            self,
            Self::ViolationAccepted
                | Self::ViolationPenalized
                | Self::ViolationNotPenalized
                | Self::ViolationWithdrawn
                | Self::ViolationDecisionEffective
                | Self::ViolationExecutionCompleted
                | Self::ViolationDecisionRevoked
                | Self::ViolationDecisionChanged
        )
    }
}

/// A behaviour as violation events carry it (the record-facts shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventViolation {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
}

/// Who the record is about: a resident identity number, or a foreigner's document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

impl EventPerson {
    /// The person's stable identity, `id:<number>` or `doc:<type>:<number>`, before pseudonymisation.
    pub fn identity(&self) -> Result<String, FieldError> {
        match (&self.id_number, &self.document_type, &self.document_number) {
            (Some(id), None, None) => {
                let id = IdNumber::parse(id).map_err(|e| FieldError::new("person.id_number", e))?;
                Ok(format!("id:{id}"))
            }
            (None, Some(kind), Some(number))
                if !kind.trim().is_empty() && !number.trim().is_empty() =>
            {
                Ok(format!("doc:{}:{}", kind.trim(), number.trim()))
            }
            _ => Err(FieldError::new(
                "person",
                FactError::Required(
                    "id_number, or document_type with document_number (foreigners)",
                ),
            )),
        }
    }
}

/// A charge as events carry it (same shape as record facts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCharge {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culpability: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instance {
    First,
    Appeal,
    Retrial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgmentVerdict {
    Convicted,
    Acquitted,
}

/// A judgment's content. The sentence uses the record-facts shape and is validated the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgment {
    pub instance: Instance,
    pub verdict: JudgmentVerdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<EventCharge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentence: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offence_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recidivist: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_convictions: Option<u32>,
    /// How many of `prior_convictions` are sealed juvenile records (Criminal Law art. 100(2)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_juvenile_priors: Option<u32>,
    /// The acts straddle the 18th birthday and the main conduct came before it: the court's
    /// finding under the 2022 juvenile sealing measures (art. 4(2)), which then seal the whole case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_conduct_under_18: Option<bool>,
    /// The sentence to be executed after combination with another case's (数罪并罚, 决定执行),
    /// where this judgment combines with an earlier sentence; same shape as `sentence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_sentence: Option<serde_json::Value>,
    /// The other cases this judgment combines with, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub combined_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<serde_json::Value>,
}

/// One event, as sent. Kind-specific content sits in the field named after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Chosen by the sender; the same event sent twice is stored once.
    pub idempotency_key: String,
    pub kind: EventKind,
    /// When it happened (not when it was sent).
    pub date: String,
    /// The nationwide case code; may be omitted when `document_number` is already mapped to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_code: Option<String>,
    pub agency: Agency,
    /// The agency's own document number (e.g. `(2024)京0105刑初123号`), mapped to the case code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    pub person: EventPerson,
    /// `filed`, `indicted`, `not_prosecuted`: the charges as known at that stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<EventCharge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offence_date: Option<String>,
    /// `not_prosecuted`: statutory | discretionary | insufficient_evidence | conditional. Also
    /// read as `non_prosecution_ground`, the record-facts name it becomes.
    #[serde(
        default,
        alias = "non_prosecution_ground",
        skip_serializing_if = "Option::is_none"
    )]
    pub ground: Option<String>,
    /// `not_prosecuted`: the person's convictions before this case, as the decision states them
    /// (a discretionary non-prosecution meets the first-offender rule as a conviction does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_convictions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgment: Option<Judgment>,
    /// `violation_accepted`, `violation_penalized`, `violation_not_penalized`,
    /// `violation_decision_changed`: the behaviours (catalogue names, data/violations.tsv).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<EventViolation>,
    /// `violation_penalized`, `violation_decision_changed`: the penalty, in the record-facts shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<serde_json::Value>,
    /// `violation_decision_revoked`, `violation_decision_changed`: `reconsideration` (行政复议) or
    /// `litigation` (行政诉讼).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// `correction`: the idempotency key of the event it corrects …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// … and the corrected event, or none to retract it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Box<Event>>,
    /// Why the correction was made (shown in the audit trail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An event checked at the edge, with its parsed date and case code.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub event: Event,
    pub date: Date,
    pub case_code: Option<CaseCode>,
    /// `id:<number>` or `doc:<type>:<number>`.
    pub identity: String,
}

impl ValidEvent {
    /// Refuses an event dated after `today` (China time, the receiving clock's): an event records
    /// what has happened, so a date to come is a mistake of the sender's (a year typed wrong, a
    /// judgment's effective date sent before it came) that would otherwise seal or unseal on a
    /// date nothing has decided yet.
    pub fn check_not_future(&self, today: Date) -> Result<(), FieldError> {
        if self.date > today {
            return Err(FieldError::new(
                "date",
                FactError::Future {
                    date: self.date.to_string(),
                    today: today.to_string(),
                },
            ));
        }
        Ok(())
    }
}

impl Event {
    /// Parses one JSON event as it arrives, naming the field of the first problem.
    pub fn parse(line: &[u8]) -> Result<ValidEvent, FieldError> {
        Self::deserialize_line(line)?.validate_with(Rules::Arriving)
    }

    /// Reads back an event the store accepted earlier. Rules added for arriving events since (such
    /// as what a correction's replacement must keep) are not applied again: what was stored must
    /// stay readable, or one old record would stop the scheduler and every policy change.
    pub fn parse_stored(body: &[u8]) -> Result<ValidEvent, FieldError> {
        Self::deserialize_line(body)?.validate_with(Rules::Stored)
    }

    fn deserialize_line(line: &[u8]) -> Result<Event, FieldError> {
        let event: Event = {
            let mut deserializer = serde_json::Deserializer::from_slice(line);
            let event = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." { String::new() } else { path };
                let inner = error.into_inner();
                if inner.is_data() {
                    FieldError::new(field, FactError::Shape(inner.to_string()))
                } else {
                    crate::error::json_syntax_error(line, &inner)
                }
            })?;
            // One event per line: anything after it would otherwise be dropped without a word.
            deserializer.end().map_err(|_| {
                FieldError::new(
                    "",
                    FactError::Json("more than one JSON value on the line".into()),
                )
            })?;
            event
        };
        Ok(event)
    }

    /// Checks an event as it arrives.
    pub fn validate(self) -> Result<ValidEvent, FieldError> {
        self.validate_with(Rules::Arriving)
    }

    /// Checks an event read back from the store (see [`Event::parse_stored`]).
    pub fn validate_stored(self) -> Result<ValidEvent, FieldError> {
        self.validate_with(Rules::Stored)
    }

    fn validate_with(self, rules: Rules) -> Result<ValidEvent, FieldError> {
        let key = &self.idempotency_key;
        let characters = key.chars().count();
        if characters == 0 || characters > 200 || key.trim() != key {
            return Err(FieldError::new(
                "idempotency_key",
                FactError::Shape("must have 1–200 characters, without surrounding blanks".into()),
            ));
        }
        let date = parse_date(&self.date).map_err(|e| FieldError::new("date", e))?;
        let case_code = self
            .case_code
            .as_deref()
            .map(CaseCode::parse)
            .transpose()
            .map_err(|e| FieldError::new("case_code", e))?;
        if case_code.is_none() && self.document_number.is_none() {
            return Err(FieldError::new(
                "case_code",
                FactError::Required("(or a document_number already mapped to one)"),
            ));
        }
        if self.agency.code.trim().is_empty() {
            return Err(FieldError::new(
                "agency.code",
                FactError::Required("agency code"),
            ));
        }
        if !self.kind.sent_by(self.agency.kind) {
            return Err(FieldError::new(
                "kind",
                FactError::Shape(format!(
                    "{} is not sent by {}",
                    self.kind.code(),
                    self.agency.kind.chinese()
                )),
            ));
        }
        let identity = self.person.identity()?;
        // A rule added after events were stored: those stay readable (see `parse_stored`).
        if let (Some(name), Rules::Arriving) = (&self.person.name, rules) {
            check_name(name, PERSON_NAME_MAX).map_err(|e| FieldError::new("person.name", e))?;
        }
        if let Some(birth) = &self.person.birth_date {
            let birth = parse_date(birth).map_err(|e| FieldError::new("person.birth_date", e))?;
            let from_id = self
                .person
                .id_number
                .as_deref()
                .and_then(|id| IdNumber::parse(id).ok())
                .map(|id| id.birth_date());
            if let Some(from_id) = from_id.filter(|d| *d != birth) {
                return Err(FieldError::new(
                    "person.birth_date",
                    FactError::BirthDateMismatch {
                        given: birth.to_string(),
                        from_id: from_id.to_string(),
                    },
                ));
            }
        }
        if let Some(offence) = &self.offence_date {
            parse_date(offence).map_err(|e| FieldError::new("offence_date", e))?;
        }
        self.validate_content(rules)?;
        Ok(ValidEvent {
            event: self,
            date,
            case_code,
            identity,
        })
    }

    /// The person's birth date: as given (checked against the identity number before this is
    /// asked), else the one the identity number holds.
    fn birth_date(&self) -> Option<Date> {
        self.person
            .birth_date
            .as_deref()
            .and_then(|text| parse_date(text).ok())
            .or_else(|| {
                self.person
                    .id_number
                    .as_deref()
                    .and_then(|id| IdNumber::parse(id).ok())
                    .map(|id| id.birth_date())
            })
    }

    fn validate_content(&self, rules: Rules) -> Result<(), FieldError> {
        let only = |present: bool, field: &'static str, kinds: &'static str| {
            if present {
                Err(FieldError::new(
                    field,
                    FactError::Shape(format!("only for {kinds}")),
                ))
            } else {
                Ok(())
            }
        };
        let is = |kinds: &[EventKind]| kinds.contains(&self.kind);
        only(
            self.judgment.is_some() && !is(&[EventKind::Judgment]),
            "judgment",
            "kind judgment",
        )?;
        only(
            self.ground.is_some() && !is(&[EventKind::NotProsecuted]),
            "ground",
            "kind not_prosecuted",
        )?;
        only(
            self.prior_convictions.is_some() && !is(&[EventKind::NotProsecuted]),
            "prior_convictions",
            "kind not_prosecuted (a judgment gives them in judgment)",
        )?;
        only(
            (self.corrects.is_some() || self.replacement.is_some())
                && !is(&[EventKind::Correction]),
            "corrects",
            "kind correction",
        )?;
        only(
            !self.charges.is_empty()
                && !is(&[
                    EventKind::Filed,
                    EventKind::Indicted,
                    EventKind::NotProsecuted,
                ]),
            "charges",
            "kinds filed, indicted, not_prosecuted",
        )?;
        only(
            !self.violations.is_empty()
                && !is(&[
                    EventKind::ViolationAccepted,
                    EventKind::ViolationPenalized,
                    EventKind::ViolationNotPenalized,
                    EventKind::ViolationDecisionChanged,
                ]),
            "violations",
            "kinds violation_accepted, violation_penalized, violation_not_penalized, violation_decision_changed",
        )?;
        only(
            self.penalty.is_some()
                && !is(&[
                    EventKind::ViolationPenalized,
                    EventKind::ViolationDecisionChanged,
                ]),
            "penalty",
            "kinds violation_penalized, violation_decision_changed",
        )?;
        only(
            self.review.is_some()
                && !is(&[
                    EventKind::ViolationDecisionRevoked,
                    EventKind::ViolationDecisionChanged,
                ]),
            "review",
            "kinds violation_decision_revoked, violation_decision_changed",
        )?;
        if self.kind.is_violation() {
            return self.validate_violation();
        }
        match self.kind {
            EventKind::Judgment => {
                let judgment = self.judgment.as_ref().ok_or_else(|| {
                    FieldError::new("judgment", FactError::Required("for kind judgment"))
                })?;
                // The person's birth date (given, or from the identity number) orders the
                // judgment's dates too: an offence before it is refused at the edge, named as the
                // court sent it. A rule added later: events stored before it stay readable.
                let birth = match rules {
                    Rules::Arriving => self.birth_date(),
                    Rules::Stored => None,
                };
                validate_judgment(judgment, &self.date, birth)
            }
            EventKind::NotProsecuted => {
                self.charges
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, c)| check_charge(i, c))?;
                match &self.ground {
                    None => Ok(()),
                    Some(g) => crate::NonProsecutionGround::parse(g)
                        .map(|_| ())
                        .ok_or_else(|| {
                            FieldError::new(
                                "ground",
                                FactError::UnknownValue {
                                    what: "ground",
                                    given: g.clone(),
                                    expected: crate::NonProsecutionGround::CODES,
                                },
                            )
                        }),
                }
            }
            EventKind::Correction => {
                if self.corrects.as_deref().is_none_or(|c| c.trim().is_empty()) {
                    return Err(FieldError::new(
                        "corrects",
                        FactError::Required("for kind correction"),
                    ));
                }
                if let Some(replacement) = &self.replacement {
                    if replacement.kind == EventKind::Correction {
                        return Err(FieldError::new(
                            "replacement.kind",
                            FactError::Shape(
                                "a correction cannot replace with a correction".into(),
                            ),
                        ));
                    }
                    let replaced =
                        replacement
                            .as_ref()
                            .clone()
                            .validate_with(rules)
                            .map_err(|e| {
                                FieldError::new(format!("replacement.{}", e.field), e.error)
                            })?;
                    if rules == Rules::Arriving {
                        self.check_same_record(&replaced)?;
                    }
                }
                Ok(())
            }
            _ => self
                .charges
                .iter()
                .enumerate()
                .try_for_each(|(i, c)| check_charge(i, c)),
        }
    }
}

impl Event {
    /// A violation event's content, checked by the violation record-facts rules (one place for the
    /// 治安管理处罚法's limits).
    fn validate_violation(&self) -> Result<(), FieldError> {
        if matches!(
            self.kind,
            EventKind::ViolationDecisionRevoked | EventKind::ViolationDecisionChanged
        ) {
            match self.review.as_deref() {
                None => {
                    return Err(FieldError::new(
                        "review",
                        FactError::Required("reconsideration or litigation"),
                    ));
                }
                Some("reconsideration") if self.agency.kind == AgencyKind::Court => {
                    return Err(FieldError::new(
                        "review",
                        FactError::NotAllowed(
                            "a court decides on litigation, not on administrative reconsideration",
                        ),
                    ));
                }
                Some("reconsideration" | "litigation") => {}
                Some(other) => {
                    return Err(FieldError::new(
                        "review",
                        FactError::UnknownValue {
                            what: "review",
                            given: other.to_owned(),
                            expected: "reconsideration, litigation",
                        },
                    ));
                }
            }
        }
        let with_penalty = matches!(
            self.kind,
            EventKind::ViolationPenalized | EventKind::ViolationDecisionChanged
        );
        if with_penalty && self.penalty.is_none() {
            return Err(FieldError::new(
                "penalty",
                FactError::Required("for a penalty decision"),
            ));
        }
        if with_penalty && self.violations.is_empty() {
            return Err(FieldError::new(
                "violations",
                FactError::Required("(at least one) for a penalty decision, changed or not"),
            ));
        }
        // The content as record facts: behaviours from the catalogue, the penalty within the law,
        // no penalty for a person under 14.
        let disposition = if with_penalty { "penalized" } else { "open" };
        let mut facts = serde_json::json!({
            "record_id": "E",
            "kind": "public_security_violation",
            "disposition": disposition,
            "violations": self.violations,
        });
        if with_penalty {
            facts["penalty"] = self.penalty.clone().unwrap_or_default();
            facts["disposition_date"] = self.date.clone().into();
        }
        if let Some(offence) = &self.offence_date {
            facts["offence_date"] = offence.clone().into();
        }
        let mut person = serde_json::json!({});
        if let Some(id) = &self.person.id_number {
            person["id_number"] = id.clone().into();
        }
        if let Some(birth) = &self.person.birth_date {
            person["birth_date"] = birth.clone().into();
        }
        facts["person"] = person;
        let bytes = serde_json::to_vec(&facts)
            .map_err(|e| FieldError::new("penalty", FactError::Json(e.to_string())))?;
        parse_record(&bytes).map(|_| ()).map_err(|e| {
            let field = match e.field.as_str() {
                "disposition_date" | "person.birth_date" => "date".to_owned(),
                other => other.to_owned(),
            };
            FieldError::new(field, e.error)
        })
    }
}

/// Which rules an event is checked by: all of them as it arrives; as it was stored, those it was
/// accepted under (rules added later apply to new events only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    Arriving,
    Stored,
}

impl Event {
    /// A replacement is the corrected event as it should have been: it keeps that event's key and
    /// is the correcting agency's own, about the same person and case. Otherwise a correction could
    /// move an event to another record or speak for another agency.
    fn check_same_record(&self, replaced: &ValidEvent) -> Result<(), FieldError> {
        let differs = |field: &str, what: String| {
            Err(FieldError::new(
                format!("replacement.{field}"),
                FactError::Shape(what),
            ))
        };
        let corrects = self.corrects.as_deref().unwrap_or_default();
        if replaced.event.idempotency_key != corrects {
            return differs(
                "idempotency_key",
                format!("must be the corrected event's key `{corrects}`"),
            );
        }
        if replaced.event.agency.code != self.agency.code {
            return differs(
                "agency.code",
                format!(
                    "must be the correcting agency `{}`: an agency corrects its own events only",
                    self.agency.code
                ),
            );
        }
        // And of its kind: a replacement declaring another kind would let an agency's correction
        // put in a judgment as if from a court.
        if replaced.event.agency.kind != self.agency.kind {
            return differs(
                "agency.kind",
                format!(
                    "must be the correcting agency's kind `{}`",
                    self.agency.kind.code()
                ),
            );
        }
        if self.person.identity().ok().as_deref() != Some(replaced.identity.as_str()) {
            return differs("person", "must be the correction's person".into());
        }
        // The case code, when both give one (a document number may be the correction's own
        // ruling, mapped to the same case).
        if let (Some(ours), Some(theirs)) = (&self.case_code, &replaced.event.case_code) {
            if ours != theirs {
                return differs("case_code", format!("must be the correction's `{ours}`"));
            }
        }
        Ok(())
    }
}

/// The longest person name accepted, in characters: a Chinese name is two to four, a transliterated
/// foreign name (with its middle dots) rarely over forty.
pub const PERSON_NAME_MAX: usize = 64;

/// A name as people write it: at most `max` characters, at least one of them visible, and none of
/// the invisible characters that change how a text is shown — control characters (NUL, line breaks,
/// …) and the bidirectional controls (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F,
/// U+061C) that can make a name print as another.
pub fn check_name(name: &str, max: usize) -> Result<(), FactError> {
    let characters = name.chars().count();
    if characters > max {
        return Err(FactError::Shape(format!(
            "must have at most {max} characters, has {characters}"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(FactError::Shape(format!(
            "must not contain control characters (U+{:04X})",
            u32::from(c)
        )));
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return Err(FactError::Shape(format!(
            "must not contain bidirectional text controls (U+{:04X})",
            u32::from(c)
        )));
    }
    if !name.chars().any(is_visible) {
        return Err(FactError::Shape(
            "must have at least one visible character".into(),
        ));
    }
    // A name goes onto certificates and notices, which refuse these too (`is_invisible_formatting`).
    if let Some(c) = name.chars().find(|c| is_invisible_formatting(*c)) {
        return Err(FactError::Shape(format!(
            "must not contain zero-width characters (U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A character drawn as nothing that changes how a text reads or compares: the bidirectional
/// controls, zero-width spaces and joiners, the word joiner and invisible operators, the
/// Mongolian vowel separator, the byte-order mark. The one rule for every text the platform
/// shows as written (names, purposes, reasons; certificates and notices).
pub fn is_invisible_formatting(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
        )
}

/// Not blank, and not one of the characters that are drawn as nothing: zero-width spaces and
/// joiners, the word joiner, the byte-order mark, the soft hyphen, the Hangul fillers.
fn is_visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !is_bidi_control(c)
        && !matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

fn check_charge(index: usize, charge: &EventCharge) -> Result<(), FieldError> {
    crate::Catalogue::builtin()
        .resolve(&charge.name)
        .map(|_| ())
        .ok_or_else(|| {
            FieldError::new(
                format!("charges[{index}].name"),
                FactError::UnknownCharge(charge.name.clone()),
            )
        })
}

/// A judgment is checked by the record-facts rules: the same Criminal Law limits, one place.
fn validate_judgment(
    judgment: &Judgment,
    date: &str,
    birth: Option<Date>,
) -> Result<(), FieldError> {
    let mut facts = judgment_facts(judgment, date, "J");
    if let Some(birth) = birth {
        facts["person"] = serde_json::json!({"birth_date": birth.to_string()});
    }
    let check = |facts: serde_json::Value| -> Result<Record, FieldError> {
        let bytes = serde_json::to_vec(&facts)
            .map_err(|e| FieldError::new("judgment", FactError::Json(e.to_string())))?;
        parse_record(&bytes).map_err(in_judgment_terms)
    };
    check(facts)?;
    if let Some(combined) = &judgment.combined_sentence {
        let mut facts = judgment_facts(judgment, date, "J");
        facts["sentence"] = combined.clone();
        if let Some(object) = facts["sentence"].as_object_mut() {
            object.insert("combined".into(), serde_json::Value::Bool(true));
        }
        check(facts).map_err(|e| {
            FieldError::new(
                e.field
                    .replacen("judgment.sentence", "judgment.combined_sentence", 1),
                e.error,
            )
        })?;
    }
    Ok(())
}

/// A record-facts error about a judgment, in the words of the event the court sent: the record's
/// disposition date is the event's `date`, its other facts the judgment's own fields. (A clerk
/// told of `judgment.disposition_date` looks for a field the event does not have.)
fn in_judgment_terms(error: FieldError) -> FieldError {
    fn name(record_field: &'static str) -> &'static str {
        match record_field {
            "disposition_date" => "date",
            "offence_date" => "judgment.offence_date",
            other => other,
        }
    }
    let field = match error.field.as_str() {
        "disposition_date" => "date".to_owned(),
        other => format!("judgment.{other}"),
    };
    let error = match error.error {
        FactError::DateOrder {
            earlier,
            earlier_date,
            later,
            later_date,
        } => FactError::DateOrder {
            earlier: name(earlier),
            earlier_date,
            later: name(later),
            later_date,
        },
        other => other,
    };
    FieldError::new(field, error)
}

/// The record-facts JSON a judgment alone implies.
pub fn judgment_facts(judgment: &Judgment, date: &str, record_id: &str) -> serde_json::Value {
    let mut facts = serde_json::json!({
        "record_id": record_id,
        "disposition": match judgment.verdict { JudgmentVerdict::Convicted => "convicted", JudgmentVerdict::Acquitted => "acquitted" },
        "disposition_date": date,
        "charges": judgment.charges,
    });
    let object = facts.as_object_mut();
    if let Some(object) = object {
        if let Some(sentence) = &judgment.sentence {
            object.insert("sentence".into(), sentence.clone());
        }
        if let Some(offence) = &judgment.offence_date {
            object.insert("offence_date".into(), offence.clone().into());
        }
        if let Some(recidivist) = judgment.recidivist {
            object.insert("recidivist".into(), recidivist.into());
        }
        if let Some(prior) = judgment.prior_convictions {
            object.insert("prior_convictions".into(), prior.into());
        }
        if let Some(sealed) = judgment.sealed_juvenile_priors {
            object.insert("sealed_juvenile_priors".into(), sealed.into());
        }
        if let Some(main) = judgment.main_conduct_under_18 {
            object.insert("main_conduct_under_18".into(), main.into());
        }
        if let Some(conditions) = &judgment.conditions {
            object.insert("conditions".into(), conditions.clone());
        }
    }
    facts
}
