//! `forecast <field> horizon <d> [every <d>] using holt_winters(season: <d>, …) as <name>`
//! (or `damped_trend(season: <d>, damping: <φ>, …)`): the field must be numeric, durations
//! positive and the season a whole number of steps;
//! the stage adds `<name>.value`, `<name>.lower` and `<name>.upper` (`f64?`).

use weir_engine::ml::HoltWintersParams;
use weir_engine::schema::Type;

use super::scope::{Scope, ScopeField, Ty};
use super::{durations, Ctx, Op};
use crate::ast::{ForecastAst, OptionValueKind, ParamValue};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

const PARAMS: [&str; 6] = ["season", "alpha", "beta", "gamma", "confidence", "damping"];

/// The forecasting models: `holt_winters` takes every parameter but `damping`.
const MODELS: [&str; 2] = ["holt_winters", "damped_trend"];

/// The smoothing parameters of a model, with their defaults until a parameter says otherwise.
struct Smoothing {
    season: Option<i64>,
    alpha: f64,
    beta: f64,
    gamma: f64,
    confidence: f64,
    damping: f64,
}

/// Checks a `forecast` stage; returns the operation and the scope after it.
pub(crate) fn check_forecast(
    f: &ForecastAst,
    keys: &[usize],
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let field = super::detect::numeric_field(&f.field, "`forecast` needs a number", scope, cx);
    let model = f.algorithm.name.as_str();
    let mut ok = check_model(f, cx);
    let horizon = durations::require(&f.horizon, "forecast horizon", cx);
    let every = match &f.every {
        Some(d) => durations::require(d, "forecast step", cx),
        None => horizon,
    };
    let s = check_params(f, model, &mut ok, cx);
    if s.season.is_none() && ok {
        ok = false;
        cx.push(
            Diagnostic::error(
                codes::BAD_DETECTOR_PARAMETER,
                format!("`{model}` needs a `season`"),
                f.algorithm.span,
                "no season given",
            )
            .with_help(format!(
                "add the length of the cycle, e.g. `{model}(season: 1d)`"
            )),
        );
    }
    ok &= check_steps(f, horizon, every, s.season, cx);
    let out = forecast_scope(f, scope, &mut ok, cx);
    let op = match (field, horizon, every, s.season, ok) {
        (Some(field), Some(horizon_ms), Some(every_ms), Some(season_ms), true) => {
            Some(Op::Forecast {
                keys: keys.to_vec(),
                field,
                params: HoltWintersParams {
                    season_ms,
                    every_ms,
                    horizon_ms,
                    alpha: s.alpha,
                    beta: s.beta,
                    gamma: s.gamma,
                    confidence: s.confidence,
                    damping: s.damping,
                },
                name: f.name.name.clone(),
            })
        }
        _ => None,
    };
    (op, out)
}

/// Reports an unknown model; true when the model is known.
fn check_model(f: &ForecastAst, cx: &mut Ctx<'_>) -> bool {
    let model = f.algorithm.name.as_str();
    if MODELS.contains(&model) {
        return true;
    }
    cx.push(
        Diagnostic::error(
            codes::UNKNOWN_DETECTOR,
            format!("unknown forecasting model `{model}`"),
            f.algorithm.span,
            "not a model",
        )
        .with_help(match did_you_mean(model, MODELS) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "the forecasting models are `holt_winters(season: <duration>)` and `damped_trend(season: <duration>)`".into(),
        }),
    );
    false
}

