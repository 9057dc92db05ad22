//! `rcf`: a robust random cut forest (Guha et al., ICML 2016) over shingles of the last
//! `shingle` values. Each tree holds the most recent `sample` shingles; a new shingle's
//! score is its collusive displacement (CoDisp) averaged over the trees, calibrated to
//! 0..1 as a Gaussian tail of log-CoDisp against its own recent history.
//!
//! State per key: one ring of the last `sample + 1` shingles, which every tree shares (all
//! trees hold the same points); per tree `sample − 1` branches, each its links, count, cut
//! and `2·shingle`-float bounding box in one record, and `sample` leaves of 12 bytes (links,
//! count, and where their point is in the ring); for each held point its leaf in every
//! tree; `sample + shingle` recent values, and `sample` recent log-CoDisp values. Cuts
//! come from a PCG generator seeded by `seed`, so runs are reproducible.

use std::collections::VecDeque;
use std::fmt::Debug;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wide::f64x2;

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

/// No node: the root's parent, an empty tree's root.
const NONE: u32 = u32::MAX;
/// Set in a link that names a leaf (clear: a branch). Indices stay below it: a tree has
/// `sample` leaves and `sample − 1` branches, and `sample` is far below 2³¹ in practice.
const LEAF: u32 = 1 << 31;

/// A point's worth of values: an array for the common shingles, so that box loops unroll,
/// lose their bounds checks and keep boxes being computed in registers; a `Vec` for others.
trait Coords: Clone + Debug + AsRef<[f64]> + AsMut<[f64]> + Serialize + DeserializeOwned {
    /// The first `dims` of `values`.
    fn of(values: &[f64], dims: usize) -> Self;
}

impl<const D: usize> Coords for [f64; D]
where
    [f64; D]: Serialize + DeserializeOwned,
{
    #[inline(always)]
    fn of(values: &[f64], _: usize) -> Self {
        let mut a = [0.0; D];
        a.copy_from_slice(&values[..D]);
        a
    }
}

impl Coords for Vec<f64> {
    fn of(values: &[f64], dims: usize) -> Self {
        values[..dims].to_vec()
    }
}

/// An inner node: links, cut, size and bounding box in one record, so that a visit costs
/// one bounds check and the walk touches no second array (the workspace forbids `unsafe`).
/// Aligned to 32 bytes so that a shingle-4 branch (96 bytes) spans two cache lines, never
/// three.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[repr(align(32))]
struct Branch<C> {
    /// Lower ends of the box of the points below.
    lo: C,
    /// Upper ends.
    hi: C,
    cut: f64,
    parent: u32,
    /// Left (at or below the cut) and right links: a branch's index, or a leaf's with
    /// `LEAF` set.
    child: [u32; 2],
    dim: u32,
    /// Number of points below (duplicates count): its children's sum.
    count: u32,
}

/// A point held by a tree (and its duplicates). Its box is its point, read from the ring
/// every tree shares, so a leaf is 12 bytes rather than a box: the forest's leaves, half of
/// its nodes and the ones visited least often, no longer push the branches out of cache.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Leaf {
    parent: u32,
    count: u32,
    /// Where in the ring the newest copy of the point is: older copies leave the ring
    /// first, so this one stays there as long as the leaf holds any.
    slot: u32,
}

/// One tree over a FIFO sample of points; an update allocates nothing once it is full.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tree<C> {
    branches: Vec<Branch<C>>,
    leaves: Vec<Leaf>,
    free_branches: Vec<u32>,
    free_leaves: Vec<u32>,
    /// A link (see [`Branch::child`]), `NONE` when empty.
    root: u32,
}

/// The nodes of one tree and the ring of points it reads leaves' points from, borrowed as
/// plain slices for the walks (their starts and lengths stay in registers).
struct Nodes<'a, C> {
    branches: &'a mut [Branch<C>],
    leaves: &'a mut [Leaf],
    points: &'a [C],
}

