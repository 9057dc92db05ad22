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

/// A node's links, cut and size; its bounding box lives in the tree's flat `bounds`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Node {
    parent: u32,
    /// Children (`NONE` for a leaf).
    left: u32,
    right: u32,
    dim: u32,
    cut: f64,
    /// Number of points below (duplicates count); a branch's is the sum of its children's.
    count: u32,
}

impl Node {
    fn is_leaf(&self) -> bool {
        self.left == NONE
    }
}

/// One tree over a FIFO sample of points. Boxes are stored flat in `bounds`, so an update
/// allocates nothing once the tree is full.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tree {
    dims: usize,
    nodes: Vec<Node>,
    /// From `skew` on, per node, its box's `dims` lower then `dims` upper ends.
    bounds: Vec<f64>,
    /// Unused values before the first box, so that boxes start on a cache line (a box of
    /// shingle 4 is then one line, not two); only speed depends on it.
    skew: usize,
    free: Vec<u32>,
    root: u32,
    /// Leaf of each held point, oldest first.
    leaves: VecDeque<u32>,
    /// Scratch: the spans of the box a cut is drawn in.
    spans: Vec<f64>,
    /// Scratch: a box being computed, lower then upper ends.
    grown: Vec<f64>,
}

impl Tree {
    fn new(dims: usize, sample: usize) -> Tree {
        // A full tree has `sample` leaves and `sample - 1` branches; reserving them up front
        // keeps the boxes where `skew` aligned them.
        let mut bounds: Vec<f64> = Vec::with_capacity(2 * sample * 2 * dims + 8);
        let skew = (64 - bounds.as_ptr() as usize % 64) % 64 / 8;
        bounds.resize(skew, 0.0);
        Tree {
            dims,
            nodes: Vec::with_capacity(2 * sample),
            bounds,
            skew,
            free: Vec::new(),
            root: NONE,
            leaves: VecDeque::new(),
            spans: vec![0.0; dims],
            grown: vec![0.0; 2 * dims],
        }
    }

    /// Stores `node`; its box is left for the caller to write.
    fn alloc(&mut self, node: Node) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.bounds.resize(self.bounds.len() + 2 * self.dims, 0.0);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// A new leaf holding `point` once.
    #[inline(always)]
    fn leaf<K: Dims>(&mut self, k: K, point: &[f64], parent: u32) -> u32 {
        let i = self.alloc(Node {
            parent,
            left: NONE,
            right: NONE,
            dim: 0,
            cut: 0.0,
            count: 1,
        });
        let dims = k.get();
        let at = self.skew + i as usize * 2 * dims;
        let (lo, hi) = self.bounds[at..at + 2 * dims].split_at_mut(dims);
        lo.copy_from_slice(&point[..dims]);
        hi.copy_from_slice(&point[..dims]);
        i
    }

    /// Inserts `point` and returns its leaf and its collusive displacement (CoDisp).
    fn insert(&mut self, point: &[f64], rng: &mut Pcg64Mcg) -> (u32, f64) {
        match self.dims {
            1 => self.insert_in(Fixed::<1>, point, rng),
            2 => self.insert_in(Fixed::<2>, point, rng),
            3 => self.insert_in(Fixed::<3>, point, rng),
            4 => self.insert_in(Fixed::<4>, point, rng),
            5 => self.insert_in(Fixed::<5>, point, rng),
            6 => self.insert_in(Fixed::<6>, point, rng),
            8 => self.insert_in(Fixed::<8>, point, rng),
            d => self.insert_in(Any(d), point, rng),
        }
    }

