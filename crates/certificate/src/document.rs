//! The certificate document, its canonical bytes, the signed file, issuing and verifying.
//!
//! The format is described byte for byte in `docs/certificates.md`. In short: the certificate is
//! JSON with a fixed field order, every field present (`null` when absent), no whitespace, strings
//! as `serde_json` writes them (UTF-8, only `"`, `\` and control characters escaped). Those bytes
//! are what the issuer signs. The file wraps them with the algorithm, key id, signature and QR
//! token, in the same canonical form, plus one `\n`. Reading a file re-encodes what was read and
//! refuses it unless the bytes are identical, so every file has exactly one accepted spelling and
//! a changed byte either breaks the parse, breaks canonicity, or changes signed content.

use base64ct::{Base64, Encoding as _};
use fengcun_crypto::{Signature, SigningKey, Suite, VerifyingKey};
use fengcun_domain::date::{add_period, parse_date};
use fengcun_domain::{Date, IdNumber};
use serde::{Deserialize, Serialize};

use crate::error::CertificateError;
use crate::result::{CertificateResult, ListedConviction};
use crate::token;

/// The value of the signed `format` field of the certificates issued now.
pub const FORMAT: &str = "fengcun-certificate/2";

/// The first format, still read and verified: its identity hash was salted with the certificate
/// number only, so anyone who scanned the QR code could recover the full identity number from it
/// in a few tens of thousands of guesses (the masked form leaves only the birth date unknown).
pub const FORMAT_V1: &str = "fengcun-certificate/1";

/// Bounds that keep a certificate printable and its token inside a QR code.
pub(crate) mod limits {
    pub const NUMBER_BYTES: usize = 40;
    /// A notice's number holds its case code (up to 22 characters: a public-security case's
    /// serial has ten digits), `FC-UNSEAL-`, eight characters of its transition and the
    /// recipient's place: up to 45 characters; a notice travels as a file, not in a QR code.
    pub const NOTICE_NUMBER_BYTES: usize = 64;
    pub const NAME_CHARS: usize = 50;
    pub const PURPOSE_CHARS: usize = 50;
    pub const AGENCY_CHARS: usize = 60;
    pub const DETAIL_CHARS: usize = 100;
    pub const CHARGES: usize = 16;
    pub const CONVICTIONS: usize = 64;
}

/// Whom the certificate is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The name as on the identity card.
    pub name: String,
    /// The identity number with the birth date hidden: `110105********0025`.
    pub id_masked: String,
    /// Random bytes drawn for this certificate (format 2; `None` in a format-1 certificate). They
    /// are in the document but not in the QR token, so the token and its document digest give a
    /// guesser nothing to test identity numbers against.
    pub id_salt: Option<[u8; ID_SALT_BYTES]>,
    /// [`id_number_hash`] of the full identity number: lets a verifier who holds the file and
    /// sees the holder's identity card check that the certificate is about them.
    pub id_hash: [u8; 32],
}

/// The length of [`Person::id_salt`].
pub const ID_SALT_BYTES: usize = 16;

/// Who issued the certificate, and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The issuing agency (`北京市公安局朝阳分局`).
    pub agency: String,
    /// [`key_id`] of the signing key.
    pub key_id: String,
}

/// The content of a certificate: everything the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate number, unique per issuer (`FC-2026-00000001`).
    pub number: String,
    /// Whom it is about.
    pub person: Person,
    /// What it states.
    pub result: CertificateResult,
    /// The purpose the applicant declared (`就业`, `入学`, `出国`, …).
    pub purpose: String,
    /// Who issued it.
    pub issuer: Issuer,
    /// The date of issue; the result is as of this date.
    pub issue_date: Date,
    /// The last day on which it is valid.
    pub valid_until: Date,
    /// The algorithm suite of the signature and of `person.id_hash`.
    pub suite: Suite,
}

