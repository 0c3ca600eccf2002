//! Password guessing is slowed per username. Every login attempt is counted once it has its turn
//! to hash and before its password is checked (a success forgets the count), so a burst of
//! simultaneous guesses gets no more tries than a sequence. From the [`FREE_ATTEMPTS`]th attempt in a row the username is locked for 30 s,
//! doubling with each further attempt up to an hour; a locked username is refused before anything
//! else, at no hashing cost. The count is forgiven only after a day without attempts and without a
//! lock, so someone who waits out every lock still gets no more than a few dozen guesses a day.
//! Unknown usernames are counted the same way, so a lock reveals nothing about which users exist.
//! The counts live in the server process (a restart forgets them; servers behind one balancer count
//! separately) and are bounded in number.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Attempts in a row allowed before the username is locked (the last of them brings the lock; a
/// right password lifts it at once).
pub const FREE_ATTEMPTS: u32 = 5;
/// A count is forgiven this long after its last attempt or the end of its lock, whichever is later.
const FORGIVEN_AFTER: SignedDuration = SignedDuration::from_hours(24);
const FIRST_LOCK_SECONDS: i64 = 30;
const LONGEST_LOCK_SECONDS: i64 = 3600;
/// How many usernames are tracked at most; beyond it the stalest are forgotten first.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Attempts {
    count: u32,
    last: Timestamp,
    locked_until: Option<Timestamp>,
    /// Whether a refusal under the current lock has been written to the audit log already.
    refusal_logged: bool,
}

impl Attempts {
    fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }

    fn forgiven_at(&self, now: Timestamp) -> bool {
        let quiet_since = self
            .locked_until
            .map_or(self.last, |until| until.max(self.last));
        now.duration_since(quiet_since) > FORGIVEN_AFTER
    }
}

/// A login refused because its username is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub until: Timestamp,
    /// The first refusal under this lock: the one to write to the audit log (the rest are counted
    /// in the metrics, so that a flood of refused logins does not flood the log).
    pub first: bool,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_username: Mutex<HashMap<String, Attempts>>,
}

impl LoginThrottle {
    /// Refuses a login as `username` at `now` if the username is locked; counts nothing. Checked
    /// before a request waits for its turn to hash, so a locked name costs nothing at all.
    pub fn check(&self, username: &str, now: Timestamp) -> Result<(), Locked> {
        let mut map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        refuse_if_locked(&mut map, username, now)
    }

    /// Counts an attempt to log in as `username` at `now`, or refuses it if the username is locked.
    /// Called once the request holds its turn to hash, so that a new name in the table costs its
    /// sender a hash (a flood of made-up names is as slow as guessing).
    pub fn attempt(&self, username: &str, now: Timestamp) -> Result<(), Locked> {
        let mut map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        refuse_if_locked(&mut map, username, now)?;
        if map.len() >= CAPACITY && !map.contains_key(username) {
            forget_stalest(&mut map, now);
        }
        let attempts = map.entry(username.to_owned()).or_insert(Attempts {
            count: 0,
            last: now,
            locked_until: None,
            refusal_logged: false,
        });
        if attempts.forgiven_at(now) {
            attempts.count = 0;
        }
        attempts.count += 1;
        attempts.last = now;
        if let Some(lock) = lock_after(attempts.count) {
            attempts.locked_until = now.checked_add(lock).ok();
            attempts.refusal_logged = false;
        }
        Ok(())
    }

    /// A successful login forgets the username's attempts and lifts its lock.
    pub fn succeeded(&self, username: &str) {
        let mut map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(username);
    }
}

fn refuse_if_locked(
    map: &mut HashMap<String, Attempts>,
    username: &str,
    now: Timestamp,
) -> Result<(), Locked> {
    let Some(attempts) = map.get_mut(username) else {
        return Ok(());
    };
    let Some(until) = attempts.locked_at(now) else {
        return Ok(());
    };
    let first = !attempts.refusal_logged;
    attempts.refusal_logged = true;
    Err(Locked { until, first })
}

