//! `detect anomaly in <field> using <algorithm>(<params>) [warmup <n> events] as <name>`:
//! the algorithm and every parameter are checked against the table below (names with "did
//! you mean", kinds, ranges, `95%`-style percentages), the field must be numeric, and the
//! stage adds `<name>.score: f64` and `<name>.is_anomaly: bool` to the record.

use weir_engine::ml::{
    ArtimeParams, CadOseParams, ContextualParams, DetectorSpec, RcfParams, SpikeDipParams,
    SpikeMode, ZscoreParams,
};
use weir_engine::schema::Type;

use super::scope::{Scope, ScopeField, Ty};
use super::{Ctx, Op};
use crate::ast::{DetectAst, Ident, OptionValueKind, ParamValue};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// What a parameter accepts.
#[derive(Clone, Copy)]
enum Kind {
    /// A whole number of at least this.
    Count(i64),
    /// A probability: `95%` or `0.95`, strictly between 0 and 1.
    Fraction,
    /// A positive number.
    Positive,
    /// `spikes`, `dips` or `both`.
    Mode,
    /// Any finite number (a value of the watched field).
    Number,
}

impl Kind {
    fn describe(self) -> String {
        match self {
            Kind::Count(min) => format!("a whole number of at least {min}"),
            Kind::Fraction => "a percentage such as `95%` (or a fraction such as `0.95`)".into(),
            Kind::Positive => "a positive number".into(),
            Kind::Mode => "`spikes`, `dips` or `both`".into(),
            Kind::Number => "a number such as `-5.0` or `120`".into(),
        }
    }
}

const ALGORITHMS: [&str; 6] = [
    "zscore",
    "spike_dip",
    "rcf",
    "contextual",
    "cad_ose",
    "artime",
];

fn params_of(algorithm: &str) -> &'static [(&'static str, Kind)] {
    match algorithm {
        "zscore" => &[("window", Kind::Count(2)), ("threshold", Kind::Positive)],
        "spike_dip" => &[
            ("confidence", Kind::Fraction),
            ("history", Kind::Count(2)),
            ("mode", Kind::Mode),
        ],
        "rcf" => &[
            ("trees", Kind::Count(1)),
            ("sample", Kind::Count(4)),
            ("shingle", Kind::Count(1)),
            ("seed", Kind::Count(0)),
            ("threshold", Kind::Fraction),
        ],
        "cad_ose" => &[
            ("min", Kind::Number),
            ("max", Kind::Number),
            ("learning", Kind::Count(2)),
            ("rest", Kind::Count(1)),
            ("threshold", Kind::Fraction),
            ("bits", Kind::Count(1)),
            ("neurons", Kind::Count(1)),
            ("contexts", Kind::Count(16)),
        ],
        "artime" => &[
            ("min", Kind::Number),
            ("max", Kind::Number),
            ("probation", Kind::Count(32)),
            ("categories", Kind::Count(2)),
            ("threshold", Kind::Fraction),
        ],
        _ => &[
            ("bins", Kind::Count(2)),
            ("order", Kind::Count(0)),
            ("learning", Kind::Count(2)),
            ("short", Kind::Count(1)),
            ("long", Kind::Count(2)),
            ("table", Kind::Count(64)),
            ("threshold", Kind::Fraction),
            ("quiet", Kind::Count(0)),
        ],
    }
}

/// A checked parameter value.
#[derive(Clone, Copy)]
enum Checked {
    Int(i64),
    Float(f64),
    Mode(SpikeMode),
}

/// The slot of `field` if it is a number; otherwise reports why, starting with `what`
/// (e.g. "`detect` watches a number"). Shared by `detect` and `forecast`.
pub(crate) fn numeric_field(
    field: &crate::ast::Ident,
    what: &str,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<usize> {
    match scope.lookup(&field.name, field.span, cx) {
        Some((
            slot,
            Ty {
                ty: Type::Int | Type::Float,
                ..
            },
        )) => Some(slot),
        Some((_, ty)) => {
            cx.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("{what}, `{}` is {}", field.name, ty.display()),
                    field.span,
                    format!("this is {}", ty.display()),
                )
                // No built-in function turns another type into a number.
                .with_help("name an `f64` or `i64` field"),
            );
            None
        }
        None => None,
    }
}

