//! `rcf`: a robust random cut forest (Guha et al., ICML 2016) over shingles of the last
//! `shingle` values. Each tree holds the most recent `sample` shingles; a new shingle's
//! score is its collusive displacement (CoDisp) averaged over the trees, calibrated to
//! 0..1 as a Gaussian tail of log-CoDisp against its own recent history.
//!
//! State per key: `trees × (2·sample)` nodes with a `2·shingle`-float bounding box each,
//! `sample + shingle` recent values, and `sample` recent log-CoDisp values.
//! Cuts come from a PCG generator seeded by `seed`, so runs are reproducible.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use super::normal::upper_tail;
use super::rolling::Rolling;
use super::{Detector, Verdict};

/// Parameters of `rcf(trees: 50, sample: 256, shingle: 4, seed: 1, threshold: 0.99)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RcfParams {
    /// Number of trees.
    pub trees: usize,
    /// Shingles per tree (the most recent ones).
    pub sample: usize,
    /// Consecutive values per point.
    pub shingle: usize,
    /// Seed of the cut generator.
    pub seed: u64,
    /// `is_anomaly` when the calibrated score reaches this.
    pub threshold: f64,
}

impl Default for RcfParams {
    fn default() -> Self {
        RcfParams {
            trees: 40,
            sample: 256,
            shingle: 4,
            seed: 1,
            threshold: 0.99,
        }
    }
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    parent: u32,
    /// Children (`NONE` for a leaf).
    left: u32,
    right: u32,
    dim: usize,
    cut: f64,
    /// Number of points below (duplicates count).
    count: usize,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Node {
    fn is_leaf(&self) -> bool {
        self.left == NONE
    }
}

/// One tree over a FIFO sample of points.
#[derive(Clone, Debug)]
struct Tree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    /// Leaf of each held point, oldest first.
    leaves: VecDeque<u32>,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NONE,
            leaves: VecDeque::new(),
        }
    }

    fn alloc(&mut self, node: Node) -> u32 {
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn leaf(point: &[f64]) -> Node {
        Node {
            parent: NONE,
            left: NONE,
            right: NONE,
            dim: 0,
            cut: 0.0,
            count: 1,
            min: point.to_vec(),
            max: point.to_vec(),
        }
    }

    /// Inserts `point`, returning its leaf.
    fn insert(&mut self, point: &[f64], rng: &mut Pcg64Mcg) -> u32 {
        if self.root == NONE {
            self.root = self.alloc(Tree::leaf(point));
            return self.root;
        }
        let mut node = self.root;
        loop {
            let n = &self.nodes[node as usize];
            if n.is_leaf() && n.min.as_slice() == point {
                self.bump(node, point, 1);
                return node;
            }
            // A random cut of the box spanned by the node's points and `point`.
            let spans: Vec<f64> = (0..point.len())
                .map(|d| n.max[d].max(point[d]) - n.min[d].min(point[d]))
                .collect();
            let total: f64 = spans.iter().sum();
            let mut r = rng.gen::<f64>() * total;
            let mut dim = 0;
            while dim + 1 < spans.len() && r > spans[dim] {
                r -= spans[dim];
                dim += 1;
            }
            let cut = n.min[dim].min(point[dim]) + r;
            let (lo, hi) = (n.min[dim], n.max[dim]);
            if cut < lo || cut >= hi {
                // The cut separates `point` from every point below `node`.
                let point_left = cut < lo;
                let parent = n.parent;
                let min: Vec<f64> = n.min.iter().zip(point).map(|(a, b)| a.min(*b)).collect();
                let max: Vec<f64> = n.max.iter().zip(point).map(|(a, b)| a.max(*b)).collect();
                let count = n.count + 1;
                let leaf = self.alloc(Tree::leaf(point));
                let (left, right) = if point_left {
                    (leaf, node)
                } else {
                    (node, leaf)
                };
                let branch = self.alloc(Node {
                    parent,
                    left,
                    right,
                    dim,
                    cut,
                    count,
                    min,
                    max,
                });
                self.nodes[leaf as usize].parent = branch;
                self.nodes[node as usize].parent = branch;
                if parent == NONE {
                    self.root = branch;
                } else {
                    let p = &mut self.nodes[parent as usize];
                    if p.left == node {
                        p.left = branch;
                    } else {
                        p.right = branch;
                    }
                    self.bump(parent, point, 1);
                }
                return leaf;
            }
            node = if point[n.dim] <= n.cut {
                n.left
            } else {
                n.right
            };
        }
    }

    /// Adds `delta` points at `point` to `node` and its ancestors, growing their boxes.
    fn bump(&mut self, mut node: u32, point: &[f64], delta: usize) {
        while node != NONE {
            let n = &mut self.nodes[node as usize];
            n.count += delta;
            for ((lo, hi), &p) in n.min.iter_mut().zip(n.max.iter_mut()).zip(point) {
                *lo = lo.min(p);
                *hi = hi.max(p);
            }
            node = n.parent;
        }
    }

    /// Removes one point from `leaf`.
    fn remove(&mut self, leaf: u32) {
        if self.nodes[leaf as usize].count > 1 {
            let mut node = leaf;
            while node != NONE {
                self.nodes[node as usize].count -= 1;
                node = self.nodes[node as usize].parent;
            }
            return;
        }
        let parent = self.nodes[leaf as usize].parent;
        self.free.push(leaf);
        if parent == NONE {
            self.root = NONE;
            return;
        }
        let p = &self.nodes[parent as usize];
        let sibling = if p.left == leaf { p.right } else { p.left };
        let grand = p.parent;
        self.free.push(parent);
        self.nodes[sibling as usize].parent = grand;
        if grand == NONE {
            self.root = sibling;
            return;
        }
        let g = &mut self.nodes[grand as usize];
        if g.left == parent {
            g.left = sibling;
        } else {
            g.right = sibling;
        }
        // Shrink counts and boxes on the way up.
        let mut node = grand;
        while node != NONE {
            let (l, r) = (
                self.nodes[node as usize].left,
                self.nodes[node as usize].right,
            );
            let dims = self.nodes[node as usize].min.len();
            for d in 0..dims {
                let lo = self.nodes[l as usize].min[d].min(self.nodes[r as usize].min[d]);
                let hi = self.nodes[l as usize].max[d].max(self.nodes[r as usize].max[d]);
                self.nodes[node as usize].min[d] = lo;
                self.nodes[node as usize].max[d] = hi;
            }
            self.nodes[node as usize].count -= 1;
            node = self.nodes[node as usize].parent;
        }
    }

    /// Collusive displacement of `leaf`: the largest ratio, over its ancestors, of the
    /// sibling subtree's size to the size of the subtree holding the leaf.
    fn codisp(&self, leaf: u32) -> f64 {
        let mut node = leaf;
        let mut best: f64 = 0.0;
        while node != self.root {
            let n = &self.nodes[node as usize];
            let p = &self.nodes[n.parent as usize];
            let sibling = if p.left == node { p.right } else { p.left };
            best = best.max(self.nodes[sibling as usize].count as f64 / n.count as f64);
            node = n.parent;
        }
        best
    }
}

