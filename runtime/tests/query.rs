//! `weir query` over the lake of `examples/factory_lake.pipe` (feature `sql`): the example
//! runs against a real Mosquitto with a simulated plant publishing; its raw lake is then
//! read with the parquet crate (no DataFusion) and every SQL answer is compared with a
//! recomputation from those raw readings. Partition filters prune (a corrupt file in
//! another date's folder is never opened) and hidden files are never read.

#[path = "support/live_run.rs"]
mod live_run;
#[path = "support/mosquitto.rs"]
mod mosquitto;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/factory_lake.pipe")
}

fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

/// Five machines publishing a reading every 100 ms of event time; m3 runs hot.
fn plant(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use rumqttc::{Client, MqttOptions, QoS};
    let (client, mut connection) = Client::new(MqttOptions::new("plant", "127.0.0.1", port), 100);
    std::thread::spawn(move || for _ in connection.iter() {});
    std::thread::spawn(move || {
        let start = 1_714_557_600_000i64; // 2024-05-01T10:00:00Z
        let mut n = 0i64;
        while !stop.load(Ordering::Relaxed) {
            let machine = n % 5;
            let temp = if machine == 3 { 90.0 } else { 60.0 } + (n % 7) as f64 * 0.5;
            let payload = format!("{{\"temp\": {temp}, \"ts\": {}}}", start + n * 100);
            let topic = format!("plant/m{machine}/telemetry");
            if client
                .publish(topic, QoS::AtMostOnce, false, payload)
                .is_err()
            {
                return;
            }
            n += 1;
            if n % 500 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    })
}

/// Every `(machine, ts, temp)` of the raw lake, read file by file with the parquet crate.
fn raw_readings(lake: &Path) -> Vec<(String, i64, f64)> {
    let mut out = Vec::new();
    let mut dirs = vec![lake.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read lake") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            if name.starts_with('.') {
                continue;
            } else if path.is_dir() {
                dirs.push(path);
            } else if name.ends_with(".parquet") {
                let reader =
                    ParquetRecordBatchReaderBuilder::try_new(File::open(&path).expect("open"))
                        .expect("parquet")
                        .build()
                        .expect("reader");
                for batch in reader {
                    let batch = batch.expect("batch");
                    let machine = batch
                        .column_by_name("machine")
                        .expect("machine")
                        .as_string::<i32>();
                    let temp = batch
                        .column_by_name("temp")
                        .expect("temp")
                        .as_primitive::<Float64Type>();
                    let ts = batch
                        .column_by_name("ts")
                        .expect("ts")
                        .as_primitive::<TimestampMillisecondType>();
                    for i in 0..batch.num_rows() {
                        out.push((machine.value(i).to_string(), ts.value(i), temp.value(i)));
                    }
                }
            }
        }
    }
    out
}

/// The JSON rows of `weir query --format json`.
fn query(dir: &Path, sql: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["query", sql, "factory_lake.pipe", "--format", "json"];
    args.extend_from_slice(extra);
    let out = weir(&args, dir);
    assert!(
        out.status.success(),
        "{sql}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON row"))
        .collect()
}

