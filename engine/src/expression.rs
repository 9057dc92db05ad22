//! Expressions compiled once into closures over a record's slots.
//!
//! The checker has already typed every expression, so evaluation only dispatches on the
//! value variants it was promised. Null propagates through arithmetic and comparisons;
//! `and`/`or` follow three-valued logic. A numeric result that does not fit is null, never a
//! wrapped integer or a non-finite float: integer (and time) overflow, division or remainder
//! by zero, NaN and ±infinity (docs/language.md, "Arithmetic").

use std::sync::Arc;

use chrono::{DateTime, Timelike, Utc};

use crate::expression_convert::{self, TimeFormat};
use crate::expression_math;
use crate::expression_text;
use crate::plan::{BinaryOp, Expr, Function, UnaryOp};
use crate::value::Value;

/// A compiled expression.
pub type Compiled = Box<dyn Fn(&[Value]) -> Value>;

/// A compiled predicate.
pub type Predicate = Box<dyn Fn(&[Value]) -> bool>;

/// Compiles an expression of the logical plan.
pub fn compile(expr: &Expr) -> Compiled {
    match expr {
        Expr::Literal(v) => {
            let v = v.clone();
            Box::new(move |_| v.clone())
        }
        Expr::Field { slot, .. } => {
            let slot = *slot;
            Box::new(move |r| r[slot].clone())
        }
        Expr::Unary(op, e) => {
            let e = compile(e);
            match op {
                UnaryOp::Neg => Box::new(move |r| match e(r) {
                    Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                    Value::Float(f) => Value::Float(-f),
                    Value::Duration(d) => d.checked_neg().map_or(Value::Null, Value::Duration),
                    _ => Value::Null,
                }),
                UnaryOp::Not => Box::new(move |r| match e(r) {
                    Value::Bool(b) => Value::Bool(!b),
                    _ => Value::Null,
                }),
            }
        }
        Expr::Binary(op, l, r) => compile_binary(*op, l, r),
        Expr::Between(x, lo, hi) => {
            let (x, lo, hi) = (compile(x), compile(lo), compile(hi));
            Box::new(move |r| {
                let v = x(r);
                match (compare(&v, &lo(r)), compare(&v, &hi(r))) {
                    (Some(a), Some(b)) => Value::Bool(a.is_ge() && b.is_le()),
                    _ => Value::Null,
                }
            })
        }
        Expr::In(x, list) => {
            let x = compile(x);
            let list: Vec<Compiled> = list.iter().map(compile).collect();
            Box::new(move |r| {
                let v = x(r);
                if v.is_null() {
                    return Value::Null;
                }
                Value::Bool(
                    list.iter()
                        .any(|item| compare(&v, &item(r)).is_some_and(|o| o.is_eq())),
                )
            })
        }
        Expr::Call(func, args) => compile_call(*func, args),
        Expr::Cond(branches, otherwise) => {
            let branches: Vec<(Predicate, Compiled)> = branches
                .iter()
                .map(|(c, v)| (compile_predicate(c), compile(v)))
                .collect();
            let otherwise = compile(otherwise);
            Box::new(move |r| match branches.iter().find(|(c, _)| c(r)) {
                Some((_, v)) => v(r),
                None => otherwise(r),
            })
        }
        Expr::ToFloat(e) => {
            let e = compile(e);
            Box::new(move |r| match e(r) {
                Value::Int(i) => Value::Float(i as f64),
                other => other,
            })
        }
    }
}

/// Compiles a predicate: true only when the expression is `true` (null is false).
pub fn compile_predicate(expr: &Expr) -> Predicate {
    // Fast path for the commonest filter shape: a field compared with a constant.
    if let Expr::Binary(op, l, r) = expr {
        if let (Expr::Field { slot, .. }, Expr::Literal(lit)) = (l.as_ref(), r.as_ref()) {
            if let Some(cmp) = comparison(*op) {
                let (slot, lit) = (*slot, lit.clone());
                return Box::new(move |rec| compare(&rec[slot], &lit).is_some_and(cmp));
            }
        }
    }
    let e = compile(expr);
    Box::new(move |r| matches!(e(r), Value::Bool(true)))
}

