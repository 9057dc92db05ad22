//! Replay at a speed: releases a recording's records when the clock reaches their event
//! time, scaled (`replay: 60x` plays an hour of recording in a minute), so a file plays
//! like a live device.

use std::collections::VecDeque;
use std::sync::Arc;

use weir_engine::clock::Clock;
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus};
use weir_engine::value::{Record, Value};

/// Wraps a reader and paces its records by the event time in slot `slot`.
///
/// The first record anchors the timelines: a record with event time `t` is released
/// when the clock reaches `start + (t − t₀) / speed`. Records earlier than ones already
/// released (out of order in the file) are released at once, as a live device would send
/// them late. Records without a time are passed on at once (the source reports them).
pub struct PacedReader {
    inner: Box<dyn SourceReader>,
    slot: usize,
    speed: f64,
    clock: Arc<dyn Clock>,
    /// (first event time, clock time it was released at).
    anchor: Option<(i64, i64)>,
    pending: VecDeque<Record>,
    scratch: Vec<Record>,
    inner_done: bool,
}

impl PacedReader {
    /// Paces `inner` at `speed` times real time by the timestamps in `slot`.
    pub fn new(
        inner: Box<dyn SourceReader>,
        slot: usize,
        speed: f64,
        clock: Arc<dyn Clock>,
    ) -> PacedReader {
        PacedReader {
            inner,
            slot,
            speed,
            clock,
            anchor: None,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            inner_done: false,
        }
    }

    /// The clock time at which event time `t` is due.
    fn due(&self, (t0, start): (i64, i64), t: i64) -> i64 {
        start.saturating_add(((t - t0) as f64 / self.speed).round() as i64)
    }
}

impl SourceReader for PacedReader {
    fn commit(&mut self) {
        self.inner.commit();
    }

    fn stop(&mut self) -> u64 {
        self.inner.stop()
    }

    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        // Read ahead at most one batch, so memory stays bounded however slow the pace.
        if !self.inner_done && self.pending.len() < max {
            self.scratch.clear();
            let status = self.inner.poll(&mut self.scratch, bad, max)?;
            self.inner_done = status == SourceStatus::Finished;
            self.pending.extend(self.scratch.drain(..));
        }
        let now = self.clock.now();
        let mut released = 0;
        while released < max {
            let Some(record) = self.pending.front() else {
                break;
            };
            if let Some(&Value::Time(t)) = record.get(self.slot) {
                let anchor = *self.anchor.get_or_insert((t, now));
                if self.due(anchor, t) > now {
                    break;
                }
            }
            out.extend(self.pending.pop_front());
            released += 1;
        }
        Ok(if self.pending.is_empty() && self.inner_done {
            SourceStatus::Finished
        } else if released > 0 {
            SourceStatus::Ready
        } else {
            SourceStatus::Idle
        })
    }
}
