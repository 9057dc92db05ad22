//! Per-key operator state in a checkpoint: saved as the whole map, restored keeping only
//! the keys the restoring worker owns under the current worker count (rescaling).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::time::EventTime;
use crate::worker::WorkerContext;

/// `map` encoded for a checkpoint part.
pub fn save_map<V: Serialize>(map: &HashMap<GroupKey, V>) -> Result<Vec<u8>, bincode::Error> {
    bincode::serialize(map)
}

/// Adds the entries of one old worker's saved map whose keys `owns` accepts.
pub fn load_map<V: DeserializeOwned>(
    bytes: &[u8],
    owns: &dyn Fn(&GroupKey) -> bool,
    into: &mut HashMap<GroupKey, V>,
) -> Result<(), bincode::Error> {
    let old: HashMap<GroupKey, V> = bincode::deserialize(bytes)?;
    into.extend(old.into_iter().filter(|(k, _)| owns(k)));
    Ok(())
}

/// The encoded state, or `None` after failing the run with a message naming `what`.
pub fn or_fail(
    what: &str,
    encoded: Result<Vec<u8>, bincode::Error>,
    ctx: &WorkerContext,
) -> Option<Vec<u8>> {
    match encoded {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            ctx.fail(format!("{what}: cannot write its checkpoint: {e}"));
            None
        }
    }
}

/// Records an operator holds until the watermark passes them, by the time they act at.
pub type Pending = BTreeMap<EventTime, Vec<Event>>;

/// Adds the records of one old worker's `pending` whose key (the fields `slots`) `owns`
/// accepts.
pub fn load_pending(
    old: Pending,
    slots: &[usize],
    owns: &dyn Fn(&GroupKey) -> bool,
    into: &mut Pending,
) {
    for (at, events) in old {
        let kept: Vec<Event> = events
            .into_iter()
            .filter(|e| {
                let view = KeyView {
                    record: &e.record,
                    slots,
                };
                owns(&view.to_owned())
            })
            .collect();
        if !kept.is_empty() {
            into.entry(at).or_default().extend(kept);
        }
    }
}
