//! Text to [`Expr`]: the only module that names pest's `Pair` and `Rule`.
//!
//! Parsing runs in three steps, each of which reports a [`Diagnostic`] with a stable
//! `G0xx` code and never panics:
//!
//! 1. a hand-written **pre-scan** walks the text once, outside pest. It finds the
//!    problems that a PEG would report badly or dangerously: unterminated strings and
//!    regexes, bad escapes and regex flags, an empty condition, nesting deeper than
//!    [`MAX_NESTING`] and chains longer than [`MAX_OPERATORS`]. Because it runs first, a
//!    100,000-deep input is rejected before pest (or any recursive walk) could overflow
//!    the stack, and every tree this module builds is shallow enough to walk and drop
//!    recursively.
//! 2. **pest** (`condition.pest`) checks the structure. A failure becomes `G001`
//!    "expected X, found Y" with friendly names, or `G005`/`G006` when the offending
//!    token is a well-known mistake (`=`, `&&`, `AND` …).
//! 3. a **builder** turns the pairs into the AST: escapes are resolved, numbers and
//!    durations are converted (`G009` when out of range), and shapes the grammar accepts
//!    but that are not conditions (`42` alone, `lower(x) exists`) are rejected.
//!
//! Spans are exact byte offsets into the text. A parenthesized condition's span covers
//! its parentheses; `and`/`or` nodes span from the start of their left operand to the end
//! of their right one.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::Parser;

mod detection;

pub use detection::MAX_WINDOW_TESTS;

use crate::ast::{
    Call, CompareOp, Detection, Expr, ExprKind, Ident, InSet, IntelRef, LitValue, Literal, Operand,
    Path, RegexLit, Segment, Span, StrOp,
};
use crate::diagnostic::Diagnostic;

/// The deepest nesting of parentheses (including function calls and lists) and `not`s
/// a condition may have (`G008`).
pub const MAX_NESTING: usize = 64;

/// The most `and`/`or` operators a condition may have (`G010`). A chain of `n`
/// operators is a tree `n` deep, which the engine walks recursively.
pub const MAX_OPERATORS: usize = 256;

#[derive(pest_derive::Parser)]
#[grammar = "condition.pest"]
struct ConditionParser;

type Res<T> = Result<T, Diagnostic>;

/// Parses the text of a rule's `when:`: a condition, optionally followed by stateful
/// stages (`| count() > 20 over 5m by src.ip`), or a sequence of conditions
/// (`a then b within 10m by actor.arn`).
///
/// ```
/// use picket_grammar::ast::{Detection, StageKind};
/// let d = picket_grammar::parse_detection("action == \"REJECT\" | distinct(dst.port) >= 50 over 1m by src.ip").unwrap();
/// let Detection::Filter { stages, .. } = d else { panic!() };
/// assert!(matches!(stages[0].kind, StageKind::Threshold { .. }));
/// ```
pub fn parse_detection(text: &str) -> Result<Detection, Diagnostic> {
    if u32::try_from(text.len()).is_err() {
        return Err(Diagnostic::error("G010", "condition too long")
            .with_primary(Span::new(0, 0), "this condition is larger than 4 GiB"));
    }
    prescan(text)?;
    let mut pairs =
        ConditionParser::parse(Rule::detection, text).map_err(|e| pest_error(text, e))?;
    let top = pairs
        .next()
        .ok_or_else(|| internal(Span::new(0, text.len())))?;
    detection::build(top)
}

/// Parses the text of a condition (a rule's `when:` or a macro body) into an [`Expr`].
///
/// Spans in the result and in the error are byte offsets into `text`; the caller shifts
/// them with [`Diagnostic::map_spans`] when `text` is part of a larger file.
///
/// ```
/// use picket_grammar::ast::ExprKind;
/// let expr = picket_grammar::parse_condition("a == 1 and not b").unwrap();
/// assert!(matches!(expr.kind, ExprKind::And(..)));
/// assert_eq!(expr.span.end(), 16);
///
/// let err = picket_grammar::parse_condition("a = 1").unwrap_err();
/// assert_eq!(err.code, "G005");
/// ```
pub fn parse_condition(text: &str) -> Result<Expr, Diagnostic> {
    if u32::try_from(text.len()).is_err() {
        return Err(Diagnostic::error("G010", "condition too long")
            .with_primary(Span::new(0, 0), "this condition is larger than 4 GiB"));
    }
    prescan(text)?;
    let mut pairs =
        ConditionParser::parse(Rule::condition, text).map_err(|e| pest_error(text, e))?;
    let condition = pairs
        .next()
        .ok_or_else(|| internal(Span::new(0, text.len())))?;
    let span = pair_span(&condition);
    let expr = condition
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .ok_or_else(|| internal(span))?;
    build_expr(expr)
}

// ---------------------------------------------------------------------------------------
// Step 1: pre-scan.