impl<C: Coords> Nodes<'_, C> {
    /// The count of the node `link` names.
    #[inline(always)]
    fn count(&self, link: u32) -> u32 {
        if link & LEAF != 0 {
            self.leaves[(link & !LEAF) as usize].count
        } else {
            self.branches[link as usize].count
        }
    }

    /// Points the node `link` names at `parent`.
    #[inline(always)]
    fn set_parent(&mut self, link: u32, parent: u32) {
        if link & LEAF != 0 {
            self.leaves[(link & !LEAF) as usize].parent = parent;
        } else {
            self.branches[link as usize].parent = parent;
        }
    }

    /// The box of the node `link` names: a leaf's is its point twice.
    #[inline(always)]
    fn bounds(&self, link: u32) -> (&[f64], &[f64]) {
        if link & LEAF != 0 {
            let point = self.points[self.leaves[(link & !LEAF) as usize].slot as usize].as_ref();
            (point, point)
        } else {
            let b = &self.branches[link as usize];
            (b.lo.as_ref(), b.hi.as_ref())
        }
    }

    /// Counts one point fewer from branch `node` up to the root: the walk ends at the
    /// root's parent, `NONE`, past the end of the branches.
    #[inline(always)]
    fn uncount_from(&mut self, mut node: u32) {
        while let Some(n) = self.branches.get_mut(node as usize) {
            n.count -= 1;
            node = n.parent;
        }
    }
}

impl<C: Coords> Tree<C> {
    fn new(sample: usize) -> Tree<C> {
        Tree {
            branches: Vec::with_capacity(sample),
            leaves: Vec::with_capacity(sample),
            free_branches: Vec::new(),
            free_leaves: Vec::new(),
            root: NONE,
        }
    }

    /// Free slots for a leaf and a branch: freed ones, else new ones at the ends (the
    /// branch holding `like` as its box until the insert writes it).
    fn slots(&mut self, like: &C) -> [u32; 2] {
        let leaf = self.free_leaves.pop().unwrap_or_else(|| {
            self.leaves.push(Leaf {
                parent: NONE,
                count: 0,
                slot: 0,
            });
            (self.leaves.len() - 1) as u32
        });
        let branch = self.free_branches.pop().unwrap_or_else(|| {
            self.branches.push(Branch {
                lo: like.clone(),
                hi: like.clone(),
                cut: 0.0,
                parent: NONE,
                child: [NONE; 2],
                dim: 0,
                count: 0,
            });
            (self.branches.len() - 1) as u32
        });
        [leaf, branch]
    }

    /// Forgets the oldest point (whose leaf `held` names) if `full`, then inserts `point`
    /// (at `slot` of the ring `points`), names its leaf in `held` and returns its
    /// collusive displacement (CoDisp). The leaf and branch a removal frees are handed
    /// straight to the insert, which almost always needs a leaf and a branch; others are
    /// taken before the insert, so that the walks run on plain slices, and what it did not
    /// use is given back.
    #[inline(always)]
    fn learn(
        &mut self,
        (full, held): (bool, &mut u32),
        (points, slot): (&[C], u32),
        point: &C,
        rng: &mut Pcg64Mcg,
    ) -> f64 {
        let mut spare = None;
        if full {
            let leaf = *held;
            let mut nodes = Nodes {
                branches: &mut self.branches,
                leaves: &mut self.leaves,
                points,
            };
            spare = remove(&mut nodes, &mut self.root, leaf);
            if spare.is_none() && self.root == NONE {
                self.free_leaves.push(leaf);
            }
        }
        let spare = match spare {
            Some(spare) => spare,
            None => self.slots(point),
        };
        let mut nodes = Nodes {
            branches: &mut self.branches,
            leaves: &mut self.leaves,
            points,
        };
        let (leaf, codisp, used) = insert(&mut nodes, &mut self.root, (point, slot), rng, spare);
        if used < 1 {
            self.free_leaves.push(spare[0]);
        }
        if used < 2 {
            self.free_branches.push(spare[1]);
        }
        *held = leaf;
        codisp
    }
}