impl Certificate {
    /// The document's title: 无犯罪记录证明 or 不予出具无犯罪记录证明通知书.
    pub fn title(&self) -> &'static str {
        self.result.title()
    }

    /// Whether the certificate is about the holder of `id_number`: the masked form and the salted
    /// hash both match.
    pub fn is_about(&self, id_number: &IdNumber) -> bool {
        self.person.id_masked == mask_id_number(id_number)
            && self.person.id_hash
                == id_number_hash(
                    self.suite,
                    &self.number,
                    self.person.id_salt.as_ref(),
                    id_number,
                )
    }

    /// The value of the signed `format` field: format 2 if the identity hash is salted with
    /// random bytes, format 1 (read, never issued now) if not.
    pub fn format(&self) -> &'static str {
        match self.person.id_salt {
            Some(_) => FORMAT,
            None => FORMAT_V1,
        }
    }

    /// Whether the certificate is in force on `today`.
    pub fn validity(&self, today: Date) -> Validity {
        Validity::on(self.issue_date, self.valid_until, today)
    }

    /// The canonical bytes: what the signature covers (see the module documentation).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CertificateError> {
        to_json(&CertificateWire::from(self))
    }

    fn validate(&self) -> Result<(), CertificateError> {
        check_number(&self.number)?;
        check_text("person.name", &self.person.name, limits::NAME_CHARS)?;
        check_masked("person.id_masked", &self.person.id_masked)?;
        check_text("purpose", &self.purpose, limits::PURPOSE_CHARS)?;
        check_text("issuer.agency", &self.issuer.agency, limits::AGENCY_CHARS)?;
        check_key_id("issuer.key_id", &self.issuer.key_id)?;
        check_year("issue_date", self.issue_date)?;
        check_year("valid_until", self.valid_until)?;
        if self.valid_until < self.issue_date {
            return Err(invalid("valid_until", "is before the issue date"));
        }
        if let CertificateResult::HasCriminalRecord(convictions) = &self.result {
            if convictions.is_empty() {
                return Err(invalid(
                    "result.convictions",
                    "a criminal record lists at least one conviction",
                ));
            }
            if convictions.len() > limits::CONVICTIONS {
                return Err(invalid("result.convictions", "more than 64 convictions"));
            }
            for conviction in convictions {
                check_conviction(conviction, self.issue_date)?;
            }
        }
        Ok(())
    }
}

/// Whether a certificate is in force on a given day. A certificate is valid from its issue date
/// through `valid_until`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// In force.
    Valid,
    /// Its validity ended on `valid_until`.
    Expired {
        /// The last day it was valid.
        valid_until: Date,
    },
    /// Dated after the day of verification: the verifier's clock or the issuer's is wrong.
    NotYetValid {
        /// The date of issue.
        issue_date: Date,
    },
}

impl Validity {
    /// The validity on `today` of a certificate issued on `issue_date`, valid until `valid_until`.
    pub fn on(issue_date: Date, valid_until: Date, today: Date) -> Validity {
        if today < issue_date {
            Validity::NotYetValid { issue_date }
        } else if today > valid_until {
            Validity::Expired { valid_until }
        } else {
            Validity::Valid
        }
    }

    /// `true` only for [`Validity::Valid`].
    pub fn is_valid(self) -> bool {
        self == Validity::Valid
    }

    /// In Chinese, for the command line and the verification page.
    pub fn chinese(self) -> String {
        use fengcun_domain::date::chinese_date;
        match self {
            Validity::Valid => "在有效期内".to_owned(),
            Validity::Expired { valid_until } => {
                format!("已过有效期（有效期至{}）", chinese_date(valid_until))
            }
            Validity::NotYetValid { issue_date } => format!(
                "出具日期（{}）晚于验证日期，请核对日期",
                chinese_date(issue_date)
            ),
        }
    }
}

/// What the issuer gives to [`issue`]: everything but what follows from the key.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// The certificate number (`FC-2026-00000001`): ASCII capitals, digits and single hyphens,
    /// starting with a letter, at most 40 characters.
    pub number: String,
    /// The person's name.
    pub name: String,
    /// The person's identity number; only its masked form and salted hash go into the document.
    pub id_number: &'a IdNumber,
    /// Fresh random bytes for this certificate (`fengcun_crypto::random_bytes`): the salt of the
    /// identity hash. Passed in so that issuing stays a pure function.
    pub id_salt: [u8; ID_SALT_BYTES],
    /// The result, from [`crate::decide`].
    pub result: CertificateResult,
    /// The declared purpose.
    pub purpose: String,
    /// The issuing agency.
    pub agency: String,
    /// The date of issue.
    pub issue_date: Date,
    /// The last day of validity ([`default_valid_until`] gives the usual three months).
    pub valid_until: Date,
}

/// A certificate with its signature and its QR token: what is stored, printed and verified.
///
/// Made only by [`issue`] or [`SignedCertificate::parse`], so its file bytes are canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificate {
    certificate: Certificate,
    signature: Signature,
    token: String,
    message: Vec<u8>,
    file: Vec<u8>,
}

