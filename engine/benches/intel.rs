//! What threat lists cost: loading a list of a million entries, and matching with one.
//!
//! ```text
//! cargo bench -p picket --bench intel
//! ```
//!
//! 1. Load: a text list of 1,000,000 entries (IPv4 addresses, /24 and /16 networks,
//!    IPv6 /48s, in random order), read from memory into a loaded list (parse, then
//!    the address table), best of three; and the same as a CSV file and as a STIX
//!    bundle of 100,000 indicators. Then 10 million lookups of random addresses.
//! 2. Scan: the built-in pack on the throughput benchmark's generated CloudTrail, VPC
//!    flow and DNS input, one thread, passes interleaved: parse only (the floor), the
//!    engine with no threat list, the engine with the million-entry list loaded as a
//!    threat list (which turns on the five rules on `list(threat)`) holding none of the
//!    input's addresses (the cost of the lookups), and the same list with every 50th
//!    address of the input added (lookups and the findings they raise).
//!
//! docs/performance.md has a run's output.

use std::time::{Duration, Instant};

use picket::compile::{compile_with, CompileOptions, PackFiles, RulePack};
use picket::event::{read_stream, FieldValue, ReadOptions, ReadStats};
use picket::intel::parse::Column;
use picket::intel::{Intel, ListFormat, ListKind, ListSource, ListSpec};
use picket::run::Matcher;

#[path = "throughput/cloudtrail.rs"]
#[allow(dead_code)]
mod cloudtrail;
#[path = "throughput/dns.rs"]
#[allow(dead_code)]
mod dns;
#[path = "throughput/input.rs"]
#[allow(dead_code)]
mod input;
#[path = "throughput/ops.rs"]
#[allow(dead_code)]
mod ops;
#[path = "throughput/rng.rs"]
#[allow(dead_code)]
mod rng;
#[path = "throughput/vpcflow.rs"]
#[allow(dead_code)]
mod vpcflow;
#[path = "throughput/world.rs"]
#[allow(dead_code)]
mod world;

/// Bytes of generated input per source.
const INPUT_BYTES: usize = 24_000_000;

/// Entries of the big list.
const ENTRIES: usize = 1_000_000;

/// How long each configuration is repeated; the fastest pass counts.
const BUDGET: Duration = Duration::from_secs(3);

fn time_best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut out = None;
    let mut runs = 0;
    while runs < 3 || start.elapsed() < BUDGET {
        let t = Instant::now();
        let value = f();
        best = best.min(t.elapsed());
        out = Some(value);
        runs += 1;
    }
    (best, out.expect("ran at least once"))
}

/// A random address that is not private (so that it could be on a feed).
fn public_v4(r: &mut rng::Rng) -> [u8; 4] {
    loop {
        let a = (r.next_u64() >> 32) as u32;
        let b = a.to_be_bytes();
        let private = matches!(b[0], 0 | 10 | 127 | 224..=255)
            || (b[0] == 172 && (16..32).contains(&b[1]))
            || (b[0] == 192 && b[1] == 168);
        if !private {
            return b;
        }
    }
}

/// A threat list of `n` entries shaped like merged public feeds: 90% single addresses,
/// 8.9% /24s, 0.1% /16s, 1% IPv6 /48s.
fn big_list(r: &mut rng::Rng, n: usize) -> String {
    let mut out = String::with_capacity(n * 16);
    out.push_str("# a generated feed\n");
    for i in 0..n {
        let b = public_v4(r);
        match i % 1000 {
            0..=899 => out.push_str(&format!("{}.{}.{}.{}\n", b[0], b[1], b[2], b[3])),
            900..=988 => out.push_str(&format!("{}.{}.{}.0/24\n", b[0], b[1], b[2])),
            989 => out.push_str(&format!("{}.{}.0.0/16\n", b[0], b[1])),
            _ => out.push_str(&format!(
                "2001:db8:{:x}::/48\n",
                (r.next_u64() >> 48) as u16
            )),
        }
    }
    out
}

