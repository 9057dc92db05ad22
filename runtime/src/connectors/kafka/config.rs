//! The typed configuration of `kafka(…)`, read strictly from a connector call: brokers,
//! topics, the consumer group and where to start (sources), key, batching, compression
//! and acknowledgements (sinks), and TLS and SASL for both.

use regex::Regex;
use weir_engine::plan::ConnectorCall;
use weir_engine::schema::{Schema, Type};

use super::KIND;
use crate::connectors::mqtt::payload::PayloadFormat;
use crate::connectors::mqtt::topic::TopicTemplate;
use crate::connectors::options::{names, OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::{ConfigProblem, Role};
use crate::connectors::secret::Secret;
use crate::connectors::suggest::did_you_mean;
use crate::connectors::tls_files::TlsFiles;

/// The options of `kafka(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "brokers",
        kind: OptionKind::Text,
        positional: true,
        default: None,
        doc: "Bootstrap brokers: `host:port`, several separated by commas.",
    },
    OptionSpec {
        name: "topic",
        kind: OptionKind::TextList,
        positional: false,
        default: None,
        doc: "Source: topic names, or patterns starting with `^` (regular expressions); sink: one topic, a template such as `plant.{site}`.",
    },
    OptionSpec {
        name: "format",
        kind: OptionKind::Word,
        positional: false,
        default: Some("json"),
        doc: "Record value format: `json` (an object, or JSON lines) or `csv` (rows in field order).",
    },
    OptionSpec {
        name: "group",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\"weir-<source>\""),
        doc: "Source: consumer group whose committed offsets `start: committed` resumes from, and where offsets are committed.",
    },
    OptionSpec {
        name: "start",
        kind: OptionKind::Word,
        positional: false,
        default: Some("committed"),
        doc: "Source: `earliest`, `latest`, or `committed` (the group's offsets; earliest where it has none).",
    },
    OptionSpec {
        name: "until",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "Source: `end` reads up to the end of each partition as it was at the start, then finishes (a bounded run); without it the source is live.",
    },
    OptionSpec {
        name: "key_field",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "Source: a declared `string` field that receives the record key.",
    },
    OptionSpec {
        name: "timestamp_field",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "Source: a declared `timestamp` field that receives the Kafka record timestamp.",
    },
    OptionSpec {
        name: "connect_timeout",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("30s"),
        doc: "Source: how long opening waits for the brokers to describe the topics.",
    },
    OptionSpec {
        name: "key",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "Sink: the record key: a field name, or a template such as `\"{site}/{device_id}\"`; records with the same key go to the same partition.",
    },
    OptionSpec {
        name: "acks",
        kind: OptionKind::Word,
        positional: false,
        default: Some("all"),
        doc: "Sink: `all` (every in-sync replica), `leader` or `none`.",
    },
    OptionSpec {
        name: "idempotent",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("true"),
        doc: "Sink: the idempotent producer (no duplicates from retries, order kept per partition); needs `acks: all`.",
    },
    OptionSpec {
        name: "compression",
        kind: OptionKind::Word,
        positional: false,
        default: Some("none"),
        doc: "Sink: `none`, `gzip`, `snappy`, `lz4` or `zstd`.",
    },
    OptionSpec {
        name: "linger",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("5ms"),
        doc: "Sink: how long records wait to fill a batch.",
    },
    OptionSpec {
        name: "batch",
        kind: OptionKind::Int,
        positional: false,
        default: Some("10000"),
        doc: "Sink: most records in one batch.",
    },
    OptionSpec {
        name: "delivery_timeout",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("30s"),
        doc: "Sink: how long a record is retried before it goes to `on error to`.",
    },
    OptionSpec {
        name: "tls",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("false"),
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
        doc: "PEM client certificate, for brokers that authenticate clients by certificate.",
    },
    OptionSpec {
        name: "client_key",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "PEM private key of `client_cert`.",
    },
    OptionSpec {
        name: "sasl",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "SASL mechanism: `plain`, `scram-sha-256` or `scram-sha-512` (needs `username` and a password).",
    },
    OptionSpec {
        name: "username",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "SASL user name.",
    },
    OptionSpec {
        name: "password",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "SASL password (prefer `password_env`); never printed.",
    },
    OptionSpec {
        name: "password_env",
        kind: OptionKind::Text,
        positional: false,
        default: None,
        doc: "Name of the environment variable holding the SASL password.",
    },
];

