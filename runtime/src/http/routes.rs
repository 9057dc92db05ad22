//! Which path answers what; anything else is a 404 or 405 with a JSON reason.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tiny_http::{Method, Request};

use super::exposition::{encode_metrics, CONTENT_TYPE};
use super::server::RunView;
use super::{cluster_view, dashboard, job_graph, live_stream, query_api, reply, state_api};

/// The OpenAPI description of the JSON API, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Answers `request` (consuming it).
pub fn answer(mut request: Request, view: &RunView, stopping: &Arc<AtomicBool>) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    if path == "/api/query" {
        let reply = if *request.method() == Method::Post {
            query_api::answer(&mut request, view)
        } else {
            reply::error(
                405,
                format!("{} is not allowed here: POST the SQL", request.method()),
            )
            .with_header(reply::header("Allow", "POST"))
        };
        let _ = request.respond(reply);
        return;
    }
    if !matches!(request.method(), Method::Get | Method::Head) {
        let reply = reply::error(
            405,
            format!("{} is not allowed here: use GET", request.method()),
        )
        .with_header(reply::header("Allow", "GET, HEAD"));
        let _ = request.respond(reply);
        return;
    }
    // Only the state API takes parameters: elsewhere one is a mistake worth naming.
    if !query.is_empty() && !path.starts_with("/api/state/") {
        let first = query.split('&').next().unwrap_or(query);
        let name = first.split('=').next().unwrap_or(first);
        let reply = reply::error(
            400,
            format!("`{path}` takes no query parameters (got `{name}`)"),
        );
        let _ = request.respond(reply);
        return;
    }
    if let Some(sink) = path.strip_prefix("/api/stream/") {
        // A declared sink may still be opening as the run starts: its stream waits for it.
        let declared = view.plan.sinks.iter().any(|s| s.name == sink);
        if declared || view.feeds.get(sink).is_some() {
            let feeds = Arc::clone(&view.feeds);
            live_stream::stream(request, feeds, sink.to_string(), Arc::clone(stopping));
        } else {
            let _ = request.respond(live_stream::no_such_sink(sink));
        }
        return;
    }
    let reply = match path {
        "/" | "/index.html" => dashboard::page(),
        "/dashboard.js" | "/dashboard.css" | "/uPlot.js" | "/uPlot.css" => dashboard::asset(path),
        "/metrics" => reply::with_type(200, CONTENT_TYPE, encode_metrics(view).into_bytes()),
        "/api/openapi.json" => {
            reply::with_type(200, "application/json", OPENAPI.as_bytes().to_vec())
        }
        "/api/job" => reply::json(200, &job(view)),
        _ => prefixed(path, query, view),
    };
    let _ = request.respond(reply);
}

/// The job graph; on process 0 of a cluster, with every process's counters.
fn job(view: &RunView) -> serde_json::Value {
    let local = job_graph::job(view);
    if view.peers.is_empty() {
        return local;
    }
    cluster_view::merge_job(local, &view.peers.get("/api/job"))
}

/// The routes with a sink name in the path.
fn prefixed(path: &str, query: &str, view: &RunView) -> reply::Reply {
    if let Some(sink) = path.strip_prefix("/api/state/") {
        return state_api::state(view, sink, query);
    }
    if let Some(sink) = path.strip_prefix("/api/chart/") {
        return match view
            .feeds
            .get(sink)
            .and_then(|f| job_graph::chart(sink, &f, true))
        {
            Some(chart) => reply::json(200, &chart),
            None => reply::error(404, format!("no `chart` sink named `{sink}` in this run")),
        };
    }
    reply::error(
        404,
        format!("no such endpoint `{path}` (see /api/openapi.json)"),
    )
}
