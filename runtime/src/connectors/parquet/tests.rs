//! Tests of the Parquet lake sink: options, partitions, rotation and atomic files, all
//! checked by reading the files back with the parquet crate.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMillisecondType, Float64Type, Int64Type, TimestampMillisecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use weir_engine::clock::TestClock;
use weir_engine::event::Event;
use weir_engine::io::SinkWriter;
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::config::parse_size;
use super::*;
use crate::connectors::{validate, Role};

/// 2024-05-01T10:00:00Z
pub(super) const T0: i64 = 1_714_557_600_000;
const HOUR: i64 = 3_600_000;

pub(super) fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::nullable("temp", Type::Float),
        Field::new("n", Type::Int),
        Field::new("ok", Type::Bool),
        Field::new("ts", Type::Timestamp),
        Field::nullable("gap", Type::Duration),
        Field::new("window.start", Type::Timestamp),
    ])
}

pub(super) fn rec(i: i64, ts: i64) -> Record {
    vec![
        Value::str(&format!("d{}", i % 3)),
        if i % 5 == 0 {
            Value::Null
        } else {
            Value::Float(i as f64 * 0.5)
        },
        Value::Int(i),
        Value::Bool(i % 2 == 0),
        Value::Time(ts),
        if i % 7 == 0 {
            Value::Null
        } else {
            Value::Duration(i * 10)
        },
        Value::Time(ts - ts % 60_000),
    ]
}

fn parquet_call(dir: &Path, options: Vec<(&str, OptionValue)>) -> ConnectorCall {
    ConnectorCall {
        kind: KIND.into(),
        args: vec![OptionValue::Str(dir.display().to_string())],
        options: options
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    }
}

pub(super) fn by_date_hour() -> (&'static str, OptionValue) {
    let call = |f: &str| OptionValue::Call {
        func: f.into(),
        args: vec![OptionValue::Ident("ts".into())],
    };
    (
        "partition_by",
        OptionValue::List(vec![call("date"), call("hour")]),
    )
}

pub(super) fn open(
    dir: &Path,
    options: Vec<(&str, OptionValue)>,
    clock: Arc<TestClock>,
) -> ParquetSink {
    let config = ParquetConfig::from_call(&parquet_call(dir, options)).expect("config");
    ParquetSink::open(&config, &schema(), 0, clock).expect("open")
}

/// Every file under `dir` (relative paths, sorted).
pub(super) fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if !is_lock(&p) {
                out.push(
                    p.strip_prefix(dir)
                        .expect("under dir")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    out.sort();
    out
}

/// The writer's lock file (`.weir-writer-0.lock`), which stays in the lake.
fn is_lock(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(".weir-writer-"))
}

/// The records of one Parquet file, decoded back into Weir values.
pub(super) fn read_back(path: &Path) -> Vec<Record> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open"))
        .expect("a valid Parquet file")
        .build()
        .expect("reader");
    let mut out = Vec::new();
    for batch in reader {
        out.extend(records_of(&batch.expect("batch")));
    }
    out
}

fn records_of(batch: &RecordBatch) -> Vec<Record> {
    (0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .map(|col| {
                    if col.is_null(row) {
                        return Value::Null;
                    }
                    match col.data_type() {
                        DataType::Utf8 => Value::str(col.as_string::<i32>().value(row)),
                        DataType::Float64 => {
                            Value::Float(col.as_primitive::<Float64Type>().value(row))
                        }
                        DataType::Int64 => Value::Int(col.as_primitive::<Int64Type>().value(row)),
                        DataType::Boolean => Value::Bool(col.as_boolean().value(row)),
                        DataType::Timestamp(TimeUnit::Millisecond, _) => {
                            Value::Time(col.as_primitive::<TimestampMillisecondType>().value(row))
                        }
                        DataType::Duration(TimeUnit::Millisecond) => Value::Duration(
                            col.as_primitive::<DurationMillisecondType>().value(row),
                        ),
                        other => panic!("unexpected column type {other}"),
                    }
                })
                .collect()
        })
        .collect()
}

pub(super) fn events(records: &[Record]) -> Vec<Event> {
    records.iter().map(|r| Event::new(0, r.clone())).collect()
}

