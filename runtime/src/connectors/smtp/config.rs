//! The typed configuration of `smtp(…)`, read strictly from a connector call.

use lettre::message::Mailbox;
use weir_engine::alert::template::{Piece, Template};
use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use super::KIND;
use crate::connectors::delivery::{read_delivery, read_limit, RateLimit};
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `smtp(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "server",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "The SMTP server, `host:port` (the port defaults to 25, 587 with `starttls`, 465 with `tls`).",
    },
    OptionSpec {
        name: "from",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "The sender, `weir@plant.example` or `Weir <weir@plant.example>`.",
    },
    OptionSpec {
        name: "to",
        kind: OptionKind::TextList,
        positional: false,
        default: None,
        doc: "The recipients: a list, or one string of addresses separated by commas.",
    },
    OptionSpec {
        name: "subject",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "A subject template such as `{alert.level}: {alert.id}`.",
    },
    OptionSpec {
        name: "body",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "A plain-text body template such as `{alert.message}`; the record as JSON when absent.",
    },
    OptionSpec {
        name: "tls",
        kind: OptionKind::Word,
        positional: false,
        default: Some("starttls"),
        doc: "`starttls` (required, not optional), `tls` (TLS from the first byte) or `none` (plain text: loopback or a trusted relay only).",
    },
    OptionSpec {
        name: "ca_file",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM file of certificate authorities trusted besides the system's roots (a private CA); needs `tls: starttls` or `tls: tls`.",
    },
    OptionSpec {
        name: "username_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Name of an environment variable holding the login user (read when the sink opens).",
    },
    OptionSpec {
        name: "password_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Name of an environment variable holding the password (read when the sink opens, never printed).",
    },
    OptionSpec {
        name: "timeout",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("10s"),
        doc: "Time allowed for each step of the SMTP exchange.",
    },
    OptionSpec {
        name: "retries",
        kind: OptionKind::Int,
        positional: false,
        default: Some("3"),
        doc: "Further attempts after a failed one (connection error, timeout, 4xx answer).",
    },
    OptionSpec {
        name: "backoff",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("500ms"),
        doc: "Wait before the first retry; it doubles for each further one.",
    },
    OptionSpec {
        name: "limit",
        kind: OptionKind::Int,
        positional: false,
        default: None,
        doc: "At most this many messages per `per` (processing time); records over the limit are not sent, counted, and handed to the `on error to` route.",
    },
    OptionSpec {
        name: "per",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("1m"),
        doc: "The period of `limit`.",
    },
];

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text.
    None,
    /// Plain text upgraded by STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// A checked `smtp(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The sender.
    pub from: Mailbox,
    /// The recipients.
    pub to: Vec<Mailbox>,
    /// The subject template.
    pub subject: Template,
    /// The body template; the record as JSON when `None`.
    pub body: Option<Template>,
    /// `tls`.
    pub tls: SmtpTls,
    /// Extra trusted certificate authorities (PEM), read when the sink opens.
    pub ca_file: Option<String>,
    /// `username_env` / `password_env`: the variables' names (values read at open).
    pub username_env: Option<String>,
    /// See `username_env`.
    pub password_env: Option<String>,
    /// Per-step timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First retry wait, in milliseconds.
    pub backoff_ms: u64,
    /// `limit` / `per`.
    pub limit: Option<RateLimit>,
}

