//! The typed configuration of `mqtt(…)`, read strictly from a connector call, for a
//! source (topic filters, payload format, session) or a sink (topic template, retain).

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use super::payload::PayloadFormat;
use super::senml::SENML_FIELDS;
use super::topic::{TopicFilter, TopicTemplate};
use super::KIND;
use crate::connectors::options::{names, OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::{ConfigProblem, Role};
use crate::connectors::secret::{redact_url, Secret};
use crate::connectors::suggest::did_you_mean;

/// The options of `mqtt(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "url",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "The broker: `mqtt://host:1883`, or `mqtts://host:8883` for TLS.",
    },
    OptionSpec {
        name: "topic",
        kind: OptionKind::TextList,
        positional: false,
        default: None,
        doc: "Source: filters (`+`, `#`, `{field}` captures a level); sink: a template such as `alerts/{device_id}`.",
    },
    OptionSpec {
        name: "qos",
        kind: OptionKind::Int,
        positional: false,
        default: Some("1"),
        doc: "0 (at most once) or 1 (at least once).",
    },
    OptionSpec {
        name: "format",
        kind: OptionKind::Word,
        positional: false,
        default: Some("json"),
        doc: "Payload format: `json` (objects, or JSON lines), `csv` (rows in field order) or `senml` (sources).",
    },
    OptionSpec {
        name: "client_id",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\"weir-<name>-<pid>\""),
        doc: "MQTT client id; a persistent session needs a fixed one.",
    },
    OptionSpec {
        name: "clean_session",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("true"),
        doc: "`false` keeps the session (subscriptions, queued QoS 1 messages) across disconnects.",
    },
    OptionSpec {
        name: "username",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "User name sent to the broker.",
    },
    OptionSpec {
        name: "password",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Password sent to the broker (prefer `password_env`).",
    },
    OptionSpec {
        name: "password_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Name of the environment variable holding the password.",
    },
    OptionSpec {
        name: "tls",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("true for mqtts://"),
        doc: "Connect over TLS; without `ca_file` the system's root certificates are trusted.",
    },
    OptionSpec {
        name: "ca_file",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM file of the certificate authorities to trust (implies `tls`).",
    },
    OptionSpec {
        name: "client_cert",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM client certificate chain, for brokers that authenticate clients by certificate.",
    },
    OptionSpec {
        name: "client_key",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM private key of `client_cert`.",
    },
    OptionSpec {
        name: "keep_alive",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("30s"),
        doc: "MQTT keep-alive interval (at least 5s).",
    },
    OptionSpec {
        name: "backoff_max",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("30s"),
        doc: "Longest wait between reconnection attempts (the wait starts at 250ms and doubles).",
    },
    OptionSpec {
        name: "retain",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("false"),
        doc: "Sink: ask the broker to retain each message as its topic's last value.",
    },
    OptionSpec {
        name: "flush_timeout",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("30s"),
        doc: "Sink: how long the end of a run waits for the broker to take every message.",
    },
    OptionSpec {
        name: "id_field",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Sink, JSON: add a field of this name holding the message's idempotency key (the same when a restored run sends the message again).",
    },
];

const SINK_ONLY: &[&str] = &["retain", "flush_timeout", "id_field"];

/// Where the broker is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Whether the scheme asks for TLS (`mqtts://`, `ssl://`).
    pub tls: bool,
}

impl BrokerUrl {
    /// Parses `mqtt://host[:port]`, `mqtts://…`, `tcp://…`, `ssl://…` or `host[:port]`.
    pub fn parse(text: &str) -> Result<BrokerUrl, String> {
        // Messages quote the url without its credentials.
        let shown = redact_url(text);
        let (tls, rest) = match text.split_once("://") {
            Some(("mqtt" | "tcp", rest)) => (false, rest),
            Some(("mqtts" | "ssl", rest)) => (true, rest),
            Some((scheme, _)) => {
                return Err(format!(
                    "unsupported scheme `{scheme}://`; use `mqtt://` or `mqtts://`"
                ))
            }
            None => (false, text),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(format!(
                "`{shown}` has credentials in it: give them as `username` and `password_env`"
            ));
        }
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "`{shown}` is not a broker address such as `mqtt://localhost:1883`"
            ));
        }
        let default_port = if tls { 8883 } else { 1883 };
        let bad_port = |port: &str| format!("bad port `{port}` in `{shown}`");
        let parse_port = |port: &str| match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(bad_port(port)),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("unclosed `[` in `{shown}`"))?;
            match after.strip_prefix(':') {
                Some(port) => (addr.to_string(), parse_port(port)?),
                None if after.is_empty() => (addr.to_string(), default_port),
                None => return Err(bad_port(after)),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), parse_port(port)?),
                None => (rest.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("no host in `{shown}`"));
        }
        Ok(BrokerUrl { host, port, tls })
    }
}

