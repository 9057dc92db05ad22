//! Nesting limits, checked before the recursive parts of the front end run: pest descends
//! once per bracket and every later pass (checking, lowering, compiling, dropping the tree)
//! once per operator, so a deep enough file would overflow the stack and abort the process
//! instead of getting a diagnostic.

use crate::ast::Span;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// Brackets (`(`, `[`, `{`) open at once, at most. Real programs nest a handful.
pub(crate) const MAX_BRACKETS: usize = 64;

/// Operators, calls and parentheses in one expression on the way from its root to a leaf,
/// at most (a chain `a + b + c` is a tree as deep as it is long).
pub(crate) const MAX_EXPR_DEPTH: usize = 256;

/// The first bracket of `text` that opens more than [`MAX_BRACKETS`] deep, outside strings
/// and comments, as a diagnostic. Linear and without recursion, so it runs before pest.
pub(crate) fn check_brackets(text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    for (i, c) in text.char_indices() {
        match c {
            '\n' => {
                // The grammar ends an unterminated string at the line end.
                in_comment = false;
                in_string = false;
                escaped = false;
            }
            _ if in_comment => {}
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            _ if in_string => {}
            '#' => in_comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_BRACKETS {
                    return Some(too_deep(
                        Span::new(i, i + 1),
                        format!("brackets nested more than {MAX_BRACKETS} deep"),
                        format!("bracket {depth} levels deep"),
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The diagnostic for an expression whose tree would be deeper than [`MAX_EXPR_DEPTH`].
pub(crate) fn expression_too_deep(span: Span) -> Diagnostic {
    too_deep(
        span,
        format!("this expression nests more than {MAX_EXPR_DEPTH} operations deep"),
        "too many operators, calls and parentheses inside one another".to_string(),
    )
}

fn too_deep(span: Span, what: String, label: String) -> Diagnostic {
    Diagnostic::error(
        codes::NESTED_TOO_DEEPLY,
        format!("nested too deeply: {what}"),
        span,
        label,
    )
    .with_help("split the expression: compute parts in earlier `map` stages and combine the fields")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "(".repeat(MAX_BRACKETS + 1);
        assert!(check_brackets(&format!("x = \"{deep}\"")).is_none());
        assert!(check_brackets(&format!("# {deep}\nx")).is_none());
        assert!(check_brackets(&"(".repeat(MAX_BRACKETS)).is_none());
        let d = check_brackets(&format!("a {deep}")).expect("too deep");
        assert_eq!(d.code, codes::NESTED_TOO_DEEPLY);
        assert_eq!(
            d.primary.span,
            Span::new(2 + MAX_BRACKETS, 3 + MAX_BRACKETS)
        );
    }

    #[test]
    fn an_unterminated_string_ends_at_the_line_end() {
        let deep = "(".repeat(MAX_BRACKETS + 1);
        assert!(check_brackets(&format!("x = \"abc\n{deep}")).is_some());
    }
}
