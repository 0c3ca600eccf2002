//! `fengcun cert keygen|verify`, run as an operator and an employer run them.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fengcun_certificate::{CertificateResult, Draft, RecordAsSeen, decide, issue};
use fengcun_crypto::SigningKey;
use fengcun_domain::{Date, Disposition, IdNumber};

const ID: &str = "110105199003070025";

fn fengcun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(args)
        .output()
        .expect("run fengcun")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fengcun-cert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Generates keys with the binary, issues a certificate with the library (as the server does).
fn issued(dir: &Path, suite: &str, result: CertificateResult) -> (PathBuf, PathBuf, String) {
    let keys = dir.join("keys");
    let output = fengcun(&["cert", "keygen", "--suite", suite, "--out", path(&keys)]);
    assert!(output.status.success(), "{output:?}");
    let secret = std::fs::read_to_string(keys.join("signing-key.pem")).unwrap();
    let key = SigningKey::from_pkcs8_pem(&secret).unwrap();
    let id = IdNumber::parse(ID).unwrap();
    let issue_date = Date::constant(2026, 3, 1);
    let signed = issue(
        Draft {
            number: "FC-2026-00000042".to_owned(),
            name: "李四".to_owned(),
            id_number: &id,
            id_salt: fengcun_crypto::random_bytes(),
            result,
            purpose: "就业".to_owned(),
            agency: "北京市公安局朝阳分局".to_owned(),
            issue_date,
            valid_until: Date::constant(2026, 6, 1),
        },
        &key,
    )
    .unwrap();
    let file = dir.join("certificate.json");
    std::fs::write(&file, signed.file_bytes()).unwrap();
    (file, keys.join("public-key.pem"), signed.token().to_owned())
}

#[test]
fn keygen_writes_a_key_pair_and_never_overwrites_it() {
    let dir = scratch("keygen");
    for suite in ["sm", "international"] {
        let out = dir.join(suite);
        let output = fengcun(&["cert", "keygen", "--suite", suite, "--out", path(&out)]);
        assert!(output.status.success(), "{output:?}");
        let secret = std::fs::read_to_string(out.join("signing-key.pem")).unwrap();
        let public = std::fs::read_to_string(out.join("public-key.pem")).unwrap();
        assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let key = SigningKey::from_pkcs8_pem(&secret).unwrap();
        assert_eq!(key.verifying_key().to_text(), public);
        let key_id = fengcun_certificate::key_id(&key.verifying_key());
        assert!(stdout(&output).contains(&key_id), "{}", stdout(&output));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(out.join("signing-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the signing key is readable by others");
        }
        let again = fengcun(&["cert", "keygen", "--suite", suite, "--out", path(&out)]);
        assert!(!again.status.success());
        assert_eq!(
            std::fs::read_to_string(out.join("signing-key.pem")).unwrap(),
            secret
        );
    }
    let bad = fengcun(&["cert", "keygen", "--suite", "rsa", "--out", path(&dir)]);
    assert!(!bad.status.success());
}

