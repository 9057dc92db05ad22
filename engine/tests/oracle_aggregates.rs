//! Oracle tests of the statistical aggregates — `stddev`, `variance_pop`,
//! `distinct_count`, `approx_distinct_count` and `percentile` — and of the event-time
//! ones — `first`, `last` and `collect` — over random out-of-order events in tumbling,
//! sliding, merging session and global windows: the engine's panes equal a naive batch
//! recomputation, on 1 and on 4 workers, whatever the bundling. Several events share an
//! event time, so the tie rules (by value) are exercised.
//!
//! Values are multiples of 0.5 below 10, so Σx and Σx² are exact in plain f64 and the
//! oracle's variance (same formula from those sums) is bitwise comparable. Groups have
//! at most 80 distinct values, where the HyperLogLog++ estimate is still sparse and
//! exact, and fewer values than the exact percentile limit.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{
    cmp_records, keyed_window, one_pipeline, run_memory, shuffle_within, sorted_records, windows_of,
};

const BOUND: i64 = 50;

fn aggregates() -> Vec<Aggregate> {
    let v = Expr::Field {
        slot: 1,
        name: "v".into(),
    };
    let agg = |name: &str, func| Aggregate {
        name: name.into(),
        func,
        arg: Some(v.clone()),
        arg_type: Some(Type::Float),
        keep: Vec::new(),
    };
    vec![
        agg("sd", AggFunc::Stddev),
        agg("var_pop", AggFunc::VariancePop),
        agg("distinct", AggFunc::DistinctCount),
        agg("approx", AggFunc::ApproxDistinctCount),
        agg("p50", AggFunc::Percentile(500_000)),
        agg("p90", AggFunc::Percentile(900_000)),
        agg("p100", AggFunc::Percentile(1_000_000)),
        agg("first", AggFunc::First),
        agg("last", AggFunc::Last),
        agg("all", AggFunc::Collect),
    ]
}

fn plan(window: WindowSpec) -> LogicalPlan {
    let input = Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Float),
        Field::new("ts", Type::Timestamp),
    ]);
    let aggregates = aggregates();
    one_pipeline(
        input.clone(),
        BOUND,
        keyed_window(&input, window, aggregates),
    )
}

/// Increasing timestamps (some equal) shuffled within the watermark bound: nothing is late.
fn events(seed: u64, n: usize, max_step: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(0..=max_step);
            vec![
                Value::Int(rng.gen_range(0..4)),
                Value::Float(rng.gen_range(-20..20) as f64 * 0.5),
                Value::Time(t),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// The groups (start, end, key) → (event time, value) of a batch recomputation.
fn groups(records: &[Record], kind: &WindowKind) -> BTreeMap<(i64, i64, i64), Vec<(i64, f64)>> {
    let mut groups: BTreeMap<(i64, i64, i64), Vec<(i64, f64)>> = BTreeMap::new();
    let mut per_key: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Float(v), Value::Time(t)) = (&r[0], &r[1], &r[2]) else {
            unreachable!()
        };
        match kind {
            WindowKind::Session { .. } => per_key.entry(*k).or_default().push((*t, *v)),
            _ => {
                for (s, e) in windows_of(kind, *t) {
                    groups.entry((s, e, *k)).or_default().push((*t, *v));
                }
            }
        }
    }
    if let WindowKind::Session { gap_ms, .. } = *kind {
        for (k, mut vs) in per_key {
            vs.sort_by_key(|(t, _)| *t);
            let mut start = vs[0].0;
            let mut last = vs[0].0;
            let mut current = Vec::new();
            for (t, v) in vs {
                if t >= last + gap_ms {
                    groups.insert((start, last + gap_ms, k), std::mem::take(&mut current));
                    start = t;
                }
                last = t;
                current.push((t, v));
            }
            groups.insert((start, last + gap_ms, k), current);
        }
    }
    groups
}

fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

