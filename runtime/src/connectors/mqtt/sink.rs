//! Publishing records to MQTT: one message per record, on a topic built from the record.
//!
//! A flush waits until the broker has taken every message (PUBACK for QoS 1, written to
//! the socket for QoS 0), so a bounded run ends only once its output is delivered.
//! Records whose topic cannot be built are not published; they are counted and shown on
//! stderr, and the run goes on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{ClientError, Event, Outgoing, Packet, QoS};
use weir_engine::event::Event as Item;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::MqttConfig;
use super::connection::{mqtt_options, show, Connection};
use super::payload::PayloadEncoder;
use super::topic::BoundTemplate;

/// Records without a topic shown on stderr before only counting them.
const SHOWN_FAILURES: u64 = 5;

/// An MQTT sink, shared by the workers of a process.
pub struct MqttSink {
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
    connection: Connection,
}

impl MqttSink {
    /// Connects (in the background) for sink `sink` taking records of `schema`.
    pub fn open(sink: &str, config: &MqttConfig, schema: &Schema) -> Result<MqttSink, IoError> {
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
            Duration::from_millis(config.backoff_max_ms as u64),
            1024,
            move |_, event, _: &AtomicBool| match event {
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
            label,
            template,
            encoder: PayloadEncoder::new(config.format, schema),
            qos,
            retain: config.retain,
            flush_timeout: Duration::from_millis(config.flush_timeout_ms as u64),
            published: AtomicU64::new(0),
            confirmed,
            failed: AtomicU64::new(0),
            connection,
        })
    }

    /// Records that were not published because their topic could not be built.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    fn publish(&self, topic: String, payload: Vec<u8>) -> Result<(), IoError> {
        let mut request = (topic, payload);
        let mut waiting_since: Option<Instant> = None;
        loop {
            match self
                .connection
                .client
                .try_publish(request.0, self.qos, self.retain, request.1)
            {
                Ok(()) => {
                    self.published.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                Err(ClientError::TryRequest(rumqttc::Request::Publish(p))) => {
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
                    request = (p.topic, p.payload.to_vec());
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
}

impl SinkWriter for MqttSink {
    fn write(&self, events: &[Item]) -> Result<(), IoError> {
        for event in events {
            match self.template.render(&event.record) {
                Ok(topic) => self.publish(topic, self.encoder.encode(&event.record))?,
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

    fn flush(&self) -> Result<(), IoError> {
        let deadline = Instant::now() + self.flush_timeout;
        loop {
            let published = self.published.load(Ordering::SeqCst);
            let confirmed = self.confirmed.load(Ordering::SeqCst);
            if confirmed >= published {
                break;
            }
            if Instant::now() >= deadline {
                return Err(IoError::Other(format!(
                    "{}: the broker did not take {} of {published} messages within {} (flush_timeout)",
                    self.label,
                    published - confirmed,
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