#[test]
fn options_are_read_and_checked() {
    let dir = PathBuf::from("lake");
    let config = ParquetConfig::from_call(&parquet_call(
        &dir,
        vec![
            by_date_hour(),
            ("row_group_size", OptionValue::Int(1000)),
            (
                "rotate",
                OptionValue::List(vec![
                    OptionValue::Duration(300_000),
                    OptionValue::Ident("128MB".into()),
                ]),
            ),
        ],
    ))
    .expect("valid");
    assert_eq!(
        config.partition_by,
        vec![
            PartitionKey::Time {
                part: partition::TimePart::Date,
                field: "ts".into()
            },
            PartitionKey::Time {
                part: partition::TimePart::Hour,
                field: "ts".into()
            },
        ]
    );
    assert_eq!(config.row_group_size, 1000);
    assert_eq!(config.rotate_after_ms, Some(300_000));
    assert_eq!(config.rotate_bytes, Some(128_000_000));

    let problems = validate(
        &parquet_call(
            &dir,
            vec![
                (
                    "partition_by",
                    OptionValue::List(vec![OptionValue::Call {
                        func: "hours".into(),
                        args: vec![OptionValue::Ident("ts".into())],
                    }]),
                ),
                ("rotate", OptionValue::Int(5)),
                ("compresion", OptionValue::Ident("none".into())),
            ],
        ),
        Role::Sink,
        None,
    );
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 3, "{text:#?}");
    assert!(text[0].contains("did you mean `compression`?"), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.contains("unknown partition function `hours`")
                && t.contains("did you mean `hour(ts)`?")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("`rotate` takes a duration, a size")),
        "{text:#?}"
    );
    assert!(!validate(&parquet_call(&dir, vec![]), Role::Source, None).is_empty());
}

#[test]
fn sizes_parse_with_decimal_and_binary_units() {
    assert_eq!(parse_size("128MB"), Some(128_000_000));
    assert_eq!(parse_size("64KiB"), Some(65_536));
    assert_eq!(parse_size("1.5GB"), Some(1_500_000_000));
    assert_eq!(parse_size("512B"), Some(512));
    assert_eq!(parse_size("0MB"), None);
    assert_eq!(parse_size("12XB"), None);
    assert_eq!(parse_size("60x"), None);
}

#[test]
fn records_land_in_hive_partitions_and_read_back_equal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lake = tmp.path().join("lake");
    let sink = open(&lake, vec![by_date_hour()], Arc::new(TestClock::new(0)));
    // Three hours, crossing midnight: 2024-05-01T23 and 2024-05-02T00, 01.
    let input: Vec<Record> = (0..300)
        .map(|i| rec(i, T0 + 13 * HOUR + (i / 100) * HOUR + i))
        .collect();
    for chunk in input.chunks(37) {
        sink.write(&events(chunk)).expect("write");
    }
    sink.flush().expect("flush");
    assert_eq!(
        files(&lake),
        vec![
            "date=2024-05-01/hour=23/part-0-0.parquet",
            "date=2024-05-02/hour=00/part-0-1.parquet",
            "date=2024-05-02/hour=01/part-0-2.parquet",
        ]
    );
    let mut back = Vec::new();
    for f in files(&lake) {
        back.extend(read_back(&lake.join(f)));
    }
    assert_eq!(back, input);

    // The Arrow schema follows the pipeline's types, names and nullability.
    let file = File::open(lake.join("date=2024-05-01/hour=23/part-0-0.parquet")).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    let arrow = builder.schema();
    let fields: Vec<(String, DataType, bool)> = arrow
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    let utc = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    assert_eq!(
        fields,
        vec![
            ("device_id".into(), DataType::Utf8, false),
            ("temp".into(), DataType::Float64, true),
            ("n".into(), DataType::Int64, false),
            ("ok".into(), DataType::Boolean, false),
            ("ts".into(), utc.clone(), false),
            (
                "gap".into(),
                DataType::Duration(TimeUnit::Millisecond),
                true
            ),
            ("window_start".into(), utc, false),
        ]
    );
}