const SOURCE_ONLY: &[&str] = &[
    "group",
    "start",
    "until",
    "key_field",
    "timestamp_field",
    "connect_timeout",
];
const SINK_ONLY: &[&str] = &[
    "key",
    "acks",
    "idempotent",
    "compression",
    "linger",
    "batch",
    "delivery_timeout",
];

/// Where a source starts reading a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The oldest record the broker keeps.
    Earliest,
    /// Only records produced after the source opened.
    Latest,
    /// The group's committed offset; earliest where it has none.
    Committed,
}

/// A topic a source reads: a name, or a pattern matched against the brokers' topics.
#[derive(Clone, Debug)]
pub enum TopicSpec {
    /// Exactly this topic.
    Name(String),
    /// Every topic whose whole name matches (`^plant\..*`).
    Pattern(Regex),
}

impl PartialEq for TopicSpec {
    fn eq(&self, other: &TopicSpec) -> bool {
        match (self, other) {
            (TopicSpec::Name(a), TopicSpec::Name(b)) => a == b,
            (TopicSpec::Pattern(a), TopicSpec::Pattern(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl TopicSpec {
    /// Whether topic `name` is read.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            TopicSpec::Name(n) => n == name,
            TopicSpec::Pattern(r) => r.is_match(name),
        }
    }
}

/// Where the SASL password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// Written in the pipeline (never printed).
    Given(Secret),
    /// Read from this environment variable when connecting.
    Env(String),
}

impl Password {
    /// The password itself; the error names the variable (never a value).
    pub fn resolve(&self) -> Result<Secret, String> {
        match self {
            Password::Given(s) => Ok(s.clone()),
            Password::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                _ => Err(format!(
                    "the environment variable `{var}` (`password_env`) is not set"
                )),
            },
        }
    }
}

/// SASL login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sasl {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`, as librdkafka names them.
    pub mechanism: &'static str,
    /// User name.
    pub username: String,
    /// Password.
    pub password: Password,
}

/// TLS settings (as MQTT's); present when the connection uses TLS.
pub type Tls = TlsFiles;

/// Source settings.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSettings {
    /// Topics read.
    pub topics: Vec<TopicSpec>,
    /// Consumer group (`None`: `weir-<source>`).
    pub group: Option<String>,
    /// Where to start.
    pub start: Start,
    /// Stop at the partition ends seen at the start.
    pub until_end: bool,
    /// Field receiving the record key.
    pub key_field: Option<String>,
    /// Field receiving the record timestamp.
    pub timestamp_field: Option<String>,
    /// Opening's wait for metadata, in milliseconds.
    pub connect_timeout_ms: i64,
}

/// Sink settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkSettings {
    /// Topic template.
    pub topic: TopicTemplate,
    /// Key template.
    pub key: Option<TopicTemplate>,
    /// `all`, `1` or `0` (librdkafka's `acks`).
    pub acks: &'static str,
    /// Idempotent producer.
    pub idempotent: bool,
    /// librdkafka's `compression.type`.
    pub compression: &'static str,
    /// `linger.ms`.
    pub linger_ms: i64,
    /// `batch.num.messages`.
    pub batch: i64,
    /// `message.timeout.ms`.
    pub delivery_timeout_ms: i64,
}

/// Source or sink.
#[derive(Clone, Debug, PartialEq)]
pub enum Direction {
    /// Reading.
    Source(SourceSettings),
    /// Writing.
    Sink(SinkSettings),
}

/// A checked `kafka(…)` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Value format.
    pub format: PayloadFormat,
    /// TLS, when used.
    pub tls: Option<Tls>,
    /// SASL, when used.
    pub sasl: Option<Sasl>,
    /// What the call reads or writes.
    pub direction: Direction,
}