/// Walks the text once, as a tokenizer would, checking everything listed in the module
/// docs under "pre-scan".
fn prescan(text: &str) -> Res<()> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut seen_token = false;
    // The last token was the keyword `matches`, so a `/` starts a regex.
    let mut after_matches = false;
    // Nesting of the enclosing parentheses, saved at each `(`.
    let mut stack: Vec<usize> = Vec::new();
    let mut base = 0usize;
    // `not`s in a row right before the current position.
    let mut nots = 0usize;
    let mut operators = 0usize;

    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        seen_token = true;
        let was_matches = after_matches;
        after_matches = false;
        match c {
            b'"' | b'\'' => {
                i = scan_string(text, i)?;
                nots = 0;
            }
            b'/' if was_matches => {
                i = scan_regex(text, i)?;
                nots = 0;
            }
            b'(' => {
                let depth = base + nots + 1;
                if depth > MAX_NESTING {
                    return Err(too_deep(Span::new(i, i + 1)));
                }
                stack.push(base);
                base = depth;
                nots = 0;
                i += 1;
            }
            b')' => {
                base = stack.pop().unwrap_or(0);
                nots = 0;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && is_ident_byte(b[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                let after_dot = start > 0 && b[start - 1] == b'.';
                if after_dot {
                    nots = 0;
                    continue;
                }
                match word {
                    "not" => {
                        nots += 1;
                        if base + nots > MAX_NESTING {
                            return Err(too_deep(Span::new(start, i)));
                        }
                    }
                    "and" | "or" => {
                        operators += 1;
                        if operators > MAX_OPERATORS {
                            return Err(Diagnostic::error("G010", "condition too long")
                                .with_primary(Span::new(start, i), "one operator too many")
                                .with_note(format!(
                                    "a condition may have at most {MAX_OPERATORS} `and`/`or` operators"
                                ))
                                .with_help(
                                    "compare against a list with `in (…)` or a named list instead of chaining `or`",
                                ));
                        }
                        nots = 0;
                    }
                    "matches" => {
                        after_matches = true;
                        nots = 0;
                    }
                    _ => nots = 0,
                }
            }
            _ => {
                nots = 0;
                i += 1;
            }
        }
    }
    if !seen_token {
        // Point at the first comment, if any, else at the start.
        let (span, label) = match text.find('#') {
            Some(start) => (
                Span::new(start, line_end(b, start)),
                "only a comment, no condition",
            ),
            None => (Span::new(0, 0), "expected a condition"),
        };
        return Err(Diagnostic::error("G007", "empty condition")
            .with_primary(span, label)
            .with_help("write a condition such as `api.operation == \"ConsoleLogin\"`"));
    }
    Ok(())
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("G008", "condition nested too deeply")
        .with_primary(span, "this goes one level too deep")
        .with_note(format!(
            "at most {MAX_NESTING} nested parentheses and `not`s are allowed"
        ))
        .with_help("split the condition into macros")
}

