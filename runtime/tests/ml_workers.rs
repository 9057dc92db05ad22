//! `detect` and `forecast` keep state per key and feed each key in event-time order, so a
//! keyed run over out-of-order simulator data gives the same records on 1 and 4 workers.

use std::process::Command;

const PIPE: &str = r#"
source telemetry = sensors(devices: 12, rate: 200, duration: 2m, seed: 3, jitter: 2s) {
  device_id: string
  temp:      f64
  vibration: f64
  ts:        timestamp
  event_time ts
  watermark  bounded 5s
}
sink out = stdout()
pipeline p {
  from telemetry
  | key by device_id
  | detect anomaly in vibration using rcf(trees: 10, sample: 64, shingle: 3, seed: 5) warmup 20 events as v
  | detect anomaly in temp using contextual(learning: 100, long: 500) as t
  | forecast temp horizon 10s every 5s using holt_winters(season: 30s) as f
  | select device_id, ts, v.score, v.is_anomaly, t.score, f.value, f.upper
  | to out
}
"#;

fn run(workers: &str, dir: &std::path::Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "ml.pipe", "--quiet", "--workers", workers])
        .current_dir(dir)
        .output()
        .expect("weir starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn keyed_models_give_the_same_output_on_one_and_four_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ml.pipe"), PIPE).expect("write");
    let one = run("1", dir.path());
    assert!(one.len() > 20_000, "{} records", one.len());
    assert!(one.iter().any(|l| l.contains("\"is_anomaly\":true")));
    assert_eq!(one, run("4", dir.path()));
}