fn source(name: &str, format: ListFormat, text: &str) -> ListSource {
    ListSource {
        spec: ListSpec {
            name: name.to_string(),
            kind: ListKind::Threat,
            path: format!("{name}.list").into(),
            format,
            accounts: None,
            description: None,
        },
        bytes: Ok(text.as_bytes().to_vec()),
        display: name.to_string(),
        declared_at: None,
    }
}

fn load(name: &str, format: ListFormat, text: &str, entries: usize) {
    let (took, intel) = time_best(|| {
        let (intel, diags) = Intel::load(vec![source(name, format.clone(), text)], None);
        assert!(diags.is_empty(), "the generated list loads");
        intel
    });
    let list = intel.get(name).expect("loaded");
    println!(
        "load {name:<6} {:>9} entries, {:>5.1} MB of text: {:>7.1} ms ({:.2} M entries/s), {} distinct, ~{:.0} MB in memory",
        entries,
        text.len() as f64 / 1e6,
        took.as_secs_f64() * 1e3,
        entries as f64 / took.as_secs_f64() / 1e6,
        list.len(),
        list.heap_bytes() as f64 / 1e6
    );
}

/// Parse only, then the engine with each pack, passes interleaved (one of each in turn,
/// so that load from other processes slows all alike); the fastest pass of each counts.
fn scan(name: &str, bytes: &[u8], packs: &[(&str, &RulePack)]) {
    let read = |each: &mut dyn FnMut(&picket::event::Event)| {
        read_stream(
            "bench",
            bytes,
            &ReadOptions::default(),
            &mut ReadStats::default(),
            &mut |e| each(&e),
            &mut |e| panic!("generated input is valid: {e}"),
        );
    };
    let matchers: Vec<Matcher> = packs.iter().map(|(_, p)| Matcher::new(p)).collect();
    let mut best = vec![Duration::MAX; packs.len() + 1];
    let mut matches = vec![0u64; packs.len()];
    let mut events = 0u64;
    let start = Instant::now();
    let mut passes = 0;
    while passes < 3 || start.elapsed() < BUDGET * 2 {
        let t = Instant::now();
        events = 0;
        read(&mut |_| events += 1);
        best[0] = best[0].min(t.elapsed());
        for (i, m) in matchers.iter().enumerate() {
            let t = Instant::now();
            let mut n = 0u64;
            read(&mut |e| m.run(e, |_| n += 1));
            best[i + 1] = best[i + 1].min(t.elapsed());
            matches[i] = n;
        }
        passes += 1;
    }
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let mut line = format!(
        "{name:<10} {events:>8} events  parse {:>9.0}/s",
        rate(best[0])
    );
    for (i, (label, _)) in packs.iter().enumerate() {
        let vs = if i == 0 {
            String::new()
        } else {
            format!(
                " ({:+.1}%)",
                (rate(best[i + 1]) / rate(best[1]) - 1.0) * 100.0
            )
        };
        line.push_str(&format!(
            "  {label} {:>9.0}/s{vs} [{} matches]",
            rate(best[i + 1]),
            matches[i]
        ));
    }
    println!("{line}");
}

/// Every 50th distinct public source address of the CloudTrail input and destination
/// address of the flows, one per line: so that some events meet the list.
fn seen_addresses(ct: &[u8], flows: &[u8]) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let text = String::from_utf8_lossy(ct);
    for part in text.split("\"sourceIPAddress\":\"").skip(1) {
        if let Some(end) = part.find('"') {
            seen.insert(part[..end].to_string());
        }
    }
    for line in String::from_utf8_lossy(flows).lines() {
        if let Some(dst) = line.split(' ').nth(4) {
            seen.insert(dst.to_string());
        }
    }
    seen.into_iter()
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok() && !a.starts_with("10."))
        .step_by(50)
        .map(|a| a + "\n")
        .collect()
}

