//! "Did you mean": the closest known name by edit distance.

/// Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let cost = usize::from(ca != cb);
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + cost);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The candidate closest to `word`, if it is a plausible typo: within a third of the
/// word's length in edits (at least 1), or else one name a prefix of the other (at least
/// 3 characters, so `temprature` suggests `temp`).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let lower = word.to_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().filter(|c| *c != word).collect();
    let close = candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    close.or_else(|| {
        candidates
            .iter()
            .filter(|c| {
                let c = c.to_lowercase();
                let shorter = c.len().min(lower.len());
                shorter >= 3 && (lower.starts_with(&c) || c.starts_with(&lower))
            })
            .max_by_key(|c| c.len())
            .copied()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("temp", "temp"), 0);
        assert_eq!(edit_distance("temprature", "temperature"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let names = ["device_id", "temp", "ts", "temperature"];
        assert_eq!(did_you_mean("temprature", names), Some("temperature"));
        assert_eq!(did_you_mean("tmp", names), Some("temp"));
        assert_eq!(did_you_mean("pressure", names), None);
        assert_eq!(did_you_mean("Temp", names), Some("temp"));
        assert_eq!(
            did_you_mean("temprature", ["device_id", "temp", "ts"]),
            Some("temp")
        );
        assert_eq!(did_you_mean("xyz", ["a"]), None);
    }
}
