//! `GET /api/stream/<sink>`: a `chart` sink's points, or a `live` sink's records, as
//! server-sent events: the kept ones first, then each new one as it is written. One
//! thread per viewer, so a slow viewer never holds up the server (and the feed drops a
//! viewer that falls far behind, counting it).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use tiny_http::Request;

use crate::connectors::live::LiveFeed;

/// How often an idle stream sends a comment, so proxies and dead viewers are noticed.
const KEEPALIVE: Duration = Duration::from_secs(5);

/// Streams `feed` to `request` on a thread of its own until the viewer leaves or the
/// server stops.
pub fn stream(request: Request, feed: Arc<LiveFeed>, stopping: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("weir-http-sse".into())
        .spawn(move || {
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
