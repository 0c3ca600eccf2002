//! The policy simulator: what each candidate definition of "minor crime" would seal, on a whole
//! country's record facts (DESIGN.md §1; `docs/simulation.md`).
//!
//! The input path is built for tens of millions of lines: large reads (the next chunk is read
//! while the current one is decided), each chunk split on newlines between two threads, a
//! scanner that reads the record-facts keys without allocating (`scan.rs`, falling back to the
//! domain parser for anything unusual and for error messages), and a memo that decides each
//! distinct combination of decision-relevant facts once per policy (`engine.rs`). Results equal
//! `fengcun evaluate` record by record (tested).

mod engine;
pub mod report;
mod scan;

use std::collections::HashMap;
use std::io::Read;

use fengcun_domain::Date;
use fengcun_policy::{Outcome, Policy};

pub use engine::{Class, Entry, LineError, Worker};
pub use report::Comparison;
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

const CHUNK: usize = 32 << 20;

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

/// Runs the lines of `part` (whole lines) through `worker`, numbering from `first_line`.
fn work(worker: &mut Worker<'_>, part: &[u8], first_line: u64) {
    let mut line_no = first_line;
    let mut rest = part;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        rest = &rest[end..];
        if !line.iter().all(u8::is_ascii_whitespace) {
            worker.line(line, line_no);
        }
        line_no += 1;
    }
}

/// Splits `data` (whole lines) into `n` parts on newlines.
fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = data;
    for k in (1..=n).rev() {
        if k == 1 {
            parts.push(rest);
            break;
        }
        let mut cut = rest.len() / k;
        cut = match memchr::memchr(b'\n', &rest[cut..]) {
            Some(i) => cut + i + 1,
            None => rest.len(),
        };
        let (head, tail) = rest.split_at(cut);
        parts.push(head);
        rest = tail;
    }
    parts
}

/// Evaluates every policy over the record-facts NDJSON of `input` on `threads` threads.
/// `progress` is called with the bytes read so far.
pub fn run(
    policies: &[Policy],
    as_of: Date,
    input: &mut dyn Read,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Run, SimulateError> {
    let threads = threads.max(1);
    let mut workers: Vec<Worker<'_>> = (0..threads).map(|_| Worker::new(policies, as_of)).collect();
    let mut current = Vec::with_capacity(CHUNK + (1 << 20));
    let mut next = Vec::with_capacity(CHUNK + (1 << 20));
    let mut eof = fill(input, &mut current, CHUNK)?;
    let mut line_base = 1u64;
    let mut bytes = 0u64;
    loop {
        // Whole lines now; the unfinished last line waits for the next chunk.
        let end = if eof {
            current.len()
        } else {
            memchr::memrchr(b'\n', &current).map_or(0, |i| i + 1)
        };
        if end == 0 && !eof {
            // A line longer than a chunk: read more before deciding anything.
            let target = current.len() + CHUNK;
            eof = fill(input, &mut current, target)?;
            continue;
        }
        let parts = split(&current[..end], threads);
        let mut starts = Vec::with_capacity(parts.len());
        let mut line = line_base;
        for part in &parts {
            starts.push(line);
            line += memchr::memchr_iter(b'\n', part).count() as u64;
        }
        let next_eof = std::thread::scope(|scope| -> Result<bool, SimulateError> {
            let handles: Vec<_> = workers
                .iter_mut()
                .zip(parts.iter().zip(&starts))
                .map(|(worker, (part, start))| scope.spawn(move || work(worker, part, *start)))
                .collect();
            // Meanwhile, the next chunk.
            next.clear();
            next.extend_from_slice(&current[end..]);
            let next_eof = if eof {
                true
            } else {
                fill(input, &mut next, CHUNK)?
            };
            for handle in handles {
                handle.join().map_err(|_| SimulateError::Worker)?;
            }
            Ok(next_eof)
        })?;
        bytes += end as u64;
        progress(bytes);
        line_base = line;
        if eof {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        eof = next_eof;
        if current.is_empty() && eof {
            break;
        }
    }
    Ok(merge(workers, line_base - 1))
}

fn merge(workers: Vec<Worker<'_>>, lines: u64) -> Run {
    let mut by_key: HashMap<Key, Entry, engine::FxBuild> = HashMap::default();
    let mut errors = Vec::new();
    let mut slow_lines = 0;
    for worker in workers {
        errors.extend(worker.errors);
        slow_lines += worker.slow_lines;
        for entry in worker.entries {
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
