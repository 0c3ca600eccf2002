//! The memoised evaluation.
//!
//! Why memoising is exact: `Key` holds every fact any condition of any policy reads (see
//! `scan::Key`), so the verdict of every eligibility rule and the scope of every timing rule are
//! functions of the key; they are computed once per distinct key and policy, by the policy
//! engine itself (`fengcun_policy::evaluate` and `Cond::eval` on the first record with that key).
//! What is left per record is the date arithmetic of the timing rules in scope: a record is
//! sealed on the as-of date when every candidate `anchor + wait` is on or before it. As
//! `add_period` never decreases when the anchor grows, `anchor + wait <= as_of` is the same as
//! `anchor <= T`, where `T` is the latest anchor for which it holds: one comparison per
//! candidate, with `T` computed once per wait (per wait and months of sentence for the end of
//! the sentence), and dates compared as one integer each (`day_number`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use fengcun_domain::PrincipalKind;
use fengcun_domain::date::add_period;
use fengcun_domain::{Catalogue, Date, FieldError, RecordParser};
use fengcun_policy::{
    Anchor, Cond, Leaf, Outcome, Policy, ReasonKind, Truth, Verdict, Wait, evaluate,
};

use crate::scan::{Facts, Key, Scanner};

/// FxHash (rustc's): a fast hasher for the small keys of the memo.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Byte by byte: a copy of a variable length would be a call to memcpy.
            let word = rest
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, b)| w | (u64::from(*b) << (8 * i)));
            self.add(word);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

/// What a policy says of every record with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Eligible; sealed on the as-of date if every (anchor, wait) candidate is by then.
    Eligible(Vec<(Anchor, Wait)>),
    /// Excluded by this rule (index into `Policy::rules`), or `None`: no timing rule covers it.
    NotEligible(Option<u16>),
    NeedsFacts,
}

/// One distinct key: its verdicts, and how many records had it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Key,
    /// Sentence band of the report (`report::BANDS`); the key's buckets include the bands' limits.
    pub band: usize,
    pub classes: Vec<Class>,
    pub records: u64,
    /// Per policy: records sealed on the as-of date (the rest of the eligible wait).
    pub sealed_now: Vec<u64>,
}

/// A line that could not be read, with its line number.
#[derive(Debug, Clone)]
pub struct LineError {
    pub line: u64,
    pub error: FieldError,
}

/// The evaluation state of one thread.
#[derive(Debug)]
pub struct Worker<'p> {
    policies: &'p [Policy],
    as_of: Date,
    parser: RecordParser<'static>,
    scanner: Scanner,
    /// Entry of each key: by its 128-bit packing (`pack`), or by the key itself when it does
    /// not fit (more charges or larger buckets than the packing has room for).
    packed: HashMap<u128, usize, FxBuild>,
    memo: HashMap<Key, usize, FxBuild>,
    /// The keys seen, with their verdicts; their counts are in `counts` until `finish`.
    pub entries: Vec<Entry>,
    /// Per entry: records, then per policy records sealed on the as-of date (flat, so that a
    /// record touches one short run of memory).
    counts: Vec<u64>,
    /// Per entry, per policy (flat): what is left to decide for each record.
    plans: Vec<Plan>,
    /// The checks of the timed plans.
    checks: Vec<Check>,
    /// The limits of `Check::SentenceEnd`, by wait and months of sentence.
    sentence_ends: Vec<SentenceEnd>,
    thresholds: HashMap<(i32, i16, i16, i32), Option<Date>, FxBuild>,
    effective_from: Vec<Option<Date>>,
    buckets: Buckets,
    /// The outcome of each policy for the last line read.
    pub last: Vec<Outcome>,
    pub errors: Vec<LineError>,
    /// Lines the scanner gave to the domain parser (which accepted them).
    pub slow_lines: u64,
}

