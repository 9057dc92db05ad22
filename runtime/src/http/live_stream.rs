//! `GET /api/stream/<sink>`: a `chart` sink's points, or a `live` sink's records, as
//! server-sent events: the kept ones first, then each new one as it is written. One
//! thread per viewer, so a slow viewer never holds up the server (and the feed drops a
//! viewer that falls far behind, counting it).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use tiny_http::Request;

use super::reply::{self, Reply};
use crate::connectors::live::{LiveFeed, LiveFeeds};

/// How often an idle stream sends a comment, so proxies and dead viewers are noticed.
const KEEPALIVE: Duration = Duration::from_secs(5);

/// How long a stream waits for a declared sink that has not opened yet (sinks open as
/// the dataflow starts, after the server; a loaded machine takes a while).
const OPEN_WAIT: Duration = Duration::from_secs(10);

/// The 404 for a name that is no `chart` or `live` sink of this run.
pub fn no_such_sink(sink: &str) -> Reply {
    reply::error(
        404,
        format!("no `chart` or `live` sink named `{sink}` in this run"),
    )
}

/// Waits up to [`OPEN_WAIT`] for `sink`'s feed to be registered.
fn opened(feeds: &LiveFeeds, sink: &str, stopping: &AtomicBool) -> Option<Arc<LiveFeed>> {
    let deadline = Instant::now() + OPEN_WAIT;
    loop {
        if let Some(feed) = feeds.get(sink) {
            return Some(feed);
        }
        if Instant::now() >= deadline || stopping.load(Ordering::Relaxed) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Streams `sink`'s feed to `request` on a thread of its own until the viewer leaves or
/// the server stops.
pub fn stream(request: Request, feeds: Arc<LiveFeeds>, sink: String, stopping: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("weir-http-sse".into())
        .spawn(move || {
            let Some(feed) = opened(&feeds, &sink, &stopping) else {
                let _ = request.respond(no_such_sink(&sink));
                return;
            };
            let (kept, live) = feed.subscribe();
            let mut out = request.into_writer();
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                        Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
            let event = feed.event();
            for point in kept {
                if send(&mut out, event, &point).is_err() {
                    return;
                }
            }
            let _ = out.flush();
            while !stopping.load(Ordering::Relaxed) {
                let sent = match live.recv_timeout(KEEPALIVE) {
                    Ok(point) => send(&mut out, event, &point),
                    Err(RecvTimeoutError::Timeout) => out.write_all(b": keepalive\n\n"),
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                if sent.and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
        });
    // Without a thread the request is dropped, which closes the connection.
    let _ = spawned;
}

fn send(out: &mut dyn Write, event: &str, item: &str) -> std::io::Result<()> {
    write!(out, "event: {event}\ndata: {item}\n\n")
}
