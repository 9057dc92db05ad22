//! How closely a ported detector reproduces its official NAB results: per file, the port's
//! raw score at the official detector's threshold beside the official raw score.

use std::fmt::Write as _;

use super::{score_at, sweep_rows, Corpus, FileRows, NabError, OfficialScores, Profile};

/// The official NAB results a Weir detector ports, by detector name.
pub fn official_name(detector: &str) -> Option<&'static str> {
    match detector {
        "cad_ose" => Some("contextOSE"),
        "artime" => Some("ARTime"),
        _ => None,
    }
}

/// One file's raw scores.
#[derive(Clone, Debug, PartialEq)]
pub struct FileAgreement {
    /// Data file key.
    pub file: String,
    /// Official raw score.
    pub official: f64,
    /// The port's raw score at the same threshold.
    pub ours: f64,
}

/// A port's agreement with its official results in one profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// Official detector name (`contextOSE`).
    pub official: String,
    /// Profile name.
    pub profile: String,
    /// The official threshold both are scored at.
    pub threshold: f64,
    /// Per file, in corpus order.
    pub files: Vec<FileAgreement>,
}

impl Agreement {
    /// Largest per-file difference of raw scores.
    pub fn max_difference(&self) -> f64 {
        self.files
            .iter()
            .map(|f| (f.ours - f.official).abs())
            .fold(0.0, f64::max)
    }

    /// Files whose raw scores differ by more than `tolerance`.
    pub fn outside(&self, tolerance: f64) -> Vec<&FileAgreement> {
        self.files
            .iter()
            .filter(|f| (f.ours - f.official).abs() > tolerance)
            .collect()
    }
}

/// Scores `scores[i]` (per row of `corpus.files[i]`) at `official`'s threshold for
/// `profile`, file by file.
pub fn agreement(
    corpus: &Corpus,
    scores: &[Vec<f64>],
    profile: &Profile,
    official: &str,
) -> Result<Agreement, NabError> {
    let table = OfficialScores::load(&corpus.root, official, &profile.name)?;
    // The scores tables print 12 digits; `config/thresholds.json` has the exact threshold.
    let threshold = match official_threshold(&corpus.root, official, &profile.name) {
        Some(t) => t,
        None => table
            .rows
            .first()
            .map(|r| r.threshold)
            .ok_or_else(|| NabError::Missing(format!("no official rows for {official}")))?,
    };
    let mut files = Vec::new();
    for (file, s) in corpus.files.iter().zip(scores) {
        let Some(row) = table.file(&file.key) else {
            return Err(NabError::Missing(format!(
                "{official} has no official score for {}",
                file.key
            )));
        };
        let rows = FileRows {
            rows: sweep_rows(&file.timestamps, &file.windows, profile.costs)?,
            scores: s.clone(),
        };
        files.push(FileAgreement {
            file: file.key.clone(),
            official: row.score,
            ours: score_at(&[rows], profile.costs, threshold).score,
        });
    }
    Ok(Agreement {
        official: official.to_string(),
        profile: profile.name.clone(),
        threshold,
        files,
    })
}

/// `config/thresholds.json`'s threshold of `detector` in `profile`, if present.
fn official_threshold(root: &std::path::Path, detector: &str, profile: &str) -> Option<f64> {
    let text = std::fs::read_to_string(root.join("config").join("thresholds.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get(detector)?.get(profile)?.get("threshold")?.as_f64()
}

/// A Markdown table of per-file raw scores, port beside official.
pub fn agreement_markdown(name: &str, a: &Agreement) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{name} vs official {} ({}, θ = {}): per-file raw scores",
        a.official, a.profile, a.threshold
    );
    let _ = writeln!(s, "| file | official | Weir | difference |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
    let (mut official, mut ours) = (0.0, 0.0);
    for f in &a.files {
        official += f.official;
        ours += f.ours;
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {:+.4} |",
            f.file,
            f.official,
            f.ours,
            f.ours - f.official
        );
    }
    let _ = writeln!(
        s,
        "| total | {official:.4} | {ours:.4} | {:+.4} |",
        ours - official
    );
    s
}
