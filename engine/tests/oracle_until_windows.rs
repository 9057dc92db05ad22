//! Oracle test of `window until <end> [from <start>]`, windows whose bounds are fields of
//! the record (Nexmark's auction windows): over random out-of-order events of
//! overlapping "auctions" sharing keys, the engine's panes equal a batch grouping by
//! (key, start, end), on 1 and on 4 workers, whatever the bundling.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::plan::*;
use weir_engine::run::{run, RunOptions};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::stop::StopHandle;
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::shuffle_within;

const BOUND: i64 = 50;

fn field(slot: usize, name: &str) -> Expr {
    Expr::Field {
        slot,
        name: name.into(),
    }
}

fn aggregates() -> Vec<Aggregate> {
    let agg = |name: &str, func, arg: Option<Expr>| Aggregate {
        name: name.into(),
        func,
        arg_type: arg.as_ref().map(|_| Type::Int),
        arg,
        keep: Vec::new(),
    };
    vec![
        agg("n", AggFunc::Count, None),
        agg("total", AggFunc::Sum, Some(field(1, "v"))),
        agg("top", AggFunc::Max, Some(field(1, "v"))),
    ]
}

fn kind(with_start: bool) -> WindowKind {
    WindowKind::Until {
        end: FieldRef {
            slot: 4,
            name: "closes".into(),
        },
        start: with_start.then(|| FieldRef {
            slot: 3,
            name: "opens".into(),
        }),
    }
}

fn plan(with_start: bool) -> LogicalPlan {
    let input = Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
        Field::new("opens", Type::Timestamp),
        Field::new("closes", Type::Timestamp),
    ]);
    let aggregates = aggregates();
    let schema = WindowSpec::output_schema(&input, &[0], &aggregates, Accumulation::Discard);
    let memory = ConnectorCall {
        kind: "memory".into(),
        args: vec![],
        options: vec![],
    };
    LogicalPlan {
        sources: vec![SourceNode {
            name: "in".into(),
            connector: memory.clone(),
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
            connector: memory,
        }],
        pipelines: vec![PipelineNode {
            error_to: None,
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
                    window: WindowSpec::new(kind(with_start)),
                    aggregates,
                    schema,
                },
                Stage::Sink { sink: "out".into() },
            ],
        }],
        tests: vec![],
        tables: Vec::new(),
        models: Vec::new(),
        checkpoint: None,
    }
}

/// Events of overlapping auctions: auction `i` opens at `1e6 + 37·i` and stays open a
/// random 1–400 ms; each event picks an auction open at its time (keys are `i % keys`,
/// so one key has several auctions, with different bounds, open at once). Shuffled
/// within the watermark bound: nothing is late.
fn events(seed: u64, n: usize, keys: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let auctions: Vec<(i64, i64)> = (0..(n as i64 / 3 + 2))
        .map(|i| {
            let opens = 1_000_000 + 37 * i;
            (opens, opens + rng.gen_range(1..=400))
        })
        .collect();
    let mut t = 1_000_000i64;
    let mut recs = Vec::new();
    while recs.len() < n {
        t += rng.gen_range(1..=7);
        let open: Vec<usize> = (0..auctions.len())
            .filter(|&i| auctions[i].0 <= t && t < auctions[i].1)
            .collect();
        if open.is_empty() {
            continue;
        }
        let i = open[rng.gen_range(0..open.len())];
        recs.push(vec![
            Value::Int(i as i64 % keys),
            Value::Int(rng.gen_range(-50..50)),
            Value::Time(t),
            Value::Time(auctions[i].0),
            Value::Time(auctions[i].1),
        ]);
    }
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// One pane per (key, start, end): key, count, sum, max, then the window fields.
fn oracle(records: &[Record], with_start: bool) -> Vec<Vec<Value>> {
    let mut groups: BTreeMap<(i64, i64, i64), Vec<i64>> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Int(v), Value::Time(s), Value::Time(e)) =
            (&r[0], &r[1], &r[3], &r[4])
        else {
            unreachable!()
        };
        let s = if with_start { *s } else { i64::MIN };
        groups.entry((*k, s, *e)).or_default().push(*v);
    }
    let mut out: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|((k, start, end), vs)| {
            vec![
                Value::Int(k),
                Value::Int(vs.len() as i64),
                Value::Int(vs.iter().sum()),
                Value::Int(*vs.iter().max().expect("a group has a value")),
                Value::Time(start),
                Value::Time(end),
                Value::str("on_time"),
                Value::Int(0),
                Value::Int(0),
                Value::Bool(true),
                Value::Time(end - 1),
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

fn engine(records: Vec<Record>, with_start: bool, workers: usize, batch: usize) -> Vec<Vec<Value>> {
    let plan = Arc::new(plan(with_start));
    let connectors = Arc::new(MemoryConnectors::new(batch).with_source("in", records));
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
    assert_eq!(summary.late_dropped, 0);
    let mut out: Vec<Vec<Value>> = connectors
        .collected("out")
        .into_iter()
        .map(|e| e.record)
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn until_windows_match_the_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_200, keys in 1i64..6, with_start: bool, batch in 1usize..200) {
        let records = events(seed, n, keys);
        let expected = oracle(&records, with_start);
        let one = engine(records.clone(), with_start, 1, batch);
        prop_assert_eq!(&one, &expected, "1 worker");
        let four = engine(records, with_start, 4, batch);
        prop_assert_eq!(&four, &expected, "4 workers");
    }
}
