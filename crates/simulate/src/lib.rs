//! The policy simulator: what each candidate definition of "minor crime" would seal, on a whole
//! country's record facts (DESIGN.md §1; `docs/simulation.md`).
//!
//! The input path is built for tens of millions of lines: the calling thread reads chunks of
//! whole lines into a few reused buffers and the workers take them as they come (no step where
//! one thread waits for another); a scanner reads the record-facts keys without allocating, eight
//! bytes at a time, finding each line's end as it goes (`scan.rs`, falling back to the domain
//! parser for anything unusual and for error messages); and a memo decides each distinct
//! combination of decision-relevant facts once per policy, leaving one date comparison per
//! record and policy (`engine.rs`). Counters are per thread, merged at the end. Results equal
//! `fengcun evaluate` record by record (tested).

#[cfg(test)]
mod agreement;
mod engine;
pub mod report;
mod scan;

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, mpsc};

use fengcun_domain::Date;
use fengcun_policy::{Outcome, Policy};

pub use engine::{Class, Entry, LineError, Worker};
pub use report::{Comparison, JUVENILE_STATUTE, WithStatute};
pub use scan::Key;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("reading the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("rendering JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a worker thread panicked")]
    Worker,
}

/// Everything the comparison is made from.
#[derive(Debug)]
pub struct Run {
    /// One per distinct key, with its verdicts and counts.
    pub entries: Vec<Entry>,
    pub errors: Vec<LineError>,
    /// Lines read (blank lines included).
    pub lines: u64,
    /// Lines the scanner left to the domain parser.
    pub slow_lines: u64,
}

/// Adds the shipped juvenile statute (`cn-juvenile`) to `policies` when a Chinese criminal policy
/// other than it is compared and it is not: the platform decides every criminal record with the
/// statute in force beside the policy (`fengcun_lifecycle::deciding_policy`), so each criminal
/// policy is also counted as the platform would apply it (`PolicySummary::with_statute`), and the
/// statute's own figures stand beside the options. Whether it was added.
///
/// A policy file that bears the statute's name but says something else is a draft: then nothing
/// is added (two columns of one name would say nothing clear) and nothing is counted beside it.
pub fn add_juvenile_statute(policies: &mut Vec<Policy>) -> bool {
    use fengcun_domain::RecordKind;
    let name = report::JUVENILE_STATUTE;
    let Some(statute) = fengcun_policy::presets::get(name) else {
        return false;
    };
    let wanted = policies.iter().any(|p| {
        p.meta.records == RecordKind::Criminal && p.meta.name != name && p.meta.jurisdiction == "CN"
    }) && !policies.iter().any(|p| p.meta.name == name);
    if wanted {
        policies.push(statute.clone());
    }
    wanted
}

/// Bytes read at a time: small enough that both threads stay busy to the end of the file, large
/// enough that handing chunks around costs nothing.
const CHUNK: usize = 8 << 20;

/// Reads `input` into `buf` (appending) until it holds `target` bytes or the input ends.
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    while buf.len() < target {
        let want = (target - buf.len()) as u64;
        // `read_to_end` reads into the spare capacity without zeroing it first.
        if input.take(want).read_to_end(buf)? == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a thread did: its worker, and per chunk it read, (chunk index, lines); its errors
/// carry line numbers within their chunk until `merge` knows where each chunk starts.
type Done<'p> = (Worker<'p>, Vec<(usize, u64)>, Vec<(usize, LineError)>);

