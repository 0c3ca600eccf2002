//! The supervision rules on a generated audit history (src/audit_history.rs): every planted case
//! at the strong intensity flagged by its rule; on the benign history, at most 1 % of users
//! flagged. Prints precision and recall per rule and intensity (docs/supervision.md):
//!
//! `cargo test -p fengcun-testkit --test supervision -- --nocapture`

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a test that reports"
)]

use std::collections::{BTreeMap, BTreeSet};

use fengcun_supervision::{Flag, RuleSet, day_start, evaluate};
use fengcun_testkit::audit_history::{CASES, Config, History, Intensity, generate};

fn run(config: &Config) -> (History, Vec<Flag>) {
    let rules = RuleSet::shipped().unwrap();
    let history = generate(config, &rules.calendar);
    // Closed at the end of the period's last day (and a month more, so the last month's pairs
    // and the last runs are certain).
    let until = day_start(20_089 + config.days + 31);
    let flags = evaluate(&rules, &history.entries, until);
    (history, flags)
}

#[test]
fn planted_misuse_is_flagged_and_the_benign_history_is_quiet() {
    let config = Config::default();
    let (history, flags) = run(&config);
    let users = history.users.len();
    let agencies = config.agencies;
    println!(
        "history: {} entries, {users} users in {agencies} agencies over {} days, {} planted cases, {} flags",
        history.entries.len(),
        config.days,
        history.planted.len(),
        flags.len()
    );
    assert!(users >= 2000 && agencies >= 100 && history.entries.len() > 1_000_000);

    // Recall: a planted case is found when a flag of its rule names its subject.
    let flagged: BTreeSet<(&str, &str)> = flags
        .iter()
        .map(|f| (f.rule.as_str(), f.subject.as_str()))
        .collect();
    let mut recall: BTreeMap<(&str, &str, Intensity), (usize, usize)> = BTreeMap::new();
    for p in &history.planted {
        let cell = recall.entry((p.rule, p.case, p.intensity)).or_default();
        cell.1 += 1;
        if flagged.contains(&(p.rule, p.subject.as_str())) {
            cell.0 += 1;
        }
    }
    // Precision per rule: of its flags, those about a user with planted misuse (a spree of 100
    // look-ups planted for the volume rule is also a run for the fishing rule if they find
    // nothing: a flag about a misuser is not a false alarm, whichever rule it was planted for).
    let planted: BTreeSet<&str> = history.planted.iter().map(|p| p.subject.as_str()).collect();
    let mut precision: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &flags {
        let cell = precision.entry(f.rule.as_str()).or_default();
        cell.1 += 1;
        if planted.contains(f.subject.as_str()) {
            cell.0 += 1;
        }
    }
    for f in flags
        .iter()
        .filter(|f| !planted.contains(f.subject.as_str()))
    {
        println!(
            "false alarm: {} {} {} from {} score {} ({} entries)",
            f.rule,
            f.pattern,
            f.subject,
            f.from,
            f.score,
            f.entries.len()
        );
    }
    println!(
        "\n| rule | planted misuse | recall weak | recall medium | recall strong | precision (all flags of the rule) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (rule, case) in CASES {
        let cell = |i| {
            recall
                .get(&(rule, case, i))
                .map_or("–".into(), |(f, n)| format!("{f}/{n}"))
        };
        let p = precision.get(rule).map_or("no flags".into(), |(tp, n)| {
            format!("{tp}/{n} = {:.2}", *tp as f64 / *n as f64)
        });
        println!(
            "| {rule} | {case} | {} | {} | {} | {p} |",
            cell(Intensity::Weak),
            cell(Intensity::Medium),
            cell(Intensity::Strong)
        );
    }

    for p in history
        .planted
        .iter()
        .filter(|p| p.intensity == Intensity::Strong)
    {
        assert!(
            flagged.contains(&(p.rule, p.subject.as_str())),
            "strong {} ({}) of {} not flagged",
            p.rule,
            p.case,
            p.subject
        );
    }

    // The same generator without planted cases: at most 1 % of users flagged by any rule.
    let (benign, flags) = run(&Config {
        planted: 0,
        ..config
    });
    let subjects: BTreeSet<&str> = flags.iter().map(|f| f.subject.as_str()).collect();
    let share = subjects.len() as f64 / benign.users.len() as f64;
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &flags {
        *by_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    println!(
        "\nbenign history: {} entries, {} users, {} flagged ({:.2} %); flags by rule: {by_rule:?}",
        benign.entries.len(),
        benign.users.len(),
        subjects.len(),
        share * 100.0
    );
    assert!(
        share <= 0.01,
        "{} of {} benign users flagged: {by_rule:?}",
        subjects.len(),
        benign.users.len()
    );
}