impl<'p> Worker<'p> {
    pub fn new(policies: &'p [Policy], as_of: Date) -> Self {
        let catalogue = Catalogue::builtin();
        Self {
            policies,
            as_of,
            parser: RecordParser::new(catalogue),
            scanner: Scanner::new(catalogue),
            packed: HashMap::default(),
            memo: HashMap::default(),
            entries: Vec::new(),
            counts: Vec::new(),
            plans: Vec::new(),
            checks: Vec::new(),
            sentence_ends: Vec::new(),
            thresholds: HashMap::default(),
            effective_from: policies.iter().map(|p| p.meta.effective_from).collect(),
            buckets: Buckets::of(policies),
            last: vec![Outcome::NeedsFacts; policies.len()],
            errors: Vec::new(),
            slow_lines: 0,
        }
    }

    /// Reads and decides one line (not blank). A bad line is recorded in `errors`.
    pub fn line(&mut self, line: &[u8], line_no: u64) -> bool {
        match self.scanner.scan(line) {
            Some(facts) => {
                self.record(line, facts);
                true
            }
            None => self.slow(line, line_no),
        }
    }

    /// Reads and decides the lines of `part` (whole lines but perhaps the last), numbering them
    /// from 1; returns how many lines there were, blank ones included.
    pub fn lines(&mut self, part: &[u8]) -> u64 {
        let mut start = 0;
        let mut line_no = 0;
        while start < part.len() {
            line_no += 1;
            if let Some((facts, end)) = self.scanner.scan_at(part, start) {
                self.record(&part[start..end], facts);
                start = end;
                continue;
            }
            let end = memchr::memchr(b'\n', &part[start..]).map_or(part.len(), |i| start + i + 1);
            let line = &part[start..end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.slow(line, line_no);
            }
            start = end;
        }
        line_no
    }

    /// A line the scanner left: the domain parser accepts it or names the field at fault.
    #[cold]
    fn slow(&mut self, line: &[u8], line_no: u64) -> bool {
        match self.parser.parse(line) {
            Ok(record) => {
                self.slow_lines += 1;
                self.record(line, Facts::of_record(&record));
                true
            }
            Err(error) => {
                self.errors.push(LineError {
                    line: line_no,
                    error,
                });
                false
            }
        }
    }

    #[inline]
    fn record(&mut self, line: &[u8], mut facts: Facts) {
        self.buckets.apply(&mut facts.key);
        let found = match pack(&facts.key) {
            Some(bits) => self.packed.get(&bits).copied(),
            None => self.memo.get(&facts.key).copied(),
        };
        let index = match found {
            Some(i) => i,
            None => self.learn(line, &facts),
        };
        self.decide(index, &facts);
    }

    /// Decides a new key with the policy engine itself, on this record.
    #[cold]
    fn learn(&mut self, line: &[u8], facts: &Facts) -> usize {
        // The line was accepted above, by the scanner or the parser; the parser accepts it.
        let classes = match self.parser.parse(line) {
            Ok(record) => {
                self.policies
                    .iter()
                    .map(|policy| {
                        let decision = evaluate(policy, &record, self.as_of);
                        match decision.outcome {
                            Outcome::NeedsFacts => Class::NeedsFacts,
                            Outcome::NotEligible => {
                                // The rule that excluded it. Every kind of reason is named:
                                // a new one must say here whether it excludes a record.
                                let rule = decision.reasons.iter().find_map(|r| {
                                    match (r.kind, r.verdict) {
                                        (ReasonKind::Rule(i), Verdict::Fails) => Some(i),
                                        (
                                            ReasonKind::Rule(_),
                                            Verdict::Holds | Verdict::Unknown(_),
                                        )
                                        | (
                                            ReasonKind::Timing(..)
                                            | ReasonKind::PolicyInForce(_)
                                            | ReasonKind::NoTiming
                                            // Out of the policy's scope: no rule excluded it.
                                            | ReasonKind::OutOfScope(_)
                                            | ReasonKind::DecidedBefore(_),
                                            Verdict::Holds | Verdict::Fails | Verdict::Unknown(_),
                                        ) => None,
                                    }
                                });
                                Class::NotEligible(rule)
                            }
                            Outcome::Seal | Outcome::SealLater => Class::Eligible(
                                policy
                                    .timings
                                    .iter()
                                    .filter(|t| {
                                        t.applies
                                            .as_ref()
                                            .is_none_or(|c| c.eval(&record) == Truth::True)
                                    })
                                    .map(|t| (t.anchor, t.wait))
                                    .collect(),
                            ),
                        }
                    })
                    .collect()
            }
            Err(_) => vec![Class::NeedsFacts; self.policies.len()],
        };
        let index = self.entries.len();
        self.entries.push(Entry {
            key: facts.key.clone(),
            band: facts
                .key
                .principal
                .map_or(0, |(kind, _)| crate::report::band(kind, facts.months)),
            classes,
            records: 0,
            sealed_now: vec![0; self.policies.len()],
        });
        for (class, from) in self.entries[index].classes.iter().zip(&self.effective_from) {
            let plan = plan(
                &mut self.thresholds,
                &mut self.sentence_ends,
                &mut self.checks,
                self.as_of,
                class,
                *from,
            );
            self.plans.push(plan);
        }
        self.counts
            .extend(std::iter::repeat_n(0, 1 + self.policies.len()));
        match pack(&facts.key) {
            Some(bits) => self.packed.insert(bits, index),
            None => self.memo.insert(facts.key.clone(), index),
        };
        index
    }

