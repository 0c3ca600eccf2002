#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! Redaction on real judgments with planted identifiers. The shared judgments are only partly
//! masked: many still carry real names (defendants, police officers), which the redactor rightly
//! replaces. So that "other characters unchanged" measures over-redaction and not those, each
//! judgment is first redacted once to give a fully masked base text; the test then puts
//! realistic generated names over the masks (张某, 刘某某, 雷某1) and plants identity numbers,
//! phones, addresses, plates and a bank account, redacts again, and checks that every planted
//! identifier is gone and that at least 99 % of the other characters are unchanged. The share
//! of characters the first pass changed in the raw documents is printed for information.

use std::path::PathBuf;

use fengcun_domain::Catalogue;
use fengcun_judgment::redact;
use regex::Regex;
use serde_json::Value;

/// A small deterministic generator (SplitMix64), so the test needs no dependency and every run
/// plants the same identifiers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建国", "建华", "志强", "海燕", "晓东", "丽华", "国平",
    "春生", "文博", "子涵", "浩然", "欣怡", "宇航", "佳琪",
];

fn name(rng: &mut Rng) -> String {
    let mut name = rng.pick(SURNAMES).to_owned();
    name.push_str(rng.pick(GIVEN));
    // Mostly three characters, as most Chinese names are.
    if name.chars().count() == 2 && rng.below(3) > 0 {
        name.push_str(rng.pick(&["华", "林", "峰", "红", "辉", "斌"]));
    }
    name
}

