//! Idempotency keys for sinks that deliver at least once (webhook, MQTT): a message sent
//! again after a restore carries the key it had the first time, so a receiver can drop
//! the repeat.
//!
//! A key is the FNV-1a hash of the sink's name, the message as sent, and how many equal
//! messages this sink sent before it since the last checkpoint. A replay after a restore
//! starts at that checkpoint and produces the same messages in the same epochs, so each
//! gets the same key; two equal messages of one epoch still get two keys.

use std::collections::HashMap;
use std::hash::Hasher;

use fnv::FnvHasher;
use parking_lot::Mutex;

/// Counts kept at most: past this many distinct messages since the last checkpoint (a
/// long run without checkpoints), counting starts over, so memory stays bounded; only
/// equal messages on both sides of that point can then share a key.
const MAX_TRACKED: usize = 100_000;

/// The keys of one sink; shared by the workers of a process.
pub struct IdempotencyKeys {
    sink: String,
    /// Messages sent since the last checkpoint, by content hash: how many.
    seen: Mutex<HashMap<u64, u32>>,
}

impl IdempotencyKeys {
    /// Keys for sink `sink`.
    pub fn new(sink: &str) -> IdempotencyKeys {
        IdempotencyKeys {
            sink: sink.to_string(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The key of `message` (16 hex digits), counting it as sent.
    pub fn key(&self, message: &[u8]) -> String {
        let mut content = FnvHasher::default();
        content.write(self.sink.as_bytes());
        content.write_u8(0);
        content.write(message);
        let content = content.finish();
        let occurrence = {
            let mut seen = self.seen.lock();
            if seen.len() >= MAX_TRACKED && !seen.contains_key(&content) {
                seen.clear();
            }
            let n = seen.entry(content).or_insert(0);
            *n += 1;
            *n - 1
        };
        let mut key = FnvHasher::with_key(content);
        key.write_u32(occurrence);
        format!("{:016x}", key.finish())
    }

    /// A checkpoint's cut (or a restore): counting starts over, as it does in a replay
    /// from this point.
    pub fn checkpoint(&self) {
        self.seen.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_from_the_checkpoint_gets_the_same_keys() {
        let messages: [&[u8]; 4] = [b"{\"a\":1}", b"{\"a\":2}", b"{\"a\":1}", b"{\"a\":3}"];
        let first = IdempotencyKeys::new("hook");
        first.key(b"before the checkpoint");
        first.checkpoint();
        let sent: Vec<String> = messages.iter().map(|m| first.key(m)).collect();
        // Equal messages of one epoch get different keys; others differ anyway.
        assert_ne!(sent[0], sent[2]);
        let unique: std::collections::HashSet<&String> = sent.iter().collect();
        assert_eq!(unique.len(), 4);
        // A new process restored from the checkpoint sends them again.
        let replay = IdempotencyKeys::new("hook");
        replay.checkpoint();
        let again: Vec<String> = messages.iter().map(|m| replay.key(m)).collect();
        assert_eq!(again, sent);
        // Another sink's keys differ for the same messages.
        let other = IdempotencyKeys::new("other");
        assert_ne!(other.key(messages[0]), sent[0]);
    }
}