fn millis(v: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp"))
        .expect("RFC 3339")
        .timestamp_millis()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[test]
fn sql_over_the_factory_lake_equals_a_recomputation_from_the_raw_readings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = mosquitto::Mosquitto::start(dir.path(), mosquitto::free_port());
    let text = std::fs::read_to_string(example()).expect("example");
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    std::fs::write(
        dir.path().join("factory_lake.pipe"),
        text.replace("mqtt://localhost:1883", &url),
    )
    .expect("write example");
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = plant(broker.port, Arc::clone(&stop));
    let run = weir(
        &[
            "run",
            "factory_lake.pipe",
            "--limit",
            "6000",
            "--workers",
            "2",
            "--quiet",
        ],
        dir.path(),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = publisher.join();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let lake = dir.path().join("out/factory_lake");
    let raw = raw_readings(&lake.join("raw"));
    assert_eq!(raw.len(), 6000);
    // A corrupt file in another date's folder and hidden files: pruned and never read.
    let elsewhere = lake.join("raw/date=2099-01-01/hour=00");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    std::fs::write(elsewhere.join("part-0-0.parquet"), "not parquet").expect("corrupt");
    let hour = lake.join("raw/date=2024-05-01/hour=10");
    std::fs::write(hour.join(".part-0-99.parquet.inprogress"), "half").expect("inprogress");
    std::fs::write(hour.join(".hidden.parquet"), "hidden").expect("hidden");

    // Per machine, over one date's folder.
    let mut expected: BTreeMap<String, (i64, f64, f64)> = BTreeMap::new();
    for (machine, _, temp) in &raw {
        let e = expected
            .entry(machine.clone())
            .or_insert((0, f64::MIN, 0.0));
        e.0 += 1;
        e.1 = e.1.max(*temp);
        e.2 += temp;
    }
    let rows = query(
        dir.path(),
        "SELECT machine, count(*) AS n, max(temp) AS hottest, sum(temp) AS total \
         FROM raw_lake WHERE date = '2024-05-01' GROUP BY machine ORDER BY machine",
        &[],
    );
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (row, (machine, (n, hottest, total))) in rows.iter().zip(&expected) {
        assert_eq!(row["machine"], machine.as_str());
        assert_eq!(row["n"].as_i64(), Some(*n), "{row}");
        assert_eq!(row["hottest"].as_f64(), Some(*hottest), "{row}");
        assert!(
            close(row["total"].as_f64().expect("total"), *total),
            "{row}"
        );
    }
    // Without the date filter the corrupt file is read, and the query says so.
    let unpruned = weir(
        &[
            "query",
            "SELECT count(*) FROM raw_lake",
            "factory_lake.pipe",
        ],
        dir.path(),
    );
    assert!(
        !unpruned.status.success(),
        "the corrupt file was not reached"
    );

    // The minute lake's rows equal minutes recomputed from the raw readings.
    let mut minutes: BTreeMap<(String, i64), (i64, f64)> = BTreeMap::new();
    for (machine, ts, temp) in &raw {
        let m = minutes
            .entry((machine.clone(), ts - ts.rem_euclid(60_000)))
            .or_insert((0, f64::MIN));
        m.0 += 1;
        m.1 = m.1.max(*temp);
    }
    let rows = query(
        dir.path(),
        "SELECT machine, window_start, readings, max_temp FROM minute_lake \
         ORDER BY machine, window_start",
        &["--lake", "minute_lake"],
    );
    let got: BTreeMap<(String, i64), (i64, f64)> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["machine"].as_str().expect("machine").to_string(),
                    millis(&r["window_start"]),
                ),
                (
                    r["readings"].as_i64().expect("readings"),
                    r["max_temp"].as_f64().expect("max"),
                ),
            )
        })
        .collect();
    assert_eq!(got, minutes);

    // The same lake by its folder, as CSV.
    let csv = weir(
        &[
            "query",
            "SELECT count(*) AS n FROM minutes",
            "--lake",
            "out/factory_lake/minutes",
            "--format",
            "csv",
        ],
        dir.path(),
    );
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&csv.stdout).trim(),
        format!("n\n{}", minutes.len())
    );
}

