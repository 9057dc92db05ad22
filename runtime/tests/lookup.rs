//! `lookup` end to end: the three miss policies through `weir run`, and a table updated
//! while a run goes on (a followed input file, `refresh on change`).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::run::{run, RunOptions};
use weir_engine::stop::StopHandle;
use weir_runtime::catalog::Catalog;
use weir_runtime::connectors::Connectors;

fn lines(path: &Path) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    out.sort_by_key(|v| v["n"].as_i64());
    out
}

#[test]
fn misses_are_kept_with_nulls_dropped_or_set_aside() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    fs::write(
        dir.join("devices.csv"),
        "device_id,site\nd1,north\nd2,south\n",
    )
    .expect("csv");
    let input: String = (0..100)
        .map(|n| {
            format!(
                "{{\"n\":{n},\"device_id\":\"d{}\",\"ts\":{}}}\n",
                n % 4,
                n * 1000
            )
        })
        .collect();
    fs::write(dir.join("in.jsonl"), input).expect("input");
    fs::write(
        dir.join("p.pipe"),
        r#"
table devices = csv("devices.csv") { key device_id  device_id: string  site: string }
source readings = file("in.jsonl") { n: i64  device_id: string  ts: timestamp  event_time ts }
sink kept = file("kept.jsonl")
sink dropped = file("dropped.jsonl")
sink hits = file("hits.jsonl")
sink misses = file("misses.jsonl")
pipeline keep { from readings | lookup devices on device_id | to kept }
pipeline drop { from readings | lookup devices on device_id on miss drop | to dropped }
pipeline aside { from readings | lookup devices on device_id on miss to misses | to hits }
"#,
    )
    .expect("pipe");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--workers", "2"])
        .current_dir(dir)
        .output()
        .expect("weir starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let site = |n: i64| match n % 4 {
        1 => serde_json::json!("north"),
        2 => serde_json::json!("south"),
        _ => serde_json::Value::Null,
    };
    let kept = lines(&dir.join("kept.jsonl"));
    assert_eq!(kept.len(), 100);
    for r in &kept {
        assert_eq!(r["site"], site(r["n"].as_i64().expect("n")), "{r}");
    }
    let dropped = lines(&dir.join("dropped.jsonl"));
    assert_eq!(dropped.len(), 50);
    assert!(dropped.iter().all(|r| r["site"].is_string()));
    assert_eq!(lines(&dir.join("hits.jsonl")), dropped);
    let misses = lines(&dir.join("misses.jsonl"));
    assert_eq!(misses.len(), 50);
    // Misses are written as they came in, without the table's fields.
    assert!(misses
        .iter()
        .all(|r| r.get("site").is_none() && r["n"].as_i64().expect("n") % 4 % 3 == 0));
}

#[test]
fn a_table_changed_during_a_run_applies_without_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let table = dir.join("devices.csv");
    fs::write(&table, "device_id,site\nd1,north\n").expect("csv");
    let input = dir.join("live.jsonl");
    fs::write(&input, "").expect("input");
    let text = r#"
table devices = csv("devices.csv") { key device_id  device_id: string  site: string  refresh on change }
source live = file("live.jsonl", follow: true) { n: i64  device_id: string }
sink out = file("out.jsonl")
pipeline enrich { from live | lookup devices on device_id | to out }
"#;
    let plan = Arc::new(
        weir_dsl::compile_with("live.pipe", text, &Catalog)
            .expect("compiles")
            .plan,
    );
    let stop = Arc::new(StopHandle::new());
    let options = RunOptions {
        workers: 2,
        stop: Arc::clone(&stop),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|b| panic!("bad record {b:?}")),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let metrics = Arc::new(Metrics::new(&plan, 2));
    let running = {
        let (plan, metrics) = (Arc::clone(&plan), Arc::clone(&metrics));
        let connectors = Arc::new(Connectors::with_base_dir(dir));
        std::thread::spawn(move || run(plan, connectors, options, metrics))
    };
    let append = |from: i64, to: i64| {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .expect("append");
        for n in from..to {
            writeln!(f, "{{\"n\":{n},\"device_id\":\"d1\"}}").expect("write");
        }
    };
    let wait_for_input = |count: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while metrics.records_in() < count {
            assert!(
                Instant::now() < deadline,
                "the run never read {count} records"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    append(0, 10);
    wait_for_input(10);
    // The reference data changes: written aside and renamed into place.
    fs::write(dir.join("devices.new"), "device_id,site\nd1,south-hall\n").expect("csv");
    fs::rename(dir.join("devices.new"), &table).expect("rename");
    // Records keep flowing while the table settles (looked at every 250 ms).
    for i in 0..20 {
        append(100 + i, 101 + i);
        std::thread::sleep(Duration::from_millis(100));
    }
    append(1000, 1010);
    wait_for_input(40);
    stop.request(true);
    let summary = running.join().expect("run thread").expect("run");
    assert!(summary.stopped);

    let out = lines(&dir.join("out.jsonl"));
    assert_eq!(out.len(), 40);
    for r in &out {
        let n = r["n"].as_i64().expect("n");
        if n < 10 {
            assert_eq!(r["site"], "north", "{r}");
        } else if n >= 1000 {
            assert_eq!(r["site"], "south-hall", "{r}");
        }
    }
}
