//! Tests of the Nexmark source: the worker split, agreement with the generator, and the
//! checks `weir check` relies on.

use weir_engine::io::{SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};
use weir_nexmark::{Event, Generator};

use super::*;
use crate::connectors::{validate, Role};

fn call(options: &[(&str, OptionValue)]) -> ConnectorCall {
    ConnectorCall {
        kind: "nexmark".into(),
        args: vec![],
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    }
}

fn word(w: &str) -> OptionValue {
    OptionValue::Ident(w.into())
}

fn bid_schema() -> Schema {
    Schema::new(vec![
        Field::new("date_time", Type::Timestamp),
        Field::new("auction", Type::Int),
        Field::new("bidder", Type::Int),
        Field::new("price", Type::Int),
        Field::new("channel", Type::String),
    ])
}

fn read(options: &[(&str, OptionValue)], schema: &Schema, worker: WorkerInfo) -> Vec<Record> {
    let (config, columns) =
        NexmarkSourceConfig::with_schema(&call(options), schema).expect("valid");
    let mut source = NexmarkSource::new(&config, columns, worker);
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    while source.poll(&mut out, &mut bad, 101).expect("poll") != SourceStatus::Finished {}
    assert!(bad.is_empty());
    assert_eq!(
        source.poll(&mut out, &mut bad, 10).expect("poll"),
        SourceStatus::Finished
    );
    out
}

#[test]
fn yields_the_generators_bids_split_among_workers() {
    let options = [
        ("kind", word("bid")),
        ("events", OptionValue::Int(10_000)),
        ("seed", OptionValue::Int(3)),
    ];
    let one = read(&options, &bid_schema(), WorkerInfo { index: 0, peers: 1 });
    assert_eq!(one.len(), 9_200);
    let config = weir_nexmark::NexmarkConfig {
        events: 10_000,
        seed: 3,
        ..Default::default()
    };
    let g = Generator::new(&config);
    let expected: Vec<Record> = (0..10_000)
        .filter_map(|n| match g.event(n) {
            Event::Bid(b) => Some(vec![
                Value::Time(b.date_time),
                Value::Int(b.auction),
                Value::Int(b.bidder),
                Value::Int(b.price),
                Value::Str(b.channel),
            ]),
            _ => None,
        })
        .collect();
    assert_eq!(one, expected);
    // Three workers: the same records, each once.
    let mut three: Vec<Record> = (0..3)
        .flat_map(|index| read(&options, &bid_schema(), WorkerInfo { index, peers: 3 }))
        .collect();
    let key = |r: &Record| format!("{r:?}");
    three.sort_by_key(key);
    let mut sorted = one;
    sorted.sort_by_key(key);
    assert_eq!(three, sorted);
}

#[test]
fn persons_and_auctions_are_dense_and_agree_across_sources() {
    let persons = read(
        &[
            ("kind", word("person")),
            ("events", OptionValue::Int(5_000)),
        ],
        &Schema::new(vec![Field::new("id", Type::Int)]),
        WorkerInfo { index: 0, peers: 1 },
    );
    let ids: Vec<Value> = (1000..1100).map(Value::Int).collect();
    assert_eq!(
        persons
            .into_iter()
            .map(|r| r[0].clone())
            .collect::<Vec<_>>(),
        ids
    );
    let auctions = read(
        &[
            ("kind", word("auction")),
            ("events", OptionValue::Int(5_000)),
        ],
        &Schema::new(vec![
            Field::new("id", Type::Int),
            Field::new("seller", Type::Int),
        ]),
        WorkerInfo { index: 1, peers: 2 },
    );
    // Event numbers 50k + 1 and 50k + 3 are this worker's auctions: ids 1000 + 3k and 1000 + 3k + 2.
    assert_eq!(auctions.len(), 200);
    for r in &auctions {
        // Worker 1 of 2 gets the odd event numbers; every seller is a known or near person.
        let (Value::Int(id), Value::Int(seller)) = (&r[0], &r[1]) else {
            panic!("{r:?}")
        };
        assert!((1000..1300).contains(id) && (id - 1000) % 3 != 1, "{r:?}");
        assert!((1000..1110).contains(seller), "{r:?}");
    }
}

#[test]
fn check_reports_bad_options_and_fields() {
    let problems = validate(
        &call(&[("kind", word("bids")), ("event", OptionValue::Int(5))]),
        Role::Source,
        Some(&bid_schema()),
    );
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.contains(&"unknown option `event` for `nexmark`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"`kind` is `person`, `auction` or `bid`, found `bids`"),
        "{messages:?}"
    );
    let problems = validate(&call(&[]), Role::Source, None);
    assert_eq!(problems[0].message, "`nexmark` needs the argument `kind`");
    let schema = Schema::new(vec![
        Field::new("price", Type::Float),
        Field::new("bidders", Type::Int),
    ]);
    let problems = validate(&call(&[("kind", word("bid"))]), Role::Source, Some(&schema));
    assert_eq!(
        problems[0].message,
        "field `price` is declared `f64`, but a Nexmark bid has `i64`"
    );
    assert_eq!(problems[1].message, "a Nexmark bid has no field `bidders`");
    assert_eq!(problems[1].help.as_deref(), Some("did you mean `bidder`?"));
    let problems = validate(
        &call(&[("kind", word("bid")), ("rate", OptionValue::Int(0))]),
        Role::Source,
        None,
    );
    assert!(problems[0].message.contains("`rate` must be at least 1"));
    assert!(
        validate(&call(&[("kind", word("bid"))]), Role::Sink, None)[0]
            .message
            .contains("cannot be used as a sink")
    );
}
