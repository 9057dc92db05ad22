//! Cluster runs with the real `weir` binary: the same pipelines give the same sorted output
//! on 1 worker, 4 workers in one process and 2 processes × 2 workers on localhost; a lost
//! process stops the others with an error naming it, within the bounded wait.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A pipeline to run on every layout. `files` are written next to it first; its sinks
/// write under `out/`.
struct Case {
    name: &'static str,
    pipe: &'static str,
    files: fn() -> Vec<(&'static str, String)>,
}

/// Where the workers run.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Process { workers: usize },
    LocalCluster { processes: usize, workers: usize },
}

const LAYOUTS: &[Layout] = &[
    Layout::Process { workers: 1 },
    Layout::Process { workers: 4 },
    Layout::LocalCluster {
        processes: 2,
        workers: 2,
    },
];

/// Readings of 30 devices over ~10 minutes, shuffled up to 4 s out of event-time order
/// (within the 5 s watermark bound, so nothing is late on any layout).
fn out_of_order_readings() -> Vec<(&'static str, String)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut rows: Vec<(i64, String)> = (0..6_000)
        .map(|i| {
            let t = 1_714_550_400_000 + i * 100;
            let device = next() % 30;
            let temp = (next() % 4_000) as f64 / 100.0 - 5.0;
            let arrival = t + (next() % 4_000) as i64;
            (
                arrival,
                format!(r#"{{"device_id":"d{device}","temp":{temp},"ts":{t}}}"#),
            )
        })
        .collect();
    rows.sort_by_key(|(arrival, _)| *arrival);
    let text = rows.into_iter().map(|(_, r)| r + "\n").collect::<String>();
    vec![("input.jsonl", text)]
}

fn no_files() -> Vec<(&'static str, String)> {
    Vec::new()
}

/// The table: add sliding and session pipelines here as the language gains them.
const CASES: &[Case] = &[
    Case {
        name: "tumbling over out-of-order file input",
        pipe: r#"
source readings = file("input.jsonl") {
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
  watermark bounded 5s
}
sink per_device = file("out/per_device.jsonl")
sink overall = file("out/overall.jsonl")

pipeline tens {
  from readings
  | key by device_id
  | window tumbling 10s
  | aggregate n = count(), total = sum(temp), low = min(temp), high = max(temp), mean = avg(temp)
  | to per_device
}

pipeline minutes {
  from tens
  | select device_id, n
  | key by device_id
  | window tumbling 1m
  | aggregate readings = sum(n), windows = count()
  | to overall
}
"#,
        files: out_of_order_readings,
    },
    Case {
        name: "tumbling over the sensors simulator (split by device)",
        pipe: r#"
source telemetry = sensors(devices: 50, rate: 2000, events: 40000, seed: 7, jitter: 1s) {
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
  watermark bounded 2s
}
sink averages = file("out/averages.jsonl")

pipeline device_avg {
  from telemetry
  | key by device_id
  | window tumbling 5s
  | aggregate mean = avg(temp), readings = count()
  | to averages
}
"#,
        files: no_files,
    },
    Case {
        name: "sliding and session windows over out-of-order simulator data",
        pipe: r#"
source telemetry = sensors(devices: 24, rate: 1200, events: 30000, seed: 11, jitter: 1s) {
  device_id: string
  vibration: f64
  ts: timestamp
  event_time ts
  watermark bounded 2s
}
sink rolling = file("out/rolling.jsonl")
sink bursts = file("out/bursts.jsonl")

pipeline rolling_vibration {
  from telemetry
  | key by device_id
  | window sliding 10s every 2s
  | aggregate peak = max(vibration), readings = count(), mean = avg(vibration)
  | to rolling
}

pipeline vibration_bursts {
  from telemetry
  | where vibration > 10.0
  | key by device_id
  | window session gap 500ms
  | aggregate readings = count(), peak = max(vibration)
  | to bursts
}
"#,
        files: no_files,
    },
];

fn weir(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
    c.current_dir(dir);
    c
}

/// Runs `case` on `layout` in a fresh directory; returns every output line, sorted,
/// prefixed with the sink's file name (per-process files are merged).
fn run(case: &Case, layout: Layout) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.pipe"), case.pipe).expect("write pipe");
    for (name, text) in (case.files)() {
        std::fs::write(dir.path().join(name), text).expect("write input");
    }
    let mut cmd = weir(dir.path());
    cmd.args(["run", "pipeline.pipe", "--quiet"]);
    match layout {
        Layout::Process { workers } => {
            cmd.args(["--workers", &workers.to_string()]);
        }
        Layout::LocalCluster { processes, workers } => {
            cmd.args(["--workers", &workers.to_string()]);
            cmd.args(["--local-cluster", &processes.to_string()]);
            cmd.args(["--connect-timeout", "20"]);
        }
    }
    let out = cmd.output().expect("weir starts");
    assert!(
        out.status.success(),
        "`{}` on {layout:?} failed:\n{}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("out"))
        .expect("out/ written")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if let Layout::LocalCluster { .. } = layout {
            assert!(
                name.contains(".p0.") || name.contains(".p1."),
                "cluster sink files are per process: {name}"
            );
        }
        // `x.p1.jsonl` and `x.jsonl` hold parts of the same sink.
        let sink = name.split('.').next().unwrap_or("").to_string();
        let text = std::fs::read_to_string(&file).expect("read output");
        lines.extend(text.lines().map(|l| format!("{sink}: {l}")));
    }
    lines.sort();
    lines
}

