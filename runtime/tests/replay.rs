//! `replay` end to end on the wall clock: a recording plays at its event-time pace.
//! Only a lower bound on the run's length is asserted (pacing can only slow a run down).

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_recording_replays_at_its_event_time_pace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Eleven readings a minute apart: ten minutes of recording, NAB-style times.
    let mut csv = String::from("timestamp,value\n");
    for i in 0..11 {
        csv.push_str(&format!("2014-04-01 00:{:02}:00,{i}.5\n", i));
    }
    fs::write(tmp.path().join("rec.csv"), csv).expect("csv");
    let pipe = |speed: &str| {
        format!(
            "source rec = file(\"rec.csv\", replay: {speed}) {{ timestamp: timestamp  value: f64  event_time timestamp }}\n\
             sink out = file(\"out.jsonl\")\n\
             pipeline copy {{ from rec | to out }}\n"
        )
    };
    let run = |speed: &str| {
        fs::write(tmp.path().join("r.pipe"), pipe(speed)).expect("pipe");
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["run", "r.pipe"])
            .current_dir(tmp.path())
            .output()
            .expect("weir starts");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = fs::read_to_string(tmp.path().join("out.jsonl")).expect("output");
        assert_eq!(lines.lines().count(), 11);
        assert!(lines.starts_with("{\"timestamp\":\"2014-04-01T00:00:00.000Z\",\"value\":0.5}"));
        started.elapsed()
    };
    // 600x: ten minutes of recording take one second.
    let paced = run("600x");
    assert!(paced >= Duration::from_millis(990), "{paced:?}");
    run("max");
}
