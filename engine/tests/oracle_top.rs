//! Oracle test of `top(x, n) keep {…}` and `bottom(x, n) keep {…}` (top-N per window and
//! key) over random out-of-order events in tumbling, sliding, merging session and global
//! windows: the engine's ranked lists equal a naive batch recomputation — sort each
//! group's records and take the first n — on 1 and on 4 workers, whatever the bundling.
//! Values are few (multiples of 0.5 in [−3, 3)) and event times repeat, so ties on the
//! value and on the time are frequent and the tie rules (earliest, then least kept
//! values) decide the ranks. With `unnest best as b with ordinality as rank` after the
//! window, the rows are Flink's: one per group and rank, at the pane's time.

use std::cmp::Ordering;
use std::collections::BTreeMap;

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
const TOP: u32 = 3;
const BOTTOM: u32 = 5;

fn input() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Float),
        Field::new("ts", Type::Timestamp),
        Field::new("b", Type::Int),
    ])
}

fn aggregates() -> Vec<Aggregate> {
    let kept = |slot: usize| KeptField {
        slot,
        field: input().fields[slot].clone(),
    };
    let ranked = |name: &str, func, keep| Aggregate {
        name: name.into(),
        func,
        arg: Some(Expr::Field {
            slot: 1,
            name: "v".into(),
        }),
        arg_type: Some(Type::Float),
        keep,
    };
    vec![
        ranked("best", AggFunc::Top(TOP), vec![kept(3)]),
        ranked("least", AggFunc::Bottom(BOTTOM), vec![kept(2), kept(3)]),
    ]
}

fn plan(window: WindowSpec) -> LogicalPlan {
    let aggregates = aggregates();
    one_pipeline(input(), BOUND, keyed_window(&input(), window, aggregates))
}