    #[inline]
    fn decide(&mut self, index: usize, facts: &Facts) {
        let n = self.policies.len();
        let (Some(counts), Some(plans)) = (
            self.counts.get_mut(index * (n + 1)..(index + 1) * (n + 1)),
            self.plans.get(index * n..(index + 1) * n),
        ) else {
            return;
        };
        counts[0] += 1;
        let dates = [
            facts.judgment_effective,
            facts.execution_completed,
            facts.disposition_date,
            facts.offence,
            facts.decision_effective,
        ]
        .map(|d| d.map_or(ABSENT, day_number));
        for (p, plan) in plans.iter().enumerate() {
            let outcome = match *plan {
                Plan::Fixed(outcome) => outcome,
                Plan::Timed {
                    in_force,
                    start,
                    len,
                } => {
                    let checks = self.checks.get(start as usize..(start + len) as usize);
                    let now = in_force
                        && checks.is_some_and(|checks| {
                            checks.iter().all(|check| match *check {
                                Check::Until(anchor, limit) => {
                                    dates.get(usize::from(anchor)).is_some_and(|d| *d <= limit)
                                }
                                Check::SentenceEnd(index) => {
                                    dates[2] != ABSENT
                                        && sentence_end(
                                            &mut self.thresholds,
                                            &mut self.sentence_ends,
                                            self.as_of,
                                            index,
                                            facts.months,
                                        ) >= dates[2]
                                }
                            })
                        });
                    if now {
                        counts[p + 1] += 1;
                        Outcome::Seal
                    } else {
                        Outcome::SealLater
                    }
                }
            };
            if let Some(slot) = self.last.get_mut(p) {
                *slot = outcome;
            }
        }
    }

    /// The entries with their counts.
    pub fn finish(mut self) -> Vec<Entry> {
        let n = self.policies.len();
        for (entry, counts) in self.entries.iter_mut().zip(self.counts.chunks_exact(n + 1)) {
            entry.records = counts[0];
            entry.sealed_now = counts[1..].to_vec();
        }
        self.entries
    }
}

