//! Group keys: the values of a record's key fields, hashed the same way whether owned or
//! borrowed, so a lookup never allocates.

use std::hash::{Hash, Hasher};

use hashbrown::Equivalent;
use rustc_hash::FxHasher;

use crate::value::Value;

/// An owned key: the key fields' values in key order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupKey(pub Box<[Value]>);

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for v in self.0.iter() {
            v.hash(state);
        }
    }
}

impl GroupKey {
    /// The route of the record this key was taken from ([`KeyView::route`]): the
    /// exchange sends it to worker `route % workers`.
    pub fn route(&self) -> u64 {
        let mut h = FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// A borrowed view of a record's key fields.
#[derive(Clone, Copy)]
pub struct KeyView<'a> {
    /// The record.
    pub record: &'a [Value],
    /// Key slots in key order.
    pub slots: &'a [usize],
}

impl Hash for KeyView<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for &s in self.slots {
            self.record[s].hash(state);
        }
    }
}

impl Equivalent<GroupKey> for KeyView<'_> {
    fn equivalent(&self, key: &GroupKey) -> bool {
        key.0.len() == self.slots.len()
            && self
                .slots
                .iter()
                .zip(key.0.iter())
                .all(|(&s, v)| &self.record[s] == v)
    }
}

impl KeyView<'_> {
    /// Copies the key out of the record.
    pub fn to_owned(&self) -> GroupKey {
        GroupKey(self.slots.iter().map(|&s| self.record[s].clone()).collect())
    }

    /// A hash that is the same in every process and on every run, for routing records to
    /// workers.
    pub fn route(&self) -> u64 {
        let mut h = FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn owned_and_borrowed_keys_hash_alike() {
        let record = vec![Value::Int(1), Value::str("dev-1"), Value::Float(2.0)];
        let view = KeyView {
            record: &record,
            slots: &[1, 0],
        };
        let owned = view.to_owned();
        let s = hashbrown::DefaultHashBuilder::default();
        assert_eq!(s.hash_one(view), s.hash_one(&owned));
        assert!(view.equivalent(&owned));
        let other = vec![Value::Int(2), Value::str("dev-1"), Value::Float(2.0)];
        assert!(!KeyView {
            record: &other,
            slots: &[1, 0]
        }
        .equivalent(&owned));
    }
}
