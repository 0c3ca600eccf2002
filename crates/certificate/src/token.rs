//! The compact signed token carried by the certificate's QR code.
//!
//! base64url without padding (RFC 4648 §5) of a binary payload followed by its 64-byte signature:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0  | 3  | magic `FCT` |
//! | 3  | 1  | version: `0x02` (`0x01` in tokens of format-1 certificates) |
//! | 4  | 1  | suite: `0x01` SM2-SM3, `0x02` Ed25519 |
//! | 5  | 1  | result: `0x00` no criminal record, `0x01` has criminal record |
//! | 6  | 1  | number of listed convictions (0 with result 0, 1–64 with result 1) |
//! | 7  | 4  | issue date: year (u16 big-endian), month, day |
//! | 11 | 4  | valid until, the same way |
//! | 15 | 8  | key id (the 8 bytes whose hex is the certificate's key id) |
//! | 23 | 32 | document digest: the suite's hash of the certificate's canonical bytes |
//! | 55 | …  | number, name, masked identity number, purpose, agency: each a length byte and UTF-8 |
//! | …  | 64 | signature over every byte before it |
//!
//! A version-1 token (of a format-1 certificate) has the identity-number hash (32 bytes) between
//! the key id and the document digest. Version 2 leaves it out: the token is what a camera sees
//! on paper, and a hash there let anyone recover the identity number.
//!
//! Every byte is checked on reading: unknown magic, version, suite or result, inconsistent counts,
//! impossible dates, values a certificate may not hold, bytes left over, or a base64 spelling that
//! is not the canonical one are refused before the signature is even looked at.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use fengcun_crypto::{Signature, SigningKey, Suite, VerifyingKey};
use fengcun_domain::{Date, IdNumber};

use crate::document::{
    Certificate, Validity, check_key_id, check_masked, check_number, check_text, check_year,
    id_number_hash, invalid, key_id, limits,
};
use crate::error::CertificateError;
use crate::result::CertificateResult;

const MAGIC: &[u8; 3] = b"FCT";
/// The version of tokens of format-2 certificates: no identity hash.
const VERSION: u8 = 2;
/// The version of tokens of format-1 certificates: the identity hash at offset 23.
const VERSION_1: u8 = 1;
const SIGNATURE_LEN: usize = 64;

/// The result as the token carries it: the kind and how many convictions the document lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenResult {
    /// 未发现有犯罪记录.
    NoCriminalRecord,
    /// 有犯罪记录; the document lists `convictions` of them.
    HasCriminalRecord {
        /// How many convictions the document lists.
        convictions: u8,
    },
}

impl TokenResult {
    /// The document's title for this result.
    pub fn title(self) -> &'static str {
        match self {
            Self::NoCriminalRecord => "无犯罪记录证明",
            Self::HasCriminalRecord { .. } => "不予出具无犯罪记录证明通知书",
        }
    }

    /// The result in Chinese.
    pub fn chinese(self) -> String {
        match self {
            Self::NoCriminalRecord => "未发现有犯罪记录".to_owned(),
            Self::HasCriminalRecord { convictions } => format!("有犯罪记录（{convictions}项）"),
        }
    }
}

/// What a token says: the certificate's essential fields, and the digest of the full document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The certificate number.
    pub number: String,
    /// The signature suite.
    pub suite: Suite,
    /// The result.
    pub result: TokenResult,
    /// The person's name.
    pub name: String,
    /// The masked identity number.
    pub id_masked: String,
    /// The identity-number hash of a format-1 certificate (see [`crate::id_number_hash`]);
    /// `None` in the tokens issued now, which leave it out.
    pub id_hash: Option<[u8; 32]>,
    /// The declared purpose.
    pub purpose: String,
    /// The issuing agency.
    pub agency: String,
    /// The signing key's id.
    pub key_id: String,
    /// The date of issue.
    pub issue_date: Date,
    /// The last day of validity.
    pub valid_until: Date,
    /// The suite's hash of the certificate's canonical bytes: binds the token to one document.
    pub document_digest: [u8; 32],
}

impl TokenSummary {
    /// The summary a token of `certificate`, whose canonical bytes hash to `digest`, carries.
    pub fn of(certificate: &Certificate, digest: [u8; 32]) -> TokenSummary {
        let result = match &certificate.result {
            CertificateResult::NoCriminalRecord => TokenResult::NoCriminalRecord,
            CertificateResult::HasCriminalRecord(convictions) => TokenResult::HasCriminalRecord {
                convictions: u8::try_from(convictions.len()).unwrap_or(u8::MAX),
            },
        };
        TokenSummary {
            number: certificate.number.clone(),
            suite: certificate.suite,
            result,
            name: certificate.person.name.clone(),
            id_masked: certificate.person.id_masked.clone(),
            id_hash: match certificate.person.id_salt {
                Some(_) => None,
                None => Some(certificate.person.id_hash),
            },
            purpose: certificate.purpose.clone(),
            agency: certificate.issuer.agency.clone(),
            key_id: certificate.issuer.key_id.clone(),
            issue_date: certificate.issue_date,
            valid_until: certificate.valid_until,
            document_digest: digest,
        }
    }

