//! Running a plan: one timely worker per thread, each building the same dataflow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::build::build_dataflow;
use crate::checkpoint::coordinator::Placement;
use crate::checkpoint::stamp;
use crate::checkpoint::{CheckpointConfig, Checkpoints};
use crate::clock::{Clock, ClockWaiters};
use crate::cluster::{self, ClusterLink, PeerWatch};
use crate::io::{
    BadRecord, ConnectorFactory, IoError, LookupTable, SourceReader, SourceStatus, WorkerInfo,
};
use crate::metrics::Metrics;
use crate::ml::Infer;
use crate::plan::{LogicalPlan, PipelineInput, Stage};
use crate::schema::Schema;
use crate::sink_writers::SinkWriters;
use crate::stop::StopHandle;
use crate::time::EventTime;
use crate::value::Record;

/// Kept at its old path: the sinks a plan writes to are a query of the plan.
pub use crate::plan::sink_schemas;
pub use crate::worker::{BadRecordHandler, ProcessShared, WorkerContext};

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
    /// Operators waiting on processing time (woken when a test clock moves).
    pub clock_waiters: Arc<ClockWaiters>,
    /// Checkpoints to take (and the one to resume from), if any.
    pub checkpoint: Option<CheckpointConfig>,
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
    /// Late-dropped elements (their window had expired).
    pub late_dropped: u64,
    /// Elements dropped because their window's trigger had finished.
    pub closed_dropped: u64,
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
    /// Checkpoints could not be written or resumed from.
    #[error("{0}")]
    Checkpoint(String),
    /// A worker thread panicked (a bug in Weir).
    #[error("a worker stopped unexpectedly: {0}")]
    Worker(String),
    /// Another process of the cluster went away mid-run.
    #[error(
        "{peer} disconnected mid-run ({detail}): a process exited or was killed, so this \
         one stops too — the first to go reports its own error"
    )]
    PeerLost {
        /// `process 1 (host:port)`, or several joined by `and`, first lost first.
        peer: String,
        /// What the network layer saw.
        detail: String,
    },
}

/// Where the workers of a run live.
#[derive(Debug, Default)]
pub enum Layout {
    /// Every worker is a thread of this process.
    #[default]
    Local,
    /// This process is one of a cluster; `RunOptions::workers` threads per process.
    Cluster(ClusterLink),
}

/// Runs `plan` to completion (bounded sources) or until a stop is requested.
pub fn run(
    plan: Arc<LogicalPlan>,
    connectors: Arc<dyn ConnectorFactory>,
    options: RunOptions,
    metrics: Arc<Metrics>,
) -> Result<RunSummary, RunError> {
    run_on(plan, connectors, options, metrics, Layout::Local)
}

