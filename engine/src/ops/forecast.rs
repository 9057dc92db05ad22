//! `forecast …`: records are exchanged by key hash; each key has its own Holt-Winters model,
//! fed in event-time order once the watermark passes a record (as `detect` does).

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::HashMap;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Capability;

use super::EventStream;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::ml::{HoltWinters, HoltWintersParams};
use crate::time::EventTime;
use crate::value::Value;

/// Per-key models of one operator instance.
pub struct Forecasters {
    params: HoltWintersParams,
    field: usize,
    keys: Arc<[usize]>,
    models: HashMap<GroupKey, HoltWinters>,
}

impl Forecasters {
    /// No keys seen yet.
    pub fn new(params: HoltWintersParams, keys: &[usize], field: usize) -> Forecasters {
        Forecasters {
            params,
            field,
            keys: keys.into(),
            models: HashMap::new(),
        }
    }

    /// Feeds `record` (at event time `t`) to its key's model and appends value, lower and
    /// upper (null until the model has seen a full season, or for a null value).
    pub fn apply(&mut self, t: EventTime, record: &mut Vec<Value>) {
        let forecast = match record.get(self.field).and_then(Value::as_f64) {
            Some(x) if x.is_finite() => {
                let view = KeyView {
                    record,
                    slots: &self.keys,
                };
                let model = match self.models.get_mut(&view) {
                    Some(m) => m,
                    None => {
                        let fresh = HoltWinters::new(self.params.clone());
                        self.models.entry(view.to_owned()).or_insert(fresh)
                    }
                };
                model.update(t, x)
            }
            _ => None,
        };
        match forecast {
            Some(f) => record.extend([
                Value::Float(f.value),
                Value::Float(f.lower),
                Value::Float(f.upper),
            ]),
            None => record.extend([Value::Null, Value::Null, Value::Null]),
        }
    }
}

/// Builds the forecast operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    field: usize,
    params: &HoltWintersParams,
) -> EventStream<'scope> {
    let route_keys: Arc<[usize]> = keys.into();
    let exchange = Exchange::new(move |e: &Event| {
        KeyView {
            record: &e.record,
            slots: &route_keys,
        }
        .route()
    });
    let mut models = Forecasters::new(params.clone(), keys, field);
    stream.unary_frontier(exchange, "Forecast", move |_cap, _info| {
        let mut pending: BTreeMap<EventTime, (Capability<EventTime>, Vec<Event>)> = BTreeMap::new();
        move |(input, frontier), output| {
            input.for_each_stamp(|cap, containers| {
                let Some(&now) = cap.least() else { return };
                for container in containers {
                    for event in container.drain(..) {
                        let at = event.time.max(now);
                        pending
                            .entry(at)
                            .or_insert_with(|| (cap.delayed(&at, 0), Vec::new()))
                            .1
                            .push(event);
                    }
                }
            });
            while let Some(entry) = pending.first_entry() {
                if frontier.less_equal(entry.key()) {
                    break;
                }
                let (cap, mut events) = entry.remove();
                let mut session = output.session(&cap);
                for event in &mut events {
                    models.apply(event.time, &mut event.record);
                }
                session.give_container(&mut events);
            }
        }
    })
}
