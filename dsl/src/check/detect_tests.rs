//! Tests of the `detect` and `forecast` stages: parsing, their diagnostics and their plans.

use weir_engine::ml::{DetectorSpec, SpikeMode};
use weir_engine::plan::Stage;
use weir_engine::schema::Type;

use crate::{compile, render, Diagnostic};

const BASE: &str = "\
source telemetry = sensors(devices: 5) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink out = stdout()
";

fn compiled(stages: &str) -> Result<crate::Compiled, (String, Vec<Diagnostic>)> {
    let text =
        format!("{BASE}pipeline p {{ from telemetry | key by device_id {stages} | to out }}\n");
    compile("test.pipe", &text).map_err(|d| (text, d))
}

#[track_caller]
fn expect_one(stages: &str, code: &str, at: &str) -> String {
    let (text, diags) = match compiled(stages) {
        Ok(_) => panic!("{stages:?} compiled"),
        Err(e) => e,
    };
    let shown = render(&diags, "test.pipe", &text, false);
    assert_eq!(diags.len(), 1, "{shown}");
    assert_eq!(diags[0].code, code, "{shown}");
    assert_eq!(diags[0].primary.span.text(&text), at, "{shown}");
    shown
}

#[test]
fn a_detect_stage_lowers_to_a_keyed_detector_adding_two_fields() {
    let c = compiled(
        "| detect anomaly in temp using spike_dip(confidence: 99.5%, history: 50, mode: spikes) \
         warmup 20 events as spike | where spike.is_anomaly and spike.score > 0.9",
    )
    .unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
    let stages = &c.plan.pipelines[0].stages;
    let Stage::Detect {
        keys,
        field,
        detector,
        warmup,
        name,
        schema,
    } = &stages[1]
    else {
        panic!("expected detect, got {stages:?}")
    };
    assert_eq!(
        (keys.as_slice(), *field, *warmup, name.as_str()),
        (&[0][..], 1, 20, "spike")
    );
    let DetectorSpec::SpikeDip(p) = detector else {
        panic!("{detector:?}")
    };
    assert!((p.confidence - 0.995).abs() < 1e-12);
    assert_eq!((p.history, p.mode), (50, SpikeMode::Spikes));
    let n = schema.fields.len();
    assert_eq!(schema.fields[n - 2].name, "spike.score");
    assert_eq!(schema.fields[n - 2].ty, Type::Float);
    assert_eq!(schema.fields[n - 1].name, "spike.is_anomaly");
    assert_eq!(schema.fields[n - 1].ty, Type::Bool);
}

#[test]
fn defaults_fill_parameters_not_given() {
    for algo in [
        "zscore",
        "spike_dip",
        "rcf",
        "contextual",
        "cad_ose",
        "artime",
    ] {
        let c = compiled(&format!("| detect anomaly in temp using {algo}() as a"))
            .unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
        let Stage::Detect { detector, .. } = &c.plan.pipelines[0].stages[1] else {
            panic!()
        };
        assert_eq!(detector.name(), algo);
    }
}

#[test]
fn unknown_algorithm_suggests_the_closest() {
    let shown = expect_one(
        "| detect anomaly in temp using zscor() as a",
        "P0212",
        "zscor",
    );
    assert!(shown.contains("did you mean `zscore`?"), "{shown}");
}

#[test]
fn unknown_parameter_suggests_the_closest() {
    let shown = expect_one(
        "| detect anomaly in temp using spike_dip(confidance: 95%) as a",
        "P0213",
        "confidance",
    );
    assert!(shown.contains("did you mean `confidence`?"), "{shown}");
}

#[test]
fn parameter_values_are_checked_for_kind_and_range() {
    let shown = expect_one(
        "| detect anomaly in temp using spike_dip(confidence: 150%) as a",
        "P0213",
        "150%",
    );
    assert!(shown.contains("percentage"), "{shown}");
    expect_one(
        "| detect anomaly in temp using spike_dip(history: 0) as a",
        "P0213",
        "0",
    );
    expect_one(
        "| detect anomaly in temp using spike_dip(mode: up) as a",
        "P0213",
        "up",
    );
    expect_one(
        "| detect anomaly in temp using rcf(trees: 2.5) as a",
        "P0213",
        "2.5",
    );
    expect_one(
        "| detect anomaly in temp using zscore(window: 10, window: 20) as a",
        "P0213",
        "window",
    );
}

#[test]
fn the_field_must_exist_and_be_numeric() {
    expect_one(
        "| detect anomaly in tmp using zscore() as a",
        "P0203",
        "tmp",
    );
    expect_one(
        "| detect anomaly in device_id using zscore() as a",
        "P0206",
        "device_id",
    );
}

#[test]
fn names_must_not_collide() {
    expect_one(
        "| detect anomaly in temp using zscore() as a | detect anomaly in temp using rcf() as a",
        "P0208",
        "a",
    );
}

#[test]
fn a_malformed_detect_is_a_syntax_error_not_unsupported() {
    let (text, diags) = compiled("| detect anomaly temp using zscore() as a").expect_err("bad");
    assert_eq!(
        diags[0].code,
        "P0001",
        "{}",
        render(&diags, "t", &text, false)
    );
}

