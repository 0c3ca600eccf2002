//! Bounds on the free text callers send: every field of requests, decisions, look-ups, grant
//! revocations and certificates that ends up in the audit log, a grant or a signed document is
//! checked here, and a refusal (422) names the field. The table is in docs/disclosure.md
//! ("Limits").
//!
//! Lengths count characters (Unicode scalar values) after surrounding white space is trimmed; the
//! trimmed text is what is kept. No text may hold a control character (only a multi-line text may
//! hold line breaks and tabs) or an invisible formatting character — bidirectional overrides and
//! isolates (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), zero-width characters
//! (U+200B–U+200D, U+2060–U+2064, U+FEFF): they make a text read differently from what it holds.

use crate::service::ServiceError;

/// The bounds of one field.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub field: &'static str,
    pub min: usize,
    pub max: usize,
    /// Whether line breaks and tabs are allowed (a reason may be a paragraph; a name may not).
    pub lines: bool,
}

/// A request's legal basis: the document it is made under (`（2026）京0105刑初88号`).
pub const REQUEST_BASIS: Bound = Bound {
    field: "basis",
    min: 4,
    max: 200,
    lines: false,
};
/// Why the requester needs to see the records.
pub const REQUEST_REASON: Bound = Bound {
    field: "reason",
    min: 4,
    max: 1000,
    lines: true,
};
/// The name of the person a request is about, as the requester gives it.
pub const REQUEST_NAME: Bound = Bound {
    field: "name",
    min: 1,
    max: 50,
    lines: false,
};
/// The vetting post of a request or a look-up (a code of `vetting-posts.toml`).
pub const POST: Bound = Bound {
    field: "post",
    min: 1,
    max: 64,
    lines: false,
};
/// Why an approver approves or refuses.
pub const DECISION_REASON: Bound = Bound {
    field: "reason",
    min: 4,
    max: 1000,
    lines: true,
};
/// The document a look-up is made under (optional; when given, a real one).
pub const LOOKUP_BASIS: Bound = Bound {
    field: "basis",
    min: 4,
    max: 200,
    lines: false,
};
/// Why a grant is revoked before it expires.
pub const REVOCATION_REASON: Bound = Bound {
    field: "reason",
    min: 4,
    max: 1000,
    lines: true,
};
/// The name on a certificate, as on the identity card.
pub const CERTIFICATE_NAME: Bound = Bound {
    field: "name",
    min: 1,
    max: 50,
    lines: false,
};
/// A certificate's declared purpose (`就业`, `入学`, …).
pub const CERTIFICATE_PURPOSE: Bound = Bound {
    field: "purpose",
    min: 2,
    max: 50,
    lines: false,
};

/// Every bound, for the documentation test.
pub const ALL: [(&str, Bound); 9] = [
    ("request", REQUEST_BASIS),
    ("request", REQUEST_REASON),
    ("request", REQUEST_NAME),
    ("request, look-up", POST),
    ("approval, refusal", DECISION_REASON),
    ("look-up", LOOKUP_BASIS),
    ("grant revocation", REVOCATION_REASON),
    ("certificate", CERTIFICATE_NAME),
    ("certificate", CERTIFICATE_PURPOSE),
];

/// The text trimmed, if it is within `bound`; else a 422 naming the field.
pub fn check(bound: Bound, text: &str) -> Result<&str, ServiceError> {
    let Bound {
        field,
        min,
        max,
        lines,
    } = bound;
    let text = text.trim();
    let count = text.chars().count();
    if count < min || count > max {
        return Err(ServiceError::Invalid(format!(
            "{field}: {min} to {max} characters, has {count}"
        )));
    }
    if let Some(c) = text.chars().find(|&c| {
        (c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
            || fengcun_domain::is_invisible_formatting(c)
    }) {
        return Err(ServiceError::Invalid(format!(
            "{field}: holds the control or formatting character U+{:04X}",
            u32::from(c)
        )));
    }
    Ok(text)
}

/// [`check`] for an optional field.
pub fn check_optional(bound: Bound, text: Option<&str>) -> Result<Option<&str>, ServiceError> {
    text.map(|t| check(bound, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_count_characters_of_the_trimmed_text() {
        assert_eq!(check(REQUEST_REASON, "  审理需要 ").ok(), Some("审理需要"));
        assert!(check(REQUEST_REASON, "审理").is_err());
        assert!(check(REQUEST_BASIS, &"案".repeat(200)).is_ok());
        assert!(check(REQUEST_BASIS, &"案".repeat(201)).is_err());
    }

    #[test]
    fn the_documented_table_is_the_one_enforced() {
        let doc = include_str!("../../../docs/disclosure.md");
        for (place, bound) in ALL {
            let row = format!("| {place} | `{}`", bound.field);
            let line = doc
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("docs/disclosure.md has no row {row}"));
            assert!(
                line.contains(&format!("| {}–{}", bound.min, bound.max)),
                "{line}"
            );
        }
    }

    #[test]
    fn controls_and_invisible_characters_are_refused_line_breaks_only_in_paragraphs() {
        assert!(check(REQUEST_REASON, "第一\n第二").is_ok());
        assert!(check(CERTIFICATE_NAME, "张\n三").is_err());
        for c in [
            '\u{0}', '\u{1b}', '\u{7f}', '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}',
        ] {
            let text = format!("审理{c}需要");
            let refused = check(REQUEST_REASON, &text).err().map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|m| m.starts_with("reason: holds")),
                "{c:?}: {refused:?}"
            );
        }
    }
}
