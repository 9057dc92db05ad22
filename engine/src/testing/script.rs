//! Runs a plan's `test` blocks on one worker, as Beam's TestStream does: every source is
//! fed only by `given`, its watermark moves only with `watermark` (the `bounded` and
//! `idle` strategies are not applied; it starts at −∞ and the end of a test does not
//! advance it), processing time moves only with `clock`, and every sink is captured.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::expect::{match_records, show_expected, show_record};
use super::CollectSink;
use crate::build::build_dataflow;
use crate::checkpoint::stamp;
use crate::clock::{ClockWaiters, TestClock};
use crate::event::Event;
use crate::io::{
    BadRecord, ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, SourceStatus,
    WorkerInfo,
};
use crate::metrics::Metrics;
use crate::ml::Infer;
use crate::plan::sink_schemas;
use crate::plan::{LogicalPlan, SinkNode, SourceNode, TestAction, TestCase, TestStep};
use crate::run::{open_sinks, RunError};
use crate::schema::Schema;
use crate::stop::StopHandle;
use crate::time::{EventTime, MIN_WATERMARK};
use crate::value::Record;
use crate::worker::{ProcessShared, WorkerContext};

/// Steps a test may take to settle after one directive before it counts as stuck.
const MAX_SETTLE_STEPS: usize = 100_000;

/// The outcome of one test block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestReport {
    /// The test's name.
    pub name: String,
    /// What went wrong, one message per failure; empty when the test passed.
    pub failures: Vec<String>,
}

impl TestReport {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What `given` and `watermark` put in front of one source.
struct Feed {
    records: VecDeque<Record>,
    watermark: EventTime,
    /// Something arrived that the source operator has not picked up yet.
    dirty: bool,
    /// The test is over: the source ends so the dataflow can shut down.
    closed: bool,
}

struct ScriptReader {
    feed: Arc<Mutex<Feed>>,
}

impl SourceReader for ScriptReader {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        let mut feed = self.feed.lock();
        let n = max.min(feed.records.len());
        out.extend(feed.records.drain(..n));
        if feed.records.is_empty() {
            feed.dirty = false;
        }
        Ok(if feed.closed {
            SourceStatus::Finished
        } else {
            SourceStatus::Waiting
        })
    }

    fn watermark(&self) -> Option<EventTime> {
        Some(self.feed.lock().watermark)
    }
}

struct ScriptConnectors {
    feeds: HashMap<String, Arc<Mutex<Feed>>>,
    sinks: Mutex<HashMap<String, Arc<CollectSink>>>,
}

impl ScriptConnectors {
    fn settled(&self) -> bool {
        self.feeds.values().all(|f| !f.lock().dirty)
    }
}

impl ConnectorFactory for ScriptConnectors {
    fn open_source(
        &self,
        source: &SourceNode,
        _worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        let feed = self
            .feeds
            .get(&source.name)
            .ok_or_else(|| IoError::Config(format!("no feed for source `{}`", source.name)))?;
        Ok(Box::new(ScriptReader {
            feed: Arc::clone(feed),
        }))
    }

    fn open_sink(&self, sink: &SinkNode, _schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError> {
        // A sink written in several shapes collects them all, in arrival order.
        let collect = Arc::clone(self.sinks.lock().entry(sink.name.clone()).or_default());
        Ok(collect)
    }
}

/// Runs every test block of `plan`, in order.
pub fn run_tests(plan: &Arc<LogicalPlan>) -> Result<Vec<TestReport>, RunError> {
    plan.tests.iter().map(|case| run_test(plan, case)).collect()
}

/// Runs one test block.
pub fn run_test(plan: &Arc<LogicalPlan>, case: &TestCase) -> Result<TestReport, RunError> {
    run_script(plan, case, &Opened::default()).map(|(report, _)| report)
}

/// Loaded models by name, for plans with `infer` stages.
pub type Models = Arc<HashMap<String, Arc<dyn Infer>>>;

/// Open tables by name, for plans with `lookup` stages.
pub type Tables = Arc<HashMap<String, Arc<dyn LookupTable>>>;

/// What a test's `infer` and `lookup` stages read, opened by the caller once per file
/// (e.g. with [`crate::run::open_models`] and [`crate::run::open_tables`]): a test block
/// scripts the sources, not the reference data.
#[derive(Clone, Default)]
pub struct Opened {
    /// Models by name.
    pub models: Models,
    /// Tables by name.
    pub tables: Tables,
}

/// Runs one test block whose `infer` stages use `models` (loaded by the caller, e.g. with
/// [`crate::run::open_models`]).
pub fn run_test_with_models(
    plan: &Arc<LogicalPlan>,
    case: &TestCase,
    models: Models,
) -> Result<TestReport, RunError> {
    let opened = Opened {
        models,
        ..Opened::default()
    };
    run_script(plan, case, &opened).map(|(report, _)| report)
}

/// Runs one test block with the models and tables in `opened`.
pub fn run_test_opened(
    plan: &Arc<LogicalPlan>,
    case: &TestCase,
    opened: &Opened,
) -> Result<TestReport, RunError> {
    run_script(plan, case, opened).map(|(report, _)| report)
}

/// What the sinks received after one `given`, `watermark` or `clock` directive settled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepOutput {
    /// Index of the directive in the test's steps.
    pub step: usize,
    /// Per sink, the events it received, in arrival order (sinks that received nothing
    /// are absent).
    pub sinks: HashMap<String, Vec<Event>>,
}

