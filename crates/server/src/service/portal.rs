//! The person's own portal (docs/person.md): a person's account (role `person`), enrolled at a
//! counter with a one-time activation code, sees that person's own records, notices and
//! certificates — and nothing of anyone else. Every portal page and endpoint takes the person key
//! from the session with [`own_person_key`], never from the request: whatever a person's session
//! asks for that is not theirs is answered exactly as data that does not exist.

use fengcun_store::{AuditEvent, AuditKind};

use super::{Caller, Result, refuse_as};
use crate::AppState;
use crate::config::Role;

/// The person key of the session's own person: the one way every portal page and JSON endpoint
/// learns whose data to show. Any other role (or a person's account without a person key) is
/// refused, and the refusal audited (`forbidden`, action `portal`).
pub async fn own_person_key(state: &AppState, caller: &Caller) -> Result<String> {
    match (&caller.role, &caller.person_key) {
        (Role::Person, Some(key)) => Ok(key.clone()),
        _ => {
            let reason = format!(
                "the portal is the person's own: the {} role has none",
                caller.role.code()
            );
            let entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, "portal")
                .detail(serde_json::json!({"reason": reason}));
            Err(refuse_as(state, entry, reason).await?)
        }
    }
}

use fengcun_access::RequesterKind;
use fengcun_domain::{Date, Disposition, IdNumber, RecordKind};
use fengcun_lifecycle::StateCode;
use fengcun_store::{
    Activation, ActivationRow, Confirmation, EnrolmentRow, EnrolmentState, UserRow,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::ServiceError;
use super::disclosure::{offence_names, stored_record};
use super::identity::{check_password, hash_in_turn};
use super::records::{Policies, ReasonItem, TransitionItem, record_life};
use crate::limits;
use fengcun_policy::{Policy, Timing};

/// How long an activation code is valid: 72 hours from the counter.
pub const ACTIVATION_HOURS: i64 = 72;
/// The activation code's alphabet: no 0/O, 1/I/L, so that it is read aloud and typed without
/// doubt. Twelve characters of 31: about 59 bits.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 12;

/// Who enrols a person at a counter: a clerk of a public-security organ or a court.
pub fn may_enrol(caller: &Caller) -> bool {
    caller.role == Role::Clerk
        && matches!(
            caller.kind,
            Some(RequesterKind::PublicSecurity | RequesterKind::Court)
        )
}

/// The username of a person's account: fixed by their person key (so that a second enrolment
/// finds the same account), never their identity number. They log in with either.
pub fn person_username(person_key: &str) -> String {
    let short: String = person_key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("p-{}", short.to_ascii_lowercase())
}

/// The username a login names: a person may log in with their identity number, which stands for
/// their account's username (so that the number itself is in no log entry).
pub fn login_username(state: &AppState, given: &str) -> String {
    match IdNumber::parse(given) {
        Ok(id) => person_username(&state.store.person_key(&format!("id:{id}"))),
        Err(_) => given.to_owned(),
    }
}

/// `N` random characters of [`CODE_ALPHABET`]: an activation code, an enrolment's number.
fn random_in_alphabet<const N: usize>() -> String {
    fengcun_crypto::random_bytes::<N>()
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect()
}

fn new_code() -> String {
    random_in_alphabet::<CODE_LENGTH>()
}

/// The code as typed: spaces and dashes dropped, upper case.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase()
}

fn code_digest(code: &str) -> String {
    crate::config::key_digest(&format!("activation:{}", normalise_code(code)))
}

/// A person to enrol at the counter, their identity card in the clerk's hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The identity number on the card.
    pub id_number: String,
    /// The name on the card (certificates are issued in it).
    pub name: String,
}

/// An activation code made at the counter: shown once, printed for the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolled {
    /// The account's username (the person may log in with their identity number instead).
    pub username: String,
    /// The one-time activation code (shown only here).
    pub code: String,
    /// Until when it may be used (72 hours).
    pub expires_at: String,
    /// Where the person sets their password.
    pub activate: String,
}

/// How long an opened enrolment waits for its second clerk: the person is at the counter.
pub const CONFIRMATION_HOURS: i64 = 24;

/// An enrolment opened at a counter: it waits for a second clerk, who checks the identity card
/// again and is then shown the activation code (docs/person.md, "Two clerks").
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentOpened {
    /// Its number, on the counter's list of enrolments waiting (`EN-` and ten characters).
    pub enrolment: String,
    /// Until when a second clerk may confirm it (24 hours).
    pub expires_at: String,
    /// Where the second clerk confirms it.
    pub confirm: String,
}

/// An enrolment on the counter's list, waiting for a second clerk. It names no person: the
/// second clerk learns who from the identity card, and types its number to confirm.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingEnrolment {
    pub enrolment: String,
    /// The clerk who opened it (who may not confirm it).
    pub opened_by: String,
    pub opened_at: String,
    pub expires_at: String,
    /// Whether the caller opened it (and so may not confirm it).
    pub own: bool,
}

