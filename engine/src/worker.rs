//! The worker context: what every operator of one timely worker shares (counters, stop
//! requests, processing time, the process's open sinks, tables and models).
//!
//! It sits below both the operators and the run loop, so `ops::*` never import `run`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::checkpoint::Checkpoints;
use crate::clock::{Clock, ClockWaiters};
use crate::io::{BadRecord, LookupTable, WorkerInfo};
use crate::metrics::Metrics;
use crate::ml::Infer;
use crate::sink_writers::SinkWriters;
use crate::stop::StopHandle;

/// Called for every malformed record a source rejects, and every record a sink could
/// not deliver when its pipeline has no `on error to` route (`source` then names the sink).
pub type BadRecordHandler = Arc<dyn Fn(&BadRecord) + Send + Sync>;

/// What the workers of one process share: opened once, handed to each worker's context.
#[derive(Clone)]
pub struct ProcessShared {
    /// Live counters.
    pub metrics: Arc<Metrics>,
    /// Stop requests.
    pub stop: Arc<StopHandle>,
    /// Processing time.
    pub clock: Arc<dyn Clock>,
    /// Malformed-record reporting.
    pub on_bad_record: BadRecordHandler,
    /// Open sinks by name and shape.
    pub sinks: Arc<SinkWriters>,
    /// Open reference tables by name.
    pub tables: Arc<HashMap<String, Arc<dyn LookupTable>>>,
    /// Loaded models by name.
    pub models: Arc<HashMap<String, Arc<dyn Infer>>>,
    /// Records each source may still read, when the run has a limit.
    pub budgets: Option<Arc<Vec<AtomicI64>>>,
    /// Operators waiting on processing time.
    pub clock_waiters: Arc<ClockWaiters>,
    /// The first fatal error of the run.
    pub failure: Arc<Mutex<Option<String>>>,
    /// Checkpointing, when the run checkpoints.
    pub checkpoints: Option<Arc<Checkpoints>>,
}

/// What every operator of one worker shares.
pub struct WorkerContext {
    /// This worker (global index over all processes).
    pub worker: WorkerInfo,
    /// This worker's index among the workers of its own process.
    pub local_index: usize,
    /// Live counters.
    pub metrics: Arc<Metrics>,
    /// Stop requests.
    pub stop: Arc<StopHandle>,
    /// Processing time.
    pub clock: Arc<dyn Clock>,
    /// Malformed-record reporting.
    pub on_bad_record: BadRecordHandler,
    /// Open sinks by name and shape.
    pub sinks: Arc<SinkWriters>,
    /// Open reference tables by name.
    pub tables: Arc<HashMap<String, Arc<dyn LookupTable>>>,
    /// Loaded models by name (set with [`WorkerContext::with_models`]).
    pub models: Arc<HashMap<String, Arc<dyn Infer>>>,
    /// Records each source may still read, when the run has a limit.
    pub budgets: Option<Arc<Vec<AtomicI64>>>,
    /// Operators waiting on processing time.
    pub clock_waiters: Arc<ClockWaiters>,
    failure: Arc<Mutex<Option<String>>>,
    /// Checkpointing, when the run checkpoints.
    pub checkpoints: Option<Arc<Checkpoints>>,
    /// Stateful operators built so far on this worker: the next one's checkpoint node.
    pub checkpoint_nodes: AtomicUsize,
}

impl WorkerContext {
    /// The context of worker `worker` (the `local_index`-th of its process).
    pub fn new(worker: WorkerInfo, local_index: usize, shared: ProcessShared) -> WorkerContext {
        // `now()` in expressions reads the run's clock (a test's clock in `weir test`).
        crate::clock::install_worker_clock(Arc::clone(&shared.clock));
        WorkerContext {
            worker,
            local_index,
            metrics: shared.metrics,
            stop: shared.stop,
            clock: shared.clock,
            on_bad_record: shared.on_bad_record,
            sinks: shared.sinks,
            tables: shared.tables,
            models: shared.models,
            budgets: shared.budgets,
            clock_waiters: shared.clock_waiters,
            failure: shared.failure,
            checkpoints: shared.checkpoints,
            checkpoint_nodes: AtomicUsize::new(0),
        }
    }

    /// The same context with `models` loaded for `infer` stages.
    pub fn with_models(mut self, models: Arc<HashMap<String, Arc<dyn Infer>>>) -> WorkerContext {
        self.models = models;
        self
    }

    /// Registers an operator to be woken whenever a test clock moves.
    pub fn wake_on_clock(
        &self,
        activations: std::rc::Rc<std::cell::RefCell<timely::scheduling::Activations>>,
        path: Vec<usize>,
    ) {
        self.clock_waiters.register(&activations, path);
    }

    /// What is left of source `index`'s budget, when the run has a limit.
    pub fn budget_left(&self, index: usize) -> Option<usize> {
        let budget = self.budgets.as_ref()?.get(index)?;
        Some(budget.load(Ordering::SeqCst).max(0) as usize)
    }

    /// Takes up to `wanted` records from source `index`'s budget; returns how many may be
    /// read and whether the budget is now spent.
    pub fn take_budget(&self, index: usize, wanted: usize) -> (usize, bool) {
        let Some(budget) = self.budgets.as_ref().and_then(|b| b.get(index)) else {
            return (wanted, false);
        };
        let before = budget.fetch_sub(wanted as i64, Ordering::SeqCst);
        let granted = before.clamp(0, wanted as i64) as usize;
        (granted, before <= wanted as i64)
    }

    /// Records a fatal error and stops the run (open windows are not fired).
    pub fn fail(&self, message: String) {
        let mut slot = self.failure.lock();
        if slot.is_none() {
            *slot = Some(message);
        }
        self.stop.request(false);
    }
}
