//! Generated rule packs with the mix of a real detection library, built in memory as
//! `PackFiles`.
//!
//! CloudTrail packs (10 to 10,000 rules), by share of rules:
//! - 55% equality and short `in` lists on `api.service`, `api.operation`, `actor.type`,
//!   `actor.arn`, `actor.session_issuer`, `actor.access_key`, `error.code`, `outcome`,
//!   joined with `and` (`api.service == "iam.amazonaws.com" and api.operation in
//!   ("CreateAccessKey", "AttachUserPolicy") and outcome == "success"`);
//! - 20% `in` lists of 10 to 200 values (operations, addresses, ARNs, keys, buckets,
//!   Regions), usually with one more test;
//! - 15% `contains` / `startswith` / `endswith`, a third of them case-insensitive (`~`),
//!   on `user_agent`, `actor.arn`, `requestParameters.bucketName`, `s3.key`,
//!   `error.message`, `requestParameters.roleArn`;
//! - 5% regular expressions; 5% `src.ip in cidr(…)`.
//!
//! Values are "live" (present in the generated logs, taken from the [`World`]) with a
//! small probability and otherwise "dead" (other accounts, names and tools that the day
//! does not contain), and the operations of the equality rules are the rare, sensitive
//! ones; so, as in production, most rules never fire and a small share of events match.
//! Flow packs test ports, CIDRs, actions and byte counts; DNS packs test query names
//! (suffixes, lists, regexes, lengths), types, response codes and answers.

use std::fmt::Write as _;

use picket::compile::PackFiles;

use super::ops::{ABSENT_OPS, OPS};
use super::rng::Rng;
use super::world::{RoleKind, World, ACCOUNT};

/// The five kinds of CloudTrail rule and their share in percent.
pub const MIX: [(&str, usize); 5] = [
    ("equality", 55),
    ("in-list", 20),
    ("substring", 15),
    ("regex", 5),
    ("cidr", 5),
];

/// A quoted, comma-separated list in parentheses.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    format!("({})", inner.join(", "))
}

/// A rule file. `when` lines are joined with newlines and indented under `when: |`.
fn rule_yaml(id: &str, category: &str, ty: &str, sources: &str, when: &str) -> String {
    let mut out = String::with_capacity(400 + when.len());
    let _ = write!(
        out,
        "id: {category}.{id}\ntype: {ty}\ntitle: Generated rule {id}\nseverity: medium\nsource: {sources}\ncategory: {category}\nmitre: [T1078]\ndescription: >\n  A generated rule for the throughput benchmark.\nwhen: |\n"
    );
    for line in when.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Draws rule values from the world (live) or invents them (dead).
struct Draw<'w> {
    world: &'w World,
    rng: Rng,
    /// Indices into `OPS` of the rare operations (what detections watch).
    rare: Vec<usize>,
    services: Vec<&'static str>,
}

impl<'w> Draw<'w> {
    fn new(world: &'w World, seed: u64) -> Draw<'w> {
        let rare = (0..OPS.len()).filter(|&i| OPS[i].2 <= 100).collect();
        let mut services: Vec<&'static str> = OPS.iter().map(|o| o.0).collect();
        services.dedup();
        Draw {
            world,
            rng: Rng::new(seed),
            rare,
            services,
        }
    }

    /// A rare operation of the generated trail (live) or an operation it never has.
    fn op(&mut self, live: f64) -> (&'static str, &'static str) {
        if self.rng.chance(live) {
            let o = OPS[*self.rng.pick(&self.rare)];
            (o.0, o.1)
        } else {
            let svc = *self.rng.pick(&self.services);
            (svc, *self.rng.pick(ABSENT_OPS))
        }
    }

    /// Up to `n` operations of one service: its rare ones, padded with absent ones.
    fn service_ops(&mut self, n: usize, live: f64) -> (&'static str, Vec<&'static str>) {
        let (svc, first) = self.op(live);
        let mut out = vec![first];
        let own: Vec<&'static str> = self
            .rare
            .iter()
            .map(|&i| OPS[i])
            .filter(|o| o.0 == svc)
            .map(|o| o.1)
            .collect();
        while out.len() < n {
            let op = if !own.is_empty() && self.rng.chance(live) {
                *self.rng.pick(&own)
            } else {
                *self.rng.pick(ABSENT_OPS)
            };
            if !out.contains(&op) {
                out.push(op);
            }
        }
        (svc, out)
    }

    /// Any operation of the trail, weighted towards reads, or an absent one.
    fn any_op(&mut self) -> &'static str {
        if self.rng.chance(0.3) {
            self.rng.pick(OPS).1
        } else {
            ABSENT_OPS[self.rng.below(ABSENT_OPS.len())]
        }
    }

