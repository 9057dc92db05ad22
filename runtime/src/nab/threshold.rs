//! Scores at a threshold, the sweep over every threshold, and the corpus-wide optimum.

use std::cmp::Ordering;

use super::{Costs, RowKind, SweptRow};

/// The swept rows of one file with the detector's anomaly score for each.
#[derive(Clone, Debug)]
pub struct FileRows {
    /// Row weights and kinds (from [`super::sweep_rows`]).
    pub rows: Vec<SweptRow>,
    /// Anomaly score per row, same length.
    pub scores: Vec<f64>,
}

impl FileRows {
    /// How many anomaly windows have scorable rows (window numbers are dense from 0).
    fn window_count(&self) -> usize {
        self.rows
            .iter()
            .filter_map(|r| match r.kind {
                RowKind::Window(n) => Some(n + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// The raw score (and row counts) of detections `score >= threshold`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdScore {
    /// The threshold.
    pub threshold: f64,
    /// Raw NAB score.
    pub score: f64,
    /// Detected rows inside windows.
    pub tp: u64,
    /// Undetected rows outside windows.
    pub tn: u64,
    /// Detected rows outside windows.
    pub fp: u64,
    /// Undetected rows inside windows.
    pub fn_: u64,
}

/// The raw score of one file (or several: the sum) at `threshold`.
pub fn score_at(files: &[FileRows], costs: Costs, threshold: f64) -> ThresholdScore {
    let mut out = ThresholdScore {
        threshold,
        score: 0.0,
        tp: 0,
        tn: 0,
        fp: 0,
        fn_: 0,
    };
    for file in files {
        let windows = file.window_count();
        // None: a window with scorable rows but no detection yet.
        let mut best: Vec<Option<f64>> = vec![None; windows];
        let mut seen = vec![false; windows];
        let mut fp_sum = 0.0;
        for (row, &s) in file.rows.iter().zip(&file.scores) {
            let detected = s >= threshold;
            match row.kind {
                RowKind::Probationary => {}
                RowKind::Outside if detected => {
                    out.fp += 1;
                    fp_sum += row.weight;
                }
                RowKind::Outside => out.tn += 1,
                RowKind::Window(n) => {
                    seen[n] = true;
                    if detected {
                        out.tp += 1;
                        best[n] = Some(best[n].map_or(row.weight, |b: f64| b.max(row.weight)));
                    } else {
                        out.fn_ += 1;
                    }
                }
            }
        }
        out.score += fp_sum;
        for (b, s) in best.iter().zip(&seen) {
            if *s {
                out.score += b.unwrap_or(-costs.fn_weight);
            }
        }
    }
    out
}

/// The score at every distinct threshold, from 1.1 (nothing detected) down through every
/// anomaly score present (each as the threshold `>=`), over all `files` together.
pub fn scores_by_threshold(files: &[FileRows], costs: Costs) -> Vec<ThresholdScore> {
    // Window parts: one slot per (file, window) with scorable rows.
    let mut offsets = Vec::with_capacity(files.len());
    let mut slots = 0usize;
    for file in files {
        offsets.push(slots);
        slots += file.window_count();
    }
    let mut part: Vec<Option<f64>> = vec![None; slots];
    let mut points: Vec<(f64, Option<usize>, f64)> = Vec::new();
    let (mut tn, mut fn_) = (0u64, 0u64);
    for (file, offset) in files.iter().zip(&offsets) {
        for (row, &s) in file.rows.iter().zip(&file.scores) {
            match row.kind {
                RowKind::Probationary => {}
                RowKind::Outside => {
                    tn += 1;
                    points.push((s, None, row.weight));
                }
                RowKind::Window(n) => {
                    fn_ += 1;
                    part[offset + n] = Some(-costs.fn_weight);
                    points.push((s, Some(offset + n), row.weight));
                }
            }
        }
    }
    // Highest score first; a stable sort keeps ties in row order, as NAB does.
    points.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal));

    let total = |fp_sum: f64, part: &[Option<f64>]| fp_sum + part.iter().flatten().sum::<f64>();
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut fp_sum = 0.0;
    let mut threshold = 1.1;
    let mut out = Vec::new();
    for &(s, window, weight) in &points {
        if s != threshold {
            out.push(ThresholdScore {
                threshold,
                score: total(fp_sum, &part),
                tp,
                tn,
                fp,
                fn_,
            });
            threshold = s;
        }
        match window {
            Some(w) => {
                tp += 1;
                fn_ -= 1;
                part[w] = part[w].map(|p| p.max(weight));
            }
            None => {
                fp += 1;
                tn -= 1;
                fp_sum += weight;
            }
        }
    }
    out.push(ThresholdScore {
        threshold,
        score: total(fp_sum, &part),
        tp,
        tn,
        fp,
        fn_,
    });
    out
}

/// The threshold maximising the score of all `files` together (the first, i.e. highest,
/// threshold among equal best scores), with that score.
pub fn optimise_threshold(files: &[FileRows], costs: Costs) -> ThresholdScore {
    let mut best: Option<ThresholdScore> = None;
    for s in scores_by_threshold(files, costs) {
        if best.is_none_or(|b| s.score > b.score) {
            best = Some(s);
        }
    }
    // scores_by_threshold always yields at least the 1.1 row.
    best.unwrap_or(ThresholdScore {
        threshold: 1.1,
        score: 0.0,
        tp: 0,
        tn: 0,
        fp: 0,
        fn_: 0,
    })
}
