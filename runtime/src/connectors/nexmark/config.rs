//! The typed configuration of `nexmark(…)`, read strictly from a connector call.

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;
use weir_engine::time::parse_timestamp;
use weir_nexmark::{EventKind, NexmarkConfig};

use super::fields::Column;
use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `nexmark(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "kind",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "Which events this source yields: `person`, `auction` or `bid`.",
    },
    OptionSpec {
        name: "events",
        kind: OptionKind::Int,
        positional: false,
        default: Some("100000"),
        doc:
            "Events in the whole stream, all kinds together (1 : 3 : 46 persons : auctions : bids).",
    },
    OptionSpec {
        name: "rate",
        kind: OptionKind::Int,
        positional: false,
        default: Some("10000"),
        doc: "Events per second of event time, all kinds together.",
    },
    OptionSpec {
        name: "seed",
        kind: OptionKind::Int,
        positional: false,
        default: Some("0"),
        doc: "Seed of every random value; same options, same stream.",
    },
    OptionSpec {
        name: "start",
        kind: OptionKind::Text,
        positional: false,
        default: Some("\"2015-07-15T00:00:00Z\""),
        doc: "Event time of event 0 (RFC 3339).",
    },
    OptionSpec {
        name: "max_delay",
        kind: OptionKind::Duration,
        positional: false,
        default: Some("3s"),
        doc: "Largest out-of-order delay; declare `watermark bounded` at least this.",
    },
    OptionSpec {
        name: "prob_delayed",
        kind: OptionKind::Number,
        positional: false,
        default: Some("0.1"),
        doc: "Probability that an event is out of order (0 = in order).",
    },
];

/// A checked `nexmark(…)` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct NexmarkSourceConfig {
    /// The kind of event the source yields.
    pub kind: EventKind,
    /// The generator's parameters.
    pub generator: NexmarkConfig,
}

impl NexmarkSourceConfig {
    /// Reads `call`, rejecting unknown options, wrong types and out-of-range values.
    pub fn from_call(call: &ConnectorCall) -> Result<NexmarkSourceConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        let mut g = NexmarkConfig::default();
        r.require("kind", "kind: bid");
        let kind = match r.word("kind") {
            Some("person") | None => EventKind::Person,
            Some("auction") => EventKind::Auction,
            Some("bid") => EventKind::Bid,
            Some(other) => {
                r.problem(
                    ConfigProblem::option(
                        "kind",
                        format!("`kind` is `person`, `auction` or `bid`, found `{other}`"),
                    )
                    .with_help("write for example `kind: bid`"),
                );
                EventKind::Bid
            }
        };
        if let Some(events) = r.int("events") {
            if events >= 0 {
                g.events = events as u64;
            } else {
                r.problem(ConfigProblem::option(
                    "events",
                    format!("`events` cannot be negative, found {events}"),
                ));
            }
        }
        if let Some(rate) = r.int("rate") {
            if rate >= 1 {
                g.rate = rate as u64;
            } else {
                r.problem(
                    ConfigProblem::option(
                        "rate",
                        format!("`rate` must be at least 1 event per second, found {rate}"),
                    )
                    .with_help("write for example `rate: 10k`"),
                );
            }
        }
        if let Some(seed) = r.int("seed") {
            g.seed = seed as u64;
        }
        if let Some(start) = r.text("start") {
            match parse_timestamp(start) {
                Some(ms) => g.first_event_time = ms,
                None => r.problem(
                    ConfigProblem::option(
                        "start",
                        format!("`start` must be an RFC 3339 timestamp, found {start:?}"),
                    )
                    .with_help("write for example `start: \"2015-07-15T00:00:00Z\"`"),
                ),
            }
        }
        if let Some(delay) = r.duration("max_delay") {
            if delay >= 0 {
                g.max_delay_ms = delay;
            } else {
                r.problem(ConfigProblem::option(
                    "max_delay",
                    "`max_delay` cannot be negative",
                ));
            }
        }
        if let Some(p) = r.number("prob_delayed") {
            if (0.0..=1.0).contains(&p) {
                g.prob_delayed = p;
            } else {
                r.problem(ConfigProblem::option(
                    "prob_delayed",
                    format!("`prob_delayed` is a probability between 0 and 1, found {p}"),
                ));
            }
        }
        if g.max_delay_ms == 0 {
            // No room to be out of order: every event is on time.
            g.prob_delayed = 0.0;
        }
        if let Err(e) = g.validate() {
            r.problem(ConfigProblem::option(e.field, e.message));
        }
        r.finish(NexmarkSourceConfig { kind, generator: g })
    }

    /// The configuration and the column of each schema field, or every problem with
    /// either.
    pub fn with_schema(
        call: &ConnectorCall,
        schema: &Schema,
    ) -> Result<(NexmarkSourceConfig, Vec<Column>), Vec<ConfigProblem>> {
        let config = NexmarkSourceConfig::from_call(call);
        // The columns depend on the kind; without a valid kind, check them as bids.
        let kind = config.as_ref().map_or(EventKind::Bid, |c| c.kind);
        match (config, Column::for_schema(kind, schema)) {
            (Ok(config), Ok(columns)) => Ok((config, columns)),
            (Err(mut a), Err(b)) => {
                a.extend(b);
                Err(a)
            }
            (Err(a), Ok(_)) | (Ok(_), Err(a)) => Err(a),
        }
    }
}