/// `examples/sql/energy_report.pipe`: the pipeline writes its lake with the real `weir`,
/// then its scheduled query runs on a test clock (as `weir test` moves processing time)
/// into a captured sink: it fires exactly at each hour, never before, and its rows equal
/// a recomputation of each building's hourly energy from the raw readings.
#[test]
fn a_scheduled_query_fires_on_the_test_clock_and_equals_a_recomputation() {
    use weir_engine::clock::{Clock, TestClock};
    use weir_engine::io::ConnectorFactory;
    use weir_engine::testing::MemoryConnectors;
    use weir_engine::value::Value;
    use weir_runtime::query::schedule::{next_run, QueryRunner};

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = root.join("examples/sql/energy_report.pipe");
    let input = root.join("examples/data/building_kwh.jsonl");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("examples/data")).expect("mkdir");
    std::fs::copy(&input, dir.path().join("examples/data/building_kwh.jsonl")).expect("copy");
    let run = weir(
        &["run", example.to_str().expect("utf-8"), "--quiet"],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let text = std::fs::read_to_string(&example).expect("example");
    let compiled =
        weir_dsl::compile_with("energy_report.pipe", &text, &weir_runtime::catalog::Catalog)
            .expect("the example compiles");
    assert_eq!(compiled.queries.len(), 1);
    assert_eq!(compiled.queries[0].tables, vec!["minute_lake".to_string()]);
    let captured = Arc::new(MemoryConnectors::new(1));
    let connectors: Arc<dyn ConnectorFactory> = captured.clone();
    let clock = TestClock::new(0);
    let mut runner = QueryRunner::new(
        compiled.queries,
        Arc::new(compiled.plan),
        dir.path(),
        connectors,
        clock.now(),
    );
    const HOUR: i64 = 3_600_000;
    assert_eq!(runner.due(), Some(HOUR));
    clock.advance_to(HOUR - 1);
    assert!(
        runner.run_due(clock.now()).is_empty(),
        "nothing before the hour"
    );
    assert!(captured.collected("report").is_empty());
    clock.advance_to(HOUR);
    let outcomes = runner.run_due(clock.now());
    assert_eq!(outcomes.len(), 1);
    let rows = outcomes[0].result.as_ref().expect("the query answers");
    assert_eq!(runner.due(), Some(2 * HOUR));

    // Recompute from the raw readings: (building, hour) → (kWh, readings).
    let mut expected: BTreeMap<(String, i64), (f64, i64)> = BTreeMap::new();
    for line in std::fs::read_to_string(&input).expect("input").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let ts = v["ts"].as_i64().expect("ts");
        let key = (
            v["building"].as_str().expect("building").to_string(),
            ts - ts % HOUR,
        );
        let e = expected.entry(key).or_default();
        e.0 += v["kwh"].as_f64().expect("kwh");
        e.1 += 1;
    }
    let events = captured.collected("report");
    assert_eq!(*rows, events.len());
    assert_eq!(
        events.len(),
        expected.len(),
        "one row per building and hour"
    );
    for event in &events {
        assert_eq!(
            event.time, HOUR,
            "rows carry the processing time of their run"
        );
        let [Value::Str(building), Value::Time(hour), Value::Float(kwh), Value::Int(n)] =
            event.record.as_slice()
        else {
            panic!("unexpected row {:?}", event.record);
        };
        let (want_kwh, want_n) = expected[&(building.to_string(), *hour)];
        assert!(
            close(*kwh, want_kwh),
            "{building} {hour}: {kwh} vs {want_kwh}"
        );
        assert_eq!(*n, want_n, "{building} {hour}");
    }

    // A missed period is not repeated: at 3h30 the 2h run happens once, then 4h is next.
    clock.advance_to(3 * HOUR + HOUR / 2);
    assert_eq!(runner.run_due(clock.now()).len(), 1);
    assert_eq!(runner.due(), Some(4 * HOUR));
    assert_eq!(captured.collected("report").len(), 2 * expected.len());

    // `every 1d at 01:00`: 01:00 UTC each day.
    let day = 86_400_000;
    assert_eq!(next_run(0, day, HOUR), HOUR);
    assert_eq!(next_run(HOUR, day, HOUR), day + HOUR);
    assert_eq!(next_run(-5, HOUR, 0), 0);
}

