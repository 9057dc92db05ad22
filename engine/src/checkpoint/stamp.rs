//! The timely timestamp of every stream: the watermark a record travels under (outer)
//! paired with the checkpoint epoch it belongs to (inner), in the product order.
//!
//! Event-time semantics read only the outer coordinate; checkpoints read only the inner
//! one. Every conversion between the two views lives here, so operators say what they
//! mean ("the watermark", "has epoch k closed") rather than how a product is compared.

use timely::dataflow::Scope;
use timely::order::{PartialOrder, Product};

use super::Epoch;
use crate::time::EventTime;

/// A stream's timestamp: (watermark, epoch), ordered by the product order.
pub type Stamp = Product<EventTime, Epoch>;

/// Builds a dataflow whose streams carry [`Stamp`]s: timely's root scope needs a
/// timestamp that refines `()`, which a product does only as a nested scope of its outer
/// coordinate, so the whole dataflow lives in one child scope of an event-time root.
pub fn scope<R>(root: Scope<'_, EventTime>, build: impl FnOnce(Scope<'_, Stamp>) -> R) -> R {
    root.scoped::<Stamp, R, _>("Stamped", build)
}

/// The stamp at event time `time` in epoch `epoch`.
pub fn stamp(time: EventTime, epoch: Epoch) -> Stamp {
    Product::new(time, epoch)
}

/// The event watermark a frontier promises: the least outer coordinate of its elements
/// (every later stamp is at or after one of them); `None` for an empty frontier.
pub fn watermark(frontier: &[Stamp]) -> Option<EventTime> {
    frontier.iter().map(|s| s.outer).min()
}

/// The least event time of a message's stamp (its elements, usually one), if any.
pub fn least_time(elements: &[Stamp]) -> Option<EventTime> {
    elements.iter().map(|s| s.outer).min()
}

/// Whether a frontier may still deliver a record at event time `time` in some epoch,
/// i.e. the watermark has not passed `time`.
pub fn may_see_time(frontier: &[Stamp], time: EventTime) -> bool {
    let probe = stamp(time, Epoch::MAX);
    frontier.iter().any(|s| s.less_equal(&probe))
}

/// The least epoch a frontier may still deliver (`None` for an empty frontier): every
/// epoch below it is closed at this operator.
pub fn open_epoch(frontier: &[Stamp]) -> Option<Epoch> {
    frontier.iter().map(|s| s.inner).min()
}

/// Whether epoch `epoch` is closed: nothing at that epoch or below can arrive any more.
pub fn epoch_closed(frontier: &[Stamp], epoch: Epoch) -> bool {
    let probe = stamp(EventTime::MAX, epoch);
    !frontier.iter().any(|s| s.less_equal(&probe))
}

/// The stamp at which an operator holding `held` sends output of event time `time`:
/// never before the held watermark, always in the held epoch.
pub fn send_at(held: &Stamp, time: EventTime) -> Stamp {
    stamp(time.max(held.outer), held.inner)
}

/// `held` moved forward to watermark `time` in the same epoch, if that is later.
pub fn advanced_to(held: &Stamp, time: EventTime) -> Option<Stamp> {
    (time > held.outer).then(|| stamp(time, held.inner))
}

/// Records to send, in order, as runs that go out at one stamp each (the record's time,
/// or the held stamp if later; always the held epoch).
pub fn runs<'a>(
    events: &'a [crate::event::Event],
    held: &Stamp,
) -> impl Iterator<Item = (Stamp, &'a [crate::event::Event])> {
    let held = *held;
    let at = move |e: &crate::event::Event| send_at(&held, e.time);
    events
        .chunk_by(move |a, b| at(a) == at(b))
        .map(move |run| (at(&run[0]), run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_reads_only_the_outer_coordinate() {
        let frontier = [stamp(10, 2), stamp(20, 1)];
        assert_eq!(watermark(&frontier), Some(10));
        assert_eq!(watermark(&[]), None);
        assert!(may_see_time(&frontier, 10));
        assert!(!may_see_time(&frontier, 9), "the watermark has passed 9");
        assert!(may_see_time(&frontier, 25));
        assert!(!may_see_time(&[], EventTime::MIN));
    }

    #[test]
    fn epochs_read_only_the_inner_coordinate() {
        let frontier = [stamp(10, 2), stamp(20, 1)];
        assert_eq!(open_epoch(&frontier), Some(1));
        assert!(epoch_closed(&frontier, 0));
        assert!(!epoch_closed(&frontier, 1));
        assert!(!epoch_closed(&frontier, 2));
        assert!(epoch_closed(&[], 7));
        // A frontier at the very end of event time still holds its epoch open.
        assert!(!epoch_closed(&[stamp(EventTime::MAX, 3)], 3));
    }

    #[test]
    fn output_is_sent_no_earlier_than_the_held_stamp() {
        let held = stamp(100, 4);
        assert_eq!(send_at(&held, 50), stamp(100, 4));
        assert_eq!(send_at(&held, 150), stamp(150, 4));
        assert_eq!(advanced_to(&held, 100), None);
        assert_eq!(advanced_to(&held, 101), Some(stamp(101, 4)));
    }
}
