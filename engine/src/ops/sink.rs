//! The sink operator: writes each batch to the process's shared writer and passes the
//! events on, so a pipeline may continue after `to`.
//!
//! Records a sink hands back as undeliverable go to the writing pipeline's `on error to`
//! route (or, without one, to the run's bad-record handler), so they never vanish. The
//! operator also wakes the sink on processing time when it asks to be (a Parquet file
//! that must close after `rotate: 5m` even when no records come).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::CapabilitySet;

use super::EventStream;
use crate::checkpoint::cut::epoch_of;
use crate::checkpoint::stamp::{self, Stamp};
use crate::checkpoint::{Checkpoints, Epoch};
use crate::event::Event;
use crate::io::SinkWriter;
use crate::plan::error_record;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// An `on error to` route: the sink's index in the plan and its writer.
pub type ErrorRoute = (usize, Arc<dyn SinkWriter>);

/// Writes `stream` to `writer` (the `index`-th sink of the plan); records it cannot
/// deliver go to `error_route` (the pipeline's `on error to` sink), if any.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    writer: Arc<dyn SinkWriter>,
    index: usize,
    name: &str,
    error_route: Option<ErrorRoute>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let sink_name = name.to_string();
    let scope = stream.scope();
    stream.unary_frontier(Pipeline, &format!("Sink({name})"), move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        // A test clock that jumps wakes the sink, so it can act on the new time.
        ctx.wake_on_clock(scope.activations(), info.address.to_vec());
        let mut failed = false;
        // When the sink asked to be woken; checked again after every write.
        let mut next_tick: Option<EventTime> = None;
        let mut ticked_once = false;
        let mut held = ctx.checkpoints.as_ref().map(|c| Held {
            me: c.sinks().register(),
            checkpoints: Arc::clone(c),
            stash: BTreeMap::new(),
            alive: CapabilitySet::from_elem(cap),
        });
        move |(input, frontier), output| {
            let mut wrote = false;
            // In arrival order, not grouped by time: a window's panes (and a withdrawal
            // and the pane it withdraws) may go backwards in time and must stay in order.
            let now = ctx.clock.now();
            let mut write = |container: &[Event], failed: &mut bool| {
                if *failed || container.is_empty() {
                    return;
                }
                ctx.metrics
                    .latency
                    .observe(index, ctx.local_index, now, container);
                match writer.write(container) {
                    Ok(()) => {
                        wrote = true;
                        ctx.metrics.sink_records[index]
                            .fetch_add(container.len() as u64, Ordering::Relaxed);
                        hand_back(writer.as_ref(), index, error_route.as_ref(), &ctx);
                    }
                    Err(e) => {
                        // Stop the run rather than lose output silently.
                        *failed = true;
                        ctx.fail(format!("sink `{sink_name}`: {e}"));
                    }
                }
            };
            input.for_each(|cap, container| {
                let epoch = epoch_of(cap.stamp().elements());
                match held.as_mut() {
                    Some(h) if epoch > h.checkpoints.sinks().writable() => {
                        h.stash.entry(epoch).or_default().push(container.clone());
                    }
                    _ => write(container, &mut failed),
                }
                output.session(&cap).give_container(container);
            });
            if let Some(h) = held.as_mut() {
                let waiting = h.advance(
                    &frontier.frontier(),
                    |batch| write(batch, &mut failed),
                    &ctx,
                );
                if waiting {
                    activator.activate_after(Duration::from_millis(2));
                }
            }
            if failed {
                return;
            }
            let now = ctx.clock.now();
            let due = next_tick.is_some_and(|at| at <= now);
            if wrote || due || !ticked_once {
                ticked_once = true;
                match writer.tick() {
                    Ok(at) => next_tick = at,
                    Err(e) => {
                        failed = true;
                        ctx.fail(format!("sink `{sink_name}`: {e}"));
                        return;
                    }
                }
                // Closing a file on time may also hand records back.
                hand_back(writer.as_ref(), index, error_route.as_ref(), &ctx);
                if let Some(at) = next_tick {
                    let wait = at.saturating_sub(ctx.clock.now()).max(1);
                    activator.activate_after(Duration::from_millis(wait as u64));
                }
            }
        }
    })
}

