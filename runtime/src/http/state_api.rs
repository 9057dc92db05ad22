//! `GET /api/state/<sink>`: one key's latest record, or a page of them by key prefix.

use serde_json::{json, Value as Json};
use weir_engine::time::format_timestamp;

use super::cluster_view;
use super::reply::{self, Reply};
use super::server::RunView;
use crate::connectors::state::Entry;

/// Records per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The answer for sink `sink` and query string `query`.
pub fn state(view: &RunView, sink: &str, query: &str) -> Reply {
    let Some(store) = view.stores.get(sink) else {
        let declared = view
            .plan
            .sinks
            .iter()
            .any(|s| s.name == sink && s.connector.kind == crate::connectors::state::KIND);
        if declared {
            return reply::error(503, format!("`{sink}` is still opening: try again shortly"));
        }
        let names: Vec<String> = view.stores.all().into_iter().map(|(n, _)| n).collect();
        return reply::error(
            404,
            format!(
                "no `state` sink named `{sink}` in this run (state sinks: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        );
    };
    let key_field = store.key_field().to_string();
    let (mut key, mut prefix, mut after, mut limit) = (None, String::new(), None, DEFAULT_LIMIT);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            n if n == key_field => key = Some(value.into_owned()),
            "prefix" => prefix = value.into_owned(),
            "after" => after = Some(value.into_owned()),
            "limit" => match value.parse::<usize>() {
                Ok(n @ 1..=MAX_LIMIT) => limit = n,
                _ => {
                    return reply::error(
                        400,
                        format!(
                            "`limit` must be a whole number from 1 to {MAX_LIMIT}, not `{value}`"
                        ),
                    )
                }
            },
            other => {
                return reply::error(
                    400,
                    format!(
                        "unknown query parameter `{other}`: use `{key_field}=<key>` for one \
                         record, or `prefix`, `after` and `limit` for a page"
                    ),
                )
            }
        }
    }
    // On process 0 of a cluster the other processes are asked the same question.
    let peers = || view.peers.get(&format!("/api/state/{sink}?{query}"));
    if let Some(key) = key {
        let local = store.get(&key).map(|entry| record(&key, &entry));
        let found = if view.peers.is_empty() {
            local
        } else {
            cluster_view::latest_record(local, &peers())
        };
        return match found {
            Some(one) => reply::json(200, &one),
            None => reply::error(
                404,
                format!("no record with {key_field} = `{key}` in `{sink}`"),
            ),
        };
    }
    let page = store.page(&prefix, after.as_deref(), limit);
    let records: Vec<Json> = page.entries.iter().map(|(k, e)| record(k, e)).collect();
    let local = json!({ "records": records, "next": page.next });
    if view.peers.is_empty() {
        return reply::json(200, &local);
    }
    reply::json(200, &cluster_view::merge_pages(local, &peers(), limit))
}

/// One key's record as the API shows it.
fn record(key: &str, entry: &Entry) -> Json {
    // The stored text is JSON the sink wrote; an unreadable one shows as null.
    let record: Json = serde_json::from_str(&entry.json).unwrap_or(Json::Null);
    json!({
        "key": key,
        "event_time": format_timestamp(entry.event_time),
        "record": record,
    })
}
