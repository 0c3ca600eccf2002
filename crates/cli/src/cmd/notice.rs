//! `fengcun notice verify`: offline verification of a delivered sealing or unsealing notice
//! (docs/notices.md).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fengcun_certificate::{CertificateError, algorithm_name, verify_notice};
use fengcun_crypto::VerifyingKey;
use fengcun_domain::date::chinese_date;

#[derive(Debug, clap::Subcommand)]
pub enum NoticeCommand {
    /// Verify a delivered notice (the JSON the outbox POSTed, as received) with the issuer's public
    /// key. Exit status 0: signed by that key and unchanged; 1: altered or not the issuer's.
    Verify {
        /// The delivered notice.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The issuer's public key (SubjectPublicKeyInfo PEM, `-----BEGIN PUBLIC KEY-----`).
        #[arg(long, value_name = "PEM")]
        public_key: PathBuf,
    },
}

pub fn run(command: NoticeCommand) -> anyhow::Result<ExitCode> {
    let NoticeCommand::Verify { file, public_key } = command;
    let pem = std::fs::read_to_string(&public_key)
        .with_context(|| format!("cannot read {}", public_key.display()))?;
    let key = VerifyingKey::from_text(&pem)
        .with_context(|| format!("{}: not a public key", public_key.display()))?;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut out = std::io::stdout().lock();
    match verify_notice(&bytes, &key) {
        Ok(verified) => {
            let notice = &verified.document;
            writeln!(out, "验证通过：签名有效，通知书内容未被改动。")?;
            writeln!(out, "文书：{}", notice.title)?;
            writeln!(out, "编号：{}", notice.number)?;
            writeln!(out, "签发机关：{}", notice.authority)?;
            writeln!(out, "签名日期：{}", chinese_date(notice.signed_on))?;
            writeln!(
                out,
                "签名算法：{}（密钥标识 {}）",
                algorithm_name(notice.suite),
                notice.key_id
            )?;
            writeln!(out, "验证码：{}", verified.verification_code)?;
            writeln!(out, "\n{}", notice.body)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let reason = match &error {
                CertificateError::WrongSuite { .. } | CertificateError::WrongKey { .. } => {
                    "不是由所给公钥对应的签发密钥签发"
                }
                CertificateError::BadSignature => {
                    "签名无效：内容已被改动，或并非由该公钥对应的机关签发"
                }
                _ => "格式不正确或内容已被改动",
            };
            writeln!(out, "验证未通过：{reason}（{error}）。")?;
            Ok(ExitCode::FAILURE)
        }
    }
}
