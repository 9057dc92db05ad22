//! Streaming anomaly detectors: one per file, each a small deterministic state machine fed
//! one value at a time, with a documented bounded state per key. The `detect` operator
//! (`ops::detect`) keeps one detector per key.

pub mod artime;
pub mod cad_ose;
pub mod contextual;
pub mod holt_winters;
pub mod infer;
pub mod likelihood;
pub mod normal;
pub mod rcf;
pub mod rolling;
pub mod spike_dip;
pub mod zscore;

use serde::{Deserialize, Serialize};

pub use artime::{Artime, ArtimeParams};
pub use cad_ose::{CadOse, CadOseParams};
pub use contextual::{Contextual, ContextualParams};
pub use holt_winters::{Forecast, HoltWinters, HoltWintersParams};
pub use infer::{ElemType, Infer, InferError, ModelSignature, TensorSpec};
pub use rcf::{Rcf, RcfParams};
pub use spike_dip::{SpikeDip, SpikeDipParams, SpikeMode};
pub use zscore::{Zscore, ZscoreParams};

/// What a detector says about one value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// Anomaly score in [0, 1].
    pub score: f64,
    /// Whether the detector's own decision rule flags the value.
    pub is_anomaly: bool,
}

impl Verdict {
    /// Score 0, not an anomaly (while a detector is still learning).
    pub const NORMAL: Verdict = Verdict {
        score: 0.0,
        is_anomaly: false,
    };
}

/// A streaming detector: sees every value of one key once, in time order.
///
/// A `Box<dyn Detector>` is saved in a checkpoint with serde like any value: it
/// serialises as [`SavedDetector`] (the concrete detector, tagged by kind, every field
/// exactly) and deserialises back into a box. Updating stays a virtual call: saving asks
/// the detector for [`Detector::saved`], a borrowed view, so nothing is copied.
pub trait Detector: Send {
    /// Scores `x` against what came before, then learns it.
    fn update(&mut self, x: f64) -> Verdict;

    /// The detector as a checkpoint saves it; `None` for a detector whose state cannot be
    /// saved yet (saving it fails with an error naming it, rather than losing it).
    fn saved(&self) -> Option<SavedDetectorRef<'_>> {
        None
    }
}

