//! Pest errors in user words: "expected a stage after `|`", never a grammar rule name.
//!
//! Every grammar rule has a description in [`describe`], an exhaustive `match`: adding a
//! rule to the grammar without saying how to describe it to users does not compile.

use pest::error::{ErrorVariant, InputLocation};

use super::Rule;
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// What users are told a rule stands for, or `None` for rules that are never the
/// expected thing on their own (their parents are described instead).
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "end of file",
        program | top_item | source_decl | sink_decl | pipeline_decl | future_decl
        | future_decl_kw | top_kw => "a declaration (`source`, `sink` or `pipeline`)",
        source_item | field_decl => "a field such as `temp: f64`",
        event_time_decl => "`event_time <field>`",
        watermark_decl => "`watermark bounded <duration>`",
        watermark_part | wm_bounded | wm_idle | wm_per_key | wm_max_future => {
            "a watermark setting (`bounded 10s`, `idle 1m`, `per key` or `max_future 1h`)"
        }
        type_ref | type_name => "a type such as `f64`",
        nullable_mark => "`?`",
        connector_call => "a connector call such as `file(\"out.jsonl\")`",
        call_arg | named_option | option_value | option_list | option_call => "a value",
        unit_word => "a speed such as `60x` or a size such as `128MB`",
        dotted_name => "a field name",
        on_error_line => "`on error to <sink>`",
        table_decl | table_item => {
            "a table field such as `site: string`, `key <field>` or `refresh on change`"
        }
        table_key => "`key <field>`",
        table_refresh | refresh_on_change | refresh_every => {
            "`refresh on change` or `refresh every <duration>`"
        }
        lookup_stage => "`lookup <table> on <field>`",
        lookup_miss | miss_drop | miss_keep_null | miss_to => {
            "`on miss drop`, `on miss keep null` or `on miss to <sink>`"
        }
        join_stage => "`join <source or pipeline> on <field> = <field>`",
        join_alias => "`as <name>`",
        join_pair => "`<field> = <field>` (a field of this pipeline = a field of the joined input)",
        join_within | join_window => "`within <duration>` or `window tumbling <duration>`",
        from_line => "`from <source or pipeline>`",
        pipe_stage | stage_kw | future_stage | future_stage_kw | unknown_stage => {
            "a stage (`where`, `map`, `select`, `key by`, `window`, `aggregate` or `to`)"
        }
        where_stage => "`where <condition>`",
        map_stage | map_assign => "an assignment such as `temp_f = temp * 1.8 + 32.0`",
        select_stage | named_expr => "a field or `name = <expression>`",
        key_by_stage => "`key by <field>`",
        dedupe_stage => "`dedupe by <field> within <duration>`",
        unnest_stage => "`unnest <list> as <name>`",
        unnest_ordinality => "`with ordinality as <name>`",
        aggregate_stage | agg_item => "an aggregate such as `n = count()`",
        agg_keep => "`keep {<field>, …}`",
        to_stage => "`to <sink>`",
        detect_stage => "`detect anomaly in <field> using <algorithm>(…) as <name>`",
        detect_param => "a parameter such as `confidence: 95%`",
        forecast_stage => {
            "`forecast <field> horizon <duration> using holt_winters(season: <duration>) as <name>`"
        }
        detect_warmup => "`warmup <n> events`",
        model_decl => "`model <name> = onnx(\"<path>\") { inputs { … } outputs { … } }`",
        checkpoint_decl => "`checkpoint every <duration> to \"<directory>\"`",
        checkpoint_every => "a duration such as `10s`",
        overload_decl | overload_policy => "`on overload drop` or `on overload backpressure`",
        kw_overload => "`overload`",
        kw_backpressure => "`backpressure`",
        model_inputs => "`inputs { <name>: <type>, … }`",
        model_outputs => "`outputs { <name>: <type>, … }`",
        model_fields => "`{ <name>: <type>, … }`",
        alert_stage | alert_clause => {
            "`alert <name>` followed by clauses such as `critical when <condition>`"
        }
        alert_level | alert_level_kw => {
            "`critical when <condition>`, `warning when …` or `info when …`"
        }
        alert_resolve => "`resolve when <condition>`",
        alert_for => "`for <duration>`",
        alert_keep => "`keep firing for <duration>`",
        alert_repeat => "`repeat every <duration>`",
        alert_no_recoveries => "`no recoveries`",
        alert_deadman => "`deadman <duration>`",
        alert_flapping => "`flapping low <share> high <share>`",
        flap_value => "a share such as `0.25` or `25%`",
        alert_id => "`id \"<template>\"`",
        alert_message => "`message \"<template>\"`",
        alert_group => "`group by <field>, … [wait <duration>] [interval <duration>]`",
        group_wait => "`wait <duration>`",
        alert_silenced => "`silenced by <table>`",
        group_interval => "`interval <duration>`",
        infer_stage => "`infer <model> with {<field>, …} -> {<output>, …}`",
        infer_inputs => "`{<field>, …}`",
        infer_outputs => "`{<output>, …}`",
        percent_lit => "a percentage such as `95%`",
        negative_lit => "a negative number such as `-20.5`",
        window_stage | window_kind | tumbling_window | sliding_window | session_window
        | global_window | until_window | count_window | unknown_window => {
            "a window kind such as `tumbling 1m`"
        }
        time_domain => "`on processing time`",
        window_clause | emit_clause | allow_late_clause | accumulation_mode | late_to_clause
        | timestamp_clause | clause_stop => "a window clause such as `allow late 5m`",
        dur_value | duration_lit => "a duration such as `10s`",
        trigger_expr | trigger_term | sugar_item | trig_watermark | trig_count
        | trig_processing | trig_repeat | trig_any | trig_all | trig_each | trig_never
        | emit_sugar | sugar_early | sugar_on_time | sugar_late => {
            "a trigger such as `watermark`, `count(100)` or `early every 10s`"
        }
        trig_wm_arg => "`early: <trigger>` or `late: <trigger>`",
        sugar_rate => "`every event`, `every <n> events` or `every <duration>`",
        int_value => "a whole number",
        test_decl => "`test \"name\" { … }`",
        query_decl => "`query <name> every <duration> = sql\"\"\"SELECT …\"\"\" | to <sink>`",
        query_at => "`at <hh:mm>`",
        clock_lit => "a time of day such as `01:00`",
        sql_text | sql_body => "SQL between `sql\"\"\"` and `\"\"\"`",
        test_step | given_step | watermark_step | clock_step | expect_step => {
            "a test step (`given`, `watermark`, `clock` or `expect`)"
        }
        record_lit => "a record such as `{temp: 70.0}`",
        record_field => "a field such as `temp: 70.0`",
        value_lit => "a value such as `70.0` or `\"a\"`",
        list_value => "a list such as `[1, 2, 3]`",
        time_value => "a time such as `\"2024-05-01T10:00:00Z\"` or epoch milliseconds",
        full_expr | bound_expr | operand_seq | atom_expr | paren_expr | func_call | literal_tok
        | field_ref | bound_operand | prefix_op | op_neg | op_not => "an expression",
        infix_op | bound_op | postfix_op | op_or | op_and | op_coalesce | op_eq | op_ne | op_le
        | op_ge | op_lt | op_gt | op_add | op_sub | op_mul | op_div | op_rem => "an operator",
        between_tail => "`between <low> and <high>`",
        in_tail => "`in [<values>]`",
        field_name => "a field name",
        ident | reserved_word => "a name",
        count_lit | float_lit | int_lit | bad_number | digits | exponent => "a number",
        bool_lit => "`true` or `false`",
        null_lit => "`null`",
        string_lit | unterminated_string => "a string",
        kw_source => "`source`",
        kw_sink => "`sink`",
        kw_pipeline => "`pipeline`",
        kw_table => "`table`",
        kw_test => "`test`",
        kw_run => "`run`",
        kw_model => "`model`",
        kw_checkpoint => "`checkpoint`",
        kw_query => "`query`",
        kw_at => "`at`",
        kw_event_time => "`event_time`",
        kw_watermark => "`watermark`",
        kw_bounded => "`bounded`",
        kw_idle => "`idle`",
        kw_max_future => "`max_future`",
        kw_per => "`per`",
        kw_key => "`key`",
        kw_dedupe => "`dedupe`",
        kw_unnest => "`unnest`",
        kw_ordinality => "`ordinality`",
        kw_by => "`by`",
        kw_on => "`on`",
        kw_error => "`error`",
        kw_from => "`from`",
        kw_to => "`to`",
        kw_where => "`where`",
        kw_map => "`map`",
        kw_select => "`select`",
        kw_aggregate => "`aggregate`",
        kw_window => "`window`",
        kw_tumbling => "`tumbling`",
        kw_offset => "`offset`",
        kw_sliding => "`sliding`",
        kw_every => "`every`",
        kw_session => "`session`",
        kw_gap => "`gap`",
        kw_max => "`max`",
        kw_global => "`global`",
        kw_emit => "`emit`",
        kw_allow => "`allow`",
        kw_late => "`late`",
        kw_accumulate => "`accumulate`",
        kw_discard => "`discard`",
        kw_retract => "`retract`",
        kw_timestamp => "`timestamp`",
        kw_end => "`end`",
        kw_earliest => "`earliest`",
        kw_latest => "`latest`",
        kw_lookup => "`lookup`",
        kw_refresh => "`refresh`",
        kw_change => "`change`",
        kw_miss => "`miss`",
        kw_drop => "`drop`",
        kw_keep => "`keep`",
        kw_null => "`null`",
        kw_join => "`join`",
        kw_within => "`within`",
        kw_detect => "`detect`",
        kw_forecast => "`forecast`",
        kw_infer => "`infer`",
        kw_track => "`track`",
        kw_alert => "`alert`",
        kw_critical => "`critical`",
        kw_warning => "`warning`",
        kw_info => "`info`",
        kw_when => "`when`",
        kw_resolve => "`resolve`",
        kw_for => "`for`",
        kw_firing => "`firing`",
        kw_no => "`no`",
        kw_recoveries => "`recoveries`",
        kw_deadman => "`deadman`",
        kw_flapping => "`flapping`",
        kw_low => "`low`",
        kw_high => "`high`",
        kw_history => "`history`",
        kw_id => "`id`",
        kw_message => "`message`",
        kw_group => "`group`",
        kw_silenced => "`silenced`",
        kw_wait => "`wait`",
        kw_interval => "`interval`",
        kw_until => "`until`",
        kw_early => "`early`",
        kw_count => "`count`",
        kw_processing => "`processing`",
        kw_time => "`time`",
        kw_repeat => "`repeat`",
        kw_any => "`any`",
        kw_all => "`all`",
        kw_each => "`each`",
        kw_never => "`never`",
        kw_event => "`event`",
        kw_events => "`events`",
        kw_given => "`given`",
        kw_clock => "`clock`",
        kw_expect => "`expect`",
        kw_between => "`between`",
        if_expr => "`if <condition> then <value> else <value>`",
        case_expr => "`case when <condition> then <value> … end`",
        case_when => "`when <condition> then <value>`",
        case_else => "`else <value>`",
        kw_if => "`if`",
        kw_then => "`then`",
        kw_else => "`else`",
        kw_case => "`case`",
        kw_in => "`in`",
        kw_anomaly => "`anomaly`",
        kw_using => "`using`",
        kw_warmup => "`warmup`",
        kw_as => "`as`",
        kw_horizon => "`horizon`",
        kw_live | live_mark => "`live`",
        kw_serve => "`serve`",
        kw_token => "`token`",
        kw_env => "`env`",
        kw_off => "`off`",
        serve_decl | serve_on | serve_off => {
            "`serve on \"<host:port>\"` (with `token env \"<VAR>\"` beyond loopback) or `serve off`"
        }
        serve_token => "`token env \"<VAR>\"`",
        kw_with => "`with`",
        kw_inputs => "`inputs`",
        kw_outputs => "`outputs`",
        ident_char => "a letter, digit or `_`",
        brace_block | loose_token | assign_eq => return None,
        WHITESPACE | COMMENT => return None,
    })
}

