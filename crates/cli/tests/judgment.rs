#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! `fengcun judgment extract | redact` on a small inline judgment.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn fengcun(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const JUDGMENT: &str = "北京市朝阳区人民法院 刑事判决书 （2019）京0105刑初123号 公诉机关北京市朝阳区人民检察院。 \
被告单位北京某某科技有限公司，住所地北京市朝阳区。 \
被告人张建国，男，1990年3月7日出生，公民身份号码110105199003070025，住北京市朝阳区建国路88号2单元301室，联系电话13912345678。 \
被告人李明，男，1992年5月1日出生，住北京市海淀区。 \
北京市朝阳区人民检察院以京朝检诉［2019］1号起诉书指控被告单位北京某某科技有限公司、被告人张建国、李明犯单位行贿罪。\
被害人王芳。 本院认为……判决如下： \
一、被告单位北京某某科技有限公司犯单位行贿罪，判处罚金人民币十万元； \
二、被告人张建国犯单位行贿罪，判处有期徒刑一年六个月，缓刑二年，并处罚金人民币五千元；犯危险驾驶罪，判处拘役三个月，并处罚金5000元；决定执行有期徒刑一年六个月，缓刑二年，并处罚金人民币一万元。 \
三、被告人李明犯单位行贿罪，判处拘役三个月，缓刑六个月。 \
如不服本判决，可在接到判决书的第二日起十日内上诉。 审判长刘德华 审判员陈静 二〇一九年五月十日 书记员赵强";

#[test]
fn extract_writes_record_facts_that_evaluate_accepts() {
    let out = fengcun(&["judgment", "extract", "--id", "D1"], JUDGMENT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "two persons: {stdout}");
    let first = &lines[0];
    assert_eq!(first["record_id"], "D1#2");
    assert_eq!(first["person"]["name"], "张建国");
    assert_eq!(first["disposition"], "convicted");
    assert_eq!(first["disposition_date"], "2019-05-10");
    assert_eq!(first["sentence"]["principal"], "fixed_term");
    assert_eq!(first["sentence"]["months"], 18);
    assert_eq!(first["sentence"]["probation_months"], 24);
    assert_eq!(first["sentence"]["fine_yuan"], 10_000);
    assert_eq!(first["charges"].as_array().unwrap().len(), 2);
    assert_eq!(lines[1]["sentence"]["principal"], "criminal_detention");
    // The unit goes apart, to stderr by default.
    assert!(stderr.contains("被告单位"), "{stderr}");
    assert!(!stdout.contains("科技有限公司"));

    // The lines are accepted by evaluate.
    let decided = fengcun(
        &[
            "evaluate",
            "--policy",
            "cn-minor-opt1",
            "--as-of",
            "2026-01-01",
        ],
        &stdout,
    );
    assert!(
        decided.status.success(),
        "{}",
        String::from_utf8_lossy(&decided.stderr)
    );
    assert_eq!(
        String::from_utf8(decided.stdout).unwrap().lines().count(),
        2
    );
}

#[test]
fn extract_reads_json_lines_and_writes_units_to_a_file() {
    let dir = std::env::temp_dir().join(format!("fengcun-judgment-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let units = dir.join("units.ndjson");
    let input = serde_json::json!({"text_id": "abc", "fd": JUDGMENT}).to_string();
    let out = fengcun(
        &[
            "judgment",
            "extract",
            "--text-field",
            "fd",
            "--id-field",
            "text_id",
            "--corporate",
            units.to_str().unwrap(),
        ],
        &input,
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().all(|l| l.contains("\"record_id\":\"abc#")));
    let unit: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&units).unwrap().trim()).unwrap();
    assert_eq!(unit["k"], 1);
    assert_eq!(unit["fine_yuan"], 100_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn redact_removes_identifiers_and_lists_replacements() {
    let input = serde_json::json!({"text_id": "abc", "fd": JUDGMENT, "text": "张建国 unredacted"})
        .to_string();
    let out = fengcun(
        &[
            "judgment",
            "redact",
            "--text-field",
            "fd",
            "--id-field",
            "text_id",
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let text = line["fd"].as_str().unwrap();
    for gone in [
        "张建国",
        "李明",
        "王芳",
        "110105199003070025",
        "13912345678",
        "建国路88号",
    ] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
    for kept in ["刘德华", "陈静", "赵强", "北京市朝阳区", "张某", "李某"] {
        assert!(text.contains(kept), "{kept} missing in {text}");
    }
    // Other fields are not copied: they would carry the names unredacted.
    assert!(line.get("text").is_none());
    let replacements = line["replacements"].as_array().unwrap();
    assert!(replacements.iter().any(|r| r["category"] == "id_number"));
    assert!(replacements.iter().all(|r| r.get("offset").is_some()));

    // Plain text in, redacted text out, replacements on stderr.
    let out = fengcun(&["judgment", "redact"], JUDGMENT);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("13912345678"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"category\":\"phone\""));
}
