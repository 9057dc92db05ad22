//! Oracle tests of the Beam model in the window operator, through the scripted
//! single-worker harness (`testing::script::run_capture`): random scripts of bundles and
//! watermark moves — elements arriving behind the watermark and past the allowed
//! lateness too — against an independent model of the documented semantics (late drops
//! and their route, panes and their metadata, accumulation modes, early and count
//! triggers), plus targeted cases for processing time, timestamp combiners across chained
//! windows, and session merges with retraction.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::script::{run_capture, StepOutput};
use weir_engine::value::{Record, Value};

const EXPIRED: &str = "window expired: the watermark passed its end plus the allowed lateness";
const CLOSED: &str = "window closed: its trigger had finished";

// ---------------------------------------------------------------------------------------
// Plans and scripts

fn input_schema() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
    ])
}

fn memory() -> ConnectorCall {
    ConnectorCall {
        kind: "memory".into(),
        args: vec![],
        options: vec![],
    }
}

fn aggregates(arg_slot: usize) -> Vec<Aggregate> {
    vec![
        Aggregate {
            name: "n".into(),
            func: AggFunc::Count,
            arg: None,
            arg_type: None,
            keep: Vec::new(),
        },
        Aggregate {
            name: "s".into(),
            func: AggFunc::Sum,
            arg: Some(Expr::Field {
                slot: arg_slot,
                name: "v".into(),
            }),
            arg_type: Some(Type::Int),
            keep: Vec::new(),
        },
    ]
}

fn window_stage(input: &Schema, spec: WindowSpec, arg_slot: usize) -> Stage {
    let aggs = aggregates(arg_slot);
    let schema = WindowSpec::output_schema(input, &[0], &aggs, spec.accumulation);
    Stage::Window {
        keys: vec![0],
        window: spec,
        aggregates: aggs,
        schema,
    }
}

/// `in` → key by k → window `spec` (count n, sum s) → `out`, late route `late`; with
/// `second`, a pipeline over `out` → key by k → window `second` (count n, sum of s) → `out2`
/// (its late route, if any, is `late2`).
fn plan(spec: WindowSpec, second: Option<WindowSpec>) -> Arc<LogicalPlan> {
    let input = input_schema();
    let first = window_stage(&input, spec, 1);
    let first_schema = first.output_schema().cloned().expect("window schema");
    let mut pipelines = vec![PipelineNode {
        error_to: None,
        name: "p".into(),
        input: PipelineInput::Source("in".into()),
        input_schema: input.clone(),
        stages: vec![
            Stage::KeyBy {
                keys: vec![0],
                names: vec!["k".into()],
            },
            first,
            Stage::Sink { sink: "out".into() },
        ],
    }];
    let mut sinks = vec!["out", "late"];
    if let Some(second) = second {
        sinks.extend(["out2", "late2"]);
        pipelines.push(PipelineNode {
            error_to: None,
            name: "q".into(),
            input: PipelineInput::Pipeline("p".into()),
            input_schema: first_schema.clone(),
            stages: vec![
                Stage::KeyBy {
                    keys: vec![0],
                    names: vec!["k".into()],
                },
                window_stage(&first_schema, second, 2),
                Stage::Sink {
                    sink: "out2".into(),
                },
            ],
        });
    }
    Arc::new(LogicalPlan {
        sources: vec![SourceNode {
            name: "in".into(),
            connector: memory(),
            schema: input,
            event_time: Some(2),
            overload: Default::default(),
            watermark: WatermarkSpec::default(),
        }],
        sinks: sinks
            .into_iter()
            .map(|name| SinkNode {
                name: name.into(),
                connector: memory(),
            })
            .collect(),
        pipelines,
        tests: vec![],
        tables: Vec::new(),
        models: Vec::new(),
        checkpoint: None,
    })
}

/// One step of a script.
#[derive(Clone, Debug)]
enum Step {
    /// A bundle of (k, v, ts).
    Given(Vec<(i64, i64, i64)>),
    Watermark(i64),
    Clock(i64),
}

fn test_case(steps: &[Step]) -> TestCase {
    TestCase {
        name: "oracle".into(),
        steps: steps
            .iter()
            .enumerate()
            .map(|(i, s)| TestStep {
                line: i + 1,
                action: match s {
                    Step::Given(es) => TestAction::Given {
                        source: "in".into(),
                        records: es
                            .iter()
                            .map(|&(k, v, t)| vec![Value::Int(k), Value::Int(v), Value::Time(t)])
                            .collect(),
                    },
                    Step::Watermark(t) => TestAction::Watermark {
                        source: None,
                        time: *t,
                    },
                    Step::Clock(t) => TestAction::Clock { time: *t },
                },
            })
            .collect(),
    }
}

/// Runs `steps`; returns, per step, what each sink received.
fn capture(spec: WindowSpec, second: Option<WindowSpec>, steps: &[Step]) -> Vec<StepOutput> {
    let case = test_case(steps);
    let plan = plan(spec, second);
    let (report, log) = run_capture(&plan, &case).expect("the script runs");
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(log.len(), steps.len(), "every step settled");
    log
}

