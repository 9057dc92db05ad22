//! The TLS files a client connector reads — `ca_file`, and `client_cert` with its
//! `client_key` — checked the same way for MQTT and Kafka.

use crate::connectors::options::OptionReader;
use crate::connectors::problem::ConfigProblem;

/// TLS settings; present when the connection uses TLS.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TlsFiles {
    /// Trusted certificate authorities (PEM); the system's roots when `None`.
    pub ca_file: Option<String>,
    /// Client certificate chain and key (PEM).
    pub client_auth: Option<(String, String)>,
}

impl TlsFiles {
    /// Reads `ca_file`, `client_cert` and `client_key`; a certificate without its key (or
    /// a key without its certificate) is reported and left out.
    pub(crate) fn read(r: &mut OptionReader<'_>) -> TlsFiles {
        let ca_file = r.text("ca_file").map(str::to_string);
        let client_cert = r.text("client_cert").map(str::to_string);
        let client_key = r.text("client_key").map(str::to_string);
        let client_auth = match (client_cert, client_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            (Some(_), None) => {
                r.problem(ConfigProblem::option(
                    "client_key",
                    "`client_cert` needs `client_key`",
                ));
                None
            }
            (None, Some(_)) => {
                r.problem(ConfigProblem::option(
                    "client_cert",
                    "`client_key` needs `client_cert`",
                ));
                None
            }
        };
        TlsFiles {
            ca_file,
            client_auth,
        }
    }

    /// Whether a file was given, which implies TLS.
    pub fn any(&self) -> bool {
        self.ca_file.is_some() || self.client_auth.is_some()
    }
}
