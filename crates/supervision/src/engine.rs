//! The engine: entries pushed in log order, flags given out when what decides them is complete.
//!
//! Every flag has a time from which it is certain — the end of its window (day, week, month,
//! hour), or the entry that completed it, or the end of a run's allowed gap — and `close(t)`
//! gives out exactly the flags certain by `t`. A flag therefore depends only on the entries and
//! on `t`, never on how the entries were split between calls: the server's incremental round
//! (push the new entries, close at its clock) and `fengcun audit flags` (push every entry up to
//! `--until`, close once) give the same flags.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, day_of, day_start, month_of, month_start, week_of, week_start};
use crate::entry::{Entry, Kind};
use crate::rules::{self, Params, RuleSet, Window};
use crate::stats::{median_mad, robust_z};

/// Something a supervisor should look at: the rule, whom it is about (a user or key, and for a
/// pair or a colleague the other party), the period, a score (the larger, the further from the
/// ordinary; its unit is the rule's), and the audit entries that make it up (their sequence
/// numbers: each has an inclusion proof). Persons appear only by their keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// 16 hex digits (FNV-1a of `rule/pattern/subject/other/from`): the same flag has the same
    /// id however it was computed, and it goes in a URL as it is.
    pub id: String,
    /// The rule's id (data/supervision/<id>.toml).
    pub rule: String,
    /// Which of the rule's patterns: `volume`, `off_hours`, `run`, `repeated`, `colleague`,
    /// `pair`, `late_read`, `burst`.
    pub pattern: String,
    /// The user or key the flag is about.
    pub subject: String,
    /// The other party: the requester of a pair, the refused colleague, the grant, the purpose.
    pub other: Option<String>,
    /// The period (RFC 3339, UTC): from, and until (exclusive).
    pub from: String,
    pub until: String,
    /// How far from the ordinary (rounded to hundredths).
    pub score: f64,
    /// The audit entries behind the flag, by sequence number, ascending.
    pub entries: Vec<u64>,
    /// The persons concerned, by person key (never their facts), sorted.
    pub persons: Vec<String>,
}

/// The engine's maps hash with rustc's FxHash: fast on the short names of the log, and the
/// engine is not exposed to keys chosen to collide (they are the log's own names).
type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
type HashSet<K> = std::collections::HashSet<K, rustc_hash::FxBuildHasher>;

