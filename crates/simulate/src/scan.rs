//! A hand-written scanner for record-facts lines: no allocation, no copy. It reads exactly the
//! keys of FORMATS.md and checks every rule `fengcun_domain::RecordParser` checks. Anything it is
//! not sure of — an escape in a string, an unknown key, a null where the parser wants a value,
//! any rule broken — makes it give up (`None`); the caller then runs the domain parser, which
//! either accepts the line or names the field at fault. So a line the scanner accepts is one the
//! domain parser accepts, with the same facts (the equality test runs both over synthetic data).

use fengcun_domain::age::{age_in_full_years, age_on_birthday_rule};
use fengcun_domain::sentence::SentenceInput;
use fengcun_domain::{
    Catalogue, ChargeId, Culpability, Date, Disposition, IdNumber, NonProsecutionGround,
    PrincipalKind, Sentence,
};
use smallvec::SmallVec;

/// Every fact any policy condition can read, with dates reduced to what conditions see of them
/// (presence and ages). Two records with the same key get the same verdict from every rule and
/// every timing scope of every policy; only the timing dates differ (see `engine.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub disposition: Disposition,
    /// Kind and months of the declared sentence; `None` without one.
    pub principal: Option<(PrincipalKind, u32)>,
    pub probation: bool,
    pub combined: bool,
    /// (charge, culpability) in the order given.
    pub charges: SmallVec<[(ChargeId, Culpability); 3]>,
    pub recidivist: Option<bool>,
    pub prior_convictions: Option<u32>,
    pub conditions: [Option<bool>; 3],
    pub has_birth: bool,
    pub has_offence: bool,
    pub has_disposition_date: bool,
    /// Ages at the offence and at the disposition date, counted the Chinese way (from the day
    /// after the birthday) and the common-law way; `None` where a date is missing or precedes birth.
    pub ages: [Option<u32>; 4],
}

/// The facts of one line: the key and the dates timing rules read.
#[derive(Debug, Clone)]
pub struct Facts {
    pub key: Key,
    /// Months of the declared sentence (the key may hold only its bucket).
    pub months: u32,
    pub offence: Option<Date>,
    pub disposition_date: Option<Date>,
    pub judgment_effective: Option<Date>,
    pub execution_completed: Option<Date>,
}

impl Key {
    pub fn of_record(record: &fengcun_domain::Record) -> Key {
        let birth = record.person.birth_date;
        let ages = |date: Option<Date>| match (birth, date) {
            (Some(b), Some(d)) => (age_in_full_years(b, d), age_on_birthday_rule(b, d)),
            _ => (None, None),
        };
        let (a, b) = ages(record.offence_date);
        let (c, d) = ages(record.disposition_date);
        Key {
            disposition: record.disposition,
            principal: record
                .sentence
                .map(|s| (s.principal.kind, s.principal.months)),
            probation: record
                .sentence
                .is_some_and(|s| s.probation_months.is_some()),
            combined: record.sentence.is_some_and(|s| s.combined),
            charges: record
                .charges
                .iter()
                .map(|c| (c.id, c.culpability))
                .collect(),
            recidivist: record.recidivist,
            prior_convictions: record.prior_convictions,
            conditions: [
                record.conditions.civil_compensation_fulfilled,
                record.conditions.victim_forgiveness,
                record.conditions.plea,
            ],
            has_birth: birth.is_some(),
            has_offence: record.offence_date.is_some(),
            has_disposition_date: record.disposition_date.is_some(),
            ages: [a, b, c, d],
        }
    }
}

impl Facts {
    pub fn of_record(record: &fengcun_domain::Record) -> Facts {
        Facts {
            key: Key::of_record(record),
            months: record.sentence.map_or(0, |s| s.principal.months),
            offence: record.offence_date,
            disposition_date: record.disposition_date,
            judgment_effective: record.judgment_effective_date,
            execution_completed: record.execution_completed_date,
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

/// A JSON value the scanner understands, borrowed.
enum Val<'a> {
    Str(&'a str),
    Null,
    Bool(bool),
    Num(u64),
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string without escapes or control characters, checked to be UTF-8.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[end] != b'"' {
            return None;
        }
        let bytes = &rest[..end];
        if bytes.iter().any(|c| *c < 0x20) {
            return None;
        }
        self.i = start + end + 1;
        std::str::from_utf8(bytes).ok()
    }

    #[inline]
    fn number(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        if digits.is_empty() || digits.len() > 18 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(
            digits
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')),
        )
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    #[inline]
    fn value(&mut self) -> Option<Val<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Val::Str),
            b'n' => self.literal(b"null").map(|()| Val::Null),
            b't' => self.literal(b"true").map(|()| Val::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Val::Bool(false)),
            b'0'..=b'9' => self.number().map(Val::Num),
            _ => None,
        }
    }

