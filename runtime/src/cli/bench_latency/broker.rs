//! The Mosquitto broker `weir bench latency` starts on a free loopback port, stopped on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A running Mosquitto on 127.0.0.1.
pub struct Broker {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

fn mosquitto() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d: PathBuf| d.join("mosquitto"))
        .find(|p| p.is_file())
        .context("the MQTT runs need the mosquitto broker (`apt-get install mosquitto`)")
}

impl Broker {
    /// Starts a broker with its configuration in `dir` and waits until it accepts
    /// connections; `nodelay` turns Nagle's algorithm off on its connections.
    pub fn start(dir: &Path, nodelay: bool) -> anyhow::Result<Broker> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let config = dir.join("mosquitto.conf");
        // No persistence and no per-client queue limit below the benchmark's bursts.
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 0\nmax_inflight_messages 0\nlog_dest stderr\n\
                 log_type error\nlog_type warning\nset_tcp_nodelay {nodelay}\n"
            ),
        )?;
        let child = Command::new(mosquitto()?)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .spawn()
            .context("starting mosquitto")?;
        let mut broker = Broker { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || broker.child.try_wait()?.is_some() {
                bail!("mosquitto did not start on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
