//! Who may use the server: loopback freely; any other address only with a bearer token.

use std::net::SocketAddr;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A non-loopback address was asked for without a token.
    #[error(
        "--http {addr} is not a loopback address: serving it needs a bearer token \
         (--http-token-env VAR, with the token in $VAR), or bind 127.0.0.1"
    )]
    NeedsToken {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The token's environment variable is unset or empty.
    #[error("--http-token-env {var}: the environment variable is unset or empty")]
    MissingToken {
        /// The variable named.
        var: String,
    },
    /// The address could not be bound.
    #[error("cannot serve HTTP on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        reason: String,
    },
}

/// The checked access policy of a server.
#[derive(Clone)]
pub struct HttpAccess {
    /// Where to listen.
    pub addr: SocketAddr,
    token: Option<String>,
}

// Never print the token.
impl std::fmt::Debug for HttpAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAccess")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl HttpAccess {
    /// The policy for `addr`, with the bearer token read from the environment variable
    /// `token_env` if given. A non-loopback address without a token is refused.
    pub fn new(addr: SocketAddr, token_env: Option<&str>) -> Result<HttpAccess, HttpError> {
        let token = match token_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(t) if !t.is_empty() => Some(t),
                _ => return Err(HttpError::MissingToken { var: var.into() }),
            },
        };
        if token.is_none() && !addr.ip().is_loopback() {
            return Err(HttpError::NeedsToken { addr });
        }
        Ok(HttpAccess { addr, token })
    }

    /// Whether a request with this `Authorization` header value may proceed.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let Some(given) = authorization.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        same_bytes(given.trim().as_bytes(), token.as_bytes())
    }
}

/// Compares in time independent of where the first difference is (no early exit).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_and_others_do() {
        let local: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        assert!(HttpAccess::new(local, None).expect("loopback").allows(None));
        let wide: SocketAddr = "0.0.0.0:9464".parse().expect("addr");
        assert!(matches!(
            HttpAccess::new(wide, None),
            Err(HttpError::NeedsToken { .. })
        ));
        assert!(matches!(
            HttpAccess::new(wide, Some("WEIR_TEST_NO_SUCH_VAR")),
            Err(HttpError::MissingToken { .. })
        ));
    }

    #[test]
    fn a_token_is_checked_and_never_shown() {
        let access = HttpAccess {
            addr: "127.0.0.1:0".parse().expect("addr"),
            token: Some("s3cret".into()),
        };
        assert!(access.allows(Some("Bearer s3cret")));
        assert!(!access.allows(Some("Bearer s3cre")));
        assert!(!access.allows(Some("s3cret")));
        assert!(!access.allows(None));
        assert!(!format!("{access:?}").contains("s3cret"));
    }
}
