//! Checkpoint state round trips: every kind of state a stateful operator holds is fed
//! the first part of a seeded input, saved with bincode (as checkpoints save it), read
//! back, and fed the rest; its outputs must equal those of an instance never interrupted,
//! floats bit for bit. Detectors run on a NAB series read in place when
//! `/work/shared/data/nab` exists, else on a generated series of the same shape.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_engine::aggregate::{Acc, AggregateFn};
use weir_engine::alert::group::{GroupSpec, Groups, SavedGroups};
use weir_engine::alert::keyed::{KeyedAlerts, SavedAlerts};
use weir_engine::alert::silence::{SilenceSpec, Silences};
use weir_engine::alert::{AlertSpec, FlappingSpec, Level, LevelRule, Piece, Template};
use weir_engine::event::Event;
use weir_engine::io::{LookupTable, TableRows};
use weir_engine::key::{GroupKey, KeyView};
use weir_engine::ml::{
    ArtimeParams, CadOseParams, ContextualParams, Detector, DetectorSpec, HoltWinters,
    HoltWintersParams, RcfParams, SpikeDipParams, SpikeMode, ZscoreParams,
};
use weir_engine::plan::{AggFunc, Aggregate, BinaryOp, Expr, KeptField, Trigger};
use weir_engine::schema::{Field, Type};
use weir_engine::time::EventTime;
use weir_engine::trigger::{TriggerContext, TriggerMachine, TriggerState};
use weir_engine::value::Value;
use weir_engine::window::assign::Window;
use weir_engine::window::merge::merge_with;

/// Saves and reads back, as a checkpoint does.
fn roundtrip<T: Serialize + DeserializeOwned>(t: &T) -> T {
    let bytes = bincode::serialize(t).expect("state saves");
    bincode::deserialize(&bytes).expect("state reads back")
}

/// Values compared bit for bit (floats by their bits, which `Value`'s `==` does).
fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

// ---------------------------------------------------------------- values and keys

#[test]
fn values_events_and_keys_round_trip_exactly() {
    let values = vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(i64::MIN),
        Value::Float(f64::NAN),
        Value::Float(-0.0),
        Value::Float(f64::from_bits(0x7ff8_dead_beef_0001)),
        Value::Float(1e-310),
        Value::str("dev-1 ✓"),
        Value::Time(1_700_000_000_000),
        Value::Duration(-5),
        Value::List(Arc::from(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::Null,
        ])),
    ];
    let event = Event::new(42, values.clone());
    let back = roundtrip(&event);
    assert_eq!(back.time, 42);
    assert!(same(&back.record, &values));
    // NaN payloads and the sign of zero survive.
    assert_eq!(
        back.record.iter().map(bits).collect::<Vec<_>>(),
        values.iter().map(bits).collect::<Vec<_>>()
    );
    let key = GroupKey(values.clone().into_boxed_slice());
    let key_back = roundtrip(&key);
    assert_eq!(key_back, key);
    assert_eq!(key_back.route(), key.route());
}

fn bits(v: &Value) -> Option<u64> {
    match v {
        Value::Float(f) => Some(f.to_bits()),
        _ => None,
    }
}

#[test]
fn a_saved_key_routes_like_the_record_it_came_from() {
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let mut workers_seen = [0usize; 4];
    for _ in 0..5000 {
        let record: Vec<Value> = (0..4).map(|_| random_value(&mut rng)).collect();
        let slots: Vec<usize> = (0..rng.gen_range(1..=4))
            .map(|_| rng.gen_range(0..4))
            .collect();
        let view = KeyView {
            record: &record,
            slots: &slots,
        };
        let key = roundtrip(&view.to_owned());
        assert_eq!(key.route(), view.route(), "{record:?} {slots:?}");
        workers_seen[(key.route() % 4) as usize] += 1;
    }
    // The hash spreads keys: every one of 4 workers gets a fair share.
    assert!(workers_seen.iter().all(|&n| n > 900), "{workers_seen:?}");
}

