//! From a judgment to its defendants: who was convicted of what, and the sentence in force.
//!
//! The operative part is read clause by clause. A clause is `主语犯某某罪，刑罚…`: the subject names
//! the defendant (or is empty when the same defendant's next count follows, or says 原/前罪 when an
//! earlier conviction is recalled for combination). Items that set an earlier judgment aside
//! (撤销 …) only tell the order of defendants; items that keep it (维持 …) add what they quote.

use std::sync::LazyLock;

use fengcun_domain::{Catalogue, Date, PrincipalKind};
use regex::Regex;

use crate::document::{Instance, Item, ItemKind, Layout, Party, items, parties};
use crate::error::JudgmentError;
use crate::punishment::Punishment;

fn regex(pattern: &str) -> Regex {
    #[expect(clippy::unwrap_used, reason = "constant patterns, covered by tests")]
    Regex::new(pattern).unwrap()
}

static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "(?:被告单位|原审被告人|原审上诉人|被告人|上诉人|申诉人|罪犯)(?:（[^）]{0,12}）)?|（原审被告人）|（原审上诉人）",
    )
});
static COMBINED: LazyLock<Regex> = LazyLock::new(|| regex("决定(?:合并)?执行|合并执行"));
/// Characters that end a subject when reading backwards from 犯.
const SUBJECT_BOUNDARY: &[char] = &[
    '，', ',', '。', '；', ';', '：', ':', '、', ' ', '\u{3000}', '即', '“', '"', '\n',
];

/// A reason the output line carries so that nobody mistakes a guess for a reading.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub field: String,
    pub reason: String,
}

