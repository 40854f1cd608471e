//! Stage 1: YAML text -> [`RuleDef`] / [`DefsFile`], keeping the position of every key
//! and value so later stages can point into the file.
//!
//! YAML is parsed with marked-yaml (line and column of every node) and walked by hand
//! rather than through serde, so each schema error says which key, where, and what to
//! write instead: unknown keys get the nearest known key as a suggestion.

use std::sync::Arc;

use marked_yaml::{LoaderOptions, Node};
use picket_grammar::{suggest, Diagnostic, Span};

use super::source::{FileDiagnostic, ScalarMap, SourceFile};
use crate::event::Source;
use crate::intel::list::{ListFormat, ListKind};
use crate::intel::parse::Column;

/// A value with the span (file bytes) where it is written.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where.
    pub span: Span,
}

/// Threat categories of the built-in library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Reconnaissance.
    Recon,
    /// Instance compromise.
    Instance,
    /// Account compromise.
    Account,
    /// Bucket compromise.
    Bucket,
    /// Kubernetes compromise.
    Kubernetes,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 5] = [
        Category::Recon,
        Category::Instance,
        Category::Account,
        Category::Bucket,
        Category::Kubernetes,
    ];
    /// Name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            Category::Recon => "recon",
            Category::Instance => "instance",
            Category::Account => "account",
            Category::Bucket => "bucket",
            Category::Kubernetes => "kubernetes",
        }
    }
}

/// What an inline test expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The event must match.
    Match,
    /// The event must not match.
    NoMatch,
}

/// One inline test case of a rule.
#[derive(Clone, Debug)]
pub struct InlineTest {
    /// Its name.
    pub name: String,
    /// Path of the event file, relative to the rule file.
    pub event: Spanned<String>,
    /// Expected outcome.
    pub expect: Expect,
}

/// A condition text with the map back into its file.
#[derive(Clone, Debug)]
pub struct CondText {
    /// The condition as YAML delivered it.
    pub text: String,
    /// Offsets of the text in the file.
    pub map: ScalarMap,
    /// Span of the whole value in the file.
    pub span: Span,
}

/// A rule as written in its YAML file, validated against the schema.
#[derive(Clone, Debug)]
pub struct RuleDef {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Path of the file inside its pack (`account/root-console-login.yaml`).
    pub path: String,
    /// `id`
    pub id: Spanned<String>,
    /// `version` (default 1).
    pub version: u32,
    /// `type`: the GuardDuty-style finding type.
    pub finding_type: Spanned<String>,
    /// `title`
    pub title: String,
    /// `severity`, 1.0..=10.0.
    pub severity: f64,
    /// `source`
    pub sources: Spanned<Vec<Source>>,
    /// `category`
    pub category: Category,
    /// `mitre`
    pub mitre: Vec<String>,
    /// `description`
    pub description: String,
    /// `when`
    pub when: CondText,
    /// `group_by`
    pub group_by: Vec<Spanned<String>>,
    /// `tests`
    pub tests: Vec<InlineTest>,
}

/// A named list of a pack.
#[derive(Clone, Debug)]
pub struct ListDef {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Its name.
    pub name: Spanned<String>,
    /// Its items.
    pub items: Vec<Spanned<ListItem>>,
}