fn random_value(rng: &mut Pcg64Mcg) -> Value {
    match rng.gen_range(0..8) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => Value::Int(rng.gen_range(-1000..1000)),
        3 => Value::Float(rng.gen_range(-1e6..1e6)),
        4 => Value::str(&format!("k{}", rng.gen_range(0..500))),
        5 => Value::Time(rng.gen_range(0..1_000_000)),
        6 => Value::Duration(rng.gen_range(0..1000)),
        _ => Value::List(Arc::from(vec![
            Value::Int(rng.gen_range(0..9)),
            Value::Null,
        ])),
    }
}

// ---------------------------------------------------------------- accumulators

fn aggregate(func: AggFunc, ty: Type, keep: bool) -> Aggregate {
    Aggregate {
        name: "a".into(),
        func,
        arg: Some(Expr::Field {
            slot: 0,
            name: "v".into(),
        }),
        arg_type: Some(ty),
        keep: if keep {
            vec![KeptField {
                slot: 1,
                field: Field::new("tag", Type::String),
            }]
        } else {
            Vec::new()
        },
    }
}

/// Every aggregate the `aggregate` stage has, over floats and over ints.
fn aggregate_cases() -> Vec<(AggFunc, Type)> {
    use AggFunc::*;
    let funcs = [
        Count,
        Sum,
        Avg,
        Min,
        Max,
        First,
        Last,
        Stddev,
        StddevPop,
        Variance,
        VariancePop,
        DistinctCount,
        ApproxDistinctCount,
        Percentile(500_000),
        Percentile(990_000),
        ArgMax,
        ArgMin,
        Collect,
    ];
    funcs
        .iter()
        .flat_map(|&f| [(f, Type::Float), (f, Type::Int)])
        .collect()
}

/// `n` records `[v, tag]` with their event times, seeded.
fn records(n: usize, ty: Type, seed: u64) -> Vec<(Vec<Value>, i64)> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let v = if rng.gen_ratio(1, 50) {
                Value::Null
            } else if ty == Type::Int {
                Value::Int(rng.gen_range(-50_000..50_000))
            } else {
                Value::Float(rng.gen_range(-1.0e3..1.0e3) * 10f64.powi(rng.gen_range(-8..8)))
            };
            let tag = Value::str(&format!("t{}", rng.gen_range(0..20)));
            (vec![v, tag], (i as i64) * 3 % 7919 + rng.gen_range(0..5))
        })
        .collect()
}

/// Records enough to reach a sketch's saved form: past the exact percentile limit and
/// HyperLogLog's sparse phase for the two sketches, a few thousand for the rest.
fn enough(func: AggFunc) -> usize {
    match func {
        AggFunc::Percentile(_) | AggFunc::ApproxDistinctCount => 30_000,
        _ => 3_000,
    }
}

fn finish(acc: &Acc) -> Vec<Value> {
    let mut out = Vec::new();
    acc.finish_into(&mut out);
    out
}

#[test]
fn accumulators_resume_after_a_restore() {
    for (func, ty) in aggregate_cases() {
        let n = enough(func);
        let keep = matches!(func, AggFunc::ArgMax | AggFunc::ArgMin);
        let f = AggregateFn::compile(&aggregate(func, ty, keep));
        let input = records(n, ty, 11);
        let mut whole = f.init();
        let mut cut = f.init();
        for (i, (r, t)) in input.iter().enumerate() {
            if i == n / 2 {
                let restored = roundtrip(&cut);
                assert!(same(&finish(&restored), &finish(&cut)), "{func:?} {ty:?}");
                cut = restored;
            }
            f.update(&mut whole, r, *t);
            f.update(&mut cut, r, *t);
        }
        let (a, b) = (finish(&whole), finish(&cut));
        assert!(same(&a, &b), "{func:?} {ty:?}: {a:?} vs {b:?}");
        assert!(!a.iter().all(Value::is_null), "{func:?} {ty:?} saw values");
    }
}

