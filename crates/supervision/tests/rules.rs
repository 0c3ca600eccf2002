//! Each rule on a small hand-made log: what it flags, with which entries, and what it leaves.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fengcun_supervision::{Engine, Entry, Facts, Flag, Kind, RuleSet, evaluate};

/// 2025-03-03 (a Monday) 00:00 in Beijing.
const MONDAY: i64 = 1_740_931_200;
const H: i64 = 3600;
const D: i64 = 86_400;

struct Log(Vec<Entry>);

impl Log {
    fn add(
        &mut self,
        at: i64,
        kind: Kind,
        actor: &str,
        outcome: &str,
        subject: Option<&str>,
        facts: Facts,
    ) -> u64 {
        let seq = self.0.len() as u64;
        self.0.push(Entry {
            seq,
            at,
            kind,
            actor: actor.into(),
            purpose: Some("case_handling".into()),
            outcome: outcome.into(),
            subject: subject.map(Into::into),
            facts,
        });
        seq
    }

    fn lookup(
        &mut self,
        at: i64,
        actor: &str,
        agency: &str,
        person: &str,
        shown: u64,
        withheld: u64,
    ) -> u64 {
        let facts = Facts {
            role: Some("clerk".into()),
            agency: Some(agency.into()),
            by: Some("id_number".into()),
            shown: Some(shown),
            withheld: Some(withheld),
            ..Facts::default()
        };
        self.add(
            at,
            Kind::Lookup,
            actor,
            if shown > 0 { "records" } else { "no_record" },
            Some(person),
            facts,
        )
    }
}

/// The flags of `log` certain by `until` — and the same, every test, when the engine is
/// snapshotted and restored between every few entries, as a server restarting does
/// (`Engine::snapshot`, `Engine::restore`), closing as it goes where the log is in time order.
fn flags(log: &Log, until: i64) -> Vec<Flag> {
    let rules = RuleSet::shipped().unwrap();
    let once = evaluate(&rules, &log.0, until);
    let in_order = log.0.windows(2).all(|w| w[0].at <= w[1].at);
    let mut engine = Engine::new(&rules);
    let mut pieces = Vec::new();
    for chunk in log.0.chunks(23) {
        for e in chunk {
            engine.push(e);
        }
        if in_order {
            pieces.extend(engine.close(chunk[0].at));
        }
        let snapshot = engine.snapshot().unwrap();
        engine = Engine::restore(&rules, &snapshot).expect("taken under the same rules");
    }
    pieces.extend(engine.close(until));
    fengcun_supervision::sort(&mut pieces);
    assert_eq!(pieces, once, "restored from snapshots");
    once
}

fn of<'a>(flags: &'a [Flag], rule: &str) -> Vec<&'a Flag> {
    flags.iter().filter(|f| f.rule == rule).collect()
}

/// Five clerks of one agency look up 10 persons a working day for three weeks; on the fourth
/// Monday one of them looks up 60.
fn desk(spree: usize) -> Log {
    let mut log = Log(Vec::new());
    for week in 0..4 {
        for day in 0..5 {
            let base = MONDAY + (week * 7 + day) * D + 9 * H;
            for clerk in 0..5 {
                let n = if week == 3 && day == 0 && clerk == 0 {
                    spree
                } else {
                    10
                };
                for i in 0..n {
                    log.lookup(
                        base + i as i64 * 60,
                        &format!("clerk{clerk}"),
                        "A1",
                        &format!("p-{week}-{day}-{clerk}-{i}"),
                        1,
                        0,
                    );
                }
            }
        }
    }
    log
}

#[test]
fn volume_flags_the_spree_against_own_history_and_peers() {
    let log = desk(60);
    let all = flags(&log, MONDAY + 28 * D);
    let day = of(&all, "volume-day");
    assert_eq!(day.len(), 1, "{all:#?}");
    assert_eq!(day[0].subject, "clerk0");
    assert_eq!(
        day[0].from, "2025-03-23T16:00:00Z",
        "Monday 24 March, Beijing"
    );
    assert_eq!(day[0].entries.len(), 60);
    assert_eq!(day[0].persons.len(), 60);
    // Own history: median 10, MAD 0 → scale 2 → (60 - 10) / 2 = 25, the same as against peers.
    assert_eq!(day[0].score, 25.0);
    // The ordinary desk: no flag of any rule.
    assert!(flags(&desk(10), MONDAY + 28 * D).is_empty());
    // 25 is below three times the median (30): not flagged though the z-score is high.
    assert!(of(&flags(&desk(25), MONDAY + 28 * D), "volume-day").is_empty());
}

