//! Secrets never leave `weir` in clear: the MQTT password and URL credentials in `weir
//! explain` (text and JSON) and `weir check`; a webhook's header values, URL userinfo and
//! `?token=` values in warnings and in routed records' `error.location`.

use std::path::Path;
use std::process::Command;

const SECRETS: [&str; 4] = ["hunter2", "pw9", "tok123", "Bearer s3cret"];

fn weir(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

const PIPELINE: &str = r#"source live = mqtt("mqtt://localhost:1883", topic: "plant/#", username: "weir", password: "hunter2") {
  temp: f64
}
sink hook = webhook("http://bot:pw9@127.0.0.1:9/hook?token=tok123&site=a",
                    headers: ["Authorization: Bearer s3cret"], retries: 0)
pipeline p { from live | to hook }
"#;

#[test]
fn explain_masks_passwords_headers_and_url_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.pipe"), PIPELINE).expect("write");
    for args in [&["explain", "p.pipe"][..], &["explain", "p.pipe", "--json"]] {
        let out = weir(args, dir.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_secret(&args.join(" "), &stdout);
        assert!(
            stdout.contains("http://bot:***@127.0.0.1:9/hook?token=***&site=a"),
            "{stdout}"
        );
        assert!(stdout.contains("Authorization: ***"), "{stdout}");
        assert!(stdout.contains("weir"), "the user name stays: {stdout}");
    }
}

#[test]
fn check_does_not_echo_url_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = PIPELINE.replace("mqtt://localhost:1883", "mqtt://weir:pw9@localhost:1883");
    std::fs::write(dir.path().join("p.pipe"), text).expect("write");
    for format in ["human", "json"] {
        let out = weir(&["check", "p.pipe", "--error-format", format], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("has credentials in it") || stdout.contains("has credentials in it"),
            "{stderr}{stdout}"
        );
        assert_no_secret("check", &format!("{stdout}{stderr}"));
    }
}

/// Port 9 refuses connections: every record is undelivered, warned about, and (with a
/// route) written with `error.location`.
#[test]
fn undelivered_webhook_records_show_no_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"temp\": 1.0}\n{\"temp\": 2.0}\n",
    )
    .expect("write input");
    let program = r#"source readings = file("in.jsonl") { temp: f64 }
sink hook = webhook("http://bot:pw9@127.0.0.1:9/hook?token=tok123",
                    headers: ["Authorization: Bearer s3cret"], retries: 0, timeout: 2s)
sink rejects = file("rejects.jsonl")
pipeline routed { on error to rejects
  from readings | to hook }
pipeline warned { from readings | to hook }
"#;
    std::fs::write(dir.path().join("p.pipe"), program).expect("write");
    let out = weir(&["run", "p.pipe"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("could not deliver"), "{stderr}");
    assert!(
        stderr.contains("http://bot:***@127.0.0.1:9/hook?token=***"),
        "{stderr}"
    );
    assert_no_secret("warnings", &stderr);
    let rejects = std::fs::read_to_string(dir.path().join("rejects.jsonl")).expect("rejects");
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    for line in rejects.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(
            v["error"]["location"], "http://bot:***@127.0.0.1:9/hook?token=***",
            "{line}"
        );
    }
    assert_no_secret("routed records", &rejects);
}