/// Column names of the first file under `dir`.
fn column_names(dir: &Path) -> Vec<String> {
    let name = files(dir).into_iter().next().expect("a file");
    let file = File::open(dir.join(name)).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn column_names_are_sql_friendly_unless_dotted_is_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (option, expected) in [(None, "window_start"), (Some("dotted"), "window.start")] {
        let dir = tmp.path().join(expected);
        let options = option
            .map(|w| vec![("column_names", OptionValue::Ident(w.into()))])
            .unwrap_or_default();
        let sink = open(&dir, options, Arc::new(TestClock::new(0)));
        sink.write(&events(&[rec(1, T0)])).expect("write");
        sink.flush().expect("flush");
        assert_eq!(
            column_names(&dir).last().map(String::as_str),
            Some(expected)
        );
    }
    // `window_start` beside `window.start` would be two columns of one name.
    let clash = Schema::new(vec![
        Field::new("window_start", Type::Timestamp),
        Field::new("window.start", Type::Timestamp),
    ]);
    let config =
        ParquetConfig::from_call(&parquet_call(&tmp.path().join("clash"), vec![])).expect("config");
    let err = ParquetSink::open(&config, &clash, 0, Arc::new(TestClock::new(0)))
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("would both be the column `window_start`"),
        "{err}"
    );
    let bad = ParquetConfig::from_call(&parquet_call(
        tmp.path(),
        vec![("column_names", OptionValue::Ident("doted".into()))],
    ))
    .expect_err("refused");
    assert!(
        format!("{bad:?}").contains("did you mean `dotted`"),
        "{bad:?}"
    );
}

#[test]
fn row_groups_follow_the_configured_size() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = open(
        tmp.path(),
        vec![("row_group_size", OptionValue::Int(100))],
        Arc::new(TestClock::new(0)),
    );
    let input: Vec<Record> = (0..250).map(|i| rec(i, T0 + i)).collect();
    sink.write(&events(&input)).expect("write");
    sink.flush().expect("flush");
    let path = tmp.path().join("part-0-0.parquet");
    let file = File::open(&path).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    let groups: Vec<i64> = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(groups, vec![100, 100, 50]);
    assert_eq!(read_back(&path), input);
}

#[test]
fn partitions_by_field_escape_values_and_name_nulls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let schema = Schema::new(vec![
        Field::nullable("site", Type::String),
        Field::new("v", Type::Int),
    ]);
    let config = ParquetConfig::from_call(&parquet_call(
        tmp.path(),
        vec![(
            "partition_by",
            OptionValue::List(vec![OptionValue::Ident("site".into())]),
        )],
    ))
    .expect("config");
    let sink = ParquetSink::open(&config, &schema, 0, Arc::new(TestClock::new(0))).expect("open");
    let rows = vec![
        vec![Value::str("north"), Value::Int(1)],
        vec![Value::str("../up/a=b"), Value::Int(2)],
        vec![Value::Null, Value::Int(3)],
    ];
    sink.write(&events(&rows)).expect("write");
    sink.flush().expect("flush");
    let mut dirs: Vec<String> = files(tmp.path())
        .into_iter()
        .map(|f| f.rsplit_once('/').expect("in a partition").0.to_string())
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        vec![
            "site=..%2Fup%2Fa%3Db",
            "site=__HIVE_DEFAULT_PARTITION__",
            "site=north"
        ]
    );
}

#[test]
fn a_partition_key_must_exist_and_date_needs_a_timestamp() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = |func: &str, field: &str| {
        let config = ParquetConfig::from_call(&parquet_call(
            tmp.path(),
            vec![(
                "partition_by",
                OptionValue::List(vec![OptionValue::Call {
                    func: func.into(),
                    args: vec![OptionValue::Ident(field.into())],
                }]),
            )],
        ))
        .expect("config");
        match ParquetSink::open(&config, &schema(), 0, Arc::new(TestClock::new(0))) {
            Ok(_) => panic!("opened with {func}({field})"),
            Err(e) => e.to_string(),
        }
    };
    let missing = bad("date", "time");
    assert!(
        missing.contains("`partition_by` names `time`") && missing.contains("device_id, temp"),
        "{missing}"
    );
    let not_time = bad("hour", "n");
    assert!(
        not_time.contains("`hour(n)` needs a timestamp field, but `n` is i64"),
        "{not_time}"
    );
}