/// End of the line that holds byte `from` (before any `\r\n`).
fn line_end(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < b.len() && b[end] != b'\n' {
        end += 1;
    }
    if end > from && b[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// Checks the string literal opening at `start`; returns the index after it.
fn scan_string(text: &str, start: usize) -> Res<usize> {
    let b = text.as_bytes();
    let quote = b[start];
    let unterminated = |end: usize| {
        let q = quote as char;
        Diagnostic::error("G002", "unterminated string")
            .with_primary(
                Span::new(start, end),
                format!("missing closing `{q}`"),
            )
            .with_help(format!(
                "close the string with `{q}`; a string cannot span lines, write `\\n` for a line break"
            ))
    };
    let mut j = start + 1;
    loop {
        match b.get(j) {
            None | Some(b'\n') => return Err(unterminated(line_end(b, start))),
            Some(&c) if c == quote => return Ok(j + 1),
            Some(b'\\') => match b.get(j + 1) {
                None | Some(b'\n') => return Err(unterminated(line_end(b, start))),
                Some(b'"' | b'\'' | b'\\' | b'n' | b't' | b'r') => j += 2,
                Some(b'u') => j = scan_unicode_escape(text, j)?,
                Some(_) => {
                    let len = text[j + 1..].chars().next().map_or(1, char::len_utf8);
                    return Err(bad_escape(text, j, j + 1 + len, "unknown escape"));
                }
            },
            Some(_) => j += 1,
        }
    }
}

/// Checks `\u{…}` at `j` (the backslash); returns the index after it.
fn scan_unicode_escape(text: &str, j: usize) -> Res<usize> {
    let b = text.as_bytes();
    if b.get(j + 2) != Some(&b'{') {
        return Err(bad_escape(text, j, j + 2, "expected `{` after `\\u`"));
    }
    let mut k = j + 3;
    while k < b.len() && b[k].is_ascii_hexdigit() {
        k += 1;
    }
    if b.get(k) != Some(&b'}') {
        let end = if k < b.len() && b[k] != b'\n' {
            k + text[k..].chars().next().map_or(1, char::len_utf8)
        } else {
            k
        };
        return Err(bad_escape(text, j, end, "expected hex digits and `}`"));
    }
    let digits = &text[j + 3..k];
    let ok = (1..=6).contains(&digits.len())
        && u32::from_str_radix(digits, 16)
            .ok()
            .and_then(char::from_u32)
            .is_some();
    if !ok {
        return Err(bad_escape(
            text,
            j,
            k + 1,
            "not a unicode scalar value (1 to 6 hex digits)",
        ));
    }
    Ok(k + 1)
}

fn bad_escape(text: &str, start: usize, end: usize, label: &str) -> Diagnostic {
    let written = text.get(start..end).unwrap_or("\\");
    Diagnostic::error("G004", format!("invalid escape `{}` in string", printable(written)))
        .with_primary(Span::new(start, end), label)
        .with_help("valid escapes are `\\\"` `\\'` `\\\\` `\\n` `\\t` `\\r` and `\\u{…}`; write a backslash as `\\\\`")
}

/// Checks the regex literal opening at `start` (a `/` after `matches`); returns the
/// index after its flags.
fn scan_regex(text: &str, start: usize) -> Res<usize> {
    let b = text.as_bytes();
    let mut j = start + 1;
    loop {
        match b.get(j) {
            None | Some(b'\n') => {
                return Err(Diagnostic::error("G003", "unterminated regex")
                    .with_primary(Span::new(start, line_end(b, start)), "missing closing `/`")
                    .with_help("close the regex with `/`; write a `/` inside it as `\\/`"));
            }
            Some(b'/') => break,
            Some(b'\\') if !matches!(b.get(j + 1), None | Some(b'\n')) => j += 2,
            Some(_) => j += 1,
        }
    }
    j += 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        if !matches!(b[j], b'i' | b'm' | b's' | b'x') {
            return Err(bad_flag(text, j));
        }
        j += 1;
    }
    Ok(j)
}

fn bad_flag(text: &str, at: usize) -> Diagnostic {
    let flag = text[at..].chars().next().unwrap_or('?');
    Diagnostic::error("G003", format!("unknown regex flag `{flag}`"))
        .with_primary(Span::new(at, at + flag.len_utf8()), "not a regex flag")
        .with_help("regex flags are `i` (case-insensitive), `m` (multi-line), `s` (`.` matches newlines) and `x` (verbose)")
}

// ---------------------------------------------------------------------------------------
// Step 2: pest errors.

fn pest_error(text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let pos = floor_boundary(text, pos.min(text.len()));
    let found = Found::at(text, pos);
    let positives = match err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => return too_deep(found.span),
    };
    if let Some(diag) = known_mistake(&found) {
        return diag;
    }
    let mut names: Vec<&str> = Vec::new();
    for rule in &positives {
        if let Some(name) = rule_name(*rule) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    // `.`/`[` (a path going on) are only worth saying when nothing else was possible.
    if names.is_empty() {
        for rule in &positives {
            if let Some(name) = path_rule_name(*rule) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    // Keywords and closers after the main alternatives, "end of input" last.
    names.sort_by_key(|name| match *name {
        "end of input" => 3,
        "`)`" | "`]`" | "`,`" => 2,
        "`and`" | "`or`" | "`not`" => 1,
        _ => 0,
    });
    let expected = if names.is_empty() {
        "a condition".to_string()
    } else {
        join_or(&names)
    };
    let mut diag = Diagnostic::error("G001", format!("expected {expected}, found {}", found.what))
        .with_primary(found.span.clone(), found.label());
    if let Some(keyword) = found.word().and_then(miscased_keyword) {
        diag = diag.with_help(format!("keywords are lower-case: use `{keyword}`"));
    } else if found.looks_like_duration() {
        diag = diag
            .with_help("a duration is a whole number followed by `s`, `m`, `h` or `d`, e.g. `5m`");
    }
    diag
}

/// `G005`/`G006` for the classic mistakes, when the parse stopped right at one.
fn known_mistake(found: &Found) -> Option<Diagnostic> {
    let span = found.span.clone();
    let text = found.text;
    let g006 = |instead: &str| {
        Diagnostic::error("G006", format!("`{text}` is not an operator"))
            .with_primary(span.clone(), format!("use `{instead}` here"))
            .with_help(format!("use `{instead}`"))
    };
    match found.kind {
        Kind::Punct => match text {
            "=" => Some(
                Diagnostic::error("G005", "`=` is not a comparison operator")
                    .with_primary(span, "use `==` here")
                    .with_help("use `==`"),
            ),
            "=~" => Some(
                Diagnostic::error("G005", "`=~` is not a comparison operator")
                    .with_primary(span, "not an operator")
                    .with_help(
                        "use `~=` for case-insensitive equality, or `matches /…/` for a regex",
                    ),
            ),
            "&&" | "&" => Some(g006("and")),
            "||" | "|" => Some(g006("or")),
            "!" => Some(g006("not")),
            _ => None,
        },
        Kind::Word => {
            let lower = text.to_ascii_lowercase();
            if matches!(lower.as_str(), "and" | "or" | "not") && lower != text {
                Some(
                    Diagnostic::error("G006", format!("`{text}` is not a keyword"))
                        .with_primary(span, "keywords are lower-case")
                        .with_help(format!("keywords are lower-case: use `{lower}`")),
                )
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `IN` → `in`, for the other keywords written in the wrong case.
fn miscased_keyword(word: &str) -> Option<&'static str> {
    const KEYWORDS: [&str; 10] = [
        "in",
        "contains",
        "startswith",
        "endswith",
        "matches",
        "exists",
        "true",
        "false",
        "null",
        "cidr",
    ];
    KEYWORDS
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(word) && *k != word)
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The friendly name of what a rule matches, for "expected …".
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::condition
        | Rule::expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::group
        | Rule::quantified
        | Rule::predicate => "a condition",
        Rule::quantifier => "`any(` or `all(`",
        Rule::compare_tail
        | Rule::str_tail
        | Rule::in_tail
        | Rule::matches_tail
        | Rule::exists_tail
        | Rule::compare_op
        | Rule::str_op
        | Rule::str_word
        | Rule::in_op
        | Rule::kw_in
        | Rule::kw_matches
        | Rule::kw_exists => "an operator",
        Rule::nocase => "`~`",
        Rule::in_set => "`(…)`, `cidr(…)`, `list(…)` or a list name",
        Rule::intel_list | Rule::kw_list => "`list(…)`",
        Rule::list_kind => "a quoted list name or `threat`, `trusted`, `reference`",
        Rule::lit_list => "a list `(…)`",
        Rule::cidr_list => "`cidr(…)`",
        Rule::list_name => "a list name",
        Rule::operand | Rule::call | Rule::path => "a value",
        Rule::literal => "a literal",
        Rule::func_name => "a function name",
        Rule::name => "a field name",
        Rule::uint => "an index",
        Rule::rbracket => "`]`",
        Rule::string => "a string",
        Rule::ip => "an IP address",
        Rule::duration => "a duration",
        Rule::float | Rule::int => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::regex | Rule::regex_body | Rule::regex_flags => "a regex `/…/`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_cidr => "`cidr`",
        Rule::EOI => "end of input",
        Rule::detection | Rule::sequence_tail => "a condition",
        Rule::repeat => "`at least N times`",
        Rule::stage | Rule::pipe => "`|`",
        Rule::threshold | Rule::agg_test | Rule::aggregate | Rule::agg_name => {
            "`count()`, `distinct(…)`, `sum(…)`, `min(…)`, `max(…)` or `avg(…)`"
        }
        Rule::number => "a number",
        Rule::anomaly | Rule::kw_baseline => "`baseline`",
        Rule::times => "`*`",
        Rule::plus => "`+`",
        Rule::floor => "`and at least N`",
        Rule::baseline | Rule::baseline_kind | Rule::kw_new | Rule::kw_rare => "`new` or `rare`",
        Rule::terms => "a field or `(fields…)`",
        Rule::seen | Rule::kw_seen => "`seen < N`",
        Rule::lt => "`<`",
        Rule::novelty | Rule::kw_for => "`for`",
        Rule::learning | Rule::kw_after => "`after learning`",
        Rule::kw_learning => "`learning`",
        Rule::by_clause | Rule::kw_by => "`by`",
        Rule::kw_then => "`then`",
        Rule::kw_within => "`within`",
        Rule::kw_at => "`at least`",
        Rule::kw_least => "`least`",
        Rule::kw_times => "`times`",
        Rule::kw_over => "`over`",
        Rule::kw_sigma => "`sigma`",
        Rule::dot_name
        | Rule::index
        | Rule::WHITESPACE
        | Rule::COMMENT
        | Rule::octet
        | Rule::exponent
        | Rule::ident_char
        | Rule::reserved => return None,
    })
}

fn path_rule_name(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::dot_name => Some("`.`"),
        Rule::index => Some("`[`"),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    End,
    Space,
    Str,
    Number,
    Word,
    Punct,
    Other,
}

/// The token at the position where parsing stopped, for "found …".
struct Found<'a> {
    kind: Kind,
    text: &'a str,
    what: String,
    span: Span,
}

impl<'a> Found<'a> {
    fn at(text: &'a str, pos: usize) -> Found<'a> {
        let b = text.as_bytes();
        let Some(&c) = b.get(pos) else {
            return Found {
                kind: Kind::End,
                text: "",
                what: "end of input".into(),
                span: Span::new(pos, pos),
            };
        };
        let run = |pred: &dyn Fn(u8) -> bool| {
            let mut end = pos + 1;
            while end < b.len() && pred(b[end]) {
                end += 1;
            }
            end
        };
        let (kind, end) = match c {
            b' ' | b'\t' => (Kind::Space, pos + 1),
            b'\n' | b'\r' => (Kind::Space, pos + 1),
            b'"' | b'\'' => {
                let mut end = pos + 1;
                while end < b.len() && b[end] != c && b[end] != b'\n' {
                    end += if b[end] == b'\\' { 2 } else { 1 };
                }
                (Kind::Str, (end + 1).min(line_end(b, pos).max(pos + 1)))
            }
            b'0'..=b'9' => (
                Kind::Number,
                run(&|x| is_ident_byte(x) || x == b'.' || x == b'/'),
            ),
            b'-' if b.get(pos + 1).is_some_and(u8::is_ascii_digit) => (
                Kind::Number,
                run(&|x| is_ident_byte(x) || x == b'.' || x == b'/'),
            ),
            c if c.is_ascii_alphabetic() || c == b'_' => (Kind::Word, run(&is_ident_byte)),
            b'=' | b'!' | b'<' | b'>' | b'~' | b'&' | b'|' => {
                (Kind::Punct, run(&|x| b"=!<>~&|".contains(&x)))
            }
            _ => {
                let len = text[pos..].chars().next().map_or(1, char::len_utf8);
                (Kind::Other, pos + len)
            }
        };
        let end = ceil_boundary(text, end.min(b.len()));
        let token = text.get(pos..end).unwrap_or("");
        let what = match kind {
            Kind::Space if c == b'\n' || c == b'\r' => "end of line".to_string(),
            Kind::Space => "whitespace".to_string(),
            Kind::Str => "a string".to_string(),
            _ => format!("`{}`", shorten(token)),
        };
        Found {
            kind,
            text: token,
            what,
            span: Span::new(pos, end),
        }
    }

    fn word(&self) -> Option<&'a str> {
        (self.kind == Kind::Word).then_some(self.text)
    }

    /// "unexpected string", "unexpected `x`".
    fn label(&self) -> String {
        format!(
            "unexpected {}",
            self.what.strip_prefix("a ").unwrap_or(&self.what)
        )
    }

    /// `5min`, `3w`: digits and letters.
    fn looks_like_duration(&self) -> bool {
        let digits = self.text.trim_start_matches(|c: char| c.is_ascii_digit());
        self.kind == Kind::Number
            && digits.len() < self.text.len()
            && !digits.is_empty()
            && !matches!(digits, "s" | "m" | "h" | "d")
            && digits.chars().all(|c| c.is_ascii_alphabetic())
    }
}

fn shorten(token: &str) -> String {
    const MAX: usize = 32;
    if token.chars().count() <= MAX {
        printable(token)
    } else {
        let head: String = token.chars().take(MAX).collect();
        format!("{}…", printable(&head))
    }
}

/// `text` with control characters escaped, for quoting source text in a message.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------
// Step 3: pairs to AST.

fn pair_span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// A shape the grammar guarantees did not hold; reported rather than panicking.
fn internal(span: Span) -> Diagnostic {
    Diagnostic::error("G001", "unexpected input")
        .with_primary(span, "the parser could not make sense of this")
        .with_note("this is a bug in picket's parser; please report it")
}

fn next<'i>(pairs: &mut Pairs<'i, Rule>, parent: &Span) -> Res<Pair<'i, Rule>> {
    pairs.next().ok_or_else(|| internal(parent.clone()))
}

