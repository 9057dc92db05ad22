//! Input that should be refused, not believed (issue 14, items 7–12), end to end with the
//! real `weir` binary: programs too deep or windows too fine get a diagnostic from
//! `weir check` (not a crash or a run that eats memory), and absurd records go to the error
//! route with their reason while every other record is kept and on time.

use std::path::Path;
use std::process::{Command, Output};

fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const SENSORS: &str = "source telemetry = sensors(devices: 2, rate: 10, duration: 1s) {\n  device_id: string\n  temp: f64\n  ts: timestamp\n  event_time ts\n}\nsink out = stdout()\n";

fn check(program: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.pipe"), program).expect("write program");
    let out = weir(&["check", "p.pipe"], dir.path());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn weir_check_refuses_deep_nesting_with_p0003_instead_of_crashing() {
    let n = 10_000;
    let parens = format!("{}temp > 1.0{}", "(".repeat(n), ")".repeat(n));
    let chain = format!("temp{} > 1.0", " + 1.0".repeat(n));
    for expr in [parens, chain] {
        let program = format!("{SENSORS}pipeline p {{ from telemetry | where {expr} | to out }}\n");
        let (code, stderr) = check(&program);
        // Before: a stack overflow, SIGABRT (exit 134, no code).
        assert_eq!(code, Some(1), "{}", &stderr[..stderr.len().min(2000)]);
        assert!(
            stderr.contains("error[P0003]: nested too deeply"),
            "{}",
            &stderr[..stderr.len().min(2000)]
        );
    }
}

#[test]
fn weir_check_refuses_a_sliding_window_with_too_many_windows_per_record() {
    let program = format!(
        "{SENSORS}pipeline p {{ from telemetry | key by device_id | window sliding 1d every 1ms | aggregate n = count() | to out }}\n"
    );
    let (code, stderr) = check(&program);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("error[P0311]"), "{stderr}");
    assert!(stderr.contains("`every 9s` or more"), "{stderr}");
}

const COUNTED: &str = r#"source readings = file("in.jsonl") {
  meter: string
  ts:    timestamp
  event_time ts
  watermark  bounded 5s MAX_FUTURE
}
sink counts = file("counts.jsonl")
sink rejects = file("rejects.jsonl")
pipeline per_minute {
  on error to rejects
  from readings
  | window tumbling 1m
  | aggregate n = count()
  | to counts
}
"#;

/// 200,000 readings a second apart from 2024-05-01, with `absurd` as record 100,001.
fn readings_with(absurd: &str) -> String {
    let start = 1_714_557_600_000i64;
    let mut text = String::new();
    for i in 0..200_000i64 {
        if i == 100_000 {
            text.push_str(&format!("{{\"meter\": \"m\", \"ts\": {absurd}}}\n"));
        }
        text.push_str(&format!(
            "{{\"meter\": \"m\", \"ts\": {}}}\n",
            start + i * 1000
        ));
    }
    text
}

/// Runs COUNTED over `input`; returns (records counted by windows, rejects, stderr).
fn run_counted(input: &str, max_future: &str) -> (u64, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("in.jsonl"), input).expect("write input");
    let program = COUNTED.replace("MAX_FUTURE", max_future);
    std::fs::write(dir.path().join("p.pipe"), program).expect("write program");
    let out = weir(&["run", "p.pipe"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let counted = lines(&dir.path().join("counts.jsonl"))
        .iter()
        .map(|c| c["n"].as_u64().expect("a count"))
        .sum();
    (counted, lines(&dir.path().join("rejects.jsonl")), stderr)
}

#[test]
fn an_absurd_timestamp_is_refused_and_no_other_record_is_late() {
    // i64::MAX ms and the first millisecond of the year 10000.
    for absurd in ["9223372036854775807", "253402300800000"] {
        let (counted, rejects, stderr) = run_counted(&readings_with(absurd), "");
        // Before: 198,977 of 200,001 records late after the i64::MAX one.
        assert_eq!(counted, 200_000, "{stderr}");
        assert!(!stderr.contains("late dropped"), "{stderr}");
        assert_eq!(rejects.len(), 1, "{stderr}");
        let e = &rejects[0]["error"];
        assert_eq!(e["location"], "in.jsonl:100001");
        assert_eq!(e["field"], "ts");
        assert!(
            e["reason"]
                .as_str()
                .is_some_and(|r| r.contains("outside the RFC 3339 range")),
            "{e}"
        );
    }
}

#[test]
fn max_future_refuses_a_record_far_ahead_of_processing_time() {
    // 2100-01-01: a valid time, but decades ahead of the clock.
    let input = readings_with("\"2100-01-01T00:00:00Z\"");
    let (counted, rejects, stderr) = run_counted(&input, ", max_future 1h");
    assert_eq!(counted, 200_000, "{stderr}");
    assert!(!stderr.contains("late dropped"), "{stderr}");
    assert_eq!(rejects.len(), 1, "{stderr}");
    let e = &rejects[0]["error"];
    assert_eq!(e["field"], "ts");
    let reason = e["reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with(
            "event time 2100-01-01T00:00:00.000Z is more than 1h ahead of processing time"
        ),
        "{reason}"
    );
    // Without the bound the record is believed, and the records after it are late.
    let (counted, rejects, stderr) = run_counted(&input, "");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert!(counted < 200_000, "{counted}");
    assert!(stderr.contains("late dropped"), "{stderr}");
}

