//! Issuing and verifying certificates and tokens; strict reading; any altered byte fails.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::LazyLock;

use base64ct::Encoding as _;

use fengcun_certificate::{
    CertificateError, CertificateResult, Draft, HolderCheck, Lang, ListedConviction, RecordAsSeen,
    SignedCertificate, TokenResult, Validity, decide, default_valid_until, escape_html,
    id_number_hash, issue, key_id, mask_id_number, qr_svg, render_html, token_from_scan,
    verify_file, verify_token,
};
use fengcun_crypto::{SigningKey, Suite};
use fengcun_domain::{Date, Disposition, IdNumber};
use proptest::prelude::*;

const ISSUE: Date = Date::constant(2026, 3, 1);
const TODAY: Date = Date::constant(2026, 3, 15);

static SM: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate(Suite::Sm));
static ED: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate(Suite::International));

fn id() -> IdNumber {
    IdNumber::parse("110105199003070025").unwrap()
}

fn conviction_record() -> RecordAsSeen {
    RecordAsSeen {
        disposition: Disposition::Convicted,
        judgment_effective_date: Some(Date::constant(2024, 5, 20)),
        sealed: false,
        charges: vec!["危险驾驶罪".to_owned()],
        sentence: Some("拘役二个月，并处罚金人民币五千元".to_owned()),
        court: Some("北京市朝阳区人民法院".to_owned()),
        case_number: Some("(2024)京0105刑初123号".to_owned()),
    }
}

fn draft(id: &IdNumber, result: CertificateResult) -> Draft<'_> {
    Draft {
        number: "FC-2026-00000001".to_owned(),
        name: "张三".to_owned(),
        id_number: id,
        id_salt: [7; 16],
        result,
        purpose: "就业".to_owned(),
        agency: "北京市公安局朝阳分局".to_owned(),
        issue_date: ISSUE,
        valid_until: default_valid_until(ISSUE).unwrap(),
    }
}

fn no_record(key: &SigningKey) -> SignedCertificate {
    let id = id();
    issue(draft(&id, CertificateResult::NoCriminalRecord), key).unwrap()
}

fn with_record(key: &SigningKey) -> SignedCertificate {
    let id = id();
    let result = decide(&[conviction_record()], ISSUE).result;
    issue(draft(&id, result), key).unwrap()
}

/// A file or token with one byte changed must not verify, whatever the reason.
fn file_fails(bytes: &[u8], key: &SigningKey) -> bool {
    verify_file(bytes, &key.verifying_key(), TODAY).is_err()
}

fn token_fails(token: &[u8], key: &SigningKey) -> bool {
    match std::str::from_utf8(token) {
        Err(_) => true,
        Ok(text) => verify_token(text, &key.verifying_key(), TODAY).is_err(),
    }
}

#[test]
fn an_issued_certificate_verifies_offline_in_both_suites() {
    for key in [&*SM, &*ED] {
        for signed in [no_record(key), with_record(key)] {
            let public = key.verifying_key();
            let verified = verify_file(signed.file_bytes(), &public, TODAY).unwrap();
            assert_eq!(&verified.certificate, signed.certificate());
            assert_eq!(verified.validity, Validity::Valid);
            assert!(verified.certificate.is_about(&id()));
            assert_eq!(verified.certificate.suite, key.suite());
            assert_eq!(verified.certificate.issuer.key_id, key_id(&public));

            let token = verify_token(signed.token(), &public, TODAY).unwrap();
            assert_eq!(token.validity, Validity::Valid);
            assert_eq!(token.summary.number, "FC-2026-00000001");
            assert_eq!(token.summary.name, "张三");
            assert_eq!(token.summary.id_masked, "110105********0025");
            // The token carries no identity hash: it can compare the masked form only.
            assert_eq!(token.summary.id_hash, None);
            assert_eq!(token.summary.holder(&id()), HolderCheck::MaskMatches);
            let elsewhere = IdNumber::parse("110106199003070021").unwrap();
            assert_eq!(token.summary.holder(&elsewhere), HolderCheck::Differs);
            assert_eq!(
                token.summary.document_digest,
                fengcun_crypto::hash(key.suite(), signed.signed_bytes())
            );
        }
    }
}