#[test]
fn retracting_accumulators_resume_after_a_restore() {
    let n = 4_000;
    for (func, ty) in aggregate_cases() {
        let keep = matches!(func, AggFunc::ArgMax | AggFunc::ArgMin);
        let f = AggregateFn::compile_retracting(&aggregate(func, ty, keep));
        let input = records(n, ty, 12);
        let mut whole = f.init();
        let mut cut = f.init();
        for (i, (r, t)) in input.iter().enumerate() {
            if i == n / 2 {
                cut = roundtrip(&cut);
            }
            f.update(&mut whole, r, *t);
            f.update(&mut cut, r, *t);
            // Withdraw every third record a while after it came.
            if i % 3 == 0 && i >= 30 {
                let (old, t_old) = &input[i - 30];
                f.withdraw(&mut whole, old, *t_old);
                f.withdraw(&mut cut, old, *t_old);
            }
        }
        let (a, b) = (finish(&whole), finish(&cut));
        assert!(same(&a, &b), "{func:?} {ty:?}: {a:?} vs {b:?}");
    }
}

#[test]
fn restored_accumulators_merge_like_the_originals() {
    for (func, ty) in aggregate_cases() {
        let n = enough(func);
        let keep = matches!(func, AggFunc::ArgMax | AggFunc::ArgMin);
        let f = AggregateFn::compile(&aggregate(func, ty, keep));
        let input = records(n, ty, 13);
        let (mut left, mut right) = (f.init(), f.init());
        for (i, (r, t)) in input.iter().enumerate() {
            f.update(if i % 2 == 0 { &mut left } else { &mut right }, r, *t);
        }
        let mut whole = left.clone();
        whole.merge(&right);
        let mut cut = roundtrip(&left);
        cut.merge(&roundtrip(&right));
        assert!(same(&finish(&whole), &finish(&cut)), "{func:?} {ty:?}");
    }
}

// ---------------------------------------------------------------- triggers and sessions

fn triggers() -> Vec<Trigger> {
    use Trigger::*;
    vec![
        Trigger::default_for_windows(),
        Watermark {
            early: Some(Box::new(Count(2))),
            late: Some(Box::new(Count(1))),
        },
        Repeat(Box::new(Any(vec![Count(3), Processing(40)]))),
        Each(vec![Count(2), Processing(25), Count(4)]),
        Until(Box::new(Repeat(Box::new(Count(2)))), Box::new(Count(9))),
        All(vec![Count(3), Trigger::on_watermark()]),
    ]
}

/// Drives a trigger through elements, time and firings; returns what it decided.
fn drive(
    machine: &TriggerMachine,
    mut state: TriggerState,
    cut: Option<usize>,
) -> Vec<(bool, bool, Option<i64>)> {
    let mut trace = Vec::new();
    for step in 0..60i64 {
        if Some(step as usize) == cut {
            state = roundtrip(&state);
        }
        let cx = TriggerContext {
            watermark: step * 4,
            now: step * 7,
            end: 100,
        };
        if step % 3 != 2 {
            machine.on_element(&mut state, &cx);
        }
        let fire = machine.should_fire(&state, &cx);
        let finished = fire && machine.on_fire(&mut state, &cx);
        trace.push((fire, finished, machine.next_deadline(&state)));
    }
    trace
}

#[test]
fn trigger_states_resume_at_every_step() {
    for trigger in triggers() {
        let machine = TriggerMachine::new(&trigger);
        let whole = drive(&machine, machine.init(), None);
        assert!(whole.iter().any(|s| s.0), "{trigger:?} fires");
        for cut in 0..60 {
            assert_eq!(
                drive(&machine, machine.init(), Some(cut)),
                whole,
                "{trigger:?} cut at {cut}"
            );
        }
    }
}

/// A session of the test's session operator: what `window_agg` keeps per open session.
type Session = (Window, Vec<Acc>, TriggerState);

