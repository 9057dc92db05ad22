//! Subscribing to MQTT topics as an unbounded source: messages arrive on the connection
//! thread and wait in a bounded channel (so a slow pipeline slows the broker's delivery,
//! it does not grow memory) until the source operator polls them.
//!
//! QoS 1 messages are acknowledged by hand, only once their records are in the dataflow
//! ([`SourceReader::commit`]): a stop leaves what was received but not read
//! unacknowledged, so a persistent session gets it again, and the summary counts it.
//! While the pipeline pushes back, acks lag behind (the connection thread waits to hand
//! messages over, so the small request channel fills); a stop therefore waits until
//! every ack of a processed message is queued, ahead of the DISCONNECT.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, SendTimeoutError, TryRecvError};
use rumqttc::{Client, Event, Packet, Publish, QoS, SubscribeFilter};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::config::MqttConfig;
use super::connection::{mqtt_options, Connection, Signals};
use super::failure::refused_subscription;
use super::payload::PayloadDecoder;
use super::topic::TopicFilter;
use crate::connectors::raw_excerpt::raw_excerpt;

/// Messages buffered between the connection thread and the source operator.
const CHANNEL_CAPACITY: usize = 4096;
/// How long a stop waits for the acks of processed messages to be queued.
const ACK_FLUSH_WAIT: Duration = Duration::from_secs(5);

/// What waits to be handed out: a decoded record, or the acknowledgement a message is
/// owed once every record before it has gone.
enum Pending {
    Record(Record),
    Ack(Box<Publish>),
}

/// An MQTT source: worker 0 holds the subscription, other workers read nothing (one
/// subscription per process keeps each message read once).
pub struct MqttSource {
    source: String,
    live: Option<Live>,
}

struct Live {
    messages: Receiver<Publish>,
    decoder: PayloadDecoder,
    filters: Vec<TopicFilter>,
    pending: VecDeque<Pending>,
    /// Messages whose records have all been handed out, to acknowledge at `commit`.
    handed: Vec<Publish>,
    /// Set at a stop: the connection thread drops new messages (unacknowledged) instead
    /// of waiting to hand them over, and counts them in `dropped`.
    closed: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    clean_session: bool,
    // Dropped last: disconnects and stops the connection thread.
    connection: Connection,
}