#[test]
fn the_file_is_canonical_json_whose_certificate_is_the_signed_bytes() {
    let signed = with_record(&SM);
    let file = std::str::from_utf8(signed.file_bytes()).unwrap();
    assert!(file.ends_with("}\n") && file.matches('\n').count() == 1);
    let signed_text = std::str::from_utf8(signed.signed_bytes()).unwrap();
    assert!(file.starts_with(&format!(
        "{{\"certificate\":{signed_text},\"algorithm\":\"SM2-SM3\",\"key_id\":\""
    )));
    assert!(signed_text.starts_with(
        "{\"format\":\"fengcun-certificate/2\",\"number\":\"FC-2026-00000001\",\"person\":{\"name\":\"张三\",\"id_masked\":\"110105********0025\",\"id_salt\":\"07070707070707070707070707070707\",\"id_hash\":\""
    ));
    assert!(signed_text.contains(
        "\"result\":{\"kind\":\"has_criminal_record\",\"convictions\":[{\"charges\":[\"危险驾驶罪\"],\"sentence\":\"拘役二个月，并处罚金人民币五千元\",\"judgment_effective_date\":\"2024-05-20\",\"court\":\"北京市朝阳区人民法院\",\"case_number\":\"(2024)京0105刑初123号\"}]}"
    ));
    let key_id = &signed.certificate().issuer.key_id;
    assert!(signed_text.ends_with(&format!(
        "\"purpose\":\"就业\",\"issuer\":{{\"agency\":\"北京市公安局朝阳分局\",\"key_id\":\"{key_id}\"}},\"issue_date\":\"2026-03-01\",\"valid_until\":\"2026-06-01\",\"suite\":\"sm\"}}"
    )));
    assert!(file.contains(&format!(
        ",\"key_id\":\"{key_id}\",\"signature\":\"{}\",\"token\":\"{}\"}}\n",
        base64ct::Base64::encode_string(&signed.signature().0),
        signed.token()
    )));
    // Parsing what was written gives back the same certificate.
    let again = SignedCertificate::parse(signed.file_bytes()).unwrap();
    assert_eq!(again, signed);
    // Ed25519 files name their algorithm.
    let ed = no_record(&ED);
    assert!(
        std::str::from_utf8(ed.file_bytes())
            .unwrap()
            .contains("\"algorithm\":\"Ed25519\"")
    );
}

#[test]
fn flipping_any_byte_of_a_certificate_file_fails_verification() {
    for key in [&*SM, &*ED] {
        let signed = with_record(key);
        let file = signed.file_bytes();
        let mut bad_signatures = 0;
        for position in 0..file.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut changed = file.to_vec();
                changed[position] ^= flip;
                match verify_file(&changed, &key.verifying_key(), TODAY) {
                    Ok(_) => panic!(
                        "{}: byte {position} xor {flip:#04x} still verifies",
                        key.suite()
                    ),
                    Err(CertificateError::BadSignature) => bad_signatures += 1,
                    Err(_) => {}
                }
            }
        }
        // Many changes give a well-formed canonical file: the signature is what catches them.
        assert!(bad_signatures > 100, "{bad_signatures}");
    }
}

#[test]
fn flipping_any_byte_of_a_token_fails_verification() {
    for key in [&*SM, &*ED] {
        let signed = with_record(key);
        let token = signed.token().as_bytes();
        for position in 0..token.len() {
            for flip in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80] {
                let mut changed = token.to_vec();
                changed[position] ^= flip;
                assert!(
                    token_fails(&changed, key),
                    "{}: token byte {position} xor {flip:#04x} still verifies",
                    key.suite()
                );
            }
        }
        // Dropping or adding a character fails too.
        assert!(token_fails(&token[..token.len() - 1], key));
        let mut longer = token.to_vec();
        longer.push(b'A');
        assert!(token_fails(&longer, key));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_single_byte_change_of_the_file_fails(position in any::<prop::sample::Index>(), value in any::<u8>()) {
        let signed = &*FILE_SM;
        let file = signed.file_bytes();
        let position = position.index(file.len());
        prop_assume!(file[position] != value);
        let mut changed = file.to_vec();
        changed[position] = value;
        prop_assert!(file_fails(&changed, &SM));
    }

    #[test]
    fn any_single_byte_change_of_the_token_fails(position in any::<prop::sample::Index>(), value in any::<u8>()) {
        let signed = &*FILE_SM;
        let token = signed.token().as_bytes();
        let position = position.index(token.len());
        prop_assume!(token[position] != value);
        let mut changed = token.to_vec();
        changed[position] = value;
        prop_assert!(token_fails(&changed, &SM));
    }
}

