//! Golden tests, one case per file.
//!
//! - `testdata/ok/*.cond` must parse; the snapshot is the AST printed by
//!   [`picket_grammar::to_sexpr`], with the condition itself in the snapshot's
//!   `description`.
//! - `testdata/err/*.cond` must fail; the snapshot is the rendered diagnostic. The file
//!   name starts with the expected code (`G005_single_equals.cond`).
//!
//! Snapshots live in `tests/snapshots/`; accept changes with
//! `INSTA_UPDATE=always cargo test -p picket-grammar` (or `cargo insta review`) and read
//! them before committing.

use std::fs;

use picket_grammar::{parse_condition, render, to_sexpr};

#[test]
fn ok() {
    insta::glob!("testdata/ok/*.cond", |path| {
        let text = fs::read_to_string(path).expect("readable test file");
        let expr = match parse_condition(&text) {
            Ok(expr) => expr,
            Err(diag) => panic!(
                "{}",
                render(&diag, &path.display().to_string(), &text, false)
            ),
        };
        insta::with_settings!({ description => text.trim_end() }, {
            insta::assert_snapshot!(to_sexpr(&expr));
        });
    });
}

#[test]
fn err() {
    insta::glob!("testdata/err/*.cond", |path| {
        let text = fs::read_to_string(path).expect("readable test file");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name");
        let diag = match parse_condition(&text) {
            Ok(expr) => panic!("{name} parsed:\n{}", to_sexpr(&expr)),
            Err(diag) => diag,
        };
        assert!(
            name.starts_with(&format!("{}_", diag.code)),
            "{name} gave {}: {}",
            diag.code,
            diag.message
        );
        insta::assert_snapshot!(render(&diag, name, &text, false));
    });
}

/// `testdata/when-ok/*.when`: whole `when:` texts (stateful stages, sequences) that
/// must parse; the snapshot is [`picket_grammar::print::detection_to_sexpr`].
#[test]
fn when_ok() {
    insta::glob!("testdata/when-ok/*.when", |path| {
        let text = fs::read_to_string(path).expect("readable test file");
        let detection = match picket_grammar::parse_detection(&text) {
            Ok(d) => d,
            Err(diag) => panic!(
                "{}",
                render(&diag, &path.display().to_string(), &text, false)
            ),
        };
        insta::with_settings!({ description => text.trim_end() }, {
            insta::assert_snapshot!(picket_grammar::print::detection_to_sexpr(&detection));
        });
    });
}

/// `testdata/when-err/*.when`: `when:` texts that must fail with the code their name
/// starts with; the snapshot is the rendered diagnostic.
#[test]
fn when_err() {
    insta::glob!("testdata/when-err/*.when", |path| {
        let text = fs::read_to_string(path).expect("readable test file");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name");
        let diag = match picket_grammar::parse_detection(&text) {
            Ok(d) => panic!(
                "{name} parsed:\n{}",
                picket_grammar::print::detection_to_sexpr(&d)
            ),
            Err(diag) => diag,
        };
        assert!(
            name.starts_with(&format!("{}_", diag.code)),
            "{name} gave {}: {}",
            diag.code,
            diag.message
        );
        insta::assert_snapshot!(render(&diag, name, &text, false));
    });
}