/// An item of a named list.
#[derive(Clone, Debug, PartialEq)]
pub enum ListItem {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// A macro of a pack.
#[derive(Clone, Debug)]
pub struct MacroDef {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Its name.
    pub name: Spanned<String>,
    /// Its body.
    pub body: CondText,
}

/// A threat, trusted or reference list declared under `intel:` (the entries are in a
/// file of their own).
#[derive(Clone, Debug)]
pub struct IntelDecl {
    /// The file declaring it.
    pub file: Arc<SourceFile>,
    /// Path of the declaring file within its pack (`intel/lists.yaml`).
    pub decl_path: String,
    /// Its name, as rules write it in `list("…")`.
    pub name: Spanned<String>,
    /// `kind`
    pub kind: ListKind,
    /// `file`: the list file, relative to the declaring file.
    pub data: Spanned<String>,
    /// `format` (with `column`, `header`), or from the file name.
    pub format: ListFormat,
    /// `accounts`: the accounts it applies to; `None`: all.
    pub accounts: Option<Vec<String>>,
    /// `description`
    pub description: Option<String>,
    /// `fixtures_only`: loaded only to test the pack's rules on their fixtures (so that
    /// rules on the user's threat lists can be tested without one).
    pub fixtures_only: bool,
}

/// A file of lists, macros and list declarations.
#[derive(Clone, Debug, Default)]
pub struct DefsFile {
    /// `lists:`
    pub lists: Vec<ListDef>,
    /// `macros:`
    pub macros: Vec<MacroDef>,
    /// `intel:`
    pub intel: Vec<IntelDecl>,
}

/// What a YAML file of a pack holds.
#[derive(Clone, Debug)]
pub enum Loaded {
    /// A rule.
    Rule(Box<RuleDef>),
    /// Lists and macros.
    Defs(DefsFile),
}

const RULE_KEYS: &[&str] = &[
    "id",
    "type",
    "title",
    "severity",
    "source",
    "category",
    "mitre",
    "description",
    "when",
    "group_by",
    "version",
    "tests",
];
const REQUIRED_KEYS: &[&str] = &[
    "id",
    "type",
    "title",
    "severity",
    "source",
    "category",
    "description",
    "when",
];
const TEST_KEYS: &[&str] = &["name", "event", "expect"];

struct Ctx {
    file: Arc<SourceFile>,
    diags: Vec<FileDiagnostic>,
}

impl Ctx {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(FileDiagnostic {
            file: self.file.clone(),
            diagnostic: d,
        });
    }
    fn span(&self, node: &Node) -> Span {
        let len = node.as_scalar().map(|s| s.as_str().len()).unwrap_or(1);
        self.file.span_of(node.span(), len)
    }
    fn key_span(&self, key: &marked_yaml::types::MarkedScalarNode) -> Span {
        self.file.span_of(key.span(), key.as_str().len())
    }
    fn type_error(&mut self, node: &Node, key: &str, expected: &str) {
        let found = match node {
            Node::Scalar(_) => "a scalar",
            Node::Mapping(_) => "a mapping",
            Node::Sequence(_) => "a list",
        };
        let span = self.span(node);
        self.push(
            Diagnostic::error("R204", format!("`{key}` must be {expected}"))
                .with_primary(span, format!("expected {expected}, found {found}")),
        );
    }
    fn string(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        match node.as_scalar() {
            Some(s) => Some(Spanned {
                value: s.as_str().to_string(),
                span: self.span(node),
            }),
            None => {
                self.type_error(node, key, "a string");
                None
            }
        }
    }
    fn cond(&mut self, node: &Node, key: &str) -> Option<CondText> {
        let s = node.as_scalar();
        let Some(s) = s else {
            self.type_error(node, key, "a condition string");
            return None;
        };
        let start = node
            .span()
            .start()
            .map(|m| self.file.offset_of(m))
            .unwrap_or(0);
        let text = s.as_str().to_string();
        let map = ScalarMap::new(&self.file.text, start, &text);
        let span = map.span(&Span::new(0, text.trim_end().len()));
        Some(CondText { text, map, span })
    }
    fn string_list(&mut self, node: &Node, key: &str) -> Option<Vec<Spanned<String>>> {
        match node {
            Node::Scalar(_) => self.string(node, key).map(|s| vec![s]),
            Node::Sequence(seq) => {
                let mut out = Vec::new();
                for item in seq.iter() {
                    out.push(self.string(item, key)?);
                }
                Some(out)
            }
            Node::Mapping(_) => {
                self.type_error(node, key, "a string or a list of strings");
                None
            }
        }
    }
}

