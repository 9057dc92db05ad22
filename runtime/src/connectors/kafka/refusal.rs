//! Failures that will not heal by retrying, as a client's context or a poll sees them:
//! a refused login or TLS handshake, a topic or group the user may not use. The first
//! one is kept; the source or sink ends the run with it at its next call.
//!
//! A consumer's poll hands back the error code without librdkafka's text, which holds
//! the broker's reason ("broker responded with unknown-user"); the text also goes to the
//! client's log at error level, so the last such line is kept to go with it.

use parking_lot::Mutex;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::client::{describe, describe_with, is_fatal};

/// The first failure that ends the run, as a client's context sees it.
#[derive(Default)]
pub struct Refusals {
    fatal: Mutex<Option<String>>,
    /// librdkafka's last broker failure logged at error level.
    last_failure: Mutex<Option<String>>,
}

impl Refusals {
    /// An error librdkafka reports with its text (from `ClientContext::error`).
    pub fn error(&self, error: &KafkaError, reason: &str) {
        if is_fatal(error) {
            self.set(describe_with(error, reason));
        }
    }

    /// An error a consumer's poll returns: its text is the last logged broker failure.
    pub fn poll_error(&self, error: &KafkaError) {
        if is_fatal(error) {
            let reason = self.last_failure.lock().clone();
            self.error(
                error,
                reason.as_deref().unwrap_or("the broker gave no reason"),
            );
        }
    }

    /// A librdkafka log line (from `ClientContext::log`): broker failures at error level
    /// are kept for `poll_error`.
    pub fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let severe = matches!(
            level,
            RDKafkaLogLevel::Emerg
                | RDKafkaLogLevel::Alert
                | RDKafkaLogLevel::Critical
                | RDKafkaLogLevel::Error
        );
        if severe && facility == "FAIL" {
            // A failed TLS handshake (an untrusted or mismatched certificate) fails the
            // same way on every try, and librdkafka 2.12 reports it only in this log
            // line (no error event), so it ends the run here.
            if message.contains("SSL handshake failed") {
                self.set(describe_with(
                    &KafkaError::Global(RDKafkaErrorCode::SSL),
                    message.trim(),
                ));
            }
            *self.last_failure.lock() = Some(message.trim().to_string());
        }
    }

    /// An error a delivery report carries.
    pub fn delivery_error(&self, error: &KafkaError) {
        if is_fatal(error) {
            self.set(describe(error));
        }
    }

    /// Why the run must end, if it must.
    pub fn fatal(&self) -> Option<String> {
        self.fatal.lock().clone()
    }

    fn set(&self, why: String) {
        self.fatal.lock().get_or_insert(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authentication_error_is_fatal_at_once_and_the_first_reason_stays() {
        let r = Refusals::default();
        r.error(
            &KafkaError::Global(RDKafkaErrorCode::Authentication),
            "SASL authentication error: Authentication failed: Invalid username or password",
        );
        r.error(
            &KafkaError::Global(RDKafkaErrorCode::SaslAuthenticationFailed),
            "later",
        );
        let why = r.fatal().expect("fatal");
        assert!(why.contains("refused authentication"), "{why}");
        assert!(why.contains("Invalid username or password"), "{why}");
        assert!(!why.contains("later"), "{why}");
        let transport = Refusals::default();
        transport.log(
            RDKafkaLogLevel::Error,
            "FAIL",
            "127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed",
        );
        transport.error(
            &KafkaError::Global(RDKafkaErrorCode::BrokerTransportFailure),
            "Disconnected",
        );
        assert_eq!(transport.fatal(), None);
    }

    /// What librdkafka 2.12 logs, and nothing else, when the broker's certificate does
    /// not verify against `ca_file`.
    #[test]
    fn a_logged_tls_handshake_failure_is_fatal() {
        let r = Refusals::default();
        r.log(
            RDKafkaLogLevel::Error,
            "FAIL",
            "ssl://127.0.0.1:41791/bootstrap: error:0A000086:SSL routines::certificate verify \
             failed (after 4ms in state SSL_HANDSHAKE)",
        );
        assert_eq!(r.fatal(), None, "only a failed handshake is named as one");
        r.log(
            RDKafkaLogLevel::Error,
            "FAIL",
            "ssl://127.0.0.1:41791/bootstrap: SSL handshake failed: error:0A000086:SSL \
             routines::certificate verify failed: broker certificate could not be verified",
        );
        let why = r.fatal().expect("fatal");
        assert!(why.starts_with("the TLS handshake failed"), "{why}");
        assert!(why.contains("certificate verify failed"), "{why}");
        assert!(why.contains("check `ca_file`"), "{why}");
    }

    /// What librdkafka 2.12 logs and returns when Tansu refuses a SCRAM login.
    #[test]
    fn a_polled_refusal_carries_the_logged_reason() {
        let r = Refusals::default();
        let line = "sasl_plaintext://127.0.0.1:9092/bootstrap: SASL authentication error: SASL \
                    SCRAM authentication failed: broker responded with unknown-user (after 83ms \
                    in state AUTH_REQ)";
        r.log(RDKafkaLogLevel::Debug, "FAIL", "debug lines are not kept");
        r.log(RDKafkaLogLevel::Error, "FAIL", line);
        r.poll_error(&KafkaError::MessageConsumption(
            RDKafkaErrorCode::Authentication,
        ));
        let why = r.fatal().expect("fatal");
        assert!(
            why.starts_with("the broker refused authentication"),
            "{why}"
        );
        assert!(why.contains("broker responded with unknown-user"), "{why}");
        assert!(why.contains("check `username`"), "{why}");
    }
}
