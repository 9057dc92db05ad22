//! Running a plan: one timely worker per thread, each building the same dataflow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::build::build_dataflow;
use crate::clock::Clock;
use crate::io::{BadRecord, ConnectorFactory, LookupTable, SinkWriter, WorkerInfo};
use crate::metrics::Metrics;
use crate::plan::{LogicalPlan, PipelineInput, Stage};
use crate::stop::StopHandle;
use crate::time::EventTime;

/// Called for every malformed record a source rejects.
pub type BadRecordHandler = Arc<dyn Fn(&BadRecord) + Send + Sync>;

/// How to run a plan.
#[derive(Clone)]
pub struct RunOptions {
    /// Worker threads in this process.
    pub workers: usize,
    /// Stop requests (signals).
    pub stop: Arc<StopHandle>,
    /// Processing time.
    pub clock: Arc<dyn Clock>,
    /// Where rejected records are reported.
    pub on_bad_record: BadRecordHandler,
    /// Read at most this many records from each source (all workers together).
    pub limit: Option<u64>,
}

/// What a finished run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Records read from all sources.
    pub records_in: u64,
    /// Records written to all sinks.
    pub records_out: u64,
    /// Malformed records.
    pub bad_records: u64,
    /// Late-dropped elements.
    pub late_dropped: u64,
    /// Whether the run ended because a stop was requested.
    pub stopped: bool,
}

