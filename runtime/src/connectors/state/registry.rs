//! The open `state` stores of a process, by sink name: filled as sinks open, read by
//! the HTTP server.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::LatestStore;

/// The `state` sinks of a run, shared by the connectors and the HTTP server.
#[derive(Debug, Default)]
pub struct StateStores {
    stores: RwLock<BTreeMap<String, Arc<LatestStore>>>,
}

impl StateStores {
    /// Registers sink `name`'s store.
    pub fn insert(&self, name: &str, store: Arc<LatestStore>) {
        self.stores.write().insert(name.to_string(), store);
    }

    /// Sink `name`'s store, once opened.
    pub fn get(&self, name: &str) -> Option<Arc<LatestStore>> {
        self.stores.read().get(name).cloned()
    }

    /// Every store, by name.
    pub fn all(&self) -> Vec<(String, Arc<LatestStore>)> {
        self.stores
            .read()
            .iter()
            .map(|(n, s)| (n.clone(), Arc::clone(s)))
            .collect()
    }
}