/// Refuses (audited) anyone but a counter's clerk: the enrolment form and its submission alike.
pub async fn counter_only(state: &AppState, caller: &Caller) -> Result<()> {
    if may_enrol(caller) {
        return Ok(());
    }
    let reason = "a person is enrolled at a counter by a public-security or court clerk".to_owned();
    Err(super::refuse(state, caller, "enrol person", reason).await?)
}

/// The counter a clerk serves at, whose enrolments they see and confirm: their agency, or, for
/// a clerk configured without one, every clerk of their kind.
fn counter_of(caller: &Caller) -> String {
    // The kind too: a clerk of another kind given the same agency code by mistake serves at
    // another counter.
    let kind = caller.kind.map_or("", |kind| kind.code());
    match &caller.agency {
        Some(agency) => format!("{agency} ({kind})"),
        None => format!("({kind})"),
    }
}

/// A keyed digest of the name as typed at the counter for this person: the enrolment keeps it,
/// never the name, and the second clerk's must be the same.
fn name_digest(state: &AppState, card: &CardRead) -> String {
    state
        .store
        .person_key(&format!("enrolment-name:{}:{}", card.person_key, card.name))
}

/// Refusals of one enrolment's confirmation (another number or name) after which it is closed:
/// the second clerk has the card in hand, and guessing is not checking.
pub const REFUSALS_CLOSING_AN_ENROLMENT: u32 = 3;

fn new_enrolment_id() -> String {
    format!("EN-{}", random_in_alphabet::<10>())
}

/// The person's identity number and name as a clerk typed them from the card: checked, and
/// their person key and account's username.
struct CardRead {
    person_key: String,
    username: String,
    name: String,
}

fn read_card(state: &AppState, request: &EnrolRequest) -> Result<CardRead> {
    let id = IdNumber::parse(request.id_number.trim())
        .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
    let name = limits::check(limits::CERTIFICATE_NAME, request.name.trim())?.to_owned();
    let person_key = state.store.person_key(&format!("id:{id}"));
    let username = person_username(&person_key);
    Ok(CardRead {
        person_key,
        username,
        name,
    })
}

/// Enrolments one clerk may have waiting at once: a counter serves one person at a time, and a
/// flood of openings would push the others off the counter's list.
pub const MAX_WAITING_PER_CLERK: usize = 10;

/// The two steps are a person's, logged in as themselves: a key (configured, or stored and
/// answering for its owner) names no one at the counter, so two keys — or a key and a login —
/// could be one clerk playing both parts.
async fn clerk_in_person(state: &AppState, caller: &Caller, action: &str) -> Result<()> {
    if caller.name.starts_with("user:") {
        return Ok(());
    }
    let reason = "a counter's enrolment is opened and confirmed by clerks logged in as themselves, not with a key".to_owned();
    Err(super::refuse(state, caller, action, reason).await?)
}

/// Item 1, first clerk: opens an enrolment for the person whose identity card is in their hand,
/// audited. No account and no code are made yet: a second clerk confirms it
/// ([`confirm_enrolment`]), so that no clerk alone can open a person's account and read their
/// sealed records. The person's earlier account, if any, must bear the name typed.
pub async fn enrol(
    state: &AppState,
    caller: &Caller,
    request: EnrolRequest,
) -> Result<EnrolmentOpened> {
    counter_only(state, caller).await?;
    clerk_in_person(state, caller, "enrol person").await?;
    let card = read_card(state, &request)?;
    let now = state.clock.now();
    // Whether the person has an account, and under which name, is not said here: the second
    // clerk, with the card, learns it when confirming.
    let counter = counter_of(caller);
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_hours(CONFIRMATION_HOURS))
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let enrolment = EnrolmentRow {
        enrolment_id: new_enrolment_id(),
        username: card.username.clone(),
        person_key: card.person_key.clone(),
        name_digest: name_digest(state, &card),
        agency: counter,
        created_by: caller.name.clone(),
        created_at: now,
        expires_at,
    };
    let entry = AuditEvent::new(AuditKind::UserChanged, &caller.name, "enrolment_opened")
        .subject(format!("user:{}", card.username))
        .detail(
            json!({"person": card.person_key, "enrolment": enrolment.enrolment_id,
            "expires_at": expires_at.to_string(), "agency": caller.agency}),
        );
    if !state
        .store
        .put_enrolment(&enrolment, MAX_WAITING_PER_CLERK, &[entry], now)
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "enrolment: {MAX_WAITING_PER_CLERK} enrolments of yours wait for a second clerk; have them confirmed (or let them expire) first"
        )));
    }
    Ok(EnrolmentOpened {
        confirm: format!("/api/v1/enrolments/{}/confirmation", enrolment.enrolment_id),
        enrolment: enrolment.enrolment_id,
        expires_at: expires_at.to_string(),
    })
}

