//! One MQTT client connection, kept alive on its own thread: connects, reconnects with
//! exponential backoff after a failure that may heal (logging each one on stderr), gives
//! up for good on one that will not (a wrong password, an untrusted certificate), and
//! hands every event to the source or sink that owns it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rumqttc::{
    Client, Event, MqttOptions, Outgoing, Packet, RecvTimeoutError, TlsConfiguration, Transport,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use weir_engine::io::IoError;

use super::config::{MqttConfig, Password, TlsFiles};
use super::failure::{classify, Failure};
use crate::connectors::link_health::LinkHealth;

/// The first wait before reconnecting; it doubles after each failure up to `backoff_max`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How long the network thread waits for an event before checking for a stop.
const TICK: Duration = Duration::from_millis(100);

/// The options of a connection for `config` with client id `client_id`.
pub(super) fn mqtt_options(config: &MqttConfig, client_id: &str) -> Result<MqttOptions, IoError> {
    let mut options = MqttOptions::new(client_id, config.url.host.clone(), config.url.port);
    options.set_keep_alive(Duration::from_millis(config.keep_alive_ms.max(5_000) as u64));
    options.set_clean_session(config.clean_session);
    // Payloads up to 1 MiB in and out.
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let Some(user) = &config.username {
        let password = match &config.password {
            None => String::new(),
            Some(Password::Given(p)) => p.expose().to_string(),
            Some(Password::Env(var)) => std::env::var(var).map_err(|_| {
                IoError::Config(format!(
                    "`mqtt`: the environment variable `{var}` (password_env) is not set"
                ))
            })?,
        };
        options.set_credentials(user.clone(), password);
    }
    if let Some(tls) = &config.tls {
        options.set_transport(Transport::tls_with_config(tls_config(tls)?));
    }
    Ok(options)
}

fn tls_config(tls: &TlsFiles) -> Result<TlsConfiguration, IoError> {
    let mut roots = RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            let certs = read_certs(path, "ca_file")?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(IoError::Config(format!(
                    "`mqtt`: ca_file `{path}` holds no usable certificate"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(IoError::Config(
                    "`mqtt`: no system root certificates found for TLS; give `ca_file`".into(),
                ));
            }
        }
    }
    let builder = ClientConfig::builder().with_root_certificates(roots);
    let config = match &tls.client_auth {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = read_certs(cert, "client_cert")?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                IoError::Config(format!("`mqtt`: cannot read client_key `{key}`: {e}"))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| IoError::Config(format!("`mqtt`: client certificate: {e}")))?
        }
    };
    Ok(TlsConfiguration::Rustls(Arc::new(config)))
}

