//! `fengcun cert verify|keygen`: offline verification of certificates (docs/certificates.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fengcun_certificate::{
    CertificateError, CertificateResult, HolderCheck, TokenResult, Validity, algorithm_name,
    key_id, token_from_scan, verify_file, verify_token,
};
use fengcun_crypto::{SigningKey, Suite, VerifyingKey};
use fengcun_domain::date::{chinese_date, parse_date};
use fengcun_domain::{Date, IdNumber};

#[derive(Debug, clap::Subcommand)]
pub enum CertCommand {
    /// Verify a certificate file, or the token of its QR code, with the issuer's public key.
    /// Exit status 0: valid today (and the holder's, if asked); 1: altered, not the issuer's,
    /// expired, or not the holder's; 2: valid, but a token alone cannot confirm the holder.
    Verify(VerifyArgs),
    /// Write a new signing key pair as PEM: DIR/signing-key.pem (secret) and DIR/public-key.pem.
    Keygen {
        /// `sm` (SM2 with SM3, the default) or `international` (Ed25519).
        #[arg(long, default_value = "sm", value_parser = parse_suite)]
        suite: Suite,
        /// The directory to write into; existing key files are never overwritten.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The certificate file (JSON as the issuer wrote it, byte for byte).
    #[arg(
        value_name = "FILE",
        required_unless_present = "token",
        conflicts_with = "token"
    )]
    file: Option<PathBuf>,
    /// The QR code's content instead of a file: the token, or a verification URL ending in it.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The issuer's public key (SubjectPublicKeyInfo PEM, `-----BEGIN PUBLIC KEY-----`).
    #[arg(long, value_name = "PEM")]
    public_key: PathBuf,
    /// The day to check validity for (YYYY-MM-DD); default: today in China (UTC+8).
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Also check that the certificate is about the holder of this identity number.
    #[arg(long, value_name = "ID_NUMBER")]
    id_number: Option<String>,
}

fn parse_suite(text: &str) -> Result<Suite, String> {
    Suite::parse(text).ok_or_else(|| format!("`{text}` is not a suite: sm or international"))
}

pub fn run(command: CertCommand) -> anyhow::Result<ExitCode> {
    match command {
        CertCommand::Verify(args) => verify(args),
        CertCommand::Keygen { suite, out } => keygen(suite, &out),
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let pem = std::fs::read_to_string(&args.public_key)
        .with_context(|| format!("cannot read {}", args.public_key.display()))?;
    let key = VerifyingKey::from_text(&pem)
        .with_context(|| format!("{}: not a public key", args.public_key.display()))?;
    let today = match &args.today {
        Some(text) => parse_date(text).with_context(|| format!("--today {text}"))?,
        None => today_in_china(),
    };
    let holder = match &args.id_number {
        Some(text) => Some(
            IdNumber::parse(text.trim()).map_err(|err| anyhow::anyhow!("--id-number: {err}"))?,
        ),
        None => None,
    };

    let mut lines = Vec::new();
    let (validity, is_holder) = match (&args.file, &args.token) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let verified = match verify_file(&bytes, &key, today) {
                Ok(verified) => verified,
                Err(error) => return Ok(refuse(&error)),
            };
            let c = &verified.certificate;
            lines.push(format!("文书：{}", c.title()));
            lines.push(format!("编号：{}", c.number));
            lines.push(format!("姓名：{}", c.person.name));
            lines.push(format!("公民身份号码：{}", c.person.id_masked));
            lines.push(format!("查询结果：{}", c.result.chinese()));
            if let CertificateResult::HasCriminalRecord(convictions) = &c.result {
                for (i, conviction) in convictions.iter().enumerate() {
                    let mut line = format!(
                        "  {}. {}，{}判决生效",
                        i + 1,
                        conviction.charges.join("、"),
                        chinese_date(conviction.judgment_effective_date)
                    );
                    for detail in [
                        &conviction.sentence,
                        &conviction.court,
                        &conviction.case_number,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        line.push('，');
                        line.push_str(detail);
                    }
                    lines.push(line);
                }
            }
            lines.push(format!("用途：{}", c.purpose));
            lines.push(format!("出具机关：{}", c.issuer.agency));
            lines.push(format!("出具日期：{}", chinese_date(c.issue_date)));
            lines.push(format!("有效期至：{}", chinese_date(c.valid_until)));
            lines.push(format!(
                "签名算法：{}（密钥标识 {}）",
                algorithm_name(c.suite),
                c.issuer.key_id
            ));
            let check = |id: &IdNumber| match c.is_about(id) {
                true => HolderCheck::Matches,
                false => HolderCheck::Differs,
            };
            (verified.validity, holder.as_ref().map(check))
        }
        (None, Some(scanned)) => {
            let verified = match verify_token(token_from_scan(scanned), &key, today) {
                Ok(verified) => verified,
                Err(error) => return Ok(refuse(&error)),
            };
            let s = &verified.summary;
            lines.push(format!("文书：{}", s.result.title()));
            lines.push(format!("编号：{}", s.number));
            lines.push(format!("姓名：{}", s.name));
            lines.push(format!("公民身份号码：{}", s.id_masked));
            lines.push(format!("查询结果：{}", s.result.chinese()));
            if let TokenResult::HasCriminalRecord { .. } = s.result {
                lines.push("  （记录详情见证明文书正文）".to_owned());
            }
            lines.push(format!("用途：{}", s.purpose));
            lines.push(format!("出具机关：{}", s.agency));
            lines.push(format!("出具日期：{}", chinese_date(s.issue_date)));
            lines.push(format!("有效期至：{}", chinese_date(s.valid_until)));
            lines.push(format!(
                "签名算法：{}（密钥标识 {}）",
                algorithm_name(s.suite),
                s.key_id
            ));
            (verified.validity, holder.as_ref().map(|id| s.holder(id)))
        }
        (None, None) => bail!("give a certificate FILE or --token"),
    };

    let verdict = match (validity, is_holder) {
        (Validity::Valid, None | Some(HolderCheck::Matches | HolderCheck::MaskMatches)) => None,
        (Validity::Valid, Some(HolderCheck::Differs)) => {
            Some("证明与所给公民身份号码不符，不是持证人本人的证明".to_owned())
        }
        (validity, _) => Some(validity.chinese()),
    };
    let mut out = std::io::stdout().lock();
    match &verdict {
        None => writeln!(out, "验证通过：签名有效，在有效期内。")?,
        Some(reason) => writeln!(out, "验证未通过：签名有效，但{reason}。")?,
    }
    for line in lines {
        writeln!(out, "{line}")?;
    }
    match is_holder {
        Some(HolderCheck::Matches) => writeln!(out, "持证人核验：公民身份号码与证明一致")?,
        Some(HolderCheck::MaskMatches) => writeln!(
            out,
            "持证人核验：号码的前六位和后四位与证明一致；二维码不含完整号码的核验值，完整核验请用证明文书文件"
        )?,
        Some(HolderCheck::Differs) | None => {}
    }
    Ok(match (&verdict, is_holder) {
        // Valid, but the holder could not be confirmed (a token alone): neither yes nor no, so a
        // script that checks for 0 does not take it for a confirmed holder.
        (None, Some(HolderCheck::MaskMatches)) => ExitCode::from(2),
        (None, _) => ExitCode::SUCCESS,
        (Some(_), _) => ExitCode::FAILURE,
    })
}

