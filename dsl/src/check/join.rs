//! `join <input> [as <name>] on a = b, … [within <d> | window <kind>]`: the joined input,
//! the key pairs and their types, the time bound, and the record a join leaves behind
//! (the fields so far, then the input's fields as `<name>.<field>`, then for a windowed
//! join `window.start` and `window.end`).

use weir_engine::plan::{JoinMode, JoinSpec, PipelineInput, WindowKind, JOIN_WINDOW_FIELDS};
use weir_engine::schema::Type;

use super::durations;
use super::names::{Decl, Names};
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::stages::duplicate_field;
use super::windows;
use super::{Ctx, Inputs, Op};
use crate::ast::{Ident, JoinAst, JoinTimeAst, Stage};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// Checks a join stage against the records so far (`scope`, replaced by the join's
/// output); the plan's join if everything resolved.
pub(crate) fn check_join(
    join: &JoinAst,
    stage: &Stage,
    scope: &mut Scope,
    names: &Names,
    inputs: &Inputs<'_>,
    cx: &mut Ctx<'_>,
) -> Option<Op> {
    let (right, right_scope) = match names.resolve_input(&join.input, cx) {
        Some(Decl::Source(_)) => (
            Some(PipelineInput::Source(join.input.name.clone())),
            inputs.sources.get(&join.input.name).cloned(),
        ),
        Some(Decl::Pipeline(i)) => (
            Some(PipelineInput::Pipeline(join.input.name.clone())),
            inputs.outputs.get(&i).cloned(),
        ),
        _ => (None, None),
    };
    let right_scope = right_scope.unwrap_or_else(Scope::poisoned);
    let name = join.alias.as_ref().unwrap_or(&join.input);
    let mut ok = right.is_some();

    let mut left_keys = Vec::new();
    let mut right_keys = Vec::new();
    for (l, r) in &join.on {
        let left = scope.lookup(&l.name, l.span, cx);
        let right = right_scope.lookup(&r.name, r.span, cx);
        match (left, right) {
            (Some((ls, lt)), Some((rs, rt))) => {
                if lt.ty != rt.ty || lt.ty == Type::Float {
                    cx.push(key_types(join, (l, lt), (r, rt), scope));
                    ok = false;
                }
                left_keys.push(ls);
                right_keys.push(rs);
            }
            _ => ok = false,
        }
    }

    let mode = match &join.time {
        None => {
            cx.push(
                Diagnostic::warning(
                    codes::UNBOUNDED_JOIN,
                    format!(
                        "this join keeps every record of both sides for the whole run, because nothing bounds how far apart `{}` and its matches may be in time",
                        join.input.name
                    ),
                    stage.keyword,
                    "state grows without bound",
                )
                .with_help(
                    "add `within <duration>` (e.g. `within 10m`) so records are dropped once the watermark passes them, or `window tumbling <duration>` to pair records of the same window",
                )
                .with_note("an unbounded join suits only small or finite inputs"),
            );
            Some(JoinMode::Interval { within_ms: None })
        }
        Some(JoinTimeAst::Within(d)) => {
            needs_event_time(scope, d.span, cx, &mut ok);
            needs_event_time(&right_scope, d.span, cx, &mut ok);
            durations::require(d, "join bound", cx).map(|ms| JoinMode::Interval {
                within_ms: Some(ms),
            })
        }
        Some(JoinTimeAst::Window(w)) => {
            needs_event_time(scope, w.kind_span, cx, &mut ok);
            needs_event_time(&right_scope, w.kind_span, cx, &mut ok);
            match windows::check_kind(w, &*scope, names, cx).map(|spec| spec.kind) {
                Some(kind @ (WindowKind::Tumbling { .. } | WindowKind::Sliding { .. })) => {
                    Some(JoinMode::Window { kind })
                }
                Some(other) => {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_JOIN_TIME,
                            format!("a join cannot pair records by {} windows", kind_word(&other)),
                            w.kind_span,
                            "not a fixed window",
                        )
                        .with_help("join within `tumbling <d>` or `sliding <d> every <d>` windows, or use `within <d>` for records close in time"),
                    );
                    None
                }
                None => None,
            }
        }
    };

    // The output record: the fields so far, then the other side's, then the window.
    let mut fields = scope.fields.clone();
    let mut spans: Vec<Span> = vec![stage.keyword; fields.len()];
    let mut added: Vec<ScopeField> = right_scope
        .fields
        .iter()
        .map(|f| ScopeField {
            name: format!("{}.{}", name.name, f.name),
            ty: f.ty,
        })
        .collect();
    if matches!(mode, Some(JoinMode::Window { .. })) {
        added.extend(JOIN_WINDOW_FIELDS.iter().map(|(n, t)| ScopeField {
            name: n.to_string(),
            ty: Some(Ty {
                ty: *t,
                nullable: false,
            }),
        }));
    }
    for f in added {
        if let Some(k) = fields.iter().position(|g| g.name == f.name) {
            if !scope.poisoned {
                cx.push(
                    duplicate_field(&f.name, name.span, spans[k]).with_help(format!(
                        "name the joined side differently: `join {} as <name> on …`, or rename the field before the join",
                        join.input.name
                    )),
                );
            }
            ok = false;
            continue;
        }
        fields.push(f);
        spans.push(name.span);
    }
    let right_schema = right_scope.schema();
    *scope = Scope {
        fields,
        origin: format!("the output of `join {}`", join.input.name),
        origin_span: None,
        poisoned: scope.poisoned || right_scope.poisoned,
        event_time: match &scope.event_time {
            EventTime::Field(f) => EventTime::Lost {
                field: f.clone(),
                stage: stage.keyword,
                how: "a join's records carry the later event time of each pair",
            },
            other => other.clone(),
        },
    };
    match (ok, right, right_schema, mode) {
        (true, Some(right), Some(right_schema), Some(mode)) => Some(Op::Join(JoinSpec {
            right,
            right_schema,
            name: name.name.clone(),
            left_keys,
            right_keys,
            mode,
        })),
        _ => None,
    }
}