/// Increasing timestamps (many equal) shuffled within the watermark bound: nothing is late.
fn events(seed: u64, n: usize, max_step: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(0..=max_step);
            vec![
                Value::Int(rng.gen_range(0..3)),
                Value::Float(rng.gen_range(-6..6) as f64 * 0.5),
                Value::Time(t),
                Value::Int(rng.gen_range(0..20)),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// (value, time, bidder) of one record.
type Row = (f64, i64, i64);

/// The groups (start, end, key) → rows of a batch recomputation.
fn groups(records: &[Record], kind: &WindowKind) -> BTreeMap<(i64, i64, i64), Vec<Row>> {
    let mut groups: BTreeMap<(i64, i64, i64), Vec<Row>> = BTreeMap::new();
    let mut per_key: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    for r in records {
        let (Value::Int(k), Value::Float(v), Value::Time(t), Value::Int(b)) =
            (&r[0], &r[1], &r[2], &r[3])
        else {
            unreachable!()
        };
        match kind {
            WindowKind::Session { .. } => per_key.entry(*k).or_default().push((*v, *t, *b)),
            _ => {
                for (s, e) in windows_of(kind, *t) {
                    groups.entry((s, e, *k)).or_default().push((*v, *t, *b));
                }
            }
        }
    }
    if let WindowKind::Session { gap_ms, .. } = *kind {
        for (k, mut rows) in per_key {
            rows.sort_by_key(|r| r.1);
            let (mut start, mut last) = (rows[0].1, rows[0].1);
            let mut current = Vec::new();
            for row in rows {
                if row.1 >= last + gap_ms {
                    groups.insert((start, last + gap_ms, k), std::mem::take(&mut current));
                    start = row.1;
                }
                last = row.1;
                current.push(row);
            }
            groups.insert((start, last + gap_ms, k), current);
        }
    }
    groups
}

/// Flink's `ROW_NUMBER() OVER (PARTITION BY window, key ORDER BY v DESC, time, kept)`.
fn ranked(rows: &[Row], n: u32, by_value: impl Fn(f64, f64) -> Ordering) -> Vec<Row> {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| by_value(a.0, b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    sorted.truncate(n as usize);
    sorted
}

fn list(rows: &[Row], f: impl Fn(&Row) -> Value) -> Value {
    Value::List(rows.iter().map(f).collect())
}

/// One pane per group: key, the ranked lists, then the window fields; with `unnested`,
/// one row per rank of `best` instead: its value and bidder in place of the two lists,
/// the rank appended.
fn oracle(records: &[Record], kind: &WindowKind, unnested: bool) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    for ((start, end, k), rows) in groups(records, kind) {
        let best = ranked(&rows, TOP, |a, b| b.total_cmp(&a));
        let least = ranked(&rows, BOTTOM, |a, b| a.total_cmp(&b));
        let pane = |value: Value, bidder: Value| {
            vec![
                Value::Int(k),
                value,
                bidder,
                list(&least, |r| Value::Float(r.0)),
                list(&least, |r| Value::Time(r.1)),
                list(&least, |r| Value::Int(r.2)),
                Value::Time(start),
                Value::Time(end),
                Value::str("on_time"),
                Value::Int(0),
                Value::Int(0),
                Value::Bool(true),
                Value::Time(end - 1),
            ]
        };
        if !unnested {
            out.push(pane(
                list(&best, |r| Value::Float(r.0)),
                list(&best, |r| Value::Int(r.2)),
            ));
            continue;
        }
        for (rank, r) in (1..).zip(&best) {
            let mut row = pane(Value::Float(r.0), Value::Int(r.2));
            row.push(Value::Int(rank));
            out.push(row);
        }
    }
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

/// The window's stages with `unnest best as b with ordinality as rank` after it.
fn unnested_plan(window: WindowSpec) -> LogicalPlan {
    let mut stages = keyed_window(&input(), window, aggregates());
    let Stage::Window { schema, .. } = &stages[1] else {
        unreachable!("keyed_window: key by, window, sink")
    };
    let spec = UnnestSpec::new(schema, 1, "b", Some("rank"));
    let unnest = Stage::unnest(spec, schema);
    stages.insert(2, unnest);
    one_pipeline(input(), BOUND, stages)
}

fn engine(
    records: Vec<Record>,
    kind: &WindowKind,
    workers: usize,
    batch: usize,
    unnested: bool,
) -> Vec<Vec<Value>> {
    let connectors = MemoryConnectors::new(batch).with_source("in", records);
    let window = WindowSpec::new(kind.clone());
    let plan = if unnested {
        unnested_plan(window)
    } else {
        plan(window)
    };
    let (summary, out) = run_memory(plan, connectors, workers);
    assert_eq!(summary.late_dropped, 0);
    // Every record (a pane or one of its rows) travels at its pane's timestamp.
    for event in &out {
        assert_eq!(Value::Time(event.time), event.record[12], "{event:?}");
    }
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
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn top_and_bottom_match_the_batch_ranking_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_500, max_step in prop::sample::select(vec![0i64, 3, 13, 40]), kind in kind(), batch in 1usize..200) {
        let records = events(seed, n, max_step);
        let expected = oracle(&records, &kind, false);
        let one = engine(records.clone(), &kind, 1, batch, false);
        prop_assert_eq!(&one, &expected, "1 worker, {:?}", kind);
        let four = engine(records, &kind, 4, batch, false);
        prop_assert_eq!(&four, &expected, "4 workers, {:?}", kind);
    }

    #[test]
    fn unnested_top_is_a_row_per_group_and_rank_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..800, max_step in prop::sample::select(vec![0i64, 3, 40]), kind in kind(), batch in 1usize..200) {
        let records = events(seed, n, max_step);
        let expected = oracle(&records, &kind, true);
        let one = engine(records.clone(), &kind, 1, batch, true);
        prop_assert_eq!(&one, &expected, "1 worker, {:?}", kind);
        let four = engine(records, &kind, 4, batch, true);
        prop_assert_eq!(&four, &expected, "4 workers, {:?}", kind);
    }
}
