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

pub mod io;
pub mod plan;
pub mod schema;
pub mod time;
pub mod value;
