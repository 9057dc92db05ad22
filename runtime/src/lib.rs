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
