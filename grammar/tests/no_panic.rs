//! The parser and the renderer never panic, whatever the input: random token soups,
//! random bytes, very deep nesting and very large inputs. Every diagnostic's labels and
//! every AST span must lie inside the text, on character boundaries.
//!
//! proptest is not available, so inputs come from a small deterministic generator.

use picket_grammar::ast::{Expr, ExprKind, InSet, IntelRef, Operand};
use picket_grammar::{parse_condition, render, to_sexpr, Diagnostic, Span};

/// xorshift64*: deterministic, good enough to shuffle tokens.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "|",
    "count()",
    "distinct(",
    "over",
    "5m",
    "0s",
    "by",
    "then",
    "within",
    "at least",
    "3",
    "times",
    "new",
    "rare",
    "seen <",
    "after learning",
    "for",
    "baseline *",
    "+ 2 sigma",
    "a",
    "b.c",
    "x[0]",
    "y[\"k.z\"]",
    "log-status",
    "[",
    "]",
    ".",
    "\"",
    "'",
    "\\",
    "\"s\"",
    "'q'",
    "\"\\u{",
    "\\u{41}",
    "}",
    "(",
    ")",
    "(",
    ")",
    "not",
    "and",
    "or",
    "AND",
    "NOT",
    "OR",
    "==",
    "=",
    "!=",
    "!",
    "~=",
    "=~",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "in",
    "in~",
    "cidr(",
    "cidr",
    "list(",
    "list",
    "threat",
    "matches",
    "/",
    "/re\\/x/i",
    "/g",
    "exists",
    "contains",
    "startswith~",
    "endswith",
    "1",
    "-",
    "-1",
    "1.5",
    "1e999",
    "99999999999999999999",
    "10.0.0.0/8",
    "1.2.3",
    "5m",
    "9999999999999999999d",
    "true",
    "false",
    "null",
    "lower(",
    ",",
    "#",
    "# c\n",
    "\n",
    " ",
    " ",
    " ",
    "\t",
    "\r\n",
    "é",
    "日本",
    "\u{0}",
    "~",
    "😀",
    "index",
    "notify",
    "$",
];

fn check_span(text: &str, span: &Span, what: &str) {
    assert!(
        span.start() <= span.end() && span.end() <= text.len(),
        "{what} span {span:?} outside {text:?}"
    );
    assert!(
        text.is_char_boundary(span.start()) && text.is_char_boundary(span.end()),
        "{what} span {span:?} not on char boundaries of {text:?}"
    );
}

fn check_diag(text: &str, diag: &Diagnostic) {
    assert!(
        diag.code.len() == 4 && diag.code.starts_with('G'),
        "{text:?}: {diag:?}"
    );
    assert!(
        diag.labels.iter().any(|l| l.primary),
        "{text:?}: no primary label in {diag:?}"
    );
    assert!(!diag.message.ends_with('.'), "{diag:?}");
    for label in &diag.labels {
        check_span(text, &label.span, diag.code);
    }
    let out = render(diag, "x.cond", text, false);
    assert!(out.starts_with(&format!("error[{}]: ", diag.code)), "{out}");
}

fn check_operand(text: &str, op: &Operand) {
    check_span(text, op.span(), "operand");
    if let Operand::Call(call) = op {
        check_span(text, &call.name.span, "call name");
        for arg in &call.args {
            check_operand(text, arg);
        }
    }
}

fn check_expr(text: &str, expr: &Expr) {
    check_span(text, &expr.span, "expr");
    match &expr.kind {
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            check_expr(text, a);
            check_expr(text, b);
        }
        ExprKind::Not(a) => check_expr(text, a),
        ExprKind::Compare { lhs, rhs, .. } | ExprKind::StrMatch { lhs, rhs, .. } => {
            check_operand(text, lhs);
            check_operand(text, rhs);
        }
        ExprKind::In { lhs, set, .. } => {
            check_operand(text, lhs);
            match set {
                InSet::Items(items, span) | InSet::Cidr(items, span) => {
                    check_span(text, span, "list");
                    for item in items {
                        check_span(text, &item.span, "item");
                    }
                }
                InSet::Named(id) => check_span(text, &id.span, "list name"),
                InSet::Intel(which, span) => {
                    check_span(text, span, "list(…)");
                    match which {
                        IntelRef::Name(_, s) => check_span(text, s, "list name"),
                        IntelRef::Kind(id) => check_span(text, &id.span, "list kind"),
                    }
                }
            }
        }
        ExprKind::Matches { lhs, regex } => {
            check_operand(text, lhs);
            check_span(text, &regex.span, "regex");
        }
        ExprKind::Exists(p) => check_span(text, &p.span, "path"),
        ExprKind::Ref(id) => check_span(text, &id.span, "ref"),
        ExprKind::Bool(_) => {}
        ExprKind::Quantified { list, cond, .. } => {
            check_span(text, &list.span, "quantified list");
            check_expr(text, cond);
        }
    }
}