/// Where the password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// Written in the pipeline (never printed).
    Given(Secret),
    /// Read from this environment variable when connecting.
    Env(String),
}

pub use crate::connectors::tls_files::TlsFiles;

/// A checked `mqtt(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttConfig {
    /// The broker.
    pub url: BrokerUrl,
    /// Source: the filters subscribed to (empty for a sink).
    pub filters: Vec<TopicFilter>,
    /// Sink: the topic template (`None` for a source).
    pub template: Option<TopicTemplate>,
    /// 0 or 1.
    pub qos: u8,
    /// Payload format.
    pub format: PayloadFormat,
    /// Fixed client id, if given.
    pub client_id: Option<String>,
    /// Whether the session starts clean.
    pub clean_session: bool,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Password>,
    /// TLS, when used.
    pub tls: Option<TlsFiles>,
    /// Keep-alive, in milliseconds.
    pub keep_alive_ms: i64,
    /// Longest reconnection wait, in milliseconds.
    pub backoff_max_ms: i64,
    /// Sink: retain flag.
    pub retain: bool,
    /// Sink: how long a flush waits, in milliseconds.
    pub flush_timeout_ms: i64,
    /// Sink: the JSON field that carries each message's idempotency key, if any.
    pub id_field: Option<String>,
}

impl MqttConfig {
    /// Reads `call` for `role`, rejecting unknown options, options of the other role and
    /// bad values.
    pub fn from_call(call: &ConnectorCall, role: Role) -> Result<MqttConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        if role == Role::Source {
            for name in SINK_ONLY {
                if r.has(name) {
                    r.problem(ConfigProblem::option(
                        name,
                        format!("`{name}` applies to an mqtt sink only"),
                    ));
                }
            }
        }
        let url = read_url(&mut r);
        let (filters, template) = read_topics(&mut r, role);
        let qos = read_qos(&mut r);
        let format = read_format(&mut r, role);
        let (client_id, clean_session) = read_session(&mut r);
        let (username, password) = read_credentials(&mut r);
        let tls = read_tls(&mut r, url.as_ref());
        let keep_alive_ms = r.duration("keep_alive").unwrap_or(30_000);
        if !(5_000..=65_535_000).contains(&keep_alive_ms) {
            r.problem(ConfigProblem::option(
                "keep_alive",
                "`keep_alive` must be between 5s and 18h",
            ));
        }
        let backoff_max_ms = r.duration("backoff_max").unwrap_or(30_000);
        if backoff_max_ms < 250 {
            r.problem(ConfigProblem::option(
                "backoff_max",
                "`backoff_max` must be at least 250ms",
            ));
        }
        let retain = r.boolean("retain").unwrap_or(false);
        let flush_timeout_ms = r.duration("flush_timeout").unwrap_or(30_000);
        if flush_timeout_ms <= 0 {
            r.problem(ConfigProblem::option(
                "flush_timeout",
                "`flush_timeout` must be positive",
            ));
        }
        let id_field = read_id_field(&mut r, format);
        let config = url.map(|url| MqttConfig {
            url,
            filters,
            template,
            qos,
            format,
            client_id,
            clean_session,
            username,
            password,
            tls,
            keep_alive_ms,
            backoff_max_ms,
            retain,
            flush_timeout_ms,
            id_field,
        });
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call("`mqtt` needs a broker url")]),
            Err(problems) => Err(problems),
        }
    }

    /// Problems with the declared `schema`: captured topic fields that are not declared,
    /// SenML sources declaring fields SenML cannot fill, sink templates naming unknown
    /// fields.
    pub fn check_schema(&self, schema: &Schema) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let captured = self.captured_fields();
        for name in &captured {
            if schema.slot(name).is_none() {
                problems.push(
                    ConfigProblem::option(
                        "topic",
                        format!("the topic captures `{name}`, which the source does not declare"),
                    )
                    .with_help(format!("declare it, e.g. `{name}: string`")),
                );
            }
        }
        if self.format == PayloadFormat::Senml {
            for field in &schema.fields {
                if captured.contains(&field.name.as_str()) {
                    continue;
                }
                match SENML_FIELDS.iter().find(|(n, _)| *n == field.name) {
                    None => problems.push(
                        ConfigProblem::call(format!(
                            "field `{}` is neither a SenML field nor captured from the topic",
                            field.name
                        ))
                        .with_help(format!(
                            "SenML records fill {}",
                            names(SENML_FIELDS.iter().map(|(n, _)| *n))
                        )),
                    ),
                    Some((n, ty)) if *ty != field.ty => problems.push(ConfigProblem::call(
                        format!("SenML field `{n}` is `{ty}`, declared `{}`", field.ty),
                    )),
                    Some(_) => {}
                }
            }
        }
        problems.extend(self.template_problems(schema));
        problems
    }

    /// Fields a sink's topic template names that records of `schema` do not have.
    pub fn template_problems(&self, schema: &Schema) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if let Some(template) = &self.template {
            if let Err(missing) = template.bind(schema) {
                for name in missing {
                    let help =
                        match did_you_mean(&name, schema.fields.iter().map(|f| f.name.as_str())) {
                            Some(s) => format!("did you mean `{{{s}}}`?"),
                            None => format!(
                                "records here have {}",
                                names(schema.fields.iter().map(|f| f.name.as_str()))
                            ),
                        };
                    problems.push(
                        ConfigProblem::option(
                            "topic",
                            format!("the topic names field `{name}`, which records written here do not have"),
                        )
                        .with_help(help),
                    );
                }
            }
        }
        problems
    }

    /// Every field captured by some filter.
    pub fn captured_fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.filters {
            for c in f.captures() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// The broker url (required).
fn read_url(r: &mut OptionReader<'_>) -> Option<BrokerUrl> {
    r.require(
        "url",
        "mqtt(\"mqtt://localhost:1883\", topic: \"plant/+/telemetry\")",
    );
    r.text("url").and_then(|u| match BrokerUrl::parse(u) {
        Ok(url) => Some(url),
        Err(e) => {
            r.problem(ConfigProblem::option("url", e));
            None
        }
    })
}

/// A source's topic filters, or a sink's one topic template.
fn read_topics(r: &mut OptionReader<'_>, role: Role) -> (Vec<TopicFilter>, Option<TopicTemplate>) {
    r.require(
        "topic",
        match role {
            Role::Source => "topic: \"plant/{device_id}/telemetry\"",
            Role::Sink | Role::Table => "topic: \"alerts/{device_id}\"",
        },
    );
    let mut filters = Vec::new();
    let mut template = None;
    let Some(topics) = r.texts("topic") else {
        return (filters, template);
    };
    match role {
        Role::Source => {
            if topics.is_empty() {
                r.problem(ConfigProblem::option("topic", "the topic list is empty"));
            }
            for t in topics {
                match TopicFilter::parse(t) {
                    Ok(f) => filters.push(f),
                    Err(e) => r.problem(ConfigProblem::option("topic", e)),
                }
            }
        }
        Role::Sink | Role::Table => match topics.as_slice() {
            [one] => match TopicTemplate::parse(one) {
                Ok(t) => template = Some(t),
                Err(e) => r.problem(ConfigProblem::option("topic", e)),
            },
            _ => r.problem(
                ConfigProblem::option("topic", "an mqtt sink publishes to one topic")
                    .with_help("vary it by record with a template such as `alerts/{device_id}`"),
            ),
        },
    }
    (filters, template)
}

/// QoS 0 or 1 (default 1).
fn read_qos(r: &mut OptionReader<'_>) -> u8 {
    match r.int("qos") {
        None => 1,
        Some(q @ (0 | 1)) => q as u8,
        Some(q) => {
            r.problem(
                ConfigProblem::option("qos", format!("unsupported QoS {q}"))
                    .with_help("write `qos: 0` (at most once) or `qos: 1` (at least once)"),
            );
            1
        }
    }
}

/// The payload format (default JSON); a sink cannot write SenML.
fn read_format(r: &mut OptionReader<'_>, role: Role) -> PayloadFormat {
    let Some(name) = r.word("format") else {
        return PayloadFormat::Json;
    };
    match PayloadFormat::from_name(name) {
        Some(PayloadFormat::Senml) if role == Role::Sink => {
            r.problem(
                ConfigProblem::option("format", "an mqtt sink writes `json` or `csv`")
                    .with_help("write `format: json`"),
            );
            PayloadFormat::Json
        }
        Some(f) => f,
        None => {
            let help = match did_you_mean(name, PayloadFormat::NAMES) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "write `format: json`, `format: csv` or `format: senml`".into(),
            };
            r.problem(
                ConfigProblem::option("format", format!("unknown format `{name}`")).with_help(help),
            );
            PayloadFormat::Json
        }
    }
}