fn read_certs(path: &str, option: &str) -> Result<Vec<CertificateDer<'static>>, IoError> {
    let fail = |e: rustls::pki_types::pem::Error| {
        IoError::Config(format!("`mqtt`: cannot read {option} `{path}`: {e}"))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    if certs.is_empty() {
        return Err(IoError::Config(format!(
            "`mqtt`: {option} `{path}` holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// What the connection thread and its owner tell each other.
#[derive(Default)]
pub(super) struct Signals {
    /// Set by the owner: give up any blocking hand-over and end the thread.
    pub stop: AtomicBool,
    /// Set once a failure that retrying cannot heal ended the connection.
    fatal: Mutex<Option<String>>,
    /// Whether the connection is up (a close waits longer for a broker that is there).
    connected: AtomicBool,
}

impl Signals {
    /// Ends the connection for good with `message` (the owner's run then fails with it).
    pub fn give_up(&self, message: String) {
        self.fatal.lock().get_or_insert(message);
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A client and the thread that drives its connection; dropping it disconnects.
pub(super) struct Connection {
    /// Sends requests (publish, subscribe) to the connection.
    pub client: Client,
    signals: Arc<Signals>,
    /// Set when we disconnect on purpose, so the broker closing the socket is no news.
    closing: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Names the owner in log lines.
    label: String,
}

impl Connection {
    /// Starts connecting with `options`; `label` names the owner in log lines
    /// (`mqtt source \`telemetry\``), `tls` the files a TLS failure should point at;
    /// `on_event` sees every event, on the network thread, and is told (by the stop flag)
    /// when to give up a blocking hand-over.
    pub(super) fn start(
        label: String,
        options: MqttOptions,
        tls: Option<TlsFiles>,
        backoff_max: Duration,
        capacity: usize,
        health: Arc<LinkHealth>,
        mut on_event: impl FnMut(&Client, Event, &Signals) + Send + 'static,
    ) -> Result<Connection, IoError> {
        let (host, port) = options.broker_address();
        let (client, mut connection) = Client::new(options, capacity);
        let signals = Arc::new(Signals::default());
        let thread_signals = Arc::clone(&signals);
        let thread_stop = Arc::clone(&signals);
        let closing = Arc::new(AtomicBool::new(false));
        let thread_closing = Arc::clone(&closing);
        let thread_client = client.clone();
        let owner = label.clone();
        let thread = std::thread::Builder::new()
            .name(format!("weir-mqtt-{label}"))
            .spawn(move || {
                let mut backoff = FIRST_BACKOFF;
                let mut failures = 0u32;
                let mut connected_once = false;
                let mut connected = false;
                let mut disconnect_sent: Option<Instant> = None;
                while !thread_stop.stop.load(Ordering::Relaxed) {
                    if disconnect_sent.is_some_and(|at| at.elapsed() >= LINGER) {
                        break;
                    }
                    match connection.recv_timeout(TICK) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => break,
                        // Closing the socket with unread messages in its receive buffer
                        // resets the connection, and the reset can discard the acks still
                        // in the send buffer: the broker then sends those processed
                        // messages again. So read (and drop) until the broker, which
                        // closes the connection on DISCONNECT, has closed it.
                        Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => {
                            disconnect_sent = Some(Instant::now());
                        }
                        Ok(Err(_)) if thread_closing.load(Ordering::Relaxed) => break,
                        Ok(Ok(event)) => {
                            if let Event::Incoming(Packet::ConnAck(_)) = &event {
                                if failures > 0 {
                                    eprintln!(
                                        "weir: {label}: connected to broker {host}:{port} after {failures} failed attempt{}",
                                        if failures == 1 { "" } else { "s" }
                                    );
                                }
                                failures = 0;
                                backoff = FIRST_BACKOFF;
                                if !connected {
                                    health.connected(connected_once);
                                }
                                thread_signals.connected.store(true, Ordering::Relaxed);
                                connected_once = true;
                                connected = true;
                            }
                            on_event(&thread_client, event, &thread_signals);
                        }
                        Ok(Err(e)) => {
                            if let Failure::Permanent(why) = classify(&e, tls.as_ref()) {
                                // The owner fails the run with this (one message, not two).
                                thread_signals.give_up(format!("broker {host}:{port}: {why}"));
                                break;
                            }
                            failures += 1;
                            let what = if connected {
                                "lost the connection to"
                            } else if connected_once {
                                "cannot reconnect to"
                            } else {
                                "cannot connect to"
                            };
                            if connected {
                                health.disconnected();
                            }
                            connected = false;
                            thread_signals.connected.store(false, Ordering::Relaxed);
                            eprintln!(
                                "weir: {label}: {what} broker {host}:{port} ({e}); retrying in {}",
                                show(backoff)
                            );
                            sleep_unless(&thread_stop.stop, backoff);
                            backoff = (backoff * 2).min(backoff_max);
                        }
                    }
                }
                if connected {
                    health.disconnected();
                }
            })
            .map_err(|e| IoError::os("cannot start the MQTT connection thread", e))?;
        Ok(Connection {
            client,
            signals,
            closing,
            thread: Some(thread),
            label: owner,
        })
    }
}

impl Connection {
    /// Why the connection gave up for good, if it did.
    pub(super) fn fatal(&self) -> Option<String> {
        self.signals.fatal.lock().clone()
    }
}

/// How long a close waits for room in the request channel, where the DISCONNECT queues
/// behind the acknowledgements still waiting to go out.
const DISCONNECT_QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How long a close then waits for the acks before it and the DISCONNECT to be sent to a
/// connected broker: thousands of acks can be queued, and a loaded machine sends them
/// slowly (0.5 s was seen to cut them off, and the broker sent processed messages again).
const DISCONNECT_SEND_WAIT: Duration = Duration::from_secs(10);
/// How long, after the DISCONNECT went out, the thread reads what the broker still sends
/// before it closes the socket itself (the broker normally closes it first).
const LINGER: Duration = Duration::from_secs(2);
/// The same wait while the connection is down: a broker that is away never takes them.
const DISCONNECT_AWAY_WAIT: Duration = Duration::from_millis(500);

impl Connection {
    /// Whether the connection thread still runs.
    fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Retries `request` (a `try_…` call on the client) while the request channel is full
    /// and the thread runs, until `deadline`; whether it was queued.
    pub(super) fn queue(
        &self,
        deadline: Instant,
        mut request: impl FnMut(&Client) -> Result<(), rumqttc::ClientError>,
    ) -> bool {
        loop {
            if request(&self.client).is_ok() {
                return true;
            }
            if !self.running() || Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Relaxed);
        // The channel is first in, first out: the DISCONNECT goes out after every ack
        // queued before it, so the broker does not send acknowledged messages again.
        let queued = self.queue(
            Instant::now() + DISCONNECT_QUEUE_WAIT,
            Client::try_disconnect,
        );
        // The thread ends once the DISCONNECT is out; do not wait long for a broker that
        // is away.
        let start = Instant::now();
        let waited_enough = || {
            let up = self.signals.connected.load(Ordering::Relaxed);
            start.elapsed()
                >= if up {
                    DISCONNECT_SEND_WAIT
                } else {
                    DISCONNECT_AWAY_WAIT
                }
        };
        while queued && self.running() && !waited_enough() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if queued && self.running() && self.signals.connected.load(Ordering::Relaxed) {
            eprintln!(
                "weir: {}: the connection did not send its last acknowledgements within {}s; \
                 the broker may send those messages again",
                self.label,
                DISCONNECT_SEND_WAIT.as_secs()
            );
        }
        self.signals.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sleeps for `wait`, waking early when `stop` is set.
pub(super) fn sleep_unless(stop: &AtomicBool, wait: Duration) {
    let until = Instant::now() + wait;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

/// A wait in user words (`250ms`, `2s`).
pub(super) fn show(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
