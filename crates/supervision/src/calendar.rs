//! Days, weeks, months and working hours in China time (UTC+8), on whole seconds since the epoch.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::rules::RuleError;

const OFFSET: i64 = 8 * 3600;
const DAY: i64 = 86_400;

/// The day number (days since 1970-01-01, China time) of a time.
pub fn day_of(at: i64) -> i64 {
    (at + OFFSET).div_euclid(DAY)
}

/// The first second of a day (China time).
pub fn day_start(day: i64) -> i64 {
    day * DAY - OFFSET
}

/// Minutes since midnight (China time).
pub fn minute_of_day(at: i64) -> u32 {
    ((at + OFFSET).rem_euclid(DAY) / 60) as u32
}

/// 0 for Monday … 6 for Sunday.
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The week (Monday to Sunday) a day is in.
pub fn week_of(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The first day of a week.
pub fn week_start(week: i64) -> i64 {
    week * 7 - 3
}

/// The civil date of a day number.
pub fn date_of(day: i64) -> jiff::civil::Date {
    jiff::civil::Date::constant(1970, 1, 1)
        .checked_add(jiff::SignedDuration::from_hours(24 * day))
        .unwrap_or(jiff::civil::Date::MAX)
}

/// The day number of a civil date.
pub fn day_number(date: jiff::civil::Date) -> i64 {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second().div_euclid(DAY))
        .unwrap_or(i64::MAX)
}

/// A month as `year * 12 + month - 1`.
pub fn month_of(day: i64) -> i64 {
    let date = date_of(day);
    i64::from(date.year()) * 12 + i64::from(date.month()) - 1
}

/// The first day of a month.
pub fn month_start(month: i64) -> i64 {
    let year = month.div_euclid(12) as i16;
    let m = (month.rem_euclid(12) + 1) as i8;
    jiff::civil::Date::new(year, m, 1).map_or(i64::MAX, day_number)
}

