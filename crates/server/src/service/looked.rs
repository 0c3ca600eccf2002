//! Who looked at my record (docs/person.md): a person's own view of every look-up whose answer
//! concerned them and every read of their sealed records under a grant — when, by what kind of
//! requester and which agency (never the official's name), for what purpose, on what legal basis,
//! and whether a sealed record was shown. Read from the audit log through its index of the persons
//! each entry concerns (`AuditStore::audit_concerning`); reads for an investigation that must stay
//! secret are withheld as `data/disclosure/withholding.toml` says, and the page says such reads may
//! exist, never how many. The view itself is audited.

use std::collections::BTreeMap;

use fengcun_access::{Purpose, RequesterKind, Withholding};
use fengcun_store::{AuditEntry, AuditEvent, AuditKind, StoreError};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Caller, Result, ServiceError};
use crate::AppState;

/// The most entries one view reads.
const LIMIT: i64 = 1000;

/// The shipped withholding rules, read once.
pub fn withholding() -> Result<&'static Withholding> {
    static RULES: std::sync::OnceLock<std::result::Result<Withholding, String>> =
        std::sync::OnceLock::new();
    RULES
        .get_or_init(|| Withholding::cn_default().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ServiceError::Store(StoreError::Corrupt(e.clone())))
}

/// What a person is told of who looked at their record.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoLooked {
    /// The look-ups and grant reads that concerned the person, newest first.
    pub looks: Vec<Look>,
    /// Always said, whether or not any read is withheld now: reads for an investigation that must
    /// stay secret appear only once the withholding period is over.
    pub withheld_notice: String,
    /// The legal basis of the withholding.
    pub withholding_basis: String,
}

/// One look at the person's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Look {
    /// When (RFC 3339).
    pub at: String,
    /// `lookup`, or `grant_read` when sealed records were read under an approved grant.
    pub kind: LookKind,
    /// Who asked, as a kind (`employer`, `public_security`, …); for a holding agency reading its
    /// own case's timeline, its role (`clerk`, `operator`).
    pub requester_kind: Option<String>,
    /// The requester's agency code, if it has one. Never the official's name.
    pub agency: Option<String>,
    /// That agency as the person reads it: its configured name, else its code.
    pub agency_name: Option<String>,
    /// The purpose asked under.
    pub purpose: Option<String>,
    /// The legal basis the disclosure table gives that kind for that purpose.
    pub basis: Option<String>,
    /// The answer: `records`, `no_record`, `no_right` (无权查询), `timeline`.
    pub answer: String,
    /// Whether a sealed record of the person was shown.
    pub sealed_shown: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookKind {
    Lookup,
    GrantRead,
}

fn timestamp(text: &str) -> Result<jiff::Timestamp> {
    text.parse()
        .map_err(|e: jiff::Error| ServiceError::Store(StoreError::Corrupt(e.to_string())))
}

/// The longest withholding after a grant ends, in days.
pub fn withholding_days(rules: &Withholding) -> i64 {
    rules
        .rules
        .iter()
        .map(|r| r.days_after_end)
        .max()
        .unwrap_or(0)
}

/// The withholding notice in Chinese, with the rule's period.
fn notice(rules: &Withholding) -> (String, String) {
    let days = withholding_days(rules);
    let basis = rules
        .rules
        .iter()
        .map(|r| r.basis.as_str())
        .collect::<Vec<_>>()
        .join("；");
    (
        format!(
            "侦查机关为办理案件而进行的查询，在其授权有效期间及授权结束后{days}日内暂不向本人显示，期满后在此显示。此类查询可能存在，本页不显示其有无及数量。"
        ),
        basis,
    )
}

