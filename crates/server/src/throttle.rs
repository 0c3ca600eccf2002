//! Password guessing is slowed per username: after [`FREE_FAILURES`] wrong logins in a row, the
//! username is locked for 30 s, doubling with each further failure up to an hour. A locked
//! username is refused before its password is checked, so a guesser learns nothing and costs no
//! hashing. Unknown usernames are counted the same way, so a lock reveals nothing about which
//! users exist. The counts live in the server process (a restart forgets them; servers behind one
//! balancer count separately) and are bounded in number.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Wrong logins allowed before a username is locked.
pub const FREE_FAILURES: u32 = 5;
/// Failures older than this are forgiven.
const FORGIVEN_AFTER: SignedDuration = SignedDuration::from_mins(15);
const FIRST_LOCK_SECONDS: i64 = 30;
const LONGEST_LOCK_SECONDS: i64 = 3600;
/// How many usernames are tracked at most; beyond it the stalest are forgotten first.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Timestamp,
    locked_until: Option<Timestamp>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_username: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// When the username is locked at `now`, until when.
    pub fn locked_until(&self, username: &str, now: Timestamp) -> Option<Timestamp> {
        let map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&normalise(username))
            .and_then(|f| f.locked_until)
            .filter(|until| *until > now)
    }

    /// Counts a wrong login; returns the lock it brings, if any.
    pub fn failed(&self, username: &str, now: Timestamp) -> Option<Timestamp> {
        let mut map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            forget_stalest(&mut map, now);
        }
        let entry = map.entry(normalise(username)).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) > FORGIVEN_AFTER {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        entry.locked_until = lock_after(entry.count).and_then(|d| now.checked_add(d).ok());
        entry.locked_until
    }

    /// A successful login forgets the username's failures.
    pub fn succeeded(&self, username: &str) {
        let mut map = self.by_username.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&normalise(username));
    }
}

/// The lock after `failures` wrong logins in a row: none for the first few, then 30 s doubling.
fn lock_after(failures: u32) -> Option<SignedDuration> {
    let beyond = failures.checked_sub(FREE_FAILURES)?;
    let seconds = FIRST_LOCK_SECONDS
        .checked_shl(beyond.min(20))
        .unwrap_or(LONGEST_LOCK_SECONDS)
        .min(LONGEST_LOCK_SECONDS);
    Some(SignedDuration::from_secs(seconds))
}

/// Usernames differ only in case and surrounding space count as one, so a guesser cannot
/// multiply their tries by spelling a name differently.
fn normalise(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Makes room: drops what is forgiven or whose lock has passed, then, if that is not enough, half
/// of the rest, unlocked and oldest first (a flood of made-up names must not free a locked one).
fn forget_stalest(map: &mut HashMap<String, Failures>, now: Timestamp) {
    map.retain(|_, f| {
        now.duration_since(f.last) <= FORGIVEN_AFTER || f.locked_until.is_some_and(|t| t > now)
    });
    if map.len() >= CAPACITY {
        let mut order: Vec<(bool, Timestamp, String)> = map
            .iter()
            .map(|(name, f)| {
                (
                    f.locked_until.is_some_and(|t| t > now),
                    f.last,
                    name.clone(),
                )
            })
            .collect();
        order.sort_unstable();
        for (_, _, name) in order.into_iter().take(CAPACITY / 2) {
            map.remove(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + seconds).unwrap()
    }

    #[test]
    fn the_first_failures_lock_nothing_then_locks_double_up_to_an_hour() {
        let throttle = LoginThrottle::default();
        let mut locks = Vec::new();
        for n in 0..14 {
            let lock = throttle.failed("clerk-zhang", at(n));
            locks.push(lock.map(|until| until.duration_since(at(n)).as_secs()));
        }
        assert_eq!(
            locks,
            [
                None,
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                Some(3600),
                Some(3600),
                Some(3600)
            ]
        );
    }

    #[test]
    fn a_lock_holds_until_its_time_and_a_success_forgets() {
        let throttle = LoginThrottle::default();
        for n in 0..5 {
            throttle.failed("Clerk-Zhang ", at(n));
        }
        assert_eq!(throttle.locked_until("clerk-zhang", at(10)), Some(at(34)));
        assert_eq!(throttle.locked_until("CLERK-ZHANG", at(33)), Some(at(34)));
        assert_eq!(throttle.locked_until("clerk-zhang", at(34)), None);
        assert_eq!(throttle.locked_until("clerk-li", at(10)), None);
        throttle.succeeded("clerk-zhang");
        assert_eq!(throttle.failed("clerk-zhang", at(40)), None);
    }

    #[test]
    fn failures_a_quarter_hour_apart_are_forgiven() {
        let throttle = LoginThrottle::default();
        for n in 0..4 {
            throttle.failed("clerk-zhang", at(n * 901));
        }
        assert_eq!(throttle.failed("clerk-zhang", at(4 * 901)), None);
    }

    #[test]
    fn the_tracked_usernames_stay_bounded_and_a_flood_frees_no_lock() {
        let throttle = LoginThrottle::default();
        for n in 0..5 {
            throttle.failed("clerk-zhang", at(n));
        }
        for n in 0..(CAPACITY + 10) {
            throttle.failed(&format!("guess-{n}"), at(5));
        }
        let tracked = throttle.by_username.lock().unwrap().len();
        assert!(tracked <= CAPACITY, "{tracked}");
        assert_eq!(throttle.locked_until("clerk-zhang", at(6)), Some(at(34)));
    }
}
