//! A realistic audit history for the supervision rules (crates/supervision): thousands of users
//! in hundreds of agencies over months, with daily and weekly rhythms, overtime and duty days,
//! public holidays (the shipped calendar), requests, approvals, refusals, grant reads and
//! certificates at counters — and, on request, planted misuse of every rule at three intensities,
//! each planted case on a user of its own so that flags can be scored per rule.
//!
//! SplitMix64 and integer arithmetic: the same seed gives the same history everywhere.

use fengcun_supervision::{Calendar, Entry, Facts, Kind, day_start};

/// How strongly a planted case departs from ordinary behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Intensity {
    Weak,
    Medium,
    Strong,
}

impl Intensity {
    pub const ALL: [Intensity; 3] = [Intensity::Weak, Intensity::Medium, Intensity::Strong];

    pub fn name(self) -> &'static str {
        match self {
            Intensity::Weak => "weak",
            Intensity::Medium => "medium",
            Intensity::Strong => "strong",
        }
    }
}

/// A planted case: the rule it should be flagged by, whom it is about, how strong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// The rule's id (data/supervision/<rule>.toml).
    pub rule: &'static str,
    /// A name for the kind of misuse (several per rule for refusals and grants).
    pub case: &'static str,
    pub subject: String,
    pub intensity: Intensity,
}

/// The kinds of misuse planted, with the rule that should flag each.
pub const CASES: [(&str, &str); 10] = [
    ("volume-day", "day spree"),
    ("volume-week", "week spree"),
    ("hours", "night or holiday"),
    ("fishing", "identity-number run"),
    ("refusals", "repeated refusals"),
    ("refusals", "colleague after refusal"),
    ("pairs", "one approver"),
    ("grants", "late read"),
    ("grants", "grant burst"),
    ("certificates", "certificate burst"),
];

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub agencies: usize,
    /// Clerks per agency (each agency also has three approvers).
    pub clerks: usize,
    /// Days from 2025-01-01.
    pub days: i64,
    /// Planted cases per kind of misuse and intensity (0: a benign history).
    pub planted: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 19,
            agencies: 150,
            clerks: 13,
            days: 120,
            planted: 4,
        }
    }
}

/// The history: entries in log order, the planted cases, every user.
#[derive(Debug, Clone)]
pub struct History {
    pub entries: Vec<Entry>,
    pub planted: Vec<Planted>,
    pub users: Vec<String>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn person(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}

/// 2025-01-01 00:00 in Beijing, as a day number.
const FIRST_DAY: i64 = 20_089;
const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// One event before it is numbered: its time, and the entry.
struct Draft(Vec<Entry>);

impl Draft {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: i64,
        kind: Kind,
        actor: &str,
        purpose: Option<&str>,
        outcome: &str,
        subject: Option<String>,
        facts: Facts,
    ) {
        self.0.push(Entry {
            seq: 0,
            at,
            kind,
            actor: actor.to_owned(),
            purpose: purpose.map(str::to_owned),
            outcome: outcome.to_owned(),
            subject,
            facts,
        });
    }

    fn lookup(
        &mut self,
        at: i64,
        user: &User,
        person: String,
        by_id: bool,
        shown: u64,
        withheld: u64,
    ) {
        let facts = Facts {
            role: Some(user.role.into()),
            agency: Some(user.agency.clone()),
            by: Some(if by_id { "id_number" } else { "case_code" }.into()),
            shown: Some(shown),
            withheld: Some(withheld),
            ..Facts::default()
        };
        let outcome = if shown > 0 { "records" } else { "no_record" };
        let subject = if by_id {
            person
        } else {
            format!("case:{person}")
        };
        self.push(
            at,
            Kind::Lookup,
            &user.name,
            Some("case_handling"),
            outcome,
            Some(subject),
            facts,
        );
    }
}

#[derive(Clone)]
struct User {
    name: String,
    role: &'static str,
    agency: String,
    /// Look-ups on an ordinary working day.
    rate: u64,
    counter: bool,
}

struct Agency {
    code: String,
    clerks: Vec<User>,
    approvers: Vec<User>,
}

fn working_time(rng: &mut Rng, day: i64) -> i64 {
    // 08:30–12:00 and 13:30–18:30.
    let minute = if rng.chance(420) {
        510 + rng.below(210)
    } else {
        810 + rng.below(300)
    };
    day_start(day) + minute as i64 * MIN + rng.below(60) as i64
}