/// A certificate whose signature and token verified, with its validity on the day asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    /// The verified content.
    pub certificate: Certificate,
    /// Whether it is in force on the day of verification.
    pub validity: Validity,
}

/// Signs a certificate: builds the document from `draft` (masking and hashing the identity
/// number, naming the key), signs its canonical bytes and makes its QR token.
pub fn issue(draft: Draft<'_>, key: &SigningKey) -> Result<SignedCertificate, CertificateError> {
    let suite = key.suite();
    check_number(&draft.number)?;
    let certificate = Certificate {
        person: Person {
            name: draft.name,
            id_masked: mask_id_number(draft.id_number),
            id_salt: Some(draft.id_salt),
            id_hash: id_number_hash(suite, &draft.number, Some(&draft.id_salt), draft.id_number),
        },
        number: draft.number,
        result: draft.result,
        purpose: draft.purpose,
        issuer: Issuer {
            agency: draft.agency,
            key_id: key_id(&key.verifying_key()),
        },
        issue_date: draft.issue_date,
        valid_until: draft.valid_until,
        suite,
    };
    certificate.validate()?;
    let message = certificate.canonical_bytes()?;
    let signature = key.sign(&message);
    let token = token::issue(&certificate, &fengcun_crypto::hash(suite, &message), key)?;
    SignedCertificate::assemble(certificate, signature, token, message)
}

impl SignedCertificate {
    /// The signed content.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The compact token for the QR code (see [`crate::verify_token`]).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The signature over [`Self::signed_bytes`].
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Exactly the bytes the signature covers: the canonical certificate JSON.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.message
    }

    /// The certificate file: canonical JSON and one `\n`.
    pub fn file_bytes(&self) -> &[u8] {
        &self.file
    }

    /// Reads a certificate file strictly: the JSON must have exactly the file format's fields,
    /// valid values, and be byte for byte canonical. Does not check the signature: see
    /// [`Self::verify`] or [`verify_file`].
    pub fn parse(bytes: &[u8]) -> Result<SignedCertificate, CertificateError> {
        let wire: FileWire = serde_json::from_slice(bytes)
            .map_err(|err| CertificateError::Malformed(err.to_string()))?;
        let certificate = Certificate::try_from(&wire.certificate)?;
        if wire.algorithm != algorithm_name(certificate.suite) {
            return Err(invalid(
                "algorithm",
                "does not name the certificate's suite (SM2-SM3 for sm, Ed25519 for international)",
            ));
        }
        if wire.key_id != certificate.issuer.key_id {
            return Err(invalid("key_id", "differs from certificate.issuer.key_id"));
        }
        let signature = Base64::decode_vec(&wire.signature)
            .map_err(|_| invalid("signature", "is not base64"))?;
        if signature.len() != 64 {
            return Err(invalid("signature", "must be 64 bytes"));
        }
        let message = certificate.canonical_bytes()?;
        let signed =
            SignedCertificate::assemble(certificate, Signature(signature), wire.token, message)?;
        if signed.file != bytes {
            return Err(CertificateError::NotCanonical);
        }
        Ok(signed)
    }

    /// Verifies the signature and the token with the issuer's public key, and says whether the
    /// certificate is in force on `today`.
    pub fn verify(&self, key: &VerifyingKey, today: Date) -> Result<Validity, CertificateError> {
        let certificate = &self.certificate;
        if key.suite() != certificate.suite {
            return Err(CertificateError::WrongSuite {
                expected: key.suite(),
                found: certificate.suite,
            });
        }
        let expected = key_id(key);
        if certificate.issuer.key_id != expected {
            return Err(CertificateError::WrongKey {
                expected,
                found: certificate.issuer.key_id.clone(),
            });
        }
        key.verify(&self.message, &self.signature)
            .map_err(|_| CertificateError::BadSignature)?;
        let token = token::verify_token(&self.token, key, today)?;
        let digest = fengcun_crypto::hash(certificate.suite, &self.message);
        if token.summary != token::TokenSummary::of(certificate, digest) {
            return Err(CertificateError::TokenMismatch);
        }
        Ok(certificate.validity(today))
    }

    fn assemble(
        certificate: Certificate,
        signature: Signature,
        token: String,
        message: Vec<u8>,
    ) -> Result<SignedCertificate, CertificateError> {
        let wire = FileWireOut {
            certificate: CertificateWire::from(&certificate),
            algorithm: algorithm_name(certificate.suite),
            key_id: &certificate.issuer.key_id,
            signature: Base64::encode_string(&signature.0),
            token: &token,
        };
        let mut file = to_json(&wire)?;
        file.push(b'\n');
        Ok(SignedCertificate {
            certificate,
            signature,
            token,
            message,
            file,
        })
    }
}

