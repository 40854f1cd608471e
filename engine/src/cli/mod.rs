//! The `picket` command line: `scan`, `test`, `check`, `explain`, `rules`, `docs`.
//!
//! [`run`] takes the arguments and a writer for standard output, so integration tests
//! drive the real commands in-process. Diagnostics and progress go to standard error.

mod docs;
mod findings;
mod scan;
mod serve;
mod testcmd;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::compile::{self, CompileOptions, Compiled, PackFiles};
use crate::intel::geo::GeoDb;
use crate::intel::{self, ListKind, ListSpec};

pub use docs::{generated_docs, write_docs};

/// picket: threat detection for AWS logs with rules you can read, test and extend.
#[derive(Parser, Debug)]
#[command(name = "picket", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan log files or directories and print findings.
    Scan(scan::ScanArgs),
    /// Run every rule of a pack over its fixtures and print a pass/fail table.
    Test(PackArgs),
    /// Compile a pack and report every error and warning with its position.
    Check(CheckArgs),
    /// Show, predicate by predicate, why a rule matched an event or not.
    Explain(ExplainArgs),
    /// List the rules of the loaded packs.
    Rules(RulesArgs),
    /// Regenerate the generated reference pages (fields, functions, rule catalog).
    Docs(DocsArgs),
    /// Watch log folders, standard input or an HTTP endpoint and keep raising findings,
    /// with rule packs reloaded as they change (see docs/serve.md).
    Serve(serve::ServeArgs),
    /// List, show, archive and unarchive the findings of a findings store.
    Findings(findings::FindingsArgs),
}

/// Which packs to load.
#[derive(clap::Args, Debug, Clone)]
pub struct PackSelection {
    /// A rule pack directory to load besides the built-in rules (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rules.
    #[arg(long)]
    pub no_builtin: bool,
    /// A threat list: `[NAME=]FILE` (repeatable). Text (one IP, CIDR, domain or URL per
    /// line), CSV (first column), a STIX 2.1 bundle (`.json`). Rules of the `.Custom`
    /// finding types fire on its entries. NAME defaults to the file name without its
    /// extension.
    #[arg(long = "threat-list", value_name = "[NAME=]FILE", value_parser = parse_threat_list)]
    pub threat_lists: Vec<ListSpec>,
    /// A trusted IP list, `[NAME=]FILE` (repeatable): findings whose remote address is
    /// on it are archived, marked with the list.
    #[arg(long = "trusted-list", value_name = "[NAME=]FILE", value_parser = parse_trusted_list)]
    pub trusted_lists: Vec<ListSpec>,
    /// A MaxMind-format database (GeoIP2/GeoLite2 City or Country, and ASN; repeatable):
    /// fills `src.country`, `src.city`, `src.asn`, `src.as_org` and the findings'
    /// `remoteIpDetails`.
    #[arg(long = "geoip", value_name = "FILE")]
    pub geoip: Vec<PathBuf>,
}

fn parse_threat_list(arg: &str) -> Result<ListSpec, String> {
    parse_list_arg(arg, ListKind::Threat)
}

fn parse_trusted_list(arg: &str) -> Result<ListSpec, String> {
    parse_list_arg(arg, ListKind::Trusted)
}

/// `NAME=FILE` or `FILE` (named after the file's stem).
pub(crate) fn parse_list_arg(arg: &str, kind: ListKind) -> Result<ListSpec, String> {
    let (name, path) = match arg.split_once('=') {
        Some((name, path)) if !name.contains(['/', '\\']) => {
            (name.to_string(), PathBuf::from(path))
        }
        _ => {
            let path = PathBuf::from(arg);
            let stem = path
                .file_stem()
                .map(|s| {
                    s.to_string_lossy()
                        .to_ascii_lowercase()
                        .replace([' ', '.', '_'], "-")
                })
                .unwrap_or_default();
            (stem, path)
        }
    };
    if name.is_empty() {
        return Err(format!("`{arg}`: give the list a name, `NAME=FILE`"));
    }
    Ok(ListSpec {
        format: intel::ListFormat::from_path(&path),
        name,
        kind,
        path,
        accounts: None,
        description: None,
    })
}

impl PackSelection {
    /// Reads the selected packs (built-in first).
    pub fn load(&self) -> Result<Vec<PackFiles>> {
        let mut packs = Vec::new();
        if !self.no_builtin {
            packs.push(PackFiles::builtin());
        }
        for dir in &self.rules {
            packs.push(
                PackFiles::from_dir(dir)
                    .with_context(|| format!("cannot read rule pack {}", dir.display()))?,
            );
        }
        if packs.is_empty() {
            bail!("no rules: --no-builtin needs at least one --rules DIR");
        }
        Ok(packs)
    }

