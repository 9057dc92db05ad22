//! `parquet(dir, …)`: a data-lake sink writing Hive-partitioned Parquet files.
//!
//! ```text
//! sink lake = parquet("lake/telemetry", partition_by: [date(ts), hour(ts)], rotate: [5m, 128MB])
//! ```
//!
//! Records land in `dir/date=2024-05-01/hour=10/part-<writer>-<seq>.parquet`. A file is
//! written under a hidden temporary name (`.part-….parquet.inprogress`, which Parquet
//! readers skip) and renamed to its final name only once it is complete, so a crash never
//! leaves a half-written file under a final name. Under checkpoints a closed file stays
//! hidden as pending until its checkpoint completes (see `commit`): readers see exactly
//! the records of completed checkpoints.

#[cfg(test)]
mod checkpoint_tests;
mod columns;
mod commit;
pub mod config;
pub mod partition;
mod sink;
#[cfg(test)]
mod tests;

pub use config::{ParquetConfig, OPTIONS};
pub use partition::PartitionKey;
pub use sink::ParquetSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "parquet";