/// Runs `plan` as [`run`] does, with this process's workers placed by `layout`.
///
/// In a cluster every process must run the same plan (the runtime checks a plan hash
/// when it connects). Sinks are opened per process; sources split by global worker
/// index. A `limit` is shared out between processes. When a peer is lost or a local
/// connector fails, this returns at once, leaving the worker threads detached: the
/// caller is expected to exit, which in turn stops the other processes.
pub fn run_on(
    plan: Arc<LogicalPlan>,
    connectors: Arc<dyn ConnectorFactory>,
    options: RunOptions,
    metrics: Arc<Metrics>,
    layout: Layout,
) -> Result<RunSummary, RunError> {
    let workers = options.workers.max(1);
    let (process, processes) = match &layout {
        Layout::Local => (0, 1),
        Layout::Cluster(link) => (link.process, link.processes()),
    };
    let started = Instant::now();

    let sinks = Arc::new(open_sinks(&plan, connectors.as_ref())?);
    let checkpoints = match &options.checkpoint {
        Some(config) => Some(start_checkpoints(
            &plan,
            config,
            Placement {
                process,
                processes,
                workers,
            },
            &sinks,
        )?),
        None => None,
    };
    let tables = Arc::new(open_tables(&plan, connectors.as_ref())?);
    let models = Arc::new(open_models(&plan, connectors.as_ref())?);
    let used_sources: Vec<bool> = plan
        .sources
        .iter()
        .map(|s| {
            plan.pipelines.iter().any(|p| {
                p.inputs()
                    .any(|i| matches!(i, PipelineInput::Source(n) if *n == s.name))
            })
        })
        .collect();

    // Each source decodes only the fields some stage reads.
    let fields = crate::plan::optimize::source_fields(&plan);
    let failure = Arc::new(Mutex::new(None));
    let worker_plan = Arc::clone(&plan);
    let stop = Arc::clone(&options.stop);
    let on_bad_record = Arc::clone(&options.on_bad_record);
    let budgets = options.limit.map(|n| {
        Arc::new(
            plan.sources
                .iter()
                .map(|source| {
                    // A source every worker reads: each process takes n / P, the first
                    // n % P one more. A source only process 0 reads: it takes all of n.
                    let share = if connectors.read_by_every_worker(source) {
                        let p = processes as u64;
                        n / p + u64::from((process as u64) < n % p)
                    } else if process == 0 {
                        n
                    } else {
                        0
                    };
                    AtomicI64::new(i64::try_from(share).unwrap_or(i64::MAX))
                })
                .collect::<Vec<_>>(),
        )
    });
    let shared = ProcessShared {
        metrics: Arc::clone(&metrics),
        stop: Arc::clone(&options.stop),
        clock: Arc::clone(&options.clock),
        on_bad_record: Arc::clone(&options.on_bad_record),
        sinks: Arc::clone(&sinks),
        tables,
        models,
        budgets,
        clock_waiters: Arc::clone(&options.clock_waiters),
        failure: Arc::clone(&failure),
        checkpoints: checkpoints.as_ref().map(|(c, _)| Arc::clone(c)),
    };
    let logic = move |worker: &mut timely::worker::Worker| {
        let info = WorkerInfo {
            index: worker.index(),
            peers: worker.peers(),
        };
        let local_index = worker.index().saturating_sub(process * workers);
        let ctx = Arc::new(WorkerContext::new(info, local_index, shared.clone()));
        let mut readers = Vec::with_capacity(worker_plan.sources.len());
        for (index, (source, used)) in worker_plan.sources.iter().zip(&used_sources).enumerate() {
            if !used {
                readers.push(None);
                continue;
            }
            let opened = match &fields[index] {
                Some(read) => connectors.open_source_reading(source, info, read),
                None => connectors.open_source(source, info),
            };
            match opened {
                Ok(reader) => readers.push(Some(reader)),
                Err(e) => {
                    ctx.fail(format!("source `{}`: {e}", source.name));
                    // An ended reader keeps this worker's dataflow the same shape as
                    // everyone else's (channels are matched by creation order).
                    readers.push(Some(Box::new(Ended)));
                }
            }
        }
        // Every worker builds the same dataflow, even after a failure, so that exchanges
        // between workers line up; failed sources simply end at once.
        worker.dataflow::<EventTime, _, _>(|root| {
            stamp::scope(root, |scope| {
                build_dataflow(scope, &worker_plan, readers, &ctx)
            })
        });
        if let Some(c) = &ctx.checkpoints {
            c.built(ctx.checkpoint_nodes.load(Ordering::Relaxed));
        }
        drive(worker, &ctx);
    };
    match layout {
        Layout::Local => {
            let config = if workers == 1 {
                timely::Config::thread()
            } else {
                timely::Config::process(workers)
            };
            let guards = timely::execute(config, logic).map_err(RunError::Start)?;
            for result in guards.join() {
                result.map_err(RunError::Worker)?;
            }
        }
        Layout::Cluster(link) => {
            let watch = PeerWatch::start();
            let result = run_cluster(link, workers, logic, &watch, &failure, &sinks);
            watch.stop();
            result?;
        }
    }

    if let Some((c, thread)) = checkpoints {
        c.shut_down(thread);
        if let Some(message) = c.failure() {
            failure
                .lock()
                .get_or_insert(format!("checkpoint: {message}"));
        }
    }
    let mut flush_error = None;
    for (name, writer) in sinks.iter() {
        if let Err(e) = writer.flush() {
            flush_error.get_or_insert_with(|| format!("sink `{name}`: {e}"));
        }
        // Records a sink gave up on while flushing (on this thread): no worker is left
        // to route them.
        let back = writer.take_undelivered();
        if let Some(i) = plan.sinks.iter().position(|s| s.name == name) {
            metrics.undelivered[i].fetch_add(back.len() as u64, Ordering::Relaxed);
        }
        for bad in &back {
            on_bad_record(bad);
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
        closed_dropped: metrics.closed(),
        stopped: stop.is_requested(),
    })
}