/// `expr` or `and_expr`: a left-associative chain.
fn build_expr(pair: Pair<'_, Rule>) -> Res<Expr> {
    let span = pair_span(&pair);
    let mut inner = pair.into_inner();
    let mut acc = build_any(next(&mut inner, &span)?)?;
    while let Some(op) = inner.next() {
        let rhs = build_any(next(&mut inner, &span)?)?;
        let span = acc.span.to(&rhs.span);
        let (lhs, rhs) = (Box::new(acc), Box::new(rhs));
        let kind = match op.as_rule() {
            Rule::kw_or => ExprKind::Or(lhs, rhs),
            Rule::kw_and => ExprKind::And(lhs, rhs),
            _ => return Err(internal(pair_span(&op))),
        };
        acc = Expr { kind, span };
    }
    Ok(acc)
}

fn build_any(pair: Pair<'_, Rule>) -> Res<Expr> {
    match pair.as_rule() {
        Rule::expr | Rule::and_expr => build_expr(pair),
        Rule::not_expr => build_not(pair),
        Rule::group => build_group(pair),
        Rule::quantified => build_quantified(pair),
        Rule::predicate => build_predicate(pair),
        _ => Err(internal(pair_span(&pair))),
    }
}

fn build_not(pair: Pair<'_, Rule>) -> Res<Expr> {
    let span = pair_span(&pair);
    let mut inner = pair.into_inner();
    let first = next(&mut inner, &span)?;
    if first.as_rule() != Rule::kw_not {
        return build_any(first);
    }
    let operand = build_any(next(&mut inner, &span)?)?;
    let span = pair_span(&first).to(&operand.span);
    Ok(Expr {
        kind: ExprKind::Not(Box::new(operand)),
        span,
    })
}

