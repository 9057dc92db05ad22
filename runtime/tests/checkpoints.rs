//! Checkpoints through the `weir` binary: windowed pipelines over a generated file (on a
//! local cluster also a join, an anomaly detector, an alert and a hot store) are killed
//! with SIGKILL at seeded random moments and started again each time; their committed
//! output (and hot store), sorted, equals an uninterrupted run's byte for byte. Also: a
//! checkpoint of another pipeline is refused naming what changed, and a corrupt newest
//! checkpoint is skipped for the one before.

use std::fs;
use std::ops::Range;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

/// Readings of 40 devices, 5 ms apart (a sawtooth of temperatures with rare spikes), out
/// of order by at most 20 ms (never late against `watermark bounded 50ms`).
fn write_input(path: &Path, n: usize) {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(21);
    let mut lines = Vec::with_capacity(n);
    let base = 1_714_557_600_000i64;
    for i in 0..n {
        let t = base + i as i64 * 5 + rng.gen_range(0..=4);
        let device = (i * 7) % 40;
        // A sawtooth, with a rare spike for the anomaly detector to find.
        let temp = if i % 997 == 500 {
            95.0
        } else {
            20.0 + (i % 97) as f64 / 4.0
        };
        lines.push((
            t + rng.gen_range(0..=20),
            format!(
                "{{\"device\":\"dev-{device:02}\",\"temp\":{temp},\"ts\":\"{}\"}}",
                chrono::DateTime::from_timestamp_millis(t)
                    .expect("time")
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            ),
        ));
    }
    // Arrival order: by time plus a little jitter, so the file is out of order.
    lines.sort_by_key(|(arrival, _)| *arrival);
    let text: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
    fs::write(path, text).expect("input");
}

const PIPE: &str = r#"
source readings = file("in.jsonl") {
  device: string
  temp: f64
  ts: timestamp
  event_time ts
  watermark bounded 50ms
}
sink minutes = file("out/minutes.jsonl")
sink seconds = file("out/seconds.jsonl")

pipeline per_second {
  from readings
  | key by device
  | window tumbling 1s
  | aggregate n = count(), avg_temp = avg(temp), top = max(temp), last_temp = last(temp)
  | to seconds
}

pipeline per_minute {
  from readings
  | key by device
  | window sliding 10s every 2s
  | aggregate n = count(), total = sum(temp)
  | to minutes
}
"#;

/// [`PIPE`] with a join, an anomaly detector, an alert and a hot store (`state` sink):
/// every kind of state the chaos tests must bring back.
fn full_pipe() -> String {
    format!("{PIPE}{EXTRA}")
}

const EXTRA: &str = r#"
source echoes = file("in.jsonl") {
  device: string
  temp: f64
  ts: timestamp
  event_time ts
  watermark bounded 50ms
}
sink latest = state(key: device, path: "store/latest.redb")
sink pairs = file("out/pairs.jsonl")
sink spikes = file("out/spikes.jsonl")
sink alerts = file("out/alerts.jsonl")

pipeline hot_pairs {
  from readings
  | where temp > 43.5
  | join echoes as echo on device = device within 250ms
  | select device, temp, ts, echo_temp = echo.temp, echo_ts = echo.ts
  | to pairs
}

pipeline newest_second {
  from per_second
  | to latest
}

pipeline temp_spikes {
  from readings
  | key by device
  | detect anomaly in temp using spike_dip(confidence: 99%, history: 30, mode: both) warmup 10 events as spike
  | where spike.is_anomaly
  | to spikes
}

pipeline hot_alerts {
  from readings
  | key by device
  | alert hot
      critical when temp > 43.0
      resolve when temp < 30.0
      message "{device} at {temp:.1}"
  | to alerts
}
"#;

fn weir(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("run")
        .arg("p.pipe")
        .args(args)
        .arg("--quiet")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts")
}

