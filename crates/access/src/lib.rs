//! Who may see a sealed record: requester kinds, purposes, grants, vetting scopes, and the one
//! function that answers a look-up ([`answer`]). Pure: the records, grants and time are passed in.
//!
//! The rule every path keeps: without a grant that covers it, a sealed record is answered exactly
//! as if it did not exist — same shape, same fields, same bytes ([`Answer::to_json`]). The
//! property test (`tests/indistinguishable.rs`) sweeps 100,000 combinations of histories,
//! requesters, purposes and grants for it.

mod table;
mod withholding;

use std::collections::BTreeSet;

use fengcun_domain::{PrincipalKind, RecordKind, TagSet};
use serde::{Deserialize, Serialize};

pub use table::{Disclosure, DisclosureError, DisclosureRule, NationalRule, Post, Sees};
pub use withholding::{Withholding, WithholdingRule};

/// Who asks (DESIGN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequesterKind {
    Court,
    Procuratorate,
    PublicSecurity,
    StateSecurity,
    JusticeAdministration,
    SupervisionCommission,
    Employer,
    Person,
    Lawyer,
}

impl RequesterKind {
    pub const ALL: [RequesterKind; 9] = [
        Self::Court,
        Self::Procuratorate,
        Self::PublicSecurity,
        Self::StateSecurity,
        Self::JusticeAdministration,
        Self::SupervisionCommission,
        Self::Employer,
        Self::Person,
        Self::Lawyer,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Court => "court",
            Self::Procuratorate => "procuratorate",
            Self::PublicSecurity => "public_security",
            Self::StateSecurity => "state_security",
            Self::JusticeAdministration => "justice_administration",
            Self::SupervisionCommission => "supervision_commission",
            Self::Employer => "employer",
            Self::Person => "person",
            Self::Lawyer => "lawyer",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Why one asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    CaseHandling,
    NationalSecurityReview,
    SpecialPostVetting,
    Certificate,
    SelfInspection,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Self::CaseHandling,
        Self::NationalSecurityReview,
        Self::SpecialPostVetting,
        Self::Certificate,
        Self::SelfInspection,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::CaseHandling => "case_handling",
            Self::NationalSecurityReview => "national_security_review",
            Self::SpecialPostVetting => "special_post_vetting",
            Self::Certificate => "certificate",
            Self::SelfInspection => "self_inspection",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A look-up: who, of which kind, for which purpose (and post, for vetting), about whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The requester's user or key id: grants are personal.
    pub requester: String,
    pub kind: RequesterKind,
    pub purpose: Purpose,
    pub post: Option<String>,
    /// For the person themself: their own person key. Their own records are theirs to see.
    pub own_person_key: Option<String>,
}

/// What a record establishes against the person, as the laws restricting posts speak of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Established {
    /// A judgment of guilt (有罪判决), an exemption from punishment included.
    Conviction,
    /// A discretionary non-prosecution (相对不起诉, CPL art. 177(2)): the crime established,
    /// prosecution waived.
    DiscretionaryNonProsecution,
    /// A public-security penalty decision (处罚决定).
    Penalty,
}

/// A record as disclosure sees it: whether it is sealed now, what it is about (for vetting
/// scopes), and the two views that may be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub person_key: String,
    pub case_code: String,
    /// A criminal record or a public-security violation record: each is shown only by the
    /// disclosure rules of its kind.
    pub kind: RecordKind,
    pub sealed: bool,
    /// What the record establishes; `None` for a case still open, an acquittal, a withdrawal,
    /// another non-prosecution, a decision not to penalise.
    pub established: Option<Established>,
    pub tags: TagSet,
    pub charges: Vec<String>,
    pub intentional: bool,
    /// The principal punishment's kind, for a conviction; `None` for a record without one (not
    /// prosecuted, withdrawn, acquitted, still open).
    pub principal: Option<PrincipalKind>,
    /// Whether the sentence deprives the person of political rights (剥夺政治权利).
    pub political_rights: bool,
    /// A violation record's categories (its behaviours' tags in data/violations.tsv), for the
    /// vetting posts a national rule lets see them.
    pub violation_tags: Vec<String>,
    /// A violation record's behaviours (catalogue names).
    pub violation_behaviours: Vec<String>,
    /// Whether a violation record's penalty includes administrative detention.
    pub detention: bool,
    /// Charges, disposition, sentence: what a summary shows.
    pub summary: serde_json::Value,
    /// Everything: what a full view shows.
    pub full: serde_json::Value,
}

/// An approved penetration request: one requester, one purpose (and post), one person, a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub requester: String,
    pub person_key: String,
    pub purpose: Purpose,
    pub post: Option<String>,
    pub not_before: jiff::Timestamp,
    pub expires: jiff::Timestamp,
    pub revoked: bool,
}

impl Grant {
    /// Whether this grant lets `query` see `record` at `now`.
    pub fn covers(&self, query: &Query, record: &Candidate, now: jiff::Timestamp) -> bool {
        !self.revoked
            && self.requester == query.requester
            && self.purpose == query.purpose
            && self.post == query.post
            && self.person_key == record.person_key
            && self.not_before <= now
            && now < self.expires
    }
}

/// One record shown, with the grant it was read under (a sealed record) or none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub case_code: String,
    pub record: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// The duty of confidentiality of a sealed record shown under a grant, where the rule that
    /// shows it carries one (a violation record: 治安管理处罚法 art. 136).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality: Option<String>,
}

/// The answer to a look-up.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 无权查询: this requester may not query for this purpose, whatever exists.
    NoRight { basis: String },
    /// The records that may be shown; none is "no record" (查无记录).
    Records(Vec<Shown>),
}

