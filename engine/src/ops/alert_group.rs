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
use super::EventStream;
use crate::alert::group::{GroupSpec, Groups, SavedGroups, SavedGroupsRef};
use crate::checkpoint::cut::{epoch_of, EpochCut};
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
        let mut pending = Pending::new();
        let mut groups = Groups::new(&spec);
        let mut cap = cap;
        let mut epochs: EpochCut<Event> =
            EpochCut::resume(&ctx, "alert group", &mut cap, |bytes, owns| {
                restore(bytes, &mut groups, &mut pending, &spec.by, owns)
            });
        let mut held: Option<Capability<Stamp>> = Some(cap);
        move |(input, frontier), output| {
            let Some(cap) = held.as_mut() else {
                input.for_each_stamp(|_, _| {});
                return;
            };
            input.for_each_stamp(|message, containers| {
                let elements = message.stamp().elements();
                let Some(now) = stamp::least_time(elements) else {
                    return;
                };
                let epoch = epoch_of(elements);
                for container in containers {
                    for mut event in container.drain(..) {
                        event.time = event.time.max(now);
                        if let Some(event) = epochs.admit(epoch, now, event) {
                            pending.entry(event.time).or_default().push(event);
                        }
                    }
                }
            });
            let frontier = frontier.frontier();
            let ending = epochs.ending(&frontier, ctx.stop.is_requested());
            let watermark = stamp::watermark(&frontier).unwrap_or(EventTime::MAX);
            let mut send = |cap: &Capability<Stamp>, out: &mut Vec<Event>| {
                out.sort_by_key(|e| e.time);
                for (at, run) in stamp::runs(out, cap.time()) {
                    output
                        .session(&cap.delayed(&at))
                        .give_iterator(run.iter().cloned());
                }
                out.clear();
            };
            let mut out = Vec::new();
            let limit = epochs.bound(watermark, &frontier, ending);
            advance(&mut pending, &mut groups, limit, &mut out);
            send(cap, &mut out);
            // Each epoch closed (or, at the end of input, each stashed one): snapshot, move
            // the output to the next epoch, take in what was stashed for it.
            while epochs.closing(&frontier) || (ending && epochs.stashed()) {
                let saved = snapshot(&groups, &pending);
                let Some(bytes) = or_fail("alert group", saved, &ctx) else {
                    break;
                };
                for event in epochs.save(bytes) {
                    pending.entry(event.time).or_default().push(event);
                }
                epochs.enter(cap);
                let limit = epochs.bound(watermark, &frontier, ending);
                advance(&mut pending, &mut groups, limit, &mut out);
                send(cap, &mut out);
            }
            if frontier.is_empty() {
                groups.fire_timers(EventTime::MAX, &mut out);
                send(cap, &mut out);
                if ending {
                    if let Some(b) = or_fail("alert group", snapshot(&groups, &pending), &ctx) {
                        epochs.end(&b);
                    }
                }
                held = None;
            } else if let Some(next) = stamp::advanced_to(cap.time(), limit) {
                cap.downgrade(&next);
            }
            let size = || {
                let kept = groups.size();
                StateSize {
                    keys: kept.keys,
                    bytes: kept.bytes + pending_bytes(&pending),
                }
            };
            if let Some(later) = report.report(&ctx, held.is_none(), size) {
                activator.activate_after(later);
            }
        }
    })
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

fn snapshot(groups: &Groups, pending: &Pending) -> Result<Vec<u8>, bincode::Error> {
    bincode::serialize(&SnapshotOut {
        groups: groups.saved(),
        pending,
    })
}

/// Adds one old worker's snapshot, keeping the groups `owns` accepts.
fn restore(
    bytes: &[u8],
    groups: &mut Groups,
    pending: &mut Pending,
    by: &[usize],
    owns: &dyn Fn(&GroupKey) -> bool,
) -> Result<(), bincode::Error> {
    let old: SnapshotIn = bincode::deserialize(bytes)?;
    groups.restore(old.groups, owns);
    load_pending(old.pending, by, owns, pending);
    Ok(())
}
