//! Pipelines, stage by stage: each stage is checked against the record left by the one
//! before it, and describes the record it leaves behind.

use weir_engine::schema::{Field, Type};

use super::names::Names;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::types::{check_expr, Typed};
use super::{detect, forecast, windows, Ctx, MapAssignment, Op};
use crate::ast::{ExprKind, Ident, PipelineDecl, StageKind};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

const STAGES: [&str; 15] = [
    "where",
    "map",
    "select",
    "key",
    "dedupe",
    "window",
    "aggregate",
    "to",
    "lookup",
    "join",
    "detect",
    "forecast",
    "infer",
    "alert",
    "unnest",
];

/// Checks the stages of `p` reading records described by `scope`; returns the checked
/// operations and the scope of the pipeline's output.
pub(crate) fn check_pipeline(
    p: &PipelineDecl,
    mut scope: Scope,
    names: &Names,
    inputs: &super::Inputs<'_>,
    cx: &mut Ctx<'_>,
) -> (Vec<Op>, Scope) {
    let mut ops = Vec::new();
    // Fields of the last `key by`, as written (only those that resolved).
    let mut keys: Vec<Ident> = Vec::new();
    let mut i = 0;
    while i < p.stages.len() {
        let stage = &p.stages[i];
        match &stage.kind {
            StageKind::Where(e) => {
                if let Some(t) = check_expr(e, &scope, cx) {
                    match t.ty {
                        Some(Type::Bool) | None => ops.push(Op::Filter(t.expr)),
                        Some(ty) => cx.push(where_not_bool(e.span, ty, cx.text)),
                    }
                }
            }
            StageKind::Map(assignments) => {
                let mut out = Vec::new();
                let mut ok = true;
                for a in assignments {
                    let typed = check_expr(&a.value, &scope, cx);
                    let ty = typed.as_ref().and_then(|t| known_type(t, a.value.span, cx));
                    let slot = match scope.slot(&a.target.name) {
                        Some(slot) => {
                            scope.fields[slot].ty = ty;
                            slot
                        }
                        None => {
                            scope.fields.push(ScopeField {
                                name: a.target.name.clone(),
                                ty,
                            });
                            scope.fields.len() - 1
                        }
                    };
                    if let EventTime::Field(f) = &scope.event_time {
                        if *f == a.target.name {
                            scope.event_time = EventTime::Lost {
                                field: f.clone(),
                                stage: a.target.span,
                                how: "this `map` replaces it",
                            };
                        }
                    }
                    match (typed, ty) {
                        (Some(t), Some(ty)) => out.push(MapAssignment {
                            slot,
                            field: Field {
                                name: a.target.name.clone(),
                                ty: ty.ty,
                                nullable: ty.nullable,
                            },
                            expr: t.expr,
                        }),
                        _ => ok = false,
                    }
                }
                if ok {
                    ops.push(Op::Map(out));
                }
            }
            StageKind::Select(items) => {
                let mut fields: Vec<ScopeField> = Vec::new();
                let mut spans: Vec<Span> = Vec::new();
                let mut out = Vec::new();
                let mut ok = true;
                let mut event_time = match &scope.event_time {
                    EventTime::Field(f) => EventTime::Lost {
                        field: f.clone(),
                        stage: stage.keyword,
                        how: "this `select` does not keep it",
                    },
                    other => other.clone(),
                };
                for item in items {
                    let typed = check_expr(&item.value, &scope, cx);
                    let name = match (&item.name, &item.value.kind) {
                        (Some(n), _) => Some((n.name.clone(), n.span)),
                        (None, ExprKind::Field(f)) => Some((f.clone(), item.value.span)),
                        (None, _) => {
                            cx.push(missing_name(item.value.span, "value", cx.text));
                            None
                        }
                    };
                    let ty = typed
                        .as_ref()
                        .and_then(|t| known_type(t, item.value.span, cx));
                    let Some((name, name_span)) = name else {
                        ok = false;
                        continue;
                    };
                    if let Some(k) = fields.iter().position(|f| f.name == name) {
                        cx.push(duplicate_field(&name, name_span, spans[k]));
                        ok = false;
                        continue;
                    }
                    if let (EventTime::Lost { field, .. }, ExprKind::Field(f)) =
                        (&event_time, &item.value.kind)
                    {
                        if f == field && scope.event_time_is(field) {
                            event_time = EventTime::Field(name.clone());
                        }
                    }
                    fields.push(ScopeField {
                        name: name.clone(),
                        ty,
                    });
                    spans.push(name_span);
                    match (typed, ty) {
                        (Some(t), Some(ty)) => out.push((
                            Field {
                                name,
                                ty: ty.ty,
                                nullable: ty.nullable,
                            },
                            t.expr,
                        )),
                        _ => ok = false,
                    }
                }
                if ok {
                    ops.push(Op::Select(out));
                }
                scope = Scope {
                    fields,
                    origin: "the output of `select`".to_string(),
                    origin_span: None,
                    poisoned: scope.poisoned,
                    event_time,
                };
            }
            StageKind::KeyBy(fields) => {
                keys.clear();
                let mut slots = Vec::new();
                for f in fields {
                    if let Some((slot, _)) = scope.lookup(&f.name, f.span, cx) {
                        slots.push(slot);
                        keys.push(f.clone());
                    }
                }
                if slots.len() == fields.len() {
                    ops.push(Op::KeyBy {
                        keys: slots,
                        names: fields.iter().map(|f| f.name.clone()).collect(),
                    });
                }
            }
            StageKind::Dedupe(d) => ops.extend(super::dedupe::check_dedupe(d, stage, &scope, cx)),
            StageKind::Window(window) => match p.stages.get(i + 1) {
                Some(crate::ast::Stage {
                    kind: StageKind::Aggregate(items),
                    ..
                }) => {
                    let (op, out) =
                        windows::check_window(window, stage, items, &keys, &scope, names, cx);
                    ops.extend(op);
                    scope = out;
                    i += 1;
                }
                next => {
                    windows::check_kind(window, &scope, names, cx);
                    let mut d = Diagnostic::error(
                        codes::WINDOW_WITHOUT_AGGREGATE,
                        "`window` must be followed by `aggregate`",
                        stage.keyword,
                        "this window computes nothing",
                    )
                    .with_help("add `| aggregate n = count()` (or other aggregates) right after the window");
                    if let Some(next) = next {
                        d = d.with_secondary(next.keyword, "the next stage is not `aggregate`");
                    }
                    cx.push(d);
                }
            },
            StageKind::Aggregate(_) => {
                let mut d = Diagnostic::error(
                    codes::WINDOW_WITHOUT_AGGREGATE,
                    "`aggregate` needs a `window` right before it",
                    stage.keyword,
                    "no window to aggregate over",
                )
                .with_help("add a window first: `| window tumbling 1m | aggregate …`");
                if let Some(w) = p.stages[..i]
                    .iter()
                    .rev()
                    .find(|s| matches!(s.kind, StageKind::Window(_)))
                {
                    d = d.with_secondary(w.keyword, "this window is not right before `aggregate`");
                }
                cx.push(d);
            }
            StageKind::Detect(d) => {
                let slots: Vec<usize> = keys.iter().filter_map(|k| scope.slot(&k.name)).collect();
                let (op, out) = detect::check_detect(d, &slots, &scope, cx);
                ops.extend(op);
                scope = out;
            }
            StageKind::Forecast(f) => {
                let slots: Vec<usize> = keys.iter().filter_map(|k| scope.slot(&k.name)).collect();
                let (op, out) = forecast::check_forecast(f, &slots, &scope, cx);
                ops.extend(op);
                scope = out;
            }
            StageKind::Alert(a) => {
                let slots: Vec<(usize, String)> = keys
                    .iter()
                    .filter_map(|k| Some((scope.slot(&k.name)?, k.name.clone())))
                    .collect();
                let (op, out) = super::alert::check_alert(a, &slots, &scope, names, cx);
                ops.extend(op);
                scope = out;
            }
            StageKind::To(sink) => {
                if names.resolve_sink(sink, cx) {
                    ops.push(Op::Sink(sink.name.clone()));
                }
            }
            StageKind::Infer(infer) => {
                ops.extend(super::models::check_infer(infer, &mut scope, names, cx));
            }
            StageKind::Lookup(lookup) => {
                ops.extend(super::tables::check_lookup(lookup, &mut scope, names, cx));
            }
            StageKind::Unnest(u) => ops.extend(super::unnest::check_unnest(u, &mut scope, cx)),
            StageKind::Join(join) => {
                ops.extend(super::join::check_join(
                    join, stage, &mut scope, names, inputs, cx,
                ));
            }
            StageKind::Unsupported(kw) => {
                cx.push(
                    Diagnostic::error(
                        codes::NOT_SUPPORTED,
                        format!("the `{}` stage is not supported yet", kw.name),
                        kw.span,
                        "not supported yet",
                    )
                    .with_help("this version knows `where`, `map`, `select`, `key by`, `dedupe`, `window`, `aggregate`, `unnest`, `lookup`, `join`, `detect`, `forecast`, `infer`, `alert` and `to`"),
                );
                scope = Scope::poisoned();
            }
            StageKind::Unknown(word) => {
                let synonym = match word.name.as_str() {
                    "filter" => Some("where"),
                    "project" => Some("select"),
                    "group" | "groupby" | "partition" => Some("key by"),
                    "agg" | "reduce" => Some("aggregate"),
                    "sink" | "output" | "into" | "write" => Some("to"),
                    "with" | "extend" | "derive" | "set" => Some("map"),
                    "explode" | "flatten" | "flat_map" | "flatmap" => Some("unnest"),
                    _ => {
                        did_you_mean(&word.name, STAGES)
                            .map(|s| if s == "key" { "key by" } else { s })
                    }
                };
                cx.push(
                    Diagnostic::error(
                        codes::SYNTAX,
                        format!("unknown stage `{}`", word.name),
                        word.span,
                        "not a stage",
                    )
                    .with_help(match synonym {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "stages are `where`, `map`, `select`, `key by`, `window`, `aggregate` and `to`".to_string(),
                    }),
                );
                scope = Scope::poisoned();
            }
        }
        i += 1;
    }
    (ops, scope)
}