    fn account(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            ACCOUNT.to_string()
        } else {
            format!("{:012}", self.rng.range(100_000_000_000, 999_999_999_999))
        }
    }

    fn user_arn(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            let u = self.rng.pick(&self.world.users);
            self.world.user_arn(u)
        } else {
            let acct = self.account(0.5);
            format!(
                "arn:aws:iam::{acct}:user/{}-{}",
                self.rng
                    .pick(&["svc", "temp", "contractor", "ops", "admin"]),
                self.rng.hex(4)
            )
        }
    }

    fn role_arn(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            let r = self.rng.pick(&self.world.roles);
            self.world.role_arn(r)
        } else {
            let acct = self.account(0.3);
            format!(
                "arn:aws:iam::{acct}:role/{}-{}",
                self.rng
                    .pick(&["deploy", "admin", "lambda", "ecs", "legacy"]),
                self.rng.hex(4)
            )
        }
    }

    fn access_key(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            self.rng.pick(&self.world.users).access_key.clone()
        } else {
            format!("AKIA{}", self.rng.upper(16))
        }
    }

    fn public_ip(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            self.rng.pick(&self.world.hostile_ips).clone()
        } else {
            format!(
                "{}.{}.{}.{}",
                self.rng.range(1, 223),
                self.rng.range(0, 255),
                self.rng.range(0, 255),
                self.rng.range(1, 254)
            )
        }
    }

    fn cidr(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            let ip = self.rng.pick(&self.world.hostile_ips).clone();
            let mut parts: Vec<&str> = ip.split('.').collect();
            parts[3] = "0";
            format!("{}/24", parts.join("."))
        } else {
            let bits = *self.rng.pick(&[16u8, 20, 22, 24, 24, 24, 28, 32]);
            let raw: u32 = (self.rng.range(16_777_216, 3_758_096_383) as u32)
                & (u32::MAX << (32 - u32::from(bits)));
            let o = raw.to_be_bytes();
            format!("{}.{}.{}.{}/{bits}", o[0], o[1], o[2], o[3])
        }
    }

    fn bucket(&mut self, live: f64) -> String {
        if self.rng.chance(live) {
            self.rng.pick(&self.world.buckets).clone()
        } else {
            format!(
                "{}-{}-{}",
                self.rng
                    .pick(&["corp", "acme-old", "shared", "tmp", "public"]),
                self.rng.pick(&["exports", "dumps", "site", "backup"]),
                self.rng.hex(5)
            )
        }
    }

    /// A list of `n` distinct values from `f`.
    fn many(&mut self, n: usize, mut f: impl FnMut(&mut Self) -> String) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n && tries < n * 20 {
            let v = f(self);
            if !out.contains(&v) {
                out.push(v);
            }
            tries += 1;
        }
        out
    }

    /// A list length between 10 and 200, more short lists than long ones.
    fn list_len(&mut self) -> usize {
        let x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (10.0 * 20f64.powf(x)).round() as usize
    }
}

