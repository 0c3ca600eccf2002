//! A hand-written scanner for record-facts lines: no allocation, no copy. It reads exactly the
//! keys of FORMATS.md and checks every rule `fengcun_domain::RecordParser` checks. Anything it is
//! not sure of — an escape in a string, an unknown key, a null where the parser wants a value,
//! any rule broken — makes it give up (`None`); the caller then runs the domain parser, which
//! either accepts the line or names the field at fault. So a line the scanner accepts is one the
//! domain parser accepts, with the same facts (the equality tests run both over synthetic data
//! and over damaged copies of it).
//!
//! Where the time goes is where it is saved: strings are searched eight bytes at a time, and only
//! a string outside ASCII that can be accepted as it is (a name, a record id) has its UTF-8
//! checked — codes, dates and digits are checked byte by byte against ASCII anyway, and a charge
//! name is looked up by its bytes among names that are UTF-8; keys are compared as words with
//! the `"key":` the fields are usually written as; charge lists and condition objects, which
//! repeat, are read once and then found by their text.

use std::collections::HashMap;

use fengcun_domain::age::{age_in_full_years, age_on_birthday_rule};
use fengcun_domain::id_number::check_character;
use fengcun_domain::sentence::SentenceInput;
use fengcun_domain::{
    Catalogue, ChargeId, Culpability, Date, Disposition, NonProsecutionGround, PrincipalKind,
    Sentence,
};
use smallvec::SmallVec;

use crate::engine::FxBuild;

/// Every fact any policy condition can read, with dates reduced to what conditions see of them
/// (presence and ages). Two records with the same key get the same verdict from every rule and
/// every timing scope of every policy; only the timing dates differ (see `engine.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Criminal or public-security violation: a policy decides one kind only.
    pub kind: fengcun_domain::RecordKind,
    /// The disposition date's side of every policy's `decided_from` (`Buckets`); `None` when no
    /// policy has one.
    pub decided: Option<Date>,
    pub disposition: Disposition,
    /// The ground of a non-prosecution (`None` without one, or when no policy reads it).
    pub ground: Option<NonProsecutionGround>,
    /// Kind and months of the declared sentence; `None` without one.
    pub principal: Option<(PrincipalKind, u32)>,
    pub probation: bool,
    pub combined: bool,
    /// The sentence deprives of political rights (剥夺政治权利).
    pub political: bool,
    /// (charge, culpability) in the order given.
    pub charges: SmallVec<[(ChargeId, Culpability); 3]>,
    pub recidivist: Option<bool>,
    pub prior_convictions: Option<u32>,
    /// How many prior convictions are sealed juvenile ones (`Buckets` keeps only what conditions
    /// read of it: whether there are other prior convictions).
    pub sealed_juvenile_priors: Option<u32>,
    /// Acts straddling the 18th birthday with the main conduct before it.
    pub main_conduct_under_18: Option<bool>,
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
    /// A violation record's decision took effect (`decision_effective_date`).
    pub decision_effective: Option<Date>,
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
            kind: record.kind,
            decided: record.disposition_date,
            disposition: record.disposition,
            ground: record.non_prosecution_ground,
            principal: record
                .sentence
                .map(|s| (s.principal.kind, s.principal.months)),
            probation: record
                .sentence
                .is_some_and(|s| s.probation_months.is_some()),
            combined: record.sentence.is_some_and(|s| s.combined),
            political: record
                .sentence
                .is_some_and(|s| s.political_rights_months > 0),
            charges: record
                .charges
                .iter()
                .map(|c| (c.id, c.culpability))
                .collect(),
            recidivist: record.recidivist,
            prior_convictions: record.prior_convictions,
            sealed_juvenile_priors: record.sealed_juvenile_priors,
            main_conduct_under_18: record.main_conduct_under_18,
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
            decision_effective: record.decision_effective_date,
        }
    }
}

/// Every byte of the word repeated.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `w` is below `n` (`n` ≤ 128). A false positive can only sit above a
/// true one, so zero means none: enough to skip plain words and look closer at the others.
#[inline(always)]
fn has_below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

#[inline(always)]
fn has_byte(w: u64, c: u8) -> u64 {
    has_below(w ^ (ONES * u64::from(c)), 1)
}

