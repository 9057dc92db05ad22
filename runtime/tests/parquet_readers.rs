//! Outside tools read the Parquet lake: `weir run` writes a partitioned lake and the same
//! records as JSON lines, then pyarrow (installed by `.ci/run`) opens the lake and
//! compares. Fails if pyarrow is missing or any file is unreadable.
#![cfg(feature = "parquet")]

use std::path::Path;
use std::process::Command;

const PIPE: &str = r#"
source telemetry = sensors(devices: 5, rate: 50, events: 3000, seed: 3, jitter: 1s) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 2s
}
sink lake = parquet("lake/telemetry", partition_by: [date(ts), hour(ts)], row_group_size: 500, rotate: 24KiB)
sink copy = file("copy.jsonl")
pipeline raw {
  from telemetry
  | to lake
  | to copy
}
"#;

#[test]
fn pyarrow_reads_the_lake_weir_writes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("lake.pipe"), PIPE).expect("write pipe");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "lake.pipe", "--workers", "2"])
        .current_dir(tmp.path())
        .output()
        .expect("weir starts");
    assert!(
        out.status.success(),
        "weir failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/read_lake.py");
    let check = Command::new("python3")
        .arg(&script)
        .arg(tmp.path().join("lake/telemetry"))
        .arg(tmp.path().join("copy.jsonl"))
        .output()
        .expect("python3 starts (install it and `pip install pyarrow`)");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "pyarrow could not read the lake (is pyarrow installed? `pip install pyarrow`):\n{}{}",
        stdout,
        String::from_utf8_lossy(&check.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("summary JSON");
    assert_eq!(summary["rows"], 3000, "{summary}");
    assert!(summary["files"].as_u64().unwrap_or(0) >= 2, "{summary}");
}
