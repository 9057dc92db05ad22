//! ONNX inference end to end (with `--features onnx`): the model in examples/models (made
//! by make_models.py) gives what its math gives by hand, batched or one row per call;
//! `weir run` appends the same outputs on 1 and 4 workers; `weir check` compares
//! declarations with the real file.
#![cfg(feature = "onnx")]

use std::path::{Path, PathBuf};
use std::process::Command;

use weir_engine::ml::ElemType;
use weir_engine::plan::ModelNode;
use weir_runtime::catalog::Catalog;

/// The weights of examples/models/make_models.py.
const W1: [[f64; 3]; 2] = [[0.5, -0.25, 0.125], [1.0, 0.75, -0.5]];
const B1: [f64; 3] = [0.0, 0.25, 0.5];
const W2: [f64; 3] = [1.5, -2.0, 0.5];
const B2: f64 = 3.0;
const W3: [f64; 2] = [0.0625, 0.75];
const B3: f64 = -4.0;

/// (power, fault) for one record, by hand.
fn by_hand(temp: f64, vibration: f64) -> (f64, f64) {
    let mut power = B2;
    for j in 0..3 {
        let h = (temp * W1[0][j] + vibration * W1[1][j] + B1[j]).max(0.0);
        power += h * W2[j];
    }
    let z = temp * W3[0] + vibration * W3[1] + B3;
    (power, 1.0 / (1.0 + (-z).exp()))
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .join("examples/models")
}

fn node(file: &str) -> ModelNode {
    ModelNode {
        name: "power".into(),
        format: "onnx".into(),
        path: models_dir().join(file).display().to_string(),
        // Declared outputs in another order than the graph's, to see they are matched by name.
        inputs: vec![
            ("temp".into(), ElemType::F32),
            ("vibration".into(), ElemType::F32),
        ],
        outputs: vec![
            ("fault".into(), ElemType::F32),
            ("power".into(), ElemType::F32),
        ],
    }
}

/// f32 arithmetic inside the model: agree to a relative 1e-5.
#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
        "got {got}, by hand {want}"
    );
}

#[test]
fn the_model_computes_its_math_batched_and_one_row_per_call() {
    let temps: Vec<f64> = (0..300).map(|i| 20.0 + f64::from(i) * 0.37).collect();
    let vibrations: Vec<f64> = (0..300).map(|i| f64::from(i % 17) * 0.9).collect();
    for file in ["power.onnx", "power_one_row.onnx"] {
        let node = node(file);
        let model = weir_runtime::model::load(&node, Path::new(&node.path)).expect("loads");
        let out = model
            .infer(temps.len(), &[temps.clone(), vibrations.clone()])
            .expect("runs");
        assert_eq!(out.len(), 2);
        for r in 0..temps.len() {
            let (power, fault) = by_hand(temps[r], vibrations[r]);
            close(out[0][r], fault);
            close(out[1][r], power);
        }
        // Some rows use every hidden unit and some none (relu clips): the math is covered.
        assert!(out[1].iter().any(|p| *p > 50.0) && out[0].iter().any(|f| *f < 0.5));
    }
}

#[test]
fn a_declaration_that_no_longer_fits_the_file_fails_at_load() {
    let mut node = node("power.onnx");
    node.inputs[0].1 = ElemType::F64;
    let err = weir_runtime::model::load(&node, Path::new(&node.path))
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("model input `temp` is f32"),
        "{err}"
    );
}

fn run_with(workers: usize, dir: &Path) -> Vec<serde_json::Value> {
    let model = models_dir().join("power.onnx");
    let out_name = format!("out{workers}.jsonl");
    let text = format!(
        r#"
model power = onnx("{}") {{
  inputs  {{ temp: f32, vibration: f32 }}
  outputs {{ power: f32, fault: f32 }}
}}
source telemetry = sensors(devices: 8, rate: 1000, duration: 30s, seed: 11) {{
  device_id: string
  temp:      f64
  vibration: f64
  ts:        timestamp
  event_time ts
}}
sink out = file("{out_name}")
pipeline scored {{
  from telemetry
  | infer power with {{temp, vibration}} -> {{power, fault}}
  | to out
}}
"#,
        model.display()
    );
    std::fs::write(dir.join("p.pipe"), text).expect("pipe");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "p.pipe", "--workers", &workers.to_string()])
        .current_dir(dir)
        .output()
        .expect("weir starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows: Vec<serde_json::Value> = std::fs::read_to_string(dir.join(&out_name))
        .expect("output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    rows.sort_by_key(|r| (r["device_id"].to_string(), r["ts"].to_string()));
    rows
}

#[test]
fn weir_run_appends_the_model_outputs_the_same_on_1_and_4_workers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let one = run_with(1, tmp.path());
    let four = run_with(4, tmp.path());
    assert!(one.len() > 1000, "{} records", one.len());
    assert_eq!(one, four);
    for r in &one {
        let temp = r["temp"].as_f64().expect("temp");
        let vibration = r["vibration"].as_f64().expect("vibration");
        let (power, fault) = by_hand(temp, vibration);
        close(r["power"].as_f64().expect("power"), power);
        close(r["fault"].as_f64().expect("fault"), fault);
    }
}

fn check(model_decl: &str) -> Vec<(String, String)> {
    let text = format!(
        "{model_decl}\nsource s = sensors() {{ temp: f64  vibration: f64 }}\nsink out = stdout()\n\
         pipeline p {{ from s | infer m with {{temp, vibration}} -> {{y}} | to out }}\n"
    );
    match weir_dsl::compile_with("t.pipe", &text, &Catalog) {
        Ok(_) => Vec::new(),
        Err(diags) => diags
            .iter()
            .map(|d| (d.code.to_string(), d.message.clone()))
            .collect(),
    }
}

#[test]
fn weir_check_compares_the_declaration_with_the_real_file() {
    let dir = models_dir();
    let power = dir.join("power.onnx").display().to_string();
    let ok = format!(
        "model m = onnx(\"{power}\") {{ inputs {{ temp: f32, vibration: f32 }} outputs {{ y: f32 }} }}"
    );
    // `y` is no output of power.onnx: the real signature is read.
    assert_eq!(
        check(&ok),
        [(
            "P0109".to_string(),
            "the model has no output `y`".to_string()
        )]
    );
    let typed = format!(
        "model m = onnx(\"{power}\") {{ inputs {{ temp: i64, vibration: f32 }} outputs {{ power: f32 }} }}"
    );
    let got = check(&typed);
    assert!(
        got.iter()
            .any(|(c, m)| c == "P0109" && m == "model input `temp` is f32, not i64"),
        "{got:?}"
    );
    let wide = dir.join("wide.onnx").display().to_string();
    let got = check(&format!(
        "model m = onnx(\"{wide}\") {{ inputs {{ features: f32 }} outputs {{ y: f32 }} }}"
    ));
    assert_eq!(
        got,
        [(
            "P0109".to_string(),
            "model input `features` has shape [N, 3], not one value per record".to_string()
        )]
    );
    let got =
        check("model m = onnx(\"nowhere/m.onnx\") { inputs { temp: f32 } outputs { y: f32 } }");
    assert_eq!(
        got,
        [(
            "P0109".to_string(),
            "model file `nowhere/m.onnx` does not exist".to_string()
        )]
    );
    let not_onnx = dir.join("make_models.py").display().to_string();
    let got = check(&format!(
        "model m = onnx(\"{not_onnx}\") {{ inputs {{ temp: f32 }} outputs {{ y: f32 }} }}"
    ));
    assert!(
        got.len() == 1 && got[0].1.starts_with("cannot read model"),
        "{got:?}"
    );
}
