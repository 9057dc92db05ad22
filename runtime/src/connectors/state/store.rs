//! The latest record per key, by event time: in memory for reads, in redb for restarts.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use redb::{Database, Durability, ReadableTable, TableDefinition};
use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::time::EventTime;
use weir_engine::value::Value;

use super::StateConfig;
use crate::format::json::JsonEncoder;

/// key → (event time, the record as JSON).
const LATEST: TableDefinition<&str, (i64, &str)> = TableDefinition::new("latest");

/// Why the on-disk copy failed.
#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {reason}")]
pub struct StateError {
    path: String,
    reason: String,
}

/// A redb failure as text (redb's own error type is large to pass around).
#[derive(Debug)]
struct DbError(String);

impl<E: Into<redb::Error>> From<E> for DbError {
    fn from(e: E) -> DbError {
        DbError(e.into().to_string())
    }
}

/// One key's latest record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its event time, epoch milliseconds.
    pub event_time: EventTime,
    /// The record as a JSON object.
    pub json: Arc<str>,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// (key, entry), in key order.
    pub entries: Vec<(String, Entry)>,
    /// The last key of this page when more follow (pass it as `after`).
    pub next: Option<String>,
}

/// The store behind one `state` sink, shared by the workers of a process.
pub struct LatestStore {
    key: String,
    key_slot: usize,
    ttl_ms: Option<i64>,
    encoder: JsonEncoder,
    entries: RwLock<BTreeMap<String, Entry>>,
    /// The greatest event time written: the clock `ttl` counts on.
    newest: AtomicI64,
    db: Database,
    path: String,
}

