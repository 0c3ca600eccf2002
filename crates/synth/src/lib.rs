//! Synthetic national data for fengcun: people with histories, cases with their co-defendants,
//! charges drawn from the catalogue with realistic frequencies, lawful sentences, non-prosecutions
//! and withdrawals, and the stage events of every case.
//!
//! Pure: a seed and a size in, record-facts NDJSON (FORMATS.md) and event NDJSON (docs/events.md)
//! out through the writers passed in. The same seed gives the same bytes on every platform
//! (ChaCha8 and integer arithmetic only). The distributions and their sources are in
//! `docs/synthetic-data.md`.

mod calendar;
pub mod tables;
mod violations;

use std::io::Write;

use fengcun_domain::id_number::check_character;
use fengcun_domain::{Catalogue, Culpability, Tag};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

pub use calendar::Day;
use tables::{Band, ChargeRow};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("writing the output: {0}")]
    Io(#[from] std::io::Error),
    #[error("charge `{0}` of the generator's table is not in the catalogue")]
    UnknownCharge(&'static str),
    #[error("--records must be at least 1")]
    NoRecords,
    #[error("behaviour `{0}` of the generator's table is not in the catalogue of violations")]
    UnknownBehaviour(&'static str),
    #[error("violations_per_mille (--violations-per-mille) must be from 0 to 1000, not {0}")]
    ViolationShare(u32),
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub records: u64,
    pub seed: u64,
    /// Share of the records that are public-security violation records (治安违法记录), per
    /// mille; [`DEFAULT_VIOLATIONS_PER_MILLE`] is the national estimate of
    /// `docs/synthetic-data.md`, 0 gives criminal records only.
    pub violations_per_mille: u32,
}

impl Config {
    /// `records` records from `seed`, violation records in the documented default share.
    pub fn new(records: u64, seed: u64) -> Self {
        Self {
            records,
            seed,
            violations_per_mille: DEFAULT_VIOLATIONS_PER_MILLE,
        }
    }
}

/// Violation records per mille of all records by default: about three violation records for
/// each criminal record (docs/synthetic-data.md, "Violation records": public-security cases
/// dealt with a year against people in criminal proceedings a year — an estimate).
pub const DEFAULT_VIOLATIONS_PER_MILLE: u32 = 750;

/// The date the data set is taken on: no event after it exists.
pub const DATA_DATE: (i32, u32, u32) = (2025, 6, 30);
/// Offences are committed from this date …
const FIRST_OFFENCE: (i32, u32, u32) = (2019, 1, 1);
/// … to this one.
const LAST_OFFENCE: (i32, u32, u32) = (2025, 3, 31);

/// Counts of what was generated, for the summary and the calibration checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: u64,
    pub events: u64,
    pub persons: u64,
    pub cases: u64,
    /// Cases with a first-instance judgment (convicted or acquitted) by the data date.
    pub judged_cases: u64,
    /// … of which dangerous driving (危险驾驶罪) is the main charge.
    pub dangerous_driving_judged_cases: u64,
    pub convicted: u64,
    pub acquitted: u64,
    pub not_prosecuted: u64,
    pub withdrawn: u64,
    pub open: u64,
    /// Records prosecuted and judged (convicted or acquitted) for a serious violent crime
    /// (故意杀人、抢劫、强奸、绑架、放火、爆炸: the catalogue's `serious_violent` tag).
    pub serious_violent_judged: u64,
    /// Convictions by declared sentence: ≤ 1 year and ≤ 3 years of 有期徒刑 or lighter.
    pub convicted_at_most_one_year: u64,
    pub convicted_at_most_three_years: u64,
    pub juvenile_records: u64,
    pub repeat_offender_records: u64,
    pub recidivist_records: u64,
    pub probation_records: u64,
    /// Public-security violation cases and records (治安管理处罚法), counted apart from the
    /// criminal ones above (`records` and `persons` count both kinds; `cases` criminal ones).
    pub violation_cases: u64,
    pub violation_records: u64,
    pub violation_penalized: u64,
    pub violation_not_penalized: u64,
    /// Withdrawn cases, decisions revoked on reconsideration included.
    pub violation_withdrawn: u64,
    pub violation_revoked: u64,
    pub violation_open: u64,
    /// Penalties with administrative detention.
    pub violation_detention: u64,
}

/// A resolved charge of the table.
#[derive(Debug, Clone)]
struct ChargeInfo {
    name: String,
    article: String,
    culpability: Culpability,
    serious_violent: bool,
    state_security: bool,
}

#[derive(Debug, Clone)]
struct PersonInfo {
    id: [u8; 18],
    name: String,
    birth: Day,
    /// Convictions so far (before the window and in it).
    priors: u32,
    /// Completion of the last custodial sentence (有期徒刑 or heavier, executed), for art. 65.
    last_custody_completed: Option<Day>,
    last_intentional: bool,
    last_adult: bool,
    /// Date of the last judgment: a new offence must come later.
    last_judgment: Day,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Convicted,
    NotProsecuted,
    Withdrawn,
    Acquitted,
}

#[derive(Debug, Clone, Copy)]
struct SentenceDraw {
    band: Band,
    months: u32,
    probation: Option<u32>,
    fine: u64,
    political_rights: u32,
}

struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n)) >> 32) as u32
    }

    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    fn per_mille(&mut self, p: u32) -> bool {
        self.below(1000) < p
    }

    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut pick = self.below(total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if pick < *w {
                return i;
            }
            pick -= w;
        }
        weights.len() - 1
    }
}

