//! Expressions that choose one of several values, which must therefore share a type:
//! `if`/`case`, `coalesce(a, b, …)` and `min`/`max` of values. Mixed `i64`/`f64` values
//! are `f64`; `null` fits any type.

use weir_engine::plan::{Expr, Function};
use weir_engine::schema::Type;

use super::scope::Scope;
use super::types::{check_expr, to_float, Typed};
use super::Ctx;
use crate::ast;
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// The common type of `values` (`None` when all are `null`), or the first disagreeing
/// value with its type.
fn common_type(values: &[(Typed, Span)]) -> Result<Option<Type>, (Type, Span, Type, Span)> {
    let mut known = values.iter().filter_map(|(t, s)| t.ty.map(|ty| (ty, *s)));
    let Some((mut ty, first_span)) = known.next() else {
        return Ok(None);
    };
    for (t, span) in known {
        if t == ty {
            continue;
        }
        if t.is_numeric() && ty.is_numeric() {
            ty = Type::Float;
            continue;
        }
        return Err((ty, first_span, t, span));
    }
    Ok(Some(ty))
}

/// The values converted to the common type.
fn converted(values: Vec<(Typed, Span)>, ty: Option<Type>) -> Vec<Expr> {
    values
        .into_iter()
        .map(|(t, _)| {
            if ty == Some(Type::Float) {
                to_float(t)
            } else {
                t.expr
            }
        })
        .collect()
}

/// `coalesce(…)`, `min(…)`, `max(…)` of values.
pub(crate) fn check(
    f: Function,
    args: Vec<(Option<Typed>, Span)>,
    call_span: Span,
    usage: &str,
    cx: &mut Ctx<'_>,
) -> Option<Typed> {
    if args.len() < 2 {
        cx.push(
            Diagnostic::error(
                codes::BAD_ARGUMENTS,
                format!(
                    "`{}` takes at least 2 arguments, found {}",
                    f.name(),
                    args.len()
                ),
                call_span,
                "too few arguments",
            )
            .with_help(format!("write `{usage}`")),
        );
        return None;
    }
    let mut values = Vec::with_capacity(args.len());
    for (arg, span) in args {
        values.push((arg?, span));
    }
    let ty = match common_type(&values) {
        Ok(ty) => ty,
        Err((first, first_span, other, span)) => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!(
                        "`{}` needs values of one type, found {first} and {other}",
                        f.name()
                    ),
                    span,
                    format!("this is {other}"),
                )
                .with_secondary(first_span, format!("this is {first}"))
                .with_help("convert one of them, e.g. with `float(…)`, `int(…)` or `string(…)`"),
            );
            return None;
        }
    };
    if ty == Some(Type::Bool) && f != Function::Coalesce {
        cx.push(Diagnostic::error(
            codes::BAD_ARGUMENTS,
            format!("`{}` needs ordered values, found bool", f.name()),
            call_span,
            "bools are not ordered",
        ));
        return None;
    }
    // Nulls are skipped, so the result is null only when every value may be.
    let nullable = values.iter().all(|(t, _)| t.nullable);
    Some(Typed {
        expr: Expr::Call(f, converted(values, ty)),
        ty,
        nullable,
    })
}

/// `if c then a else b` and `case when … end`.
pub(crate) fn check_cond(
    branches: &[(ast::Expr, ast::Expr)],
    otherwise: Option<&ast::Expr>,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<Typed> {
    let mut ok = true;
    let mut conditions = Vec::with_capacity(branches.len());
    let mut values = Vec::with_capacity(branches.len() + 1);
    for (c, v) in branches {
        let cond = check_expr(c, scope, cx);
        if let Some(t) = cond
            .as_ref()
            .and_then(|t| t.ty)
            .filter(|t| *t != Type::Bool)
        {
            cx.push(
                Diagnostic::error(
                    codes::BAD_CONDITIONAL,
                    format!("the condition of `if`/`when` must be a bool, found {t}"),
                    c.span,
                    format!("this is {t}"),
                )
                .with_help(format!("compare it, e.g. `{} > 0`", c.span.text(cx.text))),
            );
            ok = false;
        }
        conditions.push(cond);
        values.push(check_expr(v, scope, cx).map(|t| (t, v.span)));
    }
    let otherwise_value = otherwise.map(|o| check_expr(o, scope, cx).map(|t| (t, o.span)));
    let has_else = otherwise_value.is_some();
    values.extend(otherwise_value);
    let values: Vec<(Typed, Span)> = values.into_iter().collect::<Option<_>>()?;
    let conditions: Vec<Typed> = conditions.into_iter().collect::<Option<_>>()?;
    if !ok {
        return None;
    }
    let ty = match common_type(&values) {
        Ok(ty) => ty,
        Err((first, first_span, other, span)) => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_CONDITIONAL,
                    format!("the values of `if`/`case` have different types: {first} and {other}"),
                    span,
                    format!("this is {other}"),
                )
                .with_secondary(first_span, format!("this is {first}"))
                .with_help("every branch must give the same type; convert one, e.g. with `string(…)` or `float(…)`"),
            );
            return None;
        }
    };
    let nullable = !has_else || values.iter().any(|(t, _)| t.nullable);
    let mut exprs = converted(values, ty);
    let otherwise = if has_else {
        exprs
            .pop()
            .unwrap_or(Expr::Literal(weir_engine::value::Value::Null))
    } else {
        Expr::Literal(weir_engine::value::Value::Null)
    };
    let branches = conditions.into_iter().map(|c| c.expr).zip(exprs).collect();
    Some(Typed {
        expr: Expr::Cond(branches, Box::new(otherwise)),
        ty,
        nullable,
    })
}