fn comparison(op: BinaryOp) -> Option<fn(std::cmp::Ordering) -> bool> {
    Some(match op {
        BinaryOp::Eq => std::cmp::Ordering::is_eq,
        BinaryOp::Ne => std::cmp::Ordering::is_ne,
        BinaryOp::Lt => std::cmp::Ordering::is_lt,
        BinaryOp::Le => std::cmp::Ordering::is_le,
        BinaryOp::Gt => std::cmp::Ordering::is_gt,
        BinaryOp::Ge => std::cmp::Ordering::is_ge,
        _ => return None,
    })
}

fn compile_binary(op: BinaryOp, l: &Expr, r: &Expr) -> Compiled {
    let (a, b) = (compile(l), compile(r));
    if let Some(cmp) = comparison(op) {
        return Box::new(move |rec| match compare(&a(rec), &b(rec)) {
            Some(o) => Value::Bool(cmp(o)),
            None => Value::Null,
        });
    }
    match op {
        BinaryOp::And => Box::new(move |rec| match a(rec) {
            Value::Bool(false) => Value::Bool(false),
            left => match (left, b(rec)) {
                (_, Value::Bool(false)) => Value::Bool(false),
                (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                _ => Value::Null,
            },
        }),
        BinaryOp::Or => Box::new(move |rec| match a(rec) {
            Value::Bool(true) => Value::Bool(true),
            left => match (left, b(rec)) {
                (_, Value::Bool(true)) => Value::Bool(true),
                (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                _ => Value::Null,
            },
        }),
        BinaryOp::Coalesce => Box::new(move |rec| match a(rec) {
            Value::Null => b(rec),
            v => v,
        }),
        _ => Box::new(move |rec| arithmetic(op, a(rec), b(rec))),
    }
}

/// Compares two values of comparable types; `None` when either is null or they differ in kind.
#[inline]
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Time(x), Time(y)) | (Duration(x), Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn arithmetic(op: BinaryOp, a: Value, b: Value) -> Value {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => match op {
            BinaryOp::Add => x.checked_add(y).map_or(Null, Int),
            BinaryOp::Sub => x.checked_sub(y).map_or(Null, Int),
            BinaryOp::Mul => x.checked_mul(y).map_or(Null, Int),
            BinaryOp::Div => x.checked_div(y).map_or(Null, Int),
            BinaryOp::Rem => x.checked_rem(y).map_or(Null, Int),
            _ => Null,
        },
        (Float(x), Float(y)) => float_op(op, x, y),
        (Int(x), Float(y)) => float_op(op, x as f64, y),
        (Float(x), Int(y)) => float_op(op, x, y as f64),
        (Time(t), Duration(d)) => match op {
            BinaryOp::Add => t.checked_add(d).map_or(Null, Time),
            BinaryOp::Sub => t.checked_sub(d).map_or(Null, Time),
            _ => Null,
        },
        (Duration(d), Time(t)) if op == BinaryOp::Add => t.checked_add(d).map_or(Null, Time),
        (Time(x), Time(y)) if op == BinaryOp::Sub => x.checked_sub(y).map_or(Null, Duration),
        (Duration(x), Duration(y)) => match op {
            BinaryOp::Add => x.checked_add(y).map_or(Null, Duration),
            BinaryOp::Sub => x.checked_sub(y).map_or(Null, Duration),
            _ => Null,
        },
        (Duration(d), Int(k)) | (Int(k), Duration(d)) if op == BinaryOp::Mul => {
            d.checked_mul(k).map_or(Null, Duration)
        }
        (Str(x), Str(y)) if op == BinaryOp::Add => {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(&x);
            s.push_str(&y);
            Str(Arc::from(s))
        }
        _ => Null,
    }
}

fn float_op(op: BinaryOp, x: f64, y: f64) -> Value {
    finite(match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Rem => x % y,
        _ => return Value::Null,
    })
}

/// A float result, or null when it is NaN or infinite (`x / 0.0`, `0.0 / 0.0`, overflow),
/// so no non-finite value reaches an aggregate or a sink.
#[inline]
fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::Float(x)
    } else {
        Value::Null
    }
}

