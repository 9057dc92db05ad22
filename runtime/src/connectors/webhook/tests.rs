//! Tests of the webhook sink against a local HTTP server: bodies, batching, headers,
//! retries that succeed, retries that give up, and options.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;

use super::*;
use crate::connectors::problem::Role;
use crate::connectors::validate;

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    body: String,
    headers: Vec<(String, String)>,
}

/// A local HTTP server answering the n-th request with `statuses[n]` (the last one
/// repeating), after `delay`; returns its URL and what it saw.
fn server(statuses: Vec<u16>, delay: Duration) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (n, mut request) in server.incoming_requests().enumerate() {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let headers = request
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect();
            log.lock().expect("lock").push(Seen { body, headers });
            std::thread::sleep(delay);
            let status = *statuses.get(n).or(statuses.last()).expect("a status");
            let _ = request.respond(
                tiny_http::Response::from_string(format!("answer {n}")).with_status_code(status),
            );
        }
    });
    (format!("http://127.0.0.1:{port}/hook"), seen)
}

fn call(url: &str, options: Vec<(&str, OptionValue)>) -> ConnectorCall {
    ConnectorCall {
        kind: "webhook".into(),
        args: vec![OptionValue::Str(url.into())],
        options: options
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    }
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
    ])
}

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            Event::new(
                i as i64,
                vec![Value::str(&format!("m{i}")), Value::Float(i as f64 + 0.5)],
            )
        })
        .collect()
}

fn sink(url: &str, options: Vec<(&str, OptionValue)>) -> WebhookSink {
    let config = WebhookConfig::from_call(&call(url, options)).expect("config");
    WebhookSink::open("notify", &config, &schema()).expect("open")
}

#[test]
fn each_record_is_posted_as_a_json_object_with_headers() {
    let (url, seen) = server(vec![200], Duration::ZERO);
    let sink = sink(
        &url,
        vec![(
            "headers",
            OptionValue::List(vec![
                OptionValue::Str("Authorization: Bearer t0k".into()),
                OptionValue::Str("X-Weir:  yes ".into()),
            ]),
        )],
    );
    sink.write(&events(3)).expect("write");
    sink.flush().expect("flush");
    assert_eq!(sink.delivered(), 3);
    assert_eq!(sink.failed(), 0);
    let seen = seen.lock().expect("lock").clone();
    let bodies: Vec<&str> = seen.iter().map(|s| s.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            r#"{"device_id":"m0","temp":0.5}"#,
            r#"{"device_id":"m1","temp":1.5}"#,
            r#"{"device_id":"m2","temp":2.5}"#
        ]
    );
    let header = |name: &str| {
        seen[0]
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("Authorization").as_deref(), Some("Bearer t0k"));
    assert_eq!(header("X-Weir").as_deref(), Some("yes"));
    assert_eq!(header("Content-Type").as_deref(), Some("application/json"));
}

#[test]
fn batches_are_json_arrays_of_at_most_batch_records() {
    let (url, seen) = server(vec![204], Duration::ZERO);
    let sink = sink(&url, vec![("batch", OptionValue::Int(2))]);
    sink.write(&events(5)).expect("write");
    assert_eq!(sink.delivered(), 5);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3);
    let arrays: Vec<serde_json::Value> = seen
        .iter()
        .map(|s| serde_json::from_str(&s.body).expect("JSON"))
        .collect();
    let sizes: Vec<usize> = arrays
        .iter()
        .map(|a| a.as_array().expect("array").len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(arrays[2][0]["device_id"], "m4");
}

#[test]
fn a_server_that_fails_twice_then_succeeds_gets_everything() {
    let (url, seen) = server(vec![503, 500, 200], Duration::ZERO);
    let sink = sink(
        &url,
        vec![
            ("retries", OptionValue::Int(3)),
            ("backoff", OptionValue::Duration(50)),
        ],
    );
    let started = Instant::now();
    sink.write(&events(1)).expect("write");
    // Waits 50ms, then 100ms: backoff doubles.
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!((sink.delivered(), sink.failed()), (1, 0));
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.body == seen[0].body));
}

