//! Tests of the sensor simulator: determinism, worker split, jitter, plausibility.

use std::collections::BTreeSet;

use weir_engine::io::{SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::plant::{Plant, TEMP_BASE, TEMP_DAILY, TEMP_DRIFT, TEMP_NOISE, VIB_BASE};
use super::random::NORMALISH_BOUND;
use super::*;

fn call(options: &[(&str, OptionValue)]) -> ConnectorCall {
    ConnectorCall {
        kind: "sensors".into(),
        args: vec![],
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    }
}

fn full_schema() -> Schema {
    Schema::new(vec![
        Field::new("seq", Type::Int),
        Field::new("device_id", Type::String),
        Field::new("machine_id", Type::String),
        Field::new("line", Type::String),
        Field::new("ts", Type::Timestamp),
        Field::new("temp", Type::Float),
        Field::new("vibration", Type::Float),
        Field::new("power", Type::Float),
        Field::nullable("anomaly", Type::Bool),
    ])
}

fn read(options: &[(&str, OptionValue)], schema: &Schema, worker: WorkerInfo) -> Vec<Record> {
    let (config, measures) = SensorsConfig::with_schema(&call(options), schema).expect("valid");
    let mut source = SensorsSource::new(config, measures, worker);
    let mut out = Vec::new();
    let mut bad = Vec::new();
    loop {
        let before = out.len();
        let status = source.poll(&mut out, &mut bad, 97).expect("poll");
        assert!(out.len() - before <= 97);
        match status {
            SourceStatus::Finished => break,
            SourceStatus::Ready => {}
            SourceStatus::Idle | SourceStatus::Waiting => panic!("not paced, never idle"),
        }
    }
    assert!(bad.is_empty());
    // Polling after the end stays finished.
    let status = source.poll(&mut out, &mut bad, 10).expect("poll");
    assert_eq!(status, SourceStatus::Finished);
    out
}

const ONE: WorkerInfo = WorkerInfo { index: 0, peers: 1 };

fn int(i: i64) -> OptionValue {
    OptionValue::Int(i)
}

#[test]
fn produces_exactly_the_events_asked_for() {
    let records = read(
        &[("events", int(1234)), ("devices", int(7))],
        &full_schema(),
        ONE,
    );
    assert_eq!(records.len(), 1234);
    for (n, r) in records.iter().enumerate() {
        assert_eq!(r.len(), 9);
        assert_eq!(r[0], Value::Int(n as i64));
        assert_eq!(r[1], Value::str(&format!("dev-{}", n % 7)));
    }
    let devices: BTreeSet<&str> = records.iter().filter_map(|r| r[1].as_str()).collect();
    assert_eq!(devices.len(), 7);
}

#[test]
fn defaults_give_100k_events_of_10_devices_at_1000_per_second() {
    let schema = Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("time", Type::Timestamp),
    ]);
    let records = read(&[], &schema, ONE);
    assert_eq!(records.len(), 100_000);
    assert_eq!(
        records[0],
        vec![Value::str("dev-00"), Value::Time(1_714_521_600_000)]
    );
    assert_eq!(records[99_999][0], Value::str("dev-09"));
    assert_eq!(records[99_999][1], Value::Time(1_714_521_600_000 + 99_999));
}

#[test]
fn duration_sets_the_event_count() {
    let schema = Schema::new(vec![Field::new("seq", Type::Int)]);
    let records = read(
        &[
            ("rate", OptionValue::Float(2.5)),
            ("duration", OptionValue::Duration(60_000)),
        ],
        &schema,
        ONE,
    );
    assert_eq!(records.len(), 150);
}