/// The lock after `attempts` in a row: none before [`FREE_ATTEMPTS`], then 30 s doubling.
fn lock_after(attempts: u32) -> Option<SignedDuration> {
    let beyond = attempts.checked_sub(FREE_ATTEMPTS)?;
    let seconds = FIRST_LOCK_SECONDS
        .checked_shl(beyond.min(20))
        .unwrap_or(LONGEST_LOCK_SECONDS)
        .min(LONGEST_LOCK_SECONDS);
    Some(SignedDuration::from_secs(seconds))
}

/// Makes room: drops what is forgiven, then, if that is not enough, half of the rest, fewest
/// attempts first and locked names last. A flood of made-up names (one attempt each, and a hash
/// each) pushes out other single tries, never the history of a name being guessed at.
fn forget_stalest(map: &mut HashMap<String, Attempts>, now: Timestamp) {
    map.retain(|_, a| !a.forgiven_at(now));
    if map.len() >= CAPACITY {
        let mut order: Vec<(bool, u32, Timestamp, String)> = map
            .iter()
            .map(|(name, a)| (a.locked_at(now).is_some(), a.count, a.last, name.clone()))
            .collect();
        order.sort_unstable();
        for (_, _, _, name) in order.into_iter().take(CAPACITY / 2) {
            map.remove(&name);
        }
    }
}

/// How often a repeated refusal of one subject is written to the log.
const REPEAT_WINDOW: SignedDuration = SignedDuration::from_mins(1);
/// How many subjects are remembered at most.
const REPEAT_CAPACITY: usize = 10_000;

/// Repeated refusals that need no new password each time (a revoked key used again, a session
/// request without its CSRF token) are written to the log at most once a minute per subject, with
/// how many were refused since the previous entry: whoever holds a revoked key cannot fill the log,
/// and the log still says how often it was tried.
#[derive(Debug, Default)]
pub struct RepeatedRefusals {
    by_subject: Mutex<HashMap<String, (Timestamp, u64)>>,
}