/// Runs one test block like [`run_test`] and also returns everything every sink received,
/// step by step — for tests that check properties of the raw output rather than `expect`.
pub fn run_capture(
    plan: &Arc<LogicalPlan>,
    case: &TestCase,
) -> Result<(TestReport, Vec<StepOutput>), RunError> {
    run_script(plan, case, &Opened::default())
}

fn run_script(
    plan: &Arc<LogicalPlan>,
    case: &TestCase,
    opened: &Opened,
) -> Result<(TestReport, Vec<StepOutput>), RunError> {
    let Opened { models, tables } = opened.clone();
    let connectors = Arc::new(ScriptConnectors {
        feeds: plan
            .sources
            .iter()
            .map(|s| {
                let feed = Feed {
                    records: VecDeque::new(),
                    watermark: MIN_WATERMARK,
                    dirty: false,
                    closed: false,
                };
                (s.name.clone(), Arc::new(Mutex::new(feed)))
            })
            .collect(),
        sinks: Mutex::new(HashMap::new()),
    });
    let clock = Arc::new(TestClock::new(0));
    let stop = Arc::new(StopHandle::new());
    let clock_waiters = Arc::new(ClockWaiters::default());
    let sinks = Arc::new(open_sinks(plan, connectors.as_ref())?);
    let schemas: HashMap<String, Schema> = sink_schemas(plan).into_iter().collect();
    let plan = Arc::clone(plan);
    let case = case.clone();
    let report = timely::execute_directly(move |worker| {
        let info = WorkerInfo { index: 0, peers: 1 };
        let metrics = Arc::new(Metrics::new(&plan, 1));
        let failure = Arc::new(Mutex::new(None));
        let shared = ProcessShared {
            metrics,
            stop: Arc::clone(&stop),
            clock: clock.clone(),
            on_bad_record: Arc::new(|_| {}),
            sinks,
            tables,
            models: Arc::clone(&models),
            budgets: None,
            clock_waiters: Arc::clone(&clock_waiters),
            failure: Arc::clone(&failure),
            checkpoints: None,
        };
        let ctx = Arc::new(WorkerContext::new(info, 0, shared));
        let readers = plan
            .sources
            .iter()
            .map(|s| connectors.open_source(s, info).ok())
            .collect();
        worker.dataflow::<EventTime, _, _>(|root| {
            stamp::scope(root, |scope| build_dataflow(scope, &plan, readers, &ctx))
        });

        let mut run = Script {
            name: case.name.clone(),
            captured: connectors.sinks.lock().clone(),
            schemas,
            expected_sinks: case
                .steps
                .iter()
                .filter_map(|s| match &s.action {
                    TestAction::Expect { sink, .. } => Some(sink.clone()),
                    _ => None,
                })
                .collect(),
            pending: HashMap::new(),
            failures: Vec::new(),
            log: Vec::new(),
        };
        for (index, step) in case.steps.iter().enumerate() {
            match &step.action {
                TestAction::Expect { sink, records } => run.expect(step, sink, records),
                action => {
                    run.check_consumed(&format!("before line {}", step.line));
                    match action {
                        TestAction::Given { source, records } => {
                            if let Some(feed) = connectors.feeds.get(source) {
                                let mut f = feed.lock();
                                f.records.extend(records.iter().cloned());
                                f.dirty = true;
                            }
                        }
                        TestAction::Watermark { source, time } => {
                            for (name, feed) in &connectors.feeds {
                                if source.as_ref().is_none_or(|s| s == name) {
                                    let mut f = feed.lock();
                                    if *time > f.watermark {
                                        f.watermark = *time;
                                        f.dirty = true;
                                    }
                                }
                            }
                        }
                        TestAction::Clock { time } => clock.advance_to(*time),
                        TestAction::Expect { .. } => {}
                    }
                    if !settle(worker, &connectors, &clock_waiters) {
                        run.failures.push(format!(
                            "line {}: the pipeline did not settle after this step",
                            step.line
                        ));
                        break;
                    }
                    run.collect(index, step.line);
                }
            }
        }
        run.check_consumed("at the end of the test");
        if let Some(message) = failure.lock().take() {
            run.failures.push(message);
        }
        // Let the dataflow shut down without firing what the test left open.
        stop.request(false);
        for feed in connectors.feeds.values() {
            let mut f = feed.lock();
            f.closed = true;
            f.dirty = true;
        }
        clock_waiters.wake_all();
        (
            TestReport {
                name: run.name,
                failures: run.failures,
            },
            run.log,
        )
    });
    Ok(report)
}

