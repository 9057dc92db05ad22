//! The hostfile: one `host:port` per line, the address process `i` listens on at line `i`.
//!
//! Blank lines and lines starting with `#` are skipped; with `--processes P` the first P
//! addresses are used (as timely does). Without a hostfile, process `i` listens on
//! `localhost:{2101 + i}`, timely's own default.

use std::path::Path;

/// A hostfile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HostfileError {
    /// The file could not be read.
    #[error("cannot read hostfile `{path}`: {source}")]
    Read {
        /// The hostfile.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `host:port`.
    #[error(
        "hostfile `{path}` line {line}: `{text}` is not host:port (write e.g. `10.0.0.5:2101`)"
    )]
    BadLine {
        /// The hostfile.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// Fewer addresses than processes.
    #[error(
        "hostfile `{path}` lists {found} address(es) but --processes is {wanted}; \
         write one host:port line per process"
    )]
    TooFew {
        /// The hostfile.
        path: String,
        /// Addresses found.
        found: usize,
        /// Processes asked for.
        wanted: usize,
    },
}

/// Reads the first `processes` addresses of the hostfile at `path`.
pub fn read(path: &Path, processes: usize) -> Result<Vec<String>, HostfileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| HostfileError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown, processes)
}

/// Parses hostfile `text` (named `path` in errors).
pub fn parse(text: &str, path: &str, processes: usize) -> Result<Vec<String>, HostfileError> {
    let mut addresses = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let port_ok = entry
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok || entry.contains(char::is_whitespace) {
            return Err(HostfileError::BadLine {
                path: path.to_string(),
                line: i + 1,
                text: entry.to_string(),
            });
        }
        addresses.push(entry.to_string());
        if addresses.len() == processes {
            return Ok(addresses);
        }
    }
    Err(HostfileError::TooFew {
        path: path.to_string(),
        found: addresses.len(),
        wanted: processes,
    })
}

/// timely's default addresses: `localhost:2101`, `localhost:2102`, …
pub fn default_addresses(processes: usize) -> Vec<String> {
    (0..processes)
        .map(|i| format!("localhost:{}", 2101 + i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_skipping_comments_and_blanks() {
        let text = "# cluster\n10.0.0.1:2101\n\n  host-b:2101  \nhost-c:9\n";
        assert_eq!(
            parse(text, "hosts", 2).unwrap(),
            vec!["10.0.0.1:2101", "host-b:2101"]
        );
        assert_eq!(parse(text, "hosts", 3).unwrap().len(), 3);
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse("a:1\nhost-b\n", "hosts", 2).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("`host-b`"), "{err}");
        let err = parse("a:1\nb:99999\n", "hosts", 2).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn too_few_addresses_say_how_many() {
        let err = parse("a:1\n", "hosts", 3).unwrap_err().to_string();
        assert!(
            err.contains("1 address(es)") && err.contains("is 3"),
            "{err}"
        );
    }
}
