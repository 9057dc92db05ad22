//! Per-key operator state in a checkpoint: saved as the whole map, restored keeping only
//! the keys the restoring worker owns under the current worker count (rescaling).

use hashbrown::HashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::key::GroupKey;
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
