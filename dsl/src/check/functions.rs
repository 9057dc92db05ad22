//! Signatures of the built-in scalar functions (`abs`, `round`, `lower`, `date`, …).
//!
//! `min`/`max` with two or more values and `coalesce` take values of one type
//! ([`super::choice`]); patterns and time formats must be constants, checked here.

use weir_engine::plan::{AggFunc, Expr, Function};
use weir_engine::schema::Type;

use super::types::Typed;
use super::Ctx;
use crate::ast::Ident;
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// The call of a built-in function that turns `arg`, a `from` value, into a `to` value,
/// if one exists. Help texts that suggest a conversion ask here, so they only name
/// functions there are: `to_string`, and the conversions `int`, `float` and `timestamp`
/// (which give null where the value does not convert, as `"abc"` into an `i64`).
pub(crate) fn conversion(from: Type, to: Type, arg: &str) -> Option<String> {
    let func = match (from, to) {
        (f, t) if f == t => return None,
        (_, Type::String) => Function::ToString,
        (Type::String | Type::Float | Type::Bool | Type::Timestamp | Type::Duration, Type::Int) => {
            Function::Int
        }
        (Type::String | Type::Int | Type::Bool, Type::Float) => Function::Float,
        (Type::String | Type::Int, Type::Timestamp) => Function::Timestamp,
        _ => return None,
    };
    Some(format!("{}({arg})", func.name()))
}

/// What a parameter accepts.
#[derive(Clone, Copy)]
enum Param {
    Numeric,
    Int,
    Str,
    /// Text, or a list (`len`).
    StrOrList,
    Timestamp,
    /// Text, epoch milliseconds or a timestamp (`timestamp(x)`).
    TimeSource,
    /// Any value but a list (conversions).
    Scalar,
    Any,
}

impl Param {
    fn accepts(self, ty: Type) -> bool {
        match self {
            Param::Numeric => ty.is_numeric(),
            Param::Int => ty == Type::Int,
            Param::Str => ty == Type::String,
            Param::StrOrList => matches!(ty, Type::String | Type::List(_)),
            Param::Scalar => !matches!(ty, Type::List(_)),
            Param::Timestamp => ty == Type::Timestamp,
            Param::TimeSource => matches!(ty, Type::String | Type::Int | Type::Timestamp),
            Param::Any => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Param::Numeric => "a number",
            Param::Int => "an i64",
            Param::Str => "a string",
            Param::StrOrList => "a string or a list",
            Param::Scalar => "a single value (not a list)",
            Param::Timestamp => "a timestamp",
            Param::TimeSource => "a string or epoch milliseconds (i64)",
            Param::Any => "a value",
        }
    }
}

/// The result type of a function.
#[derive(Clone, Copy)]
enum Returns {
    /// The type of the first argument.
    SameAsFirst,
    /// `f64`; integer arguments are converted first.
    Float,
    Fixed(Type),
}

/// When the result may be null.
#[derive(Clone, Copy)]
enum Nulls {
    /// When an argument may be.
    Args,
    /// Always: the function gives null where it cannot compute (`log(0)`, no match).
    Always,
    /// When an argument may be, or the first is text or a float (`int("x")`, `int(NaN)`).
    ArgsOrParsed,
}

struct Signature {
    /// Required parameters, then optional ones.
    params: &'static [Param],
    required: usize,
    /// Extra arguments like the last parameter (`concat`).
    variadic: bool,
    returns: Returns,
    nulls: Nulls,
    usage: &'static str,
}

