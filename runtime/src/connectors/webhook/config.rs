//! The typed configuration of `webhook(…)`, read strictly from a connector call.

use weir_engine::alert::template::{Piece, Template};
use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use super::KIND;
pub use crate::connectors::delivery::RateLimit;
use crate::connectors::delivery::{read_delivery, read_limit};
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
    OptionSpec {
        name: "body",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "A body template such as `{\"text\": \"{alert.message}\"}`: `{field}` is replaced by the record's value, escaped for the content type. Needs `batch: 1`.",
    },
    OptionSpec {
        name: "content_type",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\"application/json\""),
        doc: "The request's Content-Type. With `body`, values are JSON-escaped for JSON types, percent-encoded for `application/x-www-form-urlencoded`, and inserted as they are otherwise.",
    },
    OptionSpec {
        name: "bearer_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Name of an environment variable holding a token, sent as `Authorization: Bearer <token>` (read when the sink opens, never printed).",
    },
    OptionSpec {
        name: "limit",
        kind: OptionKind::Int,
        positional: false,
        default: None,
        doc: "At most this many requests per `per` (processing time); records over the limit are not sent, counted, and handed to the `on error to` route.",
    },
    OptionSpec {
        name: "per",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("1m"),
        doc: "The period of `limit`.",
    },
];

/// How a body template escapes values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEscape {
    /// JSON string escaping (`application/json`, `…+json`).
    Json,
    /// Percent-encoding (`application/x-www-form-urlencoded`).
    Form,
    /// As they are.
    Raw,
}

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
    /// `body`: a template rendered per record (slots resolved by [`WebhookConfig::resolve_body`]).
    pub body: Option<Template>,
    /// `content_type`.
    pub content_type: String,
    /// `bearer_env`: the variable's name (the token is read when the sink opens).
    pub bearer_env: Option<String>,
    /// `limit` / `per`.
    pub limit: Option<RateLimit>,
}

impl BodyEscape {
    /// The escaping for a content type.
    pub fn for_content_type(content_type: &str) -> BodyEscape {
        let ct = content_type.to_ascii_lowercase();
        if ct.contains("json") {
            BodyEscape::Json
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            BodyEscape::Form
        } else {
            BodyEscape::Raw
        }
    }

    /// Appends `text` to `out`, escaped.
    pub fn push(self, text: &str, out: &mut String) {
        match self {
            BodyEscape::Raw => out.push_str(text),
            BodyEscape::Json => {
                let quoted = serde_json::Value::String(text.to_string()).to_string();
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            BodyEscape::Form => {
                for b in text.bytes() {
                    match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            out.push(b as char)
                        }
                        b' ' => out.push('+'),
                        _ => out.push_str(&format!("%{b:02X}")),
                    }
                }
            }
        }
    }
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
        let delivery = read_delivery(&mut r);
        let body = r.text("body").and_then(|text| match Template::parse(text) {
            Ok(t) => Some(t),
            Err(e) => {
                r.problem(
                    ConfigProblem::option("body", format!("bad body template: {e}")).with_help(
                        "placeholders are `{field}` or `{field:.1}`; `{{` is a literal `{`",
                    ),
                );
                None
            }
        });
        if body.is_some() && batch > 1 {
            r.problem(ConfigProblem::option(
                "body",
                "a `body` template renders one record per request: drop `batch`",
            ));
        }
        let content_type = r
            .text("content_type")
            .unwrap_or("application/json")
            .to_string();
        let bearer_env = r.text("bearer_env").map(str::to_string);
        let limit = read_limit(&mut r);
        let config = url.map(|url| WebhookConfig {
            url,
            batch,
            headers,
            headers_env,
            ca_file,
            timeout_ms: delivery.timeout_ms,
            retries: delivery.retries,
            backoff_ms: delivery.backoff_ms,
            body,
            content_type,
            bearer_env,
            limit,
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

impl WebhookConfig {
    /// Resolves the body template's fields against the records written; the names of
    /// fields the records lack.
    pub fn resolve_body(&mut self, schema: &Schema) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(t) = self.body.as_mut() {
            for (name, slot, _) in t.fields_mut() {
                match schema.fields.iter().position(|f| f.name == name) {
                    Some(s) => *slot = s,
                    None => missing.push(name.to_string()),
                }
            }
        }
        missing
    }

    /// The fields the body template names (for `weir check`).
    pub fn body_fields(&self) -> Vec<&str> {
        self.body
            .iter()
            .flat_map(|t| t.pieces.iter())
            .filter_map(|p| match p {
                Piece::Field { name, .. } => Some(name.as_str()),
                Piece::Text(_) => None,
            })
            .collect()
    }
}
