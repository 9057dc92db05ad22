//! Replay at a speed: releases a recording's records when the clock reaches their event
//! time, scaled (`replay: 60x` plays an hour of recording in a minute), so a file plays
//! like a live device.
//!
//! Under checkpoints its position is the wrapped reader's position before the oldest
//! batch still waiting in the pacer, and how many records of that batch were released:
//! a restore reads that batch again and drops what was released. Pacing starts again at
//! the resume (the first record released anchors the timelines anew).

use std::collections::VecDeque;
use std::sync::Arc;

use weir_engine::checkpoint::{Epoch, SourcePosition};
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
    /// The batches in `pending`, oldest first: the wrapped reader's position before it
    /// was read (`None`: not resumable) and its number of records.
    batches: VecDeque<(Option<Vec<u8>>, usize)>,
    /// Records of the oldest batch released (or, after a restore, dropped).
    front_released: usize,
    /// After a restore: records of the first batch read again that were released before.
    skip: usize,
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
            batches: VecDeque::new(),
            front_released: 0,
            skip: 0,
        }
    }

    /// Reads a batch from the wrapped reader into `pending`, noting where it starts.
    fn read_batch(&mut self, bad: &mut Vec<BadRecord>, max: usize) -> Result<(), IoError> {
        // The file source's position is a pure function of what it has read, so asking
        // between cuts is harmless.
        let before = self.inner.position(0)?;
        self.scratch.clear();
        let status = self.inner.poll(&mut self.scratch, bad, max)?;
        self.inner_done = status == SourceStatus::Finished;
        let n = self.scratch.len();
        let skipped = self.skip.min(n);
        self.skip -= skipped;
        if n > skipped {
            if self.batches.is_empty() {
                self.front_released = skipped;
            }
            self.batches.push_back((before, n));
            self.pending.extend(self.scratch.drain(skipped..));
        }
        Ok(())
    }

    /// Counts one released record against the oldest batch.
    fn released_one(&mut self) {
        self.front_released += 1;
        if self
            .batches
            .front()
            .is_some_and(|(_, n)| *n == self.front_released)
        {
            self.batches.pop_front();
            self.front_released = 0;
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
            self.read_batch(bad, max)?;
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
            self.released_one();
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

    /// How many records of the oldest waiting batch were released, then the wrapped
    /// reader's position before that batch (its current one when none waits).
    fn position(&mut self, epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let (inner, released) = match self.batches.front() {
            Some((before, _)) => (before.clone(), self.front_released),
            None => (self.inner.position(epoch)?, self.skip),
        };
        Ok(inner.map(|inner| {
            let mut bytes = (released as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(&inner);
            bytes
        }))
    }

    /// Hands the wrapped reader its positions and drops, when reading again, what was
    /// released before the cut (a paced file is read by one worker; the counts of the
    /// others are 0).
    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let mut inner = Vec::with_capacity(positions.len());
        self.skip = 0;
        for p in positions {
            let Some((count, bytes)) = p.bytes.split_first_chunk::<8>() else {
                return Err(IoError::Other(
                    "the checkpoint's position of a replayed file is not one".into(),
                ));
            };
            self.skip += u64::from_le_bytes(*count) as usize;
            inner.push(SourcePosition {
                bytes: bytes.to_vec(),
                ..p.clone()
            });
        }
        self.inner.seek(&inner)
    }

    fn checkpoint_complete(&mut self, epoch: Epoch) {
        self.inner.checkpoint_complete(epoch);
    }
}