/// Sessions with gap 10 over `input`, saved and restored before element `cut`; returns
/// every session (closed when a later element is past its end, as the watermark would).
fn sessions(input: &[(Vec<Value>, i64)], cut: Option<usize>) -> Vec<(Window, Vec<Value>)> {
    let aggs: Vec<AggregateFn> = [
        (AggFunc::Count, false),
        (AggFunc::Sum, false),
        (AggFunc::Percentile(900_000), false),
        (AggFunc::ApproxDistinctCount, false),
        (AggFunc::Collect, false),
        (AggFunc::ArgMax, true),
        (AggFunc::First, false),
        (AggFunc::Stddev, false),
    ]
    .iter()
    .map(|&(func, keep)| AggregateFn::compile(&aggregate(func, Type::Float, keep)))
    .collect();
    let machine = TriggerMachine::new(&Trigger::Repeat(Box::new(Trigger::Count(5))));
    let mut open: Vec<Session> = Vec::new();
    let mut closed = Vec::new();
    for (i, (r, t)) in input.iter().enumerate() {
        if Some(i) == cut {
            open = roundtrip(&open);
        }
        let cx = TriggerContext {
            watermark: t - 30,
            now: 0,
            end: t + 10,
        };
        let proto = Window {
            start: *t,
            end: t + 10,
        };
        let (members, merged) = merge_with(open.iter().map(|s| s.0), proto, Some(200));
        let mut accs: Vec<Acc> = aggs.iter().map(|a| a.init()).collect();
        let mut trigger = machine.init();
        for &m in members.iter().rev() {
            let (_, other, state) = open.remove(m);
            accs.iter_mut().zip(&other).for_each(|(a, o)| a.merge(o));
            machine.merge(&mut trigger, &state, &cx);
        }
        for (f, acc) in aggs.iter().zip(accs.iter_mut()) {
            f.update(acc, r, *t);
        }
        machine.on_element(&mut trigger, &cx);
        if machine.should_fire(&trigger, &cx) {
            machine.on_fire(&mut trigger, &cx);
        }
        open.push((merged, accs, trigger));
        // Sessions the watermark (30 behind) has passed close.
        let (done, still): (Vec<Session>, Vec<Session>) =
            open.into_iter().partition(|s| s.0.end <= cx.watermark);
        open = still;
        closed.extend(done);
    }
    closed.extend(open);
    closed
        .into_iter()
        .map(|(w, accs, _)| (w, accs.iter().flat_map(finish).collect()))
        .collect()
}

#[test]
fn session_windows_resume_mid_merge() {
    // Times jump ahead now and then, so sessions open, grow, merge and close.
    let mut rng = Pcg64Mcg::seed_from_u64(3);
    let mut t = 0;
    let mut input = records(3000, Type::Float, 21);
    for (_, time) in input.iter_mut() {
        t += if rng.gen_ratio(1, 40) { 40 } else { 0 };
        *time = t + rng.gen_range(0..25);
    }
    let whole = sessions(&input, None);
    assert!(whole.len() > 20, "{} sessions", whole.len());
    for cut in [1, 17, 500, 1499, 2999] {
        let resumed = sessions(&input, Some(cut));
        assert_eq!(resumed.len(), whole.len(), "cut at {cut}");
        for (a, b) in whole.iter().zip(&resumed) {
            assert_eq!(a.0, b.0, "cut at {cut}");
            assert!(same(&a.1, &b.1), "cut at {cut}: {:?} vs {:?}", a.1, b.1);
        }
    }
}

// ---------------------------------------------------------------- detectors

/// A NAB series read in place (never copied), else one generated like it: a daily cycle
/// at 5-minute steps, noise, a drift, a few spikes and a level shift.
fn nab_like(n: usize) -> Vec<f64> {
    let path = "/work/shared/data/nab/realKnownCause/machine_temperature_system_failure.csv";
    if let Ok(text) = std::fs::read_to_string(path) {
        let values: Vec<f64> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(1)?.trim().parse().ok())
            .take(n)
            .collect();
        if values.len() == n {
            return values;
        }
    }
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    (0..n)
        .map(|i| {
            let day = (i as f64 / 288.0 * std::f64::consts::TAU).sin() * 8.0;
            let spike = if i % 997 == 500 { 35.0 } else { 0.0 };
            let shift = if i > n * 3 / 4 { 12.0 } else { 0.0 };
            80.0 + day + spike + shift + i as f64 * 1e-3 + rng.gen_range(-1.5..1.5)
        })
        .collect()
}

