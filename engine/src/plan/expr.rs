//! Typed, slot-resolved expressions and aggregate calls of the logical plan.

use serde::{Deserialize, Serialize};

use crate::schema::Type;
use crate::value::Value;

/// An expression over one record. Field references are slots of the input schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A constant.
    Literal(Value),
    /// The value in a slot of the input record; the name is kept for `explain`.
    Field {
        /// Slot in the input schema.
        slot: usize,
        /// Field name, for display.
        name: String,
    },
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `x between lo and hi` (inclusive).
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `x in [a, b, …]`.
    In(Box<Expr>, Vec<Expr>),
    /// `f(args…)`.
    Call(Function, Vec<Expr>),
    /// Conversion of an integer to a float, inserted by the checker where types mix.
    ToFloat(Box<Expr>),
    /// `if`/`case`: the value of the first branch whose condition is true (null counts as
    /// false), else the default.
    Cond(Vec<(Expr, Expr)>, Box<Expr>),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnaryOp {
    /// Arithmetic negation.
    Neg,
    /// Boolean negation.
    Not,
}

/// Binary operators. Arithmetic on mixed `i64`/`f64` operands is float arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `+` (numbers; timestamp + duration; string concatenation)
    Add,
    /// `-` (numbers; timestamp − duration; timestamp − timestamp = duration)
    Sub,
    /// `*`
    Mul,
    /// `/` (integer division on `i64`; division by zero gives null)
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
    /// `??`: left unless null, else right.
    Coalesce,
}

impl BinaryOp {
    /// The operator as users write it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Coalesce => "??",
        }
    }
}

/// Built-in scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Function {
    /// `abs(x)`
    Abs,
    /// `round(x)` to the nearest integer-valued float; `round(x, digits)`
    Round,
    /// `floor(x)`
    Floor,
    /// `ceil(x)`
    Ceil,
    /// `sqrt(x)`
    Sqrt,
    /// `pow(x, y)`: x to the power y (f64; null when not finite)
    Pow,
    /// `log(x)` natural logarithm, `log(x, base)` (null for x ≤ 0)
    Log,
    /// `exp(x)`
    Exp,
    /// `min(a, b, …)` of values (nulls ignored)
    Least,
    /// `max(a, b, …)` of values (nulls ignored)
    Greatest,
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `len(s)`
    Len,
    /// `concat(a, b, …)` of strings
    Concat,
    /// `date(ts)`: the UTC day as `YYYY-MM-DD`
    Date,
    /// `hour(ts)`: UTC hour 0–23
    Hour,
    /// `to_string(x)`
    ToString,
    /// `string(x)`, the same as `to_string(x)`
    String,
    /// `int(x)`: i64 from a number (truncated), bool, string, timestamp or duration (ms)
    Int,
    /// `float(x)`: f64 from a number, bool, string, timestamp or duration (ms)
    Float,
    /// `timestamp(x)` from RFC 3339 text or epoch ms; `timestamp(s, format)` (strftime, UTC)
    Timestamp,
    /// `coalesce(a, b, …)`: the first value that is not null
    Coalesce,
    /// `now()`: processing time
    Now,
    /// `regex_match(s, pattern)`: whether the pattern matches somewhere in `s`
    RegexMatch,
    /// `regex_extract(s, pattern[, group])`: the first match (or its group), null if none
    RegexExtract,
    /// `split(s, sep, i)`: the i-th (0-based) part of `s` split at `sep`, null if none
    Split,
    /// `trim(s)`: without leading and trailing whitespace
    Trim,
    /// `substr(s, start[, len])`: characters from `start` (0-based; negative from the end)
    Substr,
}

impl Function {
    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            Function::Abs => "abs",
            Function::Round => "round",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Sqrt => "sqrt",
            Function::Pow => "pow",
            Function::Log => "log",
            Function::Exp => "exp",
            Function::Least => "min",
            Function::Greatest => "max",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Len => "len",
            Function::Concat => "concat",
            Function::Date => "date",
            Function::Hour => "hour",
            Function::ToString => "to_string",
            Function::String => "string",
            Function::Int => "int",
            Function::Float => "float",
            Function::Timestamp => "timestamp",
            Function::Coalesce => "coalesce",
            Function::Now => "now",
            Function::RegexMatch => "regex_match",
            Function::RegexExtract => "regex_extract",
            Function::Split => "split",
            Function::Trim => "trim",
            Function::Substr => "substr",
        }
    }

    /// Every function, for name resolution and "did you mean".
    pub const ALL: [Function; 28] = [
        Function::Abs,
        Function::Round,
        Function::Floor,
        Function::Ceil,
        Function::Sqrt,
        Function::Pow,
        Function::Log,
        Function::Exp,
        Function::Least,
        Function::Greatest,
        Function::Lower,
        Function::Upper,
        Function::Len,
        Function::Concat,
        Function::Date,
        Function::Hour,
        Function::ToString,
        Function::String,
        Function::Int,
        Function::Float,
        Function::Timestamp,
        Function::Coalesce,
        Function::Now,
        Function::RegexMatch,
        Function::RegexExtract,
        Function::Split,
        Function::Trim,
        Function::Substr,
    ];
}

/// The largest `n` of `top(x, n)` / `bottom(x, n)`: each group keeps up to `n` records.
pub const MAX_TOP_N: u32 = 1000;

