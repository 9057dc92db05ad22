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
//!
//! Under checkpoints the acknowledgement point moves: [`SourceReader::position`] marks
//! the messages handed out before a checkpoint's cut, and only
//! [`SourceReader::checkpoint_complete`] of that checkpoint acknowledges them. A crash
//! before then leaves them unacknowledged in the persistent session, so the broker sends
//! them again to the resumed run, which replays from that checkpoint: each message
//! counts once in the output. While checkpointing, a poll never ends inside a message's
//! records (a SenML pack), so no cut splits one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, SendTimeoutError, TryRecvError, TrySendError};
use rumqttc::{Client, Event, Outgoing, Packet, Publish, QoS, SubscribeFilter};
use weir_engine::checkpoint::{Epoch, SourcePosition};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::OverloadPolicy;
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

/// What a message taken from the broker is to the source.
enum Arrival {
    /// Not seen before: decode it.
    New,
    /// A copy of a message held unacknowledged: its ack to come covers it.
    Drop,
    /// A copy of a message whose effects are kept but whose ack may be lost: ack again.
    AckAgain,
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
    /// Messages whose records have all been handed out, to acknowledge at `commit` (or,
    /// under checkpoints, once the next cut's checkpoint completes).
    handed: Vec<Publish>,
    /// Messages whose acks are due but not queued yet (the request channel was full).
    owed: Vec<Publish>,
    /// Under checkpoints: the messages handed out before each cut not yet complete.
    cuts: VecDeque<(Epoch, Vec<Publish>)>,
    /// The packet ids of the QoS 1 messages taken whose ack has not gone out on the
    /// connection yet. A broker that reconnects sends these again (flagged DUP), and it
    /// cannot give their ids to other messages before their ack: such a copy is known.
    unacked: HashSet<u16>,
    /// Of those, the ones whose ack was queued (packet id → [`fingerprint`]): the client
    /// drops the acks it has not sent when the connection breaks, so a copy of one of
    /// these is acknowledged again; a copy of the others is dropped, their ack to come
    /// acknowledges it.
    queued: HashMap<u16, u32>,
    /// Packet ids whose ack the connection thread has seen go out.
    acks_out: Arc<parking_lot::Mutex<Vec<u16>>>,
    /// Messages whose ack went out (packet id → [`fingerprint`]) until the broker gives
    /// the id to a new message: a broker that stops (or a connection reset) can lose an
    /// ack it was sent and send the message again; a DUP copy with the same id and
    /// fingerprint is acknowledged again and dropped. At most one per packet id.
    sent: HashMap<u16, u32>,
    /// Messages the checkpoint this run resumed from holds (packet id, [`fingerprint`])
    /// that may not have been acknowledged before the crash: the broker sends them again
    /// (DUP), and they are acknowledged and dropped, not processed twice.
    replayed: HashSet<(u16, u32)>,
    /// Checkpoints are on (a cut was taken or the run resumed): `commit` acknowledges
    /// nothing, and a poll ends only between messages.
    checkpointing: bool,
    /// A message's first records went out and its ack is still in `pending`.
    inside_message: bool,
    /// Whether the broker keeps unacknowledged messages for the next run.
    persistent: bool,
    /// The warning that checkpoints cannot get messages back was printed.
    warned: bool,
    /// Set at a stop: the connection thread drops new messages (unacknowledged) instead
    /// of waiting to hand them over, and counts them in `dropped`.
    closed: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    clean_session: bool,
    /// `on overload drop`: the connection thread drops (and acknowledges) what the full
    /// channel cannot take, counting it in `overloaded`.
    drop_on_overload: Arc<AtomicBool>,
    overloaded: Arc<AtomicU64>,
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
        let drop_on_overload = Arc::new(AtomicBool::new(false));
        let overloaded = Arc::new(AtomicU64::new(0));
        let health = crate::connectors::link_health::register("mqtt", "source", source);
        let hand_over = Handover {
            tx,
            closed: Arc::clone(&closed),
            dropped: Arc::clone(&dropped),
            drop_on_overload: Arc::clone(&drop_on_overload),
            overloaded: Arc::clone(&overloaded),
            health: Arc::clone(&health),
        };
        let mut subscribed = false;
        let acks_out = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let thread_acks_out = Arc::clone(&acks_out);
        let label = format!("mqtt source `{source}`");
        let filters: Vec<String> = config.filters.iter().map(|f| f.mqtt.clone()).collect();
        let connection = Connection::start(
            label.clone(),
            options,
            config.tls.clone(),
            Duration::from_millis(config.backoff_max_ms as u64),
            64,
            health,
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
                Event::Incoming(Packet::Publish(p)) => hand_over.give(client, p, &signals.stop),
                Event::Outgoing(Outgoing::PubAck(pkid)) => thread_acks_out.lock().push(pkid),
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
                owed: Vec::new(),
                unacked: HashSet::new(),
                queued: HashMap::new(),
                acks_out,
                sent: HashMap::new(),
                replayed: HashSet::new(),
                cuts: VecDeque::new(),
                checkpointing: false,
                inside_message: false,
                persistent: qos == QoS::AtLeastOnce && !config.clean_session,
                warned: false,
                closed,
                dropped,
                clean_session: config.clean_session,
                drop_on_overload,
                overloaded,
                connection,
            }),
        })
    }
}

