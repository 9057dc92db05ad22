//! docs/errors.md: every diagnostic code in dsl/src/codes.rs has an entry, and each
//! entry's first example really gets that code from the real checker (with the real
//! connector catalog) as an error or warning, while its second example, the fix, does not.

use std::path::PathBuf;

use weir_runtime::catalog::Catalog;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `P0xxx` values of the constants in dsl/src/codes.rs.
fn codes() -> Vec<String> {
    read("dsl/src/codes.rs")
        .lines()
        .filter(|l| l.starts_with("pub const "))
        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
        .collect()
}

/// The ```pipe blocks of `text`, in order.
fn pipe_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```pipe") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn codes_of(prelude: &str, example: &str) -> Vec<&'static str> {
    let text = format!("{prelude}{example}");
    let diags = match weir_dsl::compile_with("errors.md", &text, &Catalog) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    // Notes explain a program that is fine; only errors and warnings count.
    diags
        .iter()
        .filter(|d| d.severity != weir_dsl::Severity::Note)
        .map(|d| d.code)
        .collect()
}

#[test]
fn every_code_has_an_entry() {
    let doc = read("docs/errors.md");
    let codes = codes();
    assert!(codes.len() > 30, "read the codes: {codes:?}");
    for code in codes {
        assert!(
            doc.contains(&format!("## {code} ")),
            "docs/errors.md has no `## {code} — …` entry"
        );
    }
}

/// Model checks read the model file: P0109 needs ONNX support to see a mismatch, and
/// P0110 is what a build without it says (its fix is a rebuild, not an edit).
const NEEDS_ONNX: &str = "P0109";
const WITHOUT_ONNX: &str = "P0110";

#[test]
fn every_entry_fails_with_its_code_and_its_fix_does_not() {
    // Model paths in the examples are relative to the repository root, where `weir` runs
    // in the docs; no other test of this file depends on the current directory.
    std::env::set_current_dir(repo_root()).expect("cd to the repository root");
    let doc = read("docs/errors.md");
    let mut sections = doc.split("\n## ");
    let intro = sections.next().expect("an introduction");
    let prelude = pipe_blocks(intro).into_iter().next().expect("the prelude");
    assert!(
        codes_of(&prelude, "").is_empty(),
        "the prelude must be clean: {:?}",
        codes_of(&prelude, "")
    );
    let mut checked = 0;
    for section in sections {
        let code = section.split_whitespace().next().expect("a code");
        let blocks = pipe_blocks(section);
        assert_eq!(blocks.len(), 2, "{code}: a failing example and its fix");
        let onnx = weir_runtime::model::ONNX_ENABLED;
        if code == WITHOUT_ONNX {
            // The same program fails without ONNX support and checks clean with it.
            let got = codes_of(&prelude, &blocks[0]);
            assert_eq!(
                got.contains(&code),
                !onnx,
                "{code}: the example gets {got:?}"
            );
            if onnx {
                assert!(got.is_empty(), "{code}: with ONNX the example gets {got:?}");
            }
            checked += 1;
            continue;
        }
        if code == NEEDS_ONNX && !onnx {
            println!("note: {code} skipped: it needs a build with `--features onnx`");
            checked += 1;
            continue;
        }
        let failing = codes_of(&prelude, &blocks[0]);
        assert!(
            failing.contains(&code),
            "{code}: the example gets {failing:?}"
        );
        let fixed = codes_of(&prelude, &blocks[1]);
        assert!(
            !fixed.contains(&code),
            "{code}: the fix still gets {fixed:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, codes().len());
}
