//! What a live sink streams: the last few items for new viewers, and a bounded channel
//! per live viewer. A viewer that falls behind is dropped (and counted), never waited for.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use crate::connectors::chart::ChartConfig;

/// Items a slow viewer may fall behind by before it is dropped (it can reconnect).
pub const VIEWER_BACKLOG: usize = 4096;

/// A live sink's stream, shared by its sink and the HTTP server.
#[derive(Debug)]
pub struct LiveFeed {
    /// What a `chart` sink plots; `None` for a `live` sink, which streams its records.
    pub chart: Option<ChartConfig>,
    keep: usize,
    recent: Mutex<VecDeque<Arc<str>>>,
    viewers: Mutex<Vec<Sender<Arc<str>>>>,
    dropped: AtomicU64,
}

impl LiveFeed {
    /// The feed of a chart: its points, `config.keep` kept for new viewers.
    pub fn chart(config: ChartConfig) -> LiveFeed {
        let keep = config.keep;
        LiveFeed::new(Some(config), keep)
    }

    /// The feed of a `live` sink: its records as JSON, the last `keep` kept.
    pub fn records(keep: usize) -> LiveFeed {
        LiveFeed::new(None, keep)
    }

    fn new(chart: Option<ChartConfig>, keep: usize) -> LiveFeed {
        LiveFeed {
            chart,
            keep,
            recent: Mutex::new(VecDeque::new()),
            viewers: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// The server-sent event name of this feed's items.
    pub fn event(&self) -> &'static str {
        if self.chart.is_some() {
            "point"
        } else {
            "record"
        }
    }

    /// How many items are kept for new viewers.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Adds a batch of items (JSON objects): one lock each for the batch, not per item.
    /// A viewer whose channel is full is dropped here rather than waited for, so a slow
    /// viewer never slows the sink.
    pub fn publish(&self, items: Vec<Arc<str>>) {
        {
            let mut recent = self.recent.lock();
            recent.extend(items.iter().cloned());
            let excess = recent.len().saturating_sub(self.keep);
            recent.drain(..excess);
        }
        self.viewers.lock().retain(|viewer| {
            items.iter().all(|p| match viewer.try_send(Arc::clone(p)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            })
        });
    }

    /// Whether anyone is watching now (else only the last `keep` items matter).
    pub fn watched(&self) -> bool {
        !self.viewers.lock().is_empty()
    }

    /// Viewers connected now.
    pub fn viewers(&self) -> usize {
        self.viewers.lock().len()
    }

    /// Viewers dropped so far for falling more than [`VIEWER_BACKLOG`] items behind.
    pub fn dropped_viewers(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The items kept, oldest first.
    pub fn recent(&self) -> Vec<Arc<str>> {
        self.recent.lock().iter().cloned().collect()
    }

    /// The items kept, and a channel of every later one.
    pub fn subscribe(&self) -> (Vec<Arc<str>>, Receiver<Arc<str>>) {
        self.subscribe_with_backlog(VIEWER_BACKLOG)
    }

    /// [`LiveFeed::subscribe`] with a channel of `backlog` items (tests use a small one).
    pub fn subscribe_with_backlog(&self, backlog: usize) -> (Vec<Arc<str>>, Receiver<Arc<str>>) {
        let (tx, rx) = crossbeam_channel::bounded(backlog);
        // Both locks, in publish's order, so no item falls between the two.
        let recent = self.recent.lock();
        self.viewers.lock().push(tx);
        (recent.iter().cloned().collect(), rx)
    }
}