#[test]
fn a_server_that_always_fails_is_counted_and_the_run_goes_on() {
    let (url, seen) = server(vec![500], Duration::ZERO);
    let sink = sink(
        &url,
        vec![
            ("retries", OptionValue::Int(2)),
            ("backoff", OptionValue::Duration(10)),
            ("batch", OptionValue::Int(10)),
        ],
    );
    sink.write(&events(4))
        .expect("failures do not stop the run");
    sink.flush().expect("flush");
    assert_eq!((sink.delivered(), sink.failed()), (0, 4));
    // One request, tried 1 + 2 times.
    assert_eq!(seen.lock().expect("lock").len(), 3);
    // Handed back one by one, whole, with why, for the pipeline's error route.
    let back = sink.take_undelivered();
    let raws: Vec<&str> = back.iter().map(|b| b.raw.as_str()).collect();
    assert_eq!(raws[1], r#"{"device_id":"m1","temp":1.5}"#);
    assert_eq!(back.len(), 4);
    assert!(back.iter().all(|b| b.source == "notify"
        && b.location == url
        && b.reason.starts_with("HTTP 500")
        && b.reason.ends_with("(after 3 attempts)")));
    assert!(sink.take_undelivered().is_empty(), "taken once");
}

#[test]
fn client_errors_are_not_retried() {
    let (url, seen) = server(vec![400], Duration::ZERO);
    let sink = sink(&url, vec![("backoff", OptionValue::Duration(10))]);
    sink.write(&events(1)).expect("write");
    assert_eq!(sink.failed(), 1);
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[test]
fn a_slow_server_times_out_and_an_absent_one_is_a_failure() {
    let (url, seen) = server(vec![200], Duration::from_millis(800));
    let sink = sink(
        &url,
        vec![
            ("timeout", OptionValue::Duration(200)),
            ("retries", OptionValue::Int(1)),
            ("backoff", OptionValue::Duration(10)),
        ],
    );
    sink.write(&events(1)).expect("write");
    assert_eq!(sink.failed(), 1);
    // The (one-at-a-time) server sees the retry once its first answer is done.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().expect("lock").len() < 2 {
        assert!(Instant::now() < deadline, "no retry reached the server");
        std::thread::sleep(Duration::from_millis(20));
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let sink = self::sink(
        &format!("http://127.0.0.1:{port}/"),
        vec![("retries", OptionValue::Int(0))],
    );
    sink.write(&events(2)).expect("write");
    assert_eq!(sink.failed(), 2);
}

#[test]
fn options_are_checked() {
    let problems: Vec<String> = validate(
        &call(
            "ftp://x",
            vec![
                ("batch", OptionValue::Int(0)),
                ("header", OptionValue::Str("A: b".into())),
                (
                    "headers",
                    OptionValue::List(vec![OptionValue::Str("nocolon".into())]),
                ),
                ("retries", OptionValue::Int(-1)),
                ("timeout", OptionValue::Int(5)),
            ],
        ),
        Role::Sink,
        None,
    )
    .into_iter()
    .map(|p| match p.help {
        Some(h) => format!("{} (help: {h})", p.message),
        None => p.message,
    })
    .collect();
    assert_eq!(
        problems,
        [
            "unknown option `header` for `webhook` (help: did you mean `headers`?)",
            "`ftp://x` is not an http(s) URL (help: write it as `\"http://host:port/path\"` or `\"https://…\"`)",
            "`batch` must be between 1 and 100000, found 0",
            "`***` is not a header (help: write each header as `\"Name: value\"`)",
            "option `timeout` expects a duration such as `10s`, found `5` (help: durations carry a unit: write `5s` or `5ms`)",
            "`retries` must be between 0 and 100, found -1",
        ]
    );
    let source = validate(&call("http://x", vec![]), Role::Source, None);
    assert!(source[0].message.contains("cannot be used as a source"));
    let config = WebhookConfig::from_call(&call("https://h/p", vec![])).expect("defaults");
    assert_eq!(
        (
            config.batch,
            config.timeout_ms,
            config.retries,
            config.backoff_ms
        ),
        (1, 10_000, 3, 500)
    );
}

#[test]
fn docs_describe_every_option() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/connectors.md"),
    )
    .expect("docs/connectors.md");
    let start = docs.find("## `webhook`").expect("a webhook section");
    let section = &docs[start..];
    for option in OPTIONS {
        assert!(
            section.contains(&format!("| `{}`", option.name)),
            "docs/connectors.md does not describe webhook option `{}`",
            option.name
        );
    }
}