/// Checks a `detect` stage on records described by `scope`, keyed by `keys`; returns the
/// operation and the scope after it.
pub(crate) fn check_detect(
    d: &DetectAst,
    keys: &[usize],
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let mut ok = true;
    let field = numeric_field(&d.field, "`detect` watches a number", scope, cx);
    let spec = algorithm_spec(d, cx);
    if let Some((n, span)) = d.warmup {
        if n < 0 {
            ok = false;
            cx.push(bad_param(
                "warmup",
                span,
                "`warmup` is a count of events, at least 0",
            ));
        }
    }
    let mut out = scope.clone();
    for suffix in ["score", "is_anomaly"] {
        let name = format!("{}.{suffix}", d.name.name);
        if ok && scope.slot(&name).is_some() {
            ok = false;
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("field `{name}` already exists"),
                    d.name.span,
                    "this name is taken",
                )
                .with_help("pick another name after `as`"),
            );
        }
        out.fields.push(ScopeField {
            name,
            ty: Some(Ty {
                ty: if suffix == "score" {
                    Type::Float
                } else {
                    Type::Bool
                },
                nullable: false,
            }),
        });
    }
    let op = match (field, spec, ok) {
        (Some(field), Some(detector), true) => Some(Op::Detect {
            keys: keys.to_vec(),
            field,
            detector,
            warmup: d.warmup.map_or(0, |(n, _)| n.max(0) as u64),
            name: d.name.name.clone(),
        }),
        _ => None,
    };
    (op, out)
}

fn algorithm_spec(d: &DetectAst, cx: &mut Ctx<'_>) -> Option<DetectorSpec> {
    let algorithm = d.algorithm.name.as_str();
    if !ALGORITHMS.contains(&algorithm) {
        cx.push(
            Diagnostic::error(
                codes::UNKNOWN_DETECTOR,
                format!("unknown anomaly detector `{algorithm}`"),
                d.algorithm.span,
                "not a detector",
            )
            .with_help(match did_you_mean(algorithm, ALGORITHMS) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("detectors are {}", quoted(&ALGORITHMS)),
            }),
        );
        return None;
    }
    let table = params_of(algorithm);
    let mut values: Vec<(&str, Checked)> = Vec::new();
    let mut ok = true;
    for (name, value) in &d.params {
        let Some(&(_, kind)) = table.iter().find(|(n, _)| *n == name.name) else {
            ok = false;
            cx.push(unknown_param(algorithm, name, table));
            continue;
        };
        if values.iter().any(|(n, _)| *n == name.name) {
            ok = false;
            cx.push(bad_param(
                &name.name,
                name.span,
                &format!("`{}` is given twice", name.name),
            ));
            continue;
        }
        match checked(kind, value) {
            Some(v) => values.push((table_name(table, &name.name), v)),
            None => {
                ok = false;
                cx.push(bad_param(
                    &name.name,
                    value.span(),
                    &format!("`{}` takes {}", name.name, kind.describe()),
                ));
            }
        }
    }
    if !ok {
        return None;
    }
    Some(spec_of(algorithm, &values))
}

