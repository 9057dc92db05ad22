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
    /// Serves TLS on `port` with `dir`'s `server.pem` (see [`private_ca`]), forwarding to
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

/// Runs openssl (part of Debian's base system; .ci/run relies on it for MQTT too) in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private authority `ca.pem` in `dir`, and two certificates it signed: `server.pem`
/// (key `server.key`) for 127.0.0.1 and `client.pem` (key `client.key`).
pub fn private_ca(dir: &Path) {
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
            "/CN=weir test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").expect("write");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("write");
    for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=weir")] {
        let (key, csr, ext, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        openssl(
            dir,
            &[
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", &key, "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
        );
    }
}
