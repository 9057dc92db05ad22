//! Oracle tests: windowed aggregates under the default trigger over random out-of-order
//! events (disorder within the watermark bound, so nothing is late) equal a naive batch
//! recomputation — tumbling (with offset), sliding, session and global windows — and do
//! not depend on bundling or on the number of workers (1 vs 4).

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::plan::*;
use weir_engine::run::{run, RunOptions};
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::stop::StopHandle;
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{
    cmp_records, keyed_window, memory, one_pipeline, run_memory, shuffle_within, sorted_records,
    time, windows_of,
};

const BOUND: i64 = 50;

fn plan(window: WindowSpec) -> LogicalPlan {
    let input = Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Float),
        Field::new("ts", Type::Timestamp),
    ]);
    let f = |slot: usize, name: &str| Expr::Field {
        slot,
        name: name.into(),
    };
    let agg = |name: &str, func, arg: Option<Expr>| Aggregate {
        name: name.into(),
        func,
        arg_type: arg.as_ref().map(|_| Type::Float),
        arg,
        keep: Vec::new(),
    };
    let aggregates = vec![
        agg("n", AggFunc::Count, None),
        agg("sum", AggFunc::Sum, Some(f(1, "v"))),
        agg("avg", AggFunc::Avg, Some(f(1, "v"))),
        agg("min", AggFunc::Min, Some(f(1, "v"))),
        agg("max", AggFunc::Max, Some(f(1, "v"))),
        agg("first", AggFunc::First, Some(f(1, "v"))),
        agg("last", AggFunc::Last, Some(f(1, "v"))),
    ];
    let mut plan = one_pipeline(
        input.clone(),
        BOUND,
        keyed_window(&input, window, aggregates),
    );
    // Late records may be routed to a second sink (`late to late`).
    plan.sinks.push(SinkNode {
        name: "late".into(),
        connector: memory(),
    });
    plan
}

