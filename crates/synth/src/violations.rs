//! Public-security violation cases (治安案件, 治安管理处罚法): behaviours from the catalogue
//! (data/violations.tsv) with the frequencies of `tables::VIOLATIONS`, penalties within what each
//! behaviour's article allows, and the events public security sends for them (docs/events.md).
//!
//! They are drawn from a random stream of their own (the seed's stream 1), and their people and
//! case codes are counted apart, so that the criminal records of a data set do not depend on the
//! share of violations: with any share they are the criminal-only data set's first lines.

use std::io::Write;

use fengcun_domain::ViolationCatalogue;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::calendar::{self, Day};
use crate::tables::{self, ViolationRow};
use crate::{Generator, PersonInfo, Rng, SynthError, push_date, push_num};

/// A behaviour of the table, with what its article allows.
#[derive(Debug, Clone)]
struct BehaviourInfo {
    row: ViolationRow,
    name: String,
    warning: bool,
    fine_max: u32,
    detention_max: u32,
    licence: bool,
}

/// The violation cases' own generator state.
pub(crate) struct State {
    rng: Rng,
    behaviours: Vec<BehaviourInfo>,
    weights: Vec<u32>,
    person_serial: u64,
}

impl State {
    pub(crate) fn new(seed: u64) -> Result<Self, SynthError> {
        let catalogue = ViolationCatalogue::builtin();
        let info = |row: ViolationRow, name: &str| {
            catalogue.resolve(name).map(|b| BehaviourInfo {
                row,
                name: b.name.clone(),
                warning: b.warning,
                fine_max: b.fine_max_yuan,
                detention_max: b.detention_max_days,
                licence: b.licence,
            })
        };
        let mut behaviours = tables::VIOLATIONS
            .iter()
            .map(|row| info(*row, row.name).ok_or(SynthError::UnknownBehaviour(row.name)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut weights: Vec<u32> = tables::VIOLATIONS.iter().map(|r| r.case_weight).collect();
        // The tail: every other behaviour of the catalogue, sharing one weight.
        let tail: Vec<BehaviourInfo> = catalogue
            .all()
            .iter()
            .filter(|b| !tables::VIOLATIONS.iter().any(|r| r.name == b.name))
            .filter_map(|b| {
                info(
                    tables::violation_tail(tables::VIOLATION_TAIL_DETENTION),
                    &b.name,
                )
            })
            .collect();
        let share = (tables::VIOLATION_TAIL_WEIGHT * 100 / tail.len().max(1) as u32).max(1);
        for b in tail {
            behaviours.push(b);
            // In hundredths of the table's scale: the tail's weight spread over its behaviours.
            weights.push(share);
        }
        for w in weights.iter_mut().take(tables::VIOLATIONS.len()) {
            *w *= 100;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Ok(Self {
            rng: Rng(rng),
            behaviours,
            weights,
            person_serial: 0,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    Penalized,
    NotPenalized,
    Withdrawn,
}

/// A penalty (处罚决定), within the article's kinds and limits.
#[derive(Debug, Clone, Copy, Default)]
struct Penalty {
    warning: bool,
    fine: u64,
    detention: u32,
    licence: bool,
}

impl Penalty {
    fn json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"warning\":");
        out.extend_from_slice(if self.warning { b"true" } else { b"false" });
        if self.fine > 0 {
            out.extend_from_slice(b",\"fine_yuan\":");
            push_num(out, self.fine);
        }
        if self.detention > 0 {
            out.extend_from_slice(b",\"detention_days\":");
            push_num(out, u64::from(self.detention));
        }
        out.extend_from_slice(b",\"licence_revoked\":");
        out.extend_from_slice(if self.licence { b"true" } else { b"false" });
        out.push(b'}');
    }
}

/// One violation record, as written.
struct ViolationOut<'a> {
    case_code: &'a str,
    region: &'a str,
    region_name: &'a str,
    serial: u64,
    person: &'a PersonInfo,
    behaviour: &'a str,
    offence: Day,
    accepted: Day,
    /// `None`: still open on the data date.
    disposition: Option<Disposition>,
    decided: Day,
    penalty: Option<Penalty>,
    effective: Option<Day>,
    completed: Option<Day>,
    /// A penalty decision revoked on administrative reconsideration, on this date.
    revoked: Option<Day>,
}

impl ViolationOut<'_> {
    fn person(&self, out: &mut Vec<u8>, birth: bool) {
        out.extend_from_slice(b"{\"id_number\":\"");
        out.extend_from_slice(&self.person.id);
        out.extend_from_slice(b"\",\"name\":\"");
        out.extend_from_slice(self.person.name.as_bytes());
        out.push(b'"');
        if birth {
            out.extend_from_slice(b",\"birth_date\":\"");
            self.person.birth.write(out);
            out.push(b'"');
        }
        out.push(b'}');
    }

    fn violations(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b",\"violations\":[{\"name\":\"");
        out.extend_from_slice(self.behaviour.as_bytes());
        out.extend_from_slice(b"\"}]");
    }

    /// One record-facts line (FORMATS.md, "Violation record facts").
    fn facts(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"record_id\":\"");
        out.extend_from_slice(self.case_code.as_bytes());
        out.push(b':');
        out.extend_from_slice(&self.person.id);
        out.extend_from_slice(b"\",\"kind\":\"public_security_violation\",\"case_code\":\"");
        out.extend_from_slice(self.case_code.as_bytes());
        out.extend_from_slice(b"\",\"person\":");
        self.person(out, true);
        push_date(out, "offence_date", self.offence);
        self.violations(out);
        let code = match (self.disposition, self.revoked) {
            (Some(_), Some(_)) | (Some(Disposition::Withdrawn), None) => "withdrawn",
            (Some(Disposition::Penalized), None) => "penalized",
            (Some(Disposition::NotPenalized), None) => "not_penalized",
            (None, _) => "open",
        };
        out.extend_from_slice(b",\"disposition\":\"");
        out.extend_from_slice(code.as_bytes());
        out.push(b'"');
        match (self.disposition, self.revoked) {
            (None, _) => {}
            // The revoked decision leaves the record of a withdrawn case, on the revocation's date.
            (Some(_), Some(revoked)) => push_date(out, "disposition_date", revoked),
            (Some(_), None) => push_date(out, "disposition_date", self.decided),
        }
        if self.revoked.is_none() {
            if let Some(p) = &self.penalty {
                out.extend_from_slice(b",\"penalty\":");
                p.json(out);
            }
            if let Some(effective) = self.effective {
                push_date(out, "decision_effective_date", effective);
            }
            if let Some(done) = self.completed {
                push_date(out, "execution_completed_date", done);
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// The events public security sends for the record; returns how many.
    fn events(&self, out: &mut Vec<u8>) -> u64 {
        let mut n = 0;
        let agency = format!("{}-ga", self.region);
        let mut event = |out: &mut Vec<u8>,
                         kind: &str,
                         date: Day,
                         doc: Option<&str>,
                         body: &dyn Fn(&mut Vec<u8>)| {
            n += 1;
            out.extend_from_slice(b"{\"idempotency_key\":\"");
            out.extend_from_slice(agency.as_bytes());
            out.push(b'/');
            out.extend_from_slice(self.case_code.as_bytes());
            out.push(b'/');
            out.extend_from_slice(&self.person.id);
            out.push(b'/');
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"kind\":\"");
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"date\":\"");
            date.write(out);
            out.extend_from_slice(b"\",\"case_code\":\"");
            out.extend_from_slice(self.case_code.as_bytes());
            out.extend_from_slice(b"\",\"agency\":{\"kind\":\"public_security\",\"code\":\"");
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
        event(out, "violation_accepted", self.accepted, None, &|out| {
            push_date(out, "offence_date", self.offence);
            self.violations(out);
        });
        let Some(disposition) = self.disposition else {
            return n;
        };
        let year = self.decided.year();
        match disposition {
            Disposition::Withdrawn => {
                event(out, "violation_withdrawn", self.decided, None, &|_| {});
                return n;
            }
            Disposition::NotPenalized => {
                let doc = format!(
                    "{}公（治）不罚决字〔{year}〕{}号",
                    self.region_name, self.serial
                );
                event(
                    out,
                    "violation_not_penalized",
                    self.decided,
                    Some(&doc),
                    &|out| {
                        self.violations(out);
                    },
                );
                return n;
            }
            Disposition::Penalized => {}
        }
        let doc = format!(
            "{}公（治）行罚决字〔{year}〕{}号",
            self.region_name, self.serial
        );
        event(
            out,
            "violation_penalized",
            self.decided,
            Some(&doc),
            &|out| {
                self.violations(out);
                if let Some(p) = &self.penalty {
                    out.extend_from_slice(b",\"penalty\":");
                    p.json(out);
                }
            },
        );
        if let Some(effective) = self.effective {
            event(
                out,
                "violation_decision_effective",
                effective,
                Some(&doc),
                &|_| {},
            );
        }
        if let Some(done) = self.completed {
            event(out, "violation_execution_completed", done, None, &|_| {});
        }
        if let Some(revoked) = self.revoked {
            event(
                out,
                "violation_decision_revoked",
                revoked,
                Some(&doc),
                &|out| {
                    out.extend_from_slice(b",\"review\":\"reconsideration\"");
                },
            );
        }
        n
    }
}

impl Generator {
    /// A public-security violation case: its people's records and events.
    pub(crate) fn violation_case(
        &mut self,
        first: Day,
        last: Day,
        facts: &mut dyn Write,
        mut events: Option<&mut (dyn Write + '_)>,
    ) -> Result<(), SynthError> {
        let v = &mut self.violations;
        let index = v.rng.weighted(&v.weights);
        let behaviour = v.behaviours[index].clone();
        self.stats.violation_cases += 1;
        let serial = self.stats.violation_cases;
        let region = tables::REGIONS[v.rng.below(tables::REGIONS.len() as u32) as usize];
        // Violation cases are decided within weeks: their acts run up to the data date, so that
        // the latest are still open on it.
        let last = last.max(self.data_date.plus(-1));
        let offence = first.plus(v.rng.below((last.0 - first.0 + 1) as u32) as i32);
        // A serial of ten digits starting with 9: never a criminal case's code (eight digits).
        let case_code = format!("{}-{}-9{serial:09}", region.0, offence.year());
        let mut people = 1u32;
        let extra = behaviour.row.people.saturating_sub(100);
        while extra > 0 && people < 8 && v.rng.below(100 + extra) < extra {
            people += 1;
        }
        // Accepted (受案) within days; decided within the 30 days of the law, 10 % extended by
        // another 30; the decision takes effect on its delivery, within three days.
        let accepted = offence.plus(v.rng.range(0, 3) as i32);
        let decided = accepted.plus(if v.rng.per_mille(100) {
            v.rng.range(31, 60)
        } else {
            v.rng.range(1, 30)
        } as i32);
        let effective = decided.plus(v.rng.range(0, 3) as i32);
        // Nothing after the data date exists (a case accepted then is decided later still).
        let accepted = accepted.min(self.data_date);
        let outcome = match v.rng.below(1000) {
            0..=919 => Disposition::Penalized,
            920..=969 => Disposition::NotPenalized,
            _ => Disposition::Withdrawn,
        };
        // The people of this case so far: one person is one record of a case, never two (their
        // events would share idempotency keys: agency, case, identity number, kind).
        let mut in_case: Vec<[u8; 18]> = Vec::with_capacity(people as usize);
        for _ in 0..people {
            if self.stats.records >= self.config.records {
                break;
            }
            let person = self.violation_person(offence, &in_case);
            in_case.push(person.id);
            self.violation_record(
                person,
                &behaviour,
                outcome,
                (offence, accepted, decided, effective),
                &case_code,
                region,
                serial,
                facts,
                events.as_deref_mut(),
            )?;
        }
        Ok(())
    }

    /// The next person of a case: someone of the data set's criminal records now and then (never
    /// one already among `in_case`), else a new person.
    fn violation_person(&mut self, offence: Day, in_case: &[[u8; 18]]) -> PersonInfo {
        let v = &mut self.violations;
        // Some violators have a criminal record of the data set (never the other way round here:
        // a violation is no prior conviction, so it changes nothing of a criminal record).
        if !self.ring.is_empty() && v.rng.per_mille(100) {
            let candidate = &self.ring[v.rng.below(self.ring.len() as u32) as usize];
            if calendar::age(candidate.birth, offence) >= 14 && !in_case.contains(&candidate.id) {
                return candidate.clone();
            }
        }
        // Age at the act: under 14 (no penalty, art. 12) 0.5 %, 14–17 3.5 %, adults by group.
        let age = match v.rng.below(1000) {
            0..=4 => 12 + v.rng.below(2),
            5..=39 => 14 + v.rng.below(4),
            _ => {
                let groups: [(u32, u32, u32); 6] = [
                    (18, 24, 220),
                    (25, 34, 300),
                    (35, 44, 230),
                    (45, 54, 150),
                    (55, 64, 70),
                    (65, 75, 30),
                ];
                let weights: Vec<u32> = groups.iter().map(|g| g.2).collect();
                let (lo, hi, _) = groups[v.rng.weighted(&weights)];
                v.rng.range(lo, hi)
            }
        };
        v.person_serial += 1;
        self.stats.persons += 1;
        crate::born(&mut v.rng, v.person_serial, offence, age, 800)
    }

    /// A penalty of the kinds and within the limits the behaviour's article allows.
    fn penalty(&mut self, b: &BehaviourInfo, adult: bool) -> Penalty {
        let rng = &mut self.violations.rng;
        let mut p = Penalty::default();
        let fine = |rng: &mut Rng| {
            let steps = (b.fine_max / 50).max(1);
            u64::from(rng.range(1, steps) * 50).min(u64::from(b.fine_max))
        };
        let only_detention = b.detention_max > 0 && b.fine_max == 0 && !b.warning;
        // Minors are detained only where the article allows nothing else.
        let detain =
            b.detention_max > 0 && (only_detention || (adult && rng.per_mille(b.row.detention)));
        if detain {
            p.detention = rng.range(1, b.detention_max);
            if b.fine_max > 0 && rng.per_mille(400) {
                p.fine = fine(rng);
            }
        } else if b.warning && rng.per_mille(350) {
            p.warning = true;
        } else if b.fine_max > 0 {
            p.fine = fine(rng);
        } else if b.detention_max > 0 {
            p.detention = rng.range(1, b.detention_max);
        } else if b.licence {
            p.licence = true;
        } else {
            p.warning = true;
        }
        if b.licence && !p.licence && rng.per_mille(200) {
            p.licence = true;
        }
        p
    }

    #[expect(clippy::too_many_arguments, reason = "one record's parts, used once")]
    fn violation_record(
        &mut self,
        person: PersonInfo,
        behaviour: &BehaviourInfo,
        outcome: Disposition,
        (offence, accepted, decided, effective): (Day, Day, Day, Day),
        case_code: &str,
        region: (&str, &str),
        serial: u64,
        facts: &mut dyn Write,
        events: Option<&mut (dyn Write + '_)>,
    ) -> Result<(), SynthError> {
        let age = calendar::age(person.birth, offence);
        let data_date = self.data_date;
        // No penalty under 14 at the act (治安管理处罚法 art. 12): a decision not to penalise.
        let outcome = if age < 14 && outcome == Disposition::Penalized {
            Disposition::NotPenalized
        } else {
            outcome
        };
        let disposition = (decided <= data_date).then_some(outcome);
        let penalty = (disposition == Some(Disposition::Penalized))
            .then(|| self.penalty(behaviour, age >= 18));
        let effective = penalty.and(Some(effective)).filter(|d| *d <= data_date);
        // Executed: detention served from delivery, a fine paid within 15 days, a warning or a
        // revocation on delivery.
        let completed = match (penalty, effective) {
            (Some(p), Some(eff)) => {
                let done = if p.detention > 0 {
                    eff.plus(p.detention as i32)
                } else if p.fine > 0 {
                    eff.plus(self.violations.rng.range(1, 15) as i32)
                } else {
                    eff
                };
                (done <= data_date).then_some(done)
            }
            _ => None,
        };
        // 0.5 % of penalty decisions revoked on administrative reconsideration (60 days to apply).
        let revoked = match effective {
            Some(eff) if self.violations.rng.per_mille(5) => {
                Some(eff.plus(self.violations.rng.range(30, 120) as i32))
                    .filter(|d| *d <= data_date)
            }
            _ => None,
        };
        // A revoked decision's execution is not reported (the record is of a withdrawn case).
        let completed = completed.filter(|done| revoked.is_none_or(|r| *done <= r));
        self.stats.records += 1;
        self.stats.violation_records += 1;
        match (disposition, revoked) {
            (None, _) => self.stats.violation_open += 1,
            (Some(_), Some(_)) => {
                self.stats.violation_withdrawn += 1;
                self.stats.violation_revoked += 1;
            }
            (Some(Disposition::Withdrawn), None) => self.stats.violation_withdrawn += 1,
            (Some(Disposition::NotPenalized), None) => self.stats.violation_not_penalized += 1,
            (Some(Disposition::Penalized), None) => self.stats.violation_penalized += 1,
        }
        if revoked.is_none() && penalty.is_some_and(|p| p.detention > 0) {
            self.stats.violation_detention += 1;
        }
        let record = ViolationOut {
            case_code,
            region: region.0,
            region_name: region.1,
            serial,
            person: &person,
            behaviour: &behaviour.name,
            offence,
            accepted,
            disposition,
            decided,
            penalty,
            effective,
            completed,
            revoked,
        };
        self.line.clear();
        record.facts(&mut self.line);
        facts.write_all(&self.line)?;
        if let Some(out) = events {
            self.events.clear();
            let n = record.events(&mut self.events);
            out.write_all(&self.events)?;
            self.stats.events += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// A generator whose ring of earlier offenders holds one adult, and that adult.
    fn generator_with_one_offender(offence: Day) -> (Generator, PersonInfo) {
        let mut generator = Generator::new(Config::new(1_000, 7)).expect("a generator");
        let offender = crate::born(&mut generator.rng, 1, offence, 30, 800);
        generator.ring = vec![offender.clone()];
        (generator, offender)
    }

    #[test]
    fn a_case_never_takes_the_same_earlier_offender_twice() {
        // 10M records drew one ring person twice into a multi-person case 15 times: two records
        // of one person in one case, whose events repeat idempotency keys with other contents.
        let offence = Day::from_ymd(2024, 5, 1);
        let (mut generator, offender) = generator_with_one_offender(offence);
        let drawn = |generator: &mut Generator, in_case: &[[u8; 18]]| {
            (0..2_000)
                .filter(|_| generator.violation_person(offence, in_case).id == offender.id)
                .count()
        };
        // The ring is drawn from at all (about one in ten), so the next check can fail …
        assert!(drawn(&mut generator, &[]) > 100);
        // … and once the offender is in the case, never again for it.
        assert_eq!(drawn(&mut generator, &[offender.id]), 0);
    }
}