#[test]
fn hours_flags_a_night_and_a_holiday_but_not_one_late_lookup() {
    let mut log = Log(Vec::new());
    // 22:00 on a Tuesday, six persons.
    for i in 0..6 {
        log.lookup(
            MONDAY + D + 22 * H + i * 60,
            "night",
            "A1",
            &format!("n{i}"),
            1,
            0,
        );
    }
    // Qingming, 2025-04-04 (a Friday), 10:00, five persons.
    let qingming = 1_743_696_000 + 10 * H;
    for i in 0..5 {
        log.lookup(qingming + i * 60, "holiday", "A1", &format!("h{i}"), 1, 0);
    }
    // One look-up at 19:30.
    log.lookup(MONDAY + 19 * H + 1800, "late", "A1", "x", 1, 0);
    let all = flags(&log, qingming + 30 * D);
    let hours = of(&all, "hours");
    assert_eq!(
        hours.iter().map(|f| f.subject.as_str()).collect::<Vec<_>>(),
        ["night", "holiday"]
    );
    assert_eq!(hours[0].entries, [0, 1, 2, 3, 4, 5]);
    assert_eq!(hours[1].from, "2025-04-03T16:00:00Z");
}

#[test]
fn fishing_flags_runs_of_nothing_found_and_of_sealed_only() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    for i in 0..8 {
        log.lookup(t + i * 120, "fisher", "A1", &format!("f{i}"), 0, 0);
    }
    // Three finding only sealed records, then a hit ends the run.
    for i in 0..3 {
        log.lookup(t + i * 60, "sealed", "A1", &format!("s{i}"), 0, 1);
    }
    log.lookup(t + 300, "sealed", "A1", "found", 1, 0);
    // Seven finding nothing, with a gap of 31 minutes in the middle: two runs too short.
    for i in 0..7 {
        log.lookup(
            t + i * 60 + if i >= 4 { 31 * 60 } else { 0 },
            "gappy",
            "A1",
            &format!("g{i}"),
            0,
            0,
        );
    }
    let all = flags(&log, t + D);
    let runs = of(&all, "fishing");
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let fisher = runs.iter().find(|f| f.subject == "fisher").unwrap();
    assert_eq!(fisher.entries, (0..8).collect::<Vec<u64>>());
    assert_eq!(fisher.score, 8.0);
    let sealed = runs.iter().find(|f| f.subject == "sealed").unwrap();
    assert_eq!(sealed.entries, [8, 9, 10], "the hit is not part of the run");
    assert_eq!(sealed.score, 3.0 + 2.0 * 3.0);
}

fn request(log: &mut Log, at: i64, requester: &str, agency: &str, id: &str, person: &str) -> u64 {
    let facts = Facts {
        agency: Some(agency.into()),
        person: Some(person.into()),
        ..Facts::default()
    };
    log.add(
        at,
        Kind::Request,
        requester,
        "pending",
        Some(&format!("request:{id}")),
        facts,
    )
}

fn decide(
    log: &mut Log,
    at: i64,
    approver: &str,
    agency: &str,
    id: &str,
    grant: Option<&str>,
) -> u64 {
    let facts = Facts {
        agency: Some(agency.into()),
        grant: grant.map(Into::into),
        ..Facts::default()
    };
    match grant {
        Some(_) => log.add(
            at,
            Kind::Approval,
            approver,
            "approved",
            Some(&format!("request:{id}")),
            facts,
        ),
        None => log.add(
            at,
            Kind::Refusal,
            approver,
            "refused",
            Some(&format!("request:{id}")),
            facts,
        ),
    }
}

#[test]
fn refusals_flag_repetition_and_the_colleague_who_asks_next() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    let mut refusals = Vec::new();
    for i in 0..3 {
        request(
            &mut log,
            t + i * D,
            "asker",
            "A1",
            &format!("r{i}"),
            &format!("p{i}"),
        );
        refusals.push(decide(
            &mut log,
            t + i * D + H,
            "boss",
            "A1",
            &format!("r{i}"),
            None,
        ));
    }
    // A colleague of the same agency looks p0 up two days later; one of another agency too.
    let follow = log.lookup(t + 4 * D, "colleague", "A1", "p0", 0, 1);
    log.lookup(t + 4 * D, "stranger", "B2", "p0", 0, 1);
    let all = flags(&log, t + 30 * D);
    let refusal_flags = of(&all, "refusals");
    assert_eq!(refusal_flags.len(), 2, "{refusal_flags:#?}");
    let repeated = refusal_flags
        .iter()
        .find(|f| f.pattern == "repeated")
        .unwrap();
    assert_eq!(
        (repeated.subject.as_str(), &repeated.entries),
        ("asker", &refusals)
    );
    let colleague = refusal_flags
        .iter()
        .find(|f| f.pattern == "colleague")
        .unwrap();
    assert_eq!(colleague.subject, "colleague");
    assert_eq!(colleague.other.as_deref(), Some("asker"));
    assert_eq!(colleague.entries, [refusals[0], follow]);
    assert_eq!(colleague.persons, ["p0"]);
}

