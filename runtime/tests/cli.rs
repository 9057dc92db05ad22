//! The `weir` command line, end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn weir(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn one_and_four_workers_give_identical_output() {
    let root = repo_root();
    let one = weir(
        &[
            "run",
            "examples/plant_temps.pipe",
            "--workers",
            "1",
            "--quiet",
        ],
        &root,
    );
    let four = weir(
        &[
            "run",
            "examples/plant_temps.pipe",
            "--workers",
            "4",
            "--quiet",
        ],
        &root,
    );
    assert!(one.status.success() && four.status.success());
    let (one, four) = (sorted_lines(&one.stdout), sorted_lines(&four.stdout));
    assert!(
        one.len() > 10,
        "the example should print windows, got {}",
        one.len()
    );
    assert_eq!(one, four);
}

#[test]
fn check_reports_errors_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.pipe");
    std::fs::write(
        &file,
        "source s = sensors(devices: 2) {\n  device_id: string\n  temp: f64\n  ts: timestamp\n  event_time ts\n}\nsink o = stdout()\npipeline p {\n  from s\n  | where temprature > 3.0\n  | to o\n}\n",
    )
    .expect("write");
    let out = weir(&["check", "broken.pipe"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.pipe:10:11"),
        "no file:line:column in:\n{stderr}"
    );
    assert!(stderr.contains("temprature"), "{stderr}");
    assert!(stderr.contains("temp"), "no suggestion in:\n{stderr}");
}

#[test]
fn explain_prints_the_plan() {
    let out = weir(&["explain", "examples/plant_temps.pipe"], &repo_root());
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("window tumbling 1m"), "{text}");
    assert!(text.contains("source telemetry = sensors("), "{text}");
    let json = weir(
        &["explain", "--json", "examples/plant_temps.pipe"],
        &repo_root(),
    );
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan JSON");
    assert_eq!(plan["pipelines"][0]["name"], "device_temps");
}

/// Scheduled queries run beside the dataflow, not in the plan: explain lists them after
/// it, with schedule, tables read, sinks and SQL.
#[test]
fn explain_lists_the_scheduled_queries() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("q.pipe"),
        r#"source telemetry = sensors(devices: 2) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink lake = parquet("out/lake", partition_by: [date(window.start)])
sink raw = parquet("out/raw")
sink report = stdout()
sink copy = file("out/daily.jsonl")
pipeline minutes { from telemetry | key by device_id | window tumbling 1m | aggregate avg_temp = avg(temp) | to lake }
pipeline keep { from telemetry | to raw }
query daily every 1d at 01:30 = sql"""
  SELECT l.device_id, avg(l.avg_temp) AS t, count(r.temp) AS n
  FROM lake l JOIN raw r ON l.device_id = r.device_id
  WHERE l.date = current_date - 1
  GROUP BY l.device_id""" | to report | to copy
query hourly every 1h = sql"""SELECT count(*) AS n FROM lake""" | to report
"#,
    )
    .expect("write");
    let out = weir(&["explain", "q.pipe"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let queries = &text[text.find("query daily").expect("queries listed")..];
    assert_eq!(
        queries,
        "query daily every 1d at 01:30 UTC (processing time)\n  reads lake lake, raw\n  \
         to sink report, sink copy\n  sql SELECT l.device_id, avg(l.avg_temp) AS t, \
         count(r.temp) AS n FROM lake l JOIN raw r ON l.device_id = r.device_id WHERE \
         l.date = current_date - 1 GROUP BY l.device_id\n\
         query hourly every 1h (processing time)\n  reads lake lake\n  to sink report\n  \
         sql SELECT count(*) AS n FROM lake\n"
    );
    // After the pipelines, in --physical too.
    assert!(text.find("pipeline keep").expect("plan") < text.find("query daily").expect("q"));
    let physical = weir(&["explain", "--physical", "q.pipe"], dir.path());
    let physical = String::from_utf8_lossy(&physical.stdout);
    assert!(physical.ends_with(queries), "{physical}");
}

#[test]
fn explain_physical_shows_the_exchanges_and_fused_chains() {
    // q5: a keyed sliding count, a keyed tumbling max, and a join of the two.
    let out = weir(
        &["explain", "--physical", "benches/nexmark/q5.pipe"],
        &repo_root(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("batches: rows"), "{text}");
    assert!(
        text.contains("pipeline auction_counts from source bids\n  exchange by key hash(auction@0) -> all workers\n  window sliding 10s every 5s"),
        "{text}"
    );
    // The map and select after the window run as one operator.
    assert!(
        text.contains("  fused Stateless(auction_counts) [2 stages]\n    map"),
        "{text}"
    );
    assert!(text.contains("  exchange joined pipeline "), "{text}");
    let json = weir(
        &["explain", "--physical", "--json", "benches/nexmark/q5.pipe"],
        &repo_root(),
    );
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan JSON");
    let first = &plan["physical"]["pipelines"][0]["operators"][0]["Exchange"];
    assert_eq!(first["route"], "KeyHash", "{plan}");
    assert_eq!(plan["logical"]["pipelines"][0]["name"], "auction_counts");
}

#[test]
fn missing_input_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.pipe"),
        "source s = file(\"nope.jsonl\") {\n  x: i64\n}\nsink o = stdout()\npipeline p {\n  from s\n  | to o\n}\n",
    )
    .expect("write");
    let out = weir(&["run", "p.pipe", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope.jsonl"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["check", "--help"],
        vec!["explain", "--help"],
    ] {
        let out = weir(&cmd, &repo_root());
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{cmd:?}"
        );
    }
}

