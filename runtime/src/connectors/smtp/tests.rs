//! Tests of `smtp(…)`'s options as `weir check` reads them (delivery is tested against
//! a real SMTP server in runtime/tests/smtp.rs).

use weir_engine::plan::{ConnectorCall, OptionValue};

use super::config::SmtpTls;
use super::*;
use crate::connectors::problem::Role;
use crate::connectors::validate;

fn text(s: &str) -> OptionValue {
    OptionValue::Str(s.into())
}

fn call(server: &str, extra: Vec<(&str, OptionValue)>) -> ConnectorCall {
    let mut options = vec![
        ("from".to_string(), text("Weir <weir@plant.example>")),
        ("to".to_string(), text("a@plant.example, b@plant.example")),
        ("subject".to_string(), text("{alert.level}: {alert.id}")),
    ];
    for (name, value) in extra {
        options.retain(|(n, _)| n != name);
        options.push((name.to_string(), value));
    }
    ConnectorCall {
        kind: KIND.into(),
        args: vec![text(server)],
        options,
    }
}

fn messages(c: &ConnectorCall) -> Vec<String> {
    validate(c, Role::Sink, None)
        .into_iter()
        .map(|p| format!("{p:?}"))
        .collect()
}

#[test]
fn reads_server_recipients_and_port_defaults() {
    let c = SmtpConfig::from_call(&call("mail.example.com", vec![])).expect("valid");
    assert_eq!(
        (c.host.as_str(), c.port, c.tls),
        ("mail.example.com", 587, SmtpTls::StartTls)
    );
    let to: Vec<String> = c.to.iter().map(|m| m.email.to_string()).collect();
    assert_eq!(to, ["a@plant.example", "b@plant.example"]);
    assert_eq!(c.from.name.as_deref(), Some("Weir"));
    let listed = call(
        "127.0.0.1:2525",
        vec![
            ("to", OptionValue::List(vec![text("ops@plant.example")])),
            ("tls", OptionValue::Ident("none".into())),
        ],
    );
    let c = SmtpConfig::from_call(&listed).expect("valid");
    assert_eq!((c.port, c.tls, c.to.len()), (2525, SmtpTls::None, 1));
    let wrapped = call(
        "smtp.example.com",
        vec![("tls", OptionValue::Ident("tls".into()))],
    );
    assert_eq!(SmtpConfig::from_call(&wrapped).expect("valid").port, 465);
}

#[test]
fn bad_options_are_reported_at_check_time() {
    let bad = [
        (call("host:notaport", vec![]), "not `host:port`"),
        (
            call("h:25", vec![("to", text("ops at plant"))]),
            "not an e-mail address",
        ),
        (
            call("h:25", vec![("tls", OptionValue::Ident("ssl".into()))]),
            "unknown `tls` mode",
        ),
        (
            call("h:25", vec![("username_env", text("U"))]),
            "needs both",
        ),
        (
            call("h:25", vec![("body", text("{oops"))]),
            "bad body template",
        ),
        (
            call("h:25", vec![("limit", OptionValue::Int(0))]),
            "must be positive",
        ),
        (call("h:25", vec![("passwd_env", text("P"))]), "passwd_env"),
        (
            call(
                "h:25",
                vec![
                    ("tls", OptionValue::Ident("none".into())),
                    ("ca_file", text("ca.pem")),
                ],
            ),
            "`ca_file` needs",
        ),
    ];
    for (c, want) in bad {
        let found = messages(&c);
        assert!(found.iter().any(|m| m.contains(want)), "{want}: {found:?}");
    }
    let mut no_to = call("h:25", vec![]);
    no_to.options.retain(|(n, _)| n != "to");
    assert!(!messages(&no_to).is_empty());
}

#[test]
fn docs_describe_every_option() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/connectors.md"),
    )
    .expect("docs/connectors.md");
    let start = docs.find("## `smtp`").expect("an smtp section");
    let end = docs[start..]
        .find("<!-- section:")
        .map_or(docs.len(), |i| start + i);
    for option in OPTIONS {
        assert!(
            docs[start..end].contains(&format!("| `{}`", option.name)),
            "docs/connectors.md does not describe smtp option `{}`",
            option.name
        );
    }
}