/// Rules that span whole declarations: "expected a declaration" is never the useful
/// thing to say when parsing got inside one.
fn is_container(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::program
            | Rule::pipeline_decl
            | Rule::source_decl
            | Rule::sink_decl
            | Rule::table_decl
            | Rule::checkpoint_decl
            | Rule::future_decl
            | Rule::connector_call
    )
}

/// Punctuation worth naming when it is what was expected.
const PUNCTUATION: [&str; 11] = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "|", "?"];

const STAGE_WORDS: [&str; 8] = [
    "where",
    "map",
    "select",
    "key",
    "window",
    "aggregate",
    "to",
    "from",
];

/// Translates a pest error into a diagnostic.
pub(super) fn translate(error: &pest::error::Error<Rule>, text: &str) -> Diagnostic {
    let rule_at = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((p, _)) => p,
    };
    // Pest places its error at the furthest *rule* that failed; a literal token (`)`,
    // `|`) that failed further on is only in the parse attempts. Report the furthest.
    let attempts = error.parse_attempts();
    let at = attempts
        .as_ref()
        .map_or(rule_at, |a| a.max_position.max(rule_at));
    let found = token_at(text, at);
    let found_span = Span::new(at, at + found.len());
    let found_text = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };

    let mut expected: Vec<&'static str> = Vec::new();
    let mut add = |rule: Rule| {
        if let Some(d) = describe(rule) {
            if !expected.contains(&d) {
                expected.push(d);
            }
        }
    };
    if at == rule_at {
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            positives.iter().for_each(|r| add(*r));
        }
    } else if let Some(attempts) = &attempts {
        for stack in attempts.call_stacks() {
            if let Some(rule) = stack.deepest.get_rule() {
                if !is_container(*rule) {
                    add(*rule);
                }
            }
        }
    }
    let mut punctuation: Vec<String> = Vec::new();
    if let Some(attempts) = &attempts {
        if attempts.max_position == at {
            for token in attempts.expected_tokens() {
                let token = token.to_string();
                if PUNCTUATION.contains(&token.as_str()) {
                    punctuation.push(format!("`{token}`"));
                }
            }
        }
    }
    punctuation.sort();
    punctuation.dedup();
    if expected.contains(&"an operator") {
        // `x(` would make `x` a function call: true, but never what was meant.
        punctuation.retain(|p| p != "`(`");
    }

    let previous = previous_token(text, at);
    let stage_expected = expected.iter().any(|e| e.starts_with("a stage"));
    let (message, label) = if stage_expected && previous == "|" {
        (
            "expected a stage after `|`".to_string(),
            format!("found {found_text}, expected a stage"),
        )
    } else {
        let mut all: Vec<String> = punctuation.clone();
        all.extend(expected.iter().map(|s| s.to_string()));
        let list = one_of(&all);
        if list.is_empty() {
            (
                format!("unexpected {found_text}"),
                "unexpected here".to_string(),
            )
        } else {
            (
                format!("expected {list}, found {found_text}"),
                format!("expected {list}"),
            )
        }
    };

    let mut diagnostic = Diagnostic::error(codes::SYNTAX, message, found_span, label);
    diagnostic.help = help(&expected, &punctuation, found, previous);
    diagnostic
}

