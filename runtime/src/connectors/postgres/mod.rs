//! `postgres(url_env: …, table: …)`: a sink writing records into a PostgreSQL table.
//!
//! ```text
//! sink db = postgres(url_env: "PG_URL", table: "device_minutes",
//!                    key: [device_id, window.start], mode: upsert, create: true)
//! ```
//!
//! Records are written in batches, one multi-row `INSERT` per batch (`ON CONFLICT (key)
//! DO UPDATE` in `upsert` mode). A batch the server refuses for one of its rows (a
//! constraint, a bad value) is written again row by row, so the good rows land and each
//! refused one goes to the pipeline's `on error to` route with the server's reason.
//! Lost connections and other transient failures are retried with exponential backoff on
//! a new connection; a refused login stops the run, since retrying cannot heal it.

pub mod config;
mod params;
mod sink;
mod sql;
#[cfg(test)]
mod tests;

pub use config::{Mode, PostgresConfig, OPTIONS};
pub use sink::PostgresSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "postgres";
