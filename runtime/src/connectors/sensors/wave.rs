//! A table-driven sine for the simulator's cycles: cheap, deterministic, and accurate to
//! about 3·10⁻⁷ — far below the simulated noise.

use std::f64::consts::TAU;
use std::sync::LazyLock;

/// Table steps per full turn.
const STEPS: usize = 4096;

static TABLE: LazyLock<Box<[f64]>> = LazyLock::new(|| {
    (0..=STEPS)
        .map(|i| (TAU * i as f64 / STEPS as f64).sin())
        .collect()
});

/// `sin(TAU · turns)`: the sine of a phase given in turns (1.0 = a full cycle), by linear
/// interpolation in a table.
#[inline]
pub(crate) fn sin_turns(turns: f64) -> f64 {
    let table: &[f64] = &TABLE;
    let pos = turns * STEPS as f64;
    // Floor without a libm call: truncate, then step down for negative fractions.
    let mut whole = pos as i64;
    if whole as f64 > pos {
        whole -= 1;
    }
    let frac = pos - whole as f64;
    // Reduce to one turn; `rem_euclid` keeps negative phases in range.
    let i = whole.rem_euclid(STEPS as i64) as usize;
    table[i] + (table[i + 1] - table[i]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_sine() {
        for k in -2000..2000 {
            let turns = k as f64 * 0.001_37;
            let err = (sin_turns(turns) - (TAU * turns).sin()).abs();
            assert!(err < 1e-6, "{turns}: {err}");
        }
    }
}
