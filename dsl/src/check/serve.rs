//! `serve` declarations and `live` sinks: where the run's HTTP server listens, and which
//! sinks it streams as server-sent events (docs/http.md).

use std::net::SocketAddr;

use crate::ast::{Item, Program, ServeDecl, SinkDecl};
use crate::check::Ctx;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// Where the file asks the run's HTTP server to listen (`weir run --http` overrides it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeSpec {
    /// `serve on "addr" [token env "VAR"]`.
    On {
        /// The address, checked to parse as `ip:port`.
        addr: SocketAddr,
        /// The environment variable holding the bearer token, if any.
        token_env: Option<String>,
    },
    /// `serve off`: no server.
    Off,
}

/// What a program says about serving: its `serve` declaration and its `live` sinks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Serving {
    /// The `serve` declaration, if the file has a valid one.
    pub serve: Option<ServeSpec>,
    /// The sinks declared `live`, in declaration order.
    pub live_sinks: Vec<String>,
}

/// Checks the `serve` declaration (one at most) and the `live` marks.
pub(crate) fn check(program: &Program, cx: &mut Ctx<'_>) -> Serving {
    let mut serving = Serving::default();
    let mut first: Option<&ServeDecl> = None;
    for item in &program.items {
        match item {
            Item::Serve(decl) => match first {
                Some(earlier) => cx.push(
                    Diagnostic::error(
                        codes::SERVE_TWICE,
                        "the file declares `serve` twice",
                        decl.span,
                        "second `serve`",
                    )
                    .with_secondary(earlier.span, "first `serve`")
                    .with_help("a run has one HTTP server: keep one `serve` declaration"),
                ),
                None => {
                    first = Some(decl);
                    serving.serve = serve_spec(decl, cx);
                }
            },
            Item::Sink(decl) if decl.live.is_some() => {
                live_sink(decl, cx);
                serving.live_sinks.push(decl.name.name.clone());
            }
            _ => {}
        }
    }
    if let (Some(ServeSpec::Off), Some(off)) = (&serving.serve, first) {
        warn_unserved(program, off, cx);
    }
    serving
}

/// The spec of one `serve` declaration, or `None` (reported) if it is wrong.
fn serve_spec(decl: &ServeDecl, cx: &mut Ctx<'_>) -> Option<ServeSpec> {
    let Some((text, span)) = &decl.addr else {
        return Some(ServeSpec::Off);
    };
    let Ok(addr) = text.parse::<SocketAddr>() else {
        cx.push(
            Diagnostic::error(
                codes::BAD_SERVE_ADDRESS,
                format!("`{text}` is not an address to serve on"),
                *span,
                "not `ip:port`",
            )
            .with_help(
                "write an IP address and a port, such as \"127.0.0.1:9464\" (port 0 picks a \
                 free one) or \"[::1]:9464\"; host names are not accepted",
            ),
        );
        return None;
    };
    let token_env = match &decl.token_env {
        Some((var, var_span)) => {
            if !is_env_name(var) {
                cx.push(
                    Diagnostic::error(
                        codes::BAD_TOKEN_VARIABLE,
                        // Not quoted back: what was written may be the token itself.
                        "`token env` needs the name of an environment variable",
                        *var_span,
                        "not a variable name",
                    )
                    .with_help(
                        "name the variable that holds the token, such as \"WEIR_TOKEN\" \
                         (letters, numbers and `_`, not starting with a number); the token \
                         itself never goes in the file",
                    ),
                );
                return None;
            }
            Some(var.clone())
        }
        None => None,
    };
    if token_env.is_none() && !addr.ip().is_loopback() {
        cx.push(
            Diagnostic::error(
                codes::SERVE_BEYOND_LOOPBACK_WITHOUT_TOKEN,
                format!("serving on {addr} needs a token"),
                *span,
                "not a loopback address",
            )
            .with_note(
                "the server shows the run's records (state, live sinks) and metrics to anyone \
                 who can reach this address, so beyond loopback every request must carry \
                 `Authorization: Bearer <token>`",
            )
            .with_help(format!(
                "add `token env \"WEIR_TOKEN\"` (`serve on \"{text}\" token env \
                 \"WEIR_TOKEN\"`) and set the token in $WEIR_TOKEN when you run, or serve on \
                 \"127.0.0.1:{}\"",
                addr.port()
            )),
        );
        return None;
    }
    Some(ServeSpec::On { addr, token_env })
}

/// `live` on a `chart` sink says nothing new: a chart is always streamed.
fn live_sink(decl: &SinkDecl, cx: &mut Ctx<'_>) {
    let (Some(live), "chart") = (decl.live, decl.connector.kind.name.as_str()) else {
        return;
    };
    cx.push(
        Diagnostic::warning(
            codes::LIVE_CHART,
            format!(
                "`live` changes nothing on `chart` sink `{}`",
                decl.name.name
            ),
            live,
            "a chart is always live",
        )
        .with_help("remove `live`: /api/stream/<sink> already streams every chart's points"),
    );
}

/// `serve off` with `live` or `chart` sinks: nothing will show them.
fn warn_unserved(program: &Program, off: &ServeDecl, cx: &mut Ctx<'_>) {
    for item in &program.items {
        let Item::Sink(decl) = item else { continue };
        let live = decl.live.is_some() || decl.connector.kind.name == "chart";
        if live {
            cx.push(
                Diagnostic::warning(
                    codes::LIVE_BUT_NOT_SERVED,
                    format!(
                        "`{}` is streamed over HTTP, but the file says `serve off`",
                        decl.name.name
                    ),
                    decl.name.span,
                    "nobody can watch this sink",
                )
                .with_secondary(off.span, "no HTTP server")
                .with_help(
                    "serve on an address (`serve on \"127.0.0.1:9464\"`), or drop `live` \
                     (a `chart` sink does nothing without a server)",
                ),
            );
        }
    }
}

/// A POSIX-style environment variable name.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