#[test]
fn same_seed_same_records_other_seed_other_records() {
    let opts = |seed| {
        vec![
            ("events", int(2000)),
            ("seed", int(seed)),
            ("anomaly_rate", OptionValue::Float(0.05)),
        ]
    };
    let a = read(&opts(42), &full_schema(), ONE);
    let b = read(&opts(42), &full_schema(), ONE);
    let c = read(&opts(43), &full_schema(), ONE);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn values_do_not_depend_on_the_declared_fields() {
    let narrow = Schema::new(vec![
        Field::new("temperature", Type::Float),
        Field::new("seq", Type::Int),
    ]);
    let opts = [
        ("events", int(500)),
        ("jitter", OptionValue::Duration(3_000)),
    ];
    let full = read(&opts, &full_schema(), ONE);
    let part = read(&opts, &narrow, ONE);
    for (f, p) in full.iter().zip(&part) {
        assert_eq!(f[0], p[1]);
        assert_eq!(f[5], p[0]);
    }
}

#[test]
fn splitting_across_workers_keeps_every_record() {
    let opts = [
        ("events", int(5000)),
        ("devices", int(10)),
        ("jitter", OptionValue::Duration(2_000)),
        ("anomaly_rate", OptionValue::Float(0.01)),
    ];
    let (config, _) = SensorsConfig::with_schema(&call(&opts), &full_schema()).expect("valid");
    let plant = Plant::new(config);
    let mut single = read(&opts, &full_schema(), ONE);
    let mut split = Vec::new();
    for index in 0..3 {
        let part = read(&opts, &full_schema(), WorkerInfo { index, peers: 3 });
        let mut last = (i64::MIN, -1);
        for r in &part {
            let n = r[0].as_i64().expect("seq");
            let arrived = (plant.arrival_of(n as u64), n);
            assert!(arrived > last, "arrival order within a worker");
            last = arrived;
            assert_eq!((n % 10) % 3, index as i64, "devices d % peers == worker");
        }
        split.extend(part);
    }
    single.sort_by(|a, b| a[0].total_cmp(&b[0]));
    split.sort_by(|a, b| a[0].total_cmp(&b[0]));
    assert_eq!(single, split);
}

#[test]
fn more_workers_than_devices_leaves_some_idle() {
    let schema = Schema::new(vec![Field::new("seq", Type::Int)]);
    let opts = [("events", int(100)), ("devices", int(2))];
    let total: usize = (0..4)
        .map(|index| read(&opts, &schema, WorkerInfo { index, peers: 4 }).len())
        .sum();
    assert_eq!(total, 100);
    assert!(read(&opts, &schema, WorkerInfo { index: 3, peers: 4 }).is_empty());
}

/// Jitter delays a record's arrival, never its event time: every event time is on the
/// grid `start + n·1000/rate`, records come in arrival order (arrival = event time plus
/// at most `jitter`), and so out of event-time order.
#[test]
fn jitter_delays_arrival_and_keeps_event_times_on_the_grid() {
    let jitter = 5_000;
    let opts = [
        ("events", int(20_000)),
        ("rate", int(100)),
        ("jitter", OptionValue::Duration(jitter)),
    ];
    let (config, _) = SensorsConfig::with_schema(&call(&opts), &full_schema()).expect("valid");
    let plant = Plant::new(config.clone());
    let records = read(&opts, &full_schema(), ONE);
    assert_eq!(records.len(), 20_000);
    let mut out_of_order = 0;
    let mut max_seen = i64::MIN;
    let mut last_arrival = i64::MIN;
    let mut max_delay = 0;
    for r in &records {
        let n = r[0].as_i64().expect("seq") as u64;
        let ts = r[4].as_i64().expect("ts");
        assert_eq!(
            ts,
            1_714_521_600_000 + n as i64 * 10,
            "event time on the grid"
        );
        assert_eq!(ts, config.in_order_time(n));
        let arrival = plant.arrival_of(n);
        assert!(arrival >= last_arrival, "emitted in arrival order");
        last_arrival = arrival;
        assert!(
            (0..=jitter).contains(&(arrival - ts)),
            "delay within jitter"
        );
        // What a `watermark bounded <jitter>` would have passed already.
        assert!(
            ts >= max_seen.saturating_sub(jitter),
            "never later than the jitter bound"
        );
        max_delay = max_delay.max(arrival - ts);
        if ts < max_seen {
            out_of_order += 1;
        }
        max_seen = max_seen.max(ts);
    }
    assert!(
        out_of_order > records.len() / 2,
        "{out_of_order} out of order"
    );
    assert!(
        max_delay > jitter * 9 / 10,
        "jitter range used: {max_delay}"
    );
}

#[test]
fn readings_are_plausible_and_anomalies_stand_out() {
    let opts = [
        ("events", int(50_000)),
        ("devices", int(25)),
        ("rate", int(1)), // 50k seconds: more than half a day of cycles
        ("anomaly_rate", OptionValue::Float(0.02)),
        ("seed", int(9)),
    ];
    let records = read(&opts, &full_schema(), ONE);
    let noise = TEMP_NOISE * NORMALISH_BOUND;
    let temp_lo = TEMP_BASE.0 - TEMP_DAILY - TEMP_DRIFT.1 - noise;
    let temp_hi = TEMP_BASE.1 + TEMP_DAILY + TEMP_DRIFT.1 + noise;
    let mut anomalies = 0;
    let (mut min_t, mut max_t) = (f64::MAX, f64::MIN);
    for r in &records {
        let temp = r[5].as_f64().expect("temp");
        let vib = r[6].as_f64().expect("vibration");
        let power = r[7].as_f64().expect("power");
        assert!(vib > 0.0 && power > 0.0);
        if r[8] == Value::Bool(true) {
            anomalies += 1;
            assert!(temp > temp_lo + 15.0, "an anomaly is a spike: {temp}");
            assert!(vib >= VIB_BASE.0 * 0.7 * 4.0, "vibration spike: {vib}");
        } else {
            assert!((temp_lo..=temp_hi).contains(&temp), "temp {temp}");
            assert!(vib <= VIB_BASE.1 * 1.3 * 2.5, "vibration {vib}");
            assert!(power <= 45.0 * 1.11, "power {power}");
            min_t = min_t.min(temp);
            max_t = max_t.max(temp);
        }
    }
    // 2% of 50k = 1000 expected; a wide band keeps the test honest but not flaky.
    assert!((800..1200).contains(&anomalies), "{anomalies} anomalies");
    assert!(max_t - min_t > 15.0, "devices differ: {min_t}..{max_t}");
}

#[test]
fn no_anomalies_when_the_rate_is_zero() {
    let opts = [("events", int(20_000)), ("anomaly_rate", int(0))];
    let records = read(&opts, &full_schema(), ONE);
    assert!(records.iter().all(|r| r[8] == Value::Bool(false)));
}

#[test]
fn realtime_paces_to_the_wall_clock() {
    let schema = Schema::new(vec![Field::new("seq", Type::Int)]);
    let opts = [
        ("rate", int(1000)),
        ("events", int(1_000_000)),
        ("realtime", OptionValue::Bool(true)),
    ];
    let (config, measures) = SensorsConfig::with_schema(&call(&opts), &schema).expect("valid");
    let mut source = SensorsSource::new(config, measures, ONE);
    let mut out = Vec::new();
    let started = std::time::Instant::now();
    let status = source
        .poll(&mut out, &mut Vec::new(), 100_000)
        .expect("poll");
    assert_eq!(status, SourceStatus::Idle);
    std::thread::sleep(std::time::Duration::from_millis(50));
    source
        .poll(&mut out, &mut Vec::new(), 100_000)
        .expect("poll");
    let allowed = started.elapsed().as_millis() as usize + 1;
    assert!(out.len() >= 40, "{} emitted after 50ms", out.len());
    assert!(out.len() <= allowed, "{} emitted, {allowed} due", out.len());
}

#[test]
fn realtime_waits_for_a_start_ahead_of_the_wall_clock() {
    let wall_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64
    };
    let start = wall_ms() + 300;
    let schema = Schema::new(vec![Field::new("ts", Type::Timestamp)]);
    let opts = [
        ("rate", int(1000)),
        ("events", int(1_000_000)),
        ("realtime", OptionValue::Bool(true)),
        (
            "start",
            OptionValue::Str(weir_engine::time::format_timestamp(start)),
        ),
    ];
    let (config, measures) = SensorsConfig::with_schema(&call(&opts), &schema).expect("valid");
    let mut source = SensorsSource::new(config, measures, ONE);
    let mut out = Vec::new();
    let status = source.poll(&mut out, &mut Vec::new(), 1000).expect("poll");
    assert_eq!((status, out.len()), (SourceStatus::Idle, 0));
    std::thread::sleep(std::time::Duration::from_millis(400));
    source
        .poll(&mut out, &mut Vec::new(), 100_000)
        .expect("poll");
    let polled = wall_ms();
    assert!(out.len() >= 50, "{} emitted 100ms after start", out.len());
    // Event time is the wall-clock moment of emission: nothing is emitted ahead of it.
    for r in &out {
        let Value::Time(ts) = r[0] else {
            panic!("ts is a timestamp: {r:?}")
        };
        assert!(
            ts >= start && ts <= polled,
            "{ts} outside {start}..={polled}"
        );
    }
}

