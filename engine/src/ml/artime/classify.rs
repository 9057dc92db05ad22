//! ARTime's classifier around the resonance memory: it feeds each feature vector to the
//! memory, flags a mismatch as an anomaly unless it falls in a masking period (after a
//! new category or an anomaly, unless the similarity drops well below the last
//! anomaly's), scores it by how far below both vigilances the match was and how poor the
//! energy match was, and moves the vigilances with the recent similarities: up towards the
//! lowest recent one, down by the mean recent shortfall, never below the mean similarity
//! of past anomalies.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::features::{FEATURES, WINDOW};
use super::resonance::Memory;

/// Steps after an anomaly during which another is masked, and after which the
/// vigilances are updated (the reference's `window · 1.5`).
const MASK: i64 = (WINDOW as i64 * 3) / 2;

/// The classifier's state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Classifier {
    pub memory: Memory,
    trend: i64,
    last_anomaly_i: i64,
    last_anomaly_sim: f64,
    last_rho_update_i: i64,
    mask_after_cat: bool,
    no_new_cat_count: i64,
    /// Similarities of past anomalies: the ones before the newest, summed in order, and
    /// the newest (which later steps may lower).
    anomaly_sum: f64,
    anomaly_count: usize,
    anomaly_last: Option<f64>,
    /// Running mean of every similarity (OnlineStats' `Mean`).
    sim_mean: f64,
    sims: u64,
    sim_window: VecDeque<f64>,
    sim_diff_window: VecDeque<f64>,
}

impl Classifier {
    /// A classifier for a trend window of `trend` downsampled steps, with `cap`
    /// categories at most.
    pub fn new(trend: usize, cap: usize) -> Classifier {
        Classifier {
            memory: Memory::new(FEATURES, cap, 0.0),
            trend: trend as i64,
            last_anomaly_i: 0,
            last_anomaly_sim: 0.0,
            last_rho_update_i: 0,
            mask_after_cat: false,
            no_new_cat_count: 0,
            anomaly_sum: 0.0,
            anomaly_count: 0,
            anomaly_last: None,
            sim_mean: 0.0,
            sims: 0,
            sim_window: std::iter::repeat_n(1.0, trend / 2 + 1).collect(),
            sim_diff_window: std::iter::repeat_n(0.0, trend + 1).collect(),
        }
    }

    /// Sets both vigilances from the warm-up features (the reference's `init_rho`).
    pub fn start(&mut self, warmup: &[[f64; FEATURES]], cap: usize) {
        let rho = initial_rho(&warmup[WINDOW - 1..], self.trend as usize, cap);
        self.memory.rho_lb = rho;
        self.memory.rho_ub = rho;
    }

    /// Classifies the `i`-th (from 1) feature vector; the anomaly score (0 if none).
    pub fn detect(&mut self, f: &[f64; FEATURES], i: i64) -> f64 {
        let since_anomaly = i - self.last_anomaly_i;
        let update_after_anomaly = since_anomaly == MASK;
        let update_for_trend = i - self.last_rho_update_i >= self.trend / 2;
        let mask_after_anomaly = since_anomaly <= MASK;
        if i > self.trend + MASK && self.mask_after_cat && self.no_new_cat_count >= MASK {
            self.mask_after_cat = false;
        }
        // Samples before a whole feature window are scored but not learnt.
        let r = self.memory.train(f, i >= WINDOW as i64);
        let new_cat = i < WINDOW as i64 || r.mismatch;
        self.no_new_cat_count = if new_cat {
            0
        } else {
            self.no_new_cat_count + 1
        };
        self.sims += 1;
        self.sim_mean += (1.0 / self.sims as f64) * (r.sim - self.sim_mean);
        shift(&mut self.sim_window, r.sim);
        shift(&mut self.sim_diff_window, self.memory.rho_ub - r.sim);
        if since_anomaly < MASK {
            if let Some(last) = self.anomaly_last.as_mut() {
                *last = last.min(r.sim);
            }
        }
        let masking = self.mask_after_cat || mask_after_anomaly;
        let scale = if mask_after_anomaly { 0.90 } else { 0.70 };
        let below_last = r.sim < self.last_anomaly_sim * scale;
        let mut anomaly = 0.0;
        if i > self.trend && new_cat && (!masking || below_last) {
            anomaly = self.confidence(r.sim, r.energy);
            if let Some(prev) = self.anomaly_last.replace(r.sim) {
                self.anomaly_sum += prev;
                self.anomaly_count += 1;
            }
            self.last_anomaly_sim = r.sim;
            self.last_anomaly_i = i;
        }
        self.mask_after_cat = new_cat || self.mask_after_cat;
        if i > self.trend && (update_after_anomaly || update_for_trend) {
            self.update_rho(i);
            self.last_rho_update_i = i;
            self.mask_after_cat = true;
        }
        anomaly
    }