impl Flag {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// One convicted defendant, natural person or unit.
#[derive(Debug, Clone)]
pub struct Defendant {
    /// 1-based order among the convicted defendants of the operative part (units included).
    pub k: usize,
    pub name: String,
    pub corporate: bool,
    pub birth_date: Option<Date>,
    /// Catalogue names, in operative-part order, each once.
    pub charges: Vec<String>,
    /// Charge names as written that the catalogue does not know.
    pub unknown_charges: Vec<String>,
    pub punishment: Punishment,
    /// Several crimes, or this crime with an earlier sentence, were combined (数罪并罚).
    pub combined: bool,
    /// Earlier convictions listed in the header (0 when it lists none).
    pub prior_convictions: u32,
    /// Whether the court found the defendant a recidivist (累犯) in its reasoning.
    pub recidivist: bool,
    pub flags: Vec<Flag>,
}

/// Everything read from one judgment.
#[derive(Debug, Clone)]
pub struct Extraction {
    pub instance: Instance,
    pub judgment_date: Option<Date>,
    pub defendants: Vec<Defendant>,
    /// Flags that concern the whole document.
    pub flags: Vec<Flag>,
}

/// A conviction clause: `subject 犯 charge 罪 …punishment text…`.
#[derive(Debug)]
struct Clause {
    subject: Subject,
    charge: String,
    /// Text from after the charge to the next clause or the end of the item.
    tail: String,
    /// Position in the operative part, for ordering defendants.
    order: (usize, usize),
}

#[derive(Debug, PartialEq, Eq)]
enum Subject {
    Named {
        name: String,
        corporate: bool,
    },
    /// `；犯容留他人吸毒罪` — the same defendant's next count.
    Same,
    /// `与原犯强奸罪` / `原犯盗窃罪被判处` — an earlier conviction recalled for combination.
    Earlier,
}

/// Reads a judgment's text. `catalogue` maps charges to their catalogue names.
pub fn extract(
    document: &str,
    text: &str,
    catalogue: &Catalogue,
) -> Result<Extraction, JudgmentError> {
    let layout = Layout::find(text).ok_or_else(|| JudgmentError::NoOperativePart {
        document: document.to_owned(),
    })?;
    let parties = parties(layout.before());
    let mut flags = Vec::new();
    let mut items = items(layout.operative_text());
    let has_new = |items: &[Item]| {
        items
            .iter()
            .any(|i| i.kind == ItemKind::New && i.text.contains('犯'))
    };
    if !has_new(&items) {
        // 驳回上诉，维持原判 (or a judgment keeping everything): the sentence in force is the one the
        // earlier judgment gave, which this document quotes before its own reasoning.
        if let Some(quoted) = quoted_judgment(layout.before()) {
            flags.push(Flag::new(
                "sentence",
                "维持原判：刑罚取自本文书引述的原判决主文",
            ));
            items = crate::document::items(&quoted);
        }
    }
    let clauses = clauses(&items, &parties, catalogue);
    let mut defendants = assemble(&clauses, &items, &parties);
    if defendants.is_empty() {
        return Err(JudgmentError::NoConviction {
            document: document.to_owned(),
        });
    }
    let mut judgment_date = layout.judgment_date();
    if judgment_date.is_none() {
        judgment_date = layout.judgment_date_loose();
        let reason = if judgment_date.is_some() {
            "落款日期书写有误（缺“日”字或年份重复），按可读部分读取"
        } else {
            "未找到可读的落款日期"
        };
        flags.push(Flag::new("disposition_date", reason));
    }
    let reasoning = layout
        .before()
        .rfind("本院认为")
        .map_or("", |i| &layout.before()[i..]);
    let persons = defendants.iter().filter(|d| !d.corporate).count();
    for (i, d) in defendants.iter_mut().enumerate() {
        d.k = i + 1;
        d.recidivist = !d.corporate && recidivist(reasoning, &d.name, persons == 1);
        if d.recidivist && d.prior_convictions == 0 {
            // A recidivist has a prior conviction even where the header does not list it.
            d.prior_convictions = 1;
            d.flags.push(Flag::new(
                "prior_convictions",
                "认定累犯但首部未能读出前科，按一次前科计",
            ));
        }
    }
    Ok(Extraction {
        instance: layout.instance(),
        judgment_date,
        defendants,
        flags,
    })
}

/// The first-instance operative part quoted by an appeal ruling (原判…判决：被告人…犯…罪，判处…).
fn quoted_judgment(before: &str) -> Option<String> {
    let reasoning = before.rfind("本院认为").unwrap_or(before.len());
    let head = &before[..reasoning];
    let start = head
        .rfind("判决如下")
        .or_else(|| head.rfind("判决："))
        .or_else(|| head.rfind("判决:"))?;
    let rest = &head[start..];
    let rest = rest.split_once(['：', ':']).map_or(rest, |(_, r)| r);
    // The quote ends where the narrative resumes (宣判后 / 上诉人…上诉 …).
    let end = ["宣判后", "一审宣判", "上诉人", "原审被告人", "抗诉"]
        .iter()
        .filter_map(|m| rest.find(m))
        .filter(|&e| e > 0)
        .min()
        .unwrap_or(rest.len());
    let quoted = &rest[..end];
    quoted.contains('犯').then(|| quoted.to_owned())
}

/// All conviction clauses of the items, in order.
fn clauses(items: &[Item], parties: &[Party], catalogue: &Catalogue) -> Vec<(usize, Clause)> {
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let text = item.text.as_str();
        let mut found: Vec<(usize, Subject, String, usize)> = Vec::new();
        let mut consumed = 0usize;
        for (at, _) in text.match_indices('犯') {
            // The 犯 of 侵犯公民个人信息罪 is part of the charge just read, not a new clause.
            if at < consumed {
                continue;
            }
            let after = &text[at + '犯'.len_utf8()..];
            let Some((charge, len)) = charge_at(after, catalogue) else {
                continue;
            };
            let subject = subject_before(&text[..at], parties);
            consumed = at + '犯'.len_utf8() + len;
            found.push((at, subject, charge, consumed));
        }
        // An earlier conviction recalled (原犯…罪) belongs to the text of the clause before it:
        // the combined sentence that follows it is that defendant's.
        let mut kept: Vec<(usize, Subject, String, usize)> = Vec::new();
        for entry in found {
            if entry.1 == Subject::Earlier && !kept.is_empty() {
                continue;
            }
            kept.push(entry);
        }
        for (n, (at, subject, charge, tail_start)) in kept.iter().enumerate() {
            let tail_end = kept.get(n + 1).map_or(text.len(), |next| next.0);
            let tail_end = tail_end.max(*tail_start);
            out.push((
                index,
                Clause {
                    subject: clone_subject(subject),
                    charge: charge.clone(),
                    tail: text[*tail_start..tail_end].to_owned(),
                    order: (index, *at),
                },
            ));
        }
    }
    out
}

