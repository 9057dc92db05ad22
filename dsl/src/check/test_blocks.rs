//! `test` blocks: sources, sinks and fields resolved against the lowered plan (a sink's
//! record layout is only known once its pipeline is), values typed by their fields.

use weir_engine::plan::sink_schemas;
use weir_engine::plan::{ExpectedField, LogicalPlan, TestAction, TestCase, TestStep};
use weir_engine::schema::{Schema, Type};
use weir_engine::time::parse_timestamp;
use weir_engine::value::Value;

use crate::ast::{Item, Literal, Program, RecordLit, TestStepKind, TestValue};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// Checks every test block of `program` against `plan`; returns the test cases and the
/// diagnostics (all of them, not the first).
pub(crate) fn check(
    program: &Program,
    plan: &LogicalPlan,
    text: &str,
) -> (Vec<TestCase>, Vec<Diagnostic>) {
    let sinks = sink_schemas(plan);
    let mut diags = Vec::new();
    let mut cases = Vec::new();
    for item in &program.items {
        let Item::Test(decl) = item else { continue };
        let mut steps = Vec::new();
        for step in &decl.steps {
            let line = line_of(text, step.span.lo);
            let action = match &step.kind {
                TestStepKind::Given { source, records } => {
                    let Some(node) = plan.source(&source.name) else {
                        diags.push(unknown(
                            "source",
                            &source.name,
                            source.span,
                            plan.sources.iter().map(|s| s.name.as_str()),
                        ));
                        continue;
                    };
                    let mut rows = Vec::new();
                    for r in records {
                        let mut row = vec![Value::Null; node.schema.fields.len()];
                        for (slot, value) in typed_fields(r, &node.schema, &source.name, &mut diags)
                        {
                            row[slot] = value;
                        }
                        if let Some(slot) = node.event_time {
                            if row[slot].is_null() {
                                diags.push(
                                    Diagnostic::error(
                                        codes::BAD_TEST,
                                        format!(
                                            "this record has no event time (`{}`)",
                                            node.schema.fields[slot].name
                                        ),
                                        r.span,
                                        "missing its event time",
                                    )
                                    .with_help(format!(
                                        "add e.g. `{}: \"2024-05-01T10:00:00Z\"`",
                                        node.schema.fields[slot].name
                                    )),
                                );
                            }
                        }
                        rows.push(row);
                    }
                    TestAction::Given {
                        source: source.name.clone(),
                        records: rows,
                    }
                }
                TestStepKind::Watermark { source, time } => {
                    if let Some(s) = source {
                        if plan.source(&s.name).is_none() {
                            diags.push(unknown(
                                "source",
                                &s.name,
                                s.span,
                                plan.sources.iter().map(|s| s.name.as_str()),
                            ));
                            continue;
                        }
                    }
                    let Some(t) = time.value else { continue };
                    TestAction::Watermark {
                        source: source.as_ref().map(|s| s.name.clone()),
                        time: t,
                    }
                }
                TestStepKind::Clock(time) => {
                    let Some(t) = time.value else { continue };
                    TestAction::Clock { time: t }
                }
                TestStepKind::Expect { sink, records } => {
                    let Some((_, schema)) = sinks.iter().find(|(n, _)| *n == sink.name) else {
                        let d = if plan.sink(&sink.name).is_some() {
                            Diagnostic::error(
                                codes::BAD_TEST,
                                format!("no pipeline writes to sink `{}`", sink.name),
                                sink.span,
                                "receives nothing",
                            )
                            .with_help(format!("add `| to {}` to a pipeline", sink.name))
                        } else {
                            unknown(
                                "sink",
                                &sink.name,
                                sink.span,
                                plan.sinks.iter().map(|s| s.name.as_str()),
                            )
                        };
                        diags.push(d);
                        continue;
                    };
                    let expected = records
                        .iter()
                        .map(|r| {
                            typed_fields(r, schema, &sink.name, &mut diags)
                                .into_iter()
                                .map(|(slot, value)| ExpectedField {
                                    name: schema.fields[slot].name.clone(),
                                    slot,
                                    value,
                                })
                                .collect()
                        })
                        .collect();
                    TestAction::Expect {
                        sink: sink.name.clone(),
                        records: expected,
                    }
                }
            };
            steps.push(TestStep { line, action });
        }
        cases.push(TestCase {
            name: decl.name.clone(),
            steps,
        });
    }
    (cases, diags)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn unknown<'a>(
    what: &str,
    name: &str,
    span: Span,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let list: Vec<&str> = known.clone().collect();
    Diagnostic::error(
        codes::BAD_TEST,
        format!("unknown {what} `{name}` in this test"),
        span,
        format!("no such {what}"),
    )
    .with_help_opt(did_you_mean(name, known).map(|s| format!("did you mean `{s}`?")))
    .with_note(format!("{what}s: {}", list.join(", ")))
}

