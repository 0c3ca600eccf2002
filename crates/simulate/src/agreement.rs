//! The scanner and the domain parser agree (issue 15, item 5): on record-facts lines generated
//! valid (FORMATS.md, `docs/formats.md`) and then damaged — truncated, bytes flipped, keys
//! duplicated, values of the wrong type or out of range, invalid UTF-8, white space, escapes in
//! strings and keys, unknown fields — a line the scanner accepts is one the parser accepts, with
//! the same facts; and the simulator (the scanner, then the parser for what it leaves) accepts
//! exactly the lines the parser accepts and refuses the others with the parser's error and the
//! same line number.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fengcun_domain::id_number::check_character;
use fengcun_domain::{
    Catalogue, Culpability, Date, Disposition, NonProsecutionGround, PrincipalKind, RecordParser,
};
use fengcun_policy::presets;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::engine::Worker;
use crate::scan::{Facts, Scanner};

/// A JSON value as written: strings and keys hold their text between the quotes, escapes and
/// all, as bytes (so that damage can make them invalid UTF-8); `Raw` is a number or a literal.
#[derive(Debug, Clone)]
enum J {
    Obj(Vec<(Vec<u8>, J)>),
    Arr(Vec<J>),
    Str(Vec<u8>),
    Raw(&'static str),
    Num(u64),
}

fn s(text: &str) -> J {
    // Plain text: JSON-escaped as a serializer would (quotes and backslashes; none of the
    // generated texts has a control character).
    let quoted = serde_json::to_string(text).unwrap();
    J::Str(quoted.as_bytes()[1..quoted.len() - 1].to_vec())
}

fn obj(fields: Vec<(&str, J)>) -> J {
    J::Obj(
        fields
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect(),
    )
}

/// How a line is laid out: the text after each `:` and `,`, before the line and after it.
#[derive(Debug, Clone, Copy)]
struct Style {
    colon: &'static str,
    comma: &'static str,
    before: &'static str,
    after: &'static str,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(vec![":", ": ", " : ", ":\t"]),
        prop::sample::select(vec![",", ", ", " ,"]),
        prop::sample::select(vec!["", "", " ", "\t"]),
        prop::sample::select(vec!["", "", " ", "\r", " \t "]),
    )
        .prop_map(|(colon, comma, before, after)| Style {
            colon,
            comma,
            before,
            after,
        })
}

fn render(j: &J, style: Style, out: &mut Vec<u8>) {
    match j {
        J::Obj(fields) => {
            out.push(b'{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(style.comma.as_bytes());
                }
                out.push(b'"');
                out.extend_from_slice(key);
                out.push(b'"');
                out.extend_from_slice(style.colon.as_bytes());
                render(value, style, out);
            }
            out.push(b'}');
        }
        J::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(style.comma.as_bytes());
                }
                render(item, style, out);
            }
            out.push(b']');
        }
        J::Str(text) => {
            out.push(b'"');
            out.extend_from_slice(text);
            out.push(b'"');
        }
        J::Raw(text) => out.extend_from_slice(text.as_bytes()),
        J::Num(n) => out.extend_from_slice(n.to_string().as_bytes()),
    }
}

fn day(base: Date, days: i64) -> Date {
    base.checked_add(jiff::Span::new().days(days)).unwrap()
}

fn opt_bool() -> impl Strategy<Value = Option<J>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(J::Raw("null"))),
        2 => Just(Some(J::Raw("false"))),
        2 => Just(Some(J::Raw("true"))),
    ]
}

