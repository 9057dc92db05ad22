//! The raw input an error report keeps of a bad record: at most [`RAW_LIMIT`] bytes, so one
//! absurd line cannot fill the error route (or memory) with copies of itself.

/// Bytes of a bad record's input kept in `error.raw`, by file and MQTT sources alike.
pub(crate) const RAW_LIMIT: usize = 4096;

/// `bytes` as text (invalid UTF-8 replaced), cut at a character boundary to at most
/// [`RAW_LIMIT`] bytes with `…` appended when cut.
pub(crate) fn raw_excerpt(bytes: &[u8]) -> String {
    if bytes.len() <= RAW_LIMIT {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut raw = String::from_utf8_lossy(&bytes[..RAW_LIMIT]).into_owned();
    // A character cut in two decodes as U+FFFD at the end; drop it.
    if bytes.get(RAW_LIMIT).is_some_and(|b| b & 0xC0 == 0x80) {
        raw.pop();
    }
    raw.push('…');
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_at_a_character_boundary() {
        assert_eq!(raw_excerpt(b"short"), "short");
        let long = "é".repeat(RAW_LIMIT);
        let raw = raw_excerpt(long.as_bytes());
        assert!(raw.ends_with('…'));
        assert!(raw.len() <= RAW_LIMIT + '…'.len_utf8());
        assert!(!raw.contains('\u{fffd}'), "no half character");
        assert_eq!(raw.chars().filter(|&c| c == 'é').count(), RAW_LIMIT / 2);
    }
}
