//! Tests of the file source and sink: good and bad lines, exact output, round trips.

use std::fs;
use std::path::Path;

use weir_engine::event::Event;
use weir_engine::io::{BadRecord, IoError, SinkWriter, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::*;
use crate::connectors::sensors::{SensorsConfig, SensorsSource};
use crate::format::Format;

const ONE: WorkerInfo = WorkerInfo { index: 0, peers: 1 };

fn call(path: &Path, format: Option<&str>) -> ConnectorCall {
    ConnectorCall {
        kind: "file".into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: format
            .map(|f| ("format".to_string(), OptionValue::Ident(f.to_string())))
            .into_iter()
            .collect(),
    }
}

fn readings() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
        Field::new("ts", Type::Timestamp),
        Field::nullable("count", Type::Int),
    ])
}

fn read_all(path: &Path, schema: &Schema, worker: WorkerInfo) -> (Vec<Record>, Vec<BadRecord>) {
    let config = FileConfig::from_call(&call(path, None)).expect("config");
    let mut source = FileSource::open("readings", &config, schema, worker).expect("open");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for _ in 0..100_000 {
        if source.poll(&mut out, &mut bad, 2).expect("poll") == SourceStatus::Finished {
            return (out, bad);
        }
    }
    panic!("the source never finished");
}

fn rec(device: &str, temp: f64, ts: i64, count: Option<i64>) -> Record {
    vec![
        Value::str(device),
        Value::Float(temp),
        Value::Time(ts),
        count.map_or(Value::Null, Value::Int),
    ]
}

#[test]
fn jsonl_source_reads_good_lines_and_reports_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.jsonl");
    fs::write(
        &path,
        concat!(
            "{\"device_id\":\"a\",\"temp\":70.5,\"ts\":\"2024-05-01T10:00:05Z\",\"count\":3}\n",
            "\n",
            "{\"device_id\":\"b\",\"temp\":\"hot\",\"ts\":1}\n",
            "{\"device_id\":\"c\",\"temp\":1}\r\n",
            "{\"device_id\":\"d\",\"temp\":1,\"ts\":1,\"count\":2.5}\n",
            "{\"device_id\":\"e\",\"temp\":\n",
            "   \n",
            "{\"device_id\":\"f\",\"temp\":-3,\"ts\":1714557605000}",
        ),
    )
    .expect("write");
    let (records, bad) = read_all(&path, &readings(), ONE);
    assert_eq!(
        records,
        [
            rec("a", 70.5, 1_714_557_605_000, Some(3)),
            rec("f", -3.0, 1_714_557_605_000, None)
        ]
    );
    let location = |line: u32| format!("{}:{line}", path.display());
    let summary: Vec<(String, Option<&str>)> = bad
        .iter()
        .map(|b| (b.location.clone(), b.field.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (location(3), Some("temp")),
            (location(4), Some("ts")),
            (location(5), Some("count")),
            (location(6), None),
        ]
    );
    assert!(bad.iter().all(|b| b.source == "readings"));
    assert_eq!(bad[0].reason, "expected f64, found \"hot\"");
    assert_eq!(
        bad[0].raw,
        "{\"device_id\":\"b\",\"temp\":\"hot\",\"ts\":1}"
    );
    assert_eq!(bad[1].reason, "missing field `ts`");
    assert_eq!(bad[1].raw, "{\"device_id\":\"c\",\"temp\":1}");
    assert!(
        bad[3].reason.starts_with("invalid JSON"),
        "{}",
        bad[3].reason
    );
}

#[test]
fn invalid_utf8_is_a_bad_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.jsonl");
    fs::write(&path, b"{\"device_id\":\"\xff\"}\n").expect("write");
    let (records, bad) = read_all(&path, &readings(), ONE);
    assert!(records.is_empty());
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].reason, "the line is not valid UTF-8");
}

#[test]
fn only_worker_zero_reads_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.jsonl");
    fs::write(&path, "{\"device_id\":\"a\",\"temp\":1,\"ts\":1}\n").expect("write");
    let (records, _) = read_all(&path, &readings(), WorkerInfo { index: 0, peers: 2 });
    assert_eq!(records.len(), 1);
    let (records, _) = read_all(&path, &readings(), WorkerInfo { index: 1, peers: 2 });
    assert!(records.is_empty());
}