fn compile_call(func: Function, exprs: &[Expr]) -> Compiled {
    let args: Vec<Compiled> = exprs.iter().map(compile).collect();
    let arg = |i: usize| -> Option<&Compiled> { args.get(i) };
    if arg(0).is_none() && !matches!(func, Function::Concat | Function::Now) {
        return Box::new(|_| Value::Null);
    }
    match func {
        Function::Pow => Box::new(move |r| expression_math::pow(&args[0](r), &args[1](r))),
        Function::Log => Box::new(move |r| {
            let base = args.get(1).map(|b| b(r));
            expression_math::log(&args[0](r), base.as_ref())
        }),
        Function::Exp => Box::new(move |r| expression_math::exp(&args[0](r))),
        Function::Least => Box::new(move |r| {
            expression_math::pick(args.iter().map(|a| a(r)), std::cmp::Ordering::Less)
        }),
        Function::Greatest => Box::new(move |r| {
            expression_math::pick(args.iter().map(|a| a(r)), std::cmp::Ordering::Greater)
        }),
        Function::Coalesce => Box::new(move |r| {
            args.iter()
                .map(|a| a(r))
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null)
        }),
        Function::Now => Box::new(|_| Value::Time(crate::clock::worker_now())),
        Function::Int => Box::new(move |r| expression_convert::to_int(args[0](r))),
        Function::Float => Box::new(move |r| expression_convert::to_float(args[0](r))),
        Function::String => Box::new(move |r| expression_convert::to_text(args[0](r))),
        Function::Timestamp => compile_timestamp(args, exprs),
        Function::RegexMatch | Function::RegexExtract => compile_regex(func, args, exprs),
        Function::Split => {
            Box::new(move |r| expression_text::split_part(&args[0](r), &args[1](r), &args[2](r)))
        }
        Function::Abs => unary_numeric(args, |x| x.abs(), i64::checked_abs),
        Function::Floor => unary_numeric(args, f64::floor, Some),
        Function::Ceil => unary_numeric(args, f64::ceil, Some),
        Function::Sqrt => Box::new(move |r| {
            args[0](r)
                .as_f64()
                .map_or(Value::Null, |x| finite(x.sqrt()))
        }),
        Function::Round => Box::new(move |r| {
            let Some(x) = args[0](r).as_f64() else {
                return Value::Null;
            };
            match args.get(1).map(|d| d(r)) {
                Some(Value::Int(digits)) => {
                    let scale = 10f64.powi(digits.clamp(-300, 300) as i32);
                    let scaled = x * scale;
                    // Past 2^52 an f64 has no fraction left to round (and `x * scale` may
                    // overflow): `x` already has no more digits than asked for. So
                    // `round` of a number is never null, as its type says.
                    if !scaled.is_finite() || scaled.abs() >= 4_503_599_627_370_496.0 {
                        return Value::Float(x);
                    }
                    finite(scaled.round() / scale)
                }
                Some(_) => Value::Null,
                None => Value::Float(x.round()),
            }
        }),
        Function::Lower => string_map(args, |s| s.to_lowercase()),
        Function::Upper => string_map(args, |s| s.to_uppercase()),
        Function::Trim => string_map(args, |s| s.trim().to_string()),
        Function::Substr => Box::new(move |r| {
            let len = args.get(2).map(|l| l(r));
            expression_text::substring(&args[0](r), &args[1](r), len.as_ref())
        }),
        Function::Len => Box::new(move |r| match args[0](r) {
            Value::Str(s) => Value::Int(s.chars().count() as i64),
            Value::List(items) => Value::Int(items.len() as i64),
            _ => Value::Null,
        }),
        Function::Concat => Box::new(move |r| {
            let mut out = String::new();
            for a in &args {
                match a(r) {
                    Value::Null => return Value::Null,
                    Value::Str(s) => out.push_str(&s),
                    v => out.push_str(&v.to_string()),
                }
            }
            Value::Str(Arc::from(out))
        }),
        Function::Date => Box::new(move |r| match args[0](r) {
            Value::Time(t) => DateTime::<Utc>::from_timestamp_millis(t).map_or(Value::Null, |d| {
                Value::Str(Arc::from(d.format("%Y-%m-%d").to_string()))
            }),
            _ => Value::Null,
        }),
        Function::Hour => Box::new(move |r| match args[0](r) {
            Value::Time(t) => DateTime::<Utc>::from_timestamp_millis(t)
                .map_or(Value::Null, |d| Value::Int(d.hour() as i64)),
            _ => Value::Null,
        }),
        Function::ToString => Box::new(move |r| match args[0](r) {
            Value::Null => Value::Null,
            s @ Value::Str(_) => s,
            v => Value::Str(Arc::from(v.to_string())),
        }),
    }
}

