//! Policy simulation (operators): what each chosen policy would seal over a shipped synthetic
//! data set (`fengcun-synth`, a fixed seed) or an uploaded record-facts NDJSON, compared as
//! `fengcun simulate` compares them (`fengcun_simulate::Comparison`). A run is a job kept in
//! memory ([`Jobs`], at most [`MAX_JOBS`]), worked on a blocking thread; its owner polls it.
//! Starting one is audited (who simulated which data under which policies).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use fengcun_domain::Date;
use fengcun_policy::{Policy, presets};
use fengcun_simulate::Comparison;
use fengcun_store::{AuditEvent, AuditKind};

use super::{Caller, Result, ServiceError};
use crate::AppState;

/// The shipped synthetic data set sizes.
pub const SIZES: [u64; 2] = [10_000, 100_000];
/// The seed the synthetic data sets are generated with (the same records every time).
pub const SEED: u64 = 20_260_601;
/// The largest record-facts upload, in bytes.
pub const MAX_UPLOAD: usize = 20 << 20;
/// Jobs kept in memory (finished ones are dropped, oldest first, to make room).
pub const MAX_JOBS: usize = 8;
/// Line errors kept for the page (the count says how many there were).
const MAX_LINE_ERRORS: usize = 20;
/// Who may simulate: the operator, and the policy maker, whose whole work it is. Neither reads a
/// record here: a run reads synthetic or uploaded facts, never the store.
pub const SIMULATORS: &[crate::config::Role] = &[
    crate::config::Role::Operator,
    crate::config::Role::PolicyMaker,
];

/// The records a simulation reads.
#[derive(Debug)]
pub enum Data {
    /// A shipped synthetic data set of this many records.
    Synthetic(u64),
    /// Record-facts NDJSON.
    Upload(Vec<u8>),
}

#[derive(Debug)]
pub struct SimulationRequest {
    pub data: Data,
    /// Shipped policy names.
    pub policies: Vec<String>,
    /// The date the decisions are taken on (YYYY-MM-DD); default: today in China.
    pub as_of: Option<String>,
}

/// A line of the input that could not be read.
#[derive(Debug, Clone)]
pub struct LineProblem {
    pub line: u64,
    pub field: String,
    pub error: String,
}

/// What a simulation reads: a shipped synthetic data set (its size and seed) or an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Synthetic { records: u64, seed: u64 },
    Upload { bytes: usize },
}

#[derive(Debug, Clone)]
pub enum JobStatus {
    Running,
    Done(Arc<Comparison>),
    /// The run failed, or lines could not be read (the first few kept, `count` in all).
    Failed {
        message: String,
        lines: Vec<LineProblem>,
        count: u64,
    },
}

/// A simulation in memory.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    owner: String,
    /// `synthetic 10000 (seed …)` or `upload (N bytes)` (the audit entry's words).
    pub data: String,
    /// The same, for a page to say in its own language.
    pub source: Source,
    pub policies: Vec<String>,
    pub as_of: String,
    /// Synthetic records generated (0 for an upload).
    records: u64,
    generated: AtomicU64,
    read: AtomicU64,
    total: AtomicU64,
    status: Mutex<JobStatus>,
    done: tokio::sync::watch::Sender<bool>,
}

