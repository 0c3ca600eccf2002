//! The charge catalogue, shipped as `data/charges.tsv` and compiled into the binary.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::charge::{Charge, ChargeId, Culpability, Tag, TagSet};

const BUILTIN_TSV: &str = include_str!("../../../data/charges.tsv");

static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| match Catalogue::from_tsv(BUILTIN_TSV) {
    Ok(catalogue) => catalogue,
    // The shipped file is checked by the test suite; a broken one is a build defect.
    Err(error) => panic!("data/charges.tsv is invalid: {error}"),
});

/// Why a catalogue file cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/charges.tsv line {line}, column `{column}`: {message}")]
pub struct CatalogueError {
    pub line: usize,
    pub column: &'static str,
    pub message: String,
}

/// All charges, with a lookup that accepts the name with or without the final 罪, historical
/// names (aliases), CAIL's bracket notation and either width of brackets.
#[derive(Debug)]
pub struct Catalogue {
    charges: Vec<Charge>,
    by_name: HashMap<String, ChargeId>,
}

const COLUMNS: [&str; 8] = [
    "name",
    "article",
    "chapter",
    "section",
    "culpability",
    "tags",
    "aliases",
    "status",
];

impl Catalogue {
    /// The catalogue shipped with fengcun.
    pub fn builtin() -> &'static Catalogue {
        &BUILTIN
    }

    pub fn from_tsv(text: &str) -> Result<Self, CatalogueError> {
        let mut catalogue = Catalogue {
            charges: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut header_seen = false;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if !header_seen {
                if fields != COLUMNS {
                    return Err(error(
                        line_no,
                        "name",
                        format!("header must be {COLUMNS:?}"),
                    ));
                }
                header_seen = true;
                continue;
            }
            let charge = parse_row(&fields, line_no, catalogue.charges.len())?;
            catalogue.insert(charge, line_no)?;
        }
        if catalogue.charges.is_empty() {
            return Err(error(0, "name", "no charges".to_owned()));
        }
        Ok(catalogue)
    }

    fn insert(&mut self, charge: Charge, line: usize) -> Result<(), CatalogueError> {
        let id = charge.id;
        let mut keys = Vec::new();
        for name in std::iter::once(&charge.name).chain(&charge.aliases) {
            let key = normalise(name);
            if let Some(short) = key.strip_suffix('罪') {
                keys.push(short.to_owned());
            }
            keys.push(key);
        }
        for key in keys {
            if let Some(other) = self.by_name.insert(key.clone(), id) {
                if other != id {
                    let other = &self.charges[usize::from(other.0)].name;
                    return Err(error(
                        line,
                        "aliases",
                        format!("`{key}` also names {other}"),
                    ));
                }
            }
        }
        self.charges.push(charge);
        Ok(())
    }

    pub fn resolve(&self, name: &str) -> Option<&Charge> {
        let id = match self.by_name.get(name) {
            Some(id) => *id,
            None => *self.by_name.get(&normalise(name))?,
        };
        Some(self.get(id))
    }

    pub fn get(&self, id: ChargeId) -> &Charge {
        &self.charges[usize::from(id.0)]
    }

    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }

    pub fn with_tag(&self, tag: Tag) -> impl Iterator<Item = &Charge> {
        self.charges.iter().filter(move |c| c.tags.contains(tag))
    }
}

/// Removes CAIL's `[` `]`, surrounding blanks, and uses full-width brackets throughout, so that
/// 组织他人偷越国(边)境罪 and 组织他人偷越国（边）境罪 are one name.
fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ' ' | '\u{3000}'))
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            ',' | '，' => '、',
            other => other,
        })
        .collect()
}

fn error(line: usize, column: &'static str, message: String) -> CatalogueError {
    CatalogueError {
        line,
        column,
        message,
    }
}

fn parse_row(fields: &[&str], line: usize, index: usize) -> Result<Charge, CatalogueError> {
    if fields.len() != COLUMNS.len() {
        return Err(error(
            line,
            "name",
            format!(
                "expected {} tab-separated columns, found {}",
                COLUMNS.len(),
                fields.len()
            ),
        ));
    }
    let name = fields[0].trim();
    if !name.ends_with('罪') {
        return Err(error(line, "name", format!("`{name}` must end with 罪")));
    }
    let article = fields[1].trim();
    let article_ok = article
        .split_once('之')
        .map_or(article, |(number, _)| number)
        .parse::<u16>()
        .is_ok_and(|n| (102..=452).contains(&n));
    if !article_ok {
        return Err(error(
            line,
            "article",
            format!("`{article}` is not an article of the special part"),
        ));
    }
    let chapter = fields[2]
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|c| (1..=10).contains(c))
        .ok_or_else(|| error(line, "chapter", format!("`{}` is not 1–10", fields[2])))?;
    let section = fields[3]
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|s| *s <= 9)
        .ok_or_else(|| error(line, "section", format!("`{}` is not 0–9", fields[3])))?;
    let culpability = Culpability::parse(fields[4].trim()).ok_or_else(|| {
        error(
            line,
            "culpability",
            format!("`{}`: expected {}", fields[4], Culpability::CODES),
        )
    })?;
    let tags = fields[5]
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Tag::parse(t).ok_or_else(|| error(line, "tags", format!("unknown tag `{t}`"))))
        .collect::<Result<TagSet, _>>()?;
    let aliases = fields[6]
        .split('|')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let current = match fields[7].trim() {
        "current" => true,
        "repealed" => false,
        other => {
            return Err(error(
                line,
                "status",
                format!("`{other}`: expected current or repealed"),
            ));
        }
    };
    let id = u16::try_from(index)
        .map(ChargeId)
        .map_err(|_| error(line, "name", "too many charges".to_owned()))?;
    Ok(Charge {
        id,
        name: name.to_owned(),
        article: article.to_owned(),
        chapter,
        section,
        culpability,
        tags,
        aliases,
        current,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "# test\nname\tarticle\tchapter\tsection\tculpability\ttags\taliases\tstatus\n\
        危险驾驶罪\t133之一\t2\t0\tintentional\t\t醉驾罪\tcurrent\n\
        组织他人偷越国（边）境罪\t318\t6\t3\tintentional\ttrafficking\t\tcurrent\n";

    #[test]
    fn resolves_with_and_without_zui_brackets_and_aliases() {
        let catalogue = Catalogue::from_tsv(SMALL).unwrap();
        for query in [
            "危险驾驶罪",
            "危险驾驶",
            " 危险驾驶 ",
            "[危险]驾驶",
            "醉驾罪",
            "醉驾",
        ] {
            assert_eq!(
                catalogue.resolve(query).unwrap().name,
                "危险驾驶罪",
                "{query}"
            );
        }
        assert_eq!(
            catalogue.resolve("组织他人偷越国(边)境").unwrap().article,
            "318"
        );
        assert!(catalogue.resolve("盗窃罪").is_none());
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad = SMALL.replace("133之一\t2", "133之一\t12");
        let err = Catalogue::from_tsv(&bad).unwrap_err();
        assert_eq!((err.line, err.column), (3, "chapter"));
        let bad = SMALL.replace("trafficking", "trafic");
        assert_eq!(Catalogue::from_tsv(&bad).unwrap_err().column, "tags");
        let bad = SMALL.replace("醉驾罪", "危险驾驶罪|组织他人偷越国（边）境罪");
        assert!(Catalogue::from_tsv(&bad).is_err());
    }
}