/// The generator. Feed it writers with [`Generator::run`].
pub struct Generator {
    rng: Rng,
    config: Config,
    charges: Vec<ChargeInfo>,
    rows: Vec<ChargeRow>,
    tail: Vec<ChargeInfo>,
    second: Vec<ChargeInfo>,
    case_weights: Vec<u32>,
    ring: Vec<PersonInfo>,
    ring_next: usize,
    person_serial: u64,
    stats: Stats,
    data_date: Day,
    line: Vec<u8>,
    events: Vec<u8>,
    /// Violation cases: their own random stream, so that the criminal records of a data set
    /// are the same whatever the share of violations (docs/synthetic-data.md).
    violations: violations::State,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

const RING: usize = 4096;

/// Chapters 4 to 6 of the special part of the Criminal Law (arts. 232–367): the crimes for which
/// a minor may be conditionally not prosecuted (CPL art. 282).
fn conditional_chapters(article: &str) -> bool {
    let digits: String = article.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse::<u32>()
        .is_ok_and(|n| (232..=367).contains(&n))
}

/// A resident identity number (GB 11643): region, birth date, a sequence from the person's serial
/// (odd for a man), and the check character.
/// A new person, `age` at `offence`: born `age` years and up to a year before it (never on the
/// day itself, so that the age in full years is exactly `age`), in a region of the tables, a man
/// `male_per_mille` times in a thousand, named from the tables; no record yet. Criminal and
/// violation records draw their people alike, each from its own stream.
fn born(rng: &mut Rng, serial: u64, offence: Day, age: u32, male_per_mille: u32) -> PersonInfo {
    let birth = offence
        .plus(-(age as i32 * 365 + (age as i32) / 4))
        .plus(-(rng.range(2, 360) as i32));
    let region = tables::REGIONS[rng.below(tables::REGIONS.len() as u32) as usize].0;
    let male = rng.per_mille(male_per_mille);
    let id = identity_number(region, birth, serial, male);
    let name = format!(
        "{}{}",
        tables::SURNAMES[rng.below(tables::SURNAMES.len() as u32) as usize],
        tables::GIVEN[rng.below(tables::GIVEN.len() as u32) as usize]
    );
    PersonInfo {
        id,
        name,
        birth,
        priors: 0,
        last_custody_completed: None,
        last_intentional: true,
        last_adult: true,
        last_judgment: birth,
    }
}

fn identity_number(region: &str, birth: Day, serial: u64, male: bool) -> [u8; 18] {
    let sequence = (serial % 500) * 2 + u64::from(male);
    let mut first17 = [0u8; 17];
    first17[..6].copy_from_slice(region.as_bytes());
    let mut date = Vec::with_capacity(10);
    birth.write(&mut date);
    first17[6..10].copy_from_slice(&date[0..4]);
    first17[10..12].copy_from_slice(&date[5..7]);
    first17[12..14].copy_from_slice(&date[8..10]);
    first17[14] = b'0' + (sequence / 100) as u8;
    first17[15] = b'0' + (sequence / 10 % 10) as u8;
    first17[16] = b'0' + (sequence % 10) as u8;
    let mut id = [0u8; 18];
    id[..17].copy_from_slice(&first17);
    id[17] = check_character(&first17) as u8;
    id
}

fn resolve(catalogue: &Catalogue, name: &'static str) -> Result<ChargeInfo, SynthError> {
    let charge = catalogue
        .resolve(name)
        .ok_or(SynthError::UnknownCharge(name))?;
    Ok(ChargeInfo {
        name: name.to_owned(),
        article: charge.article.clone(),
        culpability: charge.culpability,
        serious_violent: charge.tags.contains(Tag::SeriousViolent),
        state_security: charge.tags.contains(Tag::NationalSecurity),
    })
}

impl Generator {
    pub fn new(config: Config) -> Result<Self, SynthError> {
        if config.records == 0 {
            return Err(SynthError::NoRecords);
        }
        let catalogue = Catalogue::builtin();
        let charges = tables::CHARGES
            .iter()
            .map(|row| resolve(catalogue, row.name))
            .collect::<Result<Vec<_>, _>>()?;
        let head: Vec<&str> = tables::CHARGES.iter().map(|r| r.name).collect();
        // The tail: every other current charge of the catalogue, uniformly.
        let tail = catalogue
            .charges()
            .iter()
            .filter(|c| c.current && !head.contains(&c.name.as_str()))
            .map(|c| ChargeInfo {
                name: c.name.clone(),
                article: c.article.clone(),
                culpability: c.culpability,
                serious_violent: c.tags.contains(Tag::SeriousViolent),
                state_security: c.tags.contains(Tag::NationalSecurity),
            })
            .collect();
        let second = tables::SECOND_CHARGES
            .iter()
            .map(|name| resolve(catalogue, name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut case_weights: Vec<u32> = tables::CHARGES.iter().map(|r| r.case_weight).collect();
        case_weights.push(tables::TAIL_WEIGHT);
        if config.violations_per_mille > 1000 {
            return Err(SynthError::ViolationShare(config.violations_per_mille));
        }
        let violations = violations::State::new(config.seed)?;
        let (y, m, d) = DATA_DATE;
        Ok(Self {
            rng: Rng(ChaCha8Rng::seed_from_u64(config.seed)),
            config,
            charges,
            rows: tables::CHARGES.to_vec(),
            tail,
            second,
            case_weights,
            ring: Vec::with_capacity(RING),
            ring_next: 0,
            person_serial: 0,
            stats: Stats::default(),
            data_date: Day::from_ymd(y, m, d),
            line: Vec::with_capacity(1024),
            events: Vec::with_capacity(8192),
            violations,
        })
    }

    /// Generates `config.records` records, writing record facts to `facts` and, if given, the
    /// events of every record to `events`. `progress` is called with the number of records
    /// written so far, every few thousand records.
    pub fn run(
        mut self,
        facts: &mut dyn Write,
        mut events: Option<&mut dyn Write>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Stats, SynthError> {
        let (fy, fm, fd) = FIRST_OFFENCE;
        let (ly, lm, ld) = LAST_OFFENCE;
        let first = Day::from_ymd(fy, fm, fd);
        let last = Day::from_ymd(ly, lm, ld);
        while self.stats.records < self.config.records {
            // The next case is a violation case while violation records are below their share.
            let violation = (self.stats.violation_records + 1) * 1000
                <= u64::from(self.config.violations_per_mille) * (self.stats.records + 1);
            if violation {
                self.violation_case(first, last, facts, events.as_deref_mut())?;
            } else {
                self.case(first, last, facts, events.as_deref_mut())?;
            }
            if (self.stats.cases + self.stats.violation_cases).is_multiple_of(4096) {
                progress(self.stats.records);
            }
        }
        progress(self.stats.records);
        Ok(self.stats)
    }

    fn case(
        &mut self,
        first: Day,
        last: Day,
        facts: &mut dyn Write,
        mut events: Option<&mut (dyn Write + '_)>,
    ) -> Result<(), SynthError> {
        let index = self.rng.weighted(&self.case_weights);
        let (row, main) = if index < self.rows.len() {
            (self.rows[index], self.charges[index].clone())
        } else {
            let pick = self.rng.below(self.tail.len() as u32) as usize;
            let info = self.tail[pick].clone();
            (
                ChargeRow {
                    name: "",
                    case_weight: tables::TAIL_WEIGHT,
                    defendants: tables::TAIL_DEFENDANTS,
                    convicted: tables::TAIL_CONVICTED,
                    repeat: tables::TAIL_REPEAT,
                    profile: tables::TAIL_PROFILE,
                    from_fourteen: false,
                },
                info,
            )
        };
        self.stats.cases += 1;
        let serial = self.stats.cases;
        let region = tables::REGIONS[self.rng.below(tables::REGIONS.len() as u32) as usize];
        let offence = first.plus(self.rng.below((last.0 - first.0 + 1) as u32) as i32);
        let case_code = format!("{}-{}-{:08}", region.0, offence.year(), serial);
        // Defendants: 1 + a geometric number with the table's mean.
        let mut defendants = 1u32;
        let extra = row.defendants.saturating_sub(100);
        if extra > 0 {
            // P(another) = extra / (100 + extra) gives a mean of 1 + extra/100.
            while defendants < 12 && self.rng.below(100 + extra) < extra {
                defendants += 1;
            }
        }
        let outcome = if self.rng.per_mille(row.convicted) {
            Outcome::Convicted
        } else {
            match self.rng.below(1000) {
                0..=5 => Outcome::Acquitted,
                6..=705 => Outcome::NotProsecuted,
                _ => Outcome::Withdrawn,
            }
        };
        // The stages of the case, common to its defendants.
        let filed = offence.plus(self.rng.range(1, 60) as i32);
        let indicted = filed.plus(self.rng.range(30, 200) as i32);
        let judged = indicted.plus(self.rng.range(15, 120) as i32);
        let effective = judged.plus(self.rng.range(11, 25) as i32);
        let dropped = match outcome {
            Outcome::Withdrawn => filed.plus(self.rng.range(10, 180) as i32),
            _ => filed.plus(self.rng.range(30, 200) as i32),
        };
        let region_code = region.0;
        let docs = Docs {
            police: format!("{}公刑立字〔{}〕{}号", region.1, filed.year(), serial),
            procuratorate: format!("{}检刑诉〔{}〕{}号", region.1, indicted.year(), serial),
            court: format!("({}){}刑初{}号", judged.year(), region_code, serial),
        };
        let mut judged_case = false;
        for _ in 0..defendants {
            if self.stats.records >= self.config.records {
                break;
            }
            let second = (outcome == Outcome::Convicted
                && self.rng.per_mille(tables::COMBINED_PER_MILLE))
            .then(|| self.second[self.rng.below(self.second.len() as u32) as usize].clone())
            .filter(|s| s.name != main.name);
            let stages = Stages {
                offence,
                filed,
                indicted,
                judged,
                effective,
                dropped,
            };
            let judged_record = self.record(
                &row,
                &main,
                second.as_ref(),
                outcome,
                stages,
                &case_code,
                region_code,
                &docs,
                facts,
                events.as_deref_mut(),
            )?;
            judged_case |= judged_record;
        }
        if judged_case {
            self.stats.judged_cases += 1;
            if main.name == "危险驾驶罪" {
                self.stats.dangerous_driving_judged_cases += 1;
            }
        }
        Ok(())
    }

    fn new_person(&mut self, offence: Day, row: &ChargeRow) -> PersonInfo {
        // Age at the offence: juveniles 4.5 %; adults by age group.
        let age = if self.rng.per_mille(45) {
            if row.from_fourteen && self.rng.per_mille(150) {
                14 + self.rng.below(2)
            } else {
                16 + self.rng.below(2)
            }
        } else {
            let groups: [(u32, u32, u32); 6] = [
                (18, 24, 180),
                (25, 34, 300),
                (35, 44, 250),
                (45, 54, 170),
                (55, 64, 80),
                (65, 75, 20),
            ];
            let weights: Vec<u32> = groups.iter().map(|g| g.2).collect();
            let (lo, hi, _) = groups[self.rng.weighted(&weights)];
            self.rng.range(lo, hi)
        };
        self.person_serial += 1;
        self.stats.persons += 1;
        born(&mut self.rng, self.person_serial, offence, age, 870)
    }

    fn sentence(&mut self, row: &ChargeRow, dangerous_driving: bool) -> SentenceDraw {
        let band = tables::BANDS[self.rng.weighted(&row.profile)];
        let fine_step = |rng: &mut Rng, lo: u32, hi: u32| u64::from(rng.range(lo, hi)) * 1000;
        let mut draw = SentenceDraw {
            band,
            months: 0,
            probation: None,
            fine: 0,
            political_rights: 0,
        };
        match band {
            Band::Exempt | Band::Life => {}
            Band::FineOnly => draw.fine = fine_step(&mut self.rng, 1, 50),
            Band::Surveillance => {
                draw.months = self.rng.range(3, 24);
                if self.rng.per_mille(300) {
                    draw.fine = fine_step(&mut self.rng, 1, 10);
                }
            }
            Band::Detention => {
                draw.months = self.rng.range(1, 6);
                if self
                    .rng
                    .per_mille(if dangerous_driving { 450 } else { 350 })
                {
                    draw.probation = Some(self.rng.range(draw.months.max(2), 12));
                }
                if dangerous_driving || self.rng.per_mille(500) {
                    draw.fine = fine_step(&mut self.rng, 1, 20);
                }
            }
            Band::Ft6To12 | Band::Ft13To36 => {
                let (lo, hi, p) = if band == Band::Ft6To12 {
                    (6, 12, 450)
                } else {
                    (13, 36, 300)
                };
                draw.months = self.rng.range(lo, hi);
                if self.rng.per_mille(p) {
                    let min = draw.months.max(12);
                    draw.probation = Some(self.rng.range(min, (min + 24).min(60)));
                }
                if self.rng.per_mille(600) {
                    draw.fine = fine_step(&mut self.rng, 1, 50);
                }
            }
            Band::Ft37To60 | Band::Ft61To120 | Band::Ft121To180 => {
                let (lo, hi) = match band {
                    Band::Ft37To60 => (37, 60),
                    Band::Ft61To120 => (61, 120),
                    _ => (121, 180),
                };
                draw.months = self.rng.range(lo, hi);
                if self.rng.per_mille(600) {
                    draw.fine = fine_step(&mut self.rng, 5, 200);
                }
                if band != Band::Ft37To60 && self.rng.per_mille(200) {
                    draw.political_rights = self.rng.range(1, 5) * 12;
                }
            }
        }
        draw
    }

    #[expect(clippy::too_many_arguments, reason = "one record's parts, used once")]
    fn record(
        &mut self,
        row: &ChargeRow,
        main: &ChargeInfo,
        second: Option<&ChargeInfo>,
        outcome: Outcome,
        stages: Stages,
        case_code: &str,
        region: &str,
        docs: &Docs,
        facts: &mut dyn Write,
        events: Option<&mut (dyn Write + '_)>,
    ) -> Result<bool, SynthError> {
        let offence = stages.offence;
        // Who: a repeat offender from the recent past, or a new person (who may have
        // convictions from before the data set's window).
        let repeat = self.rng.per_mille(row.repeat);
        let mut from_ring = None;
        if repeat && !self.ring.is_empty() && self.rng.per_mille(500) {
            let at = self.rng.below(self.ring.len() as u32) as usize;
            let candidate = &self.ring[at];
            if candidate.last_judgment.plus(30) < offence
                && calendar::age(candidate.birth, offence) >= 18
            {
                from_ring = Some(at);
            }
        }
        let mut person = match from_ring {
            Some(at) => self.ring[at].clone(),
            None => {
                let mut p = self.new_person(offence, row);
                if repeat && calendar::age(p.birth, offence) >= 18 {
                    p.priors =
                        1 + u32::from(self.rng.per_mille(350)) + u32::from(self.rng.per_mille(150));
                    // An earlier custodial sentence completed within five years (art. 65) for some.
                    if self.rng.per_mille(400) {
                        p.last_custody_completed =
                            Some(offence.plus(-(self.rng.range(30, 1800) as i32)));
                    }
                }
                p
            }
        };
        let adult = calendar::age(person.birth, offence) >= 18;
        let intentional = main.culpability == Culpability::Intentional
            || second.is_some_and(|s| s.culpability == Culpability::Intentional);
        let data_date = self.data_date;
        // What happened, as far as the data date.
        let final_date = match outcome {
            Outcome::Convicted | Outcome::Acquitted => stages.judged,
            Outcome::NotProsecuted | Outcome::Withdrawn => stages.dropped,
        };
        let disposition = if final_date > data_date {
            None
        } else {
            Some(outcome)
        };
        let mut sentence = None;
        let mut recidivist = false;
        if disposition == Some(Outcome::Convicted) {
            let mut draw = self.sentence(row, main.name == "危险驾驶罪");
            let custodial_new = matches!(
                draw.band,
                Band::Ft6To12
                    | Band::Ft13To36
                    | Band::Ft37To60
                    | Band::Ft61To120
                    | Band::Ft121To180
                    | Band::Life
            );
            recidivist = person.priors > 0
                && custodial_new
                && intentional
                && person.last_intentional
                && adult
                && person.last_adult
                && person
                    .last_custody_completed
                    .is_some_and(|done| done < offence && offence <= done.plus_months(60));
            if recidivist {
                // Criminal Law art. 74: no probation for a recidivist.
                draw.probation = None;
            }
            sentence = Some(draw);
        }
        let juvenile = !adult;
        let prior_convictions = person.priors;
        // Completion of the sentence.
        let effective = (stages.effective <= data_date).then_some(stages.effective);
        let completed = match (&sentence, effective) {
            (Some(s), Some(eff)) => {
                let done = match (s.band, s.probation) {
                    (Band::Exempt | Band::Life, _) => None,
                    (_, Some(p)) => Some(eff.plus_months(p)),
                    (Band::FineOnly, None) => Some(eff.plus(30)),
                    (Band::Surveillance, None) => Some(eff.plus_months(s.months)),
                    (_, None) => Some(stages.filed.plus_months(s.months).max(eff)),
                };
                done.filter(|d| *d <= data_date)
            }
            _ => None,
        };
        // Stats.
        self.stats.records += 1;
        match disposition {
            Some(Outcome::Convicted) => self.stats.convicted += 1,
            Some(Outcome::Acquitted) => self.stats.acquitted += 1,
            Some(Outcome::NotProsecuted) => self.stats.not_prosecuted += 1,
            Some(Outcome::Withdrawn) => self.stats.withdrawn += 1,
            None => self.stats.open += 1,
        }
        let judged = matches!(disposition, Some(Outcome::Convicted | Outcome::Acquitted));
        if judged && (main.serious_violent || second.is_some_and(|s| s.serious_violent)) {
            self.stats.serious_violent_judged += 1;
        }
        if let Some(s) = &sentence {
            let light = !matches!(
                s.band,
                Band::Ft37To60 | Band::Ft61To120 | Band::Ft121To180 | Band::Life
            );
            if light {
                self.stats.convicted_at_most_three_years += 1;
                if s.band != Band::Ft13To36 {
                    self.stats.convicted_at_most_one_year += 1;
                }
            }
            if s.probation.is_some() {
                self.stats.probation_records += 1;
            }
        }
        if juvenile {
            self.stats.juvenile_records += 1;
        }
        if prior_convictions > 0 {
            self.stats.repeat_offender_records += 1;
        }
        if recidivist {
            self.stats.recidivist_records += 1;
        }
        // Conditions some proposals add.
        let plea = self.rng.per_mille(880);
        let forgiveness = if main.name == "危险驾驶罪" {
            None
        } else {
            Some(self.rng.per_mille(600))
        };
        let compensation = if self.rng.per_mille(300) {
            None
        } else {
            Some(self.rng.per_mille(800))
        };
        // The ground of a non-prosecution (docs/synthetic-data.md): one draw, the same for every
        // record, so that the rest of the data set does not depend on the mix. A minor charged
        // only under chapters 4–6 of the Criminal Law may be conditionally not prosecuted (CPL
        // art. 282); everyone else is not prosecuted on one of the three grounds of arts. 175(4)
        // and 177.
        let conditional_allowed = juvenile
            && conditional_chapters(&main.article)
            && second.is_none_or(|s| conditional_chapters(&s.article));
        let ground = match self.rng.below(100) {
            0..=64 if conditional_allowed => "conditional",
            0..=81 => "discretionary",
            82..=94 => "insufficient_evidence",
            _ => "statutory",
        };
        let record = RecordOut {
            case_code,
            region,
            id: &person.id,
            name: &person.name,
            birth: person.birth,
            main,
            second,
            disposition,
            outcome,
            stages,
            effective,
            completed,
            sentence,
            recidivist,
            prior_convictions,
            plea,
            forgiveness,
            compensation,
            ground,
        };
        self.line.clear();
        record.facts(&mut self.line);
        facts.write_all(&self.line)?;
        if let Some(out) = events {
            self.events.clear();
            let n = record.events(docs, &mut self.events);
            out.write_all(&self.events)?;
            self.stats.events += n;
        }
        // Remember the person for a later case.
        if disposition == Some(Outcome::Convicted) {
            person.priors += 1;
            person.last_intentional = intentional;
            person.last_adult = adult;
            person.last_judgment = stages.judged;
            if let Some(s) = sentence {
                if s.probation.is_none()
                    && !matches!(
                        s.band,
                        Band::Exempt | Band::FineOnly | Band::Surveillance | Band::Detention
                    )
                {
                    person.last_custody_completed = completed;
                }
            }
            match from_ring {
                Some(at) => self.ring[at] = person,
                None if self.ring.len() < RING => self.ring.push(person),
                None => {
                    self.ring[self.ring_next] = person;
                    self.ring_next = (self.ring_next + 1) % RING;
                }
            }
        }
        Ok(judged)
    }
}

#[derive(Debug, Clone, Copy)]
struct Stages {
    offence: Day,
    filed: Day,
    indicted: Day,
    judged: Day,
    effective: Day,
    /// Date of a non-prosecution or withdrawal.
    dropped: Day,
}

#[derive(Debug)]
struct Docs {
    police: String,
    procuratorate: String,
    court: String,
}

struct RecordOut<'a> {
    case_code: &'a str,
    region: &'a str,
    id: &'a [u8; 18],
    name: &'a str,
    birth: Day,
    main: &'a ChargeInfo,
    second: Option<&'a ChargeInfo>,
    /// `None`: still open on the data date.
    disposition: Option<Outcome>,
    /// How the case ends, even after the data date.
    outcome: Outcome,
    stages: Stages,
    effective: Option<Day>,
    completed: Option<Day>,
    sentence: Option<SentenceDraw>,
    recidivist: bool,
    prior_convictions: u32,
    plea: bool,
    forgiveness: Option<bool>,
    compensation: Option<bool>,
    ground: &'static str,
}

fn push_num(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_date(out: &mut Vec<u8>, key: &str, day: Day) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":\"");
    day.write(out);
    out.push(b'"');
}

fn push_bool_or_null(out: &mut Vec<u8>, value: Option<bool>) {
    out.extend_from_slice(match value {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
}

impl RecordOut<'_> {
    fn charges(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"[");
        for (i, c) in std::iter::once(self.main).chain(self.second).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":\"");
            out.extend_from_slice(c.name.as_bytes());
            out.extend_from_slice(b"\",\"article\":\"");
            out.extend_from_slice(c.article.as_bytes());
            out.extend_from_slice(b"\",\"culpability\":\"");
            out.extend_from_slice(c.culpability.code().as_bytes());
            out.extend_from_slice(b"\"}");
        }
        out.push(b']');
    }

    fn sentence(s: &SentenceDraw, out: &mut Vec<u8>) {
        let principal = match s.band {
            Band::Exempt => "exempt",
            Band::FineOnly => "supplementary_only",
            Band::Surveillance => "public_surveillance",
            Band::Detention => "criminal_detention",
            Band::Life => "life",
            _ => "fixed_term",
        };
        out.extend_from_slice(b"{\"principal\":\"");
        out.extend_from_slice(principal.as_bytes());
        out.push(b'"');
        if s.months > 0 {
            out.extend_from_slice(b",\"months\":");
            push_num(out, u64::from(s.months));
        }
        if let Some(p) = s.probation {
            out.extend_from_slice(b",\"probation_months\":");
            push_num(out, u64::from(p));
        }
        if s.fine > 0 {
            out.extend_from_slice(b",\"fine_yuan\":");
            push_num(out, s.fine);
        }
        if s.political_rights > 0 {
            out.extend_from_slice(b",\"political_rights_months\":");
            push_num(out, u64::from(s.political_rights));
        }
        out.push(b'}');
    }

    fn conditions(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"civil_compensation_fulfilled\":");
        push_bool_or_null(out, self.compensation);
        out.extend_from_slice(b",\"victim_forgiveness\":");
        push_bool_or_null(out, self.forgiveness);
        out.extend_from_slice(b",\"plea\":");
        push_bool_or_null(out, Some(self.plea));
        out.push(b'}');
    }

