//! Reading and compiling a .pipe file, printing its diagnostics.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;

use super::ErrorFormat;

/// Reads and compiles `path`. Diagnostics (warnings, or errors) are printed to stderr;
/// `Ok(None)` means the program has errors.
pub fn load_program(
    path: &Path,
    format: ErrorFormat,
) -> anyhow::Result<Option<weir_dsl::Compiled>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let name = path.display().to_string();
    let result = weir_dsl::compile_with(&name, &text, &crate::catalog::Catalog);
    let diagnostics = match &result {
        Ok(compiled) => compiled.warnings.clone(),
        Err(diagnostics) => diagnostics.clone(),
    };
    if !diagnostics.is_empty() {
        // Quoted lines show no credentials (same length, so the spans still fit).
        let text = crate::connectors::secret::mask_source(&text);
        let rendered = match format {
            ErrorFormat::Human => {
                weir_dsl::render(&diagnostics, &name, &text, std::io::stderr().is_terminal())
            }
            ErrorFormat::Json => weir_dsl::render_json(&diagnostics, &name, &text),
        };
        eprint!("{rendered}");
    }
    Ok(result.ok())
}
