//! The disclosure table and the vetting posts: data (`data/disclosure/*.toml`), each rule and post
//! with its legal basis.

use fengcun_domain::{PrincipalKind, Tag, TagSet};
use serde::Deserialize;

use crate::{Candidate, Purpose, RequesterKind};

const CN_DEFAULT: &str = include_str!("../../../data/disclosure/cn-default.toml");
const POSTS: &str = include_str!("../../../data/disclosure/vetting-posts.toml");

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub code: String,
    pub title: String,
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
    pub basis: String,
}

impl Post {
    /// Whether the post's legal restriction covers this record.
    pub fn covers(&self, record: &Candidate) -> bool {
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

    pub fn from_toml(file: &str, text: &str, posts: &str) -> Result<Disclosure, DisclosureError> {
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
            rules.push(DisclosureRule {
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
                tags,
                charges: post.charges,
                intentional: post.intentional,
                intentional_at_least,
                political_rights: post.political_rights,
                all: post.all,
                basis: post.basis,
            });
        }
        Ok(Disclosure {
            name: parsed.disclosure.name,
            version: parsed.disclosure.version,
            title: parsed.disclosure.title,
            rules,
            posts: out_posts,
        })
    }

    /// The first rule for this kind and purpose (a specific purpose before `*`, in file order).
    pub fn rule(&self, kind: RequesterKind, purpose: Purpose) -> Option<&DisclosureRule> {
        let matches = |r: &&DisclosureRule, specific: bool| {
            r.kinds.contains(&kind)
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

    pub fn post(&self, code: &str) -> Option<&Post> {
        self.posts.iter().find(|p| p.code == code)
    }

    /// The basis cited when no rule lets a requester query at all.
    pub fn default_basis(&self) -> String {
        "《公安机关办理犯罪记录查询工作规定》（2021）：未列明的查询主体与目的不予查询".to_owned()
    }
}
