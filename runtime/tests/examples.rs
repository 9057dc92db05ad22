//! Every `.pipe` in `examples/` is checked and run by the real `weir` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    files
}

fn weir(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("weir starts")
}

#[test]
fn every_example_checks_clean() {
    let files = examples();
    assert!(!files.is_empty());
    for file in files {
        let out = weir(&["check", file.to_str().expect("utf-8 path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} does not check:\n{stderr}",
            file.display()
        );
        assert!(
            !stderr.contains("warning"),
            "{} has warnings:\n{stderr}",
            file.display()
        );
    }
}

#[test]
fn every_example_runs() {
    for file in examples() {
        // Bounded so the suite stays quick; the full runs are in BENCHMARKS.md.
        let out = weir(&[
            "run",
            file.to_str().expect("utf-8 path"),
            "--limit",
            "50000",
            "--workers",
            "2",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} failed:\n{stderr}", file.display());
        assert!(
            stderr.contains("weir: read"),
            "{}: no summary:\n{stderr}",
            file.display()
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| {
                panic!("{}: stdout line is not JSON ({e}): {line}", file.display())
            });
        }
    }
}

#[test]
fn every_example_passes_its_own_tests() {
    let mut with_tests = 0;
    for file in examples() {
        let text = std::fs::read_to_string(&file).expect("readable");
        if !text.lines().any(|l| l.trim_start().starts_with("test \"")) {
            continue;
        }
        with_tests += 1;
        let out = weir(&["test", file.to_str().expect("utf-8 path")]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} fails its tests:\n{stdout}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    }
    assert!(with_tests >= 3, "the Beam-model examples carry tests");
}
