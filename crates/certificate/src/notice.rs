//! Signed sealing and unsealing notices (封存通知书 / 解除封存通知书): the notice as its receiver
//! reads it, signed like a certificate so that a receiving agency can check it offline with the
//! issuer's public key (`fengcun notice verify`, docs/notices.md).
//!
//! The document is canonical JSON with a fixed field order (as a certificate's, `document.rs`);
//! the signature (SM2-SM3 by default, or Ed25519) covers exactly those bytes. The verification
//! code printed with the notice is the first ten bytes of the suite's hash of the signed bytes and
//! the signature, in groups of four hex digits: a clerk compares the code on paper with the one
//! the verifier prints.

use base64ct::{Base64, Encoding as _};
use fengcun_crypto::{Signature, SigningKey, Suite, VerifyingKey};
use fengcun_domain::Date;
use fengcun_domain::date::parse_date;
use serde::{Deserialize, Serialize};

use crate::document::{
    algorithm_name, check_key_id, check_notice_number, check_year, invalid, key_id,
};
use crate::error::CertificateError;

/// The value of the signed `format` field.
pub const NOTICE_FORMAT: &str = "fengcun-notice/1";

/// What a notice states: everything the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDocument {
    /// The notice number (`FC-UNSEAL-110105-2024-000123-1A2B3C4D-1`).
    pub number: String,
    /// `seal` or `unseal`.
    pub kind: String,
    /// 封存通知书 or 解除封存通知书.
    pub title: String,
    /// Whom it is addressed to: an agency code, or `person`.
    pub recipient: String,
    /// The full text, as rendered.
    pub body: String,
    /// The issuing authority.
    pub authority: String,
    /// [`key_id`] of the signing key.
    pub key_id: String,
    /// The day it was signed.
    pub signed_on: Date,
    /// The suite of the signature.
    pub suite: Suite,
}

impl NoticeDocument {
    /// The canonical bytes: what the signature covers.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CertificateError> {
        serde_json::to_vec(&NoticeWire::from(self))
            .map_err(|err| CertificateError::Malformed(err.to_string()))
    }

    fn validate(&self) -> Result<(), CertificateError> {
        check_notice_number(&self.number)?;
        if !matches!(self.kind.as_str(), "seal" | "unseal") {
            return Err(invalid("notice.kind", "must be seal or unseal"));
        }
        for (field, text) in [
            ("notice.title", &self.title),
            ("notice.recipient", &self.recipient),
            ("notice.body", &self.body),
            ("notice.authority", &self.authority),
        ] {
            if text.trim().is_empty() {
                return Err(invalid(field, "is empty"));
            }
        }
        check_key_id("notice.key_id", &self.key_id)?;
        check_year("notice.signed_on", self.signed_on)
    }
}

/// A notice with its signature and verification code: what the outbox delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNotice {
    /// The signed content.
    pub document: NoticeDocument,
    signature: Signature,
    message: Vec<u8>,
}

/// What the issuer gives to [`sign_notice`].
#[derive(Debug, Clone)]
pub struct NoticeDraft {
    pub number: String,
    pub kind: String,
    pub title: String,
    pub recipient: String,
    pub body: String,
    pub authority: String,
    pub signed_on: Date,
}

/// Signs a notice with the issuer's key.
pub fn sign_notice(draft: NoticeDraft, key: &SigningKey) -> Result<SignedNotice, CertificateError> {
    let document = NoticeDocument {
        number: draft.number,
        kind: draft.kind,
        title: draft.title,
        recipient: draft.recipient,
        body: draft.body,
        authority: draft.authority,
        key_id: key_id(&key.verifying_key()),
        signed_on: draft.signed_on,
        suite: key.suite(),
    };
    document.validate()?;
    let message = document.canonical_bytes()?;
    let signature = key.sign(&message);
    Ok(SignedNotice {
        document,
        signature,
        message,
    })
}

