//! Processing time comes from a clock, never from the system time directly, so that tests
//! can drive it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use timely::scheduling::activate::{Activations, SyncActivations};

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

/// Operators with processing-time timers. On the wall clock they wake themselves after
/// the right delay; when a test clock jumps, whoever moved it wakes them all here.
#[derive(Default)]
pub struct ClockWaiters {
    waiters: Mutex<Vec<(SyncActivations, Vec<usize>)>>,
}

impl ClockWaiters {
    /// Registers the operator at `path` of the worker owning `activations`.
    pub fn register(&self, activations: &Rc<RefCell<Activations>>, path: Vec<usize>) {
        let sync = activations.borrow().sync();
        self.waiters.lock().push((sync, path));
    }

    /// Wakes every registered operator (after the clock moved).
    pub fn wake_all(&self) {
        for (sync, path) in self.waiters.lock().iter() {
            // A worker that has shut down needs no waking.
            let _ = sync.activate(path.clone());
        }
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

thread_local! {
    /// The clock of the run this worker thread belongs to, for `now()` in expressions
    /// (compiled closures have no context; each worker is one thread).
    static WORKER_CLOCK: RefCell<Option<std::sync::Arc<dyn Clock>>> = const { RefCell::new(None) };
}

/// Makes `clock` the processing time `now()` reads on this thread.
pub fn install_worker_clock(clock: std::sync::Arc<dyn Clock>) {
    WORKER_CLOCK.with(|c| *c.borrow_mut() = Some(clock));
}

/// Processing time on this worker thread: its run's clock, or the wall clock outside a run.
pub fn worker_now() -> EventTime {
    WORKER_CLOCK
        .with(|c| c.borrow().as_ref().map(|clock| clock.now()))
        .unwrap_or_else(|| WallClock.now())
}
