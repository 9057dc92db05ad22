//! The summary `weir run` prints at the end names each kind of dropped record for what it
//! is.

use std::process::Command;

/// `emit count(1)` fires once per window; the window's later records are dropped because
/// its trigger finished, which is not lateness (the watermark never passed them).
#[test]
fn records_after_a_finished_trigger_are_not_called_late() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"device_id\": \"a\", \"ts\": 1000}\n\
         {\"device_id\": \"a\", \"ts\": 2000}\n\
         {\"device_id\": \"a\", \"ts\": 3000}\n\
         {\"device_id\": \"a\", \"ts\": 70000}\n",
    )
    .expect("write input");
    std::fs::write(
        dir.path().join("p.pipe"),
        r#"source s = file("in.jsonl") {
  device_id: string
  ts: timestamp
  event_time ts
}
sink out = stdout()
pipeline first_reading {
  from s
  | key by device_id
  | window tumbling 1m emit count(1)
  | aggregate n = count()
  | to out
}
"#,
    )
    .expect("write pipeline");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe"])
        .current_dir(dir.path())
        .output()
        .expect("weir starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(
        stderr.contains("2 dropped after the window's trigger finished in `first_reading`"),
        "{stderr}"
    );
    assert!(!stderr.contains("late dropped"), "{stderr}");
}