/// Generates the history.
pub fn generate(config: &Config, calendar: &Calendar) -> History {
    let mut rng = Rng(config.seed);
    let mut draft = Draft(Vec::new());
    let mut agencies: Vec<Agency> = (0..config.agencies)
        .map(|a| {
            let code = format!("A{a:03}");
            let counter = a % 5 == 0;
            let clerks = (0..config.clerks)
                .map(|c| User {
                    name: format!("{code}-c{c:02}"),
                    role: "clerk",
                    agency: code.clone(),
                    rate: 4 + rng.below(18),
                    counter: counter && c < 2,
                })
                .collect();
            let approvers = (0..3)
                .map(|c| User {
                    name: format!("{code}-a{c}"),
                    role: "approver",
                    agency: code.clone(),
                    rate: 0,
                    counter: false,
                })
                .collect();
            Agency {
                code,
                clerks,
                approvers,
            }
        })
        .collect();
    let mut planted = Vec::new();
    // Each planted case takes one agency's clerk of its own (the last ones, round the agencies).
    let mut slot = 0usize;
    let mut take = |agencies: &mut Vec<Agency>| {
        let a = slot % agencies.len();
        let c = agencies[a].clerks.len() - 1 - slot / agencies.len();
        slot += 1;
        (a, c)
    };
    let mut request_no = 0u64;
    let mut plans: Vec<(usize, &'static str, &'static str, Intensity, usize, usize)> = Vec::new();
    for (rule, case) in CASES {
        for intensity in Intensity::ALL {
            for _ in 0..config.planted {
                let (a, c) = take(&mut agencies);
                plans.push((rule_index(rule, case), rule, case, intensity, a, c));
            }
        }
    }

    // The ordinary days.
    for day in FIRST_DAY..FIRST_DAY + config.days {
        let working = calendar.working_day(day);
        let weekday = (day + 3).rem_euclid(7);
        for agency in &agencies {
            for user in &agency.clerks {
                if working {
                    // Monday busier, Friday quieter; ±30 %; now and then a heavy day (×1.8).
                    let rhythm = [110, 100, 100, 100, 85, 100, 100][weekday as usize];
                    let mut n = user.rate * rhythm * (70 + rng.below(61)) / 10_000;
                    if rng.chance(20) {
                        n = n * 18 / 10;
                    }
                    for _ in 0..n {
                        {
                            let at = working_time(&mut rng, day);
                            ordinary_lookup(&mut draft, &mut rng, user, at);
                        }
                    }
                    if rng.chance(50) {
                        // Overtime: one to three look-ups in the evening.
                        for _ in 0..1 + rng.below(3) {
                            {
                                let at = day_start(day) + 19 * HOUR + rng.below(2 * 3600) as i64;
                                ordinary_lookup(&mut draft, &mut rng, user, at);
                            }
                        }
                    }
                    if rng.chance(60) {
                        request_no += 1;
                        let at = working_time(&mut rng, day);
                        ordinary_request(
                            &mut draft,
                            &mut rng,
                            user,
                            &agency.approvers,
                            request_no,
                            at,
                        );
                    }
                    if user.counter {
                        for _ in 0..10 + rng.below(20) {
                            let at = working_time(&mut rng, day);
                            certificate(&mut draft, user, rng.person(), at);
                        }
                    }
                } else if rng.chance(30) {
                    // On duty on a weekend or holiday.
                    for _ in 0..1 + rng.below(3) {
                        {
                            let at = day_start(day) + 10 * HOUR + rng.below(6 * 3600) as i64;
                            ordinary_lookup(&mut draft, &mut rng, user, at);
                        }
                    }
                }
            }
        }
    }

    // The planted cases, each on a working day in the second half of the period.
    for (i, (_, rule, case, intensity, a, c)) in plans.into_iter().enumerate() {
        let agency = &agencies[a];
        let user = agency.clerks[c].clone();
        let mut day = FIRST_DAY + config.days / 2 + (i as i64 % (config.days / 3).max(1));
        while !calendar.working_day(day) {
            day += 1;
        }
        let level = intensity as u64; // 0, 1, 2
        let subject = match case {
            "day spree" => {
                // On top of the user's ordinary day: far above the desk's, not only the user's own.
                let n = [20, 40, 100][level as usize];
                for _ in 0..n {
                    {
                        let at = working_time(&mut rng, day);
                        ordinary_lookup(&mut draft, &mut rng, &user, at);
                    }
                }
                user.name.clone()
            }
            "week spree" => {
                let monday = day - (day + 3).rem_euclid(7) + 7;
                for d in monday..monday + 5 {
                    let n = [8, 25, 60][level as usize];
                    for _ in 0..n {
                        {
                            let at = working_time(&mut rng, d);
                            ordinary_lookup(&mut draft, &mut rng, &user, at);
                        }
                    }
                }
                user.name.clone()
            }
            "night or holiday" => {
                let n = [3, 5, 12][level as usize];
                for k in 0..n {
                    draft.lookup(
                        day_start(day) + 21 * HOUR + k * 4 * MIN,
                        &user,
                        rng.person(),
                        true,
                        1,
                        0,
                    );
                }
                user.name.clone()
            }
            "identity-number run" => {
                let n = [5, 8, 20][level as usize];
                let start = day_start(day) + 10 * HOUR;
                for k in 0..n {
                    let withheld = u64::from(level == 2 && k % 5 == 0);
                    draft.lookup(start + k * 2 * MIN, &user, rng.person(), true, 0, withheld);
                }
                user.name.clone()
            }
            "repeated refusals" => {
                let n = [2, 3, 5][level as usize];
                for k in 0..n {
                    request_no += 1;
                    let at = day_start(day + k * 3) + 10 * HOUR;
                    refused_request(
                        &mut draft,
                        &mut rng,
                        &user,
                        &agency.approvers[0],
                        request_no,
                        at,
                        None,
                    );
                }
                user.name.clone()
            }
            "colleague after refusal" => {
                let asker = &agency.clerks[0];
                let person = rng.person();
                request_no += 1;
                let at = day_start(day) + 10 * HOUR;
                refused_request(
                    &mut draft,
                    &mut rng,
                    asker,
                    &agency.approvers[0],
                    request_no,
                    at,
                    Some(person.clone()),
                );
                let after = [20, 10, 2][level as usize];
                draft.lookup(at + after * 86_400 + HOUR, &user, person, true, 0, 1);
                user.name.clone()
            }
            "one approver" => {
                let (n, by_friend) = [(6, 4), (10, 9), (20, 20)][level as usize];
                let friend = &agency.approvers[2];
                let first = day - (crate::audit_history::day_in_month(day) - 1);
                for k in 0..n {
                    request_no += 1;
                    let at = day_start(first + (k % 20)) + 9 * HOUR + k * MIN;
                    let approver = if k < by_friend {
                        friend
                    } else {
                        &agency.approvers[k as usize % 2]
                    };
                    approved_request(&mut draft, &mut rng, &user, approver, request_no, at, None);
                }
                friend.name.clone()
            }
            "late read" => {
                request_no += 1;
                let at = day_start(day) + 10 * HOUR;
                let (grant, person) = approved_request(
                    &mut draft,
                    &mut rng,
                    &user,
                    &agency.approvers[0],
                    request_no,
                    at,
                    Some(0),
                );
                let late = [10, 20, 28][level as usize];
                grant_read(&mut draft, &user, &grant, &person, at + late * 86_400);
                user.name.clone()
            }
            "grant burst" => {
                let n = [3, 5, 10][level as usize];
                for k in 0..n {
                    request_no += 1;
                    let at = day_start(day) + 9 * HOUR + k * 10 * MIN;
                    let (grant, person) = approved_request(
                        &mut draft,
                        &mut rng,
                        &user,
                        &agency.approvers[k as usize % 3],
                        request_no,
                        at,
                        None,
                    );
                    grant_read(&mut draft, &user, &grant, &person, at + 5 * MIN);
                }
                user.name.clone()
            }
            _ => {
                let key = format!("{}-key-{i}", agency.code);
                let n = [10, 20, 60][level as usize];
                let broker = User {
                    name: key.clone(),
                    role: "requester",
                    agency: agency.code.clone(),
                    rate: 0,
                    counter: false,
                };
                let start = day_start(day) + 14 * HOUR;
                for k in 0..n {
                    certificate(
                        &mut draft,
                        &broker,
                        rng.person(),
                        start + k * (55 * MIN / n),
                    );
                }
                key
            }
        };
        planted.push(Planted {
            rule,
            case,
            subject,
            intensity,
        });
    }

    let mut entries = draft.0;
    entries.sort_by_key(|e| e.at);
    for (seq, e) in entries.iter_mut().enumerate() {
        e.seq = seq as u64;
    }
    let mut users: Vec<String> = agencies
        .iter()
        .flat_map(|a| a.clerks.iter().chain(&a.approvers).map(|u| u.name.clone()))
        .collect();
    users.extend(
        planted
            .iter()
            .filter(|p| p.rule == "certificates")
            .map(|p| p.subject.clone()),
    );
    History {
        entries,
        planted,
        users,
    }
}