/// Inserts `point` (at `slot` of the ring) into the tree at `root`, with `leaf` and
/// `branch` free slots for the nodes a split needs. Returns the point's leaf, its CoDisp
/// and how many of the slots it used (the leaf first): the CoDisp is the largest ratio,
/// over the leaf's ancestors, of the sibling subtree's size to the size of the subtree
/// holding the leaf. One walk down does it all: each node passed gets the point counted
/// and its box grown, and each edge passed gives one CoDisp ratio (a branch's count is its
/// children's sum, so the sibling's is known without a visit).
#[inline(always)]
fn insert<C: Coords>(
    nodes: &mut Nodes<'_, C>,
    root: &mut u32,
    (point, slot): (&C, u32),
    rng: &mut Pcg64Mcg,
    [leaf, branch]: [u32; 2],
) -> (u32, f64, usize) {
    if *root == NONE {
        nodes.leaves[leaf as usize] = Leaf {
            parent: NONE,
            count: 1,
            slot,
        };
        *root = leaf | LEAF;
        return (leaf, 0.0, 1);
    }
    // The grown box and its spans: registers for the fixed shingles.
    let (mut grown_lo, mut grown_hi, mut spans) = (point.clone(), point.clone(), point.clone());
    let p = point.as_ref();
    let mut link = *root;
    // The count of the node just passed, before this point; the root's own (ratio 0).
    let mut above = nodes.count(link);
    let mut best: f64 = 0.0;
    let (link, cut, dim, point_left) = loop {
        if link & LEAF != 0 {
            let l = &mut nodes.leaves[(link & !LEAF) as usize];
            best = upper(f64::from(above - l.count) / f64::from(l.count + 1), best);
            let q = nodes.points[l.slot as usize].as_ref();
            if !outside(p, q, q) {
                // On the leaf's point: one more copy of it, the newest.
                l.count += 1;
                l.slot = slot;
                return (link & !LEAF, best, 0);
            }
            // A cut drawn in the box of two distinct points always separates them.
            let grown = (grown_lo.as_mut(), grown_hi.as_mut(), spans.as_mut());
            let (cut, dim) = draw_cut(q, q, p, grown, rng);
            break (link, cut, dim, cut < q[dim]);
        }
        let n = &mut nodes.branches[link as usize];
        // `upper(ratio, best)`, not `(best, ratio)`: `maxsd` then updates `best` in place.
        best = upper(f64::from(above - n.count) / f64::from(n.count + 1), best);
        let (lo, hi) = (n.lo.as_mut(), n.hi.as_mut());
        // A cut is drawn only where `point` lies outside the box: one drawn in a box that
        // holds the point cannot separate it (bar rounding at the box's very end).
        if outside(p, lo, hi) {
            let grown = (grown_lo.as_mut(), grown_hi.as_mut(), spans.as_mut());
            let (cut, dim) = draw_cut(lo, hi, p, grown, rng);
            if cut < lo[dim] || cut >= hi[dim] {
                break (link, cut, dim, cut < lo[dim]);
            }
            // No cut here: the point goes below, inside this branch's grown box.
            lo.copy_from_slice(grown_lo.as_ref());
            hi.copy_from_slice(grown_hi.as_ref());
        }
        above = n.count;
        n.count += 1;
        link = n.child[usize::from(p[along(n.dim, p.len())] > n.cut)];
    };
    best = upper(f64::from(nodes.count(link)), best);
    let cut = (dim as u32, cut, point_left);
    split(
        nodes,
        root,
        [link, leaf, branch],
        slot,
        cut,
        (&grown_lo, &grown_hi),
    );
    (leaf, best, 2)
}