/// Loads one YAML file of a pack: a rule, or a file of `lists:`/`macros:`.
pub fn load_file(file: Arc<SourceFile>, path: &str) -> Result<Loaded, Vec<FileDiagnostic>> {
    let mut cx = Ctx {
        file: file.clone(),
        diags: Vec::new(),
    };
    // `prevent_coercion` keeps quoting visible: a quoted "123" in a list is text.
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    let root = match marked_yaml::parse_yaml_with_options(0, &file.text, options) {
        Ok(root) => root,
        Err(err) => {
            cx.push(yaml_error(&file, &err));
            return Err(cx.diags);
        }
    };
    let Some(map) = root.as_mapping() else {
        let span = cx.span(&root);
        cx.push(
            Diagnostic::error("R204", "a rule file must be a mapping of keys")
                .with_primary(span, "expected `id: …`, `when: …` and the other rule keys"),
        );
        return Err(cx.diags);
    };
    let is_defs = map.get_node("id").is_none()
        && (map.get_node("lists").is_some()
            || map.get_node("macros").is_some()
            || map.get_node("intel").is_some());
    let loaded = if is_defs {
        load_defs(&mut cx, map, path).map(Loaded::Defs)
    } else {
        load_rule(&mut cx, map, path).map(|r| Loaded::Rule(Box::new(r)))
    };
    match loaded {
        Some(l) if cx.diags.iter().all(|d| !d.diagnostic.is_error()) => Ok(l),
        _ => Err(cx.diags),
    }
}

fn yaml_error(file: &Arc<SourceFile>, err: &marked_yaml::LoadError) -> Diagnostic {
    use marked_yaml::LoadError as E;
    let (marker, message, label) = match err {
        E::ScanError(m, e) => (Some(*m), "invalid YAML".to_string(), e.info().to_string()),
        E::DuplicateKey(inner) => {
            let span = file.span_of(inner.key.span(), inner.key.as_str().len());
            let first = file.span_of(inner.prev_key.span(), inner.prev_key.as_str().len());
            return Diagnostic::error("R201", format!("duplicate key `{}`", inner.key.as_str()))
                .with_primary(span, "set again here")
                .with_secondary(first, "first set here")
                .with_help("keep one of them");
        }
        E::UnexpectedAnchor(m) => (
            Some(*m),
            "YAML anchors are not supported in rule files".to_string(),
            "remove the anchor; use a pack macro or list to share".to_string(),
        ),
        E::UnexpectedTag(m) => (
            Some(*m),
            "YAML tags are not supported in rule files".to_string(),
            "remove the tag".to_string(),
        ),
        E::MappingKeyMustBeScalar(m) => (
            Some(*m),
            "mapping keys must be plain strings".to_string(),
            "not a plain key".to_string(),
        ),
        E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => (
            Some(*m),
            "a rule file must be a mapping of keys".to_string(),
            "expected `id: …`".to_string(),
        ),
    };
    let at = marker.map(|m| file.offset_of(&m)).unwrap_or(0);
    let end = (at + 1).min(file.text.len()).max(at);
    Diagnostic::error("R201", message).with_primary(Span::new(at, end), label)
}

fn check_keys(
    cx: &mut Ctx,
    map: &marked_yaml::types::MarkedMappingNode,
    allowed: &[&str],
    what: &str,
) {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            let span = cx.key_span(key);
            let mut d =
                Diagnostic::error("R202", format!("unknown key `{}` in {what}", key.as_str()))
                    .with_primary(span, "not a known key");
            d = match suggest::nearest(key.as_str(), allowed.iter().copied()) {
                Some(near) => d.with_help(format!("did you mean `{near}`?")),
                None => d.with_note(format!("known keys: {}", allowed.join(", "))),
            };
            cx.push(d);
        }
    }
}

