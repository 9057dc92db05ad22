//! Tests of CSV tables: loading, bad rows, and reloading in place.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::clock::TestClock;
use weir_engine::io::LookupTable;
use weir_engine::plan::{ConnectorCall, OptionValue, TableNode, TableRefresh};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

fn table_node(path: &Path, refresh: TableRefresh) -> (TableNode, CsvTableConfig) {
    let call = ConnectorCall {
        kind: KIND.into(),
        args: vec![OptionValue::Str(path.display().to_string())],
        options: vec![],
    };
    let config = CsvTableConfig::from_call(&call).expect("config");
    let node = TableNode {
        name: "devices".into(),
        connector: call,
        schema: Schema::new(vec![
            Field::new("site", Type::String),
            Field::new("device_id", Type::String),
            Field::nullable("limit", Type::Float),
        ]),
        key: 1,
        refresh,
    };
    (node, config)
}

type Warnings = Arc<Mutex<Vec<String>>>;

fn open(path: &Path, refresh: TableRefresh, clock: Arc<TestClock>) -> (CsvTable, Warnings) {
    let warnings: Warnings = Arc::default();
    let sink = Arc::clone(&warnings);
    let warn: Warn = Arc::new(move |m: &str| sink.lock().push(m.to_string()));
    let (node, config) = table_node(path, refresh);
    let table = CsvTable::open(&node, &config, clock, warn).expect("open");
    (table, warnings)
}

fn get(table: &CsvTable, key: &str) -> Option<Vec<Value>> {
    table.rows().get(&Value::str(key)).cloned()
}

#[test]
fn rows_load_by_key_with_the_other_fields_in_declaration_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    // Columns in any order; extra columns ignored.
    fs::write(
        &path,
        "device_id,extra,site,limit\nd1,x,north,70.5\nd2,y,south,\n",
    )
    .expect("write");
    let (table, warnings) = open(&path, TableRefresh::Never, Arc::new(TestClock::new(0)));
    assert_eq!(
        get(&table, "d1"),
        Some(vec![Value::str("north"), Value::Float(70.5)])
    );
    assert_eq!(
        get(&table, "d2"),
        Some(vec![Value::str("south"), Value::Null])
    );
    assert_eq!(get(&table, "d3"), None);
    assert!(warnings.lock().is_empty());
}

#[test]
fn bad_and_repeated_rows_are_reported_not_hidden() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    fs::write(
        &path,
        "device_id,site,limit\nd1,north,hot\nd2,south,1\nd2,east,2\n",
    )
    .expect("write");
    let (table, warnings) = open(&path, TableRefresh::Never, Arc::new(TestClock::new(0)));
    assert_eq!(get(&table, "d1"), None);
    assert_eq!(
        get(&table, "d2"),
        Some(vec![Value::str("east"), Value::Float(2.0)])
    );
    let warnings = warnings.lock();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("devices.csv:2, field `limit`")
            && warnings[0].contains("d1,north,hot"),
        "{warnings:?}"
    );
    assert!(warnings[1].contains("1 rows") && warnings[1].contains("the last one wins"));
}

#[test]
fn a_header_without_a_declared_field_fails_to_open() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    fs::write(&path, "device_id,limit\nd1,1\n").expect("write");
    let (node, config) = table_node(&path, TableRefresh::Never);
    let warn: Warn = Arc::new(|_: &str| {});
    let error = CsvTable::open(&node, &config, Arc::new(TestClock::new(0)), warn)
        .expect_err("site is missing");
    assert!(
        error.to_string().contains("no column for `site`"),
        "{error}"
    );
    let (node, config) = table_node(&tmp.path().join("none.csv"), TableRefresh::Never);
    let warn: Warn = Arc::new(|_: &str| {});
    let error =
        CsvTable::open(&node, &config, Arc::new(TestClock::new(0)), warn).expect_err("no file");
    assert!(
        error.to_string().contains("cannot open table file"),
        "{error}"
    );
}

#[test]
fn refresh_on_change_reloads_once_the_new_file_is_settled() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    fs::write(&path, "device_id,site,limit\nd1,north,1\n").expect("write");
    let clock = Arc::new(TestClock::new(0));
    let (table, warnings) = open(&path, TableRefresh::OnChange, Arc::clone(&clock));
    // A new version, written aside and renamed into place (longer, so it differs even
    // where modification times are coarse).
    let next = tmp.path().join("devices.csv.new");
    fs::write(&next, "device_id,site,limit\nd1,west,1\nd9,east,2\n").expect("write");
    fs::rename(&next, &path).expect("rename");
    assert_eq!(
        get(&table, "d1").expect("d1")[0],
        Value::str("north"),
        "not looked yet"
    );
    clock.advance_to(250);
    assert_eq!(
        get(&table, "d1").expect("d1")[0],
        Value::str("north"),
        "seen once"
    );
    clock.advance_to(499);
    assert_eq!(
        get(&table, "d1").expect("d1")[0],
        Value::str("north"),
        "too soon to look"
    );
    clock.advance_to(500);
    assert_eq!(
        get(&table, "d1").expect("d1")[0],
        Value::str("west"),
        "settled: reloaded"
    );
    assert!(get(&table, "d9").is_some());
    // A version that cannot be read keeps the previous rows.
    fs::write(&path, "device_id,limit\nd1,1\n").expect("write");
    clock.advance_to(750);
    get(&table, "d1");
    clock.advance_to(1000);
    assert_eq!(get(&table, "d1").expect("kept")[0], Value::str("west"));
    let warnings = warnings.lock();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("keeping the previous rows"),
        "{warnings:?}"
    );
}

#[test]
fn refresh_every_reloads_on_the_period() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    fs::write(&path, "device_id,site,limit\nd1,north,1\n").expect("write");
    let clock = Arc::new(TestClock::new(0));
    let (table, _) = open(&path, TableRefresh::Every(60_000), Arc::clone(&clock));
    fs::write(&path, "device_id,site,limit\nd1,south,1\n").expect("write");
    clock.advance_to(59_999);
    assert_eq!(get(&table, "d1").expect("d1")[0], Value::str("north"));
    clock.advance_to(60_000);
    assert_eq!(get(&table, "d1").expect("d1")[0], Value::str("south"));
}

#[test]
fn without_refresh_the_table_never_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("devices.csv");
    fs::write(&path, "device_id,site,limit\nd1,north,1\n").expect("write");
    let clock = Arc::new(TestClock::new(0));
    let (table, _) = open(&path, TableRefresh::Never, Arc::clone(&clock));
    fs::write(&path, "device_id,site,limit\nd1,south,1\nd2,x,1\n").expect("write");
    clock.advance_to(10_000_000);
    get(&table, "d1");
    assert_eq!(get(&table, "d1").expect("d1")[0], Value::str("north"));
}
