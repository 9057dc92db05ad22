//! Counter-based random numbers: every draw is a pure function of a key, a counter and a
//! stream number (SplitMix64 finalisers), so no generator state is shared or carried.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective mix of 64 bits.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The independent draws of one counter value (one event, one device, one minute…).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Draws {
    base: u64,
}

impl Draws {
    /// The draws of `counter` under `key`.
    #[inline]
    pub(crate) fn new(key: u64, counter: u64) -> Draws {
        Draws {
            base: mix64(key ^ counter.wrapping_mul(GOLDEN)),
        }
    }

    /// 64 random bits of stream `stream`.
    #[inline]
    pub(crate) fn bits(self, stream: u64) -> u64 {
        mix64(
            self.base
                .wrapping_add(stream.wrapping_add(1).wrapping_mul(GOLDEN)),
        )
    }

    /// A uniform number in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(self, stream: u64) -> f64 {
        (self.bits(stream) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A bell-shaped number with mean 0 and standard deviation 1, bounded to ±2√3
    /// (the sum of four uniforms, scaled: Irwin–Hall).
    #[inline]
    pub(crate) fn normalish(self, stream: u64) -> f64 {
        let b = self.bits(stream);
        let sum = (b & 0xFFFF) + ((b >> 16) & 0xFFFF) + ((b >> 32) & 0xFFFF) + (b >> 48);
        // Four uniforms on [0, 1): mean 2, variance 1/3.
        (sum as f64 / 65_536.0 - 2.0) * SQRT_3
    }

    /// A uniform integer in `[0, bound]`.
    #[inline]
    pub(crate) fn up_to(self, stream: u64, bound: u64) -> u64 {
        match bound.checked_add(1) {
            Some(range) => ((u128::from(self.bits(stream)) * u128::from(range)) >> 64) as u64,
            None => self.bits(stream),
        }
    }
}

const SQRT_3: f64 = 1.732_050_807_568_877_2;

/// The largest magnitude [`Draws::normalish`] can return.
#[cfg(test)]
pub(crate) const NORMALISH_BOUND: f64 = 2.0 * SQRT_3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_pure_and_spread() {
        let a = Draws::new(7, 42);
        assert_eq!(a.bits(3), Draws::new(7, 42).bits(3));
        assert_ne!(a.bits(3), a.bits(4));
        assert_ne!(a.bits(3), Draws::new(7, 43).bits(3));
        let n = 100_000;
        let mut sum = 0.0;
        let mut sq = 0.0;
        for i in 0..n {
            let x = Draws::new(1, i).normalish(0);
            assert!(x.abs() <= NORMALISH_BOUND);
            sum += x;
            sq += x * x;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "variance {var}");
        assert!((0..1000).all(|i| Draws::new(1, i).up_to(0, 5) <= 5));
        assert!((0..1000).any(|i| Draws::new(1, i).up_to(0, 5) == 5));
    }
}
