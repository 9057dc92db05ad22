//! A Kafka source's checkpoint position: the offset of the next record to hand out, per
//! (topic, partition) a worker reads. Restoring takes every old worker's positions, so a
//! run on another number of workers finds the offset of each partition it now reads.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::IoError;

/// One partition's place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOffset {
    pub topic: String,
    pub partition: i32,
    /// The offset of the next record to read.
    pub offset: i64,
}

/// `offsets` as stored in a checkpoint.
pub fn encode(offsets: &[PartitionOffset]) -> Result<Vec<u8>, IoError> {
    serde_json::to_vec(offsets).map_err(|e| IoError::Other(format!("kafka position: {e}")))
}

/// Every partition's offset in `positions` (any old worker's), keyed by topic and
/// partition; `label` names the source in errors.
pub fn decode_all(
    positions: &[SourcePosition],
    label: &str,
) -> Result<HashMap<(String, i32), i64>, IoError> {
    let mut out = HashMap::new();
    for position in positions {
        let offsets: Vec<PartitionOffset> =
            serde_json::from_slice(&position.bytes).map_err(|e| {
                IoError::Config(format!(
                    "{label}: the checkpoint's position of worker {} is not a Kafka position: {e}",
                    position.worker
                ))
            })?;
        for p in offsets {
            out.insert((p.topic, p.partition), p.offset);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(worker: usize, offsets: &[(&str, i32, i64)]) -> SourcePosition {
        let offsets: Vec<PartitionOffset> = offsets
            .iter()
            .map(|(t, p, o)| PartitionOffset {
                topic: t.to_string(),
                partition: *p,
                offset: *o,
            })
            .collect();
        SourcePosition {
            worker,
            workers: 2,
            bytes: encode(&offsets).expect("encode"),
        }
    }

    #[test]
    fn every_old_workers_partitions_are_found() {
        let all = decode_all(
            &[at(0, &[("a", 0, 10), ("a", 2, 7)]), at(1, &[("a", 1, 3)])],
            "kafka source `s`",
        )
        .expect("decode");
        assert_eq!(all.len(), 3);
        assert_eq!(all[&("a".to_string(), 0)], 10);
        assert_eq!(all[&("a".to_string(), 1)], 3);
        assert_eq!(all[&("a".to_string(), 2)], 7);
    }

    #[test]
    fn a_position_of_another_source_is_refused_naming_the_worker() {
        let bad = SourcePosition {
            worker: 1,
            workers: 2,
            bytes: b"line 42".to_vec(),
        };
        let e = decode_all(&[bad], "kafka source `s`").unwrap_err();
        assert!(e.to_string().contains("position of worker 1"), "{e}");
    }
}
