//! Person accounts. A person's account shows that person's sealed records, so it is not an
//! administrator's to make: `POST /api/v1/users` refuses it (and audits the attempt). Until the
//! counter enrolment of the portal arrives, a person is enrolled by whoever runs the installation
//! — `fengcun user enrol-person` on the server's database and master key (docs/disclosure.md) —
//! after checking the identity card; the entry names the person by their person key, never by
//! the identity number.

use fengcun_access::RequesterKind;
use fengcun_domain::IdNumber;
use fengcun_store::{AuditEvent, AuditKind, Store, UserRow};
use serde_json::json;

use crate::config::Role;
use crate::limits;
use crate::service::ServiceError;
use crate::service::identity::{check_password, check_username, hash_password};

/// A person to enrol, as their identity card shows them.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub username: String,
    pub password: String,
    pub id_number: String,
    /// The name on the identity card: certificates are issued in it.
    pub name: String,
}

/// Makes a person's account (role `person`, requester kind `person`, their identity number as its person
/// key, their name kept sealed), audited as `user_changed` by `actor`. An existing username is
/// refused: enrolment never replaces an account.
pub async fn enrol_person(
    store: &dyn Store,
    enrolment: &Enrolment,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<UserRow, ServiceError> {
    check_username(&enrolment.username)?;
    check_password("password", &enrolment.password)?;
    let id = IdNumber::parse(&enrolment.id_number)
        .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
    let name = limits::check(limits::CERTIFICATE_NAME, &enrolment.name)?.to_owned();
    if store.user(&enrolment.username).await?.is_some() {
        return Err(ServiceError::Conflict(format!(
            "username: `{}` is taken; enrolment never replaces an account",
            enrolment.username
        )));
    }
    // One account a person: a second would be a second way into their sealed records, and the
    // counter's code (`POST /api/v1/enrolments`) finds the same account by the person key.
    let person_key = store.person_key(&format!("id:{id}"));
    if store.person_name(&person_key).await?.is_some() {
        return Err(ServiceError::Conflict(
            "id_number: this person has an account already; a lost password is set again with a code from a counter"
                .into(),
        ));
    }
    let password = enrolment.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ServiceError::Invalid(e.to_string()))??;
    let user = UserRow {
        username: enrolment.username.clone(),
        password_hash,
        role: Role::Person,
        requester_kind: Some(RequesterKind::Person),
        agency: None,
        person_key: Some(person_key.clone()),
        name: Some(name),
        disabled: false,
    };
    let event = AuditEvent::new(AuditKind::UserChanged, actor, "created")
        .subject(format!("user:{}", user.username))
        .detail(json!({"role": user.role, "requester_kind": user.requester_kind, "person": person_key, "via": "enrolment"}));
    // Insert only: a username taken meanwhile by another enrolment or creation is refused, never
    // replaced.
    if !store.add_user(&user, &[event], now).await? {
        return Err(ServiceError::Conflict(format!(
            "username: `{}` is taken; enrolment never replaces an account",
            enrolment.username
        )));
    }
    Ok(user)
}