/// A charge of the catalogue, by its name, its name without 罪 or an old name; with or without
/// its article (or a wrong one) and culpability.
fn charge() -> impl Strategy<Value = J> {
    let charges = Catalogue::builtin().charges();
    (0..charges.len(), 0..4usize, 0..16usize, 0..4usize).prop_map(
        move |(i, form, article, culpability)| {
            let c = &charges[i];
            let name = match form {
                1 => c.name.strip_suffix('罪').unwrap_or(&c.name).to_owned(),
                2 => c.aliases.first().unwrap_or(&c.name).clone(),
                _ => c.name.clone(),
            };
            let mut fields = vec![("name", s(&name))];
            match article {
                1..=6 => fields.push(("article", s(&c.article))),
                7 => fields.push(("article", s("264"))),
                _ => {}
            }
            match culpability {
                1 => fields.push(("culpability", s(Culpability::Intentional.code()))),
                2 => fields.push(("culpability", s(Culpability::Negligent.code()))),
                _ => {}
            }
            obj(fields)
        },
    )
}

/// A sentence of any kind, mostly within the Criminal Law's bounds.
fn sentence() -> impl Strategy<Value = J> {
    (
        prop::sample::select(PrincipalKind::ALL.to_vec()),
        prop_oneof![3 => Just(None), 1 => (0u64..400).prop_map(Some)],
        0u64..1000,
        prop_oneof![3 => Just(None), 1 => (0u64..30).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0u64..100_000).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0u64..70).prop_map(Some)],
        opt_bool(),
    )
        .prop_map(
            |(kind, any_months, pick, probation, fine, political, combined)| {
                let months = any_months.or(match kind {
                    PrincipalKind::CriminalDetention => Some(1 + pick % 6),
                    PrincipalKind::PublicSurveillance => Some(3 + pick % 22),
                    PrincipalKind::FixedTerm => Some(6 + pick % 175),
                    _ => None,
                });
                let mut fields = vec![("principal", s(kind.code()))];
                if let Some(m) = months {
                    fields.push(("months", J::Num(m)));
                }
                if let (Some(extra), Some(m)) = (probation, months) {
                    fields.push(("probation_months", J::Num(m.max(2) + extra)));
                }
                match (kind, fine) {
                    (PrincipalKind::SupplementaryOnly, None) => {
                        fields.push(("fine_yuan", J::Num(2000)));
                    }
                    (_, Some(f)) => fields.push(("fine_yuan", J::Num(f))),
                    (_, None) => {}
                }
                if let Some(p) = political {
                    fields.push(("political_rights_months", J::Num(p)));
                }
                if let Some(c) = combined {
                    fields.push(("combined", c));
                }
                obj(fields)
            },
        )
}

/// The dates of one case, in legal order: birth, offence, disposition, judgment, execution.
fn dates() -> impl Strategy<Value = [Date; 5]> {
    (
        0i64..30_000,
        2_900i64..22_000,
        0i64..700,
        0i64..30,
        0i64..2_000,
    )
        .prop_map(|(birth, age, judged, effective, served)| {
            let birth = day(Date::constant(1940, 1, 1), birth);
            let offence = day(birth, age);
            let disposition = day(offence, judged);
            let judgment = day(disposition, effective);
            [birth, offence, disposition, judgment, day(judgment, served)]
        })
}

fn date(d: Date) -> J {
    s(&d.to_string())
}