/// Evaluates every policy over the record-facts NDJSON of `input` on `threads` threads.
/// `progress` is called with the bytes decided so far.
///
/// The calling thread reads chunks of whole lines into a few reused buffers; each worker takes
/// the next chunk as soon as it is free (no step where one waits for the other) and gives the
/// buffer back. Line numbers are put together at the end from each chunk's count.
pub fn run(
    policies: &[Policy],
    as_of: Date,
    input: &mut dyn Read,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Run, SimulateError> {
    run_in_chunks(policies, as_of, input, threads, CHUNK, progress)
}

/// `run`, reading `chunk` bytes at a time (small ones in the tests, to cut lines everywhere).
fn run_in_chunks(
    policies: &[Policy],
    as_of: Date,
    input: &mut dyn Read,
    threads: usize,
    chunk: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Run, SimulateError> {
    let threads = threads.max(1);
    let chunk = chunk.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(threads);
    // Shared by the workers only: when all have stopped, the queue is closed and the reader's
    // `send` fails instead of waiting for ever.
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let free_tx = free_tx.clone();
                let work_rx = Arc::clone(&work_rx);
                scope.spawn(move || -> Done<'_> {
                    let mut worker = Worker::new(policies, as_of);
                    let mut chunks = Vec::new();
                    let mut errors = Vec::new();
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        let Ok((index, buf)) = next else { break };
                        chunks.push((index, worker.lines(&buf)));
                        errors.extend(worker.errors.drain(..).map(|e| (index, e)));
                        // The reader may be gone after an error; the buffer is then dropped.
                        let _ = free_tx.send(buf);
                    }
                    (worker, chunks, errors)
                })
            })
            .collect();
        drop(free_tx);
        drop(work_rx);
        let read = read_chunks(input, threads, chunk, &work_tx, &free_rx, progress);
        drop(work_tx);
        // Whatever the reader did, the workers end once the queue is empty.
        let mut done = Vec::with_capacity(threads);
        for handle in handles {
            done.push(handle.join().map_err(|_| SimulateError::Worker)?);
        }
        progress(read?);
        Ok(merge(done))
    })
}