/// Equality rules (55%).
fn equality(d: &mut Draw) -> (String, &'static str) {
    let t = d.rng.below(9);
    let when = match t {
        0 | 1 => {
            let n = d.rng.range(1, 3) as usize;
            let (svc, names) = d.service_ops(n, 0.5);
            let ops = if names.len() == 1 {
                format!("== \"{}\"", names[0])
            } else {
                format!("in {}", list(&names))
            };
            format!("api.service == \"{svc}\"\nand api.operation {ops}\nand outcome == \"success\"")
        }
        2 => {
            let (_, op) = d.op(0.5);
            let ty = *d
                .rng
                .pick(&["Root", "Root", "FederatedUser", "AWSAccount", "IAMUser"]);
            format!("api.operation == \"{op}\"\nand actor.type == \"{ty}\"")
        }
        3 => {
            let svc = *d.rng.pick(&d.services.clone());
            let code = *d.rng.pick(&[
                "AccessDenied",
                "Client.UnauthorizedOperation",
                "UnauthorizedOperation",
                "AccessDeniedException",
            ]);
            let ty = *d.rng.pick(&["IAMUser", "Root", "FederatedUser"]);
            format!("api.service == \"{svc}\"\nand error.code == \"{code}\"\nand actor.type == \"{ty}\"\nand api.read_only == false")
        }
        4 => {
            let (_, names) = d.service_ops(3, 0.6);
            let arn = d.user_arn(0.3);
            format!(
                "api.operation in {}\nand actor.arn == \"{arn}\"",
                list(&names)
            )
        }
        5 => {
            let (svc, op) = d.op(0.5);
            format!("api.service == \"{svc}\" and api.operation == \"{op}\"\nand actor.type != \"AWSService\"\nand outcome == \"success\"")
        }
        6 => {
            let role = d.role_arn(0.4);
            let a = d.any_op();
            let (_, b) = d.op(0.5);
            format!("actor.session_issuer == \"{role}\"\nand api.operation in (\"{a}\", \"{b}\")")
        }
        7 => {
            let key = d.access_key(0.2);
            let (_, names) = d.service_ops(2, 0.5);
            format!(
                "actor.access_key == \"{key}\"\nand api.operation in {}",
                list(&names)
            )
        }
        _ => {
            let (svc, op) = d.op(0.5);
            let acct = d.account(0.2);
            format!("api.service == \"{svc}\"\nand api.operation == \"{op}\"\nand api.read_only == false\nand actor.account != \"{acct}\"\nand not (actor.type == \"AWSService\")")
        }
    };
    (when, "cloudtrail")
}

/// `in` lists of 10 to 200 values (20%).
fn in_list(d: &mut Draw) -> (String, &'static str) {
    let n = d.list_len();
    match d.rng.below(7) {
        0 => {
            let mut names: Vec<String> = Vec::new();
            while names.len() < n {
                let op = d.any_op().to_string();
                if !names.contains(&op) {
                    names.push(op);
                }
                if names.len() >= OPS.len() / 2 {
                    break;
                }
            }
            (format!("api.operation in {}\nand actor.type in (\"IAMUser\", \"Root\")\nand error.code == \"AccessDenied\"", list(&names)), "cloudtrail")
        }
        1 => {
            let live = 1.0 / n as f64;
            let ips = d.many(n, |d| d.public_ip(live));
            (format!("src.ip in {}", list(&ips)), "cloudtrail")
        }
        2 => {
            let live = 0.1 / n as f64;
            let arns = d.many(n, |d| {
                if d.rng.chance(0.5) {
                    d.user_arn(live)
                } else {
                    d.role_arn(live)
                }
            });
            (
                format!("actor.arn in {}\nand api.read_only == false", list(&arns)),
                "cloudtrail",
            )
        }
        3 => {
            let live = 0.02 / n as f64;
            let keys = d.many(n, |d| d.access_key(live));
            let (_, op) = d.op(0.7);
            (
                format!(
                    "actor.access_key in {}\nand api.operation != \"{op}\"",
                    list(&keys)
                ),
                "cloudtrail",
            )
        }
        4 => {
            let live = 0.1;
            let buckets = d.many(n, |d| d.bucket(live));
            (format!("requestParameters.bucketName in {}\nand api.operation in (\"PutBucketPolicy\", \"PutBucketAcl\", \"DeleteBucketPolicy\", \"PutBucketPublicAccessBlock\", \"DeleteBucket\")", list(&buckets)), "[cloudtrail, s3data]")
        }
        5 => {
            let regions = [
                "us-east-2",
                "us-west-1",
                "af-south-1",
                "ap-east-1",
                "ap-south-1",
                "ap-south-2",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-northeast-3",
                "ap-southeast-1",
                "ap-southeast-3",
                "ap-southeast-4",
                "ca-central-1",
                "ca-west-1",
                "eu-west-2",
                "eu-west-3",
                "eu-south-1",
                "eu-south-2",
                "eu-north-1",
                "eu-central-2",
                "il-central-1",
                "me-south-1",
                "me-central-1",
                "sa-east-1",
                "eu-central-1",
                "ap-southeast-2",
            ];
            let k = n.clamp(10, regions.len());
            let start = d.rng.below(regions.len() - k + 1);
            let (_, op) = d.op(0.6);
            (format!("region in {}\nand api.operation in (\"RunInstances\", \"CreateKeyPair\", \"{op}\")", list(&regions[start..start + k])), "cloudtrail")
        }
        _ => {
            let allowed = d.many(n, |d| d.role_arn(0.05));
            let (svc, names) = d.service_ops(4, 0.5);
            (format!("api.service == \"{svc}\"\nand api.operation in {}\nand not (actor.session_issuer in {})", list(&names), list(&allowed)), "cloudtrail")
        }
    }
}

