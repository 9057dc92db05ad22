//! The standard normal distribution's tail, for turning z-scores into probabilities.

/// `P(Z > z)` for a standard normal `Z` (complementary error function of W. J. Cody's
/// rational Chebyshev form as given in Numerical Recipes, relative error < 1.2e-7).
pub fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// `erfc(x)`.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((upper_tail(0.0) - 0.5).abs() < 1e-7);
        assert!((upper_tail(1.959_964) - 0.025).abs() < 1e-7);
        assert!((upper_tail(-1.959_964) - 0.975).abs() < 1e-7);
        assert!((upper_tail(3.0) - 0.001_349_898).abs() < 1e-8);
        assert!(upper_tail(40.0) >= 0.0);
    }
}
