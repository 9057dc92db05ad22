//! Writing records into a PostgreSQL table in batches, retrying transient failures and
//! handing refused rows back for the error route.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use parking_lot::Mutex;
use postgres::types::ToSql;
use postgres::{Client, NoTls, SimpleQueryMessage};
use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::time::format_duration;
use weir_engine::value::{Record, Value};

use super::config::{Mode, PostgresConfig};
use super::params::parameter;
use super::sql;
use crate::connectors::secret::{redact_url, Scrubber, Secret};
use crate::format::json::JsonEncoder;

/// PostgreSQL's limit on the parameters of one statement.
const MAX_PARAMS: usize = 65_535;

/// Why a statement failed, and what follows.
#[derive(Debug)]
enum Fault {
    /// The connection or the server is in trouble (lost connection, deadlock, shutting
    /// down): retry on a new connection.
    Transient(String),
    /// A row is to blame (a constraint, a value out of range): it goes to the error route.
    Row(String),
    /// Retrying cannot help (login refused, no such table or column): the run stops.
    Fatal(String),
}

/// A `postgres(…)` sink, shared by the workers of a process (statements run on the
/// calling worker's thread, one at a time).
pub struct PostgresSink {
    sink: String,
    config: PostgresConfig,
    schema: Schema,
    url: Secret,
    /// The URL as reports show it (`error.location`), password masked.
    shown_url: String,
    scrubber: Scrubber,
    encoder: JsonEncoder,
    client: Mutex<Option<Client>>,
    written: AtomicU64,
    undelivered: Mutex<HashMap<ThreadId, Vec<BadRecord>>>,
}

impl PostgresSink {
    /// Connects (retrying while the server cannot be reached), creates the table when
    /// `create` asks; sink `sink` takes records of `schema`.
    pub fn open(
        sink: &str,
        config: &PostgresConfig,
        schema: &Schema,
    ) -> Result<PostgresSink, IoError> {
        let url = std::env::var(&config.url_env).map_err(|_| {
            IoError::Config(format!(
                "sink `{sink}`: the environment variable `{}` (url_env) is not set; \
                 set it to the connection URL, e.g. postgres://user:password@localhost:5432/db",
                config.url_env
            ))
        })?;
        let scrubber = Scrubber::for_url(&url);
        if let Err(e) = url.parse::<postgres::Config>() {
            return Err(IoError::Config(format!(
                "sink `{sink}`: `{}` (from `{}`) is not a PostgreSQL URL: {}",
                redact_url(&url),
                config.url_env,
                scrubber.scrub(&e.to_string())
            )));
        }
        let problems = config.field_problems(schema);
        if let Some((_, p)) = problems.first() {
            return Err(IoError::Config(format!("sink `{sink}`: {p}")));
        }
        let mut config = config.clone();
        // Stay under the server's parameter limit however wide the records are.
        config.batch = config
            .batch
            .min(MAX_PARAMS / schema.fields.len().max(1))
            .max(1);
        let out = PostgresSink {
            sink: sink.to_string(),
            config,
            schema: schema.clone(),
            shown_url: redact_url(&url),
            url: Secret::new(url),
            scrubber,
            encoder: JsonEncoder::new(schema),
            client: Mutex::new(None),
            written: AtomicU64::new(0),
            undelivered: Mutex::new(HashMap::new()),
        };
        let create = out
            .config
            .create
            .then(|| sql::create_table(&out.config, schema));
        let opened = out.with_retries(|client| match &create {
            Some(statement) => client
                .batch_execute(statement)
                .map_err(|e| out.classify(&e)),
            None => Ok(()),
        });
        match opened {
            Ok(()) => Ok(out),
            Err(Fault::Fatal(m) | Fault::Transient(m) | Fault::Row(m)) => {
                Err(IoError::Config(format!("sink `{sink}`: {m}")))
            }
        }
    }

