//! Reference tables and `lookup`: a table's fields and key, and the record a lookup
//! leaves behind (the input, then the table's fields).

use weir_engine::plan::{LookupMiss, TableNode, TableRefresh};
use weir_engine::schema::{Field, Type};

use super::connectors::{self, ConnectorCatalog, Role};
use super::durations;
use super::names::Names;
use super::schema::resolve_type;
use super::scope::{Scope, ScopeField, Ty};
use super::stages::duplicate_field;
use super::{Ctx, Op};
use crate::ast::{LookupAst, MissKind, RefreshKind, TableDecl};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// What `lookup` needs of a checked table: its fields as a scope and its key.
#[derive(Clone, Debug)]
pub(crate) struct TableScope {
    pub scope: Scope,
    /// Slot of the key in `scope`; `None` if the key had errors (already reported).
    pub key: Option<usize>,
}

/// Checks a table declaration; returns its plan node (if it has no errors) and what
/// `lookup` stages see of it.
pub(crate) fn check_table(
    decl: &TableDecl,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> (Option<TableNode>, TableScope) {
    let errors_before = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let mut fields: Vec<ScopeField> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    for f in &decl.fields {
        let ty = resolve_type(&f.ty, cx);
        if let Some(first) = fields.iter().position(|g| g.name == f.name.name) {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("field `{}` is declared twice", f.name.name),
                    f.name.span,
                    "declared again here",
                )
                .with_secondary(spans[first], "first declared here"),
            );
            continue;
        }
        fields.push(ScopeField {
            name: f.name.name.clone(),
            ty,
        });
        spans.push(f.name.span);
    }
    let scope = Scope {
        fields,
        origin: format!("table `{}`", decl.name.name),
        origin_span: Some(decl.name.span),
        poisoned: false,
        event_time: super::scope::EventTime::Unknown,
    };
    let declared = scope.schema();
    let connector =
        connectors::check_connector(&decl.connector, Role::Table, declared.as_ref(), catalog, cx);
    let key = check_key(decl, &scope, &spans, cx);

    let mut refresh = TableRefresh::Never;
    for (i, r) in decl.refresh.iter().enumerate() {
        if i > 0 {
            cx.push(
                Diagnostic::error(
                    codes::BAD_TABLE,
                    "`refresh` is given twice",
                    r.span,
                    "second `refresh`",
                )
                .with_secondary(decl.refresh[0].span, "first `refresh` here")
                .with_help("a table refreshes one way: `refresh on change` or `refresh every <d>`"),
            );
            continue;
        }
        refresh = match &r.kind {
            RefreshKind::OnChange => TableRefresh::OnChange,
            RefreshKind::Every(d) => match durations::require(d, "refresh period", cx) {
                Some(ms) if ms > 0 => TableRefresh::Every(ms),
                Some(_) => {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_TABLE,
                            "the refresh period must be positive",
                            d.span,
                            "zero",
                        )
                        .with_help("write e.g. `refresh every 1m`, or `refresh on change`"),
                    );
                    TableRefresh::Never
                }
                None => TableRefresh::Never,
            },
        };
    }

    let errors_after = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let node = match (connector, declared, key) {
        (Some(connector), Some(schema), Some(key)) if errors_after == errors_before => {
            Some(TableNode {
                name: decl.name.name.clone(),
                connector,
                schema,
                key,
                refresh,
            })
        }
        _ => None,
    };
    (node, TableScope { scope, key })
}

fn check_key(decl: &TableDecl, scope: &Scope, spans: &[Span], cx: &mut Ctx<'_>) -> Option<usize> {
    let Some(key) = decl.keys.first() else {
        let example = scope.fields.first().map_or("id", |f| f.name.as_str());
        cx.push(
            Diagnostic::error(
                codes::BAD_TABLE,
                format!("table `{}` has no key", decl.name.name),
                decl.name.span,
                "no `key` line",
            )
            .with_help(format!(
                "name the field lookups match on: add `key {example}` to the table"
            )),
        );
        return None;
    };
    for extra in &decl.keys[1..] {
        cx.push(
            Diagnostic::error(
                codes::BAD_TABLE,
                "a table has one `key`",
                extra.span,
                "second `key`",
            )
            .with_secondary(key.span, "first `key` here"),
        );
    }
    let Some(slot) = scope.slot(&key.name) else {
        let mut d = scope.unknown_field(&key.name, key.span);
        d.code = codes::BAD_TABLE;
        d.message = format!("`key` names an unknown field `{}`", key.name);
        cx.push(d);
        return None;
    };
    let ty = scope.fields[slot].ty?;
    let problem = if ty.nullable {
        Some((
            format!("the key `{}` must not be nullable", key.name),
            format!("declare it `{}: {}`", key.name, ty.ty),
        ))
    } else if matches!(ty.ty, Type::Float) {
        Some((
            format!(
                "the key `{}` is f64, which does not match reliably",
                key.name
            ),
            "key tables by a string, an integer, a bool or a timestamp".to_string(),
        ))
    } else {
        None
    };
    if let Some((message, help)) = problem {
        cx.push(
            Diagnostic::error(
                codes::BAD_TABLE,
                message,
                key.span,
                format!("this is {}", ty.display()),
            )
            .with_secondary(spans[slot], "declared here")
            .with_help(help),
        );
        return None;
    }
    Some(slot)
}

