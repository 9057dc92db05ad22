//! The typed configuration of `webhook(…)`, read strictly from a connector call.

use weir_engine::plan::ConnectorCall;

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;
use crate::connectors::secret::{redact_header, redact_url, Secret};

/// The options of `webhook(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "url",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "The endpoint, `http://…` or `https://…`.",
    },
    OptionSpec {
        name: "batch",
        kind: OptionKind::Int,
        positional: false,
        default: Some("1"),
        doc: "Records per request: 1 sends an object, more send a JSON array of up to that many.",
    },
    OptionSpec {
        name: "headers",
        kind: OptionKind::TextList,
        positional: false,
        default: None,
        doc: "Extra request headers, each `\"Name: value\"` (values are shown as `***`).",
    },
    OptionSpec {
        name: "headers_env",
        kind: OptionKind::TextList,
        positional: false,
        default: None,
        doc: "Headers whose values come from environment variables, each `\"Name: VARIABLE\"`, read when the sink opens.",
    },
    OptionSpec {
        name: "ca_file",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM file of the certificate authorities trusted for `https://` (instead of the built-in Mozilla roots).",
    },
    OptionSpec {
        name: "timeout",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("10s"),
        doc: "Time allowed for one request, connection included.",
    },
    OptionSpec {
        name: "retries",
        kind: OptionKind::Int,
        positional: false,
        default: Some("3"),
        doc: "Further attempts after a failed one (network error, timeout, 408, 429, 5xx).",
    },
    OptionSpec {
        name: "backoff",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("500ms"),
        doc: "Wait before the first retry; it doubles for each further one.",
    },
];

/// A checked `webhook(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The endpoint.
    pub url: String,
    /// Records per request (1: a JSON object, more: an array).
    pub batch: usize,
    /// Extra headers, (name, value).
    pub headers: Vec<(String, Secret)>,
    /// Headers read from the environment when the sink opens, (name, variable).
    pub headers_env: Vec<(String, String)>,
    /// Trusted certificate authorities (PEM) for `https://`; built-in roots when `None`.
    pub ca_file: Option<String>,
    /// Per-request timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First retry wait, in milliseconds.
    pub backoff_ms: u64,
}

impl WebhookConfig {
    /// Reads `call`, rejecting unknown options and bad values.
    pub fn from_call(call: &ConnectorCall) -> Result<WebhookConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("url", "webhook(\"http://localhost:8080/alerts\")");
        let url = r.text("url").map(str::to_string);
        if let Some(u) = &url {
            let scheme_ok = u.starts_with("http://") || u.starts_with("https://");
            if !scheme_ok || u.len() <= "https://".len() {
                r.problem(
                    ConfigProblem::option(
                        "url",
                        format!("`{}` is not an http(s) URL", redact_url(u)),
                    )
                    .with_help("write it as `\"http://host:port/path\"` or `\"https://…\"`"),
                );
            }
        }
        let batch = match r.int("batch") {
            None => 1,
            Some(n @ 1..=100_000) => n as usize,
            Some(n) => {
                r.problem(ConfigProblem::option(
                    "batch",
                    format!("`batch` must be between 1 and 100000, found {n}"),
                ));
                1
            }
        };
        let headers = read_headers(&mut r, "headers", "value")
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect();
        let headers_env = read_headers(&mut r, "headers_env", "VARIABLE");
        let ca_file = r.text("ca_file").map(str::to_string);
        if let (Some(_), Some(u)) = (&ca_file, &url) {
            if !u.starts_with("https://") {
                r.problem(
                    ConfigProblem::option("ca_file", "`ca_file` needs an `https://` url")
                        .with_help("write the url as `\"https://…\"`, or leave `ca_file` out"),
                );
            }
        }
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
        let config = url.map(|url| WebhookConfig {
            url,
            batch,
            headers,
            headers_env,
            ca_file,
            timeout_ms: timeout_ms.max(1) as u64,
            retries,
            backoff_ms: backoff_ms.max(0) as u64,
        });
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call("`webhook` needs a url")]),
            Err(problems) => Err(problems),
        }
    }
}

/// The `"Name: …"` entries of list option `option`, as (name, rest); a bad one is
/// reported without echoing what follows its name (it may be a secret).
fn read_headers(r: &mut OptionReader<'_>, option: &str, what: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for h in r.texts(option).unwrap_or_default() {
        match h.split_once(':') {
            Some((name, value))
                if !name.trim().is_empty() && name.trim().bytes().all(|b| b.is_ascii_graphic()) =>
            {
                out.push((name.trim().to_string(), value.trim().to_string()));
            }
            _ => r.problem(
                ConfigProblem::option(option, format!("`{}` is not a header", redact_header(h)))
                    .with_help(format!("write each header as `\"Name: {what}\"`")),
            ),
        }
    }
    out
}