/// An identity number for a birth date (its check character upper or lower case).
fn id_number(birth: Date, region: u32, seq: u32, lower: bool) -> J {
    let body = format!(
        "{region:06}{:04}{:02}{:02}{seq:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
    let mut check = check_character(&first17);
    if lower {
        check = check.to_ascii_lowercase();
    }
    s(&format!("{body}{check}"))
}

/// Who: nobody, `null`, or a person with a birth date, an identity number (which carries one),
/// a name.
#[derive(Debug, Clone)]
struct PersonShape {
    shape: usize,
    region: u32,
    seq: u32,
    lower: bool,
    name: &'static str,
}

fn person_shape() -> impl Strategy<Value = PersonShape> {
    (
        0..6usize,
        110_000u32..660_000,
        0u32..1000,
        any::<bool>(),
        prop::sample::select(vec!["张三", "李四", "", "Wang Wu", "王 五"]),
    )
        .prop_map(|(shape, region, seq, lower, name)| PersonShape {
            shape,
            region,
            seq,
            lower,
            name,
        })
}

fn person(p: &PersonShape, birth: Date) -> Option<J> {
    let id = || id_number(birth, p.region, p.seq, p.lower);
    match p.shape {
        0 => None,
        1 => Some(J::Raw("null")),
        2 => Some(obj(vec![("birth_date", date(birth))])),
        3 => Some(obj(vec![("id_number", id())])),
        4 => Some(obj(vec![
            ("id_number", id()),
            ("name", s(p.name)),
            ("birth_date", date(birth)),
        ])),
        _ => Some(obj(vec![("name", s(p.name)), ("birth_date", date(birth))])),
    }
}

prop_compose! {
    fn conditions()(shape in 0..3usize, a in opt_bool(), b in opt_bool(), c in opt_bool()) -> Option<J> {
        match shape {
            0 => None,
            1 => Some(J::Raw("null")),
            _ => {
                let fields = [("civil_compensation_fulfilled", a), ("victim_forgiveness", b), ("plea", c)]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect();
                Some(obj(fields))
            }
        }
    }
}

/// A record-facts line as the tools that write them would (most of them valid), its fields in
/// any order.
fn record() -> impl Strategy<Value = J> {
    let dispositions = prop_oneof![
        4 => Just(Disposition::Convicted),
        1 => Just(Disposition::NotProsecuted),
        1 => Just(Disposition::CaseWithdrawn),
        1 => Just(Disposition::Acquitted),
        1 => Just(Disposition::Open),
    ];
    let ids = (
        prop_oneof![
            30 => (0u32..100_000).prop_map(|n| Some(s(&format!("R-{n:06}")))),
            4 => (0u32..100).prop_map(|n| Some(s(&format!("记录{n}")))),
            1 => Just(Some(s(""))),
            1 => Just(Some(s(" "))),
            4 => Just(None),
        ],
        prop_oneof![
            12 => (110_000u32..660_000, 1950u32..2200, 0u32..10_000_000)
                .prop_map(|(r, y, n)| Some(s(&format!("{r:06}-{y}-{n:06}")))),
            1 => Just(Some(s("110105-1949-000123"))),
            6 => Just(None),
        ],
    );
    let history = (
        opt_bool(),
        prop_oneof![2 => Just(None), 1 => Just(Some(J::Raw("null"))), 4 => (0u64..4).prop_map(|n| Some(J::Num(n)))],
        prop_oneof![8 => Just(None), 1 => (0u64..3).prop_map(|n| Some(J::Num(n)))],
        opt_bool(),
        conditions(),
    );
    let ground = (
        0..4usize,
        prop::sample::select(vec![
            NonProsecutionGround::Statutory,
            NonProsecutionGround::Discretionary,
            NonProsecutionGround::InsufficientEvidence,
            NonProsecutionGround::Conditional,
        ]),
    );
    (
        dispositions,
        ids,
        dates(),
        prop_oneof![
            1 => Just(Vec::new()),
            9 => prop::collection::vec(charge(), 1..4),
        ],
        sentence(),
        history,
        ground,
        0..32u32,
        (person_shape(), prop::collection::vec(any::<u16>(), 20)),
    )
        .prop_map(
            |(
                disposition,
                (record_id, case_code),
                dates,
                charges,
                sentence,
                history,
                (ground_key, ground),
                present,
                (person_shape, order),
            )| {
                let convicted = disposition == Disposition::Convicted;
                let (recidivist, prior, sealed, main_conduct, conditions) = history;
                let mut fields: Vec<(&str, J)> = Vec::new();
                let mut add = |key: &'static str, value: Option<J>| {
                    if let Some(v) = value {
                        fields.push((key, v));
                    }
                };
                add("record_id", record_id);
                add("case_code", case_code);
                add("person", person(&person_shape, dates[0]));
                // Each date present or not (bits of `present`), never where the format refuses it.
                let bit = |i: u32| present & (1 << i) == 0;
                add("offence_date", bit(0).then(|| date(dates[1])));
                if !charges.is_empty() || convicted {
                    add("charges", Some(J::Arr(charges)));
                }
                add("disposition", Some(s(disposition.code())));
                add("disposition_date", bit(1).then(|| date(dates[2])));
                if disposition == Disposition::NotProsecuted && ground_key > 0 {
                    let key = if ground_key == 1 {
                        "ground"
                    } else {
                        "non_prosecution_ground"
                    };
                    add(key, Some(s(ground.code())));
                }
                add("sentence", convicted.then_some(sentence));
                let judged = matches!(disposition, Disposition::Convicted | Disposition::Acquitted);
                add(
                    "judgment_effective_date",
                    (judged && bit(2)).then(|| date(dates[3])),
                );
                add(
                    "execution_completed_date",
                    (convicted && bit(3)).then(|| date(dates[4])),
                );
                add("main_conduct_under_18", main_conduct);
                add("recidivist", recidivist);
                add("prior_convictions", prior);
                add("sealed_juvenile_priors", sealed);
                add("conditions", conditions);
                // In any order.
                let mut keyed: Vec<_> = order.into_iter().zip(fields).collect();
                keyed.sort_by_key(|(k, _)| *k);
                obj(keyed.into_iter().map(|(_, f)| f).collect())
            },
        )
}

