//! Resident identity number (公民身份号码), GB 11643-1999.
//!
//! 18 characters: a 6-digit administrative region code, an 8-digit birth date, a 3-digit sequence
//! (odd for men, even for women) and a check character computed with ISO 7064 MOD 11-2.

use std::fmt;

use jiff::civil::Date;

/// Why a string is not a resident identity number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must have 18 characters, has {0}")]
    Length(usize),
    /// 18 characters, one of them not ASCII: full-width digits (`１`) or a full-width `Ｘ`.
    #[error(
        "character {position} is `{given}`: write digits as ASCII 0–9 and the check character as X (full-width characters are not allowed)"
    )]
    NotAscii { position: usize, given: char },
    #[error("characters 1–17 must be digits")]
    NotDigits,
    #[error("characters 7–14 must be a birth date, `{0}` is not")]
    BirthDate(String),
    #[error("check character is `{given}`, GB 11643 requires `{expected}`")]
    CheckCharacter { given: char, expected: char },
}

/// A resident identity number whose check character is right.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber([u8; 18]);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";

/// The ISO 7064 MOD 11-2 check character of the first 17 digits.
pub fn check_character(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    char::from(CHECK_CHARACTERS[(sum % 11) as usize])
}

/// The whole number for 17 digits (the check character appended); `None` unless they are 17 ASCII
/// digits. For those who make numbers: generators, benchmarks, tests.
pub fn with_check_character(first17: &str) -> Option<String> {
    let digits: &[u8; 17] = first17.as_bytes().try_into().ok()?;
    digits
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| format!("{first17}{}", check_character(digits)))
}

impl IdNumber {
    pub fn parse(text: &str) -> Result<Self, IdNumberError> {
        let bytes = text.as_bytes();
        let chars = text.chars().count();
        if chars != 18 {
            return Err(IdNumberError::Length(chars));
        }
        if let Some((index, given)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(IdNumberError::NotAscii {
                position: index + 1,
                given,
            });
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&bytes[..17]);
        if !first17.iter().all(u8::is_ascii_digit) {
            return Err(IdNumberError::NotDigits);
        }
        let birth = &text[6..14];
        if birth_date_of(&first17).is_none() {
            return Err(IdNumberError::BirthDate(birth.to_owned()));
        }
        let expected = check_character(&first17);
        let given = char::from(bytes[17]).to_ascii_uppercase();
        if given != expected {
            return Err(IdNumberError::CheckCharacter { given, expected });
        }
        let mut all = [0u8; 18];
        all[..17].copy_from_slice(&first17);
        all[17] = expected as u8;
        Ok(Self(all))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and `X` are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&self.0[..17]);
        // Validated in `parse`.
        birth_date_of(&first17).unwrap_or(Date::MIN)
    }

    /// The administrative region code of registration (characters 1–6).
    pub fn region(&self) -> &str {
        &self.as_str()[..6]
    }
}

fn birth_date_of(first17: &[u8; 17]) -> Option<Date> {
    let number = |range: std::ops::Range<usize>| -> i32 {
        first17[range]
            .iter()
            .fold(0, |acc, b| acc * 10 + i32::from(b - b'0'))
    };
    let year = i16::try_from(number(6..10)).ok()?;
    let month = i8::try_from(number(10..12)).ok()?;
    let day = i8::try_from(number(12..14)).ok()?;
    if year < 1850 {
        return None;
    }
    Date::new(year, month, day).ok()
}

impl fmt::Debug for IdNumber {
    // Identity numbers are personal data: debug output shows the region and masks the rest,
    // so that a stray `{:?}` in a log does not leak a person.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({}************)", self.region())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_standards_example_and_formats_example() {
        // GB 11643-1999 appendix example.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), Date::constant(1949, 12, 31));
        assert_eq!(id.region(), "110105");
        // FORMATS.md example.
        assert!(IdNumber::parse("110105199003070025").is_ok());
    }

    #[test]
    fn numbers_are_completed_with_their_check_character() {
        // GB 11643-1999 appendix example, and a number whose check character is a digit.
        assert_eq!(
            with_check_character("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            with_check_character("11010519900307002").as_deref(),
            Some("110105199003070025")
        );
        assert_eq!(with_check_character("1101051949123100"), None);
        assert_eq!(with_check_character("1101051949123100A"), None);
    }

    #[test]
    fn lower_case_x_is_normalised() {
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn rejects_wrong_inputs_with_the_reason() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckCharacter {
                given: '1',
                expected: 'X'
            })
        );
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::Length(16))
        );
        assert_eq!(
            IdNumber::parse("11010519491231A02X"),
            Err(IdNumberError::NotDigits)
        );
        assert!(matches!(
            IdNumber::parse("110105194913310020"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(matches!(
            IdNumber::parse("张三张三张三张三张三张三张三张三张三张"),
            Err(IdNumberError::Length(_))
        ));
    }

    /// Full-width digits are 18 characters but 54 bytes: the message once said "must have 18
    /// characters, has 18".
    #[test]
    fn full_width_digits_are_refused_as_such() {
        let error = IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap_err();
        assert_eq!(
            error,
            IdNumberError::NotAscii {
                position: 1,
                given: '１'
            }
        );
        assert_eq!(
            error.to_string(),
            "character 1 is `１`: write digits as ASCII 0–9 and the check character as X (full-width characters are not allowed)"
        );
        assert_eq!(
            IdNumber::parse("11010519491231002Ｘ"),
            Err(IdNumberError::NotAscii {
                position: 18,
                given: 'Ｘ'
            })
        );
    }

    #[test]
    fn debug_output_masks_the_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let shown = format!("{id:?}");
        assert!(!shown.contains("19491231"), "{shown}");
    }

    proptest! {
        #[test]
        fn exactly_one_check_character_is_accepted(
            region in 110000u32..660000, days in 0i32..40_000, seq in 0u32..1000
        ) {
            let birth = Date::constant(1920, 1, 1).checked_add(jiff::Span::new().days(days)).unwrap();
            let body = format!("{region:06}{:04}{:02}{:02}{seq:03}", birth.year(), birth.month(), birth.day());
            let mut accepted = 0;
            for check in "0123456789X".chars() {
                if let Ok(id) = IdNumber::parse(&format!("{body}{check}")) {
                    accepted += 1;
                    prop_assert_eq!(id.birth_date(), birth);
                }
            }
            prop_assert_eq!(accepted, 1);
        }

        #[test]
        fn any_single_digit_change_is_caught(pos in 0usize..17, delta in 1u8..10) {
            let good = "11010519491231002X";
            let mut bytes = good.as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&changed).is_err());
        }
    }
}
