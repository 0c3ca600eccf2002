//! Redaction for publication, after the SPC's 2016 provisions on publishing judgments on the
//! internet (最高人民法院关于人民法院在互联网公布裁判文书的规定, 法释〔2016〕19号).
//!
//! - Names of natural persons → surname + 某 (art. 8, 9), kept apart within a document by a number
//!   (张某1, 张某2, as art. 9 para. 2 prescribes); fengcun applies this to every natural person,
//!   defendants included, except judges, clerks and defence lawyers, whose names the rules keep
//!   (art. 11, 12). For minors and victims of sexual offences the surname goes too (某甲, 某乙) and
//!   their birth dates are removed.
//! - Identity numbers, telephone numbers, bank accounts, licence plates and addresses below the
//!   county (art. 10 para. 1 (1), art. 11 (1): only 住所地所属县、区 stays) are replaced by ×.
//!
//! Every replacement is reported with its offset in characters, its category and what replaced it;
//! what was removed is never reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use fengcun_domain::{Catalogue, Date, Tag, age_in_full_years};
use regex::Regex;
use serde::Serialize;

use crate::document::Layout;

fn regex(pattern: &str) -> Regex {
    #[expect(clippy::unwrap_used, reason = "constant patterns, covered by tests")]
    Regex::new(pattern).unwrap()
}

/// What kind of identifier a replacement removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Name,
    IdNumber,
    Phone,
    BankAccount,
    Plate,
    Address,
    BirthDate,
}

/// One replacement: `length` characters at character `offset` of the input became `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replacement {
    pub offset: usize,
    pub length: usize,
    pub category: Category,
    pub replacement: String,
}

/// A redacted document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub replacements: Vec<Replacement>,
}

#[derive(Debug, Clone)]
struct Span {
    range: Range<usize>,
    category: Category,
    replacement: String,
}

/// Redacts one document.
pub fn redact(text: &str, catalogue: &Catalogue) -> Redacted {
    let mut spans = Vec::new();
    identifiers(text, &mut spans);
    addresses(text, &mut spans);
    names(text, catalogue, &mut spans);
    apply(text, spans)
}

/// Applies non-overlapping spans, earlier and longer first, and reports them in characters.
fn apply(text: &str, mut spans: Vec<Span>) -> Redacted {
    spans.sort_by_key(|s| (s.range.start, std::cmp::Reverse(s.range.end)));
    let mut out = String::with_capacity(text.len());
    let mut replacements = Vec::new();
    let mut at = 0usize;
    let mut chars_before = 0usize;
    for span in spans {
        if span.range.start < at || span.range.is_empty() {
            continue;
        }
        let kept = &text[at..span.range.start];
        out.push_str(kept);
        chars_before += kept.chars().count();
        let removed = text[span.range.clone()].chars().count();
        out.push_str(&span.replacement);
        replacements.push(Replacement {
            offset: chars_before,
            length: removed,
            category: span.category,
            replacement: span.replacement,
        });
        chars_before += removed;
        at = span.range.end;
    }
    out.push_str(&text[at..]);
    Redacted {
        text: out,
        replacements,
    }
}

fn crosses(n: usize) -> String {
    "×".repeat(n)
}

// ---------------------------------------------------------------------------------------------
// Numbers and plates

static DIGITS: LazyLock<Regex> =
    LazyLock::new(|| regex("[0-9]{6,}[Xx]?|[0-9]{4}(?:[ -][0-9]{4}){3,4}(?:[ -][0-9]{1,3})?"));
static LANDLINE: LazyLock<Regex> =
    LazyLock::new(|| regex("[（(]?0[0-9]{2,3}[)）]?[-－—]?[0-9]{7,8}"));
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•・.．\\s]?[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警]",
    )
});

