//! `weir bench latency` end to end at a tiny rate (200 events/s, 3 s per run): through a
//! real Mosquitto it starts on 127.0.0.1 (the Debian package `mosquitto`; missing, the
//! test fails) and through the paced simulator, for the stateless pipeline and the
//! 1-second window. A smoke test of the measurement, not of speed: no threshold on time.

use std::process::Command;

use serde_json::Value as Json;

#[test]
fn every_run_reports_ordered_non_negative_percentiles() {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "bench",
            "latency",
            "--rates",
            "200",
            "--seconds",
            "3",
            "--warmup",
            "0.5",
            "--json",
        ])
        .output()
        .expect("weir starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let runs: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["source"].as_str().expect("source"),
                r["shape"].as_str().expect("shape"),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("mqtt", "stateless"),
            ("mqtt", "window"),
            ("sensors", "stateless"),
            ("sensors", "window")
        ]
    );
    for r in &rows {
        let ms = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        let samples = r["samples"].as_u64().expect("samples");
        // 2.5 s measured at 200/s: hundreds of events; windows: at least one of 100 keys.
        let least = if r["shape"] == "window" { 100 } else { 300 };
        assert!(samples >= least, "{samples} samples: {r}");
        assert!(ms("min_ms") >= 0.0, "negative latency: {r}");
        assert!(
            ms("p50_ms") <= ms("p99_ms") && ms("p99_ms") <= ms("p999_ms"),
            "{r}"
        );
        assert!(ms("p999_ms") <= ms("max_ms"), "{r}");
        if r["source"] == "mqtt" {
            assert!(ms("achieved_rate") > 100.0, "{r}");
        }
    }
}