/// The constant string argument at `i`: patterns and formats are checked by `weir check`,
/// so the engine only ever sees literals there.
fn constant_text(exprs: &[Expr], i: usize) -> Option<&str> {
    match exprs.get(i) {
        Some(Expr::Literal(Value::Str(s))) => Some(s),
        _ => None,
    }
}

fn compile_timestamp(args: Vec<Compiled>, exprs: &[Expr]) -> Compiled {
    if exprs.len() < 2 {
        return Box::new(move |r| expression_convert::to_timestamp(args[0](r)));
    }
    let Some(Ok(format)) = constant_text(exprs, 1).map(TimeFormat::new) else {
        return Box::new(|_| Value::Null);
    };
    Box::new(move |r| match args[0](r) {
        Value::Str(s) => format.parse(&s).map_or(Value::Null, Value::Time),
        _ => Value::Null,
    })
}

fn compile_regex(func: Function, args: Vec<Compiled>, exprs: &[Expr]) -> Compiled {
    let Some(Ok(re)) = constant_text(exprs, 1).map(expression_text::pattern) else {
        return Box::new(|_| Value::Null);
    };
    if func == Function::RegexMatch {
        return Box::new(move |r| expression_text::is_match(&re, &args[0](r)));
    }
    let group = match exprs.get(2) {
        Some(Expr::Literal(Value::Int(g))) => usize::try_from(*g).unwrap_or(usize::MAX),
        // Without a group: the first group if the pattern has one, else the whole match.
        _ => usize::from(re.captures_len() > 1),
    };
    Box::new(move |r| expression_text::extract(&re, &args[0](r), group))
}

fn unary_numeric(args: Vec<Compiled>, f: fn(f64) -> f64, i: fn(i64) -> Option<i64>) -> Compiled {
    Box::new(move |r| match args[0](r) {
        Value::Int(x) => i(x).map_or(Value::Null, Value::Int),
        Value::Float(x) => Value::Float(f(x)),
        _ => Value::Null,
    })
}

