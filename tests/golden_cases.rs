//! Golden end-to-end cases: `tests/cases/<name>/` holds `pipeline.pipe`, its input files and
//! `expected/<file>` for every output file. Each case runs on 1 and on 4 workers, from a
//! copy of its folder, and every output must equal the expected one (as a multiset of
//! records: output order across workers is not defined).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir::engine::clock::WallClock;
use weir::engine::metrics::Metrics;
use weir::engine::run::{run, RunOptions};
use weir::engine::stop::StopHandle;
use weir::runtime::catalog::Catalog;
use weir::runtime::connectors::Connectors;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("pipeline.pipe").exists())
        .collect();
    dirs.sort();
    dirs
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("file name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// Output records in a canonical, sorted form.
fn normalised(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut rows: Vec<String> = if path.extension().is_some_and(|e| e == "csv") {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default().to_string();
        let mut rows: Vec<String> = lines.map(str::to_string).collect();
        rows.sort();
        rows.insert(0, header);
        return rows;
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{}: bad JSON line {l:?}: {e}", path.display()));
                v.to_string()
            })
            .collect()
    };
    rows.sort();
    rows
}

fn run_case(case: &Path, workers: usize) {
    let name = case
        .file_name()
        .expect("case name")
        .to_string_lossy()
        .to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(case, dir.path());
    let pipe = dir.path().join("pipeline.pipe");
    let text = std::fs::read_to_string(&pipe).expect("read pipeline");
    let compiled = match weir::dsl::compile_with(&pipe.display().to_string(), &text, &Catalog) {
        Ok(c) => c,
        Err(d) => panic!(
            "{name}: does not compile:\n{}",
            weir::dsl::render(&d, "pipeline.pipe", &text, false)
        ),
    };
    let plan = Arc::new(compiled.plan);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|b| panic!("unexpected bad record: {b:?}")),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let connectors = Arc::new(Connectors::with_base_dir(dir.path()));
    run(plan, connectors, options, metrics).unwrap_or_else(|e| panic!("{name}: run failed: {e}"));
    for expected in std::fs::read_dir(case.join("expected")).expect("expected/ exists") {
        let expected = expected.expect("entry").path();
        let actual = dir
            .path()
            .join("out")
            .join(expected.file_name().expect("file name"));
        assert_eq!(
            normalised(&actual),
            normalised(&expected),
            "case `{name}` on {workers} worker(s): {} differs",
            expected.display()
        );
    }
}

#[test]
fn golden_cases_on_one_worker() {
    let cases = cases();
    assert!(cases.len() >= 4, "golden cases are missing");
    for case in cases {
        run_case(&case, 1);
    }
}

#[test]
fn golden_cases_on_four_workers() {
    for case in cases() {
        run_case(&case, 4);
    }
}