impl SignedNotice {
    /// `SM2-SM3` or `Ed25519`.
    pub fn algorithm(&self) -> &'static str {
        algorithm_name(self.document.suite)
    }

    /// The signature, standard base64 with padding.
    pub fn signature_base64(&self) -> String {
        Base64::encode_string(&self.signature.0)
    }

    /// The verification code: `XXXX-XXXX-XXXX-XXXX-XXXX`, the first ten bytes of the suite's hash of
    /// the signed bytes followed by the signature, in upper-case hex.
    pub fn verification_code(&self) -> String {
        verification_code(self.document.suite, &self.message, &self.signature)
    }

    /// The signature fields a delivery carries beside its own: `document` (the signed notice as
    /// canonical JSON), `algorithm`, `key_id`, `signature`, `verification_code`.
    pub fn fields(&self) -> serde_json::Value {
        serde_json::json!({
            "document": NoticeWire::from(&self.document),
            "algorithm": self.algorithm(),
            "key_id": self.document.key_id,
            "signature": self.signature_base64(),
            "verification_code": self.verification_code(),
        })
    }

    /// Verifies the signature and the verification code with the issuer's public key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CertificateError> {
        if key.suite() != self.document.suite {
            return Err(CertificateError::WrongSuite {
                expected: key.suite(),
                found: self.document.suite,
            });
        }
        let expected = key_id(key);
        if self.document.key_id != expected {
            return Err(CertificateError::WrongKey {
                expected,
                found: self.document.key_id.clone(),
            });
        }
        key.verify(&self.message, &self.signature)
            .map_err(|_| CertificateError::BadSignature)
    }
}

/// Reads a delivered notice (the JSON the outbox POSTs, or a file holding it) and verifies it
/// with the issuer's public key: the signed `document` with `algorithm`, `key_id`, `signature` and
/// `verification_code`; the unsigned copies beside them (`notice_id`, `kind`, `title`, `body`),
/// where present, must say what the signed document says. Other fields (the acknowledgement
/// token, `ack`) are the delivery's, not the notice's, and are not looked at; any other field is
/// refused.
pub fn verify_notice(bytes: &[u8], key: &VerifyingKey) -> Result<VerifiedNotice, CertificateError> {
    let delivered: Delivered = serde_json::from_slice(bytes)
        .map_err(|err| CertificateError::Malformed(err.to_string()))?;
    let document = NoticeDocument::try_from(&delivered.document)?;
    if delivered.algorithm != algorithm_name(document.suite) {
        return Err(invalid(
            "algorithm",
            "does not name the notice's suite (SM2-SM3 for sm, Ed25519 for international)",
        ));
    }
    if delivered.key_id != document.key_id {
        return Err(invalid("key_id", "differs from document.key_id"));
    }
    let signature = Base64::decode_vec(&delivered.signature)
        .map_err(|_| invalid("signature", "is not base64"))?;
    if signature.len() != 64 || Base64::encode_string(&signature) != delivered.signature {
        return Err(invalid("signature", "must be 64 bytes in canonical base64"));
    }
    let copies = [
        (
            delivered.notice_id.as_deref(),
            &document.number,
            "notice_id",
        ),
        (delivered.kind.as_deref(), &document.kind, "kind"),
        (delivered.title.as_deref(), &document.title, "title"),
        (delivered.body.as_deref(), &document.body, "body"),
    ];
    for (copy, signed, field) in copies {
        if copy.is_some_and(|c| c != signed) {
            return Err(invalid(field, "differs from the signed document"));
        }
    }
    let message = document.canonical_bytes()?;
    let signed = SignedNotice {
        document,
        signature: Signature(signature),
        message,
    };
    signed.verify(key)?;
    if signed.verification_code() != delivered.verification_code {
        return Err(invalid(
            "verification_code",
            "is not the code of this notice and signature",
        ));
    }
    Ok(VerifiedNotice {
        verification_code: signed.verification_code(),
        document: signed.document,
    })
}

/// A notice whose signature and verification code verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotice {
    /// What it states.
    pub document: NoticeDocument,
    /// Its verification code, to compare with the one printed with it.
    pub verification_code: String,
}