#[test]
fn schema_fields_must_be_known_and_well_typed() {
    let schema = Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("tmp", Type::Float),
        Field::new("power", Type::String),
        Field::new("colour", Type::String),
    ]);
    let problems = SensorsConfig::with_schema(&call(&[]), &schema).expect_err("bad schema");
    assert_eq!(problems.len(), 3);
    assert!(problems[0].message.contains("`tmp`"));
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `temp`?"));
    assert!(
        problems[1].message.contains("declared `string`"),
        "{}",
        problems[1].message
    );
    assert_eq!(
        problems[1].help.as_deref(),
        Some("declare it as `power: f64`")
    );
    assert!(problems[2]
        .help
        .as_deref()
        .unwrap_or("")
        .starts_with("it can fill: `device_id`"));
}

#[test]
fn options_are_checked() {
    let problems = SensorsConfig::from_call(&call(&[
        ("devices", int(0)),
        ("rate", OptionValue::Str("fast".into())),
        ("events", int(10)),
        ("duration", OptionValue::Duration(1_000)),
        ("jitter", int(5)),
        ("start", OptionValue::Str("yesterday".into())),
        ("anomaly_rate", OptionValue::Float(1.5)),
        ("realtime", OptionValue::Ident("yes".into())),
        ("sede", int(3)),
    ]))
    .expect_err("bad options");
    let blamed: Vec<&str> = problems
        .iter()
        .filter_map(|p| p.option.as_deref())
        .collect();
    assert_eq!(
        blamed,
        [
            "sede",
            "devices",
            "rate",
            "duration",
            "start",
            "jitter",
            "anomaly_rate",
            "realtime"
        ]
    );
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `seed`?"));
    assert_eq!(
        problems[2].message,
        "option `rate` expects a number, found `\"fast\"`"
    );
    assert_eq!(
        problems[5].help.as_deref(),
        Some("durations carry a unit: write `5s` or `5ms`")
    );
}

