//! Checkpoints end to end in the engine: a windowed pipeline runs with checkpoints, is
//! stopped after a checkpoint completed (its open windows thrown away, its sink holding
//! output past the checkpoint), resumes from the checkpoint — on the same or another
//! number of workers — and finishes. The committed output equals an uninterrupted run's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::SeedableRng;
use weir_engine::checkpoint::{CheckpointConfig, Epoch, SourcePosition, Store};
use weir_engine::clock::WallClock;
use weir_engine::event::Event;
use weir_engine::io::{
    BadRecord, ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, SourceStatus,
    WorkerInfo,
};
use weir_engine::metrics::Metrics;
use weir_engine::plan::*;
use weir_engine::run::{run, RunOptions};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::stop::StopHandle;
use weir_engine::value::{Record, Value};

mod support;
use support::shuffle_within;

const BOUND: i64 = 50;

/// The source's fields: `k`, `v`, `ts`.
fn input() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Float),
        Field::new("ts", Type::Timestamp),
    ])
}

/// `window tumbling 100ms aggregate count, sum(v) by k`.
fn window_stage() -> Stage {
    windowed(WindowKind::Tumbling {
        size_ms: 100,
        offset_ms: 0,
    })
}

/// `window <kind> aggregate count, sum(v), last(v) by k`.
fn windowed(kind: WindowKind) -> Stage {
    let input = input();
    let agg = |name: &str, func, arg: Option<Expr>| Aggregate {
        name: name.into(),
        func,
        arg_type: arg.as_ref().map(|_| Type::Float),
        arg,
        keep: Vec::new(),
    };
    let v = Expr::Field {
        slot: 1,
        name: "v".into(),
    };
    let aggregates = vec![
        agg("n", AggFunc::Count, None),
        agg("sum", AggFunc::Sum, Some(v.clone())),
        agg("last", AggFunc::Last, Some(v)),
    ];
    let schema = WindowSpec::output_schema(&input, &[0], &aggregates, Accumulation::Discard);
    Stage::Window {
        keys: vec![0],
        window: WindowSpec::new(kind),
        aggregates,
        schema,
    }
}

/// `key by k`, then `stage`, then the sink.
fn plan_with(stage: Stage) -> LogicalPlan {
    plan_of(vec![stage])
}

/// `key by k`, then `stages`, then the sink.
fn plan_of(stages: Vec<Stage>) -> LogicalPlan {
    let input = input();
    let call = ConnectorCall {
        kind: "memory".into(),
        args: vec![],
        options: vec![],
    };
    LogicalPlan {
        sources: vec![SourceNode {
            name: "in".into(),
            connector: call.clone(),
            schema: input.clone(),
            event_time: Some(2),
            overload: Default::default(),
            watermark: WatermarkSpec {
                bounded_ms: BOUND,
                idle_ms: None,
                per_key: false,
                max_future_ms: None,
            },
        }],
        sinks: vec![SinkNode {
            name: "out".into(),
            connector: call,
        }],
        pipelines: vec![PipelineNode {
            error_to: None,
            name: "p".into(),
            input: PipelineInput::Source("in".into()),
            input_schema: input,
            stages: vec![Stage::KeyBy {
                keys: vec![0],
                names: vec!["k".into()],
            }]
            .into_iter()
            .chain(stages)
            .chain([Stage::Sink { sink: "out".into() }])
            .collect(),
        }],
        tests: vec![],
        tables: Vec::new(),
        models: Vec::new(),
        checkpoint: None,
    }
}