/// The first `c` in `b`, eight bytes at a time: for the short distances searched here, cheaper
/// than a call to `memchr`.
#[inline]
fn find(b: &[u8], c: u8) -> Option<usize> {
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let hit = has_byte(u64::from_le_bytes(w), c);
        if hit != 0 {
            // The lowest flagged byte is exact.
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|x| *x == c)
        .map(|i| at + i)
}

/// A string's bytes, and whether all are ASCII (then it is UTF-8 without a check).
#[derive(Clone, Copy)]
struct Str<'a> {
    bytes: &'a [u8],
    ascii: bool,
}

impl<'a> Str<'a> {
    /// The bytes, when the string is well-formed UTF-8 (what serde requires of every string).
    #[inline]
    fn checked(self) -> Option<&'a [u8]> {
        if self.ascii || std::str::from_utf8(self.bytes).is_ok() {
            Some(self.bytes)
        } else {
            None
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

/// A JSON value the scanner understands, borrowed.
enum Val<'a> {
    Str(Str<'a>),
    Null,
    Bool(bool),
    Num(u64),
}

impl<'a> Cursor<'a> {
    /// JSON white space except the newline: the cursor runs over a whole chunk, and a newline
    /// ends the line (none can be inside one; a string holding one is refused as serde does).
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string without escapes or control characters, eight bytes at a time. Its UTF-8 is not
    /// checked here: only where a non-ASCII string can be accepted (`Str::checked`).
    #[inline]
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let mut high = 0u64;
        while let Some(word) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().ok()?);
            let special = has_byte(w, b'"') | has_byte(w, b'\\') | has_below(w, 0x20);
            if special != 0 {
                // The lowest flagged byte is exact: the first quote, backslash or control.
                let at = special.trailing_zeros() / 8;
                high |= w & ((1u64 << (at * 8)) - 1);
                i += at as usize;
                if b[i] != b'"' {
                    return None;
                }
                self.i = i + 1;
                return Some(Str {
                    bytes: &b[start..i],
                    ascii: high & HIGHS == 0,
                });
            }
            high |= w;
            i += 8;
        }
        // The last few bytes of the buffer.
        loop {
            let c = *b.get(i)?;
            if c == b'"' {
                break;
            }
            if c == b'\\' || c < 0x20 {
                return None;
            }
            high |= u64::from(c);
            i += 1;
        }
        self.i = i + 1;
        Some(Str {
            bytes: &b[start..i],
            ascii: high & HIGHS == 0,
        })
    }

    #[inline]
    fn number(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        let mut n = 0u64;
        while let Some(d) = self.b.get(self.i).filter(|d| d.is_ascii_digit()) {
            n = n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            self.i += 1;
        }
        let len = self.i - start;
        // serde refuses leading zeros; more than 18 digits might not fit (give up, it decides).
        if len == 0 || len > 18 || (len > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(n)
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..)?.starts_with(word) {
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

    /// Iterates the keys of an object, calling `each` with the key's field number; `each` reads
    /// the value. A key is first compared, eight bytes at a time, with the `"key":` text the
    /// fields are expected in (the order fengcun's tools write them); anything else — white
    /// space, another order, an escape — is read as a string and looked up by name. A key outside
    /// ASCII matches no name, so it needs no UTF-8 check.
    #[inline(always)]
    fn fields<const N: usize>(
        &mut self,
        fields: &[Field; N],
        mut each: impl FnMut(&mut Self, u8) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        let mut next = 0;
        loop {
            let found = (next..N)
                .chain(0..next)
                .find(|k| fields[*k].written_at(self.b, self.i));
            let k = match found {
                Some(k) => {
                    self.i += fields[k].len;
                    k
                }
                None => {
                    let key = self.string()?.bytes;
                    self.eat(b':')?;
                    fields.iter().position(|f| f.name == key)?
                }
            };
            next = k + 1;
            each(self, fields[k].id)?;
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

    /// `null`, or an object read by `each`; true for the object.
    #[inline(always)]
    fn nullable_fields<const N: usize>(
        &mut self,
        fields: &[Field; N],
        each: impl FnMut(&mut Self, u8) -> Option<()>,
    ) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(false);
        }
        self.fields(fields, each)?;
        Some(true)
    }
}

/// A key of an object: its name, the field number it stands for (two names may share one, as
/// `ground` and `non_prosecution_ground`), and `"name":` as little-endian words with masks.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static [u8],
    id: u8,
    len: usize,
    words: [u64; 4],
    masks: [u64; 4],
}

