//! Printing measurements: an aligned text table for people, one JSON object per line for
//! machines.

use super::Measurement;

/// Column headers of the text table.
pub const HEADERS: [&str; 11] = [
    "query",
    "workers",
    "events",
    "seconds",
    "events/s",
    "events/s/worker",
    "peak MB",
    "outputs",
    "baseline ev/s",
    "engine/baseline",
    "check",
];

/// Width of each column (the last one, `check`, is left-aligned and unpadded).
const WIDTHS: [usize; 11] = [5, 7, 11, 8, 9, 15, 8, 10, 13, 15, 0];

/// The header line and its rule.
pub fn header() -> String {
    let cells: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let rule: Vec<String> = HEADERS
        .iter()
        .zip(WIDTHS)
        .map(|(h, w)| "-".repeat(w.max(h.len())))
        .collect();
    format!("{}\n{}", row(&cells), row(&rule))
}

/// One measurement as a table row.
pub fn table_row(m: &Measurement) -> String {
    let cells = vec![
        m.query.clone(),
        m.workers.to_string(),
        m.events.to_string(),
        format!("{:.3}", m.seconds),
        rate(m.events_per_sec),
        rate(m.events_per_sec_per_worker),
        m.peak_rss_bytes
            .map_or_else(|| "-".to_string(), |b| format!("{:.1}", b as f64 / 1e6)),
        m.outputs.to_string(),
        m.baseline_events_per_sec
            .map_or_else(|| "-".to_string(), rate),
        m.engine_over_baseline
            .map_or_else(|| "-".to_string(), |r| format!("{r:.2}")),
        check(m),
    ];
    row(&cells)
}

/// Whether the engine's result count matches the baseline's, in words.
pub fn check(m: &Measurement) -> String {
    match (m.outputs_match_baseline, m.baseline_outputs) {
        (Some(true), _) => "ok".to_string(),
        (Some(false), Some(b)) => format!("MISMATCH (baseline {b})"),
        (None, Some(_)) => "wall-clock panes".to_string(),
        _ => "-".to_string(),
    }
}

/// One measurement as a JSON object on one line.
pub fn json_line(m: &Measurement) -> String {
    // A struct of numbers, strings and options always serialises.
    serde_json::to_string(m).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn row(cells: &[String]) -> String {
    cells
        .iter()
        .zip(WIDTHS)
        .map(|(c, width)| {
            if width == 0 {
                c.clone()
            } else {
                format!("{c:>width$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
}

/// `12.3M`, `456.7k`, `890`.
fn rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark_bench::{BaselineRun, EngineRun};

    fn measurement(outputs: u64, baseline_outputs: u64) -> Measurement {
        Measurement::new(
            EngineRun {
                query: "q5".into(),
                workers: 1,
                events: 2_000_000,
                seconds: 1.0,
                records_in: 1_840_000,
                outputs,
                records_out: outputs,
                late_dropped: 0,
                peak_rss_bytes: Some(25_000_000),
            },
            Some(BaselineRun {
                events: 2_000_000,
                seconds: 0.5,
                outputs: baseline_outputs,
                deterministic: true,
            }),
        )
    }

    #[test]
    fn a_row_lines_up_under_the_header() {
        let m = measurement(400, 400);
        let line = table_row(&m);
        let head = header();
        // Every column but the last ends where its header ends.
        let width = |s: &str| s.rsplit_once("  ").unwrap().0.len();
        assert_eq!(width(&line), width(head.lines().next().unwrap()));
        for cell in [
            "q5", "2000000", "1.000", "2.00M", "25.0", "400", "4.00M", "0.50", "ok",
        ] {
            assert!(line.contains(cell), "{cell} in {line}");
        }
    }

    #[test]
    fn a_count_mismatch_is_said_out_loud() {
        let m = measurement(400, 399);
        assert_eq!(check(&m), "MISMATCH (baseline 399)");
        let json: serde_json::Value = serde_json::from_str(&json_line(&m)).unwrap();
        assert_eq!(json["outputs_match_baseline"], false);
        assert_eq!(json["query"], "q5");
        assert_eq!(json["events_per_sec_per_worker"], 2_000_000.0);
    }
}