impl Job {
    pub fn status(&self) -> JobStatus {
        match self.status.lock() {
            Ok(status) => status.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// How far the run is, 0 to 100: generating is the first half of a synthetic run.
    pub fn percent(&self) -> u64 {
        let total = self.total.load(Ordering::Relaxed);
        let read = self.read.load(Ordering::Relaxed);
        let reading = (read * 100).checked_div(total).unwrap_or(0);
        if self.records == 0 {
            return reading.min(100);
        }
        let generating = self.generated.load(Ordering::Relaxed) * 100 / self.records;
        if total == 0 {
            (generating / 2).min(50)
        } else {
            (50 + reading / 2).min(100)
        }
    }

    /// Whether the records are still being generated.
    pub fn generating(&self) -> bool {
        self.records > 0 && self.total.load(Ordering::Relaxed) == 0
    }

    fn finish(&self, status: JobStatus) {
        match self.status.lock() {
            Ok(mut slot) => *slot = status,
            Err(poisoned) => *poisoned.into_inner() = status,
        }
        self.done.send_replace(true);
    }

    /// Works the job (on a blocking thread).
    fn run(&self, policies: &[Policy], as_of: Date, data: Data) {
        let bytes = match data {
            Data::Synthetic(records) => {
                let mut out = Vec::new();
                // Violation records in the documented share, reported apart.
                let config = fengcun_synth::Config::new(records, SEED);
                if let Err(error) = fengcun_synth::generate(config, &mut out, None, &mut |n| {
                    self.generated.store(n, Ordering::Relaxed)
                }) {
                    return self.finish(JobStatus::Failed {
                        message: error.to_string(),
                        lines: Vec::new(),
                        count: 0,
                    });
                }
                out
            }
            Data::Upload(bytes) => bytes,
        };
        self.total
            .store((bytes.len() as u64).max(1), Ordering::Relaxed);
        let result = fengcun_simulate::run(policies, as_of, &mut bytes.as_slice(), 2, &mut |n| {
            self.read.store(n, Ordering::Relaxed)
        });
        let status = match result {
            Err(error) => JobStatus::Failed {
                message: error.to_string(),
                lines: Vec::new(),
                count: 0,
            },
            Ok(run) if !run.errors.is_empty() => JobStatus::Failed {
                message: String::new(),
                lines: run
                    .errors
                    .iter()
                    .take(MAX_LINE_ERRORS)
                    .map(|e| LineProblem {
                        line: e.line,
                        field: e.error.field.clone(),
                        error: e.error.error.to_string(),
                    })
                    .collect(),
                count: run.errors.len() as u64,
            },
            Ok(run) => JobStatus::Done(Arc::new(Comparison::new(policies, as_of, &run))),
        };
        self.finish(status);
    }
}

/// The jobs in memory, oldest first.
#[derive(Debug, Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Job>>> {
        match self.jobs.lock() {
            Ok(jobs) => jobs,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Keeps `job`, dropping the oldest finished job when full; refused when every kept job
    /// still runs.
    fn add(&self, job: Arc<Job>) -> Result<()> {
        let mut jobs = self.lock();
        if jobs.len() >= MAX_JOBS {
            let finished = jobs
                .iter()
                .position(|j| !matches!(j.status(), JobStatus::Running));
            match finished {
                Some(index) => {
                    jobs.remove(index);
                }
                None => {
                    return Err(ServiceError::Conflict(format!(
                        "simulation: {MAX_JOBS} simulations are running; try again when one has finished"
                    )));
                }
            }
        }
        jobs.push_back(job);
        Ok(())
    }

    fn find(&self, id: u64, owner: &str) -> Option<Arc<Job>> {
        self.lock()
            .iter()
            .find(|j| j.id == id && j.owner == owner)
            .cloned()
    }
}

/// A shipped policy to choose.
#[derive(Debug, Clone)]
pub struct PolicyChoice {
    pub name: String,
    pub title: String,
}

/// The shipped policies a simulation may compare (operators).
pub async fn choices(state: &AppState, caller: &Caller) -> Result<Vec<PolicyChoice>> {
    caller
        .require(state, "simulate policies", SIMULATORS)
        .await?;
    Ok(presets::all()
        .iter()
        .map(|p| PolicyChoice {
            name: p.meta.name.clone(),
            title: p.meta.title.clone(),
        })
        .collect())
}

/// Starts a simulation: checks the request, audits it, and works it on a blocking thread.
/// Answers the job's id.
pub async fn start(state: &AppState, caller: &Caller, request: SimulationRequest) -> Result<u64> {
    caller
        .require(state, "simulate policies", SIMULATORS)
        .await?;
    if request.policies.is_empty() {
        return Err(ServiceError::Invalid(
            "policies: choose at least one policy".into(),
        ));
    }
    let mut policies: Vec<Policy> = Vec::new();
    for name in &request.policies {
        if policies.iter().any(|p| p.name() == name) {
            continue;
        }
        let policy = presets::all()
            .iter()
            .find(|p| p.meta.name == *name)
            .cloned()
            .ok_or_else(|| {
                ServiceError::Invalid(format!("policies: `{name}` is not a shipped policy"))
            })?;
        policies.push(policy);
    }
    let as_of = match request.as_of.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => fengcun_domain::date::parse_date(text)
            .map_err(|e| ServiceError::Invalid(format!("as_of: {e}")))?,
        _ => fengcun_domain::date::china_date(state.clock.now()),
    };
    let source = match &request.data {
        Data::Synthetic(records) => Source::Synthetic {
            records: *records,
            seed: SEED,
        },
        Data::Upload(bytes) => Source::Upload { bytes: bytes.len() },
    };
    let (data, records) = match &request.data {
        Data::Synthetic(records) => {
            if !SIZES.contains(records) {
                return Err(ServiceError::Invalid(format!(
                    "size: {records} is not a shipped data set size (10000 or 100000)"
                )));
            }
            (format!("synthetic {records} (seed {SEED})"), *records)
        }
        Data::Upload(bytes) => {
            if bytes.is_empty() {
                return Err(ServiceError::Invalid(
                    "file: choose a record-facts NDJSON file".into(),
                ));
            }
            if bytes.len() > MAX_UPLOAD {
                return Err(ServiceError::Invalid(format!(
                    "file: larger than {} MiB",
                    MAX_UPLOAD >> 20
                )));
            }
            (format!("upload ({} bytes)", bytes.len()), 0)
        }
    };
    // As the platform decides: the juvenile statute beside every criminal policy, compared too.
    fengcun_simulate::add_juvenile_statute(&mut policies);
    let names: Vec<String> = policies.iter().map(|p| p.name().to_owned()).collect();
    let id = state.simulations.next.fetch_add(1, Ordering::Relaxed) + 1;
    let job = Arc::new(Job {
        id,
        owner: caller.name.clone(),
        data,
        source,
        policies: names,
        as_of: as_of.to_string(),
        records,
        generated: AtomicU64::new(0),
        read: AtomicU64::new(0),
        total: AtomicU64::new(0),
        status: Mutex::new(JobStatus::Running),
        done: tokio::sync::watch::Sender::new(false),
    });
    state.simulations.add(Arc::clone(&job))?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "simulate")
        .subject(format!("simulation/{id}"))
        .detail(serde_json::json!({
            "data": job.data,
            "policies": job.policies,
            "as_of": job.as_of,
        }));
    if let Err(error) = state.store.audit(&[entry], state.clock.now()).await {
        job.finish(JobStatus::Failed {
            message: "not audited".into(),
            lines: Vec::new(),
            count: 0,
        });
        return Err(error.into());
    }
    let worker = Arc::clone(&job);
    let data = request.data;
    tokio::task::spawn_blocking(move || worker.run(&policies, as_of, data));
    Ok(id)
}

/// The caller's own simulation `id` (another's is not found). With `wait`, waits a few seconds
/// for it to finish first.
pub async fn job(state: &AppState, caller: &Caller, id: u64, wait: bool) -> Result<Arc<Job>> {
    caller
        .require(state, "read a simulation", SIMULATORS)
        .await?;
    let job = state
        .simulations
        .find(id, &caller.name)
        .ok_or(ServiceError::NotFound)?;
    if wait {
        let mut done = job.done.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            done.wait_for(|finished| *finished),
        )
        .await;
    }
    Ok(job)
}
