//! How a record ended.

/// The final disposition of a record, or `Open` while the case goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    Convicted,
    NotProsecuted,
    CaseWithdrawn,
    Acquitted,
    Open,
    /// A public-security penalty decision (处罚决定, 治安管理处罚法).
    Penalized,
    /// A decision not to penalise (不予处罚决定).
    NotPenalized,
    /// A public-security case withdrawn (撤销案件), or a penalty decision revoked on administrative
    /// reconsideration or litigation (复议 / 诉讼).
    Withdrawn,
}

impl Disposition {
    /// The dispositions of a criminal record (record facts without `kind`).
    pub const ALL: [Disposition; 5] = [
        Self::Convicted,
        Self::NotProsecuted,
        Self::CaseWithdrawn,
        Self::Acquitted,
        Self::Open,
    ];
    pub const CODES: &'static str = "convicted, not_prosecuted, case_withdrawn, acquitted, open";

    /// The dispositions of a public-security violation record (`"kind": "public_security_violation"`).
    pub const VIOLATION: [Disposition; 4] = [
        Self::Penalized,
        Self::NotPenalized,
        Self::Withdrawn,
        Self::Open,
    ];
    pub const VIOLATION_CODES: &'static str = "penalized, not_penalized, withdrawn, open";
    /// Every disposition of either kind, as a policy names them.
    pub const EVERY: [Disposition; 8] = [
        Self::Convicted,
        Self::NotProsecuted,
        Self::CaseWithdrawn,
        Self::Acquitted,
        Self::Open,
        Self::Penalized,
        Self::NotPenalized,
        Self::Withdrawn,
    ];
    pub const EVERY_CODES: &'static str = "convicted, not_prosecuted, case_withdrawn, acquitted, open, penalized, not_penalized, withdrawn";

    /// A criminal record's disposition.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == code)
    }

    /// A violation record's disposition.
    pub fn parse_violation(code: &str) -> Option<Self> {
        Self::VIOLATION.into_iter().find(|d| d.code() == code)
    }

    /// A disposition of either kind (policies name both).
    pub fn parse_any(code: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|d| d.code() == code)
    }

    /// Only a violation record has it (`Open` is either's).
    pub fn is_violation(self) -> bool {
        matches!(self, Self::Penalized | Self::NotPenalized | Self::Withdrawn)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Convicted => "convicted",
            Self::NotProsecuted => "not_prosecuted",
            Self::CaseWithdrawn => "case_withdrawn",
            Self::Acquitted => "acquitted",
            Self::Open => "open",
            Self::Penalized => "penalized",
            Self::NotPenalized => "not_penalized",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Convicted => "判决有罪",
            Self::NotProsecuted => "不起诉",
            Self::CaseWithdrawn => "撤销案件",
            Self::Acquitted => "宣告无罪",
            Self::Open => "案件尚未终结",
            Self::Penalized => "治安管理处罚决定",
            Self::NotPenalized => "不予处罚决定",
            Self::Withdrawn => "撤销案件",
        }
    }

    /// A record that never became a conviction (涉罪记录 of the investigation and prosecution stages).
    /// A violation record is none of these: it is not a criminal record at all.
    pub fn is_non_conviction(self) -> bool {
        matches!(
            self,
            Self::NotProsecuted | Self::CaseWithdrawn | Self::Acquitted
        )
    }
}

/// Ground of a non-prosecution (不起诉), Criminal Procedure Law arts. 177, 175 and 282.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonProsecutionGround {
    Statutory,
    Discretionary,
    InsufficientEvidence,
    Conditional,
}

impl NonProsecutionGround {
    pub const CODES: &'static str = "statutory, discretionary, insufficient_evidence, conditional";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "statutory" => Some(Self::Statutory),
            "discretionary" => Some(Self::Discretionary),
            "insufficient_evidence" => Some(Self::InsufficientEvidence),
            "conditional" => Some(Self::Conditional),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Statutory => "statutory",
            Self::Discretionary => "discretionary",
            Self::InsufficientEvidence => "insufficient_evidence",
            Self::Conditional => "conditional",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Statutory => "法定不起诉",
            Self::Discretionary => "酌定不起诉",
            Self::InsufficientEvidence => "存疑不起诉",
            Self::Conditional => "附条件不起诉",
        }
    }
}
