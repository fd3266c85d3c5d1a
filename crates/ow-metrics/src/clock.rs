//! Time sources. The alarm evaluator and the store take "now" from a [`Clock`], so tests run
//! on a [`FakeClock`].

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time in epoch milliseconds UTC.
pub trait Clock: Send + Sync {
    /// Now, in ms since the Unix epoch (UTC).
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct FakeClock {
    now_ms: AtomicI64,
}

impl FakeClock {
    /// A fake clock reading `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        FakeClock {
            now_ms: AtomicI64::new(now_ms),
        }
    }

    /// Sets the time (ms).
    pub fn set_ms(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `delta_ms`.
    pub fn advance_ms(&self, delta_ms: i64) {
        self.now_ms.fetch_add(delta_ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}
