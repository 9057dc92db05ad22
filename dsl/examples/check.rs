//! `cargo run -p weir-dsl --example check -- file.pipe`: compile a file and print its plan
//! or its diagnostics.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check <file.pipe> [--json]");
        std::process::exit(2);
    };
    let json = std::env::args().any(|a| a == "--json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let show = |d: &[weir_dsl::Diagnostic]| {
        if json {
            weir_dsl::render_json(d, &path, &text)
        } else {
            weir_dsl::render(d, &path, &text, false)
        }
    };
    match weir_dsl::compile(&path, &text) {
        Ok(c) => {
            print!("{}", show(&c.warnings));
            print!("{}", c.plan.explain());
        }
        Err(d) => {
            print!("{}", show(&d));
            std::process::exit(1);
        }
    }
}
