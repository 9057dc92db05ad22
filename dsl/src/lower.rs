//! Checked program → [`LogicalPlan`]: lays out records stage by stage.
//!
//! A `map` whose assignments read fields written earlier in the same `map` is split into
//! several plan `Map` stages, so each plan stage only reads its own input record: `map a =
//! x + 1, b = a * 2` means "b from the new a", whatever order the engine evaluates in.

use weir_engine::plan::{
    detect_output_schema, forecast_output_schema, Expr, LogicalPlan, PipelineNode, Stage,
    WindowSpec,
};
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
                error_to: p.error_to,
            }
        })
        .collect();
    LogicalPlan {
        sources: program.sources,
        sinks: program.sinks,
        pipelines,
        tests: Vec::new(),
        tables: program.tables,
        models: program.models,
        checkpoint: program.checkpoint,
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
        Op::Dedupe {
            keys,
            names,
            within_ms,
        } => stages.push(Stage::Dedupe {
            keys,
            names,
            within_ms,
        }),
        Op::Window {
            keys,
            spec,
            aggregates,
        } => {
            *schema = WindowSpec::output_schema(schema, &keys, &aggregates, spec.accumulation);
            stages.push(Stage::Window {
                keys,
                window: spec,
                aggregates,
                schema: schema.clone(),
            });
        }
        Op::Detect {
            keys,
            field,
            detector,
            warmup,
            name,
        } => {
            *schema = detect_output_schema(schema, &name);
            stages.push(Stage::Detect {
                keys,
                field,
                detector,
                warmup,
                name,
                schema: schema.clone(),
            });
        }
        Op::Forecast {
            keys,
            field,
            params,
            name,
        } => {
            *schema = forecast_output_schema(schema, &name);
            stages.push(Stage::Forecast {
                keys,
                field,
                params,
                name,
                schema: schema.clone(),
            });
        }
        Op::Sink(sink) => stages.push(Stage::Sink { sink }),
        Op::Alert(spec) => {
            *schema = weir_engine::alert::alert_output_schema(schema);
            let group = spec.group.clone();
            stages.push(Stage::Alert {
                spec,
                schema: schema.clone(),
            });
            if let Some(spec) = group {
                *schema = weir_engine::alert::group::group_output_schema(&spec, schema);
                stages.push(Stage::AlertGroup {
                    spec,
                    schema: schema.clone(),
                });
            }
        }
        Op::Join(join) => {
            *schema = join.output_schema(schema);
            stages.push(Stage::Join {
                join,
                schema: schema.clone(),
            });
        }
        Op::Infer {
            model,
            inputs,
            outputs,
            fields,
        } => {
            schema.fields.extend(fields);
            stages.push(Stage::Infer {
                model,
                inputs,
                outputs,
                schema: schema.clone(),
            });
        }
        Op::Unnest(spec) => {
            *schema = spec.output_schema(schema);
            stages.push(Stage::Unnest {
                spec,
                schema: schema.clone(),
            });
        }
        Op::Lookup {
            table,
            key,
            on_miss,
            fields,
        } => {
            schema.fields.extend(fields);
            stages.push(Stage::Lookup {
                table,
                key,
                on_miss,
                schema: schema.clone(),
            });
        }
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
        Expr::Cond(branches, otherwise) => {
            reads_any(otherwise, written)
                || branches
                    .iter()
                    .any(|(c, v)| reads_any(c, written) || reads_any(v, written))
        }
    }
}

#[cfg(test)]
mod tests {
    use weir_engine::plan::{
        AggFunc, BinaryOp, Expr, PipelineInput, Stage, WindowKind, WINDOW_FIELDS,
    };
    use weir_engine::schema::{Field, Type};
    use weir_engine::value::Value;

    use crate::compile;

    const EXAMPLE: &str = include_str!("../tests/programs/device_temps.pipe");

    fn field(slot: usize, name: &str) -> Expr {
        Expr::Field {
            slot,
            name: name.to_string(),
        }
    }

