//! Route 53 Resolver query log records (JSON lines, version 1.100000): AWS endpoints,
//! internal names, SaaS and package mirrors, NXDOMAIN from search-domain expansion and
//! typos, PTR lookups, and a few queries detections look for (mining pools, dynamic DNS,
//! long tunnelling labels, names answering with the instance metadata address).

use serde_json::json;

use super::input::Lines;
use super::rng::Rng;
use super::world::{World, ACCOUNT, REGIONS};

/// Internet names queried from the VPCs.
const EXTERNAL: &[&str] = &[
    "api.github.com",
    "github.com",
    "objects.githubusercontent.com",
    "registry-1.docker.io",
    "auth.docker.io",
    "production.cloudflare.docker.com",
    "pypi.org",
    "files.pythonhosted.org",
    "registry.npmjs.org",
    "repo.maven.apache.org",
    "api.datadoghq.com",
    "http-intake.logs.datadoghq.com",
    "hooks.slack.com",
    "api.stripe.com",
    "api.sendgrid.com",
    "www.google.com",
    "oauth2.googleapis.com",
    "ocsp.digicert.com",
    "r3.o.lencr.org",
    "login.microsoftonline.com",
    "sentry.io",
    "o4505.ingest.sentry.io",
    "cdn.jsdelivr.net",
    "api.segment.io",
    "api.pagerduty.com",
];

/// Names detections look for.
pub const SUSPICIOUS: &[&str] = &[
    "pool.minexmr.com",
    "xmr.pool.minergate.com",
    "eth-eu1.nanopool.org",
    "stratum.antpool.com",
    "c2-relay.duckdns.org",
    "drop.ngrok.io",
    "update.windows-patch.top",
];

/// Generates `target_bytes` (or a little more) of Resolver query log lines.
pub fn generate(world: &World, seed: u64, target_bytes: usize) -> Lines {
    let mut rng = Rng::new(seed);
    let mut lines = Lines::default();
    let mut i = 0u64;
    while lines.data.len() < target_bytes {
        lines.push(record(world, &mut rng, i).as_bytes());
        i += 1;
    }
    lines
}

fn record(world: &World, rng: &mut Rng, i: u64) -> String {
    let inst = rng.pick(&world.instances).clone();
    let region = REGIONS[rng.below(2)].0;
    let mut rcode = "NOERROR";
    let mut qtype = *rng.pick(&["A", "A", "A", "A", "AAAA", "AAAA", "A", "A"]);
    let roll = rng.below(1000);
    let name = match roll {
        0..=399 => {
            let svc = *rng.pick(&[
                "sts",
                "s3",
                "dynamodb",
                "kms",
                "secretsmanager",
                "ssm",
                "logs",
                "ecr",
                "api.ecr",
                "monitoring",
                "sqs",
                "ec2messages",
                "ssmmessages",
            ]);
            if svc == "s3" && rng.chance(0.5) {
                format!("{}.s3.{region}.amazonaws.com", rng.pick(&world.buckets))
            } else {
                format!("{svc}.{region}.amazonaws.com")
            }
        }
        400..=599 => match rng.below(3) {
            0 => format!(
                "{}.cluster-c9akq2x1y3zd.{region}.rds.amazonaws.com",
                rng.pick(&["orders-db", "users-db", "payments-db"])
            ),
            1 => format!(
                "ip-{}.ec2.internal",
                rng.pick(&world.instances).ip.replace('.', "-")
            ),
            _ => format!(
                "{}.internal.acme.corp",
                rng.pick(&["orders", "payments", "auth", "search", "kafka-1", "kafka-2", "vault"])
            ),
        },
        600..=849 => rng.pick(EXTERNAL).to_string(),
        850..=929 => {
            rcode = "NXDOMAIN";
            if rng.chance(0.6) {
                format!("{}.ec2.internal", rng.pick(EXTERNAL))
            } else {
                format!(
                    "{}.acme.corp",
                    rng.pick(&["old-jenkins", "wiki", "ldap", "grafana-v1"])
                )
            }
        }
        930..=969 => {
            qtype = "PTR";
            format!("{}.{}.10.in-addr.arpa", rng.range(1, 254), rng.range(0, 63))
        }
        970..=994 => {
            qtype = *rng.pick(&["SRV", "TXT", "CNAME", "MX"]);
            format!(
                "_{}._tcp.{}",
                rng.pick(&["ldap", "kerberos", "sip"]),
                rng.pick(EXTERNAL)
            )
        }
        _ => match rng.below(3) {
            0 => rng.pick(SUSPICIOUS).to_string(),
            1 => {
                qtype = "TXT";
                format!("{}.{}.t.exfil-cdn.net", rng.hex(48), rng.hex(12))
            }
            _ => "instance-data.metadata-proxy.acme.io".to_string(),
        },
    };
    let answers = if rcode == "NXDOMAIN" {
        json!([])
    } else if name == "instance-data.metadata-proxy.acme.io" {
        json!([{"Rdata": "169.254.169.254", "Type": "A", "Class": "IN"}])
    } else {
        let n = rng.range(1, 4);
        let mut v = Vec::new();
        if rng.chance(0.3) {
            v.push(json!({"Rdata": format!("{}.edgekey.net.", name.split('.').next().unwrap_or("x")), "Type": "CNAME", "Class": "IN"}));
        }
        for _ in 0..n {
            let data = match qtype {
                "AAAA" => format!(
                    "2600:1f18:{:x}:{:x}::{:x}",
                    rng.range(0, 0xffff),
                    rng.range(0, 0xffff),
                    rng.range(1, 0xffff)
                ),
                "PTR" => format!(
                    "ip-10-0-{}-{}.ec2.internal.",
                    rng.range(0, 63),
                    rng.range(1, 254)
                ),
                "TXT" => format!("\"v=spf1 include:{} ~all\"", rng.hex(8)),
                _ => format!(
                    "{}.{}.{}.{}",
                    rng.range(3, 220),
                    rng.range(0, 255),
                    rng.range(0, 255),
                    rng.range(1, 254)
                ),
            };
            v.push(json!({"Rdata": data, "Type": qtype, "Class": "IN"}));
        }
        json!(v)
    };
    let secs = i / 4;
    let ts = format!(
        "2024-05-01T{:02}:{:02}:{:02}Z",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    );
    json!({
        "version": "1.100000",
        "account_id": ACCOUNT,
        "region": region,
        "vpc_id": inst.vpc,
        "query_timestamp": ts,
        "query_name": format!("{name}."),
        "query_type": qtype,
        "query_class": "IN",
        "rcode": rcode,
        "answers": answers,
        "srcaddr": inst.ip,
        "srcport": rng.range(1024, 65535).to_string(),
        "transport": if rng.chance(0.95) { "UDP" } else { "TCP" },
        "srcids": {"instance": inst.id}
    })
    .to_string()
}
