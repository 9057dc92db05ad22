//! The built-in connectors and the factory the engine opens them through.
//!
//! Each connector lives in its own folder with a typed, strictly read configuration
//! (`config.rs`: unknown options are errors), its reader or writer and its tests:
//!
//! | connector | role | |
//! | --- | --- | --- |
//! | [`metrics`] | source | the run's own counters, one record per interval |
//! | [`sensors`] | source | deterministic plant-sensor simulator |
//! | [`nexmark`] | source | deterministic Nexmark auction stream (persons, auctions, bids) |
//! | [`file`] | source, sink | JSON lines or CSV file |
//! | [`stdout`] | sink | JSON lines (or CSV) on standard output |
//! | [`mqtt`] | source, sink | MQTT broker: subscribe to topics, publish records |
//! | [`kafka`] | source, sink | Kafka topics: partitions spread over workers, offsets committed (runtime needs cargo feature `kafka`) |
//! | [`webhook`] | sink | HTTP POST of JSON, with retries |
//! | [`smtp`] | sink | one e-mail per record (alert notifications), with retries |
//! | [`postgres`] | sink | rows of a PostgreSQL table, appended or upserted in batches |
//! | [`chart`] | sink | live chart points for the dashboard and `/api/stream/<sink>` |
//! | [`state`] | sink | latest record per key, served by `/api/state/<sink>` |
//! | [`csv`] | table | reference data for `lookup`, refreshed while running |
//! | `parquet` | sink | Hive-partitioned Parquet lake (cargo feature `parquet`, on by default) |
//!
//! [`validate`] checks a call before anything runs (for `weir check`); [`Connectors`]
//! opens the same calls at run time and reports the same problems as
//! [`IoError::Config`].

mod byte_size;
pub mod chart;
pub mod csv;
pub mod delivery;
pub mod file;
pub mod idempotency;
pub mod kafka;
pub mod link_health;
pub mod live;
pub mod metrics;
pub mod mqtt;
pub mod nexmark;
mod options;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod per_process;
pub mod postgres;
mod problem;
mod raw_excerpt;
pub mod registry;
pub mod secret;
pub mod sensors;
pub mod sink_fields;
pub mod smtp;
pub mod state;
pub mod stdout;
mod suggest;
pub mod tls_files;
pub mod webhook;

use std::sync::Arc;

use parking_lot::Mutex;
use weir_engine::clock::{Clock, WallClock};
use weir_engine::io::{
    ConnectorFactory, IoError, LookupTable, SinkWriter, SourceReader, WorkerInfo,
};
use weir_engine::ml::Infer;
use weir_engine::plan::{ConnectorCall, ModelNode, SinkNode, SourceNode, TableNode};
use weir_engine::schema::Schema;
use weir_engine::stop::StopHandle;

pub use options::{OptionKind, OptionSpec};
pub use problem::{ConfigProblem, Role};

