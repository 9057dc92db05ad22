//! `GET /`: the dashboard, a page and a script of our own (runtime/dashboard/src) with
//! uPlot for the charts, all served by the binary: it works offline, with no CDN.

use super::reply::{self, Reply};

include!(concat!(env!("OUT_DIR"), "/uplot.rs"));

const PAGE: &str = include_str!("../../dashboard/src/index.html");
const SCRIPT: &str = include_str!("../../dashboard/src/dashboard.js");
const STYLE: &str = include_str!("../../dashboard/src/dashboard.css");

/// The page.
pub fn page() -> Reply {
    reply::with_type(200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec())
}

/// One of the page's assets, by path.
pub fn asset(path: &str) -> Reply {
    let (body, content_type) =
        match path {
            "/dashboard.js" => (SCRIPT, "text/javascript; charset=utf-8"),
            "/dashboard.css" => (STYLE, "text/css; charset=utf-8"),
            "/uPlot.js" | "/uPlot.css" => match UPLOT {
                Some((js, _)) if path == "/uPlot.js" => (js, "text/javascript; charset=utf-8"),
                Some((_, css)) => (css, "text/css; charset=utf-8"),
                None => return reply::error(
                    404,
                    "this weir was built without uPlot: run `npm ci --prefix runtime/dashboard` \
                     and build again for charts",
                ),
            },
            _ => return reply::error(404, format!("no such asset `{path}`")),
        };
    reply::with_type(200, content_type, body.as_bytes().to_vec())
}