impl MqttSource {
    /// Sets what happens when the pipeline cannot keep up: by default the connection
    /// thread waits (the broker keeps the messages; TCP pushes back); with
    /// [`OverloadPolicy::Drop`] it drops what the full channel cannot take.
    pub fn set_overload(&mut self, policy: OverloadPolicy) {
        if let Some(live) = &self.live {
            live.drop_on_overload
                .store(policy == OverloadPolicy::Drop, Ordering::SeqCst);
        }
    }

    /// Messages dropped on overload so far.
    pub fn overload_dropped(&self) -> u64 {
        self.live
            .as_ref()
            .map_or(0, |l| l.overloaded.load(Ordering::SeqCst))
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
    drop_on_overload: Arc<AtomicBool>,
    overloaded: Arc<AtomicU64>,
    health: Arc<crate::connectors::link_health::LinkHealth>,
}

impl Handover {
    /// Blocks while the pipeline is behind (or, with `on overload drop`, drops the
    /// message, acknowledged so the broker does not send it again); after a stop, drops
    /// the message unacknowledged.
    fn give(&self, client: &Client, mut message: Publish, stop: &AtomicBool) {
        if self.drop_on_overload.load(Ordering::Relaxed) {
            match self.tx.try_send(message) {
                Ok(()) => return,
                Err(TrySendError::Full(m)) => {
                    if m.qos == QoS::AtLeastOnce {
                        let _ = client.try_ack(&m);
                    }
                    self.overloaded.fetch_add(1, Ordering::SeqCst);
                    self.health.dropped_on_overload();
                    return;
                }
                Err(TrySendError::Disconnected(m)) => message = m,
            }
        }
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
    /// Queues the acks that are due, in order. Without a deadline, an ack that finds the
    /// request channel full waits for the next commit (the broker holds the message
    /// meanwhile); with one, it waits for room until then. Without checkpoints every
    /// message handed out is due.
    fn acknowledge(&mut self, deadline: Option<Instant>) {
        if !self.checkpointing {
            self.owed.append(&mut self.handed);
        }
        let mut sent = 0;
        for message in &self.owed {
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
        for message in self.owed.drain(..sent) {
            if message.qos == QoS::AtLeastOnce {
                self.queued.insert(message.pkid, fingerprint(&message));
            }
        }
    }

    /// Whether `message` is a copy of one taken before, sent again by the broker (DUP).
    fn copy_of(&mut self, message: &Publish) -> Arrival {
        let pkid = message.pkid;
        if message.qos != QoS::AtLeastOnce {
            return Arrival::New;
        }
        if !message.dup {
            // The broker gave the id to a new message: it had the old one's ack.
            self.sent.remove(&pkid);
            self.unacked.insert(pkid);
            return Arrival::New;
        }
        if !self.unacked.insert(pkid) {
            // Held: its ack is to come, unless the client dropped it queued.
            return match self.queued.remove(&pkid) {
                Some(_) => Arrival::AckAgain,
                None => Arrival::Drop,
            };
        }
        let sum = fingerprint(message);
        if self.sent.get(&pkid) == Some(&sum) || self.replayed.remove(&(pkid, sum)) {
            self.sent.remove(&pkid);
            return Arrival::AckAgain;
        }
        Arrival::New
    }

    /// Forgets the messages whose ack the connection has sent.
    fn acks_went_out(&mut self) {
        for pkid in std::mem::take(&mut *self.acks_out.lock()) {
            self.unacked.remove(&pkid);
            if let Some(sum) = self.queued.remove(&pkid) {
                self.sent.insert(pkid, sum);
            }
        }
    }

    /// Checkpoints are on from now: say once if the broker will not keep what a
    /// checkpoint has not acknowledged.
    fn start_checkpointing(&mut self, source: &str) {
        self.checkpointing = true;
        if !self.persistent && !self.warned {
            self.warned = true;
            eprintln!(
                "weir: mqtt source `{source}`: checkpoints cannot get back the messages \
                 received after the last checkpoint when the run stops or crashes: they \
                 need `qos: 1`, a fixed `client_id` and `clean_session: false`"
            );
        }
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

    /// Decodes `message` into `pending` (its rejects into `bad`), then its ack; drops a
    /// copy the broker sent again of a message taken and not acknowledged yet.
    fn decode(&mut self, source: &str, message: Publish, bad: &mut Vec<BadRecord>) {
        match self.copy_of(&message) {
            Arrival::New => {}
            Arrival::Drop => return,
            Arrival::AckAgain => return self.owed.push(message),
        }
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

/// A checksum of a message's topic and payload: with its packet id, how a resumed run
/// knows a message the broker sends again.
fn fingerprint(message: &Publish) -> u32 {
    let mut sum = crc32fast::Hasher::new();
    sum.update(message.topic.as_bytes());
    sum.update(&message.payload);
    sum.finalize()
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
        // Acks a full request channel held back go out as soon as there is room, not
        // at the next commit: under checkpoints that would be the next checkpoint, and
        // the broker would send the processed messages again after a crash.
        if !live.owed.is_empty() {
            live.acknowledge(None);
        }
        live.acks_went_out();
        // Rejects count toward `max` as records read, as a file's bad lines do.
        let rejected_before = bad.len();
        let mut taken = 0;
        loop {
            // Under checkpoints the rest of a message started goes out past `max`.
            while taken + (bad.len() - rejected_before) < max
                || (live.checkpointing && live.inside_message)
            {
                match live.pending.pop_front() {
                    Some(Pending::Record(record)) => {
                        out.push(record);
                        taken += 1;
                        live.inside_message = true;
                    }
                    Some(Pending::Ack(message)) => {
                        live.handed.push(*message);
                        live.inside_message = false;
                    }
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
            if !live.checkpointing {
                live.acknowledge(None);
            }
        }
    }

    /// Marks the messages handed out so far as belonging to checkpoint `epoch`; they are
    /// acknowledged when it completes. The broker's session is the position, so there is
    /// nothing to store.
    ///
    /// The position lists the messages before the cut whose acks may not have reached the
    /// broker: a crash after the checkpoint completes and before they do would have the
    /// broker send them again, and the resumed run must not process them twice. An ack
    /// that went out can be lost too (a broker restart), so those are listed until the
    /// broker gives their packet id to another message: at most 65 535, 6 bytes each.
    fn position(&mut self, epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let Some(live) = self.live.as_mut() else {
            return Ok(Some(Vec::new()));
        };
        live.start_checkpointing(&self.source);
        let before_cut = std::mem::take(&mut live.handed);
        live.cuts.push_back((epoch, before_cut));
        let waiting = live.cuts.iter().flat_map(|(_, m)| m).chain(&live.owed);
        let mut bytes = Vec::new();
        let waiting = waiting
            .filter(|m| m.qos == QoS::AtLeastOnce)
            .map(|m| (m.pkid, fingerprint(m)));
        let acked = live.queued.iter().chain(&live.sent).map(|(p, s)| (*p, *s));
        for (pkid, sum) in waiting.chain(acked) {
            bytes.extend_from_slice(&pkid.to_le_bytes());
            bytes.extend_from_slice(&sum.to_le_bytes());
        }
        Ok(Some(bytes))
    }

    /// The broker sends the messages not acknowledged to the persistent session again;
    /// those the checkpoint already holds are known by their packet id and fingerprint.
    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        if let Some(live) = self.live.as_mut() {
            live.start_checkpointing(&self.source);
            for position in positions {
                for entry in position.bytes.chunks_exact(6) {
                    let pkid = u16::from_le_bytes([entry[0], entry[1]]);
                    let sum = u32::from_le_bytes([entry[2], entry[3], entry[4], entry[5]]);
                    live.replayed.insert((pkid, sum));
                }
            }
        }
        Ok(())
    }

    fn checkpoint_complete(&mut self, epoch: Epoch) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        while live.cuts.front().is_some_and(|(e, _)| *e <= epoch) {
            if let Some((_, messages)) = live.cuts.pop_front() {
                live.owed.extend(messages);
            }
        }
        live.acknowledge(None);
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
        let unacknowledged = live.owed.len();
        // Under checkpoints, what no complete checkpoint holds stays with the broker:
        // the run resumes from the last checkpoint and gets it again.
        let after_checkpoint =
            live.handed.len() + live.cuts.iter().map(|(_, m)| m.len()).sum::<usize>();
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
        if after_checkpoint > 0 {
            eprintln!(
                "weir: mqtt source `{}`: {after_checkpoint} processed message{} after the \
                 last complete checkpoint {} left unacknowledged, for the run that resumes \
                 from that checkpoint",
                self.source,
                if after_checkpoint == 1 { "" } else { "s" },
                if after_checkpoint == 1 { "is" } else { "are" },
            );
        }
        let mut left = live
            .pending
            .iter()
            .filter(|p| matches!(p, Pending::Ack(_)))
            .count();
        let overloaded = live.overloaded.load(Ordering::SeqCst);
        if overloaded > 0 {
            eprintln!(
                "weir: mqtt source `{}`: {overloaded} message{} dropped on overload \
                 (`on overload drop`)",
                self.source,
                if overloaded == 1 { " was" } else { "s were" },
            );
        }
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
        left + (unacknowledged + after_checkpoint) as u64
    }
}
