//! Where things are in a judgment: the operative part (判决如下 …), its numbered items, the
//! parties named in the header, the date above the clerk's signature and the instance.

use std::ops::Range;
use std::sync::LazyLock;

use fengcun_domain::Date;
use regex::Regex;

use crate::numerals::{find_date, find_date_loose};

fn regex(pattern: &str) -> Regex {
    #[expect(clippy::unwrap_used, reason = "constant patterns, covered by tests")]
    Regex::new(pattern).unwrap()
}

static INTRO: LazyLock<Regex> = LazyLock::new(|| regex("(?:判决|裁定)如下\\s*[：:]?"));
static END: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "如不服本|如不服|本判决为终审判决|本判决系终审判决|本裁定为终审裁定|审判长|代理审判员|审判员|人民陪审员|附[：:]?\\s*(?:本案|本判决|相关|适用)",
    )
});
static ITEM: LazyLock<Regex> =
    LazyLock::new(|| regex("(?:^|[\\s。；;：:])(?P<n>[一二三四五六七八九十]{1,3})\\s*[、.．]"));
static NOTE: LazyLock<Regex> = LazyLock::new(|| regex("（[^（）]*）|\\([^()]*\\)"));
static NOTE_WORDS: LazyLock<Regex> =
    LazyLock::new(|| regex("刑期|羁押|缴纳|缴清|计算|考验期|已缴|预缴|折抵|付清|执行之日|生效"));
static PARTY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "(?P<role>被告单位|原审被告人|原审上诉人|被告人|上诉人)(?:（[^）]{1,12}）)?(?P<name>[^，,。；（(：:\\s、]{1,40}?)[，,（(]",
    )
});
static BIRTH: LazyLock<Regex> = LazyLock::new(|| {
    regex("^[^。]{0,40}?(?P<y>\\d{4})年(?P<m>\\d{1,2})月(?P<d>\\d{1,2})日(?:出生|生)")
});

/// The part of a judgment that decides (判决主文), with the text around it.
#[derive(Debug, Clone)]
pub struct Layout<'a> {
    pub text: &'a str,
    /// Byte range of the operative part, after `判决如下：`, up to the appeal notice or signature.
    pub operative: Range<usize>,
    /// Whether the operative part is a ruling (裁定如下), e.g. 驳回上诉，维持原判.
    pub ruling: bool,
}

impl<'a> Layout<'a> {
    /// Finds the last `判决如下` (an appeal judgment quotes the first instance's one earlier on).
    pub fn find(text: &'a str) -> Option<Self> {
        let intro = INTRO.find_iter(text).last()?;
        let start = intro.end();
        let end = END
            .find_at(text, start)
            .map_or(text.len(), |m| m.start())
            .max(start);
        Some(Self {
            text,
            operative: start..end,
            ruling: intro.as_str().starts_with("裁定"),
        })
    }

    pub fn operative_text(&self) -> &'a str {
        &self.text[self.operative.clone()]
    }

    pub fn before(&self) -> &'a str {
        &self.text[..self.operative.start]
    }

    /// The date above the clerk's signature: the first full date after the operative part.
    pub fn judgment_date(&self) -> Option<Date> {
        find_date(&self.text[self.operative.end..]).map(|(date, _)| date)
    }

    /// The signature date read despite a typing slip; callers flag it.
    pub fn judgment_date_loose(&self) -> Option<Date> {
        find_date_loose(&self.text[self.operative.end..])
    }

    pub fn instance(&self) -> Instance {
        let head: String = self.text.chars().take(200).collect();
        if head.contains("刑再") || head.contains("再审") {
            Instance::Retrial
        } else if head.contains("刑终")
            || head.contains("二审")
            || self.text[self.operative.end..].contains("终审判决")
        {
            Instance::Second
        } else {
            Instance::First
        }
    }
}

/// The stage of the proceedings a judgment was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    First,
    Second,
    Retrial,
}

impl Instance {
    pub fn code(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Retrial => "retrial",
        }
    }
}

