//! What one thread does with no engine: each Nexmark query of `benches/nexmark/` as a
//! hand-written loop over the generated stream (the COST idea: McSherry, Isard, Murray,
//! "Scalability! But at what COST?", HotOS 2015).
//!
//! Every query reads the stream the way the engine's `nexmark(…)` source does — only the
//! event numbers of the kinds it needs, generated with [`weir_nexmark::Generator`] — keeps
//! the same bounded state (windows close when the watermark, the largest event time seen
//! minus the generator's largest delay, passes their end) and produces the same results
//! as the `.pipe` file's `out` sink. [`run`] counts them; the per-query functions hand
//! each result to a closure, so the tests compare them with `weir_nexmark::oracle`.
#![forbid(missing_docs)]

pub mod q0;
pub mod q1;
pub mod q10;
pub mod q11;
pub mod q12;
pub mod q13;
pub mod q14;
pub mod q15;
pub mod q16;
pub mod q17;
pub mod q18;
pub mod q19;
pub mod q2;
pub mod q20;
pub mod q21;
pub mod q22;
pub mod q3;
pub mod q4;
pub mod q5;
pub mod q6;
pub mod q7;
pub mod q8;
pub mod q9;
pub mod stream;

use std::fmt;
use std::hint::black_box;

use weir_nexmark::NexmarkConfig;

/// The queries with a baseline, in query-number order.
pub const QUERIES: [&str; 23] = [
    "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12", "q13", "q14",
    "q15", "q16", "q17", "q18", "q19", "q20", "q21", "q22",
];

/// What a baseline run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaselineResult {
    /// Events of the stream (all kinds), the unit Nexmark counts throughput in.
    pub events: u64,
    /// Results produced (the records the `.pipe` writes to `out`).
    pub outputs: u64,
    /// Whether the result count is a function of the stream alone; q12's depends on the
    /// wall clock (processing-time windows).
    pub deterministic: bool,
}

/// A query name with no baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownQuery(pub String);

impl fmt::Display for UnknownQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no baseline for query `{}` (there are: {})",
            self.0,
            QUERIES.join(", ")
        )
    }
}

impl std::error::Error for UnknownQuery {}

/// Runs the baseline of `query` (`q5`) over the stream `config` describes.
pub fn run(query: &str, config: &NexmarkConfig) -> Result<BaselineResult, UnknownQuery> {
    let mut outputs = 0u64;
    let mut deterministic = true;
    // A closure that counts each result and keeps it from being optimised away.
    macro_rules! count {
        ($($arg:ident),+) => {
            |$($arg),+| {
                black_box(($($arg),+));
                outputs += 1
            }
        };
    }
    match query {
        "q0" => q0::run(config, count!(b)),
        "q1" => q1::run(config, count!(b)),
        "q2" => q2::run(config, count!(r)),
        "q3" => q3::run(config, count!(r)),
        "q4" => q4::run(config, count!(r)),
        "q5" => q5::run(config, count!(r)),
        "q6" => q6::run(config, count!(r)),
        "q7" => q7::run(config, count!(r)),
        "q8" => q8::run(config, count!(r)),
        "q9" => q9::run(config, count!(r)),
        "q10" => q10::run(config, count!(b, day, minute)),
        "q11" => q11::run(config, count!(r)),
        "q12" => {
            deterministic = false;
            q12::run(config, q12::WINDOW, q12::wall_clock_ms, count!(r))
        }
        "q13" => q13::run(config, &q13::side_input(), count!(b, value)),
        "q14" => q14::run(config, count!(b, price, class)),
        "q15" => q15::run(config, count!(day, counts)),
        "q16" => q16::run(config, count!(r)),
        "q17" => q17::run(config, count!(r)),
        "q18" => q18::run(config, count!(r)),
        "q19" => q19::run(config, count!(auction, rank, bid)),
        "q20" => q20::run(config, count!(b, a)),
        "q21" => q21::run(config, count!(b, id)),
        "q22" => q22::run(config, count!(b, dirs)),
        other => return Err(UnknownQuery(other.to_string())),
    }
    Ok(BaselineResult {
        events: config.events,
        outputs,
        deterministic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_runs_and_unknown_ones_are_named() {
        let config = NexmarkConfig {
            events: 5_000,
            rate: 1_000,
            ..NexmarkConfig::default()
        };
        for q in QUERIES {
            let r = run(q, &config).unwrap();
            assert_eq!(r.events, 5_000);
            assert!(r.outputs > 0, "{q}");
        }
        let e = run("q42", &config).unwrap_err();
        assert!(e.to_string().contains("q42") && e.to_string().contains("q11"));
    }
}

#[cfg(test)]
mod oracle_tests;
