//! The printable certificate page: HTML with the QR code inline as SVG.
//!
//! A small template function rather than a template engine: the page has one shape, and every
//! value that comes from the certificate goes through [`escape_html`].

use std::fmt::Write as _;

use fengcun_domain::date::chinese_date;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::document::{SignedCertificate, algorithm_name};
use crate::error::CertificateError;
use crate::result::{CertificateResult, ListedConviction};

/// The language of the page. The certificate's own content (names, charges) stays as issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the language of the document.
    #[default]
    Zh,
    /// English, for the console's English mode.
    En,
}

impl Lang {
    /// Parses `zh` / `zh-CN` or `en`.
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" | "zh-CN" | "zh-Hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `payload` as a QR code (error correction level M), an `<svg>` element with no XML
/// declaration, ready to inline in HTML.
pub fn qr_svg(payload: &str) -> Result<String, CertificateError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|err| CertificateError::QrCode(err.to_string()))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    })
}

/// The printable page of a certificate. The QR code carries the token, or `verify_url` followed
/// by the token when given (for example `https://example.gov.cn/verify/`), so that a phone opens
/// the issuer's verification page.
pub fn render_html(
    signed: &SignedCertificate,
    lang: Lang,
    verify_url: Option<&str>,
) -> Result<String, CertificateError> {
    let certificate = signed.certificate();
    let text = Text::of(lang);
    let payload = match verify_url {
        Some(base) => format!("{base}{}", signed.token()),
        None => signed.token().to_owned(),
    };
    let qr = qr_svg(&payload)?;
    let result = &certificate.result;
    let title = match lang {
        Lang::Zh => result.title(),
        Lang::En => CertificateResult::english_title(result.code()).unwrap_or(result.title()),
    };
    let e = escape_html;
    let date = |d| match lang {
        Lang::Zh => chinese_date(d),
        Lang::En => d.to_string(),
    };
    let name = e(&certificate.person.name);
    let masked = e(&certificate.person.id_masked);
    let as_of = date(certificate.issue_date);

    let mut page = String::with_capacity(16 * 1024);
    let mut w = |s: &str| page.push_str(s);
    w("<!DOCTYPE html>\n");
    w(&format!(
        "<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        text.html_lang
    ));
    w(&format!(
        "<title>{} {}</title>\n",
        e(title),
        e(&certificate.number)
    ));
    w(STYLE);
    w("</head>\n<body>\n<main class=\"certificate\">\n");
    w(&format!("<h1>{}</h1>\n", e(title)));
    w(&format!(
        "<p class=\"number\">{}{}</p>\n",
        text.number,
        e(&certificate.number)
    ));
    match &certificate.result {
        CertificateResult::NoCriminalRecord => {
            w(&format!(
                "<p class=\"statement\">{}</p>\n",
                (text.statement_none)(&as_of, &name, &masked)
            ));
        }
        CertificateResult::HasCriminalRecord(convictions) => {
            w(&format!(
                "<p class=\"statement\">{}</p>\n",
                (text.statement_some)(&as_of, &name, &masked)
            ));
            w(&convictions_table(convictions, &text, &date));
        }
    }
    w("<table class=\"fields\">\n");
    let rows = [
        (text.name, name.clone()),
        (text.id, masked.clone()),
        (text.result, e(&result_text(&certificate.result, lang))),
        (text.purpose, e(&certificate.purpose)),
        (text.issuer, e(&certificate.issuer.agency)),
        (text.issue_date, e(&date(certificate.issue_date))),
        (text.valid_until, e(&date(certificate.valid_until))),
        (text.algorithm, e(algorithm_name(certificate.suite))),
        (text.key_id, e(&certificate.issuer.key_id)),
    ];
    for (label, value) in rows {
        w(&format!("<tr><th>{label}</th><td>{value}</td></tr>\n"));
    }
    w("</table>\n");
    w(&format!(
        "<figure class=\"qr\">{qr}<figcaption>{}</figcaption></figure>\n",
        text.scan
    ));
    w(&format!(
        "<section class=\"verify\">\n<h2>{}</h2>\n<ol>\n",
        text.how_to_verify
    ));
    for step in text.steps {
        w(&format!("<li>{step}</li>\n"));
    }
    if let Some(base) = verify_url {
        w(&format!(
            "<li>{}<code>{}</code></li>\n",
            text.online,
            e(base)
        ));
    }
    w("</ol>\n");
    w(&format!("<p class=\"note\">{}</p>\n", text.note));
    w("</section>\n</main>\n</body>\n</html>\n");
    Ok(page)
}

fn result_text(result: &CertificateResult, lang: Lang) -> String {
    match (result, lang) {
        (CertificateResult::NoCriminalRecord, Lang::Zh) => result.chinese().to_owned(),
        (CertificateResult::HasCriminalRecord(c), Lang::Zh) => {
            format!("有犯罪记录（{}项）", c.len())
        }
        (CertificateResult::NoCriminalRecord, Lang::En) => "no criminal record found".to_owned(),
        (CertificateResult::HasCriminalRecord(c), Lang::En) => {
            format!("criminal record ({} conviction(s))", c.len())
        }
    }
}

