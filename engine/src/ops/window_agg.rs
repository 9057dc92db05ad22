//! Windowed aggregation per key: records are exchanged by key hash, accumulated per
//! (window, key), and each window fires once when the input frontier — the watermark —
//! passes its end (Beam's default trigger with no allowed lateness).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hashbrown::HashMap;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::aggregate::{Acc, AggregateFn};
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::plan::{Aggregate, WindowSpec};
use crate::run::WorkerContext;
use crate::time::EventTime;
use crate::value::Value;
use crate::window::assign::{Assigner, Window};

struct WindowState {
    start: EventTime,
    /// Held to emit the window's pane at its end (or later, if it was opened late).
    cap: Capability<EventTime>,
    groups: HashMap<GroupKey, Vec<Acc>>,
}

/// Builds the window operator of pipeline number `pipeline`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    window: &WindowSpec,
    aggregates: &[Aggregate],
    pipeline: usize,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let keys: Arc<[usize]> = keys.into();
    let route_keys = Arc::clone(&keys);
    let assigner = Assigner::new(&window.kind);
    let aggs: Vec<AggregateFn> = aggregates.iter().map(AggregateFn::compile).collect();
    let exchange = Exchange::new(move |e: &Event| {
        KeyView {
            record: &e.record,
            slots: &route_keys,
        }
        .route()
    });
    stream.unary_frontier(exchange, "WindowAggregate", move |_cap, _info| {
        let mut windows: BTreeMap<EventTime, WindowState> = BTreeMap::new();
        let on_time = Value::str("on_time");
        move |(input, frontier), output| {
            let mut late = 0u64;
            input.for_each_stamp(|cap, containers| {
                let Some(&now) = cap.least() else { return };
                for container in containers {
                    for event in container.drain(..) {
                        let w: Window = assigner.tumbling(event.time);
                        // The window expired once the watermark passed its end (Beam: max
                        // timestamp + allowed lateness < input watermark).
                        if !frontier.less_than(&w.end) {
                            late += 1;
                            continue;
                        }
                        let state = windows.entry(w.end).or_insert_with(|| WindowState {
                            start: w.start,
                            cap: cap.delayed(&w.max_timestamp().max(now), 0),
                            groups: HashMap::new(),
                        });
                        if *state.cap.time() > now.max(w.max_timestamp()) {
                            state.cap = cap.delayed(&w.max_timestamp().max(now), 0);
                        }
                        let view = KeyView {
                            record: &event.record,
                            slots: &keys,
                        };
                        let accs = match state.groups.get_mut(&view) {
                            Some(accs) => accs,
                            None => {
                                let fresh = aggs.iter().map(AggregateFn::init).collect();
                                state.groups.entry(view.to_owned()).or_insert(fresh)
                            }
                        };
                        for (agg, acc) in aggs.iter().zip(accs.iter_mut()) {
                            agg.update(acc, &event.record, event.time);
                        }
                    }
                }
            });
            if late > 0 {
                ctx.metrics.late_dropped[pipeline].fetch_add(late, Ordering::Relaxed);
            }

            // Fire every window whose end the watermark has passed.
            let discard = frontier.is_empty() && ctx.stop.discards_open_windows();
            while let Some(entry) = windows.first_entry() {
                let end = *entry.key();
                if frontier.less_than(&end) {
                    break;
                }
                let state = entry.remove();
                if discard {
                    continue;
                }
                let mut session = output.session(&state.cap);
                let pane_time = end - 1;
                for (key, accs) in state.groups {
                    let mut record = Vec::with_capacity(key.0.len() + accs.len() + 7);
                    record.extend(key.0.into_vec());
                    record.extend(accs.iter().map(Acc::finish));
                    record.extend([
                        Value::Time(state.start),
                        Value::Time(end),
                        on_time.clone(),
                        Value::Int(0),
                        Value::Int(0),
                        Value::Bool(true),
                        Value::Time(pane_time),
                    ]);
                    session.give(Event::new(pane_time, record));
                }
            }
        }
    })
}
