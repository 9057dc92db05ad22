//! Failures that retrying cannot heal, against a real Mosquitto: a wrong password, a
//! subscription the ACL refuses, a broker certificate that is not trusted and a client
//! certificate the broker rejects each end the source or sink with a message saying
//! what is wrong, instead of being retried forever.

use std::path::Path;
use std::time::{Duration, Instant};

use weir_engine::event::Event;
use weir_engine::io::{SinkWriter, SourceReader};
use weir_engine::plan::OptionValue;
use weir_engine::value::Value;

use super::mosquitto::{free_port, Mosquitto};
use super::tests::{call, openssl, s, telemetry, ONE};
use super::{MqttConfig, MqttSink, MqttSource};
use crate::connectors::problem::Role;

/// A Mosquitto that wants user `weir` with password `s3cret`, who may read and write
/// `allowed/#` only.
fn secured(dir: &Path) -> Mosquitto {
    let passwd = dir.join("passwd");
    let out = std::process::Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&passwd)
        .args(["weir", "s3cret"])
        .output()
        .expect("mosquitto_passwd runs (package mosquitto)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acl = dir.join("acl");
    std::fs::write(&acl, "user weir\ntopic readwrite allowed/#\n").expect("write acl");
    Mosquitto::start_with(
        dir,
        free_port(),
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            passwd.display(),
            acl.display()
        ),
    )
}

fn source_config(url: &str, options: Vec<(&str, OptionValue)>) -> MqttConfig {
    MqttConfig::from_call(&call(url, options), Role::Source).expect("config")
}

/// Polls until the source fails; panics if it is still retrying after `within`.
fn failure_of(source: &mut MqttSource, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    loop {
        match source.poll(&mut out, &mut bad, 100) {
            Err(e) => return e.to_string(),
            Ok(_) => {
                assert!(Instant::now() < deadline, "still retrying after {within:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn a_wrong_password_ends_the_source_and_the_sink_instead_of_retrying() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = secured(dir.path());
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let wrong = vec![
        ("topic", s("allowed/{device_id}")),
        ("username", s("weir")),
        ("password", s("guess")),
    ];
    let mut source = MqttSource::open("t", &source_config(&url, wrong.clone()), &telemetry(), ONE)
        .expect("open");
    let message = failure_of(&mut source, Duration::from_secs(10));
    assert!(message.contains("not authorized"), "{message}");
    assert!(message.contains("password"), "{message}");
    let mut sink_options = wrong;
    sink_options.push(("flush_timeout", OptionValue::Duration(30_000)));
    let config = MqttConfig::from_call(&call(&url, sink_options), Role::Sink).expect("config");
    let sink = MqttSink::open("out", &config, &telemetry(), None).expect("open");
    let started = Instant::now();
    let record = vec![Value::str("m1"), Value::Float(1.0), Value::Time(0)];
    let mut result = sink.write(&[Event::new(0, record.clone())]);
    while result.is_ok() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        result = sink.write(&[Event::new(0, record.clone())]);
    }
    let message = result.expect_err("the sink gives up").to_string();
    assert!(message.contains("not authorized"), "{message}");
    // The flush does not wait out its 30 s for a broker that refused us.
    let flushed = sink.flush().expect_err("refused");
    assert!(flushed.to_string().contains("password"), "{flushed}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// A broker that admits the client and refuses its subscription (SUBACK 0x80), as
/// brokers do whose ACL denies a topic. (Mosquitto 2.0 under MQTT 3.1.1 grants such a
/// subscription and then delivers nothing, which a client cannot tell apart.)
fn refusing_broker() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        let read_packet = |socket: &mut std::net::TcpStream| -> Option<Vec<u8>> {
            let mut head = [0u8; 1];
            socket.read_exact(&mut head).ok()?;
            let (mut length, mut shift) = (0usize, 0);
            loop {
                let mut byte = [0u8; 1];
                socket.read_exact(&mut byte).ok()?;
                length |= usize::from(byte[0] & 0x7f) << shift;
                shift += 7;
                if byte[0] & 0x80 == 0 {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            socket.read_exact(&mut body).ok()?;
            Some([vec![head[0]], body].concat())
        };
        while let Some(packet) = read_packet(&mut socket) {
            let reply: Vec<u8> = match packet[0] >> 4 {
                1 => vec![0x20, 0x02, 0x00, 0x00],
                8 => vec![0x90, 0x03, packet[1], packet[2], 0x80],
                12 => vec![0xd0, 0x00],
                _ => continue,
            };
            if socket.write_all(&reply).is_err() {
                return;
            }
        }
    });
    port
}

#[test]
fn a_subscription_the_broker_refuses_ends_the_source() {
    let port = refusing_broker();
    let config = source_config(
        &format!("mqtt://127.0.0.1:{port}"),
        vec![("topic", s("secret/{device_id}"))],
    );
    let mut source = MqttSource::open("t", &config, &telemetry(), ONE).expect("open");
    let message = failure_of(&mut source, Duration::from_secs(10));
    assert!(
        message.contains("refused the subscription to `secret/+`"),
        "{message}"
    );
    assert!(message.contains("ACL"), "{message}");
}

/// A self-signed certificate authority `name` (`name.pem`, `name.key`) in `dir`.
fn authority(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A certificate `name` for 127.0.0.1 signed by authority `ca`.
fn certificate(dir: &Path, name: &str, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("write");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

#[test]
fn tls_failures_say_whose_certificate_is_wrong_and_end_the_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    authority(d, "ca");
    authority(d, "other_ca");
    certificate(d, "server", "ca");
    certificate(d, "client", "ca");
    certificate(d, "stranger", "other_ca");
    let tls_port = free_port();
    let _broker = Mosquitto::start_with(
        d,
        free_port(),
        &format!(
            "listener {tls_port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\n\
             keyfile {0}/server.key\nrequire_certificate true\n",
            d.display()
        ),
    );
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let path = |f: &str| d.join(f).display().to_string();
    let open = |ca: &str, cert: &str| {
        let config = source_config(
            &url,
            vec![
                ("topic", s("t/{device_id}")),
                ("ca_file", s(&path(ca))),
                ("client_cert", s(&path(&format!("{cert}.pem")))),
                ("client_key", s(&path(&format!("{cert}.key")))),
            ],
        );
        MqttSource::open("t", &config, &telemetry(), ONE).expect("open")
    };
    // Trusting the wrong authority: the broker's certificate is the problem.
    let message = failure_of(&mut open("other_ca.pem", "client"), Duration::from_secs(10));
    assert!(
        message.contains("the broker's certificate is not trusted: it is not signed by a certificate authority in ca_file"),
        "{message}"
    );
    // A client certificate from an authority the broker does not know: ours is.
    let message = failure_of(&mut open("ca.pem", "stranger"), Duration::from_secs(10));
    assert!(
        message.contains("rejected this client's own certificate (client_cert"),
        "{message}"
    );
    assert!(!message.contains("invalid peer certificate"), "{message}");
    // The right pair connects (and keeps running).
    let mut good = open("ca.pem", "client");
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    std::thread::sleep(Duration::from_secs(2));
    good.poll(&mut out, &mut bad, 10)
        .expect("connected, no failure");
}
