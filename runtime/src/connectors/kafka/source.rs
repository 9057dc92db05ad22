//! Reading Kafka topics: the partitions of every topic read are spread over all workers
//! of the run (partition `i` of the sorted list goes to worker `i mod workers`, so each
//! is read by exactly one worker in any process), assigned directly rather than through
//! group rebalancing, which could move a partition between workers mid-run.
//!
//! Offsets are committed to the group only at [`SourceReader::commit`], for records the
//! dataflow holds; each partition keeps its own watermark (largest event time minus the
//! `bounded` delay), the reader's is their minimum, and a partition silent for the
//! source's `idle` time (or read to its end with `until: end`) stops holding it back.
//!
//! With checkpoints, a position is each partition's next offset to hand out; restoring
//! assigns the partitions at those offsets, and the group's offsets are committed when a
//! checkpoint completes instead of at every commit point.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use weir_engine::checkpoint::{Epoch, SourcePosition};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::plan::SourceNode;
use weir_engine::time::{format_timestamp, EventTime};
use weir_engine::value::{Record, Value};

use super::client::{client_config, describe, is_fatal};
use super::config::{KafkaConfig, SourceSettings, Start};
use super::position::{decode_all, encode, PartitionOffset};
use super::refusal::Refusals;
use crate::connectors::mqtt::payload::PayloadDecoder;
use crate::connectors::raw_excerpt::raw_excerpt;

/// How long the commit at the end of a run may take, read-backs included: a broker that
/// is down at the stop must not hold the run's end for long. Kafka's own consumer waits
/// as long on `close()` by default; a broker just restarted (Tansu on S3 here) can take
/// over 10 s to answer for its group.
const STOP_COMMIT_WITHIN: Duration = Duration::from_secs(30);

/// The pause between two tries of the commit at the end of a run.
const STOP_COMMIT_GAP: Duration = Duration::from_millis(200);

/// The watermark before any record.
const NO_WATERMARK: EventTime = EventTime::MIN;

/// Keeps the first error that will not heal by retrying (a refused login).
#[derive(Default)]
struct Context {
    refusals: Refusals,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.refusals.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.refusals.error(&error, reason);
    }
}

impl ConsumerContext for Context {}

/// One partition this worker reads.
struct Partition {
    topic: String,
    partition: i32,
    /// The offset after the last record handed to the dataflow (what a commit stores).
    handed: Option<i64>,
    /// Where reading started (the position until a record is handed out).
    first: i64,
    /// With `until: end`: the end at the start; reading stops there.
    end: Option<i64>,
    /// The offset after the last record received.
    next: i64,
    /// Largest event time seen.
    max_time: Option<EventTime>,
    /// When the last record arrived (processing time), for `idle`.
    last_data: Instant,
}

impl Partition {
    fn done(&self) -> bool {
        self.end.is_some_and(|end| self.next >= end)
    }

    /// The offset of the next record to hand out.
    fn resume_at(&self) -> i64 {
        self.handed.unwrap_or(self.first)
    }
}

/// What waits to be handed out: a record, or the offset its message moves to once every
/// record before it has gone.
enum Pending {
    Record(usize, Record),
    Offset(usize, i64),
}

/// A Kafka source: this worker's share of the partitions.
pub struct KafkaSource {
    name: String,
    label: String,
    live: Option<Live>,
}

struct Live {
    consumer: BaseConsumer<Context>,
    decoder: PayloadDecoder,
    partitions: Vec<Partition>,
    index: HashMap<(String, i32), usize>,
    pending: VecDeque<Pending>,
    /// Whether some handed offset is not committed yet.
    uncommitted: bool,
    event_time: Option<usize>,
    bound: i64,
    idle: Option<Duration>,
    key_field: Option<String>,
    timestamp_field: Option<String>,
    /// Positions of checkpoints not yet complete, oldest first; their offsets are
    /// committed to the group when the checkpoint completes.
    checkpoints: VecDeque<(Epoch, Vec<(usize, i64)>)>,
}

