//! Which path answers what; anything else is a 404 or 405 with a JSON reason.

use tiny_http::{Method, Request};

use super::exposition::{encode_metrics, CONTENT_TYPE};
use super::server::RunView;
use super::{job_graph, reply, state_api};

/// The OpenAPI description of the JSON API, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Answers `request` (consuming it).
pub fn answer(request: Request, view: &RunView) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    if !matches!(request.method(), Method::Get | Method::Head) {
        let reply = reply::error(
            405,
            format!("{} is not allowed here: use GET", request.method()),
        )
        .with_header(reply::header("Allow", "GET, HEAD"));
        let _ = request.respond(reply);
        return;
    }
    let reply = match path {
        "/metrics" => reply::with_type(200, CONTENT_TYPE, encode_metrics(view).into_bytes()),
        "/api/openapi.json" => {
            reply::with_type(200, "application/json", OPENAPI.as_bytes().to_vec())
        }
        "/api/job" => reply::json(200, &job_graph::job(view)),
        _ => match path.strip_prefix("/api/state/") {
            Some(sink) => state_api::state(view, sink, query),
            None => reply::error(
                404,
                format!("no such endpoint `{path}` (see /api/openapi.json)"),
            ),
        },
    };
    let _ = request.respond(reply);
}
