//! What a certificate says: the decision over the person's records.
//!
//! The rules are those of 《公安机关办理犯罪记录查询工作规定》 (公通字〔2021〕19号, the 2021 rules of
//! public-security organs on criminal-record queries):
//!
//! - **Art. 2**: a criminal record is limited to a guilt established by a court's *effective*
//!   judgment; a person whose case has no effective judgment yet, whose prosecution was refused
//!   (不起诉), whose case was withdrawn (撤销案件, 撤回起诉, 终止侦查) is a person without a criminal
//!   record. Compulsory measures and the filing, investigation and prosecution stages are not
//!   criminal records.
//! - **Art. 10**: the answer must respect the sealing of juvenile records (Criminal Procedure Law
//!   art. 286): a sealed record gives a 《无犯罪记录证明》 to the person. The platform applies the
//!   same to every record its policy has sealed (the report's 轻微犯罪记录封存): sealed means not
//!   disclosed on a certificate.
//!
//! The decision is a pure function of the records *as the certificate sees them* on the issue
//! date ([`RecordAsSeen`]): the caller (the store) says whether each record is sealed on that date.

use fengcun_domain::{Date, Disposition};

/// One record of the person, as the certificate sees it on the issue date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAsSeen {
    /// How the record ended (or `Open`).
    pub disposition: Disposition,
    /// When the judgment took legal effect; `None` while it has not (first instance, appeal).
    pub judgment_effective_date: Option<Date>,
    /// Whether the record is sealed on the issue date (state `sealed`, or a pending seal whose
    /// date has come). An unsealed or revoked seal is `false`.
    pub sealed: bool,
    /// Charge names in Chinese, as the judgment states them (`危险驾驶罪`).
    pub charges: Vec<String>,
    /// The declared sentence in Chinese (`拘役二个月，并处罚金人民币五千元`), if known.
    pub sentence: Option<String>,
    /// The court that gave the judgment, if known.
    pub court: Option<String>,
    /// The court's case number (`(2024)京0105刑初123号`) or the nationwide case code, if known.
    pub case_number: Option<String>,
}

/// A conviction listed on a certificate: effective, and not sealed on the issue date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedConviction {
    /// Charge names in Chinese; at least one.
    pub charges: Vec<String>,
    /// The declared sentence in Chinese, if the record gives it.
    pub sentence: Option<String>,
    /// When the judgment took legal effect.
    pub judgment_effective_date: Date,
    /// The court, if the record gives it.
    pub court: Option<String>,
    /// The court's case number or the nationwide case code, if the record gives it.
    pub case_number: Option<String>,
}

/// The result a certificate states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateResult {
    /// 未发现有犯罪记录: a 《无犯罪记录证明》.
    NoCriminalRecord,
    /// 有犯罪记录, with the convictions that may be disclosed, oldest first: for the person's own
    /// query a 《不予出具无犯罪记录证明通知书》 (2021 rules; a unit's query is answered by a
    /// 《查询告知函》, which the platform does not issue).
    HasCriminalRecord(Vec<ListedConviction>),
}

impl CertificateResult {
    /// The code used in the file format: `no_criminal_record` or `has_criminal_record`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCriminalRecord => "no_criminal_record",
            Self::HasCriminalRecord(_) => "has_criminal_record",
        }
    }

    /// The document's title.
    pub fn title(&self) -> &'static str {
        match self {
            Self::NoCriminalRecord => "无犯罪记录证明",
            Self::HasCriminalRecord(_) => "不予出具无犯罪记录证明通知书",
        }
    }

    /// The document's title in English, by its result code ([`Self::code`]): for a page shown in
    /// English (the document itself is Chinese). `None` for a code that is no result's.
    pub fn english_title(code: &str) -> Option<&'static str> {
        match code {
            "no_criminal_record" => Some("Certificate of No Criminal Record"),
            "has_criminal_record" => {
                Some("Notice of Refusal to Issue a Certificate of No Criminal Record")
            }
            _ => None,
        }
    }

    /// The result in one Chinese phrase.
    pub fn chinese(&self) -> &'static str {
        match self {
            Self::NoCriminalRecord => "未发现有犯罪记录",
            Self::HasCriminalRecord(_) => "有犯罪记录",
        }
    }

    /// The listed convictions (empty for [`Self::NoCriminalRecord`]).
    pub fn convictions(&self) -> &[ListedConviction] {
        match self {
            Self::NoCriminalRecord => &[],
            Self::HasCriminalRecord(convictions) => convictions,
        }
    }
}

