//! The clock, passed in: the system time in production, a settable one in tests.

use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> jiff::Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A clock that shows what it is set to.
#[derive(Debug)]
pub struct FixedClock(Mutex<jiff::Timestamp>);

impl FixedClock {
    pub fn new(now: jiff::Timestamp) -> Self {
        Self(Mutex::new(now))
    }

    pub fn set(&self, now: jiff::Timestamp) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = now;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|poisoned| *poisoned.into_inner())
    }
}
