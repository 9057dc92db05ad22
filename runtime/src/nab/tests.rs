//! The scorer against the official NAB v1.1 results copied to `../shared/data/nab`.

use std::path::PathBuf;

use super::*;

/// `$WEIR_NAB_DIR`, or the corpus beside the repository (a git worktree elsewhere names it).
fn nab_root() -> PathBuf {
    std::env::var_os("WEIR_NAB_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nab"),
        PathBuf::from,
    )
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
