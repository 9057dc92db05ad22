//! A stateful operator's side of a checkpoint. Records of an epoch above the one the
//! operator is in are stashed, not applied; when the operator's input frontier closes
//! its epoch `k`, it hands its state to the checkpoint as part of snapshot `k`, moves to
//! `k + 1` (its capabilities follow, so downstream can close `k` too) and applies what
//! was stashed for `k + 1`. So an output sent at an epoch up to `k` is reflected in
//! snapshot `k`, and nothing of a later epoch is.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use timely::dataflow::operators::Capability;

use super::coordinator::{operator_part, Checkpoints};
use super::stamp::{self, Stamp};
use super::Epoch;
use crate::key::GroupKey;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// One operator instance's epoch bookkeeping; inert (everything applies at once) when
/// the run does not checkpoint.
pub struct EpochCut<T> {
    checkpoints: Option<Arc<Checkpoints>>,
    part: String,
    node: usize,
    current: Epoch,
    /// Per epoch: the least watermark its records travelled at, and the records.
    stash: BTreeMap<Epoch, (EventTime, Vec<T>)>,
    ended: bool,
    /// This worker's global index and the run's worker count, to keep restored keys.
    worker: (usize, usize),
}

impl<T> EpochCut<T> {
    /// The cut of the next stateful operator built on this worker.
    pub fn new(ctx: &WorkerContext) -> EpochCut<T> {
        let node = ctx.checkpoint_nodes.fetch_add(1, Ordering::Relaxed);
        let checkpoints = ctx.checkpoints.clone();
        EpochCut {
            current: checkpoints.as_ref().map_or(0, |c| c.first_epoch),
            checkpoints,
            part: operator_part(node, ctx.worker.index),
            node,
            stash: BTreeMap::new(),
            ended: false,
            worker: (ctx.worker.index, ctx.worker.peers),
        }
    }

    /// [`EpochCut::new`], resumed: each old worker's state of this operator goes to
    /// `load` with the keys this worker owns (a failure fails the run, naming `what`),
    /// then `cap` moves into the current epoch.
    pub fn resume<E: std::fmt::Display>(
        ctx: &WorkerContext,
        what: &str,
        cap: &mut Capability<Stamp>,
        mut load: impl FnMut(&[u8], &dyn Fn(&GroupKey) -> bool) -> Result<(), E>,
    ) -> EpochCut<T> {
        let cut = EpochCut::new(ctx);
        cut.restore(|bytes| {
            if let Err(e) = load(bytes, &|k| cut.owns(k)) {
                ctx.fail(format!("{what}: cannot resume from the checkpoint: {e}"));
            }
        });
        cut.enter(cap);
        cut
    }

    /// Whether the run checkpoints.
    pub fn active(&self) -> bool {
        self.checkpoints.is_some()
    }

    /// The epoch the operator is in: its output goes out at this epoch.
    pub fn current(&self) -> Epoch {
        self.current
    }

    /// Moves `cap` into the operator's current epoch (its outputs go out there), keeping
    /// its watermark; nothing to do when the run does not checkpoint.
    pub fn enter(&self, cap: &mut Capability<Stamp>) {
        if self.active() {
            cap.downgrade(&stamp::stamp(cap.time().outer, self.current));
        }
    }

    /// Calls `load` with each old worker's state of this operator, when resuming.
    pub fn restore(&self, mut load: impl FnMut(&[u8])) {
        if let Some(c) = &self.checkpoints {
            for bytes in c.operator_states(self.node) {
                load(bytes);
            }
        }
    }

    /// Whether this worker owns `key` under the current worker count (restored state
    /// of every old worker is filtered by this: rescaling).
    pub fn owns(&self, key: &GroupKey) -> bool {
        // One worker owns every key: no need to hash it.
        self.worker.1 == 1 || (key.route() % self.worker.1 as u64) as usize == self.worker.0
    }

    /// Takes `item`, which arrived at `epoch` under watermark `at`: returned to be
    /// applied now, or stashed until the operator reaches its epoch.
    pub fn admit(&mut self, epoch: Epoch, at: EventTime, item: T) -> Option<T> {
        if self.checkpoints.is_none() || epoch <= self.current || self.ended {
            return Some(item);
        }
        let (least, items) = self.stash.entry(epoch).or_insert_with(|| (at, Vec::new()));
        *least = (*least).min(at);
        items.push(item);
        None
    }

    /// The least watermark a stashed record travelled at. An operator must not act on
    /// a watermark past it (fire a window): without checkpoints those records would
    /// have been applied before the frontier could pass them.
    pub fn floor(&self) -> Option<EventTime> {
        self.stash.values().map(|(least, _)| *least).min()
    }

    /// Whether the input (`frontier`) ended with the run going on: everything stashed is
    /// then snapshotted epoch by epoch before the end of input acts.
    pub fn ending(&self, frontier: &[Stamp], stopped: bool) -> bool {
        frontier.is_empty() && self.checkpoints.is_some() && !stopped
    }

    /// The watermark an operator may act on: `watermark` held below the stash's
    /// [`floor`](EpochCut::floor), except when a stopped run's input is gone (its stash
    /// is thrown away).
    pub fn bound(&self, watermark: EventTime, frontier: &[Stamp], ending: bool) -> EventTime {
        match self.floor() {
            Some(f) if !frontier.is_empty() || ending => watermark.min(f),
            _ => watermark,
        }
    }

    /// Whether `frontier` has closed the current epoch (never for an ended input: see
    /// [`EpochCut::end`]).
    pub fn closing(&self, frontier: &[Stamp]) -> bool {
        self.checkpoints.is_some()
            && !frontier.is_empty()
            && stamp::epoch_closed(frontier, self.current)
    }

    /// Stores `state` as this operator's part of the current epoch's checkpoint and
    /// moves to the next epoch; returns what was stashed for it, to apply now.
    pub fn save(&mut self, state: Vec<u8>) -> Vec<T> {
        if let Some(c) = &self.checkpoints {
            c.submit(self.current, &self.part, state);
        }
        self.current += 1;
        self.stash
            .remove(&self.current)
            .map(|(_, items)| items)
            .unwrap_or_default()
    }

    /// Whether records of later epochs wait in the stash.
    pub fn stashed(&self) -> bool {
        !self.stash.is_empty()
    }

    /// The input ended and everything stashed was applied: `state` stands for this
    /// operator in the current and every later checkpoint. Not called when the run
    /// was stopped (its windows are discarded, which no checkpoint may record).
    pub fn end(&mut self, state: &[u8]) {
        if self.ended {
            return;
        }
        self.ended = true;
        if let Some(c) = &self.checkpoints {
            c.finish(self.current, &self.part, state.to_vec());
        }
    }

    /// Whether the input has ended (see [`EpochCut::end`]).
    pub fn ended(&self) -> bool {
        self.ended
    }
}

/// The epoch of a message: the least inner coordinate of its stamp's elements.
pub fn epoch_of(elements: &[Stamp]) -> Epoch {
    elements.iter().map(|s| s.inner).min().unwrap_or(0)
}