    fn person(&self, out: &mut Vec<u8>, birth: bool) {
        out.extend_from_slice(b"{\"id_number\":\"");
        out.extend_from_slice(self.id);
        out.extend_from_slice(b"\",\"name\":\"");
        out.extend_from_slice(self.name.as_bytes());
        out.push(b'"');
        if birth {
            out.extend_from_slice(b",\"birth_date\":\"");
            self.birth.write(out);
            out.push(b'"');
        }
        out.push(b'}');
    }

    /// One record-facts line (FORMATS.md).
    fn facts(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"record_id\":\"");
        out.extend_from_slice(self.case_code.as_bytes());
        out.push(b':');
        out.extend_from_slice(self.id);
        out.extend_from_slice(b"\",\"case_code\":\"");
        out.extend_from_slice(self.case_code.as_bytes());
        out.extend_from_slice(b"\",\"person\":");
        self.person(out, true);
        push_date(out, "offence_date", self.stages.offence);
        out.extend_from_slice(b",\"charges\":");
        self.charges(out);
        let code = match self.disposition {
            Some(Outcome::Convicted) => "convicted",
            Some(Outcome::Acquitted) => "acquitted",
            Some(Outcome::NotProsecuted) => "not_prosecuted",
            Some(Outcome::Withdrawn) => "case_withdrawn",
            None => "open",
        };
        out.extend_from_slice(b",\"disposition\":\"");
        out.extend_from_slice(code.as_bytes());
        out.push(b'"');
        match self.disposition {
            Some(Outcome::Convicted | Outcome::Acquitted) => {
                push_date(out, "disposition_date", self.stages.judged);
            }
            Some(Outcome::NotProsecuted) => {
                push_date(out, "disposition_date", self.stages.dropped);
                out.extend_from_slice(b",\"non_prosecution_ground\":\"");
                out.extend_from_slice(self.ground.as_bytes());
                out.push(b'"');
                // The decision states the person's criminal history (the first-offender test).
                out.extend_from_slice(b",\"prior_convictions\":");
                push_num(out, u64::from(self.prior_convictions));
            }
            Some(Outcome::Withdrawn) => push_date(out, "disposition_date", self.stages.dropped),
            None => {}
        }
        if let Some(s) = &self.sentence {
            out.extend_from_slice(b",\"sentence\":");
            Self::sentence(s, out);
        }
        if matches!(
            self.disposition,
            Some(Outcome::Convicted | Outcome::Acquitted)
        ) {
            if let Some(eff) = self.effective {
                push_date(out, "judgment_effective_date", eff);
            }
        }
        if let Some(done) = self.completed {
            push_date(out, "execution_completed_date", done);
        }
        if self.disposition == Some(Outcome::Convicted) {
            out.extend_from_slice(b",\"recidivist\":");
            push_bool_or_null(out, Some(self.recidivist));
            out.extend_from_slice(b",\"prior_convictions\":");
            push_num(out, u64::from(self.prior_convictions));
            out.extend_from_slice(b",\"conditions\":");
            self.conditions(out);
        }
        out.extend_from_slice(b"}\n");
    }

