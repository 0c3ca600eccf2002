//! `fengcun import` survives being killed: an import interrupted by SIGKILL at random points, again
//! and again, then run to completion, leaves exactly the store an uninterrupted import leaves —
//! nothing lost, nothing stored twice.
//!
//! The event file is generated here from a fixed seed: several hundred people with one to three
//! cases each, every case a lawful chain of events, plus a few deliberately bad lines so that the
//! import also reports errors. Both imports run the real binary with the same master key and the
//! same `--now`, so the two stores must agree on everything derived from the events: every event
//! in the same order, every record's state and transitions, the counts, and the notices (but for
//! their numbers, which carry a random serial). After each kill, a copy of what the killed process
//! left must hold exactly the first events of the clean import: whole chunks, never part of one.

#![cfg(unix)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use fengcun_crypto::MasterKey;
use fengcun_domain::{Event, ValidEvent};
use fengcun_store::prelude::*;
use fengcun_store::{Counts, Keys, NoticeFilter, NoticeView, StateRow, TransitionView};
use jiff::Span;
use jiff::civil::Date;
use serde_json::{Value, json};

const SEED: u64 = 0x5EA1_2026_0101;
const PEOPLE: usize = 750;
const MASTER_KEY: &str = "8f3a1c5e7b9d0f2a4c6e8a0b2d4f6a8c0e2a4b6d8f0a2c4e6b8d0f2a4c6e8a0b";
const NOW: &str = "2026-01-01T00:00:00Z";
const BATCH: &str = "200";
/// Kills that must land while the import is running.
const INTERRUPTIONS: usize = 20;
/// Nothing is dated after this: the feed as it stands at the end of 2025.
const LAST: Date = jiff::civil::date(2025, 12, 31);
const SIGKILL: i32 = 9;

