//! Calendar dates (China's civil calendar; no time zone needed for legal dates).

pub use jiff::civil::Date;

use crate::error::FactError;

/// Parses a strict `YYYY-MM-DD` date, the only form the interchange formats use.
pub fn parse_date(text: &str) -> Result<Date, FactError> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !well_formed {
        return Err(FactError::DateFormat(text.to_owned()));
    }
    let number = |range: std::ops::Range<usize>| -> i32 {
        bytes[range]
            .iter()
            .fold(0, |acc, b| acc * 10 + i32::from(b - b'0'))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let year = i16::try_from(year).map_err(|_| FactError::DateFormat(text.to_owned()))?;
    let month = i8::try_from(month).map_err(|_| FactError::DateFormat(text.to_owned()))?;
    let day = i8::try_from(day).map_err(|_| FactError::DateFormat(text.to_owned()))?;
    Date::new(year, month, day).map_err(|_| FactError::DateImpossible(text.to_owned()))
}

/// Adds whole years, months and days, clamping to the end of a shorter month
/// (2024-02-29 plus one year is 2025-02-28), as Chinese courts count terms.
pub fn add_period(date: Date, years: i16, months: i16, days: i32) -> Option<Date> {
    // Most sealing dates are the anchor itself; general span arithmetic is far dearer than this test.
    if years == 0 && months == 0 && days == 0 {
        return Some(date);
    }
    let span = jiff::Span::new()
        .try_years(years)
        .ok()?
        .try_months(months)
        .ok()?
        .try_days(days)
        .ok()?;
    date.checked_add(span).ok()
}

/// The date in China (UTC+8) at `now`: the date legal effects and certificates are dated with.
pub fn china_date(now: jiff::Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)))
        .date()
}

/// `2024年3月1日`, the way dates are written in Chinese legal documents.
pub fn chinese_date(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strict_iso_dates() {
        assert_eq!(
            parse_date("2024-03-01").unwrap(),
            Date::constant(2024, 3, 1)
        );
        for bad in ["2024-3-01", "2024/03/01", "20240301", "2024-03-01T00", ""] {
            assert!(
                matches!(parse_date(bad), Err(FactError::DateFormat(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_date("2023-02-29"),
            Err(FactError::DateImpossible(_))
        ));
        assert!(parse_date("2024-02-29").is_ok());
    }

    #[test]
    fn adding_a_year_to_a_leap_day_clamps() {
        let leap = Date::constant(2024, 2, 29);
        assert_eq!(add_period(leap, 1, 0, 0), Some(Date::constant(2025, 2, 28)));
        assert_eq!(
            add_period(leap, 0, 24, 0),
            Some(Date::constant(2026, 2, 28))
        );
    }
}