#[test]
fn partition_fields_are_checked_against_the_records_with_suggestions() {
    use crate::connectors::sink_fields::{check_sink_fields, FieldIssue};
    let tmp = tempfile::tempdir().expect("tempdir");
    let call = |keys: Vec<OptionValue>| {
        parquet_call(tmp.path(), vec![("partition_by", OptionValue::List(keys))])
    };
    let time = |f: &str, field: &str| OptionValue::Call {
        func: f.into(),
        args: vec![OptionValue::Ident(field.into())],
    };
    let problems = check_sink_fields(
        &call(vec![
            time("date", "tss"),
            OptionValue::Ident("devce_id".into()),
            time("hour", "n"),
            OptionValue::Ident("zzz".into()),
            time("hour", "ts"),
        ]),
        &schema(),
    );
    let shown: Vec<(FieldIssue, String, Option<String>)> = problems
        .into_iter()
        .map(|(issue, p)| (issue, p.message, p.help))
        .collect();
    assert_eq!(
        shown,
        [
            (
                FieldIssue::Unknown,
                "`partition_by` names `tss`, which the records written here do not have".into(),
                Some("did you mean `date(ts)`?".into())
            ),
            (
                FieldIssue::Unknown,
                "`partition_by` names `devce_id`, which the records written here do not have"
                    .into(),
                Some("did you mean `device_id`?".into())
            ),
            (
                FieldIssue::WrongType,
                "`hour(n)` needs a timestamp field, but `n` is i64".into(),
                Some("use a timestamp field, e.g. `hour(ts)`, or partition by `n` itself".into())
            ),
            (
                FieldIssue::Unknown,
                "`partition_by` names `zzz`, which the records written here do not have".into(),
                Some(
                    "partition by a field the records have, or add it with a `map` stage \
                     before `to`"
                        .into()
                )
            ),
        ]
    );
}

#[test]
fn files_rotate_by_size() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = open(
        tmp.path(),
        vec![("rotate", OptionValue::Ident("2KB".into()))],
        Arc::new(TestClock::new(0)),
    );
    let input: Vec<Record> = (0..2000).map(|i| rec(i, T0 + i)).collect();
    for chunk in input.chunks(100) {
        sink.write(&events(chunk)).expect("write");
    }
    sink.flush().expect("flush");
    let names = files(tmp.path());
    assert!(names.len() >= 3, "expected several files, got {names:?}");
    let mut back = Vec::new();
    for i in 0..names.len() {
        back.extend(read_back(&tmp.path().join(format!("part-0-{i}.parquet"))));
    }
    assert_eq!(
        back, input,
        "every record exactly once, in order, across the files"
    );
}

#[test]
fn files_rotate_by_age_on_the_clock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(TestClock::new(1_000));
    let sink = open(
        tmp.path(),
        vec![("rotate", OptionValue::Duration(300_000))],
        Arc::clone(&clock),
    );
    sink.write(&events(&[rec(1, T0)])).expect("write");
    clock.advance_to(1_000 + 299_999);
    sink.write(&events(&[rec(2, T0 + 1)])).expect("write");
    assert_eq!(
        files(tmp.path()),
        vec![".part-0-0.parquet.inprogress"],
        "not old enough yet"
    );
    clock.advance_to(1_000 + 300_000);
    sink.write(&events(&[rec(3, T0 + 2)])).expect("write");
    assert_eq!(files(tmp.path()), vec!["part-0-0.parquet"]);
    assert_eq!(read_back(&tmp.path().join("part-0-0.parquet")).len(), 3);
    sink.write(&events(&[rec(4, T0 + 3)])).expect("write");
    sink.flush().expect("flush");
    assert_eq!(
        files(tmp.path()),
        vec!["part-0-0.parquet", "part-0-1.parquet"]
    );
    assert_eq!(
        read_back(&tmp.path().join("part-0-1.parquet")),
        vec![rec(4, T0 + 3)]
    );
}

#[test]
fn a_tick_closes_an_old_file_when_no_records_come() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(TestClock::new(1_000));
    let sink = open(
        tmp.path(),
        vec![by_date_hour(), ("rotate", OptionValue::Duration(300_000))],
        Arc::clone(&clock),
    );
    assert_eq!(
        sink.tick().expect("tick"),
        None,
        "nothing open, nothing due"
    );
    sink.write(&events(&[rec(1, T0)])).expect("write");
    clock.advance_to(61_000);
    sink.write(&events(&[rec(2, T0 + HOUR)])).expect("write");
    // The sink asks to be woken when the first file is due.
    assert_eq!(sink.tick().expect("tick"), Some(301_000));
    clock.advance_to(301_000);
    assert_eq!(sink.tick().expect("tick"), Some(361_000));
    assert_eq!(
        files(tmp.path()),
        vec![
            "date=2024-05-01/hour=10/part-0-0.parquet",
            "date=2024-05-01/hour=11/.part-0-1.parquet.inprogress"
        ]
    );
    clock.advance_to(400_000);
    assert_eq!(sink.tick().expect("tick"), None);
    assert_eq!(
        read_back(&tmp.path().join("date=2024-05-01/hour=11/part-0-1.parquet")),
        vec![rec(2, T0 + HOUR)]
    );
}

