//! ARTime's encoder: raw values to feature vectors. Every `step` values are downsampled to
//! one (their mean, or the extreme farthest from a moving average when it is at least 10%
//! off the mean), normalised to the value range, quantised to `LEVELS + 1` levels and
//! pulled to the running median level when within `CHOMP` of it. The last `WINDOW`
//! downsampled values, min-max scaled, and their Haar wavelet coefficients, min-max scaled,
//! are the 16 features.

use serde::{Deserialize, Serialize};
/// Downsampled values per feature window (a power of two, for the wavelet transform).
pub(super) const WINDOW: usize = 8;
/// Features per sample: wavelet coefficients then the window itself.
pub(super) const FEATURES: usize = 2 * WINDOW;
/// Quantisation levels of the normalised value.
const LEVELS: usize = 80;
/// Values this close to the running median level become it.
const CHOMP: f64 = 0.075;

/// The encoder's state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Encoder {
    lo: f64,
    hi: f64,
    step: usize,
    /// The last `step` raw values, oldest first (starting as zeros, as the reference).
    raw: Vec<f64>,
    /// Values seen (the reference's `i`, from 1).
    seen: usize,
    /// Downsampled values produced so far (the reference's `dsi − 1`).
    produced: usize,
    moving_average: f64,
    bins: Vec<u64>,
    median: usize,
    below: i64,
    above: i64,
    window: [f64; WINDOW],
}

impl Encoder {
    /// An encoder for values in `[lo, hi]`, downsampling by `step`.
    pub fn new(lo: f64, hi: f64, step: usize) -> Encoder {
        let step = step.max(1);
        Encoder {
            lo,
            hi,
            step,
            raw: vec![0.0; step],
            seen: 0,
            produced: 0,
            moving_average: 0.0,
            bins: vec![0; LEVELS + 1],
            median: 0,
            below: 0,
            above: 0,
            window: [0.0; WINDOW],
        }
    }

    /// Takes one raw value; every `step`-th gives the downsampled index (from 1) and its
    /// features (zeros until a whole window is there).
    pub fn push(&mut self, x: f64) -> Option<(usize, [f64; FEATURES])> {
        self.raw.rotate_left(1);
        self.raw[self.step - 1] = x;
        self.seen += 1;
        if !self.seen.is_multiple_of(self.step) {
            return None;
        }
        self.produced += 1;
        let dsi = self.produced;
        let ds = self.downsample(dsi);
        let level = self.quantise(ds);
        let ds = self.levelise(level, dsi);
        self.window.rotate_left(1);
        self.window[WINDOW - 1] = ds;
        let mut features = [0.0; FEATURES];
        if dsi >= WINDOW {
            let mut w = self.window;
            min_max_scale(&mut w);
            let mut coefficients = haar(&w);
            min_max_scale(&mut coefficients);
            features[..WINDOW].copy_from_slice(&coefficients);
            features[WINDOW..].copy_from_slice(&self.window);
        }
        Some((dsi, features))
    }

    /// The downsampled raw value of the last `step` values.
    fn downsample(&mut self, dsi: usize) -> f64 {
        let mean = self.raw.iter().sum::<f64>() / self.step as f64;
        let max = self.raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = self.raw.iter().copied().fold(f64::INFINITY, f64::min);
        if dsi == 1 {
            self.moving_average = mean;
        }
        self.moving_average = (self.moving_average + mean) / 2.0;
        let mut ds = max;
        // A spike below the mean wins when it is the farther one.
        if (max - self.moving_average).abs() < (min - self.moving_average).abs() {
            ds = min;
        }
        // A spike must be at least 10% off the mean.
        if (ds - mean).abs() < 0.1 * mean {
            ds = mean;
        }
        ds
    }

    /// The level (0..=LEVELS) of a raw value; values outside the range go to the end levels.
    fn quantise(&self, ds: f64) -> usize {
        let mut v = ds - self.lo;
        if self.hi - self.lo != 0.0 {
            v /= self.hi - self.lo;
        }
        // Julia's `round` rounds ties to even.
        let level = (v * LEVELS as f64).round_ties_even();
        if level.is_nan() {
            0
        } else {
            level.clamp(0.0, LEVELS as f64) as usize
        }
    }

    /// Tracks the median level (the reference's approximate running median) and returns
    /// the quantised value, pulled to the median when close.
    fn levelise(&mut self, level: usize, dsi: usize) -> f64 {
        self.bins[level] += 1;
        let half = (dsi / 2) as i64;
        if dsi == 1 {
            self.median = level;
        }
        if self.median > level {
            self.below += 1;
        } else if self.median < level {
            self.above += 1;
        }
        if half < self.above {
            self.below += self.bins[self.median] as i64;
            self.median += 1;
            while self.median < LEVELS && self.bins[self.median] == 0 {
                self.median += 1;
            }
            self.above -= self.bins[self.median] as i64;
        } else if half < self.below {
            self.above += self.bins[self.median] as i64;
            self.median = self.median.saturating_sub(1);
            while self.median > 0 && self.bins[self.median] == 0 {
                self.median -= 1;
            }
            self.below -= self.bins[self.median] as i64;
        }
        let ds = level as f64 / LEVELS as f64;
        let median = self.median as f64 / LEVELS as f64;
        if (ds - median).abs() < CHOMP {
            median
        } else {
            ds
        }
    }
}

/// Scales `v` to [0, 1] by its minimum and maximum (left as is when constant).
fn min_max_scale(v: &mut [f64]) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    for x in v.iter_mut() {
        *x -= lo;
    }
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi != 0.0 {
        for x in v.iter_mut() {
            *x /= hi;
        }
    }
}

/// The full periodic Haar wavelet transform of 8 values, laid out as Wavelets.jl's `dwt`:
/// the coarsest scaling coefficient, then details from coarsest to finest; details are
/// `(second − first)/√2` as its orthogonal filter pair gives.
fn haar(x: &[f64; WINDOW]) -> [f64; WINDOW] {
    // Wavelets.jl's Haar filter coefficient.
    const C: f64 = 0.707_106_781_186_547_5;
    let mut out = [0.0; WINDOW];
    let mut s = *x;
    let mut n = WINDOW;
    while n > 1 {
        let half = n / 2;
        let mut next = [0.0; WINDOW];
        for k in 0..half {
            let (a, b) = (s[2 * k], s[2 * k + 1]);
            out[half + k] = C * b - C * a;
            next[k] = C * a + C * b;
        }
        s = next;
        n = half;
    }
    out[0] = s[0];
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haar_of_a_step_has_one_coarse_detail() {
        let c = haar(&[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        // Scaling and coarsest detail are both 4/√8; the finer details vanish.
        assert!((c[0] - 4.0 / 8f64.sqrt()).abs() < 1e-12, "{c:?}");
        assert!((c[1] - 4.0 / 8f64.sqrt()).abs() < 1e-12, "{c:?}");
        assert!(c[2..].iter().all(|d| d.abs() < 1e-12), "{c:?}");
        let up = haar(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert!(
            up[4..].iter().all(|d| (d - 0.5f64.sqrt()).abs() < 1e-12),
            "{up:?}"
        );
    }

    #[test]
    fn the_median_level_follows_the_values() {
        let mut e = Encoder::new(0.0, 1.0, 1);
        for _ in 0..20 {
            e.push(0.25);
        }
        for _ in 0..30 {
            e.push(0.75);
        }
        assert_eq!(e.median, 60);
        // A value near the median level is pulled onto it.
        let (_, f) = e.push(0.74).expect("step 1");
        assert_eq!(f[FEATURES - 1], 0.75);
    }
}
