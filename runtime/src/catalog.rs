//! The connector catalog given to the checker, so `weir check` validates connector
//! options before anything runs.

use weir_dsl::{ConnectorCatalog, ModelLoadError, Role};
use weir_engine::ml::ModelSignature;
use weir_engine::plan::ConnectorCall;
use weir_engine::schema::Schema;

use crate::connectors;

/// Validates calls against the built-in connectors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Catalog;

impl ConnectorCatalog for Catalog {
    fn check(
        &self,
        call: &ConnectorCall,
        role: Role,
        schema: Option<&Schema>,
    ) -> Vec<(Option<String>, String, Option<String>)> {
        let role = match role {
            Role::Source => connectors::Role::Source,
            Role::Sink => connectors::Role::Sink,
            Role::Table => connectors::Role::Table,
        };
        connectors::validate(call, role, schema)
            .into_iter()
            .map(|p| (p.option, p.message, p.help))
            .collect()
    }

    /// Reads the model file (relative paths from the current directory, as `weir run`
    /// resolves them).
    fn model_signature(
        &self,
        format: &str,
        path: &str,
    ) -> Result<Option<ModelSignature>, ModelLoadError> {
        crate::model::signature(format, std::path::Path::new(path)).map(Some)
    }
}