    /// Moves the vigilances after an anomaly's masking period or every half trend window.
    fn update_rho(&mut self, i: i64) {
        let min_sim = self
            .sim_window
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let ub = self.sim_mean.min(0.97);
        let prev_lb = self.memory.rho_lb;
        let mut lb = if prev_lb <= min_sim {
            prev_lb + (min_sim - prev_lb) * 0.19
        } else {
            let mut decr = 0.0;
            if i > self.trend * 2 {
                let (mut sum, mut n) = (0.0, 0usize);
                for d in self.sim_diff_window.iter().filter(|d| **d > 0.05) {
                    sum += d.min(0.37);
                    n += 1;
                }
                if n > 0 {
                    decr = sum / n as f64;
                }
            }
            let lb = prev_lb - decr.max(0.01) / 2.0;
            match self.anomaly_last {
                Some(last) => {
                    let mean = (self.anomaly_sum + last) / (self.anomaly_count + 1) as f64;
                    mean.max(lb)
                }
                None => lb,
            }
        };
        lb = lb.min(ub);
        self.memory.rho_lb = lb;
        self.memory.rho_ub = ub;
    }

    /// The anomaly score: how far below the vigilances the match was, plus how poor the
    /// energy match was; rounded to 6 digits as the reference.
    fn confidence(&self, sim: f64, energy: f64) -> f64 {
        let sim = sim.min(0.999);
        let ub = ((1.0 - sim) - (1.0 - self.memory.rho_ub)) / (1.0 - sim);
        let lb = ((1.0 - sim) - (1.0 - self.memory.rho_lb)) / (1.0 - sim);
        let s = ((ub * 0.35 + lb * 0.65) + (1.0 - energy) * 1.5).min(1.0);
        (s * 1e6).round_ties_even() / 1e6
    }
}

fn shift(window: &mut VecDeque<f64>, x: f64) {
    window.pop_front();
    window.push_back(x);
}

/// The starting vigilance: the warm-up feature vectors, ordered from least to most
/// similar to the others, are learnt by a memory at vigilance 0.8; the mean of its
/// similarities over the second half of the trend window.
fn initial_rho(features: &[[f64; FEATURES]], trend: usize, cap: usize) -> f64 {
    let n = features.len();
    let mut sums = vec![0.0; n];
    let mut sim = vec![1.0; n * n];
    for i in 0..n {
        for j in 0..i {
            let s = similarity(&features[i], &features[j]);
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    for (i, sum) in sums.iter_mut().enumerate() {
        *sum = (0..n).map(|r| sim[r * n + i]).sum();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| sums[*a].total_cmp(&sums[*b]));
    let mut memory = Memory::new(FEATURES, cap, 0.8);
    let sims: Vec<f64> = order
        .iter()
        .map(|&k| memory.train(&features[k], true).sim)
        .collect();
    // Julia's `A[trend ÷ 2:end]`, 1-based.
    let from = (trend / 2).saturating_sub(1).min(n.saturating_sub(1));
    let tail = &sims[from..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}

/// Close to cosine similarity (the reference's; a zero vector compares by the other's norm).
fn similarity(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 {
        1.0 - nb
    } else if nb == 0.0 {
        1.0 - na
    } else {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (na * nb)
    }
}

/// Euclidean norm, scaled by the largest magnitude as Julia's generic `norm`.
fn norm(v: &[f64]) -> f64 {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if max == 0.0 || max.is_infinite() {
        return max;
    }
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}
