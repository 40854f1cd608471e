//! The simulated AWS estate behind the synthetic logs: an organization's accounts,
//! Regions, people and automation (IAM users, SSO, EC2 instance, Lambda, ECS, IRSA, CI
//! and cross-account roles), and the resources they touch (buckets, functions, tables,
//! secrets, keys, instances, networks).
//!
//! The CloudTrail, VPC flow and DNS generators draw from it, and so does the rule-pack
//! generator, which takes "live" values (present in the logs) from it so that a small
//! but real fraction of events match, and invents "dead" ones (other accounts, other
//! names) for the rest.

use super::rng::Rng;

/// The account the logs belong to.
pub const ACCOUNT: &str = "111122223333";
/// The organization's other accounts (cross-account roles, org trail).
pub const ORG_ACCOUNTS: [&str; 3] = ["444455556666", "777788889999", "123456789012"];
/// A third party's security scanner account that assumes an audit role.
pub const SCANNER_ACCOUNT: &str = "999988887777";
/// Regions and their share of events (per thousand).
pub const REGIONS: [(&str, u64); 5] = [
    ("us-east-1", 560),
    ("eu-west-1", 220),
    ("us-west-2", 130),
    ("eu-central-1", 60),
    ("ap-southeast-2", 30),
];

/// What kind of role a role is; decides session names, agents and addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    /// IAM Identity Center permission set: `AWSReservedSSO_<set>_<hex>`, session = email.
    Sso,
    /// EC2 instance profile role: session = instance id.
    Ec2,
    /// Lambda execution role: session = function name.
    Lambda,
    /// ECS task role: session = task id.
    Ecs,
    /// EKS pod identity (IRSA): `AssumeRoleWithWebIdentity`, session `botocore-session-…`.
    Irsa,
    /// CI/CD deploy role assumed through OIDC (GitHub Actions).
    Ci,
    /// A role assumed from another account (organization admin, scanner).
    CrossAccount,
}

/// An IAM user.
#[derive(Clone, Debug)]
pub struct User {
    /// `userName`.
    pub name: String,
    /// `AIDA…` principal id.
    pub id: String,
    /// Long-term `AKIA…` key.
    pub access_key: String,
    /// A person (console, CLI) rather than automation.
    pub human: bool,
}

/// An IAM role.
#[derive(Clone, Debug)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// `AROA…` role id.
    pub id: String,
    /// What assumes it.
    pub kind: RoleKind,
}

/// An EC2 instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `i-…` (17 hex digits).
    pub id: String,
    /// Private address in the VPC.
    pub ip: String,
    /// Index of its instance-profile role in [`World::roles`].
    pub role: usize,
    /// Its network interface.
    pub eni: String,
    /// Its subnet.
    pub subnet: String,
    /// Its VPC.
    pub vpc: String,
}

/// Everything the generators draw from.
#[derive(Clone, Debug)]
pub struct World {
    /// IAM users (people first, then automation).
    pub users: Vec<User>,
    /// People's e-mail names (SSO sessions).
    pub people: Vec<String>,
    /// IAM roles.
    pub roles: Vec<Role>,
    /// EC2 instances.
    pub instances: Vec<Instance>,
    /// S3 buckets.
    pub buckets: Vec<String>,
    /// Lambda functions.
    pub functions: Vec<String>,
    /// DynamoDB tables.
    pub tables: Vec<String>,
    /// Secrets Manager secrets.
    pub secrets: Vec<String>,
    /// SSM parameter names.
    pub parameters: Vec<String>,
    /// KMS key ids (UUIDs).
    pub keys: Vec<String>,
    /// CloudFormation stacks.
    pub stacks: Vec<String>,
    /// ECR repositories.
    pub repositories: Vec<String>,
    /// ECS / EKS clusters.
    pub clusters: Vec<String>,
    /// Security group ids.
    pub security_groups: Vec<String>,
    /// Public addresses of offices and VPNs (people's calls).
    pub office_ips: Vec<String>,
    /// Public addresses of NAT gateways (automation's calls).
    pub nat_ips: Vec<String>,
    /// Addresses of intruders and scanners (documentation ranges, a few real-looking).
    pub hostile_ips: Vec<String>,
}

