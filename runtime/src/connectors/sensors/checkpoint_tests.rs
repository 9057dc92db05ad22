//! Positions and restores of the sensors source, with and without `jitter`, rescaled and
//! restored twice: a stream read partly on N workers, restored on M and read partly,
//! restored on K and read to the end, holds each event of the uninterrupted stream once.

use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::{SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Record;

use super::*;

fn source(jitter: i64, worker: WorkerInfo) -> SensorsSource {
    let call = ConnectorCall {
        kind: "sensors".into(),
        args: vec![],
        options: vec![
            ("events".into(), OptionValue::Int(6_000)),
            ("devices".into(), OptionValue::Int(7)),
            ("rate".into(), OptionValue::Int(100)),
            ("jitter".into(), OptionValue::Duration(jitter)),
        ],
    };
    let schema = Schema::new(vec![
        Field::new("seq", Type::Int),
        Field::new("ts", Type::Timestamp),
    ]);
    let (config, measures) = SensorsConfig::with_schema(&call, &schema).expect("valid");
    SensorsSource::new(config, measures, worker)
}

/// Polls up to `limit` records (all with `None`).
fn take(source: &mut SensorsSource, limit: Option<usize>) -> Vec<Record> {
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    loop {
        let room = limit.map_or(97, |l| (l - out.len()).min(97));
        if room == 0
            || source.poll(&mut out, &mut bad, room).expect("poll") == SourceStatus::Finished
        {
            return out;
        }
    }
}

fn seqs(records: &[Record]) -> Vec<i64> {
    let mut out: Vec<i64> = records
        .iter()
        .map(|r| r[0].as_i64().expect("seq"))
        .collect();
    out.sort_unstable();
    out
}

/// Runs `workers` readers restored from `positions` (none: from the start), each reading
/// `limit(w)` records; returns what they read and their positions.
fn stage(
    jitter: i64,
    workers: usize,
    positions: &[SourcePosition],
    limit: impl Fn(usize) -> Option<usize>,
) -> (Vec<Record>, Vec<SourcePosition>) {
    let (mut output, mut next) = (Vec::new(), Vec::new());
    for w in 0..workers {
        let mut s = source(
            jitter,
            WorkerInfo {
                index: w,
                peers: workers,
            },
        );
        if !positions.is_empty() {
            s.seek(positions).expect("seek");
        }
        output.extend(take(&mut s, limit(w)));
        let bytes = s.position(1).expect("position").expect("resumable");
        next.push(SourcePosition {
            worker: w,
            workers,
            bytes,
        });
    }
    (output, next)
}

fn restore_twice(jitter: i64, (a, b, c): (usize, usize, usize)) {
    let everything = seqs(&take(
        &mut source(jitter, WorkerInfo { index: 0, peers: 1 }),
        None,
    ));
    assert_eq!(everything.len(), 6_000);
    // Uneven progress: each worker stopped at another place; the second stage stops
    // early, before some of its workers caught up with the first stage's.
    let (mut output, first) = stage(jitter, a, &[], |w| Some(400 * (w + 1)));
    let (part, second) = stage(jitter, b, &first, |w| Some(30 * w));
    output.extend(part);
    let (part, _) = stage(jitter, c, &second, |_| None);
    output.extend(part);
    assert_eq!(
        seqs(&output),
        everything,
        "jitter {jitter}: {a} → {b} → {c}"
    );
}

#[test]
fn restored_twice_on_any_number_of_workers_each_event_is_read_once() {
    for jitter in [0, 2_000] {
        for layout in [(1, 1, 1), (2, 2, 2), (3, 1, 2), (1, 4, 3), (4, 2, 1)] {
            restore_twice(jitter, layout);
        }
    }
}

#[test]
fn a_restored_reader_emits_the_rest_in_the_uninterrupted_order() {
    let one = WorkerInfo { index: 0, peers: 1 };
    let whole = take(&mut source(2_000, one), None);
    let mut s = source(2_000, one);
    let mut output = take(&mut s, Some(1_234));
    let bytes = s.position(1).expect("position").expect("resumable");
    let mut resumed = source(2_000, one);
    let at = [SourcePosition {
        worker: 0,
        workers: 1,
        bytes,
    }];
    resumed.seek(&at).expect("seek");
    output.extend(take(&mut resumed, None));
    assert_eq!(output, whole);
}

#[test]
fn a_position_of_another_layout_is_refused() {
    let mut s = source(0, WorkerInfo { index: 0, peers: 1 });
    let bad = [SourcePosition {
        worker: 0,
        workers: 1,
        bytes: vec![0; 16],
    }];
    let err = s.seek(&bad).expect_err("refused");
    assert!(err.to_string().contains("sensors position"), "{err}");
    assert!(
        err.to_string().contains("--fresh"),
        "says how to start over: {err}"
    );
}
