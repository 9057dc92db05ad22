//! Tests of workers sharing a JSON lines file by byte range: together the shares read
//! every line exactly once, in order, and bad lines keep their file line numbers.

use std::fs;
use std::path::Path;

use weir_engine::io::{BadRecord, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Record;

use super::{FileConfig, FileSource};

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
    ])
}

fn config(path: &Path) -> FileConfig {
    FileConfig::from_call(&ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: vec![("format".into(), OptionValue::Ident("jsonl".into()))],
    })
    .expect("config")
}

/// Reads every share of `path` for `peers` workers, one after the other.
fn read_shares(path: &Path, peers: usize) -> (Vec<Record>, Vec<BadRecord>) {
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for index in 0..peers {
        let worker = WorkerInfo { index, peers };
        let mut source =
            FileSource::open_share("r", &config(path), &schema(), worker, true).expect("open");
        while source.poll(&mut out, &mut bad, 3).expect("poll") != SourceStatus::Finished {}
    }
    (out, bad)
}

#[test]
fn shares_read_every_line_once_in_order_with_true_line_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.jsonl");
    let mut text = String::new();
    for i in 0..500 {
        // Lines of uneven length, CRLF and blank lines, and a bad line every 37.
        let pad = "x".repeat(i * 7 % 90);
        match i % 37 {
            5 => text.push_str(&format!("{{\"device_id\": \"d{i}\", \"temp\": \"hot\"}}\n")),
            9 => text.push('\n'),
            _ => text.push_str(&format!(
                "{{\"device_id\": \"d{i}{pad}\", \"temp\": {i}.5}}{}",
                if i % 3 == 0 { "\r\n" } else { "\n" }
            )),
        }
    }
    text.push_str("{\"device_id\": \"last\", \"temp\": 1.0}"); // no final newline
    fs::write(&path, &text).expect("write");

    let whole = read_shares(&path, 1);
    assert_eq!(whole.0.len(), 500 - 14 - 14 + 1);
    assert_eq!(whole.1.len(), 14);
    for peers in [2, 3, 4, 7, 64, 5000] {
        let shared = read_shares(&path, peers);
        assert_eq!(shared.0, whole.0, "records with {peers} workers");
        let locations =
            |bad: &[BadRecord]| bad.iter().map(|b| b.location.clone()).collect::<Vec<_>>();
        assert_eq!(
            locations(&shared.1),
            locations(&whole.1),
            "bad lines with {peers} workers"
        );
    }
    assert_eq!(whole.1[0].location, format!("{}:6", path.display()));
}

#[test]
fn a_csv_or_followed_file_is_not_shared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.csv");
    fs::write(&path, "device_id,temp\na,1.0\nb,2.0\n").expect("write");
    let csv = FileConfig::from_call(&ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: vec![],
    })
    .expect("config");
    assert!(!csv.shareable());
    let mut followed = config(&path);
    followed.follow = true;
    assert!(!followed.shareable());
    assert!(config(&path).shareable());
    // Not shareable: worker 0 reads it all even when asked to share.
    let worker = WorkerInfo { index: 1, peers: 2 };
    let mut other = FileSource::open_share("r", &csv, &schema(), worker, true).expect("open");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    assert_eq!(
        other.poll(&mut out, &mut bad, 10).expect("poll"),
        SourceStatus::Finished
    );
    assert!(out.is_empty());
}
