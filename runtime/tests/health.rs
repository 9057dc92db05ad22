//! `source health = metrics(every: …)`: the run's own figures as a stream, end to end with
//! the real binary: a pipeline writes them to a file, and the last record counts every
//! record the other source read; the source ends with the others, so the run ends.

use std::process::Command;

const PROGRAM: &str = r#"source readings = file("in.jsonl") {
  device_id: string
  temp:      f64
}
source health = metrics(every: 100ms) {
  ts:          timestamp
  records_in:  i64
  records_out: i64
  malformed:   i64
  lag_seconds: f64?
  event_time   ts
}
sink kept = file("kept.jsonl")
sink watched = file("health.jsonl")

pipeline keep {
  from readings
  | to kept
}

pipeline watch {
  from health
  | where records_in >= 0
  | to watched
}
"#;

#[test]
fn the_metrics_source_streams_the_run_s_own_counts_and_ends_with_the_run() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("program.pipe"), PROGRAM).expect("program");
    let mut input = String::new();
    for n in 0..40 {
        input.push_str(&format!(
            "{{\"device_id\": \"d{}\", \"temp\": {n}.0}}\n",
            n % 4
        ));
    }
    input.push_str("{\"device_id\": \"d1\", \"temp\": \"hot\"}\n");
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe", "--http", "off"])
        .current_dir(dir.path())
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let health = std::fs::read_to_string(dir.path().join("health.jsonl")).expect("health");
    let last: serde_json::Value =
        serde_json::from_str(health.lines().last().expect("a health record")).expect("JSON");
    // Read records (the malformed one counted apart); sampled as the source ended, so
    // sink counts may still be on their way and are not checked.
    assert_eq!(last["records_in"], 40, "{health}");
    assert_eq!(last["malformed"], 1, "{health}");
    assert!(
        last["ts"].as_str().is_some_and(|t| t.starts_with("20")),
        "{last}"
    );
    let check = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["check", "program.pipe"])
        .current_dir(dir.path())
        .output()
        .expect("weir check");
    assert!(check.status.success());
    let bad = PROGRAM.replace("lag_seconds: f64?", "lag_secs: f64");
    std::fs::write(dir.path().join("bad.pipe"), bad).expect("bad");
    let check = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["check", "bad.pipe"])
        .current_dir(dir.path())
        .output()
        .expect("weir check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success());
    assert!(stderr.contains("cannot fill field `lag_secs`"), "{stderr}");
    assert!(stderr.contains("lag_seconds"), "{stderr}");
}
