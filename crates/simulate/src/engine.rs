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
//! candidate, with `T` computed once per wait.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use fengcun_domain::PrincipalKind;
use fengcun_domain::date::add_period;
use fengcun_domain::{Catalogue, Date, FieldError, RecordParser};
use fengcun_policy::{Anchor, Cond, Leaf, Outcome, Policy, Truth, Wait, evaluate};

use crate::scan::{Facts, Key, scan};

/// FxHash (rustc's): a fast hasher for the small keys of the memo.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
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
    catalogue: &'static Catalogue,
    memo: HashMap<Key, usize, FxBuild>,
    pub entries: Vec<Entry>,
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
            catalogue,
            memo: HashMap::default(),
            entries: Vec::new(),
            thresholds: HashMap::default(),
            effective_from: policies.iter().map(|p| p.meta.effective_from).collect(),
            buckets: Buckets::of(policies),
            last: vec![Outcome::NeedsFacts; policies.len()],
            errors: Vec::new(),
            slow_lines: 0,
        }
    }

    /// Reads and decides one line (not blank). A bad line is recorded in `errors`.
    #[inline]
    pub fn line(&mut self, line: &[u8], line_no: u64) -> bool {
        let mut facts = match scan(line, self.catalogue) {
            Some(facts) => facts,
            None => match self.parser.parse(line) {
                Ok(record) => {
                    self.slow_lines += 1;
                    Facts::of_record(&record)
                }
                Err(error) => {
                    self.errors.push(LineError {
                        line: line_no,
                        error,
                    });
                    return false;
                }
            },
        };
        self.buckets.apply(&mut facts.key);
        let index = match self.memo.get(&facts.key) {
            Some(i) => *i,
            None => self.learn(line, &facts),
        };
        self.decide(index, &facts);
        true
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
                                let rule = decision.reasons.iter().find_map(|r| {
                                    match (r.kind, r.verdict) {
                                        (
                                            fengcun_policy::ReasonKind::Rule(i),
                                            fengcun_policy::Verdict::Fails,
                                        ) => Some(i),
                                        _ => None,
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
        self.memo.insert(facts.key.clone(), index);
        index
    }

    #[inline]
    fn decide(&mut self, index: usize, facts: &Facts) {
        let entry = &mut self.entries[index];
        entry.records += 1;
        for (p, class) in entry.classes.iter().enumerate() {
            self.last[p] = match class {
                Class::NeedsFacts => Outcome::NeedsFacts,
                Class::NotEligible(_) => Outcome::NotEligible,
                Class::Eligible(timings) => {
                    let mut now = self.effective_from[p].is_none_or(|from| from <= self.as_of);
                    for (anchor, wait) in timings {
                        if !now {
                            break;
                        }
                        let (date, extra) = match anchor {
                            Anchor::JudgmentEffective => (facts.judgment_effective, 0),
                            Anchor::ExecutionCompleted => (facts.execution_completed, 0),
                            Anchor::Disposition => (facts.disposition_date, 0),
                            Anchor::Offence => (facts.offence, 0),
                            Anchor::SentenceEnd => (facts.disposition_date, facts.months as i32),
                        };
                        now = match date {
                            None => false,
                            Some(d) => {
                                let limit =
                                    threshold(&mut self.thresholds, self.as_of, extra, *wait);
                                limit.is_some_and(|t| d <= t)
                            }
                        };
                    }
                    if now {
                        entry.sealed_now[p] += 1;
                        Outcome::Seal
                    } else {
                        Outcome::SealLater
                    }
                }
            };
        }
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
    ages: Vec<u32>,
    priors: Vec<u32>,
    /// (kind, months) of every sentence limit.
    months: Vec<(PrincipalKind, u32)>,
    conditions: [bool; 3],
}

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
        for leaf in conds.iter().flat_map(|c| c.leaves()) {
            match leaf {
                Leaf::AgeUnder { years, .. } => b.ages.push(*years),
                Leaf::PriorConvictionsAtMost(n) => b.priors.push(*n),
                Leaf::SentenceAtMost(limit) | Leaf::SentenceAbove(limit) => {
                    b.months.push((limit.kind, limit.months));
                }
                Leaf::CivilCompensationFulfilled(_) => b.conditions[0] = true,
                Leaf::VictimForgiveness(_) => b.conditions[1] = true,
                Leaf::Plea(_) => b.conditions[2] = true,
                _ => {}
            }
        }
        b
    }

    #[inline]
    fn apply(&self, key: &mut Key) {
        for age in key.ages.iter_mut().flatten() {
            // `age < years` ⇔ not `age >= years`: count the thresholds reached.
            *age = self.ages.iter().filter(|y| *age >= **y).count() as u32;
        }
        if let Some(prior) = key.prior_convictions.as_mut() {
            *prior = bucket(*prior, self.priors.iter().copied());
        }
        if let Some((kind, months)) = key.principal.as_mut() {
            let k = *kind;
            *months = bucket(
                *months,
                self.months
                    .iter()
                    .filter(|(lk, _)| *lk == k)
                    .map(|(_, m)| *m),
            );
        }
        for (slot, read) in key.conditions.iter_mut().zip(self.conditions) {
            if !read {
                *slot = None;
            }
        }
    }
}
