//! Test support: an S3-compatible object store on loopback, moto's server (PyPI's `moto`,
//! which .ci/run installs from .ci/s3-server.txt), run as a child process on a free port
//! with one bucket, so a Tansu broker can keep its log outside its own process and find
//! it again after a restart. These tests fail, not skip, without it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The one bucket the server holds.
pub const BUCKET: &str = "tansu";

/// A running S3 server; killed on drop (its objects live only in its memory).
pub struct S3Server {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl S3Server {
    /// Starts the server on a free port and creates [`BUCKET`].
    pub fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = server_command()
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut server = S3Server { port, child };
        server.wait_until_listening();
        server.create_bucket();
        server
    }

    /// `http://127.0.0.1:<port>`, the endpoint S3 clients are pointed at.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the S3 server (moto) ended at once ({status}); these tests need it: \
                     `python3 -m pip install --require-hashes -r .ci/s3-server.txt` (.ci/run \
                     does), or set WEIR_MOTO_SERVER to a moto_server binary"
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `PUT /<bucket>`: moto accepts it unsigned, and a plain request needs no HTTP client.
    fn create_bucket(&self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        write!(
            stream,
            "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        )
        .expect("send bucket request");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("read bucket answer");
        let status = answer.split_whitespace().nth(1);
        assert_eq!(status, Some("200"), "creating bucket {BUCKET}: {answer}");
    }
}

/// `$WEIR_MOTO_SERVER`, or the `moto.server` module of python3 (where .ci/run's
/// `python3 -m pip` installs it, whether or not its scripts' folder is on the PATH).
fn server_command() -> Command {
    match std::env::var_os("WEIR_MOTO_SERVER") {
        Some(path) => Command::new(path),
        None => {
            let mut command = Command::new("python3");
            command.args(["-m", "moto.server"]);
            command
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