fn detector_specs() -> Vec<DetectorSpec> {
    vec![
        DetectorSpec::Zscore(ZscoreParams {
            window: 500,
            threshold: 3.0,
        }),
        DetectorSpec::SpikeDip(SpikeDipParams {
            mode: SpikeMode::Both,
            ..SpikeDipParams::default()
        }),
        DetectorSpec::Contextual(ContextualParams::default()),
        DetectorSpec::CadOse(CadOseParams::default()),
        DetectorSpec::Artime(ArtimeParams::default()),
    ]
}

/// Every verdict (score bits, flag), with the detector saved and restored at `cuts`.
fn verdicts(spec: &DetectorSpec, series: &[f64], cuts: &[usize]) -> Vec<(u64, bool)> {
    let mut detector = spec.build();
    let mut out = Vec::with_capacity(series.len());
    for (i, &x) in series.iter().enumerate() {
        if cuts.contains(&i) {
            let bytes = bincode::serialize(&*detector).expect("detector saves");
            detector = bincode::deserialize::<Box<dyn Detector>>(&bytes).expect("reads back");
        }
        let v = detector.update(x);
        out.push((v.score.to_bits(), v.is_anomaly));
    }
    out
}

#[test]
fn detectors_resume_on_a_nab_series() {
    let n = 4000;
    let series = nab_like(n);
    // In the warm-up (values held), right after it, and twice in the scoring phase.
    let cuts = [100, 760, 2100, 3333];
    for spec in detector_specs() {
        let whole = verdicts(&spec, &series, &[]);
        assert!(
            whole[cuts[2]..].iter().any(|v| f64::from_bits(v.0) > 0.0),
            "{} scores after the cut",
            spec.name()
        );
        let resumed = verdicts(&spec, &series, &cuts);
        let first_diff = whole.iter().zip(&resumed).position(|(a, b)| a != b);
        assert_eq!(first_diff, None, "{} differs", spec.name());
    }
}

#[test]
fn rcf_state_round_trips_exactly() {
    let spec = DetectorSpec::Rcf(RcfParams::default());
    let series = nab_like(600);
    assert_eq!(
        verdicts(&spec, &series, &[300]),
        verdicts(&spec, &series, &[])
    );
}

#[test]
fn holt_winters_resumes_mid_bucket_and_mid_season() {
    let params = HoltWintersParams {
        season_ms: 24 * 60_000,
        every_ms: 60_000,
        horizon_ms: 5 * 60_000,
        alpha: 0.3,
        beta: 0.05,
        gamma: 0.2,
        confidence: 0.95,
        damping: 1.0,
    };
    let series = nab_like(3000);
    // Several values per step, so cuts fall inside a step's bucket.
    let points: Vec<(i64, f64)> = series
        .iter()
        .enumerate()
        .map(|(i, &x)| (i as i64 * 20_000, x))
        .collect();
    let run = |cuts: &[usize]| {
        let mut model = HoltWinters::new(params.clone());
        let mut out = Vec::new();
        for (i, &(t, x)) in points.iter().enumerate() {
            if cuts.contains(&i) {
                model = roundtrip(&model);
            }
            out.push(
                model
                    .update(t, x)
                    .map(|f| [f.value, f.lower, f.upper].map(f64::to_bits)),
            );
        }
        out
    };
    let whole = run(&[]);
    assert!(whole.iter().filter(|f| f.is_some()).count() > 2000);
    for cuts in [[10, 1000], [50, 1001], [71, 2999]] {
        assert_eq!(run(&cuts), whole, "cuts {cuts:?}");
    }
}