#[test]
fn a_certificate_verifies_offline_and_a_changed_byte_fails() {
    let dir = scratch("verify");
    let (file, public, token) = issued(&dir, "sm", CertificateResult::NoCriminalRecord);
    let verify = |extra: &[&str]| {
        let mut args = vec!["cert", "verify", "--public-key", path(&public)];
        args.extend_from_slice(extra);
        fengcun(&args)
    };

    let ok = verify(&[path(&file), "--today", "2026-03-15", "--id-number", ID]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let text = stdout(&ok);
    assert!(text.starts_with("验证通过"), "{text}");
    for expected in [
        "文书：无犯罪记录证明",
        "编号：FC-2026-00000042",
        "姓名：李四",
        "公民身份号码：110105********0025",
        "查询结果：未发现有犯罪记录",
        "用途：就业",
        "出具机关：北京市公安局朝阳分局",
        "有效期至：2026年6月1日",
        "签名算法：SM2-SM3",
        "持证人核验：公民身份号码与证明一致",
    ] {
        assert!(text.contains(expected), "{expected} missing in {text}");
    }

    // The QR code's content verifies the same way, bare or as a URL.
    let scanned = verify(&["--token", &token, "--today", "2026-03-15"]);
    assert_eq!(scanned.status.code(), Some(0), "{scanned:?}");
    assert!(stdout(&scanned).contains("编号：FC-2026-00000042"));
    let url = format!("https://zhengming.example.gov.cn/verify/{token}");
    assert_eq!(
        verify(&["--token", &url, "--today", "2026-03-15"])
            .status
            .code(),
        Some(0)
    );

    // One changed byte of the file, or of the token: exit 1 with a reason.
    let bytes = std::fs::read(&file).unwrap();
    for position in [0, 40, bytes.len() / 2, bytes.len() - 30, bytes.len() - 1] {
        let mut changed = bytes.clone();
        changed[position] ^= 0x01;
        let tampered = dir.join("tampered.json");
        std::fs::write(&tampered, &changed).unwrap();
        let output = verify(&[path(&tampered), "--today", "2026-03-15"]);
        assert_eq!(output.status.code(), Some(1), "byte {position}: {output:?}");
        assert!(
            stdout(&output).starts_with("验证未通过"),
            "{}",
            stdout(&output)
        );
    }
    let mut changed = token.clone().into_bytes();
    changed[token.len() / 2] ^= 0x01;
    let output = verify(&["--token", &String::from_utf8(changed).unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout(&output).starts_with("验证未通过"));

    // Expired, or not the holder's: the signature is good, the answer is still no.
    let expired = verify(&[path(&file), "--today", "2026-06-02"]);
    assert_eq!(expired.status.code(), Some(1));
    assert!(
        stdout(&expired).contains("已过有效期（有效期至2026年6月1日）"),
        "{}",
        stdout(&expired)
    );
    let expired_token = verify(&["--token", &token, "--today", "2026-06-02"]);
    assert_eq!(expired_token.status.code(), Some(1));
    let other = verify(&[
        path(&file),
        "--today",
        "2026-03-15",
        "--id-number",
        "110105198501190025",
    ]);
    assert_eq!(other.status.code(), Some(1));
    assert!(stdout(&other).contains("不是持证人本人的证明"));
    // The QR code holds no identity hash: with the holder's number it compares the masked
    // form and sends the verifier to the file; a number of another region is refused.
    let by_token = verify(&[
        "--token",
        &token,
        "--today",
        "2026-03-15",
        "--id-number",
        ID,
    ]);
    assert_eq!(by_token.status.code(), Some(2), "{by_token:?}");
    assert!(
        stdout(&by_token).contains("号码的前六位和后四位与证明一致")
            && stdout(&by_token).contains("完整核验请用证明文书文件"),
        "{}",
        stdout(&by_token)
    );
    let elsewhere = verify(&[
        "--token",
        &token,
        "--today",
        "2026-03-15",
        "--id-number",
        "110106199003070021",
    ]);
    assert_eq!(elsewhere.status.code(), Some(1));
    assert!(stdout(&elsewhere).contains("不是持证人本人的证明"));

    // Another issuer's key.
    let (_, other_public, _) = issued(
        &scratch("other"),
        "international",
        CertificateResult::NoCriminalRecord,
    );
    let wrong = fengcun(&[
        "cert",
        "verify",
        path(&file),
        "--public-key",
        path(&other_public),
        "--today",
        "2026-03-15",
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stdout(&wrong).contains("不是由所给公钥对应的签发密钥签发"),
        "{}",
        stdout(&wrong)
    );
}

#[test]
fn a_result_with_a_record_lists_it() {
    let dir = scratch("record");
    let records = [RecordAsSeen {
        disposition: Disposition::Convicted,
        judgment_effective_date: Some(Date::constant(2024, 5, 20)),
        sealed: false,
        charges: vec!["盗窃罪".to_owned()],
        sentence: Some("有期徒刑六个月".to_owned()),
        court: Some("北京市朝阳区人民法院".to_owned()),
        case_number: Some("(2024)京0105刑初7号".to_owned()),
    }];
    let result = decide(&records, Date::constant(2026, 3, 1)).result;
    let (file, public, _) = issued(&dir, "international", result);
    let output = fengcun(&[
        "cert",
        "verify",
        path(&file),
        "--public-key",
        path(&public),
        "--today",
        "2026-03-02",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains("文书：不予出具无犯罪记录证明通知书"),
        "{text}"
    );
    assert!(text.contains("查询结果：有犯罪记录"));
    assert!(text.contains("1. 盗窃罪，2024年5月20日判决生效，有期徒刑六个月，北京市朝阳区人民法院，(2024)京0105刑初7号"), "{text}");
    assert!(text.contains("签名算法：Ed25519"));
}

#[test]
fn verify_needs_a_file_or_a_token_and_a_readable_key() {
    let dir = scratch("usage");
    let missing = fengcun(&[
        "cert",
        "verify",
        "--public-key",
        path(&dir.join("none.pem")),
    ]);
    assert!(!missing.status.success());
    let (file, _, _) = issued(&dir, "sm", CertificateResult::NoCriminalRecord);
    let no_key = fengcun(&[
        "cert",
        "verify",
        path(&file),
        "--public-key",
        path(&dir.join("none.pem")),
    ]);
    assert!(!no_key.status.success());
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("cannot read"));
}
