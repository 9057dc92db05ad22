//! The two orders CAD OSE's reference run (Python 2.7, NAB's `contextOSE`) depended on,
//! reproduced so a port scores the same: Python 2's tuple hash (ties between equally
//! active contexts are broken by it) and the iteration order of a Python 2 dict with
//! integer keys (it decides the order in which new contexts get their ids, and ids become
//! facts). Both are plain arithmetic, written from CPython 2.7's documented algorithms.

use serde::{Deserialize, Serialize};
/// Python 2.7's `hash(tuple_of_ints)` on a 64-bit build (an int hashes to itself).
pub fn tuple_hash(items: &[u64]) -> i64 {
    let mut x: i64 = 0x0034_5678;
    let mut mult: i64 = 1_000_003;
    let mut left = items.len() as i64;
    for &item in items {
        left -= 1;
        x = (x ^ item as i64).wrapping_mul(mult);
        mult = mult.wrapping_add(82_520 + left + left);
    }
    x = x.wrapping_add(97_531);
    if x == -1 {
        -2
    } else {
        x
    }
}

/// A map from small integer keys to ids that iterates like a Python 2.7 dict: open
/// addressing with CPython's perturbed probing, growing to 4× the used entries when two
/// thirds full, entries never removed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IntDict {
    slots: Vec<Option<(u32, u32)>>,
    used: usize,
}

const MIN_SIZE: usize = 8;

impl IntDict {
    /// The id stored for `key`, storing `value` first if there is none.
    pub fn setdefault(&mut self, key: u32, value: u32) -> u32 {
        if self.slots.is_empty() {
            self.slots = vec![None; MIN_SIZE];
        }
        let i = probe(&self.slots, key);
        if let Some((_, v)) = self.slots[i] {
            return v;
        }
        self.slots[i] = Some((key, value));
        self.used += 1;
        if self.used * 3 >= self.slots.len() * 2 {
            self.resize(4 * self.used);
        }
        value
    }

    /// `(key, value)` pairs in the order Python 2 iterates them.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.slots.iter().flatten().copied()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn resize(&mut self, min_used: usize) {
        let mut size = MIN_SIZE;
        while size <= min_used {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        for (k, v) in old.into_iter().flatten() {
            let i = probe(&self.slots, k);
            self.slots[i] = Some((k, v));
        }
    }
}

/// The slot holding `key`, or the empty slot where it goes.
fn probe(slots: &[Option<(u32, u32)>], key: u32) -> usize {
    let mask = slots.len() as u64 - 1;
    let mut i = u64::from(key) & mask;
    let mut perturb = u64::from(key);
    loop {
        let at = (i & mask) as usize;
        match slots[at] {
            None => return at,
            Some((k, _)) if k == key => return at,
            _ => {}
        }
        i = (i << 2)
            .wrapping_add(i)
            .wrapping_add(perturb)
            .wrapping_add(1);
        perturb >>= 5;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_hash_matches_python_2() {
        // Python 2.7.18 (64-bit): hash(()), hash((1, 2)), hash((65536, 65538, 65540, 2**31)).
        assert_eq!(tuple_hash(&[]), 3_527_539);
        assert_eq!(tuple_hash(&[1, 2]), 3_713_081_631_934_410_656);
        assert_eq!(
            tuple_hash(&[65536, 65538, 65540, 1 << 31]),
            -2_109_529_489_361_053_547
        );
    }

    #[test]
    fn int_dict_iterates_like_python_2() {
        // Python 2.7: d = {}; for k in [9, 1, 17, 2]: d.setdefault(k, 0); d.keys()
        let mut d = IntDict::default();
        for k in [9, 1, 17, 2] {
            d.setdefault(k, k * 10);
        }
        assert_eq!(d.setdefault(9, 0), 90);
        let keys: Vec<u32> = d.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [9, 2, 17, 1]);
        // Growing twice: for k in range(40): d.setdefault(k * 7 % 53, 0)
        let mut d = IntDict::default();
        for k in 0..40 {
            d.setdefault(k * 7 % 53, 0);
        }
        let keys: Vec<u32> = d.iter().map(|(k, _)| k).collect();
        let python = [
            0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 19, 20, 21, 23, 24, 26, 27, 28, 30,
            31, 33, 34, 35, 37, 38, 40, 41, 42, 44, 45, 47, 48, 49, 51, 52,
        ];
        assert_eq!(keys, python);
    }
}
