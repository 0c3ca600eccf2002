//! Calendar dates as day numbers, with the few operations the generator needs. Integer arithmetic
//! only, so the output is the same on every platform.

/// Days since 1970-01-01 (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub i32);

impl Day {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Day {
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    pub fn plus(self, days: i32) -> Day {
        Day(self.0 + days)
    }

    /// Adds calendar months, clamping to the end of a shorter month (as courts count terms).
    pub fn plus_months(self, months: u32) -> Day {
        let (y, m, d) = self.ymd();
        let total = y * 12 + (m as i32 - 1) + months as i32;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        Day::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))
    }

    /// Writes `YYYY-MM-DD`.
    pub fn write(self, out: &mut Vec<u8>) {
        let (y, m, d) = self.ymd();
        let y = y.clamp(0, 9999) as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (d / 10) as u8,
            b'0' + (d % 10) as u8,
        ]);
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Age in full years, counted from the day after the birthday (法释〔2006〕1号 art. 2), as the
/// domain counts it.
pub fn age(birth: Day, on: Day) -> i32 {
    let (by, bm, bd) = birth.ymd();
    let (oy, om, od) = on.ymd();
    let mut years = oy - by;
    if (om, od) <= (bm, bd) {
        years -= 1;
    }
    years.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_month_arithmetic() {
        for n in [-1000, 0, 1, 59, 60, 10_957, 19_782, 20_089, 40_000] {
            let (y, m, d) = Day(n).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Day(n));
        }
        assert_eq!(Day::from_ymd(1970, 1, 1), Day(0));
        assert_eq!(
            Day::from_ymd(2024, 1, 31).plus_months(1),
            Day::from_ymd(2024, 2, 29)
        );
        assert_eq!(
            Day::from_ymd(2024, 11, 30).plus_months(3),
            Day::from_ymd(2025, 2, 28)
        );
        let mut out = Vec::new();
        Day::from_ymd(2024, 3, 1).write(&mut out);
        assert_eq!(out, b"2024-03-01");
        assert_eq!(
            age(Day::from_ymd(2006, 5, 10), Day::from_ymd(2024, 5, 10)),
            17
        );
        assert_eq!(
            age(Day::from_ymd(2006, 5, 10), Day::from_ymd(2024, 5, 11)),
            18
        );
    }
}
