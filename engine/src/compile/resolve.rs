//! Stage 3: AST -> IR. Resolves names (fields against the catalog and the raw schema
//! of the rule's sources, functions, pack lists and macros), checks types, parses
//! literals for their use (IPs, CIDRs, times, regexes) and expands macros.
//!
//! Every problem becomes a diagnostic pointing into the YAML file that holds the text
//! (the rule, or the macro file for errors inside a macro), with a suggestion for
//! unknown names. Resolution goes on after an error so one run reports them all.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use picket_grammar::ast::{self, CompareOp, ExprKind, InSet, IntelRef, LitValue, Segment};
use picket_grammar::{suggest, Diagnostic, Span};

use super::ir::{CmpOp, Cond, FieldRef, LitSet, Needle, Operand, Pred, Test};
use super::load::{CondText, ListDef, ListItem, MacroDef};
use super::source::{FileDiagnostic, SourceFile};
use crate::event::{catalog, FieldType, FieldValue, Source};
use crate::functions;
use crate::intel::geo::GeoDb;
use crate::intel::{Intel, IntelList, ListKind};

/// Lists and macros of the loaded packs, by name, with macro bodies parsed once.
#[derive(Default)]
pub struct Defs {
    /// Named lists.
    pub lists: HashMap<String, ListDef>,
    /// Macros and their parsed bodies (`None` when the body has a syntax error).
    pub macros: HashMap<String, (MacroDef, Option<ast::Expr>)>,
    /// Threat, trusted and reference lists, as loaded.
    pub intel: Arc<Intel>,
    /// Geo/ASN databases, when given.
    pub geo: Option<Arc<GeoDb>>,
}

/// Names used while compiling, for `unused_*` warnings.
#[derive(Default)]
pub struct Usage {
    /// Lists referenced by some rule.
    pub lists: HashSet<String>,
    /// Macros referenced by some rule.
    pub macros: HashSet<String>,
}

/// Where an expression is written: its file and the map from condition offsets to file
/// offsets.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    /// The file.
    pub file: &'a Arc<SourceFile>,
    /// The condition text and its map.
    pub cond: &'a CondText,
}

/// Compiles the conditions of one rule.
pub struct Resolver<'d> {
    defs: &'d Defs,
    usage: &'d mut Usage,
    sources: Vec<Source>,
    /// Diagnostics so far.
    pub diags: Vec<FileDiagnostic>,
    /// Predicates so far.
    pub preds: Vec<Pred>,
    stack: Vec<String>,
    /// Depth of `any(…)`/`all(…)` being resolved: paths inside are element-relative.
    elem_depth: usize,
    /// `any(path)`/`all(path)` of the quantifiers being resolved, to label predicates.
    quant_labels: Vec<String>,
    /// Geo fields already reported as missing their database (once per rule).
    geo_warned: HashSet<&'static str>,
    /// Regular expressions built by the compilation before (reloads).
    cache: Option<&'d super::cache::ParseCache>,
}

impl<'d> Resolver<'d> {
    /// A resolver for a rule over `sources`.
    pub fn new(defs: &'d Defs, usage: &'d mut Usage, sources: &[Source]) -> Self {
        Resolver {
            defs,
            usage,
            sources: sources.to_vec(),
            diags: Vec::new(),
            preds: Vec::new(),
            stack: Vec::new(),
            elem_depth: 0,
            quant_labels: Vec::new(),
            geo_warned: HashSet::new(),
            cache: None,
        }
    }

    /// The same, taking regular expressions from `cache` when built before.
    pub fn with_cache(mut self, cache: Option<&'d super::cache::ParseCache>) -> Self {
        self.cache = cache;
        self
    }

    fn report(&mut self, at: Place<'_>, d: Diagnostic) {
        let map = &at.cond.map;
        self.diags.push(FileDiagnostic {
            file: at.file.clone(),
            diagnostic: d.map_spans(|s| map.span(s)),
        });
    }

    /// Reports a diagnostic whose spans are offsets into `at`'s condition text.
    pub(crate) fn report_at(&mut self, at: Place<'_>, d: Diagnostic) {
        self.report(at, d);
    }

