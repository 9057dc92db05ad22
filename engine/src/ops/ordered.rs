//! A keyed operator that sees each key's records in event-time order: records (exchanged
//! by key in front of it, see `plan::physical`) are buffered until the watermark (the
//! input frontier) passes their event time, then handed to the model oldest first and
//! sent on at that time. Records already behind the watermark on arrival are handed over
//! with the next batch, in arrival order. Used by the stateful per-key models (`detect`,
//! `forecast`), count windows and `dedupe`, whose results depend on order.
//!
//! Checkpointed like the window operator (`checkpoint::cut`): records of later epochs are
//! stashed, the watermark acted on never passes the least one they travelled at, and
//! when an epoch closes the model and the records still buffered are its snapshot.

use std::sync::Arc;

use super::state_report::StateReport;

use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::{EventOutput, EventStream};
use crate::checkpoint::cut::{epoch_of, EpochCut};
use crate::checkpoint::keyed::{load_pending, or_fail, Pending};
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;
use crate::key::GroupKey;
use crate::metrics::operators::StateSize;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// The per-key state an ordered operator feeds, saved in checkpoints.
pub trait KeyedModel: 'static {
    /// Takes the next record of its key in event-time order; may change it in place, and
    /// drops it by returning false.
    fn apply(&mut self, event: &mut Event) -> bool;
    /// Every key's state, for a checkpoint.
    fn save(&self) -> Result<Vec<u8>, bincode::Error>;
    /// Adds one old worker's saved state, keeping the keys `owns` accepts.
    fn load(
        &mut self,
        bytes: &[u8],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error>;
    /// The keys with state and an estimate of their bytes (walks every key: called at
    /// most once a second, see `state_report`).
    fn size(&self) -> StateSize;
}

/// The operator's part of a checkpoint.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    model: Vec<u8>,
    pending: Pending,
}

/// What an ordered operator keeps: the model and the records waiting for the watermark.
struct OrderedOp<M> {
    model: M,
    pending: Pending,
}

/// Builds the operator named `name` over `model`, whose keys are the fields `keys`;
/// it reports its state as operator `operator` of the metrics.
pub fn build<'scope, M: KeyedModel>(
    stream: EventStream<'scope>,
    name: &'static str,
    keys: &[usize],
    model: M,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let keys: Arc<[usize]> = keys.into();
    let scope = stream.scope();
    stream.unary_frontier(Pipeline, name, move |cap, info| {
        let activator = scope.activator_for(info.address.clone());
        let mut report = StateReport::new(operator);
        let mut op = OrderedOp {
            model,
            pending: Pending::new(),
        };
        let mut cap = cap;
        let mut epochs: EpochCut<(EventTime, Event)> =
            EpochCut::resume(&ctx, name, &mut cap, |bytes, owns| {
                op.restore(bytes, &keys, owns)
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
            let limit = |epochs: &EpochCut<_>| epochs.bound(watermark, &frontier, ending);
            op.send_due(limit(&epochs), cap, output);
            // Each epoch closed (or, at the end of input, each stashed one): snapshot, move
            // the output to the next epoch, take in what was stashed for it.
            while epochs.closing(&frontier) || (ending && epochs.stashed()) {
                let Some(bytes) = or_fail(name, op.snapshot(), &ctx) else {
                    break;
                };
                let next = epochs.save(bytes);
                epochs.enter(cap);
                for (at, event) in next {
                    op.pending.entry(at).or_default().push(event);
                }
                op.send_due(limit(&epochs), cap, output);
            }
            if ending {
                if let Some(bytes) = or_fail(name, op.snapshot(), &ctx) {
                    epochs.end(&bytes);
                }
            }
            let target = op.pending.keys().next().copied().unwrap_or(watermark);
            let done = frontier.is_empty() && op.pending.is_empty();
            if let Some(later) = report.report(&ctx, done, || op.size()) {
                activator.activate_after(later);
            }
            match done {
                true => held = None,
                false => {
                    let target = target.min(limit(&epochs));
                    if let Some(next) = stamp::advanced_to(cap.time(), target) {
                        cap.downgrade(&next);
                    }
                }
            }
        }
    })
}

impl<M: KeyedModel> OrderedOp<M> {
    /// Buffers one message's records (`elements` its stamp), each at its event time or
    /// the watermark if later, or stashes them for a later epoch.
    fn take(
        &mut self,
        elements: &[Stamp],
        containers: std::slice::IterMut<'_, Vec<Event>>,
        epochs: &mut EpochCut<(EventTime, Event)>,
    ) {
        let seen = stamp::least_time(elements).unwrap_or(EventTime::MIN);
        let epoch = epoch_of(elements);
        for container in containers {
            for event in container.drain(..) {
                let at = event.time.max(seen);
                if let Some((at, event)) = epochs.admit(epoch, seen, (at, event)) {
                    self.pending.entry(at).or_default().push(event);
                }
            }
        }
    }

    /// Hands the records the watermark `limit` has passed to the model and sends what
    /// it kept, each batch at its time in `cap`'s epoch.
    fn send_due(
        &mut self,
        limit: EventTime,
        cap: &Capability<Stamp>,
        output: &mut EventOutput<'_>,
    ) {
        for (at, mut events) in release(&mut self.pending, limit, &mut self.model) {
            let at = stamp::send_at(cap.time(), at);
            output
                .session(&cap.delayed(&at))
                .give_container(&mut events);
        }
    }

    /// The keys with state, and the bytes of the model and the waiting records.
    fn size(&self) -> StateSize {
        let kept = self.model.size();
        StateSize {
            keys: kept.keys,
            bytes: kept.bytes + super::state_report::pending_bytes(&self.pending),
        }
    }

    /// The model and the records still waiting, encoded.
    fn snapshot(&self) -> Result<Vec<u8>, bincode::Error> {
        bincode::serialize(&Snapshot {
            model: self.model.save()?,
            pending: self.pending.clone(),
        })
    }

    /// Adds one old worker's snapshot, keeping the keys `owns` accepts.
    fn restore(
        &mut self,
        bytes: &[u8],
        keys: &[usize],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        let old: Snapshot = bincode::deserialize(bytes)?;
        self.model.load(&old.model, owns)?;
        load_pending(old.pending, keys, owns, &mut self.pending);
        Ok(())
    }
}

/// Takes out, oldest first, the records the watermark `limit` has passed, each batch fed
/// to `model` and holding what it kept.
fn release<M: KeyedModel>(
    pending: &mut Pending,
    limit: EventTime,
    model: &mut M,
) -> Vec<(EventTime, Vec<Event>)> {
    let later = pending.split_off(&limit);
    let due = std::mem::replace(pending, later);
    let mut out = Vec::with_capacity(due.len());
    for (at, mut events) in due {
        // Events of one time may arrive in any order (timely groups an input's messages
        // by capability, and a source's records of one time can travel under different
        // ones): order ties by content so every layout agrees.
        events.sort_by(|a, b| {
            a.time.cmp(&b.time).then_with(|| {
                a.record
                    .iter()
                    .zip(&b.record)
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        });
        events.retain_mut(|event| model.apply(event));
        if !events.is_empty() {
            out.push((at, events));
        }
    }
    out
}
