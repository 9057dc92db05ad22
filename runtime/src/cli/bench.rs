//! `weir bench nab`: every detector as a `.pipe` pipeline over every NAB file present,
//! scored with the NAB rules, beside Numenta HTM's official scores on the same files; a
//! ported detector's per-file agreement with its official results; `--cross-validate`
//! tunes `contextual` on one half of the files and scores the other, both ways.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use weir_engine::ml::{ContextualParams, DetectorSpec, HoltWintersParams};

use crate::nab::{
    accuracy, accuracy_markdown, agreement, agreement_markdown, cross_validate, default_root,
    direct_scores, fixed_folds, folds_markdown, harness_call, markdown, most_transferable,
    official_halves, official_name, run_detector, scoreboard, uses_harness, Corpus, Profile,
};

/// The detectors `weir bench nab` runs by default, with the parameters used for every file.
/// `{file_min}`, `{file_max}` and `{rest}` are what NAB's runner gives every detector (the
/// file's range and probation / 5; see `nab::harness`): the CAD OSE reproduction run;
/// `{probation}` is the probationary period (the ARTime reproduction run).
pub const DEFAULT_DETECTORS: [&str; 8] = [
    "zscore(window: 6400, threshold: 3.0)",
    "spike_dip(confidence: 99%, history: 120, mode: both)",
    "rcf(trees: 40, sample: 256, shingle: 4, seed: 1)",
    "contextual()",
    "cad_ose(min: {file_min}, max: {file_max}, rest: {rest})",
    "cad_ose()",
    "artime(min: {file_min}, max: {file_max}, probation: {probation})",
    "artime()",
];

/// Arguments of `weir bench nab`.
#[derive(Debug, clap::Args)]
pub struct NabArgs {
    /// The NAB directory (holding labels/, config/, results/ and the category folders).
    /// Default: `../shared/data/nab` (or `../../shared/data/nab` from a worktree).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// A detector name (`rcf`) or call (`rcf(trees: 100)`); repeat for several. Default: all.
    #[arg(long = "detector", value_name = "CALL")]
    pub detectors: Vec<String>,
    /// Worker threads per pipeline.
    #[arg(long, short = 'w', default_value_t = 1)]
    pub workers: usize,
    /// Also cross-validate `contextual`'s parameters over two halves of the files.
    #[arg(long)]
    pub cross_validate: bool,
    /// Also score `holt_winters` and `damped_trend` one-step forecasts on every file (MASE,
    /// coverage).
    #[arg(long)]
    pub forecast: bool,
}

fn resolve(detectors: &[String]) -> Vec<String> {
    if detectors.is_empty() {
        return DEFAULT_DETECTORS.iter().map(|s| s.to_string()).collect();
    }
    detectors
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
}

