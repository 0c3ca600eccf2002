//! Certificates (无犯罪记录证明 / 不予出具无犯罪记录证明通知书): issued to the person (online, or at a
//! public-security counter by a clerk), signed with the server's key, kept, audited; verified by
//! anyone, without an account, at `POST /api/v1/verify` and on the page `GET /verify?token=…`.

use fengcun_access::RequesterKind;
use fengcun_certificate::{
    CertificateResult, Draft, Lang, RecordAsSeen, TokenResult, default_valid_until, issue,
    render_html, token_from_scan, verify_file, verify_token,
};
use fengcun_domain::{Date, Disposition, IdNumber};
use fengcun_store::{AuditEvent, AuditKind, CertificateOutcome, CertificateRow, PersonRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::disclosure::{charge_names, stored_record};
use super::{Caller, Result, ServiceError, refuse_as};
use crate::AppState;
use crate::config::Role;
use crate::limits;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub id_number: String,
    /// The name as on the identity card (1 to 50 characters): checked against the name the
    /// platform holds, and entered by a counter clerk only where it holds none.
    #[serde(default)]
    pub name: Option<String>,
    /// The declared purpose (`就业`, `入学`, …; 2 to 50 characters).
    pub purpose: String,
}

/// Today's date in China, the date a certificate is dated with (as the store dates legal
/// effects).
fn today(state: &AppState) -> Date {
    fengcun_domain::date::china_date(state.clock.now())
}

/// Who may apply for whom: the person for themself; a public-security clerk at the counter for
/// the person in front of them.
async fn check_applicant(state: &AppState, caller: &Caller, person_key: &str) -> Result<()> {
    let allowed = match (caller.role, caller.kind) {
        (Role::Person, Some(RequesterKind::Person)) => {
            caller.person_key.as_deref() == Some(person_key)
        }
        (Role::Clerk, Some(RequesterKind::PublicSecurity)) => true,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        let reason =
            "a certificate is issued to the person themself, or by a public-security clerk"
                .to_owned();
        let entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, "certificate")
            .subject(person_key)
            .detail(serde_json::json!({"reason": reason}));
        Err(refuse_as(state, entry, reason).await?)
    }
}

/// The name a certificate is issued in, and who entered it if the platform held none.
///
/// The platform's own knowledge comes first: the name the person was enrolled with, else the
/// name the agencies' events carry (in the records' facts). A name given that differs from it is
/// refused. Only where the platform holds no name does a public-security clerk at the counter
/// enter the one on the identity card; the certificate's entry says who did.
async fn certificate_name(
    state: &AppState,
    caller: &Caller,
    person_key: &str,
    records: &[PersonRecord],
    given: Option<&str>,
    today: Date,
) -> Result<(String, Option<String>)> {
    let mismatch = || {
        ServiceError::Invalid(
            "name: differs from the name the platform holds for this identity number".into(),
        )
    };
    if let Some(enrolled) = state.store.person_name(person_key).await? {
        return match given {
            Some(given) if given != enrolled => Err(mismatch()),
            _ => Ok((enrolled, None)),
        };
    }
    // Only from records a certificate may reveal: a name taken from a sealed record would tell
    // the clerk, by a refusal, that a sealed record exists.
    let from_events: std::collections::BTreeSet<&str> = records
        .iter()
        .filter(|r| !r.sealed_on(today))
        .filter_map(|r| r.facts.as_ref()?["person"]["name"].as_str())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    match (given, from_events.len()) {
        (Some(given), 1..) if from_events.contains(given) => Ok((given.to_owned(), None)),
        (Some(_), 1..) => Err(mismatch()),
        (None, 1) => Ok((from_events.iter().next().map(|n| (*n).to_owned()).unwrap_or_default(), None)),
        (None, _) if !from_events.is_empty() => Err(ServiceError::Invalid(
            "name: the agencies' records hold more than one name for this identity number; give the one on the identity card".into(),
        )),
        (Some(given), _) if caller.role == Role::Clerk => {
            Ok((given.to_owned(), Some(caller.name.clone())))
        }
        (None, _) if caller.role == Role::Clerk => Err(ServiceError::Invalid(
            "name: the platform holds no name for this identity number; enter the one on the identity card".into(),
        )),
        _ => Err(ServiceError::Invalid(
            "name: the platform holds no name for this identity number; apply at a public-security counter".into(),
        )),
    }
}

/// Whether a record will be listed on the certificate: an effective conviction not sealed (the
/// certificate crate decides it; this only spares reading the others' judgments).
fn listed(seen: &RecordAsSeen) -> bool {
    seen.disposition == Disposition::Convicted
        && seen.judgment_effective_date.is_some()
        && !seen.sealed
}