/// How a numbered item of the operative part relates to an earlier judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// Decides anew (and every item of a first-instance judgment).
    New,
    /// 维持 … : keeps part of the earlier judgment, which it may quote.
    Maintained,
    /// 撤销 … : sets the earlier judgment (or part of it) aside; what it quotes is no longer in force.
    Revoked,
    /// 驳回 … : dismisses an appeal or protest.
    Dismissed,
}

/// One numbered item (一、二、…) of the operative part, with notes on how terms are computed removed.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    pub text: String,
}

/// Splits the operative part into items; text before the first number is an item of its own.
pub fn items(operative: &str) -> Vec<Item> {
    let mut starts: Vec<usize> = ITEM
        .captures_iter(operative)
        .filter_map(|c| c.name("n").map(|n| n.start()))
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts.push(operative.len());
    starts
        .windows(2)
        .map(|w| &operative[w[0]..w[1]])
        .filter(|t| !t.trim().is_empty())
        .map(|raw| {
            let text = strip_notes(raw);
            let body =
                text.trim_start_matches(|c: char| "一二三四五六七八九十、.． \u{3000}".contains(c));
            let kind = if body.starts_with("撤销") {
                ItemKind::Revoked
            } else if body.starts_with("维持") {
                ItemKind::Maintained
            } else if body.starts_with("驳回") {
                ItemKind::Dismissed
            } else {
                ItemKind::New
            };
            Item { kind, text }
        })
        .collect()
}

/// Removes parenthesised notes on how the term is counted or when the fine is paid: they hold
/// dates and numbers that are not the sentence. Other parentheses (上诉人（原审被告人）) stay.
pub fn strip_notes(text: &str) -> String {
    let mut text = text.to_owned();
    // Notes can nest one level (…（已缴纳）…): strip inner ones first.
    for _ in 0..2 {
        text = NOTE
            .replace_all(&text, |caps: &regex::Captures<'_>| {
                let note = &caps[0];
                if NOTE_WORDS.is_match(note) {
                    String::new()
                } else {
                    note.to_owned()
                }
            })
            .into_owned();
    }
    text
}

/// A party named in the header (被告人张三，男，…), with the birth date written next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub corporate: bool,
    pub birth_date: Option<Date>,
    /// Earlier criminal sentences the header lists for this party (曾因犯…罪被判处…).
    pub prior_sentences: u32,
}

static PRIOR: LazyLock<Regex> = LazyLock::new(|| {
    regex("犯[^。；，]{1,30}?罪[^。；]{0,40}?(?:判处|判决|免予刑事处罚|刑满释放)")
});
/// Where the description of the parties ends and the procedure begins.
static HEADER_END: LazyLock<Regex> =
    LazyLock::new(|| regex("人民检察院以|检察院指控|提起公诉|审理终结|辩护人|诉讼代理人"));

