//! `unnest <list> as <name> [with ordinality as <rank>]`: the field is a list, and the
//! names the stage gives (the element, its companions' elements, the ordinality) are new
//! to the records. The engine's [`UnnestSpec`] decides which lists are companions and
//! how the output is laid out; this checks the result.

use weir_engine::plan::UnnestSpec;
use weir_engine::schema::{Schema, Type};

use super::scope::{Scope, ScopeField, Ty};
use super::{Ctx, Op};
use crate::ast::{Ident, UnnestAst};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The checked stage, if valid; `scope` becomes the records it leaves (poisoned when the
/// stage is not valid, as its fields are then unknown).
pub(crate) fn check_unnest(u: &UnnestAst, scope: &mut Scope, cx: &mut Ctx<'_>) -> Option<Op> {
    let checked = check(u, scope, cx);
    match &checked {
        Some((_, output)) => {
            let event_time = scope.event_time.clone();
            *scope = Scope {
                fields: output
                    .fields
                    .iter()
                    .map(|f| ScopeField {
                        name: f.name.clone(),
                        ty: Some(Ty {
                            ty: f.ty,
                            nullable: f.nullable,
                        }),
                    })
                    .collect(),
                origin: "the output of `unnest`".to_string(),
                origin_span: None,
                poisoned: false,
                event_time,
            };
        }
        None => *scope = Scope::poisoned(),
    }
    checked.map(|(spec, _)| Op::Unnest(spec))
}

fn check(u: &UnnestAst, scope: &Scope, cx: &mut Ctx<'_>) -> Option<(UnnestSpec, Schema)> {
    let (slot, ty) = scope.lookup(&u.list.name, u.list.span, cx)?;
    if !matches!(ty.ty, Type::List(_)) {
        cx.push(not_a_list(u, ty));
        return None;
    }
    // Unknown field types come from errors reported already.
    let input = scope.schema()?;
    let spec = UnnestSpec::new(&input, slot, &u.name.name, ordinality_name(u));
    let output = spec.output_schema(&input);
    let mut ok = true;
    // Each new field (the element, each companion's element, the ordinality) must be
    // the only field of its name.
    let new_slots = std::iter::once(slot)
        .chain(spec.companions.iter().copied())
        .chain(u.ordinality.as_ref().map(|_| output.len() - 1));
    for new in new_slots {
        let name = &output.fields[new].name;
        if let Some(other) = (0..output.len()).find(|&s| s != new && output.fields[s].name == *name)
        {
            // Reported once, at the later of the two new fields when both are new.
            if other < new || !is_new(&spec, other, &output) {
                let by = match &u.ordinality {
                    Some(rank) if new == output.len() - 1 => rank,
                    _ => &u.name,
                };
                cx.push(clash(u, by, name, scope, is_new(&spec, other, &output)));
                ok = false;
            }
        }
    }
    ok.then_some((spec, output))
}

fn ordinality_name(u: &UnnestAst) -> Option<&str> {
    u.ordinality.as_ref().map(|o| o.name.as_str())
}

/// Whether `slot` of the output is a field the unnest makes rather than copies.
fn is_new(spec: &UnnestSpec, slot: usize, output: &Schema) -> bool {
    slot == spec.list
        || spec.companions.contains(&slot)
        || (spec.ordinality.is_some() && slot == output.len() - 1)
}

fn not_a_list(u: &UnnestAst, ty: Ty) -> Diagnostic {
    Diagnostic::error(
        codes::UNNEST_NOT_A_LIST,
        format!("`unnest` needs a list, but `{}` is {}", u.list.name, ty.display()),
        u.list.span,
        format!("this is {}", ty.display()),
    )
    .with_help(
        "unnest a list an aggregate made: `top(x, n)`, `bottom(x, n)` or `collect(x)` in a `window … | aggregate`",
    )
}

fn clash(u: &UnnestAst, by: &Ident, name: &str, scope: &Scope, both_new: bool) -> Diagnostic {
    let label = match (both_new, name == by.name) {
        (true, _) => format!("another field this `unnest` makes is called `{name}`"),
        (false, true) => format!("the records already have `{name}`"),
        (false, false) => format!("this makes `{name}`, which the records already have"),
    };
    let what = if both_new {
        format!(
            "`unnest {}` would make two fields named `{name}`",
            u.list.name
        )
    } else {
        format!(
            "`unnest {}` would make a second field named `{name}`",
            u.list.name
        )
    };
    Diagnostic::error(codes::UNNEST_NAME_CLASH, what, by.span, label)
        .with_help("choose another name after `as`, or rename the field first with `select`")
        .with_note(format!("{} has: {}", scope.origin, scope.listing()))
}
