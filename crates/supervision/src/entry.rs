//! An audit entry as the rules read it: the columns of the log, and the few facts of its detail
//! the rules need (who the actor was, how a look-up was made and what it found, whom a request or
//! grant is about).

use serde::Deserialize;

/// The kinds of entry the rules read; every other kind is `Other` and read by none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    Lookup,
    Request,
    Approval,
    Refusal,
    GrantUse,
    Certificate,
    /// An account made, changed or activated (`user_changed`): a person's account enrolled at a
    /// counter, its activation code, its activation.
    UserChanged,
    #[default]
    Other,
}

impl Kind {
    /// The kind of an audit entry's code (`lookup`, `grant_use`, …).
    pub fn from_code(code: &str) -> Kind {
        match code {
            "lookup" => Kind::Lookup,
            "request" => Kind::Request,
            "approval" => Kind::Approval,
            "refusal" => Kind::Refusal,
            "grant_use" => Kind::GrantUse,
            "certificate" => Kind::Certificate,
            "user_changed" => Kind::UserChanged,
            _ => Kind::Other,
        }
    }
}

/// What the rules read of an entry's detail. The platform writes these fields (docs/audit.md);
/// an older entry without them, or a detail that is not such an object, reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Facts {
    /// The actor's role when the entry was written.
    #[serde(default)]
    pub role: Option<String>,
    /// The actor's agency when the entry was written.
    #[serde(default)]
    pub agency: Option<String>,
    /// How a look-up was made: `id_number`, `case_code`, `document_number`.
    #[serde(default)]
    pub by: Option<String>,
    /// Records a look-up showed.
    #[serde(default)]
    pub shown: Option<u64>,
    /// Records a look-up found but withheld (sealed, no grant covering them).
    #[serde(default)]
    pub withheld: Option<u64>,
    /// The person (key) a request, grant read or certificate is about.
    #[serde(default)]
    pub person: Option<String>,
    /// The requester a decision is about.
    #[serde(default)]
    pub requester: Option<String>,
    /// The grant an approval made.
    #[serde(default)]
    pub grant: Option<String>,
}

/// An audit entry: its sequence number, time (seconds since the epoch, UTC), kind, actor,
/// purpose, outcome, subject and the facts of its detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub at: i64,
    pub kind: Kind,
    pub actor: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub subject: Option<String>,
    pub facts: Facts,
}

/// An entry's time that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: at: `{at}` is not a timestamp")]
pub struct EntryError {
    pub seq: u64,
    pub at: String,
}

impl Entry {
    /// An entry from the log's columns as stored (`detail` the JSON text). Only the kinds the
    /// rules read have their detail parsed.
    #[allow(clippy::too_many_arguments)]
    pub fn from_columns(
        seq: u64,
        at: &str,
        kind: &str,
        actor: &str,
        purpose: Option<&str>,
        outcome: &str,
        subject: Option<&str>,
        detail: &str,
    ) -> Result<Entry, EntryError> {
        let kind = Kind::from_code(kind);
        let at = match stored_time(at) {
            Some(at) => at,
            None => at
                .parse::<jiff::Timestamp>()
                .map_err(|_| EntryError {
                    seq,
                    at: at.to_owned(),
                })?
                .as_second(),
        };
        let facts = if kind == Kind::Other {
            Facts::default()
        } else {
            serde_json::from_str(detail).unwrap_or_default()
        };
        Ok(Entry {
            seq,
            at,
            kind,
            actor: actor.to_owned(),
            purpose: purpose.map(str::to_owned),
            outcome: outcome.to_owned(),
            subject: subject.map(str::to_owned),
            facts,
        })
    }

    /// The person (key) the entry is about, where it names one: a look-up by identity number's
    /// subject, or the detail's `person`.
    pub fn person(&self) -> Option<&str> {
        if let Some(person) = self.facts.person.as_deref() {
            return Some(person);
        }
        match (self.kind, self.subject.as_deref()) {
            (Kind::Lookup | Kind::Request, Some(subject)) if !subject.contains(':') => {
                Some(subject)
            }
            _ => None,
        }
    }
}

/// Seconds since the epoch of a time as the store writes it (`YYYY-MM-DDTHH:MM:SSZ`, UTC);
/// `None` for any other form (then read by jiff).
fn stored_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in &b[range] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_read_as_jiff_reads_them() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2025-03-03T02:04:00Z",
            "2000-12-31T12:00:00Z",
            "2100-03-01T00:00:01Z",
        ] {
            let expected = text.parse::<jiff::Timestamp>().map(|t| t.as_second()).ok();
            assert_eq!(stored_time(text), expected, "{text}");
        }
        for text in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01 00:00:00Z",
            "2025-01-01T00:00:00+08:00",
        ] {
            assert_eq!(stored_time(text), None, "{text}");
        }
        // Another form is still read, by jiff.
        let e = Entry::from_columns(
            0,
            "2025-01-01T08:00:00+08:00",
            "lookup",
            "a",
            None,
            "records",
            None,
            "{}",
        )
        .unwrap();
        assert_eq!(e.at, 1_735_689_600);
    }
}
