//! Telling connection failures that heal by retrying (a broker restarting, a network
//! blip) from those that never will (a wrong password, a refused ACL, a certificate
//! that is not trusted), and saying in user words what is wrong.

use rumqttc::{ConnectReturnCode, ConnectionError};
use rustls::{AlertDescription, CertificateError};

use super::config::TlsFiles;

/// What a failed connection attempt means for the run.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// Worth retrying with backoff.
    Transient,
    /// Retrying cannot help: the run must end with this message.
    Permanent(String),
}

/// Classifies `error`; `tls` names the files a message should point at.
pub(super) fn classify(error: &ConnectionError, tls: Option<&TlsFiles>) -> Failure {
    if let ConnectionError::ConnectionRefused(code) = error {
        return refused(*code);
    }
    match find_rustls(error) {
        Some(e) => Failure::Permanent(tls_message(e, tls)),
        None => Failure::Transient,
    }
}

/// The words for a subscription the broker refused (its ACL, usually).
pub(super) fn refused_subscription(filters: &[String]) -> String {
    format!(
        "the broker refused the subscription to {}: the user is not allowed to read it \
         (check the broker's ACL for this `username`, or the topic)",
        filters
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn refused(code: ConnectReturnCode) -> Failure {
    let message = match code {
        ConnectReturnCode::BadUserNamePassword => {
            "the broker refused the user name or password (check `username` and \
             `password` / `password_env`)"
        }
        // Mosquitto answers a wrong password this way too.
        ConnectReturnCode::NotAuthorized => {
            "the broker refused the connection as not authorized: a wrong user name or \
             password, or a user it does not admit (check `username`, `password` / \
             `password_env` and the broker's access rules)"
        }
        ConnectReturnCode::BadClientId => {
            "the broker refused the client id (give another `client_id`)"
        }
        ConnectReturnCode::RefusedProtocolVersion => {
            "the broker does not speak MQTT 3.1.1, which Weir uses"
        }
        // The broker is up but busy: that heals.
        ConnectReturnCode::ServiceUnavailable | ConnectReturnCode::Success => {
            return Failure::Transient
        }
    };
    Failure::Permanent(message.to_string())
}

/// The rustls error somewhere in `error`'s chain (rumqttc wraps it in I/O errors).
fn find_rustls(error: &ConnectionError) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        // `io::Error::source` skips the error it wraps, so look inside it too.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(found) = inner.downcast_ref::<rustls::Error>() {
                return Some(found);
            }
            next = inner.source();
            continue;
        }
        next = e.source();
    }
    None
}

/// Which side's certificate is wrong, and what to change.
fn tls_message(error: &rustls::Error, tls: Option<&TlsFiles>) -> String {
    let ca = tls
        .and_then(|t| t.ca_file.as_deref())
        .map_or("the system's root certificates".to_string(), |f| {
            format!("ca_file `{f}`")
        });
    let client_cert = tls
        .and_then(|t| t.client_auth.as_ref())
        .map(|(cert, _)| cert.clone());
    match error {
        rustls::Error::InvalidCertificate(e) => {
            let why = match e {
                CertificateError::UnknownIssuer => {
                    format!("it is not signed by a certificate authority in {ca}")
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "it has expired".to_string()
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    "it is not issued for the host in the url".to_string()
                }
                other => format!("{other:?}"),
            };
            format!("the broker's certificate is not trusted: {why}")
        }
        rustls::Error::AlertReceived(alert) => match (alert, client_cert) {
            (AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure, None) => {
                format!(
                    "the broker refused the TLS handshake ({alert:?}): it probably requires \
                     a client certificate; give `client_cert` and `client_key`"
                )
            }
            (
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::AccessDenied
                | AlertDescription::DecryptError,
                Some(cert),
            ) => format!(
                "the broker rejected this client's own certificate (client_cert `{cert}`, \
                 alert {alert:?}): it must be signed by a certificate authority the broker \
                 trusts (its `cafile`) and be within its validity dates"
            ),
            _ => format!("the broker refused the TLS handshake: alert {alert:?}"),
        },
        other => format!("TLS failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(e: rustls::Error) -> ConnectionError {
        ConnectionError::Tls(rumqttc::TlsError::Io(std::io::Error::other(e)))
    }

    #[test]
    fn refused_credentials_are_permanent_and_busy_brokers_are_not() {
        let bad = ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword);
        assert!(matches!(classify(&bad, None), Failure::Permanent(m) if m.contains("password")));
        let busy = ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable);
        assert_eq!(classify(&busy, None), Failure::Transient);
        let down = ConnectionError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(classify(&down, None), Failure::Transient);
    }

    #[test]
    fn a_rejected_client_certificate_is_not_called_an_invalid_peer_certificate() {
        let tls = TlsFiles {
            ca_file: Some("ca.pem".into()),
            client_auth: Some(("me.pem".into(), "me.key".into())),
        };
        let e = wrapped(rustls::Error::AlertReceived(AlertDescription::UnknownCA));
        let Failure::Permanent(m) = classify(&e, Some(&tls)) else {
            panic!("permanent")
        };
        assert!(
            m.contains("this client's own certificate (client_cert `me.pem`"),
            "{m}"
        );
        assert!(!m.contains("peer"), "{m}");
        let e = wrapped(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        let Failure::Permanent(m) = classify(&e, Some(&tls)) else {
            panic!("permanent")
        };
        assert!(m.contains("broker's certificate is not trusted"), "{m}");
        assert!(m.contains("ca_file `ca.pem`"), "{m}");
    }
}
