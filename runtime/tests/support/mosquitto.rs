//! Test support: a real Mosquitto broker (Debian package `mosquitto`) run as a child
//! process on a free loopback port with its own configuration and persistence folder,
//! so it can be stopped and restarted with its sessions intact.
//!
//! Shared by the runtime's unit tests (`connectors::mqtt`) and its integration tests
//! (`tests/mqtt.rs`, `tests/examples.rs`), which include this file as a module.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
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

/// The mosquitto binary; a missing one fails the test (it must not pass unseen).
pub fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d: PathBuf| d.join("mosquitto"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the mosquitto broker is not installed; these tests need it: \
                 `apt-get install -y mosquitto` (.ci/run installs it)"
            )
        })
}

/// A running Mosquitto; stopped (gracefully, so it saves its sessions) on drop.
pub struct Mosquitto {
    /// Its port on 127.0.0.1.
    pub port: u16,
    config: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts a broker on `port` keeping its persistence files in `dir`.
    pub fn start(dir: &Path, port: u16) -> Mosquitto {
        Mosquitto::start_with(dir, port, "")
    }

    /// Starts a broker on `port` with more configuration lines (another listener…).
    pub fn start_with(dir: &Path, port: u16, extra: &str) -> Mosquitto {
        let config = dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\n\
                 allow_anonymous true\n\
                 persistence true\n\
                 persistence_location {}/\n\
                 user root\n\
                 log_dest stderr\n\
                 log_type error\n\
                 log_type warning\n\
                 {extra}",
                dir.display()
            ),
        )
        .expect("write mosquitto.conf");
        let mut broker = Mosquitto {
            port,
            config,
            child: None,
        };
        broker.restart();
        broker
    }

    /// Starts the broker process (again) and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the broker is running");
        let child = Command::new(binary())
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker with SIGTERM (it saves its sessions and queued messages).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}
