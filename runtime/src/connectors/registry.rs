//! What sinks of a process serve over HTTP, by sink name: filled as the sinks open,
//! read by the HTTP server (`state` stores, `chart` feeds).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

/// Open sinks of one kind, shared by the connectors and the HTTP server.
#[derive(Debug)]
pub struct Registry<T> {
    entries: RwLock<BTreeMap<String, Arc<T>>>,
}

impl<T> Default for Registry<T> {
    fn default() -> Registry<T> {
        Registry {
            entries: RwLock::new(BTreeMap::new()),
        }
    }
}

impl<T> Registry<T> {
    /// Registers sink `name`.
    pub fn insert(&self, name: &str, entry: Arc<T>) {
        self.entries.write().insert(name.to_string(), entry);
    }

    /// Entry `name`, made by `make` if there is none yet (one entry even when several
    /// threads ask at once).
    pub fn get_or_insert_with(&self, name: &str, make: impl FnOnce() -> T) -> Arc<T> {
        Arc::clone(
            self.entries
                .write()
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(make())),
        )
    }

    /// Sink `name`, once opened.
    pub fn get(&self, name: &str) -> Option<Arc<T>> {
        self.entries.read().get(name).cloned()
    }

    /// Every entry, by name.
    pub fn all(&self) -> Vec<(String, Arc<T>)> {
        self.entries
            .read()
            .iter()
            .map(|(n, s)| (n.clone(), Arc::clone(s)))
            .collect()
    }
}
