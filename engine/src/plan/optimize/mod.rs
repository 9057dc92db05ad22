//! Rules that rewrite a plan before it runs, one rule per file.
//!
//! Logical rules ([`logical`]) rewrite the [`LogicalPlan`](super::LogicalPlan) and keep
//! its meaning: every sink receives the same records. Physical rules ([`physical`])
//! choose how the operators of a [`PhysicalPlan`] run.

mod combiner_lifting;
mod filter_pushdown;
mod fusion;
mod projection_pushdown;

pub use projection_pushdown::source_fields;

use super::physical::PhysicalPlan;
use super::LogicalPlan;

/// Applies the logical rules, in order; the result computes what `plan` does.
pub fn logical(plan: LogicalPlan) -> LogicalPlan {
    filter_pushdown::apply(plan)
}

/// Applies the physical rules to `plan`, lowered from `logical`, in order.
pub fn physical(plan: PhysicalPlan, logical: &LogicalPlan) -> PhysicalPlan {
    fusion::apply(combiner_lifting::apply(plan, logical))
}
