//! Certificates of no criminal record (无犯罪记录证明) and, where a record is found, the notice
//! refusing one (不予出具无犯罪记录证明通知书).
//!
//! Pure: no file, network or clock — the issue date and "today" are passed in. Four parts:
//!
//! 1. **The decision** ([`decide`]): what the certificate states, from the person's records as the
//!    certificate sees them on the issue date, by the 2021 public-security rules on criminal-record
//!    queries — only effective convictions are criminal records, sealed ones are not disclosed,
//!    non-conviction records never are.
//! 2. **The document** ([`issue`], [`SignedCertificate`]): number, person (name, masked identity
//!    number, salted hash of the full number), result, purpose, issuer and key id, issue date,
//!    validity, suite; canonical JSON signed with SM2-SM3 (default) or Ed25519.
//! 3. **The token** ([`verify_token`]): a compact signed binary form of the essential fields and of
//!    the document's digest, base64url, for the QR code.
//! 4. **The page** ([`render_html`]): the printable certificate with the QR code as inline SVG.
//!
//! Reading is strict: a file or token has exactly one accepted spelling, so changing any byte of
//! either makes verification fail (tested for every byte position). Formats: `docs/certificates.md`.
//!
//! ```
//! use fengcun_certificate::{Draft, decide, default_valid_until, issue, verify_file, verify_token};
//! use fengcun_crypto::{SigningKey, Suite};
//! use fengcun_domain::{Date, IdNumber};
//!
//! let key = SigningKey::generate(Suite::Sm);
//! let id = IdNumber::parse("110105199003070025").unwrap();
//! let issue_date = Date::constant(2026, 3, 1);
//! let signed = issue(
//!     Draft {
//!         number: "FC-2026-00000001".into(),
//!         name: "张三".into(),
//!         id_number: &id,
//!         id_salt: fengcun_crypto::random_bytes(),
//!         result: decide(&[], issue_date).result,
//!         purpose: "就业".into(),
//!         agency: "北京市公安局朝阳分局".into(),
//!         issue_date,
//!         valid_until: default_valid_until(issue_date).unwrap(),
//!     },
//!     &key,
//! )?;
//! let public = key.verifying_key();
//! let verified = verify_file(signed.file_bytes(), &public, Date::constant(2026, 3, 15))?;
//! assert!(verified.validity.is_valid() && verified.certificate.is_about(&id));
//! let token = verify_token(signed.token(), &public, Date::constant(2026, 7, 1))?;
//! assert!(!token.validity.is_valid()); // expired on 2026-06-01
//! # Ok::<(), fengcun_certificate::CertificateError>(())
//! ```

mod document;
mod error;
mod html;
mod notice;
mod result;
mod token;

pub use document::{
    Certificate, Draft, FORMAT, FORMAT_V1, ID_SALT_BYTES, Issuer, Person, SignedCertificate,
    Validity, VerifiedCertificate, algorithm_name, default_valid_until, id_number_hash, issue,
    key_id, mask_id_number, verify_file,
};
pub use error::CertificateError;
pub use html::{Lang, escape_html, qr_svg, render_html};
pub use notice::{
    NOTICE_FORMAT, NoticeDocument, NoticeDraft, SignedNotice, VerifiedNotice, sign_notice,
    verify_notice,
};
pub use result::{
    CertificateResult, Decision, ListedConviction, Omission, Outcome, RecordAsSeen, decide,
};
pub use token::{
    HolderCheck, TokenResult, TokenSummary, VerifiedToken, token_from_scan, token_key_id,
    verify_token,
};