impl Field {
    const fn new(name: &'static str, id: u8) -> Field {
        let name = name.as_bytes();
        let len = name.len() + 3;
        assert!(len <= 32, "a key pattern has at most 32 bytes");
        let mut text = [0u8; 32];
        text[0] = b'"';
        let mut i = 0;
        while i < name.len() {
            text[i + 1] = name[i];
            i += 1;
        }
        text[len - 2] = b'"';
        text[len - 1] = b':';
        let mut words = [0u64; 4];
        let mut masks = [0u64; 4];
        let mut k = 0;
        while k < len {
            words[k / 8] |= (text[k] as u64) << (8 * (k % 8));
            masks[k / 8] |= 0xff << (8 * (k % 8));
            k += 1;
        }
        Field {
            name,
            id,
            len,
            words,
            masks,
        }
    }

    /// Whether `b` holds `"name":` at `i`.
    #[inline(always)]
    fn written_at(&self, b: &[u8], i: usize) -> bool {
        let n = self.len.div_ceil(8);
        let Some(window) = b.get(i..i + 8 * n) else {
            return false;
        };
        window
            .chunks_exact(8)
            .zip(self.words.iter().zip(&self.masks))
            .all(|(chunk, (word, mask))| {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                (u64::from_le_bytes(w) ^ word) & mask == 0
            })
    }
}

const RECORD_FIELDS: [Field; 17] = [
    Field::new("record_id", 0),
    Field::new("case_code", 1),
    Field::new("person", 2),
    Field::new("offence_date", 3),
    Field::new("charges", 4),
    Field::new("disposition", 5),
    Field::new("disposition_date", 6),
    Field::new("non_prosecution_ground", 7),
    Field::new("sentence", 8),
    Field::new("judgment_effective_date", 9),
    Field::new("execution_completed_date", 10),
    Field::new("main_conduct_under_18", 14),
    Field::new("recidivist", 11),
    Field::new("prior_convictions", 12),
    Field::new("sealed_juvenile_priors", 15),
    Field::new("conditions", 13),
    Field::new("ground", 7),
];
const PERSON_FIELDS: [Field; 3] = [
    Field::new("id_number", 0),
    Field::new("name", 1),
    Field::new("birth_date", 2),
];
const CHARGE_FIELDS: [Field; 3] = [
    Field::new("name", 0),
    Field::new("article", 1),
    Field::new("culpability", 2),
];
const SENTENCE_FIELDS: [Field; 6] = [
    Field::new("principal", 0),
    Field::new("months", 1),
    Field::new("probation_months", 2),
    Field::new("fine_yuan", 3),
    Field::new("political_rights_months", 4),
    Field::new("combined", 5),
];
const CONDITION_FIELDS: [Field; 3] = [
    Field::new("civil_compensation_fulfilled", 0),
    Field::new("victim_forgiveness", 1),
    Field::new("plea", 2),
];

/// A string or null, as bytes. Only for values checked character by character against ASCII
/// (dates, codes, digits): a non-ASCII one fails that check, so its UTF-8 does not matter.
#[inline]
fn opt_ascii(v: Val<'_>) -> Option<Option<&[u8]>> {
    match v {
        Val::Str(s) => Some(Some(s.bytes)),
        Val::Null => Some(None),
        _ => None,
    }
}

#[inline]
fn opt_bool(v: Val<'_>) -> Option<Option<bool>> {
    match v {
        Val::Bool(b) => Some(Some(b)),
        Val::Null => Some(None),
        _ => None,
    }
}

#[inline]
fn opt_u32(v: Val<'_>) -> Option<Option<u32>> {
    match v {
        Val::Num(n) => u32::try_from(n).ok().map(Some),
        Val::Null => Some(None),
        _ => None,
    }
}

