//! Responses: JSON bodies, and every error as a status with `{"error": reason}`.

use std::io::Cursor;

use tiny_http::{Header, Response};

/// A response with a body in memory.
pub type Reply = Response<Cursor<Vec<u8>>>;

/// `body` with content type `content_type`.
pub fn with_type(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
}

/// A JSON value.
pub fn json(status: u16, value: &serde_json::Value) -> Reply {
    with_type(status, "application/json", value.to_string().into_bytes())
}

/// An error: `status` with a JSON reason.
pub fn error(status: u16, reason: impl Into<String>) -> Reply {
    json(status, &serde_json::json!({ "error": reason.into() }))
}

/// A header from two ASCII strings.
pub fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("invariant: header names and values here are ASCII")
}