/// The client id and whether the session starts clean (a persistent one needs an id).
fn read_session(r: &mut OptionReader<'_>) -> (Option<String>, bool) {
    let client_id = r.text("client_id").map(str::to_string);
    if client_id.as_deref().is_some_and(str::is_empty) {
        r.problem(ConfigProblem::option("client_id", "the client id is empty"));
    }
    let clean_session = r.boolean("clean_session").unwrap_or(true);
    if !clean_session && !r.has("client_id") {
        r.problem(
            ConfigProblem::option(
                "clean_session",
                "a persistent session (`clean_session: false`) needs a fixed `client_id`",
            )
            .with_help("add `client_id: \"weir-telemetry\"` (unique per broker)"),
        );
    }
    (client_id, clean_session)
}

/// User name and password (given, or from the environment; a password needs a user).
fn read_credentials(r: &mut OptionReader<'_>) -> (Option<String>, Option<Password>) {
    let username = r.text("username").map(str::to_string);
    let password = match (r.text("password"), r.text("password_env")) {
        (Some(_), Some(_)) => {
            r.problem(ConfigProblem::option(
                "password_env",
                "give `password` or `password_env`, not both",
            ));
            None
        }
        (Some(p), None) => Some(Password::Given(Secret::new(p))),
        (None, Some(v)) => Some(Password::Env(v.to_string())),
        (None, None) => None,
    };
    if password.is_some() && username.is_none() {
        r.problem(
            ConfigProblem::option("username", "a password needs a `username`")
                .with_help("add `username: \"weir\"`"),
        );
    }
    (username, password)
}