fn signature(f: Function) -> Signature {
    use Param::*;
    let sig = |params, required, returns, usage| Signature {
        params,
        required,
        variadic: false,
        returns,
        nulls: Nulls::Args,
        usage,
    };
    let always = |s: Signature| Signature {
        nulls: Nulls::Always,
        ..s
    };
    let parsed = |s: Signature| Signature {
        nulls: Nulls::ArgsOrParsed,
        ..s
    };
    let text = Returns::Fixed(Type::String);
    match f {
        Function::Abs => sig(&[Numeric], 1, Returns::SameAsFirst, "abs(x)"),
        Function::Round => sig(
            &[Numeric, Int],
            1,
            Returns::Float,
            "round(x) or round(x, digits)",
        ),
        Function::Floor => sig(&[Numeric], 1, Returns::Float, "floor(x)"),
        Function::Ceil => sig(&[Numeric], 1, Returns::Float, "ceil(x)"),
        // Null below zero (no NaN ever reaches a record), so `f64?`.
        Function::Sqrt => always(sig(&[Numeric], 1, Returns::Float, "sqrt(x)")),
        Function::Pow => always(sig(&[Numeric, Numeric], 2, Returns::Float, "pow(x, y)")),
        Function::Log => always(sig(
            &[Numeric, Numeric],
            1,
            Returns::Float,
            "log(x) or log(x, base)",
        )),
        Function::Exp => always(sig(&[Numeric], 1, Returns::Float, "exp(x)")),
        // Checked by `choice`; these entries only give the usage.
        Function::Least => sig(&[Any], 2, Returns::SameAsFirst, "min(a, b, …)"),
        Function::Greatest => sig(&[Any], 2, Returns::SameAsFirst, "max(a, b, …)"),
        Function::Coalesce => sig(&[Any], 2, Returns::SameAsFirst, "coalesce(a, b, …)"),
        Function::Lower => sig(&[Str], 1, text, "lower(s)"),
        Function::Upper => sig(&[Str], 1, text, "upper(s)"),
        Function::Len => sig(&[StrOrList], 1, Returns::Fixed(Type::Int), "len(s)"),
        Function::Trim => sig(&[Str], 1, text, "trim(s)"),
        Function::Substr => sig(
            &[Str, Int, Int],
            2,
            text,
            "substr(s, start) or substr(s, start, len)",
        ),
        Function::Concat => Signature {
            variadic: true,
            ..sig(&[Str], 1, text, "concat(a, b, …)")
        },
        Function::Date => sig(&[Timestamp], 1, text, "date(ts)"),
        Function::Hour => sig(&[Timestamp], 1, Returns::Fixed(Type::Int), "hour(ts)"),
        Function::ToString => sig(&[Any], 1, text, "to_string(x)"),
        Function::String => sig(&[Any], 1, text, "string(x)"),
        Function::Int => parsed(sig(&[Scalar], 1, Returns::Fixed(Type::Int), "int(x)")),
        Function::Float => parsed(sig(&[Scalar], 1, Returns::Fixed(Type::Float), "float(x)")),
        Function::Timestamp => parsed(sig(
            &[TimeSource, Str],
            1,
            Returns::Fixed(Type::Timestamp),
            "timestamp(x) or timestamp(text, \"%d/%m/%Y %H:%M\")",
        )),
        Function::Now => sig(&[], 0, Returns::Fixed(Type::Timestamp), "now()"),
        Function::RegexMatch => sig(
            &[Str, Str],
            2,
            Returns::Fixed(Type::Bool),
            "regex_match(s, \"pattern\")",
        ),
        Function::RegexExtract => always(sig(
            &[Str, Str, Int],
            2,
            text,
            "regex_extract(s, \"pattern\") or regex_extract(s, \"pattern\", group)",
        )),
        Function::Split => always(sig(&[Str, Str, Int], 3, text, "split(s, \",\", index)")),
    }
}

/// Checks a call of a scalar function. `args` are the checked arguments (`None` where an
/// argument had an error), with their spans.
pub(crate) fn check_call(
    func: &Ident,
    args: Vec<(Option<Typed>, Span)>,
    call_span: Span,
    cx: &mut Ctx<'_>,
) -> Option<Typed> {
    // `min(x)` / `max(x)` of one value are the aggregates; of several, functions.
    let scalar = |f: &Function| {
        f.name() == func.name
            && (args.len() >= 2 || !matches!(f, Function::Least | Function::Greatest))
    };
    let Some(f) = Function::ALL.iter().copied().find(scalar) else {
        report_unknown(func, cx);
        return None;
    };
    let sig = signature(f);
    if matches!(f, Function::Least | Function::Greatest | Function::Coalesce) {
        return super::choice::check(f, args, call_span, sig.usage, cx);
    }
    let spans: Vec<Span> = args.iter().map(|(_, s)| *s).collect();
    let n = args.len();
    if !arity_fits(f, &sig, n, call_span, cx) {
        return None;
    }
    let mut exprs = Vec::with_capacity(n);
    let mut nullable = matches!(sig.nulls, Nulls::Always);
    let mut first_ty = None;
    let mut ok = true;
    for (i, (arg, span)) in args.into_iter().enumerate() {
        let param = sig.params[i.min(sig.params.len() - 1)];
        let Some(arg) = arg else {
            ok = false;
            continue;
        };
        nullable |= arg.nullable;
        let Some(ty) = arg.ty else {
            // `null` fits any parameter.
            exprs.push(arg.expr);
            continue;
        };
        if i == 0 {
            first_ty = Some(ty);
            let parses = matches!(ty, Type::String | Type::Float);
            nullable |= matches!(sig.nulls, Nulls::ArgsOrParsed) && parses;
        }
        if !param.accepts(ty) {
            let help = match (param, ty) {
                (Param::Str, _) => Some(format!(
                    "convert it first: `to_string({})`",
                    span.text(cx.text)
                )),
                _ => None,
            };
            cx.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!("`{}` needs {}, found {ty}", f.name(), param.name()),
                    span,
                    format!("this is {ty}"),
                )
                .with_help_opt(help),
            );
            ok = false;
            continue;
        }
        let float_arg = matches!(sig.returns, Returns::Float) && i == 0 && ty == Type::Int;
        exprs.push(if float_arg {
            Expr::ToFloat(Box::new(arg.expr))
        } else {
            arg.expr
        });
    }
    if !ok {
        return None;
    }
    check_constants(f, &exprs, &spans, cx)?;
    let ty = match sig.returns {
        Returns::SameAsFirst => first_ty,
        Returns::Float => Some(Type::Float),
        Returns::Fixed(t) => Some(t),
    };
    Some(Typed {
        expr: Expr::Call(f, exprs),
        ty,
        nullable,
    })
}