/// What a class leaves to decide per record: for an eligible one, the latest anchor date of
/// each candidate that still seals on the as-of date (one comparison per record).
fn plan(
    thresholds: &mut HashMap<(i32, i16, i16, i32), Option<Date>, FxBuild>,
    sentence_ends: &mut Vec<SentenceEnd>,
    checks: &mut Vec<Check>,
    as_of: Date,
    class: &Class,
    effective_from: Option<Date>,
) -> Plan {
    match class {
        Class::NeedsFacts => Plan::Fixed(Outcome::NeedsFacts),
        Class::NotEligible(_) => Plan::Fixed(Outcome::NotEligible),
        Class::Eligible(timings) => {
            let start = checks.len();
            for (anchor, wait) in timings {
                let anchor = match anchor {
                    Anchor::JudgmentEffective => 0,
                    Anchor::ExecutionCompleted => 1,
                    Anchor::Disposition => 2,
                    Anchor::Offence => 3,
                    Anchor::DecisionEffective => 4,
                    // The sentence's length differs between records of one key.
                    Anchor::SentenceEnd => {
                        let index = match sentence_ends.iter().position(|e| e.wait == *wait) {
                            Some(i) => i,
                            None => {
                                sentence_ends.push(SentenceEnd {
                                    wait: *wait,
                                    limits: vec![None; SENTENCE_END_TABLE],
                                });
                                sentence_ends.len() - 1
                            }
                        };
                        checks.push(Check::SentenceEnd(index as u32));
                        continue;
                    }
                };
                let limit = threshold(thresholds, as_of, 0, *wait).map_or(NEVER, day_number);
                checks.push(Check::Until(anchor, limit));
            }
            Plan::Timed {
                in_force: effective_from.is_none_or(|from| from <= as_of),
                start: start as u32,
                len: (checks.len() - start) as u32,
            }
        }
    }
}

/// What is left to decide per record, for one key and one policy.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// The same for every record of the key.
    Fixed(Outcome),
    /// Eligible: sealed on the as-of date when the policy is in force then and every check
    /// (`Worker::checks[start..start + len]`) holds.
    Timed {
        in_force: bool,
        start: u32,
        len: u32,
    },
}

#[derive(Debug, Clone, Copy)]
enum Check {
    /// The anchor's date (as `day_number`, `ABSENT` when missing; the anchor as an index of
    /// `Worker::decide`'s dates) is on or before the limit (`NEVER` when no date is).
    Until(u8, i32),
    /// The judgment date plus the sentence plus a wait is on or before the as-of date: the limit
    /// by months of sentence is in `Worker::sentence_ends[index]`.
    SentenceEnd(u32),
}

/// A date as one integer in the same order, for the comparisons made for every record.
#[inline(always)]
fn day_number(date: Date) -> i32 {
    i32::from(date.year()) * 512 + i32::from(date.month()) * 32 + i32::from(date.day())
}

/// A missing anchor date (after every limit) and a limit no date meets.
const ABSENT: i32 = i32::MAX;
const NEVER: i32 = i32::MIN;

/// Sentences up to this many months have their sentence-end limit in a table.
const SENTENCE_END_TABLE: usize = 1200;

/// For one wait after the end of the sentence: the limit on the judgment date by months of
/// sentence, filled as sentences are met.
#[derive(Debug, Clone)]
struct SentenceEnd {
    wait: Wait,
    limits: Vec<Option<i32>>,
}

/// The key in 128 bits, each part in a fixed width, behind a leading 1 (so that keys of different
/// lengths — they differ in their number of charges — never collide); `None` when a part does
/// not fit its width, and the key is then looked up as it is.
#[inline]
fn pack(key: &Key) -> Option<u128> {
    struct Bits(u128, u32);
    impl Bits {
        #[inline(always)]
        fn put(&mut self, value: u32, width: u32) -> Option<()> {
            if value >> width != 0 || self.1 + width > 127 {
                return None;
            }
            self.0 = (self.0 << width) | u128::from(value);
            self.1 += width;
            Some(())
        }
        #[inline(always)]
        fn opt_bool(&mut self, value: Option<bool>) -> Option<()> {
            self.put(value.map_or(0, |b| 1 + u32::from(b)), 2)
        }
        #[inline(always)]
        fn opt(&mut self, value: Option<u32>, width: u32) -> Option<()> {
            match value {
                None => self.put(0, 1),
                Some(v) => {
                    self.put(1, 1)?;
                    self.put(v, width)
                }
            }
        }
    }
    // A key read against a `decided_from` date is kept whole (rare: no shipped preset sets one).
    if key.decided.is_some() {
        return None;
    }
    let mut b = Bits(1, 0);
    b.put(key.kind as u32, 1)?;
    b.put(key.disposition as u32, 3)?;
    b.put(key.ground.map_or(0, |g| 1 + g as u32), 3)?;
    match key.principal {
        None => b.put(0, 1)?,
        Some((kind, months)) => {
            b.put(1, 1)?;
            b.put(kind as u32, 3)?;
            b.put(months, 5)?;
        }
    }
    b.put(u32::from(key.probation), 1)?;
    b.put(u32::from(key.combined), 1)?;
    b.put(u32::from(key.political), 1)?;
    b.opt_bool(key.recidivist)?;
    b.opt(key.prior_convictions, 4)?;
    b.opt(key.sealed_juvenile_priors, 1)?;
    b.opt_bool(key.main_conduct_under_18)?;
    for c in key.conditions {
        b.opt_bool(c)?;
    }
    b.put(u32::from(key.has_birth), 1)?;
    b.put(u32::from(key.has_offence), 1)?;
    b.put(u32::from(key.has_disposition_date), 1)?;
    for age in key.ages {
        b.opt(age, 4)?;
    }
    b.put(u32::try_from(key.charges.len()).ok()?, 3)?;
    for (id, culpability) in &key.charges {
        b.put(u32::from(id.0), 10)?;
        b.put(*culpability as u32, 1)?;
    }
    Some(b.0)
}

