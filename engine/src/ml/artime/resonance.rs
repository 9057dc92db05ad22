//! The adaptive-resonance memory of ARTime: a dual-vigilance fuzzy ART (DVFA) over
//! complement-coded feature vectors. A category is a weight vector; a sample's match with
//! it is `(|min(x, w)|₁ / |w|₁)³ · e²`, `e` the same ratio over the "energy" pair (the
//! newest value and its complement). Categories matching at or above the upper vigilance
//! learn the sample (fast commit: `w ← min(x, w)`); if none does, a best match at or above
//! the lower vigilance adds the sample as a new category of the same cluster, and anything
//! below is a mismatch: a new cluster, which is what ARTime calls an anomaly candidate.

use serde::{Deserialize, Serialize};
/// What training on one sample gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Resonance {
    /// The best match (0 if none was positive): ARTime's similarity `A`.
    pub sim: f64,
    /// The energy similarity of the best match (`Ae`).
    pub energy: f64,
    /// Whether the sample resonated with nothing (ARTime's `cat == -1`).
    pub mismatch: bool,
}

/// The categories and the two vigilances.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Memory {
    /// Complement-coded dimension (twice the feature count).
    dim: usize,
    /// Category weights, `dim` per category.
    weights: Vec<f64>,
    /// Most categories kept; past it, samples no longer add categories.
    cap: usize,
    /// Lower vigilance.
    pub rho_lb: f64,
    /// Upper vigilance.
    pub rho_ub: f64,
    matches: Vec<f64>,
    energies: Vec<f64>,
}

impl Memory {
    /// An empty memory for `features`-long samples.
    pub fn new(features: usize, cap: usize, rho: f64) -> Memory {
        Memory {
            dim: 2 * features,
            weights: Vec::new(),
            cap: cap.max(1),
            rho_lb: rho,
            rho_ub: rho,
            matches: Vec::new(),
            energies: Vec::new(),
        }
    }

    /// Number of categories.
    pub fn categories(&self) -> usize {
        self.weights.len() / self.dim.max(1)
    }

    /// Scores `features` against every category and, when `learning`, learns it.
    pub fn train(&mut self, features: &[f64], learning: bool) -> Resonance {
        let half = self.dim / 2;
        let mut x = Vec::with_capacity(self.dim);
        x.extend_from_slice(&features[..half]);
        x.extend(features[..half].iter().map(|v| 1.0 - v));
        if self.weights.is_empty() {
            // The reference's first category is all ones, and the first sample is skipped.
            self.weights = vec![1.0; self.dim];
            return Resonance {
                sim: 0.0,
                energy: 0.0,
                mismatch: false,
            };
        }
        self.activate(&x);
        // The walk in descending order of match: NaN sorts first (Julia's `isless`), ties
        // by index; a NaN at the top stops the walk before anything is compared.
        let top = self.best();
        let nan_top = self.matches.iter().any(|m| m.is_nan());
        let (sim, energy) = match (nan_top, learning) {
            (true, true) => (0.0, 0.0),
            _ => match top {
                Some(j) if self.matches[j] > 0.0 => (self.matches[j], self.energies[j]),
                _ => (0.0, 0.0),
            },
        };
        if !learning {
            return Resonance {
                sim,
                energy,
                mismatch: true,
            };
        }
        let mismatch = if nan_top || sim < self.rho_lb {
            self.commit(&x);
            true
        } else if sim >= self.rho_ub {
            self.learn(&x);
            false
        } else {
            self.commit(&x);
            false
        };
        Resonance {
            sim,
            energy,
            mismatch,
        }
    }

    /// Match and energy similarity of `x` (complement-coded) with every category.
    fn activate(&mut self, x: &[f64]) {
        let (dim, half) = (self.dim, self.dim / 2);
        self.matches.clear();
        self.energies.clear();
        for w in self.weights.chunks_exact(dim) {
            let (mut num, mut norm_w) = (0.0, 0.0);
            for (a, b) in x.iter().zip(w) {
                num += a.min(*b);
                norm_w += b;
            }
            if norm_w == 0.0 {
                norm_w = 0.001;
            }
            let feature = num / norm_w;
            let (e1, e2) = (x[half - 1].min(w[half - 1]), x[dim - 1].min(w[dim - 1]));
            let energy = (e1 + e2) / (w[half - 1] + w[dim - 1]);
            self.matches
                .push(feature * feature * feature * (energy * energy));
            self.energies.push(energy);
        }
    }

    /// The first category with the largest non-NaN match.
    fn best(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (j, m) in self.matches.iter().enumerate() {
            if m.is_nan() {
                continue;
            }
            if best.is_none_or(|b| *m > self.matches[b]) {
                best = Some(j);
            }
        }
        best
    }

    /// Fast commit of every category matching at or above the upper vigilance.
    fn learn(&mut self, x: &[f64]) {
        let dim = self.dim;
        for (w, m) in self.weights.chunks_exact_mut(dim).zip(&self.matches) {
            if *m >= self.rho_ub {
                for (wi, xi) in w.iter_mut().zip(x) {
                    *wi = wi.min(*xi);
                }
            }
        }
    }

    /// `x` as a new category, unless the memory is full.
    fn commit(&mut self, x: &[f64]) {
        if self.categories() < self.cap {
            self.weights.extend_from_slice(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_sample_resonates_and_a_distant_one_is_a_mismatch() {
        let mut m = Memory::new(2, 16, 0.8);
        assert!(!m.train(&[0.5, 0.5], true).mismatch); // the all-ones first category
        let first = m.train(&[0.5, 0.5], true);
        // Against all ones: |min| = 2 of 4, energy (0.5 + 0.5) / 2.
        assert!((first.sim - 0.125 * 0.25).abs() < 1e-12, "{first:?}");
        assert!(first.mismatch);
        assert_eq!(m.categories(), 2);
        let again = m.train(&[0.5, 0.5], true);
        assert_eq!((again.sim, again.mismatch), (1.0, false));
        assert_eq!(m.categories(), 2);
        let far = m.train(&[0.0, 0.0], true);
        assert!(far.mismatch && far.sim < 0.8, "{far:?}");
        assert_eq!(m.categories(), 3);
    }

    #[test]
    fn the_cap_bounds_the_categories() {
        let mut m = Memory::new(1, 3, 0.99);
        for i in 0..50 {
            m.train(&[f64::from(i) / 50.0], true);
        }
        assert_eq!(m.categories(), 3);
    }
}