/// The record's fields as (slot, value) pairs typed by `schema`; problems are reported.
fn typed_fields(
    r: &RecordLit,
    schema: &Schema,
    owner: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    for (name, literal, span) in &r.fields {
        let Some(slot) = schema.fields.iter().position(|f| f.name == name.name) else {
            let names = schema.fields.iter().map(|f| f.name.as_str());
            diags.push(
                Diagnostic::error(
                    codes::BAD_TEST,
                    format!("`{owner}` has no field `{}`", name.name),
                    name.span,
                    "unknown field",
                )
                .with_help_opt(
                    did_you_mean(&name.name, names).map(|s| format!("did you mean `{s}`?")),
                )
                .with_note(format!("`{owner}` has: {schema}")),
            );
            continue;
        };
        let Some(literal) = literal else { continue };
        let field = &schema.fields[slot];
        match convert(literal, field.ty) {
            Some(Value::Null) if !field.nullable => diags.push(
                Diagnostic::error(
                    codes::BAD_TEST,
                    format!("`{}` cannot be null", field.name),
                    *span,
                    format!("`{}` is {}", field.name, field.ty),
                )
                .with_help("give a value, or leave the field out to ignore it in `expect`"),
            ),
            Some(v) => out.push((slot, v)),
            None => diags.push(
                Diagnostic::error(
                    codes::BAD_TEST,
                    format!("this value does not fit `{}`, which is {}", field.name, field.ty),
                    *span,
                    "wrong type",
                )
                .with_help(match field.ty {
                    Type::Timestamp => "write an RFC 3339 string such as \"2024-05-01T10:00:00Z\", or epoch milliseconds".to_string(),
                    Type::Duration => "write a duration such as `10s`".to_string(),
                    Type::List(item) => format!("write a list of {} values such as `[…]`", item.ty()),
                    t => format!("write a {t} value"),
                }),
            ),
        }
    }
    out
}

fn convert(value: &TestValue, ty: Type) -> Option<Value> {
    match (value, ty) {
        (TestValue::Scalar(literal), ty) => scalar(literal, ty),
        // Items are never null (`collect` skips nulls); an item that did not parse was
        // reported by the parser.
        (TestValue::List(items), Type::List(item)) => items
            .iter()
            .map(|i| match i {
                Some(Literal::Null) | None => None,
                Some(l) => scalar(l, item.ty()),
            })
            .collect::<Option<Vec<Value>>>()
            .map(|items| Value::List(items.into())),
        (TestValue::List(_), _) => None,
    }
}

fn scalar(literal: &Literal, ty: Type) -> Option<Value> {
    Some(match (literal, ty) {
        (Literal::Null, _) => Value::Null,
        (Literal::Int(i), Type::Int) => Value::Int(*i),
        (Literal::Int(i), Type::Float) => Value::Float(*i as f64),
        (Literal::Float(f), Type::Float) => Value::Float(*f),
        (Literal::Str(s), Type::String) => Value::str(s),
        (Literal::Str(s), Type::Timestamp) => Value::Time(parse_timestamp(s)?),
        (Literal::Int(i), Type::Timestamp) => Value::Time(*i),
        (Literal::Bool(b), Type::Bool) => Value::Bool(*b),
        (Literal::Duration(d), Type::Duration) => Value::Duration(*d),
        _ => return None,
    })
}
