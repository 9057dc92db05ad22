//! `on overload drop|backpressure` in a source: at most one, and `drop` only where the
//! source is pushed to and so can be overloaded.

use weir_engine::plan::{ConnectorCall, OverloadPolicy};

use super::connectors::ConnectorCatalog;
use super::Ctx;
use crate::ast::SourceDecl;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The source's policy (back-pressure unless it says `drop`), after reporting problems.
pub(crate) fn check(
    decl: &SourceDecl,
    connector: Option<&ConnectorCall>,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> OverloadPolicy {
    let Some(&(policy, span)) = decl.overload.first() else {
        return OverloadPolicy::Backpressure;
    };
    for &(_, again) in &decl.overload[1..] {
        cx.push(
            Diagnostic::error(
                codes::DUPLICATE_OVERLOAD,
                format!("`{}` says what to do on overload twice", decl.name.name),
                again,
                "second `on overload` line",
            )
            .with_secondary(span, "the first one")
            .with_help("keep one: `on overload drop` or `on overload backpressure`"),
        );
    }
    if let Some(call) = connector {
        if policy == OverloadPolicy::Drop && !catalog.may_drop_on_overload(call) {
            cx.push(
                Diagnostic::error(
                    codes::CANNOT_DROP_ON_OVERLOAD,
                    format!(
                        "a `{}` source is read at the pipeline's pace, so it has nothing to drop",
                        call.kind
                    ),
                    span,
                    "cannot drop on overload",
                )
                .with_note(
                    "only sources that are pushed to, such as `mqtt`, can fall behind; \
                     the others just read more slowly",
                )
                .with_help("remove this line"),
            );
        }
    }
    policy
}

#[cfg(test)]
mod tests {
    use weir_engine::plan::OverloadPolicy;

    use crate::compile;

    #[test]
    fn overload_drop_reaches_the_plan_of_an_mqtt_source() {
        let text = "source m = mqtt(\"mqtt://localhost:1883\", topic: \"t/{id}\") {\n  id: string\n  on overload drop\n}\nsink out = stdout()\npipeline p { from m | to out }\n";
        let plan = compile("c.pipe", text).expect("compiles").plan;
        assert_eq!(plan.sources[0].overload, OverloadPolicy::Drop);
        assert!(
            plan.explain().contains("  on overload drop\n"),
            "{}",
            plan.explain()
        );
        let plan = compile("c.pipe", "source s = sensors() {\n  temp: f64\n}\nsink out = stdout()\npipeline p { from s | to out }\n").expect("compiles").plan;
        assert_eq!(plan.sources[0].overload, OverloadPolicy::Backpressure);
    }
}
