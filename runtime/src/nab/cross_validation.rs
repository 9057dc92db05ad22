//! Two-fold cross-validation of a detector's parameters over the NAB files present: the
//! files are split into two halves (each category alternating, in key order, so each half
//! has as many artificial as real series); the parameters *and* the threshold are tuned
//! on one half and scored, unchanged, on the other, both ways. The held-out halves' scores
//! estimate what the tuning does on series it has never seen.

use std::fmt::Write as _;

use super::{
    normalised, optimise_threshold, score_at, sweep_rows, Corpus, FileRows, NabError, Profile,
};

/// The two halves, as indices into `corpus.files`.
pub fn halves(corpus: &Corpus) -> [Vec<usize>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, f) in corpus.files.iter().enumerate() {
        let category = f.key.split('/').next().unwrap_or("").to_string();
        let n = match seen.iter_mut().find(|(c, _)| *c == category) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((category, 0));
                0
            }
        };
        out[n % 2].push(i);
    }
    out
}

/// One profile's result of tuning on one half.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldScore {
    /// Profile name.
    pub profile: String,
    /// Threshold tuned on the tuning half.
    pub threshold: f64,
    /// Normalised score on the tuning half (in-sample).
    pub in_sample: f64,
    /// Normalised score on the other half at the same parameters and threshold.
    pub held_out: f64,
}

/// The result of tuning on one half.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// Which half was tuned on (0 or 1).
    pub tuned_on: usize,
    /// The candidate chosen (best standard score on the tuning half).
    pub chosen: String,
    /// Per profile.
    pub scores: Vec<FoldScore>,
}

/// Scores of one candidate on a set of files: per file, swept rows per profile.
struct Scored<'a> {
    corpus: &'a Corpus,
    scores: &'a [Vec<f64>],
}

impl Scored<'_> {
    fn rows(&self, files: &[usize], profile: &Profile) -> Result<Vec<FileRows>, NabError> {
        files
            .iter()
            .map(|&i| {
                let f = &self.corpus.files[i];
                Ok(FileRows {
                    rows: sweep_rows(&f.timestamps, &f.windows, profile.costs)?,
                    scores: self.scores[i].clone(),
                })
            })
            .collect()
    }

    fn windows(&self, files: &[usize]) -> f64 {
        files
            .iter()
            .map(|&i| self.corpus.files[i].windows.len())
            .sum::<usize>() as f64
    }

    /// Tunes the threshold on `tune`, scores `tune` and `other` at it (normalised).
    fn fold(&self, tune: &[usize], other: &[usize], p: &Profile) -> Result<FoldScore, NabError> {
        let best = optimise_threshold(&self.rows(tune, p)?, p.costs);
        let held = score_at(&self.rows(other, p)?, p.costs, best.threshold);
        let norm = |raw: f64, windows: f64| {
            normalised(
                raw,
                -p.costs.fn_weight * windows,
                p.costs.tp_weight * windows,
            )
        };
        Ok(FoldScore {
            profile: p.name.clone(),
            threshold: best.threshold,
            in_sample: norm(best.score, self.windows(tune)),
            held_out: norm(held.score, self.windows(other)),
        })
    }
}

/// Tunes over `candidates` (name, per-file scores) on each half and scores the other.
pub fn cross_validate(
    corpus: &Corpus,
    candidates: &[(String, Vec<Vec<f64>>)],
    profiles: &[Profile],
) -> Result<Vec<Fold>, NabError> {
    let halves = halves(corpus);
    let standard = profiles
        .iter()
        .find(|p| p.name == "standard")
        .ok_or_else(|| NabError::Missing("the standard profile".into()))?;
    let mut folds = Vec::new();
    for tuned_on in 0..2 {
        let (tune, other) = (&halves[tuned_on], &halves[1 - tuned_on]);
        let mut best: Option<(f64, usize)> = None;
        for (n, (_, scores)) in candidates.iter().enumerate() {
            let s = Scored { corpus, scores }.fold(tune, other, standard)?;
            if best.is_none_or(|(b, _)| s.in_sample > b) {
                best = Some((s.in_sample, n));
            }
        }
        let Some((_, n)) = best else {
            return Err(NabError::Missing("no candidates to cross-validate".into()));
        };
        let scored = Scored {
            corpus,
            scores: &candidates[n].1,
        };
        let scores = profiles
            .iter()
            .map(|p| scored.fold(tune, other, p))
            .collect::<Result<Vec<_>, _>>()?;
        folds.push(Fold {
            tuned_on,
            chosen: candidates[n].0.clone(),
            scores,
        });
    }
    Ok(folds)
}

