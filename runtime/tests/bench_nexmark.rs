//! `weir bench nexmark` end to end at a tiny size: every query of `benches/nexmark/` runs
//! in its own child process on 1 and 2 workers, and its result count equals the
//! hand-written baseline's.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

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

#[test]
fn every_query_reports_its_numbers_and_matches_the_baseline() {
    let root = repo_root();
    let queries = root.join("benches/nexmark");
    let out = weir(
        &[
            "bench",
            "nexmark",
            "--events",
            "20k",
            "--workers",
            "1,2",
            "--json",
            "--dir",
            queries.to_str().expect("utf-8 path"),
        ],
        &std::env::temp_dir(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let lines: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let files = std::fs::read_dir(&queries)
        .expect("benches/nexmark")
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix('q')
                .and_then(|n| n.strip_suffix(".pipe"))
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(lines.len(), files * 2, "{stdout}");
    for m in &lines {
        let query = m["query"].as_str().expect("query");
        let workers = m["workers"].as_u64().expect("workers");
        let at = format!("{query} on {workers} worker(s): {m}");
        assert_eq!(m["events"], 20_000, "{at}");
        let seconds = m["seconds"].as_f64().expect("seconds");
        let rate = m["events_per_sec"].as_f64().expect("events/s");
        assert!(
            seconds > 0.0 && (rate * seconds - 20_000.0).abs() < 1.0,
            "{at}"
        );
        let per_worker = m["events_per_sec_per_worker"].as_f64().expect("per worker");
        assert!(
            (per_worker * workers as f64 - rate).abs() < 1e-6 * rate,
            "{at}"
        );
        assert!(
            m["peak_rss_bytes"].as_u64().expect("peak memory") > 1_000_000,
            "{at}"
        );
        assert!(m["records_in"].as_u64().expect("records in") > 0, "{at}");
        assert!(m["outputs"].as_u64().expect("outputs") > 0, "{at}");
        assert_eq!(m["late_dropped"], 0, "{at}");
        if m["baseline_outputs"].is_null() {
            continue; // A query without a baseline yet.
        }
        assert!(
            m["baseline_events_per_sec"].as_f64().expect("baseline") > 0.0,
            "{at}"
        );
        assert!(
            m["engine_over_baseline"].as_f64().expect("ratio") > 0.0,
            "{at}"
        );
        if query == "q12" {
            // Processing-time panes: the count depends on the clock, so it is not compared.
            assert!(m["outputs_match_baseline"].is_null(), "{at}");
        } else {
            assert_eq!(m["outputs_match_baseline"], true, "{at}");
            assert_eq!(m["outputs"], m["baseline_outputs"], "{at}");
        }
    }
    for q in ["q0", "q1", "q2", "q5", "q7", "q11", "q12"] {
        assert!(lines.iter().any(|m| m["query"] == q), "{q} ran: {stdout}");
    }
    // q0 and q1 output every bid: 46 of every 50 events.
    let q0 = lines.iter().find(|m| m["query"] == "q0").expect("q0");
    assert_eq!(q0["outputs"], 18_400);
    assert_eq!(q0["records_in"], 18_400);
}

#[test]
fn the_table_has_a_header_and_a_row_per_run() {
    // Found from the current directory (the repository), without --dir.
    let out = weir(
        &["bench", "nexmark", "--query", "q2", "--events", "5000"],
        &repo_root(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for h in ["query", "events/s/worker", "peak MB", "engine/baseline"] {
        assert!(lines[0].contains(h), "{h}: {stdout}");
    }
    assert!(lines[2].trim_start().starts_with("q2"), "{stdout}");
    assert!(lines[2].ends_with("ok"), "{stdout}");
}

#[test]
fn an_unknown_query_or_folder_is_named() {
    let out = weir(&["bench", "nexmark", "--query", "q99"], &repo_root());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("q99"), "{stderr}");
    let out = weir(
        &["bench", "nexmark", "--dir", "/nonexistent/q"],
        &repo_root(),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/q"), "{stderr}");
}