/// The person's account, if they have one, is theirs under the name on the card; a username
/// held by another account is refused.
async fn check_account(state: &AppState, card: &CardRead) -> Result<Option<UserRow>> {
    match state.store.user(&card.username).await? {
        Some(user)
            if user.role == Role::Person
                && user.person_key.as_deref() == Some(card.person_key.as_str()) =>
        {
            if user.name.as_deref() != Some(card.name.as_str()) {
                return Err(ServiceError::Invalid(
                    "card: the name differs from the name this person was enrolled with".into(),
                ));
            }
            Ok(Some(user))
        }
        Some(_) => Err(ServiceError::Conflict(format!(
            "username: `{}` is taken by another account",
            card.username
        ))),
        None => Ok(None),
    }
}

/// Makes the person's account (disabled until the code is used), audited.
async fn make_account(
    state: &AppState,
    caller: &Caller,
    card: &CardRead,
    now: jiff::Timestamp,
) -> Result<()> {
    let user = UserRow {
        username: card.username.clone(),
        // No password opens it until the code is used.
        password_hash: "!".into(),
        role: Role::Person,
        requester_kind: Some(RequesterKind::Person),
        agency: None,
        person_key: Some(card.person_key.clone()),
        name: Some(card.name.clone()),
        disabled: true,
    };
    let event = AuditEvent::new(AuditKind::UserChanged, &caller.name, "created")
        .subject(format!("user:{}", card.username))
        .detail(json!({"role": "person", "person": card.person_key, "via": "counter", "agency": caller.agency}));
    if !state.store.add_user(&user, &[event], now).await? {
        // Made meanwhile by another clerk's confirmation for the same person: theirs, then.
        if check_account(state, card).await?.is_some() {
            return Ok(());
        }
        return Err(ServiceError::Conflict(format!(
            "username: `{}` is taken by another account",
            card.username
        )));
    }
    Ok(())
}

/// The counter's enrolments waiting for a second clerk, oldest first (a counter's clerk only).
pub async fn waiting_enrolments(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<WaitingEnrolment>> {
    counter_only(state, caller).await?;
    let rows = state
        .store
        .waiting_enrolments(&counter_of(caller), state.clock.now())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| WaitingEnrolment {
            own: row.created_by == caller.name,
            enrolment: row.enrolment_id,
            opened_by: row.created_by,
            opened_at: row.created_at.to_string(),
            expires_at: row.expires_at.to_string(),
        })
        .collect())
}

/// What a confirmation by `confirmer` with `card` may do with `enrolment`, as it stands: the
/// store checks the same again as it writes.
fn judge_confirmation(
    enrolment: &EnrolmentRow,
    standing: EnrolmentState,
    opener_active: bool,
    confirmer: &str,
    card: &CardRead,
    card_name_digest: &str,
    now: jiff::Timestamp,
) -> Confirmation {
    if standing == EnrolmentState::Confirmed {
        Confirmation::Done
    } else if standing == EnrolmentState::Closed || !opener_active {
        Confirmation::Closed
    } else if enrolment.expires_at <= now {
        Confirmation::Expired
    } else if enrolment.created_by == confirmer {
        Confirmation::SameClerk
    } else if enrolment.person_key != card.person_key || enrolment.name_digest != card_name_digest {
        Confirmation::OtherPerson
    } else {
        Confirmation::Confirmed
    }
}