fn load_rule(
    cx: &mut Ctx,
    map: &marked_yaml::types::MarkedMappingNode,
    path: &str,
) -> Option<RuleDef> {
    check_keys(cx, map, RULE_KEYS, "a rule");
    let missing: Vec<&str> = REQUIRED_KEYS
        .iter()
        .copied()
        .filter(|k| map.get_node(k).is_none())
        .collect();
    if !missing.is_empty() {
        let first_line = cx.file.text.find('\n').unwrap_or(cx.file.text.len());
        let list = missing
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let plural = if missing.len() > 1 { "s" } else { "" };
        cx.push(
            Diagnostic::error("R203", format!("missing required key{plural} {list}"))
                .with_primary(Span::new(0, first_line), format!("this rule has no {list}"))
                .with_help(format!(
                    "add {}",
                    missing
                        .iter()
                        .map(|k| format!("`{k}: …`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
        );
    }
    let get = |k: &str| map.get_node(k);

    let id = get("id").and_then(|n| cx.string(n, "id"));
    if let Some(id) = &id {
        let ok = id.value.split('.').count() >= 2
            && id.value.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_'
            });
        if !ok {
            cx.push(
                Diagnostic::error("R205", format!("invalid rule id `{}`", id.value))
                    .with_primary(id.span.clone(), "not of the form `<category>.<name>`")
                    .with_help("use lower-case kebab-case, e.g. `account.root-console-login`"),
            );
        }
    }
    let finding_type = get("type").and_then(|n| cx.string(n, "type"));
    if let Some(t) = &finding_type {
        if !is_finding_type(&t.value) {
            cx.push(
                Diagnostic::error("R205", format!("invalid finding type `{}`", t.value))
                    .with_primary(
                        t.span.clone(),
                        "not of the form `Purpose:Resource/Family[.Variant][!DNS]`",
                    )
                    .with_help("e.g. `Stealth:IAMUser/CloudTrailLoggingDisabled`"),
            );
        }
    }
    let title = get("title").and_then(|n| cx.string(n, "title"));
    let description = get("description").and_then(|n| cx.string(n, "description"));
    let severity = get("severity").and_then(|n| severity(cx, n));
    let sources = get("source").and_then(|n| sources(cx, n));
    let category = get("category").and_then(|n| category(cx, n));
    let mitre = match get("mitre") {
        Some(n) => cx.string_list(n, "mitre")?,
        None => Vec::new(),
    };
    let when = get("when").and_then(|n| cx.cond(n, "when"));
    let group_by = match get("group_by") {
        Some(n) => cx.string_list(n, "group_by")?,
        None => Vec::new(),
    };
    let version = match get("version") {
        Some(n) => match n.as_scalar().and_then(|s| s.as_str().parse::<u32>().ok()) {
            Some(v) if v > 0 => v,
            _ => {
                let span = cx.span(n);
                cx.push(
                    Diagnostic::error("R205", "`version` must be a positive integer")
                        .with_primary(span, "expected 1, 2, 3 …"),
                );
                1
            }
        },
        None => 1,
    };
    let tests = match get("tests") {
        Some(n) => tests(cx, n),
        None => Vec::new(),
    };
    Some(RuleDef {
        file: cx.file.clone(),
        path: path.to_string(),
        id: id?,
        version,
        finding_type: finding_type?,
        title: title?.value,
        severity: severity?,
        sources: sources?,
        category: category?,
        mitre: mitre.into_iter().map(|m| m.value).collect(),
        description: description?.value.trim().to_string(),
        when: when?,
        group_by,
        tests,
    })
}

fn is_finding_type(t: &str) -> bool {
    let Some((purpose, rest)) = t.split_once(':') else {
        return false;
    };
    let Some((resource, family)) = rest.split_once('/') else {
        return false;
    };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
    let family = family.strip_suffix("!DNS").unwrap_or(family);
    word(purpose)
        && word(resource)
        && !family.is_empty()
        && family.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '&')
        })
}

fn severity(cx: &mut Ctx, node: &Node) -> Option<f64> {
    let s = cx.string(node, "severity")?;
    let value = match s.value.to_ascii_lowercase().as_str() {
        "low" => Some(2.0),
        "medium" => Some(5.0),
        "high" => Some(8.0),
        "critical" => Some(9.5),
        other => other
            .parse::<f64>()
            .ok()
            .filter(|v| (1.0..=10.0).contains(v)),
    };
    if value.is_none() {
        cx.push(
            Diagnostic::error("R205", format!("invalid severity `{}`", s.value))
                .with_primary(s.span, "not a severity")
                .with_help("use low, medium, high, critical, or a number from 1.0 to 10.0"),
        );
    }
    value
}

