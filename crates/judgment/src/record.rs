//! Writing what was read as record-facts lines (FORMATS.md), checked by the same parser that
//! `fengcun evaluate` uses, so every line written is a line it accepts.

use fengcun_domain::{Catalogue, PrincipalKind, RecordParser};
use serde::Serialize;

use crate::document::Instance;
use crate::error::JudgmentError;
use crate::extract::{Defendant, Extraction, Flag};

#[derive(Debug, Serialize)]
struct Line<'a> {
    record_id: String,
    person: Person<'a>,
    charges: Vec<ChargeName<'a>>,
    disposition: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    disposition_date: Option<String>,
    sentence: SentenceOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    judgment_effective_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recidivist: Option<bool>,
    prior_convictions: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<Flag>,
    source: Source<'a>,
}

#[derive(Debug, Serialize)]
struct Person<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
}

#[derive(Debug, Serialize)]
struct ChargeName<'a> {
    name: &'a str,
}

#[derive(Debug, Clone, Serialize)]
struct SentenceOut {
    principal: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probation_months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fine_yuan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    political_rights_months: Option<u32>,
    combined: bool,
}

/// Where the line comes from: the document, the defendant's place in it, and the instance.
#[derive(Debug, Serialize)]
struct Source<'a> {
    document: &'a str,
    k: usize,
    instance: &'static str,
    extractor: &'static str,
}

/// A corporate defendant (被告单位): reported apart, never as a person's record.
#[derive(Debug, Serialize)]
pub struct CorporateLine<'a> {
    pub document: &'a str,
    pub k: usize,
    pub name: &'a str,
    pub charges: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fine_yuan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judgment_date: Option<String>,
}

/// The output of one document: record-facts lines for persons, lines for units, and the
/// defendants that could not be written, with the reason.
#[derive(Debug, Default)]
pub struct Written {
    pub records: Vec<String>,
    pub corporate: Vec<String>,
    pub failures: Vec<JudgmentError>,
}

/// Turns an extraction into lines. `document` is the document id used in `record_id`.
pub fn write(document: &str, extraction: &Extraction, catalogue: &Catalogue) -> Written {
    let mut out = Written::default();
    let parser = RecordParser::new(catalogue);
    for d in &extraction.defendants {
        if d.corporate {
            let line = CorporateLine {
                document,
                k: d.k,
                name: &d.name,
                charges: &d.charges,
                fine_yuan: d.punishment.fine_yuan,
                judgment_date: extraction.judgment_date.map(|d| d.to_string()),
            };
            match serde_json::to_string(&line) {
                Ok(text) => out.corporate.push(text),
                Err(e) => out.failures.push(failure(document, d, e.to_string())),
            }
            continue;
        }
        match person_line(document, extraction, d, &parser) {
            Ok(line) => out.records.push(line),
            Err(reason) => out.failures.push(failure(document, d, reason)),
        }
    }
    out
}

fn failure(document: &str, d: &Defendant, reason: String) -> JudgmentError {
    JudgmentError::Defendant {
        document: document.to_owned(),
        k: d.k,
        name: d.name.clone(),
        reason,
    }
}

/// Builds the line, then lets the record parser judge it; a sentence part the Criminal Law does
/// not allow as read is dropped with a flag rather than written wrong or losing the defendant.
fn person_line(
    document: &str,
    extraction: &Extraction,
    d: &Defendant,
    parser: &RecordParser<'_>,
) -> Result<String, String> {
    let Some(principal) = d.punishment.principal else {
        return Err("no principal punishment or fine found in the operative part".to_owned());
    };
    if d.charges.is_empty() {
        return Err(format!(
            "no charge the catalogue knows (read: {})",
            d.unknown_charges.join("、")
        ));
    }
    let mut flags: Vec<Flag> = extraction.flags.clone();
    flags.extend(d.flags.iter().cloned());
    for unknown in &d.unknown_charges {
        flags.push(Flag::new(
            "charges",
            format!("罪名“{unknown}”不在罪名目录中，已略去"),
        ));
    }
    notes_on_supplementary(d, &mut flags);
    flags.push(Flag::new(
        "prior_convictions",
        "前科按判决书首部所列前罪计数、累犯按“本院认为”部分认定；未列、未认定者按无",
    ));
    let mut recidivist = Some(d.recidivist);
    let date = extraction.judgment_date.map(|d| d.to_string());
    let effective = effective_date(extraction, &mut flags);
    let mut sentence = SentenceOut {
        principal: principal.code(),
        months: d.punishment.months.filter(|_| principal.has_term()),
        probation_months: d.punishment.probation_months,
        fine_yuan: d.punishment.fine_yuan,
        political_rights_months: d.punishment.political_rights_months,
        combined: d.combined || d.charges.len() > 1,
    };
    if principal == PrincipalKind::Exempt {
        // Art. 37: exemption carries no punishment; a fine read next to it belongs elsewhere.
        sentence.fine_yuan = None;
        sentence.political_rights_months = None;
    }
    for _ in 0..4 {
        let line = Line {
            record_id: format!("{document}#{}", d.k),
            person: Person {
                name: &d.name,
                birth_date: d.birth_date.map(|b| b.to_string()),
            },
            charges: d.charges.iter().map(|name| ChargeName { name }).collect(),
            disposition: "convicted",
            disposition_date: date.clone(),
            sentence: sentence.clone(),
            judgment_effective_date: effective.clone(),
            recidivist,
            prior_convictions: d.prior_convictions,
            flags: flags.clone(),
            source: Source {
                document,
                k: d.k,
                instance: extraction.instance.code(),
                extractor: concat!("fengcun-judgment ", env!("CARGO_PKG_VERSION")),
            },
        };
        let text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
        let error = match parser.parse(text.as_bytes()) {
            Ok(_) => return Ok(text),
            Err(error) => error,
        };
        let mut field = error.field.clone();
        let reason = format!("读取值不符合刑法规定（{error}），已略去");
        if recidivist == Some(true) && error.to_string().contains("recidivist") {
            // Probation granted means the court did not find 累犯 (art. 74): our reading yields.
            field = "recidivist".to_owned();
        }
        match field.as_str() {
            "sentence.probation_months" => sentence.probation_months = None,
            "sentence.political_rights_months" => sentence.political_rights_months = None,
            "sentence.fine_yuan" => sentence.fine_yuan = None,
            "recidivist" => recidivist = None,
            "person.birth_date" | "offence_date" => return Err(error.to_string()),
            _ => return Err(error.to_string()),
        }
        flags.push(Flag::new(&field, reason));
    }
    Err("the sentence could not be made valid".to_owned())
}

