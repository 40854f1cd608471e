//! Rule-pack diagnostics, one case per folder under `tests/diagnostics/`: the folder is
//! compiled as a pack and every rendered diagnostic is snapshotted, so a change in
//! wording, position or suggestion shows up in review.

use picket::compile::{compile, PackFiles};

#[test]
fn diagnostics() {
    insta::glob!("diagnostics/*/rule.yaml", |path| {
        let dir = path.parent().expect("case folder");
        let mut pack = PackFiles::from_dir(dir).expect("case folder is readable");
        pack.root = format!(
            "tests/diagnostics/{}",
            dir.file_name().expect("named folder").to_string_lossy()
        );
        let compiled = compile(&[pack]);
        let rendered: Vec<String> = compiled
            .diagnostics
            .iter()
            .map(|d| d.render(false))
            .collect();
        assert!(
            !rendered.is_empty(),
            "case {} produced no diagnostic",
            dir.display()
        );
        insta::assert_snapshot!(rendered.join("\n"));
    });
}