    /// Rows written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Runs `statement` on the connection (opened if needed), retrying transient faults
    /// with exponential backoff on a new connection.
    fn with_retries(
        &self,
        mut statement: impl FnMut(&mut Client) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        let mut wait = Duration::from_millis(self.config.backoff_ms);
        let mut attempts = 0u32;
        let mut slot = self.client.lock();
        loop {
            attempts += 1;
            let result = match slot.as_mut() {
                Some(client) => statement(client),
                None => match Client::connect(self.url.expose(), NoTls) {
                    Ok(client) => statement(slot.insert(client)),
                    Err(e) => Err(self.classify_connect(&e)),
                },
            };
            match result {
                Err(Fault::Transient(reason)) => {
                    *slot = None;
                    if attempts > self.config.retries {
                        let times = if attempts == 1 { "attempt" } else { "attempts" };
                        return Err(Fault::Transient(format!(
                            "{reason} (after {attempts} {times})"
                        )));
                    }
                    eprintln!(
                        "weir: sink `{}`: {reason}; retrying in {} (retry {attempts} of {})",
                        self.sink,
                        format_duration(wait.as_millis() as i64),
                        self.config.retries
                    );
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                other => return other,
            }
        }
    }

    /// Sorts a failed statement's error into what follows from it.
    fn classify(&self, e: &postgres::Error) -> Fault {
        let Some(db) = e.as_db_error() else {
            let reason = self.scrubber.scrub(&with_causes(e));
            // No answer from the server (the connection is gone or broken) is transient; a
            // value the client cannot convert to its column's type (`f64` into `integer`)
            // is the rows' fault, and retrying cannot change it.
            return if e.is_closed() || io_cause(e) {
                Fault::Transient(reason)
            } else {
                Fault::Row(reason)
            };
        };
        let code = db.code().code();
        let mut reason = format!("{} (SQLSTATE {code})", db.message());
        if let Some(detail) = db.detail() {
            reason = format!("{reason}: {detail}");
        }
        let reason = self.scrubber.scrub(&reason);
        let table = &self.config.table;
        match &code[..2] {
            "08" | "40" | "53" | "57" | "58" => Fault::Transient(reason),
            "22" | "23" => Fault::Row(reason),
            "28" => Fault::Fatal(format!("PostgreSQL refused the login: {reason}")),
            _ if code == "42P01" => Fault::Fatal(format!(
                "{reason}; create the table, or write `create: true` to let the sink create it"
            )),
            _ if code == "42P10" => Fault::Fatal(format!(
                "{reason}; `mode: upsert` needs a primary key or unique constraint on the key \
                 columns of `{table}`"
            )),
            _ => Fault::Fatal(format!("table `{table}`: {reason}")),
        }
    }

    fn classify_connect(&self, e: &postgres::Error) -> Fault {
        match self.classify(e) {
            Fault::Row(reason) => {
                Fault::Fatal(format!("cannot connect to {}: {reason}", self.shown_url))
            }
            Fault::Transient(reason) => {
                Fault::Transient(format!("cannot connect to {}: {reason}", self.shown_url))
            }
            fatal => fatal,
        }
    }

    /// One INSERT of `rows` in a transaction of its own. From the COMMIT on, its
    /// transaction id waits in `pending` until the server answers: a connection lost in
    /// between leaves open whether the rows landed, so the next attempt asks the server
    /// (`txid_status`) before writing them again, and a retry neither loses nor doubles
    /// them, in `append` mode too.
    fn insert(
        &self,
        client: &mut Client,
        rows: &[&Record],
        pending: &Cell<Option<i64>>,
    ) -> Result<(), Fault> {
        if let Some(xid) = pending.get() {
            let landed = self.landed(client, xid)?;
            pending.set(None);
            if landed {
                return Ok(());
            }
        }
        let statement = sql::insert(&self.config, &self.schema, rows.len());
        let values: Vec<Box<dyn ToSql + Sync>> = rows
            .iter()
            .flat_map(|r| {
                r.iter()
                    .zip(&self.schema.fields)
                    .map(|(v, f)| parameter(v, f.ty))
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let xid = self.begin(client)?;
        if let Err(e) = client.execute(statement.as_str(), &params) {
            let fault = self.classify(&e);
            // End the failed transaction so the connection serves the next statement; a
            // connection that cannot is dropped and the rows are tried again.
            return match (fault, client.batch_execute("ROLLBACK")) {
                (Fault::Row(reason), Err(_)) => Err(Fault::Transient(reason)),
                (fault, _) => Err(fault),
            };
        }
        pending.set(Some(xid));
        // Even an error answer leaves `pending` set: a server shutting down can commit and
        // then end the session with an error, so only `txid_status` can tell.
        client
            .batch_execute("COMMIT")
            .map_err(|e| self.classify(&e))?;
        pending.set(None);
        Ok(())
    }

    /// `BEGIN`, and the new transaction's id, in one round trip.
    fn begin(&self, client: &mut Client) -> Result<i64, Fault> {
        let answer = client
            .simple_query("BEGIN; SELECT txid_current()")
            .map_err(|e| self.classify(&e))?;
        answer
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).and_then(|v| v.parse().ok()),
                _ => None,
            })
            .ok_or_else(|| Fault::Fatal("the server sent no transaction id".to_string()))
    }

