//! Checked program → [`LogicalPlan`]: lays out records stage by stage.
//!
//! A `map` whose assignments read fields written earlier in the same `map` is split into
//! several plan `Map` stages, so each plan stage only reads its own input record: `map a =
//! x + 1, b = a * 2` means "b from the new a", whatever order the engine evaluates in.

use weir_engine::plan::{Expr, LogicalPlan, PipelineNode, Stage, WindowSpec};
use weir_engine::schema::{Field, Schema};

use crate::check::{CheckedProgram, MapAssignment, Op};

/// Lowers a program that checked without errors.
pub(crate) fn lower(program: CheckedProgram) -> LogicalPlan {
    let pipelines = program
        .pipelines
        .into_iter()
        .map(|p| {
            let mut schema = p.input_schema.clone();
            let mut stages = Vec::new();
            for op in p.ops {
                lower_op(op, &mut schema, &mut stages);
            }
            PipelineNode {
                name: p.name,
                input: p.input,
                input_schema: p.input_schema,
                stages,
            }
        })
        .collect();
    LogicalPlan {
        sources: program.sources,
        sinks: program.sinks,
        pipelines,
    }
}

fn lower_op(op: Op, schema: &mut Schema, stages: &mut Vec<Stage>) {
    match op {
        Op::Filter(predicate) => stages.push(Stage::Filter { predicate }),
        Op::Map(assignments) => lower_map(assignments, schema, stages),
        Op::Select(items) => {
            let (fields, exprs): (Vec<Field>, Vec<Expr>) = items.into_iter().unzip();
            *schema = Schema::new(fields);
            stages.push(Stage::Select {
                exprs,
                schema: schema.clone(),
            });
        }
        Op::KeyBy { keys, names } => stages.push(Stage::KeyBy { keys, names }),
        Op::Window {
            keys,
            kind,
            aggregates,
        } => {
            *schema = WindowSpec::output_schema(schema, &keys, &aggregates);
            stages.push(Stage::Window {
                keys,
                window: WindowSpec { kind },
                aggregates,
                schema: schema.clone(),
            });
        }
        Op::Sink(sink) => stages.push(Stage::Sink { sink }),
    }
}

fn lower_map(assignments: Vec<MapAssignment>, schema: &mut Schema, stages: &mut Vec<Stage>) {
    let mut group: Vec<(usize, Expr)> = Vec::new();
    let mut written: Vec<usize> = Vec::new();
    for a in assignments {
        if reads_any(&a.expr, &written) {
            stages.push(Stage::Map {
                assignments: std::mem::take(&mut group),
                schema: schema.clone(),
            });
            written.clear();
        }
        if a.slot == schema.fields.len() {
            schema.fields.push(a.field);
        } else {
            schema.fields[a.slot] = a.field;
        }
        written.push(a.slot);
        group.push((a.slot, a.expr));
    }
    if !group.is_empty() {
        stages.push(Stage::Map {
            assignments: group,
            schema: schema.clone(),
        });
    }
}

/// True when `e` reads one of the slots in `written`.
fn reads_any(e: &Expr, written: &[usize]) -> bool {
    match e {
        Expr::Literal(_) => false,
        Expr::Field { slot, .. } => written.contains(slot),
        Expr::Unary(_, x) | Expr::ToFloat(x) => reads_any(x, written),
        Expr::Binary(_, a, b) => reads_any(a, written) || reads_any(b, written),
        Expr::Between(a, b, c) => {
            reads_any(a, written) || reads_any(b, written) || reads_any(c, written)
        }
        Expr::In(x, list) => reads_any(x, written) || list.iter().any(|i| reads_any(i, written)),
        Expr::Call(_, args) => args.iter().any(|a| reads_any(a, written)),
    }
}