use file::{FileConfig, FileSink, FileSource};
use mqtt::{MqttConfig, MqttSink, MqttSource};
use nexmark::{NexmarkSource, NexmarkSourceConfig};
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
        kind: metrics::KIND,
        roles: &[Role::Source],
        options: metrics::OPTIONS,
        doc: "The run's own health (records, rates, lag, errors) every interval.",
    },
    ConnectorInfo {
        kind: nexmark::KIND,
        roles: &[Role::Source],
        options: nexmark::OPTIONS,
        doc: "The Nexmark auction benchmark stream: persons, auctions or bids.",
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
        kind: kafka::KIND,
        roles: &[Role::Source, Role::Sink],
        options: kafka::OPTIONS,
        doc: "Kafka topics: read partitions spread over the workers, or produce records.",
    },
    ConnectorInfo {
        kind: webhook::KIND,
        roles: &[Role::Sink],
        options: webhook::OPTIONS,
        doc: "HTTP POST of records as JSON, with retries and backoff.",
    },
    ConnectorInfo {
        kind: smtp::KIND,
        roles: &[Role::Sink],
        options: smtp::OPTIONS,
        doc: "One e-mail per record over SMTP, from subject and body templates.",
    },
    ConnectorInfo {
        kind: postgres::KIND,
        roles: &[Role::Sink],
        options: postgres::OPTIONS,
        doc: "Rows of a PostgreSQL table: appended or upserted by key, in batches, with retries.",
    },
    ConnectorInfo {
        kind: chart::KIND,
        roles: &[Role::Sink],
        options: chart::OPTIONS,
        doc: "A live chart on the run's dashboard (x, y, one line per series).",
    },
    ConnectorInfo {
        kind: state::KIND,
        roles: &[Role::Sink],
        options: state::OPTIONS,
        doc: "The latest record per key (by event time), for the HTTP API; kept on disk.",
    },
    ConnectorInfo {
        kind: csv::KIND,
        roles: &[Role::Table],
        options: csv::OPTIONS,
        doc: "Reference data for `lookup` from a CSV file with a header row.",
    },
    #[cfg(feature = "parquet")]
    ConnectorInfo {
        kind: parquet::KIND,
        roles: &[Role::Sink],
        options: parquet::OPTIONS,
        doc: "A data lake of Hive-partitioned Parquet files.",
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
        metrics::KIND => {
            let mut problems = metrics::MetricsConfig::from_call(call)
                .err()
                .unwrap_or_default();
            if let Some(schema) = schema {
                problems.extend(
                    metrics::MetricsField::for_schema(schema)
                        .err()
                        .unwrap_or_default(),
                );
            }
            (!problems.is_empty()).then_some(problems)
        }
        nexmark::KIND => match schema {
            Some(schema) => NexmarkSourceConfig::with_schema(call, schema).err(),
            None => NexmarkSourceConfig::from_call(call).err(),
        },
        file::KIND => {
            let mut problems = FileConfig::from_call(call).err().unwrap_or_default();
            if role == Role::Sink {
                for (name, _) in call
                    .options
                    .iter()
                    .filter(|(n, _)| ["replay", "follow", "max_line"].contains(&n.as_str()))
                {
                    problems.push(
                        ConfigProblem::option(
                            name,
                            format!("`{name}` is for file sources, not sinks"),
                        )
                        .with_help(format!("remove `{name}` from the sink")),
                    );
                }
            }
            (!problems.is_empty()).then_some(problems)
        }
        stdout::KIND => StdoutConfig::from_call(call).err(),
        mqtt::KIND => match MqttConfig::from_call(call, role) {
            Ok(config) => {
                let problems = schema.map(|s| config.check_schema(s)).unwrap_or_default();
                (!problems.is_empty()).then_some(problems)
            }
            Err(problems) => Some(problems),
        },
        kafka::KIND => match kafka::KafkaConfig::from_call(call, role) {
            Ok(config) => {
                let problems = schema.map(|s| config.check_schema(s)).unwrap_or_default();
                (!problems.is_empty()).then_some(problems)
            }
            Err(problems) => Some(problems),
        },
        webhook::KIND => WebhookConfig::from_call(call).err(),
        smtp::KIND => smtp::SmtpConfig::from_call(call).err(),
        postgres::KIND => postgres::PostgresConfig::from_call(call).err(),
        state::KIND => state::StateConfig::from_call(call).err(),
        chart::KIND => chart::ChartConfig::from_call(call).err(),
        csv::KIND => csv::CsvTableConfig::from_call(call).err(),
        #[cfg(feature = "parquet")]
        parquet::KIND => parquet::ParquetConfig::from_call(call).err(),
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

/// A sink opened by the factory, by name.
type OpenedSink = (String, Arc<dyn SinkWriter>);

/// Opens the built-in connectors for the engine.
#[derive(Clone)]
pub struct Connectors {
    /// Relative file paths resolve against this folder (the current directory if unset).
    base_dir: Option<std::path::PathBuf>,
    /// Set in a cluster: file sinks write per-process files (see [`per_process`]).
    shard: Option<per_process::ProcessShard>,
    /// Processing time for connectors that pace or rotate (replay, file rotation).
    clock: Arc<dyn Clock>,
    /// Where connectors report problems that do not stop the run (a table's bad rows).
    warn: csv::Warn,
    /// Worker 0 reads each file whole instead of workers sharing it by byte range: a
    /// `--limit` means the first records of the file.
    whole_files: bool,
    /// The run's stop requests, for sinks that bound their waits after a stop.
    stop: Option<Arc<StopHandle>>,
    /// Every sink opened, by name, so a stop can say what is still being flushed.
    opened: Arc<Mutex<Vec<OpenedSink>>>,
    /// Where `state` sinks register their stores for the HTTP server.
    states: Arc<state::StateStores>,
    /// Where `chart` and `live` sinks register their feeds for the HTTP server.
    feeds: Arc<live::LiveFeeds>,
    /// The sinks declared `live`.
    live: Arc<Vec<String>>,
    /// The run's counters and its source names, for `metrics` sources.
    run_metrics: Option<(Arc<weir_engine::metrics::Metrics>, Vec<String>)>,
}

impl Default for Connectors {
    fn default() -> Connectors {
        Connectors {
            base_dir: None,
            shard: None,
            clock: Arc::new(WallClock),
            warn: Arc::new(|message: &str| eprintln!("warning: {message}")),
            whole_files: false,
            stop: None,
            opened: Arc::default(),
            states: Arc::default(),
            feeds: Arc::default(),
            live: Arc::default(),
            run_metrics: None,
        }
    }
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors")
            .field("base_dir", &self.base_dir)
            .finish_non_exhaustive()
    }
}

