//! Age in full years (周岁).

use jiff::civil::Date;

/// Age in full years on `on`, counted from the day after the birthday, as the Supreme People's
/// Court's interpretation on juvenile cases (法释〔2006〕1号 art. 2) requires: a person born on
/// 2006-05-10 is still 17 on 2024-05-10 and 18 from 2024-05-11.
///
/// Returns `None` when `on` is before the birth date.
pub fn age_in_full_years(birth: Date, on: Date) -> Option<u32> {
    if on < birth {
        return None;
    }
    let mut years = i32::from(on.year()) - i32::from(birth.year());
    let birthday_passed = (on.month(), on.day()) > (birth.month(), birth.day());
    if !birthday_passed {
        years -= 1;
    }
    u32::try_from(years.max(0)).ok()
}

/// Age in full years where a person reaches a new age on the birthday itself, as in England and
/// Wales and most common-law systems (a person born on 2006-05-10 is 18 on 2024-05-10).
pub fn age_on_birthday_rule(birth: Date, on: Date) -> Option<u32> {
    if on < birth {
        return None;
    }
    let mut years = i32::from(on.year()) - i32::from(birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years.max(0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::constant(y, m, day)
    }

    #[test]
    fn turns_eighteen_the_day_after_the_birthday() {
        let birth = d(2006, 5, 10);
        assert_eq!(age_in_full_years(birth, d(2024, 5, 9)), Some(17));
        assert_eq!(age_in_full_years(birth, d(2024, 5, 10)), Some(17));
        assert_eq!(age_in_full_years(birth, d(2024, 5, 11)), Some(18));
    }

    #[test]
    fn leap_day_births_turn_a_year_older_on_the_first_of_march() {
        let birth = d(2004, 2, 29);
        assert_eq!(age_in_full_years(birth, d(2022, 2, 28)), Some(17));
        assert_eq!(age_in_full_years(birth, d(2022, 3, 1)), Some(18));
        assert_eq!(age_in_full_years(birth, d(2024, 2, 29)), Some(19));
        assert_eq!(age_in_full_years(birth, d(2024, 3, 1)), Some(20));
    }

    #[test]
    fn the_birthday_rule_counts_the_birthday_itself() {
        let birth = d(2006, 5, 10);
        assert_eq!(age_on_birthday_rule(birth, d(2024, 5, 9)), Some(17));
        assert_eq!(age_on_birthday_rule(birth, d(2024, 5, 10)), Some(18));
    }

    #[test]
    fn day_of_birth_is_age_zero_and_before_birth_is_none() {
        assert_eq!(age_in_full_years(d(2000, 1, 1), d(2000, 1, 1)), Some(0));
        assert_eq!(age_in_full_years(d(2000, 1, 1), d(1999, 12, 31)), None);
    }
}
