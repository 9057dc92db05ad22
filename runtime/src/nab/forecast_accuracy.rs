//! How good `holt_winters` and `damped_trend` forecasts are on the NAB series: one step
//! ahead, at each file's own sampling step, with a one-day season. MASE here is the
//! forecast's mean absolute error over the mean absolute error of the seasonal-naive
//! forecast (the same step one season earlier) on the same targets: below 1 beats seasonal
//! naive. Coverage is the share of targets inside the prediction interval, against its
//! nominal level.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use weir_engine::ml::{HoltWinters, HoltWintersParams};

use super::DataFile;

const DAY_MS: i64 = 86_400_000;

/// One series' accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct Accuracy {
    /// Data file key.
    pub file: String,
    /// Step (ms): the file's median sampling interval.
    pub step_ms: i64,
    /// Targets scored.
    pub targets: usize,
    /// Holt-Winters' MAE over seasonal naive's MAE on the same targets.
    pub mase: f64,
    /// Share of targets inside the interval.
    pub coverage: f64,
}

/// The file's median sampling interval (ms), at least 1.
fn median_step(file: &DataFile) -> i64 {
    let mut d: Vec<i64> = file
        .timestamps
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .collect();
    d.sort_unstable();
    d.get(d.len() / 2).copied().unwrap_or(1).max(1)
}

/// Scores one-step forecasts of `file` by `holt_winters` with `params` (step and season
/// are set from the file) at nominal `confidence`.
pub fn accuracy(file: &DataFile, params: &HoltWintersParams) -> Accuracy {
    let step = median_step(file);
    let params = HoltWintersParams {
        every_ms: step,
        horizon_ms: 0,
        season_ms: (DAY_MS / step).max(1) * step,
        ..params.clone()
    };
    let period = params.season_ms / step;
    let mut order: Vec<usize> = (0..file.values.len()).collect();
    order.sort_by_key(|&i| file.timestamps[i]);
    // Bucket means: the targets.
    let mut buckets: BTreeMap<i64, (f64, u64)> = BTreeMap::new();
    for &i in &order {
        let e = buckets
            .entry(file.timestamps[i].div_euclid(step))
            .or_insert((0.0, 0));
        e.0 += file.values[i];
        e.1 += 1;
    }
    let mean = |b: i64| buckets.get(&b).map(|(s, n)| s / *n as f64);
    let mut model = HoltWinters::new(params);
    // The forecast for the next bucket made by the last row of each bucket.
    let mut last: BTreeMap<i64, (f64, f64, f64)> = BTreeMap::new();
    for &i in &order {
        let b = file.timestamps[i].div_euclid(step);
        if let Some(f) = model.update(file.timestamps[i], file.values[i]) {
            last.insert(b + 1, (f.value, f.lower, f.upper));
        }
    }
    let (mut hw, mut naive, mut inside, mut n) = (0.0, 0.0, 0usize, 0usize);
    for (&b, &(value, lower, upper)) in &last {
        let (Some(y), Some(y_season)) = (mean(b), mean(b - period)) else {
            continue;
        };
        // Only forecasts made from the bucket just before the target.
        if !buckets.contains_key(&(b - 1)) {
            continue;
        }
        hw += (y - value).abs();
        naive += (y - y_season).abs();
        inside += usize::from(lower <= y && y <= upper);
        n += 1;
    }
    Accuracy {
        file: file.key.clone(),
        step_ms: step,
        targets: n,
        mase: if naive > 0.0 { hw / naive } else { f64::NAN },
        coverage: if n > 0 {
            inside as f64 / n as f64
        } else {
            f64::NAN
        },
    }
}

/// A Markdown table of accuracies.
pub fn accuracy_markdown(rows: &[Accuracy], confidence: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| series | step | targets | MASE (vs seasonal naive) | coverage of the {:.0}% interval |",
        confidence * 100.0
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    for a in rows {
        let _ = writeln!(
            s,
            "| {} | {} min | {} | {:.3} | {:.1}% |",
            a.file.rsplit('/').next().unwrap_or(""),
            a.step_ms / 60_000,
            a.targets,
            a.mase,
            a.coverage * 100.0
        );
    }
    s
}
