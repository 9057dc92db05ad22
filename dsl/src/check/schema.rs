//! Source declarations: field types, `event_time` and `watermark`.

use weir_engine::plan::{SourceNode, WatermarkSpec};
use weir_engine::schema::{Field, Type};

use super::connectors::{self, ConnectorCatalog, Role};
use super::durations;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::Ctx;
use crate::ast::{SourceDecl, TypeRef, WatermarkPart};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::suggest::did_you_mean;

const TYPES: [Type; 6] = [
    Type::Bool,
    Type::Int,
    Type::Float,
    Type::String,
    Type::Timestamp,
    Type::Duration,
];

/// Names users coming from other languages write for our types.
fn synonym(name: &str) -> Option<Type> {
    Some(match name.to_lowercase().as_str() {
        "float" | "double" | "f32" | "number" | "real" | "float64" | "decimal" => Type::Float,
        "int" | "integer" | "long" | "i32" | "int64" | "int32" | "u64" | "bigint" => Type::Int,
        "str" | "text" | "varchar" | "utf8" => Type::String,
        "boolean" => Type::Bool,
        "time" | "datetime" | "date" | "instant" | "ts" => Type::Timestamp,
        "interval" | "span" => Type::Duration,
        _ => return None,
    })
}

/// Resolves a type name (P0201 if unknown).
pub(crate) fn resolve_type(t: &TypeRef, cx: &mut Ctx<'_>) -> Option<Ty> {
    if let Some(ty) = TYPES.iter().copied().find(|ty| ty.name() == t.name.name) {
        return Some(Ty {
            ty,
            nullable: t.nullable,
        });
    }
    let suggestion = synonym(&t.name.name)
        .map(|ty| ty.name())
        .or_else(|| did_you_mean(&t.name.name, TYPES.iter().map(|t| t.name())));
    cx.push(
        Diagnostic::error(
            codes::UNKNOWN_TYPE,
            format!("unknown type `{}`", t.name.name),
            t.name.span,
            "not a type",
        )
        .with_help_opt(suggestion.map(|s| format!("did you mean `{s}`?")))
        .with_note(
            "types are bool, i64, f64, string, timestamp and duration; add `?` for nullable",
        ),
    );
    None
}