#[test]
fn pairs_flag_one_approver_taking_most_of_a_requesters_decisions() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    for i in 0..10 {
        let id = format!("q{i}");
        request(&mut log, t + i * H, "asker", "A1", &id, &format!("p{i}"));
        let approver = if i < 9 { "friend" } else { "other" };
        decide(
            &mut log,
            t + i * H + 60,
            approver,
            "A1",
            &id,
            Some(&format!("g{i}")),
        );
    }
    let all = flags(&log, MONDAY + 40 * D);
    let pairs = of(&all, "pairs");
    assert_eq!(pairs.len(), 1, "{all:#?}");
    assert_eq!(
        (pairs[0].subject.as_str(), pairs[0].other.as_deref()),
        ("friend", Some("asker"))
    );
    assert_eq!(pairs[0].score, 0.9);
    assert_eq!(
        pairs[0].from, "2025-02-28T16:00:00Z",
        "the month of March, Beijing"
    );
    // Before the month ends, nothing is certain yet.
    assert!(of(&flags(&log, MONDAY + 20 * D), "pairs").is_empty());
}

#[test]
fn grants_flag_a_late_read_and_a_burst_of_one_purpose() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    for i in 0..5 {
        let id = format!("q{i}");
        request(&mut log, t, "reader", "A1", &id, &format!("p{i}"));
        decide(&mut log, t + 60, "boss", "A1", &id, Some(&format!("g{i}")));
    }
    let mut burst = Vec::new();
    for i in 0..5 {
        let facts = Facts {
            agency: Some("A1".into()),
            ..Facts::default()
        };
        burst.push(log.add(
            t + H + i * 60,
            Kind::GrantUse,
            "reader",
            "read",
            Some(&format!("grant:g{i}")),
            facts,
        ));
    }
    let late = log.add(
        t + 21 * D,
        Kind::GrantUse,
        "reader",
        "read",
        Some("grant:g0"),
        Facts::default(),
    );
    let all = flags(&log, t + 30 * D);
    let grants = of(&all, "grants");
    assert_eq!(grants.len(), 2, "{grants:#?}");
    assert_eq!(grants[0].pattern, "burst");
    assert_eq!(grants[0].entries, burst);
    assert_eq!(
        grants[0].persons,
        ["p0", "p1", "p2", "p3", "p4"],
        "persons by key, from the requests"
    );
    assert_eq!(grants[1].pattern, "late_read");
    assert_eq!(
        grants[1].entries,
        [1, late],
        "the approval and the late read"
    );
}

#[test]
fn certificates_flag_a_burst_from_one_key() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    for i in 0..20 {
        let facts = Facts {
            person: Some(format!("p{i}")),
            ..Facts::default()
        };
        log.add(
            t + i * 60,
            Kind::Certificate,
            "broker-key",
            "no_criminal_record",
            Some(&format!("certificate:FC-{i}")),
            facts,
        );
    }
    for i in 0..19 {
        let facts = Facts {
            person: Some(format!("c{i}")),
            ..Facts::default()
        };
        log.add(
            t + i * 60,
            Kind::Certificate,
            "counter",
            "no_criminal_record",
            Some(&format!("certificate:FC-c{i}")),
            facts,
        );
    }
    let all = flags(&log, t + D);
    assert_eq!(
        of(&all, "certificates")
            .iter()
            .map(|f| f.subject.as_str())
            .collect::<Vec<_>>(),
        ["broker-key"]
    );
}