/// A detector's state by kind, borrowed for saving. Same variants, in the same order, as
/// [`SavedDetector`], so the encodings agree.
#[derive(Serialize)]
#[serde(rename = "SavedDetector")]
pub enum SavedDetectorRef<'a> {
    /// `zscore(…)`
    Zscore(&'a Zscore),
    /// `spike_dip(…)`
    SpikeDip(&'a SpikeDip),
    /// `contextual(…)`
    Contextual(&'a Contextual),
    /// `cad_ose(…)`
    CadOse(&'a CadOse),
    /// `artime(…)`
    Artime(&'a Artime),
    /// `rcf(…)`
    Rcf(&'a Rcf),
}

/// A detector's state by kind, as read back from a checkpoint.
#[derive(Deserialize)]
pub enum SavedDetector {
    /// `zscore(…)`
    Zscore(Zscore),
    /// `spike_dip(…)`
    SpikeDip(SpikeDip),
    /// `contextual(…)`
    Contextual(Contextual),
    /// `cad_ose(…)`
    CadOse(CadOse),
    /// `artime(…)`
    Artime(Artime),
    /// `rcf(…)`
    Rcf(Rcf),
}

impl SavedDetector {
    /// The restored detector, ready to go on where the saved one stopped.
    pub fn into_detector(self) -> Box<dyn Detector> {
        match self {
            SavedDetector::Zscore(d) => Box::new(d),
            SavedDetector::SpikeDip(d) => Box::new(d),
            SavedDetector::Contextual(d) => Box::new(d),
            SavedDetector::CadOse(d) => Box::new(d),
            SavedDetector::Artime(d) => Box::new(d),
            SavedDetector::Rcf(d) => Box::new(d),
        }
    }
}

impl Serialize for dyn Detector {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.saved() {
            Some(saved) => saved.serialize(serializer),
            None => Err(serde::ser::Error::custom(
                "this detector's state cannot be saved in a checkpoint",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Box<dyn Detector> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SavedDetector::deserialize(deserializer).map(SavedDetector::into_detector)
    }
}

/// A detector and its parameters, as the plan carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DetectorSpec {
    /// `zscore(…)`
    Zscore(ZscoreParams),
    /// `spike_dip(…)`
    SpikeDip(SpikeDipParams),
    /// `rcf(…)`
    Rcf(RcfParams),
    /// `contextual(…)`
    Contextual(ContextualParams),
    /// `cad_ose(…)`
    CadOse(CadOseParams),
    /// `artime(…)`
    Artime(ArtimeParams),
}

impl DetectorSpec {
    /// The algorithm's name in the language.
    pub fn name(&self) -> &'static str {
        match self {
            DetectorSpec::Zscore(_) => "zscore",
            DetectorSpec::SpikeDip(_) => "spike_dip",
            DetectorSpec::Rcf(_) => "rcf",
            DetectorSpec::Contextual(_) => "contextual",
            DetectorSpec::CadOse(_) => "cad_ose",
            DetectorSpec::Artime(_) => "artime",
        }
    }

    /// A fresh detector.
    pub fn build(&self) -> Box<dyn Detector> {
        match self {
            DetectorSpec::Zscore(p) => Box::new(Zscore::new(p.clone())),
            DetectorSpec::SpikeDip(p) => Box::new(SpikeDip::new(p.clone())),
            DetectorSpec::Rcf(p) => Box::new(Rcf::new(p.clone())),
            DetectorSpec::Contextual(p) => Box::new(Contextual::new(p.clone())),
            DetectorSpec::CadOse(p) => Box::new(CadOse::new(p.clone())),
            DetectorSpec::Artime(p) => Box::new(Artime::new(p.clone())),
        }
    }
}

impl DetectorSpec {
    /// The call as `weir explain` prints it, every parameter spelled out.
    pub fn describe(&self) -> String {
        match self {
            DetectorSpec::Zscore(p) => {
                format!("zscore(window: {}, threshold: {})", p.window, p.threshold)
            }
            DetectorSpec::SpikeDip(p) => format!(
                "spike_dip(confidence: {}, history: {}, mode: {})",
                p.confidence,
                p.history,
                match p.mode {
                    SpikeMode::Spikes => "spikes",
                    SpikeMode::Dips => "dips",
                    SpikeMode::Both => "both",
                }
            ),
            DetectorSpec::Rcf(p) => format!(
                "rcf(trees: {}, sample: {}, shingle: {}, seed: {}, threshold: {})",
                p.trees, p.sample, p.shingle, p.seed, p.threshold
            ),
            DetectorSpec::Contextual(p) => format!(
                "contextual(bins: {}, order: {}, learning: {}, short: {}, long: {}, table: {}, threshold: {}, quiet: {})",
                p.bins, p.order, p.learning, p.short, p.long, p.table, p.threshold, p.quiet
            ),
            DetectorSpec::CadOse(p) => {
                let range = range_of(p.min, p.max);
                format!(
                    "cad_ose({range}learning: {}, rest: {}, threshold: {}, bits: {}, neurons: {}, contexts: {})",
                    p.learning, p.rest, p.threshold, p.bits, p.neurons, p.contexts
                )
            }
            DetectorSpec::Artime(p) => format!(
                "artime({}probation: {}, categories: {}, threshold: {})",
                range_of(p.min, p.max),
                p.probation,
                p.categories,
                p.threshold
            ),
        }
    }
}

/// `min: …, max: …, ` for the given ends of a range.
fn range_of(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("min: {lo}, max: {hi}, "),
        (Some(lo), None) => format!("min: {lo}, "),
        (None, Some(hi)) => format!("max: {hi}, "),
        (None, None) => String::new(),
    }
}
