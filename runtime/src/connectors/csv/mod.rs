//! `csv(path)`: reference data for `lookup`, read from a CSV file with a header row and
//! read again while the run goes on (`refresh on change` / `refresh every <d>`).
//!
//! ```text
//! table devices = csv("examples/data/devices.csv") {
//!   key device_id
//!   device_id: string
//!   site:      string
//!   refresh on change
//! }
//! ```

pub mod config;
mod table;
#[cfg(test)]
mod tests;

pub use config::{CsvTableConfig, OPTIONS};
pub use table::{CsvTable, Warn};

/// The connector's name in `.pipe` files.
pub const KIND: &str = "csv";
