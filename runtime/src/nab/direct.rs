//! A detector fed one NAB file directly, in event-time order (stable for repeated
//! timestamps), as the `detect` stage feeds a key, without the pipeline's I/O: fast enough
//! to score a grid of parameter sets for cross-validation.

use weir_engine::ml::DetectorSpec;

use super::DataFile;

/// One anomaly score per row of `file`, in file order.
pub fn direct_scores(file: &DataFile, spec: &DetectorSpec) -> Vec<f64> {
    let mut order: Vec<usize> = (0..file.values.len()).collect();
    order.sort_by_key(|&i| file.timestamps[i]);
    let mut detector = spec.build();
    let mut scores = vec![0.0; file.values.len()];
    for i in order {
        scores[i] = detector.update(file.values[i]).score;
    }
    scores
}