fn build_quantified(pair: Pair<'_, Rule>) -> Res<Expr> {
    let span = pair_span(&pair);
    let mut inner = pair.into_inner();
    let all = next(&mut inner, &span)?.as_str() == "all";
    let mut list = None;
    let mut cond = None;
    for p in inner {
        match p.as_rule() {
            Rule::path => list = Some(build_path(p)?),
            Rule::expr => cond = Some(build_expr(p)?),
            _ => {}
        }
    }
    let (Some(list), Some(cond)) = (list, cond) else {
        return Err(internal(span));
    };
    Ok(Expr {
        kind: ExprKind::Quantified {
            all,
            list,
            cond: Box::new(cond),
        },
        span,
    })
}

fn build_group(pair: Pair<'_, Rule>) -> Res<Expr> {
    let span = pair_span(&pair);
    let inner = pair
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .ok_or_else(|| internal(span.clone()))?;
    let mut expr = build_expr(inner)?;
    expr.span = span;
    Ok(expr)
}

fn build_predicate(pair: Pair<'_, Rule>) -> Res<Expr> {
    let span = pair_span(&pair);
    let mut inner = pair.into_inner();
    let lhs = build_operand(next(&mut inner, &span)?)?;
    let Some(tail) = inner.next() else {
        return bare_operand(lhs);
    };
    let tail_span = pair_span(&tail);
    let span = lhs.span().to(&tail_span);
    let rule = tail.as_rule();
    let mut parts = tail.into_inner();
    let kind = match rule {
        Rule::compare_tail => {
            let op = next(&mut parts, &tail_span)?;
            let op = compare_op(&op)?;
            let rhs = build_operand(next(&mut parts, &tail_span)?)?;
            ExprKind::Compare { lhs, op, rhs }
        }
        Rule::str_tail => {
            let op_pair = next(&mut parts, &tail_span)?;
            let nocase = op_pair.as_str().ends_with('~');
            let op = match op_pair.as_str().trim_end_matches('~') {
                "contains" => StrOp::Contains,
                "startswith" => StrOp::StartsWith,
                "endswith" => StrOp::EndsWith,
                _ => return Err(internal(pair_span(&op_pair))),
            };
            let rhs = build_operand(next(&mut parts, &tail_span)?)?;
            ExprKind::StrMatch {
                lhs,
                op,
                nocase,
                rhs,
            }
        }
        Rule::in_tail => {
            let nocase = next(&mut parts, &tail_span)?.as_str().ends_with('~');
            let set_pair = next(&mut parts, &tail_span)?;
            let set_span = pair_span(&set_pair);
            let set = next(&mut set_pair.into_inner(), &set_span)?;
            let set_span = pair_span(&set);
            let set = match set.as_rule() {
                Rule::lit_list => InSet::Items(build_literals(set)?, set_span),
                Rule::cidr_list => InSet::Cidr(build_literals(set)?, set_span),
                Rule::list_name => InSet::Named(Ident {
                    name: set.as_str().to_string(),
                    span: set_span,
                }),
                Rule::intel_list => {
                    let arg = set
                        .clone()
                        .into_inner()
                        .find(|p| matches!(p.as_rule(), Rule::string | Rule::list_kind))
                        .ok_or_else(|| internal(set_span.clone()))?;
                    let arg_span = pair_span(&arg);
                    let which = match arg.as_rule() {
                        Rule::string => IntelRef::Name(unquote(&arg)?, arg_span),
                        _ => IntelRef::Kind(Ident {
                            name: arg.as_str().to_string(),
                            span: arg_span,
                        }),
                    };
                    InSet::Intel(which, set_span)
                }
                _ => return Err(internal(set_span)),
            };
            ExprKind::In { lhs, nocase, set }
        }
        Rule::matches_tail => {
            let regex = parts
                .find(|p| p.as_rule() == Rule::regex)
                .ok_or_else(|| internal(tail_span.clone()))?;
            ExprKind::Matches {
                lhs,
                regex: build_regex(regex)?,
            }
        }
        Rule::exists_tail => match lhs {
            Operand::Path(path) => ExprKind::Exists(path),
            other => {
                let (what, _) = operand_kind(&other);
                return Err(Diagnostic::error(
                    "G001",
                    format!("expected a field path before `exists`, found {what}"),
                )
                .with_primary(
                    other.span().clone(),
                    "only a field can be tested with `exists`",
                )
                .with_secondary(tail_span, "this needs a field path"));
            }
        },
        _ => return Err(internal(tail_span)),
    };
    Ok(Expr { kind, span })
}

