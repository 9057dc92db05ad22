//! Record exchange: what a batch costs when it crosses processes (timely encodes
//! `Vec<Event>` with bincode through `weir_engine::wire`), and routing records by key.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use weir_engine::event::Event;
use weir_engine::key::KeyView;
use weir_engine::value::Value;

const BATCH: usize = 1_024;

/// A Nexmark bid: auction, bidder, price, channel, url, date_time, extra.
fn bids() -> Vec<Event> {
    (0..BATCH as i64)
        .map(|i| {
            let t = 1_714_521_600_000 + i;
            Event::new(
                t,
                vec![
                    Value::Int(1000 + i % 500),
                    Value::Int(2000 + i % 997),
                    Value::Int((i * 7919) % 1_000_000),
                    Value::str("Google"),
                    Value::str("https://www.nexmark.com/abc/item.htm?query=1"),
                    Value::Time(t),
                    Value::str("xkcdabcdefghijklmnopqrstuvwxyz"),
                ],
            )
        })
        .collect()
}

/// A sensor reading: device_id, temp, ts.
fn readings() -> Vec<Event> {
    (0..BATCH as i64)
        .map(|i| {
            let t = 1_714_521_600_000 + i;
            Event::new(
                t,
                vec![
                    Value::str(&format!("dev-{:04}", i % 1000)),
                    Value::Float(21.5 + (i % 10) as f64),
                    Value::Time(t),
                ],
            )
        })
        .collect()
}

fn encoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("exchange/bincode");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, batch) in [("bids", bids()), ("readings", readings())] {
        let bytes = bincode::serialize(&batch).expect("a batch encodes");
        g.bench_with_input(BenchmarkId::new("encode", name), &batch, |b, batch| {
            let mut buf = Vec::with_capacity(bytes.len());
            b.iter(|| {
                buf.clear();
                bincode::serialize_into(&mut buf, black_box(batch)).expect("encodes");
                buf.len()
            })
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &bytes, |b, bytes| {
            b.iter(|| {
                let back: Vec<Event> = bincode::deserialize(black_box(bytes)).expect("decodes");
                back.len()
            })
        });
    }
    g.finish();
}

fn routing(c: &mut Criterion) {
    let mut g = c.benchmark_group("exchange/route");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, batch, slots) in [
        ("bids_by_auction", bids(), [0usize]),
        ("readings_by_device", readings(), [0]),
    ] {
        g.bench_with_input(BenchmarkId::from_parameter(name), &batch, |b, batch| {
            b.iter(|| {
                let mut per_worker = [0u32; 2];
                for e in batch {
                    let key = KeyView {
                        record: &e.record,
                        slots: &slots,
                    };
                    per_worker[(key.route() % 2) as usize] += 1;
                }
                per_worker
            })
        });
    }
    g.finish();
}

criterion_group!(benches, encoding, routing);