impl KafkaConfig {
    /// Reads `call` for `role`, rejecting unknown options, options of the other role and
    /// bad values.
    pub fn from_call(call: &ConnectorCall, role: Role) -> Result<KafkaConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require(
            "brokers",
            "kafka(\"127.0.0.1:9092\", topic: \"plant.telemetry\")",
        );
        let (other, other_role) = match role {
            Role::Source => (SINK_ONLY, "sink"),
            Role::Sink | Role::Table => (SOURCE_ONLY, "source"),
        };
        for name in other {
            if r.has(name) {
                r.problem(ConfigProblem::option(
                    name,
                    format!("`{name}` applies to a kafka {other_role} only"),
                ));
            }
        }
        let brokers = r.text("brokers").and_then(|b| match check_brokers(b) {
            Ok(()) => Some(b.to_string()),
            Err(e) => {
                r.problem(ConfigProblem::option("brokers", e));
                None
            }
        });
        let format = read_format(&mut r);
        let tls = read_tls(&mut r);
        let sasl = read_sasl(&mut r);
        let direction = match role {
            Role::Source => read_source(&mut r).map(Direction::Source),
            Role::Sink | Role::Table => read_sink(&mut r).map(Direction::Sink),
        };
        let config = match (brokers, direction) {
            (Some(brokers), Some(direction)) => Some(KafkaConfig {
                brokers,
                format,
                tls,
                sasl,
                direction,
            }),
            _ => None,
        };
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call(
                "`kafka` needs brokers and a topic",
            )]),
            Err(problems) => Err(problems),
        }
    }

    /// The source settings (`None` for a sink).
    pub fn source(&self) -> Option<&SourceSettings> {
        match &self.direction {
            Direction::Source(s) => Some(s),
            Direction::Sink(_) => None,
        }
    }

    /// The sink settings (`None` for a source).
    pub fn sink(&self) -> Option<&SinkSettings> {
        match &self.direction {
            Direction::Sink(s) => Some(s),
            Direction::Source(_) => None,
        }
    }

    /// Problems with the declared `schema`: key and timestamp fields that are not declared
    /// or of the wrong type, sink templates naming fields records do not have.
    pub fn check_schema(&self, schema: &Schema) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        match &self.direction {
            Direction::Source(s) => {
                let meta = [
                    ("key_field", &s.key_field, Type::String),
                    ("timestamp_field", &s.timestamp_field, Type::Timestamp),
                ];
                for (option, field, ty) in meta {
                    let Some(name) = field else { continue };
                    match schema.fields.iter().find(|f| &f.name == name) {
                        None => problems.push(
                            ConfigProblem::option(
                                option,
                                format!(
                                    "`{option}` names `{name}`, which the source does not declare"
                                ),
                            )
                            .with_help(format!("declare it, e.g. `{name}: {ty}`")),
                        ),
                        Some(f) if f.ty != ty => problems.push(ConfigProblem::option(
                            option,
                            format!(
                                "`{name}` receives the record's {}, so it must be `{ty}`, not `{}`",
                                if ty == Type::String {
                                    "key"
                                } else {
                                    "timestamp"
                                },
                                f.ty
                            ),
                        )),
                        Some(_) => {}
                    }
                }
            }
            Direction::Sink(s) => {
                let templates = [("topic", Some(&s.topic)), ("key", s.key.as_ref())];
                for (option, template) in templates {
                    let Some(template) = template else { continue };
                    if let Err(missing) = template.bind(schema) {
                        for name in missing {
                            problems.push(
                                ConfigProblem::option(
                                    option,
                                    format!("`{option}` names field `{name}`, which records written here do not have"),
                                )
                                .with_help(format!(
                                    "records here have {}",
                                    names(schema.fields.iter().map(|f| f.name.as_str()))
                                )),
                            );
                        }
                    }
                }
            }
        }
        problems
    }

    /// The fields a source fills from record metadata rather than the value.
    pub fn metadata_fields(&self) -> Vec<&str> {
        self.source()
            .map(|s| {
                [&s.key_field, &s.timestamp_field]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `host:port[,host:port…]`.
fn check_brokers(text: &str) -> Result<(), String> {
    if text.contains("://") {
        return Err(format!(
            "`{}` is a URL; Kafka brokers are written `host:port`, e.g. `127.0.0.1:9092`",
            crate::connectors::secret::redact_url(text)
        ));
    }
    if text.contains('@') {
        return Err("credentials go in `username` and `password_env`, not the broker list".into());
    }
    for broker in text.split(',').map(str::trim) {
        let Some((host, port)) = broker.rsplit_once(':') else {
            return Err(format!("`{broker}` has no port: write `{broker}:9092`"));
        };
        if host.is_empty() || !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return Err(format!(
                "`{broker}` is not a broker address such as `127.0.0.1:9092`"
            ));
        }
    }
    Ok(())
}

/// A Kafka topic name: 1 to 249 of `[a-zA-Z0-9._-]`.
fn check_topic_name(name: &str) -> Result<(), String> {
    let ok = (1..=249).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok && name != "." && name != ".." {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a Kafka topic name (1 to 249 letters, digits, `.`, `_` or `-`)"
        ))
    }
}