impl MqttSource {
    /// Connects (in the background) and subscribes for `worker`'s share of source
    /// `source` with `schema`. Fails only on configuration the broker is never asked
    /// about (TLS files, password variable); an unreachable broker is retried.
    pub fn open(
        source: &str,
        config: &MqttConfig,
        schema: &Schema,
        worker: WorkerInfo,
    ) -> Result<MqttSource, IoError> {
        if worker.index != 0 {
            return Ok(MqttSource {
                source: source.to_string(),
                live: None,
            });
        }
        let captured = config.captured_fields();
        let decoder = PayloadDecoder::new(config.format, schema, &captured)
            .map_err(|e| IoError::Config(format!("`mqtt`: {e}")))?;
        let client_id = config
            .client_id
            .clone()
            .unwrap_or_else(|| format!("weir-{source}-{}", std::process::id()));
        let options = mqtt_options(config, &client_id)?;
        let qos = if config.qos == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let subscriptions: Vec<SubscribeFilter> = config
            .filters
            .iter()
            .map(|f| SubscribeFilter::new(f.mqtt.clone(), qos))
            .collect();
        let mut options = options;
        // Acknowledge by hand, once the records are in the pipeline (QoS 0 has no acks).
        options.set_manual_acks(qos == QoS::AtLeastOnce);
        let (tx, rx) = crossbeam_channel::bounded::<Publish>(CHANNEL_CAPACITY);
        let closed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let hand_over = Handover {
            tx,
            closed: Arc::clone(&closed),
            dropped: Arc::clone(&dropped),
        };
        let mut subscribed = false;
        let label = format!("mqtt source `{source}`");
        let filters: Vec<String> = config.filters.iter().map(|f| f.mqtt.clone()).collect();
        let connection = Connection::start(
            label.clone(),
            options,
            config.tls.clone(),
            Duration::from_millis(config.backoff_max_ms as u64),
            64,
            crate::connectors::link_health::register("mqtt", "source", source),
            move |client, event, signals: &Signals| match event {
                // A new session has no subscriptions; a resumed one keeps them, but
                // subscribe once per run anyway in case the filters changed.
                Event::Incoming(Packet::ConnAck(ack)) if !subscribed || !ack.session_present => {
                    subscribe(client, &subscriptions, &label);
                    subscribed = true;
                }
                Event::Incoming(Packet::SubAck(ack)) => {
                    let refused: Vec<String> = ack
                        .return_codes
                        .iter()
                        .zip(&filters)
                        .filter(|(c, _)| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                        .map(|(_, f)| f.clone())
                        .collect();
                    if !refused.is_empty() {
                        // An ACL does not change by retrying: end the run.
                        signals.give_up(refused_subscription(&refused));
                    }
                }
                Event::Incoming(Packet::Publish(p)) => hand_over.give(p, &signals.stop),
                _ => {}
            },
        )?;
        Ok(MqttSource {
            source: source.to_string(),
            live: Some(Live {
                messages: rx,
                decoder,
                filters: config.filters.clone(),
                pending: VecDeque::new(),
                handed: Vec::new(),
                closed,
                dropped,
                clean_session: config.clean_session,
                connection,
            }),
        })
    }
}

fn subscribe(client: &Client, subscriptions: &[SubscribeFilter], label: &str) {
    if let Err(e) = client.try_subscribe_many(subscriptions.to_vec()) {
        eprintln!("weir: {label}: cannot subscribe: {e}");
    }
}

/// The connection thread's end of the channel to the source.
struct Handover {
    tx: crossbeam_channel::Sender<Publish>,
    closed: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl Handover {
    /// Blocks while the pipeline is behind; after a stop, drops the message unacknowledged.
    fn give(&self, mut message: Publish, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) && !self.closed.load(Ordering::Relaxed) {
            match self.tx.send_timeout(message, Duration::from_millis(100)) {
                Ok(()) => return,
                Err(SendTimeoutError::Timeout(m)) => message = m,
                Err(SendTimeoutError::Disconnected(_)) => break,
            }
        }
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Live {
    /// Queues the acks of the messages handed out, in order. Without a deadline, an ack
    /// that finds the request channel full waits for the next commit (the broker holds
    /// the message meanwhile); with one, it waits for room until then.
    fn acknowledge(&mut self, deadline: Option<Instant>) {
        let mut sent = 0;
        for message in &self.handed {
            let queued = match deadline {
                _ if message.qos != QoS::AtLeastOnce => true,
                None => self.connection.client.try_ack(message).is_ok(),
                Some(deadline) => self
                    .connection
                    .queue(deadline, |client| client.try_ack(message)),
            };
            if !queued {
                break;
            }
            sent += 1;
        }
        self.handed.drain(..sent);
    }

    /// Moves the acks at the front of `pending` to `handed`: those messages' records
    /// have all gone out. A poll that stops at its `max` right after a message's last
    /// record would otherwise leave that ack behind for the next poll, and a stop in
    /// between would leave a processed message unacknowledged.
    fn take_owed_acks(&mut self) {
        while let Some(Pending::Ack(_)) = self.pending.front() {
            if let Some(Pending::Ack(message)) = self.pending.pop_front() {
                self.handed.push(*message);
            }
        }
    }

    /// Decodes `message` into `pending` (its rejects into `bad`), then its ack.
    fn decode(&mut self, source: &str, message: Publish, bad: &mut Vec<BadRecord>) {
        let captured = self
            .filters
            .iter()
            .find_map(|f| f.matches(&message.topic))
            .unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        for result in self.decoder.decode(&captured, &message.payload, now) {
            match result {
                Ok(record) => self.pending.push_back(Pending::Record(record)),
                Err(e) => bad.push(BadRecord {
                    source: source.to_string(),
                    location: format!("topic {}", message.topic),
                    field: e.field,
                    reason: e.reason,
                    raw: raw_excerpt(&message.payload),
                }),
            }
        }
        self.pending.push_back(Pending::Ack(Box::new(message)));
    }
}

impl SourceReader for MqttSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        let Some(live) = self.live.as_mut() else {
            return Ok(SourceStatus::Finished);
        };
        if let Some(why) = live.connection.fatal() {
            return Err(IoError::Other(format!(
                "mqtt source `{}`: {why}",
                self.source
            )));
        }
        // Rejects count toward `max` as records read, as a file's bad lines do.
        let rejected_before = bad.len();
        let mut taken = 0;
        loop {
            while taken + (bad.len() - rejected_before) < max {
                match live.pending.pop_front() {
                    Some(Pending::Record(record)) => {
                        out.push(record);
                        taken += 1;
                    }
                    Some(Pending::Ack(message)) => live.handed.push(*message),
                    None => break,
                }
            }
            if taken + (bad.len() - rejected_before) >= max {
                live.take_owed_acks();
                return Ok(SourceStatus::Ready);
            }
            let message = match live.messages.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) if taken == 0 => return Ok(SourceStatus::Idle),
                Err(TryRecvError::Empty) => return Ok(SourceStatus::Ready),
                Err(TryRecvError::Disconnected) => {
                    return Err(IoError::Other(format!(
                        "mqtt source `{}`: the connection thread stopped",
                        self.source
                    )))
                }
            };
            live.decode(&self.source, message, bad);
        }
    }

    fn commit(&mut self) {
        if let Some(live) = self.live.as_mut() {
            live.acknowledge(None);
        }
    }

    fn stop(&mut self) -> u64 {
        let Some(mut live) = self.live.take() else {
            return 0;
        };
        live.closed.store(true, Ordering::SeqCst);
        // Every message whose records went into the dataflow is acknowledged before the
        // DISCONNECT, waiting for room in the small request channel: an ack left behind
        // would make the broker send a processed message again in the next session.
        live.acknowledge(Some(Instant::now() + ACK_FLUSH_WAIT));
        let unacknowledged = live.handed.len();
        if unacknowledged > 0 {
            eprintln!(
                "weir: mqtt source `{}`: {unacknowledged} processed message{} could not be \
                 acknowledged before the stop (the connection did not take the acks in \
                 time); the broker may send {} again",
                self.source,
                if unacknowledged == 1 { "" } else { "s" },
                if unacknowledged == 1 { "it" } else { "them" },
            );
        }
        let mut left = live
            .pending
            .iter()
            .filter(|p| matches!(p, Pending::Ack(_)))
            .count();
        let messages = live.messages.clone();
        let dropped = Arc::clone(&live.dropped);
        let clean_session = live.clean_session;
        // Disconnects after sending the queued acks; the thread is joined.
        drop(live);
        left += messages.try_iter().count();
        let left = left as u64 + dropped.load(Ordering::SeqCst);
        if left > 0 {
            let fate = if clean_session {
                "the broker drops them with the session (a fixed `client_id` and \
                 `clean_session: false` keep them for the next run)"
            } else {
                "the broker keeps them for the next run (persistent session)"
            };
            eprintln!(
                "weir: mqtt source `{}`: {left} message{} received but not read when the \
                 source stopped {} not acknowledged; {fate}",
                self.source,
                if left == 1 { "" } else { "s" },
                if left == 1 { "was" } else { "were" },
            );
        }
        left + unacknowledged as u64
    }
}