impl RepeatedRefusals {
    /// `Some(n)` when this refusal is to be logged, `n` being how many of the subject's refusals
    /// went unlogged since its last entry; `None` when it is only counted.
    pub fn to_log(&self, subject: &str, now: Timestamp) -> Option<u64> {
        let mut map = self.by_subject.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((logged_at, unlogged)) = map.get_mut(subject) {
            if now.duration_since(*logged_at) < REPEAT_WINDOW {
                *unlogged += 1;
                return None;
            }
            let since = *unlogged;
            *logged_at = now;
            *unlogged = 0;
            return Some(since);
        }
        if map.len() >= REPEAT_CAPACITY {
            map.retain(|_, (logged_at, _)| now.duration_since(*logged_at) < REPEAT_WINDOW);
        }
        if map.len() >= REPEAT_CAPACITY {
            // Still full of subjects refused within the minute: log rather than forget the count.
            return Some(0);
        }
        map.insert(subject.to_owned(), (now, 0));
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + seconds).unwrap()
    }

    /// A guesser who tries again the moment each lock ends.
    fn guess_patiently(throttle: &LoginThrottle, username: &str, until: i64) -> Vec<i64> {
        let mut tries = Vec::new();
        let mut now = 0;
        while now < until {
            match throttle.attempt(username, at(now)) {
                Ok(()) => {
                    tries.push(now);
                    now += 1;
                }
                Err(locked) => now = locked.until.duration_since(at(0)).as_secs(),
            }
        }
        tries
    }

    #[test]
    fn locks_start_at_the_fifth_attempt_and_double_up_to_an_hour() {
        let throttle = LoginThrottle::default();
        let tries = guess_patiently(&throttle, "clerk-zhang", 4 * 3600);
        let gaps: Vec<i64> = tries.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            gaps[..12],
            [1, 1, 1, 1, 30, 60, 120, 240, 480, 960, 1920, 3600]
        );
    }

    #[test]
    fn a_patient_guesser_gets_a_few_dozen_tries_a_day() {
        let throttle = LoginThrottle::default();
        let tries = guess_patiently(&throttle, "clerk-zhang", 86_400);
        assert!((20..=40).contains(&tries.len()), "{}", tries.len());
        let week = guess_patiently(&LoginThrottle::default(), "clerk-li", 7 * 86_400);
        assert!(week.len() <= 7 * 24 + 20, "{}", week.len());
    }

    #[test]
    fn a_burst_gets_no_more_tries_than_a_sequence() {
        let throttle = LoginThrottle::default();
        let admitted = (0..40)
            .filter(|_| throttle.attempt("clerk-zhang", at(0)).is_ok())
            .count();
        assert_eq!(admitted, FREE_ATTEMPTS as usize);
    }

    #[test]
    fn only_the_first_refusal_of_a_lock_is_to_be_logged() {
        let throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle.attempt("clerk-zhang", at(0)).unwrap();
        }
        let firsts: Vec<bool> = (0..3)
            .map(|_| throttle.attempt("clerk-zhang", at(1)).unwrap_err().first)
            .collect();
        assert_eq!(firsts, [true, false, false]);
        throttle.attempt("clerk-zhang", at(30)).unwrap();
        assert_eq!(
            throttle.attempt("clerk-zhang", at(31)),
            Err(Locked {
                until: at(90),
                first: true
            })
        );
    }

    #[test]
    fn a_success_lifts_the_lock_and_a_quiet_day_forgives() {
        let throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle.attempt("clerk-zhang", at(0)).unwrap();
        }
        assert!(throttle.attempt("clerk-zhang", at(1)).is_err());
        assert!(
            throttle.attempt("clerk-wang", at(1)).is_ok(),
            "others unaffected"
        );
        throttle.succeeded("clerk-zhang");
        for n in 0..4 {
            throttle.attempt("clerk-zhang", at(2 + n)).unwrap();
        }
        throttle.attempt("clerk-zhang", at(100_000)).unwrap();
        assert!(
            throttle.attempt("clerk-zhang", at(100_001)).is_ok(),
            "four attempts a day ago are forgiven"
        );
    }

    #[test]
    fn a_flood_of_names_forgets_no_count_of_a_name_being_guessed_at() {
        let throttle = LoginThrottle::default();
        for n in 0..12 {
            let _ = throttle.attempt("clerk-zhang", at(n));
        }
        let guessed = guess_patiently(&throttle, "clerk-zhang", 3 * 3600);
        let after_lock = 3 * 3600 + 3600;
        for n in 0..(CAPACITY + 10) {
            throttle
                .attempt(&format!("guess-{n}"), at(after_lock))
                .unwrap();
        }
        assert!(throttle.attempt("clerk-zhang", at(after_lock + 1)).is_ok());
        assert!(
            throttle.attempt("clerk-zhang", at(after_lock + 2)).is_err(),
            "one try after the lock, then locked again ({} guessed before)",
            guessed.len()
        );
    }

    #[test]
    fn the_tracked_usernames_stay_bounded_and_a_flood_frees_no_lock() {
        let throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle.attempt("clerk-zhang", at(0)).unwrap();
        }
        for n in 0..(CAPACITY + 10) {
            throttle.attempt(&format!("guess-{n}"), at(5)).unwrap();
        }
        let tracked = throttle.by_username.lock().unwrap().len();
        assert!(tracked <= CAPACITY, "{tracked}");
        assert_eq!(
            throttle.attempt("clerk-zhang", at(6)).unwrap_err().until,
            at(30)
        );
    }

    #[test]
    fn a_repeated_refusal_is_logged_once_a_minute_with_the_count_between() {
        let refusals = RepeatedRefusals::default();
        let logged: Vec<Option<u64>> = [0, 10, 20, 59, 60, 61, 200]
            .into_iter()
            .map(|t| refusals.to_log("key:k1", at(t)))
            .collect();
        assert_eq!(logged, [Some(0), None, None, None, Some(3), None, Some(1)]);
        assert_eq!(refusals.to_log("key:k2", at(10)), Some(0), "per subject");
    }
}
