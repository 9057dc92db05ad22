//! Decoding JSON lines into typed records, in bytes per second of input: Nexmark bids
//! (about 200-byte lines, the dump `benches/peers/flink/nexmark.py` gives Flink) and IoT
//! readings (short lines with an RFC 3339 time), every field built and only the fields a
//! query reads (projection). Issue 22's target is 500 MB/s per core.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::Value;
use weir_nexmark::{EventKind, Generator, NexmarkConfig};
use weir_runtime::format::json::{JsonDecoder, JsonEncoder};

const LINES: u64 = 4_096;

fn bid_schema() -> Schema {
    Schema::new(vec![
        Field::new("auction", Type::Int),
        Field::new("bidder", Type::Int),
        Field::new("price", Type::Int),
        Field::new("channel", Type::String),
        Field::new("url", Type::String),
        Field::new("date_time", Type::Timestamp),
        Field::new("extra", Type::String),
    ])
}

fn reading_schema() -> Schema {
    Schema::new(vec![
        Field::new("device_id", Type::String),
        Field::new("temp", Type::Float),
        Field::new("ts", Type::Timestamp),
    ])
}

/// Bids of the Nexmark generator as Weir's file sink writes them.
fn bid_lines() -> Vec<String> {
    let generator = Generator::new(&NexmarkConfig::default());
    let encoder = JsonEncoder::new(&bid_schema());
    (0..LINES * 50)
        .filter(|&n| EventKind::of(n) == EventKind::Bid)
        .map(|n| generator.bid(n))
        .take(LINES as usize)
        .map(|b| {
            let record = vec![
                Value::Int(b.auction),
                Value::Int(b.bidder),
                Value::Int(b.price),
                Value::Str(b.channel),
                Value::Str(b.url),
                Value::Time(b.date_time),
                Value::Str(b.extra),
            ];
            line(&encoder, &record)
        })
        .collect()
}

/// Sensor readings as Weir's file sink writes them.
fn reading_lines() -> Vec<String> {
    let encoder = JsonEncoder::new(&reading_schema());
    (0..LINES as i64)
        .map(|i| {
            let record = vec![
                Value::str(&format!("dev-{:04}", i % 1000)),
                Value::Float(21.5 + (i % 97) as f64 / 7.0),
                Value::Time(1_714_521_600_000 + i * 37),
            ];
            line(&encoder, &record)
        })
        .collect()
}

fn line(encoder: &JsonEncoder, record: &[Value]) -> String {
    let mut out = Vec::new();
    encoder.encode(&record.to_vec(), &mut out).expect("encodes");
    String::from_utf8(out)
        .expect("utf-8")
        .trim_end()
        .to_string()
}

fn decoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode/json");
    let cases = [
        ("bids", bid_schema(), bid_lines(), vec![true; 7]),
        // q1/q2 read auction, bidder, price and date_time.
        (
            "bids-projected",
            bid_schema(),
            bid_lines(),
            vec![true, true, true, false, false, true, false],
        ),
        ("readings", reading_schema(), reading_lines(), vec![true; 3]),
    ];
    for (name, schema, lines, read) in cases {
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        let decoder = JsonDecoder::reading(&schema, &read);
        g.bench_with_input(BenchmarkId::new("decode", name), &lines, |b, lines| {
            b.iter(|| {
                let mut built = 0usize;
                for line in lines {
                    let record = decoder.decode(black_box(line)).expect("a valid line");
                    built += record.len();
                }
                built
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decoding);
