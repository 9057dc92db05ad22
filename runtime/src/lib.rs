//! The Weir runtime: connectors, launch and the `weir` command line.

pub mod catalog;
pub mod cli;
pub mod connectors;
pub mod format;
pub mod http;
pub mod launch;
pub mod model;
pub mod nab;
pub mod nexmark_bench;
#[cfg(feature = "sql")]
pub mod query;

/// Whether this build has `weir query` (the cargo feature `sql`, DataFusion).
pub const SQL_ENABLED: bool = cfg!(feature = "sql");
