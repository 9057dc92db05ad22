//! The typed configuration of `sensors(…)`, read strictly from a connector call.

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;
use weir_engine::time::parse_timestamp;

use super::fields::Measure;
use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `sensors(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "devices",
        kind: OptionKind::Int,
        positional: false,
        default: Some("10"),
        doc: "Number of simulated devices.",
    },
    OptionSpec {
        name: "rate",
        kind: OptionKind::Number,
        positional: false,
        default: Some("1000"),
        doc: "Events per second of event time, across all devices.",
    },
    OptionSpec {
        name: "events",
        kind: OptionKind::Int,
        positional: false,
        default: Some("100000"),
        doc: "Total number of events (or give `duration`).",
    },
    OptionSpec {
        name: "duration",
        kind: OptionKind::Duration,
        positional: false,
        default: None,
        doc: "Simulated event-time span; then events = rate × duration.",
    },
    OptionSpec {
        name: "seed",
        kind: OptionKind::Int,
        positional: false,
        default: Some("1"),
        doc: "Seed of every random value; same seed, same records.",
    },
    OptionSpec {
        name: "start",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\"2024-05-01T00:00:00Z\""),
        doc: "Event time of the first event (RFC 3339).",
    },
    OptionSpec {
        name: "jitter",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("0s"),
        doc: "Largest arrival delay: records arrive out of event-time order by up to this.",
    },
    OptionSpec {
        name: "anomaly_rate",
        kind: OptionKind::Number,
        positional: false,
        default: Some("0.001"),
        doc: "Probability that a reading is an injected anomaly (a spike).",
    },
    OptionSpec {
        name: "realtime",
        kind: OptionKind::Bool,
        positional: false,
        default: Some("false"),
        doc: "Pace emission to the wall clock at `rate` instead of as fast as possible.",
    },
];

/// Most devices the simulator accepts.
pub const MAX_DEVICES: i64 = 10_000_000;

/// A checked `sensors(…)` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorsConfig {
    /// Number of devices (≥ 1).
    pub devices: u32,
    /// Rate in events per 1000 s of event time (the rate × 1000, rounded; ≥ 1), so that
    /// event times are exact integer arithmetic.
    pub rate_milli: u64,
    /// Total events.
    pub events: u64,
    /// Random seed.
    pub seed: u64,
    /// Event time of event 0, epoch ms.
    pub start_ms: i64,
    /// Largest arrival jitter, ms (≥ 0).
    pub jitter_ms: i64,
    /// Probability of an anomaly per event, in [0, 1].
    pub anomaly_rate: f64,
    /// Pace to the wall clock.
    pub realtime: bool,
}

impl Default for SensorsConfig {
    fn default() -> SensorsConfig {
        SensorsConfig {
            devices: 10,
            rate_milli: 1_000_000,
            events: 100_000,
            seed: 1,
            start_ms: 1_714_521_600_000,
            jitter_ms: 0,
            anomaly_rate: 0.001,
            realtime: false,
        }
    }
}

impl SensorsConfig {
    /// Reads `call`, rejecting unknown options, wrong types and out-of-range values.
    pub fn from_call(call: &ConnectorCall) -> Result<SensorsConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        let mut config = SensorsConfig::default();
        if let Some(devices) = r.int("devices") {
            if (1..=MAX_DEVICES).contains(&devices) {
                config.devices = devices as u32;
            } else {
                r.problem(ConfigProblem::option(
                    "devices",
                    format!("`devices` must be between 1 and {MAX_DEVICES}, found {devices}"),
                ));
            }
        }
        if let Some(rate) = r.number("rate") {
            let milli = (rate * 1000.0).round();
            if (1.0..=1e15).contains(&milli) {
                config.rate_milli = milli as u64;
            } else {
                r.problem(
                    ConfigProblem::option(
                        "rate",
                        format!(
                            "`rate` must be a positive number of events per second, found {rate}"
                        ),
                    )
                    .with_help("write for example `rate: 1000` (or `rate: 10k`)"),
                );
            }
        }
        let events = r.int("events");
        let duration = r.duration("duration");
        match (events, duration) {
            (Some(_), Some(_)) => r.problem(
                ConfigProblem::option("duration", "give either `events` or `duration`, not both")
                    .with_help("`duration` sets events = rate × duration"),
            ),
            (Some(e), None) if e < 0 => r.problem(ConfigProblem::option(
                "events",
                format!("`events` cannot be negative, found {e}"),
            )),
            (Some(e), None) => config.events = e as u64,
            (None, Some(d)) if d <= 0 => r.problem(ConfigProblem::option(
                "duration",
                "`duration` must be positive",
            )),
            (None, Some(d)) => {
                let events = i128::from(d) * i128::from(config.rate_milli) / 1_000_000;
                config.events = u64::try_from(events).unwrap_or(u64::MAX);
            }
            (None, None) => {}
        }
        if let Some(seed) = r.int("seed") {
            config.seed = seed as u64;
        }
        if let Some(start) = r.text("start") {
            match parse_timestamp(start) {
                Some(ms) => config.start_ms = ms,
                None => r.problem(
                    ConfigProblem::option(
                        "start",
                        format!("`start` must be an RFC 3339 timestamp, found {start:?}"),
                    )
                    .with_help("write for example `start: \"2024-05-01T00:00:00Z\"`"),
                ),
            }
        }
        if let Some(jitter) = r.duration("jitter") {
            if jitter >= 0 {
                config.jitter_ms = jitter;
            } else {
                r.problem(ConfigProblem::option(
                    "jitter",
                    "`jitter` cannot be negative",
                ));
            }
        }
        if let Some(rate) = r.number("anomaly_rate") {
            if (0.0..=1.0).contains(&rate) {
                config.anomaly_rate = rate;
            } else {
                r.problem(ConfigProblem::option(
                    "anomaly_rate",
                    format!("`anomaly_rate` is a probability between 0 and 1, found {rate}"),
                ));
            }
        }
        if let Some(realtime) = r.boolean("realtime") {
            config.realtime = realtime;
        }
        r.finish(config)
    }

    /// The configuration and the measure of each schema field, or every problem with
    /// either.
    pub fn with_schema(
        call: &ConnectorCall,
        schema: &Schema,
    ) -> Result<(SensorsConfig, Vec<Measure>), Vec<ConfigProblem>> {
        match (SensorsConfig::from_call(call), Measure::for_schema(schema)) {
            (Ok(config), Ok(measures)) => Ok((config, measures)),
            (Err(mut a), Err(b)) => {
                a.extend(b);
                Err(a)
            }
            (Err(a), Ok(_)) | (Ok(_), Err(a)) => Err(a),
        }
    }

    /// The rate in events per second.
    pub fn rate(&self) -> f64 {
        self.rate_milli as f64 / 1000.0
    }

    /// Event time of event `n` before jitter: `start + n·1000/rate` ms, exactly (integer
    /// arithmetic, rounded down).
    pub fn in_order_time(&self, n: u64) -> i64 {
        EventClock::new(self).time(n)
    }
}

/// `start + n·1000/rate` with the fraction reduced once, so the common rates that divide
/// a second evenly cost a multiplication per event rather than a division.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventClock {
    start_ms: i64,
    /// Milliseconds per event as the fraction `num / den` in lowest terms.
    num: u64,
    den: u64,
}

impl EventClock {
    pub(crate) fn new(config: &SensorsConfig) -> EventClock {
        let (mut a, mut b) = (1_000_000u64, config.rate_milli.max(1));
        while b != 0 {
            (a, b) = (b, a % b);
        }
        EventClock {
            start_ms: config.start_ms,
            num: 1_000_000 / a,
            den: config.rate_milli.max(1) / a,
        }
    }

    /// Event time of event `n` before jitter.
    #[inline]
    pub(crate) fn time(&self, n: u64) -> i64 {
        let offset = match n.checked_mul(self.num) {
            Some(scaled) if self.den == 1 => i128::from(scaled),
            Some(scaled) => i128::from(scaled / self.den),
            None => i128::from(n) * i128::from(self.num) / i128::from(self.den),
        };
        (i128::from(self.start_ms) + offset).clamp(i128::from(i64::MIN), i128::from(i64::MAX))
            as i64
    }
}
