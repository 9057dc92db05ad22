//! The Beam model, one behaviour per file: `tests/beam/*.pipe` carry `test` blocks
//! (transcripts of inputs, watermarks, processing time and expected panes) that must all
//! pass. Covered: the default trigger with and without allowed lateness, early and late
//! count firings, discarding vs accumulating, sessions with early and late firings across
//! merges (pane indexes, retraction), garbage collection, every timestamp combiner,
//! elements that arrive behind the watermark, processing-time triggers under the test
//! clock, and triggers that close their window.

use std::path::Path;
use std::sync::Arc;

use weir::engine::testing::script::run_tests;
use weir::runtime::catalog::Catalog;

#[test]
fn every_beam_transcript_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/beam");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/beam exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let name = file.display().to_string();
        let compiled = weir::dsl::compile_with(&name, &text, &Catalog).unwrap_or_else(|d| {
            panic!(
                "{name} does not compile:\n{}",
                weir::dsl::render(&d, &name, &text, false)
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
    assert!(ran >= 9, "only {ran} tests ran");
}