/// Tools and strings that user-agent rules look for; the first few occur in the trail.
const AGENT_TOKENS: &[&str] = &[
    "kali",
    "parrot",
    "pentoo",
    "Pacu",
    "python-requests",
    "curl/",
    "Terraform/1.7",
    "aws-cli/1.",
    "ScoutSuite",
    "Prowler",
    "cloudsploit",
    "s3scanner",
    "sqlmap",
    "nmap",
    "Go-http-client",
    "okhttp",
    "PowerShell",
    "WinHttp",
    "masscan",
    "zgrab",
    "nuclei",
    "aws-sdk-php",
    "aws-sdk-ruby",
    "rclone",
    "cyberduck",
    "s3cmd",
    "CloudMapper",
    "endgame",
    "weirdAAL",
    "stratus-red-team",
];

/// Substring tests (15%).
fn substring(d: &mut Draw) -> (String, &'static str) {
    let ci = if d.rng.chance(0.35) { "~" } else { "" };
    match d.rng.below(7) {
        0 | 1 => {
            let token = if d.rng.chance(0.3) {
                d.rng.pick(&AGENT_TOKENS[..6]).to_string()
            } else {
                format!("{}-{}", d.rng.pick(AGENT_TOKENS), d.rng.hex(3))
            };
            let tok = if ci == "~" {
                token.to_lowercase()
            } else {
                token
            };
            (format!("user_agent contains{ci} \"{tok}\""), "cloudtrail")
        }
        2 => {
            let acct = d.account(0.4);
            let kinds = d.world.roles_of(RoleKind::Ec2);
            let role = if d.rng.chance(0.5) {
                d.world.roles[*d.rng.pick(&kinds)].name.clone()
            } else {
                format!("role-{}", d.rng.hex(4))
            };
            let (_, op) = d.op(0.5);
            (format!("actor.arn startswith{ci} \"arn:aws:sts::{acct}:assumed-role/{role}/\"\nand api.operation == \"{op}\""), "cloudtrail")
        }
        3 => {
            let prefix = if d.rng.chance(0.3) {
                d.rng
                    .pick(&["acme-prod-", "acme-staging-", "acme-data-lake-"])
                    .to_string()
            } else {
                format!("{}-", d.bucket(0.0))
            };
            (format!("requestParameters.bucketName startswith{ci} \"{prefix}\"\nand api.operation in (\"PutBucketPolicy\", \"DeleteBucketPolicy\", \"PutBucketAcl\")"), "[cloudtrail, s3data]")
        }
        4 => {
            let suffix = if d.rng.chance(0.3) {
                d.rng
                    .pick(&[".pem", ".tfstate", ".kdbx", "id_rsa", ".env", ".sql.gz"])
                    .to_string()
            } else {
                format!(".{}", d.rng.hex(4))
            };
            (format!("s3.key endswith{ci} \"{suffix}\"\nand api.operation in (\"GetObject\", \"CopyObject\")"), "[cloudtrail, s3data]")
        }
        5 => {
            let text = if d.rng.chance(0.4) {
                "explicit deny in a service control policy".to_string()
            } else {
                format!("permissions boundary {}", d.rng.hex(4))
            };
            let svc = *d.rng.pick(&d.services.clone());
            (
                format!("api.service == \"{svc}\"\nand error.message contains{ci} \"{text}\""),
                "cloudtrail",
            )
        }
        _ => {
            let acct = d.account(0.2);
            let role = if d.rng.chance(0.05) {
                d.rng.pick(&d.world.roles).name.clone()
            } else {
                format!(
                    "{}-{}",
                    d.rng.pick(&["admin", "deploy", "break-glass", "vendor"]),
                    d.rng.hex(3)
                )
            };
            (format!("api.operation == \"AssumeRole\"\nand requestParameters.roleArn contains{ci} \"{acct}:role/{role}\""), "cloudtrail")
        }
    }
}

