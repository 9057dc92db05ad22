//! Oracle tests for `join`: random out-of-order inputs on both sides (disorder within the
//! watermark bound, so nothing is late) give exactly the pairs a naive nested-loop join
//! finds — interval joins with and without `within`, windowed joins (tumbling, sliding) —
//! on 1 and on 4 workers, whatever the batch size. And records behind the watermark are
//! counted as late, never joined half-way.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{memory, memory_source, run_memory, shuffle_within, time, windows_of};

const BOUND: i64 = 50;

fn side_schema(value: &str) -> Schema {
    Schema::new(vec![
        Field::nullable("k", Type::Int),
        Field::new(value, Type::Int),
        Field::new("ts", Type::Timestamp),
    ])
}

fn plan(mode: JoinMode) -> LogicalPlan {
    let source = |name: &str, value: &str| memory_source(name, side_schema(value), BOUND);
    let join = JoinSpec {
        right: PipelineInput::Source("r".into()),
        right_schema: side_schema("b"),
        name: "r".into(),
        left_keys: vec![0],
        right_keys: vec![0],
        mode,
    };
    let schema = join.output_schema(&side_schema("a"));
    LogicalPlan {
        sources: vec![source("l", "a"), source("r", "b")],
        sinks: vec![SinkNode {
            name: "out".into(),
            connector: memory(),
        }],
        pipelines: vec![PipelineNode {
            error_to: None,
            name: "p".into(),
            input: PipelineInput::Source("l".into()),
            input_schema: side_schema("a"),
            stages: vec![
                Stage::Join { join, schema },
                Stage::Sink { sink: "out".into() },
            ],
        }],
        tests: vec![],
        tables: Vec::new(),
        models: Vec::new(),
        checkpoint: None,
    }
}

/// `n` records with increasing times (steps of 0..=`max_step` ms), keys in 0..`keys` (one
/// in twenty null), shuffled within runs shorter than the watermark bound.
fn records(seed: u64, n: usize, max_step: i64, keys: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut recs: Vec<Record> = (0..n)
        .map(|i| {
            t += rng.gen_range(0..=max_step);
            let k = if rng.gen_ratio(1, 20) {
                Value::Null
            } else {
                Value::Int(rng.gen_range(0..keys))
            };
            vec![k, Value::Int(i as i64), Value::Time(t)]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// Nested loops over both inputs: every pair with equal, non-null keys whose times
/// relate as the mode says, as (event time, record).
fn oracle(left: &[Record], right: &[Record], mode: &JoinMode) -> Vec<(i64, Record)> {
    let mut out = Vec::new();
    for l in left {
        for r in right {
            if l[0] == Value::Null || l[0] != r[0] {
                continue;
            }
            let (tl, tr) = (time(l), time(r));
            let joined = || [l.clone(), r.clone()].concat();
            match mode {
                JoinMode::Interval { within_ms } => {
                    if within_ms.is_none_or(|d| (tl - tr).abs() <= d) {
                        out.push((tl.max(tr), joined()));
                    }
                }
                JoinMode::Window { kind } => {
                    for w in windows_of(kind, tl) {
                        if windows_of(kind, tr).contains(&w) {
                            let mut rec = joined();
                            rec.extend([Value::Time(w.0), Value::Time(w.1)]);
                            out.push((w.1 - 1, rec));
                        }
                    }
                }
            }
        }
    }
    out.sort_by(cmp);
    out
}

fn cmp(a: &(i64, Record), b: &(i64, Record)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then_with(|| {
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

fn engine(
    connectors: MemoryConnectors,
    mode: JoinMode,
    workers: usize,
) -> (Vec<(i64, Record)>, u64) {
    let (summary, out) = run_memory(plan(mode), connectors, workers);
    let mut out: Vec<(i64, Record)> = out.into_iter().map(|e| (e.time, e.record)).collect();
    out.sort_by(cmp);
    (out, summary.late_dropped)
}

fn mode() -> impl Strategy<Value = JoinMode> {
    prop_oneof![
        prop::sample::select(vec![0i64, 7, 40, 300])
            .prop_map(|d| JoinMode::Interval { within_ms: Some(d) }),
        Just(JoinMode::Interval { within_ms: None }),
        prop::sample::select(vec![10i64, 100, 1_000]).prop_map(|size| JoinMode::Window {
            kind: WindowKind::Tumbling {
                size_ms: size,
                offset_ms: 0
            }
        }),
        prop::sample::select(vec![(30i64, 10i64), (100, 30)]).prop_map(|(size, period)| {
            JoinMode::Window {
                kind: WindowKind::Sliding {
                    size_ms: size,
                    period_ms: period,
                },
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn join_matches_nested_loop_oracle_on_1_and_4_workers(
        seed in 0u64..1_000_000,
        n in 1usize..600,
        max_step in prop::sample::select(vec![1i64, 5, 20]),
        keys in prop::sample::select(vec![1i64, 7, 50]),
        mode in mode(),
        batch in 1usize..100,
    ) {
        let left = records(seed, n, max_step, keys);
        let right = records(seed ^ 0x5eed, n / 2 + 1, max_step * 2, keys);
        let expected = oracle(&left, &right, &mode);
        for workers in [1, 4] {
            let connectors = MemoryConnectors::new(batch)
                .with_source("l", left.clone())
                .with_source("r", right.clone());
            let (got, late) = engine(connectors, mode.clone(), workers);
            prop_assert_eq!(late, 0);
            prop_assert_eq!(&got, &expected, "{} workers, {:?}", workers, mode);
        }
    }
}

#[test]
fn a_record_behind_the_watermark_is_counted_late_not_joined() {
    // One worker, batches of one, paced: by the time the left record at 1_000 arrives,
    // the left watermark is past it (the record at 5_000 came first).
    let left = vec![
        vec![Value::Int(1), Value::Int(0), Value::Time(5_000)],
        vec![Value::Int(1), Value::Int(1), Value::Time(1_000)],
    ];
    let right = vec![vec![Value::Int(1), Value::Int(9), Value::Time(1_010)]];
    let connectors = || {
        MemoryConnectors::new(1)
            .paced()
            .with_source("l", left.clone())
            .with_source("r", right.clone())
    };
    let (got, late) = engine(
        connectors(),
        JoinMode::Interval {
            within_ms: Some(100),
        },
        1,
    );
    assert_eq!(late, 1, "the left record at 1_000 is late");
    assert!(got.is_empty(), "{got:?}");
    // Without a bound nothing is ever dropped, so the late record still finds its partner
    // (and so does the one at 5_000).
    let (got, late) = engine(connectors(), JoinMode::Interval { within_ms: None }, 1);
    assert_eq!(late, 0);
    let times: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1_010, 5_000]);
}
