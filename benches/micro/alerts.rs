//! The `alert` stage's state machines: records evaluated per second with 100k keys (each
//! key's conditions, hysteresis and `for` timer), as one worker's operator sees them.

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use weir_engine::alert::keyed::KeyedAlerts;
use weir_engine::alert::{AlertSpec, Level, LevelRule, Piece, Template};
use weir_engine::event::Event;
use weir_engine::plan::{BinaryOp, Expr};
use weir_engine::value::Value;

const KEYS: i64 = 100_000;
const ROUNDS: i64 = 3;

fn compare(op: BinaryOp, x: f64) -> Expr {
    Expr::Binary(
        op,
        Box::new(Expr::Field {
            slot: 1,
            name: "temp".into(),
        }),
        Box::new(Expr::Literal(Value::Float(x))),
    )
}

fn spec() -> AlertSpec {
    AlertSpec {
        name: "overheat".into(),
        keys: vec![0],
        levels: vec![
            LevelRule {
                level: Level::Critical,
                when: compare(BinaryOp::Gt, 80.0),
                resolve: None,
            },
            LevelRule {
                level: Level::Warning,
                when: compare(BinaryOp::Gt, 70.0),
                resolve: None,
            },
        ],
        resolve: Some(compare(BinaryOp::Lt, 65.0)),
        id: Template {
            pieces: vec![
                Piece::Field {
                    name: "device_id".into(),
                    slot: 0,
                    precision: None,
                    offset: 0,
                },
                Piece::Text("/overheat".into()),
            ],
        },
        message: Template::text("overheat"),
        for_ms: 2_000,
        keep_firing_ms: 0,
        repeat_ms: None,
        recoveries: true,
        flapping: None,
        deadman_ms: None,
        group: None,
        silences: None,
    }
}

/// `ROUNDS` readings per key in event-time order; one key in ten runs hot for a while.
fn events() -> Vec<Event> {
    let mut out = Vec::with_capacity((KEYS * ROUNDS) as usize);
    for round in 0..ROUNDS {
        for k in 0..KEYS {
            let t = 1_714_521_600_000 + round * 1_000 + k / 1_000;
            let temp = if k % 10 == 0 && round < 2 {
                85.0
            } else {
                60.0 + (k % 7) as f64
            };
            out.push(Event::new(
                t,
                vec![
                    Value::str(&format!("dev-{k}")),
                    Value::Float(temp),
                    Value::Time(t),
                ],
            ));
        }
    }
    out
}

fn evaluate(c: &mut Criterion) {
    let input = events();
    let mut g = c.benchmark_group("alerts");
    g.throughput(Throughput::Elements(input.len() as u64));
    g.sample_size(10);
    g.bench_function("evaluate_100k_keys", |b| {
        b.iter_batched(
            || (KeyedAlerts::new(&spec()), input.clone()),
            |(mut alerts, input)| {
                let mut out = Vec::new();
                for event in input {
                    alerts.fire_timers(event.time, &mut out);
                    alerts.on_record(event, &mut out);
                }
                // Hot keys still at 65 °C or more fire at their third reading (`for 2s`).
                assert!(!out.is_empty() && !alerts.is_empty());
                out.len()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, evaluate);
