//! Malformed input at run time, end to end with the real `weir` binary and real files:
//! with `on error to <sink>` every unreadable line reaches the sink with its location,
//! field and reason, so good output plus rejects equals the input exactly; without a route
//! the lines are counted and shown; `--strict` fails on the first one.

use std::path::Path;
use std::process::Command;

fn weir(args: &[&str], dir: &Path) -> std::process::Output {
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

/// `n` JSONL readings; line i (1-based) is malformed in one of four ways when i % 7 == 3.
fn jsonl_input(n: usize) -> (String, usize) {
    let mut text = String::new();
    let mut bad = 0;
    for i in 1..=n {
        let line = if i % 7 == 3 {
            bad += 1;
            match (i / 7) % 4 {
                0 => format!("{{\"meter\": \"m{i}\", \"kwh\": 1."),
                1 => format!("{{\"meter\": \"m{i}\", \"kwh\": \"lots\"}}"),
                2 => "{\"kwh\": 2.5}".to_string(),
                _ => "not json at all".to_string(),
            }
        } else {
            format!("{{\"meter\": \"m{}\", \"kwh\": {}.5}}", i % 10, i % 5)
        };
        text.push_str(&line);
        text.push('\n');
    }
    (text, bad)
}

const ROUTED: &str = r#"source meters = file("in.jsonl") {
  meter: string
  kwh:   f64
}
sink good = file("good.jsonl")
sink rejects = file("rejects.jsonl")
pipeline readings {
  on error to rejects
  from meters
  | to good
}
"#;

#[test]
fn good_plus_rejected_equals_the_input_on_one_and_four_workers() {
    // A million records, one in seven malformed in one of four ways.
    let n = 1_000_000;
    let (input, bad) = jsonl_input(n);
    let input_lines: Vec<&str> = input.lines().collect();
    for workers in ["1", "4"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("in.jsonl"), &input).expect("write input");
        std::fs::write(dir.path().join("p.pipe"), ROUTED).expect("write program");
        let out = weir(&["run", "p.pipe", "--workers", workers], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // Routed records are not also reported as warnings.
        assert!(!stderr.contains("warning: malformed"), "{stderr}");
        let good = lines(&dir.path().join("good.jsonl"));
        let rejects = lines(&dir.path().join("rejects.jsonl"));
        assert_eq!(rejects.len(), bad, "on {workers} workers");
        assert_eq!(good.len() + rejects.len(), n, "on {workers} workers");
        for r in &rejects {
            assert_eq!(r["error"]["source"], "meters");
            let location = r["error"]["location"].as_str().expect("a location");
            let line: usize = location
                .strip_prefix("in.jsonl:")
                .unwrap_or_else(|| panic!("file:line, got {location}"))
                .parse()
                .expect("a line number");
            assert_eq!(line % 7, 3, "{r}");
            assert!(!r["error"]["reason"].as_str().expect("a reason").is_empty());
            let raw = r["error"]["raw"].as_str().expect("the raw line");
            assert_eq!(raw, input_lines[line - 1], "{r}");
        }
        // The wrong-type and missing-field lines blame their field.
        let blamed = |raw: &str| {
            rejects
                .iter()
                .find(|r| r["error"]["raw"].as_str().is_some_and(|s| s.contains(raw)))
                .map(|r| r["error"]["field"].clone())
                .expect("such a reject")
        };
        assert_eq!(blamed("\"lots\""), "kwh");
        assert_eq!(blamed("{\"kwh\": 2.5}"), "meter");
    }
}

#[test]
fn csv_rejects_name_the_line_and_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.csv"),
        "meter,kwh\nm1,1.5\nm2,many\nm3,2.0\nm4\nm5,0.5\n",
    )
    .expect("write input");
    std::fs::write(
        dir.path().join("p.pipe"),
        ROUTED.replace("in.jsonl", "in.csv"),
    )
    .expect("write program");
    let out = weir(&["run", "p.pipe", "--quiet"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&dir.path().join("good.jsonl")).len(), 3);
    let rejects = lines(&dir.path().join("rejects.jsonl"));
    let locations: Vec<&str> = rejects
        .iter()
        .map(|r| r["error"]["location"].as_str().expect("a location"))
        .collect();
    assert_eq!(locations, ["in.csv:3", "in.csv:5"]);
    assert_eq!(rejects[0]["error"]["field"], "kwh");
    assert_eq!(rejects[0]["error"]["raw"], "m2,many");
}

#[test]
fn without_a_route_bad_lines_are_counted_and_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (input, bad) = jsonl_input(100);
    std::fs::write(dir.path().join("in.jsonl"), &input).expect("write input");
    std::fs::write(
        dir.path().join("p.pipe"),
        ROUTED.replace("  on error to rejects\n", ""),
    )
    .expect("write program");
    let out = weir(&["run", "p.pipe"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: malformed record in source `meters` at in.jsonl:3"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{bad} malformed")), "{stderr}");
    assert_eq!(lines(&dir.path().join("good.jsonl")).len(), 100 - bad);
}

