//! Measures loading and compiling rule packs: the built-in library, and generated packs
//! of 100 and 1,000 CloudTrail rules (each with a multi-line `when:`, a list and a
//! regex now and then), so the cost of the YAML loader and the compiler is visible.
//!
//! `cargo run --release -p picket --example compile_speed`

use std::time::Instant;

use picket::compile::{compile, PackFiles};

fn generated(n: usize) -> PackFiles {
    let mut pack = PackFiles {
        root: format!("generated-{n}"),
        ..PackFiles::default()
    };
    let ops = [
        "StopLogging",
        "DeleteTrail",
        "PutBucketPolicy",
        "CreateAccessKey",
        "AttachUserPolicy",
    ];
    for i in 0..n {
        let when = match i % 4 {
            0 => format!("api.service == \"svc{i}.amazonaws.com\"\n  and api.operation in (\"{}\", \"Op{i}\")\n  and outcome == \"success\"", ops[i % ops.len()]),
            1 => format!("user_agent contains~ \"tool-{i}\"\n  and not (actor.type == \"AWSService\")"),
            2 => format!("actor.arn matches /:role\\/deploy-{i}-[a-z]+$/\n  and src.ip in cidr(10.{}.0.0/16)", i % 250),
            _ => format!("requestParameters.bucketName startswith \"b{i}-\"\n  and any(resources, type == \"AWS::S3::Bucket\")"),
        };
        let rule = format!(
            "id: account.generated-{i}\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: Generated rule {i}\nseverity: medium\nsource: cloudtrail\ncategory: account\nmitre: [T1078]\ndescription: >\n  A generated rule for measuring the compiler.\nwhen: |\n  {when}\ngroup_by: [actor.arn]\n"
        );
        pack.files
            .insert(format!("account/generated-{i}.yaml"), rule.into_bytes());
    }
    pack
}

fn time(label: &str, packs: &[PackFiles], runs: usize) {
    let mut best = f64::MAX;
    let mut rules = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let compiled = compile(packs);
        best = best.min(start.elapsed().as_secs_f64());
        rules = compiled.pack.len();
        assert_eq!(compiled.error_count(), 0, "{label} has errors");
    }
    println!(
        "{label:<28} {rules:>5} rules  {:>8.2} ms  ({:.1} µs per rule, best of {runs})",
        best * 1e3,
        best * 1e6 / rules.max(1) as f64
    );
}

/// The YAML loader alone (marked-yaml, positions kept), for the share of compile time.
fn time_yaml(label: &str, pack: &PackFiles, runs: usize) {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        for (_, bytes) in pack.yaml_files() {
            let text = std::str::from_utf8(bytes).expect("UTF-8");
            marked_yaml::parse_yaml(0, text).expect("valid YAML");
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{label:<28} {:>5} files  {:>8.2} ms  (YAML only, best of {runs})",
        pack.yaml_files().count(),
        best * 1e3
    );
}

fn main() {
    time("built-in library", &[PackFiles::builtin()], 20);
    time("generated", &[generated(100)], 10);
    time("generated", &[generated(1000)], 5);
    time_yaml("built-in library", &PackFiles::builtin(), 20);
    time_yaml("generated", &generated(1000), 5);
}