fn identifiers(text: &str, spans: &mut Vec<Span>) {
    for m in DIGITS.find_iter(text) {
        let (start, end) = (m.start(), m.end());
        let alnum_before = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let alnum_after = text[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if alnum_before || alnum_after {
            continue;
        }
        let token = m.as_str();
        let digits = token.chars().filter(|c| c.is_ascii_alphanumeric()).count();
        let category = match digits {
            15 | 18 => Category::IdNumber,
            11 if token.starts_with('1') && !token.contains(['X', 'x']) => Category::Phone,
            16..=19 => Category::BankAccount,
            _ => continue,
        };
        spans.push(Span {
            range: start..end,
            category,
            replacement: crosses(token.chars().count()),
        });
    }
    for m in LANDLINE.find_iter(text) {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        let before_digit = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit());
        let after_digit = text[m.end()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit());
        // A bare 0 + digits run without separator is probably an amount or a code, not a phone.
        let separated = m.as_str().contains(['-', '－', '—', '(', '（']);
        if (10..=12).contains(&digits) && separated && !before_digit && !after_digit {
            spans.push(Span {
                range: m.range(),
                category: Category::Phone,
                replacement: crosses(m.as_str().chars().count()),
            });
        }
    }
    for m in PLATE.find_iter(text) {
        let plate = m.as_str();
        let after = text[m.end()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if after || !plate.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        // Keep the province and the issuing office's letter, as courts write 苏D×××××.
        let head: String = plate.chars().take(2).collect();
        let tail = plate
            .chars()
            .skip(2)
            .filter(|c| c.is_ascii_alphanumeric() || !c.is_ascii())
            .filter(|c| !matches!(c, '·' | '•' | '・' | '．'))
            .count();
        spans.push(Span {
            range: m.range(),
            category: Category::Plate,
            replacement: format!("{head}{}", crosses(tail)),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses

static TRIGGERED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "(?P<t>家庭住址|住址|住所地|户籍所在地|户籍地|暂住地|暂住于|暂住|现住|家住|居住地|居住于|租住于|住在|住)[：:为在于]?(?P<a>[^，,。；;（(）)\\s、]{2,60})",
    )
});
static ADMIN: LazyLock<Regex> = LazyLock::new(|| {
    regex("^[\\p{Han}]{1,10}?(?:特别行政区|自治区|自治州|自治县|地区|省|市|州|盟|县|区|旗)")
});
static STREET: LazyLock<Regex> = LazyLock::new(|| {
    let unit = "[0-9０-９一二三四五六七八九十百零〇]+(?:号院|号楼|号|组|栋|幢|单元|室|楼|层|弄|队)";
    regex(&format!(
        "[\\p{{Han}}0-9]{{1,8}}?(?:路|街|大道|巷|弄|胡同|村|社区|小区|花园|公寓|大厦|新村|家园|苑|广场|屯)(?:{unit})+(?:[\\p{{Han}}A-Za-z]{{0,10}}?(?:{unit})+)*"
    ))
});
/// Words that name a place below the county (乡镇街道村组路街巷号室…).
const BELOW_COUNTY: &[&str] = &[
    "乡", "镇", "街道", "村", "组", "路", "街", "巷", "弄", "胡同", "号", "室", "楼", "栋", "幢",
    "单元", "屯", "苑", "小区", "社区", "花园", "公寓", "大厦",
];
const LEADING_WORDS: &[char] = &[
    '在', '于', '至', '到', '从', '住', '往', '的', '和', '与', '及', '、', '位', '将', '经', '去',
    '回', '该', '其', '明', '：', ':',
];

/// Keeps the province, city and county of an address; returns where the rest starts.
fn county_prefix(address: &str) -> usize {
    let mut at = 0;
    while let Some(m) = ADMIN.find(&address[at..]) {
        let part = m.as_str();
        let below = [
            "小区",
            "社区",
            "园区",
            "街区",
            "开发区",
            "景区",
            "厂区",
            "校区",
        ]
        .iter()
        .any(|s| part.ends_with(s));
        if below {
            break;
        }
        at += m.end();
        if part.ends_with(['县', '区', '旗']) {
            break;
        }
    }
    at
}

/// Where the address in `rest` ends: after its last place word or digit, so that the words
/// after it (…号房间期间, …室内查获) stay.
fn address_end(rest: &str) -> usize {
    let mut end = 0;
    for word in BELOW_COUNTY {
        if let Some(i) = rest.rfind(word) {
            end = end.max(i + word.len());
        }
    }
    if let Some((i, c)) = rest
        .char_indices()
        .rfind(|(_, c)| c.is_ascii_alphanumeric() || *c == '×')
    {
        end = end.max(i + c.len_utf8());
    }
    end
}

fn addresses(text: &str, spans: &mut Vec<Span>) {
    for caps in TRIGGERED.captures_iter(text) {
        let Some(address) = caps.name("a") else {
            continue;
        };
        let raw = address.as_str();
        let lead = raw.len() - raw.trim_start_matches(LEADING_WORDS).len();
        let body = &raw[lead..];
        let kept = county_prefix(body);
        // An address starts with its region (住浙江省…); otherwise 住 is 住宅, 住处, and
        // 居住地所在社区 is not an address.
        if kept == 0 {
            continue;
        }
        let rest = &body[kept..];
        let end = address_end(rest);
        if end == 0 {
            continue;
        }
        let from = address.start() + lead + kept;
        spans.push(Span {
            range: from..from + end,
            category: Category::Address,
            replacement: "××".to_owned(),
        });
    }
    for m in STREET.find_iter(text) {
        let matched = m.as_str();
        spans.push(Span {
            range: m.start() + street_start(matched)..m.end(),
            category: Category::Address,
            replacement: "××".to_owned(),
        });
    }
}

/// The match of a street address may begin inside the words before it: start after the last
/// county-level name (…区井湾路 → 井湾路) or connecting word before the street.
fn street_start(matched: &str) -> usize {
    let street_at = matched
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() || "〇一二三四五六七八九十百".contains(*c))
        .map_or(matched.len(), |(i, _)| i);
    let head = &matched[..street_at];
    let mut start = 0;
    let mut previous = None;
    for (i, c) in head.char_indices() {
        let admin = matches!(c, '省' | '市' | '县' | '旗')
            || (c == '区' && !matches!(previous, Some('小' | '社' | '园' | '景' | '厂' | '校')));
        if admin || LEADING_WORDS.contains(&c) {
            start = i + c.len_utf8();
        }
        previous = Some(c);
    }
    start
}

// ---------------------------------------------------------------------------------------------
// Names

/// Common single-character surnames (the ~300 most frequent, covering almost all of the
/// population) and compound surnames.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由";
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "司徒",
    "端木", "长孙", "宇文", "独孤", "南宫", "西门", "呼延", "轩辕",
];
/// Characters that do not occur in given names but do follow a role word (被害人车辆, 证人证言).
const NOT_GIVEN: &str = "某×X＊*辆款物品件人们的了在是有些个面式时间处家里上下中内外前后等及和与或称系曾已被将把向对从到未无不均都也又还就才所证言述供诉讼单位方身份户籍住手机号码账驾车辆公司厂店法院检察机关部门亲属属案情节获奸互问付因判于续确请主县市区省镇村犯贩";
/// Characters that may follow a name.
const AFTER_NAME: &str = "，,。；;：:、（(）)“”\"'‘’ \u{3000}\n的等与和及犯系在于将向被从对因是均到家处驾称供也已又共就还并则为借拿给让叫等到该两三一二所之出酒醉归违以自通受认拘判提伙盗购补经当随指抓骑构逃刑退虚销携饮欲预准依走呼没予父支曾";

