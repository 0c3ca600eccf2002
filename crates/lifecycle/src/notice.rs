//! Sealing and unsealing notices (封存通知书 / 解除封存通知书), in Chinese, each with no more than its
//! receiver needs: an agency is reminded of its own document number, the person of nothing they
//! did not already know.

use fengcun_domain::date::chinese_date;
use fengcun_domain::{Agency, Date, Disposition};
use serde::Serialize;

/// Ordered as their codes are.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Seal,
    Unseal,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 2] = [Self::Seal, Self::Unseal];

    pub fn code(self) -> &'static str {
        match self {
            Self::Seal => "seal",
            Self::Unseal => "unseal",
        }
    }

    /// The same as [`Self::code`].
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Seal => "封存通知书",
            Self::Unseal => "解除封存通知书",
        }
    }
}

/// Compares with a code, as stored: `state == "sealed"`.
impl PartialEq<str> for NoticeKind {
    fn eq(&self, code: &str) -> bool {
        self.code() == code
    }
}

impl PartialEq<&str> for NoticeKind {
    fn eq(&self, code: &&str) -> bool {
        self.code() == *code
    }
}

/// A code that names no kind of notice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a kind of notice")]
pub struct UnknownNoticeKind(pub String);

impl std::str::FromStr for NoticeKind {
    type Err = UnknownNoticeKind;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code).ok_or_else(|| UnknownNoticeKind(code.to_owned()))
    }
}

impl std::fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Who a notice goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// An agency that sent events for the record, with its own document number if it gave one.
    Agency {
        agency: Agency,
        document_number: Option<String>,
    },
    /// The person the record is about.
    Person,
}

/// A rendered notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub number: String,
    pub title: String,
    pub body: String,
}

/// Who issues notices and where an unsealing can be objected to: the deploying authority's
/// configuration (`[notices]`), sealed into each transition's notice facts when it is made, so
/// that a notice reads the same whenever it is read or delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issuing {
    /// The authority named at the foot of every notice of a criminal record
    /// (`北京市朝阳区人民法院`) …
    pub authority: Option<String>,
    /// … and of a public-security violation record, which the public-security organ that decided
    /// it seals (治安管理处罚法 art. 136): a court's name at the foot of such a notice would be
    /// wrong, and the criminal-record platform's would call a violation a crime.
    pub violation_authority: Option<String>,
    /// Where an objection to an unsealing goes (`北京市朝阳区人民检察院`).
    pub objection_body: Option<String>,
    /// Within how many days of receiving the notice an objection is made.
    pub objection_days: Option<u32>,
    /// The instrument a policy is in force under, by policy name, where the deploying authority
    /// cites another than the policy's own `instrument`.
    pub instruments: std::collections::BTreeMap<String, String>,
    /// The configured name of an agency, by its code: the name its notices address it by,
    /// whatever name its events gave (the configuration is the authority on an agency).
    pub agency_names: std::collections::BTreeMap<String, String>,
}

impl Issuing {
    /// The authority at the foot of the notices of a record of `kind`.
    pub fn authority_for(&self, kind: fengcun_domain::RecordKind) -> Option<&str> {
        match kind {
            fengcun_domain::RecordKind::Criminal => self.authority.as_deref(),
            fengcun_domain::RecordKind::PublicSecurityViolation => {
                self.violation_authority.as_deref()
            }
        }
    }

    /// The instrument a notice under `policy` cites: the configured one for its name, else the
    /// policy's own (`Meta::instrument`).
    pub fn instrument<'a>(&'a self, policy: &'a fengcun_policy::Meta) -> &'a str {
        self.instruments
            .get(&policy.name)
            .map_or_else(|| policy.instrument(), String::as_str)
    }
}

/// The judgment that lifted a seal: the court, its case number (案号) and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggeringJudgment {
    /// The court's name as it gave it, else its kind and code.
    pub court: String,
    /// The court's agency code.
    pub court_code: String,
    /// The judgment's case number (`（2026）京0105刑初88号`), where the court gave it.
    pub case_number: Option<String>,
    /// The date of the judgment.
    pub date: Date,
    /// The date it took effect, where known.
    pub effective: Option<Date>,
}