fn records(log: &[StepOutput], sink: &str) -> Vec<(usize, Record)> {
    log.iter()
        .flat_map(|s| {
            s.sinks
                .get(sink)
                .into_iter()
                .flatten()
                .map(move |e| (s.step, e.record.clone()))
        })
        .collect()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Time(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// The model

#[derive(Clone, Copy, Debug, PartialEq)]
enum Trig {
    /// `repeat(watermark)`, Beam's default.
    Default,
    /// `watermark(early: count(k))`: finishes with the on-time pane.
    EarlyCount(u64),
    /// `watermark(early: count(k), late: count(1))`.
    EarlyLate(u64),
    /// `count(n)`: one pane, then the window is closed.
    Count(u64),
    /// `repeat(count(k))`.
    RepeatCount(u64),
}

impl Trig {
    fn plan(self) -> Trigger {
        let count = |n| Box::new(Trigger::Count(n));
        match self {
            Trig::Default => Trigger::default_for_windows(),
            Trig::EarlyCount(k) => Trigger::Watermark {
                early: Some(count(k)),
                late: None,
            },
            Trig::EarlyLate(k) => Trigger::Watermark {
                early: Some(count(k)),
                late: Some(count(1)),
            },
            Trig::Count(n) => Trigger::Count(n),
            Trig::RepeatCount(k) => Trigger::Repeat(count(k)),
        }
    }

    fn has_watermark(self) -> bool {
        matches!(
            self,
            Trig::Default | Trig::EarlyCount(_) | Trig::EarlyLate(_)
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Config {
    kind: (i64, i64, bool), // size, period-or-offset, sliding?
    lateness: i64,
    trigger: Trig,
    accumulation: Accumulation,
    combiner: TimestampCombiner,
}

impl Config {
    fn spec(&self) -> WindowSpec {
        let (size, x, sliding) = self.kind;
        let mut spec = WindowSpec::new(if sliding {
            WindowKind::Sliding {
                size_ms: size,
                period_ms: x,
            }
        } else {
            WindowKind::Tumbling {
                size_ms: size,
                offset_ms: x,
            }
        });
        spec.trigger = self.trigger.plan();
        spec.allowed_lateness_ms = self.lateness;
        spec.accumulation = self.accumulation;
        spec.late_to = Some("late".into());
        spec.timestamp = self.combiner;
        spec
    }

    fn windows(&self, t: i64) -> Vec<(i64, i64)> {
        let (size, x, sliding) = self.kind;
        if sliding {
            let mut out = Vec::new();
            let mut start = t.div_euclid(x) * x;
            while start + size > t {
                out.push((start, start + size));
                start -= x;
            }
            out
        } else {
            let start = (t - x).div_euclid(size) * size + x;
            vec![(start, start + size)]
        }
    }
}

#[derive(Debug, Default)]
struct MWin {
    n: i64,
    s: i64,
    fresh_n: i64,
    fresh_s: i64,
    /// Earliest/latest timestamp of the on-time elements since the last pane.
    hold: Option<i64>,
    /// Created while the watermark was before its end (it holds an on-time pane).
    existed: bool,
    /// Holds the output at its end: it existed before the watermark passed the end, and
    /// no pane has carried its on-time elements since.
    holding: bool,
    ontime_checked: bool,
    closed: bool,
    /// Count of the trigger's counting node.
    count: u64,
    late_phase: bool,
    index: i64,
    nonspec: i64,
    previous: Option<Record>,
}

/// Model output: panes per window in order (with the step that emitted them), and the
/// late route's records per step.
#[derive(Default)]
struct Expected {
    panes: BTreeMap<(i64, i64, i64), Vec<(usize, Record)>>,
    late: BTreeMap<usize, Vec<Record>>,
}

struct Model {
    cfg: Config,
    windows: BTreeMap<(i64, i64, i64), MWin>,
    out: Expected,
}

impl Model {
    fn fire(&mut self, key: (i64, i64, i64), w: i64, step: usize, gc: bool) {
        let cfg = self.cfg;
        let win = self.windows.get_mut(&key).expect("window");
        let (k, start, end) = key;
        let finished = match cfg.trigger {
            Trig::Default | Trig::EarlyLate(_) | Trig::RepeatCount(_) => false,
            Trig::EarlyCount(_) => w >= end,
            Trig::Count(_) => true,
        };
        if w >= end {
            win.late_phase = true;
        }
        let (timing, nonspec) = if w < end {
            ("early", -1)
        } else {
            let n = win.nonspec;
            win.nonspec += 1;
            (
                if win.holding && n == 0 {
                    "on_time"
                } else {
                    "late"
                },
                n,
            )
        };
        let (n, s) = match cfg.accumulation {
            Accumulation::Discard => (win.fresh_n, win.fresh_s),
            _ => (win.n, win.s),
        };
        let mut record = vec![
            Value::Int(k),
            Value::Int(n),
            Value::Int(s),
            Value::Time(start),
            Value::Time(end),
            Value::str(timing),
            Value::Int(win.index),
            Value::Int(nonspec),
            Value::Bool(finished || gc),
            Value::Time(match cfg.combiner {
                TimestampCombiner::End => end - 1,
                _ => win.hold.unwrap_or(end - 1),
            }),
        ];
        win.index += 1;
        let panes = self.out.panes.entry(key).or_default();
        if cfg.accumulation == Accumulation::Retract {
            if let Some(mut old) = win.previous.take() {
                *old.last_mut().expect("retraction flag") = Value::Bool(true);
                panes.push((step, old));
            }
            record.push(Value::Bool(false));
            win.previous = Some(record.clone());
        }
        panes.push((step, record));
        win.fresh_n = 0;
        win.fresh_s = 0;
        win.hold = None;
        win.closed |= finished;
        if w >= end || finished {
            win.holding = false;
        }
    }

    fn element(&mut self, step: usize, w: i64, (k, v, t): (i64, i64, i64)) {
        let cfg = self.cfg;
        for (start, end) in cfg.windows(t) {
            let late = |reason: &str| {
                vec![
                    Value::Int(k),
                    Value::Int(v),
                    Value::Time(t),
                    Value::str(reason),
                    Value::Time(start),
                    Value::Time(end),
                    Value::Time(w),
                ]
            };
            if end + cfg.lateness <= w {
                self.out.late.entry(step).or_default().push(late(EXPIRED));
                continue;
            }
            let key = (k, start, end);
            let win = self.windows.entry(key).or_insert_with(|| MWin {
                existed: w < end,
                holding: w < end,
                ..MWin::default()
            });
            if win.closed {
                self.out.late.entry(step).or_default().push(late(CLOSED));
                continue;
            }
            win.n += 1;
            win.s += v;
            win.fresh_n += 1;
            win.fresh_s += v;
            // Only elements not behind the watermark, while the window holds its output.
            if t >= w && win.holding {
                win.hold = Some(match (cfg.combiner, win.hold) {
                    (TimestampCombiner::Latest, Some(h)) => h.max(t),
                    (_, Some(h)) => h.min(t),
                    (_, None) => t,
                });
            }
            let fire = match cfg.trigger {
                Trig::Default => w >= end,
                Trig::EarlyCount(c) | Trig::EarlyLate(c) => {
                    // In the late phase (late: count(1)) or past the end: fires now.
                    if win.late_phase || w >= end {
                        true
                    } else {
                        win.count += 1;
                        if win.count >= c {
                            win.count = 0;
                            true
                        } else {
                            false
                        }
                    }
                }
                Trig::Count(c) | Trig::RepeatCount(c) => {
                    win.count += 1;
                    if win.count >= c {
                        win.count = 0;
                        true
                    } else {
                        false
                    }
                }
            };
            if fire {
                self.fire(key, w, step, false);
            }
        }
    }

    fn watermark(&mut self, step: usize, w: i64) {
        let keys: Vec<(i64, i64, i64)> = self.windows.keys().copied().collect();
        for key in keys {
            let end = key.2;
            let gc = end + self.cfg.lateness <= w;
            let win = &self.windows[&key];
            if win.existed && !win.ontime_checked && w >= end {
                let ready = !win.closed && self.cfg.trigger.has_watermark();
                self.windows.get_mut(&key).expect("window").ontime_checked = true;
                if ready {
                    self.fire(key, w, step, gc);
                }
                let win = self.windows.get_mut(&key).expect("window");
                if win.fresh_n == 0 || win.closed {
                    win.holding = false;
                }
            }
            if gc {
                let win = &self.windows[&key];
                if !win.closed && win.fresh_n > 0 {
                    self.fire(key, w, step, true);
                }
                self.windows.remove(&key);
            }
        }
    }

    fn run(cfg: Config, steps: &[Step]) -> Expected {
        let mut m = Model {
            cfg,
            windows: BTreeMap::new(),
            out: Expected::default(),
        };
        let mut w = i64::MIN;
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Given(es) => {
                    for &e in es {
                        m.element(i, w, e);
                    }
                }
                Step::Watermark(t) => {
                    if *t > w {
                        w = *t;
                        m.watermark(i, w);
                    }
                }
                Step::Clock(_) => {}
            }
        }
        m.out
    }
}

/// A random script: bundles of 1–4 elements around the watermark (some behind it, some
/// behind it by more than any allowed lateness), interleaved with watermark moves, ending
/// with the watermark far past every window.
fn script(seed: u64, len: usize) -> Vec<Step> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut w = 0;
    let mut steps = vec![Step::Watermark(0)];
    for _ in 0..len {
        if rng.gen_bool(0.35) {
            w += rng.gen_range(1..=40);
            steps.push(Step::Watermark(w));
        } else {
            let n = rng.gen_range(1..=4);
            steps.push(Step::Given(
                (0..n)
                    .map(|_| {
                        (
                            rng.gen_range(0..2),
                            rng.gen_range(1..=9),
                            (w + rng.gen_range(-90..=60)).max(0),
                        )
                    })
                    .collect(),
            ));
        }
    }
    steps.push(Step::Watermark(1_000_000));
    steps
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![(20i64, 5i64, false), (30, 10, true), (25, 0, false)]),
        prop::sample::select(vec![0i64, 15, 40]),
        prop_oneof![
            Just(Trig::Default),
            (1u64..4).prop_map(Trig::EarlyCount),
            (1u64..4).prop_map(Trig::EarlyLate),
            (1u64..5).prop_map(Trig::Count),
            (1u64..4).prop_map(Trig::RepeatCount),
        ],
        prop::sample::select(vec![
            Accumulation::Discard,
            Accumulation::Accumulate,
            Accumulation::Retract,
        ]),
        prop::sample::select(vec![
            TimestampCombiner::End,
            TimestampCombiner::Earliest,
            TimestampCombiner::Latest,
        ]),
    )
        .prop_map(|(kind, lateness, trigger, accumulation, combiner)| Config {
            kind,
            lateness,
            trigger,
            accumulation,
            combiner,
        })
}

