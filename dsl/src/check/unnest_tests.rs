//! Checker and lowering tests of `unnest`: the list, the names it gives, the output
//! record and the plan stage.

use weir_engine::plan::Stage;

use crate::{compile, render, Diagnostic};

const BASE: &str = "\
source bids = sensors() {
  auction: i64
  bidder:  i64
  price:   i64
  ts:      timestamp
  event_time ts
}
sink out = stdout()
pipeline ranked {
  from bids
  | key by auction
  | window tumbling 10s
  | aggregate top = top(price, 3) keep {bidder, ts}, n = count()
}
";

fn diagnostics(body: &str) -> (String, Vec<Diagnostic>) {
    super::test_diagnostics::diagnostics(BASE, body)
}

/// Asserts `stages` after `from ranked` give exactly one diagnostic, with `code`,
/// pointing at `at`.
#[track_caller]
fn expect_one(stages: &str, code: &str, at: &str) -> Diagnostic {
    let (text, diags) = diagnostics(&format!("pipeline p {{ from ranked {stages} | to out }}"));
    let shown = render(&diags, "t.pipe", &text, false);
    assert_eq!(diags.len(), 1, "{shown}");
    let d = diags.into_iter().next().expect("one");
    assert_eq!(d.code, code, "{shown}");
    assert_eq!(d.primary.span.text(&text), at, "{shown}");
    d
}

#[test]
fn the_list_and_its_kept_fields_become_one_record_per_rank() {
    let text = format!(
        "{BASE}pipeline p {{ from ranked | unnest top as bid with ordinality as rank \
         | where bid > 10 and bid.bidder != 3 | select auction, bid, bid.ts, rank | to out }}\n"
    );
    let compiled = compile("t.pipe", &text).unwrap_or_else(|d| {
        panic!("{}", render(&d, "t.pipe", &text, false));
    });
    let p = compiled.plan.pipeline("p").expect("p");
    let Stage::Unnest { spec, schema } = &p.stages[0] else {
        panic!("{:?}", p.stages);
    };
    assert_eq!((spec.list, &spec.companions), (1, &vec![2, 3]));
    assert_eq!(
        schema.to_string(),
        "{auction: i64, bid: i64, bid.bidder: i64?, bid.ts: timestamp?, n: i64, \
         window.start: timestamp, window.end: timestamp, pane.timing: string, \
         pane.index: i64, pane.nonspeculative_index: i64, pane.final: bool, \
         pane.timestamp: timestamp, rank: i64}"
    );
    assert_eq!(
        p.output_schema().to_string(),
        "{auction: i64, bid: i64, bid.ts: timestamp?, rank: i64}"
    );
}

#[test]
fn unnest_needs_a_list_it_knows() {
    let d = expect_one("| unnest n as m", "P0236", "n");
    assert_eq!(d.message, "`unnest` needs a list, but `n` is i64");
    let d = expect_one("| unnest tops as bid", "P0203", "tops");
    assert_eq!(d.help.as_deref(), Some("did you mean `top`?"));
    // The fields after a failed unnest are unknown: no second error for `bid`.
    expect_one("| unnest n as bid | where bid > 1", "P0236", "n");
}

#[test]
fn the_names_unnest_gives_are_new() {
    let d = expect_one("| unnest top as auction", "P0237", "auction");
    assert_eq!(
        d.message,
        "`unnest top` would make a second field named `auction`"
    );
    // The element's companions are named after it too.
    let d = expect_one(
        "| map best.ts = window.start | unnest top as best",
        "P0237",
        "best",
    );
    assert!(d.message.contains("`best.ts`"), "{}", d.message);
    expect_one("| unnest top as bid with ordinality as n", "P0237", "n");
    let d = expect_one(
        "| unnest top as rank with ordinality as rank",
        "P0237",
        "rank",
    );
    assert_eq!(d.message, "`unnest top` would make two fields named `rank`");
    // The list itself is replaced, so its name is free again.
    let (text, diags) = diagnostics("pipeline p { from ranked | unnest top as top | to out }");
    assert!(diags.is_empty(), "{}", render(&diags, "t", &text, false));
}

#[test]
fn near_synonyms_point_to_unnest() {
    let d = expect_one("| explode top", "P0001", "explode");
    assert_eq!(d.help.as_deref(), Some("did you mean `unnest`?"));
}
