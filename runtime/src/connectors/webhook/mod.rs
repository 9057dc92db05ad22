//! `webhook(url, …)`: a sink that POSTs records as JSON to an HTTP endpoint.
//!
//! ```text
//! sink notify = webhook("https://hooks.example.com/weir", batch: 50,
//!                       headers: ["Authorization: Bearer s3cret"], timeout: 5s, retries: 3)
//! ```
//!
//! With `batch: 1` (the default) each request body is one JSON object; with a larger
//! batch it is a JSON array of up to that many records (records that reach the sink
//! together travel together). Network errors, timeouts, 408, 429 and 5xx answers are
//! retried with exponential backoff; other 4xx answers are not. Records still not
//! delivered are handed back to the engine ([`SinkWriter::take_undelivered`]), which
//! sends them to the pipeline's `on error to` route, or reports and counts them; the
//! run goes on (`weir run --strict` stops it instead).
//!
//! [`SinkWriter::take_undelivered`]: weir_engine::io::SinkWriter::take_undelivered

pub mod config;
mod sink;
#[cfg(test)]
mod tests;

pub use config::{WebhookConfig, OPTIONS};
pub use sink::WebhookSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "webhook";
