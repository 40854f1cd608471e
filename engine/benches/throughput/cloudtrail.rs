//! CloudTrail records as JSON lines, shaped like a real organization trail: one record
//! per line, fields in CloudTrail's order, 1–3 KB each.
//!
//! Operations come from [`super::ops`] by weight; the identity fits the operation
//! (`AWSService` for what services call on their own, `WebIdentityUser` for
//! `AssumeRoleWithWebIdentity`, SSO users for the portal, people and automation as IAM
//! users and assumed roles, EC2 instance-role sessions named after the instance, rare
//! root use); user agents, addresses and TLS details follow the identity;
//! `requestParameters` and `responseElements` are nested the way each service writes
//! them (reads log no response, writes echo what they created, `AssumeRole` returns
//! credentials); about 3% of calls are denied and 3% fail otherwise; and a few
//! intruders (pentest distributions, leaked keys, hostile addresses) run
//! reconnaissance and tamper with logging, so that detections have something to find.

use serde_json::{json, Map, Value};

use super::input::Lines;
use super::ops::{self, OPS, SERVICE_OPS};
use super::rng::{Rng, Weighted};
use super::world::{RoleKind, World, ACCOUNT, ORG_ACCOUNTS, REGIONS, SCANNER_ACCOUNT};

/// 2024-05-01T00:00:00Z, the start of the generated day.
const T0: i64 = 1_714_521_600;

/// What the identity is, for user agents, addresses and errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Person,
    Automation,
    Instance,
    Service,
    Intruder,
}

/// The `userIdentity` block and what follows from it.
struct Identity {
    json: Value,
    who: Who,
    arn: Option<String>,
    console: bool,
    service: Option<&'static str>,
}

/// Services that act on their own (`invokedBy`, `sourceIPAddress`).
const ACTING_SERVICES: &[&str] = &[
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "autoscaling.amazonaws.com",
    "cloudformation.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "config.amazonaws.com",
    "s3.amazonaws.com",
    "secretsmanager.amazonaws.com",
    "securityhub.amazonaws.com",
    "access-analyzer.amazonaws.com",
    "guardduty.amazonaws.com",
];

/// User agents of intruders: pentest distributions and tools.
pub const HOSTILE_AGENTS: &[&str] = &[
    "aws-cli/2.15.0 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off",
    "Boto3/1.34.2 md/Botocore#1.34.2 ua/2.0 os/linux#6.5.0-13parrot1-amd64 md/arch#x86_64 lang/python#3.11.2 Botocore/1.34.2",
    "aws-cli/1.29.0 Python/3.11.2 Linux/6.1.57-pentoo exe/x86_64 botocore/1.31.0",
    "Pacu/1.5.2 Boto3/1.26.0 Python/3.10.12 Linux/5.15.0-kali3-amd64",
    "python-requests/2.31.0",
    "curl/8.5.0",
];

/// Generates `target_bytes` (or a little more) of CloudTrail JSON lines.
pub fn generate(world: &World, seed: u64, target_bytes: usize) -> Lines {
    let mut g = Gen::new(world, seed);
    let mut lines = Lines::default();
    let mut i = 0u64;
    while lines.data.len() < target_bytes {
        let record = g.record(i);
        lines.push(record.as_bytes());
        i += 1;
    }
    lines
}

struct Gen<'w> {
    world: &'w World,
    rng: Rng,
    ops: Weighted,
    service_ops: Vec<usize>,
    service_weights: Weighted,
    regions: Weighted,
    seconds_per_record: f64,
}

fn kebab(op: &str) -> String {
    let mut out = String::with_capacity(op.len() + 4);
    for (i, c) in op.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if !c.is_ascii_digit() {
            out.push(c);
        }
    }
    out
}

fn short(service: &str) -> &str {
    service.strip_suffix(".amazonaws.com").unwrap_or(service)
}

