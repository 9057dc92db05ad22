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

use timely::dataflow::Stream;

use crate::checkpoint::stamp::Stamp;
use crate::event::Event;

/// A stream of events whose timely timestamp is the watermark they travel under and the
/// checkpoint epoch they belong to (see [`crate::checkpoint::stamp`]).
pub type EventStream<'scope> = Stream<'scope, Stamp, Vec<Event>>;
