//! Every `.pipe` under `examples/` (subfolders too) is checked and run by the real `weir`
//! binary.
//!
//! Examples with a scheduled `query` (such as `examples/sql/`) need a `weir` built with
//! the `sql` feature to run: on the default build they must still check clean, and
//! `weir run` must refuse them with an error naming the feature; `runtime/tests/query.rs`
//! (run with `--features sql`) runs their queries on a test clock and checks the rows.
//!
//! Examples that talk to an MQTT broker on `localhost:1883` run against a real Mosquitto
//! started on a free port (the example is rewritten to use it), with a simulated plant
//! publishing telemetry while `weir` runs. Examples with a `postgres(…)` sink run
//! against a real PostgreSQL server started on a free loopback port (`PG_URL`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[path = "support/mosquitto.rs"]
mod mosquitto;
#[path = "support/postgres_server.rs"]
mod postgres_server;

/// The broker address MQTT examples are written for.
const EXAMPLE_BROKER: &str = "mqtt://localhost:1883";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = pipe_files(&repo_root().join("examples"))
        .into_iter()
        .filter(|p| runnable_here(p))
        .collect();
    files.sort();
    files
}

/// Every `.pipe` under `dir`, in subfolders too.
fn pipe_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("examples/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(pipe_files(&path));
        } else if path.extension().is_some_and(|e| e == "pipe") {
            files.push(path);
        }
    }
    files
}

/// Whether an example declares a scheduled `query`, which only a `weir` built with the
/// `sql` feature runs.
fn needs_sql(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("query "))
}

