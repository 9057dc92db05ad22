//! `dedupe by <fields> within <d>`: per key, in event-time order (the keyed ordering
//! operator, `ops::ordered`), a record passes when no record of its key has passed in the
//! `d` before it; the others are dropped. So a key passes at most once per `d`, and the
//! record that passes is the earliest by event time, whatever the arrival order.

use std::sync::Arc;

use hashbrown::HashMap;

use super::EventStream;
use crate::checkpoint::keyed;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// Records between sweeps of keys whose interval has passed.
const SWEEP_EVERY: u32 = 4096;

/// The keys seen by one operator instance, with the time their last record passed.
pub struct Dedupe {
    within: i64,
    keys: Arc<[usize]>,
    passed: HashMap<GroupKey, EventTime>,
    since_sweep: u32,
}

impl Dedupe {
    /// Deduplication on `keys` within `within` ms.
    pub fn new(keys: &[usize], within: i64) -> Dedupe {
        Dedupe {
            within: within.max(1),
            keys: keys.into(),
            passed: HashMap::new(),
            since_sweep: 0,
        }
    }

    /// Whether `event` (the next of its key in event-time order) passes.
    pub fn apply(&mut self, event: &Event) -> bool {
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            let (now, within) = (event.time, self.within);
            self.passed
                .retain(|_, &mut t| t.saturating_add(within) > now);
        }
        let view = KeyView {
            record: &event.record,
            slots: &self.keys,
        };
        match self.passed.get_mut(&view) {
            Some(t) if event.time < t.saturating_add(self.within) => false,
            Some(t) => {
                *t = event.time;
                true
            }
            None => {
                self.passed.insert(view.to_owned(), event.time);
                true
            }
        }
    }

    /// Keys remembered now.
    pub fn key_count(&self) -> usize {
        self.passed.len()
    }
}

/// Builds the dedupe operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    within: i64,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let model = Dedupe::new(keys, within);
    super::ordered::build(stream, "Dedupe", keys, model, operator, ctx)
}

impl super::ordered::KeyedModel for Dedupe {
    /// Each key's entry: its key and the time it last passed.
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<EventTime>();
        StateSize {
            keys: self.passed.len() as u64,
            bytes: (self.passed.len() * entry) as u64,
        }
    }

    fn apply(&mut self, event: &mut Event) -> bool {
        Dedupe::apply(self, event)
    }
    fn save(&self) -> Result<Vec<u8>, bincode::Error> {
        keyed::save_map(&self.passed)
    }
    fn load(
        &mut self,
        bytes: &[u8],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        keyed::load_map(bytes, owns, &mut self.passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn a_key_passes_once_per_interval_and_old_keys_are_forgotten() {
        let mut d = Dedupe::new(&[0], 10);
        let e = |k: i64, t| Event::new(t, vec![Value::Int(k)]);
        let passed: Vec<bool> = [(1, 0), (1, 9), (2, 9), (1, 10), (1, 15), (1, 20)]
            .into_iter()
            .map(|(k, t)| d.apply(&e(k, t)))
            .collect();
        assert_eq!(passed, [true, false, true, true, false, true]);
        for t in 0..SWEEP_EVERY as i64 {
            d.apply(&e(3, 1_000 + t * 100));
        }
        assert_eq!(
            d.key_count(),
            1,
            "keys 1 and 2 are swept once their interval passed"
        );
    }
}
