//! Graceful stop: sources end at the next batch; open windows are fired only on `drain`.
//!
//! Input that ends early — a stop with `drain`, or `--limit` reached — is *cut*: the
//! windows still open then fire as early, not final, panes (they may miss records).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// A stop request shared by the signal handler and every worker.
#[derive(Debug)]
pub struct StopHandle {
    requested: AtomicBool,
    drain: AtomicBool,
    /// A source's input was cut by its limit.
    cut: AtomicBool,
    /// The least watermark a cut source had reached (windows that ended before it are
    /// complete; the others are not).
    cut_at: AtomicI64,
    /// The first malformed or undelivered record stops the run (`--strict`).
    strict: AtomicBool,
}

impl Default for StopHandle {
    fn default() -> StopHandle {
        StopHandle {
            requested: AtomicBool::new(false),
            drain: AtomicBool::new(false),
            cut: AtomicBool::new(false),
            cut_at: AtomicI64::new(i64::MAX),
            strict: AtomicBool::new(false),
        }
    }
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

    /// Records that a source stopped at its limit, its watermark at `watermark` when
    /// known (a share with no limit left at all has none to give).
    pub fn mark_cut(&self, watermark: Option<i64>) {
        if let Some(watermark) = watermark {
            self.cut_at.fetch_min(watermark, Ordering::SeqCst);
        }
        self.cut.store(true, Ordering::SeqCst);
    }

    /// The least watermark a source cut by its limit had reached, if one was cut.
    pub fn cut_watermark(&self) -> Option<i64> {
        let at = self.cut_at.load(Ordering::SeqCst);
        (at != i64::MAX).then_some(at)
    }

    /// Whether the input ended early (a limit, or a stop), so windows open at the end
    /// are incomplete.
    pub fn input_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst) || self.is_requested()
    }

    /// Makes the first malformed or undelivered record stop the run; sources then hand
    /// out one record per poll, so nothing read after that record is sent on.
    pub fn set_strict(&self, strict: bool) {
        self.strict.store(strict, Ordering::SeqCst);
    }

    /// Whether the run stops at the first malformed record.
    pub fn is_strict(&self) -> bool {
        self.strict.load(Ordering::Relaxed)
    }
}
