//! Stage 4: the rule pack, an immutable compiled artifact.
//!
//! [`PackFiles`] is a set of files (a directory on disk or the embedded built-in library);
//! [`compile`] loads every YAML file in it, resolves lists and macros across all packs,
//! compiles each rule, and returns a [`RulePack`] of the rules that compiled plus every
//! diagnostic. Callers decide what an error means: `scan` reports it and runs the rules
//! that compiled, `check` fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use picket_grammar::{Diagnostic, Span};

use super::ir::{Cond, FieldRef, Operand, Pred};
use super::load::{self, Category, InlineTest, IntelDecl, Loaded, RuleDef};
use super::resolve::{Defs, Place, Resolver, Usage};
use super::source::{FileDiagnostic, SourceFile};
use crate::event::Source;
use crate::intel::geo::GeoDb;
use crate::intel::{Intel, ListSource, ListSpec};

/// The files of one rule pack, by path relative to the pack root.
#[derive(Clone, Debug, Default)]
pub struct PackFiles {
    /// Display name of the root (`rules` for the built-in pack, the directory otherwise).
    pub root: String,
    /// Path (with `/` separators) -> contents.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl PackFiles {
    /// Reads every file below a directory.
    pub fn from_dir(dir: &Path) -> std::io::Result<PackFiles> {
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not a directory", dir.display()),
            ));
        }
        let mut files = BTreeMap::new();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap_or(entry.path())
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if rel.split('/').any(|part| part.starts_with('.')) {
                continue;
            }
            files.insert(rel, std::fs::read(entry.path())?);
        }
        Ok(PackFiles {
            root: dir.display().to_string().trim_end_matches('/').to_string(),
            files,
        })
    }

    /// The built-in library embedded in the binary.
    pub fn builtin() -> PackFiles {
        fn walk(dir: &include_dir::Dir<'static>, out: &mut BTreeMap<String, Vec<u8>>) {
            for f in dir.files() {
                out.insert(
                    f.path().to_string_lossy().replace('\\', "/"),
                    f.contents().to_vec(),
                );
            }
            for d in dir.dirs() {
                walk(d, out);
            }
        }
        let mut files = BTreeMap::new();
        walk(&crate::BUILTIN_RULES, &mut files);
        PackFiles {
            root: "rules".to_string(),
            files,
        }
    }

    /// Display path of a file of the pack.
    pub fn display(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root)
    }

    /// The YAML files that define rules, lists and macros (event series fixtures,
    /// `*.series.yaml`, are not among them).
    pub fn yaml_files(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.files.iter().filter(|(p, _)| {
            (p.ends_with(".yaml") || p.ends_with(".yml")) && !p.ends_with(".series.yaml")
        })
    }

    /// Fixture files of the rule at `rule_path`: files of the folder named after it
    /// whose names start with `hit-` (must match) or `miss-` (must not).
    pub fn fixtures(&self, rule_path: &str) -> Vec<(String, bool)> {
        let stem = rule_path
            .strip_suffix(".yaml")
            .or_else(|| rule_path.strip_suffix(".yml"))
            .unwrap_or(rule_path);
        let prefix = format!("{stem}/");
        self.files
            .keys()
            .filter_map(|p| {
                let name = p.strip_prefix(&prefix)?;
                if name.contains('/') {
                    return None;
                }
                if name.starts_with("hit-") {
                    Some((p.clone(), true))
                } else if name.starts_with("miss-") {
                    Some((p.clone(), false))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// What a finding needs to know about its rule.
#[derive(Clone, Debug)]
pub struct RuleMeta {
    /// `id`
    pub id: String,
    /// `version`
    pub version: u32,
    /// GuardDuty-style finding type.
    pub finding_type: String,
    /// `title`
    pub title: String,
    /// `description`
    pub description: String,
    /// 1.0..=10.0
    pub severity: f64,
    /// Sources it reads.
    pub sources: Vec<Source>,
    /// Category.
    pub category: Category,
    /// ATT&CK technique ids.
    pub mitre: Vec<String>,
}

impl RuleMeta {
    /// The rule's source names, comma-separated (`cloudtrail, s3data`).
    pub fn source_names(&self) -> String {
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        names.join(", ")
    }
}

/// A rule ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    /// Metadata for findings.
    pub meta: Arc<RuleMeta>,
    /// The condition on each event (for a sequence: any of its steps).
    pub cond: Cond,
    /// Windows, baselines or a sequence over the events that meet `cond`.
    pub stateful: Option<super::stateful::Stateful>,
    /// Its predicates.
    pub preds: Vec<Pred>,
    /// Aggregation key fields (name as written, resolved field).
    pub group_by: Vec<(String, Operand)>,
    /// Inline tests.
    pub tests: Vec<InlineTest>,
    /// Index of the pack it came from, in the slice given to [`compile`].
    pub pack: usize,
    /// Path inside its pack.
    pub path: String,
}

/// The compiled rules of one or more packs. Immutable once built.
#[derive(Debug, Default)]
pub struct RulePack {
    /// Every rule, in load order.
    pub rules: Vec<CompiledRule>,
    by_source: [Vec<u32>; 5],
    /// The threat, trusted and reference lists the rules were compiled against.
    pub intel: Arc<Intel>,
    /// The geo/ASN databases geo fields read, when given.
    pub geo: Option<Arc<GeoDb>>,
}

impl RulePack {
    /// Rules that read events of `source`.
    pub fn rules_for(&self, source: Source) -> impl Iterator<Item = &CompiledRule> {
        self.by_source[source_index(source)]
            .iter()
            .map(|&i| &self.rules[i as usize])
    }

    /// Indexes (into [`RulePack::rules`]) of the rules that read `source`, ascending.
    pub fn rule_indexes(&self, source: Source) -> &[u32] {
        &self.by_source[source_index(source)]
    }

    /// The rule with that id.
    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.meta.id == id)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule compiled.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn source_index(s: Source) -> usize {
    Source::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// The result of compiling packs: the rules that compiled, and every diagnostic.
#[derive(Debug, Default)]
pub struct Compiled {
    /// The pack.
    pub pack: RulePack,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<FileDiagnostic>,
}

impl Compiled {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.diagnostic.is_error())
            .count()
    }
}

/// Default aggregation keys per source, used when a rule has no `group_by`.
pub fn default_group_by(source: Source) -> &'static [&'static str] {
    match source {
        Source::CloudTrail => &["actor.arn"],
        Source::S3Data => &["s3.bucket", "actor.arn"],
        Source::VpcFlow => &["net.interface", "dst.ip"],
        Source::Dns => &["instance.id", "src.ip", "dns.query"],
        Source::Eks => &["k8s.user", "k8s.namespace"],
    }
}

/// What a compilation needs besides the packs.
#[derive(Debug, Default, Clone)]
pub struct CompileOptions {
    /// Lists given on the command line (`--threat-list`, `--trusted-list`), read from
    /// disk, after those the packs declare.
    pub lists: Vec<ListSpec>,
    /// The lists of the pack running before (on a reload): a list that now fails to
    /// load keeps its previous version, and unchanged lists are not read again.
    pub previous_intel: Option<Arc<Intel>>,
    /// Geo/ASN databases (`--geoip`).
    pub geo: Option<Arc<GeoDb>>,
    /// Compiling to run the packs' fixtures: lists declared `fixtures_only` are loaded,
    /// and, when no geo database is given, the `*.mmdb` files of each pack's
    /// `intel/fixtures/` folder are.
    pub fixtures: bool,
    /// Files loaded and conditions parsed by the compilation before (reloads).
    pub cache: Option<Arc<super::cache::ParseCache>>,
}

impl CompileOptions {
    /// Options to test packs on their fixtures.
    pub fn for_fixtures() -> CompileOptions {
        CompileOptions {
            fixtures: true,
            ..CompileOptions::default()
        }
    }
}

/// The geo databases of the packs' `intel/fixtures/` folders, for fixture runs.
fn fixture_geo(packs: &[PackFiles], diags: &mut Vec<FileDiagnostic>) -> Option<Arc<GeoDb>> {
    let mut db = GeoDb::default();
    for pack in packs {
        for (rel, bytes) in &pack.files {
            let in_fixtures = rel.starts_with("intel/fixtures/") && rel.ends_with(".mmdb");
            if !in_fixtures {
                continue;
            }
            if let Err(e) = db.add(bytes.clone(), &pack.display(rel)) {
                diags.push(FileDiagnostic {
                    file: Arc::new(SourceFile::new(pack.display(rel), String::new())),
                    diagnostic: Diagnostic::error("I404", e)
                        .with_primary(Span::new(0, 0), "this database"),
                });
            }
        }
    }
    (!db.is_empty()).then(|| Arc::new(db))
}

/// Compiles packs together (lists and macros are shared across them).
pub fn compile(packs: &[PackFiles]) -> Compiled {
    compile_with(packs, &CompileOptions::default())
}

/// The list file a declaration names, read from its pack.
fn list_source(pack: &PackFiles, decl: IntelDecl) -> ListSource {
    // `file:` is relative to the folder of the declaring file.
    let dir = decl.decl_path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in decl.data.value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let rel = parts.join("/");
    let bytes = pack
        .files
        .get(&rel)
        .cloned()
        .ok_or_else(|| format!("no file `{rel}` in the pack"));
    ListSource {
        spec: ListSpec {
            name: decl.name.value,
            kind: decl.kind,
            path: std::path::PathBuf::from(pack.display(&rel)),
            format: decl.format,
            accounts: decl.accounts,
            description: decl.description,
        },
        bytes,
        display: pack.display(&rel),
        declared_at: Some((decl.file, decl.name.span)),
    }
}

/// Compiles packs together (lists and macros are shared across them), with lists and
/// options from outside the packs.
pub fn compile_with(packs: &[PackFiles], options: &CompileOptions) -> Compiled {
    let mut diags = Vec::new();
    let mut rules: Vec<(usize, RuleDef)> = Vec::new();
    let mut defs = Defs::default();
    let mut list_sources: Vec<ListSource> = Vec::new();
    for (pack_index, pack) in packs.iter().enumerate() {
        for (rel, bytes) in pack.yaml_files() {
            let name = pack.display(rel);
            let text = match String::from_utf8(bytes.clone()) {
                Ok(t) => t,
                Err(e) => {
                    let file = Arc::new(SourceFile::new(name, String::new()));
                    diags.push(FileDiagnostic {
                        file,
                        diagnostic: Diagnostic::error(
                            "R201",
                            format!("file is not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
                        )
                        .with_primary(Span::new(0, 0), "invalid text"),
                    });
                    continue;
                }
            };
            let load = || load::load_file(Arc::new(SourceFile::new(name.clone(), text)), rel);
            let loaded = match &options.cache {
                Some(cache) => cache.file(&name, bytes, load),
                None => load(),
            };
            match loaded {
                Ok(Loaded::Rule(rule)) => rules.push((pack_index, *rule)),
                Ok(Loaded::Defs(d)) => {
                    for decl in d.intel {
                        if options.fixtures || !decl.fixtures_only {
                            list_sources.push(list_source(pack, decl));
                        }
                    }
                    for list in d.lists {
                        if let Some(prev) = defs.lists.get(&list.name.value) {
                            diags.push(duplicate(
                                "list",
                                &list.file,
                                &list.name.span,
                                &list.name.value,
                                &prev.file,
                                &prev.name.span,
                            ));
                        } else {
                            defs.lists.insert(list.name.value.clone(), list);
                        }
                    }
                    for m in d.macros {
                        if let Some((prev, _)) = defs.macros.get(&m.name.value) {
                            diags.push(duplicate(
                                "macro",
                                &m.file,
                                &m.name.span,
                                &m.name.value,
                                &prev.file,
                                &prev.name.span,
                            ));
                            continue;
                        }
                        let parsed = match &options.cache {
                            Some(cache) => cache.condition(&m.body.text),
                            None => picket_grammar::parse_condition(&m.body.text),
                        };
                        let parsed = match parsed {
                            Ok(e) => Some(e),
                            Err(d) => {
                                let map = &m.body.map;
                                diags.push(FileDiagnostic {
                                    file: m.file.clone(),
                                    diagnostic: d.map_spans(|s| map.span(s)),
                                });
                                None
                            }
                        };
                        defs.macros.insert(m.name.value.clone(), (m, parsed));
                    }
                }
                Err(errs) => diags.extend(errs),
            }
        }
    }

    for spec in &options.lists {
        list_sources.push(ListSource {
            spec: spec.clone(),
            bytes: std::fs::read(&spec.path).map_err(|e| e.to_string()),
            display: spec.path.display().to_string(),
            declared_at: None,
        });
    }
    let (intel, mut intel_diags) = Intel::load(list_sources, options.previous_intel.as_deref());
    diags.append(&mut intel_diags);
    defs.intel = Arc::new(intel);
    defs.geo = match (&options.geo, options.fixtures) {
        (Some(geo), _) => Some(Arc::clone(geo)),
        (None, true) => fixture_geo(packs, &mut diags),
        (None, false) => None,
    };

    let mut usage = Usage::default();
    let mut pack = RulePack {
        intel: Arc::clone(&defs.intel),
        geo: defs.geo.clone(),
        ..RulePack::default()
    };
    let mut seen: BTreeMap<String, (Arc<SourceFile>, Span)> = BTreeMap::new();
    for (pack_index, def) in rules {
        if let Some((file, span)) = seen.get(&def.id.value) {
            diags.push(duplicate(
                "rule id",
                &def.file,
                &def.id.span,
                &def.id.value,
                file,
                span,
            ));
            continue;
        }
        seen.insert(
            def.id.value.clone(),
            (def.file.clone(), def.id.span.clone()),
        );
        if let Some(w) = id_path_warning(&def) {
            diags.push(w);
        }
        let mut resolver = Resolver::new(&defs, &mut usage, &def.sources.value)
            .with_cache(options.cache.as_deref());
        let place = Place {
            file: &def.file,
            cond: &def.when,
        };
        let detection = match &options.cache {
            Some(cache) => cache.detection(&def.when.text),
            None => picket_grammar::parse_detection(&def.when.text),
        };
        let (cond, stateful) = match detection {
            Ok(d) => match super::stateful::resolve_detection(&mut resolver, &d, place) {
                Some((c, s)) => (Some(c), s),
                None => (None, None),
            },
            Err(d) => {
                resolver.report_at(place, d);
                (None, None)
            }
        };
        let mut group_by = Vec::new();
        for g in &def.group_by {
            if let Some(field) = group_field(&mut resolver, &def.file, g, options) {
                group_by.push((g.value.clone(), Operand::Field(field)));
            }
        }
        let stateful_keys = stateful
            .as_ref()
            .map(|s| s.default_group_by())
            .unwrap_or_default();
        if def.group_by.is_empty() && !stateful_keys.is_empty() {
            group_by = stateful_keys;
        } else if def.group_by.is_empty() {
            for name in default_group_by(def.sources.value[0]) {
                let spanned = load::Spanned {
                    value: name.to_string(),
                    span: def.sources.span.clone(),
                };
                if let Some(field) = group_field(&mut resolver, &def.file, &spanned, options) {
                    group_by.push((name.to_string(), Operand::Field(field)));
                }
            }
        }
        let failed = resolver.diags.iter().any(|d| d.diagnostic.is_error());
        let preds = std::mem::take(&mut resolver.preds);
        diags.append(&mut resolver.diags);
        let (Some(cond), false) = (cond, failed) else {
            continue;
        };
        let index = pack.rules.len() as u32;
        for s in &def.sources.value {
            pack.by_source[source_index(*s)].push(index);
        }
        pack.rules.push(CompiledRule {
            meta: Arc::new(RuleMeta {
                id: def.id.value,
                version: def.version,
                finding_type: def.finding_type.value,
                title: def.title,
                description: def.description,
                severity: def.severity,
                sources: def.sources.value,
                category: def.category,
                mitre: def.mitre,
            }),
            cond,
            stateful,
            preds,
            group_by,
            tests: def.tests,
            pack: pack_index,
            path: def.path,
        });
    }

    for (name, list) in &defs.lists {
        if !usage.lists.contains(name) {
            diags.push(FileDiagnostic {
                file: list.file.clone(),
                diagnostic: Diagnostic::warning(
                    "unused_list",
                    format!("list `{name}` is not used by any rule"),
                )
                .with_primary(list.name.span.clone(), "defined here")
                .with_help("use it with `field in name`, or remove it"),
            });
        }
    }
    for (name, (m, _)) in &defs.macros {
        if !usage.macros.contains(name) {
            diags.push(FileDiagnostic {
                file: m.file.clone(),
                diagnostic: Diagnostic::warning(
                    "unused_macro",
                    format!("macro `{name}` is not used by any rule"),
                )
                .with_primary(m.name.span.clone(), "defined here")
                .with_help("reference it by name in a condition, or remove it"),
            });
        }
    }
    diags.sort_by(|a, b| {
        let pos = |d: &FileDiagnostic| {
            d.diagnostic
                .labels
                .first()
                .map(|l| l.span.start())
                .unwrap_or(0)
        };
        a.file.name.cmp(&b.file.name).then(pos(a).cmp(&pos(b)))
    });
    if let Some(cache) = &options.cache {
        cache.finish();
    }
    Compiled {
        pack,
        diagnostics: diags,
    }
}

fn group_field(
    resolver: &mut Resolver<'_>,
    file: &Arc<SourceFile>,
    g: &load::Spanned<String>,
    options: &CompileOptions,
) -> Option<FieldRef> {
    // Parse the name as the path of an `exists` test, so quoting and indexes work.
    let text = format!("{} exists", g.value);
    let cond = load::CondText {
        map: super::source::ScalarMap::new(&file.text, g.span.start(), &text),
        span: g.span.clone(),
        text,
    };
    let place = Place { file, cond: &cond };
    let parsed = match &options.cache {
        Some(cache) => cache.condition(&cond.text),
        None => picket_grammar::parse_condition(&cond.text),
    };
    match parsed {
        Ok(picket_grammar::ast::Expr {
            kind: picket_grammar::ast::ExprKind::Exists(path),
            ..
        }) => resolver.field(&path, place).map(|(f, _)| f),
        _ => {
            resolver.diags.push(FileDiagnostic {
                file: file.clone(),
                diagnostic: Diagnostic::error("C101", format!("`{}` is not a field path", g.value))
                    .with_primary(g.span.clone(), "expected a field such as `actor.arn`"),
            });
            None
        }
    }
}

fn duplicate(
    what: &str,
    file: &Arc<SourceFile>,
    span: &Span,
    name: &str,
    prev_file: &Arc<SourceFile>,
    prev: &Span,
) -> FileDiagnostic {
    let (line, col) = prev_file.line_col(prev.start());
    FileDiagnostic {
        file: file.clone(),
        diagnostic: Diagnostic::error("R206", format!("duplicate {what} `{name}`"))
            .with_primary(span.clone(), "defined again here")
            .with_note(format!("first defined at {}:{line}:{col}", prev_file.name)),
    }
}

/// Built-in convention: the id is `<category>.<file stem>` and the file sits in the
/// category's folder. A warning, so user packs may name rules their own way.
fn id_path_warning(def: &RuleDef) -> Option<FileDiagnostic> {
    let stem = def
        .path
        .rsplit('/')
        .next()?
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml");
    let expected = format!("{}.{stem}", def.category.name());
    (def.id.value != expected).then(|| FileDiagnostic {
        file: def.file.clone(),
        diagnostic: Diagnostic::warning(
            "id_path_mismatch",
            format!("rule id `{}` does not match its file", def.id.value),
        )
        .with_primary(def.id.span.clone(), format!("expected `{expected}`"))
        .with_help("name rule files `<category>/<name>.yaml` with id `<category>.<name>`"),
    })
}
