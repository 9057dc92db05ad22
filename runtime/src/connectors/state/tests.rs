use std::sync::Arc;

use weir_engine::event::Event;
use weir_engine::io::SinkWriter;
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
    ])
}

fn reading(time: i64, device: &str, temp: f64) -> Event {
    Event::new(time, vec![Value::str(device), Value::Float(temp)])
}

fn config(ttl_ms: Option<i64>) -> StateConfig {
    StateConfig {
        key: "device_id".into(),
        ttl_ms,
        path: None,
    }
}

fn temp_of(store: &LatestStore, key: &str) -> Option<f64> {
    let entry = store.get(key)?;
    let json: serde_json::Value = serde_json::from_str(&entry.json).expect("json");
    json["temp"].as_f64()
}

#[test]
fn keeps_the_latest_by_event_time_not_arrival() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        LatestStore::open(&config(None), &dir.path().join("s.redb"), &schema()).expect("open");
    store
        .write(&[
            reading(10, "d1", 1.0),
            reading(5, "d1", 2.0),
            reading(7, "d2", 3.0),
        ])
        .expect("write");
    store.write(&[reading(9, "d1", 4.0)]).expect("write");
    assert_eq!(
        temp_of(&store, "d1"),
        Some(1.0),
        "older records never replace newer ones"
    );
    assert_eq!(temp_of(&store, "d2"), Some(3.0));
    store.write(&[reading(10, "d1", 5.0)]).expect("write");
    assert_eq!(
        temp_of(&store, "d1"),
        Some(5.0),
        "an equal time is a newer arrival"
    );
    assert_eq!(store.get("d3"), None);
}

#[test]
fn a_restart_serves_the_last_values_from_disk() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nested/s.redb");
    {
        let store = LatestStore::open(&config(None), &path, &schema()).expect("open");
        store
            .write(&[reading(10, "d1", 1.5), reading(11, "d2", 2.5)])
            .expect("write");
        store.flush().expect("flush");
    }
    let again = LatestStore::open(&config(None), &path, &schema()).expect("reopen");
    assert_eq!(again.len(), 2);
    assert_eq!(temp_of(&again, "d1"), Some(1.5));
    assert_eq!(again.get("d2").map(|e| e.event_time), Some(11));
}

/// A run killed while creating the store leaves at most a half-made `.new` file; the
/// next run makes a new store and never opens the half-made one.
#[test]
fn a_store_half_made_by_a_killed_run_is_made_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let half = dir.path().join("s.redb.new");
    std::fs::write(&half, vec![0u8; 1 << 20]).expect("write");
    let store = LatestStore::open(&config(None), &path, &schema()).expect("open");
    store.write(&[reading(5, "a", 1.5)]).expect("write");
    store.flush().expect("flush");
    drop(store);
    assert!(!half.exists(), "the half-made file is gone");
    let again = LatestStore::open(&config(None), &path, &schema()).expect("reopen");
    assert_eq!(temp_of(&again, "a"), Some(1.5));
}

#[test]
fn ttl_forgets_keys_not_updated_in_event_time() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        LatestStore::open(&config(Some(100)), &dir.path().join("s.redb"), &schema()).expect("open");
    store
        .write(&[reading(1000, "old", 1.0), reading(1050, "mid", 2.0)])
        .expect("write");
    store.write(&[reading(1120, "new", 3.0)]).expect("write");
    assert_eq!(
        store.get("old"),
        None,
        "1000 is more than 100 ms behind 1120"
    );
    assert_eq!(temp_of(&store, "mid"), Some(2.0));
    assert_eq!(store.len(), 2);
}

#[test]
fn pages_by_prefix_in_key_order() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        LatestStore::open(&config(None), &dir.path().join("s.redb"), &schema()).expect("open");
    let events: Vec<Event> = ["a1", "b1", "b2", "b3", "c1"]
        .iter()
        .map(|k| reading(1, k, 0.0))
        .collect();
    store.write(&events).expect("write");
    let keys = |p: &Page| p.entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let first = store.page("b", None, 2);
    assert_eq!(keys(&first), ["b1", "b2"]);
    assert_eq!(first.next.as_deref(), Some("b2"));
    let second = store.page("b", first.next.as_deref(), 2);
    assert_eq!(keys(&second), ["b3"]);
    assert_eq!(second.next, None);
    assert_eq!(keys(&store.page("", None, 10)).len(), 5);
}

#[test]
fn the_key_option_is_required_and_checked_against_the_records() {
    let call = |options: Vec<(&str, OptionValue)>| ConnectorCall {
        kind: KIND.into(),
        args: vec![],
        options: options
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    };
    assert!(StateConfig::from_call(&call(vec![])).is_err());
    let config = StateConfig::from_call(&call(vec![("key", OptionValue::Ident("device".into()))]))
        .expect("config");
    let problems = config.field_problems(&schema());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("no field `device`"),
        "{problems:?}"
    );
    let stores = StateStores::default();
    let dir = tempfile::tempdir().expect("dir");
    let open = LatestStore::open(&config, &dir.path().join("x.redb"), &schema());
    assert!(open.is_err(), "a missing key field is refused at open too");
    let store = Arc::new(
        LatestStore::open(&self::config(None), &dir.path().join("y.redb"), &schema())
            .expect("open"),
    );
    stores.insert("latest", store);
    assert!(stores.get("latest").is_some());
}
