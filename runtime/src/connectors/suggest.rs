//! "Did you mean …?": the closest known name to a misspelt one.

/// The name among `known` closest to `typed`, if it is close enough to be a likely typo
/// (edit distance at most one third of the longer name, and at least 1).
pub(crate) fn did_you_mean<'a>(
    typed: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed_lower = typed.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (edit_distance(&typed_lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= (typed.chars().count().max(k.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent characters each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        let known = ["devices", "rate", "events", "duration", "seed", "jitter"];
        assert_eq!(did_you_mean("device", known), Some("devices"));
        assert_eq!(did_you_mean("rtae", known), Some("rate"));
        assert_eq!(did_you_mean("Seed", known), Some("seed"));
        assert_eq!(did_you_mean("colour", known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
