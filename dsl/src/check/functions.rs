//! Signatures of the built-in scalar functions (`abs`, `round`, `lower`, `date`, …).

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
/// functions there are (`to_string` is the only conversion: nothing turns a string into
/// a number, nor an `f64` into an `i64`).
pub(crate) fn conversion(from: Type, to: Type, arg: &str) -> Option<String> {
    (to == Type::String && from != Type::String)
        .then(|| format!("{}({arg})", Function::ToString.name()))
}

/// What a parameter accepts.
#[derive(Clone, Copy)]
enum Param {
    Numeric,
    Int,
    Str,
    Timestamp,
    Any,
}

impl Param {
    fn accepts(self, ty: Type) -> bool {
        match self {
            Param::Numeric => ty.is_numeric(),
            Param::Int => ty == Type::Int,
            Param::Str => ty == Type::String,
            Param::Timestamp => ty == Type::Timestamp,
            Param::Any => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Param::Numeric => "a number",
            Param::Int => "an i64",
            Param::Str => "a string",
            Param::Timestamp => "a timestamp",
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

struct Signature {
    /// Required parameters, then optional ones.
    params: &'static [Param],
    required: usize,
    /// Extra arguments like the last parameter (`concat`).
    variadic: bool,
    returns: Returns,
    usage: &'static str,
}

fn signature(f: Function) -> Signature {
    use Param::*;
    let sig = |params, required, returns, usage| Signature {
        params,
        required,
        variadic: false,
        returns,
        usage,
    };
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
        Function::Sqrt => sig(&[Numeric], 1, Returns::Float, "sqrt(x)"),
        Function::Lower => sig(&[Str], 1, Returns::Fixed(Type::String), "lower(s)"),
        Function::Upper => sig(&[Str], 1, Returns::Fixed(Type::String), "upper(s)"),
        Function::Len => sig(&[Str], 1, Returns::Fixed(Type::Int), "len(s)"),
        Function::Concat => Signature {
            variadic: true,
            ..sig(&[Str], 1, Returns::Fixed(Type::String), "concat(a, b, …)")
        },
        Function::Date => sig(&[Timestamp], 1, Returns::Fixed(Type::String), "date(ts)"),
        Function::Hour => sig(&[Timestamp], 1, Returns::Fixed(Type::Int), "hour(ts)"),
        Function::ToString => sig(&[Any], 1, Returns::Fixed(Type::String), "to_string(x)"),
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
    let Some(f) = Function::ALL
        .iter()
        .copied()
        .find(|f| f.name() == func.name)
    else {
        if let Some(agg) = AggFunc::ALL.iter().find(|a| a.name() == func.name) {
            cx.push(
                Diagnostic::error(
                    codes::MISPLACED_AGGREGATE,
                    format!("`{}` is an aggregate function", agg.name()),
                    func.span,
                    "aggregates only work in `aggregate`",
                )
                .with_help("aggregates are computed per window: `| window tumbling 1m | aggregate x = avg(…)`"),
            );
            return None;
        }
        let names = Function::ALL.iter().map(|f| f.name());
        cx.push(
            Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{}`", func.name),
                func.span,
                "no such function",
            )
            .with_help_opt(did_you_mean(&func.name, names).map(|s| format!("did you mean `{s}`?")))
            .with_note(format!(
                "functions: {}",
                Function::ALL
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
        return None;
    };
    let sig = signature(f);
    let n = args.len();
    let too_many = !sig.variadic && n > sig.params.len();
    if n < sig.required || too_many {
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
        return None;
    }
    let mut exprs = Vec::with_capacity(n);
    let mut nullable = false;
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