impl Connectors {
    /// Connectors resolving relative paths against `dir` instead of the current directory.
    pub fn with_base_dir(dir: impl Into<std::path::PathBuf>) -> Connectors {
        Connectors {
            base_dir: Some(dir.into()),
            ..Connectors::default()
        }
    }

    /// Connectors for process `index` of a cluster of `processes` (more than one): file
    /// sinks get per-process names.
    /// Files are then read whole by the first worker: other hosts may not have them.
    pub fn for_process(mut self, index: usize, processes: usize) -> Connectors {
        self.shard = (processes > 1).then_some(per_process::ProcessShard { index, processes });
        self.whole_files |= processes > 1;
        self
    }

    /// The same connectors reporting warnings to `warn` instead of standard error.
    pub fn with_warnings(mut self, warn: csv::Warn) -> Connectors {
        self.warn = warn;
        self
    }

    /// The same connectors with worker 0 reading every file source whole (for `--limit`,
    /// which takes the first records of a file) instead of workers sharing it.
    pub fn reading_whole_files(mut self) -> Connectors {
        self.whole_files = true;
        self
    }

    /// The same connectors telling sinks about the run's stop requests (an MQTT sink then
    /// bounds its wait for an absent broker by `flush_timeout`).
    pub fn with_stop(mut self, stop: Arc<StopHandle>) -> Connectors {
        self.stop = Some(stop);
        self
    }

    /// The sinks opened so far with the records each has not delivered yet.
    pub fn backlogs(&self) -> Vec<(String, u64)> {
        self.opened
            .lock()
            .iter()
            .map(|(name, sink)| (name.clone(), sink.backlog()))
            .collect()
    }

    /// The same connectors registering `state` sinks in `states` (the HTTP server's).
    pub fn with_state_stores(mut self, states: Arc<state::StateStores>) -> Connectors {
        self.states = states;
        self
    }

    /// The same connectors registering `chart` sinks in `feeds` (the HTTP server's).
    pub fn with_live_feeds(mut self, feeds: Arc<live::LiveFeeds>) -> Connectors {
        self.feeds = feeds;
        self
    }

    /// The same connectors streaming the records of sinks `names` (declared `live`) to
    /// their feeds in `with_live_feeds`'s registry.
    pub fn with_live_sinks(mut self, names: Vec<String>) -> Connectors {
        self.live = Arc::new(names);
        self
    }

