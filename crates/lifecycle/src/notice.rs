//! Sealing and unsealing notices (封存通知书 / 解除封存通知书), in Chinese, each with no more than its
//! receiver needs: an agency is reminded of its own document number, the person of nothing they
//! did not already know.

use fengcun_domain::date::chinese_date;
use fengcun_domain::{Agency, Date, Disposition};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Seal,
    Unseal,
}

impl NoticeKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Seal => "seal",
            Self::Unseal => "unseal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Seal => "封存通知书",
            Self::Unseal => "解除封存通知书",
        }
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
    pub basis: &'a [String],
    /// For an unseal: why (the policy's text for the trigger).
    pub reason: Option<&'a str>,
    /// How the record's case ended: only a conviction is a 犯罪记录; a record that ended otherwise
    /// (an acquittal, a non-prosecution, a withdrawn case) is a 涉罪记录, and is called so.
    pub disposition: Disposition,
}

/// What a notice calls the record: a conviction is a criminal record (犯罪记录); anything else is a
/// record of having been suspected or charged (涉罪记录), which no notice calls a crime.
struct Words {
    /// The record itself (`…中的犯罪记录`).
    record: &'static str,
    /// The sealed record an agency must keep confidential (`对被封存的犯罪记录予以保密`).
    kept: &'static str,
    /// What the seal means for the person's certificates.
    certificate: &'static str,
}

impl Words {
    fn of(disposition: Disposition) -> Self {
        if disposition == Disposition::Convicted {
            Self {
                record: "犯罪记录",
                kept: "犯罪记录",
                certificate: "你申请开具无犯罪记录证明的，有关机关应当依法办理。",
            }
        } else {
            Self {
                record: "涉罪记录",
                kept: "相关记录",
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
        certificate,
    } = Words::of(facts.disposition);
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
                    "{addressee}：\n    根据《{policy}》，{subject}在案件{case}{document}中的{record}，自{date}起予以封存。\n    \
                     依据：{basis}。\n    请对上述记录予以封存。除司法机关为办理案件需要或者有关单位根据国家规定进行查询外，\
                     不得向任何单位和个人提供；依法查询的，应当对被封存的{kept}予以保密。\n    请收到后回执确认。",
                    policy = facts.policy_title,
                    case = facts.case_code,
                    date = chinese_date(facts.effective),
                ),
                NoticeKind::Unseal => format!(
                    "{addressee}：\n    {subject}在案件{case}{document}中被封存的{record}，因{reason}，自{date}起解除封存。\n    \
                     依据：{basis}。\n    请据此恢复对上述记录的正常管理，并依法处理。\n    请收到后回执确认。",
                    case = facts.case_code,
                    reason = facts.reason.unwrap_or("出现法定解除封存情形"),
                    date = chinese_date(facts.effective),
                ),
            }
        }
        Recipient::Person => match kind {
            NoticeKind::Seal => format!(
                "{name}：\n    你在案件{case}中的{record}，已根据《{policy}》自{date}起予以封存。\
                 封存后，除法律规定的情形外，不得向任何单位和个人提供；{certificate}\n    \
                 依据：{basis}。",
                case = facts.case_code,
                policy = facts.policy_title,
                date = chinese_date(facts.effective),
            ),
            NoticeKind::Unseal => format!(
                "{name}：\n    你在案件{case}中被封存的{record}，因{reason}，自{date}起解除封存。\n    依据：{basis}。\n    \
                 如对本决定有异议，可以依法提出。",
                case = facts.case_code,
                reason = facts.reason.unwrap_or("出现法定解除封存情形"),
                date = chinese_date(facts.effective),
            ),
        },
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
            chinese_date(facts.issued)
        ),
    }
}