/// Item 1, second clerk: confirms an enrolment of their counter opened by another clerk, typing
/// the identity number and name from the card in front of them; only then is the person's
/// account made (if new) and the one-time activation code (72 hours, stored as a digest) made
/// and shown, to them. The enrolment is checked before the card: a number typed for an
/// enrolment of another counter answers as for none, and tells nothing of the person. A clerk
/// confirming their own enrolment, another person's number or another name is refused and
/// audited: that is what the rule exists to stop.
pub async fn confirm_enrolment(
    state: &AppState,
    caller: &Caller,
    enrolment_id: &str,
    request: EnrolRequest,
) -> Result<Enrolled> {
    counter_only(state, caller).await?;
    clerk_in_person(state, caller, "confirm enrolment").await?;
    let card = read_card(state, &request)?;
    let now = state.clock.now();
    let counter = counter_of(caller);
    let refused = |why: &str| {
        AuditEvent::new(AuditKind::Forbidden, &caller.name, "confirm enrolment")
            .subject(format!("enrolment:{enrolment_id}"))
            .detail(json!({"reason": why, "person": card.person_key}))
    };
    let Some((enrolment, standing)) = state.store.enrolment(enrolment_id, &counter).await? else {
        return Err(ServiceError::NotFound);
    };
    // An enrolment whose first clerk has since been disabled (or removed) stands closed: what
    // they opened is no longer vouched for.
    let opener_active = match enrolment.created_by.strip_prefix("user:") {
        Some(name) => state
            .store
            .user(name)
            .await?
            .is_some_and(|user| !user.disabled),
        None => false,
    };
    let outcome = judge_confirmation(
        &enrolment,
        standing,
        opener_active,
        &caller.name,
        &card,
        &name_digest(state, &card),
        now,
    );
    if outcome == Confirmation::Confirmed {
        let account = match check_account(state, &card).await {
            Ok(account) => account,
            Err(error) => {
                state
                    .store
                    .audit(&[refused("account_differs")], now)
                    .await?;
                return Err(error);
            }
        };
        if account.is_none() {
            make_account(state, caller, &card, now).await?;
        }
    }
    let outcome = match outcome {
        Confirmation::Confirmed => {
            let code = new_code();
            let expires_at = now
                .checked_add(jiff::SignedDuration::from_hours(ACTIVATION_HOURS))
                .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            let entry = AuditEvent::new(AuditKind::UserChanged, &caller.name, "activation_code")
                .subject(format!("user:{}", card.username))
                .detail(json!({"person": card.person_key, "enrolment": enrolment_id,
                    "opened_by": enrolment.created_by, "expires_at": expires_at.to_string(),
                    "agency": caller.agency}));
            // Checked again as it is written: two clerks confirming at once, one code.
            let stored = state
                .store
                .confirm_enrolment(
                    enrolment_id,
                    &counter,
                    &caller.name,
                    &ActivationRow {
                        code_hash: code_digest(&code),
                        username: card.username.clone(),
                        person_key: card.person_key.clone(),
                        created_by: caller.name.clone(),
                        expires_at,
                    },
                    &[entry],
                    now,
                )
                .await?;
            if stored == Confirmation::Confirmed {
                return Ok(Enrolled {
                    username: card.username,
                    code,
                    expires_at: expires_at.to_string(),
                    activate: "/activate".into(),
                });
            }
            stored
        }
        other => other,
    };
    match outcome {
        Confirmation::Confirmed | Confirmation::Unknown => Err(ServiceError::NotFound),
        Confirmation::Done => Err(ServiceError::Conflict(
            "enrolment: confirmed already; a new code needs a new enrolment".into(),
        )),
        Confirmation::Closed => Err(ServiceError::Conflict(
            "enrolment: closed (three confirmations that did not match the card, the person's account confirmed through another enrolment, or the clerk who opened it disabled)".into(),
        )),
        Confirmation::Expired => Err(ServiceError::Conflict(format!(
            "enrolment: expired (a second clerk confirms within {CONFIRMATION_HOURS} hours); open a new one"
        ))),
        Confirmation::SameClerk => {
            let reason = "the clerk who opened an enrolment may not confirm it: a second clerk checks the identity card";
            Err(refuse_as(state, refused("same_clerk"), reason.into()).await?)
        }
        Confirmation::OtherPerson => {
            let refusals = state
                .store
                .refuse_enrolment(
                    enrolment_id,
                    &counter,
                    REFUSALS_CLOSING_AN_ENROLMENT,
                    &[refused("other_person")],
                    now,
                )
                .await?;
            Err(ServiceError::Invalid(
                if refusals >= REFUSALS_CLOSING_AN_ENROLMENT {
                    "card: not the number and name this enrolment was opened with; the enrolment is closed after three such refusals: open a new one".into()
                } else {
                    "card: not the number and name this enrolment was opened with; check the identity card".into()
                },
            ))
        }
    }
}

/// What the person types on the activation page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The code printed at the counter.
    pub code: String,
    pub id_number: String,
    /// The new password (at least 12 characters).
    pub password: String,
}

/// An account activated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activated {
    /// The account's username; the person may log in with their identity number too.
    pub username: String,
}

