//! Normalised NAB score: the null detector scores 0, a perfect detector 100.

/// `100 * (raw - null) / (perfect - null)`.
pub fn normalised(raw: f64, null: f64, perfect: f64) -> f64 {
    100.0 * (raw - null) / (perfect - null)
}
