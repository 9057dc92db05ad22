//! `stdout()`: a sink that prints records to standard output, as JSON lines by default.
//!
//! ```text
//! sink console = stdout()
//! ```

pub mod config;
mod sink;
#[cfg(test)]
mod tests;

pub use config::{StdoutConfig, OPTIONS};
pub use sink::StdoutSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "stdout";