/// The value whose code is `bytes`, among `all` (a code missing here makes the scanner give
/// up, never guess).
#[inline]
fn by_code<T: Copy>(all: &[T], code: impl Fn(T) -> &'static str, bytes: &[u8]) -> Option<T> {
    all.iter().copied().find(|v| code(*v).as_bytes() == bytes)
}

const CULPABILITIES: [Culpability; 2] = [Culpability::Intentional, Culpability::Negligent];
const GROUNDS: [NonProsecutionGround; 4] = [
    NonProsecutionGround::Statutory,
    NonProsecutionGround::Discretionary,
    NonProsecutionGround::InsufficientEvidence,
    NonProsecutionGround::Conditional,
];

/// Strict `YYYY-MM-DD` (as `fengcun_domain::date::parse_date`), without allocating.
#[inline]
fn date(b: &[u8]) -> Option<Date> {
    let b: &[u8; 10] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
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

#[inline]
fn opt_date(text: Option<&[u8]>) -> Option<Option<Date>> {
    match text {
        None => Some(None),
        Some(t) => date(t).map(Some),
    }
}

/// `CaseCode::parse`'s rule: `RRRRRR-YYYY-NNNNNN`, year 1950–2199, serial of 6 to 10 digits.
fn case_code_ok(b: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() < 18 || b.len() > 22 || b[6] != b'-' || b[11] != b'-' {
        return false;
    }
    let (region, year, serial) = (&b[..6], &b[7..11], &b[12..]);
    digits(region)
        && digits(year)
        && (&b"1950"[..]..=&b"2199"[..]).contains(&year)
        && digits(serial)
}

/// `IdNumber::parse`'s checks (18 characters, 17 digits, a real birth date from 1850, the
/// GB 11643 check character in either case); the birth date when all pass.
#[inline]
fn id_birth_date(b: &[u8]) -> Option<Date> {
    let b: &[u8; 18] = b.try_into().ok()?;
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(&b[..17]);
    if !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> i32 {
        first17[range]
            .iter()
            .fold(0, |acc, d| acc * 10 + i32::from(d - b'0'))
    };
    let year = i16::try_from(number(6..10)).ok()?;
    if year < 1850 {
        return None;
    }
    let birth = Date::new(
        year,
        i8::try_from(number(10..12)).ok()?,
        i8::try_from(number(12..14)).ok()?,
    )
    .ok()?;
    if char::from(b[17]).to_ascii_uppercase() != check_character(&first17) {
        return None;
    }
    Some(birth)
}

#[derive(Default)]
struct Raw<'a> {
    seen: u32,
    record_id: Option<&'a [u8]>,
    case_code: Option<&'a [u8]>,
    id_number: Option<&'a [u8]>,
    birth_date: Option<&'a [u8]>,
    offence_date: Option<&'a [u8]>,
    disposition: Option<&'a [u8]>,
    disposition_date: Option<&'a [u8]>,
    ground: Option<&'a [u8]>,
    has_sentence: bool,
    principal: Option<&'a [u8]>,
    months: Option<u32>,
    probation_months: Option<u32>,
    fine_yuan: Option<u64>,
    political_rights_months: Option<u32>,
    combined: Option<bool>,
    judgment_effective_date: Option<&'a [u8]>,
    execution_completed_date: Option<&'a [u8]>,
    recidivist: Option<bool>,
    prior_convictions: Option<u32>,
    sealed_juvenile_priors: Option<u32>,
    main_conduct_under_18: Option<bool>,
    conditions: [Option<bool>; 3],
    charges: SmallVec<[(ChargeId, Culpability); 3]>,
}

/// Marks a key as seen; a second time is a duplicate field, which serde refuses.
#[inline(always)]
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

type Charges = SmallVec<[(ChargeId, Culpability); 3]>;

/// Most records repeat a few charge lists and condition objects byte for byte. Reading one is a
/// function of its bytes alone, so a value read before is taken from here by its exact text:
/// one hash instead of a parse. Only values that end at the first `close` byte after their start
/// are kept, so the text looked up (start to that byte) is the whole value or matches nothing.
#[derive(Debug)]
struct Seen<T> {
    map: HashMap<Box<[u8]>, T, FxBuild>,
}