/// Puts `branch` where the node `link` is, cutting `point`'s new `leaf` off from that
/// node's subtree (whose ancestors already count the point); the branch's box is `grown`.
#[inline(always)]
fn split<C: Coords>(
    nodes: &mut Nodes<'_, C>,
    root: &mut u32,
    [link, leaf, branch]: [u32; 3],
    slot: u32,
    (dim, cut, point_left): (u32, f64, bool),
    (grown_lo, grown_hi): (&C, &C),
) {
    let count = nodes.count(link);
    let parent = if link & LEAF != 0 {
        nodes.leaves[(link & !LEAF) as usize].parent
    } else {
        nodes.branches[link as usize].parent
    };
    nodes.set_parent(link, branch);
    let b = &mut nodes.branches[branch as usize];
    b.lo.clone_from(grown_lo);
    b.hi.clone_from(grown_hi);
    b.child = if point_left {
        [leaf | LEAF, link]
    } else {
        [link, leaf | LEAF]
    };
    (b.parent, b.dim, b.cut, b.count) = (parent, dim, cut, count + 1);
    nodes.leaves[leaf as usize] = Leaf {
        parent: branch,
        count: 1,
        slot,
    };
    if parent == NONE {
        *root = branch;
    } else {
        let p = &mut nodes.branches[parent as usize];
        let side = usize::from(p.child[0] != link);
        p.child[side] = branch;
    }
}

/// Removes one point from `leaf`; returns the leaf and branch it frees (the leaf and its
/// parent), if it frees them. A lone leaf at the root leaves the tree empty (the caller
/// frees it).
#[inline(always)]
fn remove<C: Coords>(nodes: &mut Nodes<'_, C>, root: &mut u32, leaf: u32) -> Option<[u32; 2]> {
    let l = &mut nodes.leaves[leaf as usize];
    let (parent, slot) = (l.parent, l.slot);
    if l.count > 1 {
        l.count -= 1;
        nodes.uncount_from(parent);
        return None;
    }
    if parent == NONE {
        *root = NONE;
        return None;
    }
    let p = &nodes.branches[parent as usize];
    let sibling = p.child[usize::from(p.child[0] == leaf | LEAF)];
    let grand = p.parent;
    nodes.set_parent(sibling, grand);
    if grand == NONE {
        *root = sibling;
    } else {
        let g = &mut nodes.branches[grand as usize];
        let side = usize::from(g.child[0] != parent);
        g.child[side] = sibling;
        let point = nodes.points[slot as usize].clone();
        shrink(nodes, grand, &point);
    }
    Some([leaf, parent])
}

/// Counts one point fewer from branch `node` up, after `point` was taken out of `node`'s
/// subtree. A box is recomputed from its children's only where the point lay on its
/// surface: elsewhere the box's ends belong to points still below, so it and every box
/// above it stay as they are.
#[inline(always)]
fn shrink<C: Coords>(nodes: &mut Nodes<'_, C>, mut node: u32, point: &C) {
    let (mut merged_lo, mut merged_hi) = (point.clone(), point.clone());
    let (q, merged_lo, merged_hi) = (point.as_ref(), merged_lo.as_mut(), merged_hi.as_mut());
    while let Some(n) = nodes.branches.get_mut(node as usize) {
        n.count -= 1;
        let (lo, hi) = (n.lo.as_ref(), n.hi.as_ref());
        let mut on_surface = false;
        for d in 0..q.len() {
            on_surface |= q[d] == lo[d];
        }
        for d in 0..q.len() {
            on_surface |= q[d] == hi[d];
        }
        if !on_surface {
            // Counted already: only the counts above change.
            let parent = n.parent;
            nodes.uncount_from(parent);
            return;
        }
        let ([left, right], parent) = (n.child, n.parent);
        let ((l_lo, l_hi), (r_lo, r_hi)) = (nodes.bounds(left), nodes.bounds(right));
        for d in 0..q.len() {
            merged_lo[d] = lower(l_lo[d], r_lo[d]);
            merged_hi[d] = upper(l_hi[d], r_hi[d]);
        }
        let n = &mut nodes.branches[node as usize];
        n.lo.as_mut().copy_from_slice(merged_lo);
        n.hi.as_mut().copy_from_slice(merged_hi);
        node = parent;
    }
}

