//! Public-security violations (违反治安管理行为): the catalogue of behaviours (`data/violations.tsv`),
//! the penalty kinds of the 治安管理处罚法 and their limits.
//!
//! What the law allows, as checked here (docs/law.md, "Public-security violations"):
//! - penalty kinds (art. 10): warning, fine, administrative detention, revocation of a licence issued
//!   by public security; for a foreigner, in addition, a deadline to leave or deportation;
//! - detention: one behaviour at most its article's longest term, and never over 15 days; several
//!   behaviours decided separately and executed together at most 20 days (art. 16);
//! - no penalty for a person under 14 at the act (art. 12).

use std::collections::HashMap;
use std::sync::LazyLock;

const BUILTIN_TSV: &str = include_str!("../../../data/violations.tsv");

/// The longest detention for one behaviour (the chapter's heaviest articles: 十日以上十五日以下拘留).
pub const DETENTION_MAX_ONE: u32 = 15;
/// The longest detention executed together for several behaviours (art. 16: 最长不超过二十日).
pub const DETENTION_MAX_COMBINED: u32 = 20;
/// Under this age at the act, no penalty (art. 12: 不满十四周岁的人违反治安管理的，不予处罚).
pub const MIN_AGE_PENALTY: u32 = 14;

/// Index of a behaviour in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BehaviourId(pub u16);

/// One behaviour of the chapter on violations, with what its article allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    pub id: BehaviourId,
    pub name: String,
    /// The article of the 2012 text (read verbatim).
    pub article: String,
    /// The article of the 2025 revision, where confirmed.
    pub article_2025: Option<String>,
    pub warning: bool,
    /// The 2012 text's largest fine (not checked: the 2025 revision raised fines).
    pub fine_max_yuan: u32,
    /// The article's longest detention in days; 0 where it allows none.
    pub detention_max_days: u32,
    pub licence: bool,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/violations.tsv line {line}: {message}")]
pub struct ViolationCatalogueError {
    pub line: usize,
    pub message: String,
}

/// The behaviours, by name.
#[derive(Debug, Clone)]
pub struct ViolationCatalogue {
    behaviours: Vec<Behaviour>,
    by_name: HashMap<String, BehaviourId>,
}

static BUILTIN: LazyLock<ViolationCatalogue> = LazyLock::new(|| {
    ViolationCatalogue::from_tsv(BUILTIN_TSV)
        .unwrap_or_else(|e| panic!("the shipped violation catalogue is invalid: {e}"))
});

impl ViolationCatalogue {
    pub fn builtin() -> &'static ViolationCatalogue {
        &BUILTIN
    }

    pub fn from_tsv(text: &str) -> Result<Self, ViolationCatalogueError> {
        let mut behaviours = Vec::new();
        let mut by_name = HashMap::new();
        let mut header = false;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let err = |message: String| ViolationCatalogueError {
                line: number,
                message,
            };
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if !header {
                header = true;
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 8 {
                return Err(err(format!("expected 8 columns, found {}", cols.len())));
            }
            let yes = |c: &str, what: &str| match c {
                "y" => Ok(true),
                "n" => Ok(false),
                other => Err(err(format!("{what} must be y or n, not `{other}`"))),
            };
            let number_col = |c: &str, what: &str| {
                c.parse::<u32>()
                    .map_err(|_| err(format!("{what} must be a number, not `{c}`")))
            };
            let id = BehaviourId(
                u16::try_from(behaviours.len()).map_err(|_| err("too many behaviours".into()))?,
            );
            let behaviour = Behaviour {
                id,
                name: cols[0].to_owned(),
                article: cols[1].to_owned(),
                article_2025: (cols[2] != "?").then(|| cols[2].to_owned()),
                warning: yes(cols[3], "warning")?,
                fine_max_yuan: number_col(cols[4], "fine_max_yuan")?,
                detention_max_days: number_col(cols[5], "detention_max_days")?,
                licence: yes(cols[6], "licence")?,
                tags: cols[7].split(',').map(str::to_owned).collect(),
            };
            if behaviour.detention_max_days > DETENTION_MAX_ONE {
                return Err(err(format!(
                    "{} days of detention for one behaviour: the law allows at most {DETENTION_MAX_ONE}",
                    behaviour.detention_max_days
                )));
            }
            if by_name.insert(behaviour.name.clone(), id).is_some() {
                return Err(err(format!("`{}` is listed twice", behaviour.name)));
            }
            behaviours.push(behaviour);
        }
        Ok(Self {
            behaviours,
            by_name,
        })
    }

    pub fn resolve(&self, name: &str) -> Option<&Behaviour> {
        self.by_name
            .get(name.trim())
            .map(|id| &self.behaviours[usize::from(id.0)])
    }

    pub fn get(&self, id: BehaviourId) -> &Behaviour {
        &self.behaviours[usize::from(id.0)]
    }

    pub fn all(&self) -> &[Behaviour] {
        &self.behaviours
    }
}

/// The penalty a decision imposes (处罚决定): the kinds of art. 10, combined where several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Penalty {
    pub warning: bool,
    pub fine_yuan: u64,
    pub detention_days: u32,
    pub licence_revoked: bool,
    /// For a foreigner: a deadline to leave the country (限期出境).
    pub deadline_to_leave: bool,
    /// For a foreigner: deportation (驱逐出境).
    pub deportation: bool,
}

impl Penalty {
    /// At least one kind of art. 10 (the measures for foreigners are only in addition to one).
    pub fn has_principal(&self) -> bool {
        self.warning || self.fine_yuan > 0 || self.detention_days > 0 || self.licence_revoked
    }

    /// The penalty in Chinese, as a decision (处罚决定书) states it.
    pub fn chinese(&self) -> String {
        let mut parts = Vec::new();
        if self.warning {
            parts.push("警告".to_owned());
        }
        if self.detention_days > 0 {
            parts.push(format!(
                "行政拘留{}日",
                crate::numerals::chinese_number(u64::from(self.detention_days))
            ));
        }
        if self.fine_yuan > 0 {
            parts.push(format!(
                "罚款{}元",
                crate::numerals::chinese_number(self.fine_yuan)
            ));
        }
        if self.licence_revoked {
            parts.push("吊销公安机关发放的许可证件".to_owned());
        }
        if self.deadline_to_leave {
            parts.push("限期出境".to_owned());
        }
        if self.deportation {
            parts.push("驱逐出境".to_owned());
        }
        parts.join("，")
    }
}

/// Which body of law a record is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RecordKind {
    /// A criminal record (犯罪记录 and the non-conviction records of criminal proceedings).
    #[default]
    Criminal,
    /// A public-security violation record (治安违法记录, 治安管理处罚法).
    PublicSecurityViolation,
}

impl RecordKind {
    pub const CODES: &'static str = "criminal, public_security_violation";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "criminal" => Some(Self::Criminal),
            "public_security_violation" => Some(Self::PublicSecurityViolation),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Criminal => "criminal",
            Self::PublicSecurityViolation => "public_security_violation",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Criminal => "犯罪记录",
            Self::PublicSecurityViolation => "治安违法记录",
        }
    }
}