fn rule_index(rule: &str, case: &str) -> usize {
    CASES.iter().position(|c| *c == (rule, case)).unwrap_or(0)
}

/// The day of the month (1-based) of a day number.
pub fn day_in_month(day: i64) -> i64 {
    i64::from(fengcun_supervision::date_of(day).day())
}

fn ordinary_lookup(draft: &mut Draft, rng: &mut Rng, user: &User, at: i64) {
    let by_id = rng.chance(800);
    let roll = rng.below(100);
    let (shown, withheld) = match roll {
        0..83 => (1 + rng.below(2), 0),
        83..98 => (0, 0),
        _ => (0, 1),
    };
    draft.lookup(at, user, rng.person(), by_id, shown, withheld);
}

fn request_entry(draft: &mut Draft, user: &User, id: &str, person: &str, at: i64) {
    let facts = Facts {
        role: Some(user.role.into()),
        agency: Some(user.agency.clone()),
        person: Some(person.to_owned()),
        ..Facts::default()
    };
    draft.push(
        at,
        Kind::Request,
        &user.name,
        Some("case_handling"),
        "pending",
        Some(format!("request:{id}")),
        facts,
    );
}

fn decision(
    draft: &mut Draft,
    approver: &User,
    requester: &User,
    id: &str,
    grant: Option<&str>,
    at: i64,
) {
    let facts = Facts {
        role: Some("approver".into()),
        agency: Some(approver.agency.clone()),
        requester: Some(requester.name.clone()),
        grant: grant.map(str::to_owned),
        ..Facts::default()
    };
    let (kind, outcome) = if grant.is_some() {
        (Kind::Approval, "approved")
    } else {
        (Kind::Refusal, "refused")
    };
    draft.push(
        at,
        kind,
        &approver.name,
        Some("case_handling"),
        outcome,
        Some(format!("request:{id}")),
        facts,
    );
}

