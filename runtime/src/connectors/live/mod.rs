//! `live sink name = …`: any sink whose records are also streamed by the run's HTTP
//! server as server-sent events on `/api/stream/<sink>` (and shown on the dashboard),
//! as `chart` sinks' points are (docs/http.md).

mod feed;
mod sink;
#[cfg(test)]
mod tests;

pub use feed::{LiveFeed, VIEWER_BACKLOG};
pub use sink::LiveSink;

/// Records a `live` sink keeps for viewers that connect later (the dashboard's table).
pub const KEPT_RECORDS: usize = 100;

/// The streamed sinks of a process (`chart` and `live`), by name.
pub type LiveFeeds = crate::connectors::registry::Registry<LiveFeed>;
