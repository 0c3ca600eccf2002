//! Issues a sample certificate with a fresh key and writes the key, the file, the token and the
//! printable page into a directory: `cargo run -p fengcun-certificate --example issue -- DIR`.

use std::path::PathBuf;

use fengcun_certificate::{
    Draft, Lang, RecordAsSeen, decide, default_valid_until, issue, render_html,
};
use fengcun_crypto::{SigningKey, Suite};
use fengcun_domain::{Date, Disposition, IdNumber};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: issue DIR")?);
    std::fs::create_dir_all(&dir)?;
    let key = SigningKey::generate(Suite::Sm);
    let id = IdNumber::parse("110105199003070025")?;
    let issue_date = Date::constant(2026, 3, 1);
    // A sealed conviction and a non-prosecution: the certificate says no criminal record.
    let records = [
        RecordAsSeen {
            disposition: Disposition::Convicted,
            judgment_effective_date: Some(Date::constant(2024, 5, 20)),
            sealed: true,
            charges: vec!["危险驾驶罪".to_owned()],
            sentence: Some("拘役二个月".to_owned()),
            court: Some("北京市朝阳区人民法院".to_owned()),
            case_number: Some("(2024)京0105刑初123号".to_owned()),
        },
        RecordAsSeen {
            disposition: Disposition::NotProsecuted,
            judgment_effective_date: None,
            sealed: false,
            charges: vec!["盗窃罪".to_owned()],
            sentence: None,
            court: None,
            case_number: None,
        },
    ];
    let decision = decide(&records, issue_date);
    let signed = issue(
        Draft {
            number: "FC-2026-00000001".to_owned(),
            name: "张三".to_owned(),
            id_number: &id,
            id_salt: fengcun_crypto::random_bytes(),
            result: decision.result,
            purpose: "就业".to_owned(),
            agency: "北京市公安局朝阳分局".to_owned(),
            issue_date,
            valid_until: default_valid_until(issue_date).ok_or("date out of range")?,
        },
        &key,
    )?;
    std::fs::write(dir.join("public-key.pem"), key.verifying_key().to_text())?;
    std::fs::write(dir.join("certificate.json"), signed.file_bytes())?;
    std::fs::write(dir.join("token.txt"), signed.token())?;
    std::fs::write(
        dir.join("certificate.html"),
        render_html(&signed, Lang::Zh, None)?,
    )?;
    println!(
        "{}: file {} bytes, token {} characters",
        dir.display(),
        signed.file_bytes().len(),
        signed.token().len()
    );
    Ok(())
}
