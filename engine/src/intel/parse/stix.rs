//! STIX 2.1 bundles: the values of indicator patterns, and address, domain and URL
//! observables.

use std::iter::Peekable;
use std::str::CharIndices;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{kind, offset_in, serde_error, string};
use super::{classify, parse_net, shorten, strip_bom, Indicator, Parsed, Positions};

/// The fields of a STIX object that are read, each as written in the file (so that its
/// place is known).
#[derive(Deserialize)]
struct Object<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    objects: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pattern: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pattern_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    revoked: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
}

/// How a STIX file is laid out, for messages.
const LAYOUT: &str = "a STIX file holds a bundle ({\"type\": \"bundle\", \"objects\": [...]}), \
                      one STIX object, or a list of STIX objects";

/// What patterns are read, for messages.
const SUPPORTED: &str = "only comparisons of ipv4-addr, ipv6-addr, domain-name and url values \
                         (with =, IN or ISSUBSET) joined by OR are read, such as \
                         [ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = \
                         'evil.example']; give each value an indicator of its own, or leave \
                         this one out of the list";

/// Reads STIX 2.1: a bundle, a single object, or a JSON list of objects.
///
/// Of each `indicator` whose `pattern_type` is `stix` (or not given), the values its
/// pattern compares are entries: the pattern must be comparisons of `ipv4-addr:value`,
/// `ipv6-addr:value`, `domain-name:value` or `url:value` with `=` (or `IN (…)`, or
/// `ISSUBSET` for addresses), joined by `OR`, inside observation expressions `[…]`
/// joined by `OR`. Any other pattern (with `AND`, `FOLLOWEDBY`, qualifiers such as
/// `WITHIN`, or other objects such as `file:hashes.MD5`) is one error for that
/// indicator, as is another `pattern_type`. Revoked indicators are skipped.
///
/// Observables of type `ipv4-addr`, `ipv6-addr`, `domain-name` and `url` in the bundle
/// are entries too (their `value`); other objects (identities, relationships,
/// malware…) are skipped.
///
/// Entries and errors of a pattern are at the pattern's place in the file (an error
/// about a whole object at the object's), and JSON that is not valid is one error where
/// it goes wrong.
pub fn parse_stix(src: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut pos = Positions::new(src);
    let (body, base) = strip_bom(src);
    let top: &RawValue = match serde_json::from_str(body) {
        Ok(top) => top,
        Err(e) => {
            let help = format!("fix the JSON; {LAYOUT}");
            let what = "the file is not valid JSON";
            parsed
                .errors
                .push(serde_error(&mut pos, base, &e, what, &help));
            return parsed;
        }
    };
    let top_at = offset_in(src, top.get());
    let objects: Vec<&RawValue> = match top.get().as_bytes().first() {
        Some(b'[') => serde_json::from_str(top.get()).unwrap_or_default(),
        Some(b'{') => match serde_json::from_str::<Object<'_>>(top.get()) {
            Err(e) => {
                let what = "this STIX object cannot be read";
                parsed
                    .errors
                    .push(serde_error(&mut pos, top_at, &e, what, "fix the object"));
                return parsed;
            }
            Ok(object) => match object.kind.and_then(string).as_deref() {
                Some("bundle") => match object.objects {
                    None => Vec::new(),
                    Some(list) => match serde_json::from_str(list.get()) {
                        Ok(objects) if list.get().starts_with('[') => objects,
                        _ => {
                            parsed.errors.push(pos.error(
                                offset_in(src, list.get()),
                                format!(
                                    "the bundle's `objects` is {}, not a list of STIX \
                                     objects; {LAYOUT}",
                                    kind(list)
                                ),
                            ));
                            return parsed;
                        }
                    },
                },
                Some(_) => vec![top],
                None => {
                    parsed.errors.push(pos.error(
                        top_at,
                        format!("the object has no `type`, so it is not STIX; {LAYOUT}"),
                    ));
                    return parsed;
                }
            },
        },
        _ => {
            parsed.errors.push(pos.error(
                top_at,
                format!("the file holds {}, not STIX; {LAYOUT}", kind(top)),
            ));
            return parsed;
        }
    };
    for object in objects {
        read_object(src, &mut pos, object, &mut parsed);
    }
    parsed
}