    /// Iterates the keys of an object, calling `each` with the key; `each` reads the value.
    #[inline]
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            each(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

fn opt_str<'a>(v: Val<'a>) -> Option<Option<&'a str>> {
    match v {
        Val::Str(s) => Some(Some(s)),
        Val::Null => Some(None),
        _ => None,
    }
}

fn opt_bool(v: Val<'_>) -> Option<Option<bool>> {
    match v {
        Val::Bool(b) => Some(Some(b)),
        Val::Null => Some(None),
        _ => None,
    }
}

fn opt_u32(v: Val<'_>) -> Option<Option<u32>> {
    match v {
        Val::Num(n) => u32::try_from(n).ok().map(Some),
        Val::Null => Some(None),
        _ => None,
    }
}

/// Strict `YYYY-MM-DD` (as `fengcun_domain::date::parse_date`), without allocating.
#[inline]
fn date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let mut n = [0i32; 3];
    for (slot, range) in n.iter_mut().zip([0..4, 5..7, 8..10]) {
        for c in &b[range] {
            if !c.is_ascii_digit() {
                return None;
            }
            *slot = *slot * 10 + i32::from(c - b'0');
        }
    }
    Date::new(
        i16::try_from(n[0]).ok()?,
        i8::try_from(n[1]).ok()?,
        i8::try_from(n[2]).ok()?,
    )
    .ok()
}

fn opt_date(text: Option<&str>) -> Option<Option<Date>> {
    match text {
        None => Some(None),
        Some(t) => date(t).map(Some),
    }
}

fn case_code_ok(text: &str) -> bool {
    let mut parts = text.split('-');
    let (Some(region), Some(year), Some(serial), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    region.len() == 6
        && digits(region)
        && year.len() == 4
        && digits(year)
        && ("1950"..="2199").contains(&year)
        && (6..=10).contains(&serial.len())
        && digits(serial)
}

#[derive(Default)]
struct Raw<'a> {
    seen: u32,
    record_id: Option<&'a str>,
    case_code: Option<&'a str>,
    id_number: Option<&'a str>,
    birth_date: Option<&'a str>,
    offence_date: Option<&'a str>,
    disposition: Option<&'a str>,
    disposition_date: Option<&'a str>,
    ground: Option<&'a str>,
    has_sentence: bool,
    principal: Option<&'a str>,
    months: Option<u32>,
    probation_months: Option<u32>,
    fine_yuan: Option<u64>,
    political_rights_months: Option<u32>,
    combined: Option<bool>,
    judgment_effective_date: Option<&'a str>,
    execution_completed_date: Option<&'a str>,
    recidivist: Option<bool>,
    prior_convictions: Option<u32>,
    conditions: [Option<bool>; 3],
    charges: SmallVec<[(ChargeId, Culpability); 3]>,
}

/// Marks a key as seen; a second time is a duplicate field, which serde refuses.
#[inline]
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

fn person<'a>(c: &mut Cursor<'a>, raw: &mut Raw<'a>) -> Option<()> {
    if c.peek()? == b'n' {
        return c.literal(b"null");
    }
    let mut seen = 0u32;
    c.object(|c, key| {
        let v = opt_str(c.value()?)?;
        match key {
            "id_number" => {
                once(&mut seen, 0)?;
                raw.id_number = v;
            }
            "name" => once(&mut seen, 1)?,
            "birth_date" => {
                once(&mut seen, 2)?;
                raw.birth_date = v;
            }
            _ => return None,
        }
        Some(())
    })
}

