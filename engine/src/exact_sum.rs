//! Exact floating-point sums: the result is the correctly rounded sum of the inputs, so it
//! does not depend on the order records arrive in (which differs between worker counts).
//!
//! Shewchuk's non-overlapping partials, with the final round-half-even step of Python's
//! `math.fsum`.

/// An order-independent sum of `f64`s.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExactSum {
    /// Non-overlapping partial sums, increasing in magnitude.
    partials: Vec<f64>,
    /// Sum of infinities and NaNs, kept apart so they do not poison the partials.
    special: f64,
}

impl ExactSum {
    /// Adds `x`.
    #[inline]
    pub fn add(&mut self, mut x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// Adds everything `other` holds: the sum of the union of both inputs, still exact.
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The correctly rounded sum.
    pub fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Round half to even across the remaining partials.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sum(values: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        values.iter().for_each(|v| s.add(*v));
        s.value()
    }

    #[test]
    fn exact_where_naive_summation_is_not() {
        assert_eq!(sum(&[0.1; 10]), 1.0);
        assert_eq!(sum(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(sum(&[]), 0.0);
        assert!(sum(&[f64::INFINITY, 1.0]).is_infinite());
    }

    proptest! {
        #[test]
        fn order_does_not_change_the_sum(mut values in prop::collection::vec(-1e6f64..1e6, 0..200), seed in any::<u64>()) {
            let forward = sum(&values);
            // A deterministic shuffle.
            let mut state = seed | 1;
            for i in (1..values.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                values.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(forward.to_bits(), sum(&values).to_bits());
        }
    }
}