fn kind_word(kind: &WindowKind) -> &'static str {
    match kind {
        WindowKind::Tumbling { .. } => "tumbling",
        WindowKind::Sliding { .. } => "sliding",
        WindowKind::Session { .. } => "session",
        WindowKind::Global => "global",
        WindowKind::Until { .. } => "until",
        WindowKind::Count { .. } => "count",
    }
}

/// P0310 when the records of `scope` have no event time (a processing-time source).
fn needs_event_time(scope: &Scope, at: Span, cx: &mut Ctx<'_>, ok: &mut bool) {
    if let EventTime::Missing { source, span } = &scope.event_time {
        cx.push(
            Diagnostic::error(
                codes::BAD_JOIN_TIME,
                format!("a time-bounded join needs event time on both sides, but source `{source}` has no `event_time`"),
                at,
                "compares event times",
            )
            .with_secondary(*span, format!("`{source}` is declared here without `event_time`"))
            .with_help(format!(
                "add a timestamp field and `event_time <field>` to source `{source}`, or leave out the time bound"
            )),
        );
        *ok = false;
    }
}

fn key_types(join: &JoinAst, left: (&Ident, Ty), right: (&Ident, Ty), scope: &Scope) -> Diagnostic {
    let (l, r) = (left.1.ty, right.1.ty);
    if l == r {
        return Diagnostic::error(
            codes::JOIN_KEY_TYPES,
            "`f64` fields cannot be join keys",
            left.0.span,
            "f64",
        )
        .with_secondary(right.0.span, "f64")
        // `round` returns an `f64`: only `to_string` makes a key of a float.
        .with_help(format!(
            "join on an `i64` or `string` field, e.g. `| map k = {}` on both sides",
            super::functions::conversion(l, Type::String, "x").unwrap_or_default()
        ));
    }
    let mut d = Diagnostic::error(
        codes::JOIN_KEY_TYPES,
        format!("join keys of different types: {l} = {r}"),
        left.0.span,
        format!("{l} in {}", scope.origin),
    )
    .with_secondary(right.0.span, format!("{r} in `{}`", join.input.name));
    d = d.with_help(match (l, r) {
        (Type::Int, Type::String) | (Type::String, Type::Int) => {
            let field = if l == Type::Int {
                &left.0.name
            } else {
                &right.0.name
            };
            let call =
                super::functions::conversion(Type::Int, Type::String, field).unwrap_or_default();
            format!(
                "keys only match when their values are equal and of one type: convert the \
                 i64 side first, `| map {field}_key = {call}`"
            )
        }
        _ => format!("join a {l} field with a {l} field of `{}`", join.input.name),
    });
    d
}