fn read_format(r: &mut OptionReader<'_>) -> PayloadFormat {
    match r.word("format") {
        None => PayloadFormat::Json,
        Some(name) => match PayloadFormat::from_name(name) {
            Some(f @ (PayloadFormat::Json | PayloadFormat::Csv)) => f,
            _ => {
                let help = match did_you_mean(name, ["json", "csv"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write `format: json` or `format: csv`".into(),
                };
                r.problem(
                    ConfigProblem::option("format", format!("unknown format `{name}`"))
                        .with_help(help),
                );
                PayloadFormat::Json
            }
        },
    }
}

fn read_tls(r: &mut OptionReader<'_>) -> Option<Tls> {
    let files = TlsFiles::read(r);
    let implied = files.any();
    match r.boolean("tls") {
        Some(false) if implied => {
            r.problem(ConfigProblem::option(
                "tls",
                "`tls: false` contradicts `ca_file` or `client_cert`",
            ));
            None
        }
        flag => (flag.unwrap_or(false) || implied).then_some(files),
    }
}

fn read_sasl(r: &mut OptionReader<'_>) -> Option<Sasl> {
    let mechanism = r.word("sasl").and_then(|m| {
        match m.to_ascii_lowercase().as_str() {
            "plain" => Some("PLAIN"),
            "scram-sha-256" => Some("SCRAM-SHA-256"),
            "scram-sha-512" => Some("SCRAM-SHA-512"),
            _ => {
                r.problem(
                    ConfigProblem::option("sasl", format!("unknown SASL mechanism `{m}`"))
                        .with_help("write `sasl: plain`, `sasl: \"scram-sha-256\"` or `sasl: \"scram-sha-512\"`"),
                );
                None
            }
        }
    });
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
    let given_sasl = r.has("sasl");
    match (mechanism, username, password) {
        (Some(mechanism), Some(username), Some(password)) => Some(Sasl {
            mechanism,
            username,
            password,
        }),
        (None, None, None) => None,
        (m, u, p) => {
            if u.is_none() {
                r.problem(
                    ConfigProblem::option("username", "SASL needs a `username`")
                        .with_help("add `username: \"weir\"`"),
                );
            }
            if p.is_none() {
                r.problem(
                    ConfigProblem::option("password_env", "SASL needs a password")
                        .with_help("add `password_env: \"KAFKA_PASSWORD\"`"),
                );
            }
            if m.is_none() && !given_sasl {
                r.problem(
                    ConfigProblem::option("sasl", "a user name and password need a SASL mechanism")
                        .with_help("add `sasl: plain` or `sasl: \"scram-sha-256\"`"),
                );
            }
            None
        }
    }
}

fn read_source(r: &mut OptionReader<'_>) -> Option<SourceSettings> {
    r.require("topic", "topic: \"plant.telemetry\"");
    let mut topics = Vec::new();
    if let Some(list) = r.texts("topic") {
        if list.is_empty() {
            r.problem(ConfigProblem::option("topic", "the topic list is empty"));
        }
        for t in list {
            if t.starts_with('^') {
                // Anchored at both ends, as Kafka clients match patterns.
                match Regex::new(&format!("{t}$")) {
                    Ok(re) => topics.push(TopicSpec::Pattern(re)),
                    Err(e) => r.problem(ConfigProblem::option(
                        "topic",
                        format!("bad topic pattern `{t}`: {e}"),
                    )),
                }
            } else {
                match check_topic_name(t) {
                    Ok(()) => topics.push(TopicSpec::Name(t.to_string())),
                    Err(e) => r.problem(
                        ConfigProblem::option("topic", e)
                            .with_help("a pattern starts with `^`, as in `\"^plant\\\\..*\"`"),
                    ),
                }
            }
        }
    }
    let group = r.text("group").map(str::to_string);
    if group.as_deref().is_some_and(str::is_empty) {
        r.problem(ConfigProblem::option("group", "the group id is empty"));
    }
    let start = match r.word("start") {
        None | Some("committed") => Start::Committed,
        Some("earliest") => Start::Earliest,
        Some("latest") => Start::Latest,
        Some(other) => {
            let help = match did_you_mean(other, ["earliest", "latest", "committed"]) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "write `start: earliest`, `start: latest` or `start: committed`".into(),
            };
            r.problem(
                ConfigProblem::option("start", format!("unknown start `{other}`")).with_help(help),
            );
            Start::Committed
        }
    };
    let until_end = match r.word("until") {
        None => false,
        Some("end") => true,
        Some(other) => {
            r.problem(
                ConfigProblem::option("until", format!("unknown `until: {other}`"))
                    .with_help("write `until: end`, or leave it out for a live source"),
            );
            false
        }
    };
    let key_field = r.word("key_field").map(str::to_string);
    let timestamp_field = r.word("timestamp_field").map(str::to_string);
    if key_field.is_some() && key_field == timestamp_field {
        r.problem(ConfigProblem::option(
            "timestamp_field",
            "the key and the timestamp cannot go to the same field",
        ));
    }
    let connect_timeout_ms = r.duration("connect_timeout").unwrap_or(30_000);
    if connect_timeout_ms < 100 {
        r.problem(ConfigProblem::option(
            "connect_timeout",
            "`connect_timeout` must be at least 100ms",
        ));
    }
    Some(SourceSettings {
        topics,
        group,
        start,
        until_end,
        key_field,
        timestamp_field,
        connect_timeout_ms,
    })
}