/// A live run: its scheduled query (`every 1s`) writes to its report while the pipeline
/// runs, and `POST /api/query` answers SQL over its lake with JSON rows that equal a
/// recomputation, capped at 10000 rows, with 4xx JSON errors for bad requests.
#[test]
fn a_live_run_runs_its_scheduled_query_and_answers_sql_over_http() {
    const PROGRAM: &str = r#"source meters = file("in.jsonl", follow: true) {
  building: string
  kwh:      f64
  ts:       timestamp
  event_time ts
  watermark  bounded 1s
}
sink lake   = parquet("lake", rotate: 1s)
sink report = file("report.jsonl")
pipeline keep { from meters | to lake }
query totals every 1s = sql"""
  SELECT building, sum(kwh) AS kwh, count(*) AS n FROM lake GROUP BY building ORDER BY building
""" | to report
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("program.pipe"), PROGRAM).expect("program");
    let mut input = String::new();
    let mut expected: BTreeMap<String, (f64, i64)> = BTreeMap::new();
    for n in 0..30i64 {
        let building = ["north", "south", "lab"][(n % 3) as usize];
        let kwh = 1.0 + (n % 4) as f64 * 0.25;
        input.push_str(&format!(
            "{{\"building\": \"{building}\", \"kwh\": {kwh}, \"ts\": {}}}\n",
            1_714_557_600_000 + n * 1000
        ));
        let e = expected.entry(building.to_string()).or_default();
        e.0 += kwh;
        e.1 += 1;
    }
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    let run = live_run::LiveRun::start(dir.path(), &[], &[]);

    // The scheduled query: a report line per building, eventually with every reading.
    let report = dir.path().join("report.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let complete = |text: &str| {
        let rows: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        expected.iter().all(|(b, (kwh, n))| {
            rows.iter().any(|r| {
                r["building"] == b.as_str()
                    && r["n"] == *n
                    && close(r["kwh"].as_f64().unwrap_or(0.0), *kwh)
            })
        })
    };
    while !std::fs::read_to_string(&report).is_ok_and(|t| complete(&t)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled query never reported every reading: {:?}\n{}",
            std::fs::read_to_string(&report),
            run.stderr_so_far().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let post = |sql: &str| -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut response = agent
            .post(&run.url("/api/query"))
            .send(sql)
            .expect("the server answers");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    };
    let (status, answer) =
        post("SELECT building, sum(kwh) AS kwh, count(*) AS n FROM lake GROUP BY building ORDER BY building");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["columns"],
        serde_json::json!(["building", "kwh", "n"])
    );
    assert_eq!(answer["truncated"], false);
    let rows = answer["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), expected.len());
    for ((building, (kwh, n)), row) in expected.iter().zip(rows) {
        assert_eq!(row["building"], building.as_str());
        assert_eq!(row["n"], *n);
        assert!(close(row["kwh"].as_f64().expect("kwh"), *kwh), "{row}");
    }
    // 30 × 30 × 30 rows: capped.
    let (status, answer) = post("SELECT a.kwh FROM lake a, lake b, lake c");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["truncated"], true);
    assert_eq!(answer["rows"].as_array().map(Vec::len), Some(10_000));
    for (sql, want) in [
        ("SELEC building FROM lake", 400),
        ("SELECT nope FROM lake", 400),
        ("   ", 400),
    ] {
        let (status, answer) = post(sql);
        assert_eq!(status, want, "{sql}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    let (status, answer) = post(&"-".repeat(70 * 1024));
    assert_eq!(status, 413, "{answer}");
    let (status, body) = live_run::get(&run.url("/api/query"), &[]);
    assert_eq!(status, 405, "{body}");
    assert!(body.contains("POST"), "{body}");
}

/// One device's aggregates: (n, avg temp, a max, an f64 sum or max, a seq).
type DeviceRow = (i64, f64, f64, f64, i64);

/// The SQL that benches/query_lake.sh times, on a small lake written by the benchmark's
/// own `.pipe` (3,000 readings spread over four days instead of 10 M over ten): each
/// answer equals a recomputation from a JSON-lines copy of the same readings. The
/// timing itself is a benchmark, not a test.
#[test]
fn the_lake_benchmark_queries_equal_a_recomputation() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/query_lake");
    let pipe = std::fs::read_to_string(bench.join("lake.pipe")).expect("lake.pipe");
    let pipe = pipe
        .replace("events: 10000000", "events: 3000")
        .replace("rate: 12,", "rate: 0.01,")
        .replace(
            "sink readings = ",
            "sink copy = file(\"copy.jsonl\")\nsink readings = ",
        )
        .replace("  | to readings\n", "  | to readings\n  | to copy\n");
    assert!(
        pipe.contains("events: 3000") && pipe.contains("| to copy"),
        "{pipe}"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("lake.pipe"), pipe).expect("pipe");
    let run = weir(&["run", "lake.pipe", "--workers", "1"], tmp.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let copy = std::fs::read_to_string(tmp.path().join("copy.jsonl")).expect("copy");
    let readings: Vec<serde_json::Value> = copy
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(readings.len(), 3000);
    let f = |r: &serde_json::Value, k: &str| r[k].as_f64().expect("number");
    let seq = |r: &serde_json::Value| r["seq"].as_i64().expect("seq");
    let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 4).expect("date");
    let mut full: BTreeMap<String, DeviceRow> = BTreeMap::new();
    let mut one_day: BTreeMap<String, DeviceRow> = BTreeMap::new();
    for r in &readings {
        let device = r["device_id"].as_str().expect("device").to_string();
        let e = full
            .entry(device.clone())
            .or_insert((0, 0.0, f64::MIN, 0.0, i64::MIN));
        *e = (
            e.0 + 1,
            e.1 + f(r, "temp"),
            e.2.max(f(r, "vibration")),
            e.3 + f(r, "power"),
            e.4.max(seq(r)),
        );
        let ts = chrono::DateTime::from_timestamp_millis(millis(&r["ts"])).expect("ts");
        if ts.date_naive() == day {
            let e = one_day
                .entry(device)
                .or_insert((0, 0.0, f64::MIN, 0.0, i64::MAX));
            *e = (
                e.0 + 1,
                e.1 + f(r, "temp"),
                e.2.max(f(r, "temp")),
                0.0,
                e.4.min(seq(r)),
            );
        }
    }
    assert!(!one_day.is_empty() && one_day.values().map(|e| e.0).sum::<i64>() < 3000);

    let answer = |file: &str| -> Vec<serde_json::Value> {
        let sql = std::fs::read_to_string(bench.join(file)).expect("sql");
        let out = weir(
            &["query", &sql, "--lake", "lake/readings", "--format", "json"],
            tmp.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON row"))
            .collect()
    };
    let rows = answer("full_scan.sql");
    assert_eq!(rows.len(), full.len());
    for (row, (device, e)) in rows.iter().zip(&full) {
        assert_eq!(row["device_id"], device.as_str(), "{row}");
        assert_eq!(row["n"], e.0, "{row}");
        assert!(close(f(row, "avg_temp"), e.1 / e.0 as f64), "{row}");
        assert_eq!(f(row, "max_vibration"), e.2, "{row}");
        assert!(close(f(row, "energy"), e.3), "{row}");
        assert_eq!(row["last_seq"], e.4, "{row}");
    }
    let rows = answer("one_day.sql");
    assert_eq!(rows.len(), one_day.len());
    for (row, (device, e)) in rows.iter().zip(&one_day) {
        assert_eq!(row["device_id"], device.as_str(), "{row}");
        assert_eq!(row["n"], e.0, "{row}");
        assert!(close(f(row, "avg_temp"), e.1 / e.0 as f64), "{row}");
        assert_eq!(f(row, "max_temp"), e.2, "{row}");
        assert_eq!(row["first_seq"], e.4, "{row}");
    }
}
