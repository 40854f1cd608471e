//! The generated reference pages in docs/ are current: regenerate them with
//! `cargo run -- docs` when this fails.

use picket_tests::repo;

#[test]
fn generated_docs_are_current() {
    for (name, content) in picket::cli::generated_docs() {
        let path = repo().join("docs").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == content,
            "docs/{name} is stale: run `cargo run -- docs` and commit the result"
        );
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let errors = std::fs::read_to_string(repo().join("docs/errors.md")).expect("docs/errors.md");
    let code = regex_lite_codes();
    let mut missing = Vec::new();
    for dir in ["engine/src", "grammar/src"] {
        for entry in walk(&repo().join(dir)) {
            let text = std::fs::read_to_string(&entry).unwrap_or_default();
            for c in code(&text) {
                if !errors.contains(&format!("## {c}\n")) {
                    missing.push(format!("{c} (used in {})", entry.display()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "undocumented diagnostic codes in docs/errors.md: {missing:?}"
    );
}

/// Finds diagnostic codes written as string literals: `"G001"`, `"unused_list"` given
/// to `Diagnostic::error`/`warning`.
fn regex_lite_codes() -> impl Fn(&str) -> Vec<String> {
    |text: &str| {
        let mut out = Vec::new();
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let lit = &rest[..end];
            let coded = lit.len() == 4
                && matches!(lit.as_bytes()[0], b'G' | b'C' | b'R')
                && lit[1..].bytes().all(|b| b.is_ascii_digit());
            if coded {
                out.push(lit.to_string());
            }
        }
        for marker in ["Diagnostic::warning(\""] {
            for (i, _) in text.match_indices(marker) {
                let rest = &text[i + marker.len()..];
                if let Some(end) = rest.find('"') {
                    out.push(rest[..end].to_string());
                }
            }
        }
        out
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}