fn convictions_table(
    convictions: &[ListedConviction],
    text: &Text,
    date: &dyn Fn(fengcun_domain::Date) -> String,
) -> String {
    let e = escape_html;
    let none = "—";
    let mut out = String::new();
    let _ = write!(
        out,
        "<table class=\"convictions\">\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        text.charges, text.sentence, text.effective, text.court, text.case_number
    );
    for c in convictions {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&c.charges.join("、")),
            c.sentence.as_deref().map_or(none.to_owned(), e),
            e(&date(c.judgment_effective_date)),
            c.court.as_deref().map_or(none.to_owned(), e),
            c.case_number.as_deref().map_or(none.to_owned(), e),
        );
    }
    out.push_str("</table>\n");
    out
}

type Statement = fn(&str, &str, &str) -> String;

/// The fixed text of the page in one language. Only constant text here; values are escaped
/// before they are put in.
struct Text {
    html_lang: &'static str,
    number: &'static str,
    statement_none: Statement,
    statement_some: Statement,
    name: &'static str,
    id: &'static str,
    result: &'static str,
    purpose: &'static str,
    issuer: &'static str,
    issue_date: &'static str,
    valid_until: &'static str,
    algorithm: &'static str,
    key_id: &'static str,
    charges: &'static str,
    sentence: &'static str,
    effective: &'static str,
    court: &'static str,
    case_number: &'static str,
    scan: &'static str,
    how_to_verify: &'static str,
    steps: [&'static str; 3],
    online: &'static str,
    note: &'static str,
}

impl Text {
    fn of(lang: Lang) -> Text {
        match lang {
            Lang::Zh => Text {
                html_lang: "zh-CN",
                number: "编号：",
                statement_none: |as_of, name, id| {
                    format!("经查询，截至{as_of}，未发现{name}（公民身份号码：{id}）有犯罪记录。")
                },
                statement_some: |as_of, name, id| {
                    format!("经查询，截至{as_of}，{name}（公民身份号码：{id}）有下列犯罪记录：")
                },
                name: "姓名",
                id: "公民身份号码",
                result: "查询结果",
                purpose: "用途",
                issuer: "出具机关",
                issue_date: "出具日期",
                valid_until: "有效期至",
                algorithm: "签名算法",
                key_id: "密钥标识",
                charges: "罪名",
                sentence: "刑罚",
                effective: "判决生效日期",
                court: "审判机关",
                case_number: "案号",
                scan: "扫描二维码验证",
                how_to_verify: "验证方法",
                steps: [
                    "扫描二维码，使用出具机关公布的公钥核验二维码中的签名及编号、姓名、结果、用途、出具机关、日期；",
                    "离线核验电子证明文件：<code>fengcun cert verify 证明文件 --public-key 出具机关公钥.pem</code>，或 <code>fengcun cert verify --token 二维码内容 --public-key 出具机关公钥.pem</code>；",
                    "核对持证人的居民身份证：加 <code>--id-number 公民身份号码</code> 可核验本证明是否为该人所有。",
                ],
                online: "在线核验：",
                note: "本证明反映截至出具日期的查询结果，在有效期内使用。任何涂改均使签名验证失败。",
            },
            Lang::En => Text {
                html_lang: "en",
                number: "No. ",
                statement_none: |as_of, name, id| {
                    format!(
                        "A query as of {as_of} found no criminal record of {name} (identity number {id})."
                    )
                },
                statement_some: |as_of, name, id| {
                    format!(
                        "A query as of {as_of} found the following criminal record of {name} (identity number {id}):"
                    )
                },
                name: "Name",
                id: "Identity number",
                result: "Result",
                purpose: "Purpose",
                issuer: "Issued by",
                issue_date: "Date of issue",
                valid_until: "Valid until",
                algorithm: "Signature algorithm",
                key_id: "Key id",
                charges: "Charges",
                sentence: "Sentence",
                effective: "Judgment effective",
                court: "Court",
                case_number: "Case number",
                scan: "Scan to verify",
                how_to_verify: "How to verify",
                steps: [
                    "Scan the QR code and check its signature with the issuer's published public key;",
                    "Verify the electronic file offline: <code>fengcun cert verify FILE --public-key ISSUER.pem</code>, or <code>fengcun cert verify --token QR-CONTENT --public-key ISSUER.pem</code>;",
                    "Check the holder's identity card: <code>--id-number NUMBER</code> confirms the certificate is theirs.",
                ],
                online: "Online: ",
                note: "This document states the result of a query as of its date of issue and is to be used before the date of validity shown. Any alteration makes the signature fail.",
            },
        }
    }
}

const STYLE: &str = "<style>\n\
body{font-family:\"Noto Serif CJK SC\",\"Songti SC\",SimSun,serif;margin:0;background:#f4f4f4}\n\
.certificate{max-width:46em;margin:2em auto;padding:3em;background:#fff;border:1px solid #999}\n\
h1{text-align:center;letter-spacing:.3em;font-size:1.8em}\n\
.number{text-align:right}\n\
.statement{text-indent:2em;line-height:2}\n\
table{border-collapse:collapse;width:100%;margin:1em 0}\n\
th,td{border:1px solid #666;padding:.4em .6em;text-align:left;vertical-align:top}\n\
th{width:9em;background:#f0f0f0;font-weight:normal}\n\
.qr{text-align:center;margin:1.5em 0}\n\
.qr svg{width:60mm;height:60mm}\n\
.verify{font-size:.9em;color:#333}\n\
@media print{body{background:#fff}.certificate{border:none;margin:0}}\n\
</style>\n";
