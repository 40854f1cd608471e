//! `picket docs`: the generated reference pages. Each is built from code or rule
//! metadata, never written by hand; a test fails when a committed page is stale.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::compile::{self, load::Category, PackFiles};
use crate::event::catalog;
use crate::finding::severity_band;
use crate::functions;

/// Every generated page: (file name inside docs/, content).
pub fn generated_docs() -> Vec<(&'static str, String)> {
    vec![
        ("fields.md", catalog::markdown()),
        ("functions.md", functions::markdown()),
        ("rules.md", rule_catalog(&[PackFiles::builtin()])),
    ]
}

/// Writes the generated pages into `dir`.
pub fn write_docs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, content) in generated_docs() {
        let path = dir.join(name);
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The rule catalog of packs, by category.
pub fn rule_catalog(packs: &[PackFiles]) -> String {
    let compiled = compile::compile(packs);
    let mut out = String::from(
        "# Rule catalog\n\nGenerated from the rule files in `rules/`; do not edit by hand.\nRegenerate with `cargo run -- docs`.\n",
    );
    let rules = &compiled.pack.rules;
    let _ = writeln!(out, "\n{} rules.", rules.len());
    for cat in Category::ALL {
        let mut in_cat: Vec<_> = rules.iter().filter(|r| r.meta.category == cat).collect();
        if in_cat.is_empty() {
            continue;
        }
        in_cat.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        let _ = writeln!(
            out,
            "\n## {}\n\n| rule | finding type | severity | source | MITRE |\n|---|---|---|---|---|",
            cat.name()
        );
        for r in &in_cat {
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | `{}` | {} {:.1} | {} | {} |",
                r.meta.id,
                r.meta.id.replace('.', ""),
                r.meta.finding_type,
                severity_band(r.meta.severity),
                r.meta.severity,
                r.meta.source_names(),
                r.meta.mitre.join(", ")
            );
        }
        for r in in_cat {
            let _ = writeln!(
                out,
                "\n### {}\n\n**{}** — file `rules/{}`\n\n{}\n",
                r.meta.id, r.meta.title, r.path, r.meta.description
            );
        }
    }
    out
}
