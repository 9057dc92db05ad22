//! The parser, checker and renderer never panic: every `examples/*.pipe`, mutated by
//! random byte deletions, insertions and swaps, compiles to a plan or to diagnostics, and
//! the diagnostics render (text and JSON) without panicking.

use std::path::Path;

use proptest::prelude::*;

fn examples() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("readable example"))
        .collect()
}

/// One edit; positions are fractions of the current length so they always land inside.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(f64),
    Insert(f64, u8),
    Swap(f64, f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Inserted bytes favour the language's own punctuation, digits and letters.
    let byte = prop_oneof![
        prop::sample::select(b"|{}()[],:=\"<>?.-+*/ \n#0123456789smhdabcxyz_".to_vec()),
        any::<u8>(),
    ];
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::Delete),
        (0.0..1.0f64, byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
    match *m {
        Mutation::Delete(f) if !text.is_empty() => {
            let i = at(f, text.len());
            text.remove(i);
        }
        Mutation::Insert(f, b) => {
            let i = at(f, text.len() + 1);
            text.insert(i.min(text.len()), b);
        }
        Mutation::Swap(a, b) if !text.is_empty() => {
            let (i, j) = (at(a, text.len()), at(b, text.len()));
            text.swap(i, j);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_examples_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(mutation(), 1..8),
    ) {
        let all = examples();
        let mut text = all[pick.index(all.len())].clone();
        for m in &edits {
            apply(&mut text, m);
        }
        let text = String::from_utf8_lossy(&text);
        let diags = match weir_dsl::compile("m.pipe", &text) {
            Ok(c) => c.warnings,
            Err(d) => d,
        };
        let _ = weir_dsl::render(&diags, "m.pipe", &text, false);
        let _ = weir_dsl::render_json(&diags, "m.pipe", &text);
    }
}
