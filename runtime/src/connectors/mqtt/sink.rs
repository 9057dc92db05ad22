//! Publishing records to MQTT: one message per record, on a topic built from the record.
//!
//! A flush waits until the broker has taken every message (PUBACK for QoS 1, written to
//! the socket for QoS 0), so a bounded run ends only once its output is delivered.
//! Records whose topic cannot be built are not published; they are counted and shown on
//! stderr, and the run goes on.
//!
//! After a stop, `flush_timeout` bounds the wait for a broker that takes nothing: records
//! still waiting to be published are then handed back as undelivered (to `on error to`,
//! or counted), and the flush fails with the count of messages the broker never took.
//! A failure that will not heal (a wrong password) fails the run at the next write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rumqttc::{ClientError, Event, Outgoing, Packet, QoS};
use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event as Item;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::stop::StopHandle;

use super::config::MqttConfig;
use super::connection::{mqtt_options, show, Connection, Signals};
use super::payload::PayloadEncoder;
use super::topic::BoundTemplate;
use crate::connectors::idempotency::IdempotencyKeys;

/// Records without a topic shown on stderr before only counting them.
const SHOWN_FAILURES: u64 = 5;

/// An MQTT sink, shared by the workers of a process.
pub struct MqttSink {
    name: String,
    label: String,
    template: BoundTemplate,
    encoder: PayloadEncoder,
    qos: QoS,
    retain: bool,
    flush_timeout: Duration,
    /// Messages handed to the client.
    published: AtomicU64,
    /// Messages the broker has taken.
    confirmed: Arc<AtomicU64>,
    /// Records that could not be published (no topic).
    failed: AtomicU64,
    /// The run's stop requests; `None` outside a run (tests of the sink alone).
    stop: Option<Arc<StopHandle>>,
    /// When a write first saw the stop while the broker took nothing.
    stop_seen: Mutex<Option<Instant>>,
    /// Set once `flush_timeout` after a stop ran out: later records are handed back.
    gave_up: AtomicBool,
    /// Records given up on, by the worker thread that wrote them.
    undelivered: Mutex<HashMap<ThreadId, Vec<BadRecord>>>,
    /// `id_field`: the JSON field that carries each message's idempotency key.
    id_field: Option<String>,
    keys: IdempotencyKeys,
    connection: Connection,
}

/// What became of one record.
enum Outcome {
    Published,
    /// Not published: the broker took nothing until `flush_timeout` after a stop.
    GivenUp(String, Vec<u8>),
}

