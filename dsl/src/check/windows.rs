//! `window <kind>` + `aggregate …`: window kinds and clauses, event time, keys, and the
//! aggregates with their types. The pair becomes one windowed aggregate.

use weir_engine::plan::{AggFunc, Aggregate, Function, WindowKind, WindowSpec, WINDOW_FIELDS};
use weir_engine::schema::Type;

use super::durations;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::stages::{duplicate_field, known_type, missing_name};
use super::types::check_expr;
use super::{Ctx, Op};
use crate::ast::{ExprKind, Ident, NamedExpr, Stage, WindowAst, WindowClauseKind, WindowKindAst};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

const KINDS: [&str; 4] = ["tumbling", "sliding", "session", "global"];

/// Checks the window kind and its clauses; `Some` for kinds this version runs.
pub(crate) fn check_kind(w: &WindowAst, cx: &mut Ctx<'_>) -> Option<WindowKind> {
    let not_yet = |what: &str, span: Span| {
        Diagnostic::error(
            codes::UNSUPPORTED_WINDOW,
            format!("{what} are not supported yet"),
            span,
            "not supported yet",
        )
        .with_help("use `window tumbling <size>` for now")
    };
    let kind = match &w.kind {
        WindowKindAst::Tumbling { size, offset } => {
            let size_ms = durations::require(size, "window size", cx);
            let offset_ms = match offset {
                Some(o) => durations::require(o, "window offset", cx).map(|ms| (ms, o.span)),
                None => Some((0, size.span)),
            };
            match size_ms {
                Some(ms) if ms <= 0 => {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_WINDOW_SIZE,
                            "the window size must be positive",
                            size.span,
                            "a window of zero length",
                        )
                        .with_help("write e.g. `window tumbling 1m`"),
                    );
                    None
                }
                Some(size_ms) => {
                    let (offset_ms, offset_span) = offset_ms?;
                    if offset_ms >= size_ms {
                        cx.push(
                            Diagnostic::error(
                                codes::BAD_WINDOW_SIZE,
                                "the window offset must be smaller than the window size",
                                offset_span,
                                "not smaller than the size",
                            )
                            .with_secondary(size.span, "the window size")
                            .with_help(format!(
                                "an offset shifts window starts within one window; use `offset {}`",
                                weir_engine::time::format_duration(offset_ms % size_ms)
                            )),
                        );
                        None
                    } else {
                        Some(WindowKind::Tumbling { size_ms, offset_ms })
                    }
                }
                None => None,
            }
        }
        WindowKindAst::Sliding { size, every } => {
            durations::require(size, "window size", cx);
            durations::require(every, "sliding period", cx);
            cx.push(not_yet("sliding windows", w.kind_span));
            None
        }
        WindowKindAst::Session { gap, max } => {
            durations::require(gap, "session gap", cx);
            if let Some(max) = max {
                durations::require(max, "maximum session length", cx);
            }
            cx.push(not_yet("session windows", w.kind_span));
            None
        }
        WindowKindAst::Global => {
            cx.push(not_yet("global windows", w.kind_span));
            None
        }
        WindowKindAst::Unknown(word) => {
            cx.push(
                Diagnostic::error(
                    codes::UNSUPPORTED_WINDOW,
                    format!("unknown window kind `{}`", word.name),
                    word.span,
                    "not a window kind",
                )
                .with_help(match did_you_mean(&word.name, KINDS) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => "write e.g. `window tumbling 1m`".to_string(),
                }),
            );
            None
        }
    };
    for clause in &w.clauses {
        let what = match &clause.kind {
            WindowClauseKind::Emit => "`emit` triggers",
            WindowClauseKind::AllowLate(d) => {
                durations::require(d, "allowed lateness", cx);
                "`allow late` clauses"
            }
            WindowClauseKind::Accumulate
            | WindowClauseKind::Discard
            | WindowClauseKind::Retract => "accumulation modes",
            WindowClauseKind::LateTo(_) => "`late to` routes",
            WindowClauseKind::Timestamp(_) => "`timestamp` clauses",
        };
        cx.push(
            Diagnostic::error(
                codes::UNSUPPORTED_WINDOW,
                format!("{what} are not supported yet"),
                clause.span,
                "not supported yet",
            )
            .with_help("remove it: windows fire once when the watermark passes their end, and late records are dropped and counted")
        );
    }
    kind
}