static ROLES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "(?P<keep>代理审判员|审判长|审判员|人民陪审员|陪审员|书记员|法官助理|辩护人|诉讼代理人|委托代理人|律师)|(?P<role>附带民事诉讼原告人|原审被告人|原审上诉人|法定代理人|法定代表人|诉讼代表人|犯罪嫌疑人|被告人|被害人|受害人|上诉人|申诉人|自诉人|证人|鉴定人|报案人|举报人|见证人|罪犯|同案人|同案犯|嫌疑人|代理检察员|助理检察员|检察员|检察官|民警|辅警|当事人|被告|其妻|其夫|其子|其女|其父|其母|妻子|丈夫|儿子|女儿|父亲|母亲|朋友|邻居|村民|司机|男友|女友|前妻|前夫|亲属|负责人|经理|老板|雇主|同事)(?:（[^）]{1,10}）)?[：:]?",
    )
});
/// An age or minority stated right after a name, in its own parenthesis or apposition
/// (张某（女，13岁）, 李某，男，15周岁, 王某（未成年人）); not a word later in the sentence.
static AGE_NEAR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "^[（(，,][^。；）)犯]{0,12}?(?:(?P<n>[0-9]{1,2}|[一二三四五六七八九十]{1,3})周?岁|未成年)",
    )
});
static BIRTH_NEAR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "^[^。]{0,40}?(?P<date>(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日)(?:出生|生)",
    )
});
static CONVICTED_OF: LazyLock<Regex> = LazyLock::new(|| regex("犯([^，。；、]{1,20}?罪)"));