    /// `insert` with `k` values per point. CoDisp is the largest ratio, over the leaf's
    /// ancestors, of the sibling subtree's size to the size of the subtree holding the
    /// leaf. One walk down does it all: each node passed gets the point counted and its box
    /// grown, and each edge passed gives one CoDisp ratio (a branch's count is its
    /// children's sum, so the sibling's is known without a visit).
    #[inline(always)]
    fn insert_in<K: Dims>(&mut self, k: K, point: &[f64], rng: &mut Pcg64Mcg) -> (u32, f64) {
        if self.root == NONE {
            self.root = self.leaf(k, point, NONE);
            return (self.root, 0.0);
        }
        let dims = k.get();
        let point = &point[..dims];
        let mut node = self.root;
        let mut best: f64 = 0.0;
        // The count of the node just passed, before this point (none above the root).
        let mut above: Option<u32> = None;
        let Tree {
            nodes,
            bounds,
            spans,
            grown,
            skew,
            ..
        } = self;
        let spans = &mut spans[..dims];
        let (grown_lo, grown_hi) = grown[..2 * dims].split_at_mut(dims);
        let (node, cut, dim, point_left) = loop {
            let n = nodes[node as usize];
            if let Some(total) = above {
                best = best.max(f64::from(total - n.count) / f64::from(n.count + 1));
            }
            let at = *skew + node as usize * 2 * dims;
            let (lo, hi) = bounds[at..at + 2 * dims].split_at_mut(dims);
            if n.is_leaf() && &*lo == point {
                nodes[node as usize].count += 1;
                return (node, best);
            }
            // A random cut of the box spanned by the node's points and `point`.
            let mut total = 0.0;
            for d in 0..dims {
                grown_lo[d] = lower(lo[d], point[d]);
                grown_hi[d] = upper(hi[d], point[d]);
                spans[d] = grown_hi[d] - grown_lo[d];
                total += spans[d];
            }
            let mut r = rng.gen::<f64>() * total;
            let mut dim = 0;
            while dim + 1 < dims && r > spans[dim] {
                r -= spans[dim];
                dim += 1;
            }
            let cut = grown_lo[dim] + r;
            if cut < lo[dim] || cut >= hi[dim] {
                break (node, cut, dim, cut < lo[dim]);
            }
            // No cut here: the point goes below, inside this node's grown box.
            lo.copy_from_slice(grown_lo);
            hi.copy_from_slice(grown_hi);
            nodes[node as usize].count += 1;
            above = Some(n.count);
            node = if point[n.dim as usize] <= n.cut {
                n.left
            } else {
                n.right
            };
        };
        best = best.max(f64::from(self.nodes[node as usize].count));
        (self.split(k, node, point, (dim, cut, point_left)), best)
    }

    /// Puts a new branch cutting `point`'s new leaf off from `node`'s subtree (whose
    /// ancestors already count the point); the branch's box is the one in `grown`.
    #[inline(always)]
    fn split<K: Dims>(
        &mut self,
        k: K,
        node: u32,
        point: &[f64],
        (dim, cut, point_left): (usize, f64, bool),
    ) -> u32 {
        let n = self.nodes[node as usize];
        let leaf = self.leaf(k, point, NONE);
        let (left, right) = if point_left {
            (leaf, node)
        } else {
            (node, leaf)
        };
        let branch = self.alloc(Node {
            parent: n.parent,
            left,
            right,
            dim: dim as u32,
            cut,
            count: n.count + 1,
        });
        let dims = k.get();
        let at = self.skew + branch as usize * 2 * dims;
        self.bounds[at..at + 2 * dims].copy_from_slice(&self.grown[..2 * dims]);
        self.nodes[leaf as usize].parent = branch;
        self.nodes[node as usize].parent = branch;
        let parent = n.parent;
        if parent == NONE {
            self.root = branch;
        } else {
            let p = &mut self.nodes[parent as usize];
            if p.left == node {
                p.left = branch;
            } else {
                p.right = branch;
            }
        }
        leaf
    }

    /// Removes one point from `leaf`.
    fn remove(&mut self, leaf: u32) {
        if self.nodes[leaf as usize].count > 1 {
            let mut node = leaf;
            while node != NONE {
                let n = &mut self.nodes[node as usize];
                n.count -= 1;
                node = n.parent;
            }
            return;
        }
        let parent = self.nodes[leaf as usize].parent;
        self.free.push(leaf);
        if parent == NONE {
            self.root = NONE;
            return;
        }
        let p = self.nodes[parent as usize];
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
        self.shrink(grand);
    }

    /// Recomputes boxes from `node` up while they change, and counts one point fewer.
    fn shrink(&mut self, node: u32) {
        match self.dims {
            1 => self.shrink_in(Fixed::<1>, node),
            2 => self.shrink_in(Fixed::<2>, node),
            3 => self.shrink_in(Fixed::<3>, node),
            4 => self.shrink_in(Fixed::<4>, node),
            5 => self.shrink_in(Fixed::<5>, node),
            6 => self.shrink_in(Fixed::<6>, node),
            8 => self.shrink_in(Fixed::<8>, node),
            d => self.shrink_in(Any(d), node),
        }
    }

    #[inline(always)]
    fn shrink_in<K: Dims>(&mut self, k: K, mut node: u32) {
        let dims = k.get();
        let Tree {
            nodes,
            bounds,
            grown,
            skew,
            ..
        } = self;
        let merged = &mut grown[..2 * dims];
        while node != NONE {
            let n = nodes[node as usize];
            nodes[node as usize].count -= 1;
            let (l, r) = (
                *skew + n.left as usize * 2 * dims,
                *skew + n.right as usize * 2 * dims,
            );
            let (left, right) = (&bounds[l..l + 2 * dims], &bounds[r..r + 2 * dims]);
            for d in 0..dims {
                merged[d] = lower(left[d], right[d]);
                merged[dims + d] = upper(left[dims + d], right[dims + d]);
            }
            let at = *skew + node as usize * 2 * dims;
            let own = &mut bounds[at..at + 2 * dims];
            let changed = own != &*merged;
            own.copy_from_slice(merged);
            node = n.parent;
            if !changed {
                break;
            }
        }
        // Above the last changed box only the counts change.
        while node != NONE {
            let n = &mut nodes[node as usize];
            n.count -= 1;
            node = n.parent;
        }
    }
}

