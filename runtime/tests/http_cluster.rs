//! The HTTP view of a local cluster with the real binary: every process serves its own
//! `/metrics`, and process 0 answers for the whole job: `/api/job` sums every process's
//! counters, and the state API finds keys whichever process holds them.

#[path = "support/live_run.rs"]
mod live_run;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use live_run::{get, get_json};
use serde_json::Value as Json;

const PROGRAM: &str = r#"source readings = file("in.jsonl", follow: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 1s
}
sink counts = state(key: device_id)

pipeline per_device {
  from readings
  | key by device_id
  | window tumbling 10s
  | aggregate n = count()
  | to counts
}
"#;

const DEVICES: usize = 8;

/// One reading per device per second for 40 s: windows [0, 10), [10, 20) and [20, 30)
/// of every device fire (the watermark reaches 38 s), 24 records in all, with n = 10.
fn input() -> String {
    let mut lines = String::new();
    for t in 0..40 {
        for d in 0..DEVICES {
            lines.push_str(&format!(
                "{{\"device_id\": \"d{d}\", \"temp\": 1.0, \"ts\": \"2026-01-01T00:00:{t:02}Z\"}}\n"
            ));
        }
    }
    lines
}

/// A loopback port whose next port is free too.
fn two_free_ports() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = first.local_addr().expect("addr").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

struct Cluster(Child);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

fn sink_records(job: &Json) -> u64 {
    job["sinks"][0]["records"].as_u64().unwrap_or(0)
}

#[test]
fn process_0_serves_the_whole_jobs_counters_and_state_and_each_process_its_metrics() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("program.pipe"), PROGRAM).expect("program");
    std::fs::write(dir.path().join("in.jsonl"), input()).expect("input");
    let port = two_free_ports();
    let child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "program.pipe", "--local-cluster", "2"])
        .args(["--http", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("weir starts");
    let _cluster = Cluster(child);
    let url = |process: u16, path: &str| format!("http://127.0.0.1:{}{path}", port + process);
    let up = |process: u16| {
        let (status, _) = std::panic::catch_unwind(|| get(&url(process, "/api/job"), &[]))
            .unwrap_or((0, String::new()));
        status == 200
    };
    eventually(60, "both servers", || up(0) && up(1));
    eventually(60, "every window to reach the sink", || {
        sink_records(&get_json(&url(0, "/api/job")).1) == 24
    });
    let (_, whole) = get_json(&url(0, "/api/job"));
    let (_, own_1) = get_json(&url(1, "/api/job"));
    let held_by_1 = sink_records(&own_1);
    // Keys are spread by hash: each process holds some, process 0 shows them all.
    assert!(
        held_by_1 > 0 && held_by_1 < 24,
        "process 1 wrote {held_by_1}"
    );
    assert_eq!(whole["workers"], 2, "{whole}");
    assert_eq!(
        whole["processes"].as_array().map(Vec::len),
        Some(2),
        "{whole}"
    );
    assert_eq!(whole["processes"][1]["answered"], true, "{whole}");
    // Every key through process 0, wherever it is held; process 1 alone knows only its own.
    let mut only_on_0 = 0;
    for d in 0..DEVICES {
        let path = format!("/api/state/counts?device_id=d{d}");
        let (status, one) = get_json(&url(0, &path));
        assert_eq!(status, 200, "d{d}: {one}");
        assert_eq!(one["record"]["n"], 10, "{one}");
        if get_json(&url(1, &path)).0 == 404 {
            only_on_0 += 1;
        }
    }
    assert!(only_on_0 > 0 && only_on_0 < DEVICES, "{only_on_0}");
    let (_, page) = get_json(&url(0, "/api/state/counts?limit=5"));
    let keys: Vec<&str> = page["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(keys, ["d0", "d1", "d2", "d3", "d4"], "{page}");
    assert_eq!(page["next"], "d4");
    let (_, rest) = get_json(&url(0, "/api/state/counts?after=d4"));
    assert_eq!(rest["records"].as_array().map(Vec::len), Some(3), "{rest}");
    assert_eq!(rest["next"], Json::Null);
    // Each process's own metrics, labelled with its index.
    for process in 0..2u16 {
        let (status, text) = get(&url(process, "/metrics"), &[]);
        assert_eq!(status, 200);
        let label = format!(r#"weir_sink_records_total{{sink="counts",process="{process}"}}"#);
        assert!(text.contains(&label), "{text}");
    }
}