/// The running detector.
#[derive(Clone, Debug)]
pub struct Rcf {
    params: RcfParams,
    trees: Vec<Tree>,
    rng: Pcg64Mcg,
    recent: VecDeque<f64>,
    calibration: Rolling,
}

impl Rcf {
    /// An empty forest.
    pub fn new(params: RcfParams) -> Rcf {
        let params = RcfParams {
            trees: params.trees.max(1),
            sample: params.sample.max(4),
            shingle: params.shingle.max(1),
            ..params
        };
        Rcf {
            trees: (0..params.trees).map(|_| Tree::new()).collect(),
            rng: Pcg64Mcg::seed_from_u64(params.seed),
            recent: VecDeque::with_capacity(params.shingle),
            calibration: Rolling::new(params.sample),
            params,
        }
    }
}

impl Detector for Rcf {
    fn update(&mut self, x: f64) -> Verdict {
        if self.recent.len() == self.params.shingle {
            self.recent.pop_front();
        }
        self.recent.push_back(x);
        if self.recent.len() < self.params.shingle {
            return Verdict::NORMAL;
        }
        let point: Vec<f64> = self.recent.iter().copied().collect();
        let mut total = 0.0;
        let warm = self.trees[0].leaves.len() >= self.params.sample;
        for tree in &mut self.trees {
            if tree.leaves.len() >= self.params.sample {
                if let Some(old) = tree.leaves.pop_front() {
                    tree.remove(old);
                }
            }
            let leaf = tree.insert(&point, &mut self.rng);
            tree.leaves.push_back(leaf);
            total += tree.codisp(leaf);
        }
        let log_codisp = (1.0 + total / self.trees.len() as f64).ln();
        let verdict = if warm && self.calibration.len() >= 2 {
            let sd = self.calibration.std_dev().max(1e-9);
            let z = (log_codisp - self.calibration.mean()) / sd;
            let score = 1.0 - upper_tail(z);
            Verdict {
                score,
                is_anomaly: score >= self.params.threshold,
            }
        } else {
            Verdict::NORMAL
        };
        self.calibration.push(log_codisp);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (i as f64 * 0.3).sin() * 5.0 + 20.0)
            .collect()
    }

    #[test]
    fn an_outlier_stands_out_and_runs_are_reproducible() {
        let params = RcfParams {
            trees: 20,
            sample: 64,
            ..RcfParams::default()
        };
        let run = || {
            let mut d = Rcf::new(params.clone());
            let mut data = series(400);
            data[300] = 60.0;
            data.iter().map(|&x| d.update(x).score).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let max_before = a[100..300].iter().cloned().fold(0.0, f64::max);
        assert!(a[300] > 0.99, "outlier score {}", a[300]);
        assert!(a[300] > max_before);
    }

    #[test]
    fn tree_stays_bounded_and_consistent() {
        let mut d = Rcf::new(RcfParams {
            trees: 3,
            sample: 16,
            shingle: 2,
            ..RcfParams::default()
        });
        for x in series(500).into_iter().chain(std::iter::repeat_n(1.0, 50)) {
            d.update(x);
        }
        for tree in &d.trees {
            assert_eq!(tree.leaves.len(), 16);
            assert_eq!(tree.nodes[tree.root as usize].count, 16);
            assert!(tree.nodes.len() <= 2 * 16 + 2);
        }
    }
}
