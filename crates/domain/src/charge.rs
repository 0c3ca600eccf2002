//! Charges (罪名) and the categories the sealing rules exclude.

use std::fmt;

/// Index of a charge in the catalogue; cheap to copy and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChargeId(pub u16);

/// 故意 or 过失 (Criminal Law arts. 14–15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Culpability {
    Intentional,
    Negligent,
}

impl Culpability {
    pub const CODES: &'static str = "intentional, negligent";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "intentional" => Some(Self::Intentional),
            "negligent" => Some(Self::Negligent),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Intentional => "intentional",
            Self::Negligent => "negligent",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Intentional => "故意犯罪",
            Self::Negligent => "过失犯罪",
        }
    }
}

/// Category tags the catalogue puts on charges, used by exclusions and vetting scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    NationalSecurity,
    Terrorism,
    Sexual,
    Drugs,
    OrganizedCrime,
    DutyCrime,
    SeriousViolent,
    Violence,
    Abuse,
    Trafficking,
    Prostitution,
}

impl Tag {
    pub const ALL: [Tag; 11] = [
        Tag::NationalSecurity,
        Tag::Terrorism,
        Tag::Sexual,
        Tag::Drugs,
        Tag::OrganizedCrime,
        Tag::DutyCrime,
        Tag::SeriousViolent,
        Tag::Violence,
        Tag::Abuse,
        Tag::Trafficking,
        Tag::Prostitution,
    ];

    pub const CODES: &'static str = "national_security, terrorism, sexual, drugs, organized_crime, \
         duty_crime, serious_violent, violence, abuse, trafficking, prostitution";

    pub fn code(self) -> &'static str {
        match self {
            Tag::NationalSecurity => "national_security",
            Tag::Terrorism => "terrorism",
            Tag::Sexual => "sexual",
            Tag::Drugs => "drugs",
            Tag::OrganizedCrime => "organized_crime",
            Tag::DutyCrime => "duty_crime",
            Tag::SeriousViolent => "serious_violent",
            Tag::Violence => "violence",
            Tag::Abuse => "abuse",
            Tag::Trafficking => "trafficking",
            Tag::Prostitution => "prostitution",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Tag::NationalSecurity => "危害国家安全犯罪",
            Tag::Terrorism => "恐怖活动犯罪",
            Tag::Sexual => "性侵犯罪",
            Tag::Drugs => "毒品犯罪",
            Tag::OrganizedCrime => "黑社会性质的组织犯罪",
            Tag::DutyCrime => "职务犯罪",
            Tag::SeriousViolent => "严重暴力犯罪",
            Tag::Violence => "暴力犯罪",
            Tag::Abuse => "虐待、遗弃类犯罪",
            Tag::Trafficking => "拐卖、强迫劳动类犯罪",
            Tag::Prostitution => "卖淫类犯罪",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Tag::ALL.into_iter().find(|tag| tag.code() == code)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of tags as a bit set, so that an exclusion test is one AND.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TagSet(u32);

impl TagSet {
    pub const EMPTY: TagSet = TagSet(0);

    pub fn with(self, tag: Tag) -> Self {
        Self(self.0 | tag.bit())
    }

    pub fn contains(self, tag: Tag) -> bool {
        self.0 & tag.bit() != 0
    }

    pub fn intersects(self, other: TagSet) -> bool {
        self.0 & other.0 != 0
    }

    pub fn intersection(self, other: TagSet) -> TagSet {
        TagSet(self.0 & other.0)
    }

    pub fn union(self, other: TagSet) -> TagSet {
        TagSet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Tag> {
        Tag::ALL.into_iter().filter(move |tag| self.contains(*tag))
    }
}

impl FromIterator<Tag> for TagSet {
    fn from_iter<I: IntoIterator<Item = Tag>>(iter: I) -> Self {
        iter.into_iter().fold(TagSet::EMPTY, TagSet::with)
    }
}

impl fmt::Debug for TagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Tag::code)).finish()
    }
}

/// One charge of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: ChargeId,
    /// The official name, ending in 罪.
    pub name: String,
    /// Article of the Criminal Law, e.g. `266`, `133之一`.
    pub article: String,
    /// Chapter of the special part (分则), 1–10.
    pub chapter: u8,
    /// Section (节) within chapters 3 and 6; 0 where the chapter has none.
    pub section: u8,
    pub culpability: Culpability,
    pub tags: TagSet,
    pub aliases: Vec<String>,
    /// False for charges abolished by an amendment, kept so that old records still resolve.
    pub current: bool,
}