impl TriggeringJudgment {
    /// `北京市朝阳区人民法院2026年5月10日作出的（2026）京0105刑初88号刑事判决（2026年5月21日发生法律效力）`.
    fn chinese(&self) -> String {
        let number = self.case_number.as_deref().unwrap_or_default();
        let effective = self
            .effective
            .map(|d| format!("（{}发生法律效力）", chinese_date(d)))
            .unwrap_or_default();
        format!(
            "{}{}作出的{number}刑事判决{effective}",
            self.court,
            chinese_date(self.date)
        )
    }
}

/// What a notice says; the caller fills it from the record and the transition.
#[derive(Debug, Clone)]
pub struct NoticeFacts<'a> {
    pub number: &'a str,
    pub case_code: &'a str,
    pub person_name: Option<&'a str>,
    pub id_number: Option<&'a str>,
    pub effective: Date,
    pub issued: Date,
    pub policy_title: &'a str,
    /// The legal instrument the policy is in force under ([`Issuing::instrument`]). Notices sealed
    /// before it was kept with them cite the policy's title, as they were issued.
    pub instrument: Option<&'a str>,
    /// The bases of the rules that decided the case, each once.
    pub basis: &'a [String],
    /// The issuing authority, named at the foot; none on notices sealed before it was configured.
    pub authority: Option<&'a str>,
    /// For an unseal by a judgment (a new crime, a discovered earlier crime, a retrial): that
    /// judgment.
    pub judgment: Option<&'a TriggeringJudgment>,
    /// For an unseal: where, and within how many days, an objection is made.
    pub objection_body: Option<&'a str>,
    pub objection_days: Option<u32>,
    /// For an unseal: why (the policy's text for the trigger).
    pub reason: Option<&'a str>,
    /// How the record's case ended: only a conviction is a 犯罪记录; a record that ended otherwise
    /// (an acquittal, a non-prosecution, a withdrawn case) is a 涉罪记录, and is called so.
    pub disposition: Disposition,
}

/// What a notice calls the record: a conviction is a criminal record (犯罪记录); a public-security
/// violation is a violation record (违法记录, 治安管理处罚法 art. 136), which is no criminal record;
/// anything else is a record of having been suspected or charged (涉罪记录), which no notice calls a
/// crime.
struct Words {
    /// The record itself (`…中的犯罪记录`).
    record: &'static str,
    /// The sealed record an agency must keep confidential (`对被封存的犯罪记录予以保密`).
    kept: &'static str,
    /// Who may still look a sealed record up, in the words of the law that seals it: Criminal
    /// Procedure Law art. 286 for a criminal case, Public Security Administration Punishments Law
    /// art. 136 for a violation.
    except: &'static str,
    /// What the seal means for the person's certificates.
    certificate: &'static str,
}

impl Words {
    fn of(disposition: Disposition) -> Self {
        const CRIMINAL_CASE_LOOKUPS: &str =
            "除司法机关为办理案件需要或者有关单位根据国家规定进行查询外";
        if disposition == Disposition::Convicted {
            Self {
                record: "犯罪记录",
                kept: "犯罪记录",
                except: CRIMINAL_CASE_LOOKUPS,
                certificate: "你申请开具无犯罪记录证明的，有关机关应当依法办理。",
            }
        } else if disposition.is_violation() {
            Self {
                record: "违法记录",
                kept: "违法记录",
                except: "除有关国家机关为办案需要或者有关单位根据国家规定进行查询外",
                certificate: "违反治安管理的记录不影响你依法申请开具无犯罪记录证明。",
            }
        } else {
            Self {
                record: "涉罪记录",
                kept: "相关记录",
                except: CRIMINAL_CASE_LOOKUPS,
                certificate: "上述记录未经人民法院判决有罪，不影响你依法申请开具有关证明。",
            }
        }
    }
}