/// The detector `algorithm` with the checked `values`, defaults for the rest.
fn spec_of(algorithm: &str, values: &[(&str, Checked)]) -> DetectorSpec {
    let get = |n: &str| values.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    let count = |n: &str, default: usize| match get(n) {
        Some(Checked::Int(i)) => i as usize,
        _ => default,
    };
    let float = |n: &str, default: f64| match get(n) {
        Some(Checked::Float(f)) => f,
        Some(Checked::Int(i)) => i as f64,
        _ => default,
    };
    let number = |n: &str| match get(n) {
        Some(Checked::Float(f)) => Some(f),
        Some(Checked::Int(i)) => Some(i as f64),
        _ => None,
    };
    match algorithm {
        "zscore" => {
            let p = ZscoreParams::default();
            DetectorSpec::Zscore(ZscoreParams {
                window: count("window", p.window),
                threshold: float("threshold", p.threshold),
            })
        }
        "spike_dip" => {
            let p = SpikeDipParams::default();
            DetectorSpec::SpikeDip(SpikeDipParams {
                confidence: float("confidence", p.confidence),
                history: count("history", p.history),
                mode: match get("mode") {
                    Some(Checked::Mode(m)) => m,
                    _ => p.mode,
                },
            })
        }
        "rcf" => {
            let p = RcfParams::default();
            DetectorSpec::Rcf(RcfParams {
                trees: count("trees", p.trees),
                sample: count("sample", p.sample),
                shingle: count("shingle", p.shingle),
                seed: count("seed", p.seed as usize) as u64,
                threshold: float("threshold", p.threshold),
            })
        }
        "cad_ose" => {
            let p = CadOseParams::default();
            DetectorSpec::CadOse(CadOseParams {
                min: number("min"),
                max: number("max"),
                learning: count("learning", p.learning),
                rest: count("rest", p.rest),
                threshold: float("threshold", p.threshold),
                bits: count("bits", p.bits),
                neurons: count("neurons", p.neurons),
                contexts: count("contexts", p.contexts),
            })
        }
        "artime" => {
            let p = ArtimeParams::default();
            DetectorSpec::Artime(ArtimeParams {
                min: number("min"),
                max: number("max"),
                probation: count("probation", p.probation),
                categories: count("categories", p.categories),
                threshold: float("threshold", p.threshold),
            })
        }
        _ => {
            let p = ContextualParams::default();
            DetectorSpec::Contextual(ContextualParams {
                bins: count("bins", p.bins),
                order: count("order", p.order),
                learning: count("learning", p.learning),
                short: count("short", p.short),
                long: count("long", p.long),
                table: count("table", p.table),
                threshold: float("threshold", p.threshold),
                quiet: count("quiet", p.quiet),
            })
        }
    }
}

fn table_name(table: &'static [(&'static str, Kind)], name: &str) -> &'static str {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(n, _)| n)
}

fn checked(kind: Kind, value: &ParamValue) -> Option<Checked> {
    let v = match value {
        ParamValue::Percent(f, _) => {
            return match kind {
                Kind::Fraction if *f > 0.0 && *f < 1.0 => Some(Checked::Float(*f)),
                _ => None,
            }
        }
        ParamValue::Value(v) => &v.kind,
    };
    match (kind, v) {
        (Kind::Count(min), OptionValueKind::Int(i)) if *i >= min => Some(Checked::Int(*i)),
        (Kind::Fraction, OptionValueKind::Float(f)) if *f > 0.0 && *f < 1.0 => {
            Some(Checked::Float(*f))
        }
        (Kind::Positive, OptionValueKind::Float(f)) if *f > 0.0 => Some(Checked::Float(*f)),
        (Kind::Positive, OptionValueKind::Int(i)) if *i > 0 => Some(Checked::Float(*i as f64)),
        (Kind::Number, OptionValueKind::Int(i)) => Some(Checked::Float(*i as f64)),
        (Kind::Number, OptionValueKind::Float(f)) if f.is_finite() => Some(Checked::Float(*f)),
        (Kind::Mode, OptionValueKind::Ident(m)) => match m.as_str() {
            "spikes" => Some(Checked::Mode(SpikeMode::Spikes)),
            "dips" => Some(Checked::Mode(SpikeMode::Dips)),
            "both" => Some(Checked::Mode(SpikeMode::Both)),
            _ => None,
        },
        _ => None,
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_param(algorithm: &str, name: &Ident, table: &[(&str, Kind)]) -> Diagnostic {
    let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    Diagnostic::error(
        codes::BAD_DETECTOR_PARAMETER,
        format!("`{algorithm}` has no parameter `{}`", name.name),
        name.span,
        "unknown parameter",
    )
    .with_help(match did_you_mean(&name.name, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("`{algorithm}` takes {}", quoted(&names)),
    })
}

fn bad_param(name: &str, span: Span, help: &str) -> Diagnostic {
    Diagnostic::error(
        codes::BAD_DETECTOR_PARAMETER,
        format!("bad value for `{name}`"),
        span,
        "not accepted here",
    )
    .with_help(help.to_string())
}