/// Compares the engine's output to the model's, window by window and step by step.
fn check_against_model(cfg: Config, steps: &[Step]) -> Result<(), TestCaseError> {
    let log = capture(cfg.spec(), None, steps);
    let expected = Model::run(cfg, steps);
    let mut panes: BTreeMap<(i64, i64, i64), Vec<(usize, Record)>> = BTreeMap::new();
    for (step, r) in records(&log, "out") {
        panes
            .entry((int(&r[0]), int(&r[3]), int(&r[4])))
            .or_default()
            .push((step, r));
    }
    let mut late: BTreeMap<usize, Vec<Record>> = BTreeMap::new();
    for (step, r) in records(&log, "late") {
        late.entry(step).or_default().push(r);
    }
    for list in late.values_mut() {
        list.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    }
    let mut want_late = expected.late;
    for list in want_late.values_mut() {
        list.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    }
    prop_assert_eq!(&late, &want_late, "late route");
    let keys: std::collections::BTreeSet<_> =
        panes.keys().chain(expected.panes.keys()).copied().collect();
    for key in keys {
        prop_assert_eq!(
            panes.get(&key),
            expected.panes.get(&key),
            "panes of window {:?}",
            key
        );
    }
    Ok(())
}

/// Properties that hold whatever the model says: nothing is lost, every pane's metadata
/// is consistent, and the accumulation modes agree with a batch recomputation.
fn check_invariants(cfg: Config, steps: &[Step]) -> Result<(), TestCaseError> {
    // A second window over the output: early and on-time panes must reach it on time
    // (late panes may be late there too, as in Beam).
    let mut second = WindowSpec::new(WindowKind::Tumbling {
        size_ms: 10,
        offset_ms: 0,
    });
    second.late_to = Some("late2".into());
    let log = capture(cfg.spec(), Some(second), steps);
    for (step, r) in records(&log, "late2") {
        // A withdrawal travels with the (late) pane that replaces it, whatever it withdraws.
        if cfg.accumulation == Accumulation::Retract && r[10] == Value::Bool(true) {
            continue;
        }
        prop_assert_eq!(
            &r[5],
            &Value::str("late"),
            "step {}: a pane behind the downstream watermark: {:?}",
            step,
            r
        );
    }
    // Watermark at each step, and every element's arrival watermark.
    let mut w = i64::MIN;
    let mut wm_at = Vec::new();
    let mut arrived: Vec<(i64, i64, i64, i64)> = Vec::new();
    for step in steps {
        match step {
            Step::Watermark(t) => w = w.max(*t),
            Step::Given(es) => arrived.extend(es.iter().map(|&(k, v, t)| (k, v, t, w))),
            Step::Clock(_) => {}
        }
        wm_at.push(w);
    }
    let late = records(&log, "late");
    // Per window: batch aggregate over the elements that reached it.
    let mut batch: BTreeMap<(i64, i64, i64), (i64, i64)> = BTreeMap::new();
    let mut expired = 0usize;
    let mut pairs = 0usize;
    for &(k, v, t, at) in &arrived {
        for (start, end) in cfg.windows(t) {
            pairs += 1;
            if end + cfg.lateness <= at {
                expired += 1;
            }
            let e = batch.entry((k, start, end)).or_default();
            e.0 += 1;
            e.1 += v;
        }
    }
    let routed_expired = late
        .iter()
        .filter(|(_, r)| r[3] == Value::str(EXPIRED))
        .count();
    prop_assert_eq!(routed_expired, expired, "elements dropped as expired");
    // Take the late-routed elements out of their windows' batch aggregates.
    for (_, r) in &late {
        let key = (int(&r[0]), int(&r[4]), int(&r[5]));
        let e = batch.get_mut(&key).expect("a late element's window");
        e.0 -= 1;
        e.1 -= int(&r[1]);
        if r[3] == Value::str(EXPIRED) {
            prop_assert!(key.2 + cfg.lateness <= int(&r[6]));
        } else {
            prop_assert_eq!(&r[3], &Value::str(CLOSED));
            prop_assert!(key.2 + cfg.lateness > int(&r[6]));
        }
    }
    batch.retain(|_, (n, _)| *n > 0);
    let mut panes: BTreeMap<(i64, i64, i64), Vec<(usize, Record)>> = BTreeMap::new();
    for (step, r) in records(&log, "out") {
        panes
            .entry((int(&r[0]), int(&r[3]), int(&r[4])))
            .or_default()
            .push((step, r));
    }
    let mut aggregated = 0i64;
    for (key, list) in &panes {
        let (n, s) = batch.get(key).copied().unwrap_or_default();
        let retract = cfg.accumulation == Accumulation::Retract;
        let fresh: Vec<&(usize, Record)> = list
            .iter()
            .filter(|(_, r)| !retract || r[10] == Value::Bool(false))
            .collect();
        let total = match cfg.accumulation {
            Accumulation::Accumulate => fresh
                .last()
                .map_or((0, 0), |(_, r)| (int(&r[1]), int(&r[2]))),
            Accumulation::Discard => fresh
                .iter()
                .fold((0, 0), |a, (_, r)| (a.0 + int(&r[1]), a.1 + int(&r[2]))),
            Accumulation::Retract => list.iter().fold((0, 0), |a, (_, r)| {
                let sign = if r[10] == Value::Bool(true) { -1 } else { 1 };
                (a.0 + sign * int(&r[1]), a.1 + sign * int(&r[2]))
            }),
        };
        prop_assert_eq!(total, (n, s), "window {:?}: panes {:?}", key, list);
        aggregated += n;
        // Metadata: indexes 0, 1, 2…; early iff the watermark was before the end;
        // non-speculative indexes 0, 1, 2… after the early ones; final only last.
        let mut nonspec = 0;
        let mut on_time = 0;
        for (i, (step, r)) in fresh.iter().enumerate() {
            prop_assert_eq!(int(&r[6]), i as i64, "pane index in {:?}", list);
            let early = wm_at[*step] < key.2;
            prop_assert_eq!(r[5] == Value::str("early"), early);
            if early {
                prop_assert_eq!(int(&r[7]), -1);
            } else {
                prop_assert_eq!(int(&r[7]), nonspec);
                nonspec += 1;
            }
            if r[5] == Value::str("on_time") {
                on_time += 1;
                prop_assert_eq!(int(&r[7]), 0);
            }
            prop_assert_eq!(
                r[8] == Value::Bool(true),
                i + 1 == fresh.len() && r[8] == Value::Bool(true)
            );
            let ts = int(&r[9]);
            prop_assert!(
                ts >= key.1 && ts < key.2,
                "pane.timestamp {} in {:?}",
                ts,
                key
            );
            if cfg.combiner == TimestampCombiner::End {
                prop_assert_eq!(ts, key.2 - 1);
            }
        }
        prop_assert!(on_time <= 1);
        // A window that existed before the watermark passed its end has one on-time pane.
        let existed = arrived.iter().any(|&(k, _, t, at)| {
            k == key.0 && at < key.2 && cfg.windows(t).contains(&(key.1, key.2))
        });
        if cfg.trigger.has_watermark() && existed {
            prop_assert_eq!(on_time, 1, "on-time panes of {:?}: {:?}", key, list);
        }
        if retract {
            // Every pane but the last is withdrawn exactly once, right before the next.
            for pair in list.windows(2) {
                if pair[1].1[10] == Value::Bool(true) {
                    let mut withdrawn = pair[1].1.clone();
                    withdrawn[10] = Value::Bool(false);
                    prop_assert_eq!(&pair[0].1, &withdrawn);
                }
            }
            let withdrawals = list.len() - fresh.len();
            prop_assert_eq!(withdrawals + 1, fresh.len().max(1));
        }
    }
    // Nothing else is lost: every (element, window) pair is routed or aggregated.
    prop_assert_eq!(late.len() as i64 + aggregated, pairs as i64);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_scripts_match_the_model(seed in 0u64..1_000_000, len in 5usize..40, cfg in config()) {
        let steps = script(seed, len);
        check_against_model(cfg, &steps)?;
    }

    #[test]
    fn random_scripts_keep_the_invariants(seed in 0u64..1_000_000, len in 5usize..40, cfg in config()) {
        let steps = script(seed, len);
        check_invariants(cfg, &steps)?;
    }
}

