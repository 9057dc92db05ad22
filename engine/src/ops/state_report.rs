//! How keyed operators publish the keys and state bytes they hold: at most once a
//! second (counting the state walks every key), and again a second after a change
//! that came too soon, so the figure never stays stale while the run is quiet.

use std::time::{Duration, Instant};

use crate::checkpoint::keyed::Pending;
use crate::event::Event;
use crate::metrics::operators::StateSize;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// The least time between two reports of one operator.
const EVERY: Duration = Duration::from_secs(1);

/// The state reporting of one keyed operator on one worker.
pub struct StateReport {
    operator: Option<usize>,
    last: Option<Instant>,
}

impl StateReport {
    /// Reports for global operator index `operator` (nothing when `None`).
    pub fn new(operator: Option<usize>) -> StateReport {
        StateReport {
            operator,
            last: None,
        }
    }

    /// Publishes `size()` unless the last report was under a second ago (or `force`);
    /// returns when to be woken to report what was skipped.
    pub fn report(
        &mut self,
        ctx: &WorkerContext,
        force: bool,
        size: impl FnOnce() -> StateSize,
    ) -> Option<Duration> {
        let operator = self.operator?;
        let now = Instant::now();
        if let Some(last) = self.last.filter(|_| !force) {
            let since = now.duration_since(last);
            if since < EVERY {
                return Some(EVERY - since);
            }
        }
        self.last = Some(now);
        ctx.metrics
            .operators
            .set_state(operator, ctx.local_index, size());
        None
    }
}

/// The in-line bytes of the records waiting for the watermark (their values' heap is
/// not counted).
pub fn pending_bytes(pending: &Pending) -> u64 {
    let slot = std::mem::size_of::<EventTime>() + std::mem::size_of::<Vec<Event>>();
    let event = std::mem::size_of::<Event>();
    let value = std::mem::size_of::<crate::value::Value>();
    let bytes: usize = pending
        .values()
        .map(|events| {
            slot + events
                .iter()
                .map(|e| event + e.record.len() * value)
                .sum::<usize>()
        })
        .sum();
    bytes as u64
}
