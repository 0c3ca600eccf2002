//! The charge catalogue: complete through Amendment XII, tagged as the policies need, and able to
//! resolve every charge name in the real data of `../shared/data/external`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use fengcun_domain::{Catalogue, Culpability, Tag};

fn catalogue() -> &'static Catalogue {
    Catalogue::builtin()
}

/// `../shared/data/external`, or `FENGCUN_SHARED_DIR/data/external`; `None` (and a message saying
/// the test is skipped) where the shared data is not checked out beside the project.
fn external(file: &str) -> Option<String> {
    let shared = std::env::var_os("FENGCUN_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join("data/external").join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!(
                "SKIPPED: {} is absent (the shared data is not beside the project)",
                path.display()
            );
            None
        }
    }
}

fn unresolved<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| catalogue().resolve(n).is_none())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_lecard_charge_resolves() {
    let Some(text) = external("lecard-charges/criminal_charges.txt") else {
        return;
    };
    let names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(names.len(), 469);
    assert_eq!(unresolved(names), Vec::<String>::new());
}

#[test]
fn every_cail_label_and_accusation_resolves() {
    let Some(labels) = external("cail2018-sihuajian/accu.txt") else {
        return;
    };
    let labels: Vec<&str> = labels
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(labels.len(), 202);
    assert_eq!(unresolved(labels), Vec::<String>::new());
    let mut accusations = BTreeSet::new();
    for file in [
        "cail2018-sihuajian/data_train.json",
        "cail2018-sihuajian/data_test.json",
    ] {
        let Some(text) = external(file) else { return };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).expect("CAIL line is JSON");
            for a in value["meta"]["accusation"]
                .as_array()
                .expect("accusation list")
            {
                accusations.insert(a.as_str().expect("string").to_owned());
            }
        }
    }
    assert!(accusations.len() > 100);
    assert_eq!(
        unresolved(accusations.iter().map(String::as_str)),
        Vec::<String>::new()
    );
}

/// The charges defendants are convicted of in the operative part (判决如下 … 如不服) of the real
/// judgments.
#[test]
fn every_charge_convicted_in_the_real_judgments_resolves() {
    let Some(text) = external("judge-test/judgments.jsonl") else {
        return;
    };
    let pattern = regex::Regex::new(
        r"犯([^，,。；;：:\s“”（）()]{1,40}?罪|[^，,。；;：:\s“”]{1,40}?[（(][边境][）)][^，,。；;：:\s“”]{0,30}?罪)(?:[，,；;。\s、（(的]|判|免|并|数罪)",
    )
    .expect("regex");
    let mut names = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).expect("judgment line is JSON");
        let document = value["fd"].as_str().expect("fd");
        let Some(start) = document.find("判决如下") else {
            continue;
        };
        let operative = &document[start..];
        let operative = operative
            .find("如不服本判决")
            .map_or(operative, |end| &operative[..end]);
        for capture in pattern.captures_iter(operative) {
            let name = &capture[1];
            if !name.starts_with('罪') {
                names.insert(name.to_owned());
            }
        }
    }
    assert!(names.len() >= 60, "only {} charge names found", names.len());
    assert_eq!(
        unresolved(names.iter().map(String::as_str)),
        Vec::<String>::new()
    );
}

