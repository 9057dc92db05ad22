//! `window … on processing time` on the test clock, on 1 and 4 workers: records join the
//! windows containing the clock when they arrive, whatever their event time — records
//! far behind the watermark, which an event-time window drops as late, are counted — and
//! the windows open at the end of the input fire then. The clock stands still during a
//! run, so the panes are known in advance: a batch grouping by key.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use weir_engine::clock::TestClock;
use weir_engine::metrics::Metrics;
use weir_engine::plan::*;
use weir_engine::run::{run, RunOptions};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::stop::StopHandle;
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{cmp_records, keyed_window, one_pipeline, sorted_records};

/// Where the test clock stands during every run.
const NOW: i64 = 12_345;

fn input() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
    ])
}

fn plan(kind: WindowKind) -> LogicalPlan {
    let sum = Aggregate {
        name: "total".into(),
        func: AggFunc::Sum,
        arg: Some(Expr::Field {
            slot: 1,
            name: "v".into(),
        }),
        arg_type: Some(Type::Int),
        keep: Vec::new(),
    };
    let count = Aggregate {
        name: "n".into(),
        func: AggFunc::Count,
        arg: None,
        arg_type: None,
        keep: Vec::new(),
    };
    let mut window = WindowSpec::new(kind);
    window.processing_time = true;
    // A watermark right at the largest event time seen: every out-of-order record is
    // behind it.
    one_pipeline(input(), 0, keyed_window(&input(), window, vec![count, sum]))
}

/// Records with event times that jump back and forth by up to a day.
fn records(seed: u64, n: usize) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            vec![
                Value::Int(rng.gen_range(0..7)),
                Value::Int(rng.gen_range(-100..100)),
                Value::Time(1_700_000_000_000 + rng.gen_range(0..86_400_000)),
            ]
        })
        .collect()
}

/// Per key and window: key, count, sum, the window fields; last, the latest event time
/// of the key's records, which the pane's time may not precede (it is the watermark at
/// the end of input if that is later, which depends on scheduling).
fn oracle(records: &[Record], windows: &[(i64, i64)]) -> Vec<Record> {
    let mut by_key: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Int(v), Value::Time(t)) = (&r[0], &r[1], &r[2]) else {
            unreachable!("records are (int, int, time)")
        };
        let e = by_key.entry(*k).or_insert((0, 0, i64::MIN));
        *e = (e.0 + 1, e.1 + v, e.2.max(*t));
    }
    let mut out: Vec<Record> = by_key
        .into_iter()
        .flat_map(|(k, (n, sum, latest))| {
            windows.iter().map(move |&(start, end)| {
                vec![
                    Value::Int(k),
                    Value::Int(n),
                    Value::Int(sum),
                    Value::Time(start),
                    Value::Time(end),
                    Value::str("on_time"),
                    Value::Int(0),
                    Value::Int(0),
                    Value::Bool(true),
                    Value::Time(latest),
                ]
            })
        })
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

fn engine(kind: WindowKind, records: Vec<Record>, workers: usize) -> Vec<Record> {
    let connectors = Arc::new(MemoryConnectors::new(16).with_source("in", records));
    let plan = Arc::new(plan(kind));
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(TestClock::new(NOW)),
        on_bad_record: Arc::new(|_| {}),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let summary = run(plan, connectors.clone(), options, metrics).expect("run succeeds");
    assert_eq!(
        summary.late_dropped, 0,
        "nothing is late in processing time"
    );
    sorted_records(connectors.collected("out"))
}

/// Compares panes with the oracle's: every field but the pane's time equal, and that
/// time at or after the key's latest event time.
fn assert_panes(got: &[Record], expected: &[Record], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g[..9], e[..9], "{what}");
        assert!(
            g[9].total_cmp(&e[9]).is_ge(),
            "{what}: pane time {:?} before {:?}",
            g[9],
            e[9]
        );
    }
}

#[test]
fn tumbling_processing_time_windows_count_every_record_on_1_and_4_workers() {
    let kind = WindowKind::Tumbling {
        size_ms: 10_000,
        offset_ms: 0,
    };
    for seed in 0..3 {
        let records = records(seed, 500);
        let expected = oracle(&records, &[(10_000, 20_000)]);
        assert_eq!(expected.len(), 7, "every key has records");
        for workers in [1, 4] {
            let got = engine(kind.clone(), records.clone(), workers);
            assert_panes(
                &got,
                &expected,
                &format!("seed {seed} on {workers} workers"),
            );
        }
    }
}

#[test]
fn a_record_joins_every_sliding_window_open_when_it_arrives() {
    let kind = WindowKind::Sliding {
        size_ms: 10_000,
        period_ms: 5_000,
    };
    let records = records(7, 300);
    let expected = oracle(&records, &[(5_000, 15_000), (10_000, 20_000)]);
    for workers in [1, 4] {
        let got = engine(kind.clone(), records.clone(), workers);
        assert_panes(&got, &expected, &format!("{workers} workers"));
    }
}
