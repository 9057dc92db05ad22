//! Positions of the file source in CSV: cut after any record (quoted fields spanning
//! lines, a quote left open whose lines are read again, blank lines), a reader restored
//! from the position reads the rest, so the two together read what one uninterrupted
//! reader reads, bad records with the same file line numbers.

use std::fs;
use std::path::Path;

use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::{BadRecord, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Record;

use super::{FileConfig, FileSource};

const CSV: &str = "device_id,note,temp\n\
m1,plain,20.5\n\
m2,\"two\nlines\",21\n\
\n\
m3,\"a, comma\",22\n\
m4,\"open quote,23\n\
m5,after the open quote,24\n\
m6,\"three\nmore\nlines\",25\n\
m7,not a number,x\n\
m8,last,26\n";

/// The columns, the last one a number or (`timed`) a time in epoch ms.
fn schema(timed: bool) -> Schema {
    let last = if timed { Type::Timestamp } else { Type::Float };
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("note", Type::String),
        Field::new("temp", last),
    ])
}

fn open(path: &Path) -> FileSource {
    open_as(path, false)
}

fn open_as(path: &Path, timed: bool) -> FileSource {
    let config = FileConfig::from_call(&ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: vec![("format".into(), OptionValue::Ident("csv".into()))],
    })
    .expect("config");
    let one = WorkerInfo { index: 0, peers: 1 };
    FileSource::open("r", &config, &schema(timed), one).expect("open")
}

/// Records and bad records (as `location: reason`), one poll of `max` at a time, until
/// `polls` polls or the end.
fn read(source: &mut FileSource, polls: usize, max: usize) -> (Vec<Record>, Vec<String>) {
    let (mut out, mut bad): (Vec<Record>, Vec<BadRecord>) = (Vec::new(), Vec::new());
    for _ in 0..polls {
        if source.poll(&mut out, &mut bad, max).expect("poll") == SourceStatus::Finished {
            break;
        }
    }
    let bad = bad
        .into_iter()
        .map(|b| format!("{}: {}", b.location, b.reason))
        .collect();
    (out, bad)
}

#[test]
fn a_csv_file_cut_after_any_record_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.csv");
    fs::write(&path, CSV).expect("csv");
    let whole = read(&mut open(&path), usize::MAX, 1);
    assert_eq!(whole.0.len(), 6, "{whole:?}");
    assert_eq!(whole.1.len(), 2, "{whole:?}");
    for cut in 0..=whole.0.len() + whole.1.len() {
        let mut first = open(&path);
        let (mut records, mut bad) = read(&mut first, cut, 1);
        let bytes = first.position(1).expect("position").expect("resumable");
        let mut resumed = open(&path);
        let at = [SourcePosition {
            worker: 0,
            workers: 1,
            bytes,
        }];
        resumed.seek(&at).expect("seek");
        let rest = read(&mut resumed, usize::MAX, 2);
        records.extend(rest.0);
        bad.extend(rest.1);
        assert_eq!((records, bad), whole, "cut after {cut} polls");
    }
}

/// A CSV recording played with `replay: 1x`, cut while records wait in the pacer: the
/// restored player releases the rest, each record once.
#[test]
fn a_replayed_file_cut_while_records_wait_resumes_each_record_once() {
    use std::sync::Arc;
    use weir_engine::clock::TestClock;

    use super::replay::PacedReader;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rec.csv");
    let mut csv = String::from("device_id,note,temp\n");
    for i in 0..40 {
        csv.push_str(&format!("m{i},n,{i}\n"));
    }
    fs::write(&path, csv).expect("csv");
    // Record i's time is i ms: at 1x it is due at clock i (from the first record's).
    let player = |clock: &Arc<TestClock>| {
        PacedReader::new(Box::new(open_as(&path, true)), 2, 1.0, clock.clone())
    };
    let play = |reader: &mut PacedReader, clock: &TestClock, from: i64, to: i64| {
        let (mut out, mut bad) = (Vec::new(), Vec::new());
        for now in from..to {
            clock.advance_to(now);
            reader.poll(&mut out, &mut bad, 7).expect("poll");
        }
        assert!(bad.is_empty());
        out
    };
    let clock = Arc::new(TestClock::new(0));
    let whole = play(&mut player(&clock), &clock, 0, 60);
    assert_eq!(whole.len(), 40);
    for cut in [1, 3, 7, 8, 13, 20, 39] {
        let clock = Arc::new(TestClock::new(0));
        let mut first = player(&clock);
        let mut records = play(&mut first, &clock, 0, cut);
        let bytes = first.position(1).expect("position").expect("resumable");
        let clock = Arc::new(TestClock::new(0));
        let mut resumed = player(&clock);
        let at = [SourcePosition {
            worker: 0,
            workers: 1,
            bytes,
        }];
        resumed.seek(&at).expect("seek");
        // Pacing starts again at the resume: the first record left is due at once.
        records.extend(play(&mut resumed, &clock, 0, 60));
        assert_eq!(records, whole, "cut at clock {cut}");
    }
}