impl Scope {
    fn event_time_is(&self, field: &str) -> bool {
        match &self.event_time {
            EventTime::Field(f) => f == field,
            _ => false,
        }
    }
}

/// The type of a checked expression used as a field; P0211 for a plain `null`.
pub(crate) fn known_type(t: &Typed, span: Span, cx: &mut Ctx<'_>) -> Option<Ty> {
    match t.ty {
        Some(ty) => Some(Ty {
            ty,
            nullable: t.nullable,
        }),
        None => {
            cx.push(
                Diagnostic::error(
                    codes::UNKNOWN_TYPE_OF_NULL,
                    "cannot tell the type of this field",
                    span,
                    "only `null`, of no particular type",
                )
                .with_help(
                    "give it a type through a typed value, e.g. `x ?? null` where `x` is a field",
                ),
            );
            None
        }
    }
}

pub(crate) fn missing_name(span: Span, suggested: &str, text: &str) -> Diagnostic {
    Diagnostic::error(
        codes::MISSING_NAME,
        "this field needs a name",
        span,
        "unnamed",
    )
    .with_help(format!("write `{suggested} = {}`", span.text(text)))
}

pub(crate) fn duplicate_field(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        codes::DUPLICATE_FIELD,
        format!("field `{name}` appears twice in the output"),
        span,
        "second field with this name",
    )
    .with_secondary(first, "first one here")
    .with_help("rename one of them with `new_name = …`")
}

fn where_not_bool(span: Span, ty: Type, text: &str) -> Diagnostic {
    let example = match ty {
        Type::Int | Type::Float => format!("`{} > 0`", span.text(text)),
        Type::String => format!("`{} == \"…\"`", span.text(text)),
        _ => "a comparison".to_string(),
    };
    Diagnostic::error(
        codes::WHERE_NOT_BOOL,
        format!("`where` needs a bool condition, found {ty}"),
        span,
        format!("this is {ty}"),
    )
    .with_help(format!("compare it, e.g. {example}"))
}