impl RunSummary {
    /// Input records per second of wall time.
    pub fn records_per_second(&self) -> f64 {
        self.records_in as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A connector could not be opened or failed while running.
    #[error("{0}")]
    Connector(String),
    /// timely could not start its workers.
    #[error("cannot start workers: {0}")]
    Start(String),
    /// A worker thread panicked (a bug in Weir).
    #[error("a worker stopped unexpectedly: {0}")]
    Worker(String),
}

/// What every operator of one worker shares.
pub struct WorkerContext {
    /// This worker.
    pub worker: WorkerInfo,
    /// Live counters.
    pub metrics: Arc<Metrics>,
    /// Stop requests.
    pub stop: Arc<StopHandle>,
    /// Processing time.
    pub clock: Arc<dyn Clock>,
    /// Malformed-record reporting.
    pub on_bad_record: BadRecordHandler,
    /// Open sinks by name.
    pub sinks: Arc<HashMap<String, Arc<dyn SinkWriter>>>,
    /// Open reference tables by name.
    pub tables: Arc<HashMap<String, Arc<dyn LookupTable>>>,
    /// Records each source may still read, when the run has a limit.
    pub budgets: Option<Arc<Vec<AtomicI64>>>,
    failure: Arc<Mutex<Option<String>>>,
}

impl WorkerContext {
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

/// Runs `plan` to completion (bounded sources) or until a stop is requested.
pub fn run(
    plan: Arc<LogicalPlan>,
    connectors: Arc<dyn ConnectorFactory>,
    options: RunOptions,
    metrics: Arc<Metrics>,
) -> Result<RunSummary, RunError> {
    let workers = options.workers.max(1);
    let started = Instant::now();

    // Sinks are opened once per process, with the schema of the stream written to them.
    let mut sinks: HashMap<String, Arc<dyn SinkWriter>> = HashMap::new();
    for (sink_name, schema) in sink_schemas(&plan) {
        if sinks.contains_key(&sink_name) {
            continue;
        }
        let node = plan
            .sink(&sink_name)
            .ok_or_else(|| RunError::Connector(format!("unknown sink `{sink_name}`")))?;
        let writer = connectors
            .open_sink(node, &schema)
            .map_err(|e| RunError::Connector(format!("sink `{sink_name}`: {e}")))?;
        sinks.insert(sink_name, writer);
    }
    let sinks = Arc::new(sinks);
    let tables = Arc::new(open_tables(&plan, connectors.as_ref())?);
    let used_sources: Vec<bool> = plan
        .sources
        .iter()
        .map(|s| {
            plan.pipelines
                .iter()
                .any(|p| p.input == PipelineInput::Source(s.name.clone()))
        })
        .collect();

    let failure = Arc::new(Mutex::new(None));
    let config = if workers == 1 {
        timely::Config::thread()
    } else {
        timely::Config::process(workers)
    };
    let worker_plan = Arc::clone(&plan);
    let worker_sinks = Arc::clone(&sinks);
    let worker_tables = Arc::clone(&tables);
    let worker_metrics = Arc::clone(&metrics);
    let worker_failure = Arc::clone(&failure);
    let stop = Arc::clone(&options.stop);
    let budgets = options.limit.map(|n| {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Arc::new(
            plan.sources
                .iter()
                .map(|_| AtomicI64::new(n))
                .collect::<Vec<_>>(),
        )
    });
    let guards = timely::execute(config, move |worker| {
        let info = WorkerInfo {
            index: worker.index(),
            peers: worker.peers(),
        };
        let ctx = Arc::new(WorkerContext {
            worker: info,
            metrics: Arc::clone(&worker_metrics),
            stop: Arc::clone(&options.stop),
            clock: Arc::clone(&options.clock),
            on_bad_record: Arc::clone(&options.on_bad_record),
            sinks: Arc::clone(&worker_sinks),
            tables: Arc::clone(&worker_tables),
            budgets: budgets.clone(),
            failure: Arc::clone(&worker_failure),
        });
        let mut readers = Vec::with_capacity(worker_plan.sources.len());
        for (source, used) in worker_plan.sources.iter().zip(&used_sources) {
            if !used {
                readers.push(None);
                continue;
            }
            match connectors.open_source(source, info) {
                Ok(reader) => readers.push(Some(reader)),
                Err(e) => {
                    ctx.fail(format!("source `{}`: {e}", source.name));
                    readers.push(None);
                }
            }
        }
        // Every worker builds the same dataflow, even after a failure, so that exchanges
        // between workers line up; failed sources simply end at once.
        worker.dataflow::<EventTime, _, _>(|scope| {
            build_dataflow(scope, &worker_plan, readers, &ctx)
        });
    })
    .map_err(RunError::Start)?;
    for result in guards.join() {
        result.map_err(RunError::Worker)?;
    }

    let mut flush_error = None;
    for (name, writer) in sinks.iter() {
        if let Err(e) = writer.flush() {
            flush_error.get_or_insert_with(|| format!("sink `{name}`: {e}"));
        }
    }
    if let Some(message) = failure.lock().take().or(flush_error) {
        return Err(RunError::Connector(message));
    }
    Ok(RunSummary {
        elapsed: started.elapsed(),
        records_in: metrics.records_in(),
        records_out: metrics.records_out(),
        bad_records: metrics.bad(),
        late_dropped: metrics.late(),
        stopped: stop.is_requested(),
    })
}

/// Opens every table a `lookup` reads, once per process.
fn open_tables(
    plan: &LogicalPlan,
    connectors: &dyn ConnectorFactory,
) -> Result<HashMap<String, Arc<dyn LookupTable>>, RunError> {
    let mut tables = HashMap::new();
    for pipeline in &plan.pipelines {
        for stage in &pipeline.stages {
            let Stage::Lookup { table, .. } = stage else {
                continue;
            };
            if tables.contains_key(table) {
                continue;
            }
            let node = plan
                .table(table)
                .ok_or_else(|| RunError::Connector(format!("unknown table `{table}`")))?;
            let opened = connectors
                .open_table(node)
                .map_err(|e| RunError::Connector(format!("table `{table}`: {e}")))?;
            tables.insert(table.clone(), opened);
        }
    }
    Ok(tables)
}

/// Every (sink, schema written to it) pair in the plan, in pipeline order.
pub fn sink_schemas(plan: &LogicalPlan) -> Vec<(String, crate::schema::Schema)> {
    let mut out = Vec::new();
    for pipeline in &plan.pipelines {
        let mut schema = &pipeline.input_schema;
        for stage in &pipeline.stages {
            // `lookup … on miss to <sink>` writes records as they came in.
            if let Stage::Lookup {
                on_miss: crate::plan::LookupMiss::ToSink(sink),
                ..
            } = stage
            {
                out.push((sink.clone(), schema.clone()));
            }
            if let Some(s) = stage.output_schema() {
                schema = s;
            }
            if let Stage::Sink { sink } = stage {
                out.push((sink.clone(), schema.clone()));
            }
        }
    }
    out
}