#[test]
fn a_forecast_stage_lowers_with_its_durations_and_three_nullable_fields() {
    let c = compiled(
        "| forecast temp horizon 2h every 30m using holt_winters(season: 1d, gamma: 20%) as next",
    )
    .unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
    let Stage::Forecast { params, schema, .. } = &c.plan.pipelines[0].stages[1] else {
        panic!("expected forecast")
    };
    assert_eq!(
        (params.season_ms, params.every_ms, params.horizon_ms),
        (86_400_000, 1_800_000, 7_200_000)
    );
    assert!((params.gamma - 0.2).abs() < 1e-12);
    let n = schema.fields.len();
    for (i, part) in ["value", "lower", "upper"].iter().enumerate() {
        let f = &schema.fields[n - 3 + i];
        assert_eq!(f.name, format!("next.{part}"));
        assert!(f.nullable);
    }
}

#[test]
fn damped_trend_lowers_with_its_damping_and_holt_winters_is_undamped() {
    let damping = |src: &str| {
        let c = compiled(src).unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
        let Stage::Forecast { params, .. } = &c.plan.pipelines[0].stages[1] else {
            panic!("expected forecast")
        };
        (params.model(), params.damping)
    };
    assert_eq!(
        damping("| forecast temp horizon 1h using damped_trend(season: 1d) as n"),
        ("damped_trend", 0.98)
    );
    assert_eq!(
        damping("| forecast temp horizon 1h using damped_trend(season: 1d, damping: 90%) as n"),
        ("damped_trend", 0.9)
    );
    assert_eq!(
        damping("| forecast temp horizon 1h using holt_winters(season: 1d) as n"),
        ("holt_winters", 1.0)
    );
}

#[test]
fn damping_diagnostics() {
    let shown = expect_one(
        "| forecast temp horizon 1h using holt_winters(season: 1d, damping: 0.9) as n",
        "P0213",
        "damping",
    );
    assert!(
        shown.contains("damped_trend(season: …, damping: …)"),
        "{shown}"
    );
    expect_one(
        "| forecast temp horizon 1h using damped_trend(season: 1d, damping: 1.5) as n",
        "P0213",
        "1.5",
    );
    let shown = expect_one(
        "| forecast temp horizon 1h using damped_trnd(season: 1d) as n",
        "P0212",
        "damped_trnd",
    );
    assert!(shown.contains("did you mean `damped_trend`?"), "{shown}");
    expect_one(
        "| forecast temp horizon 1h using damped_trend() as n",
        "P0213",
        "damped_trend",
    );
}

#[test]
fn forecast_diagnostics() {
    expect_one(
        "| forecast temp horizon 2h using holt_winter(season: 1d) as n",
        "P0212",
        "holt_winter",
    );
    let shown = expect_one(
        "| forecast temp horizon 2h using holt_winters(seson: 1d) as n",
        "P0213",
        "seson",
    );
    assert!(shown.contains("did you mean `season`?"), "{shown}");
    expect_one(
        "| forecast temp horizon 2h using holt_winters() as n",
        "P0213",
        "holt_winters",
    );
    expect_one(
        "| forecast temp horizon 5h using holt_winters(season: 1d) as n",
        "P0213",
        "5h",
    );
    expect_one(
        "| forecast temp horizon 2 using holt_winters(season: 1d) as n",
        "P0301",
        "2",
    );
    expect_one(
        "| forecast device_id horizon 2h using holt_winters(season: 1d) as n",
        "P0206",
        "device_id",
    );
}

#[test]
fn cad_ose_takes_a_negative_range_and_checks_its_counts() {
    let c = compiled("| detect anomaly in temp using cad_ose(min: -20.5, max: 40, rest: 30) as a")
        .unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
    let Stage::Detect { detector, .. } = &c.plan.pipelines[0].stages[1] else {
        panic!()
    };
    let DetectorSpec::CadOse(p) = detector else {
        panic!("{detector:?}")
    };
    assert_eq!((p.min, p.max, p.rest), (Some(-20.5), Some(40.0), 30));
    expect_one(
        "| detect anomaly in temp using cad_ose(rest: 0) as a",
        "P0213",
        "0",
    );
    expect_one(
        "| detect anomaly in temp using cad_ose(min: \"low\") as a",
        "P0213",
        "\"low\"",
    );
}

#[test]
fn artime_takes_a_range_and_checks_its_probation() {
    let c =
        compiled("| detect anomaly in temp using artime(min: -5, max: 40.5, probation: 600) as a")
            .unwrap_or_else(|(t, d)| panic!("{}", render(&d, "t", &t, false)));
    let Stage::Detect { detector, .. } = &c.plan.pipelines[0].stages[1] else {
        panic!()
    };
    let DetectorSpec::Artime(p) = detector else {
        panic!("{detector:?}")
    };
    assert_eq!((p.min, p.max, p.probation), (Some(-5.0), Some(40.5), 600));
    // The warm-up must hold a few feature windows.
    expect_one(
        "| detect anomaly in temp using artime(probation: 16) as a",
        "P0213",
        "16",
    );
}
