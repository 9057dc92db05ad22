//! An event: a record with its event time, the unit that flows through a dataflow.

use serde::{Deserialize, Serialize};

use crate::time::EventTime;
use crate::value::Record;

/// A record and its event time. Event time is metadata, as in Beam: projections may drop
/// the field it came from, and a window's output carries its pane timestamp.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event time, epoch milliseconds.
    pub time: EventTime,
    /// Field values by slot.
    pub record: Record,
}

impl Event {
    /// Pairs a record with its event time.
    pub fn new(time: EventTime, record: Record) -> Event {
        Event { time, record }
    }
}
