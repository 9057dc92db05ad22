//! The scorer against the official NAB v1.1 results copied to `../shared/data/nab`.

use std::path::PathBuf;

use super::*;

/// `$WEIR_NAB_DIR`, or the corpus beside the repository (a git worktree elsewhere names it).
fn nab_root() -> PathBuf {
    super::default_root(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// `timestamp,value,anomaly_score,…` rows of an official detector output file.
fn detector_output(path: &std::path::Path) -> (Vec<i64>, Vec<f64>) {
    let text = std::fs::read_to_string(path).expect("official output present");
    let mut ts = Vec::new();
    let mut scores = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        ts.push(parse_timestamp(cols[0]).expect("timestamp"));
        scores.push(cols[2].parse::<f64>().expect("score"));
    }
    (ts, scores)
}

#[test]
fn scaled_sigmoid_matches_the_paper() {
    assert!((scaled_sigmoid(-1.0) - 0.98661429815).abs() < 1e-10);
    assert_eq!(scaled_sigmoid(0.0), 0.0);
    assert!((scaled_sigmoid(1.0) + 0.98661429815).abs() < 1e-10);
    assert_eq!(scaled_sigmoid(3.0), -1.0);
    assert!(scaled_sigmoid(2.999) > -1.0);
}

#[test]
fn timestamps_with_and_without_fraction_agree() {
    assert_eq!(
        parse_timestamp("2014-03-14 03:31:00"),
        parse_timestamp("2014-03-14 03:31:00.000000")
    );
    assert_eq!(parse_timestamp("1970-01-01 00:01:00"), Some(60_000));
    assert_eq!(parse_timestamp("yesterday"), None);
}

#[test]
fn probation_is_fifteen_percent_capped_at_750_rows() {
    assert_eq!(sweep::probation_length(1882), 282.0);
    assert_eq!(sweep::probation_length(22695), 750.0);
}

#[test]
fn profiles_file_matches_builtin_profiles() {
    let loaded = Profile::load(&nab_root().join("config/profiles.json")).expect("profiles");
    assert_eq!(loaded, Profile::builtin());
}

/// Numenta HTM's output for the two files shipped with it reproduces the official per-file
/// raw scores and row counts at the official thresholds, in all three profiles.
#[test]
fn numenta_per_file_scores_are_reproduced() {
    let root = nab_root();
    let corpus = Corpus::load(&root).expect("corpus");
    let mut checked = 0;
    for profile in Profile::load(&root.join("config/profiles.json")).expect("profiles") {
        let official = OfficialScores::load(&root, "numenta", &profile.name).expect("scores");
        for key in [
            "realKnownCause/ec2_request_latency_system_failure.csv",
            "realKnownCause/rogue_agent_key_hold.csv",
        ] {
            let file = corpus.files.iter().find(|f| f.key == key).expect("file");
            let (category, name) = key.split_once('/').expect("category");
            let output = root.join(format!("results/numenta/{category}/numenta_{name}"));
            let (ts, scores) = detector_output(&output);
            assert_eq!(ts, file.timestamps, "{key}: output rows match data rows");
            let rows = sweep_rows(&ts, &file.windows, profile.costs).expect("sweep");
            let expected = official.file(key).expect("official row");
            let files = [FileRows { rows, scores }];
            let got = score_at(&files, profile.costs, expected.threshold);
            assert!(
                (got.score - expected.score).abs() < 1e-6,
                "{key} {}: got {} expected {}",
                profile.name,
                got.score,
                expected.score
            );
            assert_eq!(
                [got.tp, got.tn, got.fp, got.fn_],
                expected.counts,
                "{key} {}",
                profile.name
            );
            // The sweep over all thresholds agrees with the direct score.
            let swept = scores_by_threshold(&files, profile.costs);
            let at = swept
                .iter()
                .rfind(|s| s.threshold >= expected.threshold)
                .expect("a threshold at or above");
            assert!((at.score - expected.score).abs() < 1e-9);
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

/// The null detector (a constant score, never over its threshold) scores `-A_FN` per window
/// in every file present, as in the official null tables.
#[test]
fn null_per_file_scores_are_reproduced() {
    let root = nab_root();
    let corpus = Corpus::load(&root).expect("corpus");
    assert_eq!(corpus.files.len(), 12);
    assert_eq!(corpus.window_count(), 23);
    for profile in Profile::builtin() {
        let official = OfficialScores::load(&root, "null", &profile.name).expect("scores");
        let mut all = Vec::new();
        for file in &corpus.files {
            let rows = sweep_rows(&file.timestamps, &file.windows, profile.costs).expect("sweep");
            let scores = vec![0.5; rows.len()];
            let files = [FileRows { rows, scores }];
            let expected = official.file(&file.key).expect("official row");
            let got = score_at(&files, profile.costs, expected.threshold);
            assert!((got.score - expected.score).abs() < 1e-9, "{}", file.key);
            assert_eq!(
                [got.tp, got.tn, got.fp, got.fn_],
                expected.counts,
                "{}",
                file.key
            );
            all.extend(files);
        }
        let best = optimise_threshold(&all, profile.costs);
        assert_eq!(best.threshold, 1.1);
        assert!((best.score + 23.0 * profile.costs.fn_weight).abs() < 1e-9);
    }
}

/// A hand-checked file: one window of width 5 at rows 4..=8 of 20, probation 3 rows.
#[test]
fn earliest_detection_scores_a_tp_and_late_false_positives_cost_a_fp() {
    let ts: Vec<i64> = (0..20).collect();
    let costs = Profile::builtin()[0].costs;
    let rows = sweep_rows(&ts, &[(4, 8)], costs).expect("sweep");
    assert_eq!(rows[2].kind, RowKind::Probationary);
    assert_eq!(rows[3].kind, RowKind::Outside);
    assert_eq!(rows[4].kind, RowKind::Window(0));
    assert!((rows[4].weight - 1.0).abs() < 1e-12);
    assert!((rows[3].weight + 0.11).abs() < 1e-12);
    // Right after the window: y = 1/4.
    assert!((rows[9].weight - 0.11 * scaled_sigmoid(0.25)).abs() < 1e-12);

    let mut scores = vec![0.0; 20];
    scores[5] = 0.9; // in the window, second row
    scores[6] = 0.95; // later in the window: adds nothing
    scores[15] = 0.8; // a false positive after the window
    let files = [FileRows {
        rows: rows.clone(),
        scores,
    }];
    let at = score_at(&files, costs, 0.8);
    let expected = rows[5].weight + rows[15].weight;
    assert!((at.score - expected).abs() < 1e-12);
    assert_eq!((at.tp, at.fp), (2, 1));
    let best = optimise_threshold(&files, costs);
    assert_eq!(best.threshold, 0.9);
    assert!((best.score - rows[5].weight).abs() < 1e-12);
    assert!((normalised(best.score, -1.0, 1.0) - 50.0 * (best.score + 1.0)).abs() < 1e-9);
}

/// A detector run as a `.pipe` pipeline gives exactly the scores of the detector called
/// directly, on 1 and on 4 workers.
#[test]
fn pipeline_scores_equal_direct_scores_on_any_worker_count() {
    let root = nab_root();
    let corpus = Corpus::load(&root).expect("corpus");
    let file = corpus
        .files
        .iter()
        .find(|f| f.key == "realKnownCause/rogue_agent_key_hold.csv")
        .expect("file");
    let spec = weir_engine::ml::DetectorSpec::SpikeDip(weir_engine::ml::SpikeDipParams {
        confidence: 0.99,
        history: 60,
        mode: weir_engine::ml::SpikeMode::Both,
    });
    let mut detector = spec.build();
    let direct: Vec<f64> = file
        .values
        .iter()
        .map(|&x| detector.update(x).score)
        .collect();
    let scratch = tempfile::tempdir().expect("tempdir");
    for workers in [1, 4] {
        let piped = run_detector(
            file,
            "spike_dip(confidence: 99%, history: 60, mode: both)",
            workers,
            scratch.path(),
        )
        .expect("pipeline runs");
        assert_eq!(piped, direct, "{workers} workers");
    }
}

/// CAD OSE fed every file in file order with NAB's harness values (the file's range and
/// rest = probation / 5), as NAB's runner fed the reference.
fn cad_ose_scores(corpus: &Corpus) -> Vec<Vec<f64>> {
    use weir_engine::ml::{CadOse, CadOseParams, Detector};
    corpus
        .files
        .iter()
        .map(|f| {
            let lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut d = CadOse::new(CadOseParams {
                min: Some(lo),
                max: Some(hi),
                rest: (sweep::probation_length(f.values.len()) / 5.0) as usize,
                ..CadOseParams::default()
            });
            f.values.iter().map(|&v| d.update(v).score).collect()
        })
        .collect()
}

/// Per-file raw scores of the port at contextOSE's official thresholds. Standard and low
/// FP: every file to 1e-6. Low FN (θ = 0.7048): the official table differs from what the
/// same scores give in 4 files (load balancer, ambient temperature, CPU, EC2 latency; up
/// to 0.17 raw), only through scores between 0.7048 and 0.7655 — the official low-FN table
/// has detections there (e.g. 4 false positives on ambient temperature where its own
/// standard table has 2) that no score above the standard threshold explains, so it looks
/// like the output of a different run; the sum stays within 0.15.
#[test]
fn cad_ose_reproduces_the_official_contextose_scores() {
    let corpus = Corpus::load(&nab_root()).expect("NAB corpus present");
    assert_eq!(corpus.files.len(), 12);
    let scores = cad_ose_scores(&corpus);
    for profile in Profile::builtin() {
        let a = agreement(&corpus, &scores, &profile, "contextOSE").expect("official results");
        let table = agreement_markdown("cad_ose", &a);
        if profile.name == "reward_low_FN_rate" {
            assert!(a.outside(1e-6).len() <= 4, "{table}");
            let total: f64 = a.files.iter().map(|f| f.ours - f.official).sum();
            assert!(total.abs() < 0.15, "{table}");
        } else {
            assert!(a.max_difference() < 1e-6, "{table}");
        }
    }
}

/// ARTime fed every file with NAB's harness values (the file's range and length), as
/// NAB's runner fed the reference (`ARTime.init(inputMin, inputMax, rows)`).
fn artime_scores(corpus: &Corpus) -> Vec<Vec<f64>> {
    use weir_engine::ml::{Artime, ArtimeParams, Detector};
    corpus
        .files
        .iter()
        .map(|f| {
            let lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut d = Artime::new(ArtimeParams {
                min: Some(lo),
                max: Some(hi),
                probation: sweep::probation_length(f.values.len()) as usize,
                ..ArtimeParams::default()
            });
            let scores = f.values.iter().map(|&v| d.update(v).score).collect();
            // The reference has no cap: the reproduction holds only below it.
            assert!(d.category_count() < ArtimeParams::default().categories);
            scores
        })
        .collect()
}

/// Per-file raw scores of the port at ARTime's official thresholds: every file, in all
/// three profiles, to 1e-6.
#[test]
fn artime_reproduces_the_official_artime_scores() {
    let corpus = Corpus::load(&nab_root()).expect("NAB corpus present");
    assert_eq!(corpus.files.len(), 12);
    let scores = artime_scores(&corpus);
    for profile in Profile::builtin() {
        let a = agreement(&corpus, &scores, &profile, "ARTime").expect("official results");
        let table = agreement_markdown("artime", &a);
        assert!(a.max_difference() < 1e-6, "{table}");
    }
}

#[test]
fn halves_split_each_category_evenly() {
    let corpus = Corpus::load(&nab_root()).expect("NAB corpus present");
    let [a, b] = halves(&corpus);
    assert_eq!((a.len(), b.len()), (6, 6));
    let artificial = |h: &[usize]| {
        h.iter()
            .filter(|&&i| corpus.files[i].key.starts_with("artificial"))
            .count()
    };
    assert_eq!((artificial(&a), artificial(&b)), (3, 3));
}

#[test]
fn cross_validation_scores_the_held_out_half_at_the_tuned_threshold() {
    let corpus = Corpus::load(&nab_root()).expect("NAB corpus present");
    // A perfect detector (1 at each window's first row) and a null one.
    let perfect: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            f.timestamps
                .iter()
                .map(|t| f64::from(u8::from(f.windows.iter().any(|w| w.0 == *t))))
                .collect()
        })
        .collect();
    let null: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| vec![0.0; f.values.len()])
        .collect();
    let candidates = vec![("null".to_string(), null), ("perfect".to_string(), perfect)];
    let folds = cross_validate(&corpus, &candidates, &Profile::builtin()).expect("folds");
    for f in &folds {
        assert_eq!(f.chosen, "perfect");
        for p in &f.scores {
            assert!((p.in_sample - 100.0).abs() < 1e-9, "{p:?}");
            assert!((p.held_out - 100.0).abs() < 1e-9, "{p:?}");
        }
    }
}

#[test]
fn holt_winters_beats_seasonal_naive_on_a_trending_daily_cycle() {
    use weir_engine::ml::HoltWintersParams;
    // Five days of a 5-minute daily sine on a rising trend, with a little deterministic
    // noise: yesterday's value misses a day of trend, the model does not.
    let step = 300_000;
    let n = 5 * 288;
    let file = DataFile {
        key: "synthetic/daily.csv".into(),
        path: "daily.csv".into(),
        timestamps: (0..n).map(|i| i as i64 * step).collect(),
        values: (0..n)
            .map(|i| {
                let phase = i as f64 / 288.0 * std::f64::consts::TAU;
                10.0 * phase.sin() + 0.01 * i as f64 + ((i * 7919) % 13) as f64 * 0.02
            })
            .collect(),
        windows: Vec::new(),
    };
    let params = HoltWintersParams {
        season_ms: 0,
        every_ms: 0,
        horizon_ms: 0,
        alpha: 0.3,
        beta: 0.01,
        gamma: 0.3,
        confidence: 0.9,
        damping: 1.0,
    };
    let a = accuracy(&file, &params);
    assert_eq!(a.step_ms, step);
    assert!(a.targets > 3 * 288, "{a:?}");
    assert!(a.mase < 1.0, "{a:?}");
    // The interval under-covers (65% here for a nominal 90%, as on the NAB series: one
    // σ² for every step; BENCHMARKS.md): pinned loosely so an improvement shows.
    assert!(a.coverage > 0.6 && a.coverage <= 1.0, "{a:?}");
}