/// The README's tour source: no reading precedes `start` (27 of the first 4,000 once
/// did), and the first minute holds exactly devices × rate × 60 s = 20 × 10 × 60
/// readings, 600 per device (598 when jitter moved event times, then 607–613 when it
/// clamped them at `start`), although they arrive out of order.
#[test]
fn jitter_keeps_the_first_minute_exact_and_nothing_before_start() {
    let opts = [
        ("devices", int(20)),
        ("rate", int(200)),
        ("events", int(200 * 120)),
        ("seed", int(7)),
        ("jitter", OptionValue::Duration(2_000)),
    ];
    let (config, _) = SensorsConfig::with_schema(&call(&opts), &full_schema()).expect("valid");
    let records = read(&opts, &full_schema(), ONE);
    assert_eq!(records.len(), 24_000);
    let times: Vec<i64> = records.iter().map(|r| r[4].as_i64().expect("ts")).collect();
    let before = times.iter().filter(|ts| **ts < config.start_ms).count();
    assert_eq!(before, 0, "readings before start");
    let mut first_minute = std::collections::BTreeMap::new();
    for (r, ts) in records.iter().zip(&times) {
        if *ts < config.start_ms + 60_000 {
            let device = r[1].as_str().expect("device").to_string();
            *first_minute.entry(device).or_insert(0) += 1;
        }
    }
    assert_eq!(first_minute.len(), 20);
    assert!(first_minute.values().all(|c| *c == 600), "{first_minute:?}");
    let out_of_order = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(out_of_order > 1_000, "{out_of_order} out of order");
}