#[test]
fn a_missing_file_is_an_os_error_naming_it() {
    let config =
        FileConfig::from_call(&call(Path::new("no/such/file.jsonl"), None)).expect("config");
    let err = FileSource::open("readings", &config, &readings(), ONE)
        .map(|_| ())
        .expect_err("missing");
    assert!(matches!(err, IoError::Os { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot open source file `no/such/file.jsonl`: "),
        "{err}"
    );
}

#[test]
fn csv_source_matches_columns_and_reports_bad_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.csv");
    fs::write(
        &path,
        concat!(
            "ts,temp,device_id,count,unused\n",
            "2024-05-01T10:00:05Z,70.5,a,3,x\n",
            "1714557605000,\"-3\",\"f, g\",,y\n",
            "1,hot,b,1,z\n",
            "1,1,c\n",
            "\"multi\nline\",1,d,1,z\n",
            "1,2,e,,\n",
        ),
    )
    .expect("write");
    let (records, bad) = read_all(&path, &readings(), ONE);
    assert_eq!(
        records,
        [
            rec("a", 70.5, 1_714_557_605_000, Some(3)),
            rec("f, g", -3.0, 1_714_557_605_000, None),
            rec("e", 2.0, 1, None),
        ]
    );
    let summary: Vec<(String, Option<&str>)> = bad
        .iter()
        .map(|b| (b.location.clone(), b.field.as_deref()))
        .collect();
    let location = |line: u32| format!("{}:{line}", path.display());
    assert_eq!(
        summary,
        [
            (location(4), Some("temp")),
            (location(5), None),
            (location(6), Some("ts"))
        ]
    );
    assert_eq!(bad[0].raw, "1,hot,b,1,z");
    assert!(bad[1].reason.contains("3 cells"), "{}", bad[1].reason);
}

#[test]
fn csv_header_without_a_required_column_fails_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.csv");
    fs::write(&path, "device_id,temp\na,1\n").expect("write");
    let config = FileConfig::from_call(&call(&path, None)).expect("config");
    let err = FileSource::open("readings", &config, &readings(), ONE)
        .map(|_| ())
        .expect_err("header");
    assert!(err.to_string().contains("no column for `ts`"), "{err}");
    // An empty file is simply empty.
    fs::write(&path, "").expect("write");
    let (records, bad) = read_all(&path, &readings(), ONE);
    assert!(records.is_empty() && bad.is_empty());
}

fn windowed() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::nullable("avg_temp", Type::Float),
        Field::new("readings", Type::Int),
        Field::new("window.start", Type::Timestamp),
        Field::new("window.end", Type::Timestamp),
        Field::new("pane.timing", Type::String),
        Field::new("pane.index", Type::Int),
        Field::new("pane.final", Type::Bool),
    ])
}

fn windowed_events() -> Vec<Event> {
    let row = |device: &str, avg: Value, start: i64, timing: &str| {
        Event::new(
            start + 59_999,
            vec![
                Value::str(device),
                avg,
                Value::Int(2),
                Value::Time(start),
                Value::Time(start + 60_000),
                Value::str(timing),
                Value::Int(0),
                Value::Bool(true),
            ],
        )
    };
    vec![
        row("a", Value::Float(80.0), 1_714_557_600_000, "on_time"),
        row(
            "b\"x",
            Value::Float(f64::INFINITY),
            1_714_557_660_000,
            "late",
        ),
        row("c", Value::Null, 1_714_557_660_000, "early"),
    ]
}

fn write_sink(path: &Path, format: Option<&str>, schema: &Schema, batches: &[&[Event]]) {
    let config = FileConfig::from_call(&call(path, format)).expect("config");
    let sink = FileSink::open(&config, schema).expect("open sink");
    for batch in batches {
        sink.write(batch).expect("write");
    }
    sink.flush().expect("flush");
}

