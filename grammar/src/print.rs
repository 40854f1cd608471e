//! A stable, readable printer of the AST as S-expressions, for snapshot tests.
//!
//! The format is part of the crate's contract for tests (golden files depend on it), so
//! change it only together with the snapshots. Every node prints its span as `@start..end`
//! right after its head. Conditions print one per line, indented by nesting; operands
//! print inline:
//!
//! ```
//! let expr = picket_grammar::parse_condition(r#"api.service == "s3" and not actor.arn exists"#);
//! assert_eq!(
//!     picket_grammar::to_sexpr(&expr.unwrap()),
//!     r#"(and @0..44
//!   (== @0..19 (path api.service @0..11) (str "s3" @15..19))
//!   (not @24..44
//!     (exists @28..44 (path actor.arn @28..37))))
//! "#
//! );
//! ```
//!
//! Literals: `(str "…")` with Rust string escapes, `(int 42)`, `(float 1.5)`,
//! `(bool true)`, `(null)`, `(dur 300)` (seconds), `(ip "10.0.0.0/8")`. Paths print in
//! their canonical [`Path::dotted`] form.

use std::fmt::Write;

use crate::ast::{
    Detection, Expr, ExprKind, InSet, IntelRef, Limit, LitValue, Literal, Operand, Path, Span,
    Stage, StageKind,
};

/// Prints `expr` as an indented S-expression ending with a newline (see the module docs).
///
/// ```
/// let expr = picket_grammar::parse_condition("a in~ (\"x\", 2)").unwrap();
/// assert_eq!(
///     picket_grammar::to_sexpr(&expr),
///     "(in~ @0..14 (path a @0..1) (items @6..14 (str \"x\" @7..10) (int 2 @12..13)))\n"
/// );
/// ```
pub fn to_sexpr(expr: &Expr) -> String {
    // An explicit stack rather than recursion: a long `and`/`or` chain is a deep tree.
    enum Work<'a> {
        Expr(&'a Expr, usize),
        Close,
    }
    let mut out = String::new();
    let mut stack = vec![Work::Expr(expr, 0)];
    while let Some(work) = stack.pop() {
        match work {
            Work::Close => out.push(')'),
            Work::Expr(expr, indent) => {
                if indent > 0 {
                    out.push('\n');
                    out.push_str(&"  ".repeat(indent));
                }
                let (head, kids): (&str, &[&Expr]) = match &expr.kind {
                    ExprKind::And(a, b) => ("and", &[a, b]),
                    ExprKind::Or(a, b) => ("or", &[a, b]),
                    ExprKind::Not(a) => ("not", &[a]),
                    ExprKind::Quantified { all, list, cond } => {
                        let head = if *all { "all" } else { "any" };
                        let _ = write!(out, "({head} {} {}", span(&expr.span), path(list));
                        stack.push(Work::Close);
                        stack.push(Work::Expr(cond, indent + 1));
                        continue;
                    }
                    _ => {
                        write_leaf(&mut out, expr);
                        continue;
                    }
                };
                let _ = write!(out, "({head} {}", span(&expr.span));
                stack.push(Work::Close);
                for kid in kids.iter().rev() {
                    stack.push(Work::Expr(kid, indent + 1));
                }
            }
        }
    }
    out.push('\n');
    out
}

fn span(s: &Span) -> String {
    format!("@{}..{}", s.start(), s.end())
}

/// A condition without sub-conditions, on one line.
fn write_leaf(out: &mut String, expr: &Expr) {
    let at = span(&expr.span);
    match &expr.kind {
        ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Not(..) | ExprKind::Quantified { .. } => {}
        ExprKind::Compare { lhs, op, rhs } => {
            let _ = write!(out, "({op} {at} {} {})", operand(lhs), operand(rhs));
        }
        ExprKind::StrMatch {
            lhs,
            op,
            nocase,
            rhs,
        } => {
            let tilde = if *nocase { "~" } else { "" };
            let _ = write!(out, "({op}{tilde} {at} {} {})", operand(lhs), operand(rhs));
        }
        ExprKind::In { lhs, nocase, set } => {
            let head = if *nocase { "in~" } else { "in" };
            let set = match set {
                InSet::Items(items, s) => list("items", items, s),
                InSet::Cidr(items, s) => list("cidr", items, s),
                InSet::Named(id) => format!("(list {} {})", id.name, span(&id.span)),
                InSet::Intel(IntelRef::Name(name, s), _) => {
                    format!("(intel {name:?} {})", span(s))
                }
                InSet::Intel(IntelRef::Kind(id), _) => {
                    format!("(intel-kind {} {})", id.name, span(&id.span))
                }
            };
            let _ = write!(out, "({head} {at} {} {set})", operand(lhs));
        }
        ExprKind::Matches { lhs, regex } => {
            let _ = write!(
                out,
                "(matches {at} {} (regex {:?} {:?} {}))",
                operand(lhs),
                regex.pattern,
                regex.flags,
                span(&regex.span)
            );
        }
        ExprKind::Exists(p) => {
            let _ = write!(out, "(exists {at} {})", path(p));
        }
        ExprKind::Ref(id) => {
            let _ = write!(out, "(ref {} {at})", id.name);
        }
        ExprKind::Bool(b) => {
            let _ = write!(out, "(bool {b} {at})");
        }
    }
}