static FILE_SM: LazyLock<SignedCertificate> = LazyLock::new(|| with_record(&SM));

/// Variants of a valid file that mean the same to a lenient JSON reader: all refused.
#[test]
fn reading_is_strict() {
    let signed = no_record(&SM);
    let file = std::str::from_utf8(signed.file_bytes()).unwrap().to_owned();
    let public = SM.verifying_key();
    let refused = |text: &str| verify_file(text.as_bytes(), &public, TODAY).unwrap_err();

    // Unknown field, at the top and inside.
    let unknown = file.replacen("{\"certificate\":", "{\"extra\":1,\"certificate\":", 1);
    assert!(
        matches!(refused(&unknown), CertificateError::Malformed(m) if m.contains("unknown field"))
    );
    let inner = file.replacen("\"purpose\":", "\"note\":\"x\",\"purpose\":", 1);
    assert!(matches!(refused(&inner), CertificateError::Malformed(_)));
    // Duplicate key.
    let duplicate = file.replacen(
        "\"purpose\":\"就业\"",
        "\"purpose\":\"就业\",\"purpose\":\"就业\"",
        1,
    );
    assert!(
        matches!(refused(&duplicate), CertificateError::Malformed(m) if m.contains("duplicate"))
    );
    // White space, a missing newline, an extra newline.
    assert_eq!(
        refused(&file.replacen("\":\"", "\": \"", 1)),
        CertificateError::NotCanonical
    );
    assert_eq!(refused(file.trim_end()), CertificateError::NotCanonical);
    assert_eq!(
        refused(&format!("{file}\n")),
        CertificateError::NotCanonical
    );
    assert_eq!(refused(&format!(" {file}")), CertificateError::NotCanonical);
    // The same name written with an escape.
    let escaped = file.replacen("张三", "\\u5f20三", 1);
    assert_eq!(refused(&escaped), CertificateError::NotCanonical);
    // Fields in another order.
    let reordered = file.replacen(
        "\"issue_date\":\"2026-03-01\",\"valid_until\":\"2026-06-01\"",
        "\"valid_until\":\"2026-06-01\",\"issue_date\":\"2026-03-01\"",
        1,
    );
    assert_ne!(reordered, file);
    assert_eq!(refused(&reordered), CertificateError::NotCanonical);
    // A format-2 file without its salt, or with the format-1 name.
    let salt_field = "\"id_salt\":\"07070707070707070707070707070707\",";
    assert!(file.contains(salt_field));
    assert!(matches!(
        refused(&file.replacen(salt_field, "", 1)),
        CertificateError::InvalidField {
            field: "person.id_salt",
            ..
        }
    ));
    assert!(matches!(
        refused(&file.replacen("fengcun-certificate/2", "fengcun-certificate/1", 1)),
        CertificateError::InvalidField {
            field: "person.id_salt",
            ..
        }
    ));
    assert!(matches!(
        refused(&file.replacen("fengcun-certificate/2", "fengcun-certificate/3", 1)),
        CertificateError::InvalidField {
            field: "format",
            ..
        }
    ));
    // Upper-case hex in the identity hash.
    let hash = base16ct::lower::encode_string(&signed.certificate().person.id_hash);
    let upper = file.replacen(&hash, &hash.to_uppercase(), 1);
    assert!(matches!(
        refused(&upper),
        CertificateError::InvalidField {
            field: "person.id_hash",
            ..
        }
    ));
    // The header must agree with the signed content.
    let algorithm = file.replacen("\"algorithm\":\"SM2-SM3\"", "\"algorithm\":\"Ed25519\"", 1);
    assert!(matches!(
        refused(&algorithm),
        CertificateError::InvalidField {
            field: "algorithm",
            ..
        }
    ));
    // Not JSON at all, or not UTF-8.
    assert!(matches!(refused("证明"), CertificateError::Malformed(_)));
    assert!(matches!(
        verify_file(&[0xff, 0xfe], &public, TODAY),
        Err(CertificateError::Malformed(_))
    ));
}