/// Whether `point` lies outside the box `lo..hi`: `p < lo` exactly when `p - lo` is
/// negative, and `p > hi` when `hi - p` is, so it is the sign bit of the or of all those
/// differences. Or-ed as bits, SSE2 computes two values per instruction and reads the
/// result with one `movmskpd`; compared as booleans, LLVM packs one mask per value down
/// across registers (about 20 instructions a level at shingle 4). Exact for finite values
/// without negative zeros (a difference is `-0.0` only from `-0.0 - 0.0`), which
/// `Rcf::update` guarantees; subnormal differences keep their sign. `wide`'s `f64x2` is
/// SSE2 on x86-64 (NEON on aarch64, plain pairs elsewhere): the workspace forbids `unsafe`.
#[inline(always)]
fn outside(point: &[f64], lo: &[f64], hi: &[f64]) -> bool {
    let pair = |v: &[f64]| f64x2::new([v[0], v[1]]);
    let mut signs = f64x2::ZERO;
    for ((p, lo), hi) in point
        .chunks_exact(2)
        .zip(lo.chunks_exact(2))
        .zip(hi.chunks_exact(2))
    {
        let p = pair(p);
        signs = signs | (p - pair(lo)) | (pair(hi) - p);
    }
    let mut odd = 0;
    if point.len() % 2 == 1 {
        let d = point.len() - 1;
        odd = (point[d] - lo[d]).to_bits() | (hi[d] - point[d]).to_bits();
    }
    signs.move_mask() != 0 || (odd as i64) < 0
}

/// Grows the box `lo..hi` to hold `point` (into `grown`, with its spans) and draws a
/// uniform cut of the grown box: its value and dimension. It separates `point` from the
/// box if it falls outside the box.
#[inline(always)]
fn draw_cut(
    lo: &[f64],
    hi: &[f64],
    point: &[f64],
    (grown_lo, grown_hi, spans): (&mut [f64], &mut [f64], &mut [f64]),
    rng: &mut Pcg64Mcg,
) -> (f64, usize) {
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
    // The dimension whose span holds `r`, the spans before it taken off `r` (as the loop
    // `while r > spans[dim] { r -= spans[dim]; dim += 1 }` would), without a branch per
    // dimension: which way each goes is a coin toss, mispredicted about half the time. A
    // span is taken off times 1 or 0 (exact: spans are finite and not negative); LLVM
    // turns a select or a mask back into a branch, not a multiplication.
    let (mut dim, mut going) = (0, true);
    for &span in &spans[..dims - 1] {
        going &= r > span;
        r -= span * f64::from(u8::from(going));
        dim += usize::from(going);
    }
    (grown_lo[dim] + r, dim)
}