/// Sets up checkpointing for this process: hands each sink what it prepared in the resumed checkpoint, and
/// starts the completion thread.
fn start_checkpoints(
    plan: &LogicalPlan,
    config: &CheckpointConfig,
    place: Placement,
    sinks: &Arc<SinkWriters>,
) -> Result<(Arc<Checkpoints>, std::thread::JoinHandle<()>), RunError> {
    let used: Vec<usize> = (0..plan.sources.len())
        .filter(|&i| {
            let name = &plan.sources[i].name;
            plan.pipelines.iter().any(|p| {
                p.inputs()
                    .any(|input| matches!(input, PipelineInput::Source(n) if n == name))
            })
        })
        .collect();
    let c = Checkpoints::new(config.clone(), place, used)
        .map_err(|e| RunError::Checkpoint(e.to_string()))?;
    let c = Arc::new(c);
    c.restore_sinks(sinks).map_err(RunError::Checkpoint)?;
    let thread = c.start(Arc::clone(sinks));
    Ok((c, thread))
}

/// Loads every model an `infer` stage uses, once per process.
pub fn open_models(
    plan: &LogicalPlan,
    connectors: &dyn ConnectorFactory,
) -> Result<HashMap<String, Arc<dyn Infer>>, RunError> {
    let mut models: HashMap<String, Arc<dyn Infer>> = HashMap::new();
    for pipeline in &plan.pipelines {
        for stage in &pipeline.stages {
            let Stage::Infer { model, .. } = stage else {
                continue;
            };
            if models.contains_key(model) {
                continue;
            }
            let node = plan
                .model(model)
                .ok_or_else(|| RunError::Connector(format!("unknown model `{model}`")))?;
            let loaded = connectors
                .open_model(node)
                .map_err(|e| RunError::Connector(format!("model `{model}`: {e}")))?;
            models.insert(model.clone(), loaded);
        }
    }
    Ok(models)
}

/// Opens every sink the plan writes to, once, with a writer for each shape of record
/// written to it (one shape, unless the sink's format holds any).
pub fn open_sinks(
    plan: &LogicalPlan,
    connectors: &dyn ConnectorFactory,
) -> Result<SinkWriters, RunError> {
    let mut shapes: Vec<(String, Vec<Schema>)> = Vec::new();
    for (sink_name, schema) in sink_schemas(plan) {
        match shapes.iter_mut().find(|(n, _)| *n == sink_name) {
            Some((_, seen)) if seen.contains(&schema) => {}
            Some((_, seen)) => seen.push(schema),
            None => shapes.push((sink_name, vec![schema])),
        }
    }
    let mut sinks = SinkWriters::default();
    for (sink_name, schemas) in shapes {
        let node = plan
            .sink(&sink_name)
            .ok_or_else(|| RunError::Connector(format!("unknown sink `{sink_name}`")))?;
        let writers = connectors
            .open_sink_shapes(node, &schemas)
            .map_err(|e| RunError::Connector(format!("sink `{sink_name}`: {e}")))?;
        for (schema, writer) in schemas.into_iter().zip(writers) {
            sinks.insert(&sink_name, schema, writer);
        }
    }
    Ok(sinks)
}

