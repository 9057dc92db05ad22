//! Per-row weights of one file: probation, position relative to the anomaly windows and
//! the profile's costs, before any threshold is applied.

use super::{scaled_sigmoid, Costs, NabError};

/// Fraction of a file (at most 15% of 5000 rows) that detectors get to learn, unscored.
const PROBATION_FRACTION: f64 = 0.15;

/// Where a row lies for scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// In the probationary prefix: never scored.
    Probationary,
    /// Outside every window: a detection here is a false positive.
    Outside,
    /// Inside the file's window number `n` (0-based, in time order).
    Window(usize),
}

/// A row's kind and the score a detection on it would earn (positive in windows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweptRow {
    /// Where the row lies.
    pub kind: RowKind,
    /// Weighted value of a detection here.
    pub weight: f64,
}

/// Number of leading rows that are not scored in a file of `rows` rows.
pub fn probation_length(rows: usize) -> f64 {
    (PROBATION_FRACTION * rows as f64)
        .floor()
        .min(PROBATION_FRACTION * 5000.0)
}

/// Weighs every row of a file whose (sorted) row timestamps are `timestamps` and whose
/// windows are `windows` (inclusive `[start, end]` timestamps, in time order).
///
/// A window is entered on the row whose timestamp equals its start and left after the row
/// equal to its end; inside it, row `i` is worth `A_TP * σ(-(right - i + 1) / width) / σ(-1)`;
/// after it, `A_FP * σ(|i - right| / (width - 1))`; before any window, `-A_FP`.
pub fn sweep_rows(
    timestamps: &[i64],
    windows: &[(i64, i64)],
    costs: Costs,
) -> Result<Vec<SweptRow>, NabError> {
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probation_length(timestamps.len());
    let index_of = |t: i64| {
        timestamps.iter().position(|&x| x == t).ok_or_else(|| {
            NabError::Missing(format!(
                "a window bound ({t} ms) is not the timestamp of any row of the file"
            ))
        })
    };

    let mut pending = windows.iter().enumerate().peekable();
    // (window number, right index, width, end timestamp) of the window we are in.
    let mut current: Option<(usize, usize, f64, i64)> = None;
    // (right index, width) of the last window left.
    let mut previous: Option<(usize, f64)> = None;
    let mut rows = Vec::with_capacity(timestamps.len());

    for (i, &t) in timestamps.iter().enumerate() {
        if let Some(&(n, &(start, end))) = pending.peek() {
            if t == start {
                pending.next();
                let right = index_of(end)?;
                let left = index_of(start)?;
                current = Some((n, right, (right as f64) - (left as f64) + 1.0, end));
            }
        }
        let (in_window, weight) = match current {
            Some((n, right, width, _)) => {
                let position = -((right as f64) - (i as f64) + 1.0) / width;
                (Some(n), scaled_sigmoid(position) * costs.tp_weight / max_tp)
            }
            None => {
                let position = match previous {
                    None => 3.0,
                    Some((right, width)) => ((right as f64) - (i as f64)).abs() / (width - 1.0),
                };
                (None, scaled_sigmoid(position) * costs.fp_weight)
            }
        };
        let kind = if (i as f64) < probation {
            RowKind::Probationary
        } else {
            in_window.map_or(RowKind::Outside, RowKind::Window)
        };
        rows.push(SweptRow { kind, weight });
        if let Some((_, _, width, end)) = current {
            if t == end {
                previous = Some((i, width));
                current = None;
            }
        }
    }
    Ok(rows)
}