fn string_map(args: Vec<Compiled>, f: fn(&str) -> String) -> Compiled {
    Box::new(move |r| match args[0](r) {
        Value::Str(s) => Value::Str(Arc::from(f(&s))),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(slot: usize) -> Box<Expr> {
        Box::new(Expr::Field {
            slot,
            name: format!("f{slot}"),
        })
    }
    fn lit(v: Value) -> Box<Expr> {
        Box::new(Expr::Literal(v))
    }

    #[test]
    fn arithmetic_and_comparison() {
        let rec = vec![Value::Int(7), Value::Float(2.5), Value::Null];
        let e = Expr::Binary(
            BinaryOp::Mul,
            field(0),
            Box::new(Expr::ToFloat(lit(Value::Int(2)))),
        );
        assert_eq!(compile(&e)(&rec), Value::Float(14.0));
        let e = Expr::Binary(BinaryOp::Div, field(0), lit(Value::Int(0)));
        assert_eq!(compile(&e)(&rec), Value::Null);
        let e = Expr::Binary(BinaryOp::Gt, field(1), lit(Value::Float(2.0)));
        assert!(compile_predicate(&e)(&rec));
        let e = Expr::Binary(BinaryOp::Gt, field(2), lit(Value::Float(2.0)));
        assert!(!compile_predicate(&e)(&rec), "null comparison is not true");
        let e = Expr::Between(field(1), lit(Value::Float(2.5)), lit(Value::Int(3)));
        assert_eq!(compile(&e)(&rec), Value::Bool(true));
    }

    #[test]
    fn three_valued_logic_and_coalesce() {
        let rec = vec![Value::Null, Value::Bool(false), Value::Bool(true)];
        let and = Expr::Binary(BinaryOp::And, field(0), field(1));
        assert_eq!(compile(&and)(&rec), Value::Bool(false));
        let or = Expr::Binary(BinaryOp::Or, field(0), field(2));
        assert_eq!(compile(&or)(&rec), Value::Bool(true));
        let or_null = Expr::Binary(BinaryOp::Or, field(0), field(1));
        assert_eq!(compile(&or_null)(&rec), Value::Null);
        let coalesce = Expr::Binary(BinaryOp::Coalesce, field(0), lit(Value::Int(3)));
        assert_eq!(compile(&coalesce)(&rec), Value::Int(3));
    }

    #[test]
    fn time_functions() {
        let rec = vec![Value::Time(1_714_557_605_000)];
        assert_eq!(
            compile(&Expr::Call(Function::Date, vec![*field(0)]))(&rec),
            Value::str("2024-05-01")
        );
        assert_eq!(
            compile(&Expr::Call(Function::Hour, vec![*field(0)]))(&rec),
            Value::Int(10)
        );
        let plus = Expr::Binary(BinaryOp::Add, field(0), lit(Value::Duration(1000)));
        assert_eq!(compile(&plus)(&rec), Value::Time(1_714_557_606_000));
        let e = Expr::In(
            field(0),
            vec![
                Expr::Literal(Value::Time(1)),
                Expr::Literal(Value::Time(1_714_557_605_000)),
            ],
        );
        assert_eq!(compile(&e)(&rec), Value::Bool(true));
    }
}

#[cfg(test)]
mod arithmetic_rule_tests {
    //! One rule for results that do not fit: null, never a wrapped integer or NaN/inf.
    use super::*;

    fn eval(op: BinaryOp, a: Value, b: Value) -> Value {
        compile(&Expr::Binary(
            op,
            Box::new(Expr::Literal(a)),
            Box::new(Expr::Literal(b)),
        ))(&[])
    }

    #[test]
    fn integer_overflow_is_null_like_division_by_zero() {
        use BinaryOp::*;
        assert_eq!(eval(Add, Value::Int(i64::MAX), Value::Int(1)), Value::Null);
        assert_eq!(eval(Sub, Value::Int(i64::MIN), Value::Int(1)), Value::Null);
        assert_eq!(eval(Mul, Value::Int(i64::MAX), Value::Int(2)), Value::Null);
        assert_eq!(eval(Div, Value::Int(1), Value::Int(0)), Value::Null);
        assert_eq!(eval(Rem, Value::Int(1), Value::Int(0)), Value::Null);
        assert_eq!(eval(Div, Value::Int(i64::MIN), Value::Int(-1)), Value::Null);
        assert_eq!(
            eval(Add, Value::Int(i64::MAX - 1), Value::Int(1)),
            Value::Int(i64::MAX)
        );
        let neg = Expr::Unary(UnaryOp::Neg, Box::new(Expr::Literal(Value::Int(i64::MIN))));
        assert_eq!(compile(&neg)(&[]), Value::Null);
        let abs = Expr::Call(Function::Abs, vec![Expr::Literal(Value::Int(i64::MIN))]);
        assert_eq!(compile(&abs)(&[]), Value::Null);
        let late = eval(Add, Value::Time(i64::MAX), Value::Duration(1));
        assert_eq!(late, Value::Null);
        let long = eval(Mul, Value::Duration(i64::MAX), Value::Int(2));
        assert_eq!(long, Value::Null);
    }

    #[test]
    fn non_finite_float_results_are_null() {
        use BinaryOp::*;
        assert_eq!(eval(Div, Value::Float(1.0), Value::Float(0.0)), Value::Null);
        assert_eq!(eval(Div, Value::Float(0.0), Value::Float(0.0)), Value::Null);
        assert_eq!(eval(Div, Value::Int(1), Value::Float(0.0)), Value::Null);
        assert_eq!(eval(Rem, Value::Float(1.0), Value::Float(0.0)), Value::Null);
        assert_eq!(
            eval(Mul, Value::Float(1e308), Value::Float(10.0)),
            Value::Null
        );
        assert_eq!(
            eval(Div, Value::Float(1.0), Value::Float(4.0)),
            Value::Float(0.25)
        );
        let sqrt = Expr::Call(Function::Sqrt, vec![Expr::Literal(Value::Float(-1.0))]);
        assert_eq!(compile(&sqrt)(&[]), Value::Null);
        // Rounding to more digits than an f64 holds keeps the value (never null).
        let round = |x: f64, digits: i64| {
            let e = Expr::Call(
                Function::Round,
                vec![
                    Expr::Literal(Value::Float(x)),
                    Expr::Literal(Value::Int(digits)),
                ],
            );
            compile(&e)(&[])
        };
        assert_eq!(round(1e300, 300), Value::Float(1e300));
        assert_eq!(round(1e20, 2), Value::Float(1e20));
        assert_eq!(round(2.345, 2), Value::Float(2.35));
        assert_eq!(round(1234.5, -2), Value::Float(1200.0));
    }
}
