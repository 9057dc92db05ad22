//! Positions and restores of the Nexmark source, rescaled: a stream read partly on N
//! workers, then restored on M and read to the end, is the uninterrupted stream on one
//! worker, each event once.

use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::{SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Record;

use super::*;

fn source(kind: &str, worker: WorkerInfo) -> NexmarkSource {
    let call = ConnectorCall {
        kind: "nexmark".into(),
        args: vec![],
        options: vec![
            ("kind".into(), OptionValue::Ident(kind.into())),
            ("events".into(), OptionValue::Int(20_000)),
            ("seed".into(), OptionValue::Int(7)),
        ],
    };
    let key = if kind == "bid" { "auction" } else { "id" };
    let schema = Schema::new(vec![
        Field::new("date_time", Type::Timestamp),
        Field::new(key, Type::Int),
    ]);
    let (config, columns) = NexmarkSourceConfig::with_schema(&call, &schema).expect("valid");
    NexmarkSource::new(&config, columns, worker)
}

/// Polls up to `limit` records (all with `None`).
fn take(source: &mut NexmarkSource, limit: Option<usize>) -> Vec<Record> {
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

fn sorted(mut records: Vec<Record>) -> Vec<String> {
    let mut out: Vec<String> = records.drain(..).map(|r| format!("{r:?}")).collect();
    out.sort();
    out
}

fn rescale(kind: &str, old: usize, new: usize) {
    let golden = sorted(take(
        &mut source(kind, WorkerInfo { index: 0, peers: 1 }),
        None,
    ));
    let mut output = Vec::new();
    let mut positions = Vec::new();
    for w in 0..old {
        let mut s = source(
            kind,
            WorkerInfo {
                index: w,
                peers: old,
            },
        );
        // Uneven progress: each old worker stopped at another place.
        output.extend(take(&mut s, Some(150 * (w + 1))));
        let bytes = s.position(1).expect("position").expect("resumable");
        positions.push(SourcePosition {
            worker: w,
            workers: old,
            bytes,
        });
    }
    for w in 0..new {
        let mut s = source(
            kind,
            WorkerInfo {
                index: w,
                peers: new,
            },
        );
        s.seek(&positions).expect("seek");
        output.extend(take(&mut s, None));
    }
    assert_eq!(sorted(output), golden, "{kind}: {old} → {new} workers");
}

#[test]
fn a_restore_on_any_number_of_workers_reads_each_event_once() {
    for kind in ["bid", "auction", "person"] {
        for (old, new) in [(1, 1), (2, 2), (2, 3), (3, 1), (4, 2)] {
            rescale(kind, old, new);
        }
    }
}

#[test]
fn a_position_from_another_version_is_refused() {
    let mut s = source("bid", WorkerInfo { index: 0, peers: 1 });
    let bad = [SourcePosition {
        worker: 0,
        workers: 1,
        bytes: vec![1, 2, 3],
    }];
    let err = s.seek(&bad).expect_err("refused");
    assert!(err.to_string().contains("nexmark position"), "{err}");
    let missing = [SourcePosition {
        worker: 0,
        workers: 2,
        bytes: 5u64.to_le_bytes().to_vec(),
    }];
    let err = s.seek(&missing).expect_err("refused");
    assert!(err.to_string().contains("lacks"), "{err}");
}

/// Positions of `workers` readers restored from `positions` (none: from the start), each
/// reading `limit(w)` records, and what they read.
fn stage(
    kind: &str,
    workers: usize,
    positions: &[SourcePosition],
    limit: impl Fn(usize) -> Option<usize>,
) -> (Vec<Record>, Vec<SourcePosition>) {
    let (mut output, mut next) = (Vec::new(), Vec::new());
    for w in 0..workers {
        let worker = WorkerInfo {
            index: w,
            peers: workers,
        };
        let mut s = source(kind, worker);
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

/// Restored, then cut again before some workers caught up (one of them before its first
/// poll), then restored again: each event once.
#[test]
fn a_reader_cut_again_before_it_caught_up_forgets_nothing() {
    let one = WorkerInfo { index: 0, peers: 1 };
    for kind in ["bid", "person"] {
        let golden = sorted(take(&mut source(kind, one), None));
        for (a, b, c) in [(2, 2, 2), (3, 2, 4), (1, 3, 1)] {
            let (mut output, first) = stage(kind, a, &[], |w| Some(150 * (w + 1)));
            let (part, second) = stage(kind, b, &first, |w| Some(20 * w));
            output.extend(part);
            output.extend(stage(kind, c, &second, |_| None).0);
            assert_eq!(sorted(output), golden, "{kind}: {a} → {b} → {c} workers");
        }
    }
}
