//! POSTing records as JSON, retrying failed requests with exponential backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ureq::Agent;
use weir_engine::checkpoint::Epoch;
use weir_engine::event::Event;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::{BodyEscape, WebhookConfig};
use crate::connectors::idempotency::IdempotencyKeys;
use crate::connectors::link_health::LinkHealth;
use crate::connectors::secret::{redact_url, Scrubber, Secret};
use crate::format::json::JsonEncoder;

/// How much of an error answer's body is quoted.
const BODY_QUOTE: usize = 200;

/// A webhook sink, shared by the workers of a process (requests run on the calling
/// worker's thread, so a slow endpoint slows the pipeline rather than queueing memory).
pub struct WebhookSink {
    sink: String,
    config: WebhookConfig,
    /// Every header sent: the written ones and those read from the environment.
    headers: Vec<(String, Secret)>,
    /// The url as reports show it (`error.location`, warnings), credentials masked.
    shown_url: String,
    /// Masks the url's credentials and the header values in failure reasons.
    scrubber: Scrubber,
    encoder: JsonEncoder,
    agent: Agent,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Records given up on, by the thread whose write gave up, until that thread's sink
    /// operator takes them (so each goes to the route of the pipeline that wrote it).
    undelivered: Mutex<HashMap<ThreadId, Vec<BadRecord>>>,
    /// `Authorization: Bearer …` from `bearer_env`; never printed.
    bearer: Option<Secret>,
    /// Requests sent in the current `limit` period, and when it began.
    window: Mutex<(Instant, u64)>,
    /// Records not sent because of `limit`.
    throttled: AtomicU64,
    /// Retries, for `/metrics`.
    health: Arc<LinkHealth>,
    /// The `Idempotency-Key` header of each request, stable across a replay.
    keys: IdempotencyKeys,
}

/// The header that carries a request's idempotency key (the IETF draft's name, as
/// Stripe and others use it).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    reason: String,
    retry: bool,
}

impl WebhookSink {
    /// Opens sink `sink` taking records of `schema`: resolves the body template against
    /// `schema`, reads the `headers_env` variables, the `bearer_env` token and the `ca_file`.
    pub fn open(
        sink: &str,
        config: &WebhookConfig,
        schema: &Schema,
    ) -> Result<WebhookSink, IoError> {
        let mut config = config.clone();
        if let Some(name) = config.resolve_body(schema).first() {
            return Err(IoError::Config(format!(
                "sink `{sink}`: the body template names `{name}`, which the records do not have"
            )));
        }
        let bearer = match &config.bearer_env {
            Some(var) => Some(Secret::new(std::env::var(var).map_err(|_| {
                IoError::Config(format!(
                    "`webhook`: the environment variable `{var}` (bearer_env) is not set"
                ))
            })?)),
            None => None,
        };
        let mut headers = config.headers.clone();
        for (name, variable) in &config.headers_env {
            let value = std::env::var(variable).map_err(|_| {
                IoError::Config(format!(
                    "`webhook`: environment variable `{variable}` (for header `{name}`) is not set"
                ))
            })?;
            headers.push((name.clone(), Secret::new(value)));
        }
        let mut scrubber = Scrubber::for_url(&config.url);
        for (_, value) in &headers {
            scrubber.add(value.expose());
        }
        if let Some(token) = &bearer {
            scrubber.add(token.expose());
        }
        let mut builder = Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(config.timeout_ms)))
            .http_status_as_error(false)
            // A redirected POST would silently become a GET: report it instead.
            .max_redirects(0);
        if let Some(path) = &config.ca_file {
            builder = builder.tls_config(trusting(path)?);
        }
        let agent: Agent = builder.build().into();
        Ok(WebhookSink {
            sink: sink.to_string(),
            config: config.clone(),
            headers,
            shown_url: redact_url(&config.url),
            scrubber,
            encoder: JsonEncoder::new(schema),
            agent,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            undelivered: Mutex::new(HashMap::new()),
            health: crate::connectors::link_health::register("webhook", "sink", sink),
            bearer,
            window: Mutex::new((Instant::now(), 0)),
            throttled: AtomicU64::new(0),
            keys: IdempotencyKeys::new(sink),
        })
    }

    /// Takes one request from the rate limit; false when the period's budget is spent.
    fn admit(&self) -> bool {
        let Some(limit) = self.config.limit else {
            return true;
        };
        let mut window = self.window.lock();
        if window.0.elapsed() >= Duration::from_millis(limit.per_ms) {
            *window = (Instant::now(), 0);
        }
        if window.1 < limit.requests {
            window.1 += 1;
            true
        } else {
            false
        }
    }

    /// Records the endpoint accepted.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Records not delivered after every retry.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    fn body(&self, events: &[Event]) -> Vec<u8> {
        if let (Some(template), [event]) = (&self.config.body, events) {
            let escape = BodyEscape::for_content_type(&self.config.content_type);
            let mut text = String::new();
            template.render_into(&event.record, &mut text, |v, out| escape.push(v, out));
            return text.into_bytes();
        }
        let mut body = Vec::with_capacity(events.len() * 128 + 2);
        let batched = self.config.batch > 1;
        if batched {
            body.push(b'[');
        }
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            // Writing into a Vec cannot fail.
            let _ = self.encoder.encode(&event.record, &mut body);
            if body.last() == Some(&b'\n') {
                body.pop();
            }
        }
        if batched {
            body.push(b']');
        }
        body
    }

    fn attempt(&self, body: &[u8], key: &str) -> Result<(), Failure> {
        let mut request = self
            .agent
            .post(&self.config.url)
            .content_type(&self.config.content_type)
            .header(IDEMPOTENCY_HEADER, key);
        for (name, value) in &self.headers {
            request = request.header(name, value.expose());
        }
        if let Some(token) = &self.bearer {
            request = request.header("Authorization", &format!("Bearer {}", token.expose()));
        }
        match request.send(body) {
            Ok(mut response) => {
                let status = response.status();
                if status.is_success() {
                    return Ok(());
                }
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string()
                    .unwrap_or_default();
                let mut quote: String = text.trim().chars().take(BODY_QUOTE).collect();
                if !quote.is_empty() {
                    quote = format!(": {quote}");
                }
                let code = status.as_u16();
                Err(Failure {
                    reason: format!("HTTP {status}{quote}"),
                    retry: code == 408 || code == 429 || status.is_server_error(),
                })
            }
            Err(ureq::Error::Timeout(_)) => Err(Failure {
                reason: format!(
                    "no answer within {} (timeout)",
                    weir_engine::time::format_duration(self.config.timeout_ms as i64)
                ),
                retry: true,
            }),
            Err(e) => Err(Failure {
                reason: e.to_string(),
                retry: true,
            }),
        }
    }

    /// Sends one request, retrying; the error is the last attempt's reason.
    fn send(&self, body: &[u8]) -> Result<(), (String, u32)> {
        let mut wait = Duration::from_millis(self.config.backoff_ms);
        let mut attempts = 0;
        // Every retry carries the same key.
        let key = self.keys.key(body);
        loop {
            attempts += 1;
            match self.attempt(body, &key) {
                Ok(()) => return Ok(()),
                Err(f) if f.retry && attempts <= self.config.retries => {
                    self.health.retried();
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err(f) => return Err((f.reason, attempts)),
            }
        }
    }
}

