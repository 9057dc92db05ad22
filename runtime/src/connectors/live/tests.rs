use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

/// A sink that remembers how many records it was handed.
#[derive(Default)]
struct Counting(Mutex<usize>);

impl SinkWriter for Counting {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        *self.0.lock() += events.len();
        Ok(())
    }
    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
    ])
}

fn reading(device: &str, temp: f64) -> Event {
    Event::new(0, vec![Value::str(device), Value::Float(temp)])
}

#[test]
fn the_wrapped_sink_writes_and_viewers_get_each_record_as_json() {
    let inner = Arc::new(Counting::default());
    let feed = Arc::new(LiveFeed::records(2));
    let sink = LiveSink::new(inner.clone(), &schema(), Arc::clone(&feed));
    sink.write(&[reading("d1", 1.0), reading("d2", 2.0), reading("d3", 3.0)])
        .expect("write");
    let (kept, live) = feed.subscribe();
    // Only the last `keep` are kept for a later viewer.
    let kept: Vec<&str> = kept.iter().map(|s| &**s).collect();
    assert_eq!(
        kept,
        [
            r#"{"device_id":"d2","temp":2.0}"#,
            r#"{"device_id":"d3","temp":3.0}"#
        ]
    );
    sink.write(&[reading("d4", 4.5)]).expect("write");
    assert_eq!(
        &*live.try_recv().expect("live record"),
        r#"{"device_id":"d4","temp":4.5}"#
    );
    assert_eq!(*inner.0.lock(), 4);
    assert_eq!(feed.event(), "record");
}

#[test]
fn a_viewer_that_falls_behind_is_dropped_and_counted_without_blocking() {
    let feed = LiveFeed::records(10);
    let (_, slow) = feed.subscribe_with_backlog(2);
    let (_, fast) = feed.subscribe_with_backlog(100);
    for i in 0..5 {
        feed.publish(vec![Arc::from(format!("{{\"n\":{i}}}").as_str())]);
        // The fast viewer keeps up.
        assert!(fast.try_recv().is_ok());
    }
    assert_eq!(slow.len(), 2, "the slow viewer got what fit, then nothing");
    assert_eq!(feed.dropped_viewers(), 1);
    assert_eq!(feed.viewers(), 1);
}
