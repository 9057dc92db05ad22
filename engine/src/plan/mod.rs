//! The logical plan: what a pipeline computes, independent of any syntax.
//!
//! Front ends (the `.pipe` language in `weir-dsl`) produce a [`LogicalPlan`] with every
//! field already resolved to a slot and every expression typed; the engine turns it into a
//! timely dataflow. Plans are serde-serialisable and have a stable text form
//! ([`LogicalPlan::explain`]).

mod error_route;
mod explain;
mod expr;
mod expr_slots;
mod join;
mod logical;
pub mod optimize;
pub mod physical;
mod physical_explain;
#[cfg(test)]
pub(crate) mod sample;
mod sink_schema;
mod test_case;
mod unnest;
mod window;

pub use error_route::{error_record, error_schema, ERROR_FIELDS};
pub use expr::{AggFunc, Aggregate, BinaryOp, Expr, Function, KeptField, UnaryOp, MAX_TOP_N};
pub use join::{JoinMode, JoinSpec, JOIN_WINDOW_FIELDS};
pub use logical::{
    detect_output_schema, forecast_output_schema, ConnectorCall, LogicalPlan, OptionValue,
    PipelineInput, PipelineNode, SinkNode, SourceNode, Stage, WatermarkSpec,
};
pub use logical::{CheckpointSpec, LookupMiss, ModelNode, OverloadPolicy, TableNode, TableRefresh};
pub use sink_schema::sink_schemas;
pub use test_case::{ExpectedField, TestAction, TestCase, TestStep};
pub use unnest::{companions as unnest_companions, UnnestSpec};
pub use window::{
    Accumulation, FieldRef, TimestampCombiner, Trigger, WindowKind, WindowSpec, LATE_FIELDS,
    RETRACTION_FIELD, WINDOW_FIELDS,
};