fn names(prefixes: &[&str], suffixes: &[&str]) -> Vec<String> {
    prefixes
        .iter()
        .flat_map(|p| suffixes.iter().map(move |s| format!("{p}{s}")))
        .collect()
}

impl World {
    /// The estate, the same for the same seed.
    pub fn new(rng: &mut Rng) -> World {
        let people: Vec<String> = [
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
            "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
            "yusuf", "zoe", "amir", "bea", "chen", "dana", "emeka", "fatima", "goran", "hana",
            "igor",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        let mut users: Vec<User> = people[..18]
            .iter()
            .map(|p| User {
                name: p.clone(),
                id: format!("AIDA{}", rng.upper(17)),
                access_key: format!("AKIA{}", rng.upper(16)),
                human: true,
            })
            .collect();
        for name in [
            "ci-deploy",
            "terraform",
            "backup-agent",
            "datadog-integration",
            "legacy-etl",
            "jenkins",
            "s3-uploader",
            "grafana-cloudwatch",
            "splunk-forwarder",
            "break-glass",
        ] {
            users.push(User {
                name: name.to_string(),
                id: format!("AIDA{}", rng.upper(17)),
                access_key: format!("AKIA{}", rng.upper(16)),
                human: false,
            });
        }

        let mut roles = Vec::new();
        let mut role = |name: String, kind: RoleKind, rng: &mut Rng| {
            roles.push(Role {
                name,
                id: format!("AROA{}", rng.upper(17)),
                kind,
            });
        };
        for set in [
            "AdministratorAccess",
            "PowerUserAccess",
            "ReadOnlyAccess",
            "DataScientist",
            "SecurityAudit",
            "Billing",
        ] {
            let name = format!("AWSReservedSSO_{set}_{}", rng.hex(16));
            role(name, RoleKind::Sso, rng);
        }
        for name in [
            "web-app-role",
            "api-server-role",
            "etl-worker-role",
            "batch-compute-role",
            "bastion-role",
            "jenkins-agent-role",
            "eks-node-role",
            "kafka-broker-role",
        ] {
            role(name.to_string(), RoleKind::Ec2, rng);
        }
        let functions = names(
            &[
                "orders-",
                "payments-",
                "billing-",
                "users-",
                "reports-",
                "images-",
                "audit-",
            ],
            &[
                "api-handler",
                "stream-processor",
                "nightly-export",
                "webhook",
                "resizer",
                "cleanup",
            ],
        );
        for f in functions.iter().step_by(3) {
            role(format!("{f}-exec-role"), RoleKind::Lambda, rng);
        }
        for name in ["ecs-task-orders", "ecs-task-frontend", "ecs-task-worker"] {
            role(name.to_string(), RoleKind::Ecs, rng);
        }
        for name in [
            "eks-external-dns",
            "eks-cluster-autoscaler",
            "eks-aws-load-balancer-controller",
            "eks-ebs-csi-driver",
            "eks-app-orders",
        ] {
            role(name.to_string(), RoleKind::Irsa, rng);
        }
        for name in [
            "github-actions-deploy",
            "github-actions-plan",
            "gitlab-runner-deploy",
        ] {
            role(name.to_string(), RoleKind::Ci, rng);
        }
        for name in [
            "OrganizationAccountAccessRole",
            "security-audit-scanner",
            "central-backup-role",
        ] {
            role(name.to_string(), RoleKind::CrossAccount, rng);
        }

        let ec2_roles: Vec<usize> = roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == RoleKind::Ec2)
            .map(|(i, _)| i)
            .collect();
        let vpcs: Vec<String> = (0..4).map(|_| format!("vpc-0{}", rng.hex(16))).collect();
        let subnets: Vec<(String, usize)> = (0..16)
            .map(|i| (format!("subnet-0{}", rng.hex(16)), i % vpcs.len()))
            .collect();
        let instances = (0..240)
            .map(|i| {
                let (subnet, vpc) = &subnets[i % subnets.len()];
                Instance {
                    id: format!("i-0{}", rng.hex(16)),
                    ip: format!("10.{}.{}.{}", *vpc, rng.range(0, 63), rng.range(4, 250)),
                    role: ec2_roles[i % ec2_roles.len()],
                    eni: format!("eni-0{}", rng.hex(16)),
                    subnet: subnet.clone(),
                    vpc: vpcs[*vpc].clone(),
                }
            })
            .collect();

        let buckets = names(
            &[
                "acme-prod-",
                "acme-staging-",
                "acme-data-lake-",
                "acme-shared-",
            ],
            &[
                "logs",
                "assets",
                "backups",
                "exports",
                "terraform-state",
                "raw",
                "curated",
                "athena-results",
                "cloudtrail",
                "artifacts",
                "media",
                "reports",
                "configs",
                "ml-models",
            ],
        );
        let tables = names(
            &[
                "orders",
                "users",
                "sessions",
                "payments",
                "inventory",
                "audit-log",
            ],
            &["-prod", "-staging", "-dev", "-archive"],
        );
        let secrets = names(
            &["prod/", "staging/"],
            &[
                "db/orders-password",
                "db/users-password",
                "api/stripe-key",
                "api/sendgrid-key",
                "oauth/github-client-secret",
                "jwt-signing-key",
                "redis/auth-token",
                "datadog/api-key",
                "slack/webhook-url",
                "rds/master",
            ],
        );
        let parameters = names(
            &[
                "/app/prod/",
                "/app/staging/",
                "/platform/",
                "/aws/service/ami-amazon-linux-latest/",
            ],
            &[
                "db-host",
                "db-port",
                "feature-flags",
                "log-level",
                "cdn-domain",
                "queue-url",
                "al2023-ami-kernel-default-x86_64",
                "max-connections",
            ],
        );
        let keys = (0..24).map(|_| rng.uuid()).collect();
        let stacks = names(
            &["prod-", "staging-"],
            &[
                "network",
                "orders-service",
                "payments-service",
                "data-pipeline",
                "eks-cluster",
                "monitoring",
                "iam-baseline",
                "cdn",
            ],
        );
        let repositories = names(
            &["acme/"],
            &[
                "orders",
                "frontend",
                "worker",
                "payments",
                "base-images",
                "ml-inference",
            ],
        );
        let clusters = vec![
            "prod-cluster".to_string(),
            "staging-cluster".to_string(),
            "data-cluster".to_string(),
        ];
        let security_groups = (0..40).map(|_| format!("sg-0{}", rng.hex(16))).collect();
        let office_ips = (0..14)
            .map(|i| {
                format!(
                    "{}.{}.{}.{}",
                    [81, 62, 94, 145, 188, 212, 73][i % 7],
                    rng.range(1, 254),
                    rng.range(0, 255),
                    rng.range(1, 254)
                )
            })
            .collect();
        let nat_ips = (0..8)
            .map(|i| {
                format!(
                    "{}.{}.{}.{}",
                    [3, 18, 34, 52, 54][i % 5],
                    rng.range(0, 255),
                    rng.range(0, 255),
                    rng.range(1, 254)
                )
            })
            .collect();
        let hostile_ips = vec![
            "203.0.113.66".to_string(),
            "198.51.100.140".to_string(),
            "192.0.2.77".to_string(),
            "185.220.101.34".to_string(),
            "45.155.205.99".to_string(),
        ];
        World {
            users,
            people,
            roles,
            instances,
            buckets,
            functions,
            tables,
            secrets,
            parameters,
            keys,
            stacks,
            repositories,
            clusters,
            security_groups,
            office_ips,
            nat_ips,
            hostile_ips,
        }
    }

    /// Indices of the roles of one kind.
    pub fn roles_of(&self, kind: RoleKind) -> Vec<usize> {
        (0..self.roles.len())
            .filter(|&i| self.roles[i].kind == kind)
            .collect()
    }

    /// `arn:aws:iam::<account>:user/<name>`.
    pub fn user_arn(&self, user: &User) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", user.name)
    }

    /// `arn:aws:iam::<account>:role/<name>`.
    pub fn role_arn(&self, role: &Role) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/{}", role.name)
    }

    /// The KMS key ARN of key `i` in a Region.
    pub fn key_arn(&self, i: usize, region: &str) -> String {
        format!("arn:aws:kms:{region}:{ACCOUNT}:key/{}", self.keys[i])
    }
}
