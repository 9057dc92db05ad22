//! Test support: TLS in front of a Tansu broker, which serves only plain TCP (its 0.6 CLI
//! refuses `--cert` with `--key`). A proxy (`tls_proxy.py`, Python's own ssl module) on a
//! loopback port forwards to the broker's port; the broker advertises the proxy's port,
//! so every connection a client makes goes through TLS. The certificates come from a
//! private authority made with openssl.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running proxy; killed on drop.
pub struct TlsProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl TlsProxy {
    /// Serves TLS on `port` with `dir`'s `server.pem` (see `private_ca::private_ca`), forwarding to
    /// the broker on `broker_port`; with `client_certs`, only to clients presenting a
    /// certificate the authority signed.
    pub fn start(port: u16, broker_port: u16, dir: &Path, client_certs: bool) -> TlsProxy {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls_proxy.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .args([port.to_string(), broker_port.to_string()])
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"));
        if client_certs {
            command.arg(dir.join("ca.pem"));
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the TLS proxy");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the TLS proxy ended at once ({status})");
            }
            assert!(Instant::now() < deadline, "the TLS proxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        TlsProxy { port, child }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