/// A code for an account already activated sets its password again: flagged at once, naming the
/// clerk, the account and the person. A first enrolment and its activation are not; nor is a
/// code for an account never activated (a code given again before the first was used). An hour of
/// codes for twenty persons from one clerk is a burst.
#[test]
fn accounts_flag_a_reset_of_an_activated_account_and_a_burst_of_codes() {
    let mut log = Log(Vec::new());
    let t = MONDAY + 10 * H;
    let person = |key: &str| Facts {
        person: Some(key.into()),
        ..Facts::default()
    };
    let user_changed = Kind::UserChanged;
    log.add(
        t,
        user_changed,
        "user:counter-li",
        "activation_code",
        Some("user:p-aaaa"),
        person("pk-a"),
    );
    log.add(
        t + 60,
        user_changed,
        "user:p-aaaa",
        "activated",
        Some("user:p-aaaa"),
        person("pk-a"),
    );
    log.add(
        t + 120,
        user_changed,
        "user:counter-li",
        "activation_code",
        Some("user:p-bbbb"),
        person("pk-b"),
    );
    log.add(
        t + 130,
        user_changed,
        "user:counter-li",
        "activation_code",
        Some("user:p-bbbb"),
        person("pk-b"),
    );
    let reset = log.add(
        t + 2 * H,
        user_changed,
        "user:counter-x",
        "activation_code",
        Some("user:p-aaaa"),
        person("pk-a"),
    );
    for i in 0..20 {
        log.add(
            t + 3 * H + i * 60,
            user_changed,
            "user:counter-x",
            "activation_code",
            Some(&format!("user:q-{i}")),
            person(&format!("pk-q{i}")),
        );
    }
    let all = flags(&log, t + D);
    let found = of(&all, "accounts");
    let resets: Vec<&&Flag> = found.iter().filter(|f| f.pattern == "reset").collect();
    assert_eq!(resets.len(), 1, "{found:?}");
    assert_eq!(resets[0].subject, "user:counter-x");
    assert_eq!(resets[0].other.as_deref(), Some("user:p-aaaa"));
    assert_eq!(resets[0].entries, vec![reset]);
    assert_eq!(resets[0].persons, vec!["pk-a".to_owned()]);
    let bursts: Vec<&&Flag> = found.iter().filter(|f| f.pattern == "burst").collect();
    assert_eq!(bursts.len(), 1, "{found:?}");
    assert_eq!(bursts[0].subject, "user:counter-x");
    assert_eq!(bursts[0].persons.len(), 20);
    // Certain at once: the round right after the reset gives it.
    assert_eq!(of(&flags(&log, t + 2 * H), "accounts").len(), 1);
}

#[test]
fn a_supervisors_own_lookups_are_flagged_like_anyones() {
    let mut log = Log(Vec::new());
    for i in 0..8 {
        let facts = Facts {
            role: Some("supervisor".into()),
            agency: Some("JW".into()),
            by: Some("id_number".into()),
            shown: Some(0),
            ..Facts::default()
        };
        log.add(
            MONDAY + 10 * H + i * 60,
            Kind::Lookup,
            "supervisor1",
            "no_record",
            Some(&format!("p{i}")),
            facts,
        );
    }
    let all = flags(&log, MONDAY + D);
    assert_eq!(of(&all, "fishing").len(), 1);
    assert_eq!(all[0].subject, "supervisor1");
}

#[test]
fn pushing_in_pieces_and_closing_often_gives_the_same_flags() {
    let log = desk(60);
    let rules = RuleSet::shipped().unwrap();
    let until = MONDAY + 28 * D;
    let once = evaluate(&rules, &log.0, until);
    assert!(!once.is_empty());
    let mut engine = Engine::new(&rules);
    let mut pieces = Vec::new();
    for chunk in log.0.chunks(37) {
        for e in chunk {
            engine.push(e);
        }
        pieces.extend(engine.close(chunk[0].at));
    }
    pieces.extend(engine.close(until));
    fengcun_supervision::sort(&mut pieces);
    assert_eq!(pieces, once);
}

#[test]
fn a_snapshot_is_taken_up_only_under_the_rules_it_was_taken_under() {
    let rules = RuleSet::shipped().unwrap();
    let mut engine = Engine::new(&rules);
    for e in &desk(60).0 {
        engine.push(e);
    }
    let snapshot = engine.snapshot().unwrap();
    let restored = Engine::restore(&rules, &snapshot).unwrap();
    assert_eq!(restored.next_seq(), engine.next_seq());
    // Other parameters: the snapshot is not theirs (the log is read again from its start).
    let mut other = rules.clone();
    other.rules.pop();
    assert!(Engine::restore(&other, &snapshot).is_none());
    assert!(Engine::restore(&rules, b"{not a snapshot").is_none());
}