/// Values of the wrong type, out of range or not quite JSON.
const VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "-0",
    "1.0",
    "1.5",
    "1e2",
    "1E2",
    "007",
    "4294967295",
    "4294967296",
    "999999999999999999",
    "9999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "\"\"",
    "\" \"",
    "\"x\"",
    "\"0\"",
    "\"2024-02-30\"",
    "\"2024-2-3\"",
    "\"2019-06-30\"",
    "\"盗窃罪\"",
    "\"convicted\"",
    "\"fixed_term\"",
    "\"negligent\"",
    "\"statutory\"",
    "[]",
    "{}",
    "[{}]",
    "[null]",
    "{\"name\":\"盗窃罪\"}",
    "nul",
    "tru",
    "NaN",
    "+1",
];

/// Fields no part of the format has, or has elsewhere.
const UNKNOWN: &[(&str, &str)] = &[
    ("flags", "[\"x\"]"),
    ("source", "{\"a\":1}"),
    ("kind", "\"criminal\""),
    ("extra", "1"),
    ("Record_id", "\"x\""),
    ("recidivst", "true"),
    ("name", "\"x\""),
    ("months", "3"),
    ("ground", "\"statutory\""),
    ("record_id", "\"again\""),
];

/// Bytes put into a line: white space of every kind, JSON syntax, a newline (which splits the
/// line), a control character, pieces of UTF-8 and invalid UTF-8.
const BYTES: &[&[u8]] = &[
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\x0c",
    b"\x0b",
    "\u{3000}".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{feff}".as_bytes(),
    b"\"",
    b"\\",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"0",
    b"9",
    b"-",
    b"\x00",
    b"\x1f",
    b"\x7f",
    b"\xff",
    b"\xc3",
    b"\xe4\xb8",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
];

/// Escapes put into a string or a key, at its start: an escaped letter, solidus, quote,
/// newline, a surrogate pair, a lone surrogate, an escape JSON does not have, a Chinese
/// character.
const ESCAPES: &[&str] = &[
    "\\u0041",
    "\\/",
    "\\\"",
    "\\n",
    "\\t",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\x41",
    "\\u4e00",
    "\\\\",
    "\\u0000",
    "\\u3000",
];