    /// `writer` of `sink`, publishing to the sink's live feed if it is declared `live`
    /// (a chart publishes its points itself).
    fn live_wrapped(
        &self,
        sink: &SinkNode,
        schema: &Schema,
        writer: Arc<dyn SinkWriter>,
    ) -> Arc<dyn SinkWriter> {
        if !self.live.contains(&sink.name) || sink.connector.kind == chart::KIND {
            return writer;
        }
        // One feed per sink, whichever of its shapes (or workers) opens first.
        let feed = self
            .feeds
            .get_or_insert_with(&sink.name, || live::LiveFeed::records(live::KEPT_RECORDS));
        Arc::new(live::LiveSink::new(writer, schema, feed))
    }

    /// The same connectors with `metrics` sources reading `metrics`, the counters of a
    /// run whose sources are named `sources` (in plan order).
    pub fn with_run_metrics(
        mut self,
        metrics: Arc<weir_engine::metrics::Metrics>,
        sources: Vec<String>,
    ) -> Connectors {
        self.run_metrics = Some((metrics, sources));
        self
    }

    /// The same connectors reading processing time from `clock` (tests drive it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Connectors {
        self.clock = clock;
        self
    }

    fn open_sink_writer(
        &self,
        sink: &SinkNode,
        schema: &Schema,
    ) -> Result<Arc<dyn SinkWriter>, IoError> {
        let call = &sink.connector;
        let problems = validate(call, Role::Sink, Some(schema));
        if !problems.is_empty() {
            return Err(config_error(&call.kind, &problems));
        }
        let fail = |p: Vec<ConfigProblem>| config_error(&call.kind, &p);
        match call.kind.as_str() {
            file::KIND => Ok(Arc::new(FileSink::open(
                &self.file_sink_config(call)?,
                schema,
            )?)),
            stdout::KIND => {
                let config = StdoutConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(StdoutSink::new(&config, schema)))
            }
            mqtt::KIND => {
                let config = MqttConfig::from_call(call, Role::Sink).map_err(fail)?;
                Ok(Arc::new(MqttSink::open(
                    &sink.name,
                    &config,
                    schema,
                    self.stop.clone(),
                )?))
            }
            #[cfg(feature = "kafka")]
            kafka::KIND => {
                let config = kafka::KafkaConfig::from_call(call, Role::Sink).map_err(fail)?;
                Ok(Arc::new(kafka::KafkaSink::open(
                    &sink.name, &config, schema,
                )?))
            }
            #[cfg(not(feature = "kafka"))]
            kafka::KIND => Err(kafka::not_built()),
            webhook::KIND => {
                let config = WebhookConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(WebhookSink::open(&sink.name, &config, schema)?))
            }
            smtp::KIND => {
                let config = smtp::SmtpConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(smtp::SmtpSink::open(&sink.name, &config, schema)?))
            }
            postgres::KIND => {
                let config = postgres::PostgresConfig::from_call(call).map_err(fail)?;
                Ok(Arc::new(postgres::PostgresSink::open(
                    &sink.name, &config, schema,
                )?))
            }
            chart::KIND => {
                let config = chart::ChartConfig::from_call(call).map_err(fail)?;
                let (sink_writer, feed) = chart::ChartSink::new(&config, schema)?;
                self.feeds.insert(&sink.name, feed);
                Ok(Arc::new(sink_writer))
            }
            state::KIND => {
                let config = state::StateConfig::from_call(call).map_err(fail)?;
                let mut path = self.resolve_path(config.path_for(&sink.name));
                if let Some(shard) = self.shard {
                    path = per_process::per_process_path(&path, shard.index);
                }
                let store = state::LatestStore::open(&config, &path, schema)
                    .map_err(|e| IoError::Config(e.to_string()))?;
                let store = Arc::new(store);
                self.states.insert(&sink.name, Arc::clone(&store));
                Ok(store)
            }
            #[cfg(feature = "parquet")]
            parquet::KIND => {
                let mut config = parquet::ParquetConfig::from_call(call).map_err(fail)?;
                config.path = self.resolve_path(config.path);
                // In a cluster each process writes its own `part-<process>-<seq>` files.
                Ok(Arc::new(parquet::ParquetSink::open(
                    &config,
                    schema,
                    self.shard.map_or(0, |s| s.index),
                    Arc::clone(&self.clock),
                )?))
            }
            other => Err(IoError::Config(format!("unknown sink connector `{other}`"))),
        }
    }

    /// The configuration of file sink `call`, its path resolved (per process in a cluster).
    fn file_sink_config(&self, call: &ConnectorCall) -> Result<FileConfig, IoError> {
        let config = FileConfig::from_call(call).map_err(|p| config_error(&call.kind, &p))?;
        let mut config = self.resolve(config);
        if let Some(shard) = self.shard {
            config.path = per_process::per_process_path(&config.path, shard.index);
        }
        Ok(config)
    }

    /// Opens a JSON lines file sink written in several shapes: one file, a writer per
    /// shape (opening it once per shape would truncate it each time).
    fn open_file_shapes(
        &self,
        sink: &SinkNode,
        shapes: &[Schema],
    ) -> Result<Vec<Arc<dyn SinkWriter>>, IoError> {
        let call = &sink.connector;
        for shape in shapes {
            let problems = validate(call, Role::Sink, Some(shape));
            if !problems.is_empty() {
                return Err(config_error(&call.kind, &problems));
            }
        }
        let writers = FileSink::open_shapes(&self.file_sink_config(call)?, shapes)?;
        let writers: Vec<Arc<dyn SinkWriter>> = writers
            .into_iter()
            .zip(shapes)
            .map(|(w, shape)| self.live_wrapped(sink, shape, Arc::new(w)))
            .collect();
        if let Some(first) = writers.first() {
            self.opened
                .lock()
                .push((sink.name.clone(), Arc::clone(first)));
        }
        Ok(writers)
    }

    fn resolve(&self, mut config: FileConfig) -> FileConfig {
        config.path = self.resolve_path(config.path);
        config
    }

    fn resolve_path(&self, path: std::path::PathBuf) -> std::path::PathBuf {
        match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        }
    }
}

