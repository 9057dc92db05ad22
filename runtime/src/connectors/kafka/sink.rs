//! Producing records to Kafka: one message per record, its topic and key built from the
//! record, batched, compressed and retried by librdkafka (idempotent by default).
//!
//! A record the brokers still refuse when `delivery_timeout` runs out is handed back
//! (`take_undelivered`) to the thread that wrote it, so it reaches the writing pipeline's
//! `on error to` route; a flush waits for every message to be acknowledged or refused.
//! A refused login fails the run at the next write or flush.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use weir_engine::event::Event as Item;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::client::{client_config, describe};
use super::config::KafkaConfig;
use super::refusal::Refusals;
use crate::connectors::mqtt::payload::PayloadEncoder;
use crate::connectors::mqtt::topic::BoundTemplate;

/// What a message carries to its delivery report.
struct Delivery {
    thread: ThreadId,
    topic: String,
    raw: String,
}

/// Collects refused records by writing thread, and errors that end the run.
struct Context {
    sink: String,
    refused: Mutex<HashMap<ThreadId, Vec<BadRecord>>>,
    refusals: Refusals,
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.refusals.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.refusals.error(&error, reason);
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = Box<Delivery>;

    fn delivery(&self, result: &DeliveryResult<'_>, delivery: Box<Delivery>) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.refusals.delivery_error(error);
                self.refused
                    .lock()
                    .entry(delivery.thread)
                    .or_default()
                    .push(BadRecord {
                        source: self.sink.clone(),
                        location: format!("topic {}", delivery.topic),
                        field: None,
                        reason: format!("the brokers did not take the record: {}", describe(error)),
                        raw: delivery.raw,
                    });
            }
        }
    }
}

/// A Kafka sink, shared by the workers of a process.
pub struct KafkaSink {
    label: String,
    topic: BoundTemplate,
    key: Option<BoundTemplate>,
    encoder: PayloadEncoder,
    flush_timeout: Duration,
    sent: AtomicU64,
    producer: ThreadedProducer<Context>,
}

impl KafkaSink {
    /// A producer for sink `sink` taking records of `schema`.
    pub fn open(sink: &str, config: &KafkaConfig, schema: &Schema) -> Result<KafkaSink, IoError> {
        let label = format!("kafka sink `{sink}`");
        let settings = config
            .sink()
            .ok_or_else(|| IoError::Config(format!("{label}: not a sink configuration")))?;
        let bind = |t: &crate::connectors::mqtt::topic::TopicTemplate| {
            t.bind(schema).map_err(|missing| {
                IoError::Config(format!(
                    "{label}: `{}` names fields records written here do not have: {}",
                    t.text,
                    missing.join(", ")
                ))
            })
        };
        let topic = bind(&settings.topic)?;
        let key = settings.key.as_ref().map(bind).transpose()?;
        let mut client = client_config(config, &label)?;
        client
            .set("acks", settings.acks)
            .set(
                "enable.idempotence",
                if settings.idempotent { "true" } else { "false" },
            )
            .set("compression.type", settings.compression)
            .set("linger.ms", settings.linger_ms.to_string())
            .set("batch.num.messages", settings.batch.to_string())
            .set(
                "message.timeout.ms",
                settings.delivery_timeout_ms.to_string(),
            );
        let context = Context {
            sink: sink.to_string(),
            refused: Mutex::default(),
            refusals: Refusals::default(),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        let producer: ThreadedProducer<Context> = client
            .create_with_context(context)
            .map_err(|e| IoError::Config(format!("{label}: {e}")))?;
        Ok(KafkaSink {
            label,
            topic,
            key,
            encoder: PayloadEncoder::new(config.format, schema),
            // Every message has been acknowledged or refused by then.
            flush_timeout: Duration::from_millis(settings.delivery_timeout_ms as u64 + 5_000),
            sent: AtomicU64::new(0),
            producer,
        })
    }

    fn check_fatal(&self) -> Result<(), IoError> {
        match self.producer.context().refusals.fatal() {
            Some(why) => Err(IoError::Other(format!("{}: {why}", self.label))),
            None => Ok(()),
        }
    }

    /// Queues one message, waiting while librdkafka's queue is full.
    fn send(&self, topic: &str, key: Option<&str>, payload: &[u8]) -> Result<(), IoError> {
        let delivery = Box::new(Delivery {
            thread: std::thread::current().id(),
            topic: topic.to_string(),
            raw: String::from_utf8_lossy(payload).into_owned(),
        });
        let mut record = BaseRecord::with_opaque_to(topic, delivery).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => {
                    self.sent.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    self.check_fatal()?;
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => {
                    return Err(IoError::Other(format!("{}: {}", self.label, describe(&e))))
                }
            }
        }
    }
}

impl SinkWriter for KafkaSink {
    fn write(&self, events: &[Item]) -> Result<(), IoError> {
        self.check_fatal()?;
        for event in events {
            let record = &event.record;
            let topic = match self.topic.render(record) {
                Ok(t) => t,
                Err(why) => {
                    self.refuse(record, &why);
                    continue;
                }
            };
            let key = match self.key.as_ref().map(|k| k.render_text(record)).transpose() {
                Ok(k) => k,
                Err(why) => {
                    self.refuse(record, &why);
                    continue;
                }
            };
            let payload = self.encoder.encode(record);
            self.send(&topic, key.as_deref(), &payload)?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        let deadline = Instant::now() + self.flush_timeout;
        while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
            self.check_fatal()?;
            let _ = self.producer.flush(Duration::from_millis(200));
        }
        // Refusals no worker asked for go to the flushing thread (the end of a run
        // counts and reports them).
        let mut refused = self.producer.context().refused.lock();
        let all: Vec<BadRecord> = refused.drain().flat_map(|(_, v)| v).collect();
        refused.insert(std::thread::current().id(), all);
        drop(refused);
        self.check_fatal()?;
        let left = self.producer.in_flight_count();
        if left > 0 {
            return Err(IoError::Other(format!(
                "{}: {left} message{} not acknowledged by the brokers",
                self.label,
                if left == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.producer
            .context()
            .refused
            .lock()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }

    fn backlog(&self) -> u64 {
        self.producer.in_flight_count().max(0) as u64
    }
}

impl KafkaSink {
    /// A record that cannot become a message (a null key or topic field) goes back to the
    /// writing thread as undelivered.
    fn refuse(&self, record: &weir_engine::value::Record, why: &str) {
        let raw = String::from_utf8_lossy(&self.encoder.encode(record)).into_owned();
        self.producer
            .context()
            .refused
            .lock()
            .entry(std::thread::current().id())
            .or_default()
            .push(BadRecord {
                source: self.producer.context().sink.clone(),
                location: String::new(),
                field: None,
                reason: why.to_string(),
                raw,
            });
    }
}
