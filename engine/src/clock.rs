//! Processing time comes from a clock, never from the system time directly, so that tests
//! can drive it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::time::EventTime;

/// A source of processing time in epoch milliseconds.
pub trait Clock: Send + Sync {
    /// The current processing time.
    fn now(&self) -> EventTime;
}

/// The wall clock, for `weir run`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> EventTime {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to, for tests.
#[derive(Debug, Default)]
pub struct TestClock {
    now: AtomicI64,
}

impl TestClock {
    /// A test clock at `start`.
    pub fn new(start: EventTime) -> TestClock {
        TestClock {
            now: AtomicI64::new(start),
        }
    }

    /// Moves the clock to `time` (never backwards).
    pub fn advance_to(&self, time: EventTime) {
        self.now.fetch_max(time, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> EventTime {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_forward() {
        let clock = TestClock::new(10);
        clock.advance_to(20);
        clock.advance_to(15);
        assert_eq!(clock.now(), 20);
    }
}