fn sources(cx: &mut Ctx, node: &Node) -> Option<Spanned<Vec<Source>>> {
    let names = cx.string_list(node, "source")?;
    let mut out = Vec::new();
    for name in &names {
        match Source::from_name(&name.value) {
            Some(s) => out.push(s),
            None => {
                let mut d = Diagnostic::error("R205", format!("unknown source `{}`", name.value))
                    .with_primary(name.span.clone(), "not a log source");
                let all = Source::ALL.map(Source::name);
                d = match suggest::nearest(&name.value, all) {
                    Some(n) => d.with_help(format!("did you mean `{n}`?")),
                    None => d.with_note(format!("sources: {}", all.join(", "))),
                };
                cx.push(d);
            }
        }
    }
    if names.is_empty() {
        let span = cx.span(node);
        cx.push(
            Diagnostic::error("R205", "`source` is empty")
                .with_primary(span, "name at least one source"),
        );
        return None;
    }
    let span = names[0].span.to(&names[names.len() - 1].span);
    (out.len() == names.len()).then_some(Spanned { value: out, span })
}

fn category(cx: &mut Ctx, node: &Node) -> Option<Category> {
    let s = cx.string(node, "category")?;
    let found = Category::ALL.into_iter().find(|c| c.name() == s.value);
    if found.is_none() {
        let names = Category::ALL.map(Category::name);
        let mut d = Diagnostic::error("R205", format!("unknown category `{}`", s.value))
            .with_primary(s.span, "not a category");
        d = match suggest::nearest(&s.value, names) {
            Some(n) => d.with_help(format!("did you mean `{n}`?")),
            None => d.with_note(format!("categories: {}", names.join(", "))),
        };
        cx.push(d);
    }
    found
}

