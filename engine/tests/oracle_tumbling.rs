//! Oracle test: tumbling-window aggregates over random out-of-order events (disorder within
//! the watermark bound) equal a naive batch recomputation, on 1 and on 4 workers.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::plan::*;
use weir_engine::run::{run, RunOptions};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::stop::StopHandle;
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

const BOUND: i64 = 50;

fn plan(size: i64) -> LogicalPlan {
    let input = Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Float),
        Field::new("ts", Type::Timestamp),
    ]);
    let f = |slot: usize, name: &str| Expr::Field {
        slot,
        name: name.into(),
    };
    let agg = |name: &str, func, arg: Option<Expr>| Aggregate {
        name: name.into(),
        func,
        arg_type: arg.as_ref().map(|_| Type::Float),
        arg,
    };
    let aggregates = vec![
        agg("n", AggFunc::Count, None),
        agg("sum", AggFunc::Sum, Some(f(1, "v"))),
        agg("avg", AggFunc::Avg, Some(f(1, "v"))),
        agg("min", AggFunc::Min, Some(f(1, "v"))),
        agg("max", AggFunc::Max, Some(f(1, "v"))),
        agg("first", AggFunc::First, Some(f(1, "v"))),
        agg("last", AggFunc::Last, Some(f(1, "v"))),
    ];
    let schema = WindowSpec::output_schema(&input, &[0], &aggregates, Accumulation::Discard);
    LogicalPlan {
        sources: vec![SourceNode {
            name: "in".into(),
            connector: ConnectorCall {
                kind: "memory".into(),
                args: vec![],
                options: vec![],
            },
            schema: input.clone(),
            event_time: Some(2),
            watermark: WatermarkSpec {
                bounded_ms: BOUND,
                idle_ms: None,
                per_key: false,
            },
        }],
        sinks: vec![SinkNode {
            name: "out".into(),
            connector: ConnectorCall {
                kind: "memory".into(),
                args: vec![],
                options: vec![],
            },
        }],
        pipelines: vec![PipelineNode {
            name: "p".into(),
            input: PipelineInput::Source("in".into()),
            input_schema: input,
            stages: vec![
                Stage::KeyBy {
                    keys: vec![0],
                    names: vec!["k".into()],
                },
                Stage::Window {
                    keys: vec![0],
                    window: WindowSpec::new(WindowKind::Tumbling {
                        size_ms: size,
                        offset_ms: 0,
                    }),
                    aggregates,
                    schema,
                },
                Stage::Sink { sink: "out".into() },
            ],
        }],
        tests: vec![],
        tables: Vec::new(),
    }
}

/// Distinct timestamps, shuffled only within chunks that span less than the bound.
fn events(seed: u64, n: usize) -> Vec<Record> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut recs: Vec<Record> = (0..n)
        .map(|i| {
            vec![
                Value::Int(rng.gen_range(0..5)),
                Value::Float(rng.gen_range(-20..20) as f64 * 0.5),
                Value::Time(1_000_000 + i as i64 * 7),
            ]
        })
        .collect();
    for chunk in recs.chunks_mut((BOUND / 7) as usize) {
        for i in (1..chunk.len()).rev() {
            chunk.swap(i, rng.gen_range(0..=i));
        }
    }
    recs
}

fn oracle(records: &[Record], size: i64) -> Vec<Vec<Value>> {
    let mut groups: BTreeMap<(i64, i64), Vec<(i64, f64)>> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Float(v), Value::Time(t)) = (&r[0], &r[1], &r[2]) else {
            unreachable!()
        };
        groups
            .entry((t.div_euclid(size) * size, *k))
            .or_default()
            .push((*t, *v));
    }
    let mut out: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|((start, k), mut vs)| {
            vs.sort_by_key(|(t, _)| *t);
            let values: Vec<f64> = vs.iter().map(|(_, v)| *v).collect();
            let sum: f64 = values.iter().sum();
            vec![
                Value::Int(k),
                Value::Int(values.len() as i64),
                Value::Float(sum),
                Value::Float(sum / values.len() as f64),
                Value::Float(values.iter().cloned().fold(f64::INFINITY, f64::min)),
                Value::Float(values.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
                Value::Float(values[0]),
                Value::Float(values[values.len() - 1]),
                Value::Time(start),
                Value::Time(start + size),
                Value::str("on_time"),
                Value::Int(0),
                Value::Int(0),
                Value::Bool(true),
                Value::Time(start + size - 1),
            ]
        })
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

fn cmp_records(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

fn engine(records: Vec<Record>, size: i64, workers: usize, batch: usize) -> (Vec<Vec<Value>>, u64) {
    run_with(
        MemoryConnectors::new(batch).with_source("in", records),
        size,
        workers,
    )
}

fn run_with(connectors: MemoryConnectors, size: i64, workers: usize) -> (Vec<Vec<Value>>, u64) {
    let plan = Arc::new(plan(size));
    let connectors = Arc::new(connectors);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|_| {}),
        limit: None,
        clock_waiters: Default::default(),
    };
    let summary = run(plan, connectors.clone(), options, metrics).expect("run succeeds");
    let mut out: Vec<Vec<Value>> = connectors
        .collected("out")
        .into_iter()
        .map(|e| e.record)
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    (out, summary.late_dropped)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn tumbling_matches_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..3_000, size in prop::sample::select(vec![10i64, 100, 1_000]), batch in 1usize..300) {
        let records = events(seed, n);
        let expected = oracle(&records, size);
        let (one, late1) = engine(records.clone(), size, 1, batch);
        prop_assert_eq!(late1, 0);
        prop_assert_eq!(&one, &expected);
        let (four, late4) = engine(records, size, 4, batch);
        prop_assert_eq!(late4, 0);
        prop_assert_eq!(&four, &expected);
    }
}

#[test]
fn elements_behind_a_fired_window_are_late_dropped_and_counted() {
    // One worker, batch of 1: the watermark passes 1_000 before the last record arrives.
    let recs = vec![
        vec![Value::Int(1), Value::Float(1.0), Value::Time(10)],
        vec![Value::Int(1), Value::Float(1.0), Value::Time(2_000)],
        vec![Value::Int(1), Value::Float(5.0), Value::Time(20)],
    ];
    let (out, late) = run_with(
        MemoryConnectors::new(1).paced().with_source("in", recs),
        1_000,
        1,
    );
    assert_eq!(late, 1);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0][1],
        Value::Int(1),
        "the late element did not change the fired window"
    );
}