// ---------------------------------------------------------------------------------------
// Targeted cases

fn tumbling(size: i64, trigger: Trigger, lateness: i64, acc: Accumulation) -> WindowSpec {
    let mut spec = WindowSpec::new(WindowKind::Tumbling {
        size_ms: size,
        offset_ms: 0,
    });
    spec.trigger = trigger;
    spec.allowed_lateness_ms = lateness;
    spec.accumulation = acc;
    spec.late_to = Some("late".into());
    spec
}

/// (step, n, s, timing, index, nonspec, final, pane.timestamp) of every pane on `sink`.
type Pane = (usize, i64, i64, String, i64, i64, bool, i64);

fn panes(log: &[StepOutput], sink: &str) -> Vec<Pane> {
    records(log, sink)
        .into_iter()
        .map(|(step, r)| {
            let Value::Str(timing) = &r[5] else {
                panic!("timing {r:?}")
            };
            (
                step,
                int(&r[1]),
                int(&r[2]),
                timing.to_string(),
                int(&r[6]),
                int(&r[7]),
                r[8] == Value::Bool(true),
                int(&r[9]),
            )
        })
        .collect()
}

fn pane(
    step: usize,
    n: i64,
    s: i64,
    timing: &str,
    index: i64,
    nonspec: i64,
    last: bool,
    ts: i64,
) -> Pane {
    (step, n, s, timing.into(), index, nonspec, last, ts)
}