fn tests(cx: &mut Ctx, node: &Node) -> Vec<InlineTest> {
    let Some(seq) = node.as_sequence() else {
        cx.type_error(node, "tests", "a list of test cases");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in seq.iter() {
        let Some(map) = item.as_mapping() else {
            cx.type_error(item, "tests", "a list of `{name, event, expect}` mappings");
            continue;
        };
        check_keys(cx, map, TEST_KEYS, "a test case");
        let name = map.get_node("name").and_then(|n| cx.string(n, "name"));
        let event = map.get_node("event").and_then(|n| cx.string(n, "event"));
        let expect = map.get_node("expect").and_then(|n| cx.string(n, "expect"));
        let (Some(event), Some(expect)) = (event, expect) else {
            let span = cx.span(item);
            cx.push(
                Diagnostic::error("R203", "a test case needs `event` and `expect`")
                    .with_primary(span, "incomplete test case"),
            );
            continue;
        };
        let expect = match expect.value.as_str() {
            "match" => Expect::Match,
            "no-match" | "no_match" => Expect::NoMatch,
            _ => {
                cx.push(
                    Diagnostic::error("R205", format!("invalid expectation `{}`", expect.value))
                        .with_primary(expect.span, "expected `match` or `no-match`"),
                );
                continue;
            }
        };
        out.push(InlineTest {
            name: name.map(|n| n.value).unwrap_or_else(|| event.value.clone()),
            event,
            expect,
        });
    }
    out
}

fn load_defs(
    cx: &mut Ctx,
    map: &marked_yaml::types::MarkedMappingNode,
    path: &str,
) -> Option<DefsFile> {
    check_keys(
        cx,
        map,
        &["lists", "macros", "intel"],
        "a lists/macros file",
    );
    let mut defs = DefsFile::default();
    if let Some(node) = map.get_node("intel") {
        let Some(decls) = node.as_mapping() else {
            cx.type_error(node, "intel", "a mapping of list names to declarations");
            return None;
        };
        for (key, value) in decls.iter() {
            if let Some(decl) = intel_decl(cx, key, value, path) {
                defs.intel.push(decl);
            }
        }
    }
    if let Some(node) = map.get_node("lists") {
        let Some(lists) = node.as_mapping() else {
            cx.type_error(node, "lists", "a mapping of list names to lists");
            return None;
        };
        for (key, value) in lists.iter() {
            let name = Spanned {
                value: key.as_str().to_string(),
                span: cx.key_span(key),
            };
            check_name(cx, &name, "list");
            let Some(seq) = value.as_sequence() else {
                cx.type_error(value, key.as_str(), "a list of values");
                continue;
            };
            let mut items = Vec::new();
            for item in seq.iter() {
                let Some(s) = item.as_scalar() else {
                    cx.type_error(item, key.as_str(), "a list of plain values");
                    continue;
                };
                let text = s.as_str();
                let value = if !s.may_coerce() {
                    ListItem::Str(text.to_string())
                } else if let Ok(i) = text.parse::<i64>() {
                    ListItem::Int(i)
                } else if let Ok(f) = text.parse::<f64>() {
                    ListItem::Float(f)
                } else if let Some(b) = s.as_bool() {
                    ListItem::Bool(b)
                } else {
                    ListItem::Str(text.to_string())
                };
                items.push(Spanned {
                    value,
                    span: cx.span(item),
                });
            }
            defs.lists.push(ListDef {
                file: cx.file.clone(),
                name,
                items,
            });
        }
    }
    if let Some(node) = map.get_node("macros") {
        let Some(macros) = node.as_mapping() else {
            cx.type_error(node, "macros", "a mapping of macro names to conditions");
            return None;
        };
        for (key, value) in macros.iter() {
            let name = Spanned {
                value: key.as_str().to_string(),
                span: cx.key_span(key),
            };
            check_name(cx, &name, "macro");
            if let Some(body) = cx.cond(value, key.as_str()) {
                defs.macros.push(MacroDef {
                    file: cx.file.clone(),
                    name,
                    body,
                });
            }
        }
    }
    Some(defs)
}

const INTEL_KEYS: &[&str] = &[
    "kind",
    "file",
    "format",
    "column",
    "header",
    "accounts",
    "description",
    "fixtures_only",
];

/// One declaration under `intel:`.
fn intel_decl(
    cx: &mut Ctx,
    key: &marked_yaml::types::MarkedScalarNode,
    value: &Node,
    path: &str,
) -> Option<IntelDecl> {
    let name = Spanned {
        value: key.as_str().to_string(),
        span: cx.key_span(key),
    };
    let valid_name = name.value.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_name {
        cx.push(
            Diagnostic::error("R213", format!("invalid list name `{}`", name.value))
                .with_primary(
                    name.span.clone(),
                    "list names are lower-case words joined by `-`",
                )
                .with_help(format!(
                    "rename it to `{}`",
                    name.value.to_ascii_lowercase().replace([' ', '.'], "-")
                )),
        );
    }
    let Some(map) = value.as_mapping() else {
        cx.type_error(value, key.as_str(), "a mapping with `kind` and `file`");
        return None;
    };
    check_keys(cx, map, INTEL_KEYS, "a list declaration");
    let missing = |cx: &mut Ctx, what: &str| {
        cx.push(
            Diagnostic::error("R203", format!("list `{}` has no `{what}`", name.value))
                .with_primary(name.span.clone(), format!("`{what}` is required"))
                .with_help(
                    "a declaration needs `kind: threat|trusted|reference` and `file: <path>`",
                ),
        );
    };
    let kind = match map.get_node("kind") {
        None => {
            missing(cx, "kind");
            None
        }
        Some(node) => {
            let text = cx.string(node, "kind")?;
            let kind = ListKind::from_name(&text.value);
            if kind.is_none() {
                cx.push(
                    Diagnostic::error("R205", format!("unknown list kind `{}`", text.value))
                        .with_primary(text.span, "not a kind")
                        .with_help("use `threat`, `trusted` or `reference`"),
                );
            }
            kind
        }
    };
    let data = match map.get_node("file") {
        None => {
            missing(cx, "file");
            None
        }
        Some(node) => cx.string(node, "file"),
    };
    let (kind, data) = (kind?, data?);
    let mut flag = |key: &str, default: bool| match map.get_node(key) {
        None => default,
        Some(node) => match node.as_scalar().and_then(|s| s.as_bool()) {
            Some(b) => b,
            None => {
                cx.type_error(node, key, "`true` or `false`");
                default
            }
        },
    };
    let header = flag("header", true);
    let fixtures_only = flag("fixtures_only", false);
    let column = match map.get_node("column") {
        None => None,
        Some(node) => {
            let text = cx.string(node, "column")?;
            Some(match text.value.parse::<usize>() {
                Ok(i) => Column::Index(i),
                Err(_) => Column::Name(text.value),
            })
        }
    };
    let format = match map.get_node("format") {
        None => match (
            ListFormat::from_path(std::path::Path::new(&data.value)),
            column,
        ) {
            (ListFormat::Csv { .. }, Some(column)) => ListFormat::Csv { column, header },
            (ListFormat::Csv { column, .. }, None) => ListFormat::Csv { column, header },
            (other, _) => other,
        },
        Some(node) => {
            let text = cx.string(node, "format")?;
            match text.value.as_str() {
                "text" => ListFormat::Text,
                "csv" => ListFormat::Csv {
                    column: column.unwrap_or(Column::Index(0)),
                    header,
                },
                "stix" => ListFormat::Stix,
                "aws-ip-ranges" => ListFormat::AwsIpRanges,
                other => {
                    const FORMATS: [&str; 4] = ["text", "csv", "stix", "aws-ip-ranges"];
                    let mut d = Diagnostic::error("R205", format!("unknown list format `{other}`"))
                        .with_primary(text.span, "not a format");
                    d = match suggest::nearest(other, FORMATS) {
                        Some(near) => d.with_help(format!("did you mean `{near}`?")),
                        None => d.with_help("use `text`, `csv`, `stix` or `aws-ip-ranges`"),
                    };
                    cx.push(d);
                    return None;
                }
            }
        }
    };
    let accounts = match map.get_node("accounts") {
        None => None,
        Some(node) => Some(
            cx.string_list(node, "accounts")?
                .into_iter()
                .map(|a| a.value)
                .collect(),
        ),
    };
    let description = match map.get_node("description") {
        None => None,
        Some(node) => Some(cx.string(node, "description")?.value),
    };
    Some(IntelDecl {
        file: cx.file.clone(),
        decl_path: path.to_string(),
        name,
        kind,
        data,
        format,
        accounts,
        description,
        fixtures_only,
    })
}

fn check_name(cx: &mut Ctx, name: &Spanned<String>, what: &str) {
    let ok = name.value.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        cx.push(
            Diagnostic::error("R212", format!("invalid {what} name `{}`", name.value))
                .with_primary(name.span.clone(), "names are lower_snake_case")
                .with_help(format!(
                    "rename it to `{}`",
                    name.value
                        .to_ascii_lowercase()
                        .replace(['-', '.', ' '], "_")
                )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_type_shapes() {
        assert!(is_finding_type("Stealth:IAMUser/CloudTrailLoggingDisabled"));
        assert!(is_finding_type("Backdoor:EC2/C&CActivity.B!DNS"));
        assert!(is_finding_type(
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
        ));
        assert!(!is_finding_type("Stealth/IAMUser"));
        assert!(!is_finding_type("Stealth:IAMUser/"));
        assert!(!is_finding_type("Stealth:IAM User/X"));
    }

    #[test]
    fn quoted_list_items_stay_text() {
        let text =
            "lists:\n  accounts: [\"111122223333\", 012345678901, 443, \"true\", true, 1.5]\n";
        let file = Arc::new(SourceFile::new("lists/a.yaml", text.to_string()));
        let Ok(Loaded::Defs(defs)) = load_file(file, "lists/a.yaml") else {
            panic!("a list file loads");
        };
        let items: Vec<&ListItem> = defs.lists[0].items.iter().map(|i| &i.value).collect();
        assert!(matches!(items[0], ListItem::Str(s) if s == "111122223333"));
        // Unquoted, YAML reads numbers and booleans as such.
        assert!(matches!(items[1], ListItem::Int(12345678901)));
        assert!(matches!(items[2], ListItem::Int(443)));
        assert!(matches!(items[3], ListItem::Str(s) if s == "true"));
        assert!(matches!(items[4], ListItem::Bool(true)));
        assert!(matches!(items[5], ListItem::Float(f) if *f == 1.5));
    }
}