/// The court that gave a record's last judgment, by the name it is configured with (else its
/// code), and that judgment's case number (案号), from the record's events.
async fn judgment_of(
    state: &AppState,
    record: &PersonRecord,
) -> Result<(Option<String>, Option<String>)> {
    let lives = state.store.timelines(&record.case_code, None).await?;
    let judgment = lives
        .iter()
        .filter(|life| life.record.person_key == record.person_key)
        .flat_map(|life| life.events.iter())
        .filter(|e| e.kind == "judgment")
        .max_by(|a, b| (&a.date, &a.received_at).cmp(&(&b.date, &b.received_at)));
    let Some(judgment) = judgment else {
        return Ok((None, None));
    };
    let court = state.config.agency_name(&judgment.agency_code);
    Ok((Some(court), judgment.document_number.clone()))
}

/// A stored record as the certificate sees it on `today`.
fn as_seen(record: &PersonRecord, today: Date) -> Result<RecordAsSeen> {
    let facts = stored_record(record)?;
    Ok(RecordAsSeen {
        disposition: facts.as_ref().map_or(Disposition::Open, |f| f.disposition),
        judgment_effective_date: facts.as_ref().and_then(|f| f.judgment_effective_date),
        sealed: record.sealed_on(today),
        charges: facts.as_ref().map(charge_names).unwrap_or_default(),
        sentence: facts.as_ref().and_then(|f| f.sentence).map(|s| s.chinese()),
        court: None,
        case_number: Some(record.case_code.clone()),
    })
}

/// A signed certificate file, as `fengcun_certificate` writes it (the bytes are its own: canonical,
/// signed). Describes the body of `GET /api/v1/certificates/{number}` and `Issued::file`; the
/// tests read real files into it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateFile {
    pub certificate: CertificateBody,
    /// `SM2-SM3` or `Ed25519`.
    pub algorithm: String,
    /// The signing key's id.
    pub key_id: String,
    /// The signature over the certificate's canonical bytes (base64url).
    pub signature: String,
    /// The QR code's token.
    pub token: String,
}

/// What the certificate says.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateBody {
    /// `fengcun-certificate/2` (files issued before it: `fengcun-certificate/1`)
    pub format: String,
    pub number: String,
    pub person: CertificatePerson,
    pub result: CertificateResultBody,
    pub purpose: String,
    pub issuer: CertificateIssuer,
    /// YYYY-MM-DD
    pub issue_date: String,
    /// YYYY-MM-DD
    pub valid_until: String,
    /// `sm` or `international`.
    pub suite: String,
}

/// The person, as the platform knows them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificatePerson {
    pub name: String,
    /// The identity number, masked.
    pub id_masked: String,
    /// The random salt of the identity hash (hex; format 2 only).
    pub id_salt: Option<String>,
    /// The identity number's salted hash (hex).
    pub id_hash: String,
}

/// `no_criminal_record`, or `has_criminal_record` with the convictions listed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateResultBody {
    pub kind: String,
    pub convictions: Vec<CertificateConviction>,
}

/// Who issued it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateIssuer {
    pub agency: String,
    pub key_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateConviction {
    pub charges: Vec<String>,
    /// In Chinese.
    pub sentence: Option<String>,
    /// YYYY-MM-DD
    pub judgment_effective_date: String,
    pub court: Option<String>,
    pub case_number: Option<String>,
}

/// A certificate issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    /// The signed document.
    pub file: String,
    pub number: String,
    /// Where its printable page is.
    pub page: String,
    /// `no_criminal_record` or `has_criminal_record`.
    pub result: String,
    pub title: String,
    /// For the QR code.
    pub token: String,
    /// Where the QR code leads.
    pub verify: String,
}