#[test]
fn csv_refuses_non_finite_numbers_and_open_quotes_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.csv"),
        "meter,kwh\nm1,1.5\nm2,NaN\n\"m3,2.0\nm4,inf\nm5,1e400\nm6,3.0\n",
    )
    .expect("write input");
    let program = r#"source meters = file("in.csv") {
  meter: string
  kwh:   f64
}
sink good = file("good.jsonl")
sink rejects = file("rejects.jsonl")
pipeline p {
  on error to rejects
  from meters
  | map per_zero = kwh / 0.0, doubled = kwh * 2.0
  | to good
}
"#;
    std::fs::write(dir.path().join("p.pipe"), program).expect("write program");
    let out = weir(&["run", "p.pipe", "--quiet"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let good = lines(&dir.path().join("good.jsonl"));
    let meters: Vec<&str> = good
        .iter()
        .map(|g| g["meter"].as_str().expect("meter"))
        .collect();
    assert_eq!(meters, ["m1", "m6"]);
    // `x / 0.0` is null by the arithmetic rule, never infinity written as null by accident.
    assert!(good.iter().all(|g| g["per_zero"].is_null()), "{good:?}");
    assert_eq!(good[1]["doubled"], 6.0);
    let rejects = lines(&dir.path().join("rejects.jsonl"));
    let at: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| {
            let e = &r["error"];
            (
                e["location"].as_str().expect("location"),
                e["reason"].as_str().expect("reason"),
            )
        })
        .collect();
    assert_eq!(at.len(), 4, "{at:?}");
    assert_eq!(at[0].0, "in.csv:3");
    assert!(at[0].1.starts_with("expected a finite f64"), "{at:?}");
    assert_eq!(at[1].0, "in.csv:4");
    assert!(
        at[1].1.starts_with("unterminated quote from line 4"),
        "{at:?}"
    );
    assert_eq!((at[2].0, at[3].0), ("in.csv:5", "in.csv:6"));
}

#[test]
fn a_line_without_a_newline_is_cut_at_max_line_and_its_raw_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = "x".repeat(8 << 20);
    std::fs::write(
        dir.path().join("in.jsonl"),
        format!("{{\"meter\": \"m1\"}}\n{{\"meter\": \"{huge}\n{{\"meter\": \"m2\"}}\n"),
    )
    .expect("write input");
    let program = r#"source meters = file("in.jsonl") { meter: string }
sink good = file("good.jsonl")
sink rejects = file("rejects.jsonl")
pipeline p { on error to rejects  from meters | to good }
"#;
    std::fs::write(dir.path().join("p.pipe"), program).expect("write program");
    let out = weir(&["run", "p.pipe", "--quiet"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&dir.path().join("good.jsonl")).len(), 2);
    let rejects = lines(&dir.path().join("rejects.jsonl"));
    assert_eq!(rejects.len(), 1);
    let e = &rejects[0]["error"];
    assert_eq!(e["location"], "in.jsonl:2");
    assert!(
        e["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("the line is 8388619 bytes, longer than `max_line`")),
        "{}",
        e["reason"]
    );
    assert!(
        e["raw"].as_str().is_some_and(|r| r.len() <= 4096 + 3),
        "raw is capped"
    );
}
