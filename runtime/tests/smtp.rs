//! The `smtp` sink end to end with the real `weir` binary and a real SMTP server
//! (Python's aiosmtpd, installed by .ci/run) on loopback: one e-mail per alert event
//! (fired and resolved) with the recipients, subject and body from the templates and a
//! login from the environment that is never printed; a refused recipient, an unreachable
//! server, a server without STARTTLS and the rate limit send the alerts to the error
//! route with the reason; the cold-chain example's `mail` sink mails each of its alert
//! events; STARTTLS (rustls) delivers to a server whose certificate a `ca_file` vouches
//! for and refuses it otherwise; bad options fail `weir check` with P0501.

#[path = "support/private_ca.rs"]
mod private_ca;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// aiosmtpd running `support/smtp_server.py`; killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl SmtpServer {
    /// Starts the server writing each accepted message into `mailbox`.
    fn start(mailbox: &Path) -> SmtpServer {
        SmtpServer::start_with(mailbox, &[])
    }

    /// As `start`, with `extra` arguments (a certificate and key: STARTTLS required).
    fn start_with(mailbox: &Path, extra: &[&Path]) -> SmtpServer {
        std::fs::create_dir_all(mailbox).expect("mailbox dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(mailbox)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("port line");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "the SMTP test server did not start (is aiosmtpd installed? \
                 `python3 -m pip install aiosmtpd`, .ci/run does): {line:?}"
            )
        });
        SmtpServer { child, port }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One delivered message: envelope, login, Subject header and body.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Mail {
    rcpt_tos: Vec<String>,
    login: Option<String>,
    subject: String,
    body: String,
}

fn mails(mailbox: &Path) -> Vec<Mail> {
    let mut names: Vec<_> = std::fs::read_dir(mailbox)
        .expect("mailbox")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("mail")).expect("JSON");
            assert_eq!(v["mail_from"], "weir@plant.example");
            let data = v["data"].as_str().expect("data");
            assert!(
                data.contains("Content-Type: text/plain; charset=utf-8"),
                "{data}"
            );
            Mail {
                rcpt_tos: v["rcpt_tos"]
                    .as_array()
                    .expect("rcpt_tos")
                    .iter()
                    .map(|r| r.as_str().expect("address").to_string())
                    .collect(),
                login: v["login"].as_str().map(str::to_string),
                subject: v["subject"].as_str().expect("subject").to_string(),
                body: v["body"].as_str().expect("body").trim_end().to_string(),
            }
        })
        .collect()
}

fn weir(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

/// d0 fires, resolves and fires again; d1 fires once: four alert events.
const INPUT: &str = r#"{"device_id": "d0", "temp": 90.0, "ts": "2024-05-01T10:00:00Z"}
{"device_id": "d1", "temp": 85.5, "ts": "2024-05-01T10:00:01Z"}
{"device_id": "d0", "temp": 50.0, "ts": "2024-05-01T10:01:00Z"}
{"device_id": "d0", "temp": 95.0, "ts": "2024-05-01T10:02:00Z"}
"#;

/// The alert pipeline, its alerts logged to `alerts.jsonl` and sent to `sinks`
/// (declared by `sink_lines`), failures routed to `rejects.jsonl`.
fn program(sink_lines: &str, sinks: &[&str]) -> String {
    let to: String = sinks.iter().map(|s| format!("\n  | to {s}")).collect();
    format!(
        r#"source readings = file("in.jsonl") {{
  device_id: string
  temp: f64
  ts: timestamp
  event_time ts
}}
{sink_lines}
sink log = file("alerts.jsonl")
sink rejects = file("rejects.jsonl")
pipeline hot {{
  from readings
  | key by device_id
  | alert hot
      critical when temp > 80.0
      message "{{device_id}} is hot: {{temp:.1}} °C"
}}
pipeline notify {{
  on error to rejects
  from hot
  | to log{to}
}}
"#
    )
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn run(dir: &Path, text: &str, env: &[(&str, &str)]) -> (String, String) {
    std::fs::write(dir.join("in.jsonl"), INPUT).expect("input");
    std::fs::write(dir.join("p.pipe"), text).expect("program");
    let out = weir(&["run", "p.pipe"], dir, env);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}");
    (stdout, stderr)
}