    /// Resolves an operand (a field, a literal or a call) and gives its type.
    pub(crate) fn operand_of(
        &mut self,
        op: &ast::Operand,
        at: Place<'_>,
    ) -> Option<(Operand, FieldType)> {
        self.operand(op, at)
    }

    /// Parses and resolves a condition text.
    pub fn condition(&mut self, at: Place<'_>) -> Option<Cond> {
        match picket_grammar::parse_condition(&at.cond.text) {
            Ok(expr) => self.expr(&expr, at),
            Err(d) => {
                self.report(at, d);
                None
            }
        }
    }

    /// Resolves a parsed expression.
    pub fn expr(&mut self, e: &ast::Expr, at: Place<'_>) -> Option<Cond> {
        match &e.kind {
            ExprKind::And(a, b) => {
                let (a, b) = (self.expr(a, at), self.expr(b, at));
                Some(flatten(Cond::And(vec![a?, b?])))
            }
            ExprKind::Or(a, b) => {
                let (a, b) = (self.expr(a, at), self.expr(b, at));
                Some(flatten(Cond::Or(vec![a?, b?])))
            }
            ExprKind::Not(a) => Some(Cond::Not(Box::new(self.expr(a, at)?))),
            ExprKind::Bool(b) => Some(Cond::Const(*b)),
            ExprKind::Ref(ident) => self.reference(ident, at),
            ExprKind::StrMatch {
                lhs,
                op,
                nocase,
                rhs: ast::Operand::Call(call),
            } if call.name.name == "list" => self.substring_list(e, lhs, *op, *nocase, call, at),
            ExprKind::Quantified { all, list, cond } => {
                let label = format!("{}({})", if *all { "all" } else { "any" }, list.dotted());
                let (list, _) = self.field(list, at)?;
                self.elem_depth += 1;
                self.quant_labels.push(label);
                let body = self.expr(cond, at);
                self.quant_labels.pop();
                self.elem_depth -= 1;
                Some(Cond::Quant {
                    all: *all,
                    list,
                    body: Box::new(body?),
                })
            }
            _ => {
                let test = self.test(e, at)?;
                let text = self.pred_text(e, at);
                self.preds.push(Pred { text, test });
                Some(Cond::Pred(self.preds.len() as u32 - 1))
            }
        }
    }

    /// How a predicate is explained: its text as written (whitespace folded), after the
    /// label of the quantifier it is inside, if any.
    fn pred_text(&self, e: &ast::Expr, at: Place<'_>) -> String {
        let text = at
            .cond
            .text
            .get(e.span.start()..e.span.end())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match self.quant_labels.last() {
            Some(label) => format!("{label}: {text}"),
            None => text,
        }
    }

    /// `x contains~ list("name")`: one substring test per text entry of the list, any of
    /// which may hold (each explained with its entry).
    fn substring_list(
        &mut self,
        e: &ast::Expr,
        lhs: &ast::Operand,
        op: ast::StrOp,
        nocase: bool,
        call: &ast::Call,
        at: Place<'_>,
    ) -> Option<Cond> {
        let (lhs_op, ty) = self.operand(lhs, at)?;
        self.require_text(ty, lhs, &op.to_string(), at)?;
        let name = match call.args.as_slice() {
            [ast::Operand::Literal(ast::Literal {
                value: LitValue::Str(name),
                span,
            })] => (name.clone(), span.clone()),
            _ => {
                self.report(
                    at,
                    Diagnostic::error("C130", "`list(…)` takes the name of one list, in quotes")
                        .with_primary(call.span.clone(), "expected `list(\"name\")`")
                        .with_help("e.g. `user_agent contains~ list(\"pentest-user-agents\")`"),
                );
                return None;
            }
        };
        let list = self.intel_list(&name.0, &name.1, at)?;
        let entries: Vec<String> = list.texts().map(str::to_string).collect();
        let written = self.pred_text(e, at);
        let mut branches = Vec::new();
        for entry in entries {
            self.preds.push(Pred {
                text: format!("{written}: {entry:?}"),
                test: Test::Str {
                    lhs: lhs_op.clone(),
                    op,
                    needle: make_needle(entry, nocase),
                },
            });
            branches.push(Cond::Pred(self.preds.len() as u32 - 1));
        }
        Some(match branches.len() {
            0 => Cond::Const(false),
            1 => branches.remove(0),
            _ => Cond::Or(branches),
        })
    }