impl ConnectorFactory for Connectors {
    fn read_by_every_worker(&self, source: &SourceNode) -> bool {
        // An MQTT subscription is held by the first worker, and so is a file unless its
        // workers share it by byte range.
        match source.connector.kind.as_str() {
            mqtt::KIND | metrics::KIND => false,
            file::KIND => {
                !self.whole_files
                    && FileConfig::from_call(&source.connector).is_ok_and(|c| c.shareable())
            }
            _ => true,
        }
    }

    fn open_source(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
    ) -> Result<Box<dyn SourceReader>, IoError> {
        self.open_reading(source, worker, None)
    }

    fn open_source_reading(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
        read: &[bool],
    ) -> Result<Box<dyn SourceReader>, IoError> {
        self.open_reading(source, worker, Some(read))
    }

    fn open_sink(&self, sink: &SinkNode, schema: &Schema) -> Result<Arc<dyn SinkWriter>, IoError> {
        let writer = self.open_sink_writer(sink, schema)?;
        let writer = self.live_wrapped(sink, schema, writer);
        self.opened
            .lock()
            .push((sink.name.clone(), Arc::clone(&writer)));
        Ok(writer)
    }

    /// A JSON lines file written in several shapes is opened once; other sinks of several
    /// shapes (`stdout()`) get a writer per shape, each writing whole batches.
    fn open_sink_shapes(
        &self,
        sink: &SinkNode,
        shapes: &[Schema],
    ) -> Result<Vec<Arc<dyn SinkWriter>>, IoError> {
        if sink.connector.kind == file::KIND && shapes.len() > 1 {
            return self.open_file_shapes(sink, shapes);
        }
        shapes.iter().map(|s| self.open_sink(sink, s)).collect()
    }