/// Decides, signs, keeps and audits a certificate.
pub async fn apply(state: &AppState, caller: &Caller, application: Application) -> Result<Issued> {
    let id = IdNumber::parse(&application.id_number)
        .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
    let given = limits::check_optional(limits::CERTIFICATE_NAME, application.name.as_deref())?;
    let purpose = limits::check(limits::CERTIFICATE_PURPOSE, &application.purpose)?;
    let person_key = state.store.person_key(&format!("id:{id}"));
    check_applicant(state, caller, &person_key).await?;
    let today = today(state);
    let records = state
        .store
        .records_of(Some(&person_key), None, &|_, _, _| true)
        .await?;
    let (name, entered_by) = match certificate_name(
        state,
        caller,
        &person_key,
        &records,
        given,
        today,
    )
    .await
    {
        Ok(named) => named,
        Err(refused) => {
            // A refused name is a trace too: repeated tries would otherwise test names
            // against the platform's unseen.
            let entry = AuditEvent::new(AuditKind::Certificate, &caller.name, "refused")
                    .subject(person_key.as_str())
                    .detail(serde_json::json!({"reason": refused.to_string(), "role": caller.role.code(), "agency": caller.agency}));
            state.store.audit(&[entry], state.clock.now()).await?;
            return Err(refused);
        }
    };
    let mut seen = records
        .iter()
        .map(|r| as_seen(r, today))
        .collect::<Result<Vec<RecordAsSeen>>>()?;
    for (record, seen) in records.iter().zip(seen.iter_mut()) {
        if listed(seen) {
            let (court, case_number) = judgment_of(state, record).await?;
            seen.court = court;
            seen.case_number = case_number.or(seen.case_number.take());
        }
    }
    let decision = fengcun_certificate::decide(&seen, today);
    let valid_until = default_valid_until(today)
        .ok_or_else(|| ServiceError::Invalid("no validity date after today".into()))?;
    let number = format!(
        "FC-{}-{}",
        today.year(),
        fengcun_crypto::random_hex::<6>().to_ascii_uppercase()
    );
    let signed = issue(
        Draft {
            number: number.clone(),
            name,
            id_number: &id,
            id_salt: fengcun_crypto::random_bytes(),
            result: decision.result.clone(),
            purpose: purpose.to_owned(),
            agency: state.config.certificate_issuer.clone(),
            issue_date: today,
            valid_until,
        },
        &state.signing,
    )
    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let now = state.clock.now();
    let event = AuditEvent::new(AuditKind::Certificate, &caller.name, decision.result.code())
        .purpose("certificate")
        .subject(format!("certificate:{number}"))
        .detail(json!({"person": person_key, "declared_purpose": purpose, "listed": decision.result.convictions().len(), "name_entered_by": entered_by, "role": caller.role.code(), "agency": caller.agency}));
    state
        .store
        .put_certificate(
            &CertificateRow {
                number: number.clone(),
                person_key,
                result: match decision.result {
                    CertificateResult::NoCriminalRecord => CertificateOutcome::NoCriminalRecord,
                    CertificateResult::HasCriminalRecord(_) => {
                        CertificateOutcome::HasCriminalRecord
                    }
                },
                issued_by: caller.name.clone(),
                issued_at: now.to_string(),
                file: signed.file_bytes().to_vec(),
            },
            &[event],
            now,
        )
        .await?;
    Ok(Issued {
        file: String::from_utf8_lossy(signed.file_bytes()).into_owned(),
        page: format!("/api/v1/certificates/{number}/page"),
        result: decision.result.code().to_owned(),
        title: decision.result.title().to_owned(),
        token: signed.token().to_owned(),
        verify: format!("/verify?token={}", signed.token()),
        number,
    })
}

/// A kept certificate, for its issuer, an auditor, or the person it is about.
async fn kept(state: &AppState, caller: &Caller, number: &str) -> Result<CertificateRow> {
    let row = state
        .store
        .certificate(number)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let allowed = caller.role == Role::Auditor
        || row.issued_by == caller.name
        || caller.person_key.as_deref() == Some(row.person_key.as_str());
    if allowed {
        // Reading a kept certificate (which may list convictions) leaves its trace too.
        state
            .store
            .audit(
                &[
                    AuditEvent::new(AuditKind::Certificate, &caller.name, "read")
                        .subject(format!("certificate:{number}")),
                ],
                state.clock.now(),
            )
            .await?;
        Ok(row)
    } else {
        // The same answer as for a number never issued.
        Err(ServiceError::NotFound)
    }
}

/// The certificate file (a JSON document, signed).
pub async fn file(state: &AppState, caller: &Caller, number: &str) -> Result<Vec<u8>> {
    let row = kept(state, caller, number).await?;
    Ok(row.file)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// zh (default) or en
    #[serde(default)]
    pub lang: Option<String>,
}

/// The printable page (HTML) with its QR code.
pub async fn page(
    state: &AppState,
    caller: &Caller,
    number: &str,
    query: PageQuery,
) -> Result<String> {
    let row = kept(state, caller, number).await?;
    let signed = fengcun_certificate::SignedCertificate::parse(&row.file)
        .map_err(|e| ServiceError::Store(fengcun_store::StoreError::Corrupt(e.to_string())))?;
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(Lang::Zh);
    // A phone that scans the code needs the host; without a configured public address the code
    // carries the signed token alone, which verifies offline.
    let verify_url = state
        .config
        .public_url
        .as_ref()
        .map(|base| format!("{base}/verify?token="));
    render_html(&signed, lang, verify_url.as_deref())
        .map_err(|e| ServiceError::Invalid(e.to_string()))
}

#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyRequest {
    /// The QR code's token (or the URL it encodes) …
    #[serde(default)]
    pub token: Option<String>,
    /// … or the certificate file.
    #[serde(default)]
    pub file: Option<String>,
}