#[test]
fn one_mail_per_alert_event_with_templated_subject_and_body_and_a_login_from_the_env() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mailbox = dir.path().join("mailbox");
    let server = SmtpServer::start(&mailbox);
    let sink = format!(
        "sink mail = smtp(\"127.0.0.1:{}\", tls: none, from: \"weir@plant.example\", \
         to: \"ops@plant.example, oncall@plant.example\", \
         subject: \"{{alert.level}}: {{alert.id}} {{alert.event}}\", body: \"{{alert.message}}\", \
         username_env: \"SMTP_USER\", password_env: \"SMTP_PASS\")",
        server.port
    );
    let (stdout, stderr) = run(
        dir.path(),
        &program(&sink, &["mail"]),
        &[("SMTP_USER", "weir"), ("SMTP_PASS", "pw-s3cret")],
    );
    assert!(
        !stdout.contains("pw-s3cret") && !stderr.contains("pw-s3cret"),
        "the password is never printed"
    );
    let alerts = json_lines(&dir.path().join("alerts.jsonl"));
    let events: Vec<&str> = alerts
        .iter()
        .map(|a| a["alert"]["event"].as_str().expect("event"))
        .collect();
    assert_eq!(events.len(), 4, "{alerts:?}");
    assert_eq!(events.iter().filter(|e| **e == "resolved").count(), 1);
    let mut want: Vec<Mail> = alerts
        .iter()
        .map(|a| {
            let a = &a["alert"];
            let text = |k: &str| a[k].as_str().expect("text field").to_string();
            Mail {
                rcpt_tos: vec!["ops@plant.example".into(), "oncall@plant.example".into()],
                login: Some("weir".into()),
                subject: format!("{}: {} {}", text("level"), text("id"), text("event")),
                body: text("message"),
            }
        })
        .collect();
    let mut got = mails(&mailbox);
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(
        got.iter().any(|m| m.body == "d1 is hot: 85.5 °C"),
        "the body template rendered the record: {got:?}"
    );
    assert!(json_lines(&dir.path().join("rejects.jsonl")).is_empty());
}

#[test]
fn refused_unreachable_and_over_limit_mails_go_to_the_error_route_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mailbox = dir.path().join("mailbox");
    let server = SmtpServer::start(&mailbox);
    // A port nothing listens on: bound, then released.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let common = "tls: none, from: \"weir@plant.example\", subject: \"{alert.id}\"";
    let sinks = format!(
        "sink refused = smtp(\"127.0.0.1:{p}\", {common}, to: \"refuse@plant.example\")\n\
         sink down = smtp(\"127.0.0.1:{dead}\", {common}, to: \"ops@plant.example\", retries: 1, backoff: 10ms, timeout: 2s)\n\
         sink limited = smtp(\"127.0.0.1:{p}\", {common}, to: \"ops@plant.example\", limit: 1, per: 1h)\n\
         sink cleartext = smtp(\"127.0.0.1:{p}\", tls: starttls, from: \"weir@plant.example\", subject: \"{{alert.id}}\", to: \"ops@plant.example\", retries: 0)",
        p = server.port
    );
    let started = Instant::now();
    run(
        dir.path(),
        &program(&sinks, &["refused", "down", "limited", "cleartext"]),
        &[],
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(
        mails(&mailbox).len(),
        1,
        "only the first alert within the limit"
    );
    let rejects = json_lines(&dir.path().join("rejects.jsonl"));
    let reasons = |sink: &str| -> Vec<String> {
        rejects
            .iter()
            .filter(|r| r["error"]["source"] == sink)
            .map(|r| r["error"]["reason"].as_str().expect("reason").to_string())
            .collect()
    };
    let refused = reasons("refused");
    assert_eq!(refused.len(), 4, "{rejects:?}");
    for r in &refused {
        assert!(
            r.contains("permanent error (550)")
                && r.contains("mailbox unavailable")
                && r.ends_with("(after 1 attempt)"),
            "{r}"
        );
    }
    let down = reasons("down");
    assert_eq!(down.len(), 4, "{rejects:?}");
    for r in &down {
        assert!(r.ends_with("(after 2 attempts)"), "{r}");
    }
    let limited = reasons("limited");
    assert_eq!(
        limited,
        vec!["over the rate limit of 1 per 1h: not sent"; 3]
    );
    // `starttls` never falls back to clear text on a server without STARTTLS.
    let cleartext = reasons("cleartext");
    assert_eq!(cleartext.len(), 4, "{rejects:?}");
    assert!(
        cleartext.iter().all(|r| r.contains("STARTTLS")),
        "{cleartext:?}"
    );
    let located = rejects
        .iter()
        .find(|r| r["error"]["source"] == "refused")
        .expect("a refused record");
    assert_eq!(
        located["error"]["location"],
        format!("smtp://127.0.0.1:{}", server.port)
    );
}

