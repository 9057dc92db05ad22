//! Scratch: scores detectors called directly (no pipeline) on the NAB files, for tuning.
use weir_engine::ml::*;
use weir_runtime::nab::*;

fn main() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nab");
    let corpus = Corpus::load(&root).unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs: Vec<(String, DetectorSpec)> = vec![
        (
            "zscore".into(),
            DetectorSpec::Zscore(ZscoreParams::default()),
        ),
        (
            "spike_dip".into(),
            DetectorSpec::SpikeDip(SpikeDipParams::default()),
        ),
        ("rcf".into(), DetectorSpec::Rcf(RcfParams::default())),
        (
            "contextual".into(),
            DetectorSpec::Contextual(ContextualParams::default()),
        ),
    ];
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let mut specs = specs;
    specs.push((
        "ctx".into(),
        DetectorSpec::Contextual(ContextualParams {
            bins: env("BINS", 50),
            order: env("ORDER", 2),
            short: env("SHORT", 10),
            long: env("LONG", 5000),
            learning: env("LEARN", 600),
            ..Default::default()
        }),
    ));
    let mut boards = Vec::new();
    for (name, spec) in specs {
        if !args.is_empty() && !args.contains(&name) {
            continue;
        }
        let scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let mut d = spec.build();
                let wrap = std::env::var("WRAP").is_ok();
                let mut l = weir_engine::ml::likelihood::AnomalyLikelihood::new(
                    env("SHORT", 10),
                    env("LONG", 5000),
                    env("LEARN", 600),
                );
                let k = env("ONSET", 0);
                let logp = std::env::var("LOGP").is_ok();
                let mut prev: std::collections::VecDeque<f64> = Default::default();
                f.values
                    .iter()
                    .map(|&x| {
                        let mut s = d.update(x).score;
                        if logp {
                            s = ((1.0 - s).max(1e-300).ln() / (1e-12f64).ln()).clamp(0.0, 1.0);
                        }
                        if wrap {
                            s = weir_engine::ml::likelihood::log_likelihood(l.update(s))
                        }
                        if k > 0 {
                            let m = prev.iter().cloned().fold(0.0, f64::max);
                            prev.push_back(s);
                            if prev.len() > k {
                                prev.pop_front();
                            }
                            if s <= m {
                                s *= 0.0;
                            }
                        }
                        s
                    })
                    .collect()
            })
            .collect();
        let board = scoreboard(&corpus, &scores, &Profile::builtin()).unwrap();
        // per-file standard raw at the chosen threshold
        let costs = Profile::builtin()[0].costs;
        for (f, s) in corpus.files.iter().zip(&scores) {
            let rows = sweep_rows(&f.timestamps, &f.windows, costs).unwrap();
            let r = score_at(
                &[FileRows {
                    rows,
                    scores: s.clone(),
                }],
                costs,
                board[0].threshold,
            );
            eprintln!(
                "  {name} {:60} {:8.3} tp={} fp={}",
                f.key, r.score, r.tp, r.fp
            );
        }
        boards.push((name, board));
    }
    print!("{}", markdown(&boards));
}
