//! CAD OSE's context memory (Smirnov 2016, "Contextual Anomaly Detector, open-source
//! edition"): a context is a pair of fact sets, left (the previous step's sensor facts and
//! active "neurons") and right (the current sensor facts). Contexts are stored as pairs of
//! shared semi-contexts; each step crosses the current facts with every semi-context,
//! counts how often a context's right side followed its fully matched left side, activates
//! the contexts matched on both sides, and learns new contexts from partial matches.
//!
//! State: every stored context, semi-context and fact index. It grows with what the series
//! teaches and stops at `capacity` contexts (see `ContextMemory::new`).

use hashbrown::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use super::reference_order::{tuple_hash, IntDict};

/// A set of facts seen together on one side of a context, sorted.
pub type Facts = Vec<u64>;

/// A left semi-context: its size, what the last crossing matched and its contexts, keyed
/// by right semi-context.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LeftSemi {
    size: usize,
    crossing: Facts,
    contexts: IntDict,
}

/// A right semi-context: its facts and what the last crossing matched.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RightSemi {
    facts: Facts,
    crossing: Facts,
}

/// One stored context and its statistics.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Context {
    /// Right facts expected while its left side fully matched.
    expected: u64,
    /// Of those, the right facts that did occur.
    occurred: u64,
    /// Steps in which both sides matched completely.
    activations: u64,
    right: u32,
    /// Formed directly from two consecutive steps (not from a crossing).
    zero_level: bool,
    left_hash: i64,
    right_hash: i64,
}

/// What crossing the current sensor facts with the memory found.
pub struct Activation {
    /// `(activations, left hash, right hash, context id)` of the contexts matched on both sides.
    pub active: Vec<(u64, i64, i64, u32)>,
    /// Contexts whose left side matched completely.
    pub selected: usize,
    /// New contexts proposed from partial matches of zero-level contexts.
    pub proposed: Vec<(Facts, Facts)>,
}

/// The context memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContextMemory {
    max_left: usize,
    capacity: usize,
    lefts: Vec<LeftSemi>,
    rights: Vec<RightSemi>,
    left_ids: HashMap<i64, u32>,
    right_ids: HashMap<i64, u32>,
    left_index: HashMap<u64, Vec<u32>>,
    right_index: HashMap<u64, Vec<u32>>,
    crossed_left: Vec<u32>,
    crossed_right: Vec<u32>,
    contexts: Vec<Context>,
    /// The zero-level context created this step (CAD skips it while updating; `0` when
    /// none, which — as in the reference — also skips context 0).
    fresh: u32,
}

impl ContextMemory {
    /// An empty memory; crossings propose new contexts only from left matches of at most
    /// `max_left` facts; at `capacity` contexts it stops storing new ones.
    pub fn new(max_left: usize, capacity: usize) -> ContextMemory {
        ContextMemory {
            max_left,
            capacity,
            lefts: Vec::new(),
            rights: Vec::new(),
            left_ids: HashMap::new(),
            right_ids: HashMap::new(),
            left_index: HashMap::new(),
            right_index: HashMap::new(),
            crossed_left: Vec::new(),
            crossed_right: Vec::new(),
            contexts: Vec::new(),
            fresh: 0,
        }
    }

    /// Number of stored contexts.
    pub fn context_count(&self) -> usize {
        self.contexts.len()
    }

    /// Stores the zero-level context `(left, right)`; true if it is new.
    pub fn remember_step(&mut self, left: &Facts, right: &Facts) -> bool {
        if self.contexts.len() >= self.capacity {
            return false;
        }
        let (id, new) = self.context_of(left, right, true);
        if new {
            self.fresh = id;
        } else {
            self.contexts[id as usize].zero_level = true;
        }
        new
    }

    /// Stores the proposed contexts; returns how many were new.
    pub fn remember(&mut self, proposed: &[(Facts, Facts)]) -> usize {
        let mut added = 0;
        for (left, right) in proposed {
            if self.contexts.len() >= self.capacity {
                break;
            }
            added += usize::from(self.context_of(left, right, false).1);
        }
        added
    }

