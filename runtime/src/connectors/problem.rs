//! Problems with a connector call, found before anything runs, and the role it plays.

use std::fmt;

use weir_engine::io::IoError;

/// Whether a connector call declares a source or a sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `source x = …`
    Source,
    /// `sink x = …`
    Sink,
    /// `table x = …`
    Table,
}

impl Role {
    /// `source` or `sink`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Sink => "sink",
            Role::Table => "table",
        }
    }
}

/// One thing wrong with a connector call, in user words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The option (or positional parameter name) to blame; `None` for the call as a whole
    /// or for the declared schema.
    pub option: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to write instead, when we can tell.
    pub help: Option<String>,
}

impl ConfigProblem {
    /// A problem with option `option`.
    pub fn option(option: &str, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem {
            option: Some(option.to_string()),
            message: message.into(),
            help: None,
        }
    }

    /// A problem with the call as a whole (or with the schema).
    pub fn call(message: impl Into<String>) -> ConfigProblem {
        ConfigProblem {
            option: None,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> ConfigProblem {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// All problems of a call as one [`IoError::Config`], for opening at run time.
pub(crate) fn config_error(kind: &str, problems: &[ConfigProblem]) -> IoError {
    let parts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    IoError::Config(format!("`{kind}`: {}", parts.join("; ")))
}