#[test]
fn an_unfinished_file_never_has_a_final_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let sink = open(
            tmp.path(),
            vec![by_date_hour()],
            Arc::new(TestClock::new(0)),
        );
        let input: Vec<Record> = (0..500).map(|i| rec(i, T0 + i)).collect();
        sink.write(&events(&input)).expect("write");
        // Dropped without flush: a crash before the file was closed.
    }
    let names = files(tmp.path());
    assert_eq!(
        names,
        vec!["date=2024-05-01/hour=10/.part-0-0.parquet.inprogress"]
    );
    assert!(names.iter().all(|n| !n.ends_with(".parquet")));

    // A later run adds files after the leftovers and never reuses their numbers.
    let sink = open(
        tmp.path(),
        vec![by_date_hour()],
        Arc::new(TestClock::new(0)),
    );
    sink.write(&events(&[rec(1, T0)])).expect("write");
    sink.flush().expect("flush");
    // The leftover of the crashed run is reclaimed when the lake is opened again.
    assert_eq!(
        files(tmp.path()),
        vec!["date=2024-05-01/hour=10/part-0-1.parquet"]
    );
}

#[test]
fn a_lake_writer_number_is_held_by_one_live_sink() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = open(tmp.path(), vec![], Arc::new(TestClock::new(0)));
    first.write(&events(&[rec(1, T0)])).expect("write");
    // A second live writer would take the first's `.inprogress` file for an orphan.
    let config = ParquetConfig::from_call(&ConnectorCall {
        kind: "parquet".into(),
        args: vec![OptionValue::Str(tmp.path().display().to_string())],
        options: vec![],
    })
    .expect("config");
    let second = ParquetSink::open(&config, &schema(), 0, Arc::new(TestClock::new(0)));
    let err = second.err().expect("refused").to_string();
    assert!(
        err.contains("is being written by another running weir"),
        "{err}"
    );
    assert_eq!(files(tmp.path()), vec![".part-0-0.parquet.inprogress"]);
    first.flush().expect("flush");
    drop(first);
    // Once it is closed, the lake can be opened again.
    ParquetSink::open(&config, &schema(), 0, Arc::new(TestClock::new(0))).expect("open");
}

#[test]
fn a_second_run_adds_files_instead_of_replacing_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for run in 0..2 {
        let sink = open(tmp.path(), vec![], Arc::new(TestClock::new(0)));
        sink.write(&events(&[rec(run, T0)])).expect("write");
        sink.flush().expect("flush");
    }
    assert_eq!(
        files(tmp.path()),
        vec!["part-0-0.parquet", "part-0-1.parquet"]
    );
    assert_eq!(
        read_back(&tmp.path().join("part-0-0.parquet")),
        vec![rec(0, T0)]
    );
    assert_eq!(
        read_back(&tmp.path().join("part-0-1.parquet")),
        vec![rec(1, T0)]
    );
}

/// `collect(x)` lists become Parquet LIST columns: written, read back with the parquet
/// crate, the same items in the same order; a null list stays null and `[]` stays empty.
#[test]
fn lists_are_parquet_list_columns() {
    use weir_engine::schema::ItemType;
    let schema = Schema::new(vec![
        Field::new("temps", Type::List(ItemType::Float)),
        Field::nullable("ids", Type::List(ItemType::String)),
    ]);
    let list = |items: Vec<Value>| Value::List(items.into());
    let records = [
        vec![
            list(vec![Value::Float(2.5), Value::Float(1.0)]),
            list(vec![Value::str("a")]),
        ],
        vec![list(Vec::new()), Value::Null],
    ];
    let arrow = columns::arrow_schema(&schema, super::config::ColumnNames::Underscore)
        .expect("distinct columns");
    let rows: Vec<&Record> = records.iter().collect();
    let batch = columns::record_batch(&schema, &arrow, &rows).expect("a batch");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lists.parquet");
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        File::create(&path).expect("create"),
        Arc::clone(&arrow),
        None,
    )
    .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    let back = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).expect("open"))
        .expect("a valid Parquet file")
        .build()
        .expect("reader")
        .next()
        .expect("one batch")
        .expect("readable");
    assert_eq!(
        back.schema().field(0).data_type(),
        arrow.field(0).data_type()
    );
    let temps = back.column(0).as_list::<i32>();
    let first = temps.value(0);
    assert_eq!(
        first.as_primitive::<Float64Type>().values().to_vec(),
        vec![2.5, 1.0]
    );
    assert_eq!(temps.value(1).len(), 0);
    let ids = back.column(1).as_list::<i32>();
    assert_eq!(ids.value(0).as_string::<i32>().value(0), "a");
    assert!(ids.is_null(1));
}