impl std::fmt::Debug for LatestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatestStore")
            .field("key", &self.key)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LatestStore {
    /// Opens (or creates) the store at `path` for records of `schema`, loading what a
    /// previous run left there.
    pub fn open(
        config: &StateConfig,
        path: &Path,
        schema: &Schema,
    ) -> Result<LatestStore, StateError> {
        let shown = path.display().to_string();
        let fail = |reason: String| StateError {
            path: shown.clone(),
            reason,
        };
        let key_slot = schema
            .slot(&config.key)
            .ok_or_else(|| fail(format!("the records have no field `{}`", config.key)))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        if !path.exists() {
            create_atomically(path).map_err(|e| fail(e.0))?;
        }
        let db = Database::create(path).map_err(|e| fail(e.to_string()))?;
        let entries = load(&db).map_err(|e| fail(e.0))?;
        let newest = entries
            .values()
            .map(|e| e.event_time)
            .max()
            .unwrap_or(i64::MIN);
        Ok(LatestStore {
            key: config.key.clone(),
            key_slot,
            ttl_ms: config.ttl_ms,
            encoder: JsonEncoder::new(schema),
            entries: RwLock::new(entries),
            newest: AtomicI64::new(newest),
            db,
            path: shown,
        })
    }

    /// The key field's name.
    pub fn key_field(&self) -> &str {
        &self.key
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The latest record of `key`, unless expired.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let entry = self.entries.read().get(key).cloned()?;
        self.live(&entry).then_some(entry)
    }

    /// Up to `limit` keys starting with `prefix`, after key `after`, in key order.
    pub fn page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Page {
        let entries = self.entries.read();
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a.to_string()),
            _ => Bound::Included(prefix.to_string()),
        };
        let mut matching = entries
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, e)| self.live(e));
        let page: Vec<(String, Entry)> = matching
            .by_ref()
            .take(limit)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        let next = match matching.next() {
            Some(_) => page.last().map(|(k, _)| k.clone()),
            None => None,
        };
        Page {
            entries: page,
            next,
        }
    }

    fn live(&self, entry: &Entry) -> bool {
        match self.ttl_ms {
            Some(ttl) => {
                entry.event_time >= self.newest.load(Ordering::Relaxed).saturating_sub(ttl)
            }
            None => true,
        }
    }

    /// Keeps each event that is newer than its key's record; returns the changed keys.
    fn apply(&self, events: &[Event]) -> Vec<(String, Entry)> {
        let mut changed = Vec::new();
        let mut entries = self.entries.write();
        let mut json = Vec::with_capacity(256);
        for event in events {
            let Some(key) = key_text(event.record.get(self.key_slot)) else {
                continue;
            };
            if entries
                .get(&key)
                .is_some_and(|old| old.event_time > event.time)
            {
                continue;
            }
            json.clear();
            if self.encoder.encode(&event.record, &mut json).is_err() {
                continue;
            }
            let text = String::from_utf8_lossy(json.trim_ascii_end());
            let entry = Entry {
                event_time: event.time,
                json: Arc::from(text.as_ref()),
            };
            entries.insert(key.clone(), entry.clone());
            changed.push((key, entry));
        }
        if let Some(max) = events.iter().map(|e| e.time).max() {
            self.newest.fetch_max(max, Ordering::Relaxed);
        }
        changed
    }

    /// Drops expired keys from memory and disk.
    fn expire(&self) -> Result<(), DbError> {
        let Some(ttl) = self.ttl_ms else {
            return Ok(());
        };
        let horizon = self.newest.load(Ordering::Relaxed).saturating_sub(ttl);
        let gone: Vec<String> = {
            let mut entries = self.entries.write();
            let gone: Vec<String> = entries
                .iter()
                .filter(|(_, e)| e.event_time < horizon)
                .map(|(k, _)| k.clone())
                .collect();
            for k in &gone {
                entries.remove(k);
            }
            gone
        };
        if gone.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(LATEST)?;
            for k in &gone {
                table.remove(k.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn persist(&self, changed: &[(String, Entry)], durability: Durability) -> Result<(), DbError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(durability);
        {
            let mut table = txn.open_table(LATEST)?;
            for (k, e) in changed {
                table.insert(k.as_str(), (e.event_time, e.json.as_ref()))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn io_error(&self, e: DbError) -> IoError {
        IoError::Other(format!("state store {}: {}", self.path, e.0))
    }
}

impl SinkWriter for LatestStore {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let changed = self.apply(events);
        if changed.is_empty() {
            return Ok(());
        }
        // Not fsynced per batch (that would bound the sink by disk latency); flush at the
        // end of the run makes everything durable.
        self.persist(&changed, Durability::Eventual)
            .map_err(|e| self.io_error(e))?;
        self.expire().map_err(|e| self.io_error(e))
    }

    fn flush(&self) -> Result<(), IoError> {
        self.persist(&[], Durability::Immediate)
            .map_err(|e| self.io_error(e))
    }

    /// Under checkpoints: makes what was written so far durable (one fsync per
    /// checkpoint). Nothing needs remembering: the store keeps the latest record per key
    /// by event time, so the records a restore replays after the checkpoint write each
    /// key's entry again as an uninterrupted run would.
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        self.flush()?;
        Ok(None)
    }
}

/// Creates an empty store at `path` under another name and renames it into place: redb
/// sizes a new file before it writes its header, so a run killed while creating it left
/// a file no later run could open ("invalid data").
fn create_atomically(path: &Path) -> Result<(), DbError> {
    let io = |e: std::io::Error| DbError(e.to_string());
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    let fresh = std::path::PathBuf::from(name);
    match std::fs::remove_file(&fresh) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    drop(Database::create(&fresh)?);
    std::fs::rename(&fresh, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

fn load(db: &Database) -> Result<BTreeMap<String, Entry>, DbError> {
    let txn = db.begin_write()?;
    let mut entries = BTreeMap::new();
    {
        let table = txn.open_table(LATEST)?;
        for row in table.iter()? {
            let (k, v) = row?;
            let (event_time, json) = v.value();
            entries.insert(
                k.value().to_string(),
                Entry {
                    event_time,
                    json: Arc::from(json),
                },
            );
        }
    }
    txn.commit()?;
    Ok(entries)
}

/// A key value as text: strings as they are, other values as written in a record.
fn key_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::Str(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}
