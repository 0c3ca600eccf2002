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
        let at = at
            .parse::<jiff::Timestamp>()
            .map_err(|_| EntryError {
                seq,
                at: at.to_owned(),
            })?
            .as_second();
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