pub fn render_notice(kind: NoticeKind, recipient: &Recipient, facts: &NoticeFacts<'_>) -> Notice {
    let name = facts.person_name.unwrap_or("当事人");
    let basis = facts.basis.join("；");
    let Words {
        record,
        kept,
        except,
        certificate,
    } = Words::of(facts.disposition);
    // `根据…`: the instrument as it names itself; a notice sealed before instruments were kept
    // cites the policy's title as it was issued.
    let under = match facts.instrument {
        Some(instrument) => instrument.to_owned(),
        None => format!("《{}》", facts.policy_title),
    };
    let mut reason = facts.reason.unwrap_or("出现法定解除封存情形");
    // The policies' unsealing texts end in `解除封存`, which the sentence says itself (`…，自某日起
    // 解除封存`); notices issued before instruments were kept keep the words they were issued with.
    if facts.instrument.is_some() {
        reason = reason
            .strip_suffix("，解除封存")
            .or_else(|| reason.strip_suffix("解除封存"))
            .unwrap_or(reason);
    }
    // `因…，` for an unseal: the reason, and the judgment that brought it about.
    let cause = match facts.judgment {
        Some(judgment) => format!("因{}，{reason}", judgment.chinese()),
        None => format!("因{reason}"),
    };
    let objection = |who: &str| match (facts.objection_body, facts.objection_days) {
        (Some(body), Some(days)) => {
            format!(
                "\n    {who}对解除封存有异议的，可以自收到本通知书之日起{days}日内向{body}提出。"
            )
        }
        (Some(body), None) => format!("\n    {who}对解除封存有异议的，可以向{body}提出。"),
        (None, _) => String::new(),
    };
    let body = match recipient {
        Recipient::Agency {
            agency,
            document_number,
        } => {
            let addressee = agency
                .name
                .clone()
                .unwrap_or_else(|| format!("{}（{}）", agency.kind.chinese(), agency.code));
            let subject = match facts.id_number {
                Some(id) => format!("{name}（公民身份号码{id}）"),
                None => name.to_owned(),
            };
            let document = document_number
                .as_deref()
                .map(|d| format!("（你单位文书编号{d}）"))
                .unwrap_or_default();
            match kind {
                NoticeKind::Seal => format!(
                    "{addressee}：\n    根据{under}，{subject}在案件{case}{document}中的{record}，自{date}起予以封存。\n    \
                     依据：{basis}。\n    请对上述记录予以封存。{except}，\
                     不得向任何单位和个人提供；依法查询的，应当对被封存的{kept}予以保密。\n    请收到后回执确认。",
                    case = facts.case_code,
                    date = chinese_date(facts.effective),
                ),
                NoticeKind::Unseal => format!(
                    "{addressee}：\n    {subject}在案件{case}{document}中被封存的{record}，{cause}，自{date}起解除封存。\n    \
                     依据：{basis}。\n    请据此恢复对上述记录的正常管理，并依法处理。{objection}\n    请收到后回执确认。",
                    case = facts.case_code,
                    date = chinese_date(facts.effective),
                    objection = objection("你单位"),
                ),
            }
        }
        Recipient::Person => match kind {
            NoticeKind::Seal => format!(
                "{name}：\n    你在案件{case}中的{record}，已根据{under}自{date}起予以封存。\
                 封存后，除法律规定的情形外，不得向任何单位和个人提供；{certificate}\n    \
                 依据：{basis}。",
                case = facts.case_code,
                date = chinese_date(facts.effective),
            ),
            NoticeKind::Unseal => format!(
                "{name}：\n    你在案件{case}中被封存的{record}，{cause}，自{date}起解除封存。\n    依据：{basis}。{objection}",
                case = facts.case_code,
                date = chinese_date(facts.effective),
                objection = match facts.objection_body {
                    Some(_) => objection("你"),
                    None => "\n    如对本决定有异议，可以依法提出。".to_owned(),
                },
            ),
        },
    };
    let foot = match facts.authority {
        Some(authority) => format!("{authority}\n{}", chinese_date(facts.issued)),
        None => chinese_date(facts.issued),
    };
    Notice {
        kind,
        number: facts.number.to_owned(),
        title: kind.title().to_owned(),
        body: format!(
            "{}\n编号：{}\n\n{}\n\n{}",
            kind.title(),
            facts.number,
            body,
            foot
        ),
    }
}