pub(super) fn nab(args: &NabArgs) -> anyhow::Result<ExitCode> {
    let root = args
        .data
        .clone()
        .unwrap_or_else(|| default_root(std::path::Path::new(".")));
    let corpus = Corpus::load(&root)
        .with_context(|| format!("reading the NAB corpus under {}", root.display()))?;
    let profiles = Profile::load(&root.join("config").join("profiles.json"))
        .unwrap_or_else(|_| Profile::builtin());
    let scratch = std::env::temp_dir().join(format!("weir-bench-nab-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let rows: usize = corpus.files.iter().map(|f| f.values.len()).sum();
    eprintln!(
        "NAB: {} files, {} windows, {rows} rows",
        corpus.files.len(),
        corpus.window_count(),
    );
    let mut boards = Vec::new();
    let mut agreements = Vec::new();
    for call in resolve(&args.detectors) {
        let started = Instant::now();
        let mut scores = Vec::new();
        for file in &corpus.files {
            let call = harness_call(&call, file);
            scores.push(run_detector(file, &call, args.workers, &scratch)?);
        }
        let board = scoreboard(&corpus, &scores, &profiles)?;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{call}: {secs:.1}s ({:.0} values/s through the pipeline)",
            rows as f64 / secs.max(1e-9)
        );
        let name = call.split('(').next().unwrap_or("");
        if let (Some(official), true) = (official_name(name), uses_harness(&call)) {
            for p in &profiles {
                agreements.push(agreement_markdown(
                    name,
                    &agreement(&corpus, &scores, p, official)?,
                ));
            }
        }
        boards.push((format!("`{call}`"), board));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    print!("{}", markdown(&boards));
    println!(
        "\nNormalised NAB scores on the {} files present (null = 0, perfect = 100); one threshold per detector and profile, optimised over these files. {{file_min}}, {{file_max}}, {{rest}}, {{probation}}: per file, as NAB's runner gives them.",
        corpus.files.len()
    );
    for a in agreements {
        println!("\n{a}");
    }
    if args.cross_validate {
        println!("\n{}", cross_validation_report(&corpus, &profiles)?);
    }
    if args.forecast {
        println!("\n{}", forecast_report(&corpus));
    }
    Ok(ExitCode::SUCCESS)
}

/// The parameter sets `--cross-validate` tunes `contextual` over.
pub fn contextual_grid() -> Vec<ContextualParams> {
    let mut grid = Vec::new();
    for bins in [10, 20, 40] {
        for learning in [300, 600, 1200] {
            for short in [5, 10, 20] {
                for quiet in [50, 100, 200] {
                    for order in [1, 2] {
                        grid.push(ContextualParams {
                            bins,
                            learning,
                            short,
                            quiet,
                            order,
                            ..ContextualParams::default()
                        });
                    }
                }
            }
        }
    }
    grid
}

fn cross_validation_report(corpus: &Corpus, profiles: &[Profile]) -> anyhow::Result<String> {
    let started = Instant::now();
    let score_all = |spec: &DetectorSpec| -> Vec<Vec<f64>> {
        corpus
            .files
            .iter()
            .map(|f| direct_scores(f, spec))
            .collect()
    };
    let candidates: Vec<(String, Vec<Vec<f64>>)> = contextual_grid()
        .into_iter()
        .map(|p| {
            let spec = DetectorSpec::Contextual(p);
            (spec.describe(), score_all(&spec))
        })
        .collect();
    let defaults = DetectorSpec::Contextual(ContextualParams::default());
    let mut rows = vec![
        (
            format!("`contextual`, tuned over {} sets", candidates.len()),
            cross_validate(corpus, &candidates, profiles)?,
        ),
        (
            "`contextual()` (defaults)".to_string(),
            fixed_folds(corpus, "contextual()", &score_all(&defaults), profiles)?,
        ),
    ];
    let cad = DetectorSpec::CadOse(Default::default());
    rows.push((
        "`cad_ose()`".to_string(),
        fixed_folds(corpus, "cad_ose()", &score_all(&cad), profiles)?,
    ));
    let art = DetectorSpec::Artime(Default::default());
    rows.push((
        "`artime()`".to_string(),
        fixed_folds(corpus, "artime()", &score_all(&art), profiles)?,
    ));
    let mut s = format!(
        "Cross-validation ({:.1}s; detectors fed directly, in event-time order): parameters and threshold tuned on one half, scored unchanged on the other.\n\n",
        started.elapsed().as_secs_f64()
    );
    s.push_str(&folds_markdown(corpus, &rows));
    if let Some(standard) = profiles.iter().find(|p| p.name == "standard") {
        if let Some((name, mean)) = most_transferable(corpus, &candidates, standard)? {
            s.push_str(&format!(
                "\nChosen by cross-validation (best mean standard score on the held-out halves, each threshold tuned on the other half): `{name}`, {mean:.2}.\n"
            ));
        }
    }
    s.push_str("\nOfficial results per half (thresholds NAB tuned on all 58 files), standard / low FP / low FN:\n");
    for (name, official) in [
        ("Numenta HTM", "numenta"),
        ("CAD OSE", "contextOSE"),
        ("ARTime", "ARTime"),
    ] {
        if let Some(h) = official_halves(corpus, official, profiles) {
            let cells = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:.2}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            s.push_str(&format!(
                "- {name}: A {}; B {}\n",
                cells(&h[0]),
                cells(&h[1])
            ));
        }
    }
    Ok(s)
}

/// `holt_winters` and `damped_trend` with the language's defaults (alpha 0.3, beta 0.01,
/// gamma 0.3; damping 0.98) and a 90% interval, one step ahead on every file.
fn forecast_report(corpus: &Corpus) -> String {
    let mut s = String::new();
    for damping in [1.0, 0.98] {
        let params = HoltWintersParams {
            season_ms: 0,
            every_ms: 0,
            horizon_ms: 0,
            alpha: 0.3,
            beta: 0.01,
            gamma: 0.3,
            confidence: 0.9,
            damping,
        };
        let rows: Vec<_> = corpus.files.iter().map(|f| accuracy(f, &params)).collect();
        let damping = if damping < 1.0 {
            format!(", damping: {damping}")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "Forecasts: `{}(season: 1d{damping}, confidence: 90%)`, one step ahead at each file's sampling step.\n\n{}\n",
            params.model(),
            accuracy_markdown(&rows, params.confidence)
        ));
    }
    s
}