    /// The stage events of the record, as each agency sends them; returns how many.
    fn events(&self, docs: &Docs, out: &mut Vec<u8>) -> u64 {
        let s = self.stages;
        let mut n = 0;
        let police = format!("{}-ga", self.region);
        let procuratorate = format!("{}-jc", self.region);
        let court = format!("{}-fy", self.region);
        let (filer_kind, filer) = if self.main.state_security {
            ("state_security", format!("{}-aq", self.region))
        } else {
            ("public_security", police)
        };
        let mut event = |out: &mut Vec<u8>,
                         kind: &str,
                         date: Day,
                         agency_kind: &str,
                         agency: &str,
                         doc: Option<&str>,
                         body: &dyn Fn(&mut Vec<u8>)| {
            n += 1;
            out.extend_from_slice(b"{\"idempotency_key\":\"");
            out.extend_from_slice(agency.as_bytes());
            out.push(b'/');
            out.extend_from_slice(self.case_code.as_bytes());
            out.push(b'/');
            out.extend_from_slice(self.id);
            out.push(b'/');
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"kind\":\"");
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"date\":\"");
            date.write(out);
            out.extend_from_slice(b"\",\"case_code\":\"");
            out.extend_from_slice(self.case_code.as_bytes());
            out.extend_from_slice(b"\",\"agency\":{\"kind\":\"");
            out.extend_from_slice(agency_kind.as_bytes());
            out.extend_from_slice(b"\",\"code\":\"");
            out.extend_from_slice(agency.as_bytes());
            out.extend_from_slice(b"\"}");
            if let Some(doc) = doc {
                out.extend_from_slice(b",\"document_number\":\"");
                out.extend_from_slice(doc.as_bytes());
                out.push(b'"');
            }
            out.extend_from_slice(b",\"person\":");
            self.person(out, false);
            body(out);
            out.extend_from_slice(b"}\n");
        };
        let charges = |out: &mut Vec<u8>| {
            out.extend_from_slice(b",\"charges\":");
            self.charges(out);
        };
        let data_date = Day::from_ymd(DATA_DATE.0, DATA_DATE.1, DATA_DATE.2);
        let filed = s.filed.min(data_date);
        event(
            out,
            "filed",
            filed,
            filer_kind,
            &filer,
            Some(&docs.police),
            &|out| {
                charges(out);
                push_date(out, "offence_date", s.offence);
            },
        );
        match self.disposition {
            Some(Outcome::Withdrawn) => {
                event(
                    out,
                    "case_withdrawn",
                    s.dropped,
                    filer_kind,
                    &filer,
                    Some(&docs.police),
                    &|_| {},
                );
                return n;
            }
            Some(Outcome::NotProsecuted) => {
                event(
                    out,
                    "not_prosecuted",
                    s.dropped,
                    "procuratorate",
                    &procuratorate,
                    Some(&docs.procuratorate),
                    &|out| {
                        charges(out);
                        out.extend_from_slice(b",\"ground\":\"");
                        out.extend_from_slice(self.ground.as_bytes());
                        out.push(b'"');
                        out.extend_from_slice(b",\"prior_convictions\":");
                        push_num(out, u64::from(self.prior_convictions));
                    },
                );
                return n;
            }
            _ => {}
        }
        // Convicted, acquitted, or open (as far as it got by the data date).
        let to_court = self.disposition.is_some()
            || matches!(self.outcome, Outcome::Convicted | Outcome::Acquitted);
        if to_court && s.indicted <= data_date {
            event(
                out,
                "indicted",
                s.indicted,
                "procuratorate",
                &procuratorate,
                Some(&docs.procuratorate),
                &charges,
            );
        }
        let Some(outcome) = self.disposition else {
            return n;
        };
        event(
            out,
            "judgment",
            s.judged,
            "court",
            &court,
            Some(&docs.court),
            &|out| {
                out.extend_from_slice(b",\"judgment\":{\"instance\":\"first\",\"verdict\":\"");
                out.extend_from_slice(if outcome == Outcome::Convicted {
                    b"convicted".as_slice()
                } else {
                    b"acquitted".as_slice()
                });
                out.extend_from_slice(b"\",\"charges\":");
                self.charges(out);
                if let Some(sentence) = &self.sentence {
                    out.extend_from_slice(b",\"sentence\":");
                    Self::sentence(sentence, out);
                }
                push_date(out, "offence_date", s.offence);
                if outcome == Outcome::Convicted {
                    out.extend_from_slice(b",\"recidivist\":");
                    push_bool_or_null(out, Some(self.recidivist));
                    out.extend_from_slice(b",\"prior_convictions\":");
                    push_num(out, u64::from(self.prior_convictions));
                    out.extend_from_slice(b",\"conditions\":");
                    self.conditions(out);
                }
                out.push(b'}');
            },
        );
        let Some(effective) = self.effective else {
            return n;
        };
        event(
            out,
            "judgment_effective",
            effective,
            "court",
            &court,
            Some(&docs.court),
            &|_| {},
        );
        let Some(sentence) = &self.sentence else {
            return n;
        };
        let (kind, agency) = match (sentence.band, sentence.probation) {
            (Band::Exempt, _) => return n,
            (_, Some(_)) | (Band::Surveillance, None) => {
                ("community_correction", format!("{}-sqjz", self.region))
            }
            (Band::FineOnly, None) => ("court", court.clone()),
            _ => ("prison", format!("{}-kss", self.region)),
        };
        event(
            out,
            "execution_started",
            effective,
            kind,
            &agency,
            None,
            &|_| {},
        );
        if let Some(done) = self.completed {
            let what = if sentence.probation.is_some() {
                "probation_completed"
            } else {
                "execution_completed"
            };
            event(out, what, done, kind, &agency, None, &|_| {});
        }
        n
    }
}

/// Generates a data set: record facts to `facts`, events to `events` if given.
pub fn generate(
    config: Config,
    facts: &mut dyn Write,
    events: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> Result<Stats, SynthError> {
    Generator::new(config)?.run(facts, events, progress)
}
