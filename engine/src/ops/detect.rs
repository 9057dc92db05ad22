//! `detect anomaly …`: each key has its own streaming detector, fed in event-time order by
//! the keyed ordering operator (`ops::ordered`).

use std::sync::Arc;

use hashbrown::HashMap;

use serde::{Deserialize, Serialize};

use super::EventStream;
use crate::checkpoint::keyed;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::metrics::operators::StateSize;
use crate::ml::{Detector, DetectorSpec, Verdict};
use crate::value::Value;
use crate::worker::WorkerContext;

/// One key's detector and how many values it has seen.
#[derive(Serialize, Deserialize)]
struct KeyState {
    detector: Box<dyn Detector>,
    seen: u64,
}

/// Per-key detectors of one operator instance.
pub struct Detectors {
    spec: DetectorSpec,
    field: usize,
    warmup: u64,
    keys: Arc<[usize]>,
    states: HashMap<GroupKey, KeyState>,
}

impl Detectors {
    /// No keys seen yet.
    pub fn new(spec: DetectorSpec, keys: &[usize], field: usize, warmup: u64) -> Detectors {
        Detectors {
            spec,
            field,
            warmup,
            keys: keys.into(),
            states: HashMap::new(),
        }
    }

    /// Scores `record` with its key's detector and appends the two output fields. A null
    /// (or non-numeric) value is not fed to the detector and scores 0, not anomalous.
    pub fn apply(&mut self, record: &mut Vec<Value>) {
        let verdict = match record.get(self.field).and_then(Value::as_f64) {
            Some(x) if x.is_finite() => {
                let view = KeyView {
                    record,
                    slots: &self.keys,
                };
                let state = match self.states.get_mut(&view) {
                    Some(s) => s,
                    None => {
                        let fresh = KeyState {
                            detector: self.spec.build(),
                            seen: 0,
                        };
                        self.states.entry(view.to_owned()).or_insert(fresh)
                    }
                };
                let v = state.detector.update(x);
                state.seen += 1;
                if state.seen <= self.warmup {
                    Verdict::NORMAL
                } else {
                    v
                }
            }
            _ => Verdict::NORMAL,
        };
        record.push(Value::Float(verdict.score));
        record.push(Value::Bool(verdict.is_anomaly));
    }

    /// Number of keys with a detector.
    pub fn key_count(&self) -> usize {
        self.states.len()
    }
}

/// Builds the detect operator.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    keys: &[usize],
    field: usize,
    spec: &DetectorSpec,
    warmup: u64,
    operator: Option<usize>,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let detectors = Detectors::new(spec.clone(), keys, field, warmup);
    super::ordered::build(stream, "Detect", keys, detectors, operator, ctx)
}

impl super::ordered::KeyedModel for Detectors {
    /// Each key's entry and its detector's in-line bytes (what a detector keeps on the
    /// heap behind its box is not counted).
    fn size(&self) -> StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<KeyState>();
        let bytes: usize = (self.states.values())
            .map(|s| entry + std::mem::size_of_val(&*s.detector))
            .sum();
        StateSize {
            keys: self.states.len() as u64,
            bytes: bytes as u64,
        }
    }

    fn apply(&mut self, event: &mut Event) -> bool {
        Detectors::apply(self, &mut event.record);
        true
    }
    fn save(&self) -> Result<Vec<u8>, bincode::Error> {
        keyed::save_map(&self.states)
    }
    fn load(
        &mut self,
        bytes: &[u8],
        owns: &dyn Fn(&GroupKey) -> bool,
    ) -> Result<(), bincode::Error> {
        keyed::load_map(bytes, owns, &mut self.states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::ZscoreParams;

    #[test]
    fn each_key_has_its_own_detector_and_warmup() {
        let spec = DetectorSpec::Zscore(ZscoreParams {
            window: 50,
            threshold: 3.0,
        });
        let mut d = Detectors::new(spec, &[0], 1, 5);
        let mut last = Vec::new();
        for i in 0..100 {
            for key in ["a", "b"] {
                let base = if key == "a" { 10.0 } else { 1000.0 };
                let mut r = vec![Value::str(key), Value::Float(base + (i % 3) as f64)];
                d.apply(&mut r);
                if i < 5 {
                    assert_eq!(r[2], Value::Float(0.0), "warmup reports 0");
                }
                last = r;
            }
        }
        assert_eq!(d.key_count(), 2);
        // b's values are normal for b even though they are far from a's.
        assert_eq!(last[3], Value::Bool(false));
        let mut spike = vec![Value::str("a"), Value::Float(1000.0)];
        d.apply(&mut spike);
        assert_eq!(spike[3], Value::Bool(true));
        let mut null = vec![Value::str("a"), Value::Null];
        d.apply(&mut null);
        assert_eq!(&null[2..], &[Value::Float(0.0), Value::Bool(false)]);
    }
}