/// One pane per group: key, the aggregates, then the window fields.
fn oracle(records: &[Record], kind: &WindowKind) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = groups(records, kind)
        .into_iter()
        .map(|((start, end, k), mut timed)| {
            // By event time, ties by value: first is the least, last the greatest.
            timed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let first = Value::Float(timed[0].1);
            let last = Value::Float(timed[timed.len() - 1].1);
            let all = Value::List(timed.iter().map(|(_, v)| Value::Float(*v)).collect());
            let mut vs: Vec<f64> = timed.iter().map(|(_, v)| *v).collect();
            let n = vs.len() as f64;
            let (sum, sum_sq): (f64, f64) = (vs.iter().sum(), vs.iter().map(|x| x * x).sum());
            let mean = sum / n;
            let squares = (sum_sq - n * mean * mean).max(0.0);
            let sd = if vs.len() < 2 {
                Value::Null
            } else {
                Value::Float((squares / (n - 1.0)).sqrt())
            };
            let distinct = vs
                .iter()
                .map(|x| x.to_bits())
                .collect::<BTreeSet<_>>()
                .len();
            vs.sort_by(f64::total_cmp);
            vec![
                Value::Int(k),
                sd,
                Value::Float(squares / n),
                Value::Int(distinct as i64),
                Value::Int(distinct as i64),
                Value::Float(nearest_rank(&vs, 0.5)),
                Value::Float(nearest_rank(&vs, 0.9)),
                Value::Float(nearest_rank(&vs, 1.0)),
                first,
                last,
                all,
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

fn engine(
    records: Vec<Record>,
    kind: &WindowKind,
    workers: usize,
    batch: usize,
) -> Vec<Vec<Value>> {
    let connectors = MemoryConnectors::new(batch).with_source("in", records);
    let (summary, out) = run_memory(plan(WindowSpec::new(kind.clone())), connectors, workers);
    assert_eq!(summary.late_dropped, 0);
    sorted_records(out)
}

fn kind() -> impl Strategy<Value = WindowKind> {
    prop_oneof![
        prop::sample::select(vec![10i64, 100, 1_000]).prop_map(|size| WindowKind::Tumbling {
            size_ms: size,
            offset_ms: 0,
        }),
        Just(WindowKind::Sliding {
            size_ms: 100,
            period_ms: 30,
        }),
        // Small gaps against steps up to 40 ms: sessions form apart and merge when
        // out-of-order elements bridge them.
        prop::sample::select(vec![5i64, 20, 60]).prop_map(|gap| WindowKind::Session {
            gap_ms: gap,
            max_ms: None,
        }),
        Just(WindowKind::Global),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn statistical_and_event_time_aggregates_match_the_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_500, max_step in prop::sample::select(vec![3i64, 13, 40]), kind in kind(), batch in 1usize..200) {
        let records = events(seed, n, max_step);
        let expected = oracle(&records, &kind);
        let one = engine(records.clone(), &kind, 1, batch);
        prop_assert_eq!(&one, &expected, "1 worker, {:?}", kind);
        let four = engine(records, &kind, 4, batch);
        prop_assert_eq!(&four, &expected, "4 workers, {:?}", kind);
    }
}

/// A group larger than the exact limit: `percentile` answers from its sketch, within the
/// stated 1% of the true nearest-rank value, and the same on 1 and 4 workers.
#[test]
fn large_groups_use_the_sketch_within_its_error_on_1_and_4_workers() {
    let n = 25_000usize;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    let mut records: Vec<Record> = (0..n)
        .map(|i| {
            vec![
                Value::Int(0),
                Value::Float(rng.gen_range(1.0..1_000.0)),
                Value::Time(1_000_000 + i as i64),
            ]
        })
        .collect();
    shuffle_within(&mut records, BOUND, &mut rng);
    let kind = WindowKind::Global;
    let mut sorted: Vec<f64> = records.iter().filter_map(|r| r[1].as_f64()).collect();
    sorted.sort_by(f64::total_cmp);
    let one = engine(records.clone(), &kind, 1, 97);
    let four = engine(records, &kind, 4, 97);
    assert_eq!(one, four, "the sketch does not depend on the workers");
    assert_eq!(one.len(), 1);
    for (col, p) in [(5, 0.5), (6, 0.9), (7, 1.0)] {
        let (Value::Float(got), want) = (&one[0][col], nearest_rank(&sorted, p)) else {
            panic!("{:?}", one[0])
        };
        assert!((got - want).abs() <= 0.01 * want, "p{p}: {got} vs {want}");
    }
    let Value::Int(approx) = one[0][4] else {
        panic!()
    };
    let distinct = sorted
        .iter()
        .map(|x| x.to_bits())
        .collect::<BTreeSet<_>>()
        .len() as f64;
    assert!(
        (approx as f64 - distinct).abs() <= 3.0 * 0.0081 * distinct,
        "{approx} vs {distinct}"
    );
}