#[test]
fn every_layout_gives_the_same_sorted_output() {
    for case in CASES {
        let reference = run(case, LAYOUTS[0]);
        assert!(reference.len() > 10, "`{}` produced too little", case.name);
        for &layout in &LAYOUTS[1..] {
            let got = run(case, layout);
            assert_eq!(
                got.len(),
                reference.len(),
                "`{}` on {layout:?}: a different number of results",
                case.name
            );
            for (a, b) in reference.iter().zip(&got) {
                assert_eq!(a, b, "`{}` on {layout:?} differs from 1 worker", case.name);
            }
        }
    }
}

fn free_addresses(n: usize) -> Vec<String> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").to_string())
        .collect()
}

/// A pipeline that runs until stopped: realtime sensor readings printed as they come.
const ENDLESS: &str = r#"
source telemetry = sensors(devices: 10, rate: 200, events: 1M, seed: 1, realtime: true) {
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
  watermark bounded 1s
}
sink out = stdout()

pipeline all {
  from telemetry
  | to out
}
"#;

fn start_process(dir: &Path, index: usize, processes: usize, timeout: &str) -> Child {
    weir(dir)
        .args(["run", "pipeline.pipe", "--quiet", "--workers", "2"])
        .args(["--processes", &processes.to_string()])
        .args(["--process", &index.to_string()])
        .args(["--hostfile", "hosts", "--connect-timeout", timeout])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts")
}

fn wait_with_deadline(mut child: Child, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return (child.wait_with_output().expect("output"), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killing_one_process_stops_the_others_with_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.pipe"), ENDLESS).expect("write pipe");
    let hosts = free_addresses(3);
    std::fs::write(dir.path().join("hosts"), hosts.join("\n")).expect("hostfile");
    let mut children: Vec<Child> = (0..3)
        .map(|i| start_process(dir.path(), i, 3, "20"))
        .collect();
    // Records on every process's stdout mean the whole cluster has joined and runs
    // (10 devices over 6 workers: every worker has some).
    let mut readers = Vec::new();
    for child in &mut children {
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("read");
        assert!(first.contains("device_id"), "unexpected output: {first}");
        // Keep draining so a full pipe never blocks a survivor.
        readers.push(std::thread::spawn(move || {
            std::io::copy(&mut out, &mut std::io::sink()).ok()
        }));
    }

    children[1].kill().expect("kill process 1");
    let _ = children[1].wait();
    let survivors: Vec<Child> = children
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, c)| c)
        .collect();
    for child in survivors {
        let (out, took) = wait_with_deadline(child, Duration::from_secs(10));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "a survivor exited cleanly:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("process 1 ({})", hosts[1]))
                && stderr.contains("disconnected"),
            "the error does not name process 1:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "raw panic output:\n{stderr}");
        assert!(took < Duration::from_secs(5), "took {took:?} to notice");
    }
}

