//! Small hand-built plans for the tests of the planner and its rules.

use super::{
    AggFunc, Aggregate, BinaryOp, ConnectorCall, Expr, LogicalPlan, PipelineInput, PipelineNode,
    SinkNode, SourceNode, Stage, WatermarkSpec, WindowKind, WindowSpec,
};
use crate::schema::{Field, Schema, Type};
use crate::value::Value;

/// `slot` of the source schema as an expression.
pub fn field(slot: usize) -> Expr {
    let names = ["device", "reading", "ts", "site"];
    Expr::Field {
        slot,
        name: names.get(slot).copied().unwrap_or("extra").into(),
    }
}

/// `field(slot) > value`.
pub fn greater(slot: usize, value: f64) -> Expr {
    Expr::Binary(
        BinaryOp::Gt,
        Box::new(field(slot)),
        Box::new(Expr::Literal(Value::Float(value))),
    )
}

/// The schema of source `in`: device, reading, ts, site.
pub fn source_schema() -> Schema {
    Schema::new(vec![
        Field::new("device", Type::String),
        Field::new("reading", Type::Float),
        Field::new("ts", Type::Timestamp),
        Field::new("site", Type::String),
    ])
}

/// A per-device tumbling count and sum of `reading` over `schema` (keys: slot 0).
pub fn window(schema: &Schema) -> Stage {
    let aggregates = vec![
        Aggregate {
            name: "n".into(),
            func: AggFunc::Count,
            arg: None,
            arg_type: None,
            keep: Vec::new(),
        },
        Aggregate {
            name: "total".into(),
            func: AggFunc::Sum,
            arg: Some(field(1)),
            arg_type: Some(Type::Float),
            keep: Vec::new(),
        },
    ];
    let window = WindowSpec::new(WindowKind::Tumbling {
        size_ms: 1000,
        offset_ms: 0,
    });
    let out = WindowSpec::output_schema(schema, &[0], &aggregates, window.accumulation);
    Stage::Window {
        keys: vec![0],
        window,
        aggregates,
        schema: out,
    }
}

/// Source `in` (memory), sink `out`, and one pipeline `p` with `stages`.
pub fn plan(stages: Vec<Stage>) -> LogicalPlan {
    let memory = ConnectorCall {
        kind: "memory".into(),
        args: vec![],
        options: vec![],
    };
    LogicalPlan {
        sources: vec![SourceNode {
            name: "in".into(),
            connector: memory.clone(),
            schema: source_schema(),
            event_time: Some(2),
            overload: Default::default(),
            watermark: WatermarkSpec::default(),
        }],
        sinks: vec![SinkNode {
            name: "out".into(),
            connector: memory,
        }],
        pipelines: vec![PipelineNode {
            name: "p".into(),
            input: PipelineInput::Source("in".into()),
            input_schema: source_schema(),
            stages,
            error_to: None,
        }],
        ..LogicalPlan::default()
    }
}
