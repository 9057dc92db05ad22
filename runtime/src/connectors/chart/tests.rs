use weir_engine::event::Event;
use weir_engine::io::SinkWriter;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("window.end", Type::Timestamp),
        Field::new("avg_temp", Type::Float),
    ])
}

fn config(keep: usize) -> ChartConfig {
    ChartConfig {
        x: "window.end".into(),
        y: "avg_temp".into(),
        series: Some("device_id".into()),
        kind: ChartKind::Line,
        keep,
    }
}

fn point(device: &str, end_ms: i64, temp: f64) -> Event {
    Event::new(
        end_ms - 1,
        vec![Value::str(device), Value::Time(end_ms), Value::Float(temp)],
    )
}

#[test]
fn records_become_points_that_viewers_receive() {
    let (sink, feed) = ChartSink::new(&config(2), &schema()).expect("sink");
    sink.write(&[point("d1", 60_000, 20.5)]).expect("write");
    let (before, live) = feed.subscribe();
    assert_eq!(&*before[0], r#"{"series":"d1","x":60.0,"y":20.5}"#);
    sink.write(&[point("d2", 60_000, 21.0), point("d1", 120_000, f64::NAN)])
        .expect("write");
    assert_eq!(
        &*live.try_recv().expect("a live point"),
        r#"{"series":"d2","x":60.0,"y":21.0}"#
    );
    assert!(live.try_recv().is_err(), "NaN is not plotted");
    sink.write(&[point("d1", 180_000, 22.0)]).expect("write");
    let kept: Vec<String> = feed.recent().iter().map(|p| p.to_string()).collect();
    assert_eq!(kept.len(), 2, "keep: 2");
    assert!(kept[1].contains("\"x\":180.0"), "{kept:?}");
}

#[test]
fn fields_must_exist_and_be_plottable() {
    let mut bad = config(10);
    bad.y = "device_id".into();
    bad.series = Some("nope".into());
    let problems = bad.field_problems(&schema());
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("cannot be plotted"));
    assert!(messages[1].contains("no field `nope`"));
    assert!(config(10).field_problems(&schema()).is_empty());
}