    /// The declared list of that name, or an error with the nearest name.
    fn intel_list(&mut self, name: &str, span: &Span, at: Place<'_>) -> Option<Arc<IntelList>> {
        let intel = Arc::clone(&self.defs.intel);
        if let Some(list) = intel.get(name) {
            return Some(Arc::clone(list));
        }
        if intel.failed(name) {
            self.report(
                at,
                Diagnostic::error("C131", format!("list `{name}` did not load"))
                    .with_primary(span.clone(), "its file is missing or has errors")
                    .with_help(
                        "fix the errors reported for the list's file; the rule loads with it",
                    ),
            );
            return None;
        }
        let mut d = Diagnostic::error("C131", format!("unknown list `{name}`")).with_primary(
            span.clone(),
            "no threat, trusted or reference list of this name is loaded",
        );
        d = match suggest::nearest(name, intel.names()) {
            Some(near) => d.with_help(format!("did you mean `list(\"{near}\")`?")),
            None => d.with_help(
                "declare it under `intel:` in a pack (see docs/intel.md), or give it with \
                 `--threat-list`/`--trusted-list`",
            ),
        };
        self.report(at, d);
        None
    }

    /// The lists `list(…)` names in `lhs in list(…)`.
    fn intel_test(
        &mut self,
        lhs: Operand,
        ty: FieldType,
        lhs_ast: &ast::Operand,
        which: &IntelRef,
        at: Place<'_>,
    ) -> Option<Test> {
        if !matches!(
            ty,
            FieldType::Str | FieldType::StrList | FieldType::Ip | FieldType::Any
        ) {
            self.report(
                at,
                Diagnostic::error(
                    "C110",
                    format!(
                        "`in list(…)` needs an address, a domain name, a URL or text, not {}",
                        ty.name()
                    ),
                )
                .with_primary(lhs_ast.span().clone(), format!("this is {}", ty.name()))
                .with_help("use a field such as `src.ip`, `dst.ip` or `dns.query`"),
            );
            return None;
        }
        let lists = match which {
            IntelRef::Name(name, span) => vec![self.intel_list(name, span, at)?],
            IntelRef::Kind(kind) => match ListKind::from_name(&kind.name) {
                Some(k) => self.defs.intel.of_kind(k),
                None => {
                    let quoted = if self.defs.intel.get(&kind.name).is_some() {
                        format!("a list is named `{0}`: write `list(\"{0}\")`", kind.name)
                    } else {
                        format!("or quote a list name: `list(\"{}\")`", kind.name)
                    };
                    self.report(
                        at,
                        Diagnostic::error("C130", format!("unknown list kind `{}`", kind.name))
                            .with_primary(
                                kind.span.clone(),
                                "not `threat`, `trusted` or `reference`",
                            )
                            .with_help(quoted),
                    );
                    return None;
                }
            },
        };
        Some(Test::Intel { lhs, lists })
    }

