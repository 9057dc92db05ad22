//! Official NAB results: the per-file `<detector>_<profile>_scores.csv` tables.

use std::path::Path;

use super::NabError;

/// One row of an official scores table.
#[derive(Clone, Debug, PartialEq)]
pub struct OfficialRow {
    /// Data file key (`realKnownCause/nyc_taxi.csv`).
    pub file: String,
    /// Threshold the detector was scored at.
    pub threshold: f64,
    /// Raw score of the file.
    pub score: f64,
    /// Row counts: detected in windows, undetected outside, detected outside, missed.
    pub counts: [u64; 4],
}

/// A detector's official per-file scores for one profile.
#[derive(Clone, Debug, PartialEq)]
pub struct OfficialScores {
    /// Rows, without the `Totals` line.
    pub rows: Vec<OfficialRow>,
}

impl OfficialScores {
    /// Reads `results/<detector>/<detector>_<profile>_scores.csv` under the NAB root.
    pub fn load(root: &Path, detector: &str, profile: &str) -> Result<OfficialScores, NabError> {
        let path = root
            .join("results")
            .join(detector)
            .join(format!("{detector}_{profile}_scores.csv"));
        let text = std::fs::read_to_string(&path).map_err(|source| NabError::Io {
            path: path.clone(),
            source,
        })?;
        let mut rows = Vec::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if cols.first() == Some(&"Totals") || line.trim().is_empty() {
                continue;
            }
            let bad = || {
                NabError::Row {
                path: path.clone(),
                line: n as u64 + 1,
                message: format!("expected Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count, found `{line}`"),
            }
            };
            if cols.len() != 10 {
                return Err(bad());
            }
            let f = |i: usize| cols[i].parse::<f64>().map_err(|_| bad());
            let u = |i: usize| cols[i].parse::<u64>().map_err(|_| bad());
            rows.push(OfficialRow {
                file: cols[2].to_string(),
                threshold: f(3)?,
                score: f(4)?,
                counts: [u(5)?, u(6)?, u(7)?, u(8)?],
            });
        }
        Ok(OfficialScores { rows })
    }

    /// The row of data file `key`.
    pub fn file(&self, key: &str) -> Option<&OfficialRow> {
        self.rows.iter().find(|r| r.file == key)
    }
}