/// Checks `lookup <table> on <field> [on miss …]` against the record `scope`; appends
/// the table's fields to `scope` and returns the checked operation.
pub(crate) fn check_lookup(
    lookup: &LookupAst,
    scope: &mut Scope,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> Option<Op> {
    let table = names.resolve_table(&lookup.table, cx);
    let field = scope.lookup(&lookup.field.name, lookup.field.span, cx);
    let on_miss = match lookup.on_miss.as_ref().map(|m| &m.kind) {
        None | Some(MissKind::KeepNull) => Some(LookupMiss::KeepNull),
        Some(MissKind::Drop) => Some(LookupMiss::Drop),
        Some(MissKind::To(sink)) => names
            .resolve_sink(sink, cx)
            .then(|| LookupMiss::ToSink(sink.name.clone())),
    };
    let Some(table) = table else {
        // Unknown table: the fields it would add are unknown too.
        *scope = Scope::poisoned();
        return None;
    };
    let key_ty = table.key.and_then(|k| table.scope.fields[k].ty);
    if let (Some((_, field_ty)), Some(key_ty)) = (field, key_ty) {
        if field_ty.ty != key_ty.ty {
            cx.push(key_mismatch(lookup, field_ty, key_ty, table));
        }
    }
    // The table's fields but the key, nullable when a miss keeps the record.
    let keep_null = on_miss == Some(LookupMiss::KeepNull);
    let mut added = Vec::new();
    for (i, f) in table.scope.fields.iter().enumerate() {
        if Some(i) == table.key {
            continue;
        }
        if scope.slot(&f.name).is_some() {
            cx.push(
                duplicate_field(&f.name, lookup.table.span, lookup.field.span)
                    .with_help(format!(
                        "the record already has a field `{}`; rename it first, e.g. `| map {}_in = {}` then `select` without it",
                        f.name, f.name, f.name
                    )),
            );
            continue;
        }
        let ty = f.ty.map(|t| Ty {
            ty: t.ty,
            nullable: t.nullable || keep_null,
        });
        scope.fields.push(ScopeField {
            name: f.name.clone(),
            ty,
        });
        added.push((f.name.clone(), ty));
    }
    let fields: Option<Vec<Field>> = added
        .into_iter()
        .map(|(name, ty)| {
            ty.map(|t| Field {
                name,
                ty: t.ty,
                nullable: t.nullable,
            })
        })
        .collect();
    Some(Op::Lookup {
        table: lookup.table.name.clone(),
        key: field?.0,
        on_miss: on_miss?,
        fields: fields?,
    })
}

fn key_mismatch(lookup: &LookupAst, field: Ty, key: Ty, table: &TableScope) -> Diagnostic {
    let key_name = table
        .key
        .map_or("key", |k| table.scope.fields[k].name.as_str());
    let mut d = Diagnostic::error(
        codes::TYPE_MISMATCH,
        format!(
            "`{}` is {}, but the key `{key_name}` of table `{}` is {}",
            lookup.field.name,
            field.display(),
            lookup.table.name,
            key.ty
        ),
        lookup.field.span,
        format!("this is {}", field.display()),
    );
    if let Some(span) = table.scope.origin_span {
        d = d.with_secondary(span, "the table is declared here");
    }
    let field_name = &lookup.field.name;
    d.with_help(
        match super::functions::conversion(field.ty, key.ty, field_name) {
            Some(call) => format!(
                "convert it first: `| map {field_name}_key = {call} | lookup {} on {field_name}_key`",
                lookup.table.name
            ),
            None => format!(
                "look up a field of type {} (no function turns {} into {})",
                key.ty, field.ty, key.ty
            ),
        },
    )
}