    fn reference(&mut self, ident: &ast::Ident, at: Place<'_>) -> Option<Cond> {
        let defs = self.defs;
        if let Some((def, body)) = defs.macros.get(&ident.name) {
            self.usage.macros.insert(ident.name.clone());
            if self.stack.contains(&ident.name) {
                let chain = format!("{} -> {}", self.stack.join(" -> "), ident.name);
                self.report(
                    at,
                    Diagnostic::error(
                        "C111",
                        format!("macro `{}` expands into itself", ident.name),
                    )
                    .with_primary(ident.span.clone(), "recursive macro reference")
                    .with_note(format!("expansion: {chain}")),
                );
                return None;
            }
            let body = body.as_ref()?;
            self.stack.push(ident.name.clone());
            let place = Place {
                file: &def.file,
                cond: &def.body,
            };
            let out = self.expr(body, place);
            self.stack.pop();
            return out;
        }
        let as_path = ast::Path {
            segments: ident
                .name
                .split('.')
                .map(|s| Segment::Name(s.to_string()))
                .collect(),
            span: ident.span.clone(),
        };
        if self.lookup_field(&as_path).is_ok() {
            self.report(
                at,
                Diagnostic::error(
                    "C108",
                    format!("`{}` is a field, not a condition", ident.name),
                )
                .with_primary(ident.span.clone(), "a value, not true or false")
                .with_help(format!(
                    "write `{0} exists`, or compare it: `{0} == …`",
                    ident.name
                )),
            );
            return None;
        }
        let mut d = Diagnostic::error("C108", format!("unknown macro `{}`", ident.name))
            .with_primary(ident.span.clone(), "no macro of this name in the pack");
        if let Some(near) = suggest::nearest(&ident.name, defs.macros.keys().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        self.report(at, d);
        None
    }

    fn test(&mut self, e: &ast::Expr, at: Place<'_>) -> Option<Test> {
        match &e.kind {
            ExprKind::Compare { lhs, op, rhs } => self.compare(lhs, *op, rhs, at),
            ExprKind::StrMatch {
                lhs,
                op,
                nocase,
                rhs,
            } => {
                let (lhs_op, ty) = self.operand(lhs, at)?;
                self.require_text(ty, lhs, &op.to_string(), at)?;
                let needle = match rhs {
                    ast::Operand::Literal(ast::Literal {
                        value: LitValue::Str(s),
                        ..
                    }) => s.clone(),
                    other => {
                        self.report(
                            at,
                            Diagnostic::error(
                                "C105",
                                format!("`{op}` needs a string literal on its right"),
                            )
                            .with_primary(other.span().clone(), "expected a quoted string")
                            .with_help("write the text in quotes, e.g. `contains \"kali\"`"),
                        );
                        return None;
                    }
                };
                Some(Test::Str {
                    lhs: lhs_op,
                    op: *op,
                    needle: make_needle(needle, *nocase),
                })
            }
            ExprKind::In { lhs, nocase, set } => {
                let (lhs_op, ty) = self.operand(lhs, at)?;
                match set {
                    InSet::Items(items, _) => {
                        let mut out = LitSet {
                            nocase: *nocase,
                            ..LitSet::default()
                        };
                        let mut ok = true;
                        for item in items {
                            match self.coerce(&item.value, &item.span, ty, at) {
                                Some(v) => add_to_set(&mut out, v),
                                None => ok = false,
                            }
                        }
                        ok.then_some(Test::In {
                            lhs: lhs_op,
                            set: out,
                        })
                    }
                    InSet::Named(name) => {
                        let set = self.named_list(name, ty, *nocase, at)?;
                        Some(Test::In { lhs: lhs_op, set })
                    }
                    InSet::Intel(which, _) => self.intel_test(lhs_op, ty, lhs, which, at),
                    InSet::Cidr(items, _) => {
                        if !matches!(ty, FieldType::Ip | FieldType::Any) {
                            self.report(
                                at,
                                Diagnostic::error(
                                    "C110",
                                    "`in cidr(…)` needs an IP address on its left",
                                )
                                .with_primary(lhs.span().clone(), format!("this is {}", ty.name()))
                                .with_help("use an IP field such as `src.ip` or `dst.ip`"),
                            );
                            return None;
                        }
                        let mut nets = Vec::new();
                        for item in items {
                            let text = match &item.value {
                                LitValue::Str(s) | LitValue::Ip(s) => s.as_str(),
                                _ => "",
                            };
                            match parse_net(text) {
                                Some(n) => nets.push(n),
                                None => self.report(
                                    at,
                                    Diagnostic::error("C106", format!("invalid network `{text}`"))
                                        .with_primary(
                                            item.span.clone(),
                                            "not an IP address or CIDR",
                                        )
                                        .with_help(
                                            "write e.g. `10.0.0.0/8` or `\"2001:db8::/32\"`",
                                        ),
                                ),
                            }
                        }
                        (nets.len() == items.len()).then_some(Test::Cidr { lhs: lhs_op, nets })
                    }
                }
            }
            ExprKind::Matches { lhs, regex } => {
                let (lhs_op, ty) = self.operand(lhs, at)?;
                self.require_text(ty, lhs, "matches", at)?;
                let build = |pattern: &str| {
                    let mut b = regex::RegexBuilder::new(pattern);
                    b.size_limit(1 << 22);
                    for f in regex.flags.chars() {
                        match f {
                            'i' => b.case_insensitive(true),
                            'm' => b.multi_line(true),
                            's' => b.dot_matches_new_line(true),
                            'x' => b.ignore_whitespace(true),
                            _ => &mut b,
                        };
                    }
                    b.build().map_err(|e| e.to_string())
                };
                let built = match self.cache {
                    Some(cache) => cache.regex(&regex.pattern, &regex.flags, build),
                    None => build(&regex.pattern),
                };
                match built {
                    Ok(re) => {
                        let flags: String = regex
                            .flags
                            .chars()
                            .filter(|c| "imsx".contains(*c))
                            .collect();
                        let source = if flags.is_empty() {
                            regex.pattern.clone()
                        } else {
                            format!("(?{flags}){}", regex.pattern)
                        };
                        Some(Test::Regex {
                            lhs: lhs_op,
                            re,
                            source,
                        })
                    }
                    Err(msg) => {
                        let last = msg
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("");
                        self.report(
                            at,
                            Diagnostic::error("C107", "invalid regular expression")
                                .with_primary(regex.span.clone(), last.trim().trim_start_matches("error: "))
                                .with_note("patterns use Rust `regex` syntax: no look-around or back-references"),
                        );
                        None
                    }
                }
            }
            ExprKind::Exists(path) => {
                let (field, _) = self.field(path, at)?;
                Some(Test::Exists(field))
            }
            ExprKind::And(..)
            | ExprKind::Quantified { .. }
            | ExprKind::Or(..)
            | ExprKind::Not(_)
            | ExprKind::Ref(_)
            | ExprKind::Bool(_) => None,
        }
    }

    fn compare(
        &mut self,
        lhs: &ast::Operand,
        op: CompareOp,
        rhs: &ast::Operand,
        at: Place<'_>,
    ) -> Option<Test> {
        // Keep the field on the left: `"x" == f` is `f == "x"`.
        let (lhs, op, rhs) = match (lhs, rhs) {
            (ast::Operand::Literal(_), r) if !matches!(r, ast::Operand::Literal(_)) => {
                (rhs, flip(op), lhs)
            }
            _ => (lhs, op, rhs),
        };
        let (l, lty) = self.operand(lhs, at)?;
        let (r, rty) = match rhs {
            ast::Operand::Literal(lit) => (
                Operand::Lit(self.coerce(&lit.value, &lit.span, lty, at)?),
                lty,
            ),
            other => self.operand(other, at)?,
        };
        let op = match op {
            CompareOp::Eq => CmpOp::Eq,
            CompareOp::Ne => CmpOp::Ne,
            CompareOp::EqNocase => CmpOp::EqNocase,
            CompareOp::Lt => CmpOp::Lt,
            CompareOp::Le => CmpOp::Le,
            CompareOp::Gt => CmpOp::Gt,
            CompareOp::Ge => CmpOp::Ge,
        };
        let ordered = matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge);
        if ordered && matches!(lty, FieldType::Bool | FieldType::Ip) {
            self.report(
                at,
                Diagnostic::error("C110", format!("`{}` cannot be ordered", lty.name()))
                    .with_primary(lhs.span().clone(), format!("this is {}", lty.name()))
                    .with_help("compare with `==`, or use `in cidr(…)` for address ranges"),
            );
            return None;
        }
        if op == CmpOp::EqNocase {
            self.require_text(lty, lhs, "~=", at)?;
        }
        if !compatible(lty, rty) {
            self.report(
                at,
                Diagnostic::error(
                    "C105",
                    format!("cannot compare {} with {}", lty.name(), rty.name()),
                )
                .with_primary(rhs.span().clone(), format!("this is {}", rty.name()))
                .with_secondary(lhs.span().clone(), format!("this is {}", lty.name())),
            );
            return None;
        }
        Some(Test::Compare { lhs: l, op, rhs: r })
    }