impl Answer {
    /// The body of the response: its bytes depend only on what is shown, so an answer with a
    /// sealed record hidden is byte-identical to one where the record never existed.
    pub fn to_json(&self) -> String {
        let value = match self {
            Answer::NoRight { basis } => serde_json::json!({
                "answer": "no_right", "message": "无权查询", "basis": basis, "records": []
            }),
            Answer::Records(records) if records.is_empty() => serde_json::json!({
                "answer": "no_record", "message": "查无记录", "records": []
            }),
            Answer::Records(records) => serde_json::json!({
                "answer": "records", "message": "查询结果", "records": records
            }),
        };
        value.to_string()
    }

    /// The grants a sealed record was read under (each is a `grant_use` audit entry).
    pub fn grants_used(&self) -> BTreeSet<String> {
        match self {
            Answer::NoRight { .. } => BTreeSet::new(),
            Answer::Records(records) => records.iter().filter_map(|r| r.grant.clone()).collect(),
        }
    }
}

/// What a rule lets this query see: the post it is narrowed to (vetting), or `Err` where the
/// query cannot be answered under it (vetting without a listed post).
fn scope<'t>(
    table: &'t Disclosure,
    rule: &DisclosureRule,
    query: &Query,
) -> Result<Option<&'t Post>, ()> {
    match (rule.sees, &query.post) {
        // An unknown post may see nothing: the same answer as for an unknown purpose.
        (Sees::Post, Some(code)) => table.post(code).map(Some).ok_or(()),
        (Sees::Post, None) => Err(()),
        _ => Ok(None),
    }
}

/// Answers a look-up over the records that match it (by person or case), under the disclosure
/// table, with the requester's grants, at `now`.
///
/// Each record is shown only by a rule of its own kind: a criminal record by the rules of CPL
/// art. 286 and the 2021 MPS rules, a violation record by those of 治安管理处罚法 art. 136. Whether
/// the answer is 无权查询 depends on the requester, the purpose and the post only — never on the
/// records.
pub fn answer(
    table: &Disclosure,
    query: &Query,
    records: &[Candidate],
    grants: &[Grant],
    now: jiff::Timestamp,
) -> Answer {
    let criminal_rule = table.rule(query.kind, query.purpose);
    let no_right = |rule: Option<&DisclosureRule>| Answer::NoRight {
        basis: rule.map_or_else(|| table.default_basis(), |r| r.basis.clone()),
    };
    let criminal = match criminal_rule.filter(|r| r.may_query) {
        Some(rule) => match scope(table, rule, query) {
            Ok(post) => Some((rule, post)),
            Err(()) => return no_right(Some(rule)),
        },
        None => None,
    };
    let violation_rule = table
        .rule_for(
            RecordKind::PublicSecurityViolation,
            query.kind,
            query.purpose,
        )
        .filter(|r| r.may_query);
    let violation = match violation_rule {
        Some(rule) => match scope(table, rule, query) {
            Ok(post) => Some((rule, post)),
            Err(()) if criminal.is_some() => None,
            Err(()) => return no_right(Some(rule)),
        },
        None => None,
    };
    if criminal.is_none() && violation.is_none() {
        return no_right(criminal_rule);
    }
    let mut shown = Vec::new();
    for record in records {
        let in_force = match record.kind {
            RecordKind::Criminal => criminal,
            RecordKind::PublicSecurityViolation => violation,
        };
        let Some((rule, post)) = in_force else {
            continue;
        };
        if rule.own_records && query.own_person_key.as_deref() != Some(record.person_key.as_str()) {
            continue;
        }
        // Self-inspection: a person's own sealed records are theirs to see (PIPL art. 45).
        let own_sealed = rule.own_records && rule.own_sealed;
        let grant = if record.sealed && !own_sealed {
            match grants
                .iter()
                .find(|g| rule.penetrate && g.covers(query, record, now))
            {
                Some(grant) => Some(grant.id.clone()),
                None => continue,
            }
        } else {
            None
        };
        if let Some(post) = post
            && !post.covers(record)
        {
            continue;
        }
        let view = match rule.sees {
            Sees::Full => record.full.clone(),
            Sees::Summary | Sees::Post => record.summary.clone(),
        };
        let confidentiality = grant.as_ref().and(rule.confidentiality.clone());
        shown.push(Shown {
            case_code: record.case_code.clone(),
            record: view,
            grant,
            confidentiality,
        });
    }
    shown.sort_by(|a, b| a.case_code.cmp(&b.case_code));
    Answer::Records(shown)
}

/// Whether a penetration request may be made at all: the requester's kind may penetrate for the
/// purpose (and the post exists, for vetting). Asking reveals nothing: a request is accepted or
/// refused the same whether the person has a sealed record or not.
pub fn may_request<'t>(table: &'t Disclosure, query: &Query) -> Result<&'t DisclosureRule, String> {
    let penetrates = |r: &&DisclosureRule| r.may_query && r.penetrate;
    let rule = table
        .rule(query.kind, query.purpose)
        .filter(penetrates)
        .or_else(|| {
            table
                .rule_for(
                    RecordKind::PublicSecurityViolation,
                    query.kind,
                    query.purpose,
                )
                .filter(penetrates)
        })
        .ok_or_else(|| {
            format!(
                "{} may not ask to see sealed records for {}",
                query.kind.code(),
                query.purpose.code()
            )
        })?;
    if rule.sees == Sees::Post && query.post.as_deref().and_then(|p| table.post(p)).is_none() {
        return Err("special-post vetting needs a listed post".to_owned());
    }
    Ok(rule)
}

/// An approval is refused when the approver is the requester (DESIGN.md §6: "an approver who is
/// not the requester").
pub fn may_approve(requester: &str, approver: &str) -> Result<(), String> {
    if requester == approver {
        Err("the requester may not approve their own request".to_owned())
    } else {
        Ok(())
    }
}
