//! Expression typing: resolves fields to slots, infers types, inserts `i64 → f64`
//! conversions, and produces the engine's typed [`Expr`].
//!
//! Rules: `i64 op i64 → i64`; mixed `i64`/`f64` → `f64` (the `i64` side is wrapped in
//! `Expr::ToFloat`); `timestamp ± duration → timestamp`; `timestamp − timestamp →
//! duration`; `string + string → string`; comparisons need comparable operands and give
//! `bool`; `and`/`or`/`not` need `bool`. An expression is nullable if any operand is;
//! numeric `+ - * / %` always are (null when the result does not fit); `a ?? b` is
//! nullable only if `b` is.

use weir_engine::plan::{BinaryOp, Expr, UnaryOp};
use weir_engine::schema::Type;
use weir_engine::value::Value;

use super::functions::check_call;
use super::scope::Scope;
use super::Ctx;
use crate::ast::{self, ExprKind, Literal};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// A checked expression. `ty` is `None` only for the literal `null` (and expressions
/// built from it), which fits any type.
#[derive(Clone, Debug)]
pub(crate) struct Typed {
    pub expr: Expr,
    pub ty: Option<Type>,
    pub nullable: bool,
}

/// Checks `e` against the fields of `scope`. `None` means an error, already reported.
pub(crate) fn check_expr(e: &ast::Expr, scope: &Scope, cx: &mut Ctx<'_>) -> Option<Typed> {
    match &e.kind {
        ExprKind::Invalid => None,
        ExprKind::Literal(lit) => Some(literal(lit)),
        ExprKind::Field(name) => {
            let (slot, ty) = scope.lookup(name, e.span, cx)?;
            Some(Typed {
                expr: Expr::Field {
                    slot,
                    name: name.clone(),
                },
                ty: Some(ty.ty),
                nullable: ty.nullable,
            })
        }
        ExprKind::Call { func, args } => {
            let args: Vec<(Option<Typed>, Span)> = args
                .iter()
                .map(|a| (check_expr(a, scope, cx), a.span))
                .collect();
            check_call(func, args, e.span, cx)
        }
        ExprKind::Cond {
            branches,
            otherwise,
        } => super::choice::check_cond(branches, otherwise.as_deref(), scope, cx),
        ExprKind::Unary {
            op,
            op_span,
            operand,
        } => {
            let inner = check_expr(operand, scope, cx)?;
            let ok = match (op, inner.ty) {
                (_, None) => true,
                (UnaryOp::Neg, Some(t)) => t.is_numeric() || t == Type::Duration,
                (UnaryOp::Not, Some(t)) => t == Type::Bool,
            };
            if !ok {
                let (word, needs) = match op {
                    UnaryOp::Neg => ("-", "a number or a duration"),
                    UnaryOp::Not => ("not", "a bool"),
                };
                let ty = inner.ty.map_or("null".to_string(), |t| t.to_string());
                cx.push(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("`{word}` needs {needs}, found {ty}"),
                        *op_span,
                        format!("`{word}` cannot apply to {ty}"),
                    )
                    .with_secondary(operand.span, format!("this is {ty}")),
                );
                return None;
            }
            Some(Typed {
                expr: Expr::Unary(*op, Box::new(inner.expr)),
                ..inner
            })
        }
        ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } => {
            let l = check_expr(lhs, scope, cx);
            let r = check_expr(rhs, scope, cx);
            binary(*op, *op_span, (l?, lhs.span), (r?, rhs.span), cx)
        }
        ExprKind::Between { value, lo, hi } => {
            let v = check_expr(value, scope, cx);
            let l = check_expr(lo, scope, cx);
            let h = check_expr(hi, scope, cx);
            let parts = vec![(v?, value.span), (l?, lo.span), (h?, hi.span)];
            let nullable = parts.iter().any(|(p, _)| p.nullable);
            let mut exprs = unify(parts, Compare::Order, "between", cx)?.into_iter();
            let (Some(v), Some(l), Some(h)) = (exprs.next(), exprs.next(), exprs.next()) else {
                unreachable!("invariant: unify keeps the number of parts")
            };
            Some(Typed {
                expr: Expr::Between(Box::new(v), Box::new(l), Box::new(h)),
                ty: Some(Type::Bool),
                nullable,
            })
        }
        ExprKind::In { value, list } => {
            let v = check_expr(value, scope, cx);
            let items: Vec<Option<Typed>> = list.iter().map(|i| check_expr(i, scope, cx)).collect();
            let mut parts = vec![(v?, value.span)];
            for (item, ast_item) in items.into_iter().zip(list) {
                parts.push((item?, ast_item.span));
            }
            let nullable = parts.iter().any(|(p, _)| p.nullable);
            let mut exprs = unify(parts, Compare::Equal, "in", cx)?.into_iter();
            let value = exprs.next().expect("invariant: `in` has its tested value");
            Some(Typed {
                expr: Expr::In(Box::new(value), exprs.collect()),
                ty: Some(Type::Bool),
                nullable,
            })
        }
    }
}