/// The latest judgment date (as `day_number`) sealed by the as-of date under the wait of
/// `sentence_ends[index]`, for a sentence of `months`.
#[inline]
fn sentence_end(
    thresholds: &mut HashMap<(i32, i16, i16, i32), Option<Date>, FxBuild>,
    sentence_ends: &mut [SentenceEnd],
    as_of: Date,
    index: u32,
    months: u32,
) -> i32 {
    let Some(end) = sentence_ends.get_mut(index as usize) else {
        return NEVER;
    };
    let compute = |thresholds: &mut HashMap<_, _, _>| {
        threshold(
            thresholds,
            as_of,
            i32::try_from(months).unwrap_or(i32::MAX),
            end.wait,
        )
        .map_or(NEVER, day_number)
    };
    match end.limits.get_mut(months as usize) {
        Some(Some(limit)) => *limit,
        Some(slot) => *slot.insert(compute(thresholds)),
        None => compute(thresholds),
    }
}

/// The latest anchor date `d` with `d + extra months + wait <= as_of` (None if there is none
/// in the calendar's range), computed by bisection and cached.
fn threshold(
    cache: &mut HashMap<(i32, i16, i16, i32), Option<Date>, FxBuild>,
    as_of: Date,
    extra_months: i32,
    wait: Wait,
) -> Option<Date> {
    if extra_months == 0 && wait.is_zero() {
        return Some(as_of);
    }
    *cache
        .entry((extra_months, wait.years, wait.months, wait.days))
        .or_insert_with(|| {
            let shift = |d: Date| -> Option<Date> {
                let d = add_period(d, 0, i16::try_from(extra_months).unwrap_or(i16::MAX), 0)?;
                add_period(d, wait.years, wait.months, wait.days)
            };
            let ok = |offset: i32| -> bool {
                as_of
                    .checked_add(jiff::Span::new().days(offset))
                    .ok()
                    .and_then(shift)
                    .is_some_and(|d| d <= as_of)
            };
            // ok(offset) is true then false as offset grows; find the last true in [lo, hi].
            let (mut lo, mut hi) = (-3_000_000i32, 0i32);
            if !ok(lo) {
                return None;
            }
            while lo < hi {
                let mid = lo + (hi - lo + 1) / 2;
                if ok(mid) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            as_of.checked_add(jiff::Span::new().days(lo)).ok()
        })
}

/// What the policies compare numbers with. A key keeps, instead of a number, on which side of
/// every threshold it lies (`bucket`): every comparison any condition makes gives the same answer
/// for the bucket as for the number, so the key stays exact while far fewer keys are distinct.
/// Facts no condition reads (the optional conditions, unless some policy asks) are dropped.
#[derive(Debug, Clone, Default)]
struct Buckets {
    /// Every policy's `decided_from`, in order.
    decided_from: Vec<Date>,
    ages: Vec<u32>,
    priors: Vec<u32>,
    /// (kind, months) of every sentence limit.
    months: Vec<(PrincipalKind, u32)>,
    conditions: [bool; 3],
    /// Whether some condition reads `main_conduct_under_18` (an age condition with
    /// `main_conduct`), and whether one sets sealed juvenile priors aside (first offender).
    main_conduct: bool,
    sealed_juvenile_priors: bool,
    /// Whether some condition reads the ground of a non-prosecution.
    ground: bool,
    /// The buckets of small values, looked up rather than counted for every record: by age,
    /// by prior convictions, and by kind of sentence (`PrincipalKind as usize`) and months.
    age_table: Vec<u32>,
    prior_table: Vec<u32>,
    month_tables: Vec<Vec<u32>>,
}

/// Values below these have their bucket in a table.
const AGE_TABLE: u32 = 256;
const PRIOR_TABLE: u32 = 256;
const MONTH_TABLE: u32 = 1200;

fn bucket(value: u32, thresholds: impl Iterator<Item = u32>) -> u32 {
    thresholds.filter(|t| value > *t).count() as u32
}

impl Buckets {
    fn of(policies: &[Policy]) -> Self {
        let mut b = Buckets {
            priors: vec![0],
            // The report's sentence bands.
            months: [12, 36, 60, 120]
                .map(|m| (PrincipalKind::FixedTerm, m))
                .to_vec(),
            ..Buckets::default()
        };
        b.decided_from = policies
            .iter()
            .filter_map(|p| p.meta.decided_from)
            .collect();
        b.decided_from.sort();
        b.decided_from.dedup();
        let mut conds: Vec<&Cond> = Vec::new();
        for p in policies {
            for r in &p.rules {
                conds.extend(r.applies.as_ref());
                conds.push(&r.require);
            }
            for t in &p.timings {
                conds.extend(t.applies.as_ref());
            }
        }
        // Every kind of leaf is named: a new one must say here what of the key it reads.
        for leaf in conds.iter().flat_map(|c| c.leaves()) {
            match leaf {
                Leaf::AgeUnder {
                    years,
                    main_conduct,
                    ..
                } => {
                    b.ages.push(*years);
                    b.main_conduct |= *main_conduct;
                }
                Leaf::NonProsecutionGround(_) => b.ground = true,
                Leaf::PriorConvictionsAtMost(n) => b.priors.push(*n),
                Leaf::FirstOffenderIgnoringSealedJuvenilePriors(_) => {
                    b.sealed_juvenile_priors = true;
                }
                Leaf::SentenceAtMost(limit) | Leaf::SentenceAbove(limit) => {
                    b.months.push((limit.kind, limit.months));
                }
                // `months >= m` is `months > m - 1`: the same bucket boundary, one month lower.
                Leaf::SentenceAtLeast(limit) => {
                    b.months.push((limit.kind, limit.months.saturating_sub(1)));
                }
                Leaf::CivilCompensationFulfilled(_) => b.conditions[0] = true,
                Leaf::VictimForgiveness(_) => b.conditions[1] = true,
                Leaf::Plea(_) => b.conditions[2] = true,
                // Read from the key as they are (disposition, kind of sentence, charges,
                // culpability, probation, combination, political rights, recidivism, prior
                // convictions: the
                // first-offender test reads the latter two).
                Leaf::Disposition(_)
                | Leaf::Principal(_)
                | Leaf::Culpability(_)
                | Leaf::AnyChargeTagged(_)
                | Leaf::AllChargesIn(_)
                | Leaf::AnyChargeIn(_)
                | Leaf::FirstOffender(_)
                | Leaf::Recidivist(_)
                | Leaf::Probation(_)
                | Leaf::CombinedSentence(_)
                | Leaf::PoliticalRightsDeprived(_) => {}
            }
        }
        // One bucket boundary per distinct threshold: the same age or limit read by many rules
        // (every cn-minor preset reads 18) would otherwise give buckets too wide to pack.
        b.ages.sort_unstable();
        b.ages.dedup();
        b.priors.sort_unstable();
        b.priors.dedup();
        b.months
            .sort_unstable_by_key(|(kind, months)| (*kind as usize, *months));
        b.months.dedup();
        b.with_tables()
    }

    fn age_bucket(&self, age: u32) -> u32 {
        // `age < years` ⇔ not `age >= years`: count the thresholds reached.
        self.ages.iter().filter(|y| age >= **y).count() as u32
    }

    fn prior_bucket(&self, prior: u32) -> u32 {
        bucket(prior, self.priors.iter().copied())
    }

    fn month_bucket(&self, kind: PrincipalKind, months: u32) -> u32 {
        bucket(
            months,
            self.months
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, m)| *m),
        )
    }

    fn with_tables(mut self) -> Self {
        self.age_table = (0..AGE_TABLE).map(|a| self.age_bucket(a)).collect();
        self.prior_table = (0..PRIOR_TABLE).map(|p| self.prior_bucket(p)).collect();
        self.month_tables = PrincipalKind::ALL
            .iter()
            .map(|kind| {
                (0..MONTH_TABLE)
                    .map(|m| self.month_bucket(*kind, m))
                    .collect()
            })
            .collect();
        self
    }

    #[inline]
    fn apply(&self, key: &mut Key) {
        // A record decided before a `decided_from` is out of that policy's scope: the key keeps
        // the first such date the disposition date is before (or the day after them all).
        key.decided = match key.decided {
            Some(date) if !self.decided_from.is_empty() => Some(
                self.decided_from
                    .iter()
                    .copied()
                    .find(|from| date < *from)
                    .unwrap_or(Date::MAX),
            ),
            _ => None,
        };
        // What a first offender with sealed juvenile priors set aside reads: whether any other
        // prior conviction is left (the parser holds the sealed ones to at most the priors).
        key.sealed_juvenile_priors = match (self.sealed_juvenile_priors, key.sealed_juvenile_priors)
        {
            (true, Some(sealed)) => Some(u32::from(
                key.prior_convictions.is_some_and(|prior| prior > sealed),
            )),
            _ => None,
        };
        if !self.main_conduct {
            key.main_conduct_under_18 = None;
        }
        for age in key.ages.iter_mut().flatten() {
            *age = match self.age_table.get(*age as usize) {
                Some(b) => *b,
                None => self.age_bucket(*age),
            };
        }
        if let Some(prior) = key.prior_convictions.as_mut() {
            *prior = match self.prior_table.get(*prior as usize) {
                Some(b) => *b,
                None => self.prior_bucket(*prior),
            };
        }
        if let Some((kind, months)) = key.principal.as_mut() {
            let table = self.month_tables.get(*kind as usize);
            *months = match table.and_then(|t| t.get(*months as usize)) {
                Some(b) => *b,
                None => self.month_bucket(*kind, *months),
            };
        }
        for (slot, read) in key.conditions.iter_mut().zip(self.conditions) {
            if !read {
                *slot = None;
            }
        }
        if !self.ground {
            key.ground = None;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use fengcun_domain::{ChargeId, Culpability, Disposition, NonProsecutionGround};
    use fengcun_policy::presets;

    /// Keys of a synthetic set, bucketed as for every preset, and variants of each with one part
    /// changed to its extremes: no two different keys share a packing.
    #[test]
    fn packing_tells_every_key_apart() {
        let mut data = Vec::new();
        let config = fengcun_synth::Config {
            records: 20_000,
            seed: 7,
            // The scanner reads criminal lines; violation lines are the parser's.
            violations_per_mille: 0,
        };
        fengcun_synth::generate(config, &mut data, None, &mut |_| {}).unwrap();
        let buckets = Buckets::of(presets::all());
        let mut scanner = Scanner::new(Catalogue::builtin());
        let mut keys = Vec::new();
        for line in data.split_inclusive(|b| *b == b'\n') {
            let mut key = scanner.scan(line).unwrap().key;
            buckets.apply(&mut key);
            keys.push(key);
        }
        let mut variants = Vec::new();
        for key in keys.iter().step_by(50) {
            let mut k = key.clone();
            k.disposition = Disposition::Open;
            variants.push(k);
            let mut k = key.clone();
            k.principal = None;
            variants.push(k);
            for ground in [
                NonProsecutionGround::Statutory,
                NonProsecutionGround::Discretionary,
                NonProsecutionGround::InsufficientEvidence,
                NonProsecutionGround::Conditional,
            ] {
                let mut k = key.clone();
                k.disposition = Disposition::NotProsecuted;
                k.ground = Some(ground);
                variants.push(k);
            }
            for months in [0, 1, 31] {
                let mut k = key.clone();
                k.principal = Some((PrincipalKind::Death, months));
                variants.push(k);
            }
            let mut k = key.clone();
            k.probation = !k.probation;
            k.combined = !k.combined;
            k.political = !k.political;
            variants.push(k);
            for extra in 0..=7 {
                let mut k = key.clone();
                k.charges.clear();
                for i in 0..extra {
                    k.charges.push((ChargeId(1023 - i), Culpability::Negligent));
                }
                variants.push(k);
            }
            for value in [None, Some(false), Some(true)] {
                let mut k = key.clone();
                k.recidivist = value;
                k.conditions[2] = value;
                variants.push(k);
            }
            for prior in [None, Some(0), Some(15)] {
                let mut k = key.clone();
                k.prior_convictions = prior;
                k.ages[3] = prior;
                variants.push(k);
            }
            for (sealed, main) in [(Some(0), Some(true)), (Some(1), Some(false)), (None, None)] {
                let mut k = key.clone();
                k.sealed_juvenile_priors = sealed;
                k.main_conduct_under_18 = main;
                variants.push(k);
            }
            let mut k = key.clone();
            k.has_birth = !k.has_birth;
            variants.push(k);
            let mut k = key.clone();
            k.ages = [None; 4];
            variants.push(k);
        }
        keys.extend(variants);
        let mut by_bits: HashMap<u128, &Key> = HashMap::new();
        let mut packed = 0;
        for key in &keys {
            if let Some(bits) = pack(key) {
                packed += 1;
                let other = by_bits.entry(bits).or_insert(key);
                assert_eq!(*other, key, "two keys packed as {bits:#x}");
            }
        }
        assert!(packed * 10 > keys.len() * 9, "{packed} of {}", keys.len());
        // Parts too large for their width are not packed (and are looked up as keys).
        let mut k = keys[0].clone();
        k.prior_convictions = Some(16);
        assert_eq!(pack(&k), None);
        k.prior_convictions = Some(0);
        k.charges.push((ChargeId(1024), Culpability::Intentional));
        assert_eq!(pack(&k), None);
    }

    /// The tables give the buckets counting gives, inside them and past their ends.
    #[test]
    fn bucket_tables_agree_with_counting() {
        let buckets = Buckets::of(presets::all());
        for value in 0..2 * MONTH_TABLE {
            let mut key = Key {
                kind: fengcun_domain::RecordKind::Criminal,
                decided: None,
                disposition: Disposition::Convicted,
                ground: None,
                principal: None,
                probation: false,
                combined: false,
                political: false,
                charges: Default::default(),
                recidivist: None,
                prior_convictions: Some(value),
                sealed_juvenile_priors: None,
                main_conduct_under_18: None,
                conditions: [Some(true); 3],
                has_birth: true,
                has_offence: true,
                has_disposition_date: true,
                ages: [Some(value); 4],
            };
            for kind in PrincipalKind::ALL {
                key.principal = Some((kind, value));
                let mut bucketed = key.clone();
                buckets.apply(&mut bucketed);
                assert_eq!(
                    bucketed.principal,
                    Some((kind, buckets.month_bucket(kind, value)))
                );
                assert_eq!(bucketed.ages, [Some(buckets.age_bucket(value)); 4]);
                assert_eq!(
                    bucketed.prior_convictions,
                    Some(buckets.prior_bucket(value))
                );
            }
        }
    }
}
