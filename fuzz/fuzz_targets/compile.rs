//! Arbitrary bytes as a `.pipe` file: parsing, checking and rendering the diagnostics
//! (text and JSON) must never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match weir_dsl::compile("fuzz.pipe", text) {
            Ok(compiled) => {
                let _ = compiled.plan.explain();
                let _ = weir_dsl::render(&compiled.warnings, "fuzz.pipe", text, false);
            }
            Err(diagnostics) => {
                let _ = weir_dsl::render(&diagnostics, "fuzz.pipe", text, false);
                let _ = weir_dsl::render_json(&diagnostics, "fuzz.pipe", text);
            }
        }
    }
});
