//! `weir bench nab` end to end: a detector runs as a pipeline over the NAB files in
//! `../shared/data/nab` and the table puts it beside Numenta HTM.

use std::path::Path;
use std::process::Command;

#[test]
fn bench_nab_prints_a_scoreboard_beside_numenta() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent");
    // `$WEIR_NAB_DIR` names the corpus when it is not beside the repository.
    let mut args = vec![
        "bench".to_string(),
        "nab".into(),
        "--detector".into(),
        "zscore".into(),
    ];
    if let Ok(dir) = std::env::var("WEIR_NAB_DIR") {
        args.extend(["--data".to_string(), dir]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(&args)
        .current_dir(root)
        .output()
        .expect("weir starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("NAB: 12 files, 23 windows"), "{stderr}");
    // HTM on these 12 files, from the official per-file scores (see BENCHMARKS.md).
    assert!(
        stdout.contains("| Numenta HTM (official, same files) | 62.61 | 58.48 | 67.83 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| `zscore(window: 6400, threshold: 3.0)` | 11.80"),
        "{stdout}"
    );
}

#[test]
fn bench_nab_names_a_missing_corpus() {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bench", "nab", "--data", "/nonexistent/nab"])
        .output()
        .expect("weir starts");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/nab"), "{stderr}");
}

#[test]
fn bench_nab_shows_cad_ose_beside_the_official_contextose_scores() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bench", "nab", "--detector", "cad_ose"])
        .current_dir(root)
        .output()
        .expect("weir starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Through the pipeline (event-time order) the port still matches every file.
    assert!(
        stdout.contains("cad_ose vs official contextOSE (standard, θ = 0.7655273437500002)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| total | 1.8464 | 1.8464 | +0.0000 |"),
        "{stdout}"
    );
}

#[test]
fn bench_nab_shows_artime_beside_the_official_artime_scores() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bench", "nab", "--detector", "artime"])
        .current_dir(root)
        .output()
        .expect("weir starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("artime vs official ARTime (standard, θ = 0.317486)"),
        "{stdout}"
    );
    // Through the pipeline every file of every profile matches (12 files + total, × 3).
    let rows: Vec<f64> = stdout
        .split("artime vs official ARTime")
        .skip(1)
        .flat_map(|table| {
            table
                .lines()
                .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
        })
        .filter_map(|l| l.trim_end_matches(" |").rsplit("| ").next()?.parse().ok())
        .collect();
    assert_eq!(rows.len(), 3 * 13, "{stdout}");
    assert!(rows.iter().all(|d: &f64| d.abs() < 1e-4), "{stdout}");
}
