//! `weir query` over the lake of `examples/factory_lake.pipe` (feature `sql`): the example
//! runs against a real Mosquitto with a simulated plant publishing; its raw lake is then
//! read with the parquet crate (no DataFusion) and every SQL answer is compared with a
//! recomputation from those raw readings. Partition filters prune (a corrupt file in
//! another date's folder is never opened) and hidden files are never read.

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
