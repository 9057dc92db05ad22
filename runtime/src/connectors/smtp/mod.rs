//! `smtp(server, …)`: a sink that sends each record as an e-mail, for alert notifications.
//!
//! ```text
//! sink mail = smtp("mail.plant.example:587", from: "weir@plant.example",
//!                  to: ["ops@plant.example", "oncall@plant.example"],
//!                  subject: "{alert.level}: {alert.id}", body: "{alert.message}",
//!                  username_env: "SMTP_USER", password_env: "SMTP_PASS", limit: 10, per: 1m)
//! ```
//!
//! One message per record, through lettre's blocking SMTP client on the writing worker's
//! thread. Connection errors, timeouts and 4xx answers are retried with exponential
//! backoff; 5xx answers are not. Messages still not delivered, and those over `limit`,
//! are handed back to the engine, which sends them to the pipeline's `on error to`
//! route with the server's reason, as the webhook does.

pub mod config;
mod sink;
#[cfg(test)]
mod tests;

pub use config::{SmtpConfig, OPTIONS};
pub use sink::SmtpSink;

/// The connector's name in `.pipe` files.
pub const KIND: &str = "smtp";