/// Bounds on `Seen`: entries (beyond, values are read and not kept) and the bytes searched.
const SEEN_MAX: usize = 1 << 14;
const SEEN_SPAN: usize = 512;

impl<T: Clone> Seen<T> {
    fn new() -> Self {
        Self {
            map: HashMap::default(),
        }
    }

    #[inline]
    fn read<'a>(
        &mut self,
        c: &mut Cursor<'a>,
        close: u8,
        read: impl FnOnce(&mut Cursor<'a>) -> Option<T>,
    ) -> Option<T> {
        c.ws();
        let start = c.i;
        let window = c.b.get(start..c.b.len().min(start + SEEN_SPAN))?;
        let end = find(window, close).map(|i| start + i + 1);
        if let Some(end) = end {
            if let Some(value) = self.map.get(&c.b[start..end]) {
                c.i = end;
                return Some(value.clone());
            }
        }
        let value = read(c)?;
        if end == Some(c.i) && self.map.len() < SEEN_MAX {
            self.map.insert(Box::from(&c.b[start..c.i]), value.clone());
        }
        Some(value)
    }
}

/// Reads record-facts lines without allocating (but for the first sight of a charge list or
/// condition object); one per thread.
#[derive(Debug)]
pub struct Scanner {
    catalogue: &'static Catalogue,
    /// Charge names as written, resolved once by `Catalogue::resolve` itself: a hit answers what
    /// `resolve` would, without its normalising copy; a miss goes to `resolve`.
    names: HashMap<Box<[u8]>, ChargeId, FxBuild>,
    seen_charges: Seen<Charges>,
    seen_conditions: Seen<[Option<bool>; 3]>,
}

impl Scanner {
    pub fn new(catalogue: &'static Catalogue) -> Self {
        let mut names = HashMap::default();
        for charge in catalogue.charges() {
            let mut forms: Vec<&str> = std::iter::once(charge.name.as_str())
                .chain(charge.aliases.iter().map(String::as_str))
                .collect();
            let short: Vec<&str> = forms.iter().filter_map(|f| f.strip_suffix('罪')).collect();
            forms.extend(short);
            for form in forms {
                if let Some(resolved) = catalogue.resolve(form) {
                    names.insert(Box::from(form.as_bytes()), resolved.id);
                }
            }
        }
        Self {
            catalogue,
            names,
            seen_charges: Seen::new(),
            seen_conditions: Seen::new(),
        }
    }

    /// Scans one line (with or without its newline); `None` when the domain parser must decide.
    pub fn scan(&mut self, line: &[u8]) -> Option<Facts> {
        self.scan_at(line, 0)
            .filter(|(_, end)| *end == line.len())
            .map(|(facts, _)| facts)
    }

    /// Scans the line starting at `start` in `buf`: its facts, and where the next line starts.
    /// The line's end is found by reading it, so no separate search for the newline is needed.
    /// `None` when the domain parser must decide (the caller then finds the line's end).
    #[inline]
    pub fn scan_at(&mut self, buf: &[u8], start: usize) -> Option<(Facts, usize)> {
        let Scanner {
            catalogue,
            names,
            seen_charges,
            seen_conditions,
        } = self;
        // Outside strings the grammar admits only ASCII; strings are checked where read.
        let mut c = Cursor { b: buf, i: start };
        let mut raw = Raw::default();
        c.fields(&RECORD_FIELDS, |c, bit| {
            let bit = u32::from(bit);
            once(&mut raw.seen, bit)?;
            match bit {
                0 => match c.value()? {
                    Val::Str(s) => raw.record_id = Some(s.checked()?),
                    _ => return None,
                },
                1 => raw.case_code = opt_ascii(c.value()?)?,
                2 => person(c, &mut raw)?,
                3 => raw.offence_date = opt_ascii(c.value()?)?,
                4 => raw.charges = seen_charges.read(c, b']', |c| charges(catalogue, names, c))?,
                5 => raw.disposition = Some(c.string()?.bytes),
                6 => raw.disposition_date = opt_ascii(c.value()?)?,
                7 => raw.ground = opt_ascii(c.value()?)?,
                8 => sentence(c, &mut raw)?,
                9 => raw.judgment_effective_date = opt_ascii(c.value()?)?,
                10 => raw.execution_completed_date = opt_ascii(c.value()?)?,
                11 => raw.recidivist = opt_bool(c.value()?)?,
                12 => raw.prior_convictions = opt_u32(c.value()?)?,
                13 => raw.conditions = seen_conditions.read(c, b'}', conditions)?,
                14 => raw.main_conduct_under_18 = opt_bool(c.value()?)?,
                15 => raw.sealed_juvenile_priors = opt_u32(c.value()?)?,
                _ => return None,
            }
            Some(())
        })?;
        c.ws();
        let end = match buf.get(c.i) {
            None => c.i,
            Some(b'\n') => c.i + 1,
            Some(_) => return None,
        };
        validate(raw).map(|facts| (facts, end))
    }
}