fn read_sink(r: &mut OptionReader<'_>) -> Option<SinkSettings> {
    r.require("topic", "topic: \"plant.minutes\"");
    let topic = match r.texts("topic")?.as_slice() {
        [one] => match TopicTemplate::parse(one) {
            Ok(t) => {
                let fixed: String = one.split(['{', '}']).step_by(2).collect();
                if t.fields().next().is_none() {
                    if let Err(e) = check_topic_name(one) {
                        r.problem(ConfigProblem::option("topic", e));
                    }
                } else if !fixed.is_empty() && check_topic_name(&fixed).is_err() {
                    r.problem(ConfigProblem::option(
                        "topic",
                        format!("`{one}` cannot make a Kafka topic name (letters, digits, `.`, `_` or `-`)"),
                    ));
                }
                t
            }
            Err(e) => {
                r.problem(ConfigProblem::option("topic", e));
                return None;
            }
        },
        _ => {
            r.problem(
                ConfigProblem::option("topic", "a kafka sink writes to one topic")
                    .with_help("vary it by record with a template such as `plant.{site}`"),
            );
            return None;
        }
    };
    let key = r.word("key").and_then(|k| {
        let text = if k.contains('{') {
            k.to_string()
        } else {
            format!("{{{k}}}")
        };
        match TopicTemplate::parse(&text) {
            Ok(t) => Some(t),
            Err(e) => {
                r.problem(ConfigProblem::option("key", e.replace("topic", "key")));
                None
            }
        }
    });
    let acks = match r.word("acks") {
        None | Some("all") => "all",
        Some("leader") => "1",
        Some("none") => "0",
        Some(other) => {
            r.problem(
                ConfigProblem::option("acks", format!("unknown `acks: {other}`"))
                    .with_help("write `acks: all`, `acks: leader` or `acks: none`"),
            );
            "all"
        }
    };
    let idempotent = r.boolean("idempotent").unwrap_or(acks == "all");
    if idempotent && acks != "all" && r.has("idempotent") {
        r.problem(
            ConfigProblem::option("idempotent", "the idempotent producer needs `acks: all`")
                .with_help("remove `acks`, or write `idempotent: false`"),
        );
    }
    let compression = match r.word("compression") {
        None | Some("none") => "none",
        Some("gzip") => "gzip",
        Some("snappy") => "snappy",
        Some("lz4") => "lz4",
        Some("zstd") => "zstd",
        Some(other) => {
            let help = match did_you_mean(other, ["none", "gzip", "snappy", "lz4", "zstd"]) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "write one of `none`, `gzip`, `snappy`, `lz4`, `zstd`".into(),
            };
            r.problem(
                ConfigProblem::option("compression", format!("unknown compression `{other}`"))
                    .with_help(help),
            );
            "none"
        }
    };
    let linger_ms = r.duration("linger").unwrap_or(5);
    if !(0..=900_000).contains(&linger_ms) {
        r.problem(ConfigProblem::option(
            "linger",
            "`linger` must be between 0ms and 15m",
        ));
    }
    let batch = r.int("batch").unwrap_or(10_000);
    if !(1..=1_000_000).contains(&batch) {
        r.problem(ConfigProblem::option(
            "batch",
            "`batch` must be between 1 and 1M",
        ));
    }
    let delivery_timeout_ms = r.duration("delivery_timeout").unwrap_or(30_000);
    if delivery_timeout_ms < 100 || delivery_timeout_ms > i64::from(i32::MAX) {
        r.problem(ConfigProblem::option(
            "delivery_timeout",
            "`delivery_timeout` must be at least 100ms (and under 24 days)",
        ));
    }
    Some(SinkSettings {
        topic,
        key,
        acks,
        idempotent,
        compression,
        linger_ms,
        batch,
        delivery_timeout_ms,
    })
}