fn check(text: &str) {
    match parse_condition(text) {
        Ok(expr) => {
            check_expr(text, &expr);
            let _ = to_sexpr(&expr);
        }
        Err(diag) => check_diag(text, &diag),
    }
    // The whole `when:` (stages, sequences) never panics either, and its spans are
    // inside the text.
    match picket_grammar::parse_detection(text) {
        Ok(d) => {
            let _ = picket_grammar::print::detection_to_sexpr(&d);
            match &d {
                picket_grammar::ast::Detection::Filter { cond, stages } => {
                    check_expr(text, cond);
                    for s in stages {
                        check_span(text, &s.span, "stage");
                    }
                }
                picket_grammar::ast::Detection::Sequence(seq) => {
                    for s in &seq.steps {
                        check_expr(text, &s.cond);
                        check_span(text, &s.span, "step");
                    }
                    check_span(text, &seq.within.span, "within");
                }
            }
        }
        Err(diag) => check_diag(text, &diag),
    }
}

#[test]
fn random_token_soups() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..20_000 {
        let n = rng.below(24);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            if rng.below(3) == 0 {
                text.push(' ');
            }
        }
        check(&text);
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(42);
    for _ in 0..5_000 {
        let n = rng.below(64);
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                // Mostly printable ASCII, sometimes anything.
                if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    const ASCII: &[u8] = b" !\"#'()*,-./0123456789:<=>[\\]abcdinot~|&AEZ\n";
                    ASCII[rng.below(ASCII.len())]
                }
            })
            .collect();
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn deep_and_huge_inputs() {
    const N: usize = 100_000;
    let inputs = [
        "(".repeat(N),
        ")".repeat(N),
        format!("{}a{}", "(".repeat(N), ")".repeat(N)),
        "not ".repeat(N),
        format!("{}a", "not ".repeat(N)),
        format!("{}a", "not (".repeat(N)),
        format!("a == {}x{}", "f(".repeat(N), ")".repeat(N)),
        format!("{}a", "a or ".repeat(N)),
        format!("{}a", "a and ".repeat(N)),
        "[".repeat(N),
        format!("a{}", "[0]".repeat(N)),
        format!("a{} exists", ".b".repeat(N)),
        format!("\"{}", "x".repeat(10 * N)),
        format!("a matches /{}", "x".repeat(10 * N)),
        format!("a in ({})", vec!["1"; N].join(", ")),
        "#".repeat(N),
        " ".repeat(10 * N),
        "\"\\\"".repeat(N),
        "-".repeat(N),
        "==".repeat(N),
    ];
    for text in &inputs {
        check(text);
    }
}

#[test]
fn limits_are_inclusive() {
    let depth = picket_grammar::MAX_NESTING;
    let text = format!("{}a{}", "not (".repeat(depth / 2), ")".repeat(depth / 2));
    parse_condition(&text).expect("at the limit");
    let text = format!("a == {}x{}", "f(".repeat(depth), ")".repeat(depth));
    parse_condition(&text).expect("at the limit");
}

#[test]
fn longest_chain() {
    let max_ops = picket_grammar::MAX_OPERATORS;
    let text = format!("{}a", "a or ".repeat(max_ops));
    let expr = parse_condition(&text).expect("at the limit");
    assert!(to_sexpr(&expr).starts_with("(or @0.."));
    let text = format!("{}a", "a or ".repeat(max_ops + 1));
    assert_eq!(parse_condition(&text).map(|_| ()).unwrap_err().code, "G010");
}

#[test]
fn random_spans_render() {
    let mut rng = Rng(7);
    let source = "id: x\nwhen: |\n  a == \"日本\" and\n  b = 1 😀\n";
    for _ in 0..2_000 {
        let a = rng.below(source.len() + 10);
        let b = rng.below(source.len() + 10);
        let diag = Diagnostic::error("G001", "expected a value, found `x`")
            .with_primary(Span::new(a, b), "here")
            .with_secondary(Span::new(b, a), "")
            .with_note("a note")
            .with_help("a help");
        let _ = render(&diag, "rules/x.yaml", source, rng.below(2) == 0);
        let _ = picket_grammar::render::line_col(source, a);
    }
}
