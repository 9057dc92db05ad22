//! Which sinks a plan writes to, and the schema of the records each receives.

use super::{error_schema, LogicalPlan, LookupMiss, Stage, WindowSpec};
use crate::schema::Schema;

/// Every (sink, schema written to it) pair in the plan, in pipeline order.
pub fn sink_schemas(plan: &LogicalPlan) -> Vec<(String, Schema)> {
    let mut out = Vec::new();
    for pipeline in &plan.pipelines {
        if let Some(sink) = &pipeline.error_to {
            out.push((sink.clone(), error_schema()));
        }
        let mut schema = &pipeline.input_schema;
        for stage in &pipeline.stages {
            match stage {
                Stage::Sink { sink } => out.push((sink.clone(), schema.clone())),
                Stage::Window {
                    window:
                        WindowSpec {
                            late_to: Some(sink),
                            ..
                        },
                    ..
                } => out.push((sink.clone(), WindowSpec::late_schema(schema))),
                // `lookup … on miss to <sink>` writes records as they came in.
                Stage::Lookup {
                    on_miss: LookupMiss::ToSink(sink),
                    ..
                } => out.push((sink.clone(), schema.clone())),
                _ => {}
            }
            if let Some(s) = stage.output_schema() {
                schema = s;
            }
        }
    }
    out
}