impl KafkaSource {
    /// Opens `worker`'s share of `source`: waits up to `connect_timeout` for the brokers
    /// to list the topics' partitions, then reads its partitions from where `start` says.
    pub fn open(
        source: &SourceNode,
        config: &KafkaConfig,
        worker: WorkerInfo,
    ) -> Result<KafkaSource, IoError> {
        let label = format!("kafka source `{}`", source.name);
        let settings = config
            .source()
            .ok_or_else(|| IoError::Config(format!("{label}: not a source configuration")))?;
        let consumer = consumer(source, config, settings, &label)?;
        let all = list_partitions(&consumer, settings, &label)?;
        let mine: Vec<(String, i32)> = all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % worker.peers.max(1) == worker.index)
            .map(|(_, p)| p)
            .collect();
        let live = if mine.is_empty() {
            None
        } else {
            let partitions = starting_points(&consumer, settings, mine, &label)?;
            assign(&consumer, &partitions, &label)?;
            Some(Live::new(
                consumer, partitions, source, config, settings, &label,
            )?)
        };
        Ok(KafkaSource {
            name: source.name.clone(),
            label,
            live,
        })
    }
}

/// A consumer in the source's group that commits only when told to.
fn consumer(
    source: &SourceNode,
    config: &KafkaConfig,
    settings: &SourceSettings,
    label: &str,
) -> Result<BaseConsumer<Context>, IoError> {
    let group = settings
        .group
        .clone()
        .unwrap_or_else(|| format!("weir-{}", source.name));
    let mut client = client_config(config, label)?;
    client
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            if settings.start == Start::Latest {
                "latest"
            } else {
                "earliest"
            },
        );
    client
        .create_with_context(Context::default())
        .map_err(|e| IoError::Config(format!("{label}: {e}")))
}

/// Assigns `partitions` to the consumer at their next offsets.
fn assign(
    consumer: &BaseConsumer<Context>,
    partitions: &[Partition],
    label: &str,
) -> Result<(), IoError> {
    let mut assignment = TopicPartitionList::new();
    for p in partitions {
        assignment
            .add_partition_offset(&p.topic, p.partition, Offset::Offset(p.next))
            .map_err(|e| IoError::Other(format!("{label}: {e}")))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|e| IoError::Other(format!("{label}: {}", describe(&e))))
}

impl Live {
    /// The reading state of `partitions`, assigned to `consumer`.
    fn new(
        consumer: BaseConsumer<Context>,
        partitions: Vec<Partition>,
        source: &SourceNode,
        config: &KafkaConfig,
        settings: &SourceSettings,
        label: &str,
    ) -> Result<Live, IoError> {
        let metadata = config.metadata_fields();
        let decoder = PayloadDecoder::new(config.format, &source.schema, &metadata)
            .map_err(|e| IoError::Config(format!("{label}: {e}")))?;
        let index = partitions
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.topic.clone(), p.partition), i))
            .collect();
        Ok(Live {
            consumer,
            decoder,
            partitions,
            index,
            pending: VecDeque::new(),
            uncommitted: false,
            event_time: source.event_time,
            bound: source.watermark.bounded_ms,
            idle: source
                .watermark
                .idle_ms
                .map(|ms| Duration::from_millis(ms.max(0) as u64)),
            key_field: settings.key_field.clone(),
            timestamp_field: settings.timestamp_field.clone(),
            checkpoints: VecDeque::new(),
        })
    }
}

