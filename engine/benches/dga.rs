//! How well `dga_score` separates generated domain names from real ones, and how fast
//! it is.
//!
//! ```text
//! cargo bench -p picket --bench dga
//! ```
//!
//! Reads the held-out part of the evaluation set (`engine/benches/dga/test.tsv`: popular
//! domains against names of 12 DGA families and random hex and base32 labels; README.md
//! there says where they come from), which the model was not fitted on, and prints:
//!
//! 1. precision, recall, F1 and the false positive rate at the threshold of the rule
//!    `instance.dga-domain-request` (0.8), and a table over thresholds;
//! 2. recall per DGA family and false positive rate per kind of benign name at 0.8;
//! 3. throughput of `dga_score` and `registered_domain` through the function registry,
//!    as the engine calls them (names per second, one thread).

use std::time::{Duration, Instant};

use picket::event::FieldValue;
use picket::functions::{lookup, Function};

/// The threshold of rules/instance/dga-domain-request.yaml.
const RULE_THRESHOLD: f64 = 0.8;

struct Row {
    dga: bool,
    family: String,
    name: String,
    score: Option<f64>,
}

fn score(f: &dyn Function, name: &str) -> Option<f64> {
    match f.eval(&[FieldValue::str(name)]) {
        Some(FieldValue::Float(s)) => Some(s),
        _ => None,
    }
}

struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Counts {
    fn at(rows: &[Row], threshold: f64) -> Counts {
        let mut c = Counts {
            tp: 0,
            fp: 0,
            fn_: 0,
            tn: 0,
        };
        for r in rows {
            let flagged = r.score.is_some_and(|s| s >= threshold);
            match (r.dga, flagged) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (true, false) => c.fn_ += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn false_positive_rate(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/dga/test.tsv");
    let text = std::fs::read_to_string(path).expect("engine/benches/dga/test.tsv");
    let dga_score = lookup("dga_score").expect("dga_score is registered");
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let (class, family, name) = (cols.next(), cols.next(), cols.next());
            let (Some(class), Some(family), Some(name)) = (class, family, name) else {
                panic!("test.tsv: bad line {l:?}");
            };
            Row {
                dga: class == "dga",
                family: family.to_string(),
                name: name.to_string(),
                score: score(dga_score, name),
            }
        })
        .collect();
    let dga = rows.iter().filter(|r| r.dga).count();
    let unscored = rows.iter().filter(|r| r.score.is_none()).count();
    println!(
        "held-out set: {} names ({dga} generated, {} benign); {unscored} without a score (counted as not flagged)",
        rows.len(),
        rows.len() - dga
    );

    let c = Counts::at(&rows, RULE_THRESHOLD);
    println!(
        "\nat {RULE_THRESHOLD} (the rule's threshold): precision {:.4}  recall {:.4}  F1 {:.4}  false positive rate {:.4}  (TP {} FP {} FN {} TN {})",
        c.precision(),
        c.recall(),
        c.f1(),
        c.false_positive_rate(),
        c.tp,
        c.fp,
        c.fn_,
        c.tn
    );
    let long: Vec<Row> = rows
        .iter()
        .filter(|r| registrable_label_len(&r.name) >= 6)
        .map(|r| Row {
            dga: r.dga,
            family: r.family.clone(),
            name: r.name.clone(),
            score: r.score,
        })
        .collect();
    let cl = Counts::at(&long, RULE_THRESHOLD);
    println!(
        "   labels of 6+ characters only ({} names): precision {:.4}  recall {:.4}  F1 {:.4}",
        long.len(),
        cl.precision(),
        cl.recall(),
        cl.f1()
    );

    println!(
        "\n| threshold | precision | recall | F1 | false positive rate |\n|---|---|---|---|---|"
    );
    for t in [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95] {
        let c = Counts::at(&rows, t);
        println!(
            "| {t:.2} | {:.4} | {:.4} | {:.4} | {:.4} |",
            c.precision(),
            c.recall(),
            c.f1(),
            c.false_positive_rate()
        );
    }

    let mut families: Vec<&str> = rows.iter().map(|r| r.family.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    println!("\n| names | count | flagged at {RULE_THRESHOLD} |\n|---|---|---|");
    for family in families {
        let of: Vec<&Row> = rows.iter().filter(|r| r.family == family).collect();
        let flagged = of
            .iter()
            .filter(|r| r.score.is_some_and(|s| s >= RULE_THRESHOLD))
            .count();
        let kind = if of[0].dga { "generated" } else { "benign" };
        println!(
            "| {kind} {family} | {} | {:.1}% |",
            of.len(),
            100.0 * ratio(flagged, of.len())
        );
    }

    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    for function in ["dga_score", "registered_domain"] {
        let f = lookup(function).expect("registered");
        let rate = throughput(f, &names);
        println!("\n{function}: {:.2} M names/s (one thread)", rate / 1e6);
    }
}

/// Length of the label left of the public suffix, by the same function the engine uses.
fn registrable_label_len(name: &str) -> usize {
    let f = lookup("registered_domain").expect("registered");
    match f.eval(&[FieldValue::str(name)]) {
        Some(FieldValue::Str(d)) => d.split('.').next().map_or(0, str::len),
        _ => 0,
    }
}

/// Calls `f` on every name, over and over for about two seconds; names per second.
fn throughput(f: &dyn Function, names: &[&str]) -> f64 {
    let mut calls = 0usize;
    let mut found = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        for name in names {
            if f.eval(&[FieldValue::str(name)]).is_some() {
                found += 1;
            }
        }
        calls += names.len();
    }
    std::hint::black_box(found);
    calls as f64 / start.elapsed().as_secs_f64()
}