#[test]
fn jsonl_sink_nests_dotted_fields_and_formats_timestamps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep/er/out.jsonl");
    let events = windowed_events();
    write_sink(&path, None, &windowed(), &[&events[..1], &events[1..]]);
    let text = fs::read_to_string(&path).expect("read");
    assert_eq!(
        text,
        concat!(
            r#"{"device_id":"a","avg_temp":80.0,"readings":2,"window":{"start":"2024-05-01T10:00:00.000Z","end":"2024-05-01T10:01:00.000Z"},"pane":{"timing":"on_time","index":0,"final":true}}"#,
            "\n",
            r#"{"device_id":"b\"x","avg_temp":null,"readings":2,"window":{"start":"2024-05-01T10:01:00.000Z","end":"2024-05-01T10:02:00.000Z"},"pane":{"timing":"late","index":0,"final":true}}"#,
            "\n",
            r#"{"device_id":"c","avg_temp":null,"readings":2,"window":{"start":"2024-05-01T10:01:00.000Z","end":"2024-05-01T10:02:00.000Z"},"pane":{"timing":"early","index":0,"final":true}}"#,
            "\n",
        )
    );
}

#[test]
fn csv_sink_writes_a_header_and_rfc3339_timestamps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.txt");
    let events = windowed_events();
    write_sink(&path, Some("csv"), &windowed(), &[&events[..2]]);
    let text = fs::read_to_string(&path).expect("read");
    assert_eq!(
        text,
        concat!(
            "device_id,avg_temp,readings,window.start,window.end,pane.timing,pane.index,pane.final\n",
            "a,80,2,2024-05-01T10:00:00.000Z,2024-05-01T10:01:00.000Z,on_time,0,true\n",
            "\"b\"\"x\",inf,2,2024-05-01T10:01:00.000Z,2024-05-01T10:02:00.000Z,late,0,true\n",
        )
    );
}

#[test]
fn a_sink_that_cannot_be_created_names_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("file");
    fs::write(&blocker, "x").expect("write");
    let path = blocker.join("out.jsonl");
    let config = FileConfig::from_call(&call(&path, None)).expect("config");
    let err = FileSink::open(&config, &windowed())
        .map(|_| ())
        .expect_err("not a directory");
    assert!(matches!(err, IoError::Os { .. }));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

fn simulated(events: i64) -> (Schema, Vec<Record>) {
    let schema = Schema::new(vec![
        Field::new("seq", Type::Int),
        Field::new("device_id", Type::String),
        Field::new("ts", Type::Timestamp),
        Field::new("temp", Type::Float),
        Field::new("vibration", Type::Float),
        Field::new("power", Type::Float),
        Field::new("anomaly", Type::Bool),
    ]);
    let call = ConnectorCall {
        kind: "sensors".into(),
        args: vec![],
        options: vec![
            ("events".into(), OptionValue::Int(events)),
            ("jitter".into(), OptionValue::Duration(1_500)),
            ("anomaly_rate".into(), OptionValue::Float(0.05)),
        ],
    };
    let (config, measures) = SensorsConfig::with_schema(&call, &schema).expect("valid");
    let mut source = SensorsSource::new(config, measures, ONE);
    let mut records = Vec::new();
    while source
        .poll(&mut records, &mut Vec::new(), 1000)
        .expect("poll")
        != SourceStatus::Finished
    {}
    (schema, records)
}

#[test]
fn records_round_trip_through_jsonl_and_csv() {
    let (schema, records) = simulated(3_000);
    let events: Vec<Event> = records
        .iter()
        .map(|r| Event::new(r[2].as_i64().expect("ts"), r.clone()))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["out.jsonl", "out.csv"] {
        let path = dir.path().join(name);
        write_sink(&path, None, &schema, &[&events[..1000], &events[1000..]]);
        let (read, bad) = read_all(&path, &schema, ONE);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(read, records, "{name}");
    }
}