/// Regular expressions (5%).
fn regex(d: &mut Draw) -> (String, &'static str) {
    let tag = d.rng.hex(3);
    match d.rng.below(6) {
        0 => (format!("user_agent matches /(kali|parrot|pentoo|{tag})[0-9]*[-.]?[a-z0-9]*-amd64/i"), "cloudtrail"),
        1 => {
            let kinds = d.world.roles_of(RoleKind::Ec2);
            let role = if d.rng.chance(0.4) { d.world.roles[*d.rng.pick(&kinds)].name.clone() } else { format!("app-{tag}-role") };
            (format!("actor.arn matches /^arn:aws:sts::[0-9]{{12}}:assumed-role\\/{role}\\/i-[0-9a-f]{{17}}$/\nand api.operation in (\"ListBuckets\", \"GetAccountAuthorizationDetails\", \"{}\")", d.any_op()), "cloudtrail")
        }
        2 => (format!("api.operation == \"AssumeRole\"\nand requestParameters.roleSessionName matches /^({tag}|[0-9]{{10,}})$/"), "cloudtrail"),
        3 => (format!("requestParameters.bucketName matches /^acme-(prod|staging|{tag})-[a-z-]+(backup|export)s?$/\nand api.operation in (\"PutBucketPolicy\", \"PutBucketAcl\", \"GetObject\")"), "[cloudtrail, s3data]"),
        4 => {
            let svc = *d.rng.pick(&d.services.clone());
            (format!("api.service == \"{svc}\"\nand error.message matches /explicit deny in an? (service control|permissions boundary|{tag}) policy/"), "cloudtrail")
        }
        _ => (format!("s3.key matches /\\.(pem|key|tfstate|kdbx|{tag})$/i"), "[cloudtrail, s3data]"),
    }
}

/// CIDR tests (5%).
fn cidr(d: &mut Draw) -> (String, &'static str) {
    match d.rng.below(3) {
        0 => {
            let n = d.rng.range(1, 12) as usize;
            let nets = d.many(n, |d| d.cidr(0.1));
            (format!("src.ip in cidr({})\nand actor.type in (\"IAMUser\", \"AssumedRole\", \"Root\")", nets.join(", ")), "cloudtrail")
        }
        1 => {
            let kinds = d.world.roles_of(RoleKind::Ec2);
            let role = d.world.roles[*d.rng.pick(&kinds)].name.clone();
            let mut nets: Vec<String> = d
                .world
                .nat_ips
                .iter()
                .map(|ip| format!("{ip}/32"))
                .collect();
            nets.push("10.0.0.0/8".into());
            for _ in 0..d.rng.below(4) {
                nets.push(d.cidr(0.0));
            }
            (format!("actor.arn contains \":assumed-role/{role}/i-\"\nand src.ip exists\nand not (src.ip in cidr({}))", nets.join(", ")), "cloudtrail")
        }
        _ => {
            let n = d.rng.range(2, 8) as usize;
            let mut nets: Vec<String> = d
                .world
                .office_ips
                .iter()
                .take(n)
                .map(|ip| {
                    let p: Vec<&str> = ip.split('.').collect();
                    format!("{}.{}.0.0/16", p[0], p[1])
                })
                .collect();
            nets.push(d.cidr(0.0));
            (
                format!(
                    "api.operation == \"ConsoleLogin\"\nand not (src.ip in cidr({}))",
                    nets.join(", ")
                ),
                "cloudtrail",
            )
        }
    }
}

