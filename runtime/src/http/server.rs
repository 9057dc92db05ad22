//! The server thread: accepts requests, checks the bearer token, answers each route.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use weir_engine::metrics::Metrics;
use weir_engine::plan::LogicalPlan;

use super::access::{HttpAccess, HttpError};
use super::cluster_view::Peers;
use super::{reply, routes};
use crate::connectors::chart::LiveFeeds;
use crate::connectors::state::StateStores;

/// What the server shows of a run.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The running plan.
    pub plan: Arc<LogicalPlan>,
    /// Its live counters.
    pub metrics: Arc<Metrics>,
    /// Its `state` sinks.
    pub stores: Arc<StateStores>,
    /// Its `chart` sinks.
    pub feeds: Arc<LiveFeeds>,
    /// This process's index in its cluster (0 alone).
    pub process: usize,
    /// When the run started.
    pub started: Instant,
    /// In a cluster, process 0's way to the other processes' servers (else empty).
    pub peers: Peers,
}

/// A running server; stopped (and its thread joined) when dropped.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl HttpServer {
    /// Binds `access.addr` and serves `view` until stopped.
    pub fn start(access: HttpAccess, view: RunView) -> Result<HttpServer, HttpError> {
        let asked = access.addr;
        let server = tiny_http::Server::http(asked).map_err(|e| HttpError::Bind {
            addr: asked,
            reason: e.to_string(),
        })?;
        let addr = server.server_addr().to_ip().unwrap_or(asked);
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));
        let (s, flag) = (Arc::clone(&server), Arc::clone(&stopping));
        let thread = std::thread::Builder::new()
            .name("weir-http".into())
            .spawn(move || serve(&s, &flag, &access, &view))
            .map_err(|e| HttpError::Bind {
                addr: asked,
                reason: e.to_string(),
            })?;
        Ok(HttpServer {
            server,
            stopping,
            thread: Some(thread),
            addr,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    server: &tiny_http::Server,
    stopping: &Arc<AtomicBool>,
    access: &HttpAccess,
    view: &RunView,
) {
    while !stopping.load(Ordering::SeqCst) {
        // An error here is one failed connection (or the unblock at stop): go on.
        let Ok(request) = server.recv() else {
            continue;
        };
        let authorization = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str().to_string());
        if !access.allows(authorization.as_deref()) {
            let denied = reply::error(401, "this server needs `Authorization: Bearer <token>`")
                .with_header(reply::header("WWW-Authenticate", "Bearer"));
            let _ = request.respond(denied);
            continue;
        }
        routes::answer(request, view, stopping);
    }
}