#[test]
fn processing_time_triggers_fire_after_their_delay_on_the_test_clock() {
    use Step::*;
    let every = Trigger::Repeat(Box::new(Trigger::Processing(10)));
    let steps = vec![
        Watermark(0),
        Clock(1_000),
        Given(vec![(0, 1, 5)]), // 2: the first element starts the delay: due at 1_010
        Clock(1_009),
        Clock(1_010),                      // 4: fires
        Given(vec![(0, 2, 6), (0, 3, 7)]), // due at 1_020
        Clock(1_019),
        Clock(1_025), // 7: fires
        Clock(1_100), // 8: nothing new, nothing fires
        Given(vec![(0, 4, 8)]),
        Watermark(100), // 10: garbage collection emits the unfired element
    ];
    let log = capture(tumbling(100, every, 0, Accumulation::Discard), None, &steps);
    assert_eq!(
        panes(&log, "out"),
        vec![
            pane(4, 1, 1, "early", 0, -1, false, 99),
            pane(7, 2, 5, "early", 1, -1, false, 99),
            pane(10, 1, 4, "on_time", 2, 0, true, 99),
        ]
    );
    // Early firings by processing time, then the on-time pane (accumulating).
    let early = Trigger::Watermark {
        early: Some(Box::new(Trigger::Processing(10))),
        late: None,
    };
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 5)]),
        Clock(10), // 2
        Given(vec![(0, 2, 6)]),
        Clock(15),
        Watermark(100), // 5: on time, before the second delay is due
        Clock(50),
    ];
    let log = capture(
        tumbling(100, early, 0, Accumulation::Accumulate),
        None,
        &steps,
    );
    assert_eq!(
        panes(&log, "out"),
        vec![
            pane(2, 1, 1, "early", 0, -1, false, 99),
            pane(5, 2, 3, "on_time", 1, 0, true, 99),
        ]
    );
}

