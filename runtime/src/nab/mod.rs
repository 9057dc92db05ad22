//! The Numenta Anomaly Benchmark (NAB): its corpus layout, its scoring rules and the
//! normalised scoreboard, re-implemented from the NAB paper and checked against the
//! official per-file results (see `tests.rs`).
//!
//! Scoring in one paragraph: every row of a file gets a weight from a scaled sigmoid of its
//! position relative to the labelled anomaly windows (`sweep`); a threshold turns anomaly
//! scores into detections; each window scores its best detection or `-A_FN` if it has none,
//! and every detection outside a window costs its (negative) weight (`threshold`). One
//! threshold per detector and profile is chosen to maximise the corpus score, and the raw
//! score is normalised so that the null detector scores 0 and a perfect one 100 (`normalise`).

mod agreement;
mod corpus;
mod cross_validation;
mod direct;
mod error;
mod forecast_accuracy;
mod harness;
mod normalise;
mod official;
mod pipeline;
mod profile;
mod scoreboard;
mod sigmoid;
mod sweep;
mod threshold;
mod time;

pub use agreement::{agreement, agreement_markdown, official_name, Agreement, FileAgreement};
pub use corpus::{default_root, Corpus, DataFile};
pub use cross_validation::{
    cross_validate, fixed_folds, folds_markdown, halves, most_transferable, official_halves, Fold,
    FoldScore,
};
pub use direct::direct_scores;
pub use error::NabError;
pub use forecast_accuracy::{accuracy, accuracy_markdown, Accuracy};
pub use harness::{harness_call, uses_harness};
pub use normalise::normalised;
pub use official::{OfficialRow, OfficialScores};
pub use pipeline::{pipeline_text, run_detector};
pub use profile::{Costs, Profile};
pub use scoreboard::{bounds, markdown, scoreboard, ProfileScore};
pub use sigmoid::scaled_sigmoid;
pub use sweep::{sweep_rows, RowKind, SweptRow};
pub use threshold::{optimise_threshold, score_at, scores_by_threshold, FileRows, ThresholdScore};
pub use time::parse_timestamp;

#[cfg(test)]
mod tests;
