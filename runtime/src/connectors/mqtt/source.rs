//! Subscribing to MQTT topics as an unbounded source: messages arrive on the connection
//! thread and wait in a bounded channel (so a slow pipeline slows the broker's delivery,
//! it does not grow memory) until the source operator polls them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, SendTimeoutError, TryRecvError};
use rumqttc::{Event, Packet, QoS, SubscribeFilter};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::schema::Schema;
use weir_engine::value::Record;

use super::config::MqttConfig;
use super::connection::{mqtt_options, Connection};
use super::payload::PayloadDecoder;
use super::topic::TopicFilter;

/// Messages buffered between the connection thread and the source operator.
const CHANNEL_CAPACITY: usize = 4096;
/// Raw payloads kept in a bad-record report, at most.
const RAW_LIMIT: usize = 4096;

/// One received message.
struct Message {
    topic: String,
    payload: Vec<u8>,
}

/// An MQTT source: worker 0 holds the subscription, other workers read nothing (one
/// subscription per process keeps each message read once).
pub struct MqttSource {
    source: String,
    live: Option<Live>,
}

struct Live {
    messages: Receiver<Message>,
    decoder: PayloadDecoder,
    filters: Vec<TopicFilter>,
    pending: VecDeque<Record>,
    // Dropped last: disconnects and stops the connection thread.
    _connection: Connection,
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
        let (tx, rx) = crossbeam_channel::bounded::<Message>(CHANNEL_CAPACITY);
        let mut subscribed = false;
        let label = format!("mqtt source `{source}`");
        let connection = Connection::start(
            label.clone(),
            options,
            Duration::from_millis(config.backoff_max_ms as u64),
            64,
            move |client, event, stop: &AtomicBool| match event {
                // A new session has no subscriptions; a resumed one keeps them, but
                // subscribe once per run anyway in case the filters changed.
                Event::Incoming(Packet::ConnAck(ack)) if !subscribed || !ack.session_present => {
                    if let Err(e) = client.try_subscribe_many(subscriptions.clone()) {
                        eprintln!("weir: {label}: cannot subscribe: {e}");
                    }
                    subscribed = true;
                }
                Event::Incoming(Packet::SubAck(ack)) => {
                    let refused = ack
                        .return_codes
                        .iter()
                        .filter(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                        .count();
                    if refused > 0 {
                        eprintln!(
                            "weir: {label}: the broker refused {refused} of the topic subscriptions"
                        );
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let mut message = Message {
                        topic: p.topic,
                        payload: p.payload.to_vec(),
                    };
                    // Block while the pipeline is behind, but give up on a stop.
                    while !stop.load(Ordering::Relaxed) {
                        match tx.send_timeout(message, Duration::from_millis(100)) {
                            Ok(()) => break,
                            Err(SendTimeoutError::Timeout(m)) => message = m,
                            Err(SendTimeoutError::Disconnected(_)) => break,
                        }
                    }
                }
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
                _connection: connection,
            }),
        })
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
        let mut taken = 0;
        loop {
            while taken < max {
                let Some(record) = live.pending.pop_front() else {
                    break;
                };
                out.push(record);
                taken += 1;
            }
            if taken >= max {
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
            let captured = live
                .filters
                .iter()
                .find_map(|f| f.matches(&message.topic))
                .unwrap_or_default();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            for result in live.decoder.decode(&captured, &message.payload, now) {
                match result {
                    Ok(record) => live.pending.push_back(record),
                    Err(e) => {
                        let mut raw = String::from_utf8_lossy(&message.payload).into_owned();
                        if raw.len() > RAW_LIMIT {
                            let mut cut = RAW_LIMIT;
                            while !raw.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            raw.truncate(cut);
                            raw.push('…');
                        }
                        bad.push(BadRecord {
                            source: self.source.clone(),
                            location: format!("topic {}", message.topic),
                            field: e.field,
                            reason: e.reason,
                            raw,
                        });
                    }
                }
            }
        }
    }
}
