//! Test support: a `weir run` child process serving HTTP on a free loopback port (read
//! from its `serving http://…` line), a small HTTP client, and a real Prometheus server
//! (Debian package `prometheus`) scraping it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A running `weir run`, killed when dropped.
pub struct LiveRun {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
    lines: Receiver<String>,
}

impl LiveRun {
    /// Starts `weir run program.pipe --http 127.0.0.1:0 extra…` in `dir` and waits for
    /// its address.
    pub fn start(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> LiveRun {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["run", "program.pipe", "--http", "127.0.0.1:0"])
            .args(extra)
            .envs(envs.iter().copied())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weir starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        while Instant::now() < deadline {
            let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(rest) = line.strip_prefix("weir: serving http://") {
                let addr = rest.split('/').next().expect("addr").to_string();
                return LiveRun { child, addr, lines };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("weir never said where it serves; stderr:\n{seen}");
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stderr lines printed so far (after the address line).
    pub fn stderr_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` with optional extra headers: (status, body). 4xx/5xx are answers, not errors.
pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    request("GET", url, headers)
}

/// A request of any method.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(()).expect("request");
    let mut response = agent.run(request).expect("the server answers");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// GET `url` and parse its JSON body.
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let (status, body) = get(url, &[]);
    let json =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}"));
    (status, json)
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A Prometheus server scraping `target` every second, killed when dropped.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub url: String,
}

impl Prometheus {
    /// Starts Prometheus in `dir` (config and storage there) scraping `target`.
    pub fn start(dir: &Path, target: &str) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: weir\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("config");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log"))
            .spawn()
            .expect("prometheus starts");
        Prometheus {
            child,
            url: format!("http://{listen}"),
        }
    }

    /// The value of the single series `query` returns (instant query), if one.
    pub fn query(&self, query: &str) -> Option<f64> {
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let url = format!("{}/api/v1/query?query={encoded}", self.url);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let body = agent
            .get(&url)
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        let result = json["data"]["result"].as_array()?;
        if result.len() != 1 {
            return None;
        }
        result[0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The prometheus binary; a missing one fails the test (it must not pass unseen).
pub fn binary() -> PathBuf {
    let candidates = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Prometheus is not installed; this test needs it: \
                 `apt-get install -y prometheus` (.ci/run installs it)"
            )
        })
}
