//! Silences and maintenance windows: a reference table (csv, refreshed live like any
//! `lookup` table) of alert-id patterns with a start and an end. An alert event whose id
//! matches a row's pattern and whose event time is in the row's `[starts, ends)` is not
//! sent; it is counted. Patterns are globs: `*` matches any run of characters, the rest
//! literally (`truck-3/*`, `*/deadman`). As in Alertmanager, receivers that never heard
//! an episode fire are not told it resolved: the resolved event of an episode whose
//! notifications were all silenced is dropped (and counted) too.

use std::collections::HashSet;
use std::sync::Arc;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::ALERT_FIELDS;
use crate::event::Event;
use crate::io::{LookupTable, TableRows};
use crate::time::EventTime;
use crate::value::Value;

/// `silenced by <table>`: the table and the slots of its columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceSpec {
    /// The table's name.
    pub table: String,
    /// Slot of the table's key among its declared fields (the rows hold the others).
    pub key: usize,
    /// Slot of `pattern` (string) among the table's declared fields.
    pub pattern: usize,
    /// Slot of `starts` (timestamp).
    pub starts: usize,
    /// Slot of `ends` (timestamp).
    pub ends: usize,
}

/// One silence, compiled.
struct Window {
    pattern: Regex,
    starts: EventTime,
    ends: EventTime,
}

/// The silences of one operator: the table and its rows compiled, compiled again when
/// the table's snapshot changes.
pub struct Silences {
    spec: SilenceSpec,
    table: Arc<dyn LookupTable>,
    seen: Option<Arc<TableRows>>,
    windows: Vec<Window>,
    /// Ids of firing episodes receivers have not heard of (their events were silenced).
    unheard: HashSet<Arc<str>>,
}

impl Silences {
    /// Silences read from `table`.
    pub fn new(spec: &SilenceSpec, table: Arc<dyn LookupTable>) -> Silences {
        Silences {
            spec: spec.clone(),
            table,
            seen: None,
            windows: Vec::new(),
            unheard: HashSet::new(),
        }
    }

    /// Takes the table's current rows (once per batch of alerts, so a refresh never
    /// splits one).
    fn refresh(&mut self) {
        let rows = self.table.rows();
        if self.seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, &rows)) {
            return;
        }
        let key = self.spec.key;
        self.windows = rows
            .iter()
            .filter_map(|(k, row)| {
                // A declared field: the key, or one of the row's values after it.
                let get = |slot: usize| match slot.cmp(&key) {
                    std::cmp::Ordering::Equal => Some(k),
                    std::cmp::Ordering::Less => row.get(slot),
                    std::cmp::Ordering::Greater => row.get(slot - 1),
                };
                let Some(Value::Str(p)) = get(self.spec.pattern) else {
                    return None;
                };
                let (Some(Value::Time(starts)), Some(Value::Time(ends))) =
                    (get(self.spec.starts), get(self.spec.ends))
                else {
                    return None;
                };
                Some(Window {
                    pattern: glob(p)?,
                    starts: *starts,
                    ends: *ends,
                })
            })
            .collect();
        self.seen = Some(rows);
    }

    /// What a checkpoint saves: the ids of episodes receivers have not heard of, sorted
    /// so that equal states save equal bytes. The compiled silences are not saved: they
    /// are the table's rows, read again after a restart.
    pub fn saved(&self) -> Vec<Arc<str>> {
        let mut ids: Vec<Arc<str>> = self.unheard.iter().cloned().collect();
        ids.sort();
        ids
    }

    /// Adds saved ids. After rescaling every worker takes every old worker's ids: an id
    /// names no key, so it cannot be routed, and one the worker never sees resolved again
    /// only costs its bytes.
    pub fn restore(&mut self, unheard: Vec<Arc<str>>) {
        self.unheard.extend(unheard);
    }

    /// Whether alert `id` at event time `t` is silenced.
    pub fn silences(&self, id: &str, t: EventTime) -> bool {
        self.windows
            .iter()
            .any(|w| w.starts <= t && t < w.ends && w.pattern.is_match(id))
    }
}

impl Silences {
    /// Drops the alert events (records ending in the `alert.*` fields) a silence covers,
    /// and the resolved events of episodes receivers never heard of; returns how many.
    pub fn filter(&mut self, events: &mut Vec<Event>) -> u64 {
        if events.is_empty() {
            return 0;
        }
        self.refresh();
        let before = events.len();
        events.retain(|e| {
            let field = |i: usize| {
                let at = e.record.len().checked_sub(ALERT_FIELDS.len())? + i;
                match e.record.get(at) {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                }
            };
            let (Some(id), Some(state)) = (field(0), field(5)) else {
                return true;
            };
            let firing = &*state == "firing";
            if self.silences(&id, e.time) {
                if firing {
                    self.unheard.insert(id);
                } else {
                    self.unheard.remove(&id);
                }
                return false;
            }
            // Firing again: heard of from now on. Resolved: sent only if heard of.
            let unheard = self.unheard.remove(&id);
            firing || !unheard
        });
        (before - events.len()) as u64
    }
}

/// `*` is any run of characters; everything else is literal; the whole id must match.
fn glob(pattern: &str) -> Option<Regex> {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    Regex::new(&format!("^{}$", parts.join(".*"))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_ids() {
        let g = glob("truck-3/*").expect("glob");
        assert!(g.is_match("truck-3/warm"));
        assert!(!g.is_match("truck-33/warm"));
        assert!(!g.is_match("a truck-3/warm"));
        let g = glob("*/deadman").expect("glob");
        assert!(g.is_match("x.y/deadman"));
        assert!(!g.is_match("x/deadman2"));
        assert!(glob("a.b").expect("glob").is_match("a.b"));
        assert!(!glob("a.b").expect("glob").is_match("axb"));
    }
}