/// `n` records over 7 keys, out of order within the watermark bound (none is late).
fn records(n: usize) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(21);
    let mut recs: Vec<Record> = (0..n)
        .map(|i| {
            vec![
                Value::Int((i * 7919 % 7) as i64),
                Value::Float((i % 13) as f64),
                Value::Time(1_000_000 + i as i64 * 3),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// Memory connectors that checkpoint: record `i` goes to worker `i % workers`; a
/// worker's position is how many of its records it has read, and a resumed reader skips
/// every record some old worker had read (any worker count). The sink's committed output
/// is a prefix of what it collected; a restore cuts the rest.
struct Connectors {
    records: Arc<Vec<Record>>,
    out: Arc<Mutex<Vec<Event>>>,
    /// While set, readers that reach the end wait there instead of finishing: a first run
    /// slowed by a loaded machine must still be stopped by the test, after a checkpoint.
    hold_end: Arc<AtomicBool>,
}

struct Reader {
    records: Arc<Vec<Record>>,
    worker: WorkerInfo,
    next: usize,
    read: u64,
    /// Per old worker (of `old_workers`): how many of its records it had read.
    done: Vec<u64>,
    hold_end: Arc<AtomicBool>,
}

impl Reader {
    fn already_read(&self, i: usize) -> bool {
        let w = self.done.len();
        w > 0 && ((i / w) as u64) < self.done[i % w]
    }
}

impl SourceReader for Reader {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        let (index, peers) = (self.worker.index, self.worker.peers);
        while out.len() < max.min(8) {
            let i = self.next * peers + index;
            let Some(r) = self.records.get(i) else {
                if self.hold_end.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(1));
                    return Ok(SourceStatus::Idle);
                }
                return Ok(SourceStatus::Finished);
            };
            self.next += 1;
            if !self.already_read(i) {
                out.push(r.clone());
            }
            self.read += 1;
        }
        // Slowly, so that the run spans several checkpoints.
        std::thread::sleep(Duration::from_micros(300));
        Ok(SourceStatus::Idle)
    }

    fn position(&mut self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        Ok(Some(self.read.to_le_bytes().to_vec()))
    }

    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let workers = positions.first().map_or(0, |p| p.workers);
        self.done = vec![0; workers];
        for p in positions {
            let bytes: [u8; 8] = p.bytes[..8].try_into().expect("8 bytes");
            self.done[p.worker] = u64::from_le_bytes(bytes);
        }
        Ok(())
    }
}

struct Sink(Arc<Mutex<Vec<Event>>>);

impl SinkWriter for Sink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        self.0.lock().extend_from_slice(events);
        Ok(())
    }
    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        Ok(Some((self.0.lock().len() as u64).to_le_bytes().to_vec()))
    }
    fn restore(&self, state: Option<&[u8]>) -> Result<(), IoError> {
        let len = state.map_or(0, |b| {
            u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
        });
        self.0.lock().truncate(len as usize);
        Ok(())
    }
}

impl ConnectorFactory for Connectors {
    fn open_source(
        &self,
        _source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        Ok(Box::new(Reader {
            records: Arc::clone(&self.records),
            worker,
            next: 0,
            read: 0,
            done: Vec::new(),
            hold_end: Arc::clone(&self.hold_end),
        }))
    }
    fn open_sink(
        &self,
        _sink: &SinkNode,
        _schema: &Schema,
    ) -> Result<Arc<dyn SinkWriter>, IoError> {
        Ok(Arc::new(Sink(Arc::clone(&self.out))))
    }
    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        Err(IoError::Config(format!("no table {}", table.name)))
    }
}

fn options(
    workers: usize,
    stop: Arc<StopHandle>,
    checkpoint: Option<CheckpointConfig>,
) -> RunOptions {
    RunOptions {
        workers,
        stop,
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|_| {}),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint,
    }
}

fn sorted(events: &[Event]) -> Vec<String> {
    let mut rows: Vec<String> = events.iter().map(|e| format!("{:?}", e.record)).collect();
    rows.sort();
    rows
}

fn config(dir: &std::path::Path, plan: &LogicalPlan) -> CheckpointConfig {
    let store = Store::open(dir).expect("store");
    let text = format!("{plan:?}");
    let latest = store.latest(7, &text).expect("latest");
    let resume = latest.restored.map(Arc::new);
    store
        .discard_after(resume.as_ref().map(|r| r.manifest.epoch))
        .expect("discard");
    CheckpointConfig {
        dir: dir.to_path_buf(),
        every_ms: 15,
        plan_hash: 7,
        plan_text: text,
        resume,
    }
}

