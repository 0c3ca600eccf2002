#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! Accuracy of the extractor on hand-labelled real judgments (tests/fixtures/labels.jsonl,
//! described in tests/fixtures/LABELS.md). The labels are held-out ground truth: they were made
//! without the extractor and are not used to write its rules.
//!
//! A natural-person defendant counts as right only if principal, months, probation_months,
//! fine_yuan and the set of charges (catalogue names) are all exactly right.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use fengcun_domain::Catalogue;
use fengcun_judgment::{Defendant, extract};
use serde_json::Value;

const REQUIRED_ACCURACY: f64 = 0.98;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The judgments, by text_id, or `None` when the shared data is not on this machine.
fn judgments() -> Option<HashMap<String, String>> {
    let path = manifest().join("../../../shared/data/external/judge-test/judgments.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} not found; the accuracy test needs the shared JuDGE judgments",
            path.display()
        );
        return None;
    };
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).unwrap();
        out.insert(
            value["text_id"].as_str().unwrap().to_owned(),
            value["fd"].as_str().unwrap().to_owned(),
        );
    }
    Some(out)
}

fn labels() -> Vec<Value> {
    let path = manifest().join("tests/fixtures/labels.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} cannot be read ({e}): the hand labels are required for the accuracy test",
            path.display()
        )
    });
    let labels: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!labels.is_empty(), "{} holds no labels", path.display());
    labels
}

/// The compared fields, as the labels write them.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    principal: Option<String>,
    months: Option<u64>,
    probation_months: Option<u64>,
    fine_yuan: Option<u64>,
    charges: BTreeSet<String>,
}

fn from_label(label: &Value, catalogue: &Catalogue) -> Fields {
    Fields {
        principal: label["principal"].as_str().map(str::to_owned),
        months: label["months"].as_u64(),
        probation_months: label["probation_months"].as_u64(),
        fine_yuan: label["fine_yuan"].as_u64(),
        // Labels use full catalogue names; resolving keeps the comparison to catalogue names.
        charges: label["charges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let name = c.as_str().unwrap();
                catalogue
                    .resolve(name)
                    .map_or_else(|| name.to_owned(), |c| c.name.clone())
            })
            .collect(),
    }
}

fn from_extraction(d: &Defendant) -> Fields {
    Fields {
        principal: d.punishment.principal.map(|p| p.code().to_owned()),
        months: d.punishment.months.map(u64::from),
        probation_months: d.punishment.probation_months.map(u64::from),
        fine_yuan: d.punishment.fine_yuan,
        charges: d.charges.iter().cloned().collect(),
    }
}

#[test]
fn extraction_matches_hand_labels() {
    let Some(judgments) = judgments() else {
        return;
    };
    let labels = labels();
    let catalogue = Catalogue::builtin();
    let mut extracted: HashMap<String, Vec<Defendant>> = HashMap::new();
    let (mut scored, mut right) = (0usize, 0usize);
    let mut mismatches = Vec::new();
    for label in &labels {
        if label["corporate"].as_bool() == Some(true) {
            continue;
        }
        let doc = label["doc"].as_str().unwrap();
        let k = usize::try_from(label["k"].as_u64().unwrap()).unwrap();
        let name = label["name"].as_str().unwrap_or_default();
        let text = judgments
            .get(doc)
            .unwrap_or_else(|| panic!("label for unknown document {doc}"));
        let defendants = extracted.entry(doc.to_owned()).or_insert_with(|| {
            extract(doc, text, catalogue)
                .map(|e| e.defendants)
                .unwrap_or_default()
        });
        scored += 1;
        let expected = from_label(label, catalogue);
        // The same person by name, else by place in the operative part.
        let found = defendants
            .iter()
            .find(|d| d.name == name)
            .or_else(|| defendants.iter().find(|d| d.k == k));
        match found {
            Some(d) if from_extraction(d) == expected => right += 1,
            Some(d) => mismatches.push(format!(
                "{doc} k={k} {name}:\n    expected {expected:?}\n    got      {:?}\n    flags    {:?}",
                from_extraction(d),
                d.flags
            )),
            None => mismatches.push(format!(
                "{doc} k={k} {name}: not extracted (found {:?})",
                defendants.iter().map(|d| &d.name).collect::<Vec<_>>()
            )),
        }
    }
    for mismatch in &mismatches {
        eprintln!("MISMATCH {mismatch}");
    }
    let accuracy = right as f64 / scored as f64;
    eprintln!(
        "accuracy: {right}/{scored} natural-person defendants exactly right = {:.1} %",
        accuracy * 100.0
    );
    assert!(
        scored >= 100,
        "only {scored} labelled defendants; want ≥ 100"
    );
    assert!(
        accuracy >= REQUIRED_ACCURACY,
        "accuracy {:.1} % is below {:.0} %",
        accuracy * 100.0,
        REQUIRED_ACCURACY * 100.0
    );
}