#[test]
fn check_validates_connector_options_and_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("c.pipe"),
        "source s = sensors(devices: 2, sede: 3) {\n  device_id: string\n  temprature: f64\n  ts: timestamp\n  event_time ts\n}\nsink o = stdout()\npipeline p {\n  from s\n  | to o\n}\n",
    )
    .expect("write");
    let out = weir(&["check", "c.pipe"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown option `sede`") && stderr.contains("did you mean `seed`?"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`temprature`") && stderr.contains("did you mean `temperature`?"),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_sources_flushes_sinks_and_prints_a_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("live.pipe"),
        "source s = sensors(devices: 4, rate: 1000, duration: 1h, realtime: true) {\n  device_id: string\n  ts: timestamp\n  event_time ts\n}\nsink o = file(\"out/raw.jsonl\")\npipeline p {\n  from s\n  | to o\n}\n",
    )
    .expect("write");
    let child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "live.pipe"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weir starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("weir exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(stderr.contains("stopped after"), "no summary: {stderr}");
    let written =
        std::fs::read_to_string(dir.path().join("out/raw.jsonl")).expect("sink file exists");
    let lines = written.lines().count();
    assert!(lines > 0, "the sink was not flushed");
    assert!(written.ends_with('\n'), "the last record is complete");
    assert!(
        stderr.contains(&format!("wrote {lines}")),
        "summary and file disagree ({lines} lines): {stderr}"
    );
}

#[test]
fn weir_test_reports_each_test_and_fails_with_a_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.pipe");
    std::fs::write(
        &file,
        r#"source s = sensors() {
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
}
sink out = stdout()
pipeline p {
  from s
  | key by device_id
  | window tumbling 1m
  | aggregate n = count(), total = sum(temp)
  | to out
}
test "counts per minute" {
  given s {device_id: "a", temp: 1.0, ts: 60000} {device_id: "a", temp: 2.0, ts: 61000} {device_id: "b", temp: 5.0, ts: 62000}
  watermark 120000
  expect out [{device_id: "a", n: 2, total: 3.0}, {device_id: "b", n: 1}]
}
test "wrong on purpose" {
  given s {device_id: "a", temp: 1.0, ts: 60000}
  watermark 120000
  expect out [{device_id: "a", n: 7}]
}
test "nothing before the watermark" {
  given s {device_id: "a", temp: 1.0, ts: 60000}
  expect out []
  watermark 119999
  expect out []
}
"#,
    )
    .expect("write");
    let out = weir(&["test", file.to_str().expect("utf-8")], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("\"counts per minute\" ... ok"), "{stdout}");
    assert!(
        stdout.contains("\"wrong on purpose\" ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"nothing before the watermark\" ... ok"),
        "{stdout}"
    );
    assert!(stdout.contains("unmatched output on `out`"), "{stdout}");
    assert!(
        stdout.contains("expected  {device_id: \"a\", n: 7}"),
        "{stdout}"
    );
    assert!(
        stdout.contains("received  {device_id: \"a\", n: 1,"),
        "{stdout}"
    );
    assert!(stdout.contains("2 passed, 1 failed"), "{stdout}");
}

