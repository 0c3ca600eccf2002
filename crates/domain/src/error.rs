//! The domain layer's one error enum, and the field it is about.

use std::fmt;

use crate::sentence::SentenceError;

/// What is wrong with one fact. The message names the rule of law where one applies, so that a
/// clerk can correct the source data rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("{0}")]
    Shape(String),
    #[error("`{0}` is not a date of the form YYYY-MM-DD")]
    DateFormat(String),
    #[error("`{0}` is not a day of the calendar")]
    DateImpossible(String),
    #[error("identity number {0}")]
    IdNumber(#[from] crate::id_number::IdNumberError),
    #[error("case code `{0}` is not of the form RRRRRR-YYYY-NNNNNN (region, year, serial)")]
    CaseCode(String),
    #[error("unknown charge `{0}`: not in the charge catalogue (data/charges.tsv)")]
    UnknownCharge(String),
    #[error("{charge} is article {expected} of the Criminal Law, not {given}")]
    ArticleMismatch {
        charge: String,
        expected: String,
        given: String,
    },
    #[error("unknown {what} `{given}`; expected one of: {expected}")]
    UnknownValue {
        what: &'static str,
        given: String,
        expected: &'static str,
    },
    #[error("required {0}")]
    Required(&'static str),
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error(transparent)]
    Sentence(#[from] SentenceError),
    #[error("{date} is after today ({today}, China time): an event records what has happened")]
    Future { date: String, today: String },
    #[error("{later} ({later_date}) is before {earlier} ({earlier_date})")]
    DateOrder {
        earlier: &'static str,
        earlier_date: String,
        later: &'static str,
        later_date: String,
    },
    #[error("birth date {given} contradicts the identity number, which says {from_id}")]
    BirthDateMismatch { given: String, from_id: String },
}

/// Why a line is not JSON, in the words of its own line: serde's `at line 2 column 0` counts the
/// line's own newline, which a clerk reads as the file's next line. A line that is not UTF-8 is
/// named as such (an export saved as GBK is the usual cause), a line that ends inside a value as
/// cut off, any other syntax error with its column. The field path is dropped for these: the
/// parser's position inside a broken line names no field the sender wrote wrong.
pub(crate) fn json_syntax_error(line: &[u8], error: &serde_json::Error) -> FieldError {
    if let Err(bad) = std::str::from_utf8(line) {
        return FieldError::new(
            "",
            FactError::Json(format!(
                "the line is not UTF-8 (byte {} of the line): events are read as UTF-8; a file \
                 saved as GBK or GB18030 must be converted first, e.g. `iconv -f GB18030 -t UTF-8`",
                bad.valid_up_to() + 1
            )),
        );
    }
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let content = line.strip_suffix(b"\n").unwrap_or(line);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    // A body of several lines (one event POSTed, pretty-printed): serde's line and column are
    // the reader's own.
    if content.contains(&b'\n') {
        let detail = if error.is_eof() {
            format!("the body ends before its JSON does — is it cut off? ({message})")
        } else {
            text.clone()
        };
        return FieldError::new("", FactError::Json(detail));
    }
    let cut_off = error.is_eof() || error.line() > 1 || error.column() > content.len();
    let detail = if cut_off {
        format!("the line ends before its JSON does — is it cut off? ({message})")
    } else {
        format!("{message} at column {}", error.column())
    };
    FieldError::new("", FactError::Json(detail))
}

/// A fact error located at a field path such as `sentence.months` or `charges[1].name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub error: FactError,
}

impl FieldError {
    pub fn new(field: impl Into<String>, error: impl Into<FactError>) -> Self {
        Self {
            field: field.into(),
            error: error.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "field `{}`: {}", self.field, self.error)
        }
    }
}

impl std::error::Error for FieldError {}