fn charges<'a>(c: &mut Cursor<'a>, raw: &mut Raw<'a>, catalogue: &Catalogue) -> Option<()> {
    c.eat(b'[')?;
    if c.peek()? == b']' {
        c.i += 1;
        return Some(());
    }
    loop {
        let mut name = None;
        let mut article = None;
        let mut culpability = None;
        let mut seen = 0u32;
        c.object(|c, key| {
            match key {
                "name" => {
                    once(&mut seen, 0)?;
                    name = Some(c.string()?);
                }
                "article" => {
                    once(&mut seen, 1)?;
                    article = opt_str(c.value()?)?;
                }
                "culpability" => {
                    once(&mut seen, 2)?;
                    culpability = opt_str(c.value()?)?;
                }
                _ => return None,
            }
            Some(())
        })?;
        let charge = catalogue.resolve(name?)?;
        if article.is_some_and(|a| a != charge.article) {
            return None;
        }
        let culpability = match culpability {
            None => charge.culpability,
            Some(code) => Culpability::parse(code)?,
        };
        raw.charges.push((charge.id, culpability));
        match c.peek()? {
            b',' => c.i += 1,
            b']' => {
                c.i += 1;
                return Some(());
            }
            _ => return None,
        }
    }
}

fn sentence<'a>(c: &mut Cursor<'a>, raw: &mut Raw<'a>) -> Option<()> {
    if c.peek()? == b'n' {
        return c.literal(b"null");
    }
    raw.has_sentence = true;
    let mut seen = 0u32;
    c.object(|c, key| {
        match key {
            "principal" => {
                once(&mut seen, 0)?;
                raw.principal = Some(c.string()?);
            }
            "months" => {
                once(&mut seen, 1)?;
                raw.months = opt_u32(c.value()?)?;
            }
            "probation_months" => {
                once(&mut seen, 2)?;
                raw.probation_months = opt_u32(c.value()?)?;
            }
            "fine_yuan" => {
                once(&mut seen, 3)?;
                raw.fine_yuan = match c.value()? {
                    Val::Num(n) => Some(n),
                    Val::Null => None,
                    _ => return None,
                };
            }
            "political_rights_months" => {
                once(&mut seen, 4)?;
                raw.political_rights_months = opt_u32(c.value()?)?;
            }
            "combined" => {
                once(&mut seen, 5)?;
                raw.combined = opt_bool(c.value()?)?;
            }
            _ => return None,
        }
        Some(())
    })
}

fn conditions(c: &mut Cursor<'_>, raw: &mut Raw<'_>) -> Option<()> {
    if c.peek()? == b'n' {
        return c.literal(b"null");
    }
    let mut seen = 0u32;
    c.object(|c, key| {
        let v = opt_bool(c.value()?)?;
        let slot = match key {
            "civil_compensation_fulfilled" => 0,
            "victim_forgiveness" => 1,
            "plea" => 2,
            _ => return None,
        };
        once(&mut seen, slot)?;
        raw.conditions[slot as usize] = v;
        Some(())
    })
}

/// Scans a line; `None` when the domain parser must decide.
pub fn scan(line: &[u8], catalogue: &Catalogue) -> Option<Facts> {
    // Outside strings the grammar admits only ASCII; strings are checked as they are read.
    let mut c = Cursor { b: line, i: 0 };
    let mut raw = Raw::default();
    c.object(|c, key| {
        let bit = match key {
            "record_id" => 0,
            "case_code" => 1,
            "person" => 2,
            "offence_date" => 3,
            "charges" => 4,
            "disposition" => 5,
            "disposition_date" => 6,
            "non_prosecution_ground" | "ground" => 7,
            "sentence" => 8,
            "judgment_effective_date" => 9,
            "execution_completed_date" => 10,
            "recidivist" => 11,
            "prior_convictions" => 12,
            "conditions" => 13,
            _ => return None,
        };
        once(&mut raw.seen, bit)?;
        match bit {
            0 => raw.record_id = Some(opt_str(c.value()?)??),
            1 => raw.case_code = opt_str(c.value()?)?,
            2 => person(c, &mut raw)?,
            3 => raw.offence_date = opt_str(c.value()?)?,
            4 => charges(c, &mut raw, catalogue)?,
            5 => raw.disposition = Some(c.string()?),
            6 => raw.disposition_date = opt_str(c.value()?)?,
            7 => raw.ground = opt_str(c.value()?)?,
            8 => sentence(c, &mut raw)?,
            9 => raw.judgment_effective_date = opt_str(c.value()?)?,
            10 => raw.execution_completed_date = opt_str(c.value()?)?,
            11 => raw.recidivist = opt_bool(c.value()?)?,
            12 => raw.prior_convictions = opt_u32(c.value()?)?,
            _ => conditions(c, &mut raw)?,
        }
        Some(())
    })?;
    c.ws();
    if c.i != c.b.len() {
        return None;
    }
    validate(raw)
}

