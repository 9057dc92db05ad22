//! `weir bench nab`: every detector as a `.pipe` pipeline over every NAB file present,
//! scored with the NAB rules, beside Numenta HTM's official scores on the same files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::nab::{markdown, run_detector, scoreboard, Corpus, Profile};

/// The detectors `weir bench nab` runs by default, with the parameters used for every file.
pub const DEFAULT_DETECTORS: [&str; 4] = [
    "zscore(window: 6400, threshold: 3.0)",
    "spike_dip(confidence: 99%, history: 120, mode: both)",
    "rcf(trees: 40, sample: 256, shingle: 4, seed: 1)",
    "contextual()",
];

/// Arguments of `weir bench nab`.
#[derive(Debug, clap::Args)]
pub struct NabArgs {
    /// The NAB directory (holding labels/, config/, results/ and the category folders).
    #[arg(long, default_value = "../shared/data/nab")]
    pub data: PathBuf,
    /// A detector name (`rcf`) or call (`rcf(trees: 100)`); repeat for several. Default: all.
    #[arg(long = "detector", value_name = "CALL")]
    pub detectors: Vec<String>,
    /// Worker threads per pipeline.
    #[arg(long, short = 'w', default_value_t = 1)]
    pub workers: usize,
}

pub(super) fn nab(args: &NabArgs) -> anyhow::Result<ExitCode> {
    let corpus = Corpus::load(&args.data)
        .with_context(|| format!("reading the NAB corpus under {}", args.data.display()))?;
    let profiles = Profile::load(&args.data.join("config").join("profiles.json"))
        .unwrap_or_else(|_| Profile::builtin());
    let calls: Vec<String> = if args.detectors.is_empty() {
        DEFAULT_DETECTORS.iter().map(|s| s.to_string()).collect()
    } else {
        args.detectors
            .iter()
            .map(|d| {
                if d.contains('(') {
                    d.clone()
                } else {
                    DEFAULT_DETECTORS
                        .iter()
                        .find(|c| c.split('(').next() == Some(d.as_str()))
                        .map_or_else(|| format!("{d}()"), |c| c.to_string())
                }
            })
            .collect()
    };
    let scratch = std::env::temp_dir().join(format!("weir-bench-nab-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    eprintln!(
        "NAB: {} files, {} windows, {} rows",
        corpus.files.len(),
        corpus.window_count(),
        corpus.files.iter().map(|f| f.values.len()).sum::<usize>()
    );
    let mut boards = Vec::new();
    for call in &calls {
        let started = Instant::now();
        let mut scores = Vec::new();
        for file in &corpus.files {
            scores.push(run_detector(file, call, args.workers, &scratch)?);
        }
        let board = scoreboard(&corpus, &scores, &profiles)?;
        let secs = started.elapsed().as_secs_f64();
        let rows: usize = corpus.files.iter().map(|f| f.values.len()).sum();
        eprintln!(
            "{call}: {secs:.1}s ({:.0} values/s through the pipeline)",
            rows as f64 / secs.max(1e-9)
        );
        boards.push((format!("`{call}`"), board));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    print!("{}", markdown(&boards));
    println!(
        "\nNormalised NAB scores on the {} files present (null = 0, perfect = 100); one threshold per detector and profile, optimised over these files.",
        corpus.files.len()
    );
    Ok(ExitCode::SUCCESS)
}
