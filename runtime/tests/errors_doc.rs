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

#[test]
fn every_entry_fails_with_its_code_and_its_fix_does_not() {
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