/// The candidate whose threshold transfers best: the highest mean standard score on the
/// held-out half over both folds (threshold tuned on the other half), and that mean.
pub fn most_transferable(
    corpus: &Corpus,
    candidates: &[(String, Vec<Vec<f64>>)],
    standard: &Profile,
) -> Result<Option<(String, f64)>, NabError> {
    let halves = halves(corpus);
    let mut best: Option<(String, f64)> = None;
    for (name, scores) in candidates {
        let scored = Scored { corpus, scores };
        let a = scored.fold(&halves[0], &halves[1], standard)?.held_out;
        let b = scored.fold(&halves[1], &halves[0], standard)?.held_out;
        let mean = (a + b) / 2.0;
        if best.as_ref().is_none_or(|(_, m)| mean > *m) {
            best = Some((name.clone(), mean));
        }
    }
    Ok(best)
}

/// Scores of fixed parameters (no tuning but the threshold) on each half, both ways.
pub fn fixed_folds(
    corpus: &Corpus,
    name: &str,
    scores: &[Vec<f64>],
    profiles: &[Profile],
) -> Result<Vec<Fold>, NabError> {
    let halves = halves(corpus);
    (0..2)
        .map(|tuned_on| {
            let scored = Scored { corpus, scores };
            let scores = profiles
                .iter()
                .map(|p| scored.fold(&halves[tuned_on], &halves[1 - tuned_on], p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Fold {
                tuned_on,
                chosen: name.to_string(),
                scores,
            })
        })
        .collect()
}

/// A Markdown table of folds: in-sample and held-out per profile.
pub fn folds_markdown(corpus: &Corpus, rows: &[(String, Vec<Fold>)]) -> String {
    let halves = halves(corpus);
    let names = |h: &[usize]| {
        h.iter()
            .map(|&i| corpus.files[i].key.rsplit('/').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = String::new();
    let _ = writeln!(s, "Half A: {}", names(&halves[0]));
    let _ = writeln!(s, "Half B: {}\n", names(&halves[1]));
    let _ = writeln!(
        s,
        "| detector | tuned on | chosen | standard in / held out | low FP in / held out | low FN in / held out |"
    );
    let _ = writeln!(s, "| --- | --- | --- | ---: | ---: | ---: |");
    for (name, folds) in rows {
        for f in folds {
            let cells: Vec<String> = f
                .scores
                .iter()
                .map(|p| format!("{:.2} / {:.2}", p.in_sample, p.held_out))
                .collect();
            let _ = writeln!(
                s,
                "| {name} | {} | `{}` | {} |",
                ["A", "B"][f.tuned_on],
                f.chosen,
                cells.join(" | ")
            );
        }
    }
    s
}

/// An official detector's normalised score on each half, per profile (at its official
/// thresholds, which NAB tuned on the whole corpus), if its results are present.
pub fn official_halves(
    corpus: &Corpus,
    detector: &str,
    profiles: &[Profile],
) -> Option<[Vec<f64>; 2]> {
    let halves = halves(corpus);
    let mut out = [Vec::new(), Vec::new()];
    for p in profiles {
        let table = super::OfficialScores::load(&corpus.root, detector, &p.name).ok()?;
        for (h, files) in halves.iter().enumerate() {
            let raw: f64 = files
                .iter()
                .map(|&i| table.file(&corpus.files[i].key).map(|r| r.score))
                .sum::<Option<f64>>()?;
            let windows: f64 = files
                .iter()
                .map(|&i| corpus.files[i].windows.len())
                .sum::<usize>() as f64;
            out[h].push(normalised(
                raw,
                -p.costs.fn_weight * windows,
                p.costs.tp_weight * windows,
            ));
        }
    }
    Some(out)
}