/// A list of charges, each resolved in the catalogue (by `names` first).
fn charges(
    catalogue: &Catalogue,
    names: &HashMap<Box<[u8]>, ChargeId, FxBuild>,
    c: &mut Cursor<'_>,
) -> Option<Charges> {
    let mut list = Charges::new();
    c.eat(b'[')?;
    if c.peek()? == b']' {
        c.i += 1;
        return Some(list);
    }
    loop {
        let mut name = None;
        let mut article = None;
        let mut culpability = None;
        let mut seen = 0u32;
        c.fields(&CHARGE_FIELDS, |c, field| {
            once(&mut seen, u32::from(field))?;
            match field {
                0 => name = Some(c.string()?),
                // Compared with the catalogue's (UTF-8) article: equal bytes are UTF-8.
                1 => article = opt_ascii(c.value()?)?,
                _ => culpability = opt_ascii(c.value()?)?,
            }
            Some(())
        })?;
        let name = name?;
        let charge = match names.get(name.bytes) {
            Some(id) => catalogue.get(*id),
            None => catalogue.resolve(std::str::from_utf8(name.bytes).ok()?)?,
        };
        if article.is_some_and(|a| a != charge.article.as_bytes()) {
            return None;
        }
        let culpability = match culpability {
            None => charge.culpability,
            Some(code) => by_code(&CULPABILITIES, Culpability::code, code)?,
        };
        list.push((charge.id, culpability));
        match c.peek()? {
            b',' => c.i += 1,
            b']' => {
                c.i += 1;
                return Some(list);
            }
            _ => return None,
        }
    }
}

fn person<'a>(c: &mut Cursor<'a>, raw: &mut Raw<'a>) -> Option<()> {
    let mut seen = 0u32;
    c.nullable_fields(&PERSON_FIELDS, |c, field| {
        let v = match c.value()? {
            Val::Str(s) => Some(s),
            Val::Null => None,
            _ => return None,
        };
        once(&mut seen, u32::from(field))?;
        match field {
            0 => raw.id_number = v.map(|s| s.bytes),
            // Read only to be checked: serde refuses a name that is not UTF-8.
            1 => {
                if let Some(s) = v {
                    s.checked()?;
                }
            }
            _ => raw.birth_date = v.map(|s| s.bytes),
        }
        Some(())
    })
    .map(|_| ())
}

fn sentence<'a>(c: &mut Cursor<'a>, raw: &mut Raw<'a>) -> Option<()> {
    let mut seen = 0u32;
    let mut principal = None;
    let mut months = None;
    let mut probation_months = None;
    let mut fine_yuan = None;
    let mut political_rights_months = None;
    let mut combined = None;
    raw.has_sentence = c.nullable_fields(&SENTENCE_FIELDS, |c, field| {
        once(&mut seen, u32::from(field))?;
        match field {
            0 => principal = Some(c.string()?.bytes),
            1 => months = opt_u32(c.value()?)?,
            2 => probation_months = opt_u32(c.value()?)?,
            3 => {
                fine_yuan = match c.value()? {
                    Val::Num(n) => Some(n),
                    Val::Null => None,
                    _ => return None,
                }
            }
            4 => political_rights_months = opt_u32(c.value()?)?,
            _ => combined = opt_bool(c.value()?)?,
        }
        Some(())
    })?;
    raw.principal = principal;
    raw.months = months;
    raw.probation_months = probation_months;
    raw.fine_yuan = fine_yuan;
    raw.political_rights_months = political_rights_months;
    raw.combined = combined;
    Some(())
}

