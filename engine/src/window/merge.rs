//! Session merging: a new element's proto-session joins every session it overlaps.

use super::assign::Window;

/// Which of `windows` the proto-window `w` merges with, and the merged window.
///
/// Windows merge when they intersect (Beam's `MergeOverlappingIntervalWindows`); touching
/// windows (`[0, 10)` and `[10, 20)`) stay apart. With `max_len`, a merge that would make
/// a session longer than that does not happen: `w` starts a session of its own.
pub fn merge_with(
    windows: impl IntoIterator<Item = Window>,
    w: Window,
    max_len: Option<i64>,
) -> (Vec<usize>, Window) {
    let mut merged = w;
    let mut members = Vec::new();
    for (i, other) in windows.into_iter().enumerate() {
        if other.start < w.end && w.start < other.end {
            members.push(i);
            merged.start = merged.start.min(other.start);
            merged.end = merged.end.max(other.end);
        }
    }
    if let Some(max) = max_len {
        if merged.end.saturating_sub(merged.start) > max {
            return (Vec::new(), w);
        }
    }
    (members, merged)
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
}
