//! The hello two processes exchange on a new connection, before timely takes it over:
//! who is speaking, the cluster shape, a hash of the checked plan, and the checkpoint it
//! resumes from.
//!
//! Both sides write their hello, then read the other's, so both can report a mismatch.

use std::hash::Hasher;
use std::io::{Read, Write};

use weir_engine::plan::LogicalPlan;

const MAGIC: &[u8; 8] = b"WEIRCL02";
/// Longest text field accepted (file names, versions): a guard against garbage peers.
const MAX_TEXT: u32 = 4096;

/// What a process says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Its process index.
    pub process: u64,
    /// Processes in its cluster.
    pub processes: u64,
    /// Worker threads per process.
    pub workers: u64,
    /// FNV-1a of the weir version and the plan as JSON.
    pub plan_hash: u64,
    /// The checkpoint epoch it resumes from, plus one; 0 when it starts afresh. Processes
    /// resuming from different checkpoints would mix two runs' state.
    pub resumes: u64,
    /// The .pipe file it runs, as given on its command line.
    pub file: String,
    /// Its weir version.
    pub version: String,
}

/// The plan hash: FNV-1a (stable across builds and platforms) of the weir version and the
/// checked plan as JSON, so different files, edits or versions all differ.
pub fn plan_hash(plan: &LogicalPlan) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write(&[0]);
    // A plan always serialises (plain data); an error would only make the hash differ.
    h.write(serde_json::to_string(plan).unwrap_or_default().as_bytes());
    h.finish()
}

impl Hello {
    /// Writes this hello.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(MAGIC);
        for n in [
            self.process,
            self.processes,
            self.workers,
            self.plan_hash,
            self.resumes,
        ] {
            buf.extend_from_slice(&n.to_be_bytes());
        }
        for text in [&self.file, &self.version] {
            let bytes = &text.as_bytes()[..text.len().min(MAX_TEXT as usize)];
            buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            buf.extend_from_slice(bytes);
        }
        out.write_all(&buf)?;
        out.flush()
    }

    /// Reads a hello; `InvalidData` when the peer is not a weir process.
    pub fn read_from(input: &mut impl Read) -> std::io::Result<Hello> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the peer is not a weir cluster process of this version",
            ));
        }
        let mut n = [0u64; 5];
        for slot in &mut n {
            let mut b = [0u8; 8];
            input.read_exact(&mut b)?;
            *slot = u64::from_be_bytes(b);
        }
        let mut texts = [String::new(), String::new()];
        for text in &mut texts {
            let mut b = [0u8; 4];
            input.read_exact(&mut b)?;
            let len = u32::from_be_bytes(b);
            if len > MAX_TEXT {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "malformed hello from the peer",
                ));
            }
            let mut bytes = vec![0u8; len as usize];
            input.read_exact(&mut bytes)?;
            *text = String::from_utf8_lossy(&bytes).into_owned();
        }
        let [file, version] = texts;
        Ok(Hello {
            process: n[0],
            processes: n[1],
            workers: n[2],
            plan_hash: n[3],
            resumes: n[4],
            file,
            version,
        })
    }

    /// Why `theirs` cannot join a cluster with `self`, in words for the user.
    pub fn mismatch(&self, theirs: &Hello, peer: &str) -> Option<String> {
        if theirs.version != self.version || theirs.plan_hash != self.plan_hash {
            return Some(format!(
                "{peer} runs a different plan: `{}` with weir {} (plan hash {:016x}), this \
                 process runs `{}` with weir {} (plan hash {:016x}); every process must run \
                 the same .pipe file with the same weir version",
                theirs.file,
                theirs.version,
                theirs.plan_hash,
                self.file,
                self.version,
                self.plan_hash
            ));
        }
        if theirs.processes != self.processes || theirs.workers != self.workers {
            return Some(format!(
                "{peer} was started with --processes {} --workers {}, this process with \
                 --processes {} --workers {}; give every process the same values",
                theirs.processes, theirs.workers, self.processes, self.workers
            ));
        }
        if theirs.resumes != self.resumes {
            let from = |r: u64| match r {
                0 => "starts afresh".to_string(),
                r => format!("resumes from checkpoint epoch-{}", r - 1),
            };
            return Some(format!(
                "{peer} {}, this process {}: a process of an earlier run may still have \
                 been writing the checkpoint directory; start the cluster again",
                from(theirs.resumes),
                from(self.resumes)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Hello {
        Hello {
            process: 1,
            processes: 3,
            workers: 2,
            plan_hash: 0xdead_beef,
            resumes: 8,
            file: "plant.pipe".into(),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn round_trips() {
        let mut buf = Vec::new();
        hello().write_to(&mut buf).unwrap();
        assert_eq!(Hello::read_from(&mut buf.as_slice()).unwrap(), hello());
    }

    #[test]
    fn refuses_a_stranger() {
        let err = Hello::read_from(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn explains_a_different_plan_or_shape() {
        let ours = hello();
        let mut theirs = hello();
        assert_eq!(ours.mismatch(&theirs, "process 0"), None);
        theirs.plan_hash = 1;
        theirs.file = "other.pipe".into();
        let m = ours.mismatch(&theirs, "process 0 (h:1)").unwrap();
        assert!(
            m.contains("different plan") && m.contains("`other.pipe`"),
            "{m}"
        );
        let mut theirs = hello();
        theirs.workers = 4;
        let m = ours.mismatch(&theirs, "process 0").unwrap();
        assert!(m.contains("--workers 4"), "{m}");
        let mut theirs = hello();
        theirs.resumes = 0;
        let m = ours.mismatch(&theirs, "process 0").unwrap();
        assert!(
            m.contains("process 0 starts afresh, this process resumes from checkpoint epoch-7"),
            "{m}"
        );
    }
}