/// The operator of a `compare_op` pair.
fn compare_op(pair: &Pair<'_, Rule>) -> Res<CompareOp> {
    Ok(match pair.as_str() {
        "==" => CompareOp::Eq,
        "!=" => CompareOp::Ne,
        "~=" => CompareOp::EqNocase,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        ">=" => CompareOp::Ge,
        _ => return Err(internal(pair_span(pair))),
    })
}

/// An operand used as a whole condition: a macro reference, `true`/`false`, or an error.
fn bare_operand(operand: Operand) -> Res<Expr> {
    match operand {
        Operand::Path(path) => Ok(Expr {
            span: path.span.clone(),
            kind: ExprKind::Ref(Ident {
                name: path.dotted(),
                span: path.span,
            }),
        }),
        Operand::Literal(Literal {
            value: LitValue::Bool(b),
            span,
        }) => Ok(Expr {
            kind: ExprKind::Bool(b),
            span,
        }),
        other => {
            let (what, help) = operand_kind(&other);
            Err(
                Diagnostic::error("G001", format!("expected a condition, found {what}"))
                    .with_primary(other.span().clone(), "this is a value, not a condition")
                    .with_help(help),
            )
        }
    }
}

fn operand_kind(operand: &Operand) -> (&'static str, &'static str) {
    const COMPARE: &str = "compare it with a field, e.g. `field == 42`";
    match operand {
        Operand::Path(_) => ("a field path", COMPARE),
        Operand::Call(_) => (
            "a function call",
            "compare its result, e.g. `lower(user_agent) == \"curl\"`",
        ),
        Operand::Literal(lit) => (
            match lit.value {
                LitValue::Str(_) => "a string",
                LitValue::Int(_) | LitValue::Float(_) => "a number",
                LitValue::Bool(_) => "a boolean",
                LitValue::Null => "`null`",
                LitValue::Duration(_) => "a duration",
                LitValue::Ip(_) => "an IP address",
            },
            COMPARE,
        ),
    }
}

fn build_literals(list: Pair<'_, Rule>) -> Res<Vec<Literal>> {
    list.into_inner()
        .filter(|p| p.as_rule() == Rule::literal)
        .map(build_literal)
        .collect()
}

fn build_operand(pair: Pair<'_, Rule>) -> Res<Operand> {
    let span = pair_span(&pair);
    let inner = next(&mut pair.into_inner(), &span)?;
    match inner.as_rule() {
        Rule::call => Ok(Operand::Call(build_call(inner)?)),
        Rule::literal => Ok(Operand::Literal(build_literal(inner)?)),
        Rule::path => Ok(Operand::Path(build_path(inner)?)),
        _ => Err(internal(span)),
    }
}

fn build_call(pair: Pair<'_, Rule>) -> Res<Call> {
    let span = pair_span(&pair);
    let mut inner = pair.into_inner();
    let name = next(&mut inner, &span)?;
    let name = Ident {
        name: name.as_str().to_string(),
        span: pair_span(&name),
    };
    let args = inner
        .filter(|p| p.as_rule() == Rule::operand)
        .map(build_operand)
        .collect::<Res<Vec<_>>>()?;
    Ok(Call { name, args, span })
}