#[test]
fn config_takes_the_format_from_the_extension_or_the_option() {
    let config = FileConfig::from_call(&call(Path::new("a/b.ndjson"), None)).expect("config");
    assert_eq!(config.format, Format::Jsonl);
    let config =
        FileConfig::from_call(&call(Path::new("a/b.ndjson"), Some("csv"))).expect("config");
    assert_eq!(config.format, Format::Csv);
    let problems = FileConfig::from_call(&call(Path::new("b.txt"), None)).expect_err("no format");
    assert_eq!(problems[0].option.as_deref(), Some("format"));
    assert_eq!(
        problems[0].help.as_deref(),
        Some("add `format: jsonl` or `format: csv`")
    );
    let problems =
        FileConfig::from_call(&call(Path::new("b.txt"), Some("jsnl"))).expect_err("typo");
    assert_eq!(problems[0].message, "unknown format `jsnl`");
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `jsonl`?"));
    let named = ConnectorCall {
        kind: "file".into(),
        args: vec![],
        options: vec![("path".into(), OptionValue::Str("x.csv".into()))],
    };
    assert_eq!(
        FileConfig::from_call(&named).expect("config").format,
        Format::Csv
    );
    let empty = ConnectorCall {
        kind: "file".into(),
        args: vec![],
        options: vec![],
    };
    let problems = FileConfig::from_call(&empty).expect_err("no path");
    assert_eq!(problems[0].option.as_deref(), Some("path"));
    assert_eq!(problems[0].message, "`file` needs the argument `path`");
}

fn config_with(path: &Path, options: &[(&str, OptionValue)]) -> FileConfig {
    let mut c = call(path, None);
    c.options
        .extend(options.iter().map(|(n, v)| (n.to_string(), v.clone())));
    FileConfig::from_call(&c).expect("valid config")
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

fn poll_all(source: &mut dyn SourceReader) -> (Vec<Record>, SourceStatus) {
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    let mut status = SourceStatus::Ready;
    for _ in 0..100 {
        status = source.poll(&mut out, &mut bad, 16).expect("poll");
        if status != SourceStatus::Ready {
            break;
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
    (out, status)
}

#[test]
fn following_a_jsonl_file_reads_lines_as_they_are_completed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("live.jsonl");
    fs::write(
        &path,
        "{\"device_id\":\"a\",\"temp\":1.0,\"ts\":1}\n{\"device_id\":\"b\",\"temp\":2.0,\"ts\":2}\n{\"device_id\":\"c\",",
    )
    .expect("write");
    let config = config_with(&path, &[("follow", OptionValue::Bool(true))]);
    assert!(config.follow);
    let mut source = FileSource::open("live", &config, &readings(), ONE).expect("open");
    let (got, status) = poll_all(&mut source);
    assert_eq!(got, vec![rec("a", 1.0, 1, None), rec("b", 2.0, 2, None)]);
    assert_eq!(
        status,
        SourceStatus::Idle,
        "the end of a followed file is not the end"
    );
    // The writer finishes the half-written line and adds another.
    append(
        &path,
        "\"temp\":3.0,\"ts\":3}\n{\"device_id\":\"d\",\"temp\":4.0,\"ts\":4}\n",
    );
    let (got, status) = poll_all(&mut source);
    assert_eq!(got, vec![rec("c", 3.0, 3, None), rec("d", 4.0, 4, None)]);
    assert_eq!(status, SourceStatus::Idle);
    let (got, _) = poll_all(&mut source);
    assert!(got.is_empty());
}

#[test]
fn following_a_csv_file_waits_for_the_header_and_whole_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("live.csv");
    fs::write(&path, "").expect("write");
    let config = config_with(&path, &[("follow", OptionValue::Bool(true))]);
    let mut source = FileSource::open("live", &config, &readings(), ONE).expect("open");
    assert_eq!(poll_all(&mut source), (vec![], SourceStatus::Idle));
    append(
        &path,
        "device_id,temp,ts\r\na,1.5,2024-05-01 10:00:00\r\nb,2.",
    );
    assert_eq!(
        poll_all(&mut source),
        (
            vec![rec("a", 1.5, 1_714_557_600_000, None)],
            SourceStatus::Idle
        )
    );
    append(&path, "5,7\n\"c,d\",3,8\n");
    assert_eq!(
        poll_all(&mut source).0,
        vec![rec("b", 2.5, 7, None), rec("c,d", 3.0, 8, None)]
    );
    // A bad row is reported with its line and the source carries on.
    append(&path, "e,hot,9\nf,4,10\n");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    source.poll(&mut out, &mut bad, 16).expect("poll");
    assert_eq!(out, vec![rec("f", 4.0, 10, None)]);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].location.ends_with("live.csv:5"), "{:?}", bad[0]);
    assert_eq!(bad[0].field.as_deref(), Some("temp"));
}

