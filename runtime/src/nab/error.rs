//! Errors reading the NAB corpus, labels and official results.

use std::path::PathBuf;

/// Something in the NAB data could not be read; the message names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum NabError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON file (labels, profiles) is malformed.
    #[error("{path} is not valid NAB JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A CSV row is malformed.
    #[error("{path}:{line}: {message}")]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A detector pipeline did not compile or failed to run.
    #[error("detector pipeline: {0}")]
    Pipeline(String),
    /// Something expected is missing (a profile, a file's windows, …).
    #[error("{0}")]
    Missing(String),
}