fn clone_subject(subject: &Subject) -> Subject {
    match subject {
        Subject::Named { name, corporate } => Subject::Named {
            name: name.clone(),
            corporate: *corporate,
        },
        Subject::Same => Subject::Same,
        Subject::Earlier => Subject::Earlier,
    }
}

/// The charge right after 犯: the shortest text ending in 罪 that the catalogue knows, or else the
/// longest one (reported as unknown). `None` for 犯罪所得 and other non-charges.
fn charge_at(after: &str, catalogue: &Catalogue) -> Option<(String, usize)> {
    if after.starts_with('罪') {
        return None;
    }
    let limit = after
        .char_indices()
        .take(40)
        .find(|(_, c)| matches!(c, '，' | ',' | '。' | '；' | ';' | '：' | ':' | '（' | '('))
        .map_or_else(
            || after.char_indices().nth(40).map_or(after.len(), |(i, _)| i),
            |(i, _)| i,
        );
    let window = &after[..limit];
    let mut longest = None;
    for (i, _) in window.match_indices('罪') {
        let candidate = &window[..i + '罪'.len_utf8()];
        if let Some(charge) = catalogue.resolve(candidate) {
            return Some((charge.name.clone(), candidate.len()));
        }
        longest = Some(candidate);
    }
    // An unknown name is still a conviction if it reads like one (…罪，判处 / …罪，免予).
    let candidate = longest?;
    let next = &after[candidate.len()..];
    let reads_like_sentence = next.trim_start_matches(['，', ',']).starts_with("判处")
        || next.contains("免予")
        || next.contains("决定执行");
    reads_like_sentence.then(|| (format!("?{candidate}"), candidate.len()))
}