    /// What the token can say about whether it is about the holder of `id_number`: a
    /// format-1 token can tell; a token issued now can only compare the masked form, and the
    /// certificate file ([`Certificate::is_about`]) tells the rest.
    pub fn holder(&self, id_number: &IdNumber) -> HolderCheck {
        if self.id_masked != crate::mask_id_number(id_number) {
            return HolderCheck::Differs;
        }
        match self.id_hash {
            None => HolderCheck::MaskMatches,
            Some(hash) if hash == id_number_hash(self.suite, &self.number, None, id_number) => {
                HolderCheck::Matches
            }
            Some(_) => HolderCheck::Differs,
        }
    }
}

/// Whether a token is about the holder of an identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderCheck {
    /// It is about them.
    Matches,
    /// It is not.
    Differs,
    /// The region code and the last four characters match; only the certificate file can say
    /// whether the birth date does too.
    MaskMatches,
}

/// A token whose signature verified, with the certificate's validity on the day asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// What the token says.
    pub summary: TokenSummary,
    /// Whether the certificate is in force on the day of verification.
    pub validity: Validity,
}

/// Makes the token of `certificate` (already validated) whose canonical bytes hash to `digest`.
pub(crate) fn issue(
    certificate: &Certificate,
    digest: &[u8; 32],
    key: &SigningKey,
) -> Result<String, CertificateError> {
    let mut bytes = encode(&TokenSummary::of(certificate, *digest))?;
    let signature = key.sign(&bytes);
    bytes.extend_from_slice(&signature.0);
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

/// Verifies a token with the issuer's public key and says whether the certificate is in force on
/// `today`. An expired certificate verifies, with [`Validity::Expired`].
pub fn verify_token(
    token: &str,
    key: &VerifyingKey,
    today: Date,
) -> Result<VerifiedToken, CertificateError> {
    let bytes = Base64UrlUnpadded::decode_vec(token)
        .map_err(|_| CertificateError::MalformedToken("not base64url without padding"))?;
    if Base64UrlUnpadded::encode_string(&bytes) != token {
        return Err(CertificateError::MalformedToken(
            "not the canonical base64url spelling",
        ));
    }
    let Some(split) = bytes.len().checked_sub(SIGNATURE_LEN) else {
        return Err(CertificateError::MalformedToken("too short"));
    };
    let (payload, signature) = bytes.split_at(split);
    let summary = decode(payload)?;
    if key.suite() != summary.suite {
        return Err(CertificateError::WrongSuite {
            expected: key.suite(),
            found: summary.suite,
        });
    }
    let expected = key_id(key);
    if summary.key_id != expected {
        return Err(CertificateError::WrongKey {
            expected,
            found: summary.key_id,
        });
    }
    key.verify(payload, &Signature(signature.to_vec()))
        .map_err(|_| CertificateError::BadSignature)?;
    let validity = Validity::on(summary.issue_date, summary.valid_until, today);
    Ok(VerifiedToken { summary, validity })
}

/// The id of the key a token says signed it, read without verifying anything: to choose, among the
/// keys a platform has signed with (its signing key rotated), the one to verify it with.
pub fn token_key_id(token: &str) -> Result<String, CertificateError> {
    let bytes = Base64UrlUnpadded::decode_vec(token)
        .map_err(|_| CertificateError::MalformedToken("not base64url without padding"))?;
    let Some(split) = bytes.len().checked_sub(SIGNATURE_LEN) else {
        return Err(CertificateError::MalformedToken("too short"));
    };
    Ok(decode(&bytes[..split])?.key_id)
}

/// The token in what a QR scanner read: the token itself, or a verification URL ending in it
/// (`https://…/verify/TOKEN`, `…?t=TOKEN`, `…#TOKEN`). base64url has no `/`, `=`, `?` or `#`.
pub fn token_from_scan(text: &str) -> &str {
    let text = text.trim();
    text.rsplit(['/', '=', '?', '#']).next().unwrap_or(text)
}

fn encode(summary: &TokenSummary) -> Result<Vec<u8>, CertificateError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.push(match summary.id_hash {
        None => VERSION,
        Some(_) => VERSION_1,
    });
    out.push(match summary.suite {
        Suite::Sm => 1,
        Suite::International => 2,
    });
    match summary.result {
        TokenResult::NoCriminalRecord => out.extend_from_slice(&[0, 0]),
        TokenResult::HasCriminalRecord { convictions } => out.extend_from_slice(&[1, convictions]),
    }
    for date in [summary.issue_date, summary.valid_until] {
        let year = u16::try_from(date.year())
            .map_err(|_| invalid("issue_date", "year must be between 1900 and 9999"))?;
        out.extend_from_slice(&year.to_be_bytes());
        out.extend_from_slice(&[date.month().unsigned_abs(), date.day().unsigned_abs()]);
    }
    let mut key_id = [0u8; 8];
    base16ct::lower::decode(&summary.key_id, &mut key_id)
        .map_err(|_| invalid("issuer.key_id", "must be 16 lower-case hex digits"))?;
    out.extend_from_slice(&key_id);
    if let Some(id_hash) = &summary.id_hash {
        out.extend_from_slice(id_hash);
    }
    out.extend_from_slice(&summary.document_digest);
    for text in [
        &summary.number,
        &summary.name,
        &summary.id_masked,
        &summary.purpose,
        &summary.agency,
    ] {
        let len = u8::try_from(text.len()).map_err(|_| invalid("token", "a field is too long"))?;
        out.push(len);
        out.extend_from_slice(text.as_bytes());
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CertificateError> {
        if self.0.len() < n {
            return Err(CertificateError::MalformedToken("too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, CertificateError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CertificateError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn date(&mut self, field: &'static str) -> Result<Date, CertificateError> {
        let [y0, y1, month, day] = self.array::<4>()?;
        let year = i16::try_from(u16::from_be_bytes([y0, y1]))
            .map_err(|_| CertificateError::MalformedToken("impossible date"))?;
        let month =
            i8::try_from(month).map_err(|_| CertificateError::MalformedToken("impossible date"))?;
        let day =
            i8::try_from(day).map_err(|_| CertificateError::MalformedToken("impossible date"))?;
        let date = Date::new(year, month, day)
            .map_err(|_| CertificateError::MalformedToken("impossible date"))?;
        check_year(field, date)?;
        Ok(date)
    }

    fn text(&mut self) -> Result<String, CertificateError> {
        let len = usize::from(self.byte()?);
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| CertificateError::MalformedToken("a text field is not UTF-8"))
    }
}

fn decode(payload: &[u8]) -> Result<TokenSummary, CertificateError> {
    let mut reader = Reader(payload);
    if reader.take(3)? != MAGIC {
        return Err(CertificateError::MalformedToken(
            "not a fengcun certificate token",
        ));
    }
    let version = reader.byte()?;
    if version != VERSION && version != VERSION_1 {
        return Err(CertificateError::MalformedToken("unknown token version"));
    }
    let suite = match reader.byte()? {
        1 => Suite::Sm,
        2 => Suite::International,
        _ => return Err(CertificateError::MalformedToken("unknown suite")),
    };
    let result = match (reader.byte()?, reader.byte()?) {
        (0, 0) => TokenResult::NoCriminalRecord,
        (1, n) if n >= 1 && usize::from(n) <= limits::CONVICTIONS => {
            TokenResult::HasCriminalRecord { convictions: n }
        }
        _ => return Err(CertificateError::MalformedToken("unknown result")),
    };
    let issue_date = reader.date("issue_date")?;
    let valid_until = reader.date("valid_until")?;
    if valid_until < issue_date {
        return Err(invalid("valid_until", "is before the issue date"));
    }
    let key_id = base16ct::lower::encode_string(&reader.array::<8>()?);
    check_key_id("key_id", &key_id)?;
    let id_hash = match version {
        VERSION_1 => Some(reader.array::<32>()?),
        _ => None,
    };
    let document_digest = reader.array::<32>()?;
    let number = reader.text()?;
    check_number(&number)?;
    let name = reader.text()?;
    check_text("person.name", &name, limits::NAME_CHARS)?;
    let id_masked = reader.text()?;
    check_masked("person.id_masked", &id_masked)?;
    let purpose = reader.text()?;
    check_text("purpose", &purpose, limits::PURPOSE_CHARS)?;
    let agency = reader.text()?;
    check_text("issuer.agency", &agency, limits::AGENCY_CHARS)?;
    if !reader.0.is_empty() {
        return Err(CertificateError::MalformedToken(
            "bytes after the last field",
        ));
    }
    Ok(TokenSummary {
        number,
        suite,
        result,
        name,
        id_masked,
        id_hash,
        purpose,
        agency,
        key_id,
        issue_date,
        valid_until,
        document_digest,
    })
}
