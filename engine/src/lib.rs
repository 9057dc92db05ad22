//! Weir's dataflow engine.
//!
//! ```text
//! LogicalPlan ──build──▶ one timely dataflow per worker ──run──▶ RunSummary
//!   sources: SourceReader per worker, records travel at the source's watermark
//!   stages:  filter / map / select (fused, per batch) → exchange by key → window aggregate
//!   sinks:   SinkWriter per process
//! ```
//! Event time is the timely timestamp: a record travels at its source's current watermark,
//! so every operator's input frontier *is* its watermark; windows fire when the frontier
//! passes their end. The engine knows no syntax: any front end may produce a
//! [`plan::LogicalPlan`].
#![forbid(missing_docs)]

pub mod aggregate;
pub mod alert;
pub mod build;
pub mod checkpoint;
pub mod clock;
pub mod cluster;
pub mod event;
pub mod exact_sum;
pub mod expression;
pub mod expression_convert;
pub mod expression_math;
pub mod expression_text;
pub mod io;
pub mod key;
pub mod metrics;
pub mod ml;
pub mod ops;
pub mod plan;
pub mod retraction;
pub mod rfc3339;
pub mod run;
pub mod schema;
pub mod sink_writers;
pub mod stop;
pub mod testing;
pub mod time;
pub mod trigger;
pub mod value;
pub mod window;
pub mod wire;
pub mod worker;
