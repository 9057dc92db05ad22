//! Process 0's view of the whole job in a cluster: it asks the other processes' servers
//! (whose addresses it knows from the launch: `--http host:port` puts process I on
//! port + I) and merges their answers, so the dashboard and the API show every
//! process's counters and every key of a `state` sink wherever it is held.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value as Json};

/// How long process 0 waits for a peer's answer; a slow or gone peer is left out (and
/// named in `/api/job`'s `processes`), never waited on for long.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// The other processes' servers, as process 0 reaches them.
#[derive(Clone, Default)]
pub struct Peers {
    /// (process index, address) of processes 1…P−1.
    pub addrs: Vec<(usize, SocketAddr)>,
    /// The bearer token every server of the job requires, if any (never shown).
    pub token: Option<String>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

/// One peer's answer: its status and JSON body, or why there was none.
pub type PeerAnswer = (usize, SocketAddr, Result<(u16, Json), String>);

impl Peers {
    /// Whether there is any peer to ask.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// GETs `path_and_query` from every peer (one after another: clusters are small).
    pub fn get(&self, path_and_query: &str) -> Vec<PeerAnswer> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(PEER_TIMEOUT))
            .build()
            .into();
        self.addrs
            .iter()
            .map(|&(process, addr)| {
                let url = format!("http://{addr}{path_and_query}");
                let mut request = agent.get(&url);
                if let Some(token) = &self.token {
                    request = request.header("Authorization", &format!("Bearer {token}"));
                }
                let answer = request.call().map_err(|e| e.to_string()).and_then(|mut r| {
                    let status = r.status().as_u16();
                    let body = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                    let json = serde_json::from_str(&body).map_err(|e| e.to_string())?;
                    Ok((status, json))
                });
                (process, addr, answer)
            })
            .collect()
    }
}

/// `local`'s job graph with every peer's counters added in, and a `processes` list
/// saying which processes answered.
pub fn merge_job(mut local: Json, answers: &[PeerAnswer]) -> Json {
    let mut processes = vec![json!({"process": 0, "answered": true})];
    for (process, addr, answer) in answers {
        let peer = match answer {
            Ok((200, job)) => Some(job),
            _ => None,
        };
        let mut entry =
            json!({"process": process, "address": addr.to_string(), "answered": peer.is_some()});
        if let Err(why) = answer {
            entry["error"] = json!(why);
        }
        processes.push(entry);
        let Some(peer) = peer else {
            continue;
        };
        add_counters(&mut local, peer, "sources", &["records", "malformed"]);
        add_counters(&mut local, peer, "sinks", &["records", "undelivered"]);
        add_counters(&mut local, peer, "pipelines", &["late_dropped"]);
        let workers =
            local["workers"].as_u64().unwrap_or(0) + peer["workers"].as_u64().unwrap_or(0);
        local["workers"] = json!(workers);
        merge_sources(&mut local, peer);
    }
    local["processes"] = Json::Array(processes);
    local
}

/// Adds `fields` of each entry of `peer[list]` to the entry of the same name in `local`.
fn add_counters(local: &mut Json, peer: &Json, list: &str, fields: &[&str]) {
    let (Some(mine), Some(theirs)) = (local[list].as_array_mut(), peer[list].as_array()) else {
        return;
    };
    for entry in mine.iter_mut() {
        let Some(other) = theirs.iter().find(|o| o["name"] == entry["name"]) else {
            continue;
        };
        for field in fields {
            let sum = entry[*field].as_u64().unwrap_or(0) + other[*field].as_u64().unwrap_or(0);
            entry[*field] = json!(sum);
        }
    }
}

/// A source's job-wide watermark is the least over the processes still reading it
/// (RFC 3339 UTC text orders as time does); it has ended once every process's share has.
fn merge_sources(local: &mut Json, peer: &Json) {
    let (Some(mine), Some(theirs)) = (local["sources"].as_array_mut(), peer["sources"].as_array())
    else {
        return;
    };
    for entry in mine.iter_mut() {
        let Some(other) = theirs.iter().find(|o| o["name"] == entry["name"]) else {
            continue;
        };
        let ended =
            entry["ended"].as_bool().unwrap_or(false) && other["ended"].as_bool().unwrap_or(false);
        let watermark = match (entry["watermark"].as_str(), other["watermark"].as_str()) {
            (Some(a), Some(b)) => Some(a.min(b).to_string()),
            (a, b) => a.or(b).map(str::to_string),
        };
        entry["ended"] = json!(ended);
        entry["watermark"] = json!(watermark);
    }
}

/// One page of a `state` sink over every process: the local page and the peers' pages
/// (each asked with the same query) merged in key order and cut at `limit`.
pub fn merge_pages(local: Json, answers: &[PeerAnswer], limit: usize) -> Json {
    let mut records: Vec<Json> = local["records"].as_array().cloned().unwrap_or_default();
    let mut more = !local["next"].is_null();
    for (_, _, answer) in answers {
        if let Ok((200, page)) = answer {
            records.extend(page["records"].as_array().cloned().unwrap_or_default());
            more |= !page["next"].is_null();
        }
    }
    // A key written on two processes (a sink not behind `key by`): the latest wins.
    records.sort_by(|a, b| {
        let key = a["key"].as_str().cmp(&b["key"].as_str());
        key.then_with(|| b["event_time"].as_str().cmp(&a["event_time"].as_str()))
    });
    records.dedup_by(|later, kept| later["key"] == kept["key"]);
    let cut = records.len() > limit;
    records.truncate(limit);
    let next = if cut || more {
        records
            .last()
            .map(|r| r["key"].clone())
            .unwrap_or(Json::Null)
    } else {
        Json::Null
    };
    json!({"records": records, "next": next})
}

/// One key's record over every process: the one with the latest event time of those
/// found (`local` and the peers' answers), or `None` if no process holds the key.
pub fn latest_record(local: Option<Json>, answers: &[PeerAnswer]) -> Option<Json> {
    let found = answers.iter().filter_map(|(_, _, a)| match a {
        Ok((200, record)) => Some(record.clone()),
        _ => None,
    });
    local
        .into_iter()
        .chain(found)
        .max_by(|a, b| a["event_time"].as_str().cmp(&b["event_time"].as_str()))
}
