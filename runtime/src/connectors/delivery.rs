//! How a push receiver (`webhook`, `smtp`) delivers: its timeout, retries with back-off,
//! and rate limit, read and checked the same way for each.

use crate::connectors::options::OptionReader;
use crate::connectors::problem::ConfigProblem;

/// `limit: n, per: d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per period.
    pub requests: u64,
    /// The period, in milliseconds.
    pub per_ms: u64,
}

/// `timeout`, `retries` and `backoff`, checked (defaults 10 s, 3 and 500 ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// How long one attempt may take, in milliseconds (at least 1).
    pub timeout_ms: u64,
    /// Attempts after the first.
    pub retries: u32,
    /// The first back-off, in milliseconds; it doubles per retry.
    pub backoff_ms: u64,
}

/// Reads `timeout`, `retries` and `backoff`, reporting values out of range.
pub(crate) fn read_delivery(r: &mut OptionReader<'_>) -> Delivery {
    let timeout_ms = r.duration("timeout").unwrap_or(10_000);
    if timeout_ms <= 0 {
        r.problem(ConfigProblem::option(
            "timeout",
            "`timeout` must be positive",
        ));
    }
    let retries = match r.int("retries") {
        None => 3,
        Some(n @ 0..=100) => n as u32,
        Some(n) => {
            r.problem(ConfigProblem::option(
                "retries",
                format!("`retries` must be between 0 and 100, found {n}"),
            ));
            0
        }
    };
    let backoff_ms = r.duration("backoff").unwrap_or(500);
    if backoff_ms < 0 {
        r.problem(ConfigProblem::option(
            "backoff",
            "`backoff` cannot be negative",
        ));
    }
    Delivery {
        timeout_ms: timeout_ms.max(1) as u64,
        retries,
        backoff_ms: backoff_ms.max(0) as u64,
    }
}

/// Reads `limit: n, per: d` (`per` defaults to 1m); `None` without `limit`.
pub(crate) fn read_limit(r: &mut OptionReader<'_>) -> Option<RateLimit> {
    match (r.int("limit"), r.duration("per")) {
        (None, _) => None,
        (Some(n), per) if n >= 1 && per.unwrap_or(60_000) > 0 => Some(RateLimit {
            requests: n as u64,
            per_ms: per.unwrap_or(60_000) as u64,
        }),
        (Some(_), _) => {
            r.problem(
                ConfigProblem::option("limit", "`limit` and `per` must be positive")
                    .with_help("write e.g. `limit: 10, per: 1m`"),
            );
            None
        }
    }
}