/// Checks `window` + `aggregate`; returns the windowed aggregate and the output scope.
pub(crate) fn check_window(
    window: &WindowAst,
    window_stage: &Stage,
    items: &[NamedExpr],
    keys: &[Ident],
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let kind = check_kind(window, cx);
    let mut ok = kind.is_some();

    // Event time.
    match &scope.event_time {
        EventTime::Field(_) | EventTime::Unknown => {}
        EventTime::Missing { source, span } => {
            let example = scope
                .fields
                .iter()
                .find(|f| {
                    matches!(
                        f.ty,
                        Some(Ty {
                            ty: Type::Timestamp,
                            ..
                        })
                    )
                })
                .map(|f| f.name.clone());
            let help = match &example {
                Some(f) => format!("add `event_time {f}` to source `{source}`"),
                None => format!(
                    "add a timestamp field and `event_time <field>` to source `{source}`, e.g. `ts: timestamp` and `event_time ts`"
                ),
            };
            cx.push(
                Diagnostic::error(
                    codes::WINDOW_WITHOUT_EVENT_TIME,
                    format!("windows need event time, but source `{source}` has no `event_time`"),
                    window_stage.keyword,
                    "this window needs event time",
                )
                .with_secondary(*span, format!("`{source}` is declared here without `event_time`"))
                .with_help(help)
                .with_note("a source without `event_time` is in processing time; windows follow the watermark of event time"),
            );
            ok = false;
        }
        // Event time travels with each record as metadata (as in Beam), so a stage that
        // drops or replaces the field it came from does not lose it.
        EventTime::Lost { .. } => {}
    }

    // Keys, re-resolved at the window (a `select` may have moved them).
    let mut key_slots = Vec::new();
    for k in keys {
        match scope.slot(&k.name) {
            Some(slot) => key_slots.push(slot),
            None if scope.poisoned => ok = false,
            None => {
                cx.push(
                    scope
                        .unknown_field(&k.name, k.span)
                        .with_secondary(window_stage.keyword, "the window is keyed by it"),
                );
                ok = false;
            }
        }
    }

    // Aggregates.
    let mut out_fields: Vec<ScopeField> =
        key_slots.iter().map(|&s| scope.fields[s].clone()).collect();
    let mut out_spans: Vec<Span> = keys.iter().map(|k| k.span).collect();
    let mut aggregates = Vec::new();
    for item in items {
        let (name, agg) = check_aggregate(item, scope, cx);
        let Some(name) = name else {
            ok = false;
            continue;
        };
        if let Some(k) = out_fields.iter().position(|f| f.name == name.name) {
            cx.push(duplicate_field(&name.name, name.span, out_spans[k]));
            ok = false;
            continue;
        }
        if WINDOW_FIELDS.iter().any(|(n, _)| *n == name.name) {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("`{}` is a field every window output already has", name.name),
                    name.span,
                    "reserved for the window",
                )
                .with_help("choose another name"),
            );
            ok = false;
            continue;
        }
        let ty = agg.as_ref().map(|a| {
            let f = a.output_field();
            Ty {
                ty: f.ty,
                nullable: f.nullable,
            }
        });
        out_fields.push(ScopeField {
            name: name.name.clone(),
            ty,
        });
        out_spans.push(name.span);
        match agg {
            Some(a) => aggregates.push(a),
            None => ok = false,
        }
    }
    out_fields.extend(WINDOW_FIELDS.iter().map(|(n, t)| ScopeField {
        name: n.to_string(),
        ty: Some(Ty {
            ty: *t,
            nullable: false,
        }),
    }));
    let out = Scope {
        fields: out_fields,
        origin: "the output of `aggregate`".to_string(),
        origin_span: None,
        poisoned: scope.poisoned,
        event_time: EventTime::Field("pane.timestamp".to_string()),
    };
    let op = match kind {
        Some(kind) if ok && !scope.poisoned => {
            // The checker's output scope must agree with the engine's layout.
            debug_assert_eq!(
                out.schema(),
                scope
                    .schema()
                    .map(|s| WindowSpec::output_schema(&s, &key_slots, &aggregates)),
            );
            Some(Op::Window {
                keys: key_slots,
                kind,
                aggregates,
            })
        }
        _ => None,
    };
    (op, out)
}

