//! The fields the simulator can fill, matched by name against the declared schema.

use weir_engine::schema::{Schema, Type};

use crate::connectors::options::names;
use crate::connectors::problem::ConfigProblem;
use crate::connectors::suggest::did_you_mean;

/// One quantity the simulator produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// `device_id: string` — `dev-07` (zero-padded to the width of the device count).
    DeviceId,
    /// `machine_id: string` — the machine carrying the device (4 devices per machine).
    MachineId,
    /// `line: string` — the production line of the machine (4 machines per line).
    Line,
    /// `ts` / `time` / `timestamp: timestamp` — event time.
    Time,
    /// `temp` / `temperature: f64` — °C.
    Temperature,
    /// `vibration: f64` — mm/s.
    Vibration,
    /// `power: f64` — kW.
    Power,
    /// `seq: i64` — the global event number.
    Seq,
    /// `anomaly: bool` — whether the reading is an injected anomaly.
    Anomaly,
}

/// Every field name the simulator knows, with what it fills.
pub const FIELD_NAMES: [(&str, Measure); 12] = [
    ("device_id", Measure::DeviceId),
    ("machine_id", Measure::MachineId),
    ("line", Measure::Line),
    ("ts", Measure::Time),
    ("time", Measure::Time),
    ("timestamp", Measure::Time),
    ("temp", Measure::Temperature),
    ("temperature", Measure::Temperature),
    ("vibration", Measure::Vibration),
    ("power", Measure::Power),
    ("seq", Measure::Seq),
    ("anomaly", Measure::Anomaly),
];

impl Measure {
    /// The measure a field called `name` receives.
    pub fn from_name(name: &str) -> Option<Measure> {
        FIELD_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    /// The type of its values.
    pub fn ty(self) -> Type {
        match self {
            Measure::DeviceId | Measure::MachineId | Measure::Line => Type::String,
            Measure::Time => Type::Timestamp,
            Measure::Temperature | Measure::Vibration | Measure::Power => Type::Float,
            Measure::Seq => Type::Int,
            Measure::Anomaly => Type::Bool,
        }
    }

    /// The measure of each field of `schema`, in slot order, or why the simulator cannot
    /// fill it (unknown name, wrong type).
    pub fn for_schema(schema: &Schema) -> Result<Vec<Measure>, Vec<ConfigProblem>> {
        let mut measures = Vec::with_capacity(schema.len());
        let mut problems = Vec::new();
        for field in &schema.fields {
            match Measure::from_name(&field.name) {
                Some(m) if m.ty() == field.ty => measures.push(m),
                Some(m) => problems.push(
                    ConfigProblem::call(format!(
                        "field `{}` is declared `{}`, but `sensors` produces `{}` for it",
                        field.name,
                        field.ty,
                        m.ty()
                    ))
                    .with_help(format!(
                        "declare it as `{}: {}`",
                        field.name,
                        m.ty()
                    )),
                ),
                None => {
                    let help = match did_you_mean(&field.name, FIELD_NAMES.iter().map(|(n, _)| *n))
                    {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "it can fill: {}",
                            names(FIELD_NAMES.iter().map(|(n, _)| *n))
                        ),
                    };
                    problems.push(
                        ConfigProblem::call(format!(
                            "`sensors` cannot fill field `{}`: the simulator does not produce it",
                            field.name
                        ))
                        .with_help(help),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(measures)
        } else {
            Err(problems)
        }
    }
}