#[test]
fn a_certificate_verifies_only_with_its_issuers_key() {
    let signed = no_record(&SM);
    let other_sm = SigningKey::generate(Suite::Sm).verifying_key();
    assert!(matches!(
        verify_file(signed.file_bytes(), &other_sm, TODAY),
        Err(CertificateError::WrongKey { .. })
    ));
    assert!(matches!(
        verify_token(signed.token(), &other_sm, TODAY),
        Err(CertificateError::WrongKey { .. })
    ));
    assert_eq!(
        verify_file(signed.file_bytes(), &ED.verifying_key(), TODAY),
        Err(CertificateError::WrongSuite {
            expected: Suite::International,
            found: Suite::Sm
        })
    );
}

#[test]
fn a_forged_certificate_with_a_copied_key_id_fails_the_signature() {
    // Someone changes the content and keeps the issuer's key id: the signature no longer covers it.
    let signed = no_record(&SM);
    let file = std::str::from_utf8(signed.file_bytes()).unwrap();
    let forged = file.replacen("\"purpose\":\"就业\"", "\"purpose\":\"入学\"", 1);
    assert_eq!(
        verify_file(forged.as_bytes(), &SM.verifying_key(), TODAY),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn a_token_from_another_certificate_does_not_fit() {
    let first = no_record(&SM);
    let id = id();
    let mut other = draft(&id, CertificateResult::NoCriminalRecord);
    other.number = "FC-2026-00000002".to_owned();
    let second = issue(other, &SM).unwrap();
    let file = std::str::from_utf8(first.file_bytes()).unwrap();
    let swapped = file.replacen(first.token(), second.token(), 1);
    assert_eq!(
        verify_file(swapped.as_bytes(), &SM.verifying_key(), TODAY),
        Err(CertificateError::TokenMismatch)
    );
}

#[test]
fn expiry_is_a_distinct_result_not_an_error() {
    let signed = no_record(&ED);
    let public = ED.verifying_key();
    let until = Date::constant(2026, 6, 1);
    assert_eq!(signed.certificate().valid_until, until);
    for (today, expected) in [
        (ISSUE, Validity::Valid),
        (until, Validity::Valid),
        (
            Date::constant(2026, 6, 2),
            Validity::Expired { valid_until: until },
        ),
        (
            Date::constant(2026, 2, 28),
            Validity::NotYetValid { issue_date: ISSUE },
        ),
    ] {
        let file = verify_file(signed.file_bytes(), &public, today).unwrap();
        let token = verify_token(signed.token(), &public, today).unwrap();
        assert_eq!(file.validity, expected, "{today}");
        assert_eq!(token.validity, expected, "{today}");
        assert_eq!(expected.is_valid(), expected == Validity::Valid);
    }
    assert_eq!(
        Validity::Expired { valid_until: until }.chinese(),
        "已过有效期（有效期至2026年6月1日）"
    );
}

#[test]
fn default_validity_is_three_months_counted_as_the_civil_code_counts() {
    assert_eq!(default_valid_until(ISSUE), Some(Date::constant(2026, 6, 1)));
    assert_eq!(
        default_valid_until(Date::constant(2026, 1, 31)),
        Some(Date::constant(2026, 4, 30))
    );
    assert_eq!(
        default_valid_until(Date::constant(2025, 11, 30)),
        Some(Date::constant(2026, 2, 28))
    );
}

#[test]
fn the_person_is_bound_by_a_salted_hash_and_shown_masked() {
    let id = id();
    let signed = no_record(&SM);
    let certificate = signed.certificate();
    assert_eq!(mask_id_number(&id), "110105********0025");
    let salt = [7u8; 16];
    assert_eq!(certificate.person.id_salt, Some(salt));
    assert_eq!(
        certificate.person.id_hash,
        id_number_hash(Suite::Sm, "FC-2026-00000001", Some(&salt), &id)
    );
    // Salted: another number, another suite or another salt gives another hash.
    assert_ne!(
        certificate.person.id_hash,
        id_number_hash(Suite::Sm, "FC-2026-00000002", Some(&salt), &id)
    );
    assert_ne!(
        certificate.person.id_hash,
        id_number_hash(Suite::International, "FC-2026-00000001", Some(&salt), &id)
    );
    assert_ne!(
        certificate.person.id_hash,
        id_number_hash(Suite::Sm, "FC-2026-00000001", Some(&[8u8; 16]), &id)
    );
    // Another person — even with the same masked form — is not the holder.
    let sibling = IdNumber::parse("110105199003080020").unwrap();
    assert!(!certificate.is_about(&sibling));
    let same_mask = IdNumber::parse("110105198501190025").unwrap();
    assert_eq!(mask_id_number(&same_mask), mask_id_number(&id));
    assert!(!certificate.is_about(&same_mask));
    assert!(certificate.is_about(&id));
    // The full number appears nowhere in the file or the token.
    let file = std::str::from_utf8(signed.file_bytes()).unwrap();
    assert!(!file.contains("19900307"));
    assert!(
        !String::from_utf8_lossy(&base64ct::Base64UrlUnpadded::decode_vec(signed.token()).unwrap())
            .contains("19900307")
    );
}

#[test]
fn issuing_refuses_what_a_certificate_may_not_hold() {
    let id = id();
    let refused = |change: &dyn Fn(&mut Draft<'_>)| {
        let mut d = draft(&id, CertificateResult::NoCriminalRecord);
        change(&mut d);
        match issue(d, &SM) {
            Err(CertificateError::InvalidField { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    assert_eq!(refused(&|d| d.number = "fc-2026-1".to_owned()), "number");
    assert_eq!(refused(&|d| d.number = "FC--1".to_owned()), "number");
    assert_eq!(refused(&|d| d.number = String::new()), "number");
    assert_eq!(refused(&|d| d.name = " 张三".to_owned()), "person.name");
    assert_eq!(refused(&|d| d.name = "张\n三".to_owned()), "person.name");
    assert_eq!(refused(&|d| d.purpose = String::new()), "purpose");
    assert_eq!(refused(&|d| d.agency = "局".repeat(61)), "issuer.agency");
    assert_eq!(
        refused(&|d| d.valid_until = Date::constant(2026, 2, 1)),
        "valid_until"
    );
    assert_eq!(
        refused(&|d| d.result = CertificateResult::HasCriminalRecord(vec![])),
        "result.convictions"
    );
    assert_eq!(
        refused(&|d| {
            d.result = CertificateResult::HasCriminalRecord(vec![ListedConviction {
                charges: vec!["盗窃罪".to_owned()],
                sentence: None,
                judgment_effective_date: Date::constant(2026, 3, 2),
                court: None,
                case_number: None,
            }]);
        }),
        "result.convictions.judgment_effective_date"
    );
}

#[test]
fn a_sealed_conviction_gives_a_certificate_of_no_criminal_record() {
    let id = id();
    let mut sealed = conviction_record();
    sealed.sealed = true;
    let records = [
        sealed,
        RecordAsSeen {
            disposition: Disposition::NotProsecuted,
            judgment_effective_date: None,
            ..conviction_record()
        },
    ];
    let signed = issue(draft(&id, decide(&records, ISSUE).result), &SM).unwrap();
    let file = std::str::from_utf8(signed.file_bytes()).unwrap();
    assert!(file.contains("\"kind\":\"no_criminal_record\",\"convictions\":[]"));
    assert!(!file.contains("危险驾驶罪"));
    let token = verify_token(signed.token(), &SM.verifying_key(), TODAY).unwrap();
    assert_eq!(token.summary.result, TokenResult::NoCriminalRecord);
    let html = render_html(&signed, Lang::Zh, None).unwrap();
    assert!(html.contains("<h1>无犯罪记录证明</h1>"));
    assert!(html.contains("未发现张三（公民身份号码：110105********0025）有犯罪记录"));
    assert!(!html.contains("危险驾驶罪"));
    // Nothing tells it apart from the certificate of someone who never had a record.
    let never = issue(draft(&id, decide(&[], ISSUE).result), &SM).unwrap();
    assert_eq!(never.file_bytes(), signed.file_bytes());
    assert_eq!(render_html(&never, Lang::Zh, None).unwrap(), html);
}

#[test]
fn the_token_fits_a_qr_code_and_the_page_carries_it() {
    let signed = with_record(&SM);
    // A typical token is about 270 characters (310 in format 1): a version-12 QR code at level M.
    assert!(signed.token().len() < 400, "{}", signed.token().len());
    let token = verify_token(signed.token(), &SM.verifying_key(), TODAY).unwrap();
    assert_eq!(
        token.summary.result,
        TokenResult::HasCriminalRecord { convictions: 1 }
    );

    let html = render_html(&signed, Lang::Zh, None).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    assert!(html.contains("<h1>不予出具无犯罪记录证明通知书</h1>"));
    assert!(html.contains("<td>危险驾驶罪</td>"));
    assert!(html.contains("<td>2024年5月20日</td>"));
    assert!(html.contains("有效期至</th><td>2026年6月1日</td>"));
    assert!(html.contains("fengcun cert verify"));
    assert!(html.contains(&qr_svg(signed.token()).unwrap()));
    assert!(!html.contains("<?xml"));

    let url = "https://zhengming.example.gov.cn/verify/";
    let online = render_html(&signed, Lang::En, Some(url)).unwrap();
    assert!(online.contains("<html lang=\"en\">"));
    assert!(online.contains("Notice of Refusal to Issue a Certificate of No Criminal Record"));
    assert!(online.contains(&qr_svg(&format!("{url}{}", signed.token())).unwrap()));
    assert_eq!(
        token_from_scan(&format!("{url}{}", signed.token())),
        signed.token()
    );
    assert_eq!(
        token_from_scan(&format!("https://x.example/v?t={}\n", signed.token())),
        signed.token()
    );
    assert_eq!(token_from_scan(signed.token()), signed.token());
}

#[test]
fn the_page_escapes_every_value() {
    assert_eq!(
        escape_html(r#"<script>alert("x")</script> & 'y'"#),
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
    );
    let id = id();
    let mut d = draft(&id, CertificateResult::NoCriminalRecord);
    d.name = "<b>张三</b>".to_owned();
    d.purpose = "就业 & \"入学\"".to_owned();
    d.agency = "<img src=x onerror=alert(1)>".to_owned();
    let signed = issue(d, &SM).unwrap();
    let html = render_html(&signed, Lang::Zh, Some("https://e.example/v?a=1&b=\"")).unwrap();
    assert!(!html.contains("<b>张三"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;b&gt;张三&lt;/b&gt;"));
    assert!(html.contains("就业 &amp; &quot;入学&quot;"));
    assert!(html.contains("https://e.example/v?a=1&amp;b=&quot;"));
}

#[test]
fn key_ids_are_fingerprints_of_the_public_key() {
    let public = SM.verifying_key();
    let id = key_id(&public);
    assert_eq!(id.len(), 16);
    assert_eq!(
        id,
        base16ct::lower::encode_string(&fengcun_crypto::hash(Suite::Sm, &public.to_der())[..8])
    );
    assert_ne!(id, key_id(&SigningKey::generate(Suite::Sm).verifying_key()));
    // The key id survives a trip through PEM, as an offline verifier receives it.
    let again = fengcun_crypto::VerifyingKey::from_text(&public.to_text()).unwrap();
    assert_eq!(key_id(&again), id);
}

/// A name or purpose that reads differently from what it holds — a right-to-left override, an
/// isolate, a zero-width space — is no certificate text (U+202E was accepted).
#[test]
fn names_and_purposes_refuse_bidirectional_and_zero_width_characters() {
    let id = id();
    for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{200F}'] {
        let mut named = draft(&id, CertificateResult::NoCriminalRecord);
        named.name = format!("张{c}三");
        let mut purposed = draft(&id, CertificateResult::NoCriminalRecord);
        purposed.purpose = format!("就业{c}");
        for (draft, field) in [(named, "person.name"), (purposed, "purpose")] {
            match issue(draft, &SM) {
                Err(CertificateError::InvalidField { field: f, .. }) => {
                    assert_eq!(f, field, "{c:?}");
                }
                other => panic!("{c:?} in {field}: {other:?}"),
            }
        }
    }
}

/// Issue 18: a public-security violation record (治安违法记录: an administrative penalty, not a
/// criminal record under the 2021 MPS rules art. 2) never appears on a certificate — penalised,
/// not penalised or withdrawn, sealed or not, with or without a decision in effect — and beside a
/// listed conviction it changes nothing.
#[test]
fn a_violation_record_never_appears_on_a_certificate() {
    let violation = |disposition: Disposition, sealed: bool| RecordAsSeen {
        disposition,
        judgment_effective_date: None,
        sealed,
        charges: Vec::new(),
        sentence: Some("行政拘留十日，罚款五百元".to_owned()),
        court: None,
        case_number: Some("110105-2026-900012".to_owned()),
    };
    for disposition in [
        Disposition::Penalized,
        Disposition::NotPenalized,
        Disposition::Withdrawn,
    ] {
        for sealed in [false, true] {
            let decision = decide(&[violation(disposition, sealed)], TODAY);
            assert_eq!(
                decision.result,
                CertificateResult::NoCriminalRecord,
                "{disposition:?} sealed {sealed}"
            );
            assert_eq!(
                decision.outcomes,
                [fengcun_certificate::Outcome::Omitted(
                    fengcun_certificate::Omission::Violation(disposition)
                )]
            );
            let with_conviction = decide(
                &[violation(disposition, sealed), conviction_record()],
                TODAY,
            );
            assert_eq!(
                with_conviction.result,
                decide(&[conviction_record()], TODAY).result,
                "{disposition:?} sealed {sealed}"
            );
        }
    }
}

/// Certificates issued before format 2 (written by the format-1 issuer and kept as files) still
/// verify, with the holder check they always had.
#[test]
fn format_1_certificates_issued_before_still_verify() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["sm", "international"] {
        let pem = std::fs::read_to_string(fixtures.join(format!("v1-{name}.pem"))).unwrap();
        let public = fengcun_crypto::VerifyingKey::from_text(&pem).unwrap();
        let bytes = std::fs::read(fixtures.join(format!("v1-{name}.json"))).unwrap();
        let verified = verify_file(&bytes, &public, TODAY).unwrap();
        let certificate = &verified.certificate;
        assert_eq!(certificate.format(), "fengcun-certificate/1");
        assert_eq!(certificate.person.id_salt, None);
        assert!(certificate.is_about(&id()));
        assert!(!certificate.is_about(&IdNumber::parse("110105198501190025").unwrap()));
        // Read and written again, byte for byte.
        assert_eq!(
            SignedCertificate::parse(&bytes).unwrap().file_bytes(),
            bytes.as_slice()
        );
        let file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let token = verify_token(file["token"].as_str().unwrap(), &public, TODAY).unwrap();
        assert_eq!(token.summary.id_hash, Some(certificate.person.id_hash));
        assert_eq!(token.summary.holder(&id()), HolderCheck::Matches);
        let same_mask = IdNumber::parse("110105198501190025").unwrap();
        assert_eq!(token.summary.holder(&same_mask), HolderCheck::Differs);
    }
}

/// Why format 2: a format-1 token gave anyone who scanned it the full identity number, by trying
/// the birth dates the masked form hides. A format-2 token holds neither the hash nor its salt.
#[test]
fn a_scanned_token_no_longer_gives_the_identity_number_away() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let pem = std::fs::read_to_string(fixtures.join("v1-sm.pem")).unwrap();
    let public = fengcun_crypto::VerifyingKey::from_text(&pem).unwrap();
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("v1-sm.json")).unwrap()).unwrap();
    let old = verify_token(file["token"].as_str().unwrap(), &public, TODAY)
        .unwrap()
        .summary;
    assert_eq!(recover_from_token(&old), Some(id()));

    let signed = no_record(&SM);
    let token = verify_token(signed.token(), &SM.verifying_key(), TODAY)
        .unwrap()
        .summary;
    assert_eq!(recover_from_token(&token), None);
    let payload = base64ct::Base64UrlUnpadded::decode_vec(signed.token()).unwrap();
    let person = &signed.certificate().person;
    for secret in [&person.id_hash[..], &person.id_salt.unwrap()[..]] {
        assert!(
            !payload.windows(secret.len()).any(|w| w == secret),
            "the token carries {secret:02x?}"
        );
    }
}

/// What a guesser does with a token: every birth date from 1940 to 2010 in the masked form, each
/// tried against the token's identity hash.
fn recover_from_token(token: &fengcun_certificate::TokenSummary) -> Option<IdNumber> {
    let hash = token.id_hash?;
    let (region, tail) = (&token.id_masked[..6], &token.id_masked[14..]);
    let mut day = Date::constant(1940, 1, 1);
    while day < Date::constant(2011, 1, 1) {
        let candidate = format!(
            "{region}{:04}{:02}{:02}{tail}",
            day.year(),
            day.month(),
            day.day()
        );
        if let Ok(id) = IdNumber::parse(&candidate) {
            if id_number_hash(token.suite, &token.number, None, &id) == hash {
                return Some(id);
            }
        }
        day = day.tomorrow().unwrap();
    }
    None
}