fn build_path(pair: Pair<'_, Rule>) -> Res<Path> {
    let span = pair_span(&pair);
    let mut segments = Vec::new();
    for part in pair.into_inner() {
        let part_span = pair_span(&part);
        match part.as_rule() {
            Rule::name => segments.push(Segment::Name(part.as_str().to_string())),
            Rule::dot_name => {
                let name = next(&mut part.into_inner(), &part_span)?;
                segments.push(Segment::Name(name.as_str().to_string()));
            }
            Rule::index => {
                let key = next(&mut part.into_inner(), &part_span)?;
                let key_span = pair_span(&key);
                match key.as_rule() {
                    Rule::uint => {
                        let ix = key.as_str().parse::<u32>().map_err(|_| {
                            out_of_range(key_span, format!("an index must be at most {}", u32::MAX))
                        })?;
                        segments.push(Segment::Index(ix));
                    }
                    Rule::string => segments.push(Segment::Name(unquote(&key)?)),
                    _ => return Err(internal(key_span)),
                }
            }
            _ => return Err(internal(part_span)),
        }
    }
    Ok(Path { segments, span })
}

fn out_of_range(span: Span, label: impl Into<String>) -> Diagnostic {
    Diagnostic::error("G009", "number out of range").with_primary(span, label)
}

fn build_literal(pair: Pair<'_, Rule>) -> Res<Literal> {
    let span = pair_span(&pair);
    let inner = next(&mut pair.into_inner(), &span)?;
    literal_of(inner)
}

/// A literal from its token (`string`, `duration`, `int` …).
fn literal_of(inner: Pair<'_, Rule>) -> Res<Literal> {
    let span = pair_span(&inner);
    let text = inner.as_str();
    let value = match inner.as_rule() {
        Rule::string => LitValue::Str(unquote(&inner)?),
        Rule::ip => LitValue::Ip(text.to_string()),
        Rule::duration => {
            let (digits, unit) = text.split_at(text.len().saturating_sub(1));
            let factor = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => 86_400,
            };
            let secs = digits
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(factor))
                .ok_or_else(|| out_of_range(span.clone(), "this duration is too long"))?;
            LitValue::Duration(secs)
        }
        Rule::int => LitValue::Int(text.parse::<i64>().map_err(|_| {
            out_of_range(span.clone(), "does not fit in a 64-bit signed integer")
                .with_note(format!("integers range from {} to {}", i64::MIN, i64::MAX))
        })?),
        Rule::float => {
            let f = text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| out_of_range(span.clone(), "too large for a 64-bit float"))?;
            LitValue::Float(f)
        }
        Rule::boolean => LitValue::Bool(text == "true"),
        Rule::null => LitValue::Null,
        _ => return Err(internal(span)),
    };
    Ok(Literal { value, span })
}

/// The value of a string token, escapes resolved (the pre-scan has checked them).
fn unquote(pair: &Pair<'_, Rule>) -> Res<String> {
    let span = pair_span(pair);
    let raw = pair.as_str();
    let body = raw
        .get(1..raw.len().saturating_sub(1))
        .ok_or_else(|| internal(span.clone()))?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let at = span.start() + 1 + i;
        let bad = |len: usize| bad_escape_at(at, at + len);
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\'')) => out.push('\''),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'u')) => {
                let rest = &body[i + 2..];
                let close = rest.find('}').ok_or_else(|| bad(2))?;
                let c = rest
                    .strip_prefix('{')
                    .and_then(|_| rest.get(1..close))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32)
                    .ok_or_else(|| bad(close + 3))?;
                out.push(c);
                for _ in 0..=close {
                    chars.next();
                }
            }
            Some((_, other)) => return Err(bad(1 + other.len_utf8())),
            None => return Err(bad(1)),
        }
    }
    Ok(out)
}

fn bad_escape_at(start: usize, end: usize) -> Diagnostic {
    Diagnostic::error("G004", "invalid escape in string")
        .with_primary(Span::new(start, end), "invalid escape")
}