#[test]
fn a_followed_file_that_is_truncated_is_read_again_from_the_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("live.jsonl");
    fs::write(
        &path,
        "{\"device_id\":\"a\",\"temp\":1.0,\"ts\":1}\n{\"device_id\":\"b\",\"temp\":2.0,\"ts\":2}\n{\"device_id\":\"c\",",
    )
    .expect("write");
    let config = config_with(&path, &[("follow", OptionValue::Bool(true))]);
    let mut source = FileSource::open("live", &config, &readings(), ONE).expect("open");
    assert_eq!(poll_all(&mut source).0.len(), 2);
    // `> live.jsonl`, then new lines: the half-read line is gone with the old content.
    fs::write(&path, "").expect("truncate");
    assert_eq!(poll_all(&mut source), (vec![], SourceStatus::Idle));
    append(
        &path,
        "{\"device_id\":\"z\",\"temp\":9.0,\"ts\":9}\nnot json\n",
    );
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    source.poll(&mut out, &mut bad, 16).expect("poll");
    assert_eq!(out, vec![rec("z", 9.0, 9, None)]);
    // Line numbers start again too.
    assert_eq!(bad.len(), 1);
    assert!(bad[0].location.ends_with("live.jsonl:2"), "{:?}", bad[0]);
}

#[test]
fn a_followed_file_replaced_by_a_new_one_is_finished_then_the_new_one_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("live.jsonl");
    let line = |d: &str, n: i64| format!("{{\"device_id\":\"{d}\",\"temp\":{n}.0,\"ts\":{n}}}\n");
    fs::write(&path, line("a", 1) + &line("b", 2)).expect("write");
    let config = config_with(&path, &[("follow", OptionValue::Bool(true))]);
    let mut source = FileSource::open("live", &config, &readings(), ONE).expect("open");
    assert_eq!(poll_all(&mut source).0.len(), 2);
    // The writer adds to the old file (its last line never finished), then the file is
    // rotated away and a new one created at the path.
    append(&path, &(line("c", 3) + line("d", 4).trim_end()));
    fs::rename(&path, tmp.path().join("live.jsonl.1")).expect("rotate");
    assert_eq!(
        poll_all(&mut source).0,
        vec![rec("c", 3.0, 3, None)],
        "the old file's complete lines; its last line may still be finished"
    );
    fs::write(&path, line("e", 5) + &line("f", 6)).expect("new file");
    assert_eq!(
        poll_all(&mut source),
        (
            vec![
                rec("d", 4.0, 4, None),
                rec("e", 5.0, 5, None),
                rec("f", 6.0, 6, None)
            ],
            SourceStatus::Idle
        )
    );
    append(&path, &line("g", 7));
    assert_eq!(poll_all(&mut source).0, vec![rec("g", 7.0, 7, None)]);
}

#[test]
fn a_followed_csv_file_reads_the_header_of_its_new_content() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("live.csv");
    fs::write(&path, "device_id,temp,ts\na,1.5,1\nb,2.5,2\n").expect("write");
    let config = config_with(&path, &[("follow", OptionValue::Bool(true))]);
    let mut source = FileSource::open("live", &config, &readings(), ONE).expect("open");
    assert_eq!(poll_all(&mut source).0.len(), 2);
    // Rotated: the new file orders its columns differently.
    fs::rename(&path, tmp.path().join("live.csv.1")).expect("rotate");
    fs::write(&path, "ts,temp,device_id\n3,3.5,c\n").expect("new file");
    assert_eq!(poll_all(&mut source).0, vec![rec("c", 3.5, 3, None)]);
    // Truncated, and written again with the first order.
    fs::write(&path, "").expect("truncate");
    assert!(poll_all(&mut source).0.is_empty());
    append(&path, "device_id,temp,ts\nd,4.5,4\n");
    assert_eq!(poll_all(&mut source).0, vec![rec("d", 4.5, 4, None)]);
}