fn finding_type(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "equality" => ("account", "Persistence:IAMUser/AnomalousBehavior"),
        "in-list" => ("recon", "Recon:IAMUser/MaliciousIPCaller"),
        "substring" => ("recon", "PenTest:IAMUser/KaliLinux"),
        "regex" => ("bucket", "Exfiltration:S3/AnomalousBehavior"),
        _ => (
            "account",
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        ),
    }
}

/// The kind of rule `i`: 37 is coprime with 100, so every 100 consecutive rules have
/// exactly the shares of [`MIX`], and 10 rules come close.
pub fn kind_of(i: usize) -> &'static str {
    let p = (i * 37 + 11) % 100;
    let mut acc = 0;
    for (kind, share) in MIX {
        acc += share;
        if p < acc {
            return kind;
        }
    }
    MIX[0].0
}

/// A CloudTrail pack of `n` rules.
pub fn cloudtrail_pack(world: &World, n: usize, seed: u64) -> PackFiles {
    let mut d = Draw::new(world, seed);
    let mut pack = PackFiles {
        root: format!("generated-cloudtrail-{n}"),
        ..PackFiles::default()
    };
    for i in 0..n {
        let kind = kind_of(i);
        let (when, sources) = match kind {
            "equality" => equality(&mut d),
            "in-list" => in_list(&mut d),
            "substring" => substring(&mut d),
            "regex" => regex(&mut d),
            _ => cidr(&mut d),
        };
        let (category, ty) = finding_type(kind);
        let id = format!("gen-{kind}-{i}");
        pack.files.insert(
            format!("{category}/{id}.yaml"),
            rule_yaml(&id, category, ty, sources, &when).into_bytes(),
        );
    }
    pack
}

/// A VPC flow pack of `n` rules: ports, CIDRs, actions, sizes.
pub fn flow_pack(world: &World, n: usize, seed: u64) -> PackFiles {
    let mut d = Draw::new(world, seed);
    let mut pack = PackFiles {
        root: format!("generated-vpcflow-{n}"),
        ..PackFiles::default()
    };
    let private = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16";
    for i in 0..n {
        let when = match d.rng.below(8) {
            0 => {
                let mut ports: Vec<String> = super::vpcflow::MINING_PORTS.iter().map(|p| p.to_string()).collect();
                ports.truncate(d.rng.range(2, 6) as usize);
                ports.push(d.rng.range(10_000, 60_000).to_string());
                format!("net.action == \"ACCEPT\"\nand net.protocol == 6\nand dst.port in ({})\nand not (dst.ip in cidr({private}))", ports.join(", "))
            }
            1 => {
                let k = d.rng.range(1, 30) as usize;
                let nets = d.many(k, |d| d.cidr(0.05));
                format!("src.ip in cidr({})\nand net.action == \"ACCEPT\"", nets.join(", "))
            }
            2 => {
                let port = *d.rng.pick(&[22, 3389, 5900, 23, 2375, 6443]);
                format!("dst.port == {port}\nand net.action == \"ACCEPT\"\nand not (src.ip in cidr({private}))")
            }
            3 => {
                let bytes = *d.rng.pick(&[50_000_000u64, 100_000_000, 500_000_000, 1_000_000_000]);
                format!("net.protocol == 6\nand net.bytes > {bytes}\nand not (dst.ip in cidr({private}, {}))", d.cidr(0.0))
            }
            4 => {
                let ports: Vec<String> = (0..d.rng.range(3, 20)).map(|_| d.rng.range(1, 10_000).to_string()).collect();
                format!("net.action == \"REJECT\"\nand dst.port in ({})\nand src.ip in cidr({})", ports.join(", "), d.cidr(0.2))
            }
            5 => {
                let n = d.list_len();
                let ips = d.many(n, |d| d.public_ip(1.0 / n as f64));
                format!("dst.ip in {}\nand net.action == \"ACCEPT\"", list(&ips))
            }
            6 => format!("net.protocol == 17\nand dst.port == 53\nand not (dst.ip in cidr({private}))\nand net.packets > {}", d.rng.range(1, 50)),
            _ => {
                let eni = if d.rng.chance(0.3) { d.rng.pick(&world.instances).eni.clone() } else { format!("eni-0{}", d.rng.hex(16)) };
                format!("net.interface == \"{eni}\"\nand net.action == \"REJECT\"\nand dst.port < 1024")
            }
        };
        let id = format!("gen-flow-{i}");
        pack.files.insert(
            format!("instance/{id}.yaml"),
            rule_yaml(
                &id,
                "instance",
                "UnauthorizedAccess:EC2/TorClient",
                "vpcflow",
                &when,
            )
            .into_bytes(),
        );
    }
    pack
}