fn build_regex(pair: Pair<'_, Rule>) -> Res<RegexLit> {
    let span = pair_span(&pair);
    let mut pattern = String::new();
    let mut flags = String::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::regex_body => {
                let body = part.as_str();
                let mut chars = body.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        match chars.next() {
                            Some('/') => pattern.push('/'),
                            Some(other) => {
                                pattern.push('\\');
                                pattern.push(other);
                            }
                            None => pattern.push('\\'),
                        }
                    } else {
                        pattern.push(c);
                    }
                }
            }
            Rule::regex_flags => {
                let start = part.as_span().start();
                for (i, c) in part.as_str().char_indices() {
                    if !matches!(c, 'i' | 'm' | 's' | 'x') {
                        return Err(
                            Diagnostic::error("G003", format!("unknown regex flag `{c}`"))
                                .with_primary(
                                    Span::new(start + i, start + i + c.len_utf8()),
                                    "not a regex flag",
                                ),
                        );
                    }
                }
                flags.push_str(part.as_str());
            }
            _ => return Err(internal(pair_span(&part))),
        }
    }
    Ok(RegexLit {
        pattern,
        flags,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Expr {
        match parse_condition(text) {
            Ok(e) => e,
            Err(d) => panic!("{text:?} failed: {d:?}"),
        }
    }

    fn err(text: &str) -> Diagnostic {
        match parse_condition(text) {
            Ok(e) => panic!("{text:?} parsed: {e:?}"),
            Err(d) => d,
        }
    }

    fn primary(d: &Diagnostic) -> (usize, usize) {
        let l = &d.labels[0];
        (l.span.start(), l.span.end())
    }

    #[test]
    fn spans_are_exact() {
        //          0         1         2         3         4
        //          0123456789012345678901234567890123456789012345
        let text = "  (a.b == 'x') and not c[0] in (1, 2) # end\n";
        let e = parse(text);
        assert_eq!(e.span, Span::new(2, 37));
        let ExprKind::And(lhs, rhs) = &e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(lhs.span, Span::new(2, 14));
        let ExprKind::Compare { lhs: a, rhs: x, .. } = &lhs.kind else {
            panic!("{lhs:?}")
        };
        assert_eq!(a.span(), &Span::new(3, 6));
        assert_eq!(x.span(), &Span::new(10, 13));
        assert_eq!(rhs.span, Span::new(19, 37));
        let ExprKind::Not(inner) = &rhs.kind else {
            panic!("{rhs:?}")
        };
        assert_eq!(inner.span, Span::new(23, 37));
        let ExprKind::In { lhs, set, .. } = &inner.kind else {
            panic!("{inner:?}")
        };
        assert_eq!(lhs.span(), &Span::new(23, 27));
        let InSet::Items(items, list_span) = set else {
            panic!("{set:?}")
        };
        assert_eq!(list_span, &Span::new(31, 37));
        assert_eq!(items[1].span, Span::new(35, 36));
    }

    #[test]
    fn spans_of_calls_regexes_and_exists() {
        let text = "lower(x, \"y\") matches /a\\/b/i or p exists";
        let e = parse(text);
        let ExprKind::Or(lhs, rhs) = &e.kind else {
            panic!()
        };
        let ExprKind::Matches { lhs: call, regex } = &lhs.kind else {
            panic!()
        };
        let Operand::Call(call) = call else { panic!() };
        assert_eq!(call.span, Span::new(0, 13));
        assert_eq!(call.name.span, Span::new(0, 5));
        assert_eq!(call.args[1].span(), &Span::new(9, 12));
        assert_eq!(regex.span, Span::new(22, 29));
        assert_eq!(regex.pattern, "a/b");
        assert_eq!(rhs.span, Span::new(33, 41));
    }

    #[test]
    fn keywords_are_whole_words() {
        assert!(matches!(parse("index").kind, ExprKind::Ref(ref i) if i.name == "index"));
        assert!(matches!(parse("notify").kind, ExprKind::Ref(ref i) if i.name == "notify"));
        assert!(matches!(
            parse("android and oracle").kind,
            ExprKind::And(..)
        ));
        assert!(matches!(parse("not(a)").kind, ExprKind::Not(..)));
    }

    #[test]
    fn literals() {
        let lit = |text: &str| match parse(&format!("x == {text}")).kind {
            ExprKind::Compare {
                rhs: Operand::Literal(l),
                ..
            } => l.value,
            other => panic!("{other:?}"),
        };
        assert_eq!(lit("-42"), LitValue::Int(-42));
        assert_eq!(lit("1.5"), LitValue::Float(1.5));
        assert_eq!(lit("2e3"), LitValue::Float(2000.0));
        assert_eq!(lit("5m"), LitValue::Duration(300));
        assert_eq!(lit("14d"), LitValue::Duration(14 * 86_400));
        assert_eq!(lit("10.0.0.0/8"), LitValue::Ip("10.0.0.0/8".into()));
        assert_eq!(lit("null"), LitValue::Null);
        assert_eq!(
            lit(r#""a\"b\'\\\n\t\r\u{e9}""#),
            LitValue::Str("a\"b'\\\n\t\r\u{e9}".into())
        );
        assert_eq!(lit(r"'it\'s'"), LitValue::Str("it's".into()));
    }

    #[test]
    fn error_codes_and_positions() {
        let d = err("a = 1");
        assert_eq!((d.code, primary(&d)), ("G005", (2, 3)));
        let d = err("a == 1 && b");
        assert_eq!((d.code, primary(&d)), ("G006", (7, 9)));
        let d = err("a == 1 AND b");
        assert_eq!((d.code, primary(&d)), ("G006", (7, 10)));
        let d = err("NOT a");
        assert_eq!((d.code, primary(&d)), ("G006", (0, 3)));
        let d = err("!a");
        assert_eq!((d.code, primary(&d)), ("G006", (0, 1)));
        let d = err("a == \"abc\nb");
        assert_eq!((d.code, primary(&d)), ("G002", (5, 9)));
        let d = err("a matches /abc");
        assert_eq!((d.code, primary(&d)), ("G003", (10, 14)));
        let d = err("a matches /abc/ig");
        assert_eq!((d.code, primary(&d)), ("G003", (16, 17)));
        let d = err(r#"a == "x\qy""#);
        assert_eq!((d.code, primary(&d)), ("G004", (7, 9)));
        let d = err(" # nothing\n ");
        assert_eq!(d.code, "G007");
        let d = err("a == 99999999999999999999");
        assert_eq!((d.code, primary(&d)), ("G009", (5, 25)));
        let d = err("a == (1");
        assert_eq!((d.code, primary(&d)), ("G001", (5, 6)));
        assert_eq!(d.message, "expected a value, found `(`");
        let d = err("(a == 1");
        assert_eq!((d.code, primary(&d)), ("G001", (7, 7)));
    }

    #[test]
    fn nesting_limit() {
        let ok = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        parse(&ok);
        let ok = format!("{}a", "not ".repeat(MAX_NESTING));
        parse(&ok);
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        let d = err(&deep);
        assert_eq!(
            (d.code, primary(&d)),
            ("G008", (MAX_NESTING, MAX_NESTING + 1))
        );
        let deep = format!("{}a", "not (".repeat(40));
        assert_eq!(err(&deep).code, "G008");
        // Siblings do not add up.
        let wide = vec![format!("{}a{}", "(".repeat(60), ")".repeat(60)); 10].join(" or ");
        parse(&wide);
    }
}