#[test]
fn amendments_nine_to_twelve_are_in_at_their_articles() {
    let expected = [
        ("妨害安全驾驶罪", "133之二"),
        ("危险作业罪", "134之一"),
        ("妨害药品管理罪", "142之一"),
        ("负有照护职责人员性侵罪", "236之一"),
        ("袭警罪", "277"),
        ("冒名顶替罪", "280之二"),
        ("高空抛物罪", "291之二"),
        ("催收非法债务罪", "293之一"),
        ("侵害英雄烈士名誉、荣誉罪", "299之一"),
        ("非法植入基因编辑、克隆胚胎罪", "336之一"),
        ("破坏自然保护地罪", "342之一"),
        ("妨害兴奋剂管理罪", "355之一"),
        ("侮辱国旗、国徽、国歌罪", "299"),
        ("帮助信息网络犯罪活动罪", "287之二"),
        ("危险驾驶罪", "133之一"),
        ("准备实施恐怖活动罪", "120之二"),
    ];
    for (name, article) in expected {
        let charge = catalogue()
            .resolve(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            (
                charge.name.as_str(),
                charge.article.as_str(),
                charge.current
            ),
            (name, article, true)
        );
    }
    // Renamed charges resolve to today's name.
    for (old, new) in [
        ("生产、销售假药罪", "生产、销售、提供假药罪"),
        ("强制猥亵、侮辱妇女罪", "强制猥亵、侮辱罪"),
        (
            "非法猎捕、杀害珍贵、濒危野生动物罪",
            "危害珍贵、濒危野生动物罪",
        ),
    ] {
        assert_eq!(
            catalogue().resolve(old).map(|c| c.name.as_str()),
            Some(new),
            "{old}"
        );
    }
    assert!(
        !catalogue()
            .resolve("嫖宿幼女罪")
            .expect("kept for old records")
            .current
    );
}

/// Chapter 4 crimes whose subject is a judicial officer (司法工作人员, art. 94), a guard of a place of
/// detention, or a state organ's official (国家机关工作人员).
const OFFICIALS_ONLY_IN_CHAPTER_4: [&str; 6] = [
    "刑讯逼供罪",
    "暴力取证罪",
    "虐待被监管人罪",
    "非法剥夺公民宗教信仰自由罪",
    "侵犯少数民族风俗习惯罪",
    "报复陷害罪",
];

#[test]
fn categories_are_exactly_the_articles_the_issue_names() {
    let current: Vec<_> = catalogue().charges().iter().filter(|c| c.current).collect();
    assert!(
        (470..=500).contains(&current.len()),
        "{} current charges",
        current.len()
    );
    let base = |article: &str| -> u16 {
        article
            .split('之')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("article number")
    };
    for charge in &current {
        let article = base(&charge.article);
        assert_eq!(
            charge.tags.contains(Tag::NationalSecurity),
            charge.chapter == 1,
            "{}",
            charge.name
        );
        // Chapters 8 and 9, and the chapter 4 crimes only a state official can commit
        // (docs/catalogue.md).
        assert_eq!(
            charge.tags.contains(Tag::DutyCrime),
            matches!(charge.chapter, 8 | 9)
                || OFFICIALS_ONLY_IN_CHAPTER_4.contains(&charge.name.as_str()),
            "{}",
            charge.name
        );
        // Chapter 6 section 7, but not doping (妨害兴奋剂管理罪, 355之一).
        assert_eq!(
            charge.tags.contains(Tag::Drugs),
            charge.chapter == 6 && charge.section == 7 && charge.article != "355之一",
            "{}",
            charge.name
        );
        if charge.tags.contains(Tag::Drugs) {
            assert!((347..=357).contains(&article), "{}", charge.name);
        }
        assert_eq!(
            charge.tags.contains(Tag::Terrorism),
            article == 120,
            "{}",
            charge.name
        );
        assert_eq!(
            charge.tags.contains(Tag::Sexual),
            matches!(article, 236 | 237),
            "{}",
            charge.name
        );
        assert_eq!(
            charge.tags.contains(Tag::OrganizedCrime),
            article == 294,
            "{}",
            charge.name
        );
    }
    let serious: BTreeSet<&str> = catalogue()
        .with_tag(Tag::SeriousViolent)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        serious,
        BTreeSet::from([
            "故意杀人罪",
            "抢劫罪",
            "强奸罪",
            "绑架罪",
            "放火罪",
            "爆炸罪"
        ])
    );
    for name in [
        "交通肇事罪",
        "失火罪",
        "过失致人死亡罪",
        "玩忽职守罪",
        "重大责任事故罪",
    ] {
        assert_eq!(
            catalogue().resolve(name).map(|c| c.culpability),
            Some(Culpability::Negligent),
            "{name}"
        );
    }
    let chapters: BTreeSet<u8> = current.iter().map(|c| c.chapter).collect();
    assert_eq!(chapters, (1..=10).collect());
}