fn literal(lit: &Literal) -> Typed {
    let (value, ty) = match lit {
        Literal::Int(i) => (Value::Int(*i), Some(Type::Int)),
        Literal::Float(f) => (Value::Float(*f), Some(Type::Float)),
        Literal::Str(s) => (Value::str(s), Some(Type::String)),
        Literal::Bool(b) => (Value::Bool(*b), Some(Type::Bool)),
        Literal::Duration(d) => (Value::Duration(*d), Some(Type::Duration)),
        Literal::Null => (Value::Null, None),
    };
    Typed {
        expr: Expr::Literal(value),
        nullable: ty.is_none(),
        ty,
    }
}

/// The expression as `f64`: integer literals are converted here, other `i64`
/// expressions are wrapped in `Expr::ToFloat`.
pub(crate) fn to_float(t: Typed) -> Expr {
    match (t.ty, t.expr) {
        (Some(Type::Int), Expr::Literal(Value::Int(i))) => Expr::Literal(Value::Float(i as f64)),
        (Some(Type::Int), e) => Expr::ToFloat(Box::new(e)),
        (_, e) => e,
    }
}

/// What a comparison needs of its operands.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// `==`, `!=`, `in`: any type, as long as both sides agree.
    Equal,
    /// `<`, `between`, …: ordered types.
    Order,
}

fn comparable(a: Type, b: Type, how: Compare) -> bool {
    let same_kind = a == b || (a.is_numeric() && b.is_numeric());
    same_kind && (how == Compare::Equal || a != Type::Bool)
}

