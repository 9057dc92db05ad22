//! The HTTP server of a run: `/metrics` for Prometheus, the hot store's JSON API under
//! `/api/state/<sink>`, live chart streams, SQL over the lake (`POST /api/query`), the
//! dashboard and the OpenAPI description
//! (docs/http.md).
//!
//! One server per process, on its own thread (tiny_http: the runtime is synchronous, so
//! a thread-per-server crate fits better than an async stack). It only reads the run's
//! atomic counters and the state stores, so scraping never touches the hot path.

mod access;
mod cluster_view;
mod dashboard;
mod exposition;
mod job_graph;
mod live_stream;
mod operator_exposition;
mod query_api;
mod reply;
mod routes;
mod server;
mod state_api;

pub use access::{HttpAccess, HttpError};
pub use cluster_view::Peers;
pub use exposition::encode_metrics;
pub use server::{HttpServer, RunView};