#[test]
fn an_unreachable_peer_fails_after_the_connect_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.pipe"), ENDLESS).expect("write pipe");
    let hosts = free_addresses(2);
    std::fs::write(dir.path().join("hosts"), hosts.join("\n")).expect("hostfile");
    let child = start_process(dir.path(), 1, 2, "1");
    let (out, took) = wait_with_deadline(child, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot reach process 0 ({})", hosts[0]))
            && stderr.contains("within 1s"),
        "{stderr}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn processes_running_different_plans_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.pipe"), ENDLESS).expect("write pipe");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(
        other.join("pipeline.pipe"),
        ENDLESS.replace("rate: 200", "rate: 300"),
    )
    .expect("write pipe");
    let hosts = free_addresses(2);
    std::fs::write(dir.path().join("hosts"), hosts.join("\n")).expect("hostfile");
    std::fs::write(other.join("hosts"), hosts.join("\n")).expect("hostfile");
    let a = start_process(dir.path(), 0, 2, "10");
    let b = start_process(&other, 1, 2, "10");
    for child in [a, b] {
        let (out, _) = wait_with_deadline(child, Duration::from_secs(10));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("runs a different plan"), "{stderr}");
    }
}

#[test]
fn a_failing_process_of_a_local_cluster_stops_the_cluster() {
    // Only process 0 (global worker 0) opens the file source; it is missing, so process 0
    // fails at once, while process 1 would read its endless sensor share forever: it must
    // stop with an error naming process 0, and the parent must exit with process 0's code.
    let dir = tempfile::tempdir().expect("temp dir");
    let pipe = format!(
        "{ENDLESS}\nsource missing = file(\"input.jsonl\") {{\n  ts: timestamp\n  event_time ts\n}}\n\
         sink copied = stdout()\npipeline copy {{\n  from missing\n  | to copied\n}}\n"
    );
    std::fs::write(dir.path().join("pipeline.pipe"), pipe).expect("write pipe");
    let child = weir(dir.path())
        .args([
            "run",
            "pipeline.pipe",
            "--local-cluster",
            "2",
            "--connect-timeout",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let (out, took) = wait_with_deadline(child, Duration::from_secs(15));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("[process 0] error:") && stderr.contains("input.jsonl"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[process 1] error: process 0 (127.0.0.1:")
            && stderr.contains("disconnected"),
        "{stderr}"
    );
    // Its own error (above) shows process 1 stopped by itself, not killed by the parent.
    assert!(took < Duration::from_secs(10), "{took:?}\n{stderr}");
}

#[test]
fn every_example_runs_on_a_local_cluster() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        // Examples that need a broker or a database run against one in tests/examples.rs.
        .filter(|p| {
            let text = std::fs::read_to_string(p).expect("read example");
            !text.contains("mqtt(") && !text.contains("postgres(")
        })
        // Real-time examples (paced to the wall clock, for live dashboards) run unpaced in
        // tests/examples.rs; here they would take the wall-clock time of their limit.
        .filter(|p| {
            !std::fs::read_to_string(p)
                .expect("read example")
                .contains("realtime: true")
        })
        // Examples with a `model` need a build with `--features onnx`.
        .filter(|p| {
            let needs_onnx = std::fs::read_to_string(p)
                .expect("read example")
                .lines()
                .any(|l| l.trim_start().starts_with("model "));
            if needs_onnx && !weir_runtime::model::ONNX_ENABLED {
                println!("note: {} skipped: it declares a model", p.display());
            }
            !needs_onnx || weir_runtime::model::ONNX_ENABLED
        })
        .collect();
    examples.sort();
    for file in examples {
        // An example that checkpoints starts over each time, not from the last run's state.
        let text = std::fs::read_to_string(&file).expect("read example");
        let fresh: &[&str] = if text.contains("\ncheckpoint ") {
            &["--fresh"]
        } else {
            &[]
        };
        // From the repository root, as a user runs them: examples read files next to them
        // (examples/data/, ../shared/data/) and write under the ignored out/.
        let out = weir(root)
            .arg("run")
            .arg(&file)
            .args(["--local-cluster", "2", "--limit", "20000"])
            .args(fresh)
            .output()
            .expect("weir starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} failed:\n{stderr}", file.display());
        // `--limit` holds for the whole cluster: the processes read their shares of it,
        // so the cluster reads exactly what one process reads with the same limit.
        let single = weir(root)
            .arg("run")
            .arg(&file)
            .args(["--workers", "1", "--limit", "20000"])
            .args(fresh)
            .output()
            .expect("weir starts");
        let single_err = String::from_utf8_lossy(&single.stderr);
        assert!(single.status.success(), "{}:\n{single_err}", file.display());
        let read = |text: &str, prefix: &str| -> u64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{}: no `{prefix}` line:\n{text}", file.display()));
            let after = &line[line.find(" read ").expect("read count") + 6..];
            after
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a count")
        };
        let alone = read(&single_err, "weir: read");
        let together = read(&stderr, "weir: local cluster of 2 processes");
        assert!(alone > 0, "{}: read nothing", file.display());
        assert_eq!(together, alone, "{}:\n{stderr}", file.display());
    }
}

#[test]
fn inconsistent_cluster_flags_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.pipe"), ENDLESS).expect("write pipe");
    std::fs::write(dir.path().join("hosts"), "127.0.0.1:1\n").expect("hostfile");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--processes", "2", "--process", "2"],
            "--process 2 is out of range for --processes 2",
        ),
        (
            &["--hostfile", "hosts"],
            "--hostfile needs --processes greater than 1",
        ),
        (
            &["--processes", "2", "--hostfile", "hosts"],
            "lists 1 address(es) but --processes is 2",
        ),
        (
            &["--processes", "2", "--connect-timeout", "0"],
            "--connect-timeout must be a positive",
        ),
        (
            &["--local-cluster", "2", "--process", "1"],
            "cannot be used with",
        ),
    ];
    for (flags, expected) in cases {
        let out = weir(dir.path())
            .args(["run", "pipeline.pipe"])
            .args(*flags)
            .output()
            .expect("weir starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?} was accepted");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
}

/// The pids of `parent`'s children, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether `pid` still runs (a zombie waiting for its reaper counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn local_cluster_children_do_not_outlive_a_killed_parent() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file sink: no broken stdout pipe to stop the children by accident.
    let pipe = ENDLESS.replace("sink out = stdout()", "sink out = file(\"out/all.jsonl\")");
    std::fs::write(dir.path().join("pipeline.pipe"), pipe).expect("write pipe");
    let mut parent = weir(dir.path())
        .args(["run", "pipeline.pipe", "--local-cluster", "2", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("weir starts");
    let started = Instant::now();
    let children = loop {
        let children = children_of(parent.id());
        if children.len() == 2 {
            break children;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no children");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let them join and run.
    std::thread::sleep(Duration::from_millis(700));
    assert!(children.iter().all(|&c| alive(c)), "children ended early");
    parent.kill().expect("kill parent");
    let _ = parent.wait();
    let killed = Instant::now();
    while children.iter().any(|&c| alive(c)) {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "children outlived their parent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