/// The reading side of `run`: sends chunks of whole lines, numbered, until the input ends;
/// returns the bytes read.
fn read_chunks(
    input: &mut dyn Read,
    threads: usize,
    chunk: usize,
    work: &mpsc::SyncSender<(usize, Vec<u8>)>,
    free: &mpsc::Receiver<Vec<u8>>,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, SimulateError> {
    // Enough buffers that every worker has one and the next is being read.
    let mut unallocated = threads + 2;
    let mut carry: Vec<u8> = Vec::new();
    let mut decided = 0u64;
    let mut total = 0u64;
    for index in 0.. {
        let mut buf = if unallocated > 0 {
            unallocated -= 1;
            Vec::with_capacity(chunk + chunk / 8)
        } else {
            // Every sender gone means every worker has stopped: nothing can be decided.
            let buf = free.recv().map_err(|_| SimulateError::Worker)?;
            decided += buf.len() as u64;
            progress(decided);
            buf
        };
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        let mut eof = fill(input, &mut buf, chunk)?;
        // Whole lines only; the unfinished last line starts the next chunk.
        let mut searched = 0;
        let cut = loop {
            if eof {
                break buf.len();
            }
            if let Some(i) = memchr::memrchr(b'\n', &buf[searched..]) {
                break searched + i + 1;
            }
            // A line longer than a chunk: read on until it ends.
            searched = buf.len();
            let target = buf.len() + chunk;
            eof = fill(input, &mut buf, target)?;
        };
        carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        total += cut as u64;
        if !buf.is_empty() {
            work.send((index, buf)).map_err(|_| SimulateError::Worker)?;
        }
        if eof {
            break;
        }
    }
    Ok(total)
}

fn merge(done: Vec<Done<'_>>) -> Run {
    let mut by_key: HashMap<Key, Entry, engine::FxBuild> = HashMap::default();
    let mut errors = Vec::new();
    let mut slow_lines = 0;
    // Where each chunk starts: the lines of the chunks before it.
    let mut counts: Vec<(usize, u64)> = done.iter().flat_map(|d| d.1.iter().copied()).collect();
    counts.sort_unstable();
    let mut first_line = vec![0u64; counts.last().map_or(0, |(i, _)| i + 1)];
    let mut lines = 0;
    for (index, count) in counts {
        first_line[index] = lines;
        lines += count;
    }
    for (worker, _, chunk_errors) in done {
        errors.extend(chunk_errors.into_iter().map(|(index, mut e)| {
            e.line += first_line[index];
            e
        }));
        slow_lines += worker.slow_lines;
        for entry in worker.finish() {
            match by_key.get_mut(&entry.key) {
                Some(known) => {
                    known.records += entry.records;
                    for (a, b) in known.sealed_now.iter_mut().zip(&entry.sealed_now) {
                        *a += b;
                    }
                }
                None => {
                    by_key.insert(entry.key.clone(), entry);
                }
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    Run {
        entries: by_key.into_values().collect(),
        errors,
        lines,
        slow_lines,
    }
}

/// The outcome of every policy for every line of `input`, one line at a time: what the
/// simulator decides, for comparison with `fengcun evaluate`. Blank lines give nothing.
pub fn outcomes(
    policies: &[Policy],
    as_of: Date,
    input: &[u8],
) -> Vec<(u64, Result<Vec<Outcome>, LineError>)> {
    let mut worker = Worker::new(policies, as_of);
    let mut out = Vec::new();
    for (i, line) in input.split_inclusive(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line_no = i as u64 + 1;
        if worker.line(line, line_no) {
            out.push((line_no, Ok(worker.last.clone())));
        } else if let Some(error) = worker.errors.pop() {
            out.push((line_no, Err(error)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use fengcun_policy::presets;

    /// Lines of every kind, some longer than the smallest chunks, some bad, some blank, and a
    /// last line without its newline.
    fn input() -> Vec<u8> {
        let good = r#"{"record_id":"A-1","case_code":"110101-2023-000001","disposition":"convicted","charges":[{"name":"危险驾驶罪"}],"sentence":{"principal":"criminal_detention","months":2},"recidivist":false,"prior_convictions":0,"disposition_date":"2023-05-01","judgment_effective_date":"2023-05-12","execution_completed_date":"2023-07-12"}"#;
        let open = r#"{"record_id":"A-2","disposition":"open","charges":[{"name":"盗窃罪"}]}"#;
        let bad = r#"{"record_id":"A-3","disposition":"convicted","charges":[{"name":"盗窃罪"}]}"#;
        let mut text = String::new();
        for i in 0..300 {
            match i % 7 {
                0 => text.push_str(bad),
                1 => text.push_str("   "),
                2 => text.push_str(open),
                _ => text.push_str(good),
            }
            text.push('\n');
        }
        text.push_str(good);
        text.into_bytes()
    }

    #[test]
    fn chunks_of_any_size_give_the_same_run() {
        let policies = presets::all();
        let as_of = Date::constant(2025, 6, 30);
        let data = input();
        let whole = run(policies, as_of, &mut data.as_slice(), 1, &mut |_| {}).unwrap();
        assert_eq!(whole.lines, 301);
        let bad: Vec<u64> = (0..300).step_by(7).map(|i| i + 1).collect();
        assert_eq!(whole.errors.iter().map(|e| e.line).collect::<Vec<_>>(), bad);
        let expected = serde_json::to_string(&Comparison::new(policies, as_of, &whole)).unwrap();
        for chunk in [1, 7, 64, 200, 333, 4096] {
            for threads in [1, 2, 3] {
                let mut seen = 0;
                let got = run_in_chunks(
                    policies,
                    as_of,
                    &mut data.as_slice(),
                    threads,
                    chunk,
                    &mut |bytes| seen = bytes,
                )
                .unwrap();
                assert_eq!(got.lines, whole.lines, "chunk {chunk}");
                let lines: Vec<u64> = got.errors.iter().map(|e| e.line).collect();
                assert_eq!(lines, bad, "chunk {chunk}, {threads} threads");
                let comparison = Comparison::new(policies, as_of, &got);
                assert_eq!(serde_json::to_string(&comparison).unwrap(), expected);
                assert_eq!(seen, data.len() as u64);
            }
        }
    }

    /// A reader that fails after some bytes: the error comes back, nothing hangs.
    struct Failing(usize);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b'\n');
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_run_with_that_error() {
        let policies = presets::all();
        let as_of = Date::constant(2025, 6, 30);
        let result = run_in_chunks(policies, as_of, &mut Failing(10_000), 2, 100, &mut |_| {});
        assert!(matches!(result, Err(SimulateError::Io(_))), "{result:?}");
    }
}