/// Checks a source; returns its plan node (if it has no errors) and the scope of its
/// records.
pub(crate) fn check_source(
    decl: &SourceDecl,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> (Option<SourceNode>, Scope) {
    let errors_before = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let mut fields: Vec<ScopeField> = Vec::new();
    for f in &decl.fields {
        let ty = resolve_type(&f.ty, cx);
        if let Some(first) = decl.fields.iter().find(|g| g.name.name == f.name.name) {
            if first.name.span != f.name.span {
                cx.push(
                    Diagnostic::error(
                        codes::DUPLICATE_FIELD,
                        format!("field `{}` is declared twice", f.name.name),
                        f.name.span,
                        "declared again here",
                    )
                    .with_secondary(first.name.span, "first declared here"),
                );
                continue;
            }
        }
        fields.push(ScopeField {
            name: f.name.name.clone(),
            ty,
        });
    }
    // The catalog sees the declared schema, so `weir check` catches fields a connector
    // cannot fill.
    let declared: Option<Vec<Field>> = fields
        .iter()
        .map(|f| {
            f.ty.map(|t| Field {
                name: f.name.clone(),
                ty: t.ty,
                nullable: t.nullable,
            })
        })
        .collect();
    let declared = declared.map(weir_engine::schema::Schema::new);
    let connector = connectors::check_connector(
        &decl.connector,
        Role::Source,
        declared.as_ref(),
        catalog,
        cx,
    );

    let origin = format!("`{}`", decl.name.name);
    let mut scope = Scope {
        fields,
        origin: origin.clone(),
        origin_span: Some(decl.name.span),
        poisoned: false,
        event_time: EventTime::Missing {
            source: decl.name.name.clone(),
            span: decl.name.span,
        },
    };

    // event_time
    let mut event_slot = None;
    for (i, et) in decl.event_time.iter().enumerate() {
        if i > 0 {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_DECLARATION,
                    "`event_time` is declared twice",
                    et.span,
                    "second `event_time`",
                )
                .with_secondary(decl.event_time[0].span, "first `event_time` here")
                .with_help("a source has one event-time field"),
            );
            continue;
        }
        match scope.slot(&et.name) {
            None => {
                let mut d = scope.unknown_field(&et.name, et.span);
                d.code = codes::BAD_EVENT_TIME;
                d.message = format!("`event_time` names an unknown field `{}`", et.name);
                cx.push(d);
                scope.event_time = EventTime::Unknown;
            }
            Some(slot) => match scope.fields[slot].ty {
                None => scope.event_time = EventTime::Unknown,
                Some(Ty {
                    ty: Type::Timestamp,
                    nullable: false,
                }) => {
                    event_slot = Some(slot);
                    scope.event_time = EventTime::Field(et.name.clone());
                }
                Some(ty) => {
                    let field_span = decl
                        .fields
                        .iter()
                        .find(|f| f.name.name == et.name)
                        .map(|f| f.ty.span);
                    let (message, help) = if ty.ty == Type::Timestamp {
                        (
                            format!("the event-time field `{}` must not be nullable", et.name),
                            format!("declare it `{}: timestamp`; records without a time cannot be placed in windows", et.name),
                        )
                    } else {
                        let timestamps: Vec<&str> = scope
                            .fields
                            .iter()
                            .filter(|f| {
                                matches!(
                                    f.ty,
                                    Some(Ty {
                                        ty: Type::Timestamp,
                                        ..
                                    })
                                )
                            })
                            .map(|f| f.name.as_str())
                            .collect();
                        (
                            format!("`event_time` must name a timestamp field, but `{}` is {}", et.name, ty.display()),
                            match timestamps.first() {
                                Some(t) => format!("did you mean `event_time {t}`?"),
                                None => "declare a field such as `ts: timestamp` and write `event_time ts`".to_string(),
                            },
                        )
                    };
                    let mut d = Diagnostic::error(
                        codes::BAD_EVENT_TIME,
                        message,
                        et.span,
                        format!("this is {}", ty.display()),
                    )
                    .with_help(help);
                    if let Some(span) = field_span {
                        d = d.with_secondary(span, "declared here");
                    }
                    cx.push(d);
                    scope.event_time = EventTime::Unknown;
                }
            },
        }
    }

    // watermark
    let mut watermark = WatermarkSpec::default();
    for (i, wm) in decl.watermark.iter().enumerate() {
        if i > 0 {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_DECLARATION,
                    "`watermark` is declared twice",
                    wm.span,
                    "second `watermark`",
                )
                .with_secondary(decl.watermark[0].span, "first `watermark` here")
                .with_help("put all settings on one line: `watermark bounded 10s, idle 1m`"),
            );
            continue;
        }
        if decl.event_time.is_empty() {
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
                .map_or("ts", |f| f.name.as_str());
            cx.push(
                Diagnostic::error(
                    codes::WATERMARK_WITHOUT_EVENT_TIME,
                    format!(
                        "`watermark` needs an `event_time` in source `{}`",
                        decl.name.name
                    ),
                    wm.span,
                    "a watermark follows event time",
                )
                .with_help(format!("add `event_time {example}` above the watermark")),
            );
        }
        for part in &wm.parts {
            match part {
                WatermarkPart::Bounded(d) => {
                    if let Some(ms) = durations::require(d, "watermark bound", cx) {
                        watermark.bounded_ms = ms;
                    }
                }
                WatermarkPart::Idle(d) => {
                    if let Some(ms) = durations::require(d, "idle timeout", cx) {
                        if ms == 0 {
                            cx.push(
                                Diagnostic::error(
                                    codes::BAD_WINDOW_SIZE,
                                    "the idle timeout must be positive",
                                    d.span,
                                    "zero",
                                )
                                .with_help("write e.g. `idle 1m`, or leave `idle` out"),
                            );
                        }
                        watermark.idle_ms = Some(ms);
                    }
                }
                WatermarkPart::PerKey(_) => watermark.per_key = true,
                WatermarkPart::MaxFuture(d) => {
                    if let Some(ms) = durations::require(d, "`max_future` bound", cx) {
                        if ms <= 0 {
                            cx.push(
                                Diagnostic::error(
                                    codes::BAD_WINDOW_SIZE,
                                    "the `max_future` bound must be positive",
                                    d.span,
                                    "not positive",
                                )
                                .with_help("write e.g. `max_future 1h`, or leave it out"),
                            );
                        }
                        watermark.max_future_ms = Some(ms);
                    }
                }
            }
        }
    }

    if let Some(connector) = &connector {
        super::lints::event_time_without_watermark(decl, connector, catalog, cx);
    }
    let overload = super::overload::check(decl, connector.as_ref(), catalog, cx);

    let errors_after = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let schema = scope.schema();
    let node = match (connector, schema) {
        (Some(connector), Some(schema)) if errors_after == errors_before => Some(SourceNode {
            name: decl.name.name.clone(),
            connector,
            schema,
            event_time: event_slot,
            watermark,
            overload,
        }),
        _ => None,
    };
    (node, scope)
}