/// Why a record is left off the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Omission {
    /// Not prosecuted, withdrawn or acquitted: never a criminal record.
    NonConviction(Disposition),
    /// No final disposition yet: not a criminal record (yet).
    Open,
    /// Convicted, but the judgment had not taken effect on the issue date.
    NotYetEffective,
    /// An effective conviction sealed on the issue date.
    Sealed,
    /// A public-security violation record (治安违法记录): an administrative penalty, never a
    /// criminal record, sealed or not.
    Violation(Disposition),
}

impl Omission {
    /// The reason in Chinese, with its legal basis.
    pub fn chinese(self) -> String {
        match self {
            Self::NonConviction(disposition) => format!(
                "{}，不属于犯罪记录（《公安机关办理犯罪记录查询工作规定》第二条）",
                disposition.chinese()
            ),
            Self::Open => {
                "案件尚未终结，人民法院尚未作出生效判决，不属于犯罪记录（《公安机关办理犯罪记录查询工作规定》第二条）"
                    .to_owned()
            }
            Self::NotYetEffective => {
                "判决尚未生效，不属于犯罪记录（《公安机关办理犯罪记录查询工作规定》第二条）".to_owned()
            }
            Self::Sealed => {
                "犯罪记录已依法封存，不予披露（《公安机关办理犯罪记录查询工作规定》第十条、《中华人民共和国刑事诉讼法》第二百八十六条及封存政策）"
                    .to_owned()
            }
            Self::Violation(disposition) => format!(
                "治安违法记录（{}），属行政处罚，不属于犯罪记录（《公安机关办理犯罪记录查询工作规定》第二条；《中华人民共和国治安管理处罚法》第一百三十六条）",
                disposition.chinese()
            ),
        }
    }
}

/// What became of one input record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Listed on the certificate.
    Listed,
    /// Left off, and why.
    Omitted(Omission),
}

/// The decision with the outcome of every input record, in input order (for the audit log and
/// the operator's explanation; the certificate itself shows only [`Decision::result`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What the certificate states.
    pub result: CertificateResult,
    /// `outcomes[i]` is what became of `records[i]`.
    pub outcomes: Vec<Outcome>,
}

/// Decides what a certificate issued on `issue_date` states about a person with `records`.
///
/// Listed are exactly the convictions whose judgment took effect on or before `issue_date` and
/// that are not sealed; everything else is omitted with its reason. The listed convictions are
/// ordered by effective date, then court, case number and charges, so the result does not
/// depend on the order of `records`.
pub fn decide(records: &[RecordAsSeen], issue_date: Date) -> Decision {
    let mut listed = Vec::new();
    let outcomes = records
        .iter()
        .map(|record| match outcome(record, issue_date) {
            Ok(conviction) => {
                listed.push(conviction);
                Outcome::Listed
            }
            Err(omission) => Outcome::Omitted(omission),
        })
        .collect();
    listed.sort_by(|a, b| {
        (
            a.judgment_effective_date,
            &a.court,
            &a.case_number,
            &a.charges,
        )
            .cmp(&(
                b.judgment_effective_date,
                &b.court,
                &b.case_number,
                &b.charges,
            ))
    });
    let result = if listed.is_empty() {
        CertificateResult::NoCriminalRecord
    } else {
        CertificateResult::HasCriminalRecord(listed)
    };
    Decision { result, outcomes }
}