impl SinkWriter for WebhookSink {
    /// Records not sent because they were over `limit`.
    fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        for chunk in events.chunks(self.config.batch) {
            let sent = if self.admit() {
                self.send(&self.body(chunk))
            } else {
                self.throttled
                    .fetch_add(chunk.len() as u64, Ordering::SeqCst);
                let limit = self.config.limit.unwrap_or(super::config::RateLimit {
                    requests: 0,
                    per_ms: 0,
                });
                Err((
                    format!(
                        "over the rate limit of {} per {}: not sent",
                        limit.requests,
                        weir_engine::time::format_duration(limit.per_ms as i64)
                    ),
                    0,
                ))
            };
            match sent {
                Ok(()) => {
                    self.delivered
                        .fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
                Err((reason, attempts)) => {
                    // Handed back one record each, so the error route gets every record
                    // whole whatever the batch size.
                    self.failed.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                    let reason = self.scrubber.scrub(&reason);
                    let reason = match attempts {
                        0 => reason,
                        1 => format!("{reason} (after 1 attempt)"),
                        n => format!("{reason} (after {n} attempts)"),
                    };
                    let mut undelivered = self.undelivered.lock();
                    let back = undelivered.entry(std::thread::current().id()).or_default();
                    for event in chunk {
                        let mut raw = Vec::with_capacity(128);
                        let _ = self.encoder.encode(&event.record, &mut raw);
                        while raw.last() == Some(&b'\n') {
                            raw.pop();
                        }
                        back.push(BadRecord {
                            source: self.sink.clone(),
                            location: self.shown_url.clone(),
                            field: None,
                            reason: reason.clone(),
                            raw: String::from_utf8_lossy(&raw).into_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }

    /// Requests are sent as records come (at least once under checkpoints); the cut
    /// restarts the keys' counting, as the replay from it will.
    fn prepare_commit(&self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        self.keys.checkpoint();
        Ok(None)
    }

    fn restore(&self, _state: Option<&[u8]>) -> Result<(), IoError> {
        self.keys.checkpoint();
        Ok(())
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.undelivered
            .lock()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }
}

/// TLS trusting only the certificate authorities in the PEM file at `path`.
fn trusting(path: &str) -> Result<ureq::tls::TlsConfig, IoError> {
    let pem = std::fs::read(path)
        .map_err(|e| IoError::Config(format!("`webhook`: cannot read ca_file `{path}`: {e}")))?;
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(IoError::Config(format!(
            "`webhook`: ca_file `{path}` holds no PEM certificate"
        )));
    }
    Ok(ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
        .build())
}
