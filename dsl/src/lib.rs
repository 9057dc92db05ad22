//! The `.pipe` language: text → spanned AST → checked program → engine logical plan.
#![forbid(missing_docs)]
