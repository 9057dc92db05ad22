//! The NAB corpus on disk: `<category>/<file>.csv` data files and the labelled windows
//! of `labels/combined_windows.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{parse_timestamp, NabError};

/// One data file: its key (`realKnownCause/nyc_taxi.csv`), rows and anomaly windows.
#[derive(Clone, Debug)]
pub struct DataFile {
    /// Path relative to the corpus root, as NAB names files.
    pub key: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Row timestamps, ms since the epoch (naive time read as UTC).
    pub timestamps: Vec<i64>,
    /// Row values.
    pub values: Vec<f64>,
    /// Inclusive `[start, end]` windows (ms), in time order.
    pub windows: Vec<(i64, i64)>,
}

/// The data files present under a NAB directory, with their windows.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The NAB directory (holding `labels/`, `config/`, `results/` and category folders).
    pub root: PathBuf,
    /// Files in key order.
    pub files: Vec<DataFile>,
}

impl Corpus {
    /// Reads every `<category>/<name>.csv` under `root` that `labels/combined_windows.json`
    /// knows about.
    pub fn load(root: &Path) -> Result<Corpus, NabError> {
        let windows_path = root.join("labels").join("combined_windows.json");
        let text = read(&windows_path)?;
        let labels: BTreeMap<String, Vec<(String, String)>> =
            serde_json::from_str(&text).map_err(|source| NabError::Json {
                path: windows_path.clone(),
                source,
            })?;
        let mut files = Vec::new();
        for (key, windows) in labels {
            let path = root.join(&key);
            if !path.is_file() {
                continue;
            }
            let windows = windows
                .iter()
                .map(|(a, b)| match (parse_timestamp(a), parse_timestamp(b)) {
                    (Some(a), Some(b)) => Ok((a, b)),
                    _ => Err(NabError::Missing(format!(
                        "{}: window [{a}, {b}] of {key} is not two `YYYY-MM-DD HH:MM:SS` timestamps",
                        windows_path.display()
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (timestamps, values) = read_series(&path)?;
            files.push(DataFile {
                key,
                path,
                timestamps,
                values,
                windows,
            });
        }
        if files.is_empty() {
            return Err(NabError::Missing(format!(
                "no NAB data files under {} (expected e.g. realKnownCause/nyc_taxi.csv)",
                root.display()
            )));
        }
        Ok(Corpus {
            root: root.to_path_buf(),
            files,
        })
    }

    /// Number of windows over all files.
    pub fn window_count(&self) -> usize {
        self.files.iter().map(|f| f.windows.len()).sum()
    }
}

fn read(path: &Path) -> Result<String, NabError> {
    std::fs::read_to_string(path).map_err(|source| NabError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a `timestamp,value` file.
fn read_series(path: &Path) -> Result<(Vec<i64>, Vec<f64>), NabError> {
    let text = read(path)?;
    let mut timestamps = Vec::new();
    let mut values = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| NabError::Row {
            path: path.to_path_buf(),
            line: n as u64 + 1,
            message,
        };
        let (t, v) = line
            .split_once(',')
            .ok_or_else(|| bad(format!("expected `timestamp,value`, found `{line}`")))?;
        let t = parse_timestamp(t)
            .ok_or_else(|| bad(format!("`{t}` is not a `YYYY-MM-DD HH:MM:SS` timestamp")))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| bad(format!("`{v}` is not a number")))?;
        timestamps.push(t);
        values.push(v);
    }
    Ok((timestamps, values))
}

/// Where the shared NAB data is, seen from a checkout at `repo`: `../shared/data/nab`
/// beside the main checkout, or `../../shared/data/nab` from a worktree one level deeper.
pub fn default_root(repo: &Path) -> PathBuf {
    let near = repo.join("../shared/data/nab");
    let far = repo.join("../../shared/data/nab");
    if !near.is_dir() && far.is_dir() {
        far
    } else {
        near
    }
}