/// Reads a certificate file strictly and verifies it with the issuer's public key
/// ([`SignedCertificate::parse`], then [`SignedCertificate::verify`]).
pub fn verify_file(
    bytes: &[u8],
    key: &VerifyingKey,
    today: Date,
) -> Result<VerifiedCertificate, CertificateError> {
    let signed = SignedCertificate::parse(bytes)?;
    let validity = signed.verify(key, today)?;
    Ok(VerifiedCertificate {
        certificate: signed.certificate,
        validity,
    })
}

/// The identity number as shown on a certificate: the region code and the last four characters,
/// the birth date hidden (`110105********0025`).
pub fn mask_id_number(id_number: &IdNumber) -> String {
    let text = id_number.as_str();
    format!("{}********{}", &text[..6], &text[14..])
}

/// The salted hash binding a certificate to an identity number, `H` being the suite's hash
/// (SM3 or SHA-256) and `id_number` its 18 ASCII characters with a capital `X`:
///
/// - format 2: `H("fengcun-certificate/2 id\0" ‖ number ‖ "\0" ‖ salt ‖ id_number)`, the salt
///   the 16 random bytes of `person.id_salt`;
/// - format 1 (`salt` is `None`): `H("fengcun-certificate/1 id\0" ‖ number ‖ "\0" ‖ id_number)`.
///
/// Both bind; only the second hides from whoever lacks the file. The masked form leaves only the
/// birth date unknown, a few tens of thousands of guesses: without the salt, the QR code alone
/// gave the identity number away.
pub fn id_number_hash(
    suite: Suite,
    number: &str,
    salt: Option<&[u8; ID_SALT_BYTES]>,
    id_number: &IdNumber,
) -> [u8; 32] {
    let mut input = Vec::with_capacity(80);
    match salt {
        Some(_) => input.extend_from_slice(b"fengcun-certificate/2 id\0"),
        None => input.extend_from_slice(b"fengcun-certificate/1 id\0"),
    }
    input.extend_from_slice(number.as_bytes());
    input.push(0);
    if let Some(salt) = salt {
        input.extend_from_slice(salt);
    }
    input.extend_from_slice(id_number.as_str().as_bytes());
    fengcun_crypto::hash(suite, &input)
}

/// A public key's id: the first 8 bytes, in lower-case hex, of the suite's hash (SM3 or SHA-256)
/// of its SubjectPublicKeyInfo DER.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = fengcun_crypto::hash(key.suite(), &key.to_der());
    base16ct::lower::encode_string(&digest[..8])
}

/// The usual validity: three months from the issue date. Counted as the Civil Code counts periods
/// (arts. 201 and 202: the day of issue is not counted, the period ends on the corresponding day of
/// the last month, or its last day if it has none), so 2026-01-31 gives 2026-04-30.
pub fn default_valid_until(issue_date: Date) -> Option<Date> {
    add_period(issue_date, 0, 3, 0)
}

/// `SM2-SM3` or `Ed25519`: the file's `algorithm` field.
pub fn algorithm_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Sm => "SM2-SM3",
        Suite::International => "Ed25519",
    }
}

