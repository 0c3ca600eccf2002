//! Reading numbers the way judgments write them: 一年六个月, 一年又六个月, 人民币五千元, 5000元,
//! 1.5万元, 壹仟元, 二〇一九年五月十日. The writing direction is in `fengcun_domain::numerals`.

use std::sync::LazyLock;

use fengcun_domain::Date;
use regex::Regex;

/// Digits of the Chinese number system, ordinary and financial (大写) forms, and the zeros that
/// judgments type in dates (〇, ○, О, Ｏ, 0).
fn digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' | '○' | 'О' | 'Ο' | 'Ｏ' | 'o' | 'O' | '0' => 0,
        '一' | '壹' | '1' => 1,
        '二' | '两' | '贰' | '貳' | '2' => 2,
        '三' | '叁' | '參' | '3' => 3,
        '四' | '肆' | '4' => 4,
        '五' | '伍' | '5' => 5,
        '六' | '陆' | '陸' | '6' => 6,
        '七' | '柒' | '7' => 7,
        '八' | '捌' | '8' => 8,
        '九' | '玖' | '9' => 9,
        _ => return None,
    })
}

fn small_unit(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        _ => return None,
    })
}

/// A whole number in Chinese or Arabic numerals, or a mix (3万, 1.5万, 二万二千, 一百零五, 2，000).
/// `None` when the text is not a number or overflows.
pub fn parse_number(text: &str) -> Option<u64> {
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .collect();
    if text.is_empty() {
        return None;
    }
    if let Some(value) = parse_decimal_with_unit(&text) {
        return Some(value);
    }
    let mut total: u64 = 0;
    let mut section: u64 = 0;
    let mut number: u64 = 0;
    let mut digits_run = 0usize;
    let mut saw_any = false;
    for c in text.chars() {
        if let Some(d) = digit(c) {
            // A run of positional digits (2000, 二〇一九) reads as a place-value number.
            number = if digits_run > 0 {
                number.checked_mul(10)?.checked_add(d)?
            } else {
                d
            };
            digits_run += 1;
            saw_any = true;
        } else if let Some(unit) = small_unit(c) {
            // 十 alone at the start means 10 (十五 = 15).
            let n = if digits_run == 0 && number == 0 {
                1
            } else {
                number
            };
            section = section.checked_add(n.checked_mul(unit)?)?;
            number = 0;
            digits_run = 0;
            saw_any = true;
        } else if c == '万' || c == '亿' {
            let n = section.checked_add(number)?;
            let n = if n == 0 && !saw_any { 1 } else { n };
            // 万 scales the section before it; 亿 scales everything before it (一亿二千万).
            total = if c == '万' {
                total.checked_add(n.checked_mul(10_000)?)?
            } else {
                total.checked_add(n)?.checked_mul(100_000_000)?
            };
            section = 0;
            number = 0;
            digits_run = 0;
            saw_any = true;
        } else {
            return None;
        }
    }
    if !saw_any {
        return None;
    }
    total.checked_add(section)?.checked_add(number)
}

/// `1.5万`, `0.6万`, `244.75万`: a decimal in Arabic numerals times 万 or 亿.
fn parse_decimal_with_unit(text: &str) -> Option<u64> {
    let (number, unit) = if let Some(n) = text.strip_suffix('万') {
        (n, 10_000u64)
    } else if let Some(n) = text.strip_suffix('亿') {
        (n, 100_000_000u64)
    } else {
        (text, 1u64)
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let ascii = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !ascii(whole) || !(fraction.is_empty() || ascii(fraction)) {
        return None;
    }
    let mut value = whole.parse::<u64>().ok()?.checked_mul(unit)?;
    let mut scale = unit;
    for b in fraction.bytes() {
        scale /= 10;
        value = value.checked_add(u64::from(b - b'0').checked_mul(scale)?)?;
    }
    Some(value)
}

/// Number characters a judgment uses for terms and amounts, for building patterns.
pub const NUMBER_CHARS: &str = "零〇○一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟0-9";

static TERM: LazyLock<Regex> = LazyLock::new(|| {
    let n = format!("[{NUMBER_CHARS}]+");
    #[expect(clippy::unwrap_used, reason = "constant pattern, covered by tests")]
    Regex::new(&format!(
        "^(?:(?P<y>{n})年(?:又|零)?)?(?:(?P<m>{n})个?月月?)?(?:(?P<d>{n})[天日])?"
    ))
    .unwrap()
});

/// A term at the start of `text`: 一年六个月 → 18, 一年又六个月 → 18, 三个月 → 3, 二年 → 24.
/// Days are dropped (拘役一个月十天 → 1), as the record-facts format counts whole months.
/// Returns the months, the length in bytes of the text read, and whether days were dropped.
pub fn parse_term_prefix(text: &str) -> Option<Term> {
    let caps = TERM.captures(text)?;
    let whole = caps.get(0)?;
    let years = match caps.name("y") {
        Some(y) => parse_number(y.as_str())?,
        None => 0,
    };
    let months = match caps.name("m") {
        Some(m) => parse_number(m.as_str())?,
        None => 0,
    };
    if caps.name("y").is_none() && caps.name("m").is_none() {
        return None;
    }
    let total = years.checked_mul(12)?.checked_add(months)?;
    Some(Term {
        months: u32::try_from(total).ok()?,
        len: whole.end(),
        days_dropped: caps.name("d").is_some(),
    })
}

/// A term read from a judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub months: u32,
    /// Bytes of the text that the term spans.
    pub len: usize,
    /// Whether a number of days followed and was not counted.
    pub days_dropped: bool,
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "constant pattern, covered by tests")]
    Regex::new(
        "(?P<y>[〇○ОＯoO零一二三四五六七八九0-9]{4})\\s*年\\s*(?P<m>[一二三四五六七八九十0-9]{1,3})\\s*月\\s*(?P<d>[一二三四五六七八九十0-9]{1,3})\\s*日",
    )
    .unwrap()
});