#[test]
fn count_closes_the_window_and_later_elements_go_to_the_late_route() {
    use Step::*;
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 1), (0, 2, 2), (0, 3, 3)]), // 1: the second element fires
        Given(vec![(0, 4, 4)]),
        Watermark(100),
    ];
    let log = capture(
        tumbling(10, Trigger::Count(2), 50, Accumulation::Accumulate),
        None,
        &steps,
    );
    assert_eq!(
        panes(&log, "out"),
        vec![pane(1, 2, 3, "early", 0, -1, true, 9)]
    );
    let late = records(&log, "late");
    assert_eq!(late.len(), 2);
    for ((step, r), (want_step, v)) in late.iter().zip([(1, 3), (2, 4)]) {
        assert_eq!(*step, want_step);
        assert_eq!(r[1], Value::Int(v));
        assert_eq!(r[3], Value::str(CLOSED));
        assert_eq!((int(&r[4]), int(&r[5]), int(&r[6])), (0, 10, 0));
    }
}

/// Earliest/latest take only elements not behind the watermark (else the end of the
/// window − 1); on-time panes reach a downstream window on time, late panes are late there.
#[test]
fn timestamp_combiners_and_a_chained_window() {
    use Step::*;
    for (combiner, first_ts) in [
        (TimestampCombiner::Earliest, 6),
        (TimestampCombiner::Latest, 8),
        (TimestampCombiner::End, 9),
    ] {
        let mut first = tumbling(
            10,
            Trigger::default_for_windows(),
            20,
            Accumulation::Discard,
        );
        first.timestamp = combiner;
        let mut second = tumbling(10, Trigger::default_for_windows(), 0, Accumulation::Discard);
        second.late_to = Some("late2".into());
        let steps = vec![
            Watermark(0),
            Given(vec![(0, 1, 6), (0, 2, 8)]),
            Watermark(5),
            Given(vec![(0, 4, 2)]), // behind the watermark: cannot hold the output
            Watermark(15),          // 4: [0, 10) on time
            Given(vec![(0, 8, 12)]), // behind the watermark: falls back to 19
            Watermark(20),          // 6: [10, 20) on time
            Given(vec![(0, 16, 9)]), // 7: late for [0, 10), within the allowed lateness
            Watermark(100),
        ];
        let log = capture(first, Some(second), &steps);
        assert_eq!(
            panes(&log, "out"),
            vec![
                pane(4, 3, 7, "on_time", 0, 0, false, first_ts),
                pane(6, 1, 8, "on_time", 0, 0, false, 19),
                pane(7, 1, 16, "late", 1, 1, false, 9),
            ],
            "{combiner:?}"
        );
        // Downstream: each on-time pane lands in the window of its timestamp, on time.
        let out2 = panes(&log, "out2");
        assert_eq!(
            out2,
            vec![
                pane(4, 1, 7, "on_time", 0, 0, true, 9),
                pane(6, 1, 8, "on_time", 0, 0, true, 19),
            ],
            "{combiner:?}"
        );
        // The late pane (timestamp 9) is behind the downstream watermark: late there.
        let late2 = records(&log, "late2");
        assert_eq!(late2.len(), 1, "{combiner:?}: {late2:?}");
        assert_eq!(late2[0].1[10], Value::str(EXPIRED));
    }
}

/// A window whose trigger did not fire at its end keeps holding the output at its end
/// until a pane carries its on-time elements (Beam's element holds): that pane is on time
/// and reaches a downstream window on time.
#[test]
fn unfired_on_time_elements_hold_the_output_until_their_pane() {
    use Step::*;
    let first = tumbling(10, Trigger::Count(100), 20, Accumulation::Discard);
    let mut second = tumbling(10, Trigger::default_for_windows(), 0, Accumulation::Discard);
    second.late_to = Some("late2".into());
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 5)]),
        Watermark(15), // past the end: count(100) does not fire
        Watermark(40), // 3: garbage collection fires the pane
    ];
    let log = capture(first, Some(second), &steps);
    assert_eq!(
        panes(&log, "out"),
        vec![pane(3, 1, 1, "on_time", 0, 0, true, 9)]
    );
    assert_eq!(records(&log, "late2"), vec![]);
    assert_eq!(
        panes(&log, "out2"),
        vec![pane(3, 1, 1, "on_time", 0, 0, true, 9)]
    );
}