/// Each sink's lines, sorted, for every file in `out/` (a sink's name is its file name
/// up to the first `.`); on a cluster each process writes `NAME.pI.jsonl`, so the lines
/// of every file of the sink are taken together.
fn sorted_output(dir: &Path) -> String {
    let mut sinks: std::collections::BTreeMap<String, String> = Default::default();
    for entry in fs::read_dir(dir.join("out")).expect("out") {
        let path = entry.expect("entry").path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        if path.is_file() {
            let name = file.split('.').next().unwrap_or(file).to_string();
            let text = fs::read_to_string(&path).expect("output");
            sinks.entry(name).or_default().push_str(&text);
        }
    }
    if let Some(listing) = latest_store(dir) {
        sinks.insert("latest".into(), listing);
    }
    let mut all = String::new();
    for (name, text) in sinks {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        all.push_str(&format!("== {name}: {} lines\n", lines.len()));
        for l in lines {
            all.push_str(l);
            all.push('\n');
        }
    }
    all
}

/// Fails unless every sink of [`full_pipe`] wrote something in `sorted` (a sorted output):
/// a chaos run compared on empty files would prove nothing.
fn assert_every_sink_wrote(sorted: &str) {
    for sink in ["alerts", "latest", "minutes", "pairs", "seconds", "spikes"] {
        let lines = sorted
            .lines()
            .find_map(|l| l.strip_prefix(&format!("== {sink}: ")))
            .and_then(|rest| rest.strip_suffix(" lines"))
            .and_then(|n| n.parse::<usize>().ok());
        assert!(
            lines.is_some_and(|n| n > 0),
            "{sink} wrote nothing: {lines:?}"
        );
    }
}

/// The hot store of [`full_pipe`]'s `state` sink, one line per key, if the run made one: on
/// a local cluster each process keeps its own (`latest.p<I>.redb`), merged here.
fn latest_store(dir: &Path) -> Option<String> {
    use weir_engine::schema::{Field, Schema, Type};
    use weir_runtime::connectors::state::{LatestStore, StateConfig};
    let files: Vec<_> = fs::read_dir(dir.join("store"))
        .ok()?
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "redb"))
        .collect();
    let config = StateConfig {
        key: "device".into(),
        ttl_ms: None,
        path: None,
    };
    let schema = Schema::new(vec![Field::new("device", Type::String)]);
    let mut keys = std::collections::BTreeMap::new();
    for path in &files {
        let store = LatestStore::open(&config, path, &schema).expect("the state store");
        for (key, e) in store.page("", None, usize::MAX).entries {
            let line = format!("{key} {} {}\n", e.event_time, e.json);
            assert!(
                keys.insert(key, line).is_none(),
                "a key in two processes' stores"
            );
        }
    }
    (!files.is_empty()).then(|| keys.into_values().collect())
}