/// Steps the worker until the sources have picked up everything fed to them and a step
/// finds no operator with work left. False if it never settles.
fn settle(
    worker: &mut timely::worker::Worker,
    connectors: &ScriptConnectors,
    waiters: &ClockWaiters,
) -> bool {
    waiters.wake_all();
    for _ in 0..MAX_SETTLE_STEPS {
        worker.step_or_park(Some(Duration::ZERO));
        // After a step, the pending activations are what that step ran plus anything it
        // scheduled: none means the dataflow is quiet.
        let quiet = worker.activations().borrow().empty_for() != Some(Duration::ZERO);
        if quiet && connectors.settled() {
            return true;
        }
    }
    false
}

/// The state of one test run: what each sink received that no `expect` has consumed.
struct Script {
    name: String,
    captured: HashMap<String, Arc<CollectSink>>,
    schemas: HashMap<String, Schema>,
    /// Sinks the test makes expectations about (every sink is checked; this only
    /// words the failure for the others).
    expected_sinks: std::collections::HashSet<String>,
    /// Per sink, what arrived and no `expect` consumed yet, with the line of the
    /// directive after which it arrived.
    pending: HashMap<String, Vec<(Record, usize)>>,
    failures: Vec<String>,
    /// Everything received, step by step (for [`run_capture`]).
    log: Vec<StepOutput>,
}

impl Script {
    fn collect(&mut self, step: usize, line: usize) {
        let mut out = StepOutput {
            step,
            sinks: HashMap::new(),
        };
        for (name, sink) in &self.captured {
            let events = sink.take();
            if !events.is_empty() {
                self.pending
                    .entry(name.clone())
                    .or_default()
                    .extend(events.iter().map(|e| (e.record.clone(), line)));
                out.sinks.insert(name.clone(), events);
            }
        }
        self.log.push(out);
    }

    fn expect(
        &mut self,
        step: &TestStep,
        sink: &str,
        expected: &[Vec<crate::plan::ExpectedField>],
    ) {
        let arrived = self.pending.remove(sink).unwrap_or_default();
        let received: Vec<Record> = arrived.iter().map(|(r, _)| r.clone()).collect();
        let matched = match_records(expected, &received);
        let schema = self.schemas.get(sink).cloned().unwrap_or_default();
        let used: std::collections::HashSet<usize> = matched.iter().flatten().copied().collect();
        let missing: Vec<&Vec<crate::plan::ExpectedField>> = expected
            .iter()
            .zip(&matched)
            .filter(|(_, m)| m.is_none())
            .map(|(e, _)| e)
            .collect();
        if !missing.is_empty() {
            let mut msg = format!("line {}: unmatched output on `{sink}`", step.line);
            for e in &missing {
                msg.push_str(&format!("\n    expected  {}", show_expected(e)));
            }
            if received.is_empty() {
                msg.push_str("\n    received  nothing");
            }
            for (i, r) in received.iter().enumerate() {
                let mark = if used.contains(&i) {
                    "matched "
                } else {
                    "received"
                };
                msg.push_str(&format!("\n    {mark}  {}", show_record(&schema, r)));
            }
            self.failures.push(msg);
            return;
        }
        // What this `expect` did not consume stays for the next one on the same sink.
        let rest: Vec<(Record, usize)> = arrived
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(_, r)| r)
            .collect();
        if !rest.is_empty() {
            self.pending.insert(sink.to_string(), rest);
        }
    }

    /// Fails with "unexpected output" for received records no `expect` consumed, on every
    /// sink the test names in some `expect`: a record nobody expected there is a failure,
    /// as in Beam's TestStream harness. Sinks the test never names are not under test (a
    /// file's other pipelines may write to them); `expect <sink> []` puts one under test.
    fn check_consumed(&mut self, when: &str) {
        let mut names: Vec<String> = self.pending.keys().cloned().collect();
        names.sort();
        for sink in names {
            let Some(records) = self.pending.remove(&sink) else {
                continue;
            };
            if records.is_empty() || !self.expected_sinks.contains(&sink) {
                continue;
            }
            let schema = self.schemas.get(&sink).cloned().unwrap_or_default();
            let mut msg = format!("unexpected output on `{sink}` {when}");
            for (r, line) in &records {
                msg.push_str(&format!(
                    "\n    received  {}  (after line {line})",
                    show_record(&schema, r)
                ));
            }
            self.failures.push(msg);
        }
    }
}