/// What a certificate says, once its signature is verified.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    pub id_masked: String,
    pub in_force: bool,
    pub issue_date: String,
    pub issuer: String,
    pub name: String,
    pub number: String,
    pub purpose: String,
    /// `no_criminal_record` or `has_criminal_record`.
    pub result: String,
    pub result_chinese: String,
    pub title: String,
    pub valid_until: String,
    pub validity: String,
}

/// What a verification says, in the certificate's own terms.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Why the verification failed (only when it did, on a document that was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub message: String,
    pub valid: bool,
    /// The certificate's contents (only when valid).
    #[serde(flatten)]
    pub verified: Option<Verified>,
}

/// Checks a certificate file or token with the platform's key (public).
pub fn verify(state: &AppState, request: &VerifyRequest) -> Verification {
    // The key the document names, among every key the platform has signed with: a certificate
    // issued before the signing key was rotated verifies with the key that signed it.
    let named = match (&request.token, &request.file) {
        (Some(token), None) => fengcun_certificate::token_key_id(token_from_scan(token)).ok(),
        (None, Some(file)) => fengcun_certificate::SignedCertificate::parse(file.as_bytes())
            .ok()
            .map(|signed| signed.certificate().issuer.key_id.clone()),
        _ => None,
    };
    let key = named
        .and_then(|id| {
            state
                .verifying_keys
                .iter()
                .find(|k| fengcun_certificate::key_id(k) == id)
                .cloned()
        })
        .unwrap_or_else(|| state.signing.verifying_key());
    let today = today(state);
    let verified = match (&request.token, &request.file) {
        (Some(token), None) => {
            verify_token(token_from_scan(token), &key, today).map(|v| Verified {
                number: v.summary.number,
                result: match v.summary.result {
                    TokenResult::NoCriminalRecord => "no_criminal_record",
                    TokenResult::HasCriminalRecord { .. } => "has_criminal_record",
                }
                .to_owned(),
                result_chinese: v.summary.result.chinese().to_owned(),
                title: v.summary.result.title().to_owned(),
                name: v.summary.name,
                id_masked: v.summary.id_masked,
                purpose: v.summary.purpose,
                issuer: v.summary.agency,
                issue_date: v.summary.issue_date.to_string(),
                valid_until: v.summary.valid_until.to_string(),
                validity: v.validity.chinese().to_owned(),
                in_force: v.validity.is_valid(),
            })
        }
        (None, Some(file)) => verify_file(file.as_bytes(), &key, today).map(|v| Verified {
            number: v.certificate.number,
            result: v.certificate.result.code().to_owned(),
            result_chinese: v.certificate.result.chinese().to_owned(),
            title: v.certificate.result.title().to_owned(),
            name: v.certificate.person.name,
            id_masked: v.certificate.person.id_masked,
            purpose: v.certificate.purpose,
            issuer: v.certificate.issuer.agency,
            issue_date: v.certificate.issue_date.to_string(),
            valid_until: v.certificate.valid_until.to_string(),
            validity: v.validity.chinese().to_owned(),
            in_force: v.validity.is_valid(),
        }),
        _ => {
            return Verification {
                detail: None,
                message: "请提供 token 或 file 之一".to_owned(),
                valid: false,
                verified: None,
            };
        }
    };
    match verified {
        Ok(verified) => Verification {
            detail: None,
            message: "证明真实有效：签名验证通过".to_owned(),
            valid: true,
            verified: Some(verified),
        },
        Err(error) => Verification {
            detail: Some(error.to_string()),
            message: "验证失败：证明被篡改、伪造或格式不正确".to_owned(),
            valid: false,
            verified: None,
        },
    }
}

/// The answer to a verification link that cannot be read (a parameter given twice, a broken
/// encoding): nothing was verified.
pub fn unreadable_link() -> Verification {
    Verification {
        detail: None,
        message: "核验链接无法识别：请重新扫描证明上的二维码".to_owned(),
        valid: false,
        verified: None,
    }
}

/// The verdict a phone shows in large type: 有效, 已过期, 尚未生效 or 无效 (a certificate is never
/// revoked on this platform today: a new one is issued instead), with its class for the colour.
pub fn verdict(result: &Verification) -> (&'static str, &'static str) {
    match &result.verified {
        None => ("invalid", "无效"),
        // A genuine notice of refusal is no certificate of no criminal record: its verdict must
        // not read like one (a large green 有效) to the employer who scans it.
        Some(v) if v.in_force && v.result == "has_criminal_record" => {
            ("refusal", "有效 · 不予出具无犯罪记录证明")
        }
        Some(v) if v.in_force => ("valid", "有效"),
        Some(v) if v.validity.starts_with("已过有效期") => ("expired", "已过期"),
        Some(_) => ("not-yet-valid", "尚未生效"),
    }
}