fn outcome(record: &RecordAsSeen, issue_date: Date) -> Result<ListedConviction, Omission> {
    match record.disposition {
        Disposition::NotProsecuted | Disposition::CaseWithdrawn | Disposition::Acquitted => {
            Err(Omission::NonConviction(record.disposition))
        }
        Disposition::Penalized | Disposition::NotPenalized | Disposition::Withdrawn => {
            Err(Omission::Violation(record.disposition))
        }
        Disposition::Open => Err(Omission::Open),
        Disposition::Convicted => {
            let effective = record
                .judgment_effective_date
                .filter(|date| *date <= issue_date)
                .ok_or(Omission::NotYetEffective)?;
            if record.sealed {
                return Err(Omission::Sealed);
            }
            Ok(ListedConviction {
                charges: record.charges.clone(),
                sentence: record.sentence.clone(),
                judgment_effective_date: effective,
                court: record.court.clone(),
                case_number: record.case_number.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE: Date = Date::constant(2026, 3, 1);

    fn record(disposition: Disposition, effective: Option<Date>, sealed: bool) -> RecordAsSeen {
        RecordAsSeen {
            disposition,
            judgment_effective_date: effective,
            sealed,
            charges: vec!["危险驾驶罪".to_owned()],
            sentence: Some("拘役二个月".to_owned()),
            court: Some("北京市朝阳区人民法院".to_owned()),
            case_number: Some("(2024)京0105刑初123号".to_owned()),
        }
    }

    /// (what the case is, disposition, judgment effective, sealed on the issue date, outcome).
    /// The rule for each row is in the module documentation.
    #[test]
    fn each_kind_of_record_is_listed_or_omitted_as_the_2021_rules_say() {
        use Disposition::*;
        let before = Some(Date::constant(2024, 3, 1));
        let same_day = Some(ISSUE);
        let after = Some(Date::constant(2026, 3, 2));
        #[rustfmt::skip]
        let table: [(&str, Disposition, Option<Date>, bool, Outcome); 14] = [
            // Art. 2: only an effective judgment of guilt is a criminal record.
            ("effective conviction", Convicted, before, false, Outcome::Listed),
            ("took effect on the issue day", Convicted, same_day, false, Outcome::Listed),
            ("takes effect the day after", Convicted, after, false, Outcome::Omitted(Omission::NotYetEffective)),
            ("judgment not yet effective", Convicted, None, false, Outcome::Omitted(Omission::NotYetEffective)),
            // Art. 10 and the sealing policy: a sealed record is not disclosed.
            ("sealed conviction", Convicted, before, true, Outcome::Omitted(Omission::Sealed)),
            ("sealed, not yet effective", Convicted, None, true, Outcome::Omitted(Omission::NotYetEffective)),
            // Art. 2: non-prosecution, withdrawal and acquittal are never criminal records.
            ("不起诉", NotProsecuted, None, false, Outcome::Omitted(Omission::NonConviction(NotProsecuted))),
            ("不起诉, sealed", NotProsecuted, None, true, Outcome::Omitted(Omission::NonConviction(NotProsecuted))),
            ("撤销案件", CaseWithdrawn, None, false, Outcome::Omitted(Omission::NonConviction(CaseWithdrawn))),
            ("宣告无罪", Acquitted, None, false, Outcome::Omitted(Omission::NonConviction(Acquitted))),
            // An acquittal on retrial keeps its old effective date in some feeds: still never listed.
            ("无罪 with a date", Acquitted, before, false, Outcome::Omitted(Omission::NonConviction(Acquitted))),
            // Art. 2: the investigation and prosecution stages are not criminal records.
            ("case still open", Open, None, false, Outcome::Omitted(Omission::Open)),
            ("open with a stale date", Open, before, false, Outcome::Omitted(Omission::Open)),
            ("open, sealed", Open, None, true, Outcome::Omitted(Omission::Open)),
        ];
        for (case, disposition, effective, sealed, expected) in table {
            let decision = decide(&[record(disposition, effective, sealed)], ISSUE);
            assert_eq!(decision.outcomes, vec![expected], "{case}");
            let listed = expected == Outcome::Listed;
            assert_eq!(
                decision.result == CertificateResult::NoCriminalRecord,
                !listed,
                "{case}"
            );
        }
    }

    #[test]
    fn a_person_without_records_has_no_criminal_record() {
        let decision = decide(&[], ISSUE);
        assert_eq!(decision.result, CertificateResult::NoCriminalRecord);
        assert_eq!(decision.result.title(), "无犯罪记录证明");
        assert!(decision.outcomes.is_empty());
    }

    #[test]
    fn only_unsealed_effective_convictions_are_listed_oldest_first() {
        let mut later = record(
            Disposition::Convicted,
            Some(Date::constant(2025, 6, 1)),
            false,
        );
        later.charges = vec!["盗窃罪".to_owned()];
        later.court = None;
        later.case_number = None;
        later.sentence = None;
        let earlier = record(
            Disposition::Convicted,
            Some(Date::constant(2020, 1, 2)),
            false,
        );
        let records = [
            later.clone(),
            record(
                Disposition::Convicted,
                Some(Date::constant(2019, 1, 1)),
                true,
            ),
            record(Disposition::NotProsecuted, None, false),
            earlier.clone(),
        ];
        let decision = decide(&records, ISSUE);
        let CertificateResult::HasCriminalRecord(listed) = &decision.result else {
            panic!("two convictions are disclosable: {decision:?}");
        };
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].charges, earlier.charges);
        assert_eq!(
            listed[0].judgment_effective_date,
            Date::constant(2020, 1, 2)
        );
        assert_eq!(listed[0].case_number, earlier.case_number);
        assert_eq!(listed[1].charges, vec!["盗窃罪".to_owned()]);
        assert_eq!(listed[1].court, None);
        assert_eq!(decision.result.title(), "不予出具无犯罪记录证明通知书");

        let mut reversed = records.to_vec();
        reversed.reverse();
        assert_eq!(decide(&reversed, ISSUE).result, decision.result);
    }

    #[test]
    fn reasons_cite_the_rules() {
        assert!(Omission::Sealed.chinese().contains("第十条"));
        assert!(Omission::NotYetEffective.chinese().contains("第二条"));
        assert!(
            Omission::NonConviction(Disposition::NotProsecuted)
                .chinese()
                .starts_with("不起诉")
        );
    }
}
