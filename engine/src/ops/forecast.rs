//! `forecast …`: each key has its own Holt-Winters model, fed in event-time order by the
//! keyed ordering operator (`ops::ordered`).

use std::sync::Arc;

use hashbrown::HashMap;

use super::EventStream;
use crate::checkpoint::keyed;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::ml::{HoltWinters, HoltWintersParams};
use crate::time::EventTime;
use crate::value::Value;
use crate::worker::WorkerContext;

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
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let models = Forecasters::new(params.clone(), keys, field);
    super::ordered::build(stream, "Forecast", keys, models, operator, ctx)
}

impl super::ordered::KeyedModel for Forecasters {
    /// Each key's entry and model, in-line (its seasonal buffers are not counted).
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<HoltWinters>();
        StateSize {
            keys: self.models.len() as u64,
            bytes: (self.models.len() * entry) as u64,
        }
    }

    fn apply(&mut self, event: &mut Event) -> bool {
        Forecasters::apply(self, event.time, &mut event.record);
        true
    }
    fn save(&self) -> Result<Vec<u8>, bincode::Error> {
        keyed::save_map(&self.models)
    }
    fn load(
        &mut self,
        bytes: &[u8],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        keyed::load_map(bytes, owns, &mut self.models)
    }
}
