//! Combine: the partial aggregation that combiner lifting (`plan::optimize`) puts before
//! a window's exchange. Per batch, the records of one key and one set of windows become
//! one record — the first of them, with each aggregated field set to the group's min or
//! max — so far fewer records cross workers, and the window after the exchange computes
//! the same panes from them.
//!
//! A record is late by the time it travels at (the window operator's frontier cannot be
//! ahead of a record still in flight), so the records whose earliest window has already
//! ended at that time pass uncombined: downstream counts them late one by one, as before.

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::checkpoint::stamp;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::plan::{AggFunc, Aggregate, Expr, WindowKind};
use crate::time::EventTime;
use crate::value::Value;
use crate::window::assign::Assigner;

/// Keys remembered between batches before the map is cleared (bounds its memory).
const KEPT_KEYS: usize = 4096;

/// The windows of one event time: latest start, earliest start, earliest end.
type WindowSet = (EventTime, EventTime, EventTime);

/// Combines `stream`'s records per batch for a window of `kind` keyed by `keys` whose
/// `aggregates` are all min/max of fields (see `optimize::combiner_lifting`).
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    kind: &WindowKind,
    aggregates: &[Aggregate],
) -> EventStream<'scope> {
    let keys = keys.to_vec();
    let assigner = Assigner::new(kind);
    let fields: Vec<(usize, bool)> = aggregates
        .iter()
        .filter_map(|a| match (&a.func, &a.arg) {
            (AggFunc::Max, Some(Expr::Field { slot, .. })) => Some((*slot, true)),
            (AggFunc::Min, Some(Expr::Field { slot, .. })) => Some((*slot, false)),
            _ => None,
        })
        .collect();
    stream.unary(Pipeline, "Combine", move |_cap, _info| {
        // Per key, the window sets of this batch and where their record is in `combined`.
        let mut groups: HashMap<GroupKey, Vec<(WindowSet, usize)>, FxBuildHasher> =
            HashMap::default();
        let mut combined: Vec<Event> = Vec::new();
        move |input, output| {
            input.for_each_stamp(|cap, containers| {
                // No single time: everything passes through, which is always safe.
                let least = stamp::least_time(cap.stamp().elements());
                for container in containers {
                    for event in container.drain(..) {
                        let set = window_set(&assigner, event.time);
                        if least.is_none_or(|t| set.2 <= t) {
                            combined.push(event);
                            continue;
                        }
                        let view = KeyView {
                            record: &event.record,
                            slots: &keys,
                        };
                        let sets = match groups.get_mut(&view) {
                            Some(sets) => sets,
                            None => groups.entry(view.to_owned()).or_default(),
                        };
                        match sets.iter().find(|(s, _)| *s == set) {
                            Some(&(_, at)) => fold(&mut combined[at].record, event, &fields),
                            None => {
                                sets.push((set, combined.len()));
                                combined.push(event);
                            }
                        }
                    }
                }
                if groups.len() > KEPT_KEYS {
                    groups.clear();
                } else {
                    groups.values_mut().for_each(Vec::clear);
                }
                if !combined.is_empty() {
                    output.session(&cap).give_container(&mut combined);
                }
            });
        }
    })
}

/// The windows containing `time`, as (latest start, earliest start, earliest end).
fn window_set(assigner: &Assigner, time: EventTime) -> WindowSet {
    let mut set = (EventTime::MIN, EventTime::MAX, EventTime::MAX);
    assigner.assign(time, |w| {
        set.0 = set.0.max(w.start);
        set.1 = set.1.min(w.start);
        set.2 = set.2.min(w.end);
    });
    set
}

/// Folds `event`'s aggregated fields into the group's record, as the window's min and
/// max accumulators would (nulls ignored, ties keep the first).
fn fold(into: &mut [Value], mut event: Event, fields: &[(usize, bool)]) {
    for &(slot, max) in fields {
        let v = std::mem::replace(&mut event.record[slot], Value::Null);
        let m = &mut into[slot];
        let wins = |o: std::cmp::Ordering| if max { o.is_gt() } else { o.is_lt() };
        if !v.is_null() && (m.is_null() || wins(v.total_cmp(m))) {
            *m = v;
        }
    }
}