/// Who the clause is about, read backwards from 犯 to the previous boundary.
fn subject_before(before: &str, parties: &[Party]) -> Subject {
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| SUBJECT_BOUNDARY.contains(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let raw = before[start..].trim();
    let raw = raw.trim_start_matches(|c: char| "一二三四五六七八九十、.．".contains(c));
    if raw.is_empty() {
        return Subject::Same;
    }
    if raw.ends_with('原') || raw.contains("前罪") || raw.starts_with("与") {
        return Subject::Earlier;
    }
    // A known party whose name ends the subject (…判决中对被告人陈文杰犯…).
    if let Some(party) = parties
        .iter()
        .filter(|p| raw.ends_with(p.name.as_str()))
        .max_by_key(|p| p.name.len())
    {
        let corporate = party.corporate || raw.contains("被告单位");
        return Subject::Named {
            name: party.name.clone(),
            corporate,
        };
    }
    let role = ROLE.find_iter(raw).last();
    let corporate = role.is_some_and(|r| r.as_str().starts_with("被告单位"));
    let name = role.map_or(raw, |r| &raw[r.end()..]);
    let name = name.trim_start_matches("对");
    if name.is_empty() {
        return Subject::Same;
    }
    if role.is_none() && name.chars().count() > 6 && !corporate {
        // Neither a role word nor a known party nor a short name: most likely not a subject.
        return Subject::Earlier;
    }
    Subject::Named {
        name: name.to_owned(),
        corporate,
    }
}

/// Collected clauses of one defendant.
#[derive(Debug, Default)]
struct Gathered {
    name: String,
    corporate: bool,
    first_seen: (usize, usize),
    /// (charge, tail) of clauses in items that decide anew.
    new: Vec<(String, String)>,
    /// Same, from items that keep part of the earlier judgment.
    kept: Vec<(String, String)>,
}

fn assemble(clauses: &[(usize, Clause)], items: &[Item], parties: &[Party]) -> Vec<Defendant> {
    let mut gathered: Vec<Gathered> = Vec::new();
    let mut current: Option<usize> = None;
    let mut current_item = usize::MAX;
    for (item, clause) in clauses {
        if *item != current_item {
            current = None;
            current_item = *item;
        }
        let index = match &clause.subject {
            Subject::Earlier => continue,
            Subject::Same => match current {
                Some(i) => i,
                None => continue,
            },
            Subject::Named { name, corporate } => {
                match gathered.iter().position(|g| &g.name == name) {
                    Some(i) => i,
                    None => {
                        gathered.push(Gathered {
                            name: name.clone(),
                            corporate: *corporate,
                            first_seen: clause.order,
                            ..Gathered::default()
                        });
                        gathered.len() - 1
                    }
                }
            }
        };
        current = Some(index);
        let entry = (clause.charge.clone(), clause.tail.clone());
        match items[*item].kind {
            ItemKind::New => gathered[index].new.push(entry),
            ItemKind::Maintained => gathered[index].kept.push(entry),
            ItemKind::Revoked | ItemKind::Dismissed => {}
        }
    }
    gathered.sort_by_key(|g| g.first_seen);
    gathered
        .into_iter()
        .filter(|g| !g.new.is_empty() || !g.kept.is_empty())
        .map(|g| defendant(g, parties))
        .collect()
}

fn push_flag(flags: &mut Vec<Flag>, flag: Flag) {
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

fn defendant(g: Gathered, parties: &[Party]) -> Defendant {
    let mut flags = Vec::new();
    let mut charges: Vec<String> = Vec::new();
    let mut unknown_charges = Vec::new();
    for (charge, _) in g.new.iter().chain(&g.kept) {
        if let Some(raw) = charge.strip_prefix('?') {
            if !unknown_charges.iter().any(|c| c == raw) {
                unknown_charges.push(raw.to_owned());
            }
        } else if !charges.contains(charge) {
            charges.push(charge.clone());
        }
    }
    let (mut punishment, combined) = if g.new.is_empty() {
        flags.push(Flag::new(
            "sentence",
            "本判决仅维持原判决该部分，刑罚取自所引原判决内容",
        ));
        sentence_of(&g.kept, &mut flags)
    } else {
        sentence_of(&g.new, &mut flags)
    };
    if !g.new.is_empty() && !g.kept.is_empty() {
        fill_from_kept(&mut punishment, &g.kept, &mut flags);
    }
    let party = parties.iter().find(|p| p.name == g.name);
    let mut prior_convictions = party.map_or(0, |p| p.prior_sentences);
    if prior_convictions == 0 && combines_earlier(&g.new) {
        prior_convictions = 1;
        flags.push(Flag::new(
            "prior_convictions",
            "判决与前罪刑罚合并执行，首部未列前科，按一次前科计",
        ));
    }
    for (field, reason) in punishment.doubts.drain(..) {
        push_flag(&mut flags, Flag::new(field, reason));
    }
    Defendant {
        k: 0,
        corporate: g.corporate || party.is_some_and(|p| p.corporate),
        birth_date: party.and_then(|p| p.birth_date),
        name: g.name,
        charges,
        unknown_charges,
        punishment,
        combined,
        prior_convictions,
        recidivist: false,
        flags,
    }
}

/// Whether the sentence combines this crime with an earlier sentence (art. 69–71).
fn combines_earlier(counts: &[(String, String)]) -> bool {
    counts.iter().any(|(_, tail)| {
        ["前罪", "原犯", "尚未执行", "未执行的", "原判"]
            .iter()
            .any(|m| tail.contains(m))
    })
}

/// 累犯 stated for a defendant in the reasoning (…被告人张三系累犯…), not negated (不构成累犯).
fn recidivist(reasoning: &str, name: &str, only_defendant: bool) -> bool {
    reasoning.split(['。', '；']).any(|sentence| {
        let stated = sentence.contains("累犯")
            && ![
                "不构成累犯",
                "不是累犯",
                "不属于累犯",
                "不属累犯",
                "不系累犯",
            ]
            .iter()
            .any(|n| sentence.contains(n));
        stated && (sentence.contains(name) || only_defendant)
    })
}

/// The sentence in force from a defendant's clauses: the combined one where there is one,
/// the only count's otherwise.
fn sentence_of(counts: &[(String, String)], flags: &mut Vec<Flag>) -> (Punishment, bool) {
    let all: String = counts.iter().map(|(_, tail)| tail.as_str()).collect();
    let mut per_count: Vec<Punishment> = counts.iter().map(|(_, t)| Punishment::read(t)).collect();
    // Doubts about any count are kept, whichever count's punishment ends up in force.
    for p in &mut per_count {
        for (field, reason) in p.doubts.drain(..) {
            push_flag(flags, Flag::new(field, reason));
        }
    }
    if let Some(found) = COMBINED.find_iter(&all).last() {
        let mut combined = Punishment::read(&all[found.end()..]);
        if combined.principal.is_none() {
            flags.push(Flag::new("sentence.principal", "决定执行后未见主刑"));
        }
        if combined.fine_yuan.is_none() {
            let fines: Vec<u64> = per_count.iter().filter_map(|p| p.fine_yuan).collect();
            if !fines.is_empty() {
                combined.fine_yuan = Some(fines.iter().sum());
                flags.push(Flag::new(
                    "sentence.fine_yuan",
                    "决定执行部分未写罚金，按各罪罚金之和计算（刑法第六十九条第三款）",
                ));
            }
        }
        if combined.political_rights_months.is_none() && !combined.political_rights_life {
            combined.political_rights_months = per_count
                .iter()
                .filter_map(|p| p.political_rights_months)
                .max();
            combined.political_rights_life = per_count.iter().any(|p| p.political_rights_life);
        }
        combined.confiscation |= per_count.iter().any(|p| p.confiscation);
        return (combined, true);
    }
    let mut counts_iter = per_count.into_iter();
    let Some(first) = counts_iter.next() else {
        return (Punishment::default(), false);
    };
    let rest: Vec<Punishment> = counts_iter.collect();
    if rest.is_empty() {
        return (first, false);
    }
    // Several counts and no 决定执行: keep the heaviest principal, sum the fines, and say so.
    flags.push(Flag::new(
        "sentence",
        "数罪但未见“决定执行”，取最重主刑、罚金相加",
    ));
    let mut heaviest = first;
    for p in rest {
        let fine = match (heaviest.fine_yuan, p.fine_yuan) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        if severity(&p) > severity(&heaviest) {
            heaviest = Punishment {
                fine_yuan: fine,
                ..p
            };
        } else {
            heaviest.fine_yuan = fine;
        }
    }
    (heaviest, true)
}

fn severity(p: &Punishment) -> (Option<PrincipalKind>, u32) {
    (p.principal, p.months.unwrap_or(0))
}

/// A retrial or appeal that changes only the prison term keeps the earlier fine (维持…罚金部分).
fn fill_from_kept(punishment: &mut Punishment, kept: &[(String, String)], flags: &mut Vec<Flag>) {
    let kept: String = kept.iter().map(|(_, t)| t.as_str()).collect();
    let kept = Punishment::read(&kept);
    if punishment.fine_yuan.is_none() && kept.fine_yuan.is_some() {
        punishment.fine_yuan = kept.fine_yuan;
        flags.push(Flag::new(
            "sentence.fine_yuan",
            "罚金取自被维持的原判决部分",
        ));
    }
    if punishment.political_rights_months.is_none() && kept.political_rights_months.is_some() {
        punishment.political_rights_months = kept.political_rights_months;
        flags.push(Flag::new(
            "sentence.political_rights_months",
            "剥夺政治权利取自被维持的原判决部分",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Extraction {
        extract("doc", text, Catalogue::builtin()).unwrap()
    }

    fn wrap(operative: &str) -> String {
        format!(
            "某某县人民法院 刑事判决书 （2019）京0105刑初1号 公诉机关某某县人民检察院。 被告人张三，男，1990年3月7日出生。 \
             被告人李四，女，1995年1月2日出生。 本院认为……判决如下： {operative} \
             如不服本判决，可在接到判决书的第二日起十日内上诉。 审判员王五 二〇一九年五月十日 书记员赵六"
        )
    }

    type Row<'a> = (
        &'a str,
        Option<PrincipalKind>,
        Option<u32>,
        Option<u32>,
        Option<u64>,
        &'a [&'a str],
    );

    fn row(d: &Defendant) -> Row<'_> {
        (
            d.name.as_str(),
            d.punishment.principal,
            d.punishment.months,
            d.punishment.probation_months,
            d.punishment.fine_yuan,
            &[],
        )
    }

    #[test]
    fn legal_worked_examples() {
        use PrincipalKind::*;
        // (operative part, expected per defendant: name, principal, months, probation, fine, charges)
        let table: &[(&str, &[Row<'_>])] = &[
            (
                "被告人张三犯盗窃罪，判处有期徒刑一年六个月，并处罚金人民币五千元。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(18),
                    None,
                    Some(5000),
                    &["盗窃罪"],
                )],
            ),
            (
                "被告人张三犯拒不执行判决、裁定罪，判处有期徒刑一年又六个月。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(18),
                    None,
                    None,
                    &["拒不执行判决、裁定罪"],
                )],
            ),
            (
                "被告人张三犯危险驾驶罪，判处拘役三个月，缓刑六个月，并处罚金5000元。",
                &[(
                    "张三",
                    Some(CriminalDetention),
                    Some(3),
                    Some(6),
                    Some(5000),
                    &["危险驾驶罪"],
                )],
            ),
            (
                "被告人张三犯侮辱罪，判处管制一年。",
                &[(
                    "张三",
                    Some(PublicSurveillance),
                    Some(12),
                    None,
                    None,
                    &["侮辱罪"],
                )],
            ),
            (
                "被告人张三犯盗窃罪，判处罚金人民币五千元（罚金已缴纳）。",
                &[(
                    "张三",
                    Some(SupplementaryOnly),
                    None,
                    None,
                    Some(5000),
                    &["盗窃罪"],
                )],
            ),
            (
                "被告人张三犯挪用公款罪，免予刑事处罚。",
                &[("张三", Some(Exempt), None, None, None, &["挪用公款罪"])],
            ),
            // 数罪并罚 with 决定执行; 贩卖毒品罪 is a partial name of a selective charge.
            (
                "被告人张三犯贩卖毒品罪，判处有期徒刑二年三个月，并处罚金人民币五千元；犯容留他人吸毒罪，判处有期徒刑八个月，并处罚金人民币五千元；决定执行有期徒刑二年十个月，并处罚金人民币一万元。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(34),
                    None,
                    Some(10000),
                    &["走私、贩卖、运输、制造毒品罪", "容留他人吸毒罪"],
                )],
            ),
            // Combination with an earlier unserved sentence (art. 71): only this judgment's charge.
            (
                "一、被告人张三犯贩卖毒品罪，判处有期徒刑二年六个月，并处罚金人民币五千元，与前罪未执行的有期徒刑六个月，并处罚金人民币一千元合并，决定执行有期徒刑二年九个月，并处罚金人民币六千元。 二、被告人张三犯罪所得人民币3400元予以没收。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(33),
                    None,
                    Some(6000),
                    &["走私、贩卖、运输、制造毒品罪"],
                )],
            ),
            (
                "一、被告人张三犯盗窃罪，判处有期徒刑八个月，并处罚金人民币六千元；原犯盗窃罪被判处有期徒刑八个月，并处罚金人民币六千元；决定执行有期徒刑一年，并处罚金人民币一万二千元。 二、被告人李四犯盗窃罪，判处有期徒刑六个月，并处罚金人民币三千元。",
                &[
                    (
                        "张三",
                        Some(FixedTerm),
                        Some(12),
                        None,
                        Some(12000),
                        &["盗窃罪"],
                    ),
                    (
                        "李四",
                        Some(FixedTerm),
                        Some(6),
                        None,
                        Some(3000),
                        &["盗窃罪"],
                    ),
                ],
            ),
            (
                "被告人张三犯强奸罪，判处有期徒刑四年七个月，与原犯强奸罪，判处有期徒刑二年四个月，两罪并罚，决定执行有期徒刑六年六个月。",
                &[("张三", Some(FixedTerm), Some(78), None, None, &["强奸罪"])],
            ),
            // Second instance: 撤销 … 改判.
            (
                "一、撤销某某区人民法院（2019）川0105刑初473号刑事判决，即：被告人张三犯危险驾驶罪，判处拘役二个月，并处罚金人民币三千元。 二、上诉人（原审被告人）张三犯危险驾驶罪，判处拘役二个月，缓刑三个月，并处罚金人民币三千元。",
                &[(
                    "张三",
                    Some(CriminalDetention),
                    Some(2),
                    Some(3),
                    Some(3000),
                    &["危险驾驶罪"],
                )],
            ),
            // A retrial keeping the fine and replacing the prison term.
            (
                "一、维持本院（2016）鄂0114刑初127号刑事判决主文中罚金部分，即被告人张三犯贩卖毒品罪，并处罚金人民币10000元。 二、撤销本院（2016）鄂0114刑初127号刑事判决主文中有期徒刑的内容，即被告人张三犯贩卖毒品罪，判处有期徒刑三年六个月。 三、原审被告人张三犯贩卖毒品罪，判处有期徒刑二年三个月。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(27),
                    None,
                    Some(10000),
                    &["走私、贩卖、运输、制造毒品罪"],
                )],
            ),
            // Corporate defendant first: it counts in k but is not a person.
            (
                "一、被告单位某某有限公司犯单位行贿罪，判处罚金人民币十万元； 二、被告人张三犯单位行贿罪，判处拘役四个月，缓刑六个月，并处罚金人民币十万元；",
                &[
                    (
                        "某某有限公司",
                        Some(SupplementaryOnly),
                        None,
                        None,
                        Some(100_000),
                        &["单位行贿罪"],
                    ),
                    (
                        "张三",
                        Some(CriminalDetention),
                        Some(4),
                        Some(6),
                        Some(100_000),
                        &["单位行贿罪"],
                    ),
                ],
            ),
            // Several counts, one exempt, with a truncated term.
            (
                "二、上诉人（原审被告人）张三犯贪污罪，免予刑事处罚；犯非国家工作人员受贿罪，判处有期徒刑六个月；数罪并罚，决定执行有期徒刑六个； 三、对上诉人（原审被告人）张三的违法所得，予以追缴。",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(6),
                    None,
                    None,
                    &["贪污罪", "非国家工作人员受贿罪"],
                )],
            ),
            // Combined sentence with probation after revoking an earlier probation.
            (
                "一、被告人张三犯挪用公款罪，判处有期徒刑一年。撤销某某县人民法院（2013）西刑初字第25号刑事判决书对被告人张三宣告的缓刑，原判有期徒刑二年，缓刑二年。数罪并罚，决定合并执行有期徒刑二年六个月",
                &[(
                    "张三",
                    Some(FixedTerm),
                    Some(30),
                    None,
                    None,
                    &["挪用公款罪"],
                )],
            ),
        ];
        for (operative, expected) in table {
            let extraction = one(&wrap(operative));
            assert_eq!(extraction.defendants.len(), expected.len(), "{operative}");
            for (d, e) in extraction.defendants.iter().zip(expected.iter()) {
                let got = row(d);
                assert_eq!(
                    (got.0, got.1, got.2, got.3, got.4),
                    (e.0, e.1, e.2, e.3, e.4),
                    "{operative}"
                );
                assert_eq!(d.charges, e.5, "{operative}");
            }
            assert_eq!(
                extraction.judgment_date,
                Some(Date::new(2019, 5, 10).unwrap())
            );
        }
    }

    #[test]
    fn prior_record_and_recidivism() {
        let text = "某某县人民法院 刑事判决书 被告人张三，男，1980年1月1日出生。2010年5月1日因犯盗窃罪被判处有期徒刑二年，2012年刑满释放。\
            某某县人民检察院以某检诉［2015］1号起诉书指控被告人张三犯盗窃罪。本院认为，被告人张三系累犯，应当从重处罚。判决如下： \
            被告人张三犯盗窃罪，判处有期徒刑一年。 审判员某 二〇一五年五月十日";
        let d = &one(text).defendants[0];
        assert_eq!((d.prior_convictions, d.recidivist), (1, true));
        let text = text.replace("系累犯", "不构成累犯");
        let d = &one(&text).defendants[0];
        assert_eq!((d.prior_convictions, d.recidivist), (1, false));
        let d = &one(&wrap("被告人张三犯盗窃罪，判处有期徒刑一年。")).defendants[0];
        assert_eq!((d.prior_convictions, d.recidivist), (0, false));
    }

    #[test]
    fn corporate_and_order() {
        let e = one(&wrap(
            "一、被告单位某某有限公司犯单位行贿罪，判处罚金人民币十万元； 二、被告人张三犯单位行贿罪，判处拘役四个月。",
        ));
        assert!(e.defendants[0].corporate);
        assert!(!e.defendants[1].corporate);
        assert_eq!((e.defendants[0].k, e.defendants[1].k), (1, 2));
        assert_eq!(
            e.defendants[1].birth_date,
            Some(Date::new(1990, 3, 7).unwrap())
        );
    }

    #[test]
    fn doubts_become_flags() {
        let e = one(&wrap(
            "被告人张三犯盗窃罪，判处拘役一个月十天；犯诈骗罪，判处拘役二个月。",
        ));
        let fields: Vec<&str> = e.defendants[0]
            .flags
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert!(fields.contains(&"sentence.months"), "{fields:?}");
        assert!(fields.contains(&"sentence"), "{fields:?}");
    }

    #[test]
    fn ruling_upholding_takes_the_quoted_sentence() {
        let text = "某某市中级人民法院 刑事裁定书 （2019）京01刑终9号 上诉人（原审被告人）张三，男，1990年3月7日出生。 \
            某某区人民法院审理……于2019年3月1日作出（2019）京0105刑初1号刑事判决：被告人张三犯盗窃罪，判处有期徒刑一年，并处罚金人民币二千元。宣判后，张三不服，提出上诉。 \
            本院认为……裁定如下： 驳回上诉，维持原判。 本裁定为终审裁定。 审判长某 二〇一九年六月一日 书记员某";
        let e = one(text);
        assert_eq!(e.instance, Instance::Second);
        let d = &e.defendants[0];
        assert_eq!(
            (d.name.as_str(), d.punishment.months, d.punishment.fine_yuan),
            ("张三", Some(12), Some(2000))
        );
        assert!(e.flags.iter().any(|f| f.field == "sentence"));
    }
}
