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
    /// Leaf of each held point, in arrival order from `oldest` on, round the end.
    leaves: Vec<u32>,
    /// Where in `leaves` the oldest point's leaf is, once `leaves` is full (a ring).
    oldest: usize,
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
            leaves: Vec::with_capacity(sample),
            oldest: 0,
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

    /// Forgets the oldest point once the tree is full, then inserts `point` and returns
    /// its collusive displacement (CoDisp).
    #[inline(always)]
    fn learn<K: Dims>(&mut self, k: K, sample: usize, point: &[f64], rng: &mut Pcg64Mcg) -> f64 {
        // Once full, the oldest point's slot in the ring is reused.
        let slot = (self.leaves.len() >= sample).then(|| {
            let oldest = if self.oldest < self.leaves.len() {
                self.oldest
            } else {
                0
            };
            self.remove(k, self.leaves[oldest]);
            oldest
        });
        let (leaf, codisp) = self.insert_in(k, point, rng);
        match slot {
            Some(oldest) => {
                self.leaves[oldest] = leaf;
                self.oldest = oldest + 1;
            }
            None => self.leaves.push(leaf),
        }
        codisp
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
        // The grown box and its spans live in registers for the fixed shingles.
        let (mut grown_lo, mut grown_hi, mut spans) = (k.buf(), k.buf(), k.buf());
        let (grown_lo, grown_hi, spans) = (grown_lo.as_mut(), grown_hi.as_mut(), spans.as_mut());
        let Tree {
            nodes,
            bounds,
            skew,
            root,
            ..
        } = self;
        // Below a cache line's worth of values; knowing it lets the box slices lose an
        // overflow check.
        let skew = (*skew).min(7);
        let mut node = *root;
        // The count of the node just passed, before this point; the root's own (ratio 0).
        let mut above = nodes[node as usize].count;
        let mut best: f64 = 0.0;
        let (node, cut, dim, point_left) = loop {
            let n = nodes[node as usize];
            best = upper(best, f64::from(above - n.count) / f64::from(n.count + 1));
            let at = skew + node as usize * 2 * dims;
            let (lo, hi) = bounds[at..at + 2 * dims].split_at_mut(dims);
            // A cut is drawn only where `point` lies outside the box: one drawn in a box
            // that holds the point cannot separate it (bar rounding at the box's very end).
            // All ones per value outside (a lane-wide mask, which vectorises well).
            let mut outside = 0u64;
            for d in 0..dims {
                outside |= u64::from(point[d] < lo[d]).wrapping_neg()
                    | u64::from(point[d] > hi[d]).wrapping_neg();
            }
            if outside != 0 {
                let grown = (&mut *grown_lo, &mut *grown_hi, &mut *spans);
                if let Some((cut, dim)) = draw_cut(lo, hi, point, grown, rng) {
                    break (node, cut, dim, cut < lo[dim]);
                }
                // No cut here: the point goes below, inside this node's grown box.
                lo.copy_from_slice(grown_lo);
                hi.copy_from_slice(grown_hi);
            } else if n.is_leaf() {
                // Inside a leaf's box is on its point: one more copy of it.
                nodes[node as usize].count += 1;
                return (node, best);
            }
            nodes[node as usize].count += 1;
            above = n.count;
            node = if point[n.dim as usize] <= n.cut {
                n.left
            } else {
                n.right
            };
        };
        best = upper(best, f64::from(self.nodes[node as usize].count));
        let leaf = self.split(k, node, point, (dim, cut, point_left), (grown_lo, grown_hi));
        (leaf, best)
    }

    /// Puts a new branch cutting `point`'s new leaf off from `node`'s subtree (whose
    /// ancestors already count the point); the branch's box is `grown`.
    #[inline(always)]
    fn split<K: Dims>(
        &mut self,
        k: K,
        node: u32,
        point: &[f64],
        (dim, cut, point_left): (usize, f64, bool),
        (grown_lo, grown_hi): (&[f64], &[f64]),
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
        let (lo, hi) = self.bounds[at..at + 2 * dims].split_at_mut(dims);
        lo.copy_from_slice(grown_lo);
        hi.copy_from_slice(grown_hi);
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
    #[inline(always)]
    fn remove<K: Dims>(&mut self, k: K, leaf: u32) {
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
        self.shrink(k, grand, leaf);
    }

    /// Counts one point fewer from `node` up, after the point in `leaf`'s box was taken
    /// out of `node`'s subtree. A box is recomputed from its children's only where the
    /// point lay on its surface: elsewhere the box's ends belong to points still below, so
    /// it and every box above it stay as they are.
    #[inline(always)]
    fn shrink<K: Dims>(&mut self, k: K, mut node: u32, leaf: u32) {
        let dims = k.get();
        let (mut point, mut merged_lo, mut merged_hi) = (k.buf(), k.buf(), k.buf());
        let (point, merged_lo, merged_hi) =
            (point.as_mut(), merged_lo.as_mut(), merged_hi.as_mut());
        let Tree {
            nodes,
            bounds,
            skew,
            ..
        } = self;
        let skew = (*skew).min(7);
        let at = skew + leaf as usize * 2 * dims;
        point.copy_from_slice(&bounds[at..at + dims]);
        while node != NONE {
            let n = nodes[node as usize];
            nodes[node as usize].count -= 1;
            let at = skew + node as usize * 2 * dims;
            let (lo, hi) = bounds[at..at + 2 * dims].split_at_mut(dims);
            let mut on_surface = false;
            for d in 0..dims {
                on_surface |= point[d] == lo[d];
            }
            for d in 0..dims {
                on_surface |= point[d] == hi[d];
            }
            if !on_surface {
                break;
            }
            let (l, r) = (
                skew + n.left as usize * 2 * dims,
                skew + n.right as usize * 2 * dims,
            );
            let (left, right) = (&bounds[l..l + 2 * dims], &bounds[r..r + 2 * dims]);
            for d in 0..dims {
                merged_lo[d] = lower(left[d], right[d]);
                merged_hi[d] = upper(left[dims + d], right[dims + d]);
            }
            bounds[at..at + dims].copy_from_slice(merged_lo);
            bounds[at + dims..at + 2 * dims].copy_from_slice(merged_hi);
            node = n.parent;
        }
        if node != NONE {
            // The loop stopped at `node`, already counted.
            node = nodes[node as usize].parent;
        }
        // Above the last box that could change only the counts change.
        while node != NONE {
            let n = &mut nodes[node as usize];
            n.count -= 1;
            node = n.parent;
        }
    }
}

