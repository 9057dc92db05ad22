//! NAB's scaled sigmoid: the weight of a detection by its position relative to a window.

/// `2 / (1 + e^{5y}) - 1`, and exactly `-1` from `y >= 3` (far after a window).
///
/// `y = -1` is a window's left edge (≈ 0.98661), `y = 0` its right edge (0), and positive
/// `y` measures how far after a window a false positive is (tending to -1).
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y >= 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}