impl SmtpConfig {
    /// Reads `call`, rejecting unknown options and bad values.
    pub fn from_call(call: &ConnectorCall) -> Result<SmtpConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("server", "smtp(\"mail.example.com:587\", …)");
        let tls = match r.word("tls") {
            None | Some("starttls") => SmtpTls::StartTls,
            Some("tls") => SmtpTls::Tls,
            Some("none") => SmtpTls::None,
            Some(other) => {
                r.problem(
                    ConfigProblem::option("tls", format!("unknown `tls` mode `{other}`"))
                        .with_help("write `tls: starttls`, `tls: tls` or `tls: none`"),
                );
                SmtpTls::StartTls
            }
        };
        let server = r.text("server").and_then(|s| read_server(&mut r, s, tls));
        r.require("from", "from: \"weir@plant.example\"");
        let from = r.text("from").and_then(|f| read_mailbox(&mut r, "from", f));
        r.require("to", "to: [\"ops@plant.example\"]");
        let mut to = Vec::new();
        for entry in r.texts("to").unwrap_or_default() {
            for address in entry.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                to.extend(read_mailbox(&mut r, "to", address));
            }
        }
        r.require("subject", "subject: \"{alert.level}: {alert.id}\"");
        let subject = r
            .text("subject")
            .and_then(|t| read_template(&mut r, "subject", t));
        let body = r
            .text("body")
            .and_then(|t| read_template(&mut r, "body", t));
        let ca_file = r.text("ca_file").map(str::to_string);
        if ca_file.is_some() && tls == SmtpTls::None {
            r.problem(
                ConfigProblem::option("ca_file", "`ca_file` needs `tls: starttls` or `tls: tls`")
                    .with_help("drop `tls: none`, or leave `ca_file` out"),
            );
        }
        let username_env = r.text("username_env").map(str::to_string);
        let password_env = r.text("password_env").map(str::to_string);
        if username_env.is_some() != password_env.is_some() {
            r.problem(
                ConfigProblem::option(
                    if username_env.is_some() {
                        "password_env"
                    } else {
                        "username_env"
                    },
                    "a login needs both `username_env` and `password_env`",
                )
                .with_help("name both variables, or neither for a server without login"),
            );
        }
        let delivery = read_delivery(&mut r);
        let limit = read_limit(&mut r);
        let config = match (server, from, subject) {
            (Some((host, port)), Some(from), Some(subject)) if !to.is_empty() => Some(SmtpConfig {
                host,
                port,
                from,
                to,
                subject,
                body,
                tls,
                ca_file,
                username_env,
                password_env,
                timeout_ms: delivery.timeout_ms,
                retries: delivery.retries,
                backoff_ms: delivery.backoff_ms,
                limit,
            }),
            _ => None,
        };
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::option(
                "to",
                "`smtp` needs at least one recipient",
            )
            .with_help("write e.g. `to: [\"ops@plant.example\"]`")]),
            Err(problems) => Err(problems),
        }
    }

    /// `smtp://host:port`, as reports show where a message was going.
    pub fn shown_server(&self) -> String {
        format!("smtp://{}:{}", self.host, self.port)
    }

    /// Resolves the templates' fields against the records written; the names of fields
    /// the records lack.
    pub fn resolve(&mut self, schema: &Schema) -> Vec<String> {
        let mut missing = Vec::new();
        for t in std::iter::once(&mut self.subject).chain(self.body.as_mut()) {
            for (name, slot, _) in t.fields_mut() {
                match schema.fields.iter().position(|f| f.name == name) {
                    Some(s) => *slot = s,
                    None => missing.push(name.to_string()),
                }
            }
        }
        missing
    }

    /// The fields the templates name, each with its option (for `weir check`).
    pub fn template_fields(&self) -> Vec<(&'static str, &str)> {
        let subject = self.subject.pieces.iter().map(|p| ("subject", p));
        let body = self
            .body
            .iter()
            .flat_map(|t| t.pieces.iter().map(|p| ("body", p)));
        subject
            .chain(body)
            .filter_map(|(option, p)| match p {
                Piece::Field { name, .. } => Some((option, name.as_str())),
                Piece::Text(_) => None,
            })
            .collect()
    }
}

/// `host[:port]`, the port defaulting by `tls`.
fn read_server(r: &mut OptionReader<'_>, server: &str, tls: SmtpTls) -> Option<(String, u16)> {
    let default_port = match tls {
        SmtpTls::None => 25,
        SmtpTls::StartTls => 587,
        SmtpTls::Tls => 465,
    };
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
            (host, port.parse::<u16>().ok().filter(|p| *p > 0))
        }
        _ => (server, Some(default_port)),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_ok = !host.is_empty() && !host.contains(['/', '@', ' ']);
    match port {
        Some(port) if host_ok => Some((host.to_string(), port)),
        _ => {
            r.problem(
                ConfigProblem::option("server", format!("`{server}` is not `host:port`"))
                    .with_help("write the server as `\"mail.example.com:587\"`"),
            );
            None
        }
    }
}

fn read_mailbox(r: &mut OptionReader<'_>, option: &str, text: &str) -> Option<Mailbox> {
    match text.parse::<Mailbox>() {
        Ok(m) => Some(m),
        Err(e) => {
            r.problem(
                ConfigProblem::option(option, format!("`{text}` is not an e-mail address: {e}"))
                    .with_help("write `name@example.com` or `Name <name@example.com>`"),
            );
            None
        }
    }
}

fn read_template(r: &mut OptionReader<'_>, option: &str, text: &str) -> Option<Template> {
    match Template::parse(text) {
        Ok(t) => Some(t),
        Err(e) => {
            r.problem(
                ConfigProblem::option(option, format!("bad {option} template: {e}"))
                    .with_help("placeholders are `{field}` or `{field:.1}`; `{{` is a literal `{`"),
            );
            None
        }
    }
}
