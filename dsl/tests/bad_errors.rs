//! Messages we know are still poor, pinned as they are today (PRQL's `bad_error_messages`
//! idea): improving one shows up as a snapshot diff to review, so progress is visible and
//! nothing regresses unnoticed. Each case says what is wrong with its message.

const HEAD: &str = "source s = sensors() {\n  temp: f64\n  ts: timestamp\n  event_time ts\n}\nsink out = stdout()\n";

fn rendered(body: &str) -> String {
    let text = format!("{HEAD}{body}\n");
    match weir_dsl::compile("bad.pipe", &text) {
        Ok(_) => panic!("expected an error for {body:?}"),
        Err(d) => weir_dsl::render(&d, "bad.pipe", &text, false),
    }
}

/// Poor: lists every kind of token an expression may start with, and the help talks about
/// duration units, which have nothing to do with an unclosed parenthesis.
#[test]
fn unfinished_expression_in_parentheses() {
    insta::assert_snapshot!(rendered("pipeline p { from s | where (temp > | to out }"));
}

/// Poor: the help about duration units does not say that `every` needs `event`, `<n>
/// events` or a duration after it.
#[test]
fn emit_every_without_a_rate() {
    insta::assert_snapshot!(rendered(
        "pipeline p { from s | window tumbling 1m emit early every | aggregate n = count() | to out }"
    ));
}

/// Poor: says a field name is expected but not that `key by` needs one or more fields.
#[test]
fn key_by_without_fields() {
    insta::assert_snapshot!(rendered("pipeline p { from s | key by | to out }"));
}
