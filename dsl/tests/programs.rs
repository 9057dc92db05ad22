//! Golden tests: every `tests/programs/*.pipe` compiles without diagnostics, and its
//! `explain` output is pinned by an insta snapshot (`tests/snapshots/`).

use std::path::Path;

#[test]
fn programs_lower_to_their_snapshot_plans() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/programs exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let text = std::fs::read_to_string(&path).expect("readable program");
        let compiled = match weir_dsl::compile(name, &text) {
            Ok(c) => c,
            Err(d) => panic!("{}", weir_dsl::render(&d, name, &text, false)),
        };
        assert!(
            compiled.warnings.is_empty(),
            "{}",
            weir_dsl::render(&compiled.warnings, name, &text, false)
        );
        insta::assert_snapshot!(name, compiled.plan.explain());
    }
}
