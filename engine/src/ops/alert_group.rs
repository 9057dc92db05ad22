//! `alert … group by …`: alert events, exchanged by the group fields in front of this
//! operator, are buffered until the watermark passes them and fed to their group in
//! event-time order; a group's notification timer at `t` acts after the alerts at `t`.
//! When the input ends, every pending notification is sent at its own time (there are
//! only finitely many: a group schedules one only when something changed).
//!
//! Checkpointed like the window operator (`checkpoint::cut`): the groups and the alerts
//! still waiting for the watermark are the snapshot of each epoch it closes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::state_report::{pending_bytes, StateReport};
use super::{send_runs, take_at_watermark, EventOutput, EventStream};
use crate::alert::group::{GroupSpec, Groups, SavedGroups, SavedGroupsRef};
use crate::checkpoint::cut::EpochCut;
use crate::checkpoint::keyed::{load_pending, or_fail, Pending};
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::key::GroupKey;
use crate::metrics::operators::StateSize;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// The operator's part of a checkpoint, as written.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    groups: SavedGroupsRef<'a>,
    pending: &'a Pending,
}

/// [`SnapshotOut`] read back.
#[derive(Deserialize)]
struct SnapshotIn {
    groups: SavedGroups,
    pending: Pending,
}

/// What the grouping operator keeps: the alerts waiting for the watermark and the groups.
struct GroupOp {
    pending: Pending,
    groups: Groups,
}

/// Builds the grouping operator, reporting its state as operator `operator`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    spec: &GroupSpec,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let spec = spec.clone();
    let scope = stream.scope();
    stream.unary_frontier(Pipeline, "AlertGroup", move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        let mut report = StateReport::new(operator);
        let mut op = GroupOp {
            pending: Pending::new(),
            groups: Groups::new(&spec),
        };
        let mut cap = cap;
        let mut epochs: EpochCut<Event> =
            EpochCut::resume(&ctx, "alert group", &mut cap, |bytes, owns| {
                op.restore(bytes, &spec.by, owns)
            });
        let mut held: Option<Capability<Stamp>> = Some(cap);
        move |(input, frontier), output| {
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            input.for_each_stamp(|message, containers| {
                op.take(message.stamp().elements(), containers, &mut epochs);
            });
            let frontier = frontier.frontier();
            let ending = epochs.ending(&frontier, ctx.stop.is_requested());
            let watermark = stamp::watermark(&frontier).unwrap_or(EventTime::MAX);
            let limit = epochs.bound(watermark, &frontier, ending);
            op.advance(limit, cap, output);
            // Each epoch closed (or, at the end of input, each stashed one): snapshot, move
            // the output to the next epoch, take in what was stashed for it.
            while epochs.closing(&frontier) || (ending && epochs.stashed()) {
                let Some(bytes) = or_fail("alert group", op.snapshot(), &ctx) else {
                    break;
                };
                for event in epochs.save(bytes) {
                    op.pending.entry(event.time).or_default().push(event);
                }
                epochs.enter(cap);
                op.advance(epochs.bound(watermark, &frontier, ending), cap, output);
            }
            if frontier.is_empty() {
                op.finish(ending, &mut epochs, cap, output, &ctx);
                held = None;
            } else if let Some(next) = stamp::advanced_to(cap.time(), limit) {
                cap.downgrade(&next);
            }
            if let Some(later) = report.report(&ctx, held.is_none(), || op.size()) {
                activator.activate_after(later);
            }
        }
    })
}

impl GroupOp {
    /// Buffers one message's alerts (`elements` its stamp), each at the watermark if it
    /// is behind it, or stashes them for a later epoch.
    fn take(
        &mut self,
        elements: &[Stamp],
        containers: std::slice::IterMut<'_, Vec<Event>>,
        epochs: &mut EpochCut<Event>,
    ) {
        take_at_watermark(&mut self.pending, elements, containers, epochs);
    }

    /// Feeds the alerts the watermark `limit` has passed and sends the notifications
    /// that fire, each at its time in `cap`'s epoch.
    fn advance(&mut self, limit: EventTime, cap: &Capability<Stamp>, output: &mut EventOutput<'_>) {
        let mut out = Vec::new();
        advance(&mut self.pending, &mut self.groups, limit, &mut out);
        send(output, cap, &mut out);
    }

    /// The input ended: every pending notification goes out at its own time, and the
    /// state left stands for every later checkpoint.
    fn finish(
        &mut self,
        ending: bool,
        epochs: &mut EpochCut<Event>,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
        ctx: &WorkerContext,
    ) {
        let mut out = Vec::new();
        self.groups.fire_timers(EventTime::MAX, &mut out);
        send(output, cap, &mut out);
        if ending {
            if let Some(b) = or_fail("alert group", self.snapshot(), ctx) {
                epochs.end(&b);
            }
        }
    }

    /// The groups kept and the bytes of their state and the waiting alerts.
    fn size(&self) -> StateSize {
        let kept = self.groups.size();
        StateSize {
            keys: kept.keys,
            bytes: kept.bytes + pending_bytes(&self.pending),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        bincode::serialize(&SnapshotOut {
            groups: self.groups.saved(),
            pending: &self.pending,
        })
    }

    /// Adds one old worker's snapshot, keeping the groups `owns` accepts.
    fn restore(
        &mut self,
        bytes: &[u8],
        by: &[usize],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        let old: SnapshotIn = bincode::deserialize(bytes)?;
        self.groups.restore(old.groups, owns);
        load_pending(old.pending, by, owns, &mut self.pending);
        Ok(())
    }
}

/// Sends `out` (emptied) in time order, each notification at its time in `cap`'s epoch.
fn send(output: &mut EventOutput<'_>, cap: &Capability<Stamp>, out: &mut Vec<Event>) {
    out.sort_by_key(|e| e.time);
    send_runs(output, cap, out);
    out.clear();
}

/// Feeds the alerts the watermark `limit` has passed to their groups, oldest first, each
/// time after the timers due before it; then fires the timers due before `limit`.
fn advance(pending: &mut Pending, groups: &mut Groups, limit: EventTime, out: &mut Vec<Event>) {
    while let Some(entry) = pending.first_entry() {
        let t = *entry.key();
        if t >= limit {
            break;
        }
        groups.fire_timers(t, out);
        let mut events = entry.remove();
        super::alert::sort_ties(&mut events);
        for event in &events {
            groups.on_alert(event);
        }
    }
    groups.fire_timers(limit, out);
}
