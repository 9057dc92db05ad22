//! Graceful stop: sources end at the next batch; open windows are fired only on `drain`.

use std::sync::atomic::{AtomicBool, Ordering};

/// A stop request shared by the signal handler and every worker.
#[derive(Debug, Default)]
pub struct StopHandle {
    requested: AtomicBool,
    drain: AtomicBool,
}

impl StopHandle {
    /// A handle with no stop requested.
    pub fn new() -> StopHandle {
        StopHandle::default()
    }

    /// Asks the run to stop; with `drain`, every open window fires before the end.
    pub fn request(&self, drain: bool) {
        self.drain.store(drain, Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Whether open windows should be discarded rather than fired at the end.
    pub fn discards_open_windows(&self) -> bool {
        self.is_requested() && !self.drain.load(Ordering::SeqCst)
    }
}