/// `dim` as an index into a point of `dims` values (`dim < dims` always holds); written
/// so that the index check folds away: a mask for a power of two.
#[inline(always)]
fn along(dim: u32, dims: usize) -> usize {
    if dims.is_power_of_two() {
        dim as usize & (dims - 1)
    } else {
        (dim as usize).min(dims - 1)
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

/// The trees of one shingle size and the ring of the last `sample + 1` points they hold
/// (every tree holds the same `sample` most recent ones; the extra place takes the new
/// point while the trees still forget the oldest).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Grove<C> {
    trees: Vec<Tree<C>>,
    points: Vec<C>,
    /// Where the next point goes in `points`.
    next: u32,
    /// The leaf of each held point in each tree: a row of one per tree for each point, rows
    /// in arrival order from `oldest` on, round the end. One row is what an update reads,
    /// a few cache lines for all the trees rather than one line each.
    held: Vec<u32>,
    /// Which row of `held` is the oldest point's, once all `sample` are there (a ring).
    oldest: usize,
}

impl<C: Coords> Grove<C> {
    /// How many points each tree holds.
    fn held(&self) -> usize {
        self.held.len() / self.trees.len()
    }

    fn new(params: &RcfParams) -> Grove<C> {
        Grove {
            trees: (0..params.trees)
                .map(|_| Tree::new(params.sample))
                .collect(),
            points: Vec::with_capacity(params.sample + 1),
            next: 0,
            held: Vec::with_capacity(params.trees * params.sample),
            oldest: 0,
        }
    }

    /// Every tree learns `point`; returns the sum of its CoDisps. The generator is copied
    /// out for the duration so that it lives in registers.
    #[inline(never)]
    fn learn(&mut self, sample: usize, point: &[f64], rng: &mut Pcg64Mcg) -> f64 {
        let point = C::of(point, point.len());
        let slot = self.next;
        match self.points.get_mut(slot as usize) {
            Some(place) => place.clone_from(&point),
            None => self.points.push(point.clone()),
        }
        self.next = if slot as usize >= sample { 0 } else { slot + 1 };
        let trees = self.trees.len();
        let full = self.held() >= sample;
        let row = if full {
            // The oldest point's row is reused.
            let row = if self.oldest < sample { self.oldest } else { 0 };
            self.oldest = row + 1;
            row
        } else {
            self.held.resize(self.held.len() + trees, NONE);
            self.held() - 1
        };
        let held = &mut self.held[row * trees..(row + 1) * trees];
        let mut local = rng.clone();
        let mut total = 0.0;
        for (tree, held) in self.trees.iter_mut().zip(held) {
            total += tree.learn((full, held), (&self.points, slot), &point, &mut local);
        }
        *rng = local;
        total
    }
}

/// The trees, typed by shingle: arrays for shingles 1–6 and 8, vectors for others.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Forest {
    D1(Grove<[f64; 1]>),
    D2(Grove<[f64; 2]>),
    D3(Grove<[f64; 3]>),
    D4(Grove<[f64; 4]>),
    D5(Grove<[f64; 5]>),
    D6(Grove<[f64; 6]>),
    D8(Grove<[f64; 8]>),
    Any(Grove<Vec<f64>>),
}

/// `$body` with `$trees` bound to the forest's grove, whatever its type.
macro_rules! each_forest {
    ($forest:expr, $trees:ident => $body:expr) => {
        match $forest {
            Forest::D1($trees) => $body,
            Forest::D2($trees) => $body,
            Forest::D3($trees) => $body,
            Forest::D4($trees) => $body,
            Forest::D5($trees) => $body,
            Forest::D6($trees) => $body,
            Forest::D8($trees) => $body,
            Forest::Any($trees) => $body,
        }
    };
}

impl Forest {
    fn new(params: &RcfParams) -> Forest {
        match params.shingle {
            1 => Forest::D1(Grove::new(params)),
            2 => Forest::D2(Grove::new(params)),
            3 => Forest::D3(Grove::new(params)),
            4 => Forest::D4(Grove::new(params)),
            5 => Forest::D5(Grove::new(params)),
            6 => Forest::D6(Grove::new(params)),
            8 => Forest::D8(Grove::new(params)),
            _ => Forest::Any(Grove::new(params)),
        }
    }

    /// How many points each tree holds.
    fn held(&self) -> usize {
        each_forest!(self, grove => grove.held())
    }
}

