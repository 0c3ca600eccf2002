//! The store reads and writes; it decides nothing. The lifecycle (`fengcun_lifecycle::decide`)
//! derives, decides, cascades and names notice recipients; the policy (`fengcun_policy`) evaluates
//! and explains; the clock is passed in (`Context::now`). This test reads the store's source and
//! fails on a call that would bring any of them back into it.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on an unreadable source tree"
)]

use std::path::{Path, PathBuf};

/// Functions of the policy and the lifecycle that decide: policy evaluation and explanation,
/// the lifecycle's rules (the next state, the unsealing cascade and its triggers, what a conviction
/// is, which notice a transition sends). The store calls `fengcun_lifecycle::decide` and writes
/// what it returns. Named from their crates (`fengcun_policy::evaluate`), imported from them, or
/// glob-imported, they are the store deciding.
const DECIDING: [&str; 10] = [
    "evaluate",
    "explain",
    "explain_recorded",
    "next_state",
    "lifted_by",
    "trigger_for",
    "trigger_reaches",
    "derive_record",
    "is_effective_conviction",
    "notice_kind",
];

/// The crates those functions live in.
const DECIDING_CRATES: [&str; 2] = ["fengcun_policy", "fengcun_lifecycle"];

/// Methods of a `Policy` or a `Decision` that apply its rules: called on anything, the store is
/// deciding which rule lifts a seal or which bases a decision rests on.
const DECIDING_METHODS: [&str; 3] = ["unseal_rule", "unseal_rule_for_trigger", "deciding_bases"];

/// Wall clocks: `Type::now` of jiff, std and chrono. (`Instant::now`, a monotonic timer the
/// import pipeline times its stages with, dates nothing and is not one.)
const CLOCKS: [&str; 5] = ["Timestamp", "Zoned", "SystemTime", "Utc", "Local"];

/// The source with comments taken out (line comments, doc comments and block comments), string
/// literals kept: SQL names none of the functions above.
fn code_of(source: &str) -> String {
    let mut code = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    let (mut in_string, mut block) = (false, 0usize);
    while let Some(c) = chars.next() {
        if block > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                block += 1;
            }
            continue;
        }
        if in_string {
            code.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    code.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                block = 1;
            }
            ('"', _) => {
                in_string = true;
                code.push(c);
            }
            _ => code.push(c),
        }
    }
    code
}

/// Identifiers of the code, in order, with the separators `::`, `(`, `.`, `{`, `}`, `*` and `;`
/// kept as tokens.
fn tokens(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            current.push(c);
            continue;
        }
        if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".into());
        } else if "(.{}*;".contains(c) {
            tokens.push(c.to_string());
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// What in `source` decides or reads a wall clock: a deciding function named from its crate or
/// imported from it (or a glob import of its crate), a deciding method called, or `Clock::now`.
fn violations(source: &str) -> Vec<String> {
    let tokens = tokens(&code_of(source));
    let at = |i: usize| tokens.get(i).map_or("", String::as_str);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = at(i);
        if token == "use" && DECIDING_CRATES.contains(&at(i + 1)) {
            // The whole `use` item: every name it brings in.
            let end = (i..tokens.len())
                .find(|&j| at(j) == ";")
                .unwrap_or(tokens.len());
            for j in i + 2..end {
                if DECIDING.contains(&at(j)) {
                    found.push(format!("imports `{}` from `{}`", at(j), at(i + 1)));
                }
                if at(j) == "*" {
                    found.push(format!("glob-imports `{}`", at(i + 1)));
                }
            }
            i = end;
            continue;
        }
        if DECIDING_CRATES.contains(&token) && at(i + 1) == "::" && DECIDING.contains(&at(i + 2)) {
            found.push(format!("calls `{token}::{}`", at(i + 2)));
        }
        if token == "." && DECIDING_METHODS.contains(&at(i + 1)) && at(i + 2) == "(" {
            found.push(format!("calls `.{}`", at(i + 1)));
        }
        if CLOCKS.contains(&token) && at(i + 1) == "::" && at(i + 2) == "now" {
            found.push(format!("reads the clock with `{token}::now`"));
        }
        i += 1;
    }
    found
}

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn the_store_decides_nothing_and_reads_no_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("ingest.rs")),
        "the store's sources are found: {files:?}"
    );
    let mut problems = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for problem in violations(&source) {
            problems.push(format!("{}: {problem}", file.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "crates/store decides or reads a clock:\n{}",
        problems.join("\n")
    );
}

/// The scan itself: it finds an import, a call from the crate, a deciding method and a clock
/// read in code, and nothing in comments, strings, a longer name, a function of the store's own
/// that shares a name, or a monotonic timer.
#[test]
fn the_scan_finds_what_it_looks_for_and_nothing_else() {
    let source = r#"
use fengcun_policy::{Policy, evaluate};
use fengcun_lifecycle::{
    Cause, State, next_state,
};
use fengcun_lifecycle::*;
// evaluate(policy, record, today) in a comment
/* Timestamp::now() in a block comment */
/// Re-evaluates every record: a doc comment.
fn f(ctx: &Context) {
    let decision = fengcun_policy::evaluate(policy, &record, today);
    let at = jiff::Timestamp::now();
    let rule = policy.unseal_rule(trigger, Some(&record));
    let today = ctx.today();
    let evaluated = reevaluate_later();
    let problem = self.explain(mismatch);
    let started = Instant::now();
    let sql = "SELECT now(), evaluate(x)";
}
"#;
    assert_eq!(
        violations(source),
        [
            "imports `evaluate` from `fengcun_policy`",
            "imports `next_state` from `fengcun_lifecycle`",
            "glob-imports `fengcun_lifecycle`",
            "calls `fengcun_policy::evaluate`",
            "reads the clock with `Timestamp::now`",
            "calls `.unseal_rule`",
        ]
    );
}