#[derive(Debug, Clone)]
enum Damage {
    /// The line cut after this byte.
    Truncate(Index),
    /// One bit of one byte flipped.
    Flip(Index, u8),
    /// One byte replaced.
    Replace(Index, Index),
    /// Bytes inserted.
    Insert(Index, Index),
    /// A field of an object written again, with its value or another.
    Duplicate(Index, Index, Option<Index>),
    /// A field no part of the format has, put into an object.
    Unknown(Index, Index),
    /// One of fengcun's extensions (`flags`, `source`), put into the record.
    Extension(Index, Index),
    /// A value replaced.
    Value(Index, Index),
    /// A field left out.
    Remove(Index, Index),
    /// An escape or invalid UTF-8 put into a string, or an escape into a key.
    Escape(Index, Index, Index),
    Invalid(Index, Index, Index),
    /// An escape put into a key: its first letter escaped (the same key once unescaped), or
    /// another character (kind 0 to 3).
    EscapeKey(Index, Index, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    let i = any::<Index>;
    prop_oneof![
        1 => i().prop_map(Damage::Truncate),
        1 => (i(), 0u8..8).prop_map(|(a, b)| Damage::Flip(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Damage::Replace(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Damage::Insert(a, b)),
        1 => (i(), i(), proptest::option::of(i())).prop_map(|(a, b, c)| Damage::Duplicate(a, b, c)),
        1 => (i(), i()).prop_map(|(a, b)| Damage::Unknown(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Damage::Extension(a, b)),
        3 => (i(), i()).prop_map(|(a, b)| Damage::Value(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Damage::Remove(a, b)),
        2 => (i(), i(), i()).prop_map(|(a, b, c)| Damage::Escape(a, b, c)),
        1 => (i(), i(), i()).prop_map(|(a, b, c)| Damage::Invalid(a, b, c)),
        2 => (i(), i(), 0u8..4).prop_map(|(a, b, c)| Damage::EscapeKey(a, b, c)),
    ]
}

/// Changes that leave a line valid but unusual, so that the scanner leaves it to the parser: an
/// extension field, a key's first letter escaped (the same key once unescaped).
fn unusual() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Extension(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::EscapeKey(a, b, 0)),
    ]
}

/// How many nodes `pick` selects, in pre-order.
fn count(j: &J, pick: &dyn Fn(&J) -> bool) -> usize {
    let here = usize::from(pick(j));
    here + match j {
        J::Obj(fields) => fields.iter().map(|(_, v)| count(v, pick)).sum(),
        J::Arr(items) => items.iter().map(|v| count(v, pick)).sum(),
        _ => 0,
    }
}

/// The `n`th node `pick` selects, in pre-order.
fn nth<'a>(j: &'a mut J, n: &mut usize, pick: &dyn Fn(&J) -> bool) -> Option<&'a mut J> {
    if pick(j) {
        if *n == 0 {
            return Some(j);
        }
        *n -= 1;
    }
    match j {
        J::Obj(fields) => {
            for (_, v) in fields.iter_mut() {
                if let Some(found) = nth(v, n, pick) {
                    return Some(found);
                }
            }
            None
        }
        J::Arr(items) => {
            for v in items.iter_mut() {
                if let Some(found) = nth(v, n, pick) {
                    return Some(found);
                }
            }
            None
        }
        _ => None,
    }
}

fn pick_node<'a>(j: &'a mut J, at: &Index, pick: &dyn Fn(&J) -> bool) -> Option<&'a mut J> {
    let total = count(j, pick);
    if total == 0 {
        return None;
    }
    nth(j, &mut at.index(total), pick)
}

fn is_obj(j: &J) -> bool {
    matches!(j, J::Obj(fields) if !fields.is_empty())
}

fn is_str(j: &J) -> bool {
    matches!(j, J::Str(_))
}

fn insert_at(text: &mut Vec<u8>, at: &Index, bytes: &[u8]) {
    let i = at.index(text.len() + 1);
    text.splice(i..i, bytes.iter().copied());
}