/// Working hours and the days that are (not) working days: calendar.toml.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Calendar {
    /// Minutes since midnight: [start, end).
    hours: (u32, u32),
    agencies: HashMap<String, (u32, u32)>,
    holidays: HashSet<i64>,
    workdays: HashSet<i64>,
    /// Each year listed, with its source.
    pub sources: Vec<(i16, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    working_hours: Hours,
    #[serde(default)]
    agency: Vec<AgencyHours>,
    #[serde(default)]
    year: Vec<Year>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hours {
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyHours {
    code: String,
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Year {
    year: i16,
    source: String,
    holidays: Vec<String>,
    workdays: Vec<String>,
}

fn minutes(file: &str, field: &str, text: &str) -> Result<u32, RuleError> {
    let bad = || {
        RuleError::new(
            file,
            format!("{field}: `{text}` is not a time HH:MM (00:00 to 24:00)"),
        )
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h * 60 + m > 24 * 60 || h.to_string().len() > 2 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn span(file: &str, field: &str, start: &str, end: &str) -> Result<(u32, u32), RuleError> {
    let (s, e) = (minutes(file, field, start)?, minutes(file, field, end)?);
    if s >= e {
        return Err(RuleError::new(
            file,
            format!("{field}: start {start} is not before end {end}"),
        ));
    }
    Ok((s, e))
}

fn days(file: &str, field: &str, text: &str, year: i16) -> Result<Vec<i64>, RuleError> {
    let date = |t: &str| {
        t.trim()
            .parse::<jiff::civil::Date>()
            .map_err(|_| RuleError::new(file, format!("{field}: `{t}` is not a date YYYY-MM-DD")))
            .and_then(|d| {
                if d.year() == year {
                    Ok(d)
                } else {
                    Err(RuleError::new(
                        file,
                        format!("{field}: {d} is not in {year}"),
                    ))
                }
            })
    };
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (date(a)?, date(b)?),
        None => (date(text)?, date(text)?),
    };
    if a > b {
        return Err(RuleError::new(
            file,
            format!("{field}: the range `{text}` ends before it starts"),
        ));
    }
    Ok((day_number(a)..=day_number(b)).collect())
}

impl Calendar {
    /// Reads calendar.toml; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Calendar, RuleError> {
        let parsed: CalendarFile =
            toml::from_str(text).map_err(|e| RuleError::new(file, e.to_string()))?;
        let hours = span(
            file,
            "working_hours",
            &parsed.working_hours.start,
            &parsed.working_hours.end,
        )?;
        let mut agencies = HashMap::new();
        for a in &parsed.agency {
            agencies.insert(
                a.code.clone(),
                span(file, &format!("agency {}", a.code), &a.start, &a.end)?,
            );
        }
        let (mut holidays, mut workdays, mut sources) =
            (HashSet::new(), HashSet::new(), Vec::new());
        for y in &parsed.year {
            for h in &y.holidays {
                holidays.extend(days(file, &format!("year {} holidays", y.year), h, y.year)?);
            }
            for w in &y.workdays {
                for day in days(file, &format!("year {} workdays", y.year), w, y.year)? {
                    if weekday(day) < 5 {
                        return Err(RuleError::new(
                            file,
                            format!(
                                "year {} workdays: {} is a weekday already",
                                y.year,
                                date_of(day)
                            ),
                        ));
                    }
                    workdays.insert(day);
                }
            }
            sources.push((y.year, y.source.clone()));
        }
        Ok(Calendar {
            hours,
            agencies,
            holidays,
            workdays,
            sources,
        })
    }

    /// Whether a day is a working day: not a holiday, and a weekday or an adjusted working day.
    pub fn working_day(&self, day: i64) -> bool {
        !self.holidays.contains(&day) && (weekday(day) < 5 || self.workdays.contains(&day))
    }

    /// Whether a time is outside the agency's working hours or on a day that is not a working day.
    pub fn off_hours(&self, at: i64, agency: Option<&str>) -> bool {
        let (start, end) = agency
            .and_then(|a| self.agencies.get(a))
            .copied()
            .unwrap_or(self.hours);
        if start == 0 && end == 24 * 60 {
            return false;
        }
        let minute = minute_of_day(at);
        !self.working_day(day_of(at)) || minute < start || minute >= end
    }

    /// Whether a day is a listed public holiday.
    pub fn holiday(&self, day: i64) -> bool {
        self.holidays.contains(&day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>()
            .map(|t| t.as_second())
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn days_weeks_and_months_are_china_time() {
        // 2025-01-01 00:30 in Beijing is 2024-12-31 16:30 UTC.
        let day = day_of(at("2024-12-31T16:30:00Z"));
        assert_eq!(date_of(day).to_string(), "2025-01-01");
        assert_eq!(minute_of_day(at("2024-12-31T16:30:00Z")), 30);
        assert_eq!(weekday(day), 2, "2025-01-01 was a Wednesday");
        assert_eq!(date_of(week_start(week_of(day))).to_string(), "2024-12-30");
        assert_eq!(
            date_of(month_start(month_of(day) + 1)).to_string(),
            "2025-02-01"
        );
        assert_eq!(day_start(day), at("2024-12-31T16:00:00Z"));
    }

    #[test]
    fn shipped_calendar_knows_the_2025_spring_festival() {
        let cal = Calendar::from_toml("calendar.toml", crate::rules::CALENDAR)
            .unwrap_or_else(|e| panic!("{e}"));
        let d = |s: &str| day_number(s.parse().unwrap_or(jiff::civil::Date::MIN));
        assert!(!cal.working_day(d("2025-01-29")), "春节");
        assert!(
            cal.working_day(d("2025-01-26")),
            "a Sunday made a working day"
        );
        assert!(!cal.working_day(d("2025-01-25")), "a plain Saturday");
        assert!(cal.working_day(d("2025-01-27")));
        // 10:00 Beijing on a working day is working time; 20:00 is not.
        assert!(!cal.off_hours(at("2025-01-27T02:00:00Z"), None));
        assert!(cal.off_hours(at("2025-01-27T12:00:00Z"), None));
    }

    #[test]
    fn a_bad_calendar_names_the_field() {
        let bad = "[working_hours]\nstart = \"08:00\"\nend = \"25:00\"\n";
        let err = Calendar::from_toml("c.toml", bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("c.toml") && err.contains("working_hours") && err.contains("25:00"),
            "{err}"
        );
        let bad = "[working_hours]\nstart = \"08:00\"\nend = \"18:00\"\n[[year]]\nyear = 2025\nsource = \"x\"\nholidays = [\"2025-02-30\"]\nworkdays = []\n";
        let err = Calendar::from_toml("c.toml", bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("year 2025 holidays") && err.contains("2025-02-30"),
            "{err}"
        );
    }
}
