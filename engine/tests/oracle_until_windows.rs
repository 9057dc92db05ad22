//! Oracle test of `window until <end> [from <start>]`, windows whose bounds are fields of
//! the record (Nexmark's auction windows): over random out-of-order events of
//! overlapping "auctions" sharing keys, the engine's panes equal a batch grouping by
//! (key, start, end), on 1 and on 4 workers, whatever the bundling.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{
    cmp_records, keyed_window, one_pipeline, run_memory, shuffle_within, sorted_records,
};

const BOUND: i64 = 50;

fn field(slot: usize, name: &str) -> Expr {
    Expr::Field {
        slot,
        name: name.into(),
    }
}

fn aggregates() -> Vec<Aggregate> {
    let agg = |name: &str, func, arg: Option<Expr>| Aggregate {
        name: name.into(),
        func,
        arg_type: arg.as_ref().map(|_| Type::Int),
        arg,
        keep: Vec::new(),
    };
    vec![
        agg("n", AggFunc::Count, None),
        agg("total", AggFunc::Sum, Some(field(1, "v"))),
        agg("top", AggFunc::Max, Some(field(1, "v"))),
    ]
}

fn kind(with_start: bool) -> WindowKind {
    WindowKind::Until {
        end: FieldRef {
            slot: 4,
            name: "closes".into(),
        },
        start: with_start.then(|| FieldRef {
            slot: 3,
            name: "opens".into(),
        }),
    }
}

fn plan(with_start: bool) -> LogicalPlan {
    let input = Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
        Field::new("opens", Type::Timestamp),
        Field::new("closes", Type::Timestamp),
    ]);
    let aggregates = aggregates();
    let window = WindowSpec::new(kind(with_start));
    one_pipeline(
        input.clone(),
        BOUND,
        keyed_window(&input, window, aggregates),
    )
}

/// Events of overlapping auctions: auction `i` opens at `1e6 + 37·i` and stays open a
/// random 1–400 ms; each event picks an auction open at its time (keys are `i % keys`,
/// so one key has several auctions, with different bounds, open at once). Shuffled
/// within the watermark bound: nothing is late.
fn events(seed: u64, n: usize, keys: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let auctions: Vec<(i64, i64)> = (0..(n as i64 / 3 + 2))
        .map(|i| {
            let opens = 1_000_000 + 37 * i;
            (opens, opens + rng.gen_range(1..=400))
        })
        .collect();
    let mut t = 1_000_000i64;
    let mut recs = Vec::new();
    while recs.len() < n {
        t += rng.gen_range(1..=7);
        let open: Vec<usize> = (0..auctions.len())
            .filter(|&i| auctions[i].0 <= t && t < auctions[i].1)
            .collect();
        if open.is_empty() {
            continue;
        }
        let i = open[rng.gen_range(0..open.len())];
        recs.push(vec![
            Value::Int(i as i64 % keys),
            Value::Int(rng.gen_range(-50..50)),
            Value::Time(t),
            Value::Time(auctions[i].0),
            Value::Time(auctions[i].1),
        ]);
    }
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// One pane per (key, start, end): key, count, sum, max, then the window fields.
fn oracle(records: &[Record], with_start: bool) -> Vec<Vec<Value>> {
    let mut groups: BTreeMap<(i64, i64, i64), Vec<i64>> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Int(v), Value::Time(s), Value::Time(e)) =
            (&r[0], &r[1], &r[3], &r[4])
        else {
            unreachable!()
        };
        let s = if with_start { *s } else { i64::MIN };
        groups.entry((*k, s, *e)).or_default().push(*v);
    }
    let mut out: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|((k, start, end), vs)| {
            vec![
                Value::Int(k),
                Value::Int(vs.len() as i64),
                Value::Int(vs.iter().sum()),
                Value::Int(*vs.iter().max().expect("a group has a value")),
                Value::Time(start),
                Value::Time(end),
                Value::str("on_time"),
                Value::Int(0),
                Value::Int(0),
                Value::Bool(true),
                Value::Time(end - 1),
            ]
        })
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

fn engine(records: Vec<Record>, with_start: bool, workers: usize, batch: usize) -> Vec<Vec<Value>> {
    let connectors = MemoryConnectors::new(batch).with_source("in", records);
    let (summary, out) = run_memory(plan(with_start), connectors, workers);
    assert_eq!(summary.late_dropped, 0);
    sorted_records(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn until_windows_match_the_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_200, keys in 1i64..6, with_start: bool, batch in 1usize..200) {
        let records = events(seed, n, keys);
        let expected = oracle(&records, with_start);
        let one = engine(records.clone(), with_start, 1, batch);
        prop_assert_eq!(&one, &expected, "1 worker");
        let four = engine(records, with_start, 4, batch);
        prop_assert_eq!(&four, &expected, "4 workers");
    }
}