/// `weir run` of an example with a scheduled query, on a build without `sql`: refused
/// before anything runs, with an error naming the query and the feature to build with.
fn assert_refused_without_sql(file: &Path) {
    let out = weir(&["run", file.to_str().expect("utf-8 path"), "--limit", "100"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{} ran without SQL", file.display());
    assert!(
        stderr.contains("built without SQL")
            && stderr.contains("the `sql` feature")
            && stderr.contains("--features sql"),
        "{}: unclear refusal:\n{stderr}",
        file.display()
    );
    assert!(out.stdout.is_empty(), "{}: wrote output", file.display());
    assert!(
        !stderr.contains("weir: read"),
        "{}: ran:\n{stderr}",
        file.display()
    );
}

/// Examples declaring a `model` need a `weir` built with `--features onnx`; without it
/// they are skipped with a note (.ci/run runs them once with the feature).
fn runnable_here(example: &Path) -> bool {
    if weir_runtime::model::ONNX_ENABLED {
        return true;
    }
    let text = std::fs::read_to_string(example).expect("read example");
    let needs_onnx = text.lines().any(|l| l.trim_start().starts_with("model "));
    if needs_onnx {
        println!(
            "note: {} skipped: it declares a model; run with `--features onnx`",
            example.display()
        );
    }
    !needs_onnx
}

fn weir(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .envs(PG_URL.get().map(|url| ("PG_URL", url.as_str())))
        .current_dir(repo_root())
        .output()
        .expect("weir starts")
}

fn weir_in(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .envs(PG_URL.get().map(|url| ("PG_URL", url.as_str())))
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

/// A copy of a real-time example with its simulator unpaced, in a folder of its own.
struct Unpaced {
    dir: tempfile::TempDir,
    file: PathBuf,
}

impl Unpaced {
    fn write(example: &Path, text: &str) -> Unpaced {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(example.file_name().expect("a file name"));
        std::fs::write(&file, text.replace("realtime: true", "realtime: false"))
            .expect("write example");
        Unpaced { dir, file }
    }
}

#[test]
fn every_example_checks_clean() {
    let files = examples();
    let top = repo_root().join("examples");
    assert!(
        files.iter().any(|f| f.parent() != Some(top.as_path())),
        "the examples in subfolders (examples/sql/) are checked too"
    );
    for file in files {
        let out = weir(&["check", file.to_str().expect("utf-8 path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} does not check:\n{stderr}",
            file.display()
        );
        assert!(
            !stderr.contains("warning"),
            "{} has warnings:\n{stderr}",
            file.display()
        );
    }
}

/// What an MQTT example needs while it runs: a broker, a rewritten copy of the
/// example pointing at it, and a publisher of simulated telemetry.
struct MqttWorld {
    _dir: tempfile::TempDir,
    _broker: mosquitto::Mosquitto,
    file: PathBuf,
    stop: Arc<AtomicBool>,
    publisher: Option<std::thread::JoinHandle<()>>,
}

impl MqttWorld {
    fn start(example: &Path, text: &str) -> MqttWorld {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = mosquitto::Mosquitto::start(dir.path(), mosquitto::free_port());
        let file = dir.path().join(example.file_name().expect("a file name"));
        let url = format!("mqtt://127.0.0.1:{}", broker.port);
        std::fs::write(&file, text.replace(EXAMPLE_BROKER, &url)).expect("write example");
        let stop = Arc::new(AtomicBool::new(false));
        let publisher = Some(plant(broker.port, Arc::clone(&stop)));
        MqttWorld {
            _dir: dir,
            _broker: broker,
            file,
            stop,
            publisher,
        }
    }
}

impl Drop for MqttWorld {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.publisher.take() {
            let _ = p.join();
        }
    }
}

/// Five machines publishing a reading every 100ms of event time (as fast as the broker
/// takes them); machine m3 runs hot.
fn plant(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use rumqttc::{Client, MqttOptions, QoS};
    let (client, mut connection) = Client::new(MqttOptions::new("plant", "127.0.0.1", port), 100);
    std::thread::spawn(move || for _ in connection.iter() {});
    std::thread::spawn(move || {
        let start = 1_714_557_600_000i64;
        let mut n = 0i64;
        while !stop.load(Ordering::Relaxed) {
            let machine = n % 5;
            let temp = if machine == 3 { 90.0 } else { 60.0 } + (n % 7) as f64;
            let payload = format!("{{\"temp\": {temp}, \"ts\": {}}}", start + n * 100);
            if client
                .publish(
                    format!("plant/m{machine}/telemetry"),
                    QoS::AtMostOnce,
                    false,
                    payload,
                )
                .is_err()
            {
                return;
            }
            n += 1;
            if n % 500 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    })
}

/// The URL of the PostgreSQL server the examples' `postgres` sinks write to, once one runs.
static PG_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[test]
fn every_example_runs() {
    let mut _postgres = None;
    let mut refused = 0;
    for file in examples() {
        let text = std::fs::read_to_string(&file).expect("read example");
        if needs_sql(&text) && !weir_runtime::SQL_ENABLED {
            assert_refused_without_sql(&file);
            refused += 1;
            continue;
        }
        if text.contains("postgres(") && _postgres.is_none() {
            let server = postgres_server::PgServer::start();
            let _ = PG_URL.set(server.url());
            _postgres = Some(server);
        }
        let mqtt = text
            .contains(EXAMPLE_BROKER)
            .then(|| MqttWorld::start(&file, &text));
        // A simulator paced to the wall clock (for live dashboards) runs unpaced here, in
        // a folder of its own (its `state` sinks write there); so does an example that
        // checkpoints, which would otherwise resume from an earlier test run's state.
        let own_folder = text.contains("realtime: true") || text.contains("\ncheckpoint ");
        let unpaced = own_folder.then(|| Unpaced::write(&file, &text));
        let run_file = match (&mqtt, &unpaced) {
            (Some(m), _) => m.file.clone(),
            (None, Some(u)) => u.file.clone(),
            (None, None) => file.clone(),
        };
        // Bounded so the suite stays quick; the full runs are in BENCHMARKS.md.
        let limit = if mqtt.is_some() { "20000" } else { "50000" };
        let args = [
            "run",
            run_file.to_str().expect("utf-8 path"),
            "--limit",
            limit,
            "--workers",
            "2",
        ];
        let out = match &unpaced {
            Some(u) => weir_in(&args, u.dir.path()),
            None => weir(&args),
        };
        let mqtt_example = mqtt.is_some();
        drop(mqtt);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} failed:\n{stderr}", file.display());
        assert!(
            stderr.contains("weir: read"),
            "{}: no summary:\n{stderr}",
            file.display()
        );
        if mqtt_example {
            // The simulated plant has a hot machine: the example must report it.
            assert!(
                !out.stdout.is_empty(),
                "{}: no output from MQTT input:\n{stderr}",
                file.display()
            );
            assert!(!stderr.contains("lost the connection"), "{stderr}");
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| {
                panic!("{}: stdout line is not JSON ({e}): {line}", file.display())
            });
        }
    }
    if !weir_runtime::SQL_ENABLED {
        assert!(refused >= 1, "examples/sql/ holds a scheduled query");
    }
}

#[test]
fn every_example_passes_its_own_tests() {
    let mut with_tests = 0;
    for file in examples() {
        let text = std::fs::read_to_string(&file).expect("readable");
        if !text.lines().any(|l| l.trim_start().starts_with("test \"")) {
            continue;
        }
        with_tests += 1;
        let out = weir(&["test", file.to_str().expect("utf-8 path")]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} fails its tests:\n{stdout}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    }
    assert!(with_tests >= 3, "the Beam-model examples carry tests");
}

/// The README's tour, run as printed: every device's first one-minute window holds
/// exactly devices × rate × 60 s / devices = 200 × 60 / 20 = 600 readings, although
/// `jitter: 2s` delivers them out of order, and nothing is late.
#[test]
fn the_readme_tours_first_minute_holds_600_readings_per_device() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    let tour = readme
        .split("## A short tour")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("the tour's code block");
    assert!(tour.contains("jitter: 2s"), "{tour}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tour.pipe");
    std::fs::write(&file, tour).expect("write tour");
    let out = weir(&["run", file.to_str().expect("utf-8"), "--http", "off"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let first_start = rows
        .iter()
        .filter_map(|r| r["window"]["start"].as_str())
        .min()
        .expect("windows")
        .to_string();
    assert_eq!(first_start, "2024-05-01T00:00:00.000Z");
    let first: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["window"]["start"].as_str() == Some(first_start.as_str()))
        .collect();
    assert_eq!(first.len(), 20, "one first window per device");
    for r in &first {
        assert_eq!(r["readings"], 600, "{r}");
    }
    assert!(!stderr.contains("late"), "{stderr}");
}
