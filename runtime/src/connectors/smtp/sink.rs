//! Sending each record as one e-mail, retrying failed deliveries with exponential backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use parking_lot::Mutex;
use weir_engine::event::Event;
use weir_engine::io::{BadRecord, IoError, SinkWriter};
use weir_engine::schema::Schema;

use super::config::{SmtpConfig, SmtpTls};
use crate::connectors::link_health::LinkHealth;
use crate::connectors::secret::{Scrubber, Secret};
use crate::format::json::JsonEncoder;

/// An SMTP sink, shared by the workers of a process (each message is sent on the calling
/// worker's thread, over a new connection: alert volumes need no pool).
pub struct SmtpSink {
    sink: String,
    config: SmtpConfig,
    /// `smtp://host:port`, for `error.location`.
    shown_server: String,
    /// Masks the login in failure reasons.
    scrubber: Scrubber,
    encoder: JsonEncoder,
    transport: SmtpTransport,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Records given up on, by the thread whose write gave up (see the webhook sink).
    undelivered: Mutex<HashMap<ThreadId, Vec<BadRecord>>>,
    /// Messages sent in the current `limit` period, and when it began.
    window: Mutex<(Instant, u64)>,
    /// Records not sent because of `limit`.
    throttled: AtomicU64,
    /// Retries, for `/metrics`.
    health: Arc<LinkHealth>,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    reason: String,
    retry: bool,
}

impl SmtpSink {
    /// Opens sink `sink` taking records of `schema`: resolves the templates and reads the
    /// login from the environment.
    pub fn open(sink: &str, config: &SmtpConfig, schema: &Schema) -> Result<SmtpSink, IoError> {
        let mut config = config.clone();
        if let Some(name) = config.resolve(schema).first() {
            return Err(IoError::Config(format!(
                "sink `{sink}`: the smtp templates name `{name}`, which the records do not have"
            )));
        }
        let mut scrubber = Scrubber::default();
        let mut builder = SmtpTransport::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(Duration::from_millis(config.timeout_ms)));
        if let (Some(user_var), Some(pass_var)) = (&config.username_env, &config.password_env) {
            let user = env_secret(user_var, "username_env")?;
            let pass = env_secret(pass_var, "password_env")?;
            scrubber.add(pass.expose());
            builder = builder.credentials(Credentials::new(
                user.expose().to_string(),
                pass.expose().to_string(),
            ));
        }
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(&config)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(&config)?),
        };
        Ok(SmtpSink {
            sink: sink.to_string(),
            shown_server: config.shown_server(),
            transport: builder.tls(tls).build(),
            config,
            scrubber,
            encoder: JsonEncoder::new(schema),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            undelivered: Mutex::new(HashMap::new()),
            window: Mutex::new((Instant::now(), 0)),
            throttled: AtomicU64::new(0),
            health: crate::connectors::link_health::register("smtp", "sink", sink),
        })
    }

    /// Messages the server accepted.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Records not delivered after every retry.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// Takes one message from the rate limit; false when the period's budget is spent.
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

    fn json(&self, event: &Event) -> String {
        let mut raw = Vec::with_capacity(128);
        // Writing into a Vec cannot fail.
        let _ = self.encoder.encode(&event.record, &mut raw);
        while raw.last() == Some(&b'\n') {
            raw.pop();
        }
        String::from_utf8_lossy(&raw).into_owned()
    }

    fn message(&self, event: &Event) -> Result<Message, String> {
        // A subject is one header line: a value's line breaks become spaces.
        let subject = self
            .config
            .subject
            .render(&event.record)
            .replace(['\r', '\n'], " ");
        let body = match &self.config.body {
            Some(t) => t.render(&event.record),
            None => self.json(event),
        };
        let mut builder = Message::builder()
            .from(self.config.from.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for to in &self.config.to {
            builder = builder.to(to.clone());
        }
        builder
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))
    }

    fn attempt(&self, message: &Message) -> Result<(), Failure> {
        match self.transport.send(message) {
            Ok(_) => Ok(()),
            Err(e) => Err(Failure {
                retry: !e.is_permanent(),
                reason: e.to_string(),
            }),
        }
    }

    /// Sends one message, retrying; the error is the last attempt's reason.
    fn send(&self, message: &Message) -> Result<(), (String, u32)> {
        let mut wait = Duration::from_millis(self.config.backoff_ms);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(message) {
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

    fn over_limit(&self) -> (String, u32) {
        self.throttled.fetch_add(1, Ordering::SeqCst);
        let limit = self.config.limit.map_or((0, 0), |l| (l.requests, l.per_ms));
        (
            format!(
                "over the rate limit of {} per {}: not sent",
                limit.0,
                weir_engine::time::format_duration(limit.1 as i64)
            ),
            0,
        )
    }
}

impl SinkWriter for SmtpSink {
    /// Records not sent because they were over `limit`.
    fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        for event in events {
            let sent = match self.message(event) {
                Err(reason) => Err((reason, 0)),
                Ok(_) if !self.admit() => Err(self.over_limit()),
                Ok(message) => self.send(&message),
            };
            let Err((reason, attempts)) = sent else {
                self.delivered.fetch_add(1, Ordering::SeqCst);
                continue;
            };
            self.failed.fetch_add(1, Ordering::SeqCst);
            let reason = self.scrubber.scrub(&reason);
            let reason = match attempts {
                0 => reason,
                1 => format!("{reason} (after 1 attempt)"),
                n => format!("{reason} (after {n} attempts)"),
            };
            let record = BadRecord {
                source: self.sink.clone(),
                location: self.shown_server.clone(),
                field: None,
                reason,
                raw: self.json(event),
            };
            self.undelivered
                .lock()
                .entry(std::thread::current().id())
                .or_default()
                .push(record);
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }

    fn take_undelivered(&self) -> Vec<BadRecord> {
        self.undelivered
            .lock()
            .remove(&std::thread::current().id())
            .unwrap_or_default()
    }
}

fn env_secret(variable: &str, option: &str) -> Result<Secret, IoError> {
    std::env::var(variable).map(Secret::new).map_err(|_| {
        IoError::Config(format!(
            "`smtp`: the environment variable `{variable}` ({option}) is not set"
        ))
    })
}

/// TLS checked against the system's roots and the `ca_file` ones, over rustls with ring.
fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters, IoError> {
    let host = &config.host;
    let mut builder = TlsParameters::builder(host.clone());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| IoError::Config(format!("`smtp`: cannot read ca_file `{path}`: {e}")))?;
        let ca = Certificate::from_pem(&pem).map_err(|e| {
            IoError::Config(format!(
                "`smtp`: ca_file `{path}` holds no PEM certificate: {e}"
            ))
        })?;
        builder = builder.add_root_certificate(ca);
    }
    builder
        .build_rustls()
        .map_err(|e| IoError::Config(format!("`smtp`: cannot set up TLS for `{host}`: {e}")))
}
