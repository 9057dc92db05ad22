//! Input a file source refuses instead of believing: open quotes, lines past `max_line`,
//! non-finite numbers and impossible times. Each goes to the rejects with its line and
//! reason, and the records after it are still read.

use std::fs;
use std::path::Path;

use weir_engine::io::{BadRecord, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::*;
use crate::connectors::raw_excerpt::RAW_LIMIT;

const ONE: WorkerInfo = WorkerInfo { index: 0, peers: 1 };

fn meters() -> Schema {
    Schema::new(vec![
        Field::new("meter", Type::String),
        Field::new("kwh", Type::Float),
    ])
}

fn read(path: &Path, options: &[(&str, OptionValue)]) -> (Vec<Record>, Vec<BadRecord>) {
    let call = ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    };
    let config = FileConfig::from_call(&call).expect("config");
    let mut source = FileSource::open("meters", &config, &meters(), ONE).expect("open");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while source.poll(&mut out, &mut bad, 64).expect("poll") != SourceStatus::Finished {}
    (out, bad)
}

fn meter_names(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r[0] {
            Value::Str(s) => s.to_string(),
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

#[test]
fn an_unterminated_quote_costs_one_row_not_the_rest_of_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("in.csv");
    fs::write(
        &path,
        "meter,kwh\nm1,1.5\n\"m2\nstill m2\",2.0\n\"m3,3.0\nm4,4.0\nm5,5.0\n",
    )
    .expect("write");
    let (out, bad) = read(&path, &[]);
    // A quoted field may still hold a line break (m2); only the stray quote's row is lost.
    assert_eq!(meter_names(&out), ["m1", "m2\nstill m2", "m4", "m5"]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].location, format!("{}:5", path.display()));
    assert_eq!(
        bad[0].reason,
        "unterminated quote from line 5: no closing `\"` before the end of the file"
    );
    assert_eq!(bad[0].raw, "\"m3,3.0");
}

#[test]
fn a_stray_quote_closed_by_a_later_one_is_still_reported_where_it_opened() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("in.csv");
    // Line 3's quote never closes its field; line 6 opens a quoted field of its own.
    let text = "meter,kwh\nm1,1.5\n\"m2,2.0\nm3,3.0\nm4,4.0\n\"m5\",5.0\nm6,6.0\n";
    fs::write(&path, text).expect("write");
    let (out, bad) = read(&path, &[]);
    assert_eq!(meter_names(&out), ["m1", "m3", "m4", "m5", "m6"]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].location, format!("{}:3", path.display()));
    assert_eq!(
        bad[0].reason,
        "unterminated quote from line 3: no closing `\"` on its line (the `\"` on line 6 closes no valid row)"
    );
}

#[test]
fn an_open_quote_is_given_up_after_max_line_bytes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("in.csv");
    let mut text = "meter,kwh\n\"m0,1.0\n".to_string();
    for i in 1..=200 {
        text.push_str(&format!("m{i},{i}.5\n"));
    }
    fs::write(&path, text).expect("write");
    let max = ("max_line", OptionValue::Ident("1KB".into()));
    let (out, bad) = read(&path, &[max]);
    assert_eq!(out.len(), 200, "every row after the stray quote is read");
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].reason.starts_with(
            "unterminated quote from line 2: no closing `\"` within `max_line` (1000 bytes)"
        ),
        "{}",
        bad[0].reason
    );
}

#[test]
fn a_line_longer_than_max_line_is_rejected_with_its_start_only() {
    let dir = tempfile::tempdir().expect("dir");
    for (name, header) in [("in.jsonl", ""), ("in.csv", "meter,kwh\n")] {
        let path = dir.path().join(name);
        let good = if header.is_empty() {
            "{\"meter\": \"m1\", \"kwh\": 1.5}\n"
        } else {
            "m1,1.5\n"
        };
        // 3 MiB without a newline, then a good record (for CSV: a field of 3 MiB).
        let huge = "x".repeat(3 << 20);
        fs::write(&path, format!("{header}{good}{huge}\n{good}")).expect("write");
        let (out, bad) = read(&path, &[]);
        assert_eq!(
            out.len(),
            2,
            "{name}: the records around the long line are kept"
        );
        assert_eq!(bad.len(), 1, "{name}");
        let line = if header.is_empty() { 2 } else { 3 };
        assert_eq!(bad[0].location, format!("{}:{line}", path.display()));
        assert_eq!(
            bad[0].reason,
            "the line is 3145728 bytes, longer than `max_line` (1048576 bytes); only its start is kept in `raw`",
            "{name}"
        );
        assert!(bad[0].raw.len() <= RAW_LIMIT + 3, "{name}: raw is capped");
    }
}

#[test]
fn max_line_takes_a_size() {
    let call = |v: OptionValue| ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str("in.csv".into())],
        options: vec![("max_line".into(), v)],
    };
    let ok = FileConfig::from_call(&call(OptionValue::Ident("64KiB".into()))).expect("ok");
    assert_eq!(ok.max_line, 65_536);
    let default = FileConfig::from_call(&ConnectorCall {
        options: Vec::new(),
        ..call(OptionValue::Int(1))
    })
    .expect("ok");
    assert_eq!(default.max_line, 1 << 20);
    let problems = FileConfig::from_call(&call(OptionValue::Int(5))).expect_err("a bare number");
    assert_eq!(problems[0].option.as_deref(), Some("max_line"));
}

#[test]
fn non_finite_numbers_are_refused_like_json_refuses_them() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("in.csv");
    fs::write(
        &path,
        "meter,kwh\nm1,NaN\nm2,inf\nm3,1e400\nm4,-infinity\nm5,2.5\n",
    )
    .expect("write");
    let (out, bad) = read(&path, &[]);
    assert_eq!(out, vec![vec![Value::str("m5"), Value::Float(2.5)]]);
    assert_eq!(bad.len(), 4);
    for b in &bad {
        assert_eq!(b.field.as_deref(), Some("kwh"));
        assert!(
            b.reason.starts_with("expected a finite f64"),
            "{}",
            b.reason
        );
    }
}
