//! Flapping detection as in Kapacitor (Nagios style): the last `history` levels of a key,
//! a weighted share of changes between neighbours (weights rising linearly from 0.8 for
//! the oldest change to 1.2 for the newest) divided by the number of neighbour pairs.
//! Flapping starts when the share rises above `high` and ends when it falls below `low`.

use super::{FlappingSpec, Level};
use serde::{Deserialize, Serialize};

/// One key's level history: a ring of `history` levels, all OK at first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlapHistory {
    levels: Vec<Level>,
    next: usize,
    flapping: bool,
}

impl FlapHistory {
    /// A history of `len` OK levels.
    pub fn new(len: usize) -> FlapHistory {
        FlapHistory {
            levels: vec![Level::Ok; len.max(2)],
            next: 0,
            flapping: false,
        }
    }

    /// Records `level` and returns whether the key is flapping now.
    pub fn push(&mut self, level: Level, spec: &FlappingSpec) -> bool {
        let len = self.levels.len();
        self.levels[self.next] = level;
        self.next = (self.next + 1) % len;
        let share = self.share();
        if self.flapping {
            self.flapping = share >= spec.low;
        } else {
            self.flapping = share > spec.high;
        }
        self.flapping
    }

    /// Whether the key was flapping after the last level.
    pub fn is_flapping(&self) -> bool {
        self.flapping
    }

    /// The weighted share of changes, oldest first from `next`.
    pub fn share(&self) -> f64 {
        let len = self.levels.len();
        let pairs = (len - 1) as f64;
        let mut changes = 0.0;
        for i in 0..len - 1 {
            let older = self.levels[(self.next + i) % len];
            let newer = self.levels[(self.next + i + 1) % len];
            if older != newer {
                let weight = if len > 2 {
                    0.8 + 0.4 * i as f64 / (len - 2) as f64
                } else {
                    1.0
                };
                changes += weight;
            }
        }
        changes / pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_flapping_starts_above_high_and_ends_below_low() {
        let spec = FlappingSpec {
            low: 0.2,
            high: 0.5,
            history: 6,
        };
        let mut h = FlapHistory::new(6);
        let mut seen = Vec::new();
        for l in [
            Level::Critical,
            Level::Ok,
            Level::Critical,
            Level::Ok,
            Level::Critical,
        ] {
            seen.push(h.push(l, &spec));
        }
        // ok…ok→crit→ok→crit: the three newest pairs change (1.0 + 1.1 + 1.2) / 5 = 0.66.
        assert_eq!(seen, vec![false, false, true, true, true]);
        for _ in 0..3 {
            h.push(Level::Critical, &spec);
        }
        assert!(h.is_flapping(), "two recent changes still weigh above low");
        for _ in 0..3 {
            h.push(Level::Critical, &spec);
        }
        assert!(!h.is_flapping());
    }
}
