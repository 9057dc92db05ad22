//! Flow control across the exchange: a source reads on only while its watermark is not
//! ahead of the frontier its exchanges have reached, so no worker runs ahead of another
//! and the queues between workers hold at most one activation per source worker.
//!
//! A [`Gate`] belongs to one source on one worker; each exchange reached from that source
//! through stateless operators only takes a [`Slot`] of it and reports its input frontier
//! there. Timely's frontiers are global (every worker's records in flight to an exchange
//! count), so the frontier passes a source's watermark only once everything it sent has
//! arrived where it goes. Exchanges behind a window or a join are not counted: those hold
//! capabilities that wait on the source itself.

use std::cell::RefCell;
use std::rc::Rc;

use timely::scheduling::Activator;

use crate::time::{EventTime, MIN_WATERMARK};

/// The pacing rule: a source whose watermark is `watermark` may read another activation
/// when the lowest frontier of its exchanges (`None`: no exchange, or all of them done)
/// has caught up with it.
pub fn may_read(watermark: EventTime, frontier: Option<EventTime>) -> bool {
    frontier.is_none_or(|f| watermark <= f)
}

#[derive(Default)]
struct GateState {
    frontiers: Vec<EventTime>,
    /// The source waiting for a frontier to move, woken when one does.
    paused: Option<Activator>,
}

/// One source's view of the frontiers of the exchanges after it, on this worker.
#[derive(Clone, Default)]
pub struct Gate {
    state: Rc<RefCell<GateState>>,
}

impl Gate {
    /// Registers an exchange; its frontier starts at the least time, as the source's does.
    pub fn slot(&self) -> Slot {
        let mut state = self.state.borrow_mut();
        state.frontiers.push(MIN_WATERMARK);
        Slot {
            state: Rc::clone(&self.state),
            index: state.frontiers.len() - 1,
        }
    }

    /// The lowest frontier of the registered exchanges; `None` if there are none.
    pub fn frontier(&self) -> Option<EventTime> {
        self.state.borrow().frontiers.iter().copied().min()
    }

    /// Parks the source until a frontier moves.
    pub fn pause(&self, source: Activator) {
        self.state.borrow_mut().paused = Some(source);
    }
}

/// An exchange's place in a source's gate.
pub struct Slot {
    state: Rc<RefCell<GateState>>,
    index: usize,
}

impl Slot {
    /// Reports the exchange's input frontier (`None` once it is empty) and wakes the
    /// source if it waits and the frontier moved.
    pub fn advance(&self, frontier: Option<EventTime>) {
        let frontier = frontier.unwrap_or(EventTime::MAX);
        let mut state = self.state.borrow_mut();
        if state.frontiers[self.index] == frontier {
            return;
        }
        state.frontiers[self.index] = frontier;
        if let Some(source) = state.paused.take() {
            source.activate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_ahead_of_its_exchanges_waits_until_they_catch_up() {
        let gate = Gate::default();
        assert_eq!(gate.frontier(), None);
        assert!(may_read(100, gate.frontier()), "no exchange: never paced");
        let a = gate.slot();
        let b = gate.slot();
        assert!(may_read(MIN_WATERMARK, gate.frontier()));
        assert!(!may_read(100, gate.frontier()));
        a.advance(Some(100));
        assert!(
            !may_read(100, gate.frontier()),
            "the slower exchange holds it"
        );
        b.advance(Some(150));
        assert_eq!(gate.frontier(), Some(100));
        assert!(may_read(100, gate.frontier()));
        assert!(!may_read(101, gate.frontier()));
        a.advance(None);
        b.advance(None);
        assert!(
            may_read(EventTime::MAX, gate.frontier()),
            "done exchanges free it"
        );
    }
}
