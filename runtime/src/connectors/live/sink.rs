//! A sink wrapped to publish what it writes to its live feed.

use std::sync::Arc;

use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::time::EventTime;

use super::LiveFeed;
use crate::format::json::JsonEncoder;

/// A sink that also publishes each record it writes, as a JSON object (the same text a
/// JSON lines file sink writes), to the feed `/api/stream/<sink>` reads.
pub struct LiveSink {
    inner: Arc<dyn SinkWriter>,
    encoder: JsonEncoder,
    feed: Arc<LiveFeed>,
}

impl LiveSink {
    /// `inner`, writing records of `schema`, publishing to `feed`.
    pub fn new(inner: Arc<dyn SinkWriter>, schema: &Schema, feed: Arc<LiveFeed>) -> LiveSink {
        LiveSink {
            inner,
            encoder: JsonEncoder::new(schema),
            feed,
        }
    }

    fn publish(&self, events: &[Event]) {
        // Unwatched, only the records kept for later viewers are worth encoding.
        let skip = if self.feed.watched() {
            0
        } else {
            events.len().saturating_sub(self.feed.keep())
        };
        let mut line = Vec::new();
        let items: Vec<Arc<str>> = events[skip..]
            .iter()
            .filter_map(|e| {
                line.clear();
                self.encoder.encode(&e.record, &mut line).ok()?;
                let text = std::str::from_utf8(&line).ok()?;
                Some(Arc::from(text.trim_end()))
            })
            .collect();
        if !items.is_empty() {
            self.feed.publish(items);
        }
    }
}

impl SinkWriter for LiveSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        self.inner.write(events)?;
        self.publish(events);
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        self.inner.flush()
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.inner.take_undelivered()
    }

    fn backlog(&self) -> u64 {
        self.inner.backlog()
    }

    fn tick(&self) -> Result<Option<EventTime>, IoError> {
        self.inner.tick()
    }

    fn throttled(&self) -> u64 {
        self.inner.throttled()
    }

    fn prepare_commit(&self, epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        self.inner.prepare_commit(epoch)
    }

    fn commit(&self, epoch: Epoch) -> Result<(), IoError> {
        self.inner.commit(epoch)
    }

    fn restore(&self, state: Option<&[u8]>) -> Result<(), IoError> {
        self.inner.restore(state)
    }
}