/// Aggregate functions of the `aggregate` stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggFunc {
    /// `count()`: number of records (i64).
    Count,
    /// `sum(x)`: i64 for i64 input, else f64; nulls skipped.
    Sum,
    /// `avg(x)`: f64; nulls skipped; null when nothing was summed.
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `first(x)`: the non-null value with the earliest event time (ties: the least value).
    First,
    /// `last(x)`: the non-null value with the latest event time (ties: the greatest value).
    Last,
    /// `stddev(x)`: sample standard deviation (n − 1); null below two values.
    Stddev,
    /// `stddev_pop(x)`: population standard deviation (n); null without values.
    StddevPop,
    /// `variance(x)`: sample variance (n − 1); null below two values.
    Variance,
    /// `variance_pop(x)`: population variance (n); null without values.
    VariancePop,
    /// `distinct_count(x)`: exact number of distinct non-null values.
    DistinctCount,
    /// `approx_distinct_count(x)`: HyperLogLog++ estimate (precision 14, standard error
    /// 0.81%; exact below about 12 000 values, where it keeps the values' hashes sparse).
    ApproxDistinctCount,
    /// `percentile(x, p)`: the nearest-rank p-quantile, `p` in parts per million
    /// (`percentile(x, 0.99)` is `Percentile(990_000)`); exact up to
    /// [`crate::aggregate::EXACT_PERCENTILE_LIMIT`] values, then a DDSketch with 1%
    /// relative error.
    Percentile(u32),
    /// `arg_max(x) [keep {a, b}]`: the greatest `x`, with fields of its record. Ties: the
    /// earliest event time wins, then the least kept values, so the winner is the same
    /// whatever the arrival order.
    ArgMax,
    /// `arg_min(x) [keep {a, b}]`: the least `x`; ties as `arg_max`.
    ArgMin,
    /// `collect(x)`: the non-null values as a list in event-time order (ties: by value).
    Collect,
    /// `top(x, n) [keep {a, b}]`: the `n` records with the greatest `x`, as a list of
    /// their `x` (best first) and a list per kept field; ties as `arg_max`.
    Top(u32),
    /// `bottom(x, n) [keep {a, b}]`: the `n` records with the least `x`; ties as `arg_max`.
    Bottom(u32),
}

impl AggFunc {
    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::First => "first",
            AggFunc::Last => "last",
            AggFunc::Stddev => "stddev",
            AggFunc::StddevPop => "stddev_pop",
            AggFunc::Variance => "variance",
            AggFunc::VariancePop => "variance_pop",
            AggFunc::DistinctCount => "distinct_count",
            AggFunc::ApproxDistinctCount => "approx_distinct_count",
            AggFunc::Percentile(_) => "percentile",
            AggFunc::ArgMax => "arg_max",
            AggFunc::ArgMin => "arg_min",
            AggFunc::Collect => "collect",
            AggFunc::Top(_) => "top",
            AggFunc::Bottom(_) => "bottom",
        }
    }

    /// Whether partial accumulators of this aggregate can be combined (sessions merge
    /// them; an optimizer may pre-aggregate before the exchange). Every aggregate is.
    pub fn mergeable(self) -> bool {
        match self {
            AggFunc::Count
            | AggFunc::Sum
            | AggFunc::Avg
            | AggFunc::Min
            | AggFunc::Max
            | AggFunc::First
            | AggFunc::Last
            | AggFunc::Stddev
            | AggFunc::StddevPop
            | AggFunc::Variance
            | AggFunc::VariancePop
            | AggFunc::DistinctCount
            | AggFunc::ApproxDistinctCount
            | AggFunc::Percentile(_)
            | AggFunc::ArgMax
            | AggFunc::ArgMin
            | AggFunc::Collect
            | AggFunc::Top(_)
            | AggFunc::Bottom(_) => true,
        }
    }

    /// Every aggregate, for name resolution and "did you mean" (`percentile` with p = 0,
    /// `top` and `bottom` with n = 0).
    pub const ALL: [AggFunc; 19] = [
        AggFunc::Count,
        AggFunc::Sum,
        AggFunc::Avg,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::First,
        AggFunc::Last,
        AggFunc::Stddev,
        AggFunc::StddevPop,
        AggFunc::Variance,
        AggFunc::VariancePop,
        AggFunc::DistinctCount,
        AggFunc::ApproxDistinctCount,
        AggFunc::Percentile(0),
        AggFunc::ArgMax,
        AggFunc::ArgMin,
        AggFunc::Collect,
        AggFunc::Top(0),
        AggFunc::Bottom(0),
    ];

    /// `n` of `top(x, n)` / `bottom(x, n)`.
    pub fn ranked(self) -> Option<u32> {
        match self {
            AggFunc::Top(n) | AggFunc::Bottom(n) => Some(n),
            _ => None,
        }
    }
}

/// One output field of `aggregate`: `name = func(arg)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Output field name.
    pub name: String,
    /// The aggregate function.
    pub func: AggFunc,
    /// Its argument (`None` for `count()`).
    pub arg: Option<Expr>,
    /// The argument's type (output type follows from it and `func`).
    pub arg_type: Option<Type>,
    /// `arg_max`/`arg_min … keep {a, b}`: fields of the winning record, output as
    /// `<name>.<field>` after the aggregate's own field (for `top`/`bottom`, a list of
    /// each ranked record's field).
    #[serde(default)]
    pub keep: Vec<KeptField>,
}

/// A field `arg_max`/`arg_min` keeps from the winning record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeptField {
    /// Its slot in the aggregate's input.
    pub slot: usize,
    /// Its name and type in the input.
    pub field: crate::schema::Field,
}