#[test]
fn bad_smtp_options_fail_check_with_p0501() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = "sink mail = smtp(\"127.0.0.1:2525\", tls: ssl, from: \"weir@plant.example\", \
                to: \"not an address\", subject: \"{alert.nope}\")";
    std::fs::write(dir.path().join("in.jsonl"), INPUT).expect("input");
    std::fs::write(dir.path().join("p.pipe"), program(sink, &["mail"])).expect("program");
    let out = weir(&["check", "p.pipe"], dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("P0501"), "{stderr}");
    assert!(stderr.contains("unknown `tls` mode `ssl`"), "{stderr}");
    assert!(stderr.contains("is not an e-mail address"), "{stderr}");
}

#[test]
fn the_cold_chain_example_mails_once_per_alert_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mailbox = dir.path().join("mailbox");
    let server = SmtpServer::start(&mailbox);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/truck_cold_chain.pipe"),
    )
    .expect("example");
    let text = example.replace("localhost:2525", &format!("127.0.0.1:{}", server.port))
        + "\npipeline mail_out {\n  from cold_chain\n  | to mail\n}\n";
    std::fs::write(dir.path().join("p.pipe"), text).expect("program");
    let out = weir(&["run", "p.pipe"], dir.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = json_lines(&dir.path().join("out/cold_chain_alerts.jsonl"));
    assert!(alerts.len() >= 2, "the example has episodes: {alerts:?}");
    let mut want: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            let a = &a["alert"];
            let text = |k: &str| a[k].as_str().expect("text field").to_string();
            (
                format!("{}: {} {}", text("level"), text("id"), text("event")),
                text("message"),
            )
        })
        .collect();
    let mut got: Vec<(String, String)> = mails(&mailbox)
        .into_iter()
        .map(|m| {
            assert_eq!(
                m.rcpt_tos,
                ["dispatch@plant.example", "quality@plant.example"]
            );
            (m.subject, m.body)
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "one e-mail per alert event");
}

#[test]
fn starttls_with_a_private_ca_delivers_and_an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    private_ca::private_ca(dir.path());
    let mailbox = dir.path().join("mailbox");
    let server = SmtpServer::start_with(
        &mailbox,
        &[
            &dir.path().join("server.pem"),
            &dir.path().join("server.key"),
        ],
    );
    let common = format!(
        "\"127.0.0.1:{}\", tls: starttls, from: \"weir@plant.example\", to: \"ops@plant.example\", \
         subject: \"{{alert.id}} {{alert.event}}\", body: \"{{alert.message}}\", retries: 0",
        server.port
    );
    let ca = dir.path().join("ca.pem");
    let sinks = format!(
        "sink secure = smtp({common}, ca_file: \"{}\", username_env: \"SMTP_USER\", password_env: \"SMTP_PASS\")\n\
         sink untrusted = smtp({common})",
        ca.display()
    );
    let (stdout, stderr) = run(
        dir.path(),
        &program(&sinks, &["secure", "untrusted"]),
        &[("SMTP_USER", "weir"), ("SMTP_PASS", "pw-s3cret")],
    );
    assert!(!stdout.contains("pw-s3cret") && !stderr.contains("pw-s3cret"));
    let got = mails(&mailbox);
    assert_eq!(got.len(), 4, "every alert event over STARTTLS: {got:?}");
    assert!(got.iter().all(|m| m.login.as_deref() == Some("weir")));
    let rejects = json_lines(&dir.path().join("rejects.jsonl"));
    assert_eq!(rejects.len(), 4, "{rejects:?}");
    for r in &rejects {
        assert_eq!(r["error"]["source"], "untrusted");
        let reason = r["error"]["reason"].as_str().expect("reason");
        assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    }
}