/// `headers_env` sends the variable's value (kept out of the pipeline file); an unset
/// variable stops the sink from opening, naming the variable and the header.
#[test]
fn headers_env_reads_values_from_the_environment() {
    let (url, seen) = server(vec![200], Duration::ZERO);
    let variable = "WEIR_WEBHOOK_TEST_AUTH";
    std::env::set_var(variable, "Bearer from-env");
    let headers_env = |v: &str| {
        vec![(
            "headers_env",
            OptionValue::List(vec![OptionValue::Str(format!("Authorization: {v}"))]),
        )]
    };
    let sink = sink(&url, headers_env(variable));
    sink.write(&events(1)).expect("write");
    assert_eq!(sink.delivered(), 1);
    let seen = seen.lock().expect("lock").clone();
    let auth = seen[0]
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Authorization"))
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer from-env"));

    let config = WebhookConfig::from_call(&call(&url, headers_env("WEIR_WEBHOOK_TEST_UNSET")))
        .expect("config");
    let err = WebhookSink::open("notify", &config, &schema())
        .err()
        .expect("an unset variable is an error");
    assert_eq!(
        err.to_string(),
        IoError::Config(
            "`webhook`: environment variable `WEIR_WEBHOOK_TEST_UNSET` (for header \
             `Authorization`) is not set"
                .into()
        )
        .to_string()
    );
}

/// `ca_file` is read when the sink opens; it needs an `https://` url.
#[test]
fn ca_file_must_be_a_pem_file_for_an_https_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "no certificate here\n").expect("write");
    let ca =
        |path: &std::path::Path| vec![("ca_file", OptionValue::Str(path.display().to_string()))];
    let problems =
        WebhookConfig::from_call(&call("http://h/x", ca(&not_pem))).expect_err("http with ca_file");
    assert_eq!(problems[0].message, "`ca_file` needs an `https://` url");

    let open = |path: &std::path::Path| {
        let config = WebhookConfig::from_call(&call("https://h/x", ca(path))).expect("config");
        WebhookSink::open("notify", &config, &schema())
            .err()
            .expect("a bad ca_file is an error")
            .to_string()
    };
    assert!(
        open(&not_pem).contains("holds no PEM certificate"),
        "{}",
        open(&not_pem)
    );
    let missing = dir.path().join("missing.pem");
    assert!(
        open(&missing).contains("cannot read ca_file"),
        "{}",
        open(&missing)
    );
}

/// At-least-once under checkpoints: every request carries an `Idempotency-Key`, the
/// same on each retry and the same when a restored run sends the record again.
#[test]
fn requests_carry_an_idempotency_key_stable_across_retries_and_a_replay() {
    let (url, seen) = server(vec![503, 200], Duration::ZERO);
    let first = sink(&url, vec![("backoff", OptionValue::Duration(1))]);
    use weir_engine::io::SinkWriter as _;
    first.prepare_commit(1).expect("checkpoint 1");
    first.write(&events(3)).expect("write");
    // The crash; a new process restored from checkpoint 1 replays the same records.
    let replay = sink(&url, vec![("backoff", OptionValue::Duration(1))]);
    replay.restore(None).expect("restore");
    replay.write(&events(3)).expect("replay");
    let seen = seen.lock().expect("lock").clone();
    let key = |s: &Seen| {
        s.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Idempotency-Key"))
            .map(|(_, v)| v.clone())
            .expect("an Idempotency-Key header")
    };
    // The first request was refused once (503) and retried with the same key.
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(key(&seen[0]), key(&seen[1]));
    let sent: Vec<String> = seen[1..4].iter().map(key).collect();
    let again: Vec<String> = seen[4..7].iter().map(key).collect();
    assert_eq!(sent, again, "the replay repeats the keys");
    assert_eq!(
        sent.iter().collect::<std::collections::HashSet<_>>().len(),
        3,
        "one key per record"
    );
}
