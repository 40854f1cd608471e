//! Read speed of the event layer: CloudTrail `Records` files to normalized events.
//!
//! ```text
//! cargo run --release -p picket --example read_speed               # 10,000 generated events
//! cargo run --release -p picket --example read_speed -- 50000      # another count
//! cargo run --release -p picket --example read_speed -- FILE...    # your own files
//! ```
//!
//! Prints, for the same bytes: the floor (one sonic-rs parse of the whole document,
//! nothing else), reading (framing, per-record parse, classification, events), and
//! reading plus six catalog fields read per event, as events/s and MB/s of JSON.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use picket::event::{catalog, reader, ReadOptions, ReadStats};

/// A small deterministic generator (no dependency for this).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

/// One realistic CloudTrail record of 1–2 KB.
fn record(rng: &mut Lcg, i: usize) -> String {
    let ops = [
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "CreateAccessKey"),
        ("sts.amazonaws.com", "AssumeRole"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("ec2.amazonaws.com", "RunInstances"),
        ("s3.amazonaws.com", "GetBucketAcl"),
        ("s3.amazonaws.com", "GetObject"),
        ("kms.amazonaws.com", "Decrypt"),
        ("cloudtrail.amazonaws.com", "LookupEvents"),
        ("lambda.amazonaws.com", "Invoke"),
    ];
    let (service, op) = ops[rng.next() as usize % ops.len()];
    let data = op == "GetObject";
    let role = rng.pick(&["web-app-role", "etl-role", "admin", "ci-deployer"]);
    let session = format!("i-0{:016x}", rng.next());
    let ip = format!(
        "{}.{}.{}.{}",
        rng.pick(&["203", "198", "192", "10"]),
        rng.next() % 256,
        rng.next() % 256,
        rng.next() % 256
    );
    let error = if rng.next().is_multiple_of(10) {
        r#""errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation because no identity-based policy allows it","#
    } else {
        ""
    };
    let params = match rng.next() % 3 {
        0 => format!(
            r#"{{"bucketName":"bucket-{}","Host":"bucket-{}.s3.us-east-1.amazonaws.com","key":"reports/2024/{:08x}.csv"}}"#,
            i % 50,
            i % 50,
            rng.next()
        ),
        1 => format!(
            r#"{{"instancesSet":{{"items":[{{"instanceId":"i-0{:016x}"}},{{"instanceId":"i-0{:016x}"}}]}},"filterSet":{{}},"maxResults":1000}}"#,
            rng.next(),
            rng.next()
        ),
        _ => format!(
            r#"{{"roleArn":"arn:aws:iam::111122223333:role/{role}","roleSessionName":"session-{i}","durationSeconds":3600,"tags":[{{"key":"team","value":"platform"}},{{"key":"cost-center","value":"{}"}}]}}"#,
            rng.next() % 9999
        ),
    };
    let category = if data { "Data" } else { "Management" };
    format!(
        concat!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLEROLEID1234:{session}","#,
            r#""arn":"arn:aws:sts::111122223333:assumed-role/{role}/{session}","accountId":"111122223333","accessKeyId":"ASIA{key:016X}","#,
            r#""sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLEROLEID1234","arn":"arn:aws:iam::111122223333:role/{role}","#,
            r#""accountId":"111122223333","userName":"{role}"}},"attributes":{{"creationDate":"2024-05-01T07:58:11Z","mfaAuthenticated":"false"}},"#,
            r#""ec2RoleDelivery":"2.0"}}}},"eventTime":"2024-05-01T{h:02}:{m:02}:{s:02}Z","eventSource":"{service}","eventName":"{op}","#,
            r#""awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.amzn.2023 command/{op}","#,
            r#"{error}"requestParameters":{params},"responseElements":null,"requestID":"{rid:032x}","eventID":"{eid:032x}","readOnly":true,"#,
            r#""resources":[{{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::bucket-{b}"}}],"#,
            r#""eventType":"AwsApiCall","managementEvent":{mgmt},"recipientAccountId":"111122223333","eventCategory":"{category}","#,
            r#""tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{host}"}}}}"#
        ),
        session = session,
        role = role,
        key = rng.next(),
        h = i / 3600 % 24,
        m = i / 60 % 60,
        s = i % 60,
        service = service,
        op = op,
        ip = ip,
        error = error,
        params = params,
        rid = u128::from(rng.next()) << 64 | u128::from(rng.next()),
        eid = u128::from(rng.next()) << 64 | u128::from(rng.next()),
        b = i % 50,
        mgmt = !data,
        category = category,
        host = service,
    )
}

