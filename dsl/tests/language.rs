//! Language transcripts: `tests/language/*.pipe` carry `test` blocks that run the
//! checked plan on the engine's scripted harness, so each function and aggregate is
//! tested end to end (parse → check → lower → engine) on the values it computes.

use std::path::Path;
use std::sync::Arc;

use weir_engine::testing::script::run_tests;

#[test]
fn every_language_transcript_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/language exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let name = file.display().to_string();
        let compiled = weir_dsl::compile(&name, &text).unwrap_or_else(|d| {
            panic!(
                "{name} does not compile:\n{}",
                weir_dsl::render(&d, &name, &text, false)
            )
        });
        assert!(!compiled.plan.tests.is_empty(), "{name} has no test block");
        for report in run_tests(&Arc::new(compiled.plan)).expect("tests run") {
            ran += 1;
            if !report.passed() {
                failures.push(format!(
                    "{name} \"{}\":\n{}",
                    report.name,
                    report.failures.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 3, "only {ran} tests ran");
}