#[test]
fn strict_fails_on_the_first_bad_line_naming_file_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"meter\": \"m1\", \"kwh\": 1.5}\n{\"meter\": \"m2\", \"kwh\": \"lots\"}\n",
    )
    .expect("write input");
    std::fs::write(dir.path().join("p.pipe"), ROUTED).expect("write program");
    let out = weir(&["run", "p.pipe", "--strict", "--quiet"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("in.jsonl:2"), "{stderr}");
    assert!(stderr.contains("field `kwh`"), "{stderr}");
    assert!(stderr.contains("--strict"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn strict_writes_nothing_read_after_the_bad_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 2 000 lines, the 1 000th malformed: the run reads in batches, and every good line
    // after the bad one used to reach the sink before the run stopped.
    let mut text = String::new();
    for i in 1..=2000 {
        if i == 1000 {
            text.push_str("{\"meter\": \"m1\", \"kwh\": \"lots\"}\n");
        } else {
            text.push_str(&format!("{{\"meter\": \"m{i}\", \"kwh\": 1.5}}\n"));
        }
    }
    std::fs::write(dir.path().join("in.jsonl"), text).expect("write input");
    std::fs::write(dir.path().join("p.pipe"), ROUTED).expect("write program");
    for workers in ["1", "2"] {
        let out = weir(
            &["run", "p.pipe", "--strict", "--quiet", "--workers", workers],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("in.jsonl:1000"), "{stderr}");
        let written: Vec<String> = lines(&dir.path().join("good.jsonl"))
            .iter()
            .map(|r| r["meter"].as_str().expect("meter").to_string())
            .collect();
        let expected: Vec<String> = (1..1000).map(|i| format!("m{i}")).collect();
        assert_eq!(written, expected, "{workers} worker(s)");
    }
}

const FOLLOWED: &str = r#"source meters = file("in.jsonl", follow: true) {
  meter: string
  kwh:   f64
}
sink good = file("good.jsonl")
pipeline readings {
  from meters
  | to good
}
"#;

#[test]
fn a_limit_counts_malformed_lines_so_a_followed_file_run_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 10 lines, 4 malformed: `--limit 8` can never see 8 good records in this file.
    let text = [
        "{\"meter\": \"m1\", \"kwh\": 1.5}",
        "{\"meter\": \"m2\", \"kwh\": \"lots\"}",
        "{\"meter\": \"m3\", \"kwh\": 2.5}",
        "not json",
        "{\"meter\": \"m5\", \"kwh\": 3.5}",
        "{\"kwh\": 4.5}",
        "{\"meter\": \"m7\", \"kwh\": 5.5}",
        "{\"meter\": \"m8\", \"kwh\": 6.5}",
        "{\"meter\": \"m9\", \"kwh\": 1.",
        "{\"meter\": \"m10\", \"kwh\": 7.5}",
    ]
    .map(|l| format!("{l}\n"))
    .concat();
    std::fs::write(dir.path().join("in.jsonl"), &text).expect("write input");
    std::fs::write(dir.path().join("p.pipe"), FOLLOWED).expect("write program");
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--limit", "8"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weir starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("--limit 8 never ended on a file with malformed lines");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The first 8 lines were read, good and malformed together.
    let good_in_first_8 = text
        .lines()
        .take(8)
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .is_ok_and(|v| v["kwh"].is_f64() && v["meter"].is_string())
        })
        .count();
    assert_eq!(lines(&dir.path().join("good.jsonl")).len(), good_in_first_8);
    assert!(
        stderr.contains(&format!("read {good_in_first_8} records")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{} malformed", 8 - good_in_first_8)),
        "{stderr}"
    );
}

const WINDOWED: &str = r#"source meters = file("in.jsonl") {
  meter: string
  kwh:   f64
  ts:    timestamp
  event_time ts
}
sink totals = file("totals.jsonl")
pipeline per_minute {
  from meters
  | key by meter
  | window tumbling 1m
  | aggregate kwh = sum(kwh), readings = count()
  | to totals
}
"#;

#[test]
fn a_window_cut_by_the_limit_is_early_and_not_final() {
    let dir = tempfile::tempdir().expect("temp dir");
    // One meter, a reading every 10 s for 3 minutes: 18 readings, 6 per window.
    let text: String = (0..18)
        .map(|i| {
            format!(
                "{{\"meter\": \"m1\", \"kwh\": 1.0, \"ts\": {}}}\n",
                1_714_557_600_000i64 + i * 10_000
            )
        })
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), text).expect("write input");
    std::fs::write(dir.path().join("p.pipe"), WINDOWED).expect("write program");
    let panes = |args: &[&str]| {
        let out = weir(args, dir.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines(&dir.path().join("totals.jsonl"))
    };
    // The whole file: three complete windows, on time and final.
    let whole = panes(&["run", "p.pipe", "--quiet"]);
    assert_eq!(whole.len(), 3);
    assert!(whole
        .iter()
        .all(|p| p["pane"]["timing"] == "on_time" && p["pane"]["final"] == true));
    // 9 readings: the first window is complete, the second holds 3 of its 6.
    let cut = panes(&["run", "p.pipe", "--quiet", "--limit", "9"]);
    assert_eq!(cut.len(), 2, "{cut:?}");
    assert_eq!(cut[0]["readings"], 6);
    assert_eq!(cut[0]["pane"]["timing"], "on_time");
    assert_eq!(cut[0]["pane"]["final"], true);
    assert_eq!(cut[1]["readings"], 3);
    assert_eq!(cut[1]["pane"]["timing"], "early", "{:?}", cut[1]);
    assert_eq!(cut[1]["pane"]["final"], false, "{:?}", cut[1]);
}