/// Item 1: the person sets their password with the code (no session). Guesses are throttled per
/// identity number as logins are per username; an unknown, reused or expired code is refused,
/// each refusal audited with the person key (never the number).
pub async fn activate(state: &AppState, request: ActivateRequest) -> Result<Activated> {
    let id = IdNumber::parse(request.id_number.trim())
        .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
    check_password("password", &request.password)?;
    let code = normalise_code(&request.code);
    if code.is_empty() || code.len() > 64 {
        return Err(ServiceError::Invalid(
            "code: the activation code printed at the counter".into(),
        ));
    }
    let person_key = state.store.person_key(&format!("id:{id}"));
    let actor = format!("person:{person_key}");
    let now = state.clock.now();
    if let Err(locked) = state.activations.attempt(&person_key, now) {
        if locked.first {
            let entry = AuditEvent::new(AuditKind::AuthenticationRefused, &actor, "throttled")
                .detail(json!({"via": "activation", "locked_until": locked.until.to_string()}));
            state.store.audit(&[entry], now).await?;
        }
        let left = locked.until.duration_since(now).as_secs().max(1);
        return Err(ServiceError::Throttled(left));
    }
    // Within the bound on argon2 hashes at once, as a login: a flood of activations queues.
    let password_hash = hash_in_turn(request.password.clone()).await?;
    let username = person_username(&person_key);
    let done = AuditEvent::new(AuditKind::UserChanged, &actor, "activated")
        .subject(format!("user:{username}"))
        .detail(json!({"person": person_key, "via": "activation"}));
    let outcome = state
        .store
        .activate(
            &code_digest(&code),
            &person_key,
            &password_hash,
            &[done],
            now,
        )
        .await?;
    let (why, message) = match outcome {
        Activation::Activated { username } => {
            state.activations.succeeded(&person_key);
            return Ok(Activated { username });
        }
        Activation::Unknown => (
            "unknown",
            "code: not a valid activation code for this identity number",
        ),
        Activation::Used => (
            "used",
            "code: used already (or replaced by a newer one); ask the counter for a new code",
        ),
        Activation::Expired => (
            "expired",
            "code: expired (valid 72 hours); ask the counter for a new code",
        ),
    };
    let entry = AuditEvent::new(
        AuditKind::AuthenticationRefused,
        &actor,
        "activation_refused",
    )
    .detail(json!({"via": "activation", "reason": why, "person": person_key}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Err(ServiceError::Invalid(message.into()))
}

/// A fact a decision waits for, and who must supply it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingFact {
    /// The field (`disposition_date`, …).
    pub fact: String,
    /// Its name in Chinese.
    pub name: String,
    /// Who must supply it, in Chinese.
    pub supplier: String,
}

/// One of the person's own records, as their portal shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyRecord {
    pub case_code: String,
    /// `criminal` or `violation`.
    pub kind: String,
    /// `criminal` (a conviction), `non_conviction` or `violation`, as a timeline names it.
    pub designation: String,
    /// 犯罪记录, 涉罪记录 or 违法记录.
    pub kind_text: String,
    /// Who decided it — the court of a judgment, the procuratorate of a non-prosecution, the
    /// public-security organ of a violation's penalty decision: its agency code.
    pub court: Option<String>,
    /// That agency as the person reads it: its configured name, else its code.
    pub court_name: Option<String>,
    /// What was done, by its official names: the charges (罪名) of a criminal record, the
    /// behaviours (违法行为) of a violation record.
    pub charges: Vec<String>,
    /// The sentence, or a violation's penalty, in Chinese.
    pub sentence: Option<String>,
    /// `open`, `not_eligible`, `pending_seal`, `sealed`, `unsealed` or `revoked`.
    pub state: String,
    /// 已封存, 待封存, …
    pub state_text: String,
    /// The state's date: when it was sealed, when it will be, when the seal was lifted.
    pub state_date: Option<String>,
    /// The plain-language sentence: 您的这条记录已于2025年3月1日封存，依据……
    pub explanation: String,
    /// For a record sealed or to be sealed: what it is sealed on, as the sentence cites it — the
    /// instrument, the timing rule and its basis (in Chinese: the law's own words).
    pub grounds: String,
    /// The legal bases of the decision.
    pub basis: Vec<String>,
    /// For a record not eligible: the rules that failed.
    pub failed_rules: Vec<ReasonItem>,
    /// For a record waiting for facts: which, and who must supply them.
    pub missing: Vec<MissingFact>,
    /// The policy and version the state was decided under.
    pub policy: Option<String>,
    pub policy_version: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyRecords {
    pub records: Vec<MyRecord>,
}

/// Who must supply a missing fact: the agency whose decision states it — the court for a
/// judgment, the procuratorate for a non-prosecution, the public-security organ for a violation's
/// penalty decision; the registry for a birth date.
fn supplier(fact: &str, disposition: Option<Disposition>) -> &'static str {
    match (fact, disposition) {
        ("person.birth_date", _) => "公安机关（户籍登记机关）",
        ("offence_date", _) => "立案侦查的公安机关",
        ("non_prosecution_ground", _) | (_, Some(Disposition::NotProsecuted)) => {
            "作出不起诉决定的人民检察院"
        }
        (_, Some(Disposition::Penalized | Disposition::NotPenalized | Disposition::Withdrawn)) => {
            "作出处罚决定的公安机关"
        }
        ("disposition_date", Some(Disposition::Open) | None) => {
            "办理案件的机关（人民法院、人民检察院或公安机关）"
        }
        _ => "作出判决的人民法院",
    }
}

fn fact_name(fact: &str) -> &'static str {
    match fact {
        "person.birth_date" => "出生日期",
        "offence_date" => "犯罪日期",
        "disposition_date" => "处理日期",
        "recidivist" => "是否累犯",
        "prior_convictions" => "前科情况",
        "charges" => "罪名",
        "conditions.civil_compensation_fulfilled" => "附带民事赔偿履行情况",
        "conditions.victim_forgiveness" => "是否取得被害人谅解",
        "conditions.plea" => "是否认罪认罚",
        "sealed_juvenile_priors" => "前科中已封存的未成年人犯罪记录情况",
        "non_prosecution_ground" => "不起诉的类型",
        _ => "相关事实",
    }
}

fn chinese_date(text: Option<&str>) -> String {
    text.and_then(|t| fengcun_domain::date::parse_date(t.get(..10).unwrap_or(t)).ok())
        .map(fengcun_domain::date::chinese_date)
        .unwrap_or_else(|| "（日期待定）".to_owned())
}

fn bases(reasons: &[ReasonItem], holding: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for reason in reasons
        .iter()
        .filter(|r| r.holds == holding && r.missing.is_empty())
    {
        if !reason.basis.is_empty() && !out.contains(&reason.basis) {
            out.push(reason.basis.clone());
        }
    }
    out
}