/// Reads one object of the bundle.
fn read_object(src: &str, pos: &mut Positions<'_>, raw: &RawValue, parsed: &mut Parsed) {
    let at = offset_in(src, raw.get());
    if !raw.get().starts_with('{') {
        parsed.errors.push(pos.error(
            at,
            format!(
                "this is {}, not a STIX object ({{\"type\": …}}); {LAYOUT}",
                kind(raw)
            ),
        ));
        return;
    }
    let object: Object<'_> = match serde_json::from_str(raw.get()) {
        Ok(object) => object,
        Err(e) => {
            let what = "this STIX object cannot be read";
            parsed
                .errors
                .push(serde_error(pos, at, &e, what, "fix the object"));
            return;
        }
    };
    let Some(object_type) = object.kind.and_then(string) else {
        return;
    };
    match object_type.as_str() {
        "indicator" => read_indicator(src, pos, at, &object, parsed),
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => {
            let Some(value) = object.value else {
                return;
            };
            let value_at = offset_in(src, value.get());
            let result = match string(value) {
                Some(text) => value_indicator(&object_type, &text),
                None => Err(format!("`value` is {}, not text", kind(value))),
            };
            match result {
                Ok(indicator) => {
                    let (line, _) = pos.at(value_at);
                    parsed.entries.push((indicator, line));
                }
                Err(why) => {
                    let message = format!("{}{why}; fix the value", id_prefix(&object));
                    parsed.errors.push(pos.error(value_at, message));
                }
            }
        }
        _ => {}
    }
}

/// Reads one indicator object, which starts at byte `at`.
fn read_indicator(
    src: &str,
    pos: &mut Positions<'_>,
    at: usize,
    object: &Object<'_>,
    parsed: &mut Parsed,
) {
    if object.revoked.map(RawValue::get) == Some("true") {
        return;
    }
    let id = id_prefix(object);
    if let Some(pattern_type) = object.pattern_type {
        let name = string(pattern_type);
        if !name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("stix"))
        {
            let name = name.unwrap_or_else(|| pattern_type.get().to_string());
            parsed.skipped.push(pos.error(
                offset_in(src, pattern_type.get()),
                format!(
                    "{id}pattern_type {} is not supported; only stix patterns are read",
                    shorten(&name)
                ),
            ));
            return;
        }
    }
    let Some(pattern) = object.pattern else {
        parsed.errors.push(pos.error(
            at,
            format!("{id}the indicator has no `pattern`; give it one, or leave it out"),
        ));
        return;
    };
    let pattern_at = offset_in(src, pattern.get());
    let Some(text) = string(pattern) else {
        parsed.errors.push(pos.error(
            pattern_at,
            format!(
                "{id}`pattern` is {}, not a STIX pattern in quotes such as \
                 \"[ipv4-addr:value = '198.51.100.7']\"",
                kind(pattern)
            ),
        ));
        return;
    };
    match read_pattern(&text) {
        Ok(values) => {
            let (line, _) = pos.at(pattern_at);
            parsed
                .entries
                .extend(values.into_iter().map(|indicator| (indicator, line)));
        }
        // STIX a list cannot hold (file hashes, AND of two observables) is left out;
        // broken patterns and values are errors.
        Err(why @ PatternError::Unsupported(_)) => {
            parsed
                .skipped
                .push(pos.error(pattern_at, format!("{id}{}", why.message())));
        }
        Err(why) => {
            parsed
                .errors
                .push(pos.error(pattern_at, format!("{id}{}", why.message())));
        }
    }
}

/// `"<id>: "` for messages about `object`, or nothing when it has no id.
fn id_prefix(object: &Object<'_>) -> String {
    match object.id.and_then(string) {
        Some(id) => format!("{}: ", shorten(&id)),
        None => String::new(),
    }
}