/// Reports a call of no scalar function: an aggregate out of place, or an unknown name.
fn report_unknown(func: &Ident, cx: &mut Ctx<'_>) {
    if let Some(agg) = AggFunc::ALL.iter().find(|a| a.name() == func.name) {
        cx.push(
            Diagnostic::error(
                codes::MISPLACED_AGGREGATE,
                format!("`{}` is an aggregate function", agg.name()),
                func.span,
                "aggregates only work in `aggregate`",
            )
            .with_help(
                "aggregates are computed per window: `| window tumbling 1m | aggregate x = avg(…)`",
            ),
        );
        return;
    }
    let names = Function::ALL.iter().map(|f| f.name());
    cx.push(
        Diagnostic::error(
            codes::UNKNOWN_FUNCTION,
            format!("unknown function `{}`", func.name),
            func.span,
            "no such function",
        )
        .with_help_opt(
            did_you_mean(&func.name, names.clone()).map(|s| format!("did you mean `{s}`?")),
        )
        .with_note(format!(
            "functions: {}",
            names.collect::<Vec<_>>().join(", ")
        )),
    );
}

/// Whether `n` arguments fit `f`'s signature; reports P0205 when they do not.
fn arity_fits(f: Function, sig: &Signature, n: usize, call_span: Span, cx: &mut Ctx<'_>) -> bool {
    let too_many = !sig.variadic && n > sig.params.len();
    if n >= sig.required && !too_many {
        return true;
    }
    let expected = if sig.variadic {
        format!("at least {}", sig.required)
    } else if sig.required == sig.params.len() {
        sig.required.to_string()
    } else {
        format!("{} or {}", sig.required, sig.params.len())
    };
    let plural = if expected == "1" { "" } else { "s" };
    cx.push(
        Diagnostic::error(
            codes::BAD_ARGUMENTS,
            format!(
                "`{}` takes {expected} argument{plural}, found {n}",
                f.name()
            ),
            call_span,
            format!("{n} argument{}", if n == 1 { "" } else { "s" }),
        )
        .with_help(format!("write `{}`", sig.usage)),
    );
    false
}

/// The constant a pattern or format argument must be, or a diagnostic.
fn constant<'e>(
    exprs: &'e [Expr],
    spans: &[Span],
    i: usize,
    code: &'static str,
    what: &str,
    cx: &mut Ctx<'_>,
) -> Option<Option<&'e str>> {
    match exprs.get(i) {
        None => Some(None),
        Some(Expr::Literal(weir_engine::value::Value::Str(s))) => Some(Some(s)),
        Some(_) => {
            cx.push(
                Diagnostic::error(
                    code,
                    format!("the {what} must be a constant string"),
                    spans[i],
                    "computed per record",
                )
                .with_help(format!("write the {what} in quotes, e.g. `\"…\"`")),
            );
            None
        }
    }
}

/// Patterns and time formats are constants, valid when checked, so a run never meets a
/// bad one.
fn check_constants(f: Function, exprs: &[Expr], spans: &[Span], cx: &mut Ctx<'_>) -> Option<()> {
    use weir_engine::expression_convert::TimeFormat;
    use weir_engine::expression_text;
    match f {
        Function::RegexMatch | Function::RegexExtract => {
            let pattern = constant(exprs, spans, 1, codes::BAD_PATTERN, "pattern", cx)??;
            let groups = match expression_text::pattern(pattern) {
                Ok(re) => re.captures_len() - 1,
                Err(why) => {
                    let why = why.lines().last().unwrap_or_default().trim();
                    let why = why.trim_start_matches("error: ").to_string();
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_PATTERN,
                            format!("`{pattern}` is not a valid regular expression"),
                            spans[1],
                            why,
                        )
                        .with_note("patterns use the syntax of Rust's regex crate (no look-around or backreferences)"),
                    );
                    return None;
                }
            };
            match exprs.get(2) {
                Some(Expr::Literal(weir_engine::value::Value::Int(g)))
                    if *g >= 0 && (*g as usize) <= groups => {}
                None => {}
                Some(_) => {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_PATTERN,
                            format!(
                                "the pattern has {groups} capture group{}",
                                if groups == 1 { "" } else { "s" }
                            ),
                            spans[2],
                            "no such group",
                        )
                        .with_help(format!(
                            "use a constant from 0 (the whole match) to {groups}"
                        )),
                    );
                    return None;
                }
            }
        }
        Function::Timestamp => {
            let Some(format) =
                constant(exprs, spans, 1, codes::BAD_TIME_FORMAT, "time format", cx)?
            else {
                return Some(());
            };
            if let Err(why) = TimeFormat::new(format) {
                cx.push(
                    Diagnostic::error(codes::BAD_TIME_FORMAT, why, spans[1], "not a usable format")
                        .with_help("use strftime fields, e.g. `\"%d/%m/%Y %H:%M\"` or `\"%Y-%m-%dT%H:%M:%S%z\"`"),
                );
                return None;
            }
        }
        _ => {}
    }
    Some(())
}
