//! The points of one chart: the last few for new viewers, and a channel per live viewer.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use super::ChartConfig;

/// Points a slow viewer may fall behind by before it is dropped (it can reconnect).
const VIEWER_BACKLOG: usize = 4096;

/// A chart's live points, shared by its sink and the HTTP server.
#[derive(Debug)]
pub struct LiveFeed {
    /// What the chart plots.
    pub config: ChartConfig,
    recent: Mutex<VecDeque<Arc<str>>>,
    viewers: Mutex<Vec<Sender<Arc<str>>>>,
}

impl LiveFeed {
    /// An empty feed for `config`.
    pub fn new(config: ChartConfig) -> LiveFeed {
        LiveFeed {
            config,
            recent: Mutex::new(VecDeque::new()),
            viewers: Mutex::new(Vec::new()),
        }
    }

    /// Adds a batch of points (JSON objects): one lock each for the batch, not per point.
    pub fn publish(&self, points: Vec<Arc<str>>) {
        {
            let mut recent = self.recent.lock();
            recent.extend(points.iter().cloned());
            let excess = recent.len().saturating_sub(self.config.keep);
            recent.drain(..excess);
        }
        self.viewers.lock().retain(|viewer| {
            points.iter().all(|p| match viewer.try_send(Arc::clone(p)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            })
        });
    }

    /// The points kept, oldest first.
    pub fn recent(&self) -> Vec<Arc<str>> {
        self.recent.lock().iter().cloned().collect()
    }

    /// The points kept, and a channel of every later one.
    pub fn subscribe(&self) -> (Vec<Arc<str>>, Receiver<Arc<str>>) {
        let (tx, rx) = crossbeam_channel::bounded(VIEWER_BACKLOG);
        // Both locks, in publish's order, so no point falls between the two.
        let recent = self.recent.lock();
        self.viewers.lock().push(tx);
        (recent.iter().cloned().collect(), rx)
    }
}
