//! `rotate: 5m` closes a Parquet file on time while a live run receives nothing: the
//! sink operator wakes the sink on the (test) clock, so the file gets its final name
//! without another record arriving.

#![cfg(feature = "parquet")]

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_engine::clock::{ClockWaiters, TestClock};
use weir_engine::metrics::Metrics;
use weir_engine::run::{run, RunOptions};
use weir_engine::stop::StopHandle;
use weir_runtime::catalog::Catalog;
use weir_runtime::connectors::Connectors;

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                // The writer's lock file stays in the lake.
                .filter(|n| !n.starts_with(".weir-writer-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_idle_lake_file_closes_when_its_age_is_reached() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let input = dir.join("live.jsonl");
    fs::write(&input, "{\"n\":1}\n{\"n\":2}\n").expect("input");
    let text = r#"
source live = file("live.jsonl", follow: true) { n: i64 }
sink lake = parquet("lake", rotate: 5m)
pipeline keep { from live | to lake }
"#;
    let plan = Arc::new(
        weir_dsl::compile_with("live.pipe", text, &Catalog)
            .expect("compiles")
            .plan,
    );
    let start = 1_714_557_600_000;
    let clock = Arc::new(TestClock::new(start));
    let waiters = Arc::new(ClockWaiters::default());
    let stop = Arc::new(StopHandle::new());
    let options = RunOptions {
        workers: 2,
        stop: Arc::clone(&stop),
        clock: Arc::clone(&clock) as _,
        on_bad_record: Arc::new(|b| panic!("bad record {b:?}")),
        limit: None,
        clock_waiters: Arc::clone(&waiters),
        checkpoint: None,
    };
    let metrics = Arc::new(Metrics::new(&plan, 2));
    let running = {
        let (plan, metrics) = (Arc::clone(&plan), Arc::clone(&metrics));
        let connectors =
            Arc::new(Connectors::with_base_dir(dir).with_clock(Arc::clone(&clock) as _));
        std::thread::spawn(move || run(plan, connectors, options, metrics))
    };
    let lake = dir.join("lake");
    wait_until("two records written", || metrics.records_out() == 2);
    assert_eq!(files(&lake), [".part-0-0.parquet.inprogress"]);

    // Not yet due: the file stays open.
    clock.advance_to(start + 299_000);
    waiters.wake_all();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(files(&lake), [".part-0-0.parquet.inprogress"]);

    // Five minutes after it opened, with no record since, it closes.
    clock.advance_to(start + 300_000);
    waiters.wake_all();
    wait_until("the file closed on time", || {
        files(&lake) == ["part-0-0.parquet"]
    });

    // A later record opens the next file; the end of the run closes it.
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .expect("open");
        f.write_all(b"{\"n\":3}\n").expect("append");
    }
    wait_until("the third record written", || metrics.records_out() == 3);
    stop.request(true);
    running.join().expect("run thread").expect("run");
    assert_eq!(files(&lake), ["part-0-0.parquet", "part-0-1.parquet"]);
}