/// A GB 11643 identity number with a correct check character.
fn id_number(rng: &mut Rng) -> String {
    let region = rng.pick(&["110105", "310104", "330106", "440304", "510107", "420106"]);
    let year = 1960 + rng.below(45);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let body = format!("{region}{year}{month:02}{day:02}{}", rng.digits(3));
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn mobile(rng: &mut Rng) -> String {
    format!("1{}{}", rng.pick(&["3", "5", "8", "9"]), rng.digits(9))
}

fn landline(rng: &mut Rng) -> String {
    format!(
        "{}-{}",
        rng.pick(&["010", "021", "0571", "0755", "028"]),
        rng.digits(8)
    )
}

fn address(rng: &mut Rng) -> (String, String) {
    let region = rng.pick(&[
        "浙江省杭州市西湖区",
        "广东省深圳市南山区",
        "四川省成都市武侯区",
        "江苏省南京市鼓楼区",
        "湖北省武汉市洪山区",
    ]);
    let below = match rng.below(3) {
        0 => format!(
            "{}路{}号{}小区{}幢{}单元{}室",
            rng.pick(&["文三", "人民", "解放", "建设", "中山"]),
            1 + rng.below(300),
            rng.pick(&["阳光", "翠苑", "金色家园", "锦绣"]),
            1 + rng.below(30),
            1 + rng.below(5),
            101 + rng.below(1500)
        ),
        1 => format!(
            "{}镇{}村{}组{}号",
            rng.pick(&["新华", "石桥", "龙泉", "柳林"]),
            rng.pick(&["东风", "红旗", "大王", "李家"]),
            1 + rng.below(12),
            1 + rng.below(99)
        ),
        _ => format!(
            "{}街道{}路{}号{}室",
            rng.pick(&["城东", "西湖", "北新"]),
            rng.pick(&["学院", "和平", "长江"]),
            1 + rng.below(500),
            101 + rng.below(900)
        ),
    };
    (format!("{region}{below}"), below)
}

fn plate(rng: &mut Rng) -> String {
    let province = rng.pick(&["京", "沪", "浙", "粤", "川", "苏"]);
    let letter = rng.pick(&["A", "B", "C", "D", "E"]);
    if rng.below(2) == 0 {
        format!("{province}{letter}{}", rng.digits(5))
    } else {
        format!("{province}{letter}·D{}", rng.digits(5))
    }
}

/// A judgment with identifiers planted, and the planted strings that must disappear.
struct Planted {
    text: String,
    secrets: Vec<String>,
    /// Byte ranges of the planted text in `text`.
    spans: Vec<std::ops::Range<usize>>,
}

fn plant(original: &str, rng: &mut Rng) -> Planted {
    // Masked person tokens after a role word (被告人张3, 被害人刘某某) become generated names,
    // the same token the same name throughout the document.
    let masked = Regex::new(
        "(?:被告人|被害人|证人|上诉人)([王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹][某×X][某×X甲乙丙1-9]?|[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹][1-9])",
    )
    .unwrap();
    let mut tokens: Vec<String> = Vec::new();
    for caps in masked.captures_iter(original) {
        let token = caps[1].to_owned();
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    let mut used = Vec::new();
    let mut replacements: Vec<(String, String)> = Vec::new();
    for token in tokens.iter().take(4) {
        let mut generated = name(rng);
        while used.contains(&generated) || original.contains(&generated) {
            generated = name(rng);
        }
        used.push(generated.clone());
        replacements.push((token.clone(), generated));
    }
    // Longer tokens first, so that 张某某 is not replaced as 张某 + 某.
    replacements.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
    let mut secrets: Vec<String> = replacements.iter().map(|(_, n)| n.clone()).collect();
    let mut pieces: Vec<(usize, usize, String)> = Vec::new();
    let mut taken = vec![false; original.len()];
    for (token, generated) in &replacements {
        for (at, _) in original.match_indices(token.as_str()) {
            let end = at + token.len();
            let followed = original[end..].chars().next();
            if taken[at..end].iter().any(|t| *t)
                || followed.is_some_and(|c| c == '某' || c.is_ascii_digit())
            {
                continue;
            }
            taken[at..end].iter_mut().for_each(|t| *t = true);
            pieces.push((at, end, generated.clone()));
        }
    }
    // One sentence of personal identifiers after the first defendant's description.
    let (address, below) = address(rng);
    let id = id_number(rng);
    let phone = mobile(rng);
    let fixed = landline(rng);
    let car = plate(rng);
    let account = format!("6222{}", rng.digits(15));
    let sentence = format!(
        "公民身份号码{id}，住{address}，联系电话{phone}，座机{fixed}，银行账号{account}，驾驶车牌号为{car}的小型轿车。"
    );
    secrets.extend([id, phone, fixed, account, below, car.clone()]);
    // The digits of the plate alone must also go (京A×××××).
    secrets.push(
        car.chars()
            .skip(2)
            .filter(char::is_ascii_alphanumeric)
            .collect(),
    );
    let insert_at = original
        .find("被告人")
        .and_then(|i| original[i..].find('。').map(|j| i + j + '。'.len_utf8()))
        .unwrap_or(0);
    pieces.push((insert_at, insert_at, sentence));
    pieces.sort_by_key(|p| p.0);
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, end, piece) in pieces {
        text.push_str(&original[at..start]);
        spans.push(text.len()..text.len() + piece.len());
        text.push_str(&piece);
        at = end;
    }
    text.push_str(&original[at..]);
    Planted {
        text,
        secrets,
        spans,
    }
}

#[test]
fn planted_identifiers_are_removed_and_the_rest_kept() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/external/judge-test/judgments.jsonl");
    let Ok(data) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} not found; the redaction test needs the shared JuDGE judgments",
            path.display()
        );
        return;
    };
    let catalogue = Catalogue::builtin();
    let mut rng = Rng(20_161_001);
    let (mut planted_total, mut other_chars, mut other_changed) = (0usize, 0usize, 0usize);
    let (mut raw_chars, mut raw_changed) = (0usize, 0usize);
    let mut leaks = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).unwrap();
        let id = value["text_id"].as_str().unwrap();
        let raw = value["fd"].as_str().unwrap();
        let base = redact(raw, catalogue);
        raw_chars += raw.chars().count();
        raw_changed += base
            .replacements
            .iter()
            .map(|r| {
                let original = raw.chars().skip(r.offset).take(r.length);
                let mut replacement = r.replacement.chars();
                original.filter(|c| replacement.next() != Some(*c)).count()
            })
            .sum::<usize>();
        let planted = plant(&base.text, &mut rng);
        let redacted = redact(&planted.text, catalogue);
        planted_total += planted.secrets.len();
        for secret in &planted.secrets {
            if let Some(at) = redacted.text.find(secret.as_str()) {
                let context: String = redacted.text[at..].chars().take(24).collect();
                leaks.push(format!("{id}: `{secret}` still present: …{context}…"));
            }
        }
        // Characters outside the planted spans that a replacement changed. A replacement is
        // aligned with what it replaced from the left: 雷辉 → 雷某 changes one character, not two.
        let chars: Vec<(usize, char)> = planted.text.char_indices().collect();
        let in_planted = |byte: usize| planted.spans.iter().any(|s| s.contains(&byte));
        let mut changed = vec![false; chars.len()];
        for r in &redacted.replacements {
            let mut replacement = r.replacement.chars();
            for (i, flag) in changed[r.offset..r.offset + r.length]
                .iter_mut()
                .enumerate()
            {
                *flag = replacement.next() != Some(chars[r.offset + i].1);
            }
        }
        for ((byte, _), changed) in chars.iter().zip(&changed) {
            if !in_planted(*byte) {
                other_chars += 1;
                other_changed += usize::from(*changed);
            }
        }
        // The replacement list replays to the output.
        let mut rebuilt = String::new();
        let mut at = 0;
        for r in &redacted.replacements {
            rebuilt.extend(chars[at..r.offset].iter().map(|(_, c)| c));
            rebuilt.push_str(&r.replacement);
            at = r.offset + r.length;
        }
        rebuilt.extend(chars[at..].iter().map(|(_, c)| c));
        assert_eq!(rebuilt, redacted.text, "{id}: replacements do not replay");
    }
    let unchanged = 1.0 - other_changed as f64 / other_chars as f64;
    eprintln!(
        "raw documents: {:.2} % of {raw_chars} characters changed by the first pass (their own unmasked names and identifiers)",
        raw_changed as f64 * 100.0 / raw_chars as f64
    );
    eprintln!(
        "redaction: {planted_total} planted identifiers, {} left; {:.2} % of {other_chars} other characters unchanged",
        leaks.len(),
        unchanged * 100.0
    );
    for leak in &leaks {
        eprintln!("LEAK {leak}");
    }
    assert!(
        planted_total > 350 * 6,
        "planting went wrong: {planted_total}"
    );
    assert!(
        leaks.is_empty(),
        "{} planted identifiers survived",
        leaks.len()
    );
    assert!(
        unchanged >= 0.99,
        "only {:.2} % unchanged",
        unchanged * 100.0
    );
}
