//! librdkafka client settings from a checked configuration: brokers, TLS and SASL (the
//! password read from the environment here, at open, and never printed), and how a
//! refused login is told apart from a broker that is merely down.

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use weir_engine::io::IoError;

use super::config::KafkaConfig;

/// The settings every client of `config` shares; `label` names the source or sink in
/// errors.
pub fn client_config(config: &KafkaConfig, label: &str) -> Result<ClientConfig, IoError> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.brokers);
    // librdkafka logs to stderr on its own; its errors reach us as events instead.
    c.set("log_level", "3");
    let protocol = match (&config.tls, &config.sasl) {
        (None, None) => "plaintext",
        (Some(_), None) => "ssl",
        (None, Some(_)) => "sasl_plaintext",
        (Some(_), Some(_)) => "sasl_ssl",
    };
    c.set("security.protocol", protocol);
    if let Some(tls) = &config.tls {
        if let Some(ca) = &tls.ca_file {
            c.set("ssl.ca.location", ca);
        }
        if let Some((cert, key)) = &tls.client_auth {
            c.set("ssl.certificate.location", cert);
            c.set("ssl.key.location", key);
        }
    }
    if let Some(sasl) = &config.sasl {
        let password = sasl
            .password
            .resolve()
            .map_err(|e| IoError::Config(format!("{label}: {e}")))?;
        c.set("sasl.mechanism", sasl.mechanism);
        c.set("sasl.username", &sasl.username);
        c.set("sasl.password", password.expose());
    }
    Ok(c)
}

/// Whether `error` will not heal by retrying: a refused login or TLS handshake, a topic
/// or group the user may not use.
pub fn is_fatal(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::SaslAuthenticationFailed
                | RDKafkaErrorCode::SSL
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::Fatal
        )
    )
}

/// `error` in user words, with what to check for a refused login.
pub fn describe(error: &KafkaError) -> String {
    describe_with(error, &error.to_string())
}

/// `error` in user words, explained by `reason` (librdkafka's text, which carries the
/// broker's own words).
pub fn describe_with(error: &KafkaError, reason: &str) -> String {
    match error.rdkafka_error_code() {
        Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
            format!("the broker refused authentication ({reason}); check `username`, the password and `sasl`")
        }
        Some(RDKafkaErrorCode::SSL) => {
            format!(
                "the TLS handshake failed ({reason}); check `ca_file` and the broker's certificate"
            )
        }
        _ if reason == error.to_string() => reason.to_string(),
        _ => format!("{error} ({reason})"),
    }
}