/// Every (topic, partition) the source reads, sorted, so all workers see the same list.
fn list_partitions(
    consumer: &BaseConsumer<Context>,
    settings: &SourceSettings,
    label: &str,
) -> Result<Vec<(String, i32)>, IoError> {
    let deadline = Instant::now() + Duration::from_millis(settings.connect_timeout_ms as u64);
    loop {
        // Short tries, so that a refused login noticed meanwhile ends the wait early.
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = left.clamp(Duration::from_millis(100), Duration::from_secs(1));
        let failure = match consumer.fetch_metadata(None, wait) {
            Ok(metadata) => {
                let mut out = Vec::new();
                let mut missing = Vec::new();
                for spec in &settings.topics {
                    let found: Vec<_> = metadata
                        .topics()
                        .iter()
                        .filter(|t| spec.matches(t.name()) && t.error().is_none())
                        .collect();
                    if found.is_empty() {
                        missing.push(spec);
                    }
                    for t in found {
                        for p in t.partitions() {
                            out.push((t.name().to_string(), p.id()));
                        }
                    }
                }
                if missing.is_empty() {
                    out.sort();
                    out.dedup();
                    return Ok(out);
                }
                let shown: Vec<String> = missing
                    .iter()
                    .map(|s| match s {
                        super::config::TopicSpec::Name(n) => format!("`{n}`"),
                        super::config::TopicSpec::Pattern(r) => format!("pattern `{}`", r.as_str()),
                    })
                    .collect();
                format!("no topic {} on the brokers", shown.join(", "))
            }
            Err(e) if is_fatal(&e) => {
                return Err(IoError::Other(format!("{label}: {}", describe(&e))))
            }
            Err(e) => format!("cannot reach the brokers: {}", describe(&e)),
        };
        // A refused login reaches us only through a poll; with no partitions assigned
        // yet, a poll hands out nothing else.
        while let Some(polled) = consumer.poll(Duration::ZERO) {
            if let Err(e) = polled {
                consumer.context().refusals.poll_error(&e);
            }
        }
        if let Some(fatal) = consumer.context().refusals.fatal() {
            return Err(IoError::Other(format!("{label}: {fatal}")));
        }
        if Instant::now() >= deadline {
            return Err(IoError::Other(format!(
                "{label}: {failure} (waited `connect_timeout`)"
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Where each partition starts, and with `until: end` where it stops.
fn starting_points(
    consumer: &BaseConsumer<Context>,
    settings: &SourceSettings,
    mine: Vec<(String, i32)>,
    label: &str,
) -> Result<Vec<Partition>, IoError> {
    let timeout = Duration::from_millis(settings.connect_timeout_ms as u64);
    let fail = |e: KafkaError| IoError::Other(format!("{label}: {}", describe(&e)));
    let committed = if settings.start == Start::Committed {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in &mine {
            tpl.add_partition(topic, *partition);
        }
        Some(consumer.committed_offsets(tpl, timeout).map_err(fail)?)
    } else {
        None
    };
    let mut out = Vec::with_capacity(mine.len());
    for (topic, partition) in mine {
        let (low, high) = consumer
            .fetch_watermarks(&topic, partition, timeout)
            .map_err(fail)?;
        let from_group = committed
            .as_ref()
            .and_then(|c| c.find_partition(&topic, partition))
            .and_then(|e| match e.offset() {
                Offset::Offset(n) => Some(n),
                _ => None,
            });
        let next = match settings.start {
            Start::Latest => high,
            Start::Earliest => low,
            // A committed offset the broker no longer keeps starts at the oldest it has.
            Start::Committed => from_group.map_or(low, |n| n.clamp(low, high)),
        };
        out.push(Partition {
            topic,
            partition,
            handed: None,
            first: next,
            end: settings.until_end.then_some(high),
            next,
            max_time: None,
            last_data: Instant::now(),
        });
    }
    Ok(out)
}

impl Live {
    /// Decodes `message` into `pending` (rejects into `bad`), then its offset.
    fn decode(&mut self, source: &str, message: &OwnedMessage, bad: &mut Vec<BadRecord>) {
        let key = message.key().map(String::from_utf8_lossy);
        let timestamp = message.timestamp().to_millis();
        let mut meta: Vec<(&str, String)> = Vec::new();
        if let (Some(field), Some(key)) = (&self.key_field, &key) {
            meta.push((field, key.to_string()));
        }
        if let (Some(field), Some(ts)) = (&self.timestamp_field, timestamp) {
            meta.push((field, format_timestamp(ts)));
        }
        let captured: Vec<(&str, &str)> = meta.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let payload = message.payload().unwrap_or_default();
        let Some(&slot) = self
            .index
            .get(&(message.topic().to_string(), message.partition()))
        else {
            return;
        };
        let now = timestamp.unwrap_or(0);
        for result in self.decoder.decode(&captured, payload, now) {
            match result {
                Ok(record) => self.pending.push_back(Pending::Record(slot, record)),
                Err(e) => bad.push(BadRecord {
                    source: source.to_string(),
                    location: format!(
                        "topic {} partition {} offset {}",
                        message.topic(),
                        message.partition(),
                        message.offset()
                    ),
                    field: e.field,
                    reason: e.reason,
                    raw: raw_excerpt(payload),
                }),
            }
        }
        let p = &mut self.partitions[slot];
        p.next = message.offset() + 1;
        p.last_data = Instant::now();
        self.pending
            .push_back(Pending::Offset(slot, message.offset() + 1));
    }

    /// Hands out pending records up to `room`; returns how many.
    fn hand_out(&mut self, out: &mut Vec<Record>, room: usize) -> usize {
        let mut taken = 0;
        while taken < room {
            match self.pending.pop_front() {
                Some(Pending::Record(slot, record)) => {
                    // The watermark follows records handed out, not ones still queued.
                    if let Some(Value::Time(t)) = self.event_time.and_then(|s| record.get(s)) {
                        let p = &mut self.partitions[slot];
                        p.max_time = Some(p.max_time.map_or(*t, |m| m.max(*t)));
                    }
                    out.push(record);
                    taken += 1;
                }
                Some(Pending::Offset(slot, offset)) => {
                    self.partitions[slot].handed = Some(offset);
                    self.uncommitted = true;
                }
                None => break,
            }
        }
        // Offsets right behind the last record handed belong to it.
        while let Some(Pending::Offset(slot, offset)) = self.pending.front() {
            self.partitions[*slot].handed = Some(*offset);
            self.uncommitted = true;
            self.pending.pop_front();
        }
        taken
    }

    fn finished(&self) -> bool {
        self.pending.is_empty() && self.partitions.iter().all(Partition::done)
    }

    fn commit(&mut self, mode: CommitMode) -> Result<(), KafkaError> {
        if !self.uncommitted {
            return Ok(());
        }
        self.commit_handed(mode)
    }

    /// Commits every handed offset, whether or not an earlier commit covered it: an
    /// asynchronous commit that librdkafka accepted may still fail at the broker (one
    /// restarting, a coordinator moving), and nothing would send those offsets again.
    fn commit_handed(&mut self, mode: CommitMode) -> Result<(), KafkaError> {
        let handed: Vec<(usize, i64)> = (self.partitions.iter().enumerate())
            .filter_map(|(i, p)| p.handed.map(|offset| (i, offset)))
            .collect();
        self.commit_offsets(&handed, mode)?;
        self.uncommitted = false;
        Ok(())
    }

    /// The commit at the end of a run, read back and repeated until the group holds it:
    /// a broker may apply an earlier asynchronous commit after it (Tansu 0.6 on S3 does),
    /// and a broker that has just restarted may not have its coordinator back yet. It
    /// returns at once when nothing was handed out, and tries again only within
    /// [`STOP_COMMIT_WITHIN`]. The commit is synchronous: an asynchronous one may still be
    /// in flight when the read-back sees it, and an older commit applied after it (as
    /// Tansu did, 3 runs of 6) would undo it; librdkafka bounds how long it waits.
    fn commit_last(&mut self) -> Result<(), KafkaError> {
        if self.partitions.iter().all(|p| p.handed.is_none()) {
            return Ok(());
        }
        let deadline = Instant::now() + STOP_COMMIT_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let outcome = self
                .commit_handed(CommitMode::Sync)
                .and_then(|()| self.holds_handed(left));
            let out_of_time = Instant::now() + STOP_COMMIT_GAP >= deadline;
            match outcome {
                Ok(true) => return Ok(()),
                Err(e) if is_fatal(&e) || out_of_time => return Err(e),
                Ok(false) if out_of_time => {
                    return Err(KafkaError::ConsumerCommit(
                        rdkafka::types::RDKafkaErrorCode::OperationTimedOut,
                    ))
                }
                _ => std::thread::sleep(STOP_COMMIT_GAP),
            }
        }
    }

    /// Whether the group's committed offsets are at least the handed ones, asking the
    /// broker for at most `wait`.
    fn holds_handed(&self, wait: Duration) -> Result<bool, KafkaError> {
        let committed = self.consumer.committed(wait)?;
        Ok(self.partitions.iter().all(|p| {
            let Some(handed) = p.handed else { return true };
            match committed
                .find_partition(&p.topic, p.partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(at)) => at >= handed,
                _ => false,
            }
        }))
    }

    /// Commits `offsets` (partition slot, next offset) to the group.
    fn commit_offsets(&self, offsets: &[(usize, i64)], mode: CommitMode) -> Result<(), KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for &(slot, offset) in offsets {
            let p = &self.partitions[slot];
            tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(offset))?;
        }
        if tpl.count() > 0 {
            self.consumer.commit(&tpl, mode)?;
        }
        Ok(())
    }

    /// Reads every partition from its offset in `offsets` (those it has), dropping what
    /// was received but not handed out.
    fn seek(&mut self, offsets: &HashMap<(String, i32), i64>) -> Result<(), KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for p in &mut self.partitions {
            let offset = (offsets.get(&(p.topic.clone(), p.partition)).copied())
                .unwrap_or_else(|| p.resume_at());
            p.first = offset;
            p.next = offset;
            p.handed = None;
            p.max_time = None;
            tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(offset))?;
        }
        self.pending.clear();
        self.uncommitted = false;
        self.consumer.assign(&tpl)
    }
}

