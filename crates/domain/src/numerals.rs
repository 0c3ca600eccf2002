//! Chinese numerals as legal documents write terms and amounts: 一年六个月, 拘役三个月, 二年.

/// A non-negative integer in Chinese numerals (一, 十二, 一百零五, 三千, 一万二千).
pub fn chinese_number(n: u64) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    if (10..20).contains(&n) {
        // 十, 十一 … 十九: the leading 一 is not written.
        return format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        );
    }
    if n >= 100_000_000 {
        return format!(
            "{}亿{}",
            chinese_number(n / 100_000_000),
            tail(n % 100_000_000, 10_000_000)
        );
    }
    if n >= 10_000 {
        return format!(
            "{}万{}",
            chinese_number(n / 10_000),
            tail(n % 10_000, 1_000)
        );
    }
    let units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")];
    let mut out = String::new();
    let mut pending_zero = false;
    for (unit, name) in units {
        let digit = (n / unit) % 10;
        if digit == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        if pending_zero {
            out.push_str(DIGITS[0]);
            pending_zero = false;
        }
        out.push_str(DIGITS[digit as usize]);
        out.push_str(name);
    }
    out
}

/// The part after 万 or 亿: a zero is written when the next group does not start at its top digit.
fn tail(rest: u64, top: u64) -> String {
    if rest == 0 {
        String::new()
    } else if rest < top {
        format!("零{}", small_with_ten(rest))
    } else {
        chinese_number(rest)
    }
}

/// Inside a larger number, 10–19 keep their 一 (一万零一十五).
fn small_with_ten(n: u64) -> String {
    if (10..20).contains(&n) {
        format!("一{}", chinese_number(n))
    } else {
        chinese_number(n)
    }
}

/// A term in months the way a judgment writes it: 六个月, 一年, 一年六个月.
pub fn chinese_term(months: u32) -> String {
    let (years, rest) = (months / 12, months % 12);
    match (years, rest) {
        (0, m) => format!("{}个月", chinese_number(u64::from(m))),
        (y, 0) => format!("{}年", chinese_number(u64::from(y))),
        (y, m) => format!(
            "{}年{}个月",
            chinese_number(u64::from(y)),
            chinese_number(u64::from(m))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let table = [
            (0, "零"),
            (1, "一"),
            (2, "二"),
            (10, "十"),
            (11, "十一"),
            (20, "二十"),
            (25, "二十五"),
            (100, "一百"),
            (105, "一百零五"),
            (110, "一百一十"),
            (3000, "三千"),
            (3005, "三千零五"),
            (5000, "五千"),
            (10_000, "一万"),
            (12_000, "一万二千"),
            (10_015, "一万零一十五"),
            (100_000, "十万"),
            (300_000, "三十万"),
            (1_000_000, "一百万"),
        ];
        for (n, text) in table {
            assert_eq!(chinese_number(n), text, "{n}");
        }
    }

    #[test]
    fn terms() {
        assert_eq!(chinese_term(3), "三个月");
        assert_eq!(chinese_term(12), "一年");
        assert_eq!(chinese_term(18), "一年六个月");
        assert_eq!(chinese_term(24), "二年");
        assert_eq!(chinese_term(300), "二十五年");
    }
}