    fn context_of(&mut self, left: &Facts, right: &Facts, zero_level: bool) -> (u32, bool) {
        let left_hash = tuple_hash(left);
        let right_hash = tuple_hash(right);
        let next = self.lefts.len() as u32;
        let l = *self.left_ids.entry(left_hash).or_insert(next);
        if l == next {
            self.lefts.push(LeftSemi {
                size: left.len(),
                ..LeftSemi::default()
            });
            for &f in left {
                self.left_index.entry(f).or_default().push(l);
            }
        }
        let next = self.rights.len() as u32;
        let r = *self.right_ids.entry(right_hash).or_insert(next);
        if r == next {
            self.rights.push(RightSemi {
                facts: right.clone(),
                crossing: Vec::new(),
            });
            for &f in right {
                self.right_index.entry(f).or_default().push(r);
            }
        }
        let next = self.contexts.len() as u32;
        let id = self.lefts[l as usize].contexts.setdefault(r, next);
        if id == next {
            self.contexts.push(Context {
                expected: 0,
                occurred: 0,
                activations: 0,
                right: r,
                zero_level,
                left_hash,
                right_hash,
            });
        }
        (id, id == next)
    }

    /// Crosses the current sensor facts with the right semi-contexts and updates every
    /// context whose left side matched completely at the last `predict`.
    pub fn activate(&mut self, sensors: &Facts, new_step: bool) -> Activation {
        self.crossed_right = cross(
            &mut self.rights,
            &self.right_index,
            &self.crossed_right,
            sensors,
            |s| &mut s.crossing,
        );
        let mut out = Activation {
            active: Vec::new(),
            selected: 0,
            proposed: Vec::new(),
        };
        for &l in &self.crossed_left {
            let left = &self.lefts[l as usize];
            let full = left.size == left.crossing.len();
            for (r, id) in left.contexts.iter() {
                if id == self.fresh {
                    continue;
                }
                let c = &mut self.contexts[id as usize];
                let right = &self.rights[r as usize];
                let matched = right.crossing.len() as u64;
                let propose =
                    c.zero_level && new_step && matched > 0 && left.crossing.len() <= self.max_left;
                if full {
                    out.selected += 1;
                    c.expected += right.facts.len() as u64;
                    if matched > 0 {
                        c.occurred += matched;
                        if matched == right.facts.len() as u64 {
                            c.activations += 1;
                            out.active
                                .push((c.activations, c.left_hash, c.right_hash, id));
                            continue;
                        }
                    }
                }
                if propose {
                    out.proposed
                        .push((left.crossing.clone(), right.crossing.clone()));
                }
            }
        }
        self.fresh = 0;
        out
    }

    /// Crosses the new left facts with the left semi-contexts; returns the facts predicted
    /// for the next step: the right sides of the fully matched contexts whose right side
    /// occurred most reliably so far.
    pub fn predict(&mut self, left_facts: &Facts) -> HashSet<u64> {
        self.crossed_left = cross(
            &mut self.lefts,
            &self.left_index,
            &self.crossed_left,
            left_facts,
            |s| &mut s.crossing,
        );
        let mut best = 0.0;
        let mut winners: Vec<u32> = Vec::new();
        for &l in &self.crossed_left {
            let left = &self.lefts[l as usize];
            if left.size != left.crossing.len() {
                continue;
            }
            for (_, id) in left.contexts.iter() {
                let c = &self.contexts[id as usize];
                let weight = if c.expected > 0 {
                    c.occurred as f64 / c.expected as f64
                } else {
                    0.0
                };
                if weight > best {
                    best = weight;
                    winners.clear();
                    winners.push(c.right);
                } else if weight == best {
                    winners.push(c.right);
                }
            }
        }
        winners
            .iter()
            .flat_map(|&r| self.rights[r as usize].facts.iter().copied())
            .collect()
    }
}

/// Records in each semi-context the facts of `facts` it holds (the reference walks every
/// semi-context; only those holding a fact can match, so this walks those, in id order).
/// Returns the ids that matched at least one fact.
fn cross<S>(
    semis: &mut [S],
    index: &HashMap<u64, Vec<u32>>,
    previous: &[u32],
    facts: &Facts,
    crossing: impl Fn(&mut S) -> &mut Facts,
) -> Vec<u32> {
    for &id in previous {
        crossing(&mut semis[id as usize]).clear();
    }
    let mut touched = Vec::new();
    for f in facts {
        for &id in index.get(f).map_or(&[][..], Vec::as_slice) {
            let c = crossing(&mut semis[id as usize]);
            if c.is_empty() {
                touched.push(id);
            }
            c.push(*f);
        }
    }
    touched.sort_unstable();
    touched
}