fn main() {
    println!("picket intel benchmark: one thread, best of >= 3 passes over {BUDGET:?}\n");
    let mut r = rng::Rng::new(0x0011_570f_1e57);

    let text = big_list(&mut r, ENTRIES);
    load("text", ListFormat::Text, &text, ENTRIES);
    let csv: String = std::iter::once("indicator,confidence\n".to_string())
        .chain(text.lines().skip(1).map(|l| format!("{l},high\n")))
        .collect();
    load(
        "csv",
        ListFormat::Csv {
            column: Column::Name("indicator".into()),
            header: true,
        },
        &csv,
        ENTRIES,
    );
    let stix_n = 100_000;
    let mut stix = String::from("{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": [\n");
    for (i, line) in text.lines().skip(1).take(stix_n).enumerate() {
        let kind = if line.contains(':') {
            "ipv6-addr"
        } else {
            "ipv4-addr"
        };
        let op = if line.contains('/') { "ISSUBSET" } else { "=" };
        if i > 0 {
            stix.push_str(",\n");
        }
        stix.push_str(&format!(
            "{{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"indicator--{i}\", \"pattern\": \"[{kind}:value {op} '{line}']\", \"pattern_type\": \"stix\", \"valid_from\": \"2026-11-01T00:00:00Z\"}}"
        ));
    }
    stix.push_str("\n]}\n");
    load("stix", ListFormat::Stix, &stix, stix_n);

    // Lookups alone.
    let (intel, _) = Intel::load(vec![source("text", ListFormat::Text, &text)], None);
    let list = intel.get("text").expect("loaded");
    let probes: Vec<FieldValue<'static>> = (0..10_000_000)
        .map(|_| FieldValue::Ip(std::net::IpAddr::from(public_v4(&mut r))))
        .collect();
    let (took, hits) = time_best(|| probes.iter().filter(|p| list.lookup(p).is_some()).count());
    println!(
        "lookup: {:.0} ns per address ({} of {} random addresses on the list)\n",
        took.as_secs_f64() * 1e9 / probes.len() as f64,
        hits,
        probes.len()
    );

    // Scans with and without the list. The list gains a few of the input's addresses.
    let w = world::World::new(&mut rng::Rng::new(0x5eed_0f91_c7e7));
    let ct = cloudtrail::generate(&w, 1, INPUT_BYTES);
    let flow = vpcflow::generate(&w, 2, INPUT_BYTES);
    let dns = dns::generate(&w, 3, INPUT_BYTES);
    let dir = std::env::temp_dir().join(format!("picket-intel-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let apart = dir.join("apart.txt");
    std::fs::write(&apart, &text).expect("write the list");
    let meets = dir.join("meets.txt");
    std::fs::write(
        &meets,
        format!("{text}{}", seen_addresses(&ct.data, &flow.data)),
    )
    .expect("write the list");
    let packs = [PackFiles::builtin()];
    let with_list = |path: &std::path::Path| {
        let compiled = compile_with(
            &packs,
            &CompileOptions {
                lists: vec![ListSpec {
                    name: "feed".into(),
                    kind: ListKind::Threat,
                    path: path.to_path_buf(),
                    format: ListFormat::Text,
                    accounts: None,
                    description: None,
                }],
                ..CompileOptions::default()
            },
        );
        assert_eq!(compiled.error_count(), 0);
        compiled
    };
    let plain = compile_with(&packs, &CompileOptions::default());
    assert_eq!(plain.error_count(), 0);
    let apart = with_list(&apart);
    let meets = with_list(&meets);
    println!(
        "Scan: built-in pack ({} rules), {:.0} MB of each input",
        plain.pack.len(),
        INPUT_BYTES as f64 / 1e6
    );
    println!(
        "engine: no threat list; +list: the 1M-entry list, none of the input's addresses on it \
         (the cost of the lookups); +list meeting input: every 50th address of the input added \
         to it (lookups and the findings they raise)"
    );
    let configs = [
        ("engine", &plain.pack),
        ("+list", &apart.pack),
        ("+list meeting input", &meets.pack),
    ];
    scan("cloudtrail", &ct.data, &configs);
    scan("vpcflow", &flow.data, &configs);
    scan("dns", &dns.data, &configs);
    let _ = std::fs::remove_dir_all(&dir);
}
