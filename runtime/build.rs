//! Embeds the dashboard's chart library, uPlot, when it has been installed from the npm
//! registry (`npm ci --prefix runtime/dashboard`, which .ci/run does). It is not in the
//! repository, and a build must work on a fresh clone without npm: then the dashboard
//! shows the job graph and tables, and says how to get the charts.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("dashboard/node_modules/uplot/dist");
    let (js, css) = (dist.join("uPlot.iife.min.js"), dist.join("uPlot.min.css"));
    // The folder, not the files: a missing file would rerun this script on every build.
    println!("cargo:rerun-if-changed=dashboard/package-lock.json");
    println!("cargo:rerun-if-changed=dashboard/node_modules/uplot");
    let code = if js.is_file() && css.is_file() {
        format!(
            "/// uPlot's script and style, from the npm registry.\n\
             pub const UPLOT: Option<(&str, &str)> = Some((include_str!({js:?}), include_str!({css:?})));\n"
        )
    } else {
        "/// uPlot was not installed when this binary was built.\n\
         pub const UPLOT: Option<(&str, &str)> = None;\n"
            .to_string()
    };
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("uplot.rs");
    std::fs::write(out, code).expect("write OUT_DIR/uplot.rs");
}
