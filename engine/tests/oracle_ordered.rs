//! Oracle tests of the stages that see each key's records in event-time order — count
//! windows (`window count <n> every <m>` + `aggregate`) and `dedupe by … within <d>` —
//! over random out-of-order events: the engine's output equals a batch recomputation
//! over the events sorted by time, on 1 and on 4 workers, whatever the bundling.
//! Times repeat (steps of 0–3 ms), so records of one key at one instant are common: the
//! engine orders them by content, and so does the oracle.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{cmp_records, one_pipeline, run_memory, shuffle_within, sorted_records};

const BOUND: i64 = 50;

fn input() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
    ])
}

fn sum() -> Aggregate {
    Aggregate {
        name: "total".into(),
        func: AggFunc::Sum,
        arg: Some(Expr::Field {
            slot: 1,
            name: "v".into(),
        }),
        arg_type: Some(Type::Int),
        keep: Vec::new(),
    }
}

fn plan(stage: Stage) -> LogicalPlan {
    one_pipeline(
        input(),
        BOUND,
        vec![stage, Stage::Sink { sink: "out".into() }],
    )
}

fn count_window(size: u64, every: u64) -> Stage {
    let aggregates = vec![sum()];
    let schema = WindowSpec::output_schema(&input(), &[0], &aggregates, Accumulation::Discard);
    Stage::Window {
        keys: vec![0],
        window: WindowSpec::new(WindowKind::Count { size, every }),
        aggregates,
        schema,
    }
}

fn dedupe(within_ms: i64) -> Stage {
    Stage::Dedupe {
        keys: vec![0],
        names: vec!["k".into()],
        within_ms,
    }
}

/// Non-decreasing timestamps (equal ones common), shuffled within the watermark bound.
fn events(seed: u64, n: usize, keys: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(0..=3);
            vec![
                Value::Int(rng.gen_range(0..keys)),
                Value::Int(rng.gen_range(-20..20)),
                Value::Time(t),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

fn time(r: &Record) -> i64 {
    match r[2] {
        Value::Time(t) => t,
        _ => unreachable!(),
    }
}

/// Each key's records in the engine's order: by time, then by content.
fn per_key(records: &[Record]) -> BTreeMap<i64, Vec<Record>> {
    let mut keys: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
    for r in records {
        let Value::Int(k) = r[0] else { unreachable!() };
        keys.entry(k).or_default().push(r.clone());
    }
    for rs in keys.values_mut() {
        rs.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| cmp_records(a, b)));
    }
    keys
}

fn count_oracle(records: &[Record], size: usize, every: usize) -> Vec<Record> {
    let mut out = Vec::new();
    for (k, rs) in per_key(records) {
        for i in (every - 1..rs.len()).step_by(every) {
            let last = &rs[(i + 1).saturating_sub(size)..=i];
            let total: i64 = last
                .iter()
                .map(|r| match r[1] {
                    Value::Int(v) => v,
                    _ => unreachable!(),
                })
                .sum();
            let index = (i / every) as i64;
            out.push(vec![
                Value::Int(k),
                Value::Int(total),
                Value::Time(time(&last[0])),
                Value::Time(time(&rs[i]) + 1),
                Value::str("on_time"),
                Value::Int(index),
                Value::Int(index),
                Value::Bool(true),
                Value::Time(time(&rs[i])),
            ]);
        }
    }
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

fn dedupe_oracle(records: &[Record], within: i64) -> Vec<Record> {
    let mut out = Vec::new();
    for rs in per_key(records).into_values() {
        let mut passed: Option<i64> = None;
        for r in rs {
            if passed.is_none_or(|p| time(&r) >= p + within) {
                passed = Some(time(&r));
                out.push(r);
            }
        }
    }
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

fn engine(records: Vec<Record>, stage: Stage, workers: usize, batch: usize) -> Vec<Record> {
    let connectors = MemoryConnectors::new(batch).with_source("in", records);
    let (summary, out) = run_memory(plan(stage), connectors, workers);
    assert_eq!(summary.late_dropped, 0);
    sorted_records(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn count_windows_match_the_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_200, keys in 1i64..8, size in 1u64..12, every_frac in 0.0f64..1.0, batch in 1usize..200) {
        let every = ((size as f64 * every_frac) as u64).clamp(1, size);
        let records = events(seed, n, keys);
        let expected = count_oracle(&records, size as usize, every as usize);
        let one = engine(records.clone(), count_window(size, every), 1, batch);
        prop_assert_eq!(&one, &expected, "1 worker, count {} every {}", size, every);
        let four = engine(records, count_window(size, every), 4, batch);
        prop_assert_eq!(&four, &expected, "4 workers, count {} every {}", size, every);
    }

    #[test]
    fn dedupe_matches_the_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_200, keys in 1i64..30, within in prop::sample::select(vec![1i64, 5, 40, 300]), batch in 1usize..200) {
        let records = events(seed, n, keys);
        let expected = dedupe_oracle(&records, within);
        let one = engine(records.clone(), dedupe(within), 1, batch);
        prop_assert_eq!(&one, &expected, "1 worker, within {}", within);
        let four = engine(records, dedupe(within), 4, batch);
        prop_assert_eq!(&four, &expected, "4 workers, within {}", within);
    }
}
