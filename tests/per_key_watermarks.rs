//! `watermark bounded 5s, per key`: a device whose clock runs an hour behind keeps its own
//! timeline, so none of its readings are late and its windows are complete — where one
//! watermark per source would drop them all — on 1 and on 2 workers alike.

use std::sync::Arc;

use weir::engine::clock::WallClock;
use weir::engine::metrics::Metrics;
use weir::engine::run::{run, RunOptions};
use weir::engine::stop::StopHandle;
use weir::engine::testing::MemoryConnectors;
use weir::engine::value::{Record, Value};

const T0: i64 = 1_714_557_600_000; // 2024-05-01T10:00:00Z

fn program(per_key: bool) -> String {
    format!(
        "source readings = memory() {{\n  device: string\n  v: f64\n  ts: timestamp\n  event_time ts\n  watermark bounded 5s{}\n}}\n\
         sink out = memory()\n\
         pipeline per_minute {{\n  from readings\n  | key by device\n  | window tumbling 1m\n  | aggregate n = count(), total = sum(v)\n  | to out\n}}\n",
        if per_key { ", per key" } else { "" }
    )
}

/// Ten minutes of one reading a second from `a`, interleaved with the same from `b`,
/// whose clock is an hour behind.
fn readings() -> Vec<Record> {
    let mut out = Vec::new();
    for i in 0..600 {
        for (device, skew) in [("a", 0), ("b", -3_600_000)] {
            out.push(vec![
                Value::str(device),
                Value::Float(1.0),
                Value::Time(T0 + skew + i * 1000),
            ]);
        }
    }
    out
}

/// Sorted (device, window start, count) rows, and the late-dropped count.
fn run_on(per_key: bool, workers: usize) -> (Vec<(String, i64, i64)>, u64) {
    let compiled = weir::dsl::compile("per_key.pipe", &program(per_key)).expect("compiles");
    let plan = Arc::new(compiled.plan);
    // One record per poll, so the watermark moves between readings as in a live feed.
    let connectors = Arc::new(
        MemoryConnectors::new(1)
            .paced()
            .with_source("readings", readings()),
    );
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|b| panic!("bad record {b:?}")),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let summary = run(plan, connectors.clone(), options, metrics).expect("runs");
    let mut rows: Vec<(String, i64, i64)> = connectors
        .collected("out")
        .into_iter()
        .map(|e| match (&e.record[0], &e.record[1], &e.record[3]) {
            (Value::Str(d), Value::Int(n), Value::Time(start)) => (d.to_string(), *start, *n),
            other => panic!("unexpected record {other:?}"),
        })
        .collect();
    rows.sort();
    (rows, summary.late_dropped)
}

#[test]
fn a_skewed_device_keeps_its_own_timeline() {
    let expected: Vec<(String, i64, i64)> = ["a", "b"]
        .iter()
        .flat_map(|d| {
            let skew = if *d == "b" { -3_600_000 } else { 0 };
            (0..10).map(move |m| (d.to_string(), T0 + skew + m * 60_000, 60))
        })
        .collect();
    let (one, late) = run_on(true, 1);
    assert_eq!(late, 0);
    assert_eq!(one, expected);
    let (two, late) = run_on(true, 2);
    assert_eq!(late, 0);
    assert_eq!(two, expected);

    // One watermark for the whole source: the skewed device's readings are all late.
    let (shared, late) = run_on(false, 1);
    assert!(late >= 590, "only {late} late");
    let complete = |device: &str| {
        shared
            .iter()
            .filter(|(d, _, n)| d == device && *n == 60)
            .count()
    };
    assert_eq!(complete("a"), 10, "{shared:?}");
    assert_eq!(complete("b"), 0, "{shared:?}");
}
