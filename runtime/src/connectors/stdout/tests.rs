//! Tests of the stdout sink, writing to a captured buffer.

use std::io::{self, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::event::Event;
use weir_engine::io::SinkWriter;
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn call(options: Vec<(String, OptionValue)>) -> ConnectorCall {
    ConnectorCall {
        kind: "stdout".into(),
        args: vec![],
        options,
    }
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::String),
        Field::new("window.start", Type::Timestamp),
        Field::new("gap", Type::Duration),
    ])
}

fn events() -> Vec<Event> {
    vec![Event::new(
        0,
        vec![Value::str("a"), Value::Time(0), Value::Duration(10_000)],
    )]
}

#[test]
fn prints_json_lines_by_default() {
    let config = StdoutConfig::from_call(&call(vec![])).expect("config");
    let captured = Captured::default();
    let sink = StdoutSink::with_writer(&config, &schema(), Box::new(captured.clone()));
    sink.write(&events()).expect("write");
    sink.write(&events()).expect("write");
    sink.flush().expect("flush");
    let line = r#"{"k":"a","window":{"start":"1970-01-01T00:00:00.000Z"},"gap":"10s"}"#;
    assert_eq!(
        String::from_utf8(captured.0.lock().clone()).expect("utf8"),
        format!("{line}\n{line}\n")
    );
}

#[test]
fn prints_csv_with_one_header() {
    let format = vec![("format".to_string(), OptionValue::Ident("csv".into()))];
    let config = StdoutConfig::from_call(&call(format)).expect("config");
    let captured = Captured::default();
    let sink = StdoutSink::with_writer(&config, &schema(), Box::new(captured.clone()));
    sink.write(&events()).expect("write");
    sink.write(&events()).expect("write");
    assert_eq!(
        String::from_utf8(captured.0.lock().clone()).expect("utf8"),
        "k,window.start,gap\na,1970-01-01T00:00:00.000Z,10s\na,1970-01-01T00:00:00.000Z,10s\n"
    );
}

#[test]
fn rejects_options_it_does_not_know() {
    let problems = StdoutConfig::from_call(&call(vec![(
        "fromat".to_string(),
        OptionValue::Ident("csv".into()),
    )]))
    .expect_err("unknown option");
    assert_eq!(problems[0].message, "unknown option `fromat` for `stdout`");
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `format`?"));
}
