//! Configuration errors point at the value at fault, with the file, line and column.

use super::*;

/// Checks `text` as `picket.toml` in a fresh folder holding `logs/` and `rules/`.
fn check(text: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("logs")).expect("mkdir");
    std::fs::create_dir(dir.path().join("rules")).expect("mkdir");
    let path = dir.path().join("picket.toml");
    Config::parse(&path, text)
        .map_err(|e| e.rendered.replace(&dir.path().display().to_string(), "DIR"))
}

fn errors(text: &str) -> String {
    match check(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn a_minimal_config_takes_the_defaults() {
    let c = check("[[input]]\ntype = \"directory\"\npath = \"logs\"\n").expect("valid");
    assert_eq!(c.inputs.len(), 1);
    assert_eq!(c.inputs[0].name, "logs");
    assert!(c.store.ends_with("findings.db"));
    assert!(c.store.is_absolute() || c.store.starts_with(std::env::temp_dir()));
    assert!(c.rules.builtin && c.rules.test_on_reload && c.rules.watch);
    assert_eq!(c.state.allowed_lateness_ms, 15 * 60 * 1000);
    assert_eq!(c.pipeline.batch_wait, Duration::from_millis(20));
    match &c.inputs[0].kind {
        InputKind::Directory { path, poll, .. } => {
            assert!(path.ends_with("logs"));
            assert_eq!(*poll, Duration::from_secs(1));
        }
        other => panic!("not a folder input: {other:?}"),
    }
}

#[test]
fn durations_read_every_unit() {
    assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
    for bad in ["", "5", "m", "1.5s", "-1s", "10 s", "3w"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_unknown_key_is_an_error_at_its_place() {
    insta::assert_snapshot!(errors(
        "[[input]]\ntype = \"directory\"\npath = \"logs\"\n\n[admin]\nlisen = \"127.0.0.1:1\"\n"
    ));
}

#[test]
fn a_syntax_error_names_line_and_column() {
    insta::assert_snapshot!(errors("[[input]\ntype = \"stdin\"\n"));
}

#[test]
fn value_errors_are_all_reported_at_their_values() {
    insta::assert_snapshot!(errors(
        r#"[rules]
paths = ["rules", "missing-pack"]
reload_quiet = "soon"

[state]
allowed_lateness = "15 minutes"

[[input]]
type = "directory"
path = "nowhere"
listen = "127.0.0.1:9000"

[[input]]
type = "http"
name = "nowhere"
listen = "0.0.0.0:8514"

[[input]]
type = "kafka"

[log]
format = "yaml"
"#
    ));
}

#[test]
fn inputs_need_distinct_names_and_one_stdin() {
    insta::assert_snapshot!(errors(
        "[[input]]\ntype = \"stdin\"\n\n[[input]]\ntype = \"stdin\"\n"
    ));
}

#[test]
fn a_config_without_inputs_says_what_to_add() {
    insta::assert_snapshot!(errors("[store]\npath = \"f.db\"\n"));
}

#[test]
fn the_example_config_in_docs_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("picket.toml");
    let text = std::fs::read_to_string(&path).expect("docs/picket.toml");
    match Config::parse(&path, &text) {
        Ok(c) => {
            assert!(!c.inputs.is_empty());
            assert!(!c.routes.is_empty(), "the example shows routes");
        }
        Err(e) => panic!("docs/picket.toml does not check:\n{e}"),
    }
}