// ---------------------------------------------------------------- alerts

fn above(slot: usize, name: &str, x: i64) -> Expr {
    Expr::Binary(
        BinaryOp::Gt,
        Box::new(Expr::Field {
            slot,
            name: name.into(),
        }),
        Box::new(Expr::Literal(Value::Int(x))),
    )
}

fn alert_spec() -> AlertSpec {
    let field = |name: &str, slot: usize| Piece::Field {
        name: name.into(),
        slot,
        precision: None,
        offset: 0,
    };
    AlertSpec {
        name: "a".into(),
        keys: vec![0],
        levels: vec![
            LevelRule {
                level: Level::Critical,
                when: above(1, "v", 90),
                resolve: None,
            },
            LevelRule {
                level: Level::Warning,
                when: above(1, "v", 60),
                resolve: None,
            },
        ],
        resolve: None,
        id: Template {
            pieces: vec![Piece::Text("a:".into()), field("k", 0)],
        },
        message: Template {
            pieces: vec![field("alert.id", 2), Piece::Text(" ".into()), field("v", 1)],
        },
        for_ms: 30,
        keep_firing_ms: 20,
        repeat_ms: Some(100),
        recoveries: true,
        flapping: Some(FlappingSpec {
            low: 0.25,
            high: 0.5,
            history: 8,
        }),
        deadman_ms: None,
        group: None,
        silences: None,
    }
}

/// Keyed `[k, v]` records, one every 5 ms: key 0 flaps, key 1 fires and stays firing
/// (repeating), key 2 goes pending on `for` and back, key 3 fires and resolves, and keys
/// come and go.
fn alert_input() -> Vec<Event> {
    let mut rng = Pcg64Mcg::seed_from_u64(9);
    (0..400)
        .map(|i| {
            let k = rng.gen_range(0..6i64);
            let v = match k {
                0 => {
                    if i % 2 == 0 {
                        95
                    } else {
                        10
                    }
                }
                1 => 70 + rng.gen_range(0..30),
                2 => {
                    if i % 11 < 4 {
                        80
                    } else {
                        20
                    }
                }
                3 => {
                    if (i / 60) % 2 == 0 {
                        99
                    } else {
                        5
                    }
                }
                _ => rng.gen_range(0..100),
            };
            Event::new(i * 5, vec![Value::Int(k), Value::Int(v)])
        })
        .collect()
}

/// Where the alert runs stop: a while after the last record (a firing key repeats forever).
const ALERT_END: EventTime = 3000;

/// Alert events of `input` through one instance restored from a checkpoint before each
/// record in `cuts`; timers fire as the watermark (the record's time) passes them.
fn alerts(spec: &AlertSpec, input: &[Event], cuts: &[usize]) -> (Vec<Event>, u64) {
    let mut alerts = KeyedAlerts::new(spec);
    let mut out = Vec::new();
    let mut suppressed = 0;
    for (i, e) in input.iter().enumerate() {
        if cuts.contains(&i) {
            let bytes = bincode::serialize(&alerts.saved()).expect("alerts save");
            let saved: SavedAlerts = bincode::deserialize(&bytes).expect("read back");
            suppressed += alerts.suppressed;
            alerts = KeyedAlerts::new(spec);
            alerts.restore(saved, |_| true);
        }
        alerts.fire_timers(e.time, &mut out);
        alerts.on_record(e.clone(), &mut out);
    }
    alerts.fire_timers(ALERT_END, &mut out);
    (out, suppressed + alerts.suppressed)
}

fn text(e: &Event, from_end: usize) -> String {
    e.record[e.record.len() - from_end].to_string()
}