fn grant_read(draft: &mut Draft, user: &User, grant: &str, person: &str, at: i64) {
    let facts = Facts {
        role: Some(user.role.into()),
        agency: Some(user.agency.clone()),
        person: Some(person.to_owned()),
        ..Facts::default()
    };
    draft.push(
        at,
        Kind::GrantUse,
        &user.name,
        Some("case_handling"),
        "read",
        Some(format!("grant:{grant}")),
        facts,
    );
}

fn certificate(draft: &mut Draft, user: &User, person: String, at: i64) {
    let facts = Facts {
        role: Some(user.role.into()),
        agency: Some(user.agency.clone()),
        person: Some(person),
        ..Facts::default()
    };
    draft.push(
        at,
        Kind::Certificate,
        &user.name,
        Some("certificate"),
        "no_criminal_record",
        Some(format!("certificate:{at}")),
        facts,
    );
}

/// An ordinary request: decided an hour later by one of the agency's approvers, approved
/// mostly, and read under its grant once or twice within days.
fn ordinary_request(
    draft: &mut Draft,
    rng: &mut Rng,
    user: &User,
    approvers: &[User],
    no: u64,
    at: i64,
) {
    let approver = &approvers[rng.below(approvers.len() as u64) as usize];
    if rng.chance(100) {
        refused_request(draft, rng, user, approver, no, at, None);
    } else {
        let (grant, person) = approved_request(draft, rng, user, approver, no, at, None);
        for _ in 0..1 + rng.below(2) {
            let later = at + 2 * HOUR + rng.below(5 * 86_400) as i64;
            grant_read(draft, user, &grant, &person, later);
        }
    }
}

fn refused_request(
    draft: &mut Draft,
    rng: &mut Rng,
    user: &User,
    approver: &User,
    no: u64,
    at: i64,
    person: Option<String>,
) {
    let id = format!("req-{no}");
    let person = person.unwrap_or_else(|| rng.person());
    request_entry(draft, user, &id, &person, at);
    decision(draft, approver, user, &id, None, at + HOUR);
}

/// Returns the grant and the person.
fn approved_request(
    draft: &mut Draft,
    rng: &mut Rng,
    user: &User,
    approver: &User,
    no: u64,
    at: i64,
    _: Option<u8>,
) -> (String, String) {
    let id = format!("req-{no}");
    let person = rng.person();
    request_entry(draft, user, &id, &person, at);
    let grant = format!("grant-{no}");
    decision(draft, approver, user, &id, Some(&grant), at + 30 * MIN);
    (grant, person)
}