fn id_of(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn time(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}

impl Flag {
    #[allow(clippy::too_many_arguments)]
    fn new(
        rule: &str,
        pattern: &str,
        subject: &str,
        other: Option<String>,
        from: i64,
        until: i64,
        score: f64,
        mut entries: Vec<u64>,
        persons: impl IntoIterator<Item = String>,
    ) -> Flag {
        entries.sort_unstable();
        entries.dedup();
        let mut persons: Vec<String> = persons.into_iter().collect();
        persons.sort_unstable();
        persons.dedup();
        let (from, until) = (time(from), time(until));
        Flag {
            id: id_of(&format!(
                "{rule}/{pattern}/{subject}/{}/{from}",
                other.as_deref().unwrap_or("-")
            )),
            rule: rule.to_owned(),
            pattern: pattern.to_owned(),
            subject: subject.to_owned(),
            other,
            from,
            until,
            score: (score * 100.0).round() / 100.0,
            entries,
            persons,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    due: i64,
    flag: Flag,
}

/// Requests and grants seen so far: whom they are about.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    requests: HashMap<String, Request>,
    grants: HashMap<String, GrantInfo>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    person: Option<String>,
    requester: String,
    agency: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GrantInfo {
    approved_at: i64,
    approval: u64,
    person: Option<String>,
}

impl Index {
    fn push(&mut self, e: &Entry) {
        let request_id = e
            .subject
            .as_deref()
            .and_then(|s| s.strip_prefix("request:"));
        match (e.kind, request_id) {
            (Kind::Request, Some(id)) if e.outcome == "pending" => {
                self.requests.insert(
                    id.to_owned(),
                    Request {
                        person: e.facts.person.clone(),
                        requester: e.actor.clone(),
                        agency: e.facts.agency.clone(),
                    },
                );
            }
            (Kind::Approval, Some(id)) => {
                if let Some(grant) = &e.facts.grant {
                    let person = self.requests.get(id).and_then(|r| r.person.clone());
                    self.grants.insert(
                        grant.clone(),
                        GrantInfo {
                            approved_at: e.at,
                            approval: e.seq,
                            person,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn request_of(&self, e: &Entry) -> Option<&Request> {
        e.subject
            .as_deref()
            .and_then(|s| s.strip_prefix("request:"))
            .and_then(|id| self.requests.get(id))
    }
}

/// Who did something in a window, and to whom.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Acc {
    role: String,
    agency: String,
    subjects: HashSet<String>,
    entries: Vec<u64>,
}

impl Acc {
    fn add(&mut self, subject: &str, seq: u64) {
        if !self.subjects.contains(subject) {
            self.subjects.insert(subject.to_owned());
        }
        self.entries.push(seq);
    }
}

type Windows<K> = BTreeMap<i64, HashMap<K, Acc>>;

fn acc<'a, K: std::hash::Hash + Eq>(
    windows: &'a mut Windows<K>,
    w: i64,
    key: K,
    e: &Entry,
) -> &'a mut Acc {
    windows
        .entry(w)
        .or_default()
        .entry(key)
        .or_insert_with(|| Acc {
            role: e.facts.role.clone().unwrap_or_default(),
            agency: e.facts.agency.clone().unwrap_or_default(),
            ..Acc::default()
        })
}

/// Adds a subject to the actor's accumulator in window `w`, without copying the actor's name
/// when the window has it already.
fn add_for(windows: &mut Windows<String>, w: i64, e: &Entry, subject: &str) {
    let window = windows.entry(w).or_default();
    match window.get_mut(&e.actor) {
        Some(acc) => acc.add(subject, e.seq),
        None => {
            let mut acc = Acc {
                role: e.facts.role.clone().unwrap_or_default(),
                agency: e.facts.agency.clone().unwrap_or_default(),
                ..Acc::default()
            };
            acc.add(subject, e.seq);
            window.insert(e.actor.clone(), acc);
        }
    }
}
/// Windows keyed by pairs, written as a list (a JSON map's keys are strings only).
mod pair_windows {
    use super::{Acc, HashMap, Windows};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Key = (String, String);

    pub fn serialize<S: Serializer>(windows: &Windows<Key>, out: S) -> Result<S::Ok, S::Error> {
        let list: Vec<(i64, Vec<(&Key, &Acc)>)> = windows
            .iter()
            .map(|(w, accs)| (*w, accs.iter().collect()))
            .collect();
        list.serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Windows<Key>, D::Error> {
        let list: Vec<(i64, Vec<(Key, Acc)>)> = Vec::deserialize(input)?;
        Ok(list
            .into_iter()
            .map(|(w, accs)| (w, accs.into_iter().collect::<HashMap<Key, Acc>>()))
            .collect())
    }
}

/// Removes and returns the windows before `before`.
fn closing<K>(windows: &mut Windows<K>, before: i64) -> Vec<(i64, HashMap<K, Acc>)> {
    let kept = windows.split_off(&before);
    std::mem::replace(windows, kept).into_iter().collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct Volume {
    id: String,
    p: rules::Volume,
    open: Windows<String>,
    history: HashMap<String, Vec<f64>>,
    closed: i64,
}

impl Volume {
    fn window(&self, at: i64) -> i64 {
        match self.p.window {
            Window::Day => day_of(at),
            Window::Week => week_of(day_of(at)),
        }
    }

    fn bounds(&self, w: i64) -> (i64, i64) {
        match self.p.window {
            Window::Day => (day_start(w), day_start(w + 1)),
            Window::Week => (day_start(week_start(w)), day_start(week_start(w + 1))),
        }
    }

    fn push(&mut self, e: &Entry) {
        let (Kind::Lookup, Some(subject)) = (e.kind, e.subject.as_deref()) else {
            return;
        };
        let w = self.window(e.at);
        if w >= self.closed {
            add_for(&mut self.open, w, e, subject);
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        let before = self.window(until);
        for (w, accs) in closing(&mut self.open, before) {
            self.evaluate(w, &accs, out);
        }
        self.closed = self.closed.max(before);
    }

    fn evaluate(&mut self, w: i64, accs: &HashMap<String, Acc>, out: &mut Vec<Pending>) {
        let p = &self.p;
        let (from, until) = self.bounds(w);
        let mut groups: HashMap<(&str, &str), Vec<f64>> = HashMap::default();
        for acc in accs.values() {
            groups
                .entry((&acc.role, &acc.agency))
                .or_default()
                .push(acc.subjects.len() as f64);
        }
        for (actor, acc) in accs {
            let count = acc.subjects.len() as f64;
            if count < f64::from(p.min_count) {
                continue;
            }
            // Own history is required: peers differ in how busy their desks are, so a busy
            // clerk's heavy day is far above the desk's median without being unusual for them.
            let Some(own) = self.history.get(actor).filter(|h| h.len() >= p.min_history) else {
                if count >= f64::from(p.no_baseline_count) {
                    out.push(Pending {
                        due: until,
                        flag: Flag::new(
                            &self.id,
                            "volume",
                            actor,
                            None,
                            from,
                            until,
                            count,
                            acc.entries.clone(),
                            acc.subjects.iter().cloned(),
                        ),
                    });
                }
                continue;
            };
            let mut comparisons = vec![median_mad(own)];
            let group = &groups[&(acc.role.as_str(), acc.agency.as_str())];
            if group.len() > p.min_peers {
                let mut peers = group.clone();
                if let Some(i) = peers.iter().position(|x| *x == count) {
                    peers.swap_remove(i);
                }
                comparisons.push(median_mad(&peers));
            }
            let mut score = f64::INFINITY;
            let mut flagged = true;
            for (median, mad) in comparisons {
                let z = robust_z(count, median, mad, p.min_scale);
                score = score.min(z);
                flagged &= z >= p.z && count >= p.ratio * median.max(1.0);
            }
            if flagged {
                out.push(Pending {
                    due: until,
                    flag: Flag::new(
                        &self.id,
                        "volume",
                        actor,
                        None,
                        from,
                        until,
                        score,
                        acc.entries.clone(),
                        acc.subjects.iter().cloned(),
                    ),
                });
            }
        }
        for (actor, acc) in accs {
            let history = self.history.entry(actor.clone()).or_default();
            history.push(acc.subjects.len() as f64);
            if history.len() > p.history {
                history.remove(0);
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Hours {
    id: String,
    p: rules::Hours,
    open: Windows<String>,
    closed: i64,
}

impl Hours {
    fn push(&mut self, e: &Entry, index: &Index, calendar: &Calendar) {
        let subject = match e.kind {
            Kind::Lookup => e.subject.clone(),
            Kind::GrantUse if self.p.include_grant_reads => {
                grant_person(e, index).or_else(|| e.subject.clone())
            }
            _ => None,
        };
        let Some(subject) = subject else { return };
        let day = day_of(e.at);
        if day >= self.closed && calendar.off_hours(e.at, e.facts.agency.as_deref()) {
            add_for(&mut self.open, day, e, &subject);
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        let before = day_of(until);
        for (day, accs) in closing(&mut self.open, before) {
            for (actor, acc) in accs {
                let n = acc.subjects.len();
                if n >= self.p.min_persons as usize {
                    out.push(Pending {
                        due: day_start(day + 1),
                        flag: Flag::new(
                            &self.id,
                            "off_hours",
                            &actor,
                            None,
                            day_start(day),
                            day_start(day + 1),
                            n as f64,
                            acc.entries,
                            acc.subjects,
                        ),
                    });
                }
            }
        }
        self.closed = self.closed.max(before);
    }
}

fn grant_person(e: &Entry, index: &Index) -> Option<String> {
    e.facts.person.clone().or_else(|| {
        let grant = e.subject.as_deref()?.strip_prefix("grant:")?;
        index.grants.get(grant)?.person.clone()
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct Run {
    start: i64,
    last: i64,
    entries: Vec<u64>,
    persons: Vec<String>,
    sealed_only: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Fishing {
    id: String,
    p: rules::Fishing,
    runs: HashMap<String, Run>,
}

impl Fishing {
    fn gap(&self) -> i64 {
        i64::from(self.p.max_gap_minutes) * 60
    }

    fn push(&mut self, e: &Entry, out: &mut Vec<Pending>) {
        if e.kind != Kind::Lookup
            || e.facts.by.as_deref() != Some("id_number")
            || e.purpose
                .as_ref()
                .is_some_and(|p| self.p.excluded_purposes.contains(p))
        {
            return;
        }
        let gap = self.gap();
        if let Some(run) = self.runs.get(&e.actor)
            && e.at - run.last > gap
        {
            let due = run.last + gap + 1;
            if let Some(run) = self.runs.remove(&e.actor) {
                self.finish(&e.actor, run, due, out);
            }
        }
        let shown = e.facts.shown.unwrap_or(u64::from(e.outcome == "records"));
        if shown == 0 {
            let run = self.runs.entry(e.actor.clone()).or_insert_with(|| Run {
                start: e.at,
                last: e.at,
                entries: Vec::new(),
                persons: Vec::new(),
                sealed_only: 0,
            });
            run.last = e.at;
            run.entries.push(e.seq);
            if let Some(subject) = &e.subject {
                run.persons.push(subject.clone());
            }
            if e.facts.withheld.unwrap_or(0) > 0 {
                run.sealed_only += 1;
            }
        } else if let Some(run) = self.runs.remove(&e.actor) {
            self.finish(&e.actor, run, e.at, out);
        }
    }

    fn finish(&self, actor: &str, run: Run, due: i64, out: &mut Vec<Pending>) {
        let len = run.entries.len() as u32;
        if len >= self.p.min_run || run.sealed_only >= self.p.min_sealed_only {
            let score = f64::from(len) + 2.0 * f64::from(run.sealed_only);
            out.push(Pending {
                due,
                flag: Flag::new(
                    &self.id,
                    "run",
                    actor,
                    None,
                    run.start,
                    run.last + 1,
                    score,
                    run.entries,
                    run.persons,
                ),
            });
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        let gap = self.gap();
        let done: Vec<String> = self
            .runs
            .iter()
            .filter(|(_, r)| r.last + gap < until)
            .map(|(a, _)| a.clone())
            .collect();
        for actor in done {
            if let Some(run) = self.runs.remove(&actor) {
                let due = run.last + gap + 1;
                self.finish(&actor, run, due, out);
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Refused {
    at: i64,
    seq: u64,
    requester: String,
    agency: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Refusals {
    id: String,
    p: rules::Refusals,
    by_requester: HashMap<String, Vec<(i64, u64, Option<String>)>>,
    by_person: HashMap<String, Vec<Refused>>,
    followed: HashSet<(String, u64)>,
}

impl Refusals {
    fn push(&mut self, e: &Entry, index: &Index, out: &mut Vec<Pending>) {
        let refused = match e.kind {
            Kind::Request if e.outcome == "refused" => Some((
                e.actor.clone(),
                e.person().map(str::to_owned),
                e.facts.agency.clone(),
            )),
            Kind::Refusal => index
                .request_of(e)
                .map(|r| (r.requester.clone(), r.person.clone(), r.agency.clone()))
                .or_else(|| e.facts.requester.clone().map(|r| (r, None, None))),
            _ => None,
        };
        if let Some((requester, person, agency)) = refused {
            let window = i64::from(self.p.window_days) * 86_400;
            let list = self.by_requester.entry(requester.clone()).or_default();
            list.retain(|(at, _, _)| *at > e.at - window);
            list.push((e.at, e.seq, person.clone()));
            if list.len() >= self.p.min_refused as usize {
                let list = std::mem::take(list);
                let from = list[0].0;
                let n = list.len() as f64;
                let entries = list.iter().map(|(_, seq, _)| *seq).collect();
                out.push(Pending {
                    due: e.at,
                    flag: Flag::new(
                        &self.id,
                        "repeated",
                        &requester,
                        None,
                        from,
                        e.at + 1,
                        n,
                        entries,
                        list.into_iter().filter_map(|(_, _, p)| p),
                    ),
                });
            }
            if let Some(person) = person {
                self.by_person.entry(person).or_default().push(Refused {
                    at: e.at,
                    seq: e.seq,
                    requester,
                    agency,
                });
            }
            return;
        }
        let person = match e.kind {
            Kind::Lookup => e.person(),
            Kind::Request if e.outcome == "pending" => e.facts.person.as_deref(),
            _ => None,
        };
        let (Some(person), Some(agency)) = (person, e.facts.agency.as_deref()) else {
            return;
        };
        let Some(list) = self.by_person.get_mut(person) else {
            return;
        };
        let follow = i64::from(self.p.follow_days) * 86_400;
        list.retain(|r| r.at > e.at - follow);
        for r in list.iter() {
            if r.requester != e.actor
                && r.agency.as_deref() == Some(agency)
                && self.followed.insert((e.actor.clone(), r.seq))
            {
                out.push(Pending {
                    due: e.at,
                    flag: Flag::new(
                        &self.id,
                        "colleague",
                        &e.actor,
                        Some(r.requester.clone()),
                        r.at,
                        e.at + 1,
                        1.0,
                        vec![r.seq, e.seq],
                        [person.to_owned()],
                    ),
                });
            }
        }
    }
}

/// A decision: approver, approved or not, its entry, the person asked for.
type Decided = (String, bool, u64, Option<String>);

#[derive(Debug, Default, Serialize, Deserialize)]
struct Month {
    /// By requester: (approver, approved, seq, person).
    decisions: HashMap<String, Vec<Decided>>,
    approvers: HashMap<String, HashSet<String>>,
    agency_of: HashMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Pairs {
    id: String,
    p: rules::Pairs,
    open: BTreeMap<i64, Month>,
    closed: i64,
}

impl Pairs {
    fn push(&mut self, e: &Entry, index: &Index) {
        if !matches!(e.kind, Kind::Approval | Kind::Refusal) {
            return;
        }
        let request = index.request_of(e);
        let Some(requester) = request
            .map(|r| r.requester.clone())
            .or_else(|| e.facts.requester.clone())
        else {
            return;
        };
        let month = month_of(day_of(e.at));
        if month < self.closed {
            return;
        }
        let m = self.open.entry(month).or_default();
        let person = request.and_then(|r| r.person.clone());
        m.decisions.entry(requester).or_default().push((
            e.actor.clone(),
            e.kind == Kind::Approval,
            e.seq,
            person,
        ));
        if let Some(agency) = &e.facts.agency {
            m.approvers
                .entry(agency.clone())
                .or_default()
                .insert(e.actor.clone());
            m.agency_of.insert(e.actor.clone(), agency.clone());
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        let before = month_of(day_of(until));
        let kept = self.open.split_off(&before);
        for (month, m) in std::mem::replace(&mut self.open, kept) {
            let (from, until) = (
                day_start(month_start(month)),
                day_start(month_start(month + 1)),
            );
            for (requester, decisions) in &m.decisions {
                let n = decisions.len();
                if n < self.p.min_decisions as usize {
                    continue;
                }
                let mut by: BTreeMap<&str, usize> = BTreeMap::new();
                for (approver, approved, _, _) in decisions {
                    if *approved {
                        *by.entry(approver).or_default() += 1;
                    }
                }
                let Some((approver, top)) =
                    by.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                else {
                    continue;
                };
                let share = *top as f64 / n as f64;
                let choice = m
                    .agency_of
                    .get(*approver)
                    .and_then(|a| m.approvers.get(a))
                    .map_or(0, HashSet::len);
                if share >= self.p.min_share && choice >= self.p.min_approvers as usize {
                    out.push(Pending {
                        due: until,
                        flag: Flag::new(
                            &self.id,
                            "pair",
                            approver,
                            Some(requester.clone()),
                            from,
                            until,
                            share,
                            decisions.iter().map(|d| d.2).collect(),
                            decisions.iter().filter_map(|d| d.3.clone()),
                        ),
                    });
                }
            }
        }
        self.closed = self.closed.max(before);
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Grants {
    id: String,
    p: rules::Grants,
    late: HashSet<(String, String)>,
    #[serde(with = "pair_windows")]
    open: Windows<(String, String)>,
    closed: i64,
}

impl Grants {
    fn push(&mut self, e: &Entry, index: &Index, out: &mut Vec<Pending>) {
        if e.kind != Kind::GrantUse {
            return;
        }
        let Some(grant) = e.subject.as_deref().and_then(|s| s.strip_prefix("grant:")) else {
            return;
        };
        let person = grant_person(e, index);
        if let Some(info) = index.grants.get(grant) {
            let days = (e.at - info.approved_at) as f64 / 86_400.0;
            if days >= f64::from(self.p.stale_days)
                && self.late.insert((e.actor.clone(), grant.to_owned()))
            {
                out.push(Pending {
                    due: e.at,
                    flag: Flag::new(
                        &self.id,
                        "late_read",
                        &e.actor,
                        Some(format!("grant:{grant}")),
                        info.approved_at,
                        e.at + 1,
                        days,
                        vec![info.approval, e.seq],
                        person.clone(),
                    ),
                });
            }
        }
        let day = day_of(e.at);
        if day >= self.closed {
            let purpose = e.purpose.clone().unwrap_or_default();
            let subject = person.unwrap_or_else(|| format!("grant:{grant}"));
            acc(&mut self.open, day, (e.actor.clone(), purpose), e).add(&subject, e.seq);
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        let before = day_of(until);
        for (day, accs) in closing(&mut self.open, before) {
            for ((actor, purpose), acc) in accs {
                let n = acc.subjects.len();
                if n >= self.p.burst_persons as usize {
                    out.push(Pending {
                        due: day_start(day + 1),
                        flag: Flag::new(
                            &self.id,
                            "burst",
                            &actor,
                            Some(format!("purpose:{purpose}")),
                            day_start(day),
                            day_start(day + 1),
                            n as f64,
                            acc.entries,
                            acc.subjects,
                        ),
                    });
                }
            }
        }
        self.closed = self.closed.max(before);
    }
}

/// Closes the clock hours before `until`: an hour in which one actor reached `min_persons`
/// distinct persons is a `burst` (certificates applied for, accounts given codes).
fn close_bursts(
    rule: &str,
    min_persons: u32,
    open: &mut Windows<String>,
    closed: &mut i64,
    until: i64,
    out: &mut Vec<Pending>,
) {
    let before = until.div_euclid(3600);
    for (hour, accs) in closing(open, before) {
        for (actor, acc) in accs {
            let n = acc.subjects.len();
            if n >= min_persons as usize {
                out.push(Pending {
                    due: (hour + 1) * 3600,
                    flag: Flag::new(
                        rule,
                        "burst",
                        &actor,
                        None,
                        hour * 3600,
                        (hour + 1) * 3600,
                        n as f64,
                        acc.entries,
                        acc.subjects,
                    ),
                });
            }
        }
    }
    *closed = (*closed).max(before);
}

#[derive(Debug, Serialize, Deserialize)]
struct Certificates {
    id: String,
    p: rules::Certificates,
    open: Windows<String>,
    closed: i64,
}

impl Certificates {
    fn push(&mut self, e: &Entry) {
        if e.kind != Kind::Certificate || e.outcome == "read" {
            return;
        }
        let person = e
            .facts
            .person
            .clone()
            .or_else(|| e.subject.clone().filter(|s| !s.contains(':')));
        let Some(person) = person else { return };
        let hour = e.at.div_euclid(3600);
        if hour >= self.closed {
            add_for(&mut self.open, hour, e, &person);
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        close_bursts(
            &self.id,
            self.p.min_persons,
            &mut self.open,
            &mut self.closed,
            until,
            out,
        );
    }
}

/// Persons' accounts given activation codes at a counter: a code for an account already
/// activated (the person's password set again by whoever holds the code) is flagged at once, and a
/// clerk's hour of codes for many persons.
#[derive(Debug, Serialize, Deserialize)]
struct Accounts {
    id: String,
    p: rules::Accounts,
    /// The accounts activated so far (`user:<name>`).
    activated: HashSet<String>,
    open: Windows<String>,
    closed: i64,
}

impl Accounts {
    fn push(&mut self, e: &Entry, out: &mut Vec<Pending>) {
        if e.kind != Kind::UserChanged {
            return;
        }
        let Some(account) = e.subject.clone() else {
            return;
        };
        match e.outcome.as_str() {
            "activated" => {
                self.activated.insert(account);
            }
            // Opening an enrolment counts towards a clerk's hour as a code does: each of the two
            // clerks serves the person at the counter.
            "enrolment_opened" => {
                let hour = e.at.div_euclid(3600);
                if let Some(person) = e.facts.person.clone()
                    && hour >= self.closed
                {
                    add_for(&mut self.open, hour, e, &person);
                }
            }
            "activation_code" => {
                let person = e.facts.person.clone();
                if self.activated.contains(&account) {
                    out.push(Pending {
                        due: e.at,
                        flag: Flag::new(
                            &self.id,
                            "reset",
                            &e.actor,
                            Some(account),
                            e.at,
                            e.at + 1,
                            1.0,
                            vec![e.seq],
                            person.clone(),
                        ),
                    });
                }
                let hour = e.at.div_euclid(3600);
                if let Some(person) = person
                    && hour >= self.closed
                {
                    add_for(&mut self.open, hour, e, &person);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, until: i64, out: &mut Vec<Pending>) {
        close_bursts(
            &self.id,
            self.p.min_persons,
            &mut self.open,
            &mut self.closed,
            until,
            out,
        );
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum State {
    Volume(Volume),
    Hours(Hours),
    Fishing(Fishing),
    Refusals(Refusals),
    Pairs(Pairs),
    Grants(Grants),
    Certificates(Certificates),
    Accounts(Accounts),
}

impl State {
    /// The rule a state is of: its id and parameters (what a snapshot must have been taken
    /// under to be taken up again).
    fn rule(&self) -> (&str, Params) {
        match self {
            State::Volume(s) => (&s.id, Params::Volume(s.p.clone())),
            State::Hours(s) => (&s.id, Params::Hours(s.p.clone())),
            State::Fishing(s) => (&s.id, Params::Fishing(s.p.clone())),
            State::Refusals(s) => (&s.id, Params::Refusals(s.p.clone())),
            State::Pairs(s) => (&s.id, Params::Pairs(s.p.clone())),
            State::Grants(s) => (&s.id, Params::Grants(s.p.clone())),
            State::Certificates(s) => (&s.id, Params::Certificates(s.p.clone())),
            State::Accounts(s) => (&s.id, Params::Accounts(s.p.clone())),
        }
    }
}

/// The rules' state over the entries pushed so far.
#[derive(Debug, Serialize, Deserialize)]
pub struct Engine {
    calendar: Calendar,
    states: Vec<State>,
    index: Index,
    pending: Vec<Pending>,
    /// The next sequence number expected (entries are pushed in log order).
    next: u64,
}

impl Engine {
    pub fn new(rules: &RuleSet) -> Engine {
        let states = rules
            .rules
            .iter()
            .map(|rule| {
                let id = rule.id.clone();
                match rule.params.clone() {
                    Params::Volume(p) => State::Volume(Volume {
                        id,
                        p,
                        open: BTreeMap::new(),
                        history: HashMap::default(),
                        closed: i64::MIN,
                    }),
                    Params::Hours(p) => State::Hours(Hours {
                        id,
                        p,
                        open: BTreeMap::new(),
                        closed: i64::MIN,
                    }),
                    Params::Fishing(p) => State::Fishing(Fishing {
                        id,
                        p,
                        runs: HashMap::default(),
                    }),
                    Params::Refusals(p) => State::Refusals(Refusals {
                        id,
                        p,
                        by_requester: HashMap::default(),
                        by_person: HashMap::default(),
                        followed: HashSet::default(),
                    }),
                    Params::Pairs(p) => State::Pairs(Pairs {
                        id,
                        p,
                        open: BTreeMap::new(),
                        closed: i64::MIN,
                    }),
                    Params::Grants(p) => State::Grants(Grants {
                        id,
                        p,
                        late: HashSet::default(),
                        open: BTreeMap::new(),
                        closed: i64::MIN,
                    }),
                    Params::Certificates(p) => State::Certificates(Certificates {
                        id,
                        p,
                        open: BTreeMap::new(),
                        closed: i64::MIN,
                    }),
                    Params::Accounts(p) => State::Accounts(Accounts {
                        id,
                        p,
                        activated: HashSet::default(),
                        open: BTreeMap::new(),
                        closed: i64::MIN,
                    }),
                }
            })
            .collect();
        Engine {
            calendar: rules.calendar.clone(),
            states,
            index: Index::default(),
            pending: Vec::new(),
            next: 0,
        }
    }

    /// The engine as it stands, to be taken up again by [`Engine::restore`] after a restart
    /// instead of reading the whole log again: the rules' parameters and every window, index and
    /// flag not yet due, as JSON.
    pub fn snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// The engine of a [`Engine::snapshot`], if it was taken under `rules` (the same rules, with
    /// the same parameters and calendar, in the same order); `None` otherwise — the caller then
    /// reads the log from its start, as the rules now say.
    pub fn restore(rules: &RuleSet, snapshot: &[u8]) -> Option<Engine> {
        let engine: Engine = serde_json::from_slice(snapshot).ok()?;
        let fresh = Engine::new(rules);
        let same_rules = engine.calendar == fresh.calendar
            && engine.states.len() == fresh.states.len()
            && engine
                .states
                .iter()
                .zip(&fresh.states)
                .all(|(a, b)| a.rule() == b.rule());
        same_rules.then_some(engine)
    }

    /// The sequence number of the next entry to push (how far the log has been read).
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Reads the next entry of the log.
    pub fn push(&mut self, e: &Entry) {
        self.next = self.next.max(e.seq + 1);
        if e.kind == Kind::Other {
            return;
        }
        self.index.push(e);
        for state in &mut self.states {
            match state {
                State::Volume(s) => s.push(e),
                State::Hours(s) => s.push(e, &self.index, &self.calendar),
                State::Fishing(s) => s.push(e, &mut self.pending),
                State::Refusals(s) => s.push(e, &self.index, &mut self.pending),
                State::Pairs(s) => s.push(e, &self.index),
                State::Grants(s) => s.push(e, &self.index, &mut self.pending),
                State::Certificates(s) => s.push(e),
                State::Accounts(s) => s.push(e, &mut self.pending),
            }
        }
    }

    /// The flags certain by `until` (seconds since the epoch) that were not given before, in order
    /// of period, rule and subject. Every entry up to `until` must have been pushed; an entry
    /// pushed later with an earlier time counts only where its window is still open.
    pub fn close(&mut self, until: i64) -> Vec<Flag> {
        for state in &mut self.states {
            match state {
                State::Volume(s) => s.close(until, &mut self.pending),
                State::Hours(s) => s.close(until, &mut self.pending),
                State::Fishing(s) => s.close(until, &mut self.pending),
                State::Refusals(_) => {}
                State::Pairs(s) => s.close(until, &mut self.pending),
                State::Grants(s) => s.close(until, &mut self.pending),
                State::Certificates(s) => s.close(until, &mut self.pending),
                State::Accounts(s) => s.close(until, &mut self.pending),
            }
        }
        let (due, kept): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.due <= until);
        self.pending = kept;
        let mut flags: Vec<Flag> = due.into_iter().map(|p| p.flag).collect();
        sort(&mut flags);
        flags
    }
}

/// Flags in the order they are listed: period, rule, pattern, subject, other.
pub fn sort(flags: &mut [Flag]) {
    flags.sort_by(|a, b| {
        (&a.from, &a.rule, &a.pattern, &a.subject, &a.other)
            .cmp(&(&b.from, &b.rule, &b.pattern, &b.subject, &b.other))
    });
}

/// Every flag of the entries (in log order) certain by `until`: the on-demand computation.
pub fn evaluate<'a>(
    rules: &RuleSet,
    entries: impl IntoIterator<Item = &'a Entry>,
    until: i64,
) -> Vec<Flag> {
    let mut engine = Engine::new(rules);
    for e in entries {
        if e.at <= until {
            engine.push(e);
        }
    }
    engine.close(until)
}