/// Reads the model's parameters, reporting unknown, repeated and out-of-range ones.
fn check_params(f: &ForecastAst, model: &str, ok: &mut bool, cx: &mut Ctx<'_>) -> Smoothing {
    let params: &[&str] = if model == "damped_trend" {
        &PARAMS
    } else {
        &PARAMS[..5]
    };
    let mut s = Smoothing {
        season: None,
        alpha: 0.3,
        beta: 0.01,
        gamma: 0.3,
        confidence: 0.95,
        damping: if model == "damped_trend" { 0.98 } else { 1.0 },
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &f.params {
        let Some(&known) = params.iter().find(|p| **p == name.name) else {
            *ok = false;
            cx.push(unknown_param(model, params, &name.name, name.span));
            continue;
        };
        if seen.contains(&known) {
            *ok = false;
            cx.push(bad(name.span, &format!("`{known}` is given twice")));
            continue;
        }
        seen.push(known);
        if known == "season" {
            match value {
                ParamValue::Value(v) => match v.kind {
                    OptionValueKind::Duration(ms) if ms > 0 => s.season = Some(ms),
                    _ => *ok &= season_error(v.span, cx),
                },
                ParamValue::Percent(_, span) => *ok &= season_error(*span, cx),
            }
            continue;
        }
        match fraction(value) {
            Some(x) if x > 0.0 && x < 1.0 => match known {
                "alpha" => s.alpha = x,
                "beta" => s.beta = x,
                "gamma" => s.gamma = x,
                "damping" => s.damping = x,
                _ => s.confidence = x,
            },
            _ => {
                *ok = false;
                cx.push(bad(
                    value.span(),
                    &format!(
                        "`{known}` takes a fraction strictly between 0 and 1 (`0.3` or `30%`)"
                    ),
                ));
            }
        }
    }
    s
}

/// A parameter's value as a fraction (`0.3` or `30%`), if it is one.
fn fraction(value: &ParamValue) -> Option<f64> {
    match value {
        ParamValue::Percent(v, _) => Some(*v),
        ParamValue::Value(v) => match v.kind {
            OptionValueKind::Float(x) => Some(x),
            _ => None,
        },
    }
}

/// Reports a season that is not a positive duration; always false (not ok).
fn season_error(span: Span, cx: &mut Ctx<'_>) -> bool {
    cx.push(bad(span, "`season` is a positive duration such as `1d`"));
    false
}

fn unknown_param(model: &str, params: &[&str], name: &str, span: Span) -> Diagnostic {
    let help = if name == "damping" {
        "a damped trend is `damped_trend(season: …, damping: …)`".to_string()
    } else {
        match did_you_mean(name, params.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("`{model}` takes `{}`", params.join("`, `")),
        }
    };
    Diagnostic::error(
        codes::BAD_DETECTOR_PARAMETER,
        format!("`{model}` has no parameter `{name}`"),
        span,
        "unknown parameter",
    )
    .with_help(help)
}

/// Horizon and step must be positive, and the season a whole number of steps.
fn check_steps(
    f: &ForecastAst,
    horizon: Option<i64>,
    every: Option<i64>,
    season: Option<i64>,
    cx: &mut Ctx<'_>,
) -> bool {
    let mut ok = true;
    let every_span = f.every.as_ref().map_or(f.horizon.span, |e| e.span);
    for (d, span) in [(horizon, f.horizon.span), (every, every_span)] {
        if matches!(d, Some(ms) if ms <= 0) {
            ok = false;
            cx.push(bad(span, "durations of `forecast` must be positive"));
        }
    }
    if let (Some(s), Some(e)) = (season, every) {
        if e > 0 && s % e != 0 {
            ok = false;
            cx.push(bad(
                every_span,
                "the season must be a whole number of steps; give `every <d>` dividing the season (e.g. `every 1h` for `season: 1d`)",
            ));
        }
    }
    ok
}

/// The scope after the stage: `<name>.value`, `.lower` and `.upper`, all `f64?`.
fn forecast_scope(f: &ForecastAst, scope: &Scope, ok: &mut bool, cx: &mut Ctx<'_>) -> Scope {
    let mut out = scope.clone();
    for part in ["value", "lower", "upper"] {
        let name = format!("{}.{part}", f.name.name);
        if *ok && scope.slot(&name).is_some() {
            *ok = false;
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("field `{name}` already exists"),
                    f.name.span,
                    "this name is taken",
                )
                .with_help("pick another name after `as`"),
            );
        }
        out.fields.push(ScopeField {
            name,
            ty: Some(Ty {
                ty: Type::Float,
                nullable: true,
            }),
        });
    }
    out
}

fn bad(span: Span, help: &str) -> Diagnostic {
    Diagnostic::error(
        codes::BAD_DETECTOR_PARAMETER,
        "bad value in `forecast`",
        span,
        "not accepted here",
    )
    .with_help(help.to_string())
}