    #[test]
    fn the_example_lowers_to_the_expected_plan() {
        let plan = compile("device_temps.pipe", EXAMPLE)
            .expect("compiles")
            .plan;
        let source = plan.source("telemetry").expect("source");
        assert_eq!(source.event_time, Some(3));
        assert_eq!(source.watermark.bounded_ms, 10_000);
        assert_eq!(source.watermark.idle_ms, Some(60_000));
        assert!(!source.watermark.per_key);
        assert_eq!(
            source.schema.fields[2],
            Field::nullable("vibration", Type::Float)
        );
        assert_eq!(
            source.connector.option("events"),
            Some(&weir_engine::plan::OptionValue::Int(10_000_000))
        );
        assert_eq!(
            source.connector.option("jitter"),
            Some(&weir_engine::plan::OptionValue::Duration(2_000))
        );
        assert_eq!(plan.sinks.len(), 2);

        let p = plan.pipeline("device_temps").expect("pipeline");
        assert_eq!(p.input, PipelineInput::Source("telemetry".into()));
        let [Stage::Filter { predicate }, Stage::Map {
            assignments,
            schema: map_schema,
        }, Stage::Select {
            exprs,
            schema: select_schema,
        }, Stage::KeyBy { keys, names }, Stage::Window {
            keys: window_keys,
            window,
            aggregates,
            schema,
        }, Stage::Sink { sink }] = p.stages.as_slice()
        else {
            panic!("unexpected stages: {:#?}", p.stages)
        };
        assert_eq!(
            *predicate,
            Expr::Between(
                Box::new(field(1, "temp")),
                Box::new(Expr::Literal(Value::Float(-40.0))),
                Box::new(Expr::Literal(Value::Float(150.0))),
            )
        );
        // temp_f and hot are appended at slots 4 and 5.
        let slots: Vec<usize> = assignments.iter().map(|(s, _)| *s).collect();
        assert_eq!(slots, vec![4, 5]);
        // Arithmetic may be null (a result that does not fit), so `temp_f` is nullable.
        assert_eq!(map_schema.fields[4], Field::nullable("temp_f", Type::Float));
        assert_eq!(map_schema.fields[5], Field::new("hot", Type::Bool));
        assert_eq!(
            exprs,
            &vec![
                field(0, "device_id"),
                field(1, "temp"),
                field(3, "ts"),
                field(4, "temp_f")
            ]
        );
        let names_out: Vec<&str> = select_schema
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names_out, vec!["device_id", "temp", "ts", "f"]);
        assert_eq!(
            (keys.as_slice(), names.as_slice()),
            (&[0][..], &["device_id".to_string()][..])
        );
        assert_eq!(window_keys, &vec![0]);
        assert_eq!(
            window.kind,
            WindowKind::Tumbling {
                size_ms: 60_000,
                offset_ms: 0
            }
        );
        let funcs: Vec<(AggFunc, Option<Type>)> =
            aggregates.iter().map(|a| (a.func, a.arg_type)).collect();
        assert_eq!(
            funcs,
            vec![
                (AggFunc::Avg, Some(Type::Float)),
                (AggFunc::Max, Some(Type::Float)),
                (AggFunc::Count, None),
                (AggFunc::First, Some(Type::Float)),
                (AggFunc::Last, Some(Type::Float)),
                (AggFunc::Sum, Some(Type::Float)),
                (AggFunc::Min, Some(Type::Float)),
            ]
        );
        // Output: keys, aggregates, then the window fields.
        let out: Vec<(&str, Type, bool)> = schema
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.ty, f.nullable))
            .collect();
        let mut expected = vec![
            ("device_id", Type::String, false),
            ("avg_temp", Type::Float, true),
            ("max_temp", Type::Float, true),
            ("readings", Type::Int, false),
            ("first_t", Type::Float, true),
            ("last_t", Type::Float, true),
            ("total", Type::Float, false),
            ("lo", Type::Float, true),
        ];
        expected.extend(WINDOW_FIELDS.iter().map(|(n, t)| (*n, *t, false)));
        assert_eq!(out, expected);
        assert_eq!(sink, "out");
        assert_eq!(p.output_schema(), schema);
    }

    fn stages(body: &str) -> Vec<Stage> {
        let text = format!(
            "source s = f() {{ a: i64  b: f64  c: i64?  t: timestamp  event_time t }}\n\
             sink o = stdout()\npipeline p {{ from s {body} | to o }}"
        );
        let plan = match compile("t.pipe", &text) {
            Ok(c) => c.plan,
            Err(d) => panic!("{}", crate::render(&d, "t.pipe", &text, false)),
        };
        let mut stages = plan.pipelines[0].stages.clone();
        stages.pop(); // the sink
        stages
    }

    #[test]
    fn mixed_arithmetic_widens_the_integer_side() {
        let s = stages("| map x = a + b, y = a * 2, z = a + 2.5");
        let Stage::Map {
            assignments,
            schema,
        } = &s[0]
        else {
            panic!("{s:?}")
        };
        assert_eq!(
            assignments[0].1,
            Expr::Binary(
                BinaryOp::Add,
                Box::new(Expr::ToFloat(Box::new(field(0, "a")))),
                Box::new(field(1, "b"))
            )
        );
        assert_eq!(
            assignments[1].1,
            Expr::Binary(
                BinaryOp::Mul,
                Box::new(field(0, "a")),
                Box::new(Expr::Literal(Value::Int(2)))
            )
        );
        let types: Vec<Type> = schema.fields[4..].iter().map(|f| f.ty).collect();
        assert_eq!(types, vec![Type::Float, Type::Int, Type::Float]);
    }

    #[test]
    fn nullability_propagates_and_coalesce_clears_it() {
        let s = stages("| map x = c + 1, y = c ?? 0, z = (c ?? 0) + a, w = t - 5s, d = t - t");
        let Stage::Map { schema, .. } = &s[0] else {
            panic!("{s:?}")
        };
        let fields: Vec<(&str, Type, bool)> = schema.fields[4..]
            .iter()
            .map(|f| (f.name.as_str(), f.ty, f.nullable))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("x", Type::Int, true),
                ("y", Type::Int, false),
                // Numeric arithmetic is null on overflow, whatever its operands.
                ("z", Type::Int, true),
                ("w", Type::Timestamp, false),
                ("d", Type::Duration, false),
            ]
        );
    }

    #[test]
    fn map_assignments_reading_earlier_ones_become_separate_stages() {
        let s = stages("| map a = a + 1, x = a * 2, b = 0.5");
        assert_eq!(s.len(), 2, "{s:#?}");
        let Stage::Map { assignments, .. } = &s[1] else {
            panic!("{s:?}")
        };
        // `x` reads the new `a` (slot 0), after the first stage wrote it.
        assert_eq!(assignments[0].0, 4);
        assert_eq!(assignments[1].0, 1);
    }

    #[test]
    fn the_keys_of_a_window_are_those_of_the_last_key_by() {
        let s = stages("| key by a | key by c, a | select c, a, t | window tumbling 10s | aggregate n = count()");
        let Stage::Window { keys, schema, .. } = &s[3] else {
            panic!("{s:?}")
        };
        // After the select, c is slot 0 and a is slot 1.
        assert_eq!(keys, &vec![0, 1]);
        assert_eq!(schema.fields[0].name, "c");
        assert_eq!(schema.fields[1].name, "a");
        assert_eq!(schema.fields[2].name, "n");
    }
}
