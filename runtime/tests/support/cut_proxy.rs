//! Test support: a loopback TCP proxy in front of a PostgreSQL server that cuts one
//! client connection at its n-th `COMMIT`, so a client cannot tell whether that
//! transaction committed. The COMMIT is either passed on and its answer swallowed (the
//! transaction commits) or swallowed itself (the server aborts the transaction when the
//! connection goes).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A simple-protocol `COMMIT` as the client sends it: `Q`, length 11, the text, a nul.
const COMMIT: &[u8] = b"Q\x00\x00\x00\x0bCOMMIT\x00";

/// Where the cut falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The server gets the COMMIT (and commits); its answer never reaches the client.
    AfterCommit,
    /// The COMMIT never reaches the server.
    BeforeCommit,
}

/// A running proxy; its threads end with the test process.
pub struct CutProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    commits: Arc<AtomicUsize>,
    cuts: Arc<AtomicUsize>,
}

impl CutProxy {
    /// Forwards connections to 127.0.0.1:`upstream`; cuts at the `nth` COMMIT (counted
    /// over all connections, from 1) as `cut` says.
    pub fn start(upstream: u16, nth: usize, cut: Cut) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        let commits = Arc::new(AtomicUsize::new(0));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (seen, done) = (commits.clone(), cuts.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = TcpStream::connect(("127.0.0.1", upstream)).expect("upstream");
                let rule = Rule {
                    nth,
                    cut,
                    commits: seen.clone(),
                    cuts: done.clone(),
                };
                relay(client, server, rule);
            }
        });
        CutProxy {
            port,
            commits,
            cuts,
        }
    }

    /// COMMITs the proxy has seen.
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }

    /// Connections it has cut (0 or 1).
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

struct Rule {
    nth: usize,
    cut: Cut,
    commits: Arc<AtomicUsize>,
    cuts: Arc<AtomicUsize>,
}

/// Copies both ways on two threads; the client-to-server one watches for COMMITs.
fn relay(client: TcpStream, server: TcpStream, rule: Rule) {
    let swallow = Arc::new(AtomicBool::new(false));
    let (mut from_server, mut to_client) = (
        server.try_clone().expect("clone"),
        client.try_clone().expect("clone"),
    );
    let mute = swallow.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = from_server.read(&mut buf) {
            if !mute.load(Ordering::SeqCst) && to_client.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_client.shutdown(Shutdown::Both);
    });
    std::thread::spawn(move || upstream(client, server, &rule, &swallow));
}

fn upstream(mut client: TcpStream, mut server: TcpStream, rule: &Rule, swallow: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    // The end of the previous read, so a COMMIT split across two reads is still seen.
    let mut tail: Vec<u8> = Vec::new();
    while let Ok(n @ 1..) = client.read(&mut buf) {
        tail.extend_from_slice(&buf[..n]);
        let commit = tail.windows(COMMIT.len()).any(|w| w == COMMIT);
        tail.drain(..tail.len().saturating_sub(COMMIT.len() - 1));
        let cut_here = commit && rule.commits.fetch_add(1, Ordering::SeqCst) + 1 == rule.nth;
        if cut_here {
            // Nothing from the server reaches the client from here on.
            swallow.store(true, Ordering::SeqCst);
            if rule.cut == Cut::AfterCommit {
                let _ = server.write_all(&buf[..n]);
                // Time for the server to commit and answer (the answer is dropped).
                std::thread::sleep(Duration::from_millis(300));
            }
            rule.cuts.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}
