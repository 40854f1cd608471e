//! The built-in library against its own proof: every rule compiles without a warning,
//! every `hit-*` fixture fires and every `miss-*` fixture does not, and the findings of
//! each fixture are snapshotted (one snapshot per rule and fixture).

use std::sync::OnceLock;

use picket::compile::{compile_with, CompileOptions, Compiled, PackFiles};
use picket::run::fixtures::{run_pack_tests, CaseResult};
use picket_tests::repo;

struct Library {
    packs: Vec<PackFiles>,
    compiled: Compiled,
    results: Vec<CaseResult>,
}

fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let mut pack = PackFiles::from_dir(&repo().join("rules")).expect("rules/ is readable");
        // Paths in findings are relative, so snapshots do not depend on the checkout.
        pack.root = "rules".to_string();
        let packs = vec![pack];
        let compiled = compile_with(&packs, &CompileOptions::for_fixtures());
        let results = run_pack_tests(&packs, &compiled.pack, 0);
        Library {
            packs,
            compiled,
            results,
        }
    })
}

#[test]
fn library_compiles_without_errors_or_warnings() {
    let lib = library();
    let rendered: Vec<String> = lib
        .compiled
        .diagnostics
        .iter()
        .map(|d| d.render(false))
        .collect();
    assert!(rendered.is_empty(), "{}", rendered.join("\n"));
    assert!(
        lib.compiled.pack.len() >= 15,
        "only {} rules",
        lib.compiled.pack.len()
    );
}

#[test]
fn every_fixture_behaves_as_named() {
    let lib = library();
    let failed: Vec<String> = lib
        .results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} {}: matched {}/{} {:?}",
                r.rule, r.case, r.matched, r.events, r.errors
            )
        })
        .collect();
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
    // Every rule has at least one hit and one miss.
    for rule in &lib.compiled.pack.rules {
        let fixtures = lib.packs[0].fixtures(&rule.path);
        assert!(
            fixtures.iter().any(|(_, hit)| *hit),
            "{} has no hit fixture",
            rule.meta.id
        );
        assert!(
            fixtures.iter().any(|(_, hit)| !*hit),
            "{} has no miss fixture",
            rule.meta.id
        );
    }
}

#[test]
fn library_covers_every_source_and_category() {
    use picket::compile::load::Category;
    use picket::event::Source;
    let rules = &library().compiled.pack.rules;
    for source in Source::ALL {
        assert!(
            rules.iter().any(|r| r.meta.sources.contains(&source)),
            "no rule reads {source}"
        );
    }
    for cat in Category::ALL {
        assert!(
            rules.iter().any(|r| r.meta.category == cat),
            "no rule in {}",
            cat.name()
        );
    }
}

#[test]
fn fixture_findings() {
    let lib = library();
    insta::glob!("../rules", "**/hit-*", |path| {
        let rel = path
            .strip_prefix(repo().join("rules"))
            .expect("fixture inside rules/")
            .to_string_lossy()
            .replace('\\', "/");
        let display = lib.packs[0].display(&rel);
        let case = lib
            .results
            .iter()
            .find(|r| r.fixture == display)
            .unwrap_or_else(|| panic!("no rule ran {display}"));
        insta::assert_json_snapshot!(case.findings);
    });
}