#[test]
fn alert_machines_resume_at_every_record() {
    let spec = alert_spec();
    let input = alert_input();
    let (whole, suppressed) = alerts(&spec, &input, &[]);
    // The run covers every phase: fired, repeated, changed, resolved, and flapping.
    for change in ["fired", "repeated", "changed", "resolved"] {
        assert!(
            whole.iter().any(|e| text(e, 8) == format!("{change:?}")),
            "no `{change}` event"
        );
    }
    assert!(suppressed > 0, "key 0 flaps");
    for cut in 0..input.len() {
        let (resumed, resumed_suppressed) = alerts(&spec, &input, &[cut]);
        assert_eq!(resumed, whole, "cut before record {cut}");
        assert_eq!(resumed_suppressed, suppressed);
    }
    assert_eq!(alerts(&spec, &input, &[3, 150, 151, 399]).0, whole);
}

/// The key's worker among `workers`, as the exchange routes its records.
fn worker_of(e: &Event, keys: &[usize], workers: u64) -> usize {
    (KeyView {
        record: &e.record,
        slots: keys,
    }
    .route()
        % workers) as usize
}

/// Sorted for comparison across workers (order within one time is the workers').
fn sorted(events: Vec<Event>) -> Vec<String> {
    let mut lines: Vec<String> = events
        .iter()
        .map(|e| format!("{} {:?}", e.time, e.record))
        .collect();
    lines.sort();
    lines
}

#[test]
fn alert_state_taken_on_two_workers_restores_on_three() {
    let spec = alert_spec();
    let input = alert_input();
    let (whole, _) = alerts(&spec, &input, &[]);
    let half = input.len() / 2;
    let mut out = Vec::new();
    // Two workers up to the checkpoint.
    let mut two: Vec<KeyedAlerts> = (0..2).map(|_| KeyedAlerts::new(&spec)).collect();
    for e in &input[..half] {
        for w in two.iter_mut() {
            w.fire_timers(e.time, &mut out);
        }
        two[worker_of(e, &spec.keys, 2)].on_record(e.clone(), &mut out);
    }
    // Every one of three new workers reads both snapshots and keeps its own keys.
    let snapshots: Vec<Vec<u8>> = two
        .iter()
        .map(|a| bincode::serialize(&a.saved()).expect("save"))
        .collect();
    let mut three: Vec<KeyedAlerts> = (0..3)
        .map(|me| {
            let mut a = KeyedAlerts::new(&spec);
            for bytes in &snapshots {
                let saved: SavedAlerts = bincode::deserialize(bytes).expect("read");
                a.restore(saved, |k| k.route() % 3 == me);
            }
            a
        })
        .collect();
    let restored: usize = three.iter().map(KeyedAlerts::len).sum();
    assert_eq!(restored, two.iter().map(KeyedAlerts::len).sum::<usize>());
    // Timers before the first record after the checkpoint still fire on every worker.
    for e in &input[half..] {
        for w in three.iter_mut() {
            w.fire_timers(e.time, &mut out);
        }
        three[worker_of(e, &spec.keys, 3)].on_record(e.clone(), &mut out);
    }
    for w in three.iter_mut() {
        w.fire_timers(ALERT_END, &mut out);
    }
    assert_eq!(sorted(out), sorted(whole));
}

/// Alert events `[g, x] ++ alert.*` for groups `g`, a few ids each, firing or resolved.
fn group_input() -> Vec<Event> {
    let mut rng = Pcg64Mcg::seed_from_u64(4);
    (0..300)
        .map(|i| {
            let g = rng.gen_range(0..3i64);
            let id = format!("a:{g}/{}", rng.gen_range(0..4));
            let firing = rng.gen_ratio(2, 3);
            let level = ["warning", "critical"][rng.gen_range(0..2)];
            let t = i * 7;
            let mut record = vec![Value::Int(g), Value::Int(i)];
            record.extend([
                Value::str(&id),
                Value::str("condition"),
                Value::str(if firing { "fired" } else { "resolved" }),
                Value::str(if firing { level } else { "ok" }),
                Value::str("ok"),
                Value::str(if firing { "firing" } else { "resolved" }),
                Value::Time(t - 10),
                Value::Time(t),
                Value::Duration(10),
                Value::str(&format!("{id} is {level}")),
            ]);
            Event::new(t, record)
        })
        .collect()
}