fn is_surname_at(text: &str) -> Option<usize> {
    if let Some(compound) = COMPOUND_SURNAMES.iter().find(|s| text.starts_with(**s)) {
        return Some(compound.len());
    }
    let first = text.chars().next()?;
    SURNAMES.contains(first).then(|| first.len_utf8())
}

fn is_given_char(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) && !NOT_GIVEN.contains(c)
}

/// The length of an already masked name at the start of `text` (张某, 李某某, 王某1, 张3, 王×1).
fn masked_len(text: &str) -> Option<usize> {
    let surname = is_surname_at(text)?;
    let rest = &text[surname..];
    let mask = rest
        .char_indices()
        .take_while(|(i, c)| {
            matches!(c, '某' | '×' | 'X' | 'x' | '＊' | '*')
                || (*i > 0 && "甲乙丙丁戊己庚辛".contains(*c))
                || c.is_ascii_digit()
        })
        .last()
        .map(|(i, c)| i + c.len_utf8())?;
    Some(surname + mask)
}

/// Whether `name` occurs somewhere followed by punctuation.
fn punctuated(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, m)| {
        text[i + m.len()..]
            .chars()
            .next()
            .is_none_or(|c| "，。；：、（）,;:()".contains(c))
    })
}

/// A name read after a role word: the two possible lengths, and which one a delimiter after it
/// confirms, if any.
#[derive(Debug, Clone, Copy)]
struct Candidate<'t> {
    short: &'t str,
    long: Option<&'t str>,
    confirmed: Option<&'t str>,
    /// Confirmed by punctuation (张三，) rather than by a word that often follows names (张三驾).
    strong: bool,
}

/// A name starting at `text`: surname + one or two given-name characters, or a minority name
/// with a middle dot. `None` when what follows is not a name or is already masked (张某, 张3).
fn name_at(text: &str) -> Option<Candidate<'_>> {
    let dotted = text
        .char_indices()
        .take(17)
        .find(|(_, c)| matches!(c, '·' | '•' | '・'));
    if let Some((dot, _)) = dotted {
        let head = &text[..dot];
        if !head.is_empty() && head.chars().all(|c| is_given_char(c) || c == '某') {
            let tail_len = text[dot..]
                .char_indices()
                .skip(1)
                .take_while(|(_, c)| {
                    (is_given_char(*c) && !AFTER_NAME.contains(*c)) || matches!(c, '·' | '•' | '・')
                })
                .last()
                .map_or(0, |(i, c)| i + c.len_utf8());
            if tail_len > 0 && !head.contains('某') {
                let name = &text[..dot + tail_len];
                return Some(Candidate {
                    short: name,
                    long: None,
                    confirmed: Some(name),
                    strong: true,
                });
            }
        }
    }
    let surname = is_surname_at(text)?;
    let rest = &text[surname..];
    let mut given = rest.chars();
    let first = given.next()?;
    if !is_given_char(first) {
        return None;
    }
    let one = surname + first.len_utf8();
    let ends_name = |at: usize| {
        text[at..]
            .chars()
            .next()
            .is_none_or(|c| AFTER_NAME.contains(c))
    };
    let short = &text[..one];
    let long = given
        .next()
        .filter(|c| is_given_char(*c))
        .map(|second| &text[..one + second.len_utf8()]);
    // 韩伟骑的: 骑 often follows a name and rarely ends one, so 韩伟 is the better reading.
    let second_follows_names =
        long.is_some_and(|l| l[one..].chars().all(|c| AFTER_NAME.contains(c)));
    let confirmed = match long {
        Some(long) if ends_name(long.len()) && !second_follows_names => Some(long),
        _ if ends_name(one) => Some(short),
        Some(long) if ends_name(long.len()) => Some(long),
        _ => None,
    };
    let strong = confirmed.is_some_and(|name| {
        text[name.len()..].chars().next().is_none_or(|c| {
            c.is_ascii_punctuation() || c.is_whitespace() || "，。；：、（）“”".contains(c)
        })
    });
    Some(Candidate {
        short,
        long,
        confirmed,
        strong,
    })
}

