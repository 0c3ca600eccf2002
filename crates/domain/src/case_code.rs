//! The nationwide case code (一案一码).
//!
//! No statute fixes its shape yet; fengcun uses `RRRRRR-YYYY-NNNNNN`: the six-digit administrative
//! region of the agency that filed the case, the filing year, and a serial of six to ten digits.

use std::fmt;

use crate::error::FactError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseCode(String);

impl CaseCode {
    pub fn parse(text: &str) -> Result<Self, FactError> {
        let parts: Vec<&str> = text.split('-').collect();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let ok = matches!(parts.as_slice(), [region, year, serial]
            if region.len() == 6 && digits(region)
            && year.len() == 4 && digits(year) && ("1950"..="2199").contains(year)
            && (6..=10).contains(&serial.len()) && digits(serial));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(FactError::CaseCode(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_region_year_serial() {
        assert_eq!(
            CaseCode::parse("110105-2024-000123").unwrap().as_str(),
            "110105-2024-000123"
        );
        assert!(CaseCode::parse("110105-2024-0001230001").is_ok());
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "110105-2024",
            "11010-2024-000123",
            "110105-24-000123",
            "110105-2024-00012",
            "110105-2024-00012X",
            "(2024)京0105刑初123号",
            "110105-1900-000123",
        ] {
            assert!(CaseCode::parse(bad).is_err(), "{bad}");
        }
    }
}