impl SourceReader for KafkaSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        let Some(live) = self.live.as_mut() else {
            return Ok(SourceStatus::Finished);
        };
        let rejected_before = bad.len();
        let mut taken = 0;
        loop {
            // Rejects count toward `max` as records read, as a file's bad lines do.
            let used = taken + (bad.len() - rejected_before);
            taken += live.hand_out(out, max.saturating_sub(used));
            if taken + (bad.len() - rejected_before) >= max {
                return Ok(SourceStatus::Ready);
            }
            if live.finished() {
                return Ok(if taken > 0 {
                    SourceStatus::Ready
                } else {
                    SourceStatus::Finished
                });
            }
            match live.consumer.poll(Duration::ZERO) {
                None => {
                    if let Some(fatal) = live.consumer.context().refusals.fatal() {
                        return Err(IoError::Other(format!("{}: {fatal}", self.label)));
                    }
                    return Ok(if taken > 0 {
                        SourceStatus::Ready
                    } else {
                        SourceStatus::Idle
                    });
                }
                Some(Ok(message)) => {
                    let message = message.detach();
                    live.decode(&self.name, &message, bad);
                }
                Some(Err(e)) if is_fatal(&e) => {
                    let refusals = &live.consumer.context().refusals;
                    refusals.poll_error(&e);
                    let why = refusals.fatal().unwrap_or_else(|| describe(&e));
                    return Err(IoError::Other(format!("{}: {why}", self.label)));
                }
                // A broker restarting, a partition leader moving: librdkafka retries.
                Some(Err(_)) => {}
            }
        }
    }

    fn watermark(&self) -> Option<EventTime> {
        let live = self.live.as_ref()?;
        live.event_time?;
        let now = Instant::now();
        let mut lowest: Option<EventTime> = None;
        let mut highest = NO_WATERMARK;
        for p in &live.partitions {
            let mark = p
                .max_time
                .map_or(NO_WATERMARK, |t| t.saturating_sub(live.bound));
            highest = highest.max(mark);
            let idle = live
                .idle
                .is_some_and(|d| now.duration_since(p.last_data) >= d);
            if !(p.done() || idle) {
                lowest = Some(lowest.map_or(mark, |l| l.min(mark)));
            }
        }
        // Every partition idle or read to its end: none holds the others back.
        Some(lowest.unwrap_or(highest))
    }

    fn commit(&mut self) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        // A commit that fails now is retried at the next one: the offsets only grow.
        if let Err(e) = live.commit(CommitMode::Async) {
            eprintln!(
                "weir: {}: cannot commit offsets yet: {}",
                self.label,
                describe(&e)
            );
        }
    }

    fn position(&mut self, epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let Some(live) = self.live.as_mut() else {
            return encode(&[]).map(Some);
        };
        let at: Vec<(usize, i64)> = (live.partitions.iter().enumerate())
            .map(|(i, p)| (i, p.resume_at()))
            .collect();
        let offsets: Vec<PartitionOffset> = (at.iter())
            .map(|&(i, offset)| PartitionOffset {
                topic: live.partitions[i].topic.clone(),
                partition: live.partitions[i].partition,
                offset,
            })
            .collect();
        live.checkpoints.push_back((epoch, at));
        encode(&offsets).map(Some)
    }

    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let offsets = decode_all(positions, &self.label)?;
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        live.seek(&offsets)
            .map_err(|e| IoError::Other(format!("{}: {}", self.label, describe(&e))))
    }

    fn checkpoint_complete(&mut self, epoch: Epoch) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let mut done = None;
        while live.checkpoints.front().is_some_and(|(e, _)| *e <= epoch) {
            done = live.checkpoints.pop_front();
        }
        let Some((_, offsets)) = done else {
            return;
        };
        // The group follows the checkpoint (for tools and `start: committed`); a commit
        // that fails now is superseded by the next checkpoint's.
        if let Err(e) = live.commit_offsets(&offsets, CommitMode::Async) {
            eprintln!(
                "weir: {}: cannot commit offsets yet: {}",
                self.label,
                describe(&e)
            );
        }
    }

    fn stop(&mut self) -> u64 {
        let Some(mut live) = self.live.take() else {
            return 0;
        };
        if let Err(e) = live.commit_last() {
            eprintln!(
                "weir: {}: cannot commit offsets: {}",
                self.label,
                describe(&e)
            );
        }
        // Messages received but not handed out are not committed: the group reads them
        // again next time.
        live.pending
            .iter()
            .filter(|p| matches!(p, Pending::Offset(..)))
            .count() as u64
    }
}