fn notes_on_supplementary(d: &Defendant, flags: &mut Vec<Flag>) {
    if d.punishment.political_rights_life {
        flags.push(Flag::new(
            "sentence.political_rights_months",
            "剥夺政治权利终身，格式无法以月数表示，未填",
        ));
    }
    if d.punishment.confiscation {
        flags.push(Flag::new(
            "sentence.fine_yuan",
            "判处没收财产，不属罚金，未计入",
        ));
    }
}

/// Second-instance judgments take effect when pronounced (Criminal Procedure Law art. 259); a
/// first-instance judgment only after the appeal period, so its judgment date is an approximation.
fn effective_date(extraction: &Extraction, flags: &mut Vec<Flag>) -> Option<String> {
    let date = extraction.judgment_date?;
    if extraction.instance != Instance::Second {
        flags.push(Flag::new(
            "judgment_effective_date",
            "一审判决生效日期以判决日期近似（实际于上诉期满未上诉时生效）",
        ));
    }
    Some(date.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    #[test]
    fn lines_parse_as_record_facts_and_units_go_apart() {
        let text = "某某区人民法院 刑事判决书 被告单位某某有限公司，住所地某某区。 被告人张三，男，1990年3月7日出生。 本院认为……判决如下： \
            一、被告单位某某有限公司犯单位行贿罪，判处罚金人民币十万元； 二、被告人张三犯单位行贿罪，判处拘役四个月，缓刑六个月，并处罚金人民币十万元。 \
            如不服本判决，可上诉。 审判员王五 二〇一七年十二月十五日 书记员赵六";
        let catalogue = Catalogue::builtin();
        let extraction = extract("D1", text, catalogue).unwrap();
        let written = write("D1", &extraction, catalogue);
        assert!(written.failures.is_empty(), "{:?}", written.failures);
        assert_eq!(written.corporate.len(), 1);
        assert_eq!(written.records.len(), 1);
        let record = fengcun_domain::parse_record(written.records[0].as_bytes()).unwrap();
        assert_eq!(record.record_id, "D1#2");
        let json: serde_json::Value = serde_json::from_str(&written.records[0]).unwrap();
        assert_eq!(json["sentence"]["principal"], "criminal_detention");
        assert_eq!(json["sentence"]["probation_months"], 6);
        assert_eq!(json["disposition_date"], "2017-12-15");
        assert_eq!(json["person"]["birth_date"], "1990-03-07");
        let fields: Vec<&str> = json["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&"judgment_effective_date"), "{fields:?}");
        assert_eq!(json["prior_convictions"], 0);
        assert_eq!(json["recidivist"], false);
        let unit: serde_json::Value = serde_json::from_str(&written.corporate[0]).unwrap();
        assert_eq!(unit["k"], 1);
        assert_eq!(unit["fine_yuan"], 100_000);
    }

    #[test]
    fn unlawful_probation_is_dropped_with_a_flag() {
        // Probation shorter than the term is not allowed (art. 73); the line keeps the rest.
        let text = "判决如下： 被告人张三犯盗窃罪，判处有期徒刑一年，缓刑六个月。 审判员王五 二〇一七年十二月十五日";
        let catalogue = Catalogue::builtin();
        let extraction = extract("D2", text, catalogue).unwrap();
        let written = write("D2", &extraction, catalogue);
        let json: serde_json::Value = serde_json::from_str(&written.records[0]).unwrap();
        assert!(json["sentence"].get("probation_months").is_none());
        let flags = json["flags"].as_array().unwrap();
        assert!(
            flags
                .iter()
                .any(|f| f["field"] == "sentence.probation_months")
        );
    }
}