/// The number of earlier sentences listed in one party's part of the header. Administrative
/// measures (行政拘留, 强制隔离戒毒) do not count: only a crime (犯…罪) with a sentence.
fn prior_sentences(description: &str) -> u32 {
    // The current case's detention (因涉嫌犯…罪…被刑事拘留) is not a sentence.
    let count = description
        .split(['。', '；'])
        .filter(|sentence| !sentence.contains("涉嫌"))
        .map(|sentence| PRIOR.find_iter(sentence).count())
        .sum::<usize>();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Parties named before the operative part, in order, each once.
pub fn parties(before: &str) -> Vec<Party> {
    let header_end = HEADER_END.find(before).map_or(before.len(), |m| m.start());
    let starts: Vec<usize> = PARTY
        .find_iter(&before[..header_end])
        .map(|m| m.start())
        .chain(std::iter::once(header_end))
        .collect();
    let mut out: Vec<Party> = Vec::new();
    for caps in PARTY.captures_iter(before) {
        let (Some(role), Some(name)) = (caps.name("role"), caps.name("name")) else {
            continue;
        };
        let name = name.as_str();
        // "被告人张三犯…" or "被告人张三的…" in the narrative is not a header entry.
        if name.contains('犯') || name.contains('的') || name.chars().count() > 30 {
            continue;
        }
        if out.iter().any(|p| p.name == name) {
            continue;
        }
        let rest = &before[caps.get(0).map_or(before.len(), |m| m.end())..];
        let birth_date = BIRTH.captures(rest).and_then(|b| {
            let number = |k: &str| b.name(k).and_then(|m| m.as_str().parse::<i32>().ok());
            Date::new(
                i16::try_from(number("y")?).ok()?,
                i8::try_from(number("m")?).ok()?,
                i8::try_from(number("d")?).ok()?,
            )
            .ok()
        });
        let from = caps.get(0).map_or(0, |m| m.end());
        let to = starts.iter().copied().find(|s| *s >= from).unwrap_or(from);
        let prior_sentences = if from < header_end {
            prior_sentences(&before[from..to.max(from)])
        } else {
            0
        };
        out.push(Party {
            name: name.to_owned(),
            corporate: role.as_str() == "被告单位",
            birth_date,
            prior_sentences,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "某某区人民法院 刑事判决书 （2019）京0105刑初1号 公诉机关某某区人民检察院。 \
        被告人张三，男，1990年3月7日出生，汉族，住北京市朝阳区。 被告人李四，女，1995年1月2日生。 \
        本院认为……判决如下： 一、被告人张三犯盗窃罪，判处有期徒刑一年（刑期从判决执行之日起计算，即自2019年1月1日起至2020年1月1日止），并处罚金人民币五千元。 \
        二、被告人李四犯盗窃罪，判处拘役三个月，缓刑六个月。 三、责令被告人张三退赔被害人损失。 \
        如不服本判决，可在接到判决书的第二日起十日内上诉。 审判员王五 二〇一九年五月十日 书记员赵六";

    #[test]
    fn finds_operative_part_items_date_and_parties() {
        let layout = Layout::find(FIRST).unwrap();
        let items = items(layout.operative_text());
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.kind == ItemKind::New));
        assert!(!items[0].text.contains("2019年"), "notes are stripped");
        assert!(items[0].text.contains("并处罚金人民币五千元"));
        assert_eq!(
            layout.judgment_date(),
            Some(Date::new(2019, 5, 10).unwrap())
        );
        assert_eq!(layout.instance(), Instance::First);
        let parties = parties(layout.before());
        let names: Vec<&str> = parties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["张三", "李四"]);
        assert_eq!(parties[0].birth_date, Some(Date::new(1990, 3, 7).unwrap()));
        assert_eq!(parties[1].birth_date, Some(Date::new(1995, 1, 2).unwrap()));
        assert_eq!(
            (parties[0].prior_sentences, parties[1].prior_sentences),
            (0, 0)
        );
    }

    #[test]
    fn prior_sentences_in_the_header() {
        let header = "被告人张三，男，1966年8月3日出生。1990年6月22日因犯抢劫罪、故意伤害罪被判处有期徒刑九年。\
            2005年3月1日因犯盗窃罪被判处有期徒刑一年，2006年刑满释放。2014年因吸毒被强制隔离戒毒二年。\
            2018年5月23日因涉嫌犯交通肇事罪被拘留。 被告人李四，女，1990年1月1日出生。因涉嫌犯盗窃罪被逮捕。 \
            某某县人民检察院以某检诉［2018］1号起诉书指控……";
        let parties = parties(header);
        assert_eq!(parties[0].prior_sentences, 2);
        assert_eq!(parties[1].prior_sentences, 0);
    }

    #[test]
    fn appeal_items_are_classified() {
        let text = "（2019）京01刑终9号 原审法院判决如下：被告人张三犯盗窃罪，判处有期徒刑一年。 本院认为……判决如下： \
            一、维持某某区人民法院（2019）京0105刑初1号刑事判决对被告人张三的定罪部分； \
            二、撤销该判决的量刑部分，即判处有期徒刑一年； 三、上诉人张三犯盗窃罪，判处有期徒刑十个月。 \
            本判决为终审判决。 审判长某 二〇一九年八月一日";
        let layout = Layout::find(text).unwrap();
        let kinds: Vec<ItemKind> = items(layout.operative_text())
            .iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(
            kinds,
            [ItemKind::Maintained, ItemKind::Revoked, ItemKind::New]
        );
        assert_eq!(layout.instance(), Instance::Second);
    }
}