/// `n` events with distinct, increasing timestamps (steps of 1..=`max_step` ms), then
/// shuffled within runs that span less than the watermark bound — so no event ever
/// arrives behind the watermark, on any number of workers.
fn events(seed: u64, n: usize, max_step: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(1..=max_step);
            vec![
                Value::Int(rng.gen_range(0..5)),
                Value::Float(rng.gen_range(-20..20) as f64 * 0.5),
                Value::Time(t),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// Naive batch recomputation: group every element into its windows, aggregate each group
/// in time order; each window fires exactly one on-time, final pane.
fn oracle(records: &[Record], kind: &WindowKind) -> Vec<Vec<Value>> {
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
    if let WindowKind::Session { gap_ms, max_ms } = *kind {
        for (k, mut vs) in per_key {
            vs.sort_by_key(|(t, _)| *t);
            // Greedy in time order: a session takes the next element while it stays
            // within the gap and (with a maximum) no longer than the maximum.
            let mut current: Vec<(i64, f64)> = Vec::new();
            let mut close = |current: &mut Vec<(i64, f64)>| {
                if let (Some(a), Some(b)) = (current.first(), current.last()) {
                    groups.insert((a.0, b.0 + gap_ms, k), std::mem::take(current));
                }
            };
            for (t, v) in vs {
                if let (Some(first), Some(last)) = (current.first(), current.last()) {
                    let too_long = max_ms.is_some_and(|m| t + gap_ms - first.0 > m);
                    if t >= last.0 + gap_ms || too_long {
                        close(&mut current);
                    }
                }
                current.push((t, v));
            }
            close(&mut current);
        }
    }
    let mut out: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|((start, end, k), mut vs)| {
            // `first`/`last` break event-time ties by value, never by arrival.
            vs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let values: Vec<f64> = vs.iter().map(|(_, v)| *v).collect();
            let sum: f64 = values.iter().sum();
            vec![
                Value::Int(k),
                Value::Int(values.len() as i64),
                Value::Float(sum),
                Value::Float(sum / values.len() as f64),
                Value::Float(values.iter().cloned().fold(f64::INFINITY, f64::min)),
                Value::Float(values.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
                Value::Float(values[0]),
                Value::Float(values[values.len() - 1]),
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
) -> (Vec<Vec<Value>>, u64) {
    run_with(
        MemoryConnectors::new(batch).with_source("in", records),
        WindowSpec::new(kind.clone()),
        workers,
    )
}

fn run_with(
    connectors: MemoryConnectors,
    spec: WindowSpec,
    workers: usize,
) -> (Vec<Vec<Value>>, u64) {
    run_plan(connectors, plan(spec), workers)
}

fn run_plan(
    connectors: MemoryConnectors,
    plan: LogicalPlan,
    workers: usize,
) -> (Vec<Vec<Value>>, u64) {
    let (summary, out) = run_memory(plan, connectors, workers);
    (sorted_records(out), summary.late_dropped)
}

/// The plan with only its `max` (`min` of the same field would need a second slot):
/// combiner lifting pre-aggregates it before the exchange.
fn max_plan(window: WindowSpec) -> LogicalPlan {
    let mut plan = plan(window);
    let input = plan.pipelines[0].input_schema.clone();
    if let Stage::Window {
        aggregates, schema, ..
    } = &mut plan.pipelines[0].stages[1]
    {
        aggregates.retain(|a| a.func == AggFunc::Max);
        *schema = WindowSpec::output_schema(&input, &[0], aggregates, Accumulation::Discard);
    }
    let physical = physical::PhysicalPlan::from_logical(&plan);
    assert!(
        physical.pipelines[0]
            .operators
            .contains(&physical::Operator::Combine { stage: 1 }),
        "not combined: {physical:?}"
    );
    plan
}

/// The oracle's rows with only the key, max and window columns.
fn max_rows(rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .enumerate()
                .filter(|(i, _)| !matches!(i, 1 | 2 | 3 | 4 | 6 | 7))
                .map(|(_, v)| v)
                .collect()
        })
        .collect();
    out.sort_by(|a, b| cmp_records(a, b));
    out
}

/// Window kinds whose result is fully determined by the set of elements.
fn deterministic_kind() -> impl Strategy<Value = WindowKind> {
    prop_oneof![
        (prop::sample::select(vec![10i64, 100, 1_000]), 0i64..1_000).prop_map(|(size, off)| {
            WindowKind::Tumbling {
                size_ms: size,
                offset_ms: off % size,
            }
        }),
        (prop::sample::select(vec![(30i64, 10i64), (100, 30), (1_000, 250), (20, 20)])).prop_map(
            |(size, period)| WindowKind::Sliding {
                size_ms: size,
                period_ms: period,
            }
        ),
        prop::sample::select(vec![5i64, 20, 60]).prop_map(|gap| WindowKind::Session {
            gap_ms: gap,
            max_ms: None,
        }),
        Just(WindowKind::Global),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn tumbling_matches_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..3_000, size in prop::sample::select(vec![10i64, 100, 1_000]), batch in 1usize..300) {
        let kind = WindowKind::Tumbling { size_ms: size, offset_ms: 0 };
        let records = events(seed, n, 13);
        let expected = oracle(&records, &kind);
        let (one, late1) = engine(records.clone(), &kind, 1, batch);
        prop_assert_eq!(late1, 0);
        prop_assert_eq!(&one, &expected);
        let (four, late4) = engine(records, &kind, 4, batch);
        prop_assert_eq!(late4, 0);
        prop_assert_eq!(&four, &expected);
    }

    #[test]
    fn every_window_kind_matches_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..1_500, max_step in prop::sample::select(vec![3i64, 13, 40]), kind in deterministic_kind(), batch in 1usize..200) {
        let records = events(seed, n, max_step);
        let expected = oracle(&records, &kind);
        let (one, late1) = engine(records.clone(), &kind, 1, batch);
        prop_assert_eq!(late1, 0);
        prop_assert_eq!(&one, &expected, "1 worker, {:?}", kind);
        let (four, late4) = engine(records, &kind, 4, batch);
        prop_assert_eq!(late4, 0);
        prop_assert_eq!(&four, &expected, "4 workers, {:?}", kind);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Combined before the exchange, the max still equals the batch oracle's.
    #[test]
    fn combined_max_matches_batch_oracle_on_1_and_4_workers(seed in 0u64..1_000_000, n in 1usize..2_000, max_step in prop::sample::select(vec![3i64, 13, 40]), sliding in any::<bool>(), batch in 1usize..300) {
        let kind = if sliding {
            WindowKind::Sliding { size_ms: 100, period_ms: 30 }
        } else {
            WindowKind::Tumbling { size_ms: 100, offset_ms: 7 }
        };
        let records = events(seed, n, max_step);
        let expected = max_rows(oracle(&records, &kind));
        for workers in [1, 4] {
            let connectors = MemoryConnectors::new(batch).with_source("in", records.clone());
            let (out, late) = run_plan(connectors, max_plan(WindowSpec::new(kind.clone())), workers);
            prop_assert_eq!(late, 0);
            prop_assert_eq!(&out, &expected, "{} workers, {:?}", workers, kind);
        }
    }
}

#[test]
fn combined_late_elements_are_still_dropped_and_counted_one_by_one() {
    // Batches of two: the second batch travels behind the first window's end, so both of
    // its elements are late (and pass the combiner uncombined).
    let recs = vec![
        vec![Value::Int(1), Value::Float(1.0), Value::Time(10)],
        vec![Value::Int(1), Value::Float(1.0), Value::Time(2_000)],
        vec![Value::Int(1), Value::Float(5.0), Value::Time(20)],
        vec![Value::Int(1), Value::Float(7.0), Value::Time(30)],
    ];
    let kind = WindowKind::Tumbling {
        size_ms: 1_000,
        offset_ms: 0,
    };
    let (out, late) = run_plan(
        MemoryConnectors::new(2).paced().with_source("in", recs),
        max_plan(WindowSpec::new(kind)),
        1,
    );
    assert_eq!(late, 2);
    assert_eq!(out.len(), 2);
    // Key and max of the first window: the late elements did not change it.
    assert_eq!(out[0][..2], [Value::Int(1), Value::Float(1.0)]);
}

#[test]
fn elements_behind_a_fired_window_are_late_dropped_and_counted() {
    // One worker, batch of 1: the watermark passes 1_000 before the last record arrives.
    let recs = vec![
        vec![Value::Int(1), Value::Float(1.0), Value::Time(10)],
        vec![Value::Int(1), Value::Float(1.0), Value::Time(2_000)],
        vec![Value::Int(1), Value::Float(5.0), Value::Time(20)],
    ];
    let kind = WindowKind::Tumbling {
        size_ms: 1_000,
        offset_ms: 0,
    };
    let (out, late) = run_with(
        MemoryConnectors::new(1).paced().with_source("in", recs),
        WindowSpec::new(kind),
        1,
    );
    assert_eq!(late, 1);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0][1],
        Value::Int(1),
        "the late element did not change the fired window"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// In time order on one worker, `session gap g max m` is the greedy split: a session
    /// takes the next element while it stays within the gap and no longer than `m`.
    #[test]
    fn session_with_max_in_time_order_matches_greedy_oracle(seed in 0u64..1_000_000, n in 1usize..1_500, gap in prop::sample::select(vec![5i64, 20]), max in prop::sample::select(vec![30i64, 100]), batch in 1usize..200) {
        let kind = WindowKind::Session { gap_ms: gap, max_ms: Some(max) };
        let mut records = events(seed, n, 7);
        records.sort_by_key(time);
        let expected = oracle(&records, &kind);
        let (one, late) = engine(records, &kind, 1, batch);
        prop_assert_eq!(late, 0);
        prop_assert_eq!(&one, &expected);
    }
}

/// Out of time order, which sessions a `max` splits off depends on arrival order (an
/// element that bridges two sessions cannot join both once they are long), so the exact
/// split may differ with bundling and worker count. What must hold regardless: nothing is
/// lost, every element is counted once, and no session is shorter than the gap or longer
/// than the maximum.
#[test]
fn session_with_max_out_of_order_keeps_every_element_and_the_bounds() {
    let (gap, max) = (20, 100);
    let kind = WindowKind::Session {
        gap_ms: gap,
        max_ms: Some(max),
    };
    for seed in 0..10 {
        let records = events(seed, 1_000, 7);
        let mut per_key: BTreeMap<i64, i64> = BTreeMap::new();
        for r in &records {
            let Value::Int(k) = r[0] else { unreachable!() };
            *per_key.entry(k).or_default() += 1;
        }
        for workers in [1, 4] {
            let (out, late) = engine(records.clone(), &kind, workers, 17);
            assert_eq!(late, 0);
            let mut counted: BTreeMap<i64, i64> = BTreeMap::new();
            for r in &out {
                let (Value::Int(k), Value::Int(n), Value::Time(s), Value::Time(e)) =
                    (&r[0], &r[1], &r[8], &r[9])
                else {
                    panic!("unexpected row {r:?}")
                };
                *counted.entry(*k).or_default() += n;
                assert!(
                    e - s >= gap && e - s <= max,
                    "seed {seed}: session {s}..{e}"
                );
                assert_eq!(r[10], Value::str("on_time"));
                assert_eq!(r[13], Value::Bool(true));
            }
            assert_eq!(counted, per_key, "seed {seed}, {workers} workers");
        }
    }
}

/// With early firings in accumulating mode, the final (on-time) pane of every window
/// still equals the batch aggregate on 1 and 4 workers; only how many early panes came
/// before it (its `pane.index`) depends on arrival order.
#[test]
fn early_firings_leave_the_final_pane_equal_to_the_batch_aggregate() {
    let kinds = [
        WindowKind::Tumbling {
            size_ms: 100,
            offset_ms: 30,
        },
        WindowKind::Sliding {
            size_ms: 100,
            period_ms: 25,
        },
        WindowKind::Session {
            gap_ms: 20,
            max_ms: None,
        },
    ];
    for (seed, kind) in kinds.iter().enumerate() {
        let records = events(seed as u64, 1_500, 13);
        let without_index = |rows: Vec<Vec<Value>>| -> Vec<Vec<Value>> {
            let mut rows: Vec<Vec<Value>> = rows
                .into_iter()
                .map(|mut r| {
                    r.remove(11);
                    r
                })
                .collect();
            rows.sort_by(|a, b| cmp_records(a, b));
            rows
        };
        let expected = without_index(oracle(&records, kind));
        for workers in [1, 4] {
            let mut spec = WindowSpec::new(kind.clone());
            spec.trigger = Trigger::Watermark {
                early: Some(Box::new(Trigger::Count(3))),
                late: None,
            };
            spec.accumulation = Accumulation::Accumulate;
            let (out, late) = run_with(
                MemoryConnectors::new(37).with_source("in", records.clone()),
                spec,
                workers,
            );
            assert_eq!(late, 0);
            let early = out.iter().filter(|r| r[10] == Value::str("early")).count();
            assert!(early > 0, "{kind:?}: some early panes fired");
            let finals: Vec<Vec<Value>> = out
                .into_iter()
                .filter(|r| r[13] == Value::Bool(true))
                .collect();
            assert_eq!(
                without_index(finals),
                expected,
                "{kind:?}, {workers} workers"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Through the real run path on one worker, with disorder beyond the watermark bound:
    /// an element is late-routed (once per window it missed) iff that window's end plus
    /// the allowed lateness is at or behind the watermark it was read under (the source's
    /// watermark after the previous poll), and the last accumulating pane of every window
    /// equals the batch aggregate over the elements that were not dropped.
    #[test]
    fn lateness_follows_the_watermark_each_element_was_read_under(seed in 0u64..1_000_000, n in 1usize..800, batch in 1usize..20, lateness in prop::sample::select(vec![0i64, 30, 100]), sliding in any::<bool>()) {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let records: Vec<Record> = (0..n)
            .map(|i| {
                vec![
                    Value::Int(rng.gen_range(0..3)),
                    Value::Float(rng.gen_range(-20..20) as f64 * 0.5),
                    Value::Time(1_000 + i as i64 * 7 + rng.gen_range(-150..=30)),
                ]
            })
            .collect();
        let kind = if sliding {
            WindowKind::Sliding { size_ms: 60, period_ms: 20 }
        } else {
            WindowKind::Tumbling { size_ms: 40, offset_ms: 10 }
        };
        let mut spec = WindowSpec::new(kind.clone());
        spec.allowed_lateness_ms = lateness;
        spec.accumulation = Accumulation::Accumulate;
        spec.late_to = Some("late".into());
        // The model: each poll's records travel under the watermark after the previous poll.
        let mut watermark = i64::MIN;
        let mut kept: Vec<Record> = Vec::new();
        let mut dropped: Vec<(i64, i64, i64)> = Vec::new(); // (ts, window start, watermark)
        for poll in records.chunks(batch) {
            for r in poll {
                let t = time(r);
                for (start, end) in windows_of(&kind, t) {
                    if end + lateness <= watermark {
                        dropped.push((t, start, watermark));
                    } else {
                        kept.push(vec![r[0].clone(), r[1].clone(), r[2].clone(), Value::Int(start)]);
                    }
                }
            }
            let max = poll.iter().map(time).max().unwrap_or(i64::MIN);
            watermark = watermark.max(max - BOUND);
        }
        let connectors = Arc::new(MemoryConnectors::new(batch).paced().with_source("in", records.clone()));
        let plan = Arc::new(plan(spec));
        let metrics = Arc::new(Metrics::new(&plan, 1));
        let options = RunOptions {
            workers: 1,
            stop: Arc::new(StopHandle::new()),
            clock: Arc::new(WallClock),
            on_bad_record: Arc::new(|_| {}),
            limit: None,
            clock_waiters: Default::default(),
            checkpoint: None,
        };
        let summary = run(plan, connectors.clone(), options, metrics).expect("run succeeds");
        let mut routed: Vec<(i64, i64, i64)> = connectors
            .collected("late")
            .into_iter()
            .map(|e| match (&e.record[2], &e.record[4], &e.record[6]) {
                (Value::Time(t), Value::Time(s), Value::Time(w)) => (*t, *s, *w),
                other => panic!("late record {other:?}"),
            })
            .collect();
        routed.sort();
        dropped.sort();
        prop_assert_eq!(summary.late_dropped as usize, dropped.len());
        prop_assert_eq!(&routed, &dropped);
        // Last pane per window (highest index) against the batch over the kept elements.
        let mut last: BTreeMap<(i64, i64), Vec<Value>> = BTreeMap::new();
        for e in connectors.collected("out") {
            let r = e.record;
            let key = (match r[0] { Value::Int(k) => k, _ => unreachable!() }, match r[8] { Value::Time(s) => s, _ => unreachable!() });
            let newer = last.get(&key).is_none_or(|old| old[11].total_cmp(&r[11]).is_lt());
            if newer {
                last.insert(key, r);
            }
        }
        let mut by_window: BTreeMap<(i64, i64), Vec<Record>> = BTreeMap::new();
        for r in kept {
            let Value::Int(start) = r[3] else { unreachable!() };
            let Value::Int(k) = r[0] else { unreachable!() };
            by_window.entry((k, start)).or_default().push(r[..3].to_vec());
        }
        prop_assert_eq!(last.len(), by_window.len());
        for ((k, start), rs) in by_window {
            // The oracle of one window: its rows have this window only.
            let size = match kind { WindowKind::Sliding { size_ms, .. } | WindowKind::Tumbling { size_ms, .. } => size_ms, _ => unreachable!() };
            let want = oracle(&rs, &WindowKind::Tumbling { size_ms: 1_000_000_000, offset_ms: 0 });
            prop_assert_eq!(want.len(), 1);
            let got = &last[&(k, start)];
            prop_assert_eq!(&got[..8], &want[0][..8], "window {}..{} of key {}", start, start + size, k);
        }
    }
}