pub(crate) fn invalid(field: &'static str, reason: &'static str) -> CertificateError {
    CertificateError::InvalidField { field, reason }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, CertificateError> {
    serde_json::to_vec(value).map_err(|err| CertificateError::Malformed(err.to_string()))
}

pub(crate) fn check_number(number: &str) -> Result<(), CertificateError> {
    if number.is_empty() || number.len() > limits::NUMBER_BYTES {
        return Err(invalid("number", "must have 1 to 40 characters"));
    }
    check_number_characters(number)
}

/// A notice's number: as a certificate's, longer (see [`limits::NOTICE_NUMBER_BYTES`]).
pub(crate) fn check_notice_number(number: &str) -> Result<(), CertificateError> {
    if number.is_empty() || number.len() > limits::NOTICE_NUMBER_BYTES {
        return Err(invalid("number", "must have 1 to 64 characters"));
    }
    check_number_characters(number)
}

fn check_number_characters(number: &str) -> Result<(), CertificateError> {
    let field = "number";
    let bytes = number.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-')
    {
        return Err(invalid(field, "may hold only A-Z, 0-9 and `-`"));
    }
    if !bytes[0].is_ascii_uppercase() || number.ends_with('-') || number.contains("--") {
        return Err(invalid(
            field,
            "must start with a letter and use single hyphens between parts",
        ));
    }
    Ok(())
}

/// Text shown on the certificate: not empty, no surrounding white space, no control characters,
/// and no invisible character that makes it read differently from what it holds (bidirectional
/// controls such as U+202E, zero-width characters, the byte-order mark).
pub(crate) fn check_text(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<(), CertificateError> {
    if text.is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if text.chars().count() > max_chars || text.len() > 255 {
        return Err(invalid(field, "is too long"));
    }
    if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
        return Err(invalid(field, "begins or ends with white space"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "holds a control character"));
    }
    if text.chars().any(fengcun_domain::is_invisible_formatting) {
        return Err(invalid(
            field,
            "holds a bidirectional or zero-width formatting character",
        ));
    }
    Ok(())
}

pub(crate) fn check_masked(field: &'static str, masked: &str) -> Result<(), CertificateError> {
    let bytes = masked.as_bytes();
    let ok = bytes.len() == 18
        && bytes[..6].iter().all(u8::is_ascii_digit)
        && bytes[6..14].iter().all(|b| *b == b'*')
        && bytes[14..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            "must be six digits, eight `*`, three digits and a check character",
        ))
    }
}

pub(crate) fn check_key_id(field: &'static str, key_id: &str) -> Result<(), CertificateError> {
    let ok = key_id.len() == 16
        && key_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(field, "must be 16 lower-case hex digits"))
    }
}

pub(crate) fn check_year(field: &'static str, date: Date) -> Result<(), CertificateError> {
    if (1900..=9999).contains(&date.year()) {
        Ok(())
    } else {
        Err(invalid(field, "year must be between 1900 and 9999"))
    }
}

fn check_conviction(
    conviction: &ListedConviction,
    issue_date: Date,
) -> Result<(), CertificateError> {
    let field = "result.convictions";
    if conviction.charges.is_empty() || conviction.charges.len() > limits::CHARGES {
        return Err(invalid(field, "a conviction lists 1 to 16 charges"));
    }
    for charge in &conviction.charges {
        check_text("result.convictions.charges", charge, limits::NAME_CHARS)?;
    }
    let details = [
        ("result.convictions.sentence", &conviction.sentence),
        ("result.convictions.court", &conviction.court),
        ("result.convictions.case_number", &conviction.case_number),
    ];
    for (field, detail) in details {
        if let Some(text) = detail {
            check_text(field, text, limits::DETAIL_CHARS)?;
        }
    }
    check_year(
        "result.convictions.judgment_effective_date",
        conviction.judgment_effective_date,
    )?;
    if conviction.judgment_effective_date > issue_date {
        return Err(invalid(
            "result.convictions.judgment_effective_date",
            "is after the issue date: the judgment was not yet effective",
        ));
    }
    Ok(())
}

// ---- the JSON shapes -------------------------------------------------------------------------
//
// Field order here is the canonical order. Every struct refuses unknown fields; serde refuses a
// duplicate field; whatever else JSON allows (white space, escapes, other orders, a missing
// optional field) is refused by the byte comparison in `SignedCertificate::parse`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWire {
    certificate: CertificateWire,
    algorithm: String,
    key_id: String,
    signature: String,
    token: String,
}