/// `GET /api/v1/me/looks`: who looked at the caller's record (a person only). Audited as a `read`
/// entry of the person.
pub async fn who_looked(state: &AppState, caller: &Caller) -> Result<WhoLooked> {
    let me = super::portal::own_person_key(state, caller).await?;
    let rules = withholding()?;
    let now = state.clock.now();
    let mut entries = state.store.audit_concerning(&me, None, LIMIT).await?;
    entries.sort_by_key(|e| e.seq);
    let mut grants_of: BTreeMap<String, Vec<fengcun_store::GrantRow>> = BTreeMap::new();
    let mut agencies: BTreeMap<String, Option<String>> = BTreeMap::new();
    // Whom each agency asks as, read once per agency however many entries name it.
    let mut asking_as: BTreeMap<String, Option<RequesterKind>> = BTreeMap::new();
    let mut looks = Vec::new();
    let mut index = 0;
    while index < entries.len() {
        let entry = &entries[index];
        index += 1;
        // The grant reads appended with this look-up: the next entries, in sequence, by the same
        // actor.
        let mut grant_ids = Vec::new();
        if entry.kind == AuditKind::GrantUse {
            grant_ids.extend(grant_of(entry));
        } else {
            while let Some(next) = entries.get(index) {
                let follows = next.kind == AuditKind::GrantUse
                    && next.actor == entry.actor
                    && next.seq == entry.seq + 1 + grant_ids.len() as u64;
                if !follows {
                    break;
                }
                grant_ids.extend(grant_of(next));
                index += 1;
            }
        }
        if entry.actor == caller.name
            || !matches!(entry.kind, AuditKind::Lookup | AuditKind::GrantUse)
        {
            continue;
        }
        let detail: Value = serde_json::from_str(&entry.detail).unwrap_or(Value::Null);
        // A timeline read audited before it named whom the caller asked as holds the caller's
        // role and agency: the agency's kind is whom it asked as.
        let mut kind = detail["requester_kind"]
            .as_str()
            .and_then(RequesterKind::parse);
        if kind.is_none()
            && let Some(agency) = detail["agency"].as_str()
        {
            kind = match asking_as.get(agency) {
                Some(known) => *known,
                None => {
                    let found = super::requester_of_agency_code(state, agency).await?;
                    asking_as.insert(agency.to_owned(), found);
                    found
                }
            };
        }
        let requester_kind = kind
            .map(|k| k.code().to_owned())
            .or_else(|| detail["role"].as_str().map(str::to_owned));
        let purpose = entry.purpose.as_deref().and_then(Purpose::parse);
        let at = timestamp(&entry.at)?;
        if let (Some(kind), Some(purpose)) = (kind, purpose) {
            let grant_end =
                grant_end(state, &mut grants_of, entry, &me, &grant_ids, purpose, at).await?;
            if let Some(until) = rules.withheld_until(kind, purpose, at, grant_end)
                && now < until
            {
                continue;
            }
        }
        let agency = match detail["agency"].as_str() {
            Some(agency) => Some(agency.to_owned()),
            None => agency_of(state, &mut agencies, &entry.actor).await?,
        };
        let basis = match (kind, purpose) {
            (Some(kind), Some(purpose)) => state
                .disclosure
                .rule(kind, purpose)
                .map(|r| r.basis.clone()),
            _ => None,
        };
        let agency_name = agency.as_deref().map(|code| state.config.agency_name(code));
        looks.push(Look {
            agency_name,
            at: entry.at.clone(),
            kind: if grant_ids.is_empty() {
                LookKind::Lookup
            } else {
                LookKind::GrantRead
            },
            requester_kind,
            agency,
            purpose: entry.purpose.clone(),
            basis,
            answer: entry.outcome.clone(),
            sealed_shown: !grant_ids.is_empty() || sealed_read(&detail, &me),
        });
    }
    looks.reverse();
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "who_looked")
        .subject(me)
        .detail(json!({"shown": looks.len()}));
    state.store.audit(&[read], now).await?;
    let (withheld_notice, withholding_basis) = notice(rules);
    Ok(WhoLooked {
        looks,
        withheld_notice,
        withholding_basis,
    })
}

/// Whether a timeline read showed this person's record while it was sealed (a holding agency's
/// read, under no grant): its entry names whose records were sealed.
fn sealed_read(detail: &serde_json::Value, me: &str) -> bool {
    detail["sealed_for"]
        .as_array()
        .is_some_and(|keys| keys.iter().any(|key| key.as_str() == Some(me)))
}

fn grant_of(entry: &AuditEntry) -> Option<String> {
    entry
        .subject
        .as_deref()
        .and_then(|s| s.strip_prefix("grant:"))
        .map(str::to_owned)
}

/// When the grant a read was made under ended (revoked, or expired), or — for a look-up under no
/// grant — the latest end of the requester's grants for this person and purpose live at the time.
async fn grant_end(
    state: &AppState,
    cache: &mut BTreeMap<String, Vec<fengcun_store::GrantRow>>,
    entry: &AuditEntry,
    me: &str,
    used: &[String],
    purpose: Purpose,
    at: jiff::Timestamp,
) -> Result<Option<jiff::Timestamp>> {
    if !cache.contains_key(&entry.actor) {
        let grants = state.store.grants(Some(&entry.actor)).await?;
        cache.insert(entry.actor.clone(), grants);
    }
    let grants = cache
        .get(&entry.actor)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut latest: Option<jiff::Timestamp> = None;
    for grant in grants
        .iter()
        .filter(|g| g.person_key == me && g.purpose == purpose)
    {
        let expires = timestamp(&grant.expires)?;
        let end = match &grant.revoked_at {
            Some(revoked) => timestamp(revoked)?.min(expires),
            None => expires,
        };
        let counts = if used.is_empty() {
            timestamp(&grant.not_before)? <= at && at < end
        } else {
            used.contains(&grant.grant_id)
        };
        if counts {
            latest = Some(latest.map_or(end, |l| l.max(end)));
        }
    }
    Ok(latest)
}

/// The agency of the user or stored key behind an actor (for entries written before look-ups
/// recorded it).
async fn agency_of(
    state: &AppState,
    cache: &mut BTreeMap<String, Option<String>>,
    actor: &str,
) -> Result<Option<String>> {
    if let Some(found) = cache.get(actor) {
        return Ok(found.clone());
    }
    let agency = if let Some(username) = actor.strip_prefix("user:") {
        state.store.user(username).await?.and_then(|u| u.agency)
    } else if let Some(id) = actor.strip_prefix("key:") {
        state
            .store
            .keys()
            .await?
            .into_iter()
            .find(|k| k.key_id == id)
            .and_then(|k| k.agency)
    } else {
        state
            .config
            .api_keys
            .iter()
            .find(|k| k.name == actor)
            .and_then(|k| k.agency.clone())
    };
    cache.insert(actor.to_owned(), agency.clone());
    Ok(agency)
}