/// The indicator a value of an object type names, or why it names none.
fn value_indicator(object_type: &str, value: &str) -> Result<Indicator, String> {
    let text = shorten(value);
    match object_type {
        "ipv4-addr" => match parse_net(value.trim()) {
            Some(net @ ipnet::IpNet::V4(_)) => Ok(Indicator::Net(net)),
            _ => Err(format!(
                "`{text}` is not an IPv4 address or network (such as 198.51.100.7 or \
                 198.51.100.0/24)"
            )),
        },
        "ipv6-addr" => match parse_net(value.trim()) {
            Some(net @ ipnet::IpNet::V6(_)) => Ok(Indicator::Net(net)),
            _ => Err(format!(
                "`{text}` is not an IPv6 address or network (such as 2001:db8::7 or \
                 2001:db8::/32)"
            )),
        },
        "domain-name" => match classify(value) {
            domain @ Indicator::Domain(_) => Ok(domain),
            _ => Err(format!(
                "`{text}` is not a domain name (such as evil.example)"
            )),
        },
        _ => match classify(value) {
            url @ Indicator::Url(_) => Ok(url),
            _ => Err(format!(
                "`{text}` is not a URL (such as http://evil.example/payload)"
            )),
        },
    }
}

/// Why a pattern is not read.
#[derive(Debug, PartialEq)]
pub(super) enum PatternError {
    /// It is not STIX patterning (what was expected, or what is wrong).
    Syntax(String),
    /// It is STIX, but uses this, which a list cannot hold.
    Unsupported(String),
    /// A value is not of its object's type (the message).
    Value(String),
}

impl PatternError {
    /// The message for users.
    pub(super) fn message(&self) -> String {
        match self {
            PatternError::Syntax(why) => format!(
                "the pattern is not valid STIX patterning ({why}); a pattern is written \
                 like [ipv4-addr:value = '198.51.100.7']"
            ),
            PatternError::Unsupported(what) => {
                format!("the pattern uses {what}, which a list cannot hold; {SUPPORTED}")
            }
            PatternError::Value(why) => format!("{why}; fix the value in the pattern"),
        }
    }
}

/// A token of a pattern.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    OpenParen,
    CloseParen,
    Comma,
    /// A string literal, unescaped.
    Str(String),
    /// A comparison operator: `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    /// A keyword, an object path, a number, `true` or `false`.
    Word(String),
    /// A typed literal: `t'…'`, `h'…'`, `b'…'`.
    Typed(char),
}

impl Token {
    /// How the token is written, for messages.
    fn show(&self) -> String {
        match self {
            Token::Open => "`[`".into(),
            Token::Close => "`]`".into(),
            Token::OpenParen => "`(`".into(),
            Token::CloseParen => "`)`".into(),
            Token::Comma => "`,`".into(),
            Token::Str(s) => format!("'{}'", shorten(s)),
            Token::Op(op) => format!("`{op}`"),
            Token::Word(w) => format!("`{}`", shorten(w)),
            Token::Typed(c) => format!("a {c}'…' literal"),
        }
    }

