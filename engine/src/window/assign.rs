//! Window assignment: which window(s) an event time belongs to.

use crate::plan::WindowKind;
use crate::time::EventTime;
use crate::value::Value;

/// A window `[start, end)` in event time.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Window {
    /// Inclusive start.
    pub start: EventTime,
    /// Exclusive end.
    pub end: EventTime,
}

impl Window {
    /// The largest timestamp inside the window (Beam's `maxTimestamp`).
    pub fn max_timestamp(&self) -> EventTime {
        self.end - 1
    }
}

/// The global window: all of time.
pub const GLOBAL: Window = Window {
    start: EventTime::MIN,
    end: EventTime::MAX,
};

/// Assigns event times to windows of one kind.
#[derive(Clone, Copy, Debug)]
pub enum Assigner {
    /// Fixed windows of `size`, shifted by `offset`.
    Tumbling {
        /// Window length (ms, > 0).
        size: i64,
        /// Offset from the epoch (ms).
        offset: i64,
    },
    /// Windows of `size` starting every `period`.
    Sliding {
        /// Window length (ms, > 0).
        size: i64,
        /// Distance between starts (ms, > 0).
        period: i64,
    },
    /// A proto-session `[t, t + gap)` per element, merged per key afterwards.
    Session {
        /// Inactivity gap (ms, > 0).
        gap: i64,
    },
    /// The single global window.
    Global,
    /// The window `[record[start], record[end])` named by each record's fields.
    Until {
        /// Slot of the end timestamp.
        end: usize,
        /// Slot of the start timestamp, if any.
        start: Option<usize>,
    },
}

impl Assigner {
    /// The assigner for a plan's window kind.
    pub fn new(kind: &WindowKind) -> Assigner {
        match kind {
            WindowKind::Tumbling { size_ms, offset_ms } => Assigner::Tumbling {
                size: (*size_ms).max(1),
                offset: offset_ms.rem_euclid((*size_ms).max(1)),
            },
            WindowKind::Sliding { size_ms, period_ms } => Assigner::Sliding {
                size: (*size_ms).max(1),
                period: (*period_ms).max(1),
            },
            WindowKind::Session { gap_ms, .. } => Assigner::Session {
                gap: (*gap_ms).max(1),
            },
            // Count windows are built by `ops::count_window`, not from event times.
            WindowKind::Global | WindowKind::Count { .. } => Assigner::Global,
            WindowKind::Until { end, start } => Assigner::Until {
                end: end.slot,
                start: start.as_ref().map(|s| s.slot),
            },
        }
    }

    /// The window an `until` assigner gives `record`: `None` when its end is not a
    /// timestamp (the checker allows only non-null timestamp fields). A start at or after
    /// the end is moved to the end's last instant, so the window is never empty.
    pub fn bounded(&self, record: &[Value]) -> Option<Window> {
        let Assigner::Until { end, start } = *self else {
            return None;
        };
        let Some(Value::Time(end)) = record.get(end) else {
            return None;
        };
        let start = match start.and_then(|s| record.get(s)) {
            Some(Value::Time(s)) => *s,
            _ => EventTime::MIN,
        };
        Some(Window {
            start: start.min(end.saturating_sub(1)),
            end: *end,
        })
    }

    /// The single window containing `time` (tumbling windows).
    #[inline]
    pub fn tumbling(&self, time: EventTime) -> Window {
        match *self {
            Assigner::Tumbling { size, offset } => aligned(time, size, offset, size),
            Assigner::Sliding { size, period } => aligned(time, period, 0, size),
            Assigner::Session { gap } => Window {
                start: time,
                end: time.saturating_add(gap),
            },
            // Not a function of time: `bounded` reads the record.
            Assigner::Global | Assigner::Until { .. } => GLOBAL,
        }
    }

    /// Calls `f` with every window containing `time`, latest start first.
    #[inline]
    pub fn assign(&self, time: EventTime, mut f: impl FnMut(Window)) {
        match *self {
            Assigner::Sliding { size, period } => {
                // The last window starting at or before `time`, then earlier starts while
                // the window still reaches `time`.
                let mut w = aligned(time, period, 0, size);
                while w.end > time {
                    f(w);
                    match w.start.checked_sub(period) {
                        Some(start) => {
                            w = Window {
                                start,
                                end: start.saturating_add(size),
                            }
                        }
                        None => break,
                    }
                }
            }
            _ => f(self.tumbling(time)),
        }
    }
}

/// The window of length `len` starting at the last multiple of `step` (shifted by
/// `offset`) at or before `time`. Saturates at the ends of time instead of overflowing.
#[inline]
fn aligned(time: EventTime, step: i64, offset: i64, len: i64) -> Window {
    let start =
        (time as i128 - offset as i128).div_euclid(step as i128) * step as i128 + offset as i128;
    let start = start.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    Window {
        start,
        end: start.saturating_add(len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tumbling_windows_align_to_size_and_offset() {
        let a = Assigner::Tumbling {
            size: 60_000,
            offset: 0,
        };
        assert_eq!(
            a.tumbling(0),
            Window {
                start: 0,
                end: 60_000
            }
        );
        assert_eq!(
            a.tumbling(59_999),
            Window {
                start: 0,
                end: 60_000
            }
        );
        assert_eq!(
            a.tumbling(-1),
            Window {
                start: -60_000,
                end: 0
            }
        );
        let b = Assigner::new(&WindowKind::Tumbling {
            size_ms: 60_000,
            offset_ms: 15_000,
        });
        assert_eq!(
            b.tumbling(10_000),
            Window {
                start: -45_000,
                end: 15_000
            }
        );
        assert_eq!(
            b.tumbling(15_000),
            Window {
                start: 15_000,
                end: 75_000
            }
        );
    }

    #[test]
    fn sliding_windows_cover_a_time_size_over_period_times() {
        let a = Assigner::new(&WindowKind::Sliding {
            size_ms: 10_000,
            period_ms: 5_000,
        });
        let mut ws = Vec::new();
        a.assign(12_000, |w| ws.push(w));
        assert_eq!(
            ws,
            vec![
                Window {
                    start: 10_000,
                    end: 20_000
                },
                Window {
                    start: 5_000,
                    end: 15_000
                }
            ]
        );
    }

    proptest! {
        #[test]
        fn sliding_assignment_matches_a_scan(t in -100_000i64..100_000, size in 1i64..5_000, period in 1i64..5_000) {
            let a = Assigner::new(&WindowKind::Sliding { size_ms: size, period_ms: period });
            let mut got = Vec::new();
            a.assign(t, |w| got.push(w));
            got.sort();
            let mut want = Vec::new();
            let mut start = (t - size).div_euclid(period) * period;
            while start <= t {
                if start + size > t {
                    want.push(Window { start, end: start + size });
                }
                start += period;
            }
            prop_assert_eq!(got, want);
        }

        #[test]
        fn every_time_falls_in_its_window(t in -1_000_000_000i64..1_000_000_000, size in 1i64..100_000, off in 0i64..100_000) {
            let a = Assigner::new(&WindowKind::Tumbling { size_ms: size, offset_ms: off });
            let w = a.tumbling(t);
            prop_assert!(w.start <= t && t < w.end);
            prop_assert_eq!(w.end - w.start, size);
            prop_assert_eq!((w.start - off).rem_euclid(size), 0);
        }
    }
}
