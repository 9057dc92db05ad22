//! `weir run --http`: choosing the address, starting the server and saying where it is.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};

use super::HttpArgs;
use crate::http::{HttpAccess, HttpError, HttpServer, Peers, RunView};

/// The port served when `--http` is not given (Prometheus's exporter range).
pub const DEFAULT_PORT: u16 = 9464;

/// Starts the server of a run, unless `--http off`. With no `--http` it takes the
/// default port, or a free one if that is taken (several runs on one machine).
pub fn start(
    args: &HttpArgs,
    view: RunView,
    process: usize,
    quiet: bool,
) -> anyhow::Result<Option<HttpServer>> {
    let token = args.http_token_env.as_deref();
    let server = match args.http.as_deref() {
        Some("off") => return Ok(None),
        Some(text) => {
            let addr = parse_addr(text, process)?;
            HttpServer::start(HttpAccess::new(addr, token)?, view)?
        }
        None => {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT));
            match HttpServer::start(HttpAccess::new(addr, token)?, view.clone()) {
                Ok(server) => server,
                Err(HttpError::Bind { .. }) => {
                    let free = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                    HttpServer::start(HttpAccess::new(free, token)?, view)?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    // A default server is announced on a terminal only, so logs and tests stay as they were.
    if !quiet && (args.http.is_some() || std::io::stderr().is_terminal()) {
        eprintln!(
            "weir: serving http://{0}/metrics and http://{0}/api (docs/http.md)",
            server.addr()
        );
    }
    Ok(Some(server))
}

/// The HTTP options of a run: the command line's, each one given there overriding its
/// counterpart in the file's `serve` declaration.
pub fn effective(args: &HttpArgs, file: Option<&weir_dsl::ServeSpec>) -> HttpArgs {
    let (addr, token_env) = match file {
        Some(weir_dsl::ServeSpec::On { addr, token_env }) => {
            (Some(addr.to_string()), token_env.clone())
        }
        Some(weir_dsl::ServeSpec::Off) => (Some("off".to_string()), None),
        None => (None, None),
    };
    HttpArgs {
        http: args.http.clone().or(addr),
        http_token_env: args.http_token_env.clone().or(token_env),
    }
}

/// Process 0's way to the other processes' servers, when it can know where they are:
/// with `--http host:port` (port not 0) process I serves port + I, on loopback when
/// process 0 binds loopback, else on the host its hostfile line names. Other
/// processes, and servers on free ports, get none (each then shows its own share).
pub fn peers(args: &HttpArgs, process: usize, hosts: &[String]) -> anyhow::Result<Peers> {
    let Some(text) = args.http.as_deref().filter(|t| *t != "off") else {
        return Ok(Peers::default());
    };
    let base = parse_addr(text, 0)?;
    if process != 0 || hosts.len() < 2 || base.port() == 0 {
        return Ok(Peers::default());
    }
    let mut addrs = Vec::new();
    for (i, host) in hosts.iter().enumerate().skip(1) {
        let ip = if base.ip().is_loopback() {
            base.ip()
        } else {
            let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
            (name, 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map_or(base.ip(), |a| a.ip())
        };
        let port = parse_addr(text, i)?.port();
        addrs.push((i, SocketAddr::new(ip, port)));
    }
    let token = match &args.http_token_env {
        Some(var) => Some(
            std::env::var(var)
                .with_context(|| format!("--http-token-env {var}: `{var}` is not set"))?,
        ),
        None => None,
    };
    Ok(Peers { addrs, token })
}

/// `host:port`; in a cluster, process I serves port + I (unless the port is 0).
fn parse_addr(text: &str, process: usize) -> anyhow::Result<SocketAddr> {
    let mut addr: SocketAddr = text.parse().with_context(|| {
        format!("--http `{text}` is not an address such as 127.0.0.1:9464 (or `off`)")
    })?;
    if addr.port() != 0 && process > 0 {
        let Some(port) = u16::try_from(process)
            .ok()
            .and_then(|p| addr.port().checked_add(p))
        else {
            bail!("--http {text}: no port left for process {process}");
        };
        addr.set_port(port);
    }
    Ok(addr)
}

/// `10s`, `500ms`, `2m`, `1h` → a duration (at least 100 ms).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 10s"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("`{text}`: the unit must be ms, s, m or h")),
    };
    if ms < 100 {
        return Err(format!("`{text}` is too short: use at least 100ms"));
    }
    Ok(Duration::from_millis(ms))
}

/// The `--http` a `--local-cluster` gives its children: the one asked for, or (with
/// none, or port 0) loopback ports `base…base+P−1` found free, so that process 0 knows
/// where every other process serves. `None` for `--http off`.
pub fn local_cluster_http(asked: Option<&str>, processes: usize) -> anyhow::Result<Option<String>> {
    let ip = match asked {
        Some("off") => return Ok(None),
        Some(text) => {
            let addr = parse_addr(text, 0)?;
            if addr.port() != 0 {
                return Ok(Some(text.to_string()));
            }
            addr.ip()
        }
        None => Ipv4Addr::LOCALHOST.into(),
    };
    // A run of free ports: try a few bases the system hands out.
    for _ in 0..50 {
        let first = TcpListener::bind((ip, 0))?;
        let base = first.local_addr()?.port();
        let rest: Option<Vec<TcpListener>> = (1..processes)
            .map(|i| {
                let port = base.checked_add(u16::try_from(i).ok()?)?;
                TcpListener::bind((ip, port)).ok()
            })
            .collect();
        if rest.is_some() {
            return Ok(Some(SocketAddr::new(ip, base).to_string()));
        }
    }
    bail!("no {processes} consecutive free ports for the local cluster's HTTP servers: pass --http host:port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_cluster_ports() {
        assert_eq!(parse_interval("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_interval("10").is_err());
        assert!(parse_interval("5ms").is_err());
        let a = parse_addr("127.0.0.1:9500", 2).expect("addr");
        assert_eq!(a.port(), 9502);
        let free = parse_addr("127.0.0.1:0", 2).expect("addr");
        assert_eq!(free.port(), 0);
        assert!(parse_addr("localhost", 0).is_err());
    }

    #[test]
    fn the_command_line_overrides_the_files_serve_option_by_option() {
        let file = weir_dsl::ServeSpec::On {
            addr: "0.0.0.0:9500".parse().expect("addr"),
            token_env: Some("WEIR_TOKEN".into()),
        };
        let none = HttpArgs {
            http: None,
            http_token_env: None,
        };
        let from_file = effective(&none, Some(&file));
        assert_eq!(from_file.http.as_deref(), Some("0.0.0.0:9500"));
        assert_eq!(from_file.http_token_env.as_deref(), Some("WEIR_TOKEN"));
        let cli = HttpArgs {
            http: Some("127.0.0.1:0".into()),
            http_token_env: None,
        };
        let both = effective(&cli, Some(&file));
        assert_eq!(both.http.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(both.http_token_env.as_deref(), Some("WEIR_TOKEN"));
        let off = effective(&none, Some(&weir_dsl::ServeSpec::Off));
        assert_eq!(off.http.as_deref(), Some("off"));
        assert_eq!(effective(&none, None).http, None);
    }
}