/// `a.min(b)` without `f64::min`'s NaN handling: points are never NaN (`detect` passes
/// finite values only), and for other values the two agree.
#[inline(always)]
fn lower(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// `a.max(b)` for values that are never NaN.
#[inline(always)]
fn upper(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// How many values a point has: fixed at compile time for the common shingles, so box
/// loops unroll and lose their bounds checks, or known at run time.
trait Dims: Copy {
    fn get(self) -> usize;
}

#[derive(Clone, Copy)]
struct Fixed<const D: usize>;

impl<const D: usize> Dims for Fixed<D> {
    #[inline(always)]
    fn get(self) -> usize {
        D
    }
}

#[derive(Clone, Copy)]
struct Any(usize);

impl Dims for Any {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rcf {
    params: RcfParams,
    trees: Vec<Tree>,
    rng: Pcg64Mcg,
    recent: VecDeque<f64>,
    /// Scratch: the current shingle.
    point: Vec<f64>,
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
            trees: (0..params.trees)
                .map(|_| Tree::new(params.shingle, params.sample))
                .collect(),
            rng: Pcg64Mcg::seed_from_u64(params.seed),
            recent: VecDeque::with_capacity(params.shingle),
            point: Vec::with_capacity(params.shingle),
            calibration: Rolling::new(params.sample),
            params,
        }
    }
}

impl Detector for Rcf {
    fn saved(&self) -> Option<super::SavedDetectorRef<'_>> {
        Some(super::SavedDetectorRef::Rcf(self))
    }

    fn update(&mut self, x: f64) -> Verdict {
        if self.recent.len() == self.params.shingle {
            self.recent.pop_front();
        }
        self.recent.push_back(x);
        if self.recent.len() < self.params.shingle {
            return Verdict::NORMAL;
        }
        let mut point = std::mem::take(&mut self.point);
        point.clear();
        point.extend(self.recent.iter().copied());
        let mut total = 0.0;
        let warm = self.trees[0].leaves.len() >= self.params.sample;
        for tree in &mut self.trees {
            if tree.leaves.len() >= self.params.sample {
                if let Some(old) = tree.leaves.pop_front() {
                    tree.remove(old);
                }
            }
            let (leaf, codisp) = tree.insert(&point, &mut self.rng);
            tree.leaves.push_back(leaf);
            total += codisp;
        }
        self.point = point;
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

    /// FNV-1a over the bits of every score of a 3000-value series with outliers,
    /// duplicates and a flat stretch (40 trees of 256, shingle 4, seed 7).
    fn score_fingerprint() -> u64 {
        let mut d = Rcf::new(RcfParams {
            seed: 7,
            ..RcfParams::default()
        });
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for i in 0..3000u32 {
            let x = match i {
                1200..=1300 => 3.0,
                _ if i % 397 == 0 => 90.0,
                _ => (f64::from(i) * 0.05).sin() * 10.0 + f64::from(i % 7),
            };
            for b in d.update(x).score.to_bits().to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    /// The scores are those of the implementation before the flat-array rewrite
    /// (commit 90ad435, per-node `Vec` boxes) and of the one before the single-walk insert
    /// (52972d9): neither speed-up changed a result.
    #[test]
    fn scores_are_unchanged_by_the_speed_up() {
        assert_eq!(score_fingerprint(), 1_985_476_403_125_920_548);
    }

    /// A forest snapshotted mid-stream (as a checkpoint does) and restored scores the rest
    /// of the stream exactly as the one that ran on, duplicates and outliers included.
    #[test]
    fn a_snapshot_restored_mid_stream_scores_the_rest_identically() {
        let data: Vec<f64> = (0..1500u32)
            .map(|i| match i {
                600..=650 => 2.0,
                _ if i % 211 == 0 => 75.0,
                _ => (f64::from(i) * 0.07).sin() * 8.0,
            })
            .collect();
        let mut running = Rcf::new(RcfParams {
            trees: 12,
            sample: 64,
            seed: 3,
            ..RcfParams::default()
        });
        for &x in &data[..700] {
            running.update(x);
        }
        let bytes = bincode::serialize(&running).expect("serialise");
        let mut restored: Rcf = bincode::deserialize(&bytes).expect("deserialise");
        let scores = |d: &mut Rcf| -> Vec<u64> {
            data[700..]
                .iter()
                .map(|&x| d.update(x).score.to_bits())
                .collect()
        };
        let (a, b) = (scores(&mut running), scores(&mut restored));
        assert_eq!(a, b);
        assert!(
            a.iter().any(|&s| f64::from_bits(s) > 0.99),
            "outliers scored"
        );
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