fn time(t: i64) -> String {
    let secs = t.rem_euclid(86_400);
    let day = 1 + t.div_euclid(86_400) - T0 / 86_400;
    format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}Z",
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl<'w> Gen<'w> {
    fn new(world: &'w World, seed: u64) -> Gen<'w> {
        let service_ops: Vec<usize> = (0..OPS.len())
            .filter(|&i| SERVICE_OPS.contains(&OPS[i].1))
            .collect();
        Gen {
            world,
            rng: Rng::new(seed),
            ops: Weighted::new(OPS.iter().map(|o| o.2)),
            service_weights: Weighted::new(service_ops.iter().map(|&i| OPS[i].2)),
            service_ops,
            regions: Weighted::new(REGIONS.iter().map(|r| r.1)),
            seconds_per_record: 86_400.0 / 30_000.0,
        }
    }

    fn ip(&mut self, who: Who) -> String {
        let w = self.world;
        match who {
            Who::Person => {
                if self.rng.chance(0.8) {
                    self.rng.pick(&w.office_ips).clone()
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        self.rng.range(70, 220),
                        self.rng.range(0, 255),
                        self.rng.range(0, 255),
                        self.rng.range(1, 254)
                    )
                }
            }
            Who::Automation | Who::Instance => self.rng.pick(&w.nat_ips).clone(),
            Who::Intruder => self.rng.pick(&w.hostile_ips).clone(),
            Who::Service => "AWS Internal".to_string(),
        }
    }

    fn agent(&mut self, who: Who, service: &str, op: &str, console: bool) -> String {
        let r = &mut self.rng;
        let svc = short(service);
        match who {
            Who::Intruder => r.pick(HOSTILE_AGENTS).to_string(),
            Who::Service => "AWS Internal".to_string(),
            Who::Person if console => {
                if r.chance(0.3) {
                    "AWS Internal".to_string()
                } else {
                    let browser = *r.pick(&[
                        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
                        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
                    ]);
                    browser.to_string()
                }
            }
            Who::Person => {
                let os = *r.pick(&["Darwin/23.4.0", "Darwin/23.5.0", "Linux/6.5.0-28-generic", "Linux/6.1.0-18-amd64", "Windows/10"]);
                if r.chance(0.8) {
                    format!(
                        "aws-cli/2.{}.{} Python/3.11.{} {os} exe/x86_64.{} prompt/off command/{svc}.{}",
                        r.range(13, 16),
                        r.range(0, 40),
                        r.range(6, 9),
                        if os.starts_with("Darwin") { "macos.14" } else { "ubuntu.22" },
                        kebab(op)
                    )
                } else {
                    format!(
                        "Boto3/1.34.{} md/Botocore#1.34.{} ua/2.0 os/{}#{} md/arch#arm64 lang/python#3.12.{} md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.{}",
                        r.range(50, 110),
                        r.range(50, 110),
                        os.split('/').next().unwrap_or("linux").to_lowercase(),
                        os.split('/').nth(1).unwrap_or("6.1"),
                        r.range(1, 3),
                        r.range(50, 110)
                    )
                }
            }
            Who::Automation | Who::Instance => match r.below(6) {
                0 => format!(
                    "APN/1.0 HashiCorp/1.0 Terraform/1.7.{} (+https://www.terraform.io) terraform-provider-aws/5.4{}.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.{} os/linux lang/go#1.22.{} md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{}.{}",
                    r.range(0, 5),
                    r.range(0, 9),
                    r.range(0, 2),
                    r.range(0, 3),
                    r.range(20, 160),
                    r.range(0, 9)
                ),
                1 => format!(
                    "aws-sdk-java/2.25.{} Linux/5.10.{}-{}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.{}+7-LTS Java/17.0.{} vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
                    r.range(10, 60),
                    r.range(200, 216),
                    r.range(200, 230),
                    r.range(8, 11),
                    r.range(8, 11)
                ),
                2 => format!(
                    "aws-sdk-go-v2/1.26.{} os/linux lang/go#1.22.{} md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{}.{}",
                    r.range(0, 2),
                    r.range(0, 3),
                    r.range(20, 160),
                    r.range(0, 9)
                ),
                3 => format!(
                    "aws-sdk-js/3.5{}.0 ua/2.0 os/linux#5.10.{}-{}.amzn2.x86_64 lang/js md/nodejs#20.{}.0 api/{svc}#3.5{}.0",
                    r.range(10, 99),
                    r.range(200, 216),
                    r.range(200, 230),
                    r.range(10, 13),
                    r.range(10, 99)
                ),
                _ => format!(
                    "Boto3/1.34.{} md/Botocore#1.34.{} ua/2.0 os/linux#5.10.{}-{}.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.{} md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.{}",
                    r.range(50, 110),
                    r.range(50, 110),
                    r.range(200, 216),
                    r.range(200, 230),
                    r.range(6, 9),
                    r.range(50, 110)
                ),
            },
        }
    }

    fn session_context(
        &mut self,
        role_arn: &str,
        role_id: &str,
        role: &str,
        t: i64,
        mfa: bool,
    ) -> Map<String, Value> {
        let mut ctx = Map::new();
        ctx.insert(
            "sessionIssuer".into(),
            json!({"type": "Role", "principalId": role_id, "arn": role_arn, "accountId": ACCOUNT, "userName": role}),
        );
        ctx.insert("webIdFederationData".into(), json!({}));
        ctx.insert(
            "attributes".into(),
            json!({"creationDate": time(t - self.rng.range(60, 3500) as i64), "mfaAuthenticated": if mfa { "true" } else { "false" }}),
        );
        ctx
    }

    /// The identity for an operation.
    fn identity(&mut self, service: &str, op: &str, t: i64, intruder: bool) -> Identity {
        let w = self.world;
        if intruder {
            let user = &w.users[if self.rng.chance(0.7) {
                18
            } else {
                w.users.len() - 1
            }];
            return Identity {
                json: json!({"type": "IAMUser", "principalId": user.id, "arn": w.user_arn(user), "accountId": ACCOUNT, "accessKeyId": user.access_key, "userName": user.name}),
                who: Who::Intruder,
                arn: Some(w.user_arn(user)),
                console: false,
                service: None,
            };
        }
        if op == "AssumeRoleWithWebIdentity" {
            let (provider, user) = if self.rng.chance(0.8) {
                let sa = *self.rng.pick(&[
                    "kube-system:external-dns",
                    "kube-system:cluster-autoscaler",
                    "kube-system:aws-load-balancer-controller",
                    "kube-system:ebs-csi-controller-sa",
                    "orders:orders-api",
                ]);
                (
                    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/{}", "5C5E2F8A9B1D4E6F7A8B9C0D1E2F3A4B"),
                    format!("system:serviceaccount:{sa}"),
                )
            } else {
                (
                    format!(
                        "arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                    ),
                    format!(
                        "repo:acme/{}:ref:refs/heads/main",
                        self.rng.pick(&["infra", "orders", "frontend", "payments"])
                    ),
                )
            };
            return Identity {
                json: json!({"type": "WebIdentityUser", "principalId": format!("{provider}:sts.amazonaws.com:{user}"), "userName": user, "identityProvider": provider}),
                who: Who::Automation,
                arn: None,
                console: false,
                service: None,
            };
        }
        if op == "AssumeRoleWithSAML" {
            let person = self.rng.pick(&w.people).clone();
            return Identity {
                json: json!({"type": "SAMLUser", "principalId": format!("SAML:{person}@example.com"), "userName": format!("{person}@example.com"), "identityProvider": "bWVzc2FnZS1pZC1vZi1zYW1sLWlkcA=="}),
                who: Who::Person,
                arn: None,
                console: false,
                service: None,
            };
        }
        if service == "sso.amazonaws.com" {
            let person = self.rng.pick(&w.people).clone();
            return Identity {
                json: json!({"type": "Unknown", "principalId": format!("{ACCOUNT}"), "accountId": ACCOUNT, "userName": format!("{person}@example.com")}),
                who: Who::Person,
                arn: None,
                console: true,
                service: None,
            };
        }
        if SERVICE_OPS.contains(&op) && self.rng.chance(0.45) {
            let svc = *self.rng.pick(ACTING_SERVICES);
            return Identity {
                json: json!({"type": "AWSService", "invokedBy": svc}),
                who: Who::Service,
                arn: None,
                console: false,
                service: Some(svc),
            };
        }
        let console_op = service == "signin.amazonaws.com";
        let roll = self.rng.below(1000);
        // Root: rare; a little more often on the console.
        if roll < 4 || (console_op && roll < 40) {
            return Identity {
                json: json!({"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT, "accessKeyId": if console_op { String::new() } else { format!("ASIA{}", self.rng.upper(16)) }}),
                who: Who::Person,
                arn: Some(format!("arn:aws:iam::{ACCOUNT}:root")),
                console: console_op || self.rng.chance(0.7),
                service: None,
            };
        }
        if roll < 14 {
            let person = self.rng.pick(&w.people).clone();
            let arn = format!("arn:aws:sts::{ACCOUNT}:federated-user/{person}");
            return Identity {
                json: json!({"type": "FederatedUser", "principalId": format!("{ACCOUNT}:{person}"), "arn": arn, "accountId": ACCOUNT, "accessKeyId": format!("ASIA{}", self.rng.upper(16)), "sessionContext": {"sessionIssuer": {"type": "IAMUser", "principalId": w.users[0].id, "arn": w.user_arn(&w.users[0]), "accountId": ACCOUNT, "userName": w.users[0].name}, "webIdFederationData": {}, "attributes": {"creationDate": time(t - 600), "mfaAuthenticated": "false"}}}),
                who: Who::Person,
                arn: Some(arn),
                console: false,
                service: None,
            };
        }
        if roll < 30 && !console_op {
            let account = *self.rng.pick(&ORG_ACCOUNTS);
            return Identity {
                json: json!({"type": "AWSAccount", "principalId": format!("AIDA{}", self.rng.upper(17)), "accountId": account}),
                who: Who::Automation,
                arn: None,
                console: false,
                service: None,
            };
        }
        if roll < 250 || (console_op && roll < 500) {
            let humans = if console_op || self.rng.chance(0.4) {
                0..18
            } else {
                18..w.users.len() - 1
            };
            let user = &w.users[humans.start + self.rng.below(humans.len())];
            let arn = w.user_arn(user);
            let console = user.human && (console_op || self.rng.chance(0.3));
            let mut id = Map::new();
            id.insert("type".into(), json!("IAMUser"));
            id.insert("principalId".into(), json!(user.id));
            id.insert("arn".into(), json!(arn));
            id.insert("accountId".into(), json!(ACCOUNT));
            if !console_op {
                let key = if console {
                    format!("ASIA{}", self.rng.upper(16))
                } else {
                    user.access_key.clone()
                };
                id.insert("accessKeyId".into(), json!(key));
            }
            id.insert("userName".into(), json!(user.name));
            if console && !console_op {
                id.insert(
                    "sessionContext".into(),
                    json!({"sessionIssuer": {}, "webIdFederationData": {}, "attributes": {"creationDate": time(t - 1800), "mfaAuthenticated": if self.rng.chance(0.8) { "true" } else { "false" }}}),
                );
            }
            return Identity {
                json: Value::Object(id),
                who: if user.human {
                    Who::Person
                } else {
                    Who::Automation
                },
                arn: Some(arn),
                console,
                service: None,
            };
        }
        // Assumed roles: SSO people, instances, functions, tasks, pods, CI, other accounts.
        let kind = match self.rng.below(100) {
            _ if console_op => RoleKind::Sso,
            0..=24 => RoleKind::Sso,
            25..=54 => RoleKind::Ec2,
            55..=69 => RoleKind::Lambda,
            70..=77 => RoleKind::Ecs,
            78..=87 => RoleKind::Irsa,
            88..=94 => RoleKind::Ci,
            _ => RoleKind::CrossAccount,
        };
        let candidates = w.roles_of(kind);
        let mut role = &w.roles[*self.rng.pick(&candidates)];
        let (session, who) = match kind {
            RoleKind::Sso => (
                format!("{}@example.com", self.rng.pick(&w.people)),
                Who::Person,
            ),
            RoleKind::Ec2 => {
                let inst = self.rng.pick(&w.instances);
                role = &w.roles[inst.role];
                (inst.id.clone(), Who::Instance)
            }
            RoleKind::Lambda => (
                role.name.trim_end_matches("-exec-role").to_string(),
                Who::Automation,
            ),
            RoleKind::Ecs => (self.rng.hex(32), Who::Automation),
            RoleKind::Irsa => (
                format!(
                    "botocore-session-{}",
                    1_714_500_000 + self.rng.range(0, 99_999)
                ),
                Who::Automation,
            ),
            RoleKind::Ci => ("GitHubActions".to_string(), Who::Automation),
            RoleKind::CrossAccount => (
                if role.name == "security-audit-scanner" {
                    format!("prowler-{}", self.rng.range(1000, 9999))
                } else {
                    format!("{}@example.com", self.rng.pick(&w.people))
                },
                Who::Automation,
            ),
        };
        let arn = format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{}/{session}",
            role.name
        );
        let console = kind == RoleKind::Sso && (console_op || self.rng.chance(0.35));
        let mut ctx = self.session_context(
            &w.role_arn(role),
            &role.id,
            &role.name,
            t,
            kind == RoleKind::Sso,
        );
        if kind == RoleKind::Ec2 {
            ctx.insert("ec2RoleDelivery".into(), json!("2.0"));
        }
        if kind == RoleKind::CrossAccount && role.name == "security-audit-scanner" {
            ctx.insert(
                "sourceIdentity".into(),
                json!(format!("scanner@{SCANNER_ACCOUNT}")),
            );
        }
        let mut id = Map::new();
        id.insert("type".into(), json!("AssumedRole"));
        id.insert(
            "principalId".into(),
            json!(format!("{}:{session}", role.id)),
        );
        id.insert("arn".into(), json!(arn));
        id.insert("accountId".into(), json!(ACCOUNT));
        id.insert(
            "accessKeyId".into(),
            json!(format!("ASIA{}", self.rng.upper(16))),
        );
        id.insert("sessionContext".into(), Value::Object(ctx));
        let mut service_for = None;
        if kind == RoleKind::Ci && self.rng.chance(0.3) {
            id.insert("invokedBy".into(), json!("cloudformation.amazonaws.com"));
            service_for = Some("cloudformation.amazonaws.com");
        }
        Identity {
            json: Value::Object(id),
            who,
            arn: Some(arn),
            console,
            service: service_for,
        }
    }

    fn bucket(&mut self) -> String {
        self.rng.pick(&self.world.buckets).clone()
    }

    fn tags(&mut self) -> Value {
        let env = *self.rng.pick(&["prod", "staging", "dev"]);
        let team = *self
            .rng
            .pick(&["platform", "payments", "data", "growth", "security"]);
        json!([{"key": "environment", "value": env}, {"key": "team", "value": team}, {"key": "cost-center", "value": format!("cc-{}", self.rng.range(1000, 9999))}])
    }

    fn policy_document(&mut self, principal_everyone: bool, bucket: &str) -> Value {
        let principal = if principal_everyone {
            json!("*")
        } else {
            json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/{}", self.world.roles[self.rng.below(self.world.roles.len())].name)})
        };
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "AllowRead", "Effect": "Allow", "Principal": principal, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}
        ]})
    }

    /// `requestParameters`, `responseElements`, `resources` and `additionalEventData`.
    fn params(
        &mut self,
        service: &str,
        op: &str,
        region: &str,
        actor: &Identity,
    ) -> (Value, Value, Option<Value>, Option<Value>) {
        let w = self.world;
        let read = ops::read_only(op);
        let plural = op.ends_with('s') || op.starts_with("List");
        let svc = short(service);
        let mut req = Map::new();
        let mut resp = Value::Null;
        let mut resources = None;
        let mut extra = None;
        match (svc, op) {
            ("sts", "AssumeRole") => {
                let role = &w.roles[self.rng.below(w.roles.len())];
                let session = match actor.service {
                    Some(s) => format!("{}-{}", short(s), self.rng.hex(12)),
                    None => format!("session-{}", self.rng.range(1_000_000, 9_999_999)),
                };
                req.insert("roleArn".into(), json!(w.role_arn(role)));
                req.insert("roleSessionName".into(), json!(session));
                req.insert(
                    "durationSeconds".into(),
                    json!(*self.rng.pick(&[900, 3600, 43200])),
                );
                if self.rng.chance(0.3) {
                    req.insert("externalId".into(), json!(self.rng.hex(20)));
                }
                let token = format!("IQoJb3JpZ2luX2VjE{}", self.rng.upper(420));
                resp = json!({"credentials": {"accessKeyId": format!("ASIA{}", self.rng.upper(16)), "sessionToken": token, "expiration": "May 1, 2024, 1:00:00 PM"},
                    "assumedRoleUser": {"assumedRoleId": format!("{}:{session}", role.id), "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{}/{session}", role.name)}});
                resources = Some(
                    json!([{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": w.role_arn(role)}]),
                );
            }
            ("sts", "AssumeRoleWithWebIdentity") | ("sts", "AssumeRoleWithSAML") => {
                let irsa = w.roles_of(RoleKind::Irsa);
                let role = &w.roles[*self.rng.pick(&irsa)];
                let session = format!(
                    "botocore-session-{}",
                    1_714_500_000 + self.rng.range(0, 99_999)
                );
                req.insert("roleArn".into(), json!(w.role_arn(role)));
                req.insert("roleSessionName".into(), json!(session));
                req.insert("durationSeconds".into(), json!(3600));
                resp = json!({"credentials": {"accessKeyId": format!("ASIA{}", self.rng.upper(16)), "sessionToken": format!("IQoJb3JpZ2luX2VjE{}", self.rng.upper(300)), "expiration": "May 1, 2024, 1:00:00 PM"},
                    "subjectFromWebIdentityToken": "system:serviceaccount:kube-system:external-dns",
                    "assumedRoleUser": {"assumedRoleId": format!("{}:{session}", role.id), "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{}/{session}", role.name)},
                    "provider": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/5C5E2F8A9B1D4E6F7A8B9C0D1E2F3A4B"), "audience": "sts.amazonaws.com"});
            }
            ("sts", "GetSessionToken") | ("sts", "GetFederationToken") => {
                req.insert("durationSeconds".into(), json!(43200));
                resp = json!({"credentials": {"accessKeyId": format!("ASIA{}", self.rng.upper(16)), "sessionToken": format!("IQoJb3JpZ2luX2VjE{}", self.rng.upper(200)), "expiration": "May 2, 2024, 12:00:00 AM"}});
            }
            ("kms", "Decrypt" | "Encrypt" | "GenerateDataKey") => {
                let key = self.rng.below(w.keys.len());
                let arn = w.key_arn(key, region);
                let context = match actor.service {
                    Some("s3.amazonaws.com") => {
                        json!({"aws:s3:arn": format!("arn:aws:s3:::{}/{}", self.bucket(), self.rng.hex(24))})
                    }
                    Some("secretsmanager.amazonaws.com") => {
                        json!({"SecretARN": format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{}-{}", self.rng.pick(&w.secrets), self.rng.upper(6)), "SecretVersionId": self.rng.uuid()})
                    }
                    _ => {
                        json!({"aws:lambda:FunctionArn": format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{}", self.rng.pick(&w.functions))})
                    }
                };
                if op != "Decrypt" || self.rng.chance(0.5) {
                    req.insert("keyId".into(), json!(arn));
                }
                req.insert("encryptionContext".into(), context);
                req.insert("encryptionAlgorithm".into(), json!("SYMMETRIC_DEFAULT"));
                if op == "GenerateDataKey" {
                    req.insert("keySpec".into(), json!("AES_256"));
                }
                resources =
                    Some(json!([{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": arn}]));
            }
            ("ec2", "RunInstances") => {
                let inst = self.rng.pick(&w.instances).clone();
                let role = w.roles[inst.role].name.clone();
                req.insert("instancesSet".into(), json!({"items": [{"imageId": format!("ami-0{}", self.rng.hex(16)), "minCount": 1, "maxCount": 1}]}));
                req.insert(
                    "instanceType".into(),
                    json!(*self.rng.pick(&[
                        "t3.medium",
                        "m6i.large",
                        "c6i.xlarge",
                        "r6g.large",
                        "p3.16xlarge"
                    ])),
                );
                req.insert("blockDeviceMapping".into(), json!({"items": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "deleteOnTermination": true, "volumeType": "gp3", "encrypted": true}}]}));
                req.insert("iamInstanceProfile".into(), json!({"name": role}));
                req.insert("subnetId".into(), json!(inst.subnet));
                req.insert(
                    "tagSpecificationSet".into(),
                    json!({"items": [{"resourceType": "instance", "tags": self.tags()}]}),
                );
                req.insert(
                    "metadataOptions".into(),
                    json!({"httpTokens": "required", "httpPutResponseHopLimit": 2}),
                );
                resp = json!({"requestId": self.rng.uuid(), "reservationId": format!("r-0{}", self.rng.hex(16)), "ownerId": ACCOUNT, "groupSet": {},
                    "instancesSet": {"items": [{"instanceId": inst.id, "imageId": format!("ami-0{}", self.rng.hex(16)), "currentInstanceBootMode": "uefi", "instanceState": {"code": 0, "name": "pending"}, "privateIpAddress": inst.ip, "subnetId": inst.subnet, "vpcId": inst.vpc, "architecture": "x86_64", "networkInterfaceSet": {"items": [{"networkInterfaceId": inst.eni, "status": "in-use", "privateIpAddress": inst.ip}]}}]}});
            }
            (
                "ec2",
                "StartInstances"
                | "StopInstances"
                | "TerminateInstances"
                | "ModifyInstanceAttribute"
                | "GetPasswordData"
                | "GetConsoleOutput",
            ) => {
                let inst = self.rng.pick(&w.instances).clone();
                req.insert(
                    "instancesSet".into(),
                    json!({"items": [{"instanceId": inst.id}]}),
                );
                if !read {
                    resp = json!({"requestId": self.rng.uuid(), "instancesSet": {"items": [{"instanceId": inst.id, "currentState": {"code": 32, "name": "shutting-down"}, "previousState": {"code": 16, "name": "running"}}]}});
                }
            }
            ("ec2", "AuthorizeSecurityGroupIngress" | "RevokeSecurityGroupIngress") => {
                let sg = self.rng.pick(&w.security_groups).clone();
                let port = *self.rng.pick(&[22, 443, 3389, 5432, 6379, 8080]);
                let cidr = if self.rng.chance(0.2) {
                    "0.0.0.0/0".to_string()
                } else {
                    format!("10.{}.0.0/16", self.rng.range(0, 3))
                };
                req.insert("groupId".into(), json!(sg));
                req.insert("ipPermissions".into(), json!({"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {}, "ipRanges": {"items": [{"cidrIp": cidr, "description": "added by automation"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}));
                resp = json!({"requestId": self.rng.uuid(), "_return": true, "securityGroupRuleSet": {"items": [{"groupOwnerId": ACCOUNT, "groupId": sg, "securityGroupRuleId": format!("sgr-0{}", self.rng.hex(16)), "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": cidr}]}});
            }
            ("ec2", "CreateTags" | "DeleteTags") => {
                let inst = self.rng.pick(&w.instances).clone();
                req.insert(
                    "resourcesSet".into(),
                    json!({"items": [{"resourceId": inst.id}, {"resourceId": inst.eni}]}),
                );
                req.insert("tagSet".into(), json!({"items": self.tags()}));
                resp = json!({"requestId": self.rng.uuid(), "_return": true});
            }
            ("ec2", _) if read => {
                let inst = self.rng.pick(&w.instances).clone();
                if self.rng.chance(0.5) {
                    req.insert(
                        "instancesSet".into(),
                        json!({"items": [{"instanceId": inst.id}]}),
                    );
                }
                req.insert("filterSet".into(), json!({"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": inst.vpc}]}}, {"name": "tag:environment", "valueSet": {"items": [{"value": "prod"}]}}]}));
                if plural {
                    req.insert("maxResults".into(), json!(1000));
                }
            }
            ("ec2", _) => {
                let inst = self.rng.pick(&w.instances).clone();
                req.insert("subnetId".into(), json!(inst.subnet));
                req.insert("description".into(), json!(format!("{op} by automation")));
                req.insert(
                    "groupSet".into(),
                    json!({"items": [{"groupId": self.rng.pick(&w.security_groups)}]}),
                );
                resp = json!({"requestId": self.rng.uuid(), "networkInterface": {"networkInterfaceId": format!("eni-0{}", self.rng.hex(16)), "subnetId": inst.subnet, "vpcId": inst.vpc, "privateIpAddress": inst.ip, "status": "pending", "tagSet": {}}});
            }
            ("s3", "ListBuckets") => {
                req.insert("Host".into(), json!("s3.amazonaws.com"));
            }
            ("s3", _) => {
                let bucket = self.bucket();
                req.insert("bucketName".into(), json!(bucket));
                req.insert(
                    "Host".into(),
                    json!(format!("{bucket}.s3.{region}.amazonaws.com")),
                );
                let data = ops::is_s3_data(service, op);
                if data {
                    let key = format!(
                        "{}/2024/05/01/{}.{}",
                        self.rng.pick(&[
                            "exports",
                            "reports",
                            "images",
                            "raw/events",
                            "backups/db"
                        ]),
                        self.rng.hex(16),
                        self.rng.pick(&["csv", "json.gz", "parquet", "png"])
                    );
                    req.insert("key".into(), json!(key));
                    if op == "PutObject" {
                        req.insert("x-amz-server-side-encryption".into(), json!("aws:kms"));
                        resp = json!({"x-amz-server-side-encryption": "aws:kms", "x-amz-version-id": self.rng.hex(32)});
                    }
                    resources = Some(
                        json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")}, {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
                    );
                } else {
                    let sub = op
                        .trim_start_matches("Get")
                        .trim_start_matches("Put")
                        .trim_start_matches("Delete")
                        .trim_start_matches("Bucket");
                    if !sub.is_empty() && op != "CreateBucket" && op != "HeadBucket" {
                        req.insert(sub.to_lowercase(), json!(""));
                    }
                    match op {
                        "PutBucketPolicy" => {
                            let open = self.rng.chance(0.2);
                            req.insert("bucketPolicy".into(), self.policy_document(open, &bucket));
                        }
                        "PutBucketAcl" => {
                            req.insert("AccessControlPolicy".into(), json!({"AccessControlList": {"Grant": [{"Grantee": {"xsi:type": "CanonicalUser", "ID": self.rng.hex(64)}, "Permission": "FULL_CONTROL"}, {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}]}, "Owner": {"ID": self.rng.hex(64)}}));
                        }
                        "PutBucketPublicAccessBlock" => {
                            let on = self.rng.chance(0.7);
                            req.insert("PublicAccessBlockConfiguration".into(), json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "BlockPublicAcls": on, "IgnorePublicAcls": on, "BlockPublicPolicy": on, "RestrictPublicBuckets": on}));
                        }
                        "PutBucketEncryption" => {
                            req.insert("ServerSideEncryptionConfiguration".into(), json!({"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": w.key_arn(0, region)}, "BucketKeyEnabled": true}}));
                        }
                        _ => {}
                    }
                    resources = Some(
                        json!([{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
                    );
                }
                extra = Some(
                    json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": format!("{}=", self.rng.upper(76)), "bytesTransferredOut": if data { self.rng.range(200, 9_000_000) } else { 0 }}),
                );
            }
            ("iam", _) => {
                let user = self.rng.pick(&w.users).clone();
                let role = w.roles[self.rng.below(w.roles.len())].clone();
                let policy = *self.rng.pick(&[
                    "arn:aws:iam::aws:policy/AdministratorAccess",
                    "arn:aws:iam::aws:policy/ReadOnlyAccess",
                    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
                    "arn:aws:iam::111122223333:policy/deploy-boundary",
                ]);
                if op.contains("User")
                    || op.contains("AccessKey")
                    || op.contains("LoginProfile")
                    || op.contains("MFA")
                {
                    req.insert("userName".into(), json!(user.name));
                } else if op.contains("Role") {
                    req.insert("roleName".into(), json!(role.name));
                }
                if op.starts_with("Attach")
                    || op == "GetPolicy"
                    || op == "GetPolicyVersion"
                    || op == "CreatePolicyVersion"
                {
                    req.insert("policyArn".into(), json!(policy));
                }
                if op.starts_with("Put") && op.ends_with("Policy")
                    || op == "CreateRole"
                    || op == "UpdateAssumeRolePolicy"
                    || op == "CreatePolicyVersion"
                {
                    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"], "Resource": "*"}]}).to_string();
                    let key = if op == "CreateRole" || op == "UpdateAssumeRolePolicy" {
                        "assumeRolePolicyDocument"
                    } else {
                        "policyDocument"
                    };
                    req.insert(key.into(), json!(doc));
                    if op.starts_with("Put") {
                        req.insert(
                            "policyName".into(),
                            json!(format!("inline-{}", self.rng.hex(6))),
                        );
                    }
                }
                if plural && read {
                    req.insert("maxItems".into(), json!(100));
                }
                match op {
                    "CreateAccessKey" => {
                        resp = json!({"accessKey": {"userName": user.name, "accessKeyId": format!("AKIA{}", self.rng.upper(16)), "status": "Active", "createDate": "May 1, 2024, 10:00:00 AM"}})
                    }
                    "CreateUser" => {
                        resp = json!({"user": {"path": "/", "userName": user.name, "userId": user.id, "arn": w.user_arn(&user), "createDate": "May 1, 2024, 10:00:00 AM"}})
                    }
                    "CreateRole" => {
                        req.insert("tags".into(), self.tags());
                        resp = json!({"role": {"path": "/", "roleName": role.name, "roleId": role.id, "arn": w.role_arn(&role), "createDate": "May 1, 2024, 10:00:00 AM", "tags": self.tags()}});
                    }
                    "UpdateAccountPasswordPolicy" => {
                        req.insert(
                            "minimumPasswordLength".into(),
                            json!(*self.rng.pick(&[8, 14, 16])),
                        );
                        req.insert("requireSymbols".into(), json!(self.rng.chance(0.7)));
                        req.insert("requireNumbers".into(), json!(true));
                        req.insert("maxPasswordAge".into(), json!(90));
                    }
                    _ => {}
                }
            }
            ("signin", "ConsoleLogin") => {
                resp = json!({"ConsoleLogin": if self.rng.chance(0.06) { "Failure" } else { "Success" }});
                extra = Some(
                    json!({"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true", "MobileVersion": "No", "MFAUsed": if self.rng.chance(0.85) { "Yes" } else { "No" }}),
                );
            }
            ("signin", _) => {
                extra = Some(
                    json!({"RedirectTo": "https://console.aws.amazon.com/console/home", "SwitchFrom": actor.arn.clone().unwrap_or_default()}),
                );
                resp = json!({op: "Success"});
            }
            ("sso", _) => {
                req.insert(
                    "accountId".into(),
                    json!(*self.rng.pick(&[ACCOUNT, ORG_ACCOUNTS[0], ORG_ACCOUNTS[1]])),
                );
                req.insert(
                    "roleName".into(),
                    json!(*self.rng.pick(&[
                        "AdministratorAccess",
                        "ReadOnlyAccess",
                        "PowerUserAccess"
                    ])),
                );
                extra = Some(
                    json!({"identityStoreId": "d-9067a1b2c3", "credentialId": self.rng.hex(40)}),
                );
            }
            ("cloudtrail", _) => {
                let trail = format!(
                    "arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{}",
                    self.rng
                        .pick(&["org-trail", "management-events", "data-events-s3"])
                );
                if plural || op == "LookupEvents" {
                    req.insert("maxResults".into(), json!(50));
                    if op == "LookupEvents" {
                        req.insert("lookupAttributes".into(), json!([{"attributeKey": "EventName", "attributeValue": "ConsoleLogin"}]));
                        req.insert("startTime".into(), json!("Apr 30, 2024, 12:00:00 AM"));
                    }
                } else {
                    req.insert("name".into(), json!(trail));
                }
                if op == "UpdateTrail" || op == "CreateTrail" {
                    req.insert("s3BucketName".into(), json!("acme-prod-cloudtrail"));
                    req.insert("isMultiRegionTrail".into(), json!(true));
                    req.insert("enableLogFileValidation".into(), json!(true));
                    resp = json!({"name": "org-trail", "s3BucketName": "acme-prod-cloudtrail", "includeGlobalServiceEvents": true, "isMultiRegionTrail": true, "trailARN": trail, "logFileValidationEnabled": true, "isOrganizationTrail": true});
                }
                resources = Some(
                    json!([{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail", "ARN": trail}]),
                );
            }
            _ => {
                let (key, value) = self.resource_key(svc, op, region);
                if let Some(key) = key {
                    req.insert(key.into(), value.clone());
                }
                if plural && read {
                    req.insert(
                        if svc == "dynamodb" {
                            "limit".into()
                        } else {
                            "maxResults".into()
                        },
                        json!(100),
                    );
                    if self.rng.chance(0.3) {
                        req.insert("nextToken".into(), json!(self.rng.upper(64)));
                    }
                }
                if !read {
                    req.insert("tags".into(), self.tags());
                    resp = json!({"requestId": self.rng.uuid(), "resource": value, "arn": format!("arn:aws:{svc}:{region}:{ACCOUNT}:{}/{}", op.to_lowercase(), self.rng.hex(12)), "status": "ACTIVE", "lastModified": time(T0 + 3600)});
                }
                if op == "GetSecretValue" {
                    resources = Some(
                        json!([{"accountId": ACCOUNT, "type": "AWS::SecretsManager::Secret", "ARN": value}]),
                    );
                }
                if op == "SendCommand" || op == "StartSession" {
                    let inst = self.rng.pick(&w.instances).id.clone();
                    req.insert("instanceIds".into(), json!([inst]));
                    req.insert(
                        "documentName".into(),
                        json!(if op == "SendCommand" {
                            "AWS-RunShellScript"
                        } else {
                            "SSM-SessionManagerRunShell"
                        }),
                    );
                    req.insert("parameters".into(), json!("HIDDEN_DUE_TO_SECURITY_REASONS"));
                }
            }
        }
        let req = if req.is_empty() {
            Value::Null
        } else {
            Value::Object(req)
        };
        (req, resp, resources, extra)
    }

    /// The main resource parameter of an operation of another service.
    fn resource_key(&mut self, svc: &str, op: &str, region: &str) -> (Option<&'static str>, Value) {
        let w = self.world;
        let r = &mut self.rng;
        let v = |s: String| json!(s);
        match svc {
            "kms" => (Some("keyId"), v(w.key_arn(r.below(w.keys.len()), region))),
            "lambda" => (Some("functionName"), v(r.pick(&w.functions).clone())),
            "dynamodb" => (Some("tableName"), v(r.pick(&w.tables).clone())),
            "secretsmanager" => (
                Some("secretId"),
                v(format!(
                    "arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{}-{}",
                    r.pick(&w.secrets),
                    r.upper(6)
                )),
            ),
            "ssm" if op == "GetParameters" => (
                Some("names"),
                json!([
                    r.pick(&w.parameters),
                    r.pick(&w.parameters),
                    r.pick(&w.parameters)
                ]),
            ),
            "ssm" if op == "UpdateInstanceInformation" => {
                (Some("instanceId"), v(r.pick(&w.instances).id.clone()))
            }
            "ssm" => (Some("name"), v(r.pick(&w.parameters).clone())),
            "logs" => (
                Some("logGroupName"),
                v(format!("/aws/lambda/{}", r.pick(&w.functions))),
            ),
            "cloudformation" => (
                Some("stackName"),
                v(format!(
                    "arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{}/{}",
                    r.pick(&w.stacks),
                    r.uuid()
                )),
            ),
            "rds" => (
                Some("dBInstanceIdentifier"),
                v(format!(
                    "{}-db-{}",
                    r.pick(&["orders", "users", "payments", "analytics"]),
                    r.range(1, 3)
                )),
            ),
            "ecr" => (Some("repositoryName"), v(r.pick(&w.repositories).clone())),
            "ecs" => (
                Some("cluster"),
                v(format!(
                    "arn:aws:ecs:{region}:{ACCOUNT}:cluster/{}",
                    r.pick(&w.clusters)
                )),
            ),
            "eks" => (Some("name"), v(r.pick(&w.clusters).clone())),
            "sqs" => (
                Some("queueUrl"),
                v(format!(
                    "https://sqs.{region}.amazonaws.com/{ACCOUNT}/{}-queue",
                    r.pick(&["orders", "emails", "dead-letter", "images"])
                )),
            ),
            "sns" => (
                Some("topicArn"),
                v(format!(
                    "arn:aws:sns:{region}:{ACCOUNT}:{}",
                    r.pick(&["alerts", "orders-events", "billing"])
                )),
            ),
            "glue" => (
                Some("databaseName"),
                v(format!("{}_db", r.pick(&["raw", "curated", "analytics"]))),
            ),
            "athena" => (Some("queryExecutionId"), v(r.uuid())),
            "states" => (
                Some("stateMachineArn"),
                v(format!(
                    "arn:aws:states:{region}:{ACCOUNT}:stateMachine:{}",
                    r.pick(&["order-fulfilment", "nightly-etl", "user-offboarding"])
                )),
            ),
            "route53" => (Some("hostedZoneId"), v(format!("Z0{}", r.upper(19)))),
            "guardduty" => (Some("detectorId"), v(r.hex(32))),
            "organizations" => (Some("accountId"), v(r.pick(&ORG_ACCOUNTS).to_string())),
            "events" => (
                Some("name"),
                v(format!("{}-schedule", r.pick(&w.functions))),
            ),
            "elasticloadbalancing" => (
                Some("targetGroupArn"),
                v(format!(
                    "arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:targetgroup/{}/{}",
                    r.pick(&["orders-tg", "web-tg", "api-tg"]),
                    r.hex(16)
                )),
            ),
            "autoscaling" => (
                Some("autoScalingGroupName"),
                v(format!("eks-{}-{}", r.pick(&w.clusters), r.uuid())),
            ),
            "cloudfront" => (Some("id"), v(format!("E{}", r.upper(13)))),
            "acm" => (
                Some("certificateArn"),
                v(format!(
                    "arn:aws:acm:{region}:{ACCOUNT}:certificate/{}",
                    r.uuid()
                )),
            ),
            "elasticfilesystem" => (Some("fileSystemId"), v(format!("fs-0{}", r.hex(16)))),
            "apigateway" => (Some("restApiId"), v(r.hex(10))),
            "securityhub" => (
                Some("filters"),
                json!({"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}], "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}]}),
            ),
            "config" => (
                Some("configRuleName"),
                v(format!(
                    "{}-check",
                    r.pick(&["s3-bucket-public-read", "iam-user-mfa", "encrypted-volumes"])
                )),
            ),
            "monitoring" => (
                Some("alarmNames"),
                json!([format!("{}-high-cpu", r.pick(&w.functions))]),
            ),
            "access-analyzer" => (
                Some("analyzerArn"),
                v(format!(
                    "arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/org-analyzer"
                )),
            ),
            "health" => (
                Some("filter"),
                json!({"eventStatusCodes": ["open", "upcoming"], "services": ["EC2", "RDS"]}),
            ),
            _ => (None, Value::Null),
        }
    }

    /// An error for this call, if it fails: `(errorCode, errorMessage)`.
    fn error(&mut self, service: &str, op: &str, actor: &Identity) -> Option<(String, String)> {
        let svc = short(service);
        let denied_rate = match actor.who {
            Who::Intruder => 0.35,
            Who::Service => 0.0,
            _ => 0.03,
        };
        if self.rng.chance(denied_rate) {
            let arn = actor
                .arn
                .clone()
                .unwrap_or_else(|| format!("arn:aws:iam::{ACCOUNT}:root"));
            let why = match self.rng.below(20) {
                0 => "with an explicit deny in a service control policy".to_string(),
                1 | 2 => "with an explicit deny in an identity-based policy".to_string(),
                _ => format!("because no identity-based policy allows the {svc}:{op} action"),
            };
            return Some(if svc == "ec2" {
                let encoded = self.rng.upper(280);
                ("Client.UnauthorizedOperation".into(), format!("You are not authorized to perform this operation. User: {arn} is not authorized to perform: ec2:{op} {why}. Encoded authorization failure message: {encoded}"))
            } else {
                (
                    "AccessDenied".into(),
                    format!(
                        "User: {arn} is not authorized to perform: {svc}:{op} on resource: * {why}"
                    ),
                )
            });
        }
        let specific = match op {
            "GetBucketPolicy" => Some((
                0.25,
                "NoSuchBucketPolicy",
                "The bucket policy does not exist",
            )),
            "GetBucketEncryption" => Some((
                0.10,
                "ServerSideEncryptionConfigurationNotFoundError",
                "The server side encryption configuration was not found",
            )),
            "GetBucketTagging" => Some((0.20, "NoSuchTagSet", "The TagSet does not exist")),
            "GetBucketPublicAccessBlock" => Some((
                0.05,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )),
            "GetRole" | "GetUser" | "GetRolePolicy" | "GetPolicy" => Some((
                0.03,
                "NoSuchEntityException",
                "The role with name legacy-role cannot be found.",
            )),
            "DescribeInstances" | "TerminateInstances" => Some((
                0.01,
                "Client.InvalidInstanceID.NotFound",
                "The instance ID 'i-0123456789abcdef0' does not exist",
            )),
            "GetSecretValue" | "DescribeTable" | "GetFunction" => Some((
                0.02,
                "ResourceNotFoundException",
                "Requested resource not found",
            )),
            _ => None,
        };
        if let Some((p, code, msg)) = specific {
            if self.rng.chance(p) {
                return Some((code.into(), msg.into()));
            }
        }
        if self.rng.chance(0.01) {
            return Some(("ThrottlingException".into(), "Rate exceeded".into()));
        }
        None
    }

    fn record(&mut self, i: u64) -> String {
        // From 01:00, so that sessions created before a record are on the same day.
        let t = T0 + 3600 + (i as f64 * self.seconds_per_record) as i64;
        let intruder = self.rng.chance(0.003);
        let (service, op) = if intruder {
            *self.rng.pick(&[
                ("iam.amazonaws.com", "ListUsers"),
                ("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
                ("iam.amazonaws.com", "ListRoles"),
                ("iam.amazonaws.com", "CreateAccessKey"),
                ("iam.amazonaws.com", "AttachUserPolicy"),
                ("sts.amazonaws.com", "GetCallerIdentity"),
                ("s3.amazonaws.com", "ListBuckets"),
                ("s3.amazonaws.com", "GetBucketAcl"),
                ("s3.amazonaws.com", "GetObject"),
                ("ec2.amazonaws.com", "DescribeInstances"),
                ("secretsmanager.amazonaws.com", "ListSecrets"),
                ("secretsmanager.amazonaws.com", "GetSecretValue"),
                ("cloudtrail.amazonaws.com", "DescribeTrails"),
                ("cloudtrail.amazonaws.com", "StopLogging"),
                ("guardduty.amazonaws.com", "ListDetectors"),
                ("guardduty.amazonaws.com", "DeleteDetector"),
            ])
        } else {
            let idx = if self.rng.chance(0.25) {
                self.service_ops[self.service_weights.pick(&mut self.rng)]
            } else {
                self.ops.pick(&mut self.rng)
            };
            (OPS[idx].0, OPS[idx].1)
        };
        let region = if service == "iam.amazonaws.com" || service == "signin.amazonaws.com" {
            "us-east-1"
        } else {
            REGIONS[self.regions.pick(&mut self.rng)].0
        };
        let actor = self.identity(service, op, t, intruder);
        let (source_ip, agent) = match actor.service {
            Some(svc) => (svc.to_string(), svc.to_string()),
            None => {
                let ip = if actor.console && self.rng.chance(0.2) {
                    "AWS Internal".to_string()
                } else {
                    self.ip(actor.who)
                };
                let agent = self.agent(actor.who, service, op, actor.console);
                (ip, agent)
            }
        };
        let error = self.error(service, op, &actor);
        let (req, mut resp, resources, extra) = self.params(service, op, region, &actor);
        if error.is_some() {
            resp = Value::Null;
        }
        let data = ops::is_s3_data(service, op);
        let console_login = service == "signin.amazonaws.com";

        let mut rec = Map::new();
        rec.insert(
            "eventVersion".into(),
            json!(if data { "1.10" } else { "1.09" }),
        );
        rec.insert("userIdentity".into(), actor.json.clone());
        rec.insert("eventTime".into(), json!(time(t)));
        rec.insert("eventSource".into(), json!(service));
        rec.insert("eventName".into(), json!(op));
        rec.insert("awsRegion".into(), json!(region));
        rec.insert("sourceIPAddress".into(), json!(source_ip));
        rec.insert("userAgent".into(), json!(agent));
        if let Some((code, message)) = &error {
            rec.insert("errorCode".into(), json!(code));
            rec.insert("errorMessage".into(), json!(message));
        }
        rec.insert("requestParameters".into(), req);
        rec.insert("responseElements".into(), resp);
        if let Some(extra) = extra {
            rec.insert("additionalEventData".into(), extra);
        }
        rec.insert(
            "requestID".into(),
            json!(if service == "s3.amazonaws.com" {
                self.rng.upper(16)
            } else {
                self.rng.uuid()
            }),
        );
        rec.insert("eventID".into(), json!(self.rng.uuid()));
        rec.insert("readOnly".into(), json!(ops::read_only(op)));
        if let Some(resources) = resources {
            rec.insert("resources".into(), resources);
        }
        rec.insert(
            "eventType".into(),
            json!(if console_login {
                "AwsConsoleSignIn"
            } else {
                "AwsApiCall"
            }),
        );
        rec.insert("managementEvent".into(), json!(!data));
        rec.insert("recipientAccountId".into(), json!(ACCOUNT));
        if actor.who == Who::Service {
            rec.insert("sharedEventID".into(), json!(self.rng.uuid()));
        }
        if actor.who == Who::Instance && self.rng.chance(0.3) {
            rec.insert(
                "vpcEndpointId".into(),
                json!(format!("vpce-0{}", self.rng.hex(16))),
            );
            rec.insert("vpcEndpointAccountId".into(), json!(ACCOUNT));
        }
        rec.insert(
            "eventCategory".into(),
            json!(if data { "Data" } else { "Management" }),
        );
        if actor.who != Who::Service {
            let bucket_host = rec
                .get("requestParameters")
                .and_then(|p| p.get("Host"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let host = if let Some(host) = bucket_host {
                host
            } else {
                format!("{}.{region}.amazonaws.com", short(service))
            };
            rec.insert("tlsDetails".into(), json!({"tlsVersion": if self.rng.chance(0.8) { "TLSv1.3" } else { "TLSv1.2" }, "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}));
        }
        if actor.console {
            rec.insert("sessionCredentialFromConsole".into(), json!("true"));
        }
        Value::Object(rec).to_string()
    }
}
