//! Launching runs: signals and progress reporting for local runs.

pub mod progress;
pub mod signals;