/// A window that first gets elements when the watermark is already past its end never
/// held the output: its panes are late, even the first one at garbage collection.
#[test]
fn a_window_created_late_has_no_on_time_pane() {
    use Step::*;
    let steps = vec![
        Watermark(0),
        Watermark(12),
        Given(vec![(0, 1, 5)]), // late for [0, 10), within the allowed lateness
        Watermark(40),
    ];
    let log = capture(
        tumbling(10, Trigger::Count(5), 20, Accumulation::Discard),
        None,
        &steps,
    );
    assert_eq!(
        panes(&log, "out"),
        vec![pane(3, 1, 1, "late", 0, 0, true, 9)]
    );
}

fn session(gap: i64, lateness: i64, acc: Accumulation) -> WindowSpec {
    let mut spec = WindowSpec::new(WindowKind::Session {
        gap_ms: gap,
        max_ms: None,
    });
    spec.allowed_lateness_ms = lateness;
    spec.accumulation = acc;
    spec.late_to = Some("late".into());
    spec
}

/// A late element within the allowed lateness bridges two sessions that both fired on
/// time: the merged session is a new window (Beam), so its first pane is late with pane
/// index 0 and non-speculative index 0, and in retract mode is preceded by the withdrawal
/// of both earlier panes.
#[test]
fn a_late_element_bridging_two_sessions_retracts_both() {
    use Step::*;
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 1)]),  // [1, 11)
        Given(vec![(0, 2, 15)]), // [15, 25)
        Watermark(30),           // 3: both on time
        Given(vec![(0, 4, 8)]),  // 4: [8, 18) bridges them: [1, 25)
        Watermark(200),          // garbage collection: nothing unfired
    ];
    let log = capture(session(10, 50, Accumulation::Retract), None, &steps);
    let out = records(&log, "out");
    let row = |(step, r): &(usize, Record)| {
        (
            *step,
            int(&r[1]),
            int(&r[2]),
            int(&r[3]),
            int(&r[4]),
            r[5].to_string(),
            int(&r[6]),
            int(&r[7]),
            r[10] == Value::Bool(true),
        )
    };
    let mut got: Vec<_> = out.iter().map(row).collect();
    got.sort_by_key(|r| (r.0, !r.8, r.3));
    let t = |s: &str| Value::str(s).to_string();
    assert_eq!(
        got,
        vec![
            (3, 1, 1, 1, 11, t("on_time"), 0, 0, false),
            (3, 1, 2, 15, 25, t("on_time"), 0, 0, false),
            (4, 1, 1, 1, 11, t("on_time"), 0, 0, true),
            (4, 1, 2, 15, 25, t("on_time"), 0, 0, true),
            (4, 3, 7, 1, 25, t("late"), 0, 0, false),
        ]
    );
    // Within one step, withdrawals come before the pane that replaces them.
    let step4: Vec<bool> = out
        .iter()
        .filter(|(s, _)| *s == 4)
        .map(|(_, r)| r[10] == Value::Bool(true))
        .collect();
    assert_eq!(step4, vec![true, true, false]);
    assert_eq!(records(&log, "late"), vec![]);
}

/// Sessions that merge before the watermark reaches them fire one on-time pane for the
/// merged session; the merged session is a new window, so its panes count from 0 again.
#[test]
fn sessions_merge_before_the_watermark_with_early_firings() {
    use Step::*;
    let mut spec = session(10, 0, Accumulation::Accumulate);
    spec.trigger = Trigger::Watermark {
        early: Some(Box::new(Trigger::Count(2))),
        late: None,
    };
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 1), (0, 2, 3)]), // 1: [1, 13) fires early (2 elements)
        Given(vec![(0, 4, 20)]),           // [20, 30)
        Given(vec![(0, 8, 12)]),           // 3: [12, 22) merges all: [1, 30)
        Watermark(40),                     // 4: on time, final (no lateness)
        Given(vec![(0, 16, 5)]),           // 5: expired
    ];
    let log = capture(spec, None, &steps);
    let out = panes(&log, "out");
    assert_eq!(
        out,
        vec![
            pane(1, 2, 3, "early", 0, -1, false, 12),
            pane(3, 4, 15, "early", 0, -1, false, 29),
            pane(4, 4, 15, "on_time", 1, 0, true, 29),
        ]
    );
    let late = records(&log, "late");
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].0, 5);
    assert_eq!(late[0].1[3], Value::str(EXPIRED));
}