/// The first date in `text` written as 二〇一九年五月十日 or 2019年5月10日, with its byte range.
pub fn find_date(text: &str) -> Option<(Date, std::ops::Range<usize>)> {
    DATE.captures_iter(text).find_map(|caps| {
        let whole = caps.get(0)?;
        let year = i16::try_from(parse_number(caps.name("y")?.as_str())?).ok()?;
        let month = i8::try_from(parse_number(caps.name("m")?.as_str())?).ok()?;
        let day = i8::try_from(parse_number(caps.name("d")?.as_str())?).ok()?;
        let date = Date::new(year, month, day).ok()?;
        Some((date, whole.range()))
    })
}

static LOOSE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "constant pattern, covered by tests")]
    Regex::new(
        "(?P<y>[〇○ОΟＯoO零一二三四五六七八九0-9]{4,6})\\s*年\\s*(?P<m>[一二三四五六七八九十0-9]{1,3})\\s*月\\s*(?P<d>[一二三四五六七八九十0-9]{1,3})",
    )
    .unwrap()
});

/// A date typed with a slip (二○一七年十一月七无, 二Ο二Ο一七年…): the day's 日 missing or the
/// year's digits repeated. Only the last four year digits count. For flagged use only.
pub fn find_date_loose(text: &str) -> Option<Date> {
    LOOSE_DATE.captures_iter(text).find_map(|caps| {
        let year: String = caps.name("y")?.as_str().chars().rev().take(4).collect();
        let year: String = year.chars().rev().collect();
        let year = i16::try_from(parse_number(&year)?).ok()?;
        let month = i8::try_from(parse_number(caps.name("m")?.as_str())?).ok()?;
        let day = i8::try_from(parse_number(caps.name("d")?.as_str())?).ok()?;
        Date::new(year, month, day).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_judgments_write_them() {
        let table: &[(&str, u64)] = &[
            ("五千", 5_000),
            ("5000", 5_000),
            ("2，000", 2_000),
            ("二万二千", 22_000),
            ("三万", 30_000),
            ("3万", 30_000),
            ("1.5万", 15_000),
            ("0.6万", 6_000),
            ("244.75万", 2_447_500),
            ("壹仟", 1_000),
            ("叁万", 30_000),
            ("十", 10),
            ("十五", 15),
            ("一百零五", 105),
            ("一万零一十五", 10_015),
            ("二十万", 200_000),
            ("一千五百", 1_500),
            ("两千", 2_000),
            ("二〇一九", 2_019),
            ("二○一八", 2_018),
            ("11000", 11_000),
        ];
        for (text, value) in table {
            assert_eq!(parse_number(text), Some(*value), "{text}");
        }
        for text in ["", "元", "一二三a", "万万"] {
            assert_ne!(parse_number(text), Some(1), "{text}");
        }
        assert_eq!(parse_number("元"), None);
    }

    #[test]
    fn terms_as_judgments_write_them() {
        let table: &[(&str, u32, bool)] = &[
            ("一年六个月", 18, false),
            ("一年又六个月", 18, false),
            ("一年零六个月", 18, false),
            ("一年六个月月", 18, false),
            ("三个月", 3, false),
            ("六个月", 6, false),
            ("二年", 24, false),
            ("十五年", 180, false),
            ("十年三个月", 123, false),
            ("一个月十天", 1, true),
            ("1年6个月", 18, false),
            ("两年", 24, false),
        ];
        for (text, months, days) in table {
            let term = parse_term_prefix(text).unwrap();
            assert_eq!((term.months, term.days_dropped), (*months, *days), "{text}");
        }
        assert!(parse_term_prefix("，并处罚金").is_none());
        // The term stops where the text stops being a term.
        let term = parse_term_prefix("一年，缓刑二年").unwrap();
        assert_eq!(&"一年，缓刑二年"[..term.len], "一年");
    }

    #[test]
    fn dates_in_both_scripts() {
        let table = [
            ("二〇一九年五月十日", (2019, 5, 10)),
            ("二○一八年五月十九日", (2018, 5, 19)),
            ("二〇一七年六月二十八日", (2017, 6, 28)),
            ("二〇二〇年十二月三十一日", (2020, 12, 31)),
            ("2017年7月5日", (2017, 7, 5)),
        ];
        for (text, (y, m, d)) in table {
            let (date, range) = find_date(&format!("审判员某 {text} 书记员")).unwrap();
            assert_eq!(date, Date::new(y, m, d).unwrap(), "{text}");
            assert_eq!(range.len(), text.len());
        }
        assert!(find_date("二〇一九年二月三十日").is_none());
        assert!(find_date("二○一七年十一月七无").is_none());
        assert_eq!(
            find_date_loose("审判员某 二○一七年十一月七无 书记员"),
            Some(Date::new(2017, 11, 7).unwrap())
        );
        assert_eq!(
            find_date_loose("二Ο二Ο一七年二月二十三日"),
            Some(Date::new(2017, 2, 23).unwrap())
        );
        assert_eq!(find_date_loose("二〇一五年四月××日"), None);
    }
}