/// Damage to the structure (before rendering).
fn damage_tree(line: &mut J, damage: &Damage) {
    match damage {
        Damage::Duplicate(o, f, other) => {
            if let Some(J::Obj(fields)) = pick_node(line, o, &is_obj) {
                let (key, value) = fields[f.index(fields.len())].clone();
                let value = match other {
                    Some(v) => J::Raw(VALUES[v.index(VALUES.len())]),
                    None => value,
                };
                let at = f.index(fields.len() + 1);
                fields.insert(at, (key, value));
            }
        }
        Damage::Unknown(o, u) => {
            if let Some(J::Obj(fields)) = pick_node(line, o, &|j| matches!(j, J::Obj(_))) {
                let (key, value) = UNKNOWN[u.index(UNKNOWN.len())];
                let at = u.index(fields.len() + 1);
                fields.insert(at, (key.as_bytes().to_vec(), J::Raw(value)));
            }
        }
        Damage::Extension(at, e) => {
            if let J::Obj(fields) = line {
                let (key, value) =
                    [("flags", "[\"x\",{\"y\":null}]"), ("source", "{\"a\":1}")][e.index(2)];
                let at = at.index(fields.len() + 1);
                fields.insert(at, (key.as_bytes().to_vec(), J::Raw(value)));
            }
        }
        Damage::Value(n, v) => {
            if let Some(node) = pick_node(line, n, &|_| true) {
                *node = J::Raw(VALUES[v.index(VALUES.len())]);
            }
        }
        Damage::Remove(o, f) => {
            if let Some(J::Obj(fields)) = pick_node(line, o, &is_obj) {
                fields.remove(f.index(fields.len()));
            }
        }
        Damage::Escape(n, e, at) => {
            if let Some(J::Str(text)) = pick_node(line, n, &is_str) {
                // At a character boundary of the (valid) text, or its start.
                let i = at.index(text.len() + 1);
                let i = if std::str::from_utf8(text).is_ok_and(|t| t.is_char_boundary(i)) {
                    i
                } else {
                    0
                };
                text.splice(i..i, ESCAPES[e.index(ESCAPES.len())].bytes());
            }
        }
        Damage::Invalid(n, b, at) => {
            if let Some(J::Str(text)) = pick_node(line, n, &is_str) {
                let bad: &[&[u8]] = &[b"\xff", b"\xc3", b"\xe4\xb8", b"\xc0\x80", b"\xed\xa0\x80"];
                insert_at(text, at, bad[b.index(bad.len())]);
            }
        }
        Damage::EscapeKey(o, f, e) => {
            if let Some(J::Obj(fields)) = pick_node(line, o, &is_obj) {
                let i = f.index(fields.len());
                let key = &mut fields[i].0;
                // An escape for the key's first letter (the same key once unescaped), or another.
                let (range, escape) = match e {
                    0 | 3 => (0..1, format!("\\u{:04x}", key[0])),
                    1 => (0..0, "\\/".to_owned()),
                    _ => (0..0, "\\u4e00".to_owned()),
                };
                key.splice(range, escape.into_bytes());
            }
        }
        Damage::Truncate(_) | Damage::Flip(..) | Damage::Replace(..) | Damage::Insert(..) => {}
    }
}

/// Damage to the bytes (after rendering).
fn damage_bytes(text: &mut Vec<u8>, damage: &Damage) {
    match damage {
        Damage::Truncate(at) => text.truncate(at.index(text.len() + 1)),
        Damage::Flip(at, bit) if !text.is_empty() => {
            let i = at.index(text.len());
            text[i] ^= 1 << bit;
        }
        Damage::Replace(at, b) if !text.is_empty() => {
            let i = at.index(text.len());
            text.splice(i..=i, BYTES[b.index(BYTES.len())].iter().copied());
        }
        Damage::Insert(at, b) => insert_at(text, at, BYTES[b.index(BYTES.len())]),
        _ => {}
    }
}

/// A line: generated, laid out, damaged (or not).
fn line() -> impl Strategy<Value = Vec<u8>> {
    (
        record(),
        style(),
        prop_oneof![
            2 => Just(vec![]),
            1 => prop::collection::vec(unusual(), 1..3),
            3 => prop::collection::vec(damage(), 1..3),
        ],
    )
        .prop_map(|(mut record, style, damages)| {
            for d in &damages {
                damage_tree(&mut record, d);
            }
            let mut text = style.before.as_bytes().to_vec();
            render(&record, style, &mut text);
            text.extend_from_slice(style.after.as_bytes());
            for d in &damages {
                damage_bytes(&mut text, d);
            }
            text
        })
}

