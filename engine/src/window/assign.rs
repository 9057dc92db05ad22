//! Window assignment: which window(s) an event time belongs to.

use crate::plan::WindowKind;
use crate::time::EventTime;

/// A window `[start, end)` in event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
}

impl Assigner {
    /// The assigner for a plan's window kind.
    pub fn new(kind: &WindowKind) -> Assigner {
        match kind {
            WindowKind::Tumbling { size_ms, offset_ms } => Assigner::Tumbling {
                size: (*size_ms).max(1),
                offset: offset_ms.rem_euclid((*size_ms).max(1)),
            },
        }
    }

    /// The single window containing `time` (tumbling windows).
    #[inline]
    pub fn tumbling(&self, time: EventTime) -> Window {
        match *self {
            Assigner::Tumbling { size, offset } => {
                // Saturate at the ends of time instead of overflowing.
                let start = (time as i128 - offset as i128).div_euclid(size as i128) * size as i128
                    + offset as i128;
                let start = start.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
                Window {
                    start,
                    end: start.saturating_add(size),
                }
            }
        }
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

    proptest! {
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
