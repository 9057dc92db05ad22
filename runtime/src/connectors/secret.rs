//! Secrets in connector options — passwords, header values, URL credentials and token
//! query values — and how they are shown (`***`) wherever an option may be printed:
//! `weir explain`, `weir check`, warnings and routed records' `error.location`. What is
//! secret is decided here and nowhere else.

use std::fmt;

use weir_engine::plan::{ConnectorCall, LogicalPlan, OptionValue};

/// What a secret is shown as.
pub const MASK: &str = "***";

/// Options whose whole value is a secret.
const SECRET_OPTIONS: [&str; 1] = ["password"];

/// Options holding `"Name: value"` headers; every value is shown masked (a header that
/// carries no secret loses nothing by it, one that does is never printed).
const HEADER_OPTIONS: [&str; 1] = ["headers"];

/// Words that make a query parameter a credential (`?token=…`, `?api_key=…`, `?sig=…`).
const SECRET_QUERY_WORDS: [&str; 7] = ["token", "key", "secret", "pass", "sig", "auth", "code"];

/// A value that must not be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, to send where it belongs (a request header, a broker login).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// The parts of a URL that are credentials: the userinfo's password (or the whole
/// userinfo when it has no `:`, as in `https://TOKEN@host`), and the values of query
/// parameters named like credentials. Each as a byte range of `url`.
fn url_secrets(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    if let Some(at) = url[start..authority_end].rfind('@') {
        let userinfo = start..start + at;
        match url[userinfo.clone()].find(':') {
            Some(colon) => out.push(userinfo.start + colon + 1..userinfo.end),
            None => out.push(userinfo),
        }
    }
    if let Some(q) = url[authority_end..].find('?') {
        let query_start = authority_end + q + 1;
        let query_end = url[query_start..]
            .find('#')
            .map_or(url.len(), |i| query_start + i);
        let mut at = query_start;
        for pair in url[query_start..query_end].split('&') {
            if let Some((key, _)) = pair.split_once('=') {
                let key = key.to_ascii_lowercase();
                if SECRET_QUERY_WORDS.iter().any(|w| key.contains(w)) {
                    out.push(at + key.len() + 1..at + pair.len());
                }
            }
            at += pair.len() + 1;
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// `url` with its credentials replaced by `***`:
/// `https://bot:***@host/hook?token=***&site=a`.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut from = 0;
    for range in url_secrets(url) {
        out.push_str(&url[from..range.start]);
        out.push_str(MASK);
        from = range.end;
    }
    out.push_str(&url[from..]);
    out
}

/// `"Name: value"` shown as `"Name: ***"`.
pub fn redact_header(header: &str) -> String {
    match header.split_once(':') {
        Some((name, _)) => format!("{name}: {MASK}"),
        None => MASK.to_string(),
    }
}

fn redact_value(option: Option<&str>, value: &OptionValue) -> OptionValue {
    match (option, value) {
        (Some(name), _) if SECRET_OPTIONS.contains(&name) => OptionValue::Str(MASK.into()),
        (Some(name), OptionValue::Str(h)) if HEADER_OPTIONS.contains(&name) => {
            OptionValue::Str(redact_header(h))
        }
        (Some(name), OptionValue::List(items)) if HEADER_OPTIONS.contains(&name) => {
            OptionValue::List(items.iter().map(|v| redact_value(Some(name), v)).collect())
        }
        (_, OptionValue::Str(s)) if s.contains("://") => OptionValue::Str(redact_url(s)),
        (_, OptionValue::List(items)) => {
            OptionValue::List(items.iter().map(|v| redact_value(None, v)).collect())
        }
        _ => value.clone(),
    }
}

/// `call` as it may be shown: secret options masked, URLs without their credentials.
pub fn redact_call(call: &ConnectorCall) -> ConnectorCall {
    ConnectorCall {
        kind: call.kind.clone(),
        args: call.args.iter().map(|v| redact_value(None, v)).collect(),
        options: call
            .options
            .iter()
            .map(|(name, v)| (name.clone(), redact_value(Some(name), v)))
            .collect(),
    }
}

/// `plan` as `weir explain` shows it: every connector call redacted.
pub fn redact_plan(plan: &LogicalPlan) -> LogicalPlan {
    let mut shown = plan.clone();
    for s in &mut shown.sources {
        s.connector = redact_call(&s.connector);
    }
    for s in &mut shown.sinks {
        s.connector = redact_call(&s.connector);
    }
    for t in &mut shown.tables {
        t.connector = redact_call(&t.connector);
    }
    shown
}

/// `text`, a pipeline file, with the credentials of every URL in it and the value of every
/// `password: "…"` overwritten by `*`, byte for byte, so diagnostics that quote a line
/// show no secret and their spans still fit.
pub fn mask_source(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut mask = |range: std::ops::Range<usize>| bytes[range].fill(b'*');
    let token_end = |from: usize| {
        text[from..]
            .find(|c: char| c == '"' || c.is_whitespace())
            .map_or(text.len(), |i| from + i)
    };
    for (at, _) in text.match_indices("://") {
        let start = text[..at]
            .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '.' && c != '-')
            .map_or(0, |i| i + 1);
        let end = token_end(at);
        for r in url_secrets(&text[start..end]) {
            mask(start + r.start..start + r.end);
        }
    }
    for name in SECRET_OPTIONS {
        for (at, _) in text.match_indices(name) {
            let rest = &text[at + name.len()..];
            let Some(after_colon) = rest.trim_start().strip_prefix(':') else {
                continue;
            };
            let Some(value) = after_colon.trim_start().strip_prefix('"') else {
                continue;
            };
            let start = text.len() - value.len();
            let end = value.find('"').map_or(text.len(), |i| start + i);
            mask(start..end);
        }
    }
    // Ranges start and end at ASCII delimiters, so whole characters became `*`s and the
    // text is still UTF-8; the lossy form is only a fallback.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The secrets a connector knows, to mask them in free text it did not write itself (an
/// HTTP client's error, an endpoint's answer quoting the request).
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    secrets: Vec<Secret>,
}

impl Scrubber {
    /// Knows the credentials in `url`.
    pub fn for_url(url: &str) -> Scrubber {
        let mut scrubber = Scrubber::default();
        for range in url_secrets(url) {
            scrubber.add(&url[range]);
        }
        scrubber
    }

    /// Also masks `secret` (ignored when empty).
    pub fn add(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.secrets.push(Secret::new(secret));
            // Longest first, so a secret containing another is masked whole.
            self.secrets
                .sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.expose(), MASK))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_keep_the_rest() {
        assert_eq!(
            redact_url("https://bot:s3cret@hooks.example.com:8443/x?token=abc&site=a#f"),
            "https://bot:***@hooks.example.com:8443/x?token=***&site=a#f"
        );
        assert_eq!(redact_url("https://TOKEN@host/x"), "https://***@host/x");
        assert_eq!(
            redact_url("http://h/x?api_key=k1&Sig=zz&n=1"),
            "http://h/x?api_key=***&Sig=***&n=1"
        );
        assert_eq!(
            redact_url("mqtt://user:pw@broker:1883"),
            "mqtt://user:***@broker:1883"
        );
        // An `@` after the authority is no userinfo.
        assert_eq!(redact_url("http://h/a@b?x=1"), "http://h/a@b?x=1");
        assert_eq!(redact_url("http://h/x?token="), "http://h/x?token=");
    }

    #[test]
    fn calls_mask_passwords_headers_and_url_credentials() {
        let call = ConnectorCall {
            kind: "webhook".into(),
            args: vec![OptionValue::Str("https://u:p@h/x?token=t".into())],
            options: vec![
                (
                    "headers".into(),
                    OptionValue::List(vec![OptionValue::Str("Authorization: Bearer t0k".into())]),
                ),
                ("password".into(), OptionValue::Str("pw".into())),
                ("retries".into(), OptionValue::Int(3)),
            ],
        };
        let shown = redact_call(&call);
        assert_eq!(
            shown.args,
            [OptionValue::Str("https://u:***@h/x?token=***".into())]
        );
        assert_eq!(
            shown.options,
            [
                (
                    "headers".to_string(),
                    OptionValue::List(vec![OptionValue::Str("Authorization: ***".into())])
                ),
                ("password".to_string(), OptionValue::Str(MASK.into())),
                ("retries".to_string(), OptionValue::Int(3)),
            ]
        );
    }

    #[test]
    fn source_text_is_masked_byte_for_byte() {
        let text = "source s = mqtt(\"mqtt://user:pw9@localhost:1883\", password : \"hunter2\") {}\nsink w = webhook(\"https://h/x?token=abc&n=1\")";
        let masked = mask_source(text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(
            masked,
            "source s = mqtt(\"mqtt://user:***@localhost:1883\", password : \"*******\") {}\nsink w = webhook(\"https://h/x?token=***&n=1\")"
        );
    }

    #[test]
    fn the_scrubber_masks_known_secrets_in_free_text() {
        let mut s = Scrubber::for_url("https://u:pw123@h/x?token=tok9");
        s.add("Bearer t0k");
        s.add("");
        assert_eq!(
            s.scrub("POST https://u:pw123@h/x?token=tok9 sent Bearer t0k"),
            "POST https://u:***@h/x?token=*** sent ***"
        );
        assert_eq!(
            format!("{:?} {}", Secret::new("x"), Secret::new("x")),
            "*** ***"
        );
    }
}