fn verification_code(suite: Suite, message: &[u8], signature: &Signature) -> String {
    let mut input = Vec::with_capacity(message.len() + signature.0.len());
    input.extend_from_slice(message);
    input.extend_from_slice(&signature.0);
    let digest = fengcun_crypto::hash(suite, &input);
    let hex = base16ct::upper::encode_string(&digest[..10]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivered {
    /// The delivery's acknowledgement (path and token): not part of the notice.
    #[serde(default)]
    #[allow(dead_code, reason = "read only so that no other unknown field passes")]
    ack: Option<serde_json::Value>,
    #[serde(default)]
    notice_id: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    document: NoticeWire,
    algorithm: String,
    key_id: String,
    signature: String,
    verification_code: String,
}

// Field order is the canonical order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeWire {
    format: String,
    number: String,
    kind: String,
    title: String,
    recipient: String,
    body: String,
    authority: String,
    key_id: String,
    signed_on: String,
    suite: String,
}

impl From<&NoticeDocument> for NoticeWire {
    fn from(n: &NoticeDocument) -> Self {
        NoticeWire {
            format: NOTICE_FORMAT.to_owned(),
            number: n.number.clone(),
            kind: n.kind.clone(),
            title: n.title.clone(),
            recipient: n.recipient.clone(),
            body: n.body.clone(),
            authority: n.authority.clone(),
            key_id: n.key_id.clone(),
            signed_on: n.signed_on.to_string(),
            suite: n.suite.code().to_owned(),
        }
    }
}

impl TryFrom<&NoticeWire> for NoticeDocument {
    type Error = CertificateError;

    fn try_from(wire: &NoticeWire) -> Result<Self, Self::Error> {
        if wire.format != NOTICE_FORMAT {
            return Err(invalid("document.format", "is not fengcun-notice/1"));
        }
        let document = NoticeDocument {
            number: wire.number.clone(),
            kind: wire.kind.clone(),
            title: wire.title.clone(),
            recipient: wire.recipient.clone(),
            body: wire.body.clone(),
            authority: wire.authority.clone(),
            key_id: wire.key_id.clone(),
            signed_on: parse_date(&wire.signed_on)
                .map_err(|_| invalid("document.signed_on", "is not a YYYY-MM-DD date"))?,
            suite: Suite::parse(&wire.suite)
                .ok_or_else(|| invalid("document.suite", "must be sm or international"))?,
        };
        document.validate()?;
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(suite: Suite) -> (SignedNotice, SigningKey) {
        let key = SigningKey::generate(suite);
        let notice = sign_notice(
            NoticeDraft {
                // The longest a notice is given: an unseal of a public-security case (a ten-digit
                // serial) to its twelfth recipient. Signing once refused numbers over 40
                // characters, every violation notice's among them.
                number: "FC-UNSEAL-650102-2021-9000000001-A772C32B-12".into(),
                kind: "unseal".into(),
                title: "解除封存通知书".into(),
                recipient: "110105-ga".into(),
                body: "解除封存通知书\n编号：…\n\n北京市公安局朝阳分局：\n    …".into(),
                authority: "北京市朝阳区人民法院".into(),
                signed_on: Date::constant(2026, 12, 6),
            },
            &key,
        )
        .unwrap();
        (notice, key)
    }

    fn delivery(notice: &SignedNotice) -> Vec<u8> {
        let mut value = notice.fields();
        value["notice_id"] = notice.document.number.clone().into();
        value["body"] = notice.document.body.clone().into();
        value["ack"] = serde_json::json!({"token": "t"});
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn a_delivered_notice_verifies_and_a_changed_byte_of_what_it_states_does_not() {
        for suite in [Suite::Sm, Suite::International] {
            let (notice, key) = signed(suite);
            let bytes = delivery(&notice);
            let verified = verify_notice(&bytes, &key.verifying_key()).unwrap();
            assert_eq!(verified.document.authority, "北京市朝阳区人民法院");
            assert_eq!(verified.verification_code, notice.verification_code());
            let code = notice.verification_code();
            assert_eq!(code.len(), 24, "{code}");
            assert!(
                code.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()),
                "{code}"
            );
            // Every byte changed fails, but those of the acknowledgement, which is the
            // delivery's and not the notice's.
            let text = String::from_utf8(bytes.clone()).unwrap();
            let ack = "\"ack\":{\"token\":\"t\"},";
            let ack_at = text.find(ack).unwrap();
            for i in (0..bytes.len()).filter(|i| !(ack_at..ack_at + ack.len()).contains(i)) {
                for bit in [0x01, 0x20, 0x80] {
                    let mut changed = bytes.clone();
                    changed[i] ^= bit;
                    assert!(
                        verify_notice(&changed, &key.verifying_key()).is_err(),
                        "byte {i} ^ {bit:#x} of {text}"
                    );
                }
            }
            let other = SigningKey::generate(suite);
            assert!(matches!(
                verify_notice(&bytes, &other.verifying_key()),
                Err(CertificateError::WrongKey { .. })
            ));
        }
    }
}
