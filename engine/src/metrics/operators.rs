//! Per-operator counters: records in and out of every physical operator, and the keys
//! and estimated state bytes of keyed ones, in one slot per (worker, operator) so that
//! workers never write the same counter; `/metrics` reads them at scrape time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::plan::optimize;
use crate::plan::physical::{ExchangeInput, Operator, PhysicalPlan};
use crate::plan::{LogicalPlan, Stage};

/// One operator of the physical plan, as metrics name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorInfo {
    /// The pipeline it belongs to.
    pub pipeline: String,
    /// Its position in the pipeline and kind: `0:stateless`, `1:exchange`, `2:window`,
    /// `3:sink(temps)`.
    pub name: String,
    /// Whether it keeps state per key (window, join, detect, forecast, alert).
    pub keyed: bool,
}

/// The counters of every operator on every worker of a process.
#[derive(Debug)]
pub struct OperatorMetrics {
    operators: Vec<OperatorInfo>,
    /// Per pipeline name: the global index of its first operator and how many it has.
    offsets: HashMap<String, (usize, usize)>,
    workers: usize,
    /// Worker-major: slot `worker * operators + operator`.
    records_in: Vec<AtomicU64>,
    records_out: Vec<AtomicU64>,
    keys: Vec<AtomicU64>,
    state_bytes: Vec<AtomicU64>,
}

/// What one worker's share of a keyed operator holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Keys with state.
    pub keys: u64,
    /// Estimated bytes of that state (see docs/http.md for what is counted).
    pub bytes: u64,
}

impl OperatorMetrics {
    /// The operators of `plan`'s physical plan (after the same logical rules the
    /// dataflow is built with), on `workers` workers.
    pub fn new(plan: &LogicalPlan, workers: usize) -> OperatorMetrics {
        let logical = optimize::logical(plan.clone());
        let physical = PhysicalPlan::from_logical(&logical);
        let mut operators = Vec::new();
        let mut offsets = HashMap::new();
        for pipeline in &physical.pipelines {
            let node = &logical.pipelines[pipeline.index];
            offsets.insert(
                pipeline.name.clone(),
                (operators.len(), pipeline.operators.len()),
            );
            for (at, op) in pipeline.operators.iter().enumerate() {
                let (kind, keyed) = describe(op, &node.stages);
                operators.push(OperatorInfo {
                    pipeline: pipeline.name.clone(),
                    name: format!("{at}:{kind}"),
                    keyed,
                });
            }
        }
        let slots = || {
            (0..operators.len() * workers)
                .map(|_| AtomicU64::new(0))
                .collect()
        };
        OperatorMetrics {
            records_in: slots(),
            records_out: slots(),
            keys: slots(),
            state_bytes: slots(),
            operators,
            offsets,
            workers,
        }
    }

    /// Every operator, in plan order (the index [`OperatorMetrics::index`] returns).
    pub fn operators(&self) -> &[OperatorInfo] {
        &self.operators
    }

    /// The global index of the `position`-th operator of `pipeline`, if the plan has it.
    pub fn index(&self, pipeline: &str, position: usize) -> Option<usize> {
        let &(first, count) = self.offsets.get(pipeline)?;
        (position < count).then_some(first + position)
    }

    fn slot(&self, operator: usize, worker: usize) -> Option<usize> {
        (operator < self.operators.len() && worker < self.workers)
            .then_some(worker * self.operators.len() + operator)
    }

    /// Counts `n` records into `operator` on `worker`.
    pub fn add_in(&self, operator: usize, worker: usize, n: u64) {
        if let Some(s) = self.slot(operator, worker) {
            self.records_in[s].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts `n` records out of `operator` on `worker`.
    pub fn add_out(&self, operator: usize, worker: usize, n: u64) {
        if let Some(s) = self.slot(operator, worker) {
            self.records_out[s].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Sets what `worker`'s share of keyed `operator` holds.
    pub fn set_state(&self, operator: usize, worker: usize, size: StateSize) {
        if let Some(s) = self.slot(operator, worker) {
            self.keys[s].store(size.keys, Ordering::Relaxed);
            self.state_bytes[s].store(size.bytes, Ordering::Relaxed);
        }
    }

    /// Records into and out of `operator` on `worker`.
    pub fn records(&self, operator: usize, worker: usize) -> (u64, u64) {
        self.slot(operator, worker).map_or((0, 0), |s| {
            (
                self.records_in[s].load(Ordering::Relaxed),
                self.records_out[s].load(Ordering::Relaxed),
            )
        })
    }

    /// What `worker`'s share of `operator` holds.
    pub fn state(&self, operator: usize, worker: usize) -> StateSize {
        self.slot(operator, worker)
            .map_or(StateSize::default(), |s| StateSize {
                keys: self.keys[s].load(Ordering::Relaxed),
                bytes: self.state_bytes[s].load(Ordering::Relaxed),
            })
    }
}

/// The kind an operator is named by, and whether it keeps per-key state.
fn describe(op: &Operator, stages: &[Stage]) -> (String, bool) {
    match op {
        Operator::Fused { .. } => ("stateless".into(), false),
        Operator::Exchange(e) => match e.input {
            ExchangeInput::Stream => ("exchange".into(), false),
            ExchangeInput::Joined(_) => ("exchange(joined)".into(), false),
        },
        Operator::Combine { .. } => ("combine".into(), false),
        Operator::Stage { stage } => match stages.get(*stage) {
            Some(Stage::Window { .. }) => ("window".into(), true),
            Some(Stage::Join { .. }) => ("join".into(), true),
            Some(Stage::Detect { .. }) => ("detect".into(), true),
            Some(Stage::Forecast { .. }) => ("forecast".into(), true),
            Some(Stage::Alert { .. }) => ("alert".into(), true),
            Some(Stage::AlertGroup { .. }) => ("alert_group".into(), true),
            Some(Stage::Dedupe { .. }) => ("dedupe".into(), true),
            Some(Stage::Infer { .. }) => ("infer".into(), false),
            Some(Stage::Lookup { .. }) => ("lookup".into(), false),
            Some(Stage::Sink { sink }) => (format!("sink({sink})"), false),
            _ => ("stage".into(), false),
        },
    }
}