/// A DNS pack of `n` rules: names, types, response codes, answers.
pub fn dns_pack(world: &World, n: usize, seed: u64) -> PackFiles {
    let mut d = Draw::new(world, seed);
    let mut pack = PackFiles {
        root: format!("generated-dns-{n}"),
        ..PackFiles::default()
    };
    let dead_domain = |d: &mut Draw| {
        format!(
            "{}.{}",
            d.rng.hex(8),
            d.rng
                .pick(&["com", "net", "xyz", "top", "ru", "info", "io"])
        )
    };
    for i in 0..n {
        let ci = if d.rng.chance(0.3) { "~" } else { "" };
        let when = match d.rng.below(8) {
            0 => {
                let suffix = if d.rng.chance(0.2) { d.rng.pick(&[".duckdns.org", ".ngrok.io", ".nanopool.org", ".minexmr.com"]).to_string() } else { format!(".{}", dead_domain(&mut d)) };
                format!("dns.query endswith{ci} \"{suffix}\"")
            }
            1 => {
                let n = d.list_len();
                let names = d.many(n, |d| if d.rng.chance(1.0 / n as f64) { d.rng.pick(super::dns::SUSPICIOUS).to_string() } else { dead_domain(d) });
                format!("dns.query in{ci} {}", list(&names))
            }
            2 => format!("dns.query matches /^[a-z0-9]{{{},}}\\.([a-z0-9-]+\\.)*{}$/", d.rng.range(30, 60), d.rng.pick(&["t\\.exfil-cdn\\.net", "[a-z]{3}\\.xyz", "tunnel\\.example"])),
            3 => format!("dns.type == \"TXT\"\nand len(dns.query) > {}", d.rng.range(50, 120)),
            4 => format!("dns.rcode == \"NXDOMAIN\"\nand dns.query endswith \".{}\"", dead_domain(&mut d)),
            5 => format!("dns.answers in (\"169.254.169.254\", \"{}\")\nand not (dns.query endswith \".amazonaws.com\")", d.public_ip(0.0)),
            6 => format!("src.ip in cidr({})\nand dns.query contains{ci} \"{}\"", d.cidr(0.0), d.rng.pick(&["pool", "mine", "stratum", "c2", "tor"])),
            _ => {
                let token = if d.rng.chance(0.2) { d.rng.pick(&["pool.", "xmr", "stratum", "ngrok"]).to_string() } else { d.rng.hex(6) };
                format!("dns.query contains{ci} \"{token}\"\nand dns.type in (\"A\", \"AAAA\")")
            }
        };
        let id = format!("gen-dns-{i}");
        pack.files.insert(
            format!("instance/{id}.yaml"),
            rule_yaml(
                &id,
                "instance",
                "Trojan:EC2/DNSDataExfiltration",
                "dns",
                &when,
            )
            .into_bytes(),
        );
    }
    pack
}
