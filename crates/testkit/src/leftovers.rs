//! What earlier test runs left behind, removed when a new run starts.
//!
//! The crates' tests make a scratch directory (`$TMPDIR/fengcun-…-<pid>…`) and, with
//! `FENGCUN_TEST_DATABASE_URL`, a PostgreSQL database (`fengcun_…_<pid>`) per test, named by the
//! test process's id so that two runs never share one. Nothing removed them: a developer's machine
//! held 330 directories and 414 databases (3.6 GB) after a day of runs. A test run now removes those
//! of runs whose process is gone (by `/proc/<pid>`; where there is no `/proc`, nothing), once per
//! process; those of runs still going, and its own, are left alone.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `name`, one of the scratch names above, was left by a process no longer running: each
/// of its all-digit parts (split on `-` and `_`) names a process, and none is `alive`. A name
/// without such a part is nobody's scratch.
pub fn left_by_a_finished_run(name: &str, alive: impl Fn(u32) -> bool) -> bool {
    if !(name.starts_with("fengcun-") || name.starts_with("fengcun_")) {
        return false;
    }
    let pids: Vec<u32> = name
        .split(['-', '_'])
        .filter(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|part| part.parse().ok())
        .collect();
    !pids.is_empty() && !pids.into_iter().any(alive)
}

/// Whether process `pid` runs, where `/proc` tells; everything counts as running elsewhere.
fn running(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

static DIRECTORIES_SWEPT: AtomicBool = AtomicBool::new(false);
static DATABASES_SWEPT: AtomicBool = AtomicBool::new(false);

/// Removes the scratch directories of finished runs from the temporary directory (once per
/// process).
pub fn sweep_scratch_dirs() {
    if DIRECTORIES_SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && left_by_a_finished_run(&name.to_string_lossy(), running) {
            // Another run may be removing it too: whatever is gone is gone.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Drops the databases of finished runs on the server `admin` is connected to (once per process).
pub async fn sweep_databases(admin: &mut sqlx::AnyConnection) {
    use sqlx::Executor;
    if DATABASES_SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<(String,)> = match sqlx::query_as(
        "SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'fengcun%'",
    )
    .fetch_all(&mut *admin)
    .await
    {
        Ok(names) => names,
        Err(_) => return,
    };
    for (name,) in names {
        if left_by_a_finished_run(&name, running) {
            // The names are the tests' own (letters, digits, underscores): safe to quote as is.
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::left_by_a_finished_run;

    #[test]
    fn only_scratch_names_of_finished_processes_are_leftovers() {
        let alive = |pid: u32| pid == 4242;
        let cases = [
            ("fengcun-contract-3336-kept_counts", true),
            ("fengcun-audit-postgres-changed-3336", true),
            ("fengcun_audit_changed_3336", true),
            ("fengcun_kept_counts_3336", true),
            // The running process's own, and a live one's.
            ("fengcun-contract-4242-kept_counts", false),
            ("fengcun_kept_counts_4242", false),
            // Digits inside a word are not a process id.
            ("fengcun-contract-4242-rebuild2", false),
            ("fengcun-contract-x-rebuild2", false),
            // The shared test database, and anything not ours.
            ("fengcun_test", false),
            ("postgres", false),
            ("other-3336", false),
        ];
        for (name, expected) in cases {
            assert_eq!(left_by_a_finished_run(name, alive), expected, "{name}");
        }
    }
}