/// The running detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rcf {
    params: RcfParams,
    forest: Forest,
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
            forest: Forest::new(&params),
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
        // `-0.0` becomes `0.0` (they compare equal, so scores do not change): `outside`'s
        // sign test needs boxes and points without negative zeros.
        self.recent.push_back(x + 0.0);
        if self.recent.len() < self.params.shingle {
            return Verdict::NORMAL;
        }
        let mut point = std::mem::take(&mut self.point);
        point.clear();
        point.extend(self.recent.iter().copied());
        let warm = self.forest.held() >= self.params.sample;
        let (sample, rng) = (self.params.sample, &mut self.rng);
        let total = each_forest!(&mut self.forest, grove => grove.learn(sample, &point, rng));
        self.point = point;
        let log_codisp = (1.0 + total / self.params.trees as f64).ln();
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

    /// `-0.0` and `0.0` compare equal, so they must score alike; the box test reads sign
    /// bits of differences, which `-0.0` would upset were it not turned into `0.0`.
    #[test]
    fn negative_zeros_score_as_zeros() {
        let run = |zero: f64| {
            let mut d = Rcf::new(RcfParams {
                trees: 10,
                sample: 32,
                ..RcfParams::default()
            });
            (0..600u32)
                .map(|i| {
                    let x = if i % 3 == 0 {
                        zero
                    } else {
                        f64::from(i % 11) - 5.0
                    };
                    d.update(x).score.to_bits()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(-0.0), run(0.0));
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
        each_forest!(&d.forest, grove => {
            assert_eq!(grove.points.len(), 17);
            assert_eq!(grove.held(), 16);
            for tree in &grove.trees {
                let (_, _, count) = recount(grove, tree, tree.root);
                assert_eq!(count, 16);
                assert!(tree.branches.len() <= 16 && tree.leaves.len() <= 17);
            }
        });
    }

    /// The box (lower then upper ends) and count of the node `link` names, recomputed from
    /// the leaves below it, checking on the way that every child points back to its parent.
    fn recount<C: Coords>(
        grove: &Grove<C>,
        tree: &Tree<C>,
        link: u32,
    ) -> (Vec<f64>, Vec<f64>, u32) {
        if link & LEAF != 0 {
            let l = &tree.leaves[(link & !LEAF) as usize];
            let point = grove.points[l.slot as usize].as_ref().to_vec();
            return (point.clone(), point, l.count);
        }
        let n = &tree.branches[link as usize];
        let (lo, hi) = (n.lo.as_ref().to_vec(), n.hi.as_ref().to_vec());
        for child in n.child {
            let parent = if child & LEAF != 0 {
                tree.leaves[(child & !LEAF) as usize].parent
            } else {
                tree.branches[child as usize].parent
            };
            assert_eq!(parent, link);
        }
        let [left, right] = n.child;
        let ((l_lo, l_hi, lc), (r_lo, r_hi, rc)) =
            (recount(grove, tree, left), recount(grove, tree, right));
        let merged_lo: Vec<f64> = l_lo.iter().zip(&r_lo).map(|(a, b)| a.min(*b)).collect();
        let merged_hi: Vec<f64> = l_hi.iter().zip(&r_hi).map(|(a, b)| a.max(*b)).collect();
        assert_eq!(
            (&lo, &hi),
            (&merged_lo, &merged_hi),
            "a branch's box is the smallest holding its points"
        );
        assert_eq!(n.count, lc + rc);
        (lo, hi, n.count)
    }

    /// Every held point's leaf holds that point: the `k`-th oldest of the `n` held points
    /// is at `next − n + k` of the ring (round its end), and its leaf's point must equal it.
    fn check_leaves<C: Coords>(grove: &Grove<C>, t: usize) {
        let (n, ring, tree) = (grove.held(), grove.points.len(), &grove.trees[t]);
        let oldest = if grove.oldest < n { grove.oldest } else { 0 };
        for k in 0..n {
            let row = (oldest + k) % n;
            let leaf = &tree.leaves[grove.held[row * grove.trees.len() + t] as usize];
            let slot = (grove.next as usize + 2 * ring - n + k) % ring;
            assert_eq!(
                grove.points[leaf.slot as usize].as_ref(),
                grove.points[slot].as_ref()
            );
        }
    }

    /// Boxes are only grown where a point falls outside them and only recomputed where a
    /// removed point lay on their surface: after a long stream with outliers, a flat
    /// stretch (duplicates) and a return to normal, every box is still exactly the
    /// bounding box of the points below it, every count their number, and every leaf holds
    /// the point it stands for. Shingle 3 has array boxes, shingle 7 vectors.
    #[test]
    fn boxes_and_counts_stay_exact() {
        for shingle in [3, 7] {
            let mut d = Rcf::new(RcfParams {
                trees: 8,
                sample: 32,
                shingle,
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
                if i % 250 == 249 || [20, 1090, 1110].contains(&i) {
                    each_forest!(&d.forest, grove => {
                        for (t, tree) in grove.trees.iter().enumerate() {
                            let (_, _, count) = recount(grove, tree, tree.root);
                            assert_eq!(count as usize, grove.held());
                            check_leaves(grove, t);
                        }
                    });
                }
            }
        }
    }
}