fn rate(events: u64, bytes: u64, took: Duration) -> String {
    let secs = took.as_secs_f64();
    format!(
        "{:>9.0} events/s {:>8.1} MB/s ({:.1} ms)",
        events as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e3
    )
}

/// The best of a few runs.
fn best(runs: usize, mut f: impl FnMut() -> u64) -> (u64, Duration) {
    let mut out = (0, Duration::MAX);
    for _ in 0..runs {
        let start = Instant::now();
        let n = f();
        out = (n, out.1.min(start.elapsed()));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    match args.first().map(|a| a.parse::<usize>()) {
        None | Some(Ok(_)) => {
            let count = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
            let mut rng = Lcg(42);
            let records: Vec<String> = (0..count).map(|i| record(&mut rng, i)).collect();
            let sizes: Vec<usize> = records.iter().map(String::len).collect();
            let doc = format!("{{\"Records\":[{}]}}", records.join(","));
            let lines: String = records.iter().map(|r| format!("{r}\n")).collect();
            println!(
                "{count} generated CloudTrail records of {} to {} bytes",
                sizes.iter().min().unwrap_or(&0),
                sizes.iter().max().unwrap_or(&0),
            );
            for (name, body) in [("records.json", doc), ("records.jsonl", lines)] {
                let path = dir.path().join(name);
                let mut file = std::fs::File::create(&path).expect("create");
                file.write_all(body.as_bytes()).expect("write");
                measure(name, &[path]);
            }
        }
        Some(Err(_)) => {
            let files: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
            measure("given files", &files);
        }
    }
}

/// Prints the floor and the read speeds of `files`.
fn measure(label: &str, files: &[PathBuf]) {
    let runs = 7;
    let opts = &ReadOptions::default();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    println!("{label}: {:.1} MB", bytes as f64 / 1e6);

    // Floor: one sonic-rs parse of each whole file (each line for JSON lines).
    let contents: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    let (_, floor) = best(runs, || {
        let mut parsed = 0;
        for c in &contents {
            if sonic_rs::from_slice::<sonic_rs::Value>(c).is_ok() {
                parsed += 1;
                continue;
            }
            for line in c.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                parsed += u64::from(sonic_rs::from_slice::<sonic_rs::Value>(line).is_ok());
            }
        }
        parsed
    });

    let read = |touch: bool| {
        let fields: Vec<_> = [
            "time",
            "api.operation",
            "actor.arn",
            "src.ip",
            "outcome",
            "resources",
        ]
        .iter()
        .filter_map(|n| catalog::lookup(n))
        .collect();
        move || {
            let mut stats = ReadStats::default();
            let mut touched = 0u64;
            for file in files {
                reader::read_path(
                    file,
                    opts,
                    &mut stats,
                    &mut |ev| {
                        if touch {
                            for f in &fields {
                                touched += u64::from(f.get(&ev).is_some());
                            }
                        }
                    },
                    &mut |e| eprintln!("{e}"),
                );
            }
            std::hint::black_box(touched);
            stats.total_events()
        }
    };
    let (events, plain) = best(runs, read(false));
    let (_, touched) = best(runs, read(true));
    for (what, took) in [
        ("parse only (floor)", floor),
        ("read + normalize", plain),
        ("read + normalize + 6 fields", touched),
    ] {
        println!("  {what:<28}{}", rate(events, bytes, took));
    }
}