/// The name a candidate stands for: its confirmed reading, else a reading confirmed elsewhere in
/// the document (雷辉酒后 → 雷辉, seen as 被告人雷辉，), else the longer reading, since a name
/// left half-masked is worse than a character too many.
fn resolve<'t>(text: &str, candidate: &Candidate<'t>, confirmed: &HashMap<&str, usize>) -> &'t str {
    let weight = |name: &str| confirmed.get(name).copied().unwrap_or(0);
    let long = candidate.long.map_or(0, weight);
    let short = weight(candidate.short);
    match (long, short) {
        // No role word confirmed either reading: look for either followed by punctuation
        // anywhere in the document (殴打孙某，).
        (0, 0) => match candidate.long {
            Some(long) if punctuated(text, long) || !punctuated(text, candidate.short) => long,
            _ => candidate.short,
        },
        (l, s) if s > l => candidate.short,
        (l, s) if l > s => candidate.long.unwrap_or(candidate.short),
        _ => candidate.confirmed.unwrap_or(candidate.short),
    }
}

/// A person found in the text, and whether nothing identifying may remain of them.
#[derive(Debug)]
struct Person {
    name: String,
    sensitive: bool,
    first_seen: usize,
}

fn names(text: &str, catalogue: &Catalogue, spans: &mut Vec<Span>) {
    let layout = Layout::find(text);
    let judged = layout.as_ref().and_then(Layout::judgment_date);
    let sexual = CONVICTED_OF.captures_iter(text).any(|c| {
        catalogue
            .resolve(&c[1])
            .is_some_and(|charge| charge.tags.contains(Tag::Sexual))
    });
    // First pass: every name candidate after a role word, with what the role says about it.
    let mut found: Vec<(usize, Candidate<'_>, bool, bool)> = Vec::new();
    for caps in ROLES.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let keep = caps.name("keep").is_some();
        let victim = caps
            .name("role")
            .is_some_and(|r| matches!(r.as_str(), "被害人" | "受害人"));
        let mut at = whole.end();
        // A list of names after one role word: 证人张三、李某1和王五. Masked ones are stepped over.
        loop {
            let end = if let Some(candidate) = name_at(&text[at..]) {
                found.push((at, candidate, keep, victim));
                at + candidate.confirmed.unwrap_or(candidate.short).len()
            } else if let Some(len) = masked_len(&text[at..]) {
                at + len
            } else {
                break;
            };
            let Some(sep) = text[end..]
                .chars()
                .next()
                .filter(|c| matches!(c, '、' | '和' | '及' | '与'))
            else {
                break;
            };
            at = end + sep.len_utf8();
        }
    }
    // Second pass: each candidate read with what the whole document confirms.
    // Punctuation after a name is better evidence than a word that often follows names.
    let mut confirmed: HashMap<&str, usize> = HashMap::new();
    for (_, candidate, _, _) in &found {
        if let Some(name) = candidate.confirmed {
            *confirmed.entry(name).or_insert(0) += if candidate.strong { 3 } else { 1 };
        }
    }
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    for (at, candidate, keep, victim) in &found {
        // Judges, clerks and lawyers keep their names; a party sharing one is masked everywhere.
        if *keep {
            continue;
        }
        let name = resolve(text, candidate, &confirmed);
        let minor = is_minor(&text[at + name.len()..], judged);
        let entry = people.entry(name.to_owned()).or_insert(Person {
            name: name.to_owned(),
            sensitive: false,
            first_seen: *at,
        });
        entry.sensitive |= minor || (*victim && sexual);
    }
    let mut people: Vec<Person> = people.into_values().collect();
    people.sort_by_key(|p| p.first_seen);
    let pseudonyms = pseudonyms(text, &people);
    name_spans(text, &people, &pseudonyms, spans);
    for person in people.iter().filter(|p| p.sensitive) {
        birth_spans(text, &person.name, spans);
    }
}