/// The checks of `RecordParser::validate`, each giving up rather than naming the error.
fn validate(raw: Raw<'_>) -> Option<Facts> {
    let disposition = Disposition::parse(raw.disposition?)?;
    if raw.case_code.is_some_and(|c| !case_code_ok(c)) {
        return None;
    }
    let id = match raw.id_number {
        Some(text) => Some(IdNumber::parse(text).ok()?),
        None => None,
    };
    let birth = match (opt_date(raw.birth_date)?, &id) {
        (Some(given), Some(id)) if given != id.birth_date() => return None,
        (Some(given), _) => Some(given),
        (None, Some(id)) => Some(id.birth_date()),
        (None, None) => None,
    };
    match raw.record_id {
        // `trim` in the parser removes Unicode white space; give up on anything but a plain id.
        Some(rid) if !rid.bytes().any(|b| b.is_ascii_alphanumeric()) => return None,
        Some(_) => {}
        None if raw.case_code.is_some() && id.is_some() => {}
        None => return None,
    }
    if raw.recidivist == Some(true) && raw.prior_convictions == Some(0) {
        return None;
    }
    let sentence = match (disposition, raw.has_sentence) {
        (Disposition::Convicted, true) => {
            let kind = PrincipalKind::parse(raw.principal?)?;
            let input = SentenceInput {
                months: raw.months,
                probation_months: raw.probation_months,
                fine_yuan: raw.fine_yuan,
                political_rights_months: raw.political_rights_months,
                combined: raw.combined.unwrap_or(raw.charges.len() > 1),
                recidivist: raw.recidivist == Some(true),
            };
            Some(Sentence::new(kind, input).ok()?)
        }
        (Disposition::Convicted, false) | (_, true) => return None,
        (_, false) => None,
    };
    if disposition == Disposition::Convicted && raw.charges.is_empty() {
        return None;
    }
    if let Some(g) = raw.ground {
        NonProsecutionGround::parse(g)?;
        if disposition != Disposition::NotProsecuted {
            return None;
        }
    }
    let offence = opt_date(raw.offence_date)?;
    let disposition_date = opt_date(raw.disposition_date)?;
    let judgment_effective = opt_date(raw.judgment_effective_date)?;
    let execution_completed = opt_date(raw.execution_completed_date)?;
    // Dates in legal order.
    let mut last: Option<Date> = None;
    for d in [
        birth,
        offence,
        disposition_date,
        judgment_effective,
        execution_completed,
    ]
    .into_iter()
    .flatten()
    {
        if last.is_some_and(|l| d < l) {
            return None;
        }
        last = Some(d);
    }
    let convicted = disposition == Disposition::Convicted;
    if !convicted && execution_completed.is_some() {
        return None;
    }
    if !matches!(disposition, Disposition::Convicted | Disposition::Acquitted)
        && judgment_effective.is_some()
    {
        return None;
    }
    let age_at_offence = birth
        .zip(offence)
        .and_then(|(b, o)| age_in_full_years(b, o));
    if raw.recidivist == Some(true) {
        let negligent = !raw.charges.is_empty()
            && raw
                .charges
                .iter()
                .all(|(_, c)| *c == Culpability::Negligent);
        if negligent || age_at_offence.is_some_and(|a| a < 18) {
            return None;
        }
    }
    if convicted && age_at_offence.is_some_and(|a| a < 12) {
        return None;
    }
    let ages = |date: Option<Date>| match (birth, date) {
        (Some(b), Some(d)) => (age_in_full_years(b, d), age_on_birthday_rule(b, d)),
        _ => (None, None),
    };
    let (a, b) = ages(offence);
    let (c, d) = ages(disposition_date);
    Some(Facts {
        months: sentence.map_or(0, |s| s.principal.months),
        key: Key {
            disposition,
            principal: sentence.map(|s| (s.principal.kind, s.principal.months)),
            probation: sentence.is_some_and(|s| s.probation_months.is_some()),
            combined: sentence.is_some_and(|s| s.combined),
            charges: raw.charges,
            recidivist: raw.recidivist,
            prior_convictions: raw.prior_convictions,
            conditions: raw.conditions,
            has_birth: birth.is_some(),
            has_offence: offence.is_some(),
            has_disposition_date: disposition_date.is_some(),
            ages: [a, b, c, d],
        },
        offence,
        disposition_date,
        judgment_effective,
        execution_completed,
    })
}