/// Checks that all `parts` are comparable with each other; converts `i64` parts to `f64`
/// when any part is `f64`.
fn unify(
    parts: Vec<(Typed, Span)>,
    how: Compare,
    what: &str,
    cx: &mut Ctx<'_>,
) -> Option<Vec<Expr>> {
    let known: Vec<(Type, Span)> = parts
        .iter()
        .filter_map(|(t, s)| t.ty.map(|ty| (ty, *s)))
        .collect();
    if let Some((first, first_span)) = known.first().copied() {
        for (ty, span) in known.iter().skip(1) {
            if !comparable(first, *ty, how) {
                let mut d = Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("cannot compare {first} with {ty} in `{what}`"),
                    *span,
                    format!("this is {ty}"),
                )
                .with_secondary(first_span, format!("this is {first}"));
                if first == Type::Bool && how == Compare::Order {
                    d = d.with_help("bools are not ordered");
                }
                cx.push(d);
                return None;
            }
        }
        if how == Compare::Order && first == Type::Bool {
            cx.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{what}` needs ordered values, found bool"),
                    first_span,
                    "this is bool",
                )
                .with_help("bools are not ordered"),
            );
            return None;
        }
    }
    let any_float = known.iter().any(|(t, _)| *t == Type::Float);
    Some(
        parts
            .into_iter()
            .map(|(t, _)| if any_float { to_float(t) } else { t.expr })
            .collect(),
    )
}

fn binary(
    op: BinaryOp,
    op_span: Span,
    (l, l_span): (Typed, Span),
    (r, r_span): (Typed, Span),
    cx: &mut Ctx<'_>,
) -> Option<Typed> {
    use BinaryOp::*;
    use Type::*;
    let nullable = l.nullable || r.nullable;
    let build = |op, l: Expr, r: Expr, ty: Option<Type>, nullable| {
        Some(Typed {
            expr: Expr::Binary(op, Box::new(l), Box::new(r)),
            ty,
            nullable,
        })
    };
    // With a `null` operand the result takes the other side's type.
    let (lt, rt) = match (l.ty, r.ty) {
        (Some(a), Some(b)) => (a, b),
        (a, b) => {
            let ty = match op {
                Eq | Ne | Lt | Le | Gt | Ge | And | Or => Some(Bool),
                _ => a.or(b),
            };
            let nullable = if op == Coalesce { r.nullable } else { true };
            return build(op, l.expr, r.expr, ty, nullable);
        }
    };
    let numeric = lt.is_numeric() && rt.is_numeric();
    let arith_ty = if lt == Int && rt == Int { Int } else { Float };
    let result = match op {
        Add | Sub | Mul | Div | Rem if numeric => Some(arith_ty),
        Add if lt == String && rt == String => Some(String),
        Add if (lt, rt) == (Timestamp, Duration) || (lt, rt) == (Duration, Timestamp) => {
            Some(Timestamp)
        }
        Sub if (lt, rt) == (Timestamp, Duration) => Some(Timestamp),
        Sub if (lt, rt) == (Timestamp, Timestamp) => Some(Duration),
        Add | Sub if (lt, rt) == (Duration, Duration) => Some(Duration),
        Eq | Ne if comparable(lt, rt, Compare::Equal) => Some(Bool),
        Lt | Le | Gt | Ge if comparable(lt, rt, Compare::Order) => Some(Bool),
        And | Or if (lt, rt) == (Bool, Bool) => Some(Bool),
        Coalesce if comparable(lt, rt, Compare::Equal) => {
            Some(if numeric && lt != rt { Float } else { lt })
        }
        _ => None,
    };
    let Some(ty) = result else {
        cx.push(mismatch(op, op_span, (lt, l_span), (rt, r_span), cx.text));
        return None;
    };
    if op == Coalesce && !l.nullable {
        cx.push(
            Diagnostic::warning(
                codes::USELESS_COALESCE,
                "the left side of `??` is never null",
                l_span,
                format!("this is {lt}, which cannot be null"),
            )
            .with_secondary(r_span, "so this default is never used")
            .with_help(format!("remove `?? {}`", r_span.text(cx.text))),
        );
    }
    let r_nullable = r.nullable;
    let (le, re) = if numeric && lt != rt {
        (to_float(l), to_float(r))
    } else {
        (l.expr, r.expr)
    };
    // Numeric arithmetic is null when its result does not fit (overflow, division by zero,
    // NaN or infinity; docs/language.md "Arithmetic"), so its type says it may be null.
    let nullable = match op {
        Coalesce => r_nullable,
        Add | Sub | Mul | Div | Rem if numeric => true,
        _ => nullable,
    };
    build(op, le, re, Some(ty), nullable)
}

fn mismatch(
    op: BinaryOp,
    op_span: Span,
    (lt, l_span): (Type, Span),
    (rt, r_span): (Type, Span),
    text: &str,
) -> Diagnostic {
    use BinaryOp::*;
    use Type::*;
    let verb = match op {
        Add => "add",
        Sub => "subtract",
        Mul => "multiply",
        Div => "divide",
        Rem => "take the remainder of",
        Eq | Ne | Lt | Le | Gt | Ge => "compare",
        And | Or => "combine",
        Coalesce => "default",
    };
    let message = match op {
        And | Or => format!(
            "`{}` needs bool on both sides, found {lt} and {rt}",
            op.symbol()
        ),
        Coalesce => format!("`??` needs the same type on both sides, found {lt} and {rt}"),
        Eq | Ne | Lt | Le | Gt | Ge => format!("cannot compare {lt} with {rt}"),
        _ => format!("cannot {verb} {lt} and {rt}"),
    };
    let help = match (op, lt, rt) {
        (Add, String, _) => Some(format!("convert first: `{} + to_string({})`", l_span.text(text), r_span.text(text))),
        (Add, _, String) => Some(format!("convert first: `to_string({}) + {}`", l_span.text(text), r_span.text(text))),
        (Eq | Ne | Lt | Le | Gt | Ge, Timestamp, Int | Float) | (Eq | Ne | Lt | Le | Gt | Ge, Int | Float, Timestamp) => {
            Some("compare timestamps with timestamps, e.g. `ts > window.start`, or subtract to get a duration".to_string())
        }
        (_, Duration, Int | Float) | (_, Int | Float, Duration) => {
            Some("durations need a unit: write `10s` rather than `10`".to_string())
        }
        (Lt | Le | Gt | Ge, Bool, Bool) => Some("bools are not ordered".to_string()),
        _ => None,
    };
    Diagnostic::error(
        codes::TYPE_MISMATCH,
        message,
        op_span,
        format!("{lt} {} {rt}", op.symbol()),
    )
    .with_secondary(l_span, format!("this is {lt}"))
    .with_secondary(r_span, format!("this is {rt}"))
    .with_help_opt(help)
}