/// A sink operator's place in its process's sink barrier (when the run checkpoints):
/// the batches of epochs it may not write yet.
struct Held {
    checkpoints: Arc<Checkpoints>,
    me: usize,
    stash: BTreeMap<Epoch, Vec<Vec<Event>>>,
    /// Follows the input frontier, and outlives it while batches wait in the stash:
    /// the dataflow must not complete before they are written.
    alive: CapabilitySet<Stamp>,
}

impl Held {
    /// Writes what the barrier now allows and reports how far this operator has
    /// written, until the barrier stops moving. Returns whether it must look again
    /// (something stashed, to write once the barrier reaches it).
    fn advance(
        &mut self,
        frontier: &[Stamp],
        mut write: impl FnMut(&[Event]),
        ctx: &WorkerContext,
    ) -> bool {
        let barrier = self.checkpoints.sinks();
        if !frontier.is_empty() {
            self.alive.downgrade(frontier.iter());
        } else if let Some(&least) = self.stash.keys().next() {
            // The input ended with batches waiting for the barrier: stay alive at their
            // epoch only. Left at the last frontier seen (an older epoch), a sink reading
            // this one's output (a pipeline `from` this one) would keep that epoch open
            // and never report it, and the barrier this sink waits on would wait on it.
            let at: Vec<Stamp> = self
                .alive
                .iter()
                .map(|c| stamp::stamp(c.time().outer, c.time().inner.max(least)))
                .collect();
            self.alive.downgrade(at.iter());
        }
        loop {
            let writable = barrier.writable();
            while let Some(entry) = self.stash.first_entry() {
                if *entry.key() > writable {
                    break;
                }
                for batch in entry.remove() {
                    write(&batch);
                }
            }
            let closed = match stamp::open_epoch(frontier) {
                // Ended: every epoch is closed, but what is stashed is still to write
                // epoch by epoch, each prepared on its own.
                None => Some(self.stash.last_key_value().map_or(Epoch::MAX, |(e, _)| *e)),
                Some(open) => open.checked_sub(1),
            };
            let Some(closed) = closed else {
                return !self.stash.is_empty();
            };
            if closed == Epoch::MAX {
                // Ended, with nothing left to write.
                self.alive.downgrade(frontier.iter());
            }
            // Every closed epoch below the least stashed one is written (what came at
            // an epoch the barrier allowed was written on arrival, the rest is stashed),
            // so the barrier may pass several epochs at once; `MAX` once ended.
            let through = match self.stash.keys().next() {
                Some(&least) if closed != Epoch::MAX => closed.min(least - 1),
                _ => closed,
            };
            barrier.report(self.me, through, &self.checkpoints, &ctx.sinks);
            if barrier.writable() == writable {
                return !self.stash.is_empty();
            }
        }
    }
}

/// Takes the records `writer` (sink `index`) could not deliver and sends them to
/// `route` as error records; without a route (or when the route fails them too) they
/// go to the run's bad-record handler. Every one is counted as undelivered.
pub(crate) fn hand_back(
    writer: &dyn SinkWriter,
    index: usize,
    route: Option<&ErrorRoute>,
    ctx: &WorkerContext,
) {
    let throttled = writer.throttled();
    if throttled > 0 {
        ctx.metrics.sink_throttled[index].fetch_max(throttled, Ordering::Relaxed);
    }
    let back = writer.take_undelivered();
    if back.is_empty() {
        return;
    }
    ctx.metrics.undelivered[index].fetch_add(back.len() as u64, Ordering::Relaxed);
    let Some((route_index, route_writer)) = route.filter(|(i, _)| *i != index) else {
        for bad in &back {
            (ctx.on_bad_record)(bad);
        }
        return;
    };
    // Stamped with processing time, as a source's rejects are.
    let now = ctx.clock.now();
    let events: Vec<Event> = back
        .iter()
        .map(|b| Event::new(now, error_record(b)))
        .collect();
    match route_writer.write(&events) {
        Ok(()) => {
            ctx.metrics.sink_records[*route_index]
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            // The route's own failures have nowhere further to go.
            hand_back(route_writer.as_ref(), *route_index, None, ctx);
        }
        Err(e) => ctx.fail(format!("error route of sink `{}`: {e}", back[0].source)),
    }
}