/// Grows the box `lo..hi` to hold `point` (into `grown`, with its spans) and draws a
/// uniform cut of the grown box: its value and dimension if it separates `point` from the
/// box, `None` if it falls inside the box.
#[inline(always)]
fn draw_cut(
    lo: &[f64],
    hi: &[f64],
    point: &[f64],
    (grown_lo, grown_hi, spans): (&mut [f64], &mut [f64], &mut [f64]),
    rng: &mut Pcg64Mcg,
) -> Option<(f64, usize)> {
    let dims = point.len();
    for d in 0..dims {
        grown_lo[d] = lower(lo[d], point[d]);
        grown_hi[d] = upper(hi[d], point[d]);
        spans[d] = grown_hi[d] - grown_lo[d];
    }
    let mut total = 0.0;
    for span in spans.iter() {
        total += span;
    }
    let mut r = rng.gen::<f64>() * total;
    let mut dim = 0;
    while dim + 1 < dims && r > spans[dim] {
        r -= spans[dim];
        dim += 1;
    }
    let cut = grown_lo[dim] + r;
    (cut < lo[dim] || cut >= hi[dim]).then_some((cut, dim))
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
/// loops unroll, lose their bounds checks and keep boxes being computed in registers, or
/// known at run time (boxes being computed are then small heap buffers).
trait Dims: Copy {
    /// A point's worth of values.
    type Buf: AsMut<[f64]>;
    fn get(self) -> usize;
    fn buf(self) -> Self::Buf;
}

#[derive(Clone, Copy)]
struct Fixed<const D: usize>;

impl<const D: usize> Dims for Fixed<D> {
    type Buf = [f64; D];
    #[inline(always)]
    fn get(self) -> usize {
        D
    }
    #[inline(always)]
    fn buf(self) -> [f64; D] {
        [0.0; D]
    }
}

#[derive(Clone, Copy)]
struct Any(usize);

impl Dims for Any {
    type Buf = Vec<f64>;
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
    fn buf(self) -> Vec<f64> {
        vec![0.0; self.0]
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

    /// Every tree learns `point`; returns the sum of its CoDisps. The generator is copied
    /// out for the duration so that it lives in registers.
    #[inline(never)]
    fn learn<K: Dims>(&mut self, k: K, point: &[f64]) -> f64 {
        let mut rng = self.rng.clone();
        let mut total = 0.0;
        for tree in &mut self.trees {
            total += tree.learn(k, self.params.sample, point, &mut rng);
        }
        self.rng = rng;
        total
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
        let warm = self.trees[0].leaves.len() >= self.params.sample;
        let total = match self.params.shingle {
            1 => self.learn(Fixed::<1>, &point),
            2 => self.learn(Fixed::<2>, &point),
            3 => self.learn(Fixed::<3>, &point),
            4 => self.learn(Fixed::<4>, &point),
            5 => self.learn(Fixed::<5>, &point),
            6 => self.learn(Fixed::<6>, &point),
            8 => self.learn(Fixed::<8>, &point),
            d => self.learn(Any(d), &point),
        };
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

    /// Pins every score of the fingerprint series. It changed once, on purpose, when
    /// inserts stopped drawing cuts in boxes that already hold the point (such a cut cannot
    /// separate it, so the trees are drawn from the same distribution but the generator's
    /// numbers go to other nodes); the implementation before (52972d9, and 90ad435 before
    /// it) gave 1_985_476_403_125_920_548. Any other change of it is a change of results.
    #[test]
    fn scores_are_pinned() {
        assert_eq!(score_fingerprint(), 16_438_821_842_945_103_626);
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

    /// The box and count of `node` recomputed from the leaves below it, checking on the
    /// way that every child points back to its parent.
    fn recount(tree: &Tree, node: u32) -> (Vec<f64>, u32) {
        let n = tree.nodes[node as usize];
        let at = tree.skew + node as usize * 2 * tree.dims;
        let stored = tree.bounds[at..at + 2 * tree.dims].to_vec();
        if n.is_leaf() {
            assert_eq!(
                stored[..tree.dims],
                stored[tree.dims..],
                "a leaf's box is its point"
            );
            return (stored, n.count);
        }
        for child in [n.left, n.right] {
            assert_eq!(tree.nodes[child as usize].parent, node);
        }
        let ((l, lc), (r, rc)) = (recount(tree, n.left), recount(tree, n.right));
        let (dims, mut merged) = (tree.dims, l.clone());
        for i in 0..dims {
            merged[i] = l[i].min(r[i]);
            merged[dims + i] = l[dims + i].max(r[dims + i]);
        }
        assert_eq!(
            stored, merged,
            "a branch's box is the smallest holding its points"
        );
        assert_eq!(n.count, lc + rc);
        (stored, n.count)
    }

    /// Boxes are only grown where a point falls outside them and only recomputed where a
    /// removed point lay on their surface: after a long stream with outliers, a flat
    /// stretch (duplicates) and a return to normal, every box is still exactly the
    /// bounding box of the points below it, and every count their number.
    #[test]
    fn boxes_and_counts_stay_exact() {
        let mut d = Rcf::new(RcfParams {
            trees: 8,
            sample: 32,
            shingle: 3,
            seed: 5,
            ..RcfParams::default()
        });
        for i in 0..3000u32 {
            let x = match i {
                1000..=1100 => 4.0,
                _ if i % 89 == 0 => -50.0,
                _ => (f64::from(i) * 0.11).sin() * 6.0 + f64::from(i % 5),
            };
            d.update(x);
            if i % 250 == 249 || i == 1090 {
                for tree in &d.trees {
                    let (_, count) = recount(tree, tree.root);
                    assert_eq!(count as usize, tree.leaves.len());
                }
            }
        }
    }
}