/// Random scripts over session windows: every element is either late-routed or counted
/// exactly once in the panes (discard: plain sum; retract: signed sum, where every
/// withdrawal matches an earlier pane not yet withdrawn), and no early or on-time pane
/// reaches a downstream window behind its watermark.
#[test]
fn random_session_scripts_lose_nothing() {
    for seed in 0..300u64 {
        let steps = script(seed, 30);
        let input: i64 = steps
            .iter()
            .map(|s| match s {
                Step::Given(es) => es.len() as i64,
                _ => 0,
            })
            .sum();
        for (lateness, acc, trigger) in [
            (0, Accumulation::Discard, Trigger::default_for_windows()),
            (30, Accumulation::Discard, Trigger::default_for_windows()),
            (0, Accumulation::Retract, Trigger::default_for_windows()),
            (30, Accumulation::Retract, Trigger::default_for_windows()),
            (30, Accumulation::Discard, Trigger::Count(3)),
            (
                30,
                Accumulation::Retract,
                Trigger::Watermark {
                    early: Some(Box::new(Trigger::Count(2))),
                    late: Some(Box::new(Trigger::Count(1))),
                },
            ),
        ] {
            let mut spec = session(10, lateness, acc);
            spec.trigger = trigger;
            let mut second = tumbling(10, Trigger::default_for_windows(), 0, Accumulation::Discard);
            second.late_to = Some("late2".into());
            let log = capture(spec, Some(second), &steps);
            // Early and on-time panes never arrive behind the downstream watermark.
            for (step, r) in records(&log, "late2") {
                let withdrawal = acc == Accumulation::Retract && r[10] == Value::Bool(true);
                assert!(
                    withdrawal || r[5] == Value::str("late"),
                    "seed {seed}, step {step}: {r:?}"
                );
            }
            let routed = records(&log, "late").len() as i64;
            let mut live: Vec<Record> = Vec::new();
            let mut counted = 0;
            for (_, r) in records(&log, "out") {
                if acc == Accumulation::Retract && r[10] == Value::Bool(true) {
                    let mut original = r.clone();
                    original[10] = Value::Bool(false);
                    let at = live.iter().position(|l| *l == original);
                    let at = at.unwrap_or_else(|| panic!("seed {seed}: withdrawal of {r:?}"));
                    live.swap_remove(at);
                    counted -= int(&r[1]);
                } else {
                    live.push(r.clone());
                    counted += int(&r[1]);
                }
            }
            assert_eq!(
                routed + counted,
                input,
                "seed {seed}, lateness {lateness}, {acc:?}"
            );
        }
    }
}

/// Panes of one window leave in the order they fired even when their timestamps go
/// backwards (earliest combiner): a withdrawal never overtakes the pane it withdraws.
#[test]
fn panes_leave_in_firing_order_whatever_their_timestamps() {
    use Step::*;
    let mut spec = tumbling(
        100,
        Trigger::Repeat(Box::new(Trigger::Count(1))),
        0,
        Accumulation::Retract,
    );
    spec.timestamp = TimestampCombiner::Earliest;
    let steps = vec![Watermark(0), Given(vec![(0, 1, 50), (0, 2, 10)])];
    let log = capture(spec, None, &steps);
    let got: Vec<(i64, i64, bool, i64)> = records(&log, "out")
        .iter()
        .map(|(_, r)| {
            (
                int(&r[6]),
                int(&r[1]),
                r[10] == Value::Bool(true),
                int(&r[9]),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, 1, false, 50), (0, 1, true, 50), (1, 2, false, 10)]
    );
}

/// Sessions still holding unfired on-time elements past their end keep that hold when a
/// late element merges them: the merged pane is on time, downstream too.
#[test]
fn a_merge_keeps_the_hold_of_unfired_on_time_sessions() {
    use Step::*;
    let mut first = session(10, 50, Accumulation::Discard);
    first.trigger = Trigger::Count(100);
    let mut second = tumbling(10, Trigger::default_for_windows(), 0, Accumulation::Discard);
    second.late_to = Some("late2".into());
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 1)]),  // [1, 11)
        Given(vec![(0, 2, 15)]), // [15, 25)
        Watermark(30),           // past both ends: count(100) does not fire
        Given(vec![(0, 4, 8)]),  // late, bridges them: [1, 25)
        Watermark(200),          // 5: garbage collection fires the merged pane
    ];
    let log = capture(first, Some(second), &steps);
    assert_eq!(
        panes(&log, "out"),
        vec![pane(5, 3, 7, "on_time", 0, 0, true, 24)]
    );
    assert_eq!(records(&log, "late2"), vec![]);
    assert_eq!(
        panes(&log, "out2"),
        vec![pane(5, 1, 7, "on_time", 0, 0, true, 29)]
    );
}

/// An element bridging a session whose trigger finished and an open one is dropped as
/// closed, and the open session keeps its elements (merging would have closed it and
/// lost them without a trace).
#[test]
fn a_bridge_to_a_closed_session_loses_nothing() {
    use Step::*;
    let mut spec = session(10, 50, Accumulation::Discard);
    spec.trigger = Trigger::Count(2);
    let steps = vec![
        Watermark(0),
        Given(vec![(0, 1, 1), (0, 2, 3)]), // 1: [1, 13) fires and closes
        Given(vec![(0, 4, 20)]),           // [20, 30), open
        Given(vec![(0, 8, 12)]),           // 3: [12, 22) would bridge them
        Watermark(100),                    // 4: [20, 30) at garbage collection
    ];
    let log = capture(spec, None, &steps);
    let out = records(&log, "out");
    let rows: Vec<(usize, i64, i64, i64, i64, bool)> = out
        .iter()
        .map(|(s, r)| {
            (
                *s,
                int(&r[1]),
                int(&r[2]),
                int(&r[3]),
                int(&r[4]),
                r[8] == Value::Bool(true),
            )
        })
        .collect();
    assert_eq!(rows, vec![(1, 2, 3, 1, 13, true), (4, 1, 4, 20, 30, true)]);
    let late = records(&log, "late");
    assert_eq!(late.len(), 1);
    let (step, r) = &late[0];
    assert_eq!(*step, 3);
    assert_eq!(int(&r[1]), 8);
    assert_eq!(r[3], Value::str(CLOSED));
    assert_eq!((int(&r[4]), int(&r[5])), (1, 13));
}