fn finish(child: Child) {
    let out = child.wait_with_output().expect("weir waits");
    assert!(
        out.status.success(),
        "weir failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How a chaos run went: the sorted output, how many kills there were (fewer if the input
/// ran out first), and how many of them found a complete checkpoint on disk to resume.
struct Chaos {
    output: String,
    kills: usize,
    after_a_checkpoint: usize,
}

/// When a chaos run's kill timer starts.
#[derive(Clone, Copy, PartialEq)]
enum From {
    /// At each start.
    Start,
    /// When the start has completed a checkpoint of its own: a cluster takes a
    /// load-dependent while to connect, and kills before that would test no restore.
    NewCheckpoint,
}

/// The complete checkpoints in `dir/state`, oldest first.
fn complete_epochs(dir: &Path) -> Vec<u64> {
    let mut epochs: Vec<u64> = fs::read_dir(dir.join("state"))
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            e.path().join("MANIFEST").is_file().then_some(())?;
            e.file_name().to_str()?.strip_prefix("epoch-")?.parse().ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs
}

/// Kills a checkpointing run up to `kills` times at random moments `wait_ms` after each
/// start or its first checkpoint (seeded), restarting it each time (the `i`-th start with
/// `layouts[i % len]`), then lets it finish.
fn chaos(
    dir: &Path,
    layouts: &[&[&str]],
    kills: usize,
    (from, wait_ms): (From, Range<u64>),
    seed: u64,
) -> Chaos {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let flags = |i: usize| {
        let mut f = vec!["--checkpoint-dir", "state", "--checkpoint-every", "40ms"];
        f.extend_from_slice(layouts[i % layouts.len()]);
        f
    };
    let mut killed = 0;
    let mut after_a_checkpoint = 0;
    let done = |kills, after_a_checkpoint| Chaos {
        output: sorted_output(dir),
        kills,
        after_a_checkpoint,
    };
    while killed < kills {
        let mut child = weir(dir, &flags(killed));
        let wait = Duration::from_millis(rng.gen_range(wait_ms.clone()));
        let before = complete_epochs(dir).last().copied();
        let mut started = (from == From::Start).then(Instant::now);
        while started.is_none_or(|s| s.elapsed() < wait) {
            if started.is_none() && complete_epochs(dir).last().copied() > before {
                started = Some(Instant::now());
            }
            if child.try_wait().expect("poll").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(status) = child.try_wait().expect("poll") {
            // Finished before the kill: the input ran out.
            if !status.success() {
                let out = child.wait_with_output().expect("weir's stderr");
                let stderr = String::from_utf8_lossy(&out.stderr);
                panic!("weir failed after {killed} kills: {stderr}");
            }
            return done(killed, after_a_checkpoint);
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        killed += 1;
        if !complete_epochs(dir).is_empty() {
            after_a_checkpoint += 1;
        }
    }
    finish(weir(dir, &flags(killed)));
    done(killed, after_a_checkpoint)
}

fn setup(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_input(&dir.path().join("in.jsonl"), n);
    fs::write(dir.path().join("p.pipe"), PIPE).expect("pipe");
    dir
}

fn golden(dir: &Path, args: &[&str]) -> String {
    finish(weir(dir, args));
    sorted_output(dir)
}

/// Runs [`chaos`] from an empty output and state, and fails naming the first sorted line
/// that differs from `expected`; returns how many kills there were.
fn assert_chaos_matches(
    dir: &Path,
    expected: &str,
    layouts: &[&[&str]],
    kills: usize,
    wait: (From, Range<u64>),
    seed: u64,
) -> Chaos {
    let _ = fs::remove_dir_all(dir.join("out"));
    let _ = fs::remove_dir_all(dir.join("state"));
    let _ = fs::remove_dir_all(dir.join("store"));
    let run = chaos(dir, layouts, kills, wait, seed);
    let (got, n) = (&run.output, run.kills);
    if got != expected {
        let first = got
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{layouts:?} after {n} kills: output differs at sorted line {first}: got {:?}, want {:?}",
            got.lines().nth(first),
            expected.lines().nth(first)
        );
    }
    run
}

#[test]
fn killed_and_restarted_at_random_the_committed_output_equals_an_uninterrupted_run() {
    let dir = setup(300_000);
    fs::write(dir.path().join("p.pipe"), full_pipe()).expect("pipe");
    let expected = golden(dir.path(), &[]);
    assert_every_sink_wrote(&expected);
    let mut kills = 0;
    let one: &[&str] = &["--workers", "1"];
    let four: &[&str] = &["--workers", "4"];
    let (two, three): (&[&str], &[&str]) = (&["--workers", "2"], &["--workers", "3"]);
    // The last case restarts on another worker count each time: rescaling.
    for (layouts, n, seed) in [
        (vec![one], 8, 1),
        (vec![four], 8, 2),
        (vec![two, three, one, four], 6, 3),
    ] {
        kills += assert_chaos_matches(
            dir.path(),
            &expected,
            &layouts,
            n,
            (From::Start, 120..360),
            seed,
        )
        .kills;
    }
    assert!(kills >= 20, "{kills} kills");
}

/// The same chaos on a 2-process local cluster (2 workers each): the parent is SIGKILLed;
/// the kernel kills its children as it exits (`--exit-with-parent PID`), and the restart
/// waits for every process's lock of the checkpoint directory before it starts.
#[test]
fn a_local_cluster_killed_and_restarted_at_random_commits_the_uninterrupted_output() {
    let dir = setup(150_000);
    fs::write(dir.path().join("p.pipe"), full_pipe()).expect("pipe");
    let expected = golden(dir.path(), &[]);
    assert_every_sink_wrote(&expected);
    let cluster: &[&str] = &["--local-cluster", "2", "--workers", "2"];
    let wait = (From::NewCheckpoint, 0..600);
    let run = assert_chaos_matches(dir.path(), &expected, &[cluster], 5, wait, 4);
    assert!(run.kills >= 4, "{} kills", run.kills);
    assert!(
        run.after_a_checkpoint >= 2,
        "only {} of {} kills came after a complete checkpoint",
        run.after_a_checkpoint,
        run.kills
    );
}

/// The README's plant in its checkpointed form (`examples/plant_temps_checkpointed.pipe`,
/// unpaced): 20 sensors arriving up to 2 s out of order, killed at random and restarted,
/// on 1 and then on 2 workers; its file holds each window once.
#[test]
fn the_readme_plant_killed_and_restarted_at_random_writes_each_window_once() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plant_temps_checkpointed.pipe");
    let text = fs::read_to_string(example).expect("the example");
    assert!(text.contains("jitter: 2s") && text.contains("realtime: true"));
    let dir = tempfile::tempdir().expect("tempdir");
    let unpaced = text.replace("realtime: true", "realtime: false");
    fs::write(dir.path().join("p.pipe"), unpaced).expect("pipe");
    let started = Instant::now();
    let expected = golden(dir.path(), &["--checkpoint-dir", "golden"]);
    // Kills come a tenth to a fifth of an uninterrupted run's time after each start, so
    // the input cannot run out before they are spent on a fast machine (fixed waits of
    // 40–400 ms left 2 kills of 10 on a quiet one) nor outlast them on a loaded one.
    let run_ms = started.elapsed().as_millis() as u64;
    let wait_ms = (run_ms / 10).max(20)..(run_ms / 5).max(40);
    // 20 devices × 10 one-minute windows.
    assert!(
        expected.starts_with("== plant_temps: 200 lines\n"),
        "{expected}"
    );
    let mut kills = 0;
    let (one, two): (&[&str], &[&str]) = (&["--workers", "1"], &["--workers", "2"]);
    for (layouts, seed) in [(vec![one], 5), (vec![two, one], 6)] {
        let wait = (From::Start, wait_ms.clone());
        kills += assert_chaos_matches(dir.path(), &expected, &layouts, 5, wait, seed).kills;
    }
    assert!(kills >= 6, "{kills} kills");
}

#[test]
fn a_checkpoint_of_another_pipeline_is_refused_naming_the_change() {
    let dir = setup(2_000);
    let flags = ["--checkpoint-dir", "state", "--checkpoint-every", "5ms"];
    // A checkpoint exists once a run has completed one.
    for _ in 0..50 {
        finish(weir(dir.path(), &flags));
        if fs::read_dir(dir.path().join("state"))
            .expect("state")
            .any(|e| e.expect("entry").path().join("MANIFEST").is_file())
        {
            break;
        }
    }
    let edited = PIPE.replace("window tumbling 1s", "window tumbling 2s");
    fs::write(dir.path().join("p.pipe"), edited).expect("pipe");
    let out = weir(dir.path(), &flags).wait_with_output().expect("weir");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("taken by a different pipeline"), "{err}");
    assert!(
        err.contains("1s") && err.contains("2s"),
        "names the change: {err}"
    );
    assert!(err.contains("--fresh"), "{err}");
    // --fresh starts over.
    finish(weir(dir.path(), &[&flags[..], &["--fresh"]].concat()));
}

#[test]
fn a_corrupt_newest_checkpoint_is_skipped_for_the_one_before() {
    let dir = setup(60_000);
    let flags = ["--checkpoint-dir", "state", "--checkpoint-every", "30ms"];
    let expected = golden(dir.path(), &[]);
    let _ = fs::remove_dir_all(dir.path().join("out"));
    // Run until two checkpoints are complete, then kill.
    let mut child = weir(dir.path(), &flags);
    let started = Instant::now();
    while complete_epochs(dir.path()).len() < 2 && started.elapsed() < Duration::from_secs(20) {
        assert!(
            child.try_wait().expect("poll").is_none(),
            "finished too early"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let epochs = complete_epochs(dir.path());
    let newest = *epochs.last().expect("a complete checkpoint");
    // Flip a byte in one part of the newest checkpoint.
    let part = fs::read_dir(dir.path().join(format!("state/epoch-{newest}")))
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.file_name().is_some_and(|n| n != "MANIFEST"))
        .expect("a part");
    let mut bytes = fs::read(&part).expect("part");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    fs::write(&part, bytes).expect("corrupt");

    let out = weir(dir.path(), &flags).wait_with_output().expect("weir");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("skipping checkpoint") && err.contains(&format!("epoch-{newest}")),
        "names the corrupt checkpoint: {err}"
    );
    assert!(err.contains("checksum mismatch"), "{err}");
    assert_eq!(sorted_output(dir.path()), expected);
}