impl MqttSink {
    /// Connects (in the background) for sink `sink` taking records of `schema`; after a
    /// stop is requested on `stop`, waiting for the broker is bounded by `flush_timeout`.
    pub fn open(
        sink: &str,
        config: &MqttConfig,
        schema: &Schema,
        stop: Option<Arc<StopHandle>>,
    ) -> Result<MqttSink, IoError> {
        let template = config
            .template
            .as_ref()
            .ok_or_else(|| IoError::Config("`mqtt`: a sink needs a `topic`".into()))?
            .bind(schema)
            .map_err(|missing| {
                IoError::Config(format!(
                    "`mqtt`: the topic names fields that records written here do not have: {}",
                    missing.join(", ")
                ))
            })?;
        let client_id = config
            .client_id
            .clone()
            .unwrap_or_else(|| format!("weir-{sink}-{}", std::process::id()));
        let options = mqtt_options(config, &client_id)?;
        let qos = if config.qos == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let confirmed = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&confirmed);
        let label = format!("mqtt sink `{sink}`");
        let connection = Connection::start(
            label.clone(),
            options,
            config.tls.clone(),
            Duration::from_millis(config.backoff_max_ms as u64),
            1024,
            crate::connectors::link_health::register("mqtt", "sink", sink),
            move |_, event, _: &Signals| match event {
                Event::Incoming(Packet::PubAck(_)) if qos == QoS::AtLeastOnce => {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                Event::Outgoing(Outgoing::Publish(_)) if qos == QoS::AtMostOnce => {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            },
        )?;
        Ok(MqttSink {
            name: sink.to_string(),
            label,
            template,
            encoder: PayloadEncoder::new(config.format, schema),
            qos,
            retain: config.retain,
            flush_timeout: Duration::from_millis(config.flush_timeout_ms as u64),
            published: AtomicU64::new(0),
            confirmed,
            failed: AtomicU64::new(0),
            stop,
            stop_seen: Mutex::new(None),
            gave_up: AtomicBool::new(false),
            undelivered: Mutex::new(HashMap::new()),
            id_field: config.id_field.clone(),
            keys: IdempotencyKeys::new(sink),
            connection,
        })
    }

    /// Records that were not published because their topic could not be built.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// A failure that retrying cannot heal, as the error that ends the run.
    fn fatal(&self) -> Result<(), IoError> {
        match self.connection.fatal() {
            Some(why) => Err(IoError::Other(format!("{}: {why}", self.label))),
            None => Ok(()),
        }
    }

    /// After a stop: when this sink started waiting on a broker that takes nothing.
    fn stopped_waiting_since(&self) -> Option<Instant> {
        let stop = self.stop.as_ref()?;
        if !stop.is_requested() {
            return None;
        }
        Some(*self.stop_seen.lock().get_or_insert_with(Instant::now))
    }

    fn publish(&self, topic: String, payload: Vec<u8>) -> Result<Outcome, IoError> {
        let mut request = (topic, payload);
        let mut waiting_since: Option<Instant> = None;
        loop {
            self.fatal()?;
            if self.gave_up.load(Ordering::SeqCst) {
                return Ok(Outcome::GivenUp(request.0, request.1));
            }
            match self
                .connection
                .client
                .try_publish(request.0, self.qos, self.retain, request.1)
            {
                Ok(()) => {
                    self.published.fetch_add(1, Ordering::SeqCst);
                    return Ok(Outcome::Published);
                }
                Err(ClientError::TryRequest(rumqttc::Request::Publish(p))) => {
                    request = (p.topic, p.payload.to_vec());
                    if let Some(since) = self.stopped_waiting_since() {
                        if since.elapsed() >= self.flush_timeout {
                            self.give_up();
                            continue;
                        }
                    }
                    // The client's queue is full: the broker is slow or away. Wait (the
                    // pipeline slows down with it), and say so now and then.
                    let since = *waiting_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.flush_timeout {
                        eprintln!(
                            "weir: {}: the broker has taken no message for {}; still waiting",
                            self.label,
                            show(since.elapsed())
                        );
                        waiting_since = Some(Instant::now());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => {
                    return Err(IoError::Other(format!(
                        "{}: cannot publish: {e}",
                        self.label
                    )))
                }
            }
        }
    }

    fn give_up(&self) {
        if !self.gave_up.swap(true, Ordering::SeqCst) {
            eprintln!(
                "weir: {}: the broker took nothing for {} (flush_timeout) after the stop; \
                 the records left are not published (counted as undelivered)",
                self.label,
                show(self.flush_timeout)
            );
        }
    }

    /// Messages handed to the client that the broker has not taken yet.
    fn unconfirmed(&self) -> u64 {
        let published = self.published.load(Ordering::SeqCst);
        published.saturating_sub(self.confirmed.load(Ordering::SeqCst))
    }
}

impl MqttSink {
    /// With `id_field`, adds the message's idempotency key (of its topic and payload) to
    /// the JSON object as the last field.
    fn with_id(&self, topic: &str, mut payload: Vec<u8>) -> Vec<u8> {
        let Some(field) = &self.id_field else {
            return payload;
        };
        while payload.last().is_some_and(u8::is_ascii_whitespace) {
            payload.pop();
        }
        if payload.last() != Some(&b'}') {
            return payload;
        }
        let mut message = topic.as_bytes().to_vec();
        message.push(0);
        message.extend_from_slice(&payload);
        let key = self.keys.key(&message);
        payload.pop();
        if payload.iter().rev().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            payload.push(b',');
        }
        // A field name is a JSON string like any other.
        let name = serde_json::Value::String(field.clone()).to_string();
        payload.extend_from_slice(format!("{name}:\"{key}\"}}").as_bytes());
        payload
    }
}

impl SinkWriter for MqttSink {
    fn write(&self, events: &[Item]) -> Result<(), IoError> {
        for event in events {
            match self.template.render(&event.record) {
                Ok(topic) => {
                    let payload = self.with_id(&topic, self.encoder.encode(&event.record));
                    if let Outcome::GivenUp(topic, payload) = self.publish(topic, payload)? {
                        self.undelivered
                            .lock()
                            .entry(std::thread::current().id())
                            .or_default()
                            .push(BadRecord {
                                source: self.name.clone(),
                                location: format!("topic {topic}"),
                                field: None,
                                reason: format!(
                                    "the broker took nothing within {} (flush_timeout) after the stop",
                                    show(self.flush_timeout)
                                ),
                                raw: String::from_utf8_lossy(&payload).into_owned(),
                            });
                    }
                }
                Err(reason) => {
                    let n = self.failed.fetch_add(1, Ordering::SeqCst);
                    if n < SHOWN_FAILURES {
                        eprintln!("warning: {}: record not published: {reason}", self.label);
                    } else if n == SHOWN_FAILURES {
                        eprintln!(
                            "warning: {}: more records without a topic; only counting them now",
                            self.label
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.undelivered
            .lock()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }

    fn backlog(&self) -> u64 {
        self.unconfirmed()
    }

    /// At least once: the broker has taken every message of the checkpoint's epochs
    /// (what a crash after it sends again carries the same `id_field` key, as the key
    /// counting restarts at the cut, as the replay's does).
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        self.flush()?;
        self.keys.checkpoint();
        Ok(None)
    }

    fn restore(&self, _state: Option<&[u8]>) -> Result<(), IoError> {
        self.keys.checkpoint();
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        let mut deadline = Instant::now() + self.flush_timeout;
        if let Some(since) = self.stopped_waiting_since() {
            // After a stop the wait is bounded from the stop on, not from each flush.
            deadline = deadline.min(since + self.flush_timeout);
        }
        loop {
            self.fatal()?;
            let unconfirmed = self.unconfirmed();
            if unconfirmed == 0 {
                break;
            }
            if Instant::now() >= deadline {
                return Err(IoError::Other(format!(
                    "{}: the broker did not take {unconfirmed} of {} messages within {} (flush_timeout); they are not delivered",
                    self.label,
                    self.published.load(Ordering::SeqCst),
                    show(self.flush_timeout)
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let failed = self.failed();
        if failed > 0 {
            eprintln!(
                "warning: {}: {failed} record{} not published (no topic could be built)",
                self.label,
                if failed == 1 { " was" } else { "s were" }
            );
        }
        Ok(())
    }
}