/// The policy's timing rule that held (the one that sets when a seal takes effect): its text and
/// basis, as the policy writes them.
fn timing_of<'a>(policy: Option<&'a Policy>, reasons: &[ReasonItem]) -> Option<&'a Timing> {
    let policy = policy?;
    reasons
        .iter()
        .filter(|r| r.holds)
        .find_map(|r| policy.timings.iter().find(|t| t.id == r.rule))
}

/// The plain-language sentence of a record's state, from its explained decision under `policy`
/// (the version that decided it).
fn explain_state(
    record: &mut MyRecord,
    decision: Option<&TransitionItem>,
    policy: Option<&Policy>,
    disposition: Option<Disposition>,
    noun: &str,
    issuing: &fengcun_lifecycle::Issuing,
) {
    let date = chinese_date(record.state_date.as_deref());
    let reasons = decision.map(|d| d.reasons.as_slice()).unwrap_or_default();
    // The instrument the notices cite (a preset's own title is no legal instrument, and a
    // research proposal says it is one: 研究方案，尚非有效法律文件), then the timing rule:
    // ……调研报告》第一种意见（研究方案，尚非有效法律文件）：自判决生效之日起自动封存（调研报告二(四)：…）
    // Where the date is the day the policy came into force (a record that qualified before it),
    // that is what set it, and the sentence says so rather than the timing rule alone.
    let in_force_set_date = policy
        .and_then(|p| p.meta.effective_from)
        .is_some_and(|from| record.state_date.as_deref() == Some(from.to_string().as_str()));
    let in_force = reasons
        .iter()
        .find(|r| r.rule == "policy_in_force" && in_force_set_date)
        .map(|r| format!("；{}", r.text))
        .unwrap_or_default();
    let seal_basis = |bases: &[String]| match (policy, timing_of(policy, reasons)) {
        (Some(policy), Some(timing)) => {
            format!(
                "{}：{}（{}）{in_force}",
                issuing.instrument(&policy.meta),
                timing.text,
                timing.basis
            )
        }
        _ if bases.is_empty() => "封存政策".to_owned(),
        _ => bases.join("；"),
    };
    // The facts a decision waits for (`needs_facts`: stored as not eligible until they come).
    let mut missing: Vec<MissingFact> = Vec::new();
    for fact in reasons.iter().flat_map(|r| r.missing.iter()) {
        if !missing.iter().any(|m| &m.fact == fact) {
            missing.push(MissingFact {
                fact: fact.clone(),
                name: fact_name(fact).to_owned(),
                supplier: supplier(fact, disposition).to_owned(),
            });
        }
    }
    let needs_facts = decision.is_some_and(|d| d.outcome == "needs_facts");
    match StateCode::parse(&record.state) {
        Some(StateCode::Sealed) => {
            record.basis = bases(reasons, true);
            record.grounds = seal_basis(&record.basis);
            record.explanation = format!(
                "您的这条{noun}已于{date}封存，依据{}。",
                seal_basis(&record.basis)
            );
        }
        Some(StateCode::PendingSeal) => {
            record.basis = bases(reasons, true);
            record.grounds = seal_basis(&record.basis);
            record.explanation = if record.state_date.is_some() {
                format!(
                    "您的这条{noun}符合封存条件，将于{date}封存，依据{}。",
                    seal_basis(&record.basis)
                )
            } else {
                // The date is an event still to come (the judgment taking effect, …).
                format!(
                    "您的这条{noun}符合封存条件，封存日期待相关法律文书生效后确定，依据{}。",
                    seal_basis(&record.basis)
                )
            };
        }
        Some(StateCode::NotEligible) if !needs_facts => {
            record.failed_rules = reasons
                .iter()
                .filter(|r| !r.holds && r.missing.is_empty())
                .cloned()
                .collect();
            record.basis = bases(&record.failed_rules, false);
            let rules: Vec<String> = record
                .failed_rules
                .iter()
                .map(|r| format!("{}（依据{}）", r.text, r.basis))
                .collect();
            record.explanation = format!(
                "您的这条{noun}不符合封存条件：{}。",
                if rules.is_empty() {
                    "封存政策的条件未满足".to_owned()
                } else {
                    rules.join("；")
                }
            );
        }
        Some(StateCode::Unsealed | StateCode::Revoked) => {
            let trigger = decision
                .and_then(|d| d.trigger_text.clone())
                .unwrap_or_default();
            record.basis = decision
                .and_then(|d| d.unseal.as_ref())
                .map(|u| vec![u.basis.clone()])
                .unwrap_or_default();
            record.explanation = format!(
                "您的这条{noun}的封存已于{date}解除{}{}。",
                if trigger.is_empty() {
                    String::new()
                } else {
                    format!("（{trigger}）")
                },
                if record.basis.is_empty() {
                    String::new()
                } else {
                    format!("，依据{}", record.basis.join("；"))
                }
            );
        }
        _ => {
            record.explanation = if missing.is_empty() {
                format!(
                    "您的这条{noun}所涉案件尚未办结；处理结果生效后，平台将依照封存政策决定是否封存。"
                )
            } else {
                // Stored as not eligible until the facts come; said as what it is.
                record.state_text = "暂无法决定（待补充事实）".to_owned();
                let parts: Vec<String> = missing
                    .iter()
                    .map(|m| format!("{}（应由{}提供）", m.name, m.supplier))
                    .collect();
                format!(
                    "暂时无法决定您的这条{noun}是否封存：尚缺少{}。",
                    parts.join("、")
                )
            };
            record.missing = missing;
        }
    }
}