/// Steps `worker` until its dataflow completes (what timely would do after `logic`),
/// timing the rounds that run operators as busy: a round that finds no work parks,
/// and that wait (and anything done within the same call when a message wakes it) is
/// idle. `rate(weir_worker_busy_seconds_total[1m])` is then the busy ratio.
fn drive(worker: &mut timely::worker::Worker, ctx: &WorkerContext) {
    while worker.has_dataflows() {
        let started = Instant::now();
        worker.step();
        let busy = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        ctx.metrics.add_busy(ctx.local_index, busy);
        let pending = worker.activations().borrow().empty_for() == Some(Duration::ZERO);
        if !pending {
            worker.step_or_park(None);
        }
    }
}

/// How long to keep collecting lost peers after the first, before reporting them.
const LOSS_GATHERING: Duration = Duration::from_millis(300);

/// Runs this process's workers of a cluster and waits for them, returning early (workers
/// detached) when a peer is lost, a worker panicked or a local connector failed.
fn run_cluster(
    link: ClusterLink,
    workers: usize,
    logic: impl Fn(&mut timely::worker::Worker) + Send + Sync + 'static,
    watch: &PeerWatch,
    failure: &Mutex<Option<String>>,
    sinks: &SinkWriters,
) -> Result<(), RunError> {
    let addresses = link.addresses.clone();
    let (builders, comms) = cluster::allocators(link, workers)
        .map_err(|e| RunError::Start(format!("cannot start timely networking: {e}")))?;
    let guards = timely::execute::execute_from(
        builders,
        Box::new(()),
        timely::WorkerConfig::default(),
        logic,
    )
    .map_err(RunError::Start)?;
    // When one process dies, the others stop and close their connections too: gather
    // the losses of a short while so the one that died first is among those named.
    let lost = |watch: &PeerWatch| {
        let lost = watch.lost();
        let first = lost.first()?;
        let names: Vec<String> = lost
            .iter()
            .map(|l| ClusterLink::describe(&addresses, l.process))
            .collect();
        Some(RunError::PeerLost {
            peer: names.join(" and "),
            detail: first.detail.clone(),
        })
    };
    let mut first_loss: Option<Instant> = None;
    loop {
        if !watch.lost().is_empty() {
            let seen = *first_loss.get_or_insert_with(Instant::now);
            if seen.elapsed() >= LOSS_GATHERING {
                std::mem::forget(guards);
                cluster::release(comms, true);
                return Err(lost(watch).unwrap_or(RunError::Worker("a peer was lost".into())));
            }
        }
        if let Some(message) = watch.worker_panic().filter(|_| first_loss.is_none()) {
            std::mem::forget(guards);
            cluster::release(comms, true);
            return Err(RunError::Worker(message));
        }
        if let Some(message) = failure.lock().clone().filter(|_| first_loss.is_none()) {
            // The peers see this process go and stop with an error naming it.
            std::mem::forget(guards);
            cluster::release(comms, true);
            for (_, writer) in sinks.iter() {
                let _ = writer.flush();
            }
            return Err(RunError::Connector(message));
        }
        if first_loss.is_none() && guards.guards().iter().all(|g| g.is_finished()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let results = guards.join();
    cluster::release(comms, false);
    if let Some(e) = lost(watch) {
        return Err(e);
    }
    for result in results {
        result.map_err(RunError::Worker)?;
    }
    Ok(())
}

/// Stands in for a source that could not be opened: ends at once.
struct Ended;

impl SourceReader for Ended {
    fn poll(
        &mut self,
        _out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        _max: usize,
    ) -> Result<SourceStatus, IoError> {
        Ok(SourceStatus::Finished)
    }
}

/// Opens every table a `lookup` or an alert's `silenced by` reads, once per process.
pub fn open_tables(
    plan: &LogicalPlan,
    connectors: &dyn ConnectorFactory,
) -> Result<HashMap<String, Arc<dyn LookupTable>>, RunError> {
    let mut tables = HashMap::new();
    for pipeline in &plan.pipelines {
        for stage in &pipeline.stages {
            let table = match stage {
                Stage::Lookup { table, .. } => table,
                Stage::Alert { spec, .. } => match &spec.silences {
                    Some(s) => &s.table,
                    None => continue,
                },
                _ => continue,
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