fn help(expected: &[&str], punctuation: &[String], found: &str, previous: &str) -> Option<String> {
    let expects = |s: &str| expected.iter().any(|e| e.starts_with(s));
    if expects("a stage") {
        let stages = ["where", "map", "select", "key", "window", "aggregate", "to"];
        let synonym = match found {
            "filter" => Some("where"),
            "project" => Some("select"),
            "group" | "groupby" | "partition" => Some("key by"),
            "agg" | "reduce" => Some("aggregate"),
            "sink" | "output" | "into" => Some("to"),
            "with" | "extend" | "derive" => Some("map"),
            _ => did_you_mean(found, stages).map(|s| if s == "key" { "key by" } else { s }),
        };
        return Some(match synonym {
            Some(s) => format!("did you mean `{s}`?"),
            None => "stages are `where`, `map`, `select`, `key by`, `window`, `aggregate` and `to`"
                .to_string(),
        });
    }
    if punctuation.iter().any(|p| p == "`|`") && STAGE_WORDS.contains(&found) {
        return Some(format!("put `|` before each stage: `| {found} …`"));
    }
    if expects("an operator") && found.starts_with('=') && !found.starts_with("==") {
        return Some("to compare, write `==`".to_string());
    }
    if expects("a duration") {
        return Some("durations need a unit: `ms`, `s`, `m`, `h` or `d`, as in `10s`".to_string());
    }
    if expects("a type") {
        return Some("types are `bool`, `i64`, `f64`, `string`, `timestamp` and `duration`, with `?` for nullable".to_string());
    }
    if expects("a window kind") {
        return Some("write e.g. `window tumbling 1m`".to_string());
    }
    if previous == "," && found == ")" {
        return None;
    }
    None
}

/// "a, b or c".
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token starting at `at`: a word, a number, or one punctuation character.
fn token_at(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    let word_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    if word_end > 0 {
        return &rest[..word_end];
    }
    for two in ["==", "!=", "<=", ">=", "??"] {
        if rest.starts_with(two) {
            return &rest[..2];
        }
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

/// The last non-blank character (or word) before `at`, skipping comments.
fn previous_token(text: &str, at: usize) -> &str {
    let before = text.get(..at).unwrap_or("");
    let mut trimmed = before;
    loop {
        let t = trimmed.trim_end();
        // Drop a trailing comment on the last line.
        let line_start = t.rfind('\n').map_or(0, |i| i + 1);
        match t[line_start..].find('#') {
            Some(hash) if !t[line_start..line_start + hash].contains('"') => {
                trimmed = &t[..line_start + hash];
            }
            _ => {
                trimmed = t;
                break;
            }
        }
    }
    trimmed
        .chars()
        .last()
        .map_or("", |c| &trimmed[trimmed.len() - c.len_utf8()..])
}
