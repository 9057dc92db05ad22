//! Timely operators, one family per file.

pub mod alert;
pub mod alert_group;
pub mod combine;
pub mod count_window;
pub mod dedupe;
pub mod detect;
pub mod exchange;
pub mod flow;
pub mod forecast;
pub mod infer;
pub mod join;
pub mod lookup;
pub mod meter;
pub mod ordered;
pub mod processing_window;
pub mod sink;
pub mod source;
pub mod state_report;
pub mod stateless;
pub mod window_agg;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::generic::OutputBuilderSession;
use timely::dataflow::operators::Capability;
use timely::dataflow::Stream;

use crate::checkpoint::cut::{epoch_of, EpochCut};
use crate::checkpoint::keyed::Pending;
use crate::checkpoint::stamp::{self, Stamp};
use crate::event::Event;

/// A stream of events whose timely timestamp is the watermark they travel under and the
/// checkpoint epoch they belong to (see [`crate::checkpoint::stamp`]).
pub type EventStream<'scope> = Stream<'scope, Stamp, Vec<Event>>;

/// An operator's output of events while it runs: each session, at a capability, sends
/// events at that capability's stamp.
pub(crate) type EventOutput<'a> =
    OutputBuilderSession<'a, Stamp, CapacityContainerBuilder<Vec<Event>>>;

/// Buffers one message's events (`elements` its stamp) by time, each behind the watermark
/// moved up to it so that a key's state sees time move forward only, or stashes them
/// for a later epoch; false if the message carries no time.
pub(crate) fn take_at_watermark(
    pending: &mut Pending,
    elements: &[Stamp],
    containers: std::slice::IterMut<'_, Vec<Event>>,
    epochs: &mut EpochCut<Event>,
) -> bool {
    let Some(now) = stamp::least_time(elements) else {
        return false;
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
    true
}

/// Sends `events`, in order, each at its event time (or `cap`'s, if later) in `cap`'s
/// epoch: one session per run of equal stamps.
pub(crate) fn send_runs(output: &mut EventOutput<'_>, cap: &Capability<Stamp>, events: &[Event]) {
    for (at, run) in stamp::runs(events, cap.time()) {
        output
            .session(&cap.delayed(&at))
            .give_iterator(run.iter().cloned());
    }
}