/// TLS when `tls: true`, `mqtts://` or any certificate file asks for it.
fn read_tls(r: &mut OptionReader<'_>, url: Option<&BrokerUrl>) -> Option<TlsFiles> {
    let files = TlsFiles::read(r);
    let wants_tls = files.any();
    let tls_flag = r.boolean("tls");
    let scheme_tls = url.is_some_and(|u| u.tls);
    if tls_flag == Some(false) && (wants_tls || scheme_tls) {
        r.problem(ConfigProblem::option(
            "tls",
            "`tls: false` contradicts `mqtts://`, `ca_file` or `client_cert`",
        ));
    }
    (tls_flag.unwrap_or(false) || wants_tls || scheme_tls).then_some(files)
}

/// A sink's idempotency-key field, which only a JSON payload can carry.
fn read_id_field(r: &mut OptionReader<'_>, format: PayloadFormat) -> Option<String> {
    let id_field = r.text("id_field").map(str::to_string);
    if id_field.as_deref().is_some_and(str::is_empty) {
        r.problem(ConfigProblem::option("id_field", "the field name is empty"));
    } else if id_field.is_some() && format != PayloadFormat::Json {
        r.problem(
            ConfigProblem::option("id_field", "`id_field` adds a JSON field")
                .with_help("use it with `format: json`"),
        );
    }
    id_field
}