/// A certificate that does not verify: the reason in Chinese, the detail in English.
fn refuse(error: &CertificateError) -> ExitCode {
    let reason = match error {
        CertificateError::Malformed(_)
        | CertificateError::NotCanonical
        | CertificateError::InvalidField { .. }
        | CertificateError::MalformedToken(_) => "格式不正确或内容已被改动",
        CertificateError::WrongSuite { .. } | CertificateError::WrongKey { .. } => {
            "不是由所给公钥对应的签发密钥签发"
        }
        CertificateError::BadSignature => "签名无效：内容已被改动，或并非由该公钥对应的机关签发",
        CertificateError::TokenMismatch => "文件中的二维码令牌与证明内容不符",
        CertificateError::QrCode(_) => "二维码内容无法处理",
    };
    println!("验证未通过：{reason}（{error}）。");
    ExitCode::FAILURE
}

fn keygen(suite: Suite, out: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = SigningKey::generate(suite);
    let secret = key.to_pkcs8_pem()?;
    let public = key.verifying_key();
    let secret_path = out.join("signing-key.pem");
    let public_path = out.join("public-key.pem");
    for path in [&secret_path, &public_path] {
        if path.exists() {
            bail!("{} exists; not overwriting a key", path.display());
        }
    }
    write_new(&secret_path, secret.as_bytes(), true)?;
    write_new(&public_path, public.to_text().as_bytes(), false)?;
    println!(
        "{}：签发密钥 {}（保密），公钥 {}，密钥标识 {}",
        algorithm_name(suite),
        secret_path.display(),
        public_path.display(),
        key_id(&public)
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` (never overwriting), readable only by its owner when `secret`, whole and
/// flushed to the disk before it has its name (`fengcun_server::keyfile`).
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<()> {
    use fengcun_server::keyfile::{Access, create};
    let text = std::str::from_utf8(bytes)?;
    let access = if secret {
        Access::Owner
    } else {
        Access::Everyone
    };
    let created =
        create(path, text, access).with_context(|| format!("cannot create {}", path.display()))?;
    if !created {
        bail!("{} exists; not overwriting a key", path.display());
    }
    Ok(())
}

/// Legal dates in China are calendar dates at UTC+8, whatever the machine's time zone.
fn today_in_china() -> Date {
    let offset = jiff::tz::Offset::constant(8);
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(offset))
        .date()
}