#[test]
fn import_killed_at_random_points_then_rerun_equals_a_clean_import() {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("fengcun-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(SEED);

    let feed = generate(&mut rng);
    let file = dir.join("events.ndjson");
    std::fs::write(&file, feed.lines.join("\n") + "\n").unwrap();
    eprintln!(
        "generated {} lines ({} distinct events, {} exact repeats, {} bad lines) in {:.2?}",
        feed.lines.len(),
        feed.events,
        feed.repeats,
        feed.bad,
        started.elapsed()
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();

    // A: one uninterrupted import.
    let db_a = dir.join("a.sqlite");
    let clean_started = Instant::now();
    let (status, summary) = import(&file, &db_a, &dir.join("a.log"), None);
    let clean = clean_started.elapsed();
    eprintln!("clean import: {clean:.2?}: {summary}");
    assert_eq!(
        status.code(),
        Some(1),
        "the bad lines make the import fail: {summary}"
    );
    assert_eq!(
        tally(&summary),
        (feed.events, feed.repeats, feed.bad),
        "stored, duplicates, errors: {summary}"
    );
    let a = runtime.block_on(snapshot(&db_a));
    assert_eq!(a.events.len(), feed.events);
    let a_keys = keys(&a.events);
    // Run again over the complete store: nothing is stored twice; and how long skipping takes.
    let rerun_started = Instant::now();
    let (status, summary) = import(&file, &db_a, &dir.join("a.log"), None);
    let rerun = rerun_started.elapsed();
    eprintln!("re-run over the complete store: {rerun:.2?}: {summary}");
    assert_eq!(status.code(), Some(1), "{summary}");
    assert_eq!(
        tally(&summary),
        (0, feed.events + feed.repeats, feed.bad),
        "{summary}"
    );

    // B: killed again and again, then run to the end. Each run first skips what earlier runs
    // stored (about `rerun` for the whole file) and is then killed at a random point within the
    // next three chunks' worth of work, so that the kills land all along the file, between and
    // inside chunks; once everything is stored, runs are killed while they skip.
    let db_b = dir.join("b.sqlite");
    let log_b = dir.join("b.log");
    let crash_started = Instant::now();
    let total = a_keys.len() as u64;
    let chunks = total.div_ceil(BATCH.parse::<u64>().unwrap());
    let chunk_ms = (clean.as_millis() as u64 / chunks).max(10);
    let rerun_ms = rerun.as_millis() as u64;
    let (mut interruptions, mut runs, mut mid_import) = (0, 0, 0);
    let mut stored_before = 0u64;
    let mut checking = Duration::ZERO;
    let mut progress = Vec::new();
    while interruptions < INTERRUPTIONS {
        runs += 1;
        assert!(
            runs <= 5 * INTERRUPTIONS,
            "{runs} runs for {interruptions} interruptions: the import ends before it can be killed"
        );
        let skip_ms = if stored_before < total {
            rerun_ms * stored_before / total
        } else {
            0
        };
        let window = if stored_before < total {
            3 * chunk_ms
        } else {
            rerun_ms
        };
        let delay = Duration::from_millis(50 + skip_ms + rng.below(window));
        let (status, summary) = import(&file, &db_b, &log_b, Some(delay));
        if status.signal() != Some(SIGKILL) {
            // Ended before the kill: a complete run, which must have reported the same bad lines.
            assert_eq!(status.code(), Some(1), "run {runs}: {status}: {summary}");
            assert_eq!(tally(&summary).2, feed.bad, "run {runs}: {summary}");
            progress.push(format!("{delay:.2?}: finished"));
            stored_before = total;
            continue;
        }
        interruptions += 1;
        // What a kill leaves is a prefix of the clean import: whole chunks, never part of one.
        let check_started = Instant::now();
        let stored = runtime.block_on(stored_after_kill(&db_b, &dir.join("copy")));
        checking += check_started.elapsed();
        assert!(
            stored.len() <= a_keys.len() && stored == a_keys[..stored.len()],
            "after kill {interruptions} (run {runs}, {delay:.2?}) the store's {} events are not the first events of the clean import",
            stored.len()
        );
        assert!(
            stored.len() as u64 >= stored_before,
            "kill {interruptions} lost events"
        );
        if (stored.len() as u64) < total {
            mid_import += 1;
        }
        stored_before = stored.len() as u64;
        progress.push(format!("{delay:.2?}: {}", stored.len()));
    }
    let (status, summary) = import(&file, &db_b, &log_b, None);
    eprintln!(
        "{runs} crash runs in {:.2?} ({checking:.2?} of it checking copies), {interruptions} killed \
         ({mid_import} before the last chunk was stored); events stored after each run (kill delay: events): {}",
        crash_started.elapsed(),
        progress.join(", ")
    );
    eprintln!("final run: {summary}");
    assert_eq!(status.code(), Some(1), "{summary}");
    assert_eq!(tally(&summary).2, feed.bad, "{summary}");
    assert!(interruptions >= INTERRUPTIONS);
    // Typically 15–20 of the kills land while chunks are still being written; a few is the floor
    // that keeps the test meaningful on a machine whose speed changes during the test.
    assert!(
        mid_import >= 5,
        "only {mid_import} kills landed before the import had stored everything"
    );

    let b = runtime.block_on(snapshot(&db_b));
    let b_keys = keys(&b.events);
    if let Some(i) = (0..a_keys.len().max(b_keys.len())).find(|&i| a_keys.get(i) != b_keys.get(i)) {
        panic!(
            "event lists differ first at position {i}: clean {:?}, crashed {:?} ({} vs {} events)",
            a_keys.get(i),
            b_keys.get(i),
            a_keys.len(),
            b_keys.len()
        );
    }
    let unique: HashSet<&String> = b_keys.iter().collect();
    assert_eq!(unique.len(), b_keys.len(), "an event is stored twice");
    assert!(
        a.events == b.events,
        "same keys but different event contents"
    );
    assert_eq!(a.counts, b.counts, "counts");
    assert_eq!(a.states.len(), b.states.len(), "number of records");
    for (x, y) in a.states.iter().zip(&b.states) {
        assert_eq!(x, y, "record state");
    }
    assert!(a.transitions == b.transitions, "transitions differ");
    let (a_notices, b_notices) = (notices(&a.notices), notices(&b.notices));
    assert_eq!(a_notices.len(), b_notices.len(), "number of notices");
    for (x, y) in a_notices.iter().zip(&b_notices) {
        assert_eq!(x, y, "notice");
    }
    eprintln!(
        "equal: {} events, {} records {:?}, notices {:?}; whole test {:.2?}",
        a.counts.events,
        a.states.len(),
        a.counts.records_by_state,
        a.counts.notices_by_status,
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- running the binary -------------------------------------------------------------------

/// Runs `fengcun import` into `db`; with a delay, SIGKILLs it then (if it is still running).
/// Returns its exit status and the summary line it printed last, if it got that far.
fn import(
    file: &Path,
    db: &Path,
    log: &Path,
    kill_after: Option<Duration>,
) -> (ExitStatus, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengcun"));
    command
        .arg("import")
        .arg(file)
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .args(["--batch", BATCH, "--now", NOW])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(log).unwrap());
    // Only the settings given here: a stray FENGCUN_* of the caller must not change the import.
    for (name, _) in std::env::vars() {
        if name.starts_with("FENGCUN_") {
            command.env_remove(name);
        }
    }
    command.env("FENGCUN_MASTER_KEY", MASTER_KEY);
    let mut child = command.spawn().expect("run fengcun import");
    if let Some(delay) = kill_after {
        std::thread::sleep(delay);
        // SIGKILL; if the process has already exited, this does nothing and `wait` says so.
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let summary = text.lines().last().unwrap_or_default().to_owned();
    (status, summary)
}

/// (stored, duplicates, errors) from `FILE: N lines: S stored, D duplicates, E errors`.
fn tally(summary: &str) -> (usize, usize, usize) {
    let number = |word: &str| -> usize {
        let before = summary
            .split_once(&format!(" {word}"))
            .unwrap_or_else(|| panic!("no `{word}` in the summary `{summary}`"))
            .0;
        before
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count of {word} in `{summary}`"))
    };
    (number("stored"), number("duplicates"), number("errors"))
}

// ---- reading the stores -------------------------------------------------------------------

struct Snapshot {
    states: Vec<StateRow>,
    counts: Counts,
    events: Vec<(ValidEvent, jiff::Timestamp)>,
    /// Every record's transitions, in record order.
    transitions: Vec<Vec<TransitionView>>,
    notices: Vec<NoticeView>,
}

fn keys_of() -> Keys {
    Keys::new(MasterKey::from_hex(MASTER_KEY).unwrap())
}

async fn snapshot(db: &Path) -> Snapshot {
    let store = fengcun_store::open(&format!("sqlite://{}", db.display()), keys_of())
        .await
        .unwrap();
    let events = store.events().await.unwrap();
    let records: BTreeSet<(String, String)> = events
        .iter()
        .filter_map(|(e, _)| Some((e.case_code.as_ref()?.to_string(), e.identity.clone())))
        .collect();
    let mut transitions = Vec::new();
    for (case_code, identity) in &records {
        transitions.push(store.transitions(case_code, identity).await.unwrap());
    }
    let snapshot = Snapshot {
        states: store.states().await.unwrap(),
        counts: store.counts().await.unwrap(),
        events,
        transitions,
        notices: store.notices(NoticeFilter::default()).await.unwrap(),
    };
    store.pool().close().await;
    snapshot
}

/// The idempotency keys stored in a copy of what a kill left (the database and its write-ahead
/// log, as the killed process left them), so that the next run still finds the store untouched.
async fn stored_after_kill(db: &Path, copy_dir: &Path) -> Vec<String> {
    let _ = std::fs::remove_dir_all(copy_dir);
    std::fs::create_dir_all(copy_dir).unwrap();
    let copy = copy_dir.join("store.sqlite");
    if !db.exists() {
        return Vec::new();
    }
    std::fs::copy(db, &copy).unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", copy.display())).unwrap();
    }
    let store = fengcun_store::open(&format!("sqlite://{}", copy.display()), keys_of())
        .await
        .unwrap();
    let events = store.events().await.unwrap();
    store.pool().close().await;
    keys(&events)
}

/// Notices without their numbers (which carry a random serial, so two imports number the same
/// notice differently), in a stable order.
fn notices(notices: &[NoticeView]) -> Vec<NoticeView> {
    let mut out: Vec<NoticeView> = notices
        .iter()
        .map(|n| NoticeView {
            notice_id: String::new(),
            body: n.body.replace(&n.notice_id, "<number>"),
            ..n.clone()
        })
        .collect();
    out.sort_by(|x, y| {
        (&x.case_code, &x.kind, &x.recipient, &x.body).cmp(&(
            &y.case_code,
            &y.kind,
            &y.recipient,
            &y.body,
        ))
    });
    out
}

fn keys(events: &[(ValidEvent, jiff::Timestamp)]) -> Vec<String> {
    events
        .iter()
        .map(|(e, _)| e.event.idempotency_key.clone())
        .collect()
}

// ---- the generated feed -------------------------------------------------------------------

/// SplitMix64: small, seeded, good enough to vary a fixture.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ n < bound.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// lo ≤ n ≤ hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A district: region code, province abbreviation, province, district, police, intermediate court.
struct Region {
    code: &'static str,
    abbr: &'static str,
    province: &'static str,
    district: &'static str,
    police: &'static str,
    intermediate: &'static str,
}

const REGIONS: &[Region] = &[
    Region {
        code: "110105",
        abbr: "京",
        province: "北京市",
        district: "北京市朝阳区",
        police: "北京市公安局朝阳分局",
        intermediate: "北京市第三中级人民法院",
    },
    Region {
        code: "310115",
        abbr: "沪",
        province: "上海市",
        district: "上海市浦东新区",
        police: "上海市公安局浦东分局",
        intermediate: "上海市第一中级人民法院",
    },
    Region {
        code: "440305",
        abbr: "粤",
        province: "广东省",
        district: "深圳市南山区",
        police: "深圳市公安局南山分局",
        intermediate: "广东省深圳市中级人民法院",
    },
    Region {
        code: "510107",
        abbr: "川",
        province: "四川省",
        district: "成都市武侯区",
        police: "成都市公安局武侯区分局",
        intermediate: "四川省成都市中级人民法院",
    },
    Region {
        code: "330106",
        abbr: "浙",
        province: "浙江省",
        district: "杭州市西湖区",
        police: "杭州市公安局西湖区分局",
        intermediate: "浙江省杭州市中级人民法院",
    },
    Region {
        code: "420106",
        abbr: "鄂",
        province: "湖北省",
        district: "武汉市武昌区",
        police: "武汉市公安局武昌区分局",
        intermediate: "湖北省武汉市中级人民法院",
    },
];

/// Charges from the catalogue, with how often they come up. 容留他人吸毒罪 is a drug crime, which
/// the policies exclude; 交通肇事罪 is negligent.
const CHARGES: &[(&str, u64)] = &[
    ("危险驾驶罪", 40),
    ("盗窃罪", 15),
    ("诈骗罪", 10),
    ("帮助信息网络犯罪活动罪", 10),
    ("故意伤害罪", 8),
    ("寻衅滋事罪", 5),
    ("交通肇事罪", 5),
    ("开设赌场罪", 4),
    ("容留他人吸毒罪", 3),
];

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "杰", "婷",
];

struct Feed {
    lines: Vec<String>,
    /// Distinct events a clean import stores.
    events: usize,
    /// Lines that repeat an earlier line exactly (duplicates, not errors).
    repeats: usize,
    /// Lines the import refuses.
    bad: usize,
}

struct Generator<'a> {
    rng: &'a mut Rng,
    serial: u64,
    events: Vec<(Date, Value)>,
}

fn add(date: Date, span: Span) -> Date {
    date.checked_add(span).unwrap()
}

fn days(n: i64) -> Span {
    Span::new().days(n)
}

fn months(n: i64) -> Span {
    Span::new().months(n)
}

/// A resident identity number with its GB 11643 check character.
fn id_number(region: &str, birth: Date, sequence: u64) -> String {
    let first17 = format!(
        "{region}{:04}{:02}{:02}{sequence:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

fn agency(kind: &str, code: String, name: String) -> Value {
    json!({"kind": kind, "code": code, "name": name})
}

fn police(r: &Region) -> Value {
    agency("public_security", format!("{}-ga", r.code), r.police.into())
}

fn procuratorate(r: &Region) -> Value {
    agency(
        "procuratorate",
        format!("{}-jc", r.code),
        format!("{}人民检察院", r.district),
    )
}

fn court(r: &Region) -> Value {
    agency(
        "court",
        format!("{}-fy", r.code),
        format!("{}人民法院", r.district),
    )
}

fn intermediate_court(r: &Region) -> Value {
    agency(
        "court",
        format!("{}00-zy", &r.code[..4]),
        r.intermediate.into(),
    )
}

fn detention_centre(r: &Region) -> Value {
    agency(
        "prison",
        format!("{}-kss", r.code),
        format!("{}看守所", r.district),
    )
}

fn prison(r: &Region) -> Value {
    agency(
        "prison",
        format!("{}0000-jy", &r.code[..2]),
        format!("{}第一监狱", r.province),
    )
}

fn community_correction(r: &Region) -> Value {
    agency(
        "community_correction",
        format!("{}-sqjz", r.code),
        format!("{}社区矫正管理局", r.district),
    )
}

#[allow(clippy::too_many_arguments, reason = "an event has this many parts")]
fn event(
    key: &str,
    kind: &str,
    date: Date,
    case_code: Option<&str>,
    agency: Value,
    document_number: Option<&str>,
    person: &Value,
    extra: Value,
) -> Value {
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date.to_string(), "agency": agency, "person": person});
    if let Some(code) = case_code {
        e["case_code"] = code.into();
    }
    if let Some(number) = document_number {
        e["document_number"] = number.into();
    }
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

/// A lawful sentence for the charge: the principal punishment, its months, and the probation
/// period if suspended.
fn sentence(rng: &mut Rng, charge: &str) -> (Value, i64, Option<i64>) {
    let detention = match charge {
        "危险驾驶罪" => true,
        "盗窃罪" | "帮助信息网络犯罪活动罪" | "故意伤害罪" => rng.percent(40),
        _ => false,
    };
    let months = if detention {
        rng.range(1, 6)
    } else {
        match charge {
            "诈骗罪" if rng.percent(15) => rng.range(37, 180),
            "诈骗罪" | "寻衅滋事罪" | "开设赌场罪" => rng.range(6, 60),
            _ => rng.range(6, 36),
        }
    };
    let probation = if detention && rng.percent(35) {
        Some(rng.range(months.max(2), 12))
    } else if !detention && months <= 36 && rng.percent(35) {
        Some(rng.range(months.max(12), 60))
    } else {
        None
    };
    let principal = if detention {
        "criminal_detention"
    } else {
        "fixed_term"
    };
    let mut value = json!({"principal": principal, "months": months});
    if let Some(p) = probation {
        value["probation_months"] = p.into();
    }
    if matches!(
        charge,
        "危险驾驶罪" | "盗窃罪" | "诈骗罪" | "帮助信息网络犯罪活动罪" | "开设赌场罪"
    ) {
        value["fine_yuan"] = (rng.range(1, 50) * 1000).into();
    }
    (value, months, probation)
}

impl Generator<'_> {
    fn push(&mut self, date: Date, event: Value) {
        self.events.push((date, event));
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn pick_charge(&mut self) -> &'static str {
        let total: u64 = CHARGES.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.below(total);
        for (name, weight) in CHARGES {
            if roll < *weight {
                return name;
            }
            roll -= weight;
        }
        CHARGES[0].0
    }

    /// One case's events, in the order they happen; returns the date of its last event and
    /// whether it ended in a conviction, and the judgment date.
    fn case(
        &mut self,
        person: &Value,
        region: &Region,
        offence: Date,
        reported: Date,
        prior_convictions: u64,
    ) -> (Date, Option<Date>) {
        let serial = self.next_serial();
        let filed = add(reported, days(self.rng.range(0, 20)));
        let year = filed.year();
        let case_code = format!("{}-{year}-{:06}", region.code, 100_000 + serial);
        let case = case_code.as_str();
        let charge = self.pick_charge();
        let charges = json!([{"name": charge}]);
        let r = region.code;
        self.push(
            filed,
            event(
                &format!("{r}-ga/{case}/filed"),
                "filed",
                filed,
                Some(case),
                police(region),
                Some(&format!("{}公立字〔{year}〕{serial}号", region.abbr)),
                person,
                json!({"charges": charges, "offence_date": offence.to_string()}),
            ),
        );
        let mut last = filed;
        if self.rng.percent(30) {
            let date = add(filed, days(self.rng.range(3, 14)));
            self.push(
                date,
                event(
                    &format!("{r}-jc/{case}/arrest"),
                    "arrest_approved",
                    date,
                    Some(case),
                    procuratorate(region),
                    None,
                    person,
                    json!({}),
                ),
            );
            last = date;
        }
        let roll = self.rng.below(100);
        if roll < 4 {
            return (last, None); // still under investigation
        }
        if roll < 12 {
            let date = add(last, days(self.rng.range(20, 120)));
            self.push(
                date,
                event(
                    &format!("{r}-ga/{case}/withdrawn"),
                    "case_withdrawn",
                    date,
                    Some(case),
                    police(region),
                    None,
                    person,
                    json!({}),
                ),
            );
            return (date, None);
        }
        if roll < 22 {
            let date = add(last, days(self.rng.range(30, 150)));
            let ground = *self.rng.pick(&[
                "discretionary",
                "discretionary",
                "statutory",
                "insufficient_evidence",
                "conditional",
            ]);
            self.push(
                date,
                event(
                    &format!("{r}-jc/{case}/not-prosecuted"),
                    "not_prosecuted",
                    date,
                    Some(case),
                    procuratorate(region),
                    Some(&format!(
                        "{}{}检刑不诉〔{}〕{serial}号",
                        region.abbr,
                        &r[2..],
                        date.year()
                    )),
                    person,
                    json!({"charges": charges, "ground": ground}),
                ),
            );
            return (date, None);
        }
        let indicted = add(last, days(self.rng.range(30, 150)));
        self.push(
            indicted,
            event(
                &format!("{r}-jc/{case}/indicted"),
                "indicted",
                indicted,
                Some(case),
                procuratorate(region),
                Some(&format!(
                    "{}{}检刑诉〔{}〕{serial}号",
                    region.abbr,
                    &r[2..],
                    indicted.year()
                )),
                person,
                json!({"charges": charges}),
            ),
        );
        let judged = add(indicted, days(self.rng.range(15, 90)));
        if judged > LAST {
            return (indicted, None);
        }
        let document = format!(
            "({}){}{}刑初{serial}号",
            judged.year(),
            region.abbr,
            &r[2..]
        );
        let acquitted = self.rng.percent(3);
        let (sentence_value, mut term, mut probation) = sentence(self.rng, charge);
        let mut judgment = json!({"instance": "first", "verdict": "convicted", "charges": charges,
            "sentence": sentence_value, "offence_date": offence.to_string(),
            "recidivist": false, "prior_convictions": prior_convictions});
        if acquitted {
            judgment = json!({"instance": "first", "verdict": "acquitted", "charges": charges,
                "offence_date": offence.to_string()});
        }
        self.push(
            judged,
            event(
                &format!("{r}-fy/{document}/judgment"),
                "judgment",
                judged,
                Some(case),
                court(region),
                Some(&document),
                person,
                json!({"judgment": judgment}),
            ),
        );
        // Most judgments take effect when the 10 days for an appeal have passed; some are appealed
        // and the second instance's judgment takes effect when pronounced.
        let (effective, effective_event) = if !acquitted && self.rng.percent(6) {
            let date = add(judged, days(self.rng.range(40, 90)));
            if date > LAST {
                return (judged, None);
            }
            let appeal_document =
                format!("({}){}{}刑终{serial}号", date.year(), region.abbr, &r[2..4]);
            let (value, m, p) = sentence(self.rng, charge);
            (term, probation) = (m, p);
            let appeal = json!({"instance": "appeal", "verdict": "convicted", "charges": charges,
                "sentence": value, "offence_date": offence.to_string(),
                "recidivist": false, "prior_convictions": prior_convictions});
            self.push(
                date,
                event(
                    &format!("{}00-zy/{appeal_document}/judgment", &r[..4]),
                    "judgment",
                    date,
                    Some(case),
                    intermediate_court(region),
                    Some(&appeal_document),
                    person,
                    json!({"judgment": appeal}),
                ),
            );
            // Given by document number only: the appeal judgment mapped it to the case code.
            let effective = event(
                &format!("{}00-zy/{appeal_document}/effective", &r[..4]),
                "judgment_effective",
                date,
                None,
                intermediate_court(region),
                Some(&appeal_document),
                person,
                json!({}),
            );
            (date, effective)
        } else {
            let date = add(judged, days(self.rng.range(11, 20)));
            if date > LAST {
                return (judged, None);
            }
            let effective = event(
                &format!("{r}-fy/{document}/effective"),
                "judgment_effective",
                date,
                None,
                court(region),
                Some(&document),
                person,
                json!({}),
            );
            (date, effective)
        };
        self.push(effective, effective_event);
        if acquitted {
            return (effective, None);
        }
        let (executor, completed_kind, end) = match probation {
            Some(p) => (
                community_correction(region),
                "probation_completed",
                add(effective, months(p)),
            ),
            None => (
                if term <= 6 {
                    detention_centre(region)
                } else {
                    prison(region)
                },
                "execution_completed",
                add(add(effective, months(term)), days(-self.rng.range(0, 20))).max(effective),
            ),
        };
        let executor_code = executor["code"].as_str().unwrap().to_owned();
        if self.rng.percent(50) {
            let date = add(effective, days(self.rng.range(0, 10)));
            self.push(
                date,
                event(
                    &format!("{executor_code}/{case}/started"),
                    "execution_started",
                    date,
                    Some(case),
                    executor.clone(),
                    None,
                    person,
                    json!({}),
                ),
            );
        }
        if end <= LAST && self.rng.percent(90) {
            self.push(
                end,
                event(
                    &format!("{executor_code}/{case}/completed"),
                    completed_kind,
                    end,
                    Some(case),
                    executor,
                    None,
                    person,
                    json!({}),
                ),
            );
            return (end, Some(judged));
        }
        (effective.max(end.min(LAST)), Some(judged))
    }
}

/// The feed: every person's cases, in date order as a national feed would carry them, then the
/// bad lines and exact repeats put in at random places.
fn generate(rng: &mut Rng) -> Feed {
    let mut generator = Generator {
        rng,
        serial: 0,
        events: Vec::new(),
    };
    let mut ids = HashSet::new();
    for index in 0..PEOPLE {
        let home = generator.rng.pick(REGIONS);
        let name = format!(
            "{}{}{}",
            generator.rng.pick(SURNAMES),
            generator.rng.pick(GIVEN),
            generator.rng.pick(GIVEN)
        );
        let person = if index % 60 == 59 {
            // A foreigner, known by passport.
            json!({"document_type": "passport", "document_number": format!("E{:08}", 10_000_000 + index), "name": name})
        } else {
            let id = loop {
                let birth = add(
                    jiff::civil::date(1965, 1, 1),
                    days(generator.rng.range(0, 13_000)),
                );
                let id = id_number(home.code, birth, generator.rng.range(1, 999) as u64);
                if ids.insert(id.clone()) {
                    break id;
                }
            };
            json!({"id_number": id, "name": name})
        };
        let cases = match generator.rng.below(100) {
            0..70 => 1,
            70..92 => 2,
            _ => 3,
        };
        let mut offence = add(
            jiff::civil::date(2018, 1, 1),
            days(generator.rng.range(0, 2_200)),
        );
        let mut reported = add(offence, days(generator.rng.range(0, 10)));
        let mut convictions = 0;
        for _ in 0..cases {
            if reported > jiff::civil::date(2025, 6, 30) {
                break;
            }
            let region = if generator.rng.percent(80) {
                home
            } else {
                generator.rng.pick(REGIONS)
            };
            let (last, judged) = generator.case(&person, region, offence, reported, convictions);
            if judged.is_some() {
                convictions += 1;
            }
            // The next case: mostly a new crime after this one; sometimes an earlier crime that
            // comes to light only now (漏罪).
            reported = add(last, days(generator.rng.range(30, 700)));
            offence = match judged {
                Some(judged) if generator.rng.percent(15) && offence < judged => {
                    let span = (judged - offence).get_days().max(1);
                    add(offence, days(generator.rng.range(0, i64::from(span) - 1)))
                }
                _ => add(reported, days(-generator.rng.range(0, 10))),
            };
        }
    }
    let Generator { rng, events, .. } = generator;
    let mut events = events;
    // A stable sort keeps each case's events of one day in the order they happened.
    events.sort_by_key(|(date, _)| *date);
    let mut lines: Vec<String> = events.iter().map(|(_, e)| e.to_string()).collect();
    for (number, line) in lines.iter().enumerate() {
        if let Err(error) = Event::parse(line.as_bytes()) {
            panic!("generated line {} is invalid: {error}: {line}", number + 1);
        }
    }
    let distinct = lines.len();

    // Lines the edge refuses.
    let anyone =
        json!({"id_number": id_number("110105", jiff::civil::date(1990, 3, 7), 2), "name": "测试"});
    let r = &REGIONS[0];
    let day = jiff::civil::date(2024, 5, 6);
    let judgment = |key: &str, case: &str, sentence: Value| {
        event(
            key,
            "judgment",
            day,
            Some(case),
            court(r),
            None,
            &anyone,
            json!({"judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "危险驾驶罪"}],
                "sentence": sentence, "recidivist": false, "prior_convictions": 0}}),
        )
    };
    let filed = |key: &str, case: &str, charge: &str| {
        event(
            key,
            "filed",
            day,
            Some(case),
            police(r),
            None,
            &anyone,
            json!({"charges": [{"name": charge}]}),
        )
    };
    let mut bad_wrong_id = filed("bad/wrong-check", "110105-2024-900003", "盗窃罪");
    let mut id = bad_wrong_id["person"]["id_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = if id.ends_with('0') { "1" } else { "0" };
    id.replace_range(17.., wrong);
    bad_wrong_id["person"]["id_number"] = id.into();
    let mut bad_date = filed("bad/date", "110105-2024-900005", "盗窃罪");
    bad_date["date"] = "2024-02-30".into();
    let edge: Vec<Value> = vec![
        judgment(
            "bad/detention-7-months",
            "110105-2024-900001",
            json!({"principal": "criminal_detention", "months": 7}),
        ),
        judgment(
            "bad/detention-7-months-2",
            "110105-2024-900006",
            json!({"principal": "criminal_detention", "months": 7, "fine_yuan": 2000}),
        ),
        filed("bad/unknown-charge", "110105-2024-900002", "超速驾驶罪"),
        filed("bad/unknown-charge-2", "110105-2024-900007", "网络游戏罪"),
        bad_wrong_id,
        event(
            "bad/court-withdraws",
            "case_withdrawn",
            day,
            Some("110105-2024-900004"),
            court(r),
            None,
            &anyone,
            json!({}),
        ),
        bad_date,
    ];
    for e in &edge {
        assert!(
            Event::parse(e.to_string().as_bytes()).is_err(),
            "meant to be refused: {e}"
        );
    }

    // Lines the store refuses, each after the line it clashes with.
    let mut later: Vec<(usize, String)> = Vec::new();
    let judgments: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].1["kind"] == "judgment")
        .collect();
    for n in 0..2 {
        // The same key for a different event.
        let i = *rng.pick(&judgments);
        let mut clash = events[i].1.clone();
        clash["date"] = add(events[i].0, days(1)).to_string().into();
        clash["document_number"] = format!("clash-{n}").into();
        later.push((i, clash.to_string()));
    }
    {
        // A document number nobody mapped, and no case code.
        let i = *rng.pick(&judgments);
        let mut unknown = events[i].1.clone();
        unknown["idempotency_key"] = "bad/unmapped-document".into();
        unknown["kind"] = "judgment_effective".into();
        unknown.as_object_mut().unwrap().remove("judgment");
        unknown.as_object_mut().unwrap().remove("case_code");
        unknown["document_number"] = "(2024)京0105刑初999999号".into();
        later.push((i, unknown.to_string()));
    }
    {
        // A court's document number given with another case's code.
        let i = judgments[judgments.len() / 3];
        let j = judgments[judgments.len() / 2];
        let mut conflict = events[i].1.clone();
        conflict["idempotency_key"] = "bad/document-of-another-case".into();
        conflict["kind"] = "judgment_effective".into();
        conflict.as_object_mut().unwrap().remove("judgment");
        conflict["case_code"] = events[j].1["case_code"].clone();
        later.push((i, conflict.to_string()));
    }
    let store_refused = later.len();
    let repeats = 3;
    for _ in 0..repeats {
        let i = rng.below(events.len() as u64) as usize;
        later.push((i, lines[i].clone()));
    }
    // Insert from the back so that earlier indexes stay valid; each goes somewhere after its
    // original.
    let mut insertions: Vec<(usize, String)> = later
        .into_iter()
        .map(|(i, line)| {
            let at = i + 1 + rng.below((events.len() - i) as u64) as usize;
            (at, line)
        })
        .collect();
    for e in edge.iter() {
        insertions.push((rng.below(events.len() as u64 + 1) as usize, e.to_string()));
    }
    insertions.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (at, line) in insertions {
        lines.insert(at, line);
    }
    Feed {
        lines,
        events: distinct,
        repeats,
        bad: edge.len() + store_refused,
    }
}