#[test]
fn replay_options_are_checked() {
    let path = Path::new("in.csv");
    assert_eq!(
        config_with(path, &[("replay", OptionValue::Ident("60x".into()))]).replay,
        Replay::Speed(60.0)
    );
    assert_eq!(
        config_with(path, &[("replay", OptionValue::Ident("max".into()))]).replay,
        Replay::Max
    );
    assert_eq!(config_with(path, &[]).replay, Replay::Max);
    let mut c = call(path, None);
    c.options
        .push(("replay".into(), OptionValue::Ident("fast".into())));
    let problems = FileConfig::from_call(&c).expect_err("bad speed");
    assert!(problems[0]
        .to_string()
        .contains("`replay` takes a speed such as `60x` or `max`, found `fast`"));
    let mut sink = call(Path::new("out.jsonl"), None);
    sink.options
        .push(("follow".into(), OptionValue::Bool(true)));
    let problems = crate::connectors::validate(&sink, crate::connectors::Role::Sink, None);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].message.contains("`follow` is for file sources"));
}

#[test]
fn replay_releases_records_at_their_event_time_scaled() {
    use std::sync::Arc;
    use weir_engine::clock::TestClock;

    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("rec.csv");
    // One reading a minute, with one out of order.
    fs::write(
        &path,
        "device_id,temp,ts\na,1,60000\na,2,120000\na,3,90000\na,4,180000\n",
    )
    .expect("write");
    let config = config_with(&path, &[]);
    let inner = Box::new(FileSource::open("rec", &config, &readings(), ONE).expect("open"));
    let clock = Arc::new(TestClock::new(5_000));
    let mut paced = replay::PacedReader::new(inner, 2, 60.0, clock.clone());
    let temps = |(records, status): (Vec<Record>, SourceStatus)| {
        let t: Vec<f64> = records.iter().filter_map(|r| r[1].as_f64()).collect();
        (t, status)
    };
    // At 60x a minute of recording takes a second.
    assert_eq!(temps(poll_all(&mut paced)), (vec![1.0], SourceStatus::Idle));
    clock.advance_to(5_999);
    assert_eq!(temps(poll_all(&mut paced)), (vec![], SourceStatus::Idle));
    clock.advance_to(6_000);
    // The late reading (90 s) follows at once.
    assert_eq!(
        temps(poll_all(&mut paced)),
        (vec![2.0, 3.0], SourceStatus::Idle)
    );
    clock.advance_to(7_000);
    assert_eq!(
        temps(poll_all(&mut paced)),
        (vec![4.0], SourceStatus::Finished)
    );
}

/// The NAB corpus: `$WEIR_NAB_DIR`, or beside the repository (`../shared/data/nab`).
fn nab(file: &str) -> std::path::PathBuf {
    std::env::var_os("WEIR_NAB_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nab"),
            std::path::PathBuf::from,
        )
        .join(file)
}

#[test]
fn a_nab_series_reads_with_its_zone_less_timestamps() {
    let path = nab("realKnownCause/machine_temperature_system_failure.csv");
    assert!(path.exists(), "NAB data missing at {}", path.display());
    let schema = Schema::new(vec![
        Field::new("timestamp", Type::Timestamp),
        Field::new("value", Type::Float),
    ]);
    let config = FileConfig::from_call(&call(&path, None)).expect("config");
    let mut source = FileSource::open("nab", &config, &schema, ONE).expect("open");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while source.poll(&mut out, &mut bad, 4096).expect("poll") != SourceStatus::Finished {}
    assert!(bad.is_empty(), "{:?}", &bad[..bad.len().min(3)]);
    assert_eq!(out.len(), 22_695);
    // 2013-12-02 21:15:00 UTC, 73.96732207
    assert_eq!(
        out[0],
        vec![Value::Time(1_386_018_900_000), Value::Float(73.96732207)]
    );
    // The recording is in time order but for one step back (2014-01-07 02:55 → 02:00).
    let backwards = out
        .windows(2)
        .filter(|w| w[0][0].total_cmp(&w[1][0]).is_gt())
        .count();
    assert_eq!(backwards, 1);
}
