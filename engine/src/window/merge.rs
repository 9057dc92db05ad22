//! Session merging: a new element's proto-session joins every session it overlaps.

use super::assign::Window;

/// Which of `windows` the proto-window `w` merges with, and the merged window.
///
/// Windows merge when they intersect (Beam's `MergeOverlappingIntervalWindows`); touching
/// windows (`[0, 10)` and `[10, 20)`) stay apart. With `max_len`, a merge that would make
/// a session longer than that does not happen: `w` merges only with the latest-starting
/// of the sessions it overlaps that keep the merge within the maximum (so in time order
/// an element joins the current session, not a full one it still overlaps), else starts a
/// session of its own. Member indexes are returned in ascending order.
pub fn merge_with(
    windows: impl IntoIterator<Item = Window>,
    w: Window,
    max_len: Option<i64>,
) -> (Vec<usize>, Window) {
    let mut overlapping: Vec<(usize, Window)> = windows
        .into_iter()
        .enumerate()
        .filter(|(_, other)| other.start < w.end && w.start < other.end)
        .collect();
    let span = |members: &[(usize, Window)]| {
        members.iter().fold(w, |m, (_, o)| Window {
            start: m.start.min(o.start),
            end: m.end.max(o.end),
        })
    };
    if let Some(max) = max_len {
        // Give up the earliest-starting sessions first.
        overlapping.sort_by_key(|(i, o)| (o.start, *i));
        let mut first = 0;
        while first < overlapping.len() {
            let merged = span(&overlapping[first..]);
            if merged.end.saturating_sub(merged.start) <= max {
                break;
            }
            first += 1;
        }
        overlapping.drain(..first);
        overlapping.sort_by_key(|(i, _)| *i);
    }
    let merged = span(&overlapping);
    (overlapping.into_iter().map(|(i, _)| i).collect(), merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: i64, end: i64) -> Window {
        Window { start, end }
    }

    #[test]
    fn a_bridging_element_merges_two_sessions() {
        let existing = [w(0, 10), w(15, 25), w(40, 50)];
        let (members, merged) = merge_with(existing, w(8, 18), None);
        assert_eq!(members, vec![0, 1]);
        assert_eq!(merged, w(0, 25));
    }

    #[test]
    fn touching_sessions_stay_apart() {
        let (members, merged) = merge_with([w(0, 10)], w(10, 20), None);
        assert!(members.is_empty());
        assert_eq!(merged, w(10, 20));
    }

    #[test]
    fn a_session_never_grows_past_its_maximum() {
        let (members, merged) = merge_with([w(0, 10)], w(5, 15), Some(12));
        assert!(members.is_empty());
        assert_eq!(merged, w(5, 15));
        let (members, _) = merge_with([w(0, 10)], w(5, 15), Some(15));
        assert_eq!(members, vec![0]);
    }

    #[test]
    fn with_a_maximum_an_element_joins_the_session_it_fits_in() {
        // Gap 20, max 30, elements in time order 0, 10, 23, 27: `[0, 30)` is full; 23
        // starts `[23, 43)`; 27 overlaps both but fits with the later one only.
        let (members, merged) = merge_with([w(0, 30), w(23, 43)], w(27, 47), Some(30));
        assert_eq!(members, vec![1]);
        assert_eq!(merged, w(23, 47));
        let (members, merged) = merge_with([w(23, 43), w(0, 30)], w(27, 47), Some(30));
        assert_eq!(members, vec![0]);
        assert_eq!(merged, w(23, 47));
    }
}