fn groups(spec: &GroupSpec, input: &[Event], cut: Option<usize>) -> Vec<Event> {
    let mut groups = Groups::new(spec);
    let mut out = Vec::new();
    for (i, e) in input.iter().enumerate() {
        if Some(i) == cut {
            let bytes = bincode::serialize(&groups.saved()).expect("groups save");
            let saved: SavedGroups = bincode::deserialize(&bytes).expect("read back");
            groups = Groups::new(spec);
            groups.restore(saved, |_| true);
        }
        groups.fire_timers(e.time, &mut out);
        groups.on_alert(e);
    }
    groups.fire_timers(EventTime::MAX, &mut out);
    out
}

#[test]
fn alert_groups_resume_at_every_alert() {
    let spec = GroupSpec {
        name: "g".into(),
        by: vec![0],
        input_width: 2,
        wait_ms: 30,
        interval_ms: 100,
    };
    let input = group_input();
    let whole = groups(&spec, &input, None);
    assert!(whole.len() > 20, "{} notifications", whole.len());
    for cut in 0..input.len() {
        assert_eq!(groups(&spec, &input, Some(cut)), whole, "cut at {cut}");
    }
}

/// One silence row: `[id, pattern, starts, ends]`, keyed by its id.
struct SilenceTable(Arc<TableRows>);

impl LookupTable for SilenceTable {
    fn rows(&self) -> Arc<TableRows> {
        Arc::clone(&self.0)
    }
}

fn alert_event(id: &str, state: &str, t: i64) -> Event {
    let mut record = vec![Value::Int(1)];
    record.extend([
        Value::str(id),
        Value::str("condition"),
        Value::str("fired"),
        Value::str("warning"),
        Value::str("ok"),
        Value::str(state),
        Value::Time(t),
        Value::Time(t),
        Value::Duration(0),
        Value::str("m"),
    ]);
    Event::new(t, record)
}

#[test]
fn silenced_episodes_stay_unheard_across_a_restore() {
    let mut rows = TableRows::default();
    rows.insert(
        Value::str("s1"),
        vec![Value::str("a:*"), Value::Time(100), Value::Time(200)],
    );
    let table: Arc<dyn LookupTable> = Arc::new(SilenceTable(Arc::new(rows)));
    let spec = SilenceSpec {
        table: "silences".into(),
        key: 0,
        pattern: 1,
        starts: 2,
        ends: 3,
    };
    // Fires while silenced, resolves after the silence: receivers never heard of it.
    let before = vec![alert_event("a:1", "firing", 150)];
    let after = vec![alert_event("a:1", "resolved", 250)];
    let run = |restore: bool| {
        let mut s = Silences::new(&spec, Arc::clone(&table));
        let mut first = before.clone();
        s.filter(&mut first);
        let saved = roundtrip(&s.saved());
        let mut s = Silences::new(&spec, Arc::clone(&table));
        if restore {
            s.restore(saved);
        }
        let mut rest = after.clone();
        s.filter(&mut rest);
        (first, rest)
    };
    let (first, rest) = run(true);
    assert!(first.is_empty() && rest.is_empty(), "{first:?} {rest:?}");
    // Without the saved ids the resolve would reach receivers: the state matters.
    assert_eq!(run(false).1.len(), 1);
}

#[test]
fn equal_accumulators_save_equal_bytes() {
    // A state without hash maps saves the same bytes however it was reached.
    let f = AggregateFn::compile(&aggregate(AggFunc::Percentile(500_000), Type::Float, false));
    let input = records(500, Type::Float, 1);
    let (mut a, mut b) = (f.init(), f.init());
    input.iter().for_each(|(r, t)| f.update(&mut a, r, *t));
    input
        .iter()
        .rev()
        .for_each(|(r, t)| f.update(&mut b, r, *t));
    assert_eq!(
        bincode::serialize(&a).expect("save"),
        bincode::serialize(&b).expect("save")
    );
}