    fn open_table(&self, table: &TableNode) -> Result<Arc<dyn LookupTable>, IoError> {
        let call = &table.connector;
        let problems = validate(call, Role::Table, Some(&table.schema));
        if !problems.is_empty() {
            return Err(config_error(&call.kind, &problems));
        }
        let fail = |p: Vec<ConfigProblem>| config_error(&call.kind, &p);
        match call.kind.as_str() {
            csv::KIND => {
                let mut config = csv::CsvTableConfig::from_call(call).map_err(fail)?;
                config.path = self.resolve_path(config.path);
                Ok(Arc::new(csv::CsvTable::open(
                    table,
                    &config,
                    Arc::clone(&self.clock),
                    Arc::clone(&self.warn),
                )?))
            }
            other => Err(IoError::Config(format!(
                "unknown table connector `{other}`"
            ))),
        }
    }

    fn open_model(&self, model: &ModelNode) -> Result<Arc<dyn Infer>, IoError> {
        let path = self.resolve_path(std::path::PathBuf::from(&model.path));
        crate::model::load(model, &path)
    }
}

impl Connectors {
    /// Opens `worker`'s share of `source`; with `read`, JSON lines build only the marked
    /// fields.
    fn open_reading(
        &self,
        source: &SourceNode,
        worker: WorkerInfo,
        read: Option<&[bool]>,
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
            metrics::KIND => {
                let config = metrics::MetricsConfig::from_call(call).map_err(fail)?;
                let fields = metrics::MetricsField::for_schema(&source.schema).map_err(fail)?;
                let Some((counters, names)) = &self.run_metrics else {
                    return Err(IoError::Config(
                        "`metrics` sources read a run's counters, and this run has none".into(),
                    ));
                };
                let own = names
                    .iter()
                    .position(|n| *n == source.name)
                    .unwrap_or(usize::MAX);
                Ok(Box::new(metrics::MetricsSource::new(
                    config,
                    fields,
                    Arc::clone(counters),
                    own,
                )))
            }
            nexmark::KIND => {
                let (config, columns) =
                    NexmarkSourceConfig::with_schema(call, &source.schema).map_err(fail)?;
                Ok(Box::new(NexmarkSource::new(&config, columns, worker)))
            }
            file::KIND => {
                let config = self.resolve(FileConfig::from_call(call).map_err(fail)?);
                let mut file = FileSource::open_share(
                    &source.name,
                    &config,
                    &source.schema,
                    worker,
                    !self.whole_files,
                )?;
                if let Some(read) = read {
                    file.read_only(read);
                }
                let reader = Box::new(file);
                match (config.replay, source.event_time) {
                    (file::Replay::Max, _) => Ok(reader),
                    (file::Replay::Speed(speed), Some(slot)) => Ok(Box::new(
                        file::replay::PacedReader::new(reader, slot, speed, Arc::clone(&self.clock)),
                    )),
                    (file::Replay::Speed(_), None) => Err(IoError::Config(format!(
                        "source `{}`: `replay` paces records by event time, but the source has no `event_time`; add e.g. `event_time ts`",
                        source.name
                    ))),
                }
            }
            mqtt::KIND => {
                let config = MqttConfig::from_call(call, Role::Source).map_err(fail)?;
                let mut reader = MqttSource::open(&source.name, &config, &source.schema, worker)?;
                reader.set_overload(source.overload);
                Ok(Box::new(reader))
            }
            #[cfg(feature = "kafka")]
            kafka::KIND => {
                let config = kafka::KafkaConfig::from_call(call, Role::Source).map_err(fail)?;
                Ok(Box::new(kafka::KafkaSource::open(source, &config, worker)?))
            }
            #[cfg(not(feature = "kafka"))]
            kafka::KIND => Err(kafka::not_built()),
            other => Err(IoError::Config(format!(
                "unknown source connector `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