/// One `name = func(arg)` item; the name (if any) and the aggregate (if valid).
fn check_aggregate(
    item: &NamedExpr,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Ident>, Option<Aggregate>) {
    let (func, args) = match &item.value.kind {
        ExprKind::Call { func, args } => (func, args),
        other => {
            let help = match other {
                ExprKind::Field(f) => format!(
                    "aggregate it, e.g. `{f} = last({f})`, or add `{f}` to `key by` to keep it per group"
                ),
                _ => "aggregate items are `name = function(expression)`; compute further in a `map` after `aggregate`".to_string(),
            };
            cx.push(
                Diagnostic::error(
                    codes::MISPLACED_AGGREGATE,
                    "expected an aggregate function call",
                    item.value.span,
                    "not an aggregate",
                )
                .with_help(help)
                .with_note(agg_list()),
            );
            return (item.name.clone(), None);
        }
    };
    let name = match &item.name {
        Some(n) => Some(n.clone()),
        None => {
            cx.push(missing_name(item.value.span, &func.name, cx.text));
            None
        }
    };
    let Some(f) = AggFunc::ALL.iter().copied().find(|a| a.name() == func.name) else {
        let suggestion = did_you_mean(&func.name, AggFunc::ALL.iter().map(|a| a.name()));
        let scalar = Function::ALL.iter().any(|f| f.name() == func.name);
        let d = if scalar {
            Diagnostic::error(
                codes::MISPLACED_AGGREGATE,
                format!("`{}` is not an aggregate function", func.name),
                func.span,
                "a function on single values",
            )
            .with_help(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "aggregate first, then apply `{}` in a `map` after `aggregate`",
                    func.name
                ),
            })
        } else {
            Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown aggregate function `{}`", func.name),
                func.span,
                "no such aggregate",
            )
            .with_help_opt(suggestion.map(|s| format!("did you mean `{s}`?")))
        };
        cx.push(d.with_note(agg_list()));
        return (name, None);
    };
    if f == AggFunc::Count {
        if !args.is_empty() {
            cx.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!("`count` takes no argument, found {}", args.len()),
                    item.value.span,
                    "counts records, not values",
                )
                .with_help("write `count()`"),
            );
            return (name, None);
        }
        return (
            name.clone(),
            name.map(|n| Aggregate {
                name: n.name,
                func: f,
                arg: None,
                arg_type: None,
            }),
        );
    }
    if args.len() != 1 {
        cx.push(
            Diagnostic::error(
                codes::BAD_ARGUMENTS,
                format!("`{}` takes 1 argument, found {}", f.name(), args.len()),
                item.value.span,
                format!("{} arguments", args.len()),
            )
            .with_help(format!("write `{}(<field>)`", f.name())),
        );
        return (name, None);
    }
    let arg = &args[0];
    let Some(typed) = check_expr(arg, scope, cx) else {
        return (name, None);
    };
    let Some(ty) = known_type(&typed, arg.span, cx) else {
        return (name, None);
    };
    let accepted = match f {
        AggFunc::Sum | AggFunc::Avg => ty.ty.is_numeric(),
        AggFunc::Min | AggFunc::Max => {
            ty.ty.is_numeric() || matches!(ty.ty, Type::Timestamp | Type::String)
        }
        _ => true,
    };
    if !accepted {
        let needs = match f {
            AggFunc::Sum | AggFunc::Avg => "a number",
            _ => "a number, timestamp or string",
        };
        cx.push(Diagnostic::error(
            codes::BAD_ARGUMENTS,
            format!("`{}` needs {needs}, found {}", f.name(), ty.ty),
            arg.span,
            format!("this is {}", ty.ty),
        ));
        return (name, None);
    }
    let agg = name.as_ref().map(|n| Aggregate {
        name: n.name.clone(),
        func: f,
        arg: Some(typed.expr),
        arg_type: Some(ty.ty),
    });
    (name, agg)
}

fn agg_list() -> String {
    format!(
        "aggregate functions: {}",
        AggFunc::ALL
            .iter()
            .map(|a| format!("{}()", a.name()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