    /// Whether the token is the keyword `word` (keywords are read in any case).
    fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

/// The tokens of a pattern.
fn tokenize(pattern: &str) -> Result<Vec<Token>, PatternError> {
    let mut tokens = Vec::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '[' => Token::Open,
            ']' => Token::Close,
            '(' => Token::OpenParen,
            ')' => Token::CloseParen,
            ',' => Token::Comma,
            '\'' => Token::Str(string_literal(&mut chars)?),
            '=' => Token::Op("="),
            '!' if chars.next_if(|&(_, c)| c == '=').is_some() => Token::Op("!="),
            '<' if chars.next_if(|&(_, c)| c == '=').is_some() => Token::Op("<="),
            '>' if chars.next_if(|&(_, c)| c == '=').is_some() => Token::Op(">="),
            '<' => Token::Op("<"),
            '>' => Token::Op(">"),
            c if is_word_char(c) => {
                if matches!(c, 't' | 'h' | 'b') && chars.next_if(|&(_, q)| q == '\'').is_some() {
                    string_literal(&mut chars)?;
                    Token::Typed(c)
                } else {
                    word(pattern, i, c, &mut chars)?
                }
            }
            c => {
                return Err(PatternError::Syntax(format!(
                    "`{c}` cannot appear outside quotes"
                )))
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// The keyword, object path or number whose first character, `first`, is at byte
/// `start` and has been read: word characters, with the quoted components
/// (`file:hashes.'SHA-256'`) and list indexes (`email-message:to_refs[*].value`) of
/// object paths.
fn word(
    pattern: &str,
    start: usize,
    first: char,
    chars: &mut Peekable<CharIndices<'_>>,
) -> Result<Token, PatternError> {
    let mut end = start + first.len_utf8();
    let mut after_dot = first == '.';
    loop {
        match chars.peek().copied() {
            Some((j, c)) if is_word_char(c) => {
                chars.next();
                end = j + c.len_utf8();
                after_dot = c == '.';
            }
            // A quoted path component: `file:hashes.'SHA-256'`.
            Some((_, '\'')) if after_dot => {
                chars.next();
                string_literal(chars)?;
                end = chars.peek().map_or(pattern.len(), |&(j, _)| j);
                after_dot = false;
            }
            // A list index in a path: `email-message:to_refs[*].value`.
            Some((_, '[')) => {
                let close = pattern
                    .get(end..)
                    .and_then(|rest| rest.find(']'))
                    .map(|k| end + k);
                let index = close.and_then(|k| pattern.get(end + 1..k));
                if !index.is_some_and(|x| {
                    x == "*" || (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
                }) {
                    break;
                }
                while chars
                    .next_if(|&(j, _)| close.is_some_and(|k| j <= k))
                    .is_some()
                {}
                end = close.map_or(end, |k| k + 1);
                after_dot = false;
            }
            _ => break,
        }
    }
    Ok(Token::Word(
        pattern.get(start..end).unwrap_or_default().to_string(),
    ))
}

/// Whether `c` can be part of a keyword, an object path or a number.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '+' | '*' | '$')
}

/// The text of a string literal whose opening quote has been read; `\'` is a quote and
/// `\\` a backslash.
fn string_literal(chars: &mut Peekable<CharIndices<'_>>) -> Result<String, PatternError> {
    let mut text = String::new();
    loop {
        match chars.next() {
            None => {
                return Err(PatternError::Syntax(
                    "a string is not closed with `'`".to_string(),
                ))
            }
            Some((_, '\'')) => return Ok(text),
            Some((_, '\\')) => match chars.next() {
                Some((_, c @ ('\'' | '\\'))) => text.push(c),
                Some((_, c)) => {
                    return Err(PatternError::Syntax(format!(
                        "`\\{c}` is not an escape of a string; write `\\'` for a quote and \
                         `\\\\` for a backslash"
                    )))
                }
                None => {
                    return Err(PatternError::Syntax(
                        "a string is not closed with `'`".to_string(),
                    ))
                }
            },
            Some((_, c)) => text.push(c),
        }
    }
}

/// The values a pattern compares, if it is one that a list can hold.
pub(super) fn read_pattern(pattern: &str) -> Result<Vec<Indicator>, PatternError> {
    let tokens = tokenize(pattern)?;
    let mut parser = PatternParser {
        tokens: &tokens,
        at: 0,
        values: Vec::new(),
        depth: 0,
    };
    parser.observations()?;
    match parser.peek() {
        None => Ok(parser.values),
        Some(t) if t.is("FOLLOWEDBY") => Err(PatternError::Unsupported("FOLLOWEDBY".into())),
        Some(t) => Err(PatternError::Syntax(format!(
            "{} after the end of the pattern",
            t.show()
        ))),
    }
}

/// Deepest nesting of parentheses read (deeper patterns are refused, not overflowing
/// the stack).
const MAX_DEPTH: usize = 64;

/// A recursive-descent reader of the patterns a list can hold.
struct PatternParser<'t> {
    tokens: &'t [Token],
    at: usize,
    values: Vec<Indicator>,
    depth: usize,
}

impl PatternParser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    /// What was found where `expected` was due.
    fn expected(&self, expected: &str) -> PatternError {
        let found = self
            .peek()
            .map_or("the end of the pattern".to_string(), Token::show);
        PatternError::Syntax(format!("expected {expected}, found {found}"))
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError::Syntax(format!(
                "parentheses are nested more than {MAX_DEPTH} deep"
            )));
        }
        Ok(())
    }

    /// Observation expressions joined by `OR`.
    fn observations(&mut self) -> Result<(), PatternError> {
        loop {
            self.observation()?;
            match self.peek() {
                Some(t) if t.is("OR") => self.at += 1,
                Some(t) if t.is("AND") => {
                    return Err(PatternError::Unsupported(
                        "AND between observation expressions".into(),
                    ))
                }
                Some(t) if t.is("FOLLOWEDBY") => {
                    return Err(PatternError::Unsupported("FOLLOWEDBY".into()))
                }
                _ => return Ok(()),
            }
        }
    }

    /// `[ comparisons ]` or `( observations )`, without qualifiers.
    fn observation(&mut self) -> Result<(), PatternError> {
        match self.next() {
            Some(Token::Open) => {
                self.comparisons()?;
                if self.next() != Some(&Token::Close) {
                    self.at -= 1;
                    return Err(self.expected("`]` or OR"));
                }
            }
            Some(Token::OpenParen) => {
                self.enter()?;
                self.observations()?;
                self.depth -= 1;
                if self.next() != Some(&Token::CloseParen) {
                    self.at -= 1;
                    return Err(self.expected("`)`"));
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.expected("`[`"));
            }
        }
        if let Some(Token::Word(w)) = self.peek() {
            let w = w.to_ascii_uppercase();
            if matches!(w.as_str(), "WITHIN" | "REPEATS" | "START" | "STOP") {
                return Err(PatternError::Unsupported(format!("the qualifier {w}")));
            }
        }
        Ok(())
    }

    /// Comparisons joined by `OR`.
    fn comparisons(&mut self) -> Result<(), PatternError> {
        loop {
            self.comparison()?;
            match self.peek() {
                Some(t) if t.is("OR") => self.at += 1,
                Some(t) if t.is("AND") => {
                    return Err(PatternError::Unsupported("AND between comparisons".into()))
                }
                _ => return Ok(()),
            }
        }
    }

    /// `path = 'value'`, `path IN ('a', 'b')`, `path ISSUBSET 'network'`, or
    /// `( comparisons )`.
    fn comparison(&mut self) -> Result<(), PatternError> {
        let path = match self.next() {
            Some(Token::OpenParen) => {
                self.enter()?;
                self.comparisons()?;
                self.depth -= 1;
                if self.next() != Some(&Token::CloseParen) {
                    self.at -= 1;
                    return Err(self.expected("`)`"));
                }
                return Ok(());
            }
            Some(t) if t.is("EXISTS") => return Err(PatternError::Unsupported("EXISTS".into())),
            Some(Token::Word(path)) if path.contains(':') => path.clone(),
            _ => {
                self.at -= 1;
                return Err(self.expected("an object path such as ipv4-addr:value"));
            }
        };
        let object_type = match path.split_once(':') {
            Some((t @ ("ipv4-addr" | "ipv6-addr" | "domain-name" | "url"), "value")) => t,
            _ => return Err(PatternError::Unsupported(format!("`{}`", shorten(&path)))),
        };
        let values = match self.next().cloned() {
            Some(Token::Op("=")) => vec![self.string()?],
            Some(Token::Op(op)) => {
                return Err(PatternError::Unsupported(format!("the operator {op}")))
            }
            Some(t) if t.is("IN") => self.set()?,
            Some(t) if t.is("ISSUBSET") => {
                if !matches!(object_type, "ipv4-addr" | "ipv6-addr") {
                    return Err(PatternError::Unsupported(format!(
                        "ISSUBSET with {object_type}:value"
                    )));
                }
                vec![self.string()?]
            }
            Some(Token::Word(w))
                if ["NOT", "LIKE", "MATCHES", "ISSUPERSET"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                return Err(PatternError::Unsupported(w.to_ascii_uppercase()))
            }
            _ => {
                self.at -= 1;
                return Err(self.expected(&format!("=, IN or ISSUBSET after {path}")));
            }
        };
        for value in values {
            let indicator = value_indicator(object_type, &value).map_err(PatternError::Value)?;
            self.values.push(indicator);
        }
        Ok(())
    }

    /// A string literal.
    fn string(&mut self) -> Result<String, PatternError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(s.clone()),
            _ => {
                self.at -= 1;
                Err(self.expected("a value in quotes"))
            }
        }
    }

    /// `( 'a', 'b', … )`.
    fn set(&mut self) -> Result<Vec<String>, PatternError> {
        if self.next() != Some(&Token::OpenParen) {
            self.at -= 1;
            return Err(self.expected("`(` after IN"));
        }
        let mut values = vec![self.string()?];
        loop {
            match self.next() {
                Some(Token::Comma) => values.push(self.string()?),
                Some(Token::CloseParen) => return Ok(values),
                _ => {
                    self.at -= 1;
                    return Err(self.expected("`,` or `)`"));
                }
            }
        }
    }
}