fn list(head: &str, items: &[Literal], s: &Span) -> String {
    let mut out = format!("({head} {}", span(s));
    for item in items {
        out.push(' ');
        out.push_str(&literal(item));
    }
    out.push(')');
    out
}

fn path(p: &Path) -> String {
    format!("(path {} {})", p.dotted(), span(&p.span))
}

fn operand(op: &Operand) -> String {
    match op {
        Operand::Path(p) => path(p),
        Operand::Literal(l) => literal(l),
        Operand::Call(c) => {
            let mut out = format!("(call {} {}", c.name.name, span(&c.span));
            for arg in &c.args {
                out.push(' ');
                out.push_str(&operand(arg));
            }
            out.push(')');
            out
        }
    }
}

fn literal(l: &Literal) -> String {
    let at = span(&l.span);
    match &l.value {
        LitValue::Str(s) => format!("(str {s:?} {at})"),
        LitValue::Int(i) => format!("(int {i} {at})"),
        LitValue::Float(f) => format!("(float {f:?} {at})"),
        LitValue::Bool(b) => format!("(bool {b} {at})"),
        LitValue::Null => format!("(null {at})"),
        LitValue::Duration(d) => format!("(dur {d} {at})"),
        LitValue::Ip(ip) => format!("(ip {ip:?} {at})"),
    }
}

/// Prints a rule's whole `when:` ([`Detection`]): the condition as [`to_sexpr`] does,
/// then one line per stage, or the steps of a sequence and its window.
///
/// ```
/// let d = picket_grammar::parse_detection("a == 1 | count() >= 5 over 1m by b").unwrap();
/// assert_eq!(
///     picket_grammar::print::detection_to_sexpr(&d),
///     "(== @0..6 (path a @0..1) (int 1 @5..6))\n\
///      (threshold @9..34 (count @9..16) >= 5 (over 60 @27..29) (by (path b @33..34)))\n"
/// );
/// ```
pub fn detection_to_sexpr(d: &Detection) -> String {
    let mut out = String::new();
    match d {
        Detection::Filter { cond, stages } => {
            out.push_str(&to_sexpr(cond));
            for stage in stages {
                out.push_str(&stage_line(stage));
                out.push('\n');
            }
        }
        Detection::Sequence(seq) => {
            for (i, step) in seq.steps.iter().enumerate() {
                let _ = writeln!(out, "(step {i} x{} {})", step.times, span(&step.span));
                out.push_str(&to_sexpr(&step.cond));
            }
            let _ = writeln!(
                out,
                "(within {} {}) {}",
                seq.within.secs,
                span(&seq.within.span),
                by(&seq.by)
            );
        }
    }
    out
}

fn by(keys: &[Operand]) -> String {
    let parts: Vec<String> = keys.iter().map(operand).collect();
    format!("(by {})", parts.join(" "))
}

fn stage_line(stage: &Stage) -> String {
    let at = span(&stage.span);
    match &stage.kind {
        StageKind::Threshold {
            tests,
            over,
            by: keys,
            learning,
        } => {
            let tests: Vec<String> = tests
                .iter()
                .map(|t| {
                    let arg = t
                        .agg
                        .arg
                        .as_ref()
                        .map(|a| format!(" {}", operand(a)))
                        .unwrap_or_default();
                    let limit = match &t.limit {
                        Limit::Number(n, _) => format!("{n}"),
                        Limit::Baseline {
                            factor,
                            sigma,
                            floor,
                            span: s,
                        } => format!(
                            "(baseline {} factor={factor:?} sigma={sigma:?} floor={floor:?})",
                            span(s)
                        ),
                    };
                    format!(
                        "({}{arg} {}) {} {limit}",
                        t.agg.func.name(),
                        span(&t.agg.span),
                        t.op
                    )
                })
                .collect();
            let learning = learning
                .as_ref()
                .map(|l| format!(" (learning {})", l.secs))
                .unwrap_or_default();
            format!(
                "(threshold {at} {} (over {} {}) {}{learning})",
                tests.join(" and "),
                over.secs,
                span(&over.span),
                by(keys)
            )
        }
        StageKind::Baseline {
            rare,
            terms,
            by: keys,
            seen_below,
            novelty,
            learning,
            ..
        } => {
            let head = if *rare { "rare" } else { "new" };
            let seen = seen_below
                .as_ref()
                .map(|(n, _)| format!(" (seen< {n})"))
                .unwrap_or_default();
            let novelty = novelty
                .as_ref()
                .map(|d| format!(" (for {})", d.secs))
                .unwrap_or_default();
            let parts: Vec<String> = terms.iter().map(operand).collect();
            format!(
                "({head} {at} (terms {}) {}{seen}{novelty} (learning {}))",
                parts.join(" "),
                by(keys),
                learning.secs
            )
        }
    }
}