/// Runs to the end without checkpoints: the golden output.
fn golden(records: &Arc<Vec<Record>>, plan: &LogicalPlan) -> Vec<String> {
    let plan = Arc::new(plan.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    let connectors = Arc::new(Connectors {
        records: Arc::clone(records),
        out: Arc::clone(&out),
        hold_end: Arc::new(AtomicBool::new(false)),
    });
    let metrics = Arc::new(Metrics::new(&plan, 1));
    let stop = Arc::new(StopHandle::new());
    run(plan, connectors, options(1, stop, None), metrics).expect("golden run");
    let rows = sorted(&out.lock());
    rows
}

/// Runs on `first` workers until checkpoint `stop_after` completes, stops (discarding
/// open windows) once `enough` records were written, resumes on `second` workers and
/// finishes; returns the output.
fn interrupted(
    records: &Arc<Vec<Record>>,
    plan: &LogicalPlan,
    enough: usize,
    (first, second): (usize, usize),
) -> (Vec<String>, Epoch) {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = Arc::new(plan.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    let connectors = Arc::new(Connectors {
        records: Arc::clone(records),
        out: Arc::clone(&out),
        hold_end: Arc::new(AtomicBool::new(true)),
    });

    let stop = Arc::new(StopHandle::new());
    let watcher = {
        let (stop, dir, out) = (
            Arc::clone(&stop),
            dir.path().to_path_buf(),
            Arc::clone(&out),
        );
        std::thread::spawn(move || {
            let store = Store::open(&dir).expect("store");
            // Up to 30 s: a loaded machine is slow; the readers wait at the end meanwhile.
            for _ in 0..15_000 {
                let complete = store
                    .epochs()
                    .expect("epochs")
                    .into_iter()
                    .find(|&e| store.is_complete(e));
                // Stopped once some output is committed and more is on its way.
                if complete.is_some_and(|e| e >= 2) && out.lock().len() >= enough {
                    stop.request(false);
                    return complete;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            stop.request(false);
            None
        })
    };
    let metrics = Arc::new(Metrics::new(&plan, first));
    let cfg = config(dir.path(), &plan);
    assert!(cfg.resume.is_none());
    run(
        Arc::clone(&plan),
        connectors.clone(),
        options(first, stop, Some(cfg)),
        metrics,
    )
    .expect("first run");
    let stopped_at = watcher
        .join()
        .expect("watcher")
        .expect("a checkpoint completed before the input ended");
    let before = out.lock().len();
    connectors.hold_end.store(false, Ordering::Release);

    let cfg = config(dir.path(), &plan);
    let resumed = cfg
        .resume
        .as_ref()
        .expect("a checkpoint to resume from")
        .manifest
        .epoch;
    assert!(
        resumed >= stopped_at,
        "resumes from the newest complete checkpoint"
    );
    let read = records.len() * plan.sources.len();
    let metrics = Arc::new(Metrics::new(&plan, second));
    let stop = Arc::new(StopHandle::new());
    let summary =
        run(plan, connectors, options(second, stop, Some(cfg)), metrics).expect("resumed run");
    assert_eq!(summary.late_dropped, 0);
    assert!(
        summary.records_in < read as u64,
        "the resumed run read only what the checkpoint had not: {} of {}",
        summary.records_in,
        read
    );
    assert!(before > 0, "the first run wrote output before it stopped");
    let rows = sorted(&out.lock());
    (rows, resumed)
}

/// Runs `plan` uninterrupted and interrupted on `layouts` (workers before → after the
/// stop); every interrupted run outputs exactly what the uninterrupted one does, which
/// is returned.
fn resumes_exactly(plan: &LogicalPlan, layouts: &[(usize, usize)]) -> Vec<String> {
    let records = Arc::new(records(3000));
    let golden = golden(&records, plan);
    assert!(golden.len() > 100, "{} rows", golden.len());
    let enough = (golden.len() / 4).min(100);
    for &(first, second) in layouts {
        let (rows, epoch) = interrupted(&records, plan, enough, (first, second));
        assert_eq!(
            rows.len(),
            golden.len(),
            "{first} → {second} workers, resumed from epoch {epoch}: {} rows, golden {}",
            rows.len(),
            golden.len()
        );
        assert_eq!(
            rows, golden,
            "{first} → {second} workers, resumed from epoch {epoch}"
        );
    }
    golden
}

/// The input schema followed by `added`.
fn with_fields(added: &[(&str, Type)]) -> Schema {
    let mut fields = input().fields;
    fields.extend(added.iter().map(|(n, t)| Field::new(*n, *t)));
    Schema::new(fields)
}

#[test]
fn a_window_pipeline_resumed_from_a_checkpoint_outputs_what_an_uninterrupted_run_does() {
    resumes_exactly(&plan_with(window_stage()), &[(1, 1), (4, 4), (2, 3)]);
}

#[test]
fn a_detect_pipeline_resumes_exactly() {
    let stage = Stage::Detect {
        keys: vec![0],
        field: 1,
        detector: weir_engine::ml::DetectorSpec::Zscore(weir_engine::ml::zscore::ZscoreParams {
            window: 20,
            threshold: 1.5,
        }),
        warmup: 5,
        name: "a".into(),
        schema: with_fields(&[("a.score", Type::Float), ("a.is_anomaly", Type::Bool)]),
    };
    resumes_exactly(&plan_with(stage), &[(1, 1), (2, 3)]);
}

#[test]
fn a_forecast_pipeline_resumes_exactly() {
    let stage = Stage::Forecast {
        keys: vec![0],
        field: 1,
        params: weir_engine::ml::holt_winters::HoltWintersParams {
            season_ms: 400,
            every_ms: 50,
            horizon_ms: 100,
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.2,
            confidence: 0.9,
            damping: 1.0,
        },
        name: "f".into(),
        schema: with_fields(&[
            ("f.value", Type::Float),
            ("f.lower", Type::Float),
            ("f.upper", Type::Float),
        ]),
    };
    let golden = resumes_exactly(&plan_with(stage), &[(1, 1), (2, 3)]);
    assert!(
        golden.iter().any(|r| !r.ends_with("Null, Null, Null]")),
        "the models forecast after a season"
    );
}

#[test]
fn a_dedupe_pipeline_resumes_exactly() {
    let stage = Stage::Dedupe {
        keys: vec![0],
        names: vec!["k".into()],
        within_ms: 40,
    };
    resumes_exactly(&plan_with(stage), &[(1, 1), (2, 3)]);
}

#[test]
fn a_count_window_pipeline_resumes_exactly() {
    let stage = windowed(WindowKind::Count { size: 5, every: 2 });
    resumes_exactly(&plan_with(stage), &[(1, 1), (2, 3)]);
}

/// `alert` on `v` per `k`: critical above 9, resolved below 4, with recoveries; grouped
/// by `k` when `grouped`.
fn alert_spec(grouped: bool) -> weir_engine::alert::AlertSpec {
    use weir_engine::alert::{alert_output_schema, AlertSpec, Level, LevelRule, Piece, Template};
    let alerts = alert_output_schema(&input());
    let mut message = Template::parse("{alert.id} is {alert.level}").expect("template");
    for (name, slot, _) in message.fields_mut() {
        *slot = alerts.slot(name).expect("alert field");
    }
    let v = |op, x: f64| {
        Expr::Binary(
            op,
            Box::new(Expr::Field {
                slot: 1,
                name: "v".into(),
            }),
            Box::new(Expr::Literal(Value::Float(x))),
        )
    };
    AlertSpec {
        name: "hot".into(),
        keys: vec![0],
        levels: vec![LevelRule {
            level: Level::Critical,
            when: v(BinaryOp::Gt, 9.0),
            resolve: None,
        }],
        resolve: Some(v(BinaryOp::Lt, 4.0)),
        id: Template {
            pieces: vec![
                Piece::Text("hot:".into()),
                Piece::Field {
                    name: "k".into(),
                    slot: 0,
                    precision: None,
                    offset: 0,
                },
            ],
        },
        message,
        for_ms: 10,
        keep_firing_ms: 0,
        repeat_ms: Some(100),
        recoveries: true,
        flapping: None,
        deadman_ms: None,
        silences: None,
        group: grouped.then(|| weir_engine::alert::group::GroupSpec {
            name: "hot".into(),
            by: vec![0],
            input_width: input().fields.len(),
            wait_ms: 30,
            interval_ms: 60,
        }),
    }
}

#[test]
fn an_alert_pipeline_resumes_exactly() {
    let stage = Stage::Alert {
        spec: alert_spec(false),
        schema: weir_engine::alert::alert_output_schema(&input()),
    };
    resumes_exactly(&plan_with(stage), &[(1, 1), (2, 3)]);
}

#[test]
fn an_alert_group_pipeline_resumes_exactly() {
    let spec = alert_spec(true);
    let alerts = weir_engine::alert::alert_output_schema(&input());
    let group = spec.group.clone().expect("grouped");
    let groups = weir_engine::alert::group::group_output_schema(&group, &alerts);
    let stages = vec![
        Stage::Alert {
            spec,
            schema: alerts,
        },
        Stage::AlertGroup {
            spec: group,
            schema: groups,
        },
    ];
    resumes_exactly(&plan_of(stages), &[(1, 1), (2, 3)]);
}

/// `join in2 on k = k <mode>`: the source joined with a second copy of itself.
fn join_plan(mode: JoinMode) -> LogicalPlan {
    let join = JoinSpec {
        right: PipelineInput::Source("in2".into()),
        right_schema: input(),
        name: "r".into(),
        left_keys: vec![0],
        right_keys: vec![0],
        mode,
    };
    let schema = join.output_schema(&input());
    let mut plan = plan_with(Stage::Join { join, schema });
    let mut right = plan.sources[0].clone();
    right.name = "in2".into();
    plan.sources.push(right);
    plan
}

#[test]
fn an_interval_join_pipeline_resumes_exactly() {
    let plan = join_plan(JoinMode::Interval {
        within_ms: Some(30),
    });
    resumes_exactly(&plan, &[(1, 1), (2, 3)]);
}

#[test]
fn a_window_join_pipeline_resumes_exactly() {
    let plan = join_plan(JoinMode::Window {
        kind: WindowKind::Tumbling {
            size_ms: 50,
            offset_ms: 0,
        },
    });
    resumes_exactly(&plan, &[(1, 1), (2, 3)]);
}