/// Item 2: every record of the person, sealed ones included (their own), each with its state in
/// a plain sentence — the date it was or will be sealed and the basis, the rule that failed, the
/// fact that is missing and who must supply it — from the decision as the policy explained it
/// (the timeline's explanation); a record with no decision yet is decided under the policy in
/// force, without writing anything. Audited as a `lookup` for `self_inspection`.
pub async fn my_records(state: &AppState, caller: &Caller) -> Result<MyRecords> {
    let person_key = own_person_key(state, caller).await?;
    let stored = state
        .store
        .records_of(Some(&person_key), None, &|_, _, _| true)
        .await?;
    let today: Date = fengcun_domain::date::china_date(state.clock.now());
    let mut policies = Policies::default();
    // The policy in force, for a record no decision was kept for.
    let in_force = state.policy.read().await.clone();
    let mut records = Vec::with_capacity(stored.len());
    for record in &stored {
        let facts = stored_record(record)?;
        let life = state
            .store
            .timelines(&record.case_code, None)
            .await?
            .into_iter()
            .find(|life| life.record.person_key == person_key);
        let life = match life {
            Some(life) => Some(record_life(state, &mut policies, life).await?),
            None => None,
        };
        let violation = facts
            .as_ref()
            .is_some_and(|f| f.kind == RecordKind::PublicSecurityViolation);
        let noun = if violation { "违法记录" } else { "记录" };
        // Who decided it: the court of a judgment, the procuratorate of a non-prosecution, the
        // public-security organ of a violation's penalty decision.
        let wanted = match facts.as_ref().map(|f| f.disposition) {
            _ if violation => "public_security",
            Some(Disposition::NotProsecuted) => "procuratorate",
            _ => "court",
        };
        let court = life.as_ref().and_then(|l| {
            l.events
                .iter()
                .rev()
                .find(|e| e.agency_kind == wanted)
                .map(|e| e.agency.clone())
        });
        let state_code = record.state;
        let designation = match facts.as_ref().map(|f| f.disposition) {
            _ if violation => "violation",
            Some(Disposition::Convicted) => "criminal",
            _ => "non_conviction",
        };
        let mut mine = MyRecord {
            case_code: record.case_code.clone(),
            kind: if violation { "violation" } else { "criminal" }.to_owned(),
            // Only a conviction is a 犯罪记录: a non-prosecution, an acquittal, a withdrawn or
            // still open case is a 涉罪记录, as its notices call it.
            designation: designation.to_owned(),
            kind_text: match designation {
                "violation" => "违法记录",
                "criminal" => "犯罪记录",
                _ => "涉罪记录",
            }
            .to_owned(),
            court_name: court.as_deref().map(|code| state.config.agency_name(code)),
            court,
            charges: facts.as_ref().map(offence_names).unwrap_or_default(),
            sentence: facts.as_ref().and_then(|f| {
                f.sentence
                    .map(|s| s.chinese())
                    .or_else(|| f.penalty.as_ref().map(|p| p.chinese()))
            }),
            state: state_code.code().to_owned(),
            state_text: state_code.chinese().to_owned(),
            state_date: record.state_date.clone(),
            explanation: String::new(),
            grounds: String::new(),
            basis: Vec::new(),
            failed_rules: Vec::new(),
            missing: Vec::new(),
            policy: life.as_ref().and_then(|l| l.policy.clone()),
            policy_version: life.as_ref().and_then(|l| l.policy_version.clone()),
        };
        let last = life
            .as_ref()
            .and_then(|l| l.transitions.iter().rev().find(|t| t.to == mine.state));
        let mut decided_now = None;
        let decision = match (last, state_code, &facts) {
            (Some(last), _, _) if state_code != StateCode::Open => Some(last),
            (_, StateCode::Open, Some(facts)) => {
                // No decision kept for an open record: the policy in force decides it now.
                let policy = &in_force;
                let decision = fengcun_policy::evaluate(policy, facts, today);
                let view = decision.view(policy, facts);
                decided_now = Some(TransitionItem {
                    from: None,
                    to: "open".into(),
                    date: None,
                    at: String::new(),
                    actor: "automatic".into(),
                    policy: policy.meta.name.clone(),
                    policy_version: policy.meta.version.clone(),
                    trigger: None,
                    trigger_text: None,
                    unseal: None,
                    as_of: today.to_string(),
                    outcome: view.outcome.to_owned(),
                    effective_date: view.effective_date.clone(),
                    reasons: view
                        .reasons
                        .iter()
                        .map(|r| ReasonItem {
                            rule: r.rule.to_owned(),
                            holds: r.holds,
                            text: r.text.clone(),
                            basis: r.basis.to_owned(),
                            missing: r.missing.iter().map(|m| (*m).to_owned()).collect(),
                        })
                        .collect(),
                });
                decided_now.as_ref()
            }
            (last, _, _) => last,
        };
        let policy: Option<&Policy> = match decision {
            _ if decided_now.is_some() => Some(in_force.as_ref()),
            Some(d) => Some(policies.get(state, &d.policy, &d.policy_version).await?),
            None => None,
        };
        let disposition = facts.as_ref().map(|f| f.disposition);
        explain_state(
            &mut mine,
            decision,
            policy,
            disposition,
            noun,
            &state.config.notices,
        );
        records.push(mine);
    }
    let entry = AuditEvent::new(AuditKind::Lookup, &caller.name, "records")
        .purpose("self_inspection")
        .subject(format!("person:{person_key}"))
        .detail(json!({"view": "portal", "shown": records.len()}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(MyRecords { records })
}

/// Item 3: the notices addressed to the person (封存通知书 / 解除封存通知书), in full, as the formal
/// documents; audited as a `read`.
pub async fn my_notices(state: &AppState, caller: &Caller) -> Result<super::notices::Notices> {
    let person_key = own_person_key(state, caller).await?;
    let notices = state.store.person_notices(&person_key).await?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "notices")
        .subject(format!("person:{person_key}"))
        .detail(json!({"view": "portal", "rows": notices.len()}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(super::notices::Notices {
        notices: notices
            .into_iter()
            .map(super::notices::Notice::from)
            .collect(),
        // A person's own notices are few: one page.
        next: None,
    })
}

/// One of the person's notices; another's (or none) is not found, alike.
pub async fn my_notice(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<super::notices::Notice> {
    let person_key = own_person_key(state, caller).await?;
    let notice = state
        .store
        .person_notices(&person_key)
        .await?
        .into_iter()
        .find(|n| n.notice_id == id);
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "notice")
        .subject(format!("person:{person_key}"))
        .detail(json!({"view": "portal", "notice": id, "found": notice.is_some()}));
    state.store.audit(&[entry], state.clock.now()).await?;
    notice
        .map(super::notices::Notice::from)
        .ok_or(ServiceError::NotFound)
}

/// One of the person's certificates, with its verification status today.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCertificate {
    pub number: String,
    pub title: String,
    /// `no_criminal_record` or `has_criminal_record`.
    pub result: String,
    pub purpose: String,
    pub issue_date: String,
    pub valid_until: String,
    /// What `/verify` says of it today: 有效, 已过期, 尚未生效 or 无效.
    pub verification: String,
    /// The status in the certificate's own words (在有效期内, 已过有效期……).
    pub validity: String,
    /// Its printable page with the QR code.
    pub page: String,
    /// Where its QR code leads.
    pub verify: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyCertificates {
    pub certificates: Vec<MyCertificate>,
}

/// Item 4: the person's certificates, each checked as `/verify` checks it; audited as a `read`.
pub async fn my_certificates(state: &AppState, caller: &Caller) -> Result<MyCertificates> {
    let person_key = own_person_key(state, caller).await?;
    let rows = state.store.person_certificates(&person_key).await?;
    let mut certificates = Vec::with_capacity(rows.len());
    for row in rows {
        let signed = fengcun_certificate::SignedCertificate::parse(&row.file)
            .map_err(|e| ServiceError::Store(fengcun_store::StoreError::Corrupt(e.to_string())))?;
        let check = super::certificates::verify(
            state,
            &super::certificates::VerifyRequest {
                token: None,
                file: Some(String::from_utf8_lossy(&row.file).into_owned()),
            },
        );
        let (_, word) = super::certificates::verdict(&check);
        let Some(v) = check.verified else {
            return Err(ServiceError::Store(fengcun_store::StoreError::Corrupt(
                format!("certificate {} does not verify", row.number),
            )));
        };
        certificates.push(MyCertificate {
            page: format!("/api/v1/certificates/{}/page", row.number),
            verify: format!("/verify?token={}", signed.token()),
            number: row.number,
            title: v.title,
            result: v.result,
            purpose: v.purpose,
            issue_date: v.issue_date,
            valid_until: v.valid_until,
            verification: word.to_owned(),
            validity: v.validity,
        });
    }
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "certificates")
        .subject(format!("person:{person_key}"))
        .detail(json!({"view": "portal", "rows": certificates.len()}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(MyCertificates { certificates })
}

/// A person's application for their own certificate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MyApplication {
    /// The person's own identity number (the certificate carries it, masked): checked against
    /// the account's; any other is refused, whoever's it is.
    pub id_number: String,
    /// The declared purpose (`就业`, `入学`, …; 2 to 50 characters).
    pub purpose: String,
}

/// Item 4: the person applies for their own certificate, as `POST /api/v1/certificates` does
/// for them (in the name they were enrolled with).
pub async fn apply_certificate(
    state: &AppState,
    caller: &Caller,
    application: MyApplication,
) -> Result<super::certificates::Issued> {
    own_person_key(state, caller).await?;
    super::certificates::apply(
        state,
        caller,
        super::certificates::Application {
            id_number: application.id_number,
            name: None,
            purpose: application.purpose,
        },
    )
    .await
}
