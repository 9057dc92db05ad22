//! File names of sinks in a cluster: each process writes its own file, named after the
//! configured path with the process index before the extension
//! (`out/avg.jsonl` → `out/avg.p1.jsonl`), so processes sharing a disk never clobber
//! each other and a rerun on the same layout writes the same names.

use std::path::{Path, PathBuf};

/// Which process of how many is writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessShard {
    /// This process's index.
    pub index: usize,
    /// Processes in the cluster.
    pub processes: usize,
}

/// The path process `index` writes for a sink configured with `path`.
pub fn per_process_path(path: &Path, index: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.p{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}.p{index}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_the_process_before_the_extension() {
        assert_eq!(
            per_process_path(Path::new("out/avg.jsonl"), 1),
            PathBuf::from("out/avg.p1.jsonl")
        );
        assert_eq!(
            per_process_path(Path::new("avg"), 0),
            PathBuf::from("avg.p0")
        );
        assert_eq!(
            per_process_path(Path::new("/data/a.b.csv"), 12),
            PathBuf::from("/data/a.b.p12.csv")
        );
    }
}
