//! The lake under checkpoints: files stay hidden until their checkpoint commits; a crash
//! (the sink dropped without a commit) followed by a restore leaves exactly the records
//! of the checkpoint resumed from, as the parquet crate and pyarrow read them.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use weir_engine::clock::TestClock;
use weir_engine::io::SinkWriter;
use weir_engine::plan::OptionValue;
use weir_engine::value::{Record, Value};

use super::ParquetSink;

use super::tests::{by_date_hour, events, files, open, read_back, rec, T0};

/// Records `from..to`, one a millisecond.
fn batch(from: i64, to: i64) -> Vec<Record> {
    (from..to).map(|i| rec(i, T0 + i)).collect()
}

/// Writes `records` 50 at a time, so that files rotate between writes.
fn write(sink: &ParquetSink, records: &[Record]) {
    for chunk in records.chunks(50) {
        sink.write(&events(chunk)).expect("write");
    }
}

/// Every committed record of the lake (final names only), read with the parquet crate,
/// sorted by `n`.
fn committed(dir: &Path) -> Vec<Record> {
    let mut out: Vec<Record> = files(dir)
        .iter()
        .filter(|f| !f.rsplit('/').next().unwrap_or("").starts_with('.'))
        .flat_map(|f| read_back(&dir.join(f)))
        .collect();
    out.sort_by_key(|r| match r[2] {
        Value::Int(n) => n,
        _ => i64::MIN,
    });
    out
}

/// The rows pyarrow's dataset reader finds in the lake (it skips hidden files, as
/// DuckDB and Spark do).
fn pyarrow_rows(dir: &Path) -> u64 {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, pyarrow.dataset as ds; \
             print(ds.dataset(sys.argv[1], format='parquet', partitioning='hive').count_rows())",
        ])
        .arg(dir)
        .output()
        .expect("python3 starts (install it and `pip install pyarrow`)");
    assert!(
        out.status.success(),
        "pyarrow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a row count")
}

fn rotating() -> Vec<(&'static str, OptionValue)> {
    vec![
        by_date_hour(),
        ("rotate", OptionValue::Ident("4KiB".into())),
    ]
}

#[test]
fn files_stay_hidden_until_their_checkpoint_commits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = open(tmp.path(), rotating(), Arc::new(TestClock::new(0)));
    // A checkpointed run that starts fresh says so before writing (nothing to restore).
    sink.restore(None).expect("fresh start");
    let first = batch(0, 400);
    write(&sink, &first);
    sink.prepare_commit(1).expect("prepare").expect("a state");
    // Prepared: durable, but no reader sees it yet.
    assert_eq!(committed(tmp.path()), Vec::<Record>::new());
    assert!(files(tmp.path()).iter().all(|f| f.contains("/.part-")));
    assert_eq!(pyarrow_rows(tmp.path()), 0);
    sink.commit(1).expect("commit");
    assert_eq!(committed(tmp.path()), first);
    assert_eq!(pyarrow_rows(tmp.path()), 400);
}

/// Checkpoint 1 is committed, checkpoint 2 completed but the crash came before its
/// commit, and records of epoch 3 were written (some rotated to pending, some in
/// progress). Restoring checkpoint 2 commits its parts and removes the rest; restoring
/// checkpoint 1 (as if 2 never completed) removes everything after it.
#[test]
fn a_crash_then_restore_leaves_exactly_the_checkpoints_records() {
    for resume_from in [1u64, 2] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut states = Vec::new();
        {
            let sink = open(tmp.path(), rotating(), Arc::new(TestClock::new(0)));
            sink.restore(None).expect("fresh start");
            write(&sink, &batch(0, 300));
            states.push(sink.prepare_commit(1).expect("prepare"));
            sink.commit(1).expect("commit");
            write(&sink, &batch(300, 700));
            states.push(sink.prepare_commit(2).expect("prepare"));
            // Epoch 3: enough to rotate a file into pending, and one record of the next
            // hour left in progress.
            write(&sink, &batch(700, 1500));
            sink.write(&events(&[rec(2000, T0 + 3_600_000)]))
                .expect("write");
            // Dropped without flush or commit: the crash.
        }
        let names = files(tmp.path());
        assert!(names.iter().any(|f| f.ends_with(".pending")), "{names:?}");
        assert!(
            names.iter().any(|f| f.ends_with(".inprogress")),
            "{names:?}"
        );

        let sink = open(tmp.path(), rotating(), Arc::new(TestClock::new(0)));
        let state = states[resume_from as usize - 1].clone();
        sink.restore(state.as_deref()).expect("restore");
        let upto = if resume_from == 1 { 300 } else { 700 };
        assert_eq!(
            committed(tmp.path()),
            batch(0, upto),
            "resume from {resume_from}"
        );
        let left: Vec<String> = files(tmp.path())
            .into_iter()
            .filter(|f| f.contains("/."))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "nothing hidden is left");
        assert_eq!(pyarrow_rows(tmp.path()), upto as u64);

        // The resumed run replays from the checkpoint; its new files never reuse a name.
        write(&sink, &batch(upto, 1500));
        sink.prepare_commit(resume_from + 1).expect("prepare");
        sink.commit(resume_from + 1).expect("commit");
        assert_eq!(committed(tmp.path()), batch(0, 1500));
        assert_eq!(pyarrow_rows(tmp.path()), 1500);
    }
}

#[test]
fn a_commit_repeated_after_restore_is_harmless_and_a_missing_part_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = {
        let sink = open(tmp.path(), vec![], Arc::new(TestClock::new(0)));
        sink.write(&events(&batch(0, 10))).expect("write");
        let state = sink.prepare_commit(1).expect("prepare");
        sink.commit(1).expect("commit");
        state
    };
    let sink = open(tmp.path(), vec![], Arc::new(TestClock::new(0)));
    sink.restore(state.as_deref())
        .expect("already committed parts are fine");
    assert_eq!(committed(tmp.path()), batch(0, 10));
    drop(sink);
    for f in files(tmp.path()) {
        std::fs::remove_file(tmp.path().join(f)).expect("remove");
    }
    let sink = open(tmp.path(), vec![], Arc::new(TestClock::new(0)));
    let err = sink
        .restore(state.as_deref())
        .expect_err("the part is gone");
    assert!(err.to_string().contains("cannot commit"), "{err}");
}

#[test]
fn without_checkpoints_rotated_files_are_visible_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = open(tmp.path(), rotating(), Arc::new(TestClock::new(0)));
    write(&sink, &batch(0, 1500));
    assert!(!committed(tmp.path()).is_empty(), "rotated parts are final");
    sink.flush().expect("flush");
    assert_eq!(committed(tmp.path()), batch(0, 1500));
}
