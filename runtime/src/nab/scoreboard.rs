//! A detector's NAB scoreboard on the corpus present: for each profile the optimised
//! threshold, raw and normalised scores, beside Numenta HTM's official per-file results on
//! the same files.

use std::fmt::Write as _;

use super::{
    normalised, optimise_threshold, sweep_rows, Corpus, FileRows, NabError, OfficialScores, Profile,
};

/// One profile's line of a scoreboard.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileScore {
    /// Profile name.
    pub profile: String,
    /// Threshold chosen to maximise the raw score over the corpus present.
    pub threshold: f64,
    /// Raw score summed over the files.
    pub raw: f64,
    /// Normalised score (null = 0, perfect = 100) over the same files.
    pub normalised: f64,
    /// Numenta HTM's normalised score over the same files, at its official threshold.
    pub numenta: Option<f64>,
}

/// Scores `scores[i]` (one anomaly score per row of `corpus.files[i]`) in every profile.
pub fn scoreboard(
    corpus: &Corpus,
    scores: &[Vec<f64>],
    profiles: &[Profile],
) -> Result<Vec<ProfileScore>, NabError> {
    let mut out = Vec::new();
    for profile in profiles {
        let mut files = Vec::with_capacity(corpus.files.len());
        for (file, s) in corpus.files.iter().zip(scores) {
            if s.len() != file.timestamps.len() {
                return Err(NabError::Missing(format!(
                    "{}: the detector produced {} scores for {} rows",
                    file.key,
                    s.len(),
                    file.timestamps.len()
                )));
            }
            files.push(FileRows {
                rows: sweep_rows(&file.timestamps, &file.windows, profile.costs)?,
                scores: s.clone(),
            });
        }
        let best = optimise_threshold(&files, profile.costs);
        let (null, perfect) = bounds(corpus, profile);
        let numenta = OfficialScores::load(&corpus.root, "numenta", &profile.name)
            .ok()
            .and_then(|official| {
                corpus
                    .files
                    .iter()
                    .map(|f| official.file(&f.key).map(|r| r.score))
                    .sum::<Option<f64>>()
            })
            .map(|raw| normalised(raw, null, perfect));
        out.push(ProfileScore {
            profile: profile.name.clone(),
            threshold: best.threshold,
            raw: best.score,
            normalised: normalised(best.score, null, perfect),
            numenta,
        });
    }
    Ok(out)
}

/// Raw scores of the null detector (every window missed) and of a perfect one (every
/// window detected at its first row) on the corpus present.
pub fn bounds(corpus: &Corpus, profile: &Profile) -> (f64, f64) {
    let windows = corpus.window_count() as f64;
    (
        -profile.costs.fn_weight * windows,
        profile.costs.tp_weight * windows,
    )
}

/// A Markdown table of several detectors' scoreboards.
pub fn markdown(boards: &[(String, Vec<ProfileScore>)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| detector | standard | reward_low_FP_rate | reward_low_FN_rate |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
    if let Some((_, first)) = boards.first() {
        if first.iter().all(|p| p.numenta.is_some()) {
            let cells: Vec<String> = first
                .iter()
                .map(|p| format!("{:.2}", p.numenta.unwrap_or(f64::NAN)))
                .collect();
            let _ = writeln!(
                s,
                "| Numenta HTM (official, same files) | {} |",
                cells.join(" | ")
            );
        }
    }
    for (name, board) in boards {
        let cells: Vec<String> = board
            .iter()
            .map(|p| format!("{:.2} (θ={:.4})", p.normalised, p.threshold))
            .collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
    }
    s
}