/// Minor at judgment by a birth date written right after the name, or a stated age under 18.
fn is_minor(after: &str, judged: Option<Date>) -> bool {
    if let Some(caps) = BIRTH_NEAR.captures(after) {
        let number = |k: &str| caps.name(k).and_then(|m| m.as_str().parse::<i32>().ok());
        let born = (|| {
            Date::new(
                i16::try_from(number("y")?).ok()?,
                i8::try_from(number("m")?).ok()?,
                i8::try_from(number("d")?).ok()?,
            )
            .ok()
        })();
        if let (Some(born), Some(judged)) = (born, judged) {
            if age_in_full_years(born, judged).is_some_and(|age| age < 18) {
                return true;
            }
        }
    }
    AGE_NEAR
        .captures(after)
        .is_some_and(|caps| match caps.name("n") {
            Some(n) => crate::numerals::parse_number(n.as_str()).is_some_and(|age| age < 18),
            None => true,
        })
}

/// Pseudonyms: 张某 when one person has the surname, 张某1, 张某2 … when several do (art. 9),
/// skipping forms the document already uses; 某甲, 某乙 … for the sensitive.
fn pseudonyms(text: &str, people: &[Person]) -> Vec<String> {
    const STEMS: &str = "甲乙丙丁戊己庚辛壬癸";
    let mut used: HashSet<String> = HashSet::new();
    let taken = |candidate: &str, used: &HashSet<String>| {
        used.contains(candidate)
            || text.match_indices(candidate).any(|(i, m)| {
                !text[i + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
    };
    let mut out = Vec::with_capacity(people.len());
    for person in people {
        let candidate = if person.sensitive {
            let mut stems = STEMS.chars().map(|s| format!("某{s}"));
            let mut numbered = (1..).map(|n| format!("某{n}"));
            stems
                .find(|c| !taken(c, &used))
                .or_else(|| numbered.find(|c| !taken(c, &used)))
        } else {
            let surname_len = is_surname_at(&person.name)
                .filter(|_| !person.name.contains(['·', '•', '・']))
                .unwrap_or_else(|| person.name.chars().next().map_or(0, char::len_utf8));
            let surname = &person.name[..surname_len];
            let alone = people
                .iter()
                .filter(|p| !p.sensitive && p.name.starts_with(surname))
                .count()
                == 1;
            let plain = format!("{surname}某");
            if alone && !text.contains(&plain) && !used.contains(&plain) {
                Some(plain)
            } else {
                (1..)
                    .map(|n| format!("{surname}某{n}"))
                    .find(|c| !taken(c, &used))
            }
        };
        let candidate = candidate.unwrap_or_else(|| "某".to_owned());
        used.insert(candidate.clone());
        out.push(candidate);
    }
    out
}

fn name_spans(text: &str, people: &[Person], pseudonyms: &[String], spans: &mut Vec<Span>) {
    if people.is_empty() {
        return;
    }
    // Longest names first, so that 王明亮 is not read as 王明 + 亮.
    let mut order: Vec<usize> = (0..people.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(people[i].name.len()));
    let alternation = order
        .iter()
        .map(|&i| regex::escape(&people[i].name))
        .collect::<Vec<_>>()
        .join("|");
    let Ok(pattern) = Regex::new(&alternation) else {
        return;
    };
    for m in pattern.find_iter(text) {
        let Some(index) = people.iter().position(|p| p.name == m.as_str()) else {
            continue;
        };
        spans.push(Span {
            range: m.range(),
            category: Category::Name,
            replacement: pseudonyms[index].clone(),
        });
    }
}

fn birth_spans(text: &str, name: &str, spans: &mut Vec<Span>) {
    for (at, _) in text.match_indices(name) {
        let after = at + name.len();
        if let Some(date) = BIRTH_NEAR
            .captures(&text[after..])
            .and_then(|c| c.name("date"))
        {
            spans.push(Span {
                range: after + date.start()..after + date.end(),
                category: Category::BirthDate,
                replacement: "××××年××月××日".to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Redacted {
        redact(text, Catalogue::builtin())
    }

    #[test]
    fn names_become_surname_mou_and_stay_apart() {
        let text = "被告人张建国，男，1980年1月1日出生。被害人张伟、证人李明亮和王芳的证言。张建国打了张伟。审判员刘德华 书记员陈静 辩护人赵强，某律师事务所律师。";
        let out = run(text);
        for gone in ["张建国", "张伟", "李明亮", "王芳"] {
            assert!(!out.text.contains(gone), "{gone} in {}", out.text);
        }
        for kept in ["刘德华", "陈静", "赵强"] {
            assert!(out.text.contains(kept), "{kept} missing in {}", out.text);
        }
        assert!(out.text.contains("张某1打了张某2"), "{}", out.text);
        assert!(out.text.contains("李某") && out.text.contains("王某"));
        assert!(
            out.replacements
                .iter()
                .all(|r| r.category == Category::Name)
        );
    }

    #[test]
    fn masked_names_are_left_and_not_reused() {
        let text = "被告人张某1，男。被告人张明，男。被害人李某某。";
        let out = run(text);
        assert!(out.text.contains("张某1，男"));
        assert!(out.text.contains("被告人张某2"), "{}", out.text);
        assert!(out.text.contains("李某某"));
    }

    #[test]
    fn identifiers_are_removed() {
        let text = "被告人王小明，公民身份号码11010519900307002X，住浙江省杭州市西湖区文三路138号东方小区3幢2单元501室，联系电话13912345678，座机0571-88886666，银行卡号6222021234567890123，驾驶浙A12345号轿车及沪B·D12345号汽车。";
        let out = run(text);
        for gone in [
            "11010519900307002X",
            "13912345678",
            "0571-88886666",
            "6222021234567890123",
            "浙A12345",
            "D12345",
            "文三路",
            "501室",
            "王小明",
        ] {
            assert!(!out.text.contains(gone), "{gone} in {}", out.text);
        }
        assert!(out.text.contains("住浙江省杭州市西湖区××"), "{}", out.text);
        assert!(out.text.contains("浙A×××××"), "{}", out.text);
        let categories: HashSet<Category> = out.replacements.iter().map(|r| r.category).collect();
        for c in [
            Category::IdNumber,
            Category::Address,
            Category::Phone,
            Category::BankAccount,
            Category::Plate,
            Category::Name,
        ] {
            assert!(categories.contains(&c), "{c:?}");
        }
    }

    #[test]
    fn offsets_are_characters_and_replay_to_the_output() {
        let text = "被告人王小明，电话13912345678。王小明认罪。";
        let out = run(text);
        let chars: Vec<char> = text.chars().collect();
        let mut rebuilt = String::new();
        let mut at = 0;
        for r in &out.replacements {
            rebuilt.extend(&chars[at..r.offset]);
            rebuilt.push_str(&r.replacement);
            at = r.offset + r.length;
        }
        rebuilt.extend(&chars[at..]);
        assert_eq!(rebuilt, out.text);
        assert_eq!(out.replacements[0].offset, 3);
    }

    #[test]
    fn minors_and_sexual_offence_victims_keep_nothing() {
        let text = "被告人赵大勇，男，1990年1月1日出生。被害人钱小红（女，13岁）。证人孙丽。本院认为，被告人赵大勇犯强奸罪。判决如下：被告人赵大勇犯强奸罪，判处有期徒刑五年。 审判员某 二〇一九年五月十日";
        let out = run(text);
        assert!(!out.text.contains("钱"), "{}", out.text);
        assert!(out.text.contains("被害人某甲"), "{}", out.text);
        assert!(out.text.contains("证人孙某"), "{}", out.text);
        let text = "被告人周小军，男，2003年2月1日出生，学生。判决如下：被告人周小军犯盗窃罪，判处有期徒刑六个月。 审判员某 二〇一九年五月十日";
        let out = run(text);
        assert!(!out.text.contains('周'), "{}", out.text);
        assert!(!out.text.contains("2003年"), "{}", out.text);
    }

    #[test]
    fn ordinary_words_are_not_names_or_addresses() {
        let text = "被告人非法侵入住宅，被害人车辆受损，证人证言属实，于2017年6月15日向本院提起公诉，（2017）沪0120刑初684号，罚金人民币2447500元，住院治疗。";
        let out = run(text);
        assert_eq!(out.text, text, "{:?}", out.replacements);
    }
}