    /// Whether transaction `xid`, whose COMMIT got no answer, committed. One still in
    /// progress (its old connection not yet gone) is asked about again after a wait.
    fn landed(&self, client: &mut Client, xid: i64) -> Result<bool, Fault> {
        let row = client
            .query_one("SELECT txid_status($1)", &[&xid])
            .map_err(|e| match self.classify(&e) {
                Fault::Transient(reason) => Fault::Transient(reason),
                Fault::Row(reason) | Fault::Fatal(reason) => Fault::Fatal(format!(
                    "cannot tell whether a batch whose commit got no answer was written: {reason}"
                )),
            })?;
        match row.get::<_, Option<String>>(0).as_deref() {
            Some("committed") => Ok(true),
            Some("in progress") => Err(Fault::Transient(format!(
                "the batch's transaction {xid} is still in progress"
            ))),
            // `aborted`, or too old to be known: not written.
            _ => Ok(false),
        }
    }

    /// Writes `rows`; on a row's fault, again one by one so only refused rows are handed
    /// back. Stops the run on a fatal fault.
    fn write_rows(&self, rows: &[&Record]) -> Result<(), IoError> {
        let fatal = |m: String| IoError::Other(format!("sink `{}`: {m}", self.sink));
        let pending = Cell::new(None);
        match self.with_retries(|c| self.insert(c, rows, &pending)) {
            Ok(()) => {
                self.written.fetch_add(rows.len() as u64, Ordering::SeqCst);
            }
            Err(Fault::Row(_)) if rows.len() > 1 => {
                for row in rows {
                    let pending = Cell::new(None);
                    let one = std::slice::from_ref(row);
                    match self.with_retries(|c| self.insert(c, one, &pending)) {
                        Ok(()) => {
                            self.written.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(Fault::Fatal(m)) => return Err(fatal(m)),
                        Err(Fault::Row(reason) | Fault::Transient(reason)) => {
                            self.hand_back(std::slice::from_ref(row), &reason)
                        }
                    }
                }
            }
            Err(Fault::Fatal(m)) => return Err(fatal(m)),
            Err(Fault::Row(reason) | Fault::Transient(reason)) => self.hand_back(rows, &reason),
        }
        Ok(())
    }

    fn hand_back(&self, rows: &[&Record], reason: &str) {
        let mut undelivered = self.undelivered.lock();
        let back = undelivered.entry(std::thread::current().id()).or_default();
        for record in rows {
            let mut raw = Vec::with_capacity(128);
            let _ = self.encoder.encode(record, &mut raw);
            while raw.last() == Some(&b'\n') {
                raw.pop();
            }
            back.push(BadRecord {
                source: self.sink.clone(),
                location: format!("{} table {}", self.shown_url, self.config.table),
                field: None,
                reason: reason.to_string(),
                raw: String::from_utf8_lossy(&raw).into_owned(),
            });
        }
    }

    /// For an upsert, the last record of each key (one statement cannot update a row
    /// twice); for an append, all of them.
    fn rows_of<'e>(&self, events: &'e [Event]) -> Vec<&'e Record> {
        if self.config.mode == Mode::Append {
            return events.iter().map(|e| &e.record).collect();
        }
        let slots: Vec<usize> = self
            .config
            .key
            .iter()
            .filter_map(|k| self.schema.slot(k))
            .collect();
        let mut last: HashMap<Vec<&Value>, usize> = HashMap::new();
        let mut rows: Vec<&Record> = Vec::with_capacity(events.len());
        for event in events {
            let key: Vec<&Value> = slots.iter().map(|&s| &event.record[s]).collect();
            match last.get(&key) {
                Some(&i) => rows[i] = &event.record,
                None => {
                    last.insert(key, rows.len());
                    rows.push(&event.record);
                }
            }
        }
        rows
    }
}

/// `e` and its causes (`error serializing parameter 1: cannot convert between the Rust
/// type `f64` and the Postgres type `int4``): the client's own message names no reason.
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        // Some errors repeat their cause's text in their own.
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// Whether `e` comes from the connection's input or output (an `io::Error` in its chain).
fn io_cause(e: &postgres::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

impl SinkWriter for PostgresSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let rows = self.rows_of(events);
        for chunk in rows.chunks(self.config.batch) {
            self.write_rows(chunk)?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        // Every statement commits on its own: nothing is held back.
        Ok(())
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.undelivered
            .lock()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }

    /// Every row is committed by its own statement, so a checkpoint has nothing to
    /// prepare: exactly-once comes from `mode: upsert`, whose replay after a restore
    /// writes each key's row again with the same values (idempotent).
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        Ok(None)
    }

    /// Nothing to undo for an upsert; an append says that the replay adds its rows again.
    fn restore(&self, _state: Option<&[u8]>) -> Result<(), IoError> {
        if self.config.mode == Mode::Append {
            eprintln!(
                "weir: sink `{}`: `mode: append` inserts again the rows written after the \
                 checkpoint this run resumes from (at-least-once); `mode: upsert` with a \
                 `key` writes each row once",
                self.sink
            );
        }
        Ok(())
    }
}
