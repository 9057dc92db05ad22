//! What the oracle tests share: out-of-order inputs that never fall behind the watermark,
//! the windows an event time belongs to, as a batch recomputation sees them, and the
//! plan and run around one pipeline from a memory source to a memory sink.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::sync::Arc;

use rand::Rng;
use weir_engine::clock::WallClock;
use weir_engine::event::Event;
use weir_engine::metrics::Metrics;
use weir_engine::plan::{
    Accumulation, Aggregate, ConnectorCall, LogicalPlan, PipelineInput, PipelineNode, SinkNode,
    SourceNode, Stage, WatermarkSpec, WindowKind, WindowSpec,
};
use weir_engine::run::{run, RunOptions, RunSummary};
use weir_engine::schema::Schema;
use weir_engine::stop::StopHandle;
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

/// The event time of a test record (slot 2).
pub fn time(r: &Record) -> i64 {
    match r[2] {
        Value::Time(t) => t,
        _ => unreachable!("test records carry their time in slot 2"),
    }
}

/// Shuffles `recs` (in time order) within runs that span less than `bound` ms, so no
/// record ever arrives behind a watermark `bound` behind the largest time seen.
pub fn shuffle_within(recs: &mut [Record], bound: i64, rng: &mut impl Rng) {
    let mut start = 0;
    while start < recs.len() {
        let first = time(&recs[start]);
        let mut end = start + 1;
        while end < recs.len() && time(&recs[end]) - first < bound && rng.gen_bool(0.9) {
            end += 1;
        }
        let chunk = &mut recs[start..end];
        for i in (1..chunk.len()).rev() {
            chunk.swap(i, rng.gen_range(0..=i));
        }
        start = end;
    }
}

/// The windows `t` belongs to (sessions are grouped apart, per key).
pub fn windows_of(kind: &WindowKind, t: i64) -> Vec<(i64, i64)> {
    match *kind {
        WindowKind::Tumbling { size_ms, offset_ms } => {
            let start = (t - offset_ms).div_euclid(size_ms) * size_ms + offset_ms;
            vec![(start, start + size_ms)]
        }
        WindowKind::Sliding { size_ms, period_ms } => {
            let mut out = Vec::new();
            let mut start = t.div_euclid(period_ms) * period_ms;
            while start + size_ms > t {
                out.push((start, start + size_ms));
                start -= period_ms;
            }
            out
        }
        WindowKind::Global => vec![(i64::MIN, i64::MAX)],
        WindowKind::Session { .. } => unreachable!("sessions are grouped per key"),
        WindowKind::Until { .. } | WindowKind::Count { .. } => {
            unreachable!("`until` and `count` windows are not functions of time")
        }
    }
}

/// The `memory` connector, for sources and sinks alike.
pub fn memory() -> ConnectorCall {
    ConnectorCall {
        kind: "memory".into(),
        args: vec![],
        options: vec![],
    }
}

/// A memory source whose event time is slot 2, with a watermark `bound_ms` behind.
pub fn memory_source(name: &str, schema: Schema, bound_ms: i64) -> SourceNode {
    SourceNode {
        name: name.into(),
        connector: memory(),
        schema,
        event_time: Some(2),
        overload: Default::default(),
        watermark: WatermarkSpec {
            bounded_ms: bound_ms,
            idle_ms: None,
            per_key: false,
            max_future_ms: None,
        },
    }
}

/// One pipeline `p` from the memory source `in` through `stages` (which end in a sink
/// stage) to the memory sink `out`.
pub fn one_pipeline(input: Schema, bound_ms: i64, stages: Vec<Stage>) -> LogicalPlan {
    LogicalPlan {
        sources: vec![memory_source("in", input.clone(), bound_ms)],
        sinks: vec![SinkNode {
            name: "out".into(),
            connector: memory(),
        }],
        pipelines: vec![PipelineNode {
            error_to: None,
            name: "p".into(),
            input: PipelineInput::Source("in".into()),
            input_schema: input,
            stages,
        }],
        tests: vec![],
        tables: Vec::new(),
        models: Vec::new(),
        checkpoint: None,
    }
}

/// Runs `plan` over `connectors` on `workers` on the wall clock; the run's summary and
/// the events the memory sink `out` collected, in arrival order.
pub fn run_memory(
    plan: LogicalPlan,
    connectors: MemoryConnectors,
    workers: usize,
) -> (RunSummary, Vec<Event>) {
    let plan = Arc::new(plan);
    let connectors = Arc::new(connectors);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|_| {}),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let summary = run(plan, connectors.clone(), options, metrics).expect("run succeeds");
    (summary, connectors.collected("out"))
}

/// The records of `events`, sorted field by field (so runs compare whatever the order).
pub fn sorted_records(events: Vec<Event>) -> Vec<Record> {
    let mut out: Vec<Record> = events.into_iter().map(|e| e.record).collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

/// Field-by-field total order of two records.
pub fn cmp_records(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// `key by` the first field, then `window` with `aggregates` (discarding panes), then the
/// memory sink `out`: the stages of most window oracles.
pub fn keyed_window(input: &Schema, window: WindowSpec, aggregates: Vec<Aggregate>) -> Vec<Stage> {
    let schema = WindowSpec::output_schema(input, &[0], &aggregates, Accumulation::Discard);
    vec![
        Stage::KeyBy {
            keys: vec![0],
            names: vec![input.fields[0].name.clone()],
        },
        Stage::Window {
            keys: vec![0],
            window,
            aggregates,
            schema,
        },
        Stage::Sink { sink: "out".into() },
    ]
}
