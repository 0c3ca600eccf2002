//! How a record ended.

/// The final disposition of a record, or `Open` while the case goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    Convicted,
    NotProsecuted,
    CaseWithdrawn,
    Acquitted,
    Open,
}

impl Disposition {
    pub const ALL: [Disposition; 5] = [
        Self::Convicted,
        Self::NotProsecuted,
        Self::CaseWithdrawn,
        Self::Acquitted,
        Self::Open,
    ];
    pub const CODES: &'static str = "convicted, not_prosecuted, case_withdrawn, acquitted, open";

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Convicted => "convicted",
            Self::NotProsecuted => "not_prosecuted",
            Self::CaseWithdrawn => "case_withdrawn",
            Self::Acquitted => "acquitted",
            Self::Open => "open",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Convicted => "判决有罪",
            Self::NotProsecuted => "不起诉",
            Self::CaseWithdrawn => "撤销案件",
            Self::Acquitted => "宣告无罪",
            Self::Open => "案件尚未终结",
        }
    }

    /// A record that never became a conviction (涉罪记录 of the investigation and prosecution stages).
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