fn conditions(c: &mut Cursor<'_>) -> Option<[Option<bool>; 3]> {
    let mut seen = 0u32;
    let mut values = [None; 3];
    c.nullable_fields(&CONDITION_FIELDS, |c, field| {
        let v = opt_bool(c.value()?)?;
        once(&mut seen, u32::from(field))?;
        values[usize::from(field)] = v;
        Some(())
    })?;
    Some(values)
}

/// The checks of `RecordParser::validate`, each giving up rather than naming the error.
#[inline]
fn validate(raw: Raw<'_>) -> Option<Facts> {
    let disposition = by_code(&Disposition::ALL, Disposition::code, raw.disposition?)?;
    if raw.case_code.is_some_and(|c| !case_code_ok(c)) {
        return None;
    }
    let id_birth = match raw.id_number {
        Some(text) => Some(id_birth_date(text)?),
        None => None,
    };
    let birth = match (opt_date(raw.birth_date)?, id_birth) {
        (Some(given), Some(from_id)) if given != from_id => return None,
        (Some(given), _) => Some(given),
        (None, from_id) => from_id,
    };
    match raw.record_id {
        // `trim` in the parser removes Unicode white space; give up on anything but a plain id.
        Some(rid) if !rid.iter().any(u8::is_ascii_alphanumeric) => return None,
        Some(_) => {}
        None if raw.case_code.is_some() && id_birth.is_some() => {}
        None => return None,
    }
    if raw.recidivist == Some(true) && raw.prior_convictions == Some(0) {
        return None;
    }
    // Sealed juvenile priors are some of the prior convictions: never without them, never more.
    match (raw.sealed_juvenile_priors, raw.prior_convictions) {
        (Some(_), None) => return None,
        (Some(sealed), Some(prior)) if sealed > prior => return None,
        _ => {}
    }
    let sentence = match (disposition, raw.has_sentence) {
        (Disposition::Convicted, true) => {
            let kind = by_code(&PrincipalKind::ALL, PrincipalKind::code, raw.principal?)?;
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
    let ground = match raw.ground {
        Some(g) => {
            let ground = by_code(&GROUNDS, NonProsecutionGround::code, g)?;
            if disposition != Disposition::NotProsecuted {
                return None;
            }
            Some(ground)
        }
        None => None,
    };
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
            kind: fengcun_domain::RecordKind::Criminal,
            decided: disposition_date,
            disposition,
            ground,
            principal: sentence.map(|s| (s.principal.kind, s.principal.months)),
            probation: sentence.is_some_and(|s| s.probation_months.is_some()),
            combined: sentence.is_some_and(|s| s.combined),
            political: sentence.is_some_and(|s| s.political_rights_months > 0),
            charges: raw.charges,
            recidivist: raw.recidivist,
            prior_convictions: raw.prior_convictions,
            sealed_juvenile_priors: raw.sealed_juvenile_priors,
            main_conduct_under_18: raw.main_conduct_under_18,
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
        decision_effective: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time searches agree with a plain search, wherever the byte is.
    #[test]
    fn word_searches_find_what_a_byte_loop_finds() {
        let alphabet = [
            b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xe4, b']', b'}', 0,
        ];
        let mut state = 0x2545_f491_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((state >> (i % 60)) as usize + i * 7) % alphabet.len()])
                .collect();
            for c in [b']', b'}'] {
                assert_eq!(find(&bytes, c), bytes.iter().position(|x| *x == c));
            }
            let mut quoted = vec![b'"'];
            quoted.extend_from_slice(&bytes);
            let mut cursor = Cursor { b: &quoted, i: 0 };
            let expected = bytes
                .iter()
                .position(|x| matches!(x, b'"' | b'\\') || *x < 0x20)
                .filter(|i| bytes[*i] == b'"')
                .map(|i| (&bytes[..i], bytes[..i].is_ascii()));
            let got = cursor.string().map(|s| (s.bytes, s.ascii));
            assert_eq!(got, expected, "{bytes:?}");
        }
    }
}
