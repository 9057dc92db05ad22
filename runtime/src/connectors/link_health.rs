//! The health of connectors that talk to other systems: whether their connections are
//! up, how often they came back after a loss, and how many requests were retried.
//! Kept in one process-wide registry, because connections open deep inside connectors
//! (one per worker for an MQTT source) and `/metrics` reads them all at scrape time.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::registry::Registry;

/// The health counters of one source or sink.
#[derive(Debug)]
pub struct LinkHealth {
    /// The connector (`mqtt`, `webhook`).
    pub connector: &'static str,
    /// `source` or `sink`.
    pub role: &'static str,
    /// The source or sink name.
    pub name: String,
    up: AtomicI64,
    reconnects: AtomicU64,
    retries: AtomicU64,
    overload_dropped: AtomicU64,
}

impl LinkHealth {
    /// A connection came up; `again` when it had been up before (a reconnect).
    pub fn connected(&self, again: bool) {
        self.up.fetch_add(1, Ordering::Relaxed);
        if again {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A connection that was up went down (lost, or closed at the end).
    pub fn disconnected(&self) {
        self.up.fetch_sub(1, Ordering::Relaxed);
    }

    /// A request failed and is tried again.
    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A source dropped input it could not hand over (`on overload drop`).
    pub fn dropped_on_overload(&self) {
        self.overload_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Input dropped on overload.
    pub fn overload_dropped(&self) -> u64 {
        self.overload_dropped.load(Ordering::Relaxed)
    }

    /// Connections up now.
    pub fn up(&self) -> i64 {
        self.up.load(Ordering::Relaxed)
    }

    /// Connections re-established after a loss.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// Requests tried again.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

/// Every registered link of this process, by `role/name`.
pub fn links() -> &'static Registry<LinkHealth> {
    static LINKS: OnceLock<Registry<LinkHealth>> = OnceLock::new();
    LINKS.get_or_init(Registry::default)
}

/// The health of `role` `name` (created on first use, shared after).
pub fn register(connector: &'static str, role: &'static str, name: &str) -> Arc<LinkHealth> {
    links().get_or_insert_with(&format!("{role}/{name}"), || LinkHealth {
        connector,
        role,
        name: name.to_string(),
        up: AtomicI64::new(0),
        reconnects: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        overload_dropped: AtomicU64::new(0),
    })
}
