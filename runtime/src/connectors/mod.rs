//! The built-in connectors and the factory the engine opens them through.
//!
//! Each connector lives in its own folder with a typed, strictly read configuration
//! (`config.rs`: unknown options are errors), its reader or writer and its tests:
//!
//! | connector | role | |
//! | --- | --- | --- |
//! | [`sensors`] | source | deterministic plant-sensor simulator |
//! | [`file`] | source, sink | JSON lines or CSV file |
//! | [`stdout`] | sink | JSON lines (or CSV) on standard output |
//! | [`mqtt`] | source, sink | MQTT broker: subscribe to topics, publish records |
//! | [`webhook`] | sink | HTTP POST of JSON, with retries |
//!
//! [`validate`] checks a call before anything runs (for `weir check`); [`Connectors`]
//! opens the same calls at run time and reports the same problems as
//! [`IoError::Config`].

pub mod file;
pub mod mqtt;
mod options;
mod problem;
pub mod sensors;
pub mod stdout;
mod suggest;
pub mod webhook;

use std::sync::Arc;

use weir_engine::io::{ConnectorFactory, IoError, SinkWriter, SourceReader, WorkerInfo};
use weir_engine::plan::{ConnectorCall, SinkNode, SourceNode};
use weir_engine::schema::Schema;

pub use options::{OptionKind, OptionSpec};
pub use problem::{ConfigProblem, Role};

use file::{FileConfig, FileSink, FileSource};
use mqtt::{MqttConfig, MqttSink, MqttSource};
use options::names;
use problem::config_error;
use sensors::{Measure, SensorsConfig, SensorsSource};
use stdout::{StdoutConfig, StdoutSink};
use suggest::did_you_mean;
use webhook::{WebhookConfig, WebhookSink};

/// A built-in connector as the catalog describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectorInfo {
    /// Its name in `.pipe` files.
    pub kind: &'static str,
    /// The roles it can play.
    pub roles: &'static [Role],
    /// The options it takes.
    pub options: &'static [OptionSpec],
    /// One line of documentation.
    pub doc: &'static str,
}

/// Every built-in connector.
pub const CATALOG: &[ConnectorInfo] = &[
    ConnectorInfo {
        kind: sensors::KIND,
        roles: &[Role::Source],
        options: sensors::OPTIONS,
        doc: "A deterministic simulator of a plant's machine sensors.",
    },
    ConnectorInfo {
        kind: file::KIND,
        roles: &[Role::Source, Role::Sink],
        options: file::OPTIONS,
        doc: "A JSON lines or CSV file.",
    },
    ConnectorInfo {
        kind: stdout::KIND,
        roles: &[Role::Sink],
        options: stdout::OPTIONS,
        doc: "Standard output, as JSON lines.",
    },
    ConnectorInfo {
        kind: mqtt::KIND,
        roles: &[Role::Source, Role::Sink],
        options: mqtt::OPTIONS,
        doc: "An MQTT broker: subscribe to topics (live), or publish records.",
    },
    ConnectorInfo {
        kind: webhook::KIND,
        roles: &[Role::Sink],
        options: webhook::OPTIONS,
        doc: "HTTP POST of records as JSON, with retries and backoff.",
    },
];

/// The connector called `kind`.
pub fn connector(kind: &str) -> Option<&'static ConnectorInfo> {
    CATALOG.iter().find(|c| c.kind == kind)
}

/// Checks `call` used as `role`, before running: unknown connector or option (with a
/// suggestion), wrong option type or value, missing argument, and — for `sensors`, when
/// `schema` is given — declared fields the simulator cannot fill. Returns every problem
/// found; empty means the call will open (bar the outside world: missing files etc.).
pub fn validate(call: &ConnectorCall, role: Role, schema: Option<&Schema>) -> Vec<ConfigProblem> {
    let Some(info) = connector(&call.kind) else {
        return vec![unknown_connector(&call.kind, role)];
    };
    if !info.roles.contains(&role) {
        let others: Vec<&str> = CATALOG
            .iter()
            .filter(|c| c.roles.contains(&role))
            .map(|c| c.kind)
            .collect();
        return vec![ConfigProblem::call(format!(
            "`{}` cannot be used as a {}",
            call.kind,
            role.name()
        ))
        .with_help(format!("{}s can use: {}", role.name(), names(others)))];
    }
    let problems = match info.kind {
        sensors::KIND => match schema {
            Some(schema) => SensorsConfig::with_schema(call, schema).err(),
            None => SensorsConfig::from_call(call).err(),
        },
        file::KIND => FileConfig::from_call(call).err(),
        stdout::KIND => StdoutConfig::from_call(call).err(),
        mqtt::KIND => match MqttConfig::from_call(call, role) {
            Ok(config) => {
                let problems = schema.map(|s| config.check_schema(s)).unwrap_or_default();
                (!problems.is_empty()).then_some(problems)
            }
            Err(problems) => Some(problems),
        },
        webhook::KIND => WebhookConfig::from_call(call).err(),
        _ => None,
    };
    problems.unwrap_or_default()
}

