//! Joining a cluster: connect to every other process within a bounded wait, exchange
//! hellos (plan hash, shape), and hand the sockets to the engine, which runs timely's TCP
//! allocator on them.
//!
//! timely's own `Config::Cluster` connects the same way (process `i` dials every lower
//! index and accepts every higher one) but retries forever, prints to stdout and cannot
//! refuse a different plan; this module does only that connection step differently.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use weir_engine::cluster::ClusterLink;

use super::handshake::Hello;

/// How to join a cluster.
#[derive(Clone, Debug)]
pub struct JoinSpec {
    /// This process's index.
    pub process: usize,
    /// Every process's address, by index.
    pub addresses: Vec<String>,
    /// What this process says about itself.
    pub hello: Hello,
    /// How long to wait for every peer before giving up.
    pub timeout: Duration,
}

/// Why a process could not join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// This process cannot listen on its own address.
    #[error(
        "process {process} cannot listen on `{address}` (its hostfile line): {cause}; \
         is another process using the port, or is the address not one of this host's?"
    )]
    Listen {
        /// This process.
        process: usize,
        /// Its address.
        address: String,
        /// The cause.
        cause: std::io::Error,
    },
    /// A peer with a lower index could not be reached in time.
    #[error(
        "cannot reach {peer} within {waited}s (last error: {last}); start it with \
         `--process {index}` and the same hostfile, or raise --connect-timeout"
    )]
    Unreachable {
        /// `process 0 (host:port)`.
        peer: String,
        /// Its index.
        index: usize,
        /// Seconds waited.
        waited: f64,
        /// The last connection error.
        last: String,
    },
    /// Peers with higher indices did not connect in time.
    #[error(
        "{peers} did not connect within {waited}s; start each with its `--process` index \
         and the same hostfile, or raise --connect-timeout"
    )]
    NotConnected {
        /// `process 2 (host:port), process 3 (host:port)`.
        peers: String,
        /// Seconds waited.
        waited: f64,
    },
    /// A peer runs another plan or shape.
    #[error("{0}")]
    Mismatch(String),
    /// A peer stopped answering during the hello.
    #[error("hello with {peer} failed: {cause}")]
    Hello {
        /// The peer.
        peer: String,
        /// The cause.
        cause: std::io::Error,
    },
    /// The other half of the join failed first.
    #[error("joining was abandoned")]
    Abandoned,
}

/// Connects to every other process of the cluster described by `spec`.
pub fn join(spec: &JoinSpec) -> Result<ClusterLink, JoinError> {
    let me = spec.process;
    let address = &spec.addresses[me];
    let listener = TcpListener::bind(address.as_str()).map_err(|cause| JoinError::Listen {
        process: me,
        address: address.clone(),
        cause,
    })?;
    let deadline = Instant::now() + spec.timeout;
    let abort = AtomicBool::new(false);
    let (lower, higher) = std::thread::scope(|s| {
        let dial = s.spawn(|| {
            let r = dial_lower(spec, deadline, &abort);
            if r.is_err() {
                abort.store(true, Ordering::SeqCst);
            }
            r
        });
        let accepted = accept_higher(spec, &listener, deadline, &abort);
        if accepted.is_err() {
            abort.store(true, Ordering::SeqCst);
        }
        let dialed = dial.join().unwrap_or_else(|_| Err(JoinError::Abandoned));
        (dialed, accepted)
    });
    // Report the real cause rather than the half that gave up because of it.
    let (lower, higher) = match (lower, higher) {
        (Err(JoinError::Abandoned), Err(e)) | (Err(e), _) | (_, Err(e)) => return Err(e),
        (Ok(l), Ok(h)) => (l, h),
    };
    let mut sockets: Vec<Option<TcpStream>> = lower.into_iter().map(Some).collect();
    sockets.push(None);
    sockets.extend(higher.into_iter().map(Some));
    for socket in sockets.iter().flatten() {
        // timely's network threads block on these sockets for the whole run.
        let ready = socket
            .set_read_timeout(None)
            .and_then(|()| socket.set_write_timeout(None))
            .and_then(|()| socket.set_nodelay(true));
        ready.map_err(|cause| JoinError::Hello {
            peer: "a peer".into(),
            cause,
        })?;
    }
    Ok(ClusterLink {
        process: me,
        addresses: spec.addresses.clone(),
        sockets,
    })
}

fn peer_name(spec: &JoinSpec, index: usize) -> String {
    ClusterLink::describe(&spec.addresses, index)
}

fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// Dials processes `0..me` in turn, retrying until the deadline.
fn dial_lower(
    spec: &JoinSpec,
    deadline: Instant,
    abort: &AtomicBool,
) -> Result<Vec<TcpStream>, JoinError> {
    let mut streams = Vec::with_capacity(spec.process);
    for index in 0..spec.process {
        let peer = peer_name(spec, index);
        let mut last = String::from("not tried");
        let stream = loop {
            if abort.load(Ordering::SeqCst) {
                return Err(JoinError::Abandoned);
            }
            if Instant::now() >= deadline {
                return Err(JoinError::Unreachable {
                    peer,
                    index,
                    waited: spec.timeout.as_secs_f64(),
                    last,
                });
            }
            match dial(&spec.addresses[index], deadline) {
                Ok(stream) => break stream,
                Err(e) => {
                    last = e.to_string();
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        let theirs =
            hello(&stream, &spec.hello, deadline, true).map_err(|cause| JoinError::Hello {
                peer: peer.clone(),
                cause,
            })?;
        if theirs.process != index as u64 {
            return Err(JoinError::Mismatch(format!(
                "{peer} answers as process {}; the hostfile must be the same on every host",
                theirs.process
            )));
        }
        if let Some(m) = spec.hello.mismatch(&theirs, &peer) {
            return Err(JoinError::Mismatch(m));
        }
        streams.push(stream);
    }
    Ok(streams)
}

fn dial(address: &str, deadline: Instant) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(
        ErrorKind::NotFound,
        format!("`{address}` resolves to no address"),
    );
    for addr in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline).min(Duration::from_secs(1))) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Writes our hello and reads theirs (the dialling side writes first; both write before
/// judging, so both sides can explain a mismatch).
fn hello(
    mut stream: &TcpStream,
    ours: &Hello,
    deadline: Instant,
    dialling: bool,
) -> std::io::Result<Hello> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(remaining(deadline)))?;
    stream.set_write_timeout(Some(remaining(deadline)))?;
    if dialling {
        ours.write_to(&mut stream)?;
        Hello::read_from(&mut stream)
    } else {
        let theirs = Hello::read_from(&mut stream)?;
        ours.write_to(&mut stream)?;
        Ok(theirs)
    }
}

/// Accepts processes `me+1..` in any order until the deadline.
fn accept_higher(
    spec: &JoinSpec,
    listener: &TcpListener,
    deadline: Instant,
    abort: &AtomicBool,
) -> Result<Vec<TcpStream>, JoinError> {
    let me = spec.process;
    let total = spec.addresses.len();
    let mut slots: Vec<Option<TcpStream>> = (me + 1..total).map(|_| None).collect();
    let listen_err = |cause| JoinError::Listen {
        process: me,
        address: spec.addresses[me].clone(),
        cause,
    };
    listener.set_nonblocking(true).map_err(listen_err)?;
    while slots.iter().any(Option::is_none) {
        if abort.load(Ordering::SeqCst) {
            return Err(JoinError::Abandoned);
        }
        if Instant::now() >= deadline {
            let missing: Vec<String> = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_none())
                .map(|(i, _)| peer_name(spec, me + 1 + i))
                .collect();
            return Err(JoinError::NotConnected {
                peers: missing.join(", "),
                waited: spec.timeout.as_secs_f64(),
            });
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => return Err(listen_err(e)),
        };
        let from = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "an unknown address".into());
        let theirs = match hello(&stream, &spec.hello, deadline, false) {
            Ok(h) => h,
            Err(e) => {
                // Not a weir process (a port scan, a stale peer): keep waiting for ours.
                eprintln!("weir: ignoring a connection from {from}: {e}");
                continue;
            }
        };
        let index = theirs.process as usize;
        if index <= me || index >= total || slots[index - me - 1].is_some() {
            return Err(JoinError::Mismatch(format!(
                "a process at {from} says it is process {index} of {}, which cannot connect \
                 to process {me} now; check every process has its own --process index and \
                 the same hostfile",
                theirs.processes
            )));
        }
        let peer = peer_name(spec, index);
        if let Some(m) = spec.hello.mismatch(&theirs, &peer) {
            return Err(JoinError::Mismatch(m));
        }
        slots[index - me - 1] = Some(stream);
    }
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn spec(process: usize, addresses: &[String], plan_hash: u64) -> JoinSpec {
        JoinSpec {
            process,
            addresses: addresses.to_vec(),
            hello: Hello {
                process: process as u64,
                processes: addresses.len() as u64,
                workers: 1,
                plan_hash,
                resumes: 0,
                file: "a.pipe".into(),
                version: "0".into(),
            },
            timeout: Duration::from_secs(5),
        }
    }

    fn addresses(n: usize) -> Vec<String> {
        (0..n)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect()
    }

    #[test]
    fn three_processes_connect_in_any_start_order() {
        let addrs = addresses(3);
        let links: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = [2usize, 0, 1]
                .into_iter()
                .map(|p| {
                    let spec = spec(p, &addrs, 7);
                    s.spawn(move || join(&spec))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for link in links {
            let link = link.expect("joins");
            assert_eq!(link.processes(), 3);
            assert!(link.sockets[link.process].is_none());
            assert_eq!(link.sockets.iter().flatten().count(), 2);
        }
    }

    #[test]
    fn an_unreachable_peer_is_an_error_after_the_wait() {
        let addrs = addresses(2);
        let mut spec = spec(1, &addrs, 7);
        spec.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = join(&spec).unwrap_err().to_string();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(err.contains("cannot reach process 0"), "{err}");
    }

    #[test]
    fn a_missing_higher_peer_is_named() {
        let addrs = addresses(2);
        let mut spec = spec(0, &addrs, 7);
        spec.timeout = Duration::from_millis(300);
        let err = join(&spec).unwrap_err().to_string();
        assert!(
            err.contains("process 1") && err.contains("did not connect"),
            "{err}"
        );
    }

    #[test]
    fn different_plans_are_refused_on_both_sides() {
        let addrs = addresses(2);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| join(&spec(0, &addrs, 1)));
            let b = s.spawn(|| join(&spec(1, &addrs, 2)));
            (a.join().unwrap(), b.join().unwrap())
        });
        for r in [a, b] {
            let err = r.unwrap_err().to_string();
            assert!(err.contains("runs a different plan"), "{err}");
        }
    }
}