/// Two pipelines of different record shapes share one `stdout()` and one `.jsonl` file:
/// every line carries exactly its own pipeline's fields, and every record of each
/// appears, on 1 and 4 workers. A CSV file (one header) still refuses a second shape.
#[test]
fn two_record_shapes_share_a_json_lines_sink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let program = "source t = sensors(devices: 4, rate: 40, duration: 3m) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink console = stdout()
sink both = file(\"both.jsonl\")
pipeline raw { from t | select device_id, temp | to console | to both }
pipeline counts {
  from t
  | key by device_id
  | window tumbling 1m
  | aggregate readings = count()
  | to console
  | to both
}
";
    std::fs::write(dir.path().join("shapes.pipe"), program).expect("write");
    let check = weir(&["check", "shapes.pipe"], dir.path());
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for workers in ["1", "4"] {
        let out = weir(
            &[
                "run",
                "shapes.pipe",
                "--workers",
                workers,
                "--quiet",
                "--http",
                "off",
            ],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = std::fs::read(dir.path().join("both.jsonl")).expect("both.jsonl");
        for (what, bytes) in [("stdout", &out.stdout), ("both.jsonl", &file)] {
            let (mut raw, mut counts) = (0, 0);
            for line in String::from_utf8_lossy(bytes).lines() {
                let record: serde_json::Value = serde_json::from_str(line).expect("JSON line");
                let mut keys: Vec<&str> = record
                    .as_object()
                    .expect("an object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                keys.sort_unstable();
                if keys == ["device_id", "temp"] {
                    assert!(record["temp"].is_f64(), "{line}");
                    raw += 1;
                } else {
                    assert!(
                        keys.contains(&"readings") && keys.contains(&"window"),
                        "{line}"
                    );
                    assert!(!keys.contains(&"temp"), "{line}");
                    assert_eq!(record["readings"], 600, "{line}");
                    counts += 1;
                }
            }
            // 40 readings/s for 3 minutes; 4 devices × 3 one-minute windows.
            assert_eq!((raw, counts), (7_200, 12), "{what} on {workers} workers");
        }
    }
    // A CSV header fixes one shape: the same program with a CSV file is refused.
    let csv = program.replace("both.jsonl", "both.csv");
    std::fs::write(dir.path().join("csv.pipe"), csv).expect("write");
    let check = weir(&["check", "csv.pipe"], dir.path());
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success());
    assert!(
        stderr.contains("P0107") && stderr.contains("sink `both`"),
        "{stderr}"
    );
    assert!(stderr.contains("a `file` sink's format"), "{stderr}");
}

/// Beam's "Unexpected output": a record no `expect` consumed fails the test on every sink
/// the test names (left over after its `expect`, or under `expect <sink> []`); a sink the
/// test never names is not under test.
#[test]
fn weir_test_fails_on_output_no_expect_consumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.pipe");
    std::fs::write(
        &file,
        r#"source s = sensors() {
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
}
sink out = stdout()
sink hot = stdout()
pipeline p {
  from s
  | key by device_id
  | window tumbling 1m
  | aggregate n = count()
  | to out
}
pipeline h { from s | where temp > 50.0 | to hot }
test "one window too many" {
  given s {device_id: "a", temp: 1.0, ts: 60000} {device_id: "b", temp: 1.0, ts: 60000}
  watermark 120000
  expect out [{device_id: "a", n: 1}]
  expect hot []
}
test "the other pipeline's output is unexpected too" {
  given s {device_id: "a", temp: 99.0, ts: 60000}
  expect hot []
  watermark 120000
  expect out [{device_id: "a", n: 1}]
}
test "a sink the test never names is not under test" {
  given s {device_id: "a", temp: 99.0, ts: 60000}
  watermark 120000
  expect out [{device_id: "a", n: 1}]
}
test "everything accounted for" {
  given s {device_id: "a", temp: 99.0, ts: 60000}
  expect hot [{device_id: "a", temp: 99.0}]
  watermark 120000
  expect out [{device_id: "a", n: 1}]
}
"#,
    )
    .expect("write");
    let out = weir(&["test", file.to_str().expect("utf-8")], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("\"one window too many\" ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unexpected output on `out` at the end of the test\n    received  {device_id: \"b\", n: 1,"),
        "{stdout}"
    );
    assert!(stdout.contains("(after line 19)"), "{stdout}");
    assert!(
        stdout.contains("\"the other pipeline's output is unexpected too\" ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unexpected output on `hot` before line 26\n    received  {device_id: \"a\", temp: 99.0,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"everything accounted for\" ... ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"a sink the test never names is not under test\" ... ok"),
        "{stdout}"
    );
    assert!(stdout.contains("2 passed, 2 failed"), "{stdout}");
}

/// A build without the `sql` feature says how to get `weir query`, as for ONNX models.
#[cfg(not(feature = "sql"))]
#[test]
fn query_without_the_sql_feature_says_how_to_get_it() {
    let out = weir(&["query", "SELECT 1"], &repo_root());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--features sql"), "{stderr}");
}