fn unknown_connector(kind: &str, role: Role) -> ConfigProblem {
    let fitting: Vec<&str> = CATALOG
        .iter()
        .filter(|c| c.roles.contains(&role))
        .map(|c| c.kind)
        .collect();
    let help = match did_you_mean(kind, CATALOG.iter().map(|c| c.kind)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("{}s can use: {}", role.name(), names(fitting)),
    };
    ConfigProblem::call(format!("unknown connector `{kind}`")).with_help(help)
}

/// Opens the built-in connectors for the engine.
#[derive(Clone, Debug, Default)]
pub struct Connectors {
    /// Relative file paths resolve against this folder (the current directory if unset).
    base_dir: Option<std::path::PathBuf>,
}

impl Connectors {
    /// Connectors resolving relative paths against `dir` instead of the current directory.
    pub fn with_base_dir(dir: impl Into<std::path::PathBuf>) -> Connectors {
        Connectors {
            base_dir: Some(dir.into()),
        }
    }

    fn resolve(&self, mut config: FileConfig) -> FileConfig {
        if let Some(base) = &self.base_dir {
            if config.path.is_relative() {
                config.path = base.join(&config.path);
            }
        }
        config
    }
}

impl ConnectorFactory for Connectors {
    fn open_source(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        let call = &source.connector;
        let problems = validate(call, Role::Source, Some(&source.schema));
        if !problems.is_empty() {
            return Err(config_error(&call.kind, &problems));
        }
        let fail = |p: Vec<ConfigProblem>| config_error(&call.kind, &p);
        match call.kind.as_str() {
            sensors::KIND => {
                let config = SensorsConfig::from_call(call).map_err(fail)?;
                let measures = Measure::for_schema(&source.schema).map_err(fail)?;
                Ok(Box::new(SensorsSource::new(config, measures, worker)))
            }
            file::KIND => {
                let config = self.resolve(FileConfig::from_call(call).map_err(fail)?);
                Ok(Box::new(FileSource::open(
                    &source.name,
                    &config,
                    &source.schema,
                    worker,
                )?))
            }
            mqtt::KIND => {
                let config = MqttConfig::from_call(call, Role::Source).map_err(fail)?;
                Ok(Box::new(MqttSource::open(
                    &source.name,
                    &config,
                    &source.schema,
                    worker,
                )?))
            }
            other => Err(IoError::Config(format!(
                "unknown source connector `{other}`"
            ))),
        }
    }

    fn open_sink(&self, sink: &SinkNode, schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError> {
        let call = &sink.connector;
        let problems = validate(call, Role::Sink, Some(schema));
        if !problems.is_empty() {
            return Err(config_error(&call.kind, &problems));
        }
        let fail = |p: Vec<ConfigProblem>| config_error(&call.kind, &p);
        match call.kind.as_str() {
            file::KIND => {
                let config = self.resolve(FileConfig::from_call(call).map_err(fail)?);
                Ok(Arc::new(FileSink::open(&config, schema)?))
            }
            stdout::KIND => {
                let config = StdoutConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(StdoutSink::new(&config, schema)))
            }
            mqtt::KIND => {
                let config = MqttConfig::from_call(call, Role::Sink).map_err(fail)?;
                Ok(Arc::new(MqttSink::open(&sink.name, &config, schema)?))
            }
            webhook::KIND => {
                let config = WebhookConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(WebhookSink::new(&sink.name, &config, schema)))
            }
            other => Err(IoError::Config(format!("unknown sink connector `{other}`"))),
        }
    }
}

#[cfg(test)]
mod tests;
