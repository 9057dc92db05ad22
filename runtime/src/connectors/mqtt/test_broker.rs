//! Test support: an in-process rumqttd broker on a free loopback port, and a plain
//! rumqttc client to publish and subscribe from tests.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

/// A free loopback port (bound, then released for the broker to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts a broker on `port`, with `auth` (user → password) if given, and waits until it
/// accepts connections. The broker thread lives until the test process ends.
pub fn start_broker(port: u16, auth: Option<(&str, &str)>) {
    let listen: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let server = ServerSettings {
        name: "v4".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 1 << 20,
            max_inflight_count: 500,
            auth: auth.map(|(u, p)| HashMap::from([(u.to_string(), p.to_string())])),
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 1 << 22,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Default::default()
    };
    std::thread::spawn(move || {
        let mut broker = Broker::new(config);
        let _ = broker.start();
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(listen).is_err() {
        assert!(Instant::now() < deadline, "the test broker did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A test client: publishes, and collects messages of the filters it subscribes to.
pub struct TestClient {
    /// The client.
    pub client: Client,
    /// (topic, payload, retain) of every message received.
    pub received: Receiver<(String, Vec<u8>, bool)>,
}

impl TestClient {
    /// Connects as `id` to the broker on `port`, subscribed to `filters` (QoS 1); returns
    /// once connected and subscribed.
    pub fn connect(port: u16, id: &str, filters: &[&str]) -> TestClient {
        TestClient::connect_with(port, id, filters, true)
    }

    /// Like [`TestClient::connect`], with a clean or a persistent session.
    pub fn connect_with(port: u16, id: &str, filters: &[&str], clean: bool) -> TestClient {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(clean);
        let (client, mut connection) = Client::new(options, 1000);
        let (tx, rx) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let want = filters.len();
        for f in filters {
            client.subscribe(*f, QoS::AtLeastOnce).expect("subscribe");
        }
        std::thread::spawn(move || {
            let mut acks = 0;
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if want == 0 => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        acks += 1;
                        if acks == want {
                            let _ = ready_tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send((p.topic.clone(), p.payload.to_vec(), p.retain));
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the test client connected and subscribed");
        TestClient {
            client,
            received: rx,
        }
    }

    /// Publishes `payload` on `topic` with QoS 1.
    pub fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.into())
            .expect("publish");
    }

    /// The next `n` messages received, failing after `timeout`.
    pub fn take(&self, n: usize, timeout: Duration) -> Vec<(String, Vec<u8>, bool)> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(m) => out.push(m),
                Err(_) => panic!("received {} of {n} messages: {out:?}", out.len()),
            }
        }
        out
    }
}