type Parts = (
    crate::Key,
    u32,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
);

/// What a line's facts are, as compared: the key and the dates timing rules read.
fn parts(facts: &Facts) -> Parts {
    (
        facts.key.clone(),
        facts.months,
        facts.offence,
        facts.disposition_date,
        facts.judgment_effective,
        facts.execution_completed,
    )
}

/// Lines of one input, numbered from 1 as the simulator numbers them (`\n` ends a line).
fn numbered(input: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    input
        .split_inclusive(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
}

/// The property, for one input of several lines: returns how many lines the parser accepted,
/// how many the scanner read, and how many there were.
fn agree(input: &[u8]) -> Result<(usize, usize, usize), TestCaseError> {
    let catalogue = Catalogue::builtin();
    let parser = RecordParser::new(catalogue);
    // One scanner for all lines: what it keeps of the lines before must not change its answer.
    let mut scanner = Scanner::new(catalogue);
    let (mut accepted, mut scanned, mut lines) = (0, 0, 0);
    let mut expected_errors = Vec::new();
    for (line_no, line) in numbered(input) {
        lines += 1;
        let parsed = parser.parse(line);
        if let Some(facts) = scanner.scan(line) {
            scanned += 1;
            match &parsed {
                Ok(record) => prop_assert_eq!(
                    parts(&facts),
                    parts(&Facts::of_record(record)),
                    "line {}: {}",
                    line_no,
                    String::from_utf8_lossy(line)
                ),
                Err(error) => {
                    return Err(TestCaseError::fail(format!(
                        "line {line_no}: the scanner accepts what the parser refuses ({error}): {}",
                        String::from_utf8_lossy(line)
                    )));
                }
            }
        }
        match parsed {
            Ok(_) => accepted += 1,
            Err(error) => expected_errors.push((line_no, error.to_string())),
        }
    }
    // The simulator's own path over the whole input (the scanner finding each line's end, the
    // parser for what it leaves): the same lines refused, with the same numbers and errors.
    let as_of = Date::constant(2025, 6, 30);
    let mut worker = Worker::new(presets::all(), as_of);
    worker.lines(input);
    let errors: Vec<(u64, String)> = worker
        .errors
        .iter()
        .map(|e| (e.line, e.error.to_string()))
        .collect();
    prop_assert_eq!(
        &errors,
        &expected_errors,
        "{}",
        String::from_utf8_lossy(input)
    );
    let records: u64 = worker.finish().iter().map(|e| e.records).sum();
    prop_assert_eq!(records, accepted as u64);
    Ok((accepted, scanned, lines))
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(line(), 1..6), any::<bool>()).prop_map(|(lines, last_newline)| {
        let mut input = lines.join(&b'\n');
        if last_newline {
            input.push(b'\n');
        }
        input
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_scanner_and_the_parser_agree_on_random_and_damaged_lines(input in input()) {
        agree(&input)?;
    }
}

/// The generator makes the property mean something: lines of every kind are common — accepted
/// by the scanner, left by the scanner and accepted by the parser, and refused.
#[test]
fn the_generated_lines_are_read_fast_read_slowly_and_refused() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut scanned, mut lines) = (0, 0, 0);
    for _ in 0..300 {
        let input = input().new_tree(&mut runner).unwrap().current();
        let (a, s, l) = agree(&input).unwrap();
        accepted += a;
        scanned += s;
        lines += l;
    }
    eprintln!("{lines} lines: {scanned} scanned, {accepted} accepted");
    assert!(scanned > lines / 10, "{scanned} of {lines} scanned");
    assert!(
        accepted - scanned > lines / 20,
        "{accepted} accepted, {scanned} scanned"
    );
    assert!(
        lines - accepted > lines / 4,
        "{accepted} of {lines} accepted"
    );
}
