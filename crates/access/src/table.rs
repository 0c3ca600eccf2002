//! The disclosure table and the vetting posts: data (`data/disclosure/*.toml`), each rule and post
//! with its legal basis.

use fengcun_domain::{PrincipalKind, RecordKind, Tag, TagSet};
use serde::Deserialize;

use crate::{Candidate, Established, Purpose, RequesterKind};

const CN_DEFAULT: &str = include_str!("../../../data/disclosure/cn-default.toml");
const POSTS: &str = include_str!("../../../data/disclosure/vetting-posts.toml");
const NATIONAL_RULES: &str = include_str!("../../../data/disclosure/national-rules.toml");

#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule {index}: {message}")]
    Rule {
        file: String,
        index: usize,
        message: String,
    },
}

/// What a rule lets its requester see of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sees {
    Full,
    Summary,
    /// Only records in the vetting post's categories, as summaries.
    Post,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRule {
    /// The kind of record the rule is about: a criminal record (CPL art. 286 and the 2021 MPS
    /// rules) or a public-security violation record (治安管理处罚法 art. 136). A record is shown
    /// only by a rule of its own kind.
    pub records: RecordKind,
    pub kinds: Vec<RequesterKind>,
    /// `None`: every purpose.
    pub purpose: Option<Purpose>,
    pub may_query: bool,
    pub penetrate: bool,
    pub own_records: bool,
    pub own_sealed: bool,
    pub sees: Sees,
    /// How long an approved grant lasts.
    pub grant_days: i64,
    pub basis: String,
    /// The national rules (`national-rules.toml`, by code) a unit queries under: art. 136's
    /// "有关单位根据国家规定进行查询".
    pub national_rules: Vec<String>,
    /// The duty of confidentiality an answer showing a sealed record under this rule carries, in
    /// Chinese (art. 136: 依法进行查询的单位，应当对被封存的违法记录的情况予以保密).
    pub confidentiality: Option<String>,
}

/// A national rule (国家规定: a law, an administrative regulation or a State Council decision)
/// under which a unit may query sealed violation records (治安管理处罚法 art. 136).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalRule {
    pub code: String,
    /// The instrument's name, as promulgated.
    pub name: String,
    pub article: String,
    /// The provision's words that let the unit query.
    pub text: String,
    /// Where the text was read (docs/law.md).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub code: String,
    pub title: String,
    /// The title in English (the console's English switch).
    pub title_en: String,
    pub tags: TagSet,
    pub charges: Vec<String>,
    pub intentional: bool,
    /// Intentional crimes punished with this principal punishment or a heavier one (教师法 art. 14:
    /// 故意犯罪受到有期徒刑以上刑事处罚); lighter punishments, exemption and records without a
    /// conviction are outside.
    pub intentional_at_least: Option<PrincipalKind>,
    /// Every record with deprivation of political rights (剥夺政治权利), whatever the crime.
    pub political_rights: bool,
    pub all: bool,
    /// The violation records the post's restriction covers: those with a behaviour of one of
    /// these categories (the tags of data/violations.tsv). None unless listed: a post restricted
    /// for crimes says nothing of administrative penalties.
    pub violation_tags: Vec<String>,
    /// Violation behaviours (catalogue names) the restriction covers, whatever their tags.
    pub violation_behaviours: Vec<String>,
    /// Only violation records whose penalty includes administrative detention (娱乐场所管理条例
    /// art. 5(4): 因卖淫、嫖娼曾被处以行政拘留的).
    pub violation_detention: bool,
    /// Criminal records closed by a discretionary non-prosecution (相对不起诉, CPL art. 177(2)) of
    /// the covered crimes count too, beside convictions (入职查询意见 art. 4(2), for posts in
    /// contact with minors). Every other post's law speaks of crimes punished (受过刑事处罚) or
    /// of convictions.
    pub discretionary_non_prosecution: bool,
    pub basis: String,
}

