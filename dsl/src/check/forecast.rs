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

/// Checks a `forecast` stage; returns the operation and the scope after it.
pub(crate) fn check_forecast(
    f: &ForecastAst,
    keys: &[usize],
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let mut ok = true;
    let field = super::detect::numeric_field(&f.field, "`forecast` needs a number", scope, cx);
    let model = f.algorithm.name.as_str();
    let known_model = MODELS.contains(&model);
    if !known_model {
        ok = false;
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
    }
    let params: &[&str] = if model == "damped_trend" {
        &PARAMS
    } else {
        &PARAMS[..5]
    };
    let horizon = durations::require(&f.horizon, "forecast horizon", cx);
    let every = match &f.every {
        Some(d) => durations::require(d, "forecast step", cx),
        None => horizon,
    };
    let mut season = None;
    let (mut alpha, mut beta, mut gamma, mut confidence) = (0.3, 0.01, 0.3, 0.95);
    let mut damping = if model == "damped_trend" { 0.98 } else { 1.0 };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &f.params {
        let Some(&known) = params.iter().find(|p| **p == name.name) else {
            ok = false;
            let help = if name.name == "damping" {
                "a damped trend is `damped_trend(season: …, damping: …)`".to_string()
            } else {
                match did_you_mean(&name.name, params.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`{model}` takes `{}`", params.join("`, `")),
                }
            };
            cx.push(
                Diagnostic::error(
                    codes::BAD_DETECTOR_PARAMETER,
                    format!("`{model}` has no parameter `{}`", name.name),
                    name.span,
                    "unknown parameter",
                )
                .with_help(help),
            );
            continue;
        };
        if seen.contains(&known) {
            ok = false;
            cx.push(bad(name.span, &format!("`{known}` is given twice")));
            continue;
        }
        seen.push(known);
        let fraction = match value {
            ParamValue::Percent(v, _) => Some(*v),
            ParamValue::Value(v) => match v.kind {
                OptionValueKind::Float(x) => Some(x),
                _ => None,
            },
        };
        if known == "season" {
            match value {
                ParamValue::Value(v) => match v.kind {
                    OptionValueKind::Duration(ms) if ms > 0 => season = Some(ms),
                    _ => {
                        ok = false;
                        cx.push(bad(v.span, "`season` is a positive duration such as `1d`"));
                    }
                },
                ParamValue::Percent(_, span) => {
                    ok = false;
                    cx.push(bad(*span, "`season` is a positive duration such as `1d`"));
                }
            }
            continue;
        }
        match fraction {
            Some(x) if x > 0.0 && x < 1.0 => match known {
                "alpha" => alpha = x,
                "beta" => beta = x,
                "gamma" => gamma = x,
                "damping" => damping = x,
                _ => confidence = x,
            },
            _ => {
                ok = false;
                cx.push(bad(
                    value.span(),
                    &format!(
                        "`{known}` takes a fraction strictly between 0 and 1 (`0.3` or `30%`)"
                    ),
                ));
            }
        }
    }
    if season.is_none() && ok && known_model {
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
    for (d, span) in [
        (horizon, f.horizon.span),
        (every, f.every.as_ref().map_or(f.horizon.span, |e| e.span)),
    ] {
        if let Some(ms) = d {
            if ms <= 0 {
                ok = false;
                cx.push(bad(span, "durations of `forecast` must be positive"));
            }
        }
    }
    if let (Some(s), Some(e)) = (season, every) {
        if e > 0 && s % e != 0 {
            ok = false;
            let span = f.every.as_ref().map_or(f.horizon.span, |e| e.span);
            cx.push(bad(
                span,
                "the season must be a whole number of steps; give `every <d>` dividing the season (e.g. `every 1h` for `season: 1d`)",
            ));
        }
    }
    let mut out = scope.clone();
    for part in ["value", "lower", "upper"] {
        let name = format!("{}.{part}", f.name.name);
        if ok && scope.slot(&name).is_some() {
            ok = false;
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
    let op = match (field, horizon, every, season, ok) {
        (Some(field), Some(horizon_ms), Some(every_ms), Some(season_ms), true) => {
            Some(Op::Forecast {
                keys: keys.to_vec(),
                field,
                params: HoltWintersParams {
                    season_ms,
                    every_ms,
                    horizon_ms,
                    alpha,
                    beta,
                    gamma,
                    confidence,
                    damping,
                },
                name: f.name.name.clone(),
            })
        }
        _ => None,
    };
    (op, out)
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
