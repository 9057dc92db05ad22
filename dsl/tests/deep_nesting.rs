//! Programs nested deeper than the front end can walk get a `P0003` diagnostic instead of
//! overflowing the stack (which aborts the process, exit 134). Run in the test harness's
//! threads (2 MiB of stack), smaller than a program's main thread.

use weir_dsl::codes;

const PRELUDE: &str = "source telemetry = sensors(devices: 5) {\n  temp: f64\n  ts: timestamp\n  event_time ts\n}\nsink out = stdout()\n";

fn codes_of(expr: &str) -> Vec<&'static str> {
    let text = format!("{PRELUDE}pipeline p {{ from telemetry | where {expr} | to out }}\n");
    match weir_dsl::compile("deep.pipe", &text) {
        Ok(_) => Vec::new(),
        Err(diags) => diags.iter().map(|d| d.code).collect(),
    }
}

#[test]
fn ten_thousand_nested_parentheses_are_refused() {
    let n = 10_000;
    let expr = format!("{}temp > 1.0{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(codes_of(&expr), vec![codes::NESTED_TOO_DEEPLY]);
}

#[test]
fn a_ten_thousand_term_chain_is_refused() {
    let expr = format!("temp{} > 1.0", " + 1.0".repeat(10_000));
    assert_eq!(codes_of(&expr), vec![codes::NESTED_TOO_DEEPLY]);
}

#[test]
fn deep_calls_and_negations_are_refused() {
    let n = 10_000;
    let calls = format!("{}temp{} > 1.0", "abs(".repeat(n), ")".repeat(n));
    assert_eq!(codes_of(&calls), vec![codes::NESTED_TOO_DEEPLY]);
    let nots = format!("{}true", "not ".repeat(n));
    assert_eq!(codes_of(&nots), vec![codes::NESTED_TOO_DEEPLY]);
}

#[test]
fn nesting_just_inside_the_limits_compiles() {
    // 60 parentheses (the prelude-free limit is 64 brackets, the pipeline takes one) and a
    // 120-term chain: deep but legal, and walked without overflowing a test thread.
    let parens = format!("{}temp > 1.0{}", "(".repeat(60), ")".repeat(60));
    assert_eq!(codes_of(&parens), Vec::<&str>::new());
    let chain = format!("temp{} > 1.0", " + 1.0".repeat(120));
    assert_eq!(codes_of(&chain), Vec::<&str>::new());
}