impl Post {
    /// Whether the post's legal restriction covers this record. Only what a record establishes
    /// counts: a conviction (or, for a post that says so, a discretionary non-prosecution) of a
    /// criminal record, a penalty decision of a violation record. A case still open, an acquittal,
    /// a withdrawal, another non-prosecution or a decision not to penalise establishes nothing
    /// against the person, and no post's law restricts on it (each speaks of 犯罪记录, 受过刑事处罚,
    /// 有罪判决 or 被行政处罚).
    pub fn covers(&self, record: &Candidate) -> bool {
        let established = match (record.kind, record.established) {
            (RecordKind::Criminal, Some(Established::Conviction)) => true,
            (RecordKind::Criminal, Some(Established::DiscretionaryNonProsecution)) => {
                self.discretionary_non_prosecution
            }
            (RecordKind::PublicSecurityViolation, Some(Established::Penalty)) => true,
            _ => false,
        };
        if !established {
            return false;
        }
        if record.kind == RecordKind::PublicSecurityViolation {
            let listed = record
                .violation_tags
                .iter()
                .any(|tag| self.violation_tags.contains(tag))
                || record
                    .violation_behaviours
                    .iter()
                    .any(|name| self.violation_behaviours.contains(name));
            return listed && (!self.violation_detention || record.detention);
        }
        self.all
            || (self.intentional && record.intentional)
            || self.intentional_at_least.is_some_and(|least| {
                record.intentional && record.principal.is_some_and(|kind| kind >= least)
            })
            || (self.political_rights && record.political_rights)
            || record.tags.intersects(self.tags)
            || record.charges.iter().any(|c| {
                self.charges
                    .iter()
                    .any(|p| p.trim_end_matches('罪') == c.trim_end_matches('罪'))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub name: String,
    pub version: String,
    pub title: String,
    pub rules: Vec<DisclosureRule>,
    pub posts: Vec<Post>,
    pub national_rules: Vec<NationalRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    disclosure: Meta,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    version: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    records: Option<String>,
    kinds: Vec<String>,
    purpose: String,
    may_query: bool,
    penetrate: bool,
    #[serde(default)]
    own_records: bool,
    #[serde(default)]
    own_sealed: bool,
    sees: Sees,
    grant_days: i64,
    basis: String,
    #[serde(default)]
    national_rules: Vec<String>,
    #[serde(default)]
    confidentiality: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalRulesFile {
    national_rule: Vec<NationalRuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalRuleFile {
    code: String,
    name: String,
    article: String,
    text: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostsFile {
    post: Vec<PostFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostFile {
    code: String,
    title: String,
    /// The title in English, for the console's English switch.
    title_en: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    charges: Vec<String>,
    #[serde(default)]
    intentional: bool,
    #[serde(default)]
    intentional_at_least: Option<String>,
    #[serde(default)]
    political_rights: bool,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    violation_tags: Vec<String>,
    #[serde(default)]
    violation_behaviours: Vec<String>,
    #[serde(default)]
    violation_detention: bool,
    #[serde(default)]
    discretionary_non_prosecution: bool,
    basis: String,
}

fn parse_error(file: &str, text: &str, error: &toml::de::Error) -> DisclosureError {
    let line = error
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(0);
    DisclosureError::Parse {
        file: file.to_owned(),
        message: format!("line {line}: {}", error.message().trim()),
    }
}

impl Disclosure {
    /// The shipped table with the shipped posts.
    pub fn cn_default() -> Result<Disclosure, DisclosureError> {
        Disclosure::from_toml("data/disclosure/cn-default.toml", CN_DEFAULT, POSTS)
    }

    /// A table with the shipped vetting posts and national rules.
    pub fn from_toml(file: &str, text: &str, posts: &str) -> Result<Disclosure, DisclosureError> {
        Disclosure::from_toml_with(file, text, posts, NATIONAL_RULES)
    }

    pub fn from_toml_with(
        file: &str,
        text: &str,
        posts: &str,
        national_rules: &str,
    ) -> Result<Disclosure, DisclosureError> {
        let national_file = "data/disclosure/national-rules.toml";
        let parsed_national: NationalRulesFile = toml::from_str(national_rules)
            .map_err(|e| parse_error(national_file, national_rules, &e))?;
        let mut national = Vec::new();
        for (index, rule) in parsed_national.national_rule.into_iter().enumerate() {
            let bad = |message: String| DisclosureError::Rule {
                file: national_file.to_owned(),
                index: index + 1,
                message,
            };
            for (field, value) in [
                ("code", &rule.code),
                ("name", &rule.name),
                ("article", &rule.article),
                ("text", &rule.text),
                ("source", &rule.source),
            ] {
                if value.trim().is_empty() {
                    return Err(bad(format!(
                        "{field}: every national rule is named and quoted"
                    )));
                }
            }
            if national.iter().any(|n: &NationalRule| n.code == rule.code) {
                return Err(bad(format!("code: `{}` listed twice", rule.code)));
            }
            national.push(NationalRule {
                code: rule.code,
                name: rule.name,
                article: rule.article,
                text: rule.text,
                source: rule.source,
            });
        }
        let parsed: File = toml::from_str(text).map_err(|e| parse_error(file, text, &e))?;
        let mut rules = Vec::with_capacity(parsed.rule.len());
        for (index, rule) in parsed.rule.into_iter().enumerate() {
            let bad = |message: String| DisclosureError::Rule {
                file: file.to_owned(),
                index: index + 1,
                message,
            };
            let kinds = rule
                .kinds
                .iter()
                .map(|k| {
                    RequesterKind::parse(k)
                        .ok_or_else(|| bad(format!("unknown requester kind `{k}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let purpose = match rule.purpose.as_str() {
                "*" => None,
                code => Some(
                    Purpose::parse(code).ok_or_else(|| bad(format!("unknown purpose `{code}`")))?,
                ),
            };
            if rule.basis.trim().is_empty() {
                return Err(bad("every rule cites its legal basis".into()));
            }
            if rule.penetrate && rule.grant_days <= 0 {
                return Err(bad("a rule that may penetrate needs grant_days > 0".into()));
            }
            let records = match rule.records.as_deref() {
                None => RecordKind::Criminal,
                Some(code) => RecordKind::parse(code).ok_or_else(|| {
                    bad(format!(
                        "records: unknown record kind `{code}` (one of {})",
                        RecordKind::CODES
                    ))
                })?,
            };
            for code in &rule.national_rules {
                if !national.iter().any(|n| &n.code == code) {
                    return Err(bad(format!(
                        "national_rules: `{code}` is not in {national_file}"
                    )));
                }
            }
            if records == RecordKind::PublicSecurityViolation
                && rule.penetrate
                && rule
                    .confidentiality
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
            {
                return Err(bad(
                    "confidentiality: a rule that shows sealed violation records carries the \
                     duty of confidentiality (治安管理处罚法 art. 136)"
                        .into(),
                ));
            }
            rules.push(DisclosureRule {
                records,
                national_rules: rule.national_rules,
                confidentiality: rule.confidentiality,
                kinds,
                purpose,
                may_query: rule.may_query,
                penetrate: rule.penetrate,
                own_records: rule.own_records,
                own_sealed: rule.own_sealed,
                sees: rule.sees,
                grant_days: rule.grant_days,
                basis: rule.basis,
            });
        }
        let posts_file = "data/disclosure/vetting-posts.toml";
        let parsed_posts: PostsFile =
            toml::from_str(posts).map_err(|e| parse_error(posts_file, posts, &e))?;
        let mut out_posts = Vec::new();
        for (index, post) in parsed_posts.post.into_iter().enumerate() {
            let bad = |message: String| DisclosureError::Rule {
                file: posts_file.to_owned(),
                index: index + 1,
                message,
            };
            let mut tags = TagSet::default();
            for tag in &post.tags {
                tags = tags
                    .with(Tag::parse(tag).ok_or_else(|| bad(format!("unknown category `{tag}`")))?);
            }
            let intentional_at_least = post
                .intentional_at_least
                .as_deref()
                .map(|code| {
                    PrincipalKind::parse(code).ok_or_else(|| {
                        bad(format!(
                            "intentional_at_least: unknown principal punishment `{code}` \
                             (one of {})",
                            PrincipalKind::CODES
                        ))
                    })
                })
                .transpose()?;

            out_posts.push(Post {
                code: post.code,
                title: post.title,
                title_en: post.title_en,
                tags,
                charges: post.charges,
                intentional: post.intentional,
                intentional_at_least,
                political_rights: post.political_rights,
                all: post.all,
                violation_tags: post.violation_tags,
                violation_behaviours: post.violation_behaviours,
                violation_detention: post.violation_detention,
                discretionary_non_prosecution: post.discretionary_non_prosecution,
                basis: post.basis,
            });
        }
        Ok(Disclosure {
            name: parsed.disclosure.name,
            version: parsed.disclosure.version,
            title: parsed.disclosure.title,
            rules,
            posts: out_posts,
            national_rules: national,
        })
    }

    /// The first rule about criminal records for this kind and purpose (a specific purpose
    /// before `*`, in file order).
    pub fn rule(&self, kind: RequesterKind, purpose: Purpose) -> Option<&DisclosureRule> {
        self.rule_for(RecordKind::Criminal, kind, purpose)
    }

    /// The first rule about `records` for this kind and purpose (a specific purpose before `*`,
    /// in file order).
    pub fn rule_for(
        &self,
        records: RecordKind,
        kind: RequesterKind,
        purpose: Purpose,
    ) -> Option<&DisclosureRule> {
        let matches = |r: &&DisclosureRule, specific: bool| {
            r.records == records
                && r.kinds.contains(&kind)
                && match r.purpose {
                    Some(p) => specific && p == purpose,
                    None => !specific,
                }
        };
        self.rules
            .iter()
            .find(|r| matches(r, true))
            .or_else(|| self.rules.iter().find(|r| matches(r, false)))
    }

    pub fn national_rule(&self, code: &str) -> Option<&NationalRule> {
        self.national_rules.iter().find(|n| n.code == code)
    }

    pub fn post(&self, code: &str) -> Option<&Post> {
        self.posts.iter().find(|p| p.code == code)
    }

    /// The basis cited when no rule lets a requester query at all.
    pub fn default_basis(&self) -> String {
        "《公安机关办理犯罪记录查询工作规定》（2021）：未列明的查询主体与目的不予查询".to_owned()
    }
}
