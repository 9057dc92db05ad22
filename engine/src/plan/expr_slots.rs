//! Which record slots an expression reads, and the same expression reading other slots:
//! what the rewrite rules of `optimize` need to move stages past each other.

use super::expr::Expr;

impl Expr {
    /// Calls `f` with every slot the expression reads (a slot once per read).
    pub fn for_each_slot(&self, f: &mut impl FnMut(usize)) {
        match self {
            Expr::Literal(_) => {}
            Expr::Field { slot, .. } => f(*slot),
            Expr::Unary(_, e) | Expr::ToFloat(e) => e.for_each_slot(f),
            Expr::Binary(_, a, b) => {
                a.for_each_slot(f);
                b.for_each_slot(f);
            }
            Expr::Between(x, lo, hi) => {
                x.for_each_slot(f);
                lo.for_each_slot(f);
                hi.for_each_slot(f);
            }
            Expr::In(x, list) => {
                x.for_each_slot(f);
                list.iter().for_each(|e| e.for_each_slot(f));
            }
            Expr::Call(_, args) => args.iter().for_each(|e| e.for_each_slot(f)),
            Expr::Cond(branches, otherwise) => {
                for (when, then) in branches {
                    when.for_each_slot(f);
                    then.for_each_slot(f);
                }
                otherwise.for_each_slot(f);
            }
        }
    }

    /// Whether every slot the expression reads passes `keep`.
    pub fn reads_only(&self, mut keep: impl FnMut(usize) -> bool) -> bool {
        let mut all = true;
        self.for_each_slot(&mut |slot| all &= keep(slot));
        all
    }

    /// The expression with each field read replaced by `replace(slot)`, or `None` if
    /// `replace` has no replacement for one of them.
    pub fn substitute(&self, replace: &impl Fn(usize) -> Option<Expr>) -> Option<Expr> {
        let boxed = |e: &Expr| e.substitute(replace).map(Box::new);
        let all = |list: &[Expr]| {
            list.iter()
                .map(|e| e.substitute(replace))
                .collect::<Option<Vec<_>>>()
        };
        Some(match self {
            Expr::Literal(v) => Expr::Literal(v.clone()),
            Expr::Field { slot, .. } => replace(*slot)?,
            Expr::Unary(op, e) => Expr::Unary(*op, boxed(e)?),
            Expr::ToFloat(e) => Expr::ToFloat(boxed(e)?),
            Expr::Binary(op, a, b) => Expr::Binary(*op, boxed(a)?, boxed(b)?),
            Expr::Between(x, lo, hi) => Expr::Between(boxed(x)?, boxed(lo)?, boxed(hi)?),
            Expr::In(x, list) => Expr::In(boxed(x)?, all(list)?),
            Expr::Call(func, args) => Expr::Call(*func, all(args)?),
            Expr::Cond(branches, otherwise) => Expr::Cond(
                branches
                    .iter()
                    .map(|(when, then)| {
                        Some((when.substitute(replace)?, then.substitute(replace)?))
                    })
                    .collect::<Option<Vec<_>>>()?,
                boxed(otherwise)?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::sample::{field, greater};
    use crate::plan::Expr;

    #[test]
    fn slots_are_listed_and_renamed() {
        let e = greater(1, 2.0);
        let mut seen = Vec::new();
        e.for_each_slot(&mut |s| seen.push(s));
        assert_eq!(seen, vec![1]);
        assert!(e.reads_only(|s| s == 1));
        assert_eq!(e.substitute(&|_| Some(field(3))), Some(greater(3, 2.0)));
        assert_eq!(e.substitute(&|_| None::<Expr>), None);
    }
}