#[derive(Serialize)]
struct FileWireOut<'a> {
    certificate: CertificateWire,
    algorithm: &'a str,
    key_id: &'a str,
    signature: String,
    token: &'a str,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateWire {
    format: String,
    number: String,
    person: PersonWire,
    result: ResultWire,
    purpose: String,
    issuer: IssuerWire,
    issue_date: String,
    valid_until: String,
    suite: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonWire {
    name: String,
    id_masked: String,
    /// Present in format 2, absent in format 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_salt: Option<String>,
    id_hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultWire {
    kind: String,
    convictions: Vec<ConvictionWire>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvictionWire {
    charges: Vec<String>,
    sentence: Option<String>,
    judgment_effective_date: String,
    court: Option<String>,
    case_number: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerWire {
    agency: String,
    key_id: String,
}

impl From<&Certificate> for CertificateWire {
    fn from(certificate: &Certificate) -> Self {
        CertificateWire {
            format: certificate.format().to_owned(),
            number: certificate.number.clone(),
            person: PersonWire {
                name: certificate.person.name.clone(),
                id_masked: certificate.person.id_masked.clone(),
                id_salt: certificate
                    .person
                    .id_salt
                    .map(|salt| base16ct::lower::encode_string(&salt)),
                id_hash: base16ct::lower::encode_string(&certificate.person.id_hash),
            },
            result: ResultWire {
                kind: certificate.result.code().to_owned(),
                convictions: certificate
                    .result
                    .convictions()
                    .iter()
                    .map(|c| ConvictionWire {
                        charges: c.charges.clone(),
                        sentence: c.sentence.clone(),
                        judgment_effective_date: c.judgment_effective_date.to_string(),
                        court: c.court.clone(),
                        case_number: c.case_number.clone(),
                    })
                    .collect(),
            },
            purpose: certificate.purpose.clone(),
            issuer: IssuerWire {
                agency: certificate.issuer.agency.clone(),
                key_id: certificate.issuer.key_id.clone(),
            },
            issue_date: certificate.issue_date.to_string(),
            valid_until: certificate.valid_until.to_string(),
            suite: certificate.suite.code().to_owned(),
        }
    }
}

impl TryFrom<&CertificateWire> for Certificate {
    type Error = CertificateError;

    fn try_from(wire: &CertificateWire) -> Result<Self, Self::Error> {
        let id_salt = match (wire.format.as_str(), &wire.person.id_salt) {
            (FORMAT, Some(hex)) => Some(decode_salt(hex)?),
            (FORMAT, None) => return Err(invalid("person.id_salt", "is missing (format 2)")),
            (FORMAT_V1, None) => None,
            (FORMAT_V1, Some(_)) => {
                return Err(invalid("person.id_salt", "has no place in format 1"));
            }
            _ => {
                return Err(invalid(
                    "format",
                    "is not fengcun-certificate/2 (or the older fengcun-certificate/1)",
                ));
            }
        };
        let date = |field: &'static str, text: &str| {
            parse_date(text).map_err(|_| invalid(field, "is not a YYYY-MM-DD date"))
        };
        let mut id_hash = [0u8; 32];
        let decoded = base16ct::lower::decode(&wire.person.id_hash, &mut id_hash)
            .map_err(|_| invalid("person.id_hash", "must be 64 lower-case hex digits"))?;
        if decoded.len() != 32 {
            return Err(invalid(
                "person.id_hash",
                "must be 64 lower-case hex digits",
            ));
        }
        let convictions = wire
            .result
            .convictions
            .iter()
            .map(|c| {
                Ok(ListedConviction {
                    charges: c.charges.clone(),
                    sentence: c.sentence.clone(),
                    judgment_effective_date: date(
                        "result.convictions.judgment_effective_date",
                        &c.judgment_effective_date,
                    )?,
                    court: c.court.clone(),
                    case_number: c.case_number.clone(),
                })
            })
            .collect::<Result<Vec<_>, CertificateError>>()?;
        let result = match wire.result.kind.as_str() {
            "no_criminal_record" if convictions.is_empty() => CertificateResult::NoCriminalRecord,
            "no_criminal_record" => {
                return Err(invalid(
                    "result.convictions",
                    "must be empty when there is no criminal record",
                ));
            }
            "has_criminal_record" => CertificateResult::HasCriminalRecord(convictions),
            _ => {
                return Err(invalid(
                    "result.kind",
                    "must be no_criminal_record or has_criminal_record",
                ));
            }
        };
        let certificate = Certificate {
            number: wire.number.clone(),
            person: Person {
                name: wire.person.name.clone(),
                id_masked: wire.person.id_masked.clone(),
                id_salt,
                id_hash,
            },
            result,
            purpose: wire.purpose.clone(),
            issuer: Issuer {
                agency: wire.issuer.agency.clone(),
                key_id: wire.issuer.key_id.clone(),
            },
            issue_date: date("issue_date", &wire.issue_date)?,
            valid_until: date("valid_until", &wire.valid_until)?,
            suite: Suite::parse(&wire.suite)
                .ok_or_else(|| invalid("suite", "must be sm or international"))?,
        };
        certificate.validate()?;
        Ok(certificate)
    }
}

fn decode_salt(hex: &str) -> Result<[u8; ID_SALT_BYTES], CertificateError> {
    let mut salt = [0u8; ID_SALT_BYTES];
    match base16ct::lower::decode(hex, &mut salt) {
        Ok(decoded) if decoded.len() == ID_SALT_BYTES => Ok(salt),
        _ => Err(invalid(
            "person.id_salt",
            "must be 32 lower-case hex digits",
        )),
    }
}