    fn require_text(
        &mut self,
        ty: FieldType,
        operand: &ast::Operand,
        op: &str,
        at: Place<'_>,
    ) -> Option<()> {
        if matches!(ty, FieldType::Str | FieldType::StrList | FieldType::Any) {
            return Some(());
        }
        self.report(
            at,
            Diagnostic::error(
                "C110",
                format!("`{op}` works on strings, not on {}", ty.name()),
            )
            .with_primary(operand.span().clone(), format!("this is {}", ty.name())),
        );
        None
    }

    fn operand(&mut self, op: &ast::Operand, at: Place<'_>) -> Option<(Operand, FieldType)> {
        match op {
            ast::Operand::Path(p) => {
                let (f, ty) = self.field(p, at)?;
                Some((Operand::Field(f), ty))
            }
            ast::Operand::Literal(lit) => {
                let v = self.coerce(&lit.value, &lit.span, FieldType::Any, at)?;
                let ty = value_type(&v);
                Some((Operand::Lit(v), ty))
            }
            ast::Operand::Call(call) => {
                let Some(func) = functions::lookup(&call.name.name) else {
                    let mut d =
                        Diagnostic::error("C103", format!("unknown function `{}`", call.name.name))
                            .with_primary(call.name.span.clone(), "no such function");
                    let names = functions::all().iter().map(|f| f.name());
                    d = match suggest::nearest(&call.name.name, names) {
                        Some(n) => d.with_help(format!("did you mean `{n}`?")),
                        None => d.with_note(format!(
                            "functions: {}",
                            functions::all()
                                .iter()
                                .map(|f| f.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    self.report(at, d);
                    return None;
                };
                let mut args = Vec::new();
                let mut types = Vec::new();
                for a in &call.args {
                    let (o, t) = self.operand(a, at)?;
                    args.push(o);
                    types.push(t);
                }
                match func.check(&types) {
                    Ok(ty) => Some((Operand::Call(func, args), ty)),
                    Err(msg) => {
                        self.report(
                            at,
                            Diagnostic::error("C104", msg)
                                .with_primary(call.span.clone(), "in this call"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn lookup_field(&self, p: &ast::Path) -> Result<(FieldRef, FieldType), ()> {
        let name = p.dotted();
        if let Some(def) = catalog::lookup(&name) {
            if !def.sources().any(|s| self.sources.contains(&s)) {
                return Err(());
            }
            let geo = self.sources.iter().find_map(|s| def.geo(*s));
            if let Some((attr, base)) = geo {
                let base = catalog::lookup(base).ok_or(())?;
                return Ok((
                    FieldRef::Geo {
                        def,
                        attr,
                        ip: Box::new(FieldRef::Catalog(base)),
                        db: self.defs.geo.clone(),
                    },
                    def.ty,
                ));
            }
            return Ok((FieldRef::Catalog(def), def.ty));
        }
        match p.segments.first() {
            Some(Segment::Name(root))
                if self
                    .sources
                    .iter()
                    .any(|s| catalog::raw_roots(*s).contains(&root.as_str())) =>
            {
                Ok((FieldRef::Raw(p.segments.clone()), FieldType::Any))
            }
            _ => Err(()),
        }
    }

    /// Resolves a field path, reporting unknown fields with a suggestion.
    pub fn field(&mut self, p: &ast::Path, at: Place<'_>) -> Option<(FieldRef, FieldType)> {
        if self.elem_depth > 0 {
            // Inside `any(…)`/`all(…)`: relative to the element, whose shape is the
            // source's to define.
            return Some((FieldRef::Elem(p.segments.clone()), FieldType::Any));
        }
        if let Ok(found) = self.lookup_field(p) {
            if let FieldRef::Geo { def, attr, db, .. } = &found.0 {
                if !db.as_ref().is_some_and(|db| db.has(*attr)) && self.geo_warned.insert(def.name)
                {
                    let kind = if attr.from_asn_db() {
                        "an ASN"
                    } else {
                        "a City or Country"
                    };
                    self.report(
                        at,
                        Diagnostic::warning(
                            "no_geo_database",
                            format!("`{}` needs {kind} database, and none is loaded", def.name),
                        )
                        .with_primary(p.span.clone(), "always missing in this run")
                        .with_help("give a MaxMind-format database with `--geoip FILE`; until then tests on this field are false"),
                    );
                }
            }
            return Some(found);
        }
        let name = p.dotted();
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        let sources = names.join(", ");
        if let Some(def) = catalog::lookup(&name) {
            let from: Vec<&str> = def.sources().map(Source::name).collect();
            self.report(
                at,
                Diagnostic::error(
                    "C102",
                    format!("field `{name}` does not exist in {sources} events"),
                )
                .with_primary(
                    p.span.clone(),
                    format!("only {} events have it", from.join(", ")),
                )
                .with_help("change the rule's `source`, or use a field of these events"),
            );
            return None;
        }
        let mut candidates: Vec<String> = catalog::all()
            .iter()
            .filter(|d| d.sources().any(|s| self.sources.contains(&s)))
            .map(|d| d.name.to_string())
            .collect();
        let rest: String = name
            .split_once('.')
            .map(|(_, r)| format!(".{r}"))
            .unwrap_or_default();
        for s in &self.sources {
            candidates.extend(catalog::raw_roots(*s).iter().map(|r| format!("{r}{rest}")));
        }
        let mut d = Diagnostic::error("C101", format!("unknown field `{name}`"))
            .with_primary(p.span.clone(), format!("not a field of {sources} events"));
        d = match suggest::nearest(&name, candidates.iter().map(String::as_str)) {
            Some(n) => d.with_help(format!("did you mean `{n}`?")),
            None => d.with_note(
                "see docs/fields.md for the field catalog; raw fields use the record's own paths",
            ),
        };
        self.report(at, d);
        None
    }

    fn named_list(
        &mut self,
        name: &ast::Ident,
        ty: FieldType,
        nocase: bool,
        at: Place<'_>,
    ) -> Option<LitSet> {
        let defs = self.defs;
        let Some(list) = defs.lists.get(&name.name) else {
            let mut d = Diagnostic::error("C109", format!("unknown list `{}`", name.name))
                .with_primary(name.span.clone(), "no list of this name in the pack");
            if let Some(n) = suggest::nearest(&name.name, defs.lists.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{n}`?"));
            }
            self.report(at, d);
            return None;
        };
        self.usage.lists.insert(name.name.clone());
        let mut set = LitSet {
            nocase,
            ..LitSet::default()
        };
        for item in &list.items {
            let lit = match &item.value {
                ListItem::Str(s) => LitValue::Str(s.clone()),
                ListItem::Int(i) => LitValue::Int(*i),
                ListItem::Float(f) => LitValue::Float(*f),
                ListItem::Bool(b) => LitValue::Bool(*b),
            };
            match coerce_value(&lit, ty) {
                Ok(v) => add_to_set(&mut set, v),
                Err((msg, help)) => {
                    self.diags.push(FileDiagnostic {
                        file: list.file.clone(),
                        diagnostic: Diagnostic::error("C105", msg)
                            .with_primary(
                                item.span.clone(),
                                format!("`{}` is compared with {}", name.name, ty.name()),
                            )
                            .with_help(help),
                    });
                    return None;
                }
            }
        }
        Some(set)
    }

    fn coerce(
        &mut self,
        lit: &LitValue,
        span: &Span,
        target: FieldType,
        at: Place<'_>,
    ) -> Option<FieldValue<'static>> {
        match coerce_value(lit, target) {
            Ok(v) => Some(v),
            Err((msg, help)) => {
                let code = if target == FieldType::Ip || matches!(lit, LitValue::Ip(_)) {
                    "C106"
                } else {
                    "C105"
                };
                self.report(
                    at,
                    Diagnostic::error(code, msg)
                        .with_primary(span.clone(), format!("expected {}", target.name()))
                        .with_help(help),
                );
                None
            }
        }
    }
}

fn flatten(c: Cond) -> Cond {
    match c {
        Cond::And(items) => Cond::And(
            items
                .into_iter()
                .flat_map(|i| match i {
                    Cond::And(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        Cond::Or(items) => Cond::Or(
            items
                .into_iter()
                .flat_map(|i| match i {
                    Cond::Or(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        other => other,
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

fn compatible(a: FieldType, b: FieldType) -> bool {
    use FieldType::*;
    let norm = |t| match t {
        StrList => Str,
        Float => Int,
        t => t,
    };
    a == Any || b == Any || norm(a) == norm(b)
}

fn value_type(v: &FieldValue<'_>) -> FieldType {
    match v {
        FieldValue::Str(_) => FieldType::Str,
        FieldValue::Int(_) => FieldType::Int,
        FieldValue::Float(_) => FieldType::Float,
        FieldValue::Bool(_) => FieldType::Bool,
        FieldValue::Ip(_) => FieldType::Ip,
        FieldValue::Time(_) => FieldType::Time,
        _ => FieldType::Any,
    }
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|n| n.trunc())
}

/// Turns a literal into the value it is compared as, given the other side's type.
fn coerce_value(
    lit: &LitValue,
    target: FieldType,
) -> Result<FieldValue<'static>, (String, String)> {
    use FieldType as T;
    let kind = match lit {
        LitValue::Str(_) => "a string",
        LitValue::Int(_) | LitValue::Float(_) => "a number",
        LitValue::Bool(_) => "a boolean",
        LitValue::Null => "null",
        LitValue::Duration(_) => "a duration",
        LitValue::Ip(_) => "an IP address",
    };
    let mismatch = |help: &str| {
        Err((
            format!("expected {}, found {kind}", target.name()),
            help.to_string(),
        ))
    };
    match (lit, target) {
        (LitValue::Null, _) => Ok(FieldValue::Null),
        (LitValue::Ip(text), T::Ip | T::Any) | (LitValue::Str(text), T::Ip) => {
            match text.parse::<IpAddr>() {
                Ok(ip) => Ok(FieldValue::Ip(ip)),
                Err(_) if text.contains('/') => Err((
                    format!("`{text}` is a network, not an address"),
                    "test networks with `in cidr(…)`".to_string(),
                )),
                Err(_) => Err((
                    format!("invalid IP address `{text}`"),
                    "write e.g. `203.0.113.7`".to_string(),
                )),
            }
        }
        (LitValue::Ip(text), T::Str | T::StrList) => Ok(FieldValue::Str(text.clone().into())),
        (LitValue::Str(s), T::Str | T::StrList | T::Any) => Ok(FieldValue::Str(s.clone().into())),
        (LitValue::Str(s), T::Time) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| FieldValue::Time(t.timestamp_millis()))
            .map_err(|_| {
                (
                    format!("invalid time `{s}`"),
                    "write an RFC 3339 time such as \"2026-11-20T09:05:00Z\"".to_string(),
                )
            }),
        (LitValue::Int(i), T::Int | T::Float | T::Any) => Ok(FieldValue::Int(*i)),
        (LitValue::Float(f), T::Int | T::Float | T::Any) => Ok(FieldValue::Float(*f)),
        (LitValue::Duration(s), T::Int | T::Float | T::Any) => Ok(FieldValue::Int(*s as i64)),
        (LitValue::Bool(b), T::Bool | T::Any) => Ok(FieldValue::Bool(*b)),
        (LitValue::Int(i), T::Str | T::StrList) => mismatch(&format!("quote it: \"{i}\"")),
        (LitValue::Str(s), T::Int | T::Float) if s.trim().parse::<f64>().is_ok() => {
            mismatch(&format!("write the number without quotes: `{}`", s.trim()))
        }
        (LitValue::Str(_), T::Int | T::Float) => {
            mismatch("the other side is a number: compare it with numbers")
        }
        (LitValue::Str(s), T::Bool) => mismatch(&format!(
            "write `true` or `false` without quotes (found \"{s}\")"
        )),
        _ => mismatch(&format!("use a literal of type {}", target.name())),
    }
}

fn add_to_set(set: &mut LitSet, v: FieldValue<'static>) {
    match v {
        FieldValue::Str(s) if set.nocase => {
            set.strings.insert(s.to_lowercase());
        }
        FieldValue::Str(s) => {
            set.strings.insert(s.into_owned());
        }
        FieldValue::Int(i) => {
            set.ints.insert(i);
        }
        FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            set.ints.insert(f as i64);
        }
        other => set.others.push(other),
    }
}

fn make_needle(text: String, nocase: bool) -> Needle {
    if nocase {
        let lower = text.to_lowercase();
        let finder = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([lower.as_str()])
            .ok();
        Needle {
            text: lower,
            nocase,
            finder,
        }
    } else {
        Needle {
            text,
            nocase,
            finder: None,
        }
    }
}
