//! Reading criminal judgments (刑事判决书): the facts a sealing decision needs, one record-facts
//! line per convicted person (FORMATS.md), and redaction for publication (SPC 2016 rules).
//!
//! Pure: the functions take `&str` and return values; reading files is the CLI's business.
//! See `docs/judgments.md` for the formats, flags and rules.

pub mod document;
pub mod error;
pub mod extract;
pub mod numerals;
pub mod punishment;
pub mod record;
pub mod redact;

pub use document::Instance;
pub use error::JudgmentError;
pub use extract::{Defendant, Extraction, Flag, extract};
pub use punishment::Punishment;
pub use record::{Written, write};
pub use redact::{Category, Redacted, Replacement, redact};

use fengcun_domain::Catalogue;

/// Reads one judgment and writes its lines: the usual path from text to record facts.
pub fn extract_lines(document: &str, text: &str, catalogue: &Catalogue) -> Written {
    match extract(document, text, catalogue) {
        Ok(extraction) => write(document, &extraction, catalogue),
        Err(error) => Written {
            failures: vec![error],
            ..Written::default()
        },
    }
}