    /// What compiling the packs needs from the command line.
    pub fn options(&self) -> Result<CompileOptions> {
        let geo = if self.geoip.is_empty() {
            None
        } else {
            Some(Arc::new(
                GeoDb::open(&self.geoip).map_err(anyhow::Error::msg)?,
            ))
        };
        Ok(CompileOptions {
            lists: self
                .threat_lists
                .iter()
                .chain(&self.trusted_lists)
                .cloned()
                .collect(),
            geo,
            ..CompileOptions::default()
        })
    }

    /// Reads and compiles the selected packs, printing diagnostics to standard error.
    pub fn compile(&self) -> Result<Compiled> {
        Ok(compile_and_report(&self.load()?, &self.options()?))
    }
}

#[derive(clap::Args, Debug)]
struct PackArgs {
    /// The pack to test (default: the built-in rules).
    dir: Option<PathBuf>,
    /// Print only the failing cases.
    #[arg(long, short)]
    failures_only: bool,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Packs to check (default: the built-in rules).
    dirs: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(clap::Args, Debug)]
struct ExplainArgs {
    /// Rule id.
    rule: String,
    /// Event file (any format `scan` reads).
    event: PathBuf,
    #[command(flatten)]
    packs: PackSelection,
}

#[derive(clap::Args, Debug)]
struct RulesArgs {
    #[command(flatten)]
    packs: PackSelection,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum ListFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
struct DocsArgs {
    /// The docs directory to write into.
    #[arg(default_value = "docs")]
    dir: PathBuf,
}

/// Runs the command line; returns the process exit code.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<u8> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if e.use_stderr() {
                eprint!("{e}");
            } else {
                write!(out, "{e}")?;
            }
            return Ok(code);
        }
    };
    match cli.command {
        Command::Scan(args) => scan::run(args, out),
        Command::Test(args) => testcmd::run_tests(args.dir, !args.failures_only, out),
        Command::Check(args) => testcmd::run_check(&args.dirs, args.deny_warnings, out),
        Command::Explain(args) => testcmd::run_explain(&args.rule, &args.event, &args.packs, out),
        Command::Rules(args) => list_rules(&args.packs, args.format, out),
        Command::Serve(args) => serve::run(args, out),
        Command::Findings(args) => findings::run(args, out),
        Command::Docs(args) => {
            for path in write_docs(&args.dir)? {
                writeln!(out, "wrote {}", path.display())?;
            }
            Ok(0)
        }
    }
}

/// Compiles packs and prints their diagnostics to standard error.
pub fn compile_and_report(packs: &[PackFiles], options: &CompileOptions) -> Compiled {
    let compiled = compile::compile_with(packs, options);
    let color = std::io::stderr().is_terminal();
    // Rules on geo fields are silent without a database: one line says which, rather
    // than a warning per field on every scan.
    let mut need_geo: Vec<&str> = Vec::new();
    for d in &compiled.diagnostics {
        if d.diagnostic.code == "no_geo_database" {
            if !need_geo.contains(&&*d.file.name) {
                need_geo.push(&d.file.name);
            }
            continue;
        }
        eprintln!("{}", d.render(color));
    }
    if !need_geo.is_empty() {
        let (count, verbs) = match need_geo.len() {
            1 => ("1 rule".to_string(), "reads geo fields and stays"),
            n => (format!("{n} rules"), "read geo fields and stay"),
        };
        eprintln!(
            "note: {count} {verbs} silent without a geo database (--geoip FILE): {}",
            need_geo.join(", ")
        );
    }
    compiled
}

fn list_rules(sel: &PackSelection, format: ListFormat, out: &mut dyn Write) -> Result<u8> {
    let compiled = sel.compile()?;
    let rules = &compiled.pack.rules;
    if format == ListFormat::Json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.meta.id, "type": r.meta.finding_type, "severity": r.meta.severity,
                    "sources": r.meta.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
                    "category": r.meta.category.name(), "title": r.meta.title, "mitre": r.meta.mitre,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &list)?;
        writeln!(out)?;
    } else {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_header(["id", "type", "severity", "source", "title"]);
        for r in rules {
            t.add_row(vec![
                r.meta.id.clone(),
                r.meta.finding_type.clone(),
                format!(
                    "{} {:.1}",
                    crate::finding::severity_band(r.meta.severity),
                    r.meta.severity
                ),
                r.meta.source_names(),
                r.meta.title.clone(),
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(out, "{} rules", rules.len())?;
    }
    Ok(if compiled.error_count() > 0 { 1 } else { 0 })
}
