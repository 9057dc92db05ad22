//! Expression evaluation: compiled closures over a record's slots, for the shapes the
//! Nexmark and IoT queries use.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use weir_engine::expression::{compile, compile_predicate};
use weir_engine::plan::{BinaryOp, Expr, Function};
use weir_engine::value::{Record, Value};

/// Bid-like records: auction, bidder, price, channel, url, date_time, temp.
fn records(n: usize) -> Vec<Record> {
    (0..n as i64)
        .map(|i| {
            vec![
                Value::Int(1000 + i % 500),
                Value::Int(2000 + i % 997),
                Value::Int((i * 7919) % 1_000_000),
                Value::str(["Google", "Facebook", "Baidu", "Apple"][(i % 4) as usize]),
                Value::str("https://www.nexmark.com/abc/item.htm?query=1"),
                Value::Time(1_714_521_600_000 + i),
                Value::Float(20.0 + (i % 100) as f64 * 0.5),
            ]
        })
        .collect()
}

fn field(slot: usize, name: &str) -> Box<Expr> {
    Box::new(Expr::Field {
        slot,
        name: name.into(),
    })
}

fn int(v: i64) -> Box<Expr> {
    Box::new(Expr::Literal(Value::Int(v)))
}

fn float(v: f64) -> Box<Expr> {
    Box::new(Expr::Literal(Value::Float(v)))
}

fn evaluation(c: &mut Criterion) {
    let recs = records(4_096);
    let mut g = c.benchmark_group("expressions/eval");
    g.throughput(Throughput::Elements(recs.len() as u64));
    let values = [
        (
            // Nexmark q1: price * 89 / 100.
            "q1_price_times_89_div_100",
            Expr::Binary(
                BinaryOp::Div,
                Box::new(Expr::Binary(BinaryOp::Mul, field(2, "price"), int(89))),
                int(100),
            ),
        ),
        (
            "concat_lower_channel",
            Expr::Call(
                Function::Concat,
                vec![
                    Expr::Call(Function::Lower, vec![*field(3, "channel")]),
                    Expr::Literal(Value::str("/")),
                    Expr::Call(Function::ToString, vec![*field(0, "auction")]),
                ],
            ),
        ),
        (
            "hour_of_date_time",
            Expr::Call(Function::Hour, vec![*field(5, "date_time")]),
        ),
    ];
    for (name, expr) in values {
        let f = compile(&expr);
        g.bench_with_input(BenchmarkId::new("value", name), &recs, |b, recs| {
            b.iter(|| {
                let mut n = 0usize;
                for r in recs {
                    n += usize::from(!f(black_box(r)).is_null());
                }
                n
            })
        });
    }
    let predicates = [
        (
            // Nexmark q2: auction % 123 == 0.
            "q2_auction_mod_123",
            Expr::Binary(
                BinaryOp::Eq,
                Box::new(Expr::Binary(BinaryOp::Rem, field(0, "auction"), int(123))),
                int(0),
            ),
        ),
        (
            // The IoT filter: temp between -40.0 and 150.0.
            "iot_temp_between",
            Expr::Between(field(6, "temp"), float(-40.0), float(150.0)),
        ),
        (
            // Fast path: a field compared with a constant.
            "price_gt_constant",
            Expr::Binary(BinaryOp::Gt, field(2, "price"), int(500_000)),
        ),
        (
            "channel_in_list_and_price",
            Expr::Binary(
                BinaryOp::And,
                Box::new(Expr::In(
                    field(3, "channel"),
                    vec![
                        Expr::Literal(Value::str("Apple")),
                        Expr::Literal(Value::str("Google")),
                    ],
                )),
                Box::new(Expr::Binary(BinaryOp::Ge, field(2, "price"), int(1_000))),
            ),
        ),
    ];
    for (name, expr) in predicates {
        let p = compile_predicate(&expr);
        g.bench_with_input(BenchmarkId::new("predicate", name), &recs, |b, recs| {
            b.iter(|| recs.iter().filter(|r| p(black_box(r))).count())
        });
    }
    g.finish();
}

criterion_group!(benches, evaluation);
