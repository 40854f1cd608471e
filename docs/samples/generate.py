#!/usr/bin/env python3
"""Regenerates every sample log under docs/samples/: one day (2026-11-20, UTC) of an AWS
estate with a small attack story in it. See README.md beside this file for the story.

Deterministic (fixed seed, gzip without timestamps) and standard library only:

    python3 docs/samples/generate.py            # rewrites docs/samples/{cloudtrail,vpcflow,dns,eks}

Every record is written in the native shape of its log: CloudTrail `{"Records": [...]}`
files (.json.gz) plus one digest file, VPC flow logs in the default v2 format (no header,
as CloudWatch Logs exports them) and in a custom v5 format with a header (as delivered to
S3), Route 53 Resolver query logs (JSON lines), and EKS audit events (JSON lines, and one
CloudWatch Logs subscription payload).
"""
import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import uuid

SEED = 20261120
HERE = os.path.dirname(os.path.abspath(__file__))
DAY = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
ACCOUNT = "111122223333"
PARTNER_ACCOUNT = "444455556666"
ORG_ID = "o-a1b2c3d4e5"
CLUSTER = "prod-cluster"

rng = random.Random(SEED)


# --------------------------------------------------------------------------- helpers

def stable(prefix, name, length, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
    """A fixed-looking identifier derived from a name (independent of generation order)."""
    digest = hashlib.sha256(name.encode()).digest()
    chars = "".join(alphabet[b % len(alphabet)] for b in digest * 2)
    return prefix + chars[: length - len(prefix)]


def hexid(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def alnum(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def new_uuid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch(t):
    return int(t.timestamp())


def at(hh, mm=0, ss=0):
    return DAY + dt.timedelta(hours=hh, minutes=mm, seconds=ss)


def c2_beacons():
    """When the batch host's backdoor calls home: about every 20 minutes, 12:31 to 17:11."""
    return [at(12, 31, 2) + dt.timedelta(minutes=20 * i, seconds=(37 * i) % 50) for i in range(15)]


# Activity by hour of the day (UTC): the company works roughly 07:00-19:00 UTC.
OFFICE = [1, 1, 1, 1, 1, 1, 2, 5, 9, 10, 10, 10, 8, 10, 10, 10, 9, 8, 5, 3, 2, 1, 1, 1]
FLAT = [5] * 24


def rand_time(profile=FLAT, start=None, end=None):
    """A random second of the day drawn from an hourly profile (optionally clipped)."""
    while True:
        hour = rng.choices(range(24), weights=profile)[0]
        t = DAY + dt.timedelta(hours=hour, seconds=rng.randrange(3600))
        if (start is None or t >= start) and (end is None or t < end):
            return t


def gz_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as fh:
        fh.write(data)
    return buf.getvalue()


def write(path, data: bytes, compress=False):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as fh:
        fh.write(gz_bytes(data) if compress else data)


# --------------------------------------------------------------------------- identities

class User:
    """An IAM user with a long-term access key."""

    def __init__(self, name, account=ACCOUNT):
        self.name, self.account = name, account
        self.id = stable("AIDA", "user/" + name, 21)
        self.key = stable("AKIA", "key/" + name, 20)
        self.arn = "arn:aws:iam::%s:user/%s" % (account, name)

    def identity(self, console=False, mfa=False, created=None):
        ui = {"type": "IAMUser", "principalId": self.id, "arn": self.arn, "accountId": self.account,
              "accessKeyId": stable("ASIA", "console/" + self.name, 20) if console else self.key,
              "userName": self.name}
        if console:
            ui["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                    "attributes": {"creationDate": iso(created or DAY), "mfaAuthenticated": "true" if mfa else "false"}}
        return ui


class Role:
    """An IAM role; sessions of it are AssumedRole identities."""

    def __init__(self, name, path="/", account=ACCOUNT):
        self.name, self.account = name, account
        self.id = stable("AROA", "role/" + name, 21)
        self.arn = "arn:aws:iam::%s:role%s%s" % (account, path, name)

    def identity(self, session, mfa=False, created=None, invoked_by=None, ec2=False, key_seed=None):
        ui = {"type": "AssumedRole", "principalId": "%s:%s" % (self.id, session),
              "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (self.account, self.name, session),
              "accountId": self.account,
              "accessKeyId": stable("ASIA", "session/%s/%s/%s" % (self.name, session, key_seed or ""), 20),
              "sessionContext": {
                  "sessionIssuer": {"type": "Role", "principalId": self.id, "arn": self.arn,
                                    "accountId": self.account, "userName": self.name},
                  "webIdFederationData": {},
                  "attributes": {"creationDate": iso(created or DAY), "mfaAuthenticated": "true" if mfa else "false"}}}
        if ec2:
            ui["sessionContext"]["ec2RoleDelivery"] = "2.0"
        if invoked_by:
            ui["invokedBy"] = invoked_by
        return ui


def service_identity(service):
    return {"type": "AWSService", "invokedBy": service}


def root_identity(console=True, created=None):
    ui = {"type": "Root", "principalId": ACCOUNT, "arn": "arn:aws:iam::%s:root" % ACCOUNT, "accountId": ACCOUNT,
          "accessKeyId": stable("ASIA", "root-console", 20) if console else ""}
    if console:
        ui["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                "attributes": {"creationDate": iso(created or DAY), "mfaAuthenticated": "false"}}
    return ui


CI_DEPLOY = User("ci-deploy")
BOB = User("bob.martin")
BACKUP_USER = User("legacy-backup")
SSO_ADMIN = Role("AWSReservedSSO_AdministratorAccess_5e8f3c2a1b7d9e04", "/aws-reserved/sso.amazonaws.com/")
SSO_READONLY = Role("AWSReservedSSO_ReadOnlyAccess_0c4d7e1f2a9b3c58", "/aws-reserved/sso.amazonaws.com/")
SSO_DEV = Role("AWSReservedSSO_DeveloperAccess_9a2b4c6d8e0f1a3b", "/aws-reserved/sso.amazonaws.com/")
TERRAFORM = Role("terraform-apply")
WEB_ROLE = Role("web-app-role")
APP_ROLE = Role("orders-app-role")
BATCH_ROLE = Role("batch-worker-role")
NODE_ROLE = Role("eks-node-role")
LAMBDA_ROLE = Role("order-processor-role")
IRSA_ROLE = Role("shop-catalog-irsa")
CONFIG_ROLE = Role("AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/")
ASG_ROLE = Role("AWSServiceRoleForAutoScaling", "/aws-service-role/autoscaling.amazonaws.com/")
AUDIT_ROLE = Role("SecurityAuditRole")
PARTNER_ROLE = Role("partner-reader", account=PARTNER_ACCOUNT)

# Instances: (instance id, private ip, eni, subnet, name)
VPC_APP = "vpc-0a1b2c3d4e5f60718"
VPC_EKS = "vpc-0f1e2d3c4b5a69788"
SUB_WEB, SUB_APP, SUB_DB = "subnet-0b1c2d3e4f5a60711", "subnet-0c2d3e4f5a6b70722", "subnet-0d3e4f5a6b7c80733"
SUB_EKS_A, SUB_EKS_B = "subnet-0e4f5a6b7c8d90744", "subnet-0f5a6b7c8d9e00755"
WEB = [("i-0a1b2c3d4e5f60711", "10.0.1.21", "eni-0a11b22c33d44e551", SUB_WEB, "web-1"),
       ("i-0a1b2c3d4e5f60722", "10.0.1.37", "eni-0a11b22c33d44e552", SUB_WEB, "web-2")]
APP = [("i-0b2c3d4e5f6071833", "10.0.12.18", "eni-0b22c33d44e55f661", SUB_APP, "orders-1"),
       ("i-0b2c3d4e5f6071844", "10.0.12.26", "eni-0b22c33d44e55f662", SUB_APP, "orders-2"),
       ("i-0d4e5f60718293a4b", "10.0.12.34", "eni-0c1d2e3f4a5b6c7d8", SUB_APP, "batch-3")]
BATCH_HOST = APP[2]  # the instance the miner lands on
# Remote access into the VPC: a Linux bastion (SSH) and a Windows jump host (RDP), both
# in the public subnet with their ports open to the internet.
BASTION = ("i-0a1b2c3d4e5f60744", "10.0.1.10", "eni-0a11b22c33d44e553", SUB_WEB, "bastion-1")
JUMP_WIN = ("i-0a1b2c3d4e5f60755", "10.0.1.52", "eni-0a11b22c33d44e554", SUB_WEB, "jump-win-1")
DB_IP = "10.0.20.45"
CACHE_IP = "10.0.20.61"
NODES = [("i-0e5f60718293a4b5c", "10.1.34.201", "eni-0d33e44f55a66b771", SUB_EKS_A, "ip-10-1-34-201.ec2.internal"),
         ("i-0e5f60718293a4b6d", "10.1.35.117", "eni-0d33e44f55a66b772", SUB_EKS_B, "ip-10-1-35-117.ec2.internal"),
         ("i-0e5f60718293a4b7e", "10.1.34.90", "eni-0d33e44f55a66b773", SUB_EKS_A, "ip-10-1-34-90.ec2.internal")]
MINER_NODE = NODES[0]

# Internet addresses are documentation ranges (RFC 5737), but for the Tor relays below.
OFFICE_IPS = ["192.0.2.10", "192.0.2.11"]
CI_NAT_IP = "198.51.100.10"
PROWLER_IP = "192.0.2.90"  # the security account's scanner (docs/examples/trusted-list.txt)
ATTACKER_KALI = "203.0.113.66"
ATTACKER_PARROT = "198.51.100.140"
ATTACKER_PENTOO = "192.0.2.77"
ROOT_LOGIN_IP = "198.51.100.23"
SSH_GUESSER = "203.0.113.87"
RDP_GUESSER = "198.51.100.91"
POOL_IPS = {"xmr-eu1.nanopool.org": "198.51.100.77", "pool.supportxmr.com": "203.0.113.99",
            "gulf.moneroocean.stream": "203.0.113.150"}
EXFIL_DOMAIN = "t.cdnsync.example"  # the attacker's name server answers for it
C2_NAME, C2_IP = "api.cdnsync.example", "203.0.113.124"  # the batch host's backdoor calls home here
# Tor relays. The Tor rules match the built-in list rules/intel/tor-exit-nodes.txt, so
# these are real Tor exit relay addresses taken from it, the one exception to the
# documentation ranges.
TOR_EXIT_API = "185.220.101.32"  # the exit the stolen instance credentials are used through
TOR_DIRECTORY = "204.194.29.4"  # the node's relay fetches the consensus from its directory port
TOR_GUARDS = ["109.70.100.69", "192.42.116.202", "45.141.215.56"]  # relays the node's relay connects to
TOR_PEERS = ["185.220.101.53", "94.142.244.16", "23.129.64.141", "104.244.73.193", "2.58.56.220",
             "185.246.190.9"]  # relays that connect to the node's relay
FLOOD_TARGET = "203.0.113.171"  # a web shop on the internet
DGA_TLDS = ["com", "net", "org", "info", "biz"]  # where the backdoor's generated names live
INTERNET_CLIENTS = ["203.0.113.%d" % i for i in range(2, 60)] + ["198.51.100.%d" % i for i in range(30, 70)]

UA_CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
UA_SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
UA_FIREFOX_ATTACKER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def ua_cli_mac(command):
    return ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 "
            "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#" + command)


def ua_cli_ci(command):
    return ("aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 md/arch#x86_64 "
            "lang/python#3.11.9 md/pyimpl#CPython exe/x86_64.amzn.2 cfg/retry-mode#standard md/installer#exe "
            "md/distrib#amzn.2 md/prompt#off md/command#" + command)


def ua_kali(command):
    return ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.11.2-amd64 md/arch#x86_64 lang/python#3.12.7 "
            "md/pyimpl#CPython exe/x86_64.kali.2024 cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 "
            "md/prompt#off md/command#" + command)


def ua_parrot(command):
    return ("aws-cli/2.21.3 md/awscrt#0.22.0 ua/2.0 os/linux#6.5.0-13parrot1-amd64 md/arch#x86_64 lang/python#3.11.2 "
            "md/pyimpl#CPython exe/x86_64.parrot.6 cfg/retry-mode#standard md/installer#exe md/distrib#parrot.6 "
            "md/prompt#off md/command#" + command)


UA_PENTOO = ("aws-cli/1.36.5 md/Botocore#1.35.64 ua/2.0 os/linux#6.6.47-pentoo md/arch#x86_64 lang/python#3.12.7 "
             "md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.35.64")
UA_PENTOO_BOTO3 = ("Boto3/1.35.64 md/Botocore#1.35.64 ua/2.0 os/linux#6.6.47-pentoo md/arch#x86_64 lang/python#3.12.7 "
                   "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.64")
UA_TERRAFORM = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 "
                "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 ua/2.1 os/linux "
                "lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/%s")
UA_JAVA = ("aws-sdk-java/2.29.15 ua/2.1 os/Linux#6.1.115-126.197.amzn2023.x86_64 lang/java#21.0.5 "
           "md/OpenJDK_64-Bit_Server_VM#21.0.5+11-LTS md/vendor#Amazon.com_Inc. md/en_US m/F,G")
UA_SSM = "aws-sdk-go/1.55.5 (go1.22.8; linux; amd64) amazon-ssm-agent/3.3.1142.0"
UA_CNI = "aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.22.8 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.187.0 amazon-vpc-cni-k8s/v1.19.0"
UA_LAMBDA = ("Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 "
             "lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.36")
# Prowler adds its AWS Partner Network id to the user agent of its checks' calls (not to
# the AssumeRole that precedes them).
UA_PROWLER_STS = ("Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#6.1.112-124.190.amzn2023.x86_64 md/arch#x86_64 "
                  "lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54")
UA_PROWLER = UA_PROWLER_STS.replace("retry-mode#legacy", "retry-mode#standard") + " APN_1826889"
UA_TRUFFLEHOG = "TruffleHog"
UA_CLI_UBUNTU = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-49-generic md/arch#x86_64 lang/python#3.12.7 "
                 "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#")
UA_PARTNER = "aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.66.3"
UA_ECR_CRED = "aws-sdk-go-v2/1.30.3 ua/2.1 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ecr#1.32.0 ecr-credential-provider"


# --------------------------------------------------------------------------- CloudTrail

def ct_record(t, ui, source, name, region="us-east-1", ip=None, ua=None, req=None, resp=None, read_only=None,
              error=None, resources=None, event_type="AwsApiCall", data=False, extra=None, tls_host=None,
              recipient=ACCOUNT, vpce=None, console=False, request_id=None):
    """One CloudTrail record with the keys in the order CloudTrail writes them."""
    if ip is None:
        ip = ui.get("invokedBy") or "AWS Internal"
    if ua is None:
        ua = ui.get("invokedBy") or "AWS Internal"
    r = {"eventVersion": "1.11", "userIdentity": ui, "eventTime": iso(t), "eventSource": source,
         "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua}
    if error:
        r["errorCode"], r["errorMessage"] = error
    r["requestParameters"] = req
    r["responseElements"] = resp
    if extra:
        r["additionalEventData"] = extra
    if request_id is None:
        request_id = hexid(16).upper() if source == "s3.amazonaws.com" else new_uuid()
    if event_type == "AwsApiCall":
        r["requestID"] = request_id
    r["eventID"] = new_uuid()
    r["readOnly"] = bool(read_only) if read_only is not None else name.startswith(("Describe", "Get", "List", "Lookup", "Head"))
    if resources:
        r["resources"] = resources
    r["eventType"] = event_type
    r["managementEvent"] = not data
    r["recipientAccountId"] = recipient
    if vpce:
        r["vpcEndpointId"] = vpce
        r["vpcEndpointAccountId"] = recipient
    r["eventCategory"] = "Data" if data else "Management"
    if event_type == "AwsApiCall" and not ui.get("invokedBy"):
        host = tls_host or {"iam.amazonaws.com": "iam.amazonaws.com", "s3.amazonaws.com": "s3.amazonaws.com",
                            "sts.amazonaws.com": "sts.%s.amazonaws.com" % region}.get(
                                source, "%s.%s.amazonaws.com" % (source.split(".")[0], region))
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}
    if console:
        r["sessionCredentialFromConsole"] = "true"
    return r


def console_login(t, ui, ip, ua, success, mfa, failure="Failed authentication"):
    """A ConsoleLogin sign-in event (no requestID; a failure has an errorMessage, no errorCode)."""
    r = {"eventVersion": "1.11", "userIdentity": ui, "eventTime": iso(t), "eventSource": "signin.amazonaws.com",
         "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": ua}
    if not success:
        r["errorMessage"] = failure
    r["requestParameters"] = None
    r["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    r["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_" + hexid(16),
                                "MobileVersion": "No", "MFAUsed": "Yes" if mfa else "No"}
    r.update({"eventID": new_uuid(), "readOnly": False, "eventType": "AwsConsoleSignIn", "managementEvent": True,
              "recipientAccountId": ACCOUNT, "eventCategory": "Management",
              "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                             "clientProvidedHostHeader": "signin.aws.amazon.com"}})
    return r


S3_HOST = "%s.s3.%s.amazonaws.com"


def s3_data(t, ui, name, bucket, key=None, region="us-east-1", ip=None, ua=None, error=None, vpce=None,
            size=None, recipient=ACCOUNT, bucket_account=ACCOUNT, prefix=None):
    """One CloudTrail S3 data event (GetObject, PutObject, ListObjects, DeleteObject, HeadObject)."""
    req = {"bucketName": bucket, "Host": S3_HOST % (bucket, region)}
    resources = []
    if name == "ListObjects":
        req.update({"list-type": "2", "prefix": prefix or "", "encoding-type": "url", "max-keys": "1000"})
    else:
        req["key"] = key
        resources.append({"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::%s/%s" % (bucket, key)})
    resources.append({"accountId": bucket_account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + bucket})
    size = size if size is not None else rng.randint(800, 900000)
    extra = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
             "bytesTransferredIn": size if name == "PutObject" else 0, "AuthenticationMethod": "AuthHeader",
             "x-amz-id-2": alnum(56) + "=",
             "bytesTransferredOut": size if name in ("GetObject",) and not error else (rng.randint(300, 9000) if name == "ListObjects" and not error else 0)}
    resp = None
    if name == "PutObject" and not error:
        resp = {"x-amz-server-side-encryption": "AES256", "x-amz-version-id": alnum(32)}
    return ct_record(t, ui, "s3.amazonaws.com", name, region=region, ip=ip, ua=ua, req=req, resp=resp,
                     read_only=name in ("GetObject", "ListObjects", "HeadObject"), error=error, resources=resources,
                     data=True, extra=extra, tls_host=S3_HOST % (bucket, region), recipient=recipient, vpce=vpce)


def access_denied(ui, action, resource="*", scp=False):
    why = ("with an explicit deny in a service control policy" if scp else
           "because no identity-based policy allows the %s action" % action)
    return ("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s %s" % (ui["arn"], action, resource, why))


BUCKETS = ["acme-app-assets", "acme-user-uploads", "acme-data-lake-raw", "acme-data-lake-curated",
           "acme-build-artifacts", "acme-customer-exports", "acme-logs-archive", "acme-partner-share",
           "acme-terraform-state"]
ROLES = ["web-app-role", "orders-app-role", "batch-worker-role", "eks-node-role", "order-processor-role",
         "terraform-apply", "SecurityAuditRole", "shop-catalog-irsa", "eks-cluster-role"]
TABLES = ["orders", "carts", "catalog-items", "sessions"]
KEY_ID = "arn:aws:kms:us-east-1:%s:key/4f1c2b7a-8d3e-4a5b-9c6d-0e1f2a3b4c5d" % ACCOUNT
TRAIL_ORG = "arn:aws:cloudtrail:us-east-1:%s:trail/org-trail" % ACCOUNT
TRAIL_ACCOUNT = "arn:aws:cloudtrail:us-east-1:%s:trail/account-trail" % ACCOUNT
DETECTOR = "3ec9a1f2b4d6e8a0c2e4f6a8b0d2e4f6"


def read_call(service, region="us-east-1"):
    """A plausible read-only API call: (eventSource, eventName, requestParameters)."""
    b = rng.choice(BUCKETS)
    choices = [
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeNetworkInterfaces", {"networkInterfaceIdSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeSubnets", {"subnetSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeRouteTables", {"routeTableIdSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "DescribeFlowLogs", {"DescribeFlowLogsRequest": ""}),
        ("ec2.amazonaws.com", "DescribeImages", {"executableBySet": {}, "imagesSet": {}, "ownersSet": {"items": [{"owner": "self"}]}}),
        ("iam.amazonaws.com", "ListRoles", None),
        ("iam.amazonaws.com", "GetRole", {"roleName": rng.choice(ROLES)}),
        ("iam.amazonaws.com", "ListAttachedRolePolicies", {"roleName": rng.choice(ROLES)}),
        ("iam.amazonaws.com", "ListRolePolicies", {"roleName": rng.choice(ROLES)}),
        ("iam.amazonaws.com", "GetPolicyVersion", {"policyArn": "arn:aws:iam::%s:policy/app-s3-access" % ACCOUNT, "versionId": "v3"}),
        ("iam.amazonaws.com", "ListPolicies", {"scope": "Local", "onlyAttached": False}),
        ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}),
        ("s3.amazonaws.com", "GetBucketAcl", {"bucketName": b, "Host": S3_HOST % (b, region), "acl": ""}),
        ("s3.amazonaws.com", "GetBucketPolicy", {"bucketName": b, "Host": S3_HOST % (b, region), "policy": ""}),
        ("s3.amazonaws.com", "GetBucketLocation", {"bucketName": b, "Host": S3_HOST % (b, region), "location": ""}),
        ("s3.amazonaws.com", "GetBucketVersioning", {"bucketName": b, "Host": S3_HOST % (b, region), "versioning": ""}),
        ("s3.amazonaws.com", "GetBucketEncryption", {"bucketName": b, "Host": S3_HOST % (b, region), "encryption": ""}),
        ("s3.amazonaws.com", "GetBucketPublicAccessBlock", {"bucketName": b, "Host": S3_HOST % (b, region), "publicAccessBlock": ""}),
        ("s3.amazonaws.com", "GetBucketLogging", {"bucketName": b, "Host": S3_HOST % (b, region), "logging": ""}),
        ("s3.amazonaws.com", "GetBucketTagging", {"bucketName": b, "Host": S3_HOST % (b, region), "tagging": ""}),
        ("cloudtrail.amazonaws.com", "DescribeTrails", {"trailNameList": [], "includeShadowTrails": True}),
        ("cloudtrail.amazonaws.com", "GetTrailStatus", {"name": TRAIL_ORG}),
        ("cloudtrail.amazonaws.com", "GetEventSelectors", {"trailName": TRAIL_ORG}),
        ("cloudtrail.amazonaws.com", "LookupEvents", {"maxResults": 50, "lookupAttributes": [{"attributeKey": "ReadOnly", "attributeValue": "false"}]}),
        ("guardduty.amazonaws.com", "ListDetectors", None),
        ("guardduty.amazonaws.com", "GetDetector", {"detectorId": DETECTOR}),
        ("guardduty.amazonaws.com", "ListFindings", {"detectorId": DETECTOR, "maxResults": 50}),
        ("kms.amazonaws.com", "ListAliases", None),
        ("kms.amazonaws.com", "DescribeKey", {"keyId": KEY_ID}),
        ("lambda.amazonaws.com", "ListFunctions20150331", {"functionVersion": "ALL"}),
        ("lambda.amazonaws.com", "GetFunction20150331v2", {"functionName": "order-processor"}),
        ("dynamodb.amazonaws.com", "DescribeTable", {"tableName": rng.choice(TABLES)}),
        ("dynamodb.amazonaws.com", "ListTables", None),
        ("rds.amazonaws.com", "DescribeDBInstances", {"maxRecords": 100}),
        ("rds.amazonaws.com", "DescribeDBClusters", {"includeShared": False}),
        ("eks.amazonaws.com", "ListClusters", None),
        ("eks.amazonaws.com", "DescribeCluster", {"name": CLUSTER}),
        ("logs.amazonaws.com", "DescribeLogGroups", {"limit": 50}),
        ("cloudformation.amazonaws.com", "DescribeStacks", None),
        ("cloudformation.amazonaws.com", "ListStacks", {"stackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE"]}),
        ("ssm.amazonaws.com", "DescribeInstanceInformation", {"maxResults": 50}),
        ("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", None),
        ("elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", {"targetGroupArn": "arn:aws:elasticloadbalancing:%s:%s:targetgroup/web-tg/6d0ecf831eec9f09" % (region, ACCOUNT)}),
        ("autoscaling.amazonaws.com", "DescribeAutoScalingGroups", None),
        ("ecr.amazonaws.com", "DescribeRepositories", None),
        ("route53.amazonaws.com", "ListHostedZones", None),
        ("secretsmanager.amazonaws.com", "ListSecrets", None),
        ("config.amazonaws.com", "DescribeConfigurationRecorderStatus", None),
        ("sns.amazonaws.com", "ListTopics", None),
        ("sqs.amazonaws.com", "ListQueues", None),
    ]
    if service:
        choices = [c for c in choices if c[0].startswith(service)]
    if region != "us-east-1":
        choices = [c for c in choices if c[0] not in ("iam.amazonaws.com", "route53.amazonaws.com")]
    return rng.choice(choices)


def events_benign_us():
    out = []
    R = "us-east-1"

    # AWS Config recording: read-heavy, invoked by config.amazonaws.com.
    for _ in range(430):
        t = rand_time()
        src, name, req = read_call(None)
        ui = CONFIG_ROLE.identity("AWSConfig-Describe", invoked_by="config.amazonaws.com", created=t - dt.timedelta(minutes=20))
        out.append(ct_record(t, ui, src, name, region=R, ip="config.amazonaws.com", ua="config.amazonaws.com", req=req))

    # Security tooling from the security account: a Prowler scan at 06:00 assuming SecurityAuditRole.
    # Prowler's partner id in its user agent makes recon.offensive-tool-user-agent report
    # it: the one finding outside the intrusion, which the trusted list in docs/examples
    # archives.
    scan_start = at(6, 0)
    out.append(ct_record(scan_start, {"type": "AWSAccount", "principalId": "AROA4SECURITYTOOLING:prowler",
                                      "accountId": PARTNER_ACCOUNT}, "sts.amazonaws.com", "AssumeRole", region=R,
                         ip=PROWLER_IP, ua=UA_PROWLER_STS,
                         req={"roleArn": AUDIT_ROLE.arn, "roleSessionName": "ProwlerAssessmentSession", "durationSeconds": 3600},
                         resp={"credentials": {"accessKeyId": stable("ASIA", "session/SecurityAuditRole/ProwlerAssessmentSession/", 20),
                                               "sessionToken": "<redacted>", "expiration": "Nov 20, 2026, 7:00:00 AM"},
                               "assumedRoleUser": {"assumedRoleId": AUDIT_ROLE.id + ":ProwlerAssessmentSession",
                                                   "arn": "arn:aws:sts::%s:assumed-role/SecurityAuditRole/ProwlerAssessmentSession" % ACCOUNT}},
                         resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": AUDIT_ROLE.arn}]))
    for i in range(280):
        t = scan_start + dt.timedelta(seconds=5 + i * 9 + rng.randrange(8))
        src, name, req = read_call(None)
        ui = AUDIT_ROLE.identity("ProwlerAssessmentSession", created=scan_start)
        err = None
        if name in ("GetBucketPolicy",) and rng.random() < 0.5:
            err = ("NoSuchBucketPolicy", "The bucket policy does not exist")
        out.append(ct_record(t, ui, src, name, region=R, ip=PROWLER_IP, ua=UA_PROWLER, req=req, error=err))

    # SSM agent on every instance: UpdateInstanceInformation every ~5 minutes (sampled).
    for inst in WEB + APP:
        role = WEB_ROLE if inst in WEB else (BATCH_ROLE if inst is BATCH_HOST else APP_ROLE)
        for _ in range(48):
            t = rand_time()
            ui = role.identity(inst[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
            out.append(ct_record(t, ui, "ssm.amazonaws.com", "UpdateInstanceInformation", region=R, ip=inst[1], ua=UA_SSM,
                                 req={"instanceId": inst[0], "agentVersion": "3.3.1142.0", "agentStatus": "Active",
                                      "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                                      "iPAddress": inst[1], "computerName": "ip-%s.ec2.internal" % inst[1].replace(".", "-"),
                                      "agentName": "amazon-ssm-agent", "availabilityZone": "us-east-1a",
                                      "availabilityZoneId": "use1-az1"}, read_only=False))

    # Application roles: KMS, Secrets Manager, SSM parameters, STS.
    for _ in range(260):
        t = rand_time(OFFICE)
        inst = rng.choice(APP[:2])
        ui = APP_ROLE.identity(inst[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
        kind = rng.random()
        if kind < 0.45:
            out.append(ct_record(t, ui, "kms.amazonaws.com", "Decrypt", region=R, ip=inst[1], ua=UA_JAVA,
                                 req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, read_only=True,
                                 resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ID}]))
        elif kind < 0.7:
            out.append(ct_record(t, ui, "secretsmanager.amazonaws.com", "GetSecretValue", region=R, ip=inst[1], ua=UA_JAVA,
                                 req={"secretId": "arn:aws:secretsmanager:us-east-1:%s:secret:prod/orders/db-AbCdEf" % ACCOUNT}))
        elif kind < 0.9:
            out.append(ct_record(t, ui, "ssm.amazonaws.com", "GetParameter", region=R, ip=inst[1], ua=UA_JAVA,
                                 req={"name": rng.choice(["/prod/orders/db-host", "/prod/orders/feature-flags", "/prod/orders/queue-url"]),
                                      "withDecryption": False}))
        else:
            out.append(ct_record(t, ui, "sts.amazonaws.com", "GetCallerIdentity", region=R, ip=inst[1], ua=UA_JAVA,
))

    # EKS nodes: VPC CNI (ec2 reads and ENI writes), ECR pulls.
    for _ in range(230):
        t = rand_time()
        node = rng.choice(NODES)
        ui = NODE_ROLE.identity(node[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
        kind = rng.random()
        if kind < 0.5:
            out.append(ct_record(t, ui, "ec2.amazonaws.com", "DescribeNetworkInterfaces", region=R, ip=node[1], ua=UA_CNI,
                                 req={"networkInterfaceIdSet": {}, "filterSet": {"items": [{"name": "attachment.instance-id", "valueSet": {"items": [{"value": node[0]}]}}]}}))
        elif kind < 0.65:
            out.append(ct_record(t, ui, "ec2.amazonaws.com", "AssignPrivateIpAddresses", region=R, ip=node[1], ua=UA_CNI,
                                 req={"networkInterfaceId": node[2], "secondaryPrivateIpAddressCount": 1},
                                 resp={"requestId": new_uuid(), "_return": True, "assignedPrivateIpAddressesSet": {"item": [{"privateIpAddress": "10.1.%d.%d" % (rng.randint(34, 35), rng.randint(10, 250))}]}},
                                 read_only=False))
        elif kind < 0.75:
            out.append(ct_record(t, ui, "ec2.amazonaws.com", "DescribeInstances", region=R, ip=node[1], ua=UA_CNI,
                                 req={"instancesSet": {"items": [{"instanceId": node[0]}]}, "filterSet": {}}))
        else:
            out.append(ct_record(t, ui, "ecr.amazonaws.com", "GetAuthorizationToken", region=R, ip=node[1], ua=UA_ECR_CRED,
                                 req={"registryIds": [ACCOUNT]}, resp=None, read_only=True))

    # Pods using IRSA: AssumeRoleWithWebIdentity.
    for _ in range(40):
        t = rand_time()
        sess = "botocore-session-%d" % rng.randint(1763500000, 1763599999)
        out.append(ct_record(t, {"type": "WebIdentityUser", "principalId": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9:sts.amazonaws.com:system:serviceaccount:shop:catalog" % ACCOUNT,
                                  "userName": "system:serviceaccount:shop:catalog",
                                  "identityProvider": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9" % ACCOUNT},
                             "sts.amazonaws.com", "AssumeRoleWithWebIdentity", region=R, ip="10.1.%d.%d" % (rng.randint(34, 35), rng.randint(10, 250)),
                             ua=UA_LAMBDA.replace("exec-env/AWS_Lambda_python3.12 ", ""),
                             req={"roleArn": IRSA_ROLE.arn, "roleSessionName": sess},
                             resp={"subjectFromWebIdentityToken": "system:serviceaccount:shop:catalog",
                                   "assumedRoleUser": {"assumedRoleId": IRSA_ROLE.id + ":" + sess, "arn": "arn:aws:sts::%s:assumed-role/shop-catalog-irsa/%s" % (ACCOUNT, sess)},
                                   "provider": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9" % ACCOUNT,
                                   "audience": "sts.amazonaws.com"},
                             read_only=True))

    # Lambda: the service assumes the function role; the function writes logs and decrypts.
    for _ in range(120):
        t = rand_time(OFFICE)
        out.append(ct_record(t, service_identity("lambda.amazonaws.com"), "sts.amazonaws.com", "AssumeRole", region=R,
                             req={"roleArn": LAMBDA_ROLE.arn, "roleSessionName": "order-processor"},
                             resp={"credentials": {"accessKeyId": stable("ASIA", "lambda/%d" % rng.randrange(10**6), 20), "sessionToken": "<redacted>",
                                                   "expiration": "Nov 20, 2026, 11:59:59 PM"}},
                             resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": LAMBDA_ROLE.arn}],
                             read_only=True, ip="lambda.amazonaws.com", ua="lambda.amazonaws.com"))
        ui = LAMBDA_ROLE.identity("order-processor", created=t)
        t2 = t + dt.timedelta(seconds=rng.randint(1, 20))
        if rng.random() < 0.5:
            out.append(ct_record(t2, ui, "logs.amazonaws.com", "CreateLogStream", region=R, ip="198.51.100.%d" % rng.randint(200, 250),
                                 ua=UA_LAMBDA, req={"logGroupName": "/aws/lambda/order-processor", "logStreamName": "2026/11/20/[$LATEST]%s" % hexid(32)},
                                 read_only=False))
        else:
            out.append(ct_record(t2, ui, "kms.amazonaws.com", "Decrypt", region=R, ip="198.51.100.%d" % rng.randint(200, 250), ua=UA_LAMBDA,
                                 req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"LambdaFunctionName": "order-processor"}},
                                 read_only=True, resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ID}]))

    # AWS services on their own: CloudTrail and S3 using KMS, autoscaling, ELB health.
    for _ in range(220):
        t = rand_time()
        svc = rng.choice(["cloudtrail.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com", "rds.amazonaws.com"])
        name = rng.choice(["GenerateDataKey", "Decrypt"])
        out.append(ct_record(t, service_identity(svc), "kms.amazonaws.com", name, region=R,
                             req={"keySpec": "AES_256", "encryptionContext": {"aws:cloudtrail:arn": TRAIL_ORG}} if svc.startswith("cloudtrail") else {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                             read_only=True, resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ID}]))
    for _ in range(50):
        t = rand_time()
        ui = ASG_ROLE.identity("AutoScaling", invoked_by="autoscaling.amazonaws.com", created=t)
        src, name, req = read_call("elasticloadbalancing")
        out.append(ct_record(t, ui, src, name, region=R, ip="autoscaling.amazonaws.com", ua="autoscaling.amazonaws.com", req=req))

    # People. Alice (cloud admin, IAM Identity Center) works in the console.
    alice = "alice.nguyen@example.com"
    carol = "carol.diaz@example.com"
    for person, role, ua, n, ip in ((alice, SSO_ADMIN, UA_CHROME, 280, OFFICE_IPS[0]),
                                    (carol, SSO_DEV, UA_SAFARI, 150, OFFICE_IPS[1]),
                                    ("dave.okafor@example.com", SSO_READONLY, UA_CHROME, 100, OFFICE_IPS[0])):
        for _ in range(n):
            t = rand_time(OFFICE, start=at(7, 30), end=at(18, 30))
            src, name, req = read_call(None)
            ui = role.identity(person, created=t - dt.timedelta(minutes=rng.randrange(1, 240)))
            err = None
            if role is SSO_DEV and src in ("iam.amazonaws.com", "guardduty.amazonaws.com", "cloudtrail.amazonaws.com") and rng.random() < 0.7:
                err = access_denied(ui, src.split(".")[0] + ":" + name)
            if role is SSO_READONLY and src == "secretsmanager.amazonaws.com":
                err = access_denied(ui, "secretsmanager:ListSecrets")
            out.append(ct_record(t, ui, src, name, region=R, ip=ip, ua=ua, req=req, error=err, console=True))

    # Bob (platform engineer, IAM user with MFA) signs in and uses the CLI.
    t_login = at(8, 12, 40)
    bob_signin = {"type": "IAMUser", "principalId": BOB.id, "arn": BOB.arn, "accountId": ACCOUNT, "userName": "bob.martin"}
    out.append(console_login(t_login - dt.timedelta(minutes=2), bob_signin, OFFICE_IPS[1], UA_CHROME, success=False, mfa=False))
    out.append(console_login(t_login, bob_signin, OFFICE_IPS[1], UA_CHROME, success=True, mfa=True))
    # After lunch his session has expired: three mistyped passwords, then the right one.
    t_relogin = at(13, 52, 18)
    for back in (81, 54, 23):
        out.append(console_login(t_relogin - dt.timedelta(seconds=back), bob_signin, OFFICE_IPS[1], UA_CHROME, success=False, mfa=False))
    out.append(console_login(t_relogin, bob_signin, OFFICE_IPS[1], UA_CHROME, success=True, mfa=True))
    for _ in range(150):
        t = rand_time(OFFICE, start=at(8, 15), end=at(17, 45))
        src, name, req = read_call(None)
        cli = rng.random() < 0.6
        out.append(ct_record(t, BOB.identity(console=not cli, mfa=True, created=t_login), src, name, region=R, ip=OFFICE_IPS[1],
                             ua=ua_cli_mac(src.split(".")[0] + "." + name.lower()) if cli else UA_CHROME, req=req, console=not cli))

    # An old backup job still using an IAM user key; it lost S3 permissions last week.
    for i in range(24):
        t = at(i, 17, rng.randrange(60))
        out.append(ct_record(t, BACKUP_USER.identity(), "s3.amazonaws.com", "ListBuckets", region=R, ip="192.0.2.50",
                             ua="rclone/v1.68.2", req={"Host": "s3.amazonaws.com"},
                             error=access_denied(BACKUP_USER.identity(), "s3:ListAllMyBuckets", "*")))

    # The orders service's payout job lost read access to one secret: it retries the same
    # refused call every half minute until it gives up.
    inst = APP[1]
    secret = "arn:aws:secretsmanager:us-east-1:%s:secret:prod/orders/payouts-api-key-Xy12Zq" % ACCOUNT
    t = at(16, 5, 12)
    for _ in range(10):
        ui = APP_ROLE.identity(inst[0], ec2=True, created=at(15, 41, 3))
        out.append(ct_record(t, ui, "secretsmanager.amazonaws.com", "GetSecretValue", region=R, ip=inst[1], ua=UA_JAVA,
                             req={"secretId": secret}, error=access_denied(ui, "secretsmanager:GetSecretValue", secret)))
        t += dt.timedelta(seconds=rng.randint(28, 33))

    # CI: the ci-deploy user from the Jenkins NAT address, and Terraform runs through terraform-apply.
    for _ in range(110):
        t = rand_time(OFFICE)
        kind = rng.random()
        ui = CI_DEPLOY.identity()
        if kind < 0.4:
            out.append(ct_record(t, ui, "ecr.amazonaws.com", "GetAuthorizationToken", region=R, ip=CI_NAT_IP,
                                 ua=ua_cli_ci("ecr.get-login-password"), req=None, read_only=True))
        elif kind < 0.6:
            out.append(ct_record(t, ui, "ecr.amazonaws.com", "DescribeImages", region=R, ip=CI_NAT_IP,
                                 ua=ua_cli_ci("ecr.describe-images"), req={"repositoryName": "shop/catalog", "imageIds": [{"imageTag": "build-%d" % rng.randint(4100, 4200)}]}))
        elif kind < 0.8:
            out.append(ct_record(t, ui, "sts.amazonaws.com", "AssumeRole", region=R, ip=CI_NAT_IP, ua=UA_TERRAFORM % "sts#1.32.4",
                                 req={"roleArn": TERRAFORM.arn, "roleSessionName": "jenkins-%d" % rng.randint(4100, 4200)},
                                 resp={"credentials": {"accessKeyId": stable("ASIA", "tf/%d" % rng.randrange(10**6), 20), "sessionToken": "<redacted>",
                                                       "expiration": "Nov 20, 2026, 11:00:00 PM"}},
                                 resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": TERRAFORM.arn}], read_only=True))
        else:
            out.append(ct_record(t, ui, "eks.amazonaws.com", "DescribeCluster", region=R, ip=CI_NAT_IP,
                                 ua=ua_cli_ci("eks.update-kubeconfig"), req={"name": CLUSTER}))
    for _ in range(90):
        t = rand_time(OFFICE)
        src, name, req = read_call(rng.choice(["s3", "iam", "ec2", "dynamodb", "cloudtrail", "guardduty"]))
        ui = TERRAFORM.identity("jenkins-%d" % rng.randint(4100, 4200), created=t)
        out.append(ct_record(t, ui, src, name, region=R, ip=CI_NAT_IP, ua=UA_TERRAFORM % (src.split(".")[0] + "#1.66.3"), req=req))

    out.extend(benign_config_changes())
    out.extend(s3_data_benign())
    return out


def benign_config_changes():
    """Configuration writes that look like the attack's but are harmless (the rules' near misses)."""
    out = []
    R = "us-east-1"
    tf = lambda t: TERRAFORM.identity("jenkins-4187", created=t - dt.timedelta(minutes=3))
    t = at(14, 2, 11)
    # Terraform creates a bucket with Block Public Access fully on.
    out.append(ct_record(t, tf(t), "s3.amazonaws.com", "CreateBucket", region=R, ip=CI_NAT_IP, ua=UA_TERRAFORM % "s3#1.66.3",
                         req={"bucketName": "acme-ml-features", "Host": "acme-ml-features.s3.amazonaws.com", "x-amz-acl": "private"},
                         read_only=False))
    out.append(ct_record(t + dt.timedelta(seconds=2), tf(t), "s3.amazonaws.com", "PutBucketPublicAccessBlock", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "s3#1.66.3",
                         req={"publicAccessBlock": "", "bucketName": "acme-ml-features", "Host": "acme-ml-features.s3.amazonaws.com",
                              "PublicAccessBlockConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": True,
                                                                 "BlockPublicPolicy": True, "BlockPublicAcls": True, "IgnorePublicAcls": True}}))
    # A bucket policy that denies plain HTTP to everyone and allows one role: not public.
    out.append(ct_record(t + dt.timedelta(seconds=3), tf(t), "s3.amazonaws.com", "PutBucketPolicy", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "s3#1.66.3",
                         req={"bucketPolicy": {"Version": "2012-10-17", "Statement": [
                             {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                              "Resource": ["arn:aws:s3:::acme-ml-features", "arn:aws:s3:::acme-ml-features/*"],
                              "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                             {"Sid": "AllowBatchRead", "Effect": "Allow", "Principal": {"AWS": BATCH_ROLE.arn},
                              "Action": ["s3:GetObject", "s3:ListBucket"],
                              "Resource": ["arn:aws:s3:::acme-ml-features", "arn:aws:s3:::acme-ml-features/*"]}]},
                              "bucketName": "acme-ml-features", "Host": "acme-ml-features.s3.amazonaws.com", "policy": ""}))
    # Server access logging on, into the log bucket; the log bucket's ACL grants S3 log delivery.
    out.append(ct_record(t + dt.timedelta(seconds=4), tf(t), "s3.amazonaws.com", "PutBucketLogging", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "s3#1.66.3",
                         req={"bucketName": "acme-ml-features", "Host": "acme-ml-features.s3.amazonaws.com", "logging": "",
                              "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                      "LoggingEnabled": {"TargetBucket": "acme-logs-archive", "TargetPrefix": "s3/acme-ml-features/"}}}))
    out.append(ct_record(t + dt.timedelta(seconds=5), tf(t), "s3.amazonaws.com", "PutBucketAcl", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "s3#1.66.3",
                         req={"bucketName": "acme-logs-archive", "Host": "acme-logs-archive.s3.amazonaws.com", "acl": "",
                              "AccessControlPolicy": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                      "Owner": {"ID": "3b1f0e8d2c4a6b9e7f5d1c3a8e2b4f6d0a9c7e5b3d1f8a6c4e2b0d9f7a5c3e1b"},
                                                      "AccessControlList": {"Grant": [
                                                          {"Grantee": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "CanonicalUser",
                                                                       "ID": "3b1f0e8d2c4a6b9e7f5d1c3a8e2b4f6d0a9c7e5b3d1f8a6c4e2b0d9f7a5c3e1b"},
                                                           "Permission": "FULL_CONTROL"},
                                                          {"Grantee": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "Group",
                                                                       "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                                                           "Permission": "WRITE"}]}}}))
    # CloudFront origin access control: allows the CloudFront service, scoped by a condition.
    out.append(ct_record(at(15, 40, 2), SSO_ADMIN.identity("alice.nguyen@example.com", created=at(15, 10)), "s3.amazonaws.com",
                         "PutBucketPolicy", region=R, ip=OFFICE_IPS[0], ua=UA_CHROME, console=True,
                         req={"bucketPolicy": {"Version": "2008-10-17", "Id": "PolicyForCloudFrontPrivateContent", "Statement": [
                             {"Sid": "AllowCloudFrontServicePrincipal", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                              "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-app-assets/*",
                              "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::%s:distribution/E2QWRUHAPOMQZL" % ACCOUNT}}}]},
                              "bucketName": "acme-app-assets", "Host": "acme-app-assets.s3.amazonaws.com", "policy": ""}))
    # Password policy set to the baseline (strong).
    out.append(ct_record(at(10, 5, 30), SSO_ADMIN.identity("alice.nguyen@example.com", created=at(9, 50)), "iam.amazonaws.com",
                         "UpdateAccountPasswordPolicy", region=R, ip=OFFICE_IPS[0], ua=UA_CHROME, console=True,
                         req={"minimumPasswordLength": 14, "requireSymbols": True, "requireNumbers": True,
                              "requireUppercaseCharacters": True, "requireLowercaseCharacters": True,
                              "allowUsersToChangePassword": True, "maxPasswordAge": 90, "passwordReusePrevention": 24,
                              "hardExpiry": False}))
    # Trail and detector housekeeping that keeps them running.
    out.append(ct_record(at(14, 3, 40), tf(at(14, 3)), "cloudtrail.amazonaws.com", "UpdateTrail", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "cloudtrail#1.46.0",
                         req={"name": "org-trail", "s3BucketName": "acme-org-cloudtrail-logs", "includeGlobalServiceEvents": True,
                              "isMultiRegionTrail": True, "enableLogFileValidation": True, "kmsKeyId": KEY_ID},
                         resp={"name": "org-trail", "s3BucketName": "acme-org-cloudtrail-logs", "includeGlobalServiceEvents": True,
                               "isMultiRegionTrail": True, "trailARN": TRAIL_ORG, "logFileValidationEnabled": True,
                               "isOrganizationTrail": True, "kmsKeyId": KEY_ID}))
    out.append(ct_record(at(14, 3, 44), tf(at(14, 3)), "cloudtrail.amazonaws.com", "PutEventSelectors", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "cloudtrail#1.46.0",
                         req={"trailName": "org-trail", "eventSelectors": [
                             {"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": [],
                              "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]},
                         resp={"trailARN": TRAIL_ORG, "eventSelectors": [
                             {"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": [],
                              "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}))
    out.append(ct_record(at(14, 3, 50), tf(at(14, 3)), "guardduty.amazonaws.com", "UpdateDetector", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "guardduty#1.50.0",
                         req={"detectorId": DETECTOR, "enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES",
                              "features": [{"name": "S3_DATA_EVENTS", "status": "ENABLED"}, {"name": "EKS_AUDIT_LOGS", "status": "ENABLED"}]},
                         resp=None))
    # Flow logs: one created, and a stale delete that EC2 could not carry out.
    out.append(ct_record(at(14, 4, 5), tf(at(14, 3)), "ec2.amazonaws.com", "CreateFlowLogs", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "ec2#1.187.0",
                         req={"CreateFlowLogsRequest": {"ResourceId": {"content": VPC_APP, "tag": 1}, "ResourceType": "VPC",
                                                        "TrafficType": "ALL", "LogDestinationType": "s3",
                                                        "LogDestination": "arn:aws:s3:::acme-logs-archive/vpcflow/",
                                                        "MaxAggregationInterval": 60,
                                                        "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"}},
                         resp={"CreateFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": new_uuid(),
                                                          "flowLogIdSet": {"item": "fl-0a9b8c7d6e5f40312"}, "unsuccessful": ""}}))
    out.append(ct_record(at(14, 4, 9), tf(at(14, 3)), "ec2.amazonaws.com", "DeleteFlowLogs", region=R, ip=CI_NAT_IP,
                         ua=UA_TERRAFORM % "ec2#1.187.0",
                         req={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0123456789abcdef0", "tag": 1}}},
                         resp={"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": new_uuid(),
                                                          "unsuccessful": {"item": {"error": {"code": "InvalidFlowLogId.NotFound",
                                                                                                "message": "This flow log does not exist"},
                                                                                      "resourceId": "fl-0123456789abcdef0"}}}}))
    # Someone tries to open a bucket to the world; account-level Block Public Access refuses it.
    t = at(16, 21, 7)
    ui = SSO_DEV.identity("carol.diaz@example.com", created=at(15, 55))
    out.append(ct_record(t, ui, "s3.amazonaws.com", "PutBucketPolicy", region=R, ip=OFFICE_IPS[1], ua=UA_SAFARI, console=True,
                         error=("AccessDenied", "Access Denied"),
                         req={"bucketPolicy": {"Version": "2012-10-17", "Statement": [
                             {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                              "Resource": "arn:aws:s3:::acme-app-assets/*"}]},
                              "bucketName": "acme-app-assets", "Host": "acme-app-assets.s3.amazonaws.com", "policy": ""}))
    return out


def s3_data_benign():
    out = []
    vpce = "vpce-0a1b2c3d4e5f60718"
    for _ in range(260):  # web tier reads static assets
        t = rand_time(OFFICE)
        inst = rng.choice(WEB)
        ui = WEB_ROLE.identity(inst[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
        key = rng.choice(["img/logo.svg", "img/hero-%d.webp" % rng.randint(1, 12), "css/site.%s.css" % hexid(8), "js/app.%s.js" % hexid(8),
                          "fonts/inter-var.woff2", "catalog/thumbs/%d.jpg" % rng.randint(10000, 99999)])
        err = ("NoSuchKey", "The specified key does not exist.") if rng.random() < 0.03 else None
        out.append(s3_data(t, ui, "GetObject", "acme-app-assets", key, ip=inst[1], ua=UA_JAVA, vpce=vpce, error=err))
    for _ in range(120):  # uploads from the orders service
        t = rand_time(OFFICE)
        inst = rng.choice(APP[:2])
        ui = APP_ROLE.identity(inst[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
        key = "uploads/%s/%s.pdf" % (t.strftime("%Y/%m/%d"), new_uuid())
        out.append(s3_data(t, ui, rng.choice(["PutObject", "PutObject", "HeadObject"]), "acme-user-uploads", key, ip=inst[1], ua=UA_JAVA, vpce=vpce))
    for _ in range(170):  # nightly and hourly batch over the data lake
        t = rand_time()
        ui = BATCH_ROLE.identity(BATCH_HOST[0], ec2=True, created=t - dt.timedelta(minutes=rng.randrange(5, 300)))
        op = rng.choices(["ListObjects", "GetObject", "PutObject", "DeleteObject"], weights=[2, 5, 4, 1])[0]
        bucket = "acme-data-lake-raw" if op in ("ListObjects", "GetObject") else "acme-data-lake-curated"
        key = "events/dt=%s/part-%05d.parquet" % (t.strftime("%Y-%m-%d"), rng.randint(0, 400))
        if op == "DeleteObject":
            key = "_tmp/%s/%s" % (hexid(12), key)
        out.append(s3_data(t, ui, op, bucket, key, ip=BATCH_HOST[1], ua=UA_JAVA.replace("m/F,G", "m/D"), vpce=vpce,
                           prefix="events/dt=%s/" % t.strftime("%Y-%m-%d")))
    for _ in range(60):  # CI uploads build artifacts
        t = rand_time(OFFICE)
        out.append(s3_data(t, CI_DEPLOY.identity(), "PutObject", "acme-build-artifacts",
                           "shop/catalog/build-%d/catalog.tar.gz" % rng.randint(4100, 4200), ip=CI_NAT_IP, ua=ua_cli_ci("s3.cp")))
    for _ in range(50):  # a partner account reads its share
        t = rand_time(OFFICE)
        ui = PARTNER_ROLE.identity("partner-sync", created=t - dt.timedelta(minutes=10))
        op = rng.choice(["ListObjects", "GetObject", "GetObject"])
        out.append(s3_data(t, ui, op, "acme-partner-share", "outbound/%s/stock-levels.csv" % t.strftime("%Y%m%d"),
                           ip="203.0.113.210", ua=UA_PARTNER, prefix="outbound/"))
    for _ in range(40):  # Athena reads the curated zone for analysts (invoked by the service)
        t = rand_time(OFFICE)
        ui = SSO_DEV.identity("carol.diaz@example.com", created=t - dt.timedelta(minutes=30), invoked_by="athena.amazonaws.com")
        out.append(s3_data(t, ui, rng.choice(["GetObject", "ListObjects"]), "acme-data-lake-curated",
                           "orders/dt=2026-11-%02d/part-%05d.parquet" % (rng.randint(1, 19), rng.randint(0, 99)),
                           ip="athena.amazonaws.com", ua="athena.amazonaws.com", prefix="orders/"))
    return out


def events_benign_eu():
    out = []
    R = "eu-west-1"
    for _ in range(200):
        t = rand_time()
        src, name, req = read_call(None, region=R)
        ui = CONFIG_ROLE.identity("AWSConfig-Describe", invoked_by="config.amazonaws.com", created=t)
        out.append(ct_record(t, ui, src, name, region=R, ip="config.amazonaws.com", ua="config.amazonaws.com", req=req))
    for _ in range(80):
        t = rand_time()
        svc = rng.choice(["cloudtrail.amazonaws.com", "s3.amazonaws.com"])
        out.append(ct_record(t, service_identity(svc), "kms.amazonaws.com", "GenerateDataKey", region=R,
                             req={"keySpec": "AES_256"}, read_only=True,
                             resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                                         "ARN": "arn:aws:kms:eu-west-1:%s:key/9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a" % ACCOUNT}]))
    for _ in range(60):
        t = rand_time(OFFICE, start=at(7, 30), end=at(18, 30))
        src, name, req = read_call(rng.choice(["ec2", "rds", "s3", "dynamodb"]), region=R)
        ui = SSO_ADMIN.identity("alice.nguyen@example.com", created=t - dt.timedelta(minutes=30))
        out.append(ct_record(t, ui, src, name, region=R, ip=OFFICE_IPS[0], ua=UA_CHROME, req=req, console=True))
    return out


def events_attack():
    """The attack story (see README.md)."""
    out = []
    R = "us-east-1"
    k = CI_DEPLOY.identity()
    # 08:57 the leaked key is checked with TruffleHog, which calls GetCallerIdentity
    # (through the global endpoint) to learn whether a key it found works.
    out.append(ct_record(at(8, 57, 41), k, "sts.amazonaws.com", "GetCallerIdentity", region=R, ip=ATTACKER_KALI,
                         ua=UA_TRUFFLEHOG, tls_host="sts.amazonaws.com"))
    # 09:02-09:15 recon from a Kali machine with the leaked ci-deploy key.
    recon = [("sts.amazonaws.com", "GetCallerIdentity", None, "sts.get-caller-identity", None),
             ("iam.amazonaws.com", "ListUsers", None, "iam.list-users", None),
             ("iam.amazonaws.com", "GetAccountAuthorizationDetails", None, "iam.get-account-authorization-details", None),
             ("iam.amazonaws.com", "ListRoles", None, "iam.list-roles", None),
             ("iam.amazonaws.com", "ListAttachedUserPolicies", {"userName": "ci-deploy"}, "iam.list-attached-user-policies", None),
             ("iam.amazonaws.com", "GetAccountPasswordPolicy", None, "iam.get-account-password-policy", None),
             ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, "s3.ls", None),
             ("ec2.amazonaws.com", "DescribeRegions", {"regionSet": {}, "allRegions": True}, "ec2.describe-regions", None),
             ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, "ec2.describe-instances", None),
             ("ec2.amazonaws.com", "DescribeFlowLogs", {"DescribeFlowLogsRequest": ""}, "ec2.describe-flow-logs", None),
             ("cloudtrail.amazonaws.com", "DescribeTrails", {"trailNameList": [], "includeShadowTrails": True}, "cloudtrail.describe-trails", None),
             ("guardduty.amazonaws.com", "ListDetectors", None, "guardduty.list-detectors", None),
             ("eks.amazonaws.com", "ListClusters", None, "eks.list-clusters", None),
             ("eks.amazonaws.com", "DescribeCluster", {"name": CLUSTER}, "eks.describe-cluster", None),
             ("secretsmanager.amazonaws.com", "ListSecrets", None, "secretsmanager.list-secrets", "secretsmanager:ListSecrets")]
    t = at(9, 2, 14)
    for src, name, req, cmd, denied in recon:
        out.append(ct_record(t, k, src, name, region=R, ip=ATTACKER_KALI, ua=ua_kali(cmd), req=req,
                             error=access_denied(k, denied, scp=True) if denied else None))
        t += dt.timedelta(seconds=rng.randint(20, 70))

    # 09:18 defence evasion.
    def kali(t, src, name, req, cmd, resp=None, **kw):
        return ct_record(t, k, src, name, region=R, ip=ATTACKER_KALI, ua=ua_kali(cmd), req=req, resp=resp, **kw)
    out.append(kali(at(9, 18, 3), "cloudtrail.amazonaws.com", "StopLogging", {"name": TRAIL_ACCOUNT}, "cloudtrail.stop-logging"))
    out.append(kali(at(9, 18, 40), "cloudtrail.amazonaws.com", "DeleteTrail", {"name": TRAIL_ORG}, "cloudtrail.delete-trail",
                    error=("OperationNotPermittedException",
                           "Only the management account of the organization can delete an organization trail.")))
    out.append(kali(at(9, 19, 12), "guardduty.amazonaws.com", "DeleteDetector", {"detectorId": DETECTOR}, "guardduty.delete-detector"))
    out.append(kali(at(9, 20, 30), "ec2.amazonaws.com", "DeleteFlowLogs",
                    {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0f1e2d3c4b5a69788", "tag": 1}}}, "ec2.delete-flow-logs",
                    resp={"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": new_uuid(), "unsuccessful": ""}}))
    out.append(kali(at(9, 26, 2), "iam.amazonaws.com", "UpdateAccountPasswordPolicy",
                    {"minimumPasswordLength": 6, "requireSymbols": False, "requireNumbers": False, "requireUppercaseCharacters": False,
                     "requireLowercaseCharacters": False, "allowUsersToChangePassword": True}, "iam.update-account-password-policy"))
    # 09:31 S3: Block Public Access off, bucket made public, logging off.
    out.append(kali(at(9, 31, 5), "s3.amazonaws.com", "PutAccountPublicAccessBlock",
                    {"PublicAccessBlockConfiguration": {"xmlns": "http://awss3control.amazonaws.com/doc/2018-08-20/", "BlockPublicAcls": False,
                                                        "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False},
                     "Host": "%s.s3-control.us-east-1.amazonaws.com" % ACCOUNT}, "s3control.put-public-access-block",
                    tls_host="%s.s3-control.us-east-1.amazonaws.com" % ACCOUNT))
    b = "acme-customer-exports"
    host = S3_HOST % (b, R)
    out.append(kali(at(9, 33, 12), "s3.amazonaws.com", "PutBucketPublicAccessBlock",
                    {"publicAccessBlock": "", "bucketName": b, "Host": host,
                     "PublicAccessBlockConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": False,
                                                        "BlockPublicPolicy": False, "BlockPublicAcls": False, "IgnorePublicAcls": False}},
                    "s3api.put-public-access-block", tls_host=host))
    out.append(kali(at(9, 34, 1), "s3.amazonaws.com", "PutBucketPolicy",
                    {"bucketPolicy": {"Version": "2012-10-17", "Statement": [
                        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                         "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                        {"Sid": "PublicRead", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:GetObject", "s3:ListBucket"],
                         "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]}]},
                     "bucketName": b, "Host": host, "policy": ""}, "s3api.put-bucket-policy", tls_host=host))
    out.append(kali(at(9, 35, 20), "s3.amazonaws.com", "PutBucketAcl",
                    {"bucketName": "acme-data-lake-raw", "Host": S3_HOST % ("acme-data-lake-raw", R), "acl": "",
                     "x-amz-grant-read": "uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
                    "s3api.put-bucket-acl", tls_host=S3_HOST % ("acme-data-lake-raw", R)))
    out.append(kali(at(9, 36, 2), "s3.amazonaws.com", "PutBucketLogging",
                    {"bucketName": b, "Host": host, "logging": "",
                     "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}},
                    "s3api.put-bucket-logging", tls_host=host))
    # 09:40 data theft from the now public bucket, with the same CLI.
    t = at(9, 40, 5)
    out.append(s3_data(t, k, "ListObjects", b, ip=ATTACKER_KALI, ua=ua_kali("s3.ls"), prefix="exports/"))
    for i in range(36):
        t += dt.timedelta(seconds=rng.randint(8, 30))
        out.append(s3_data(t, k, "GetObject", b, "exports/2026-11/customers-%04d.csv.gz" % i, ip=ATTACKER_KALI,
                           ua=ua_kali("s3.cp"), size=rng.randint(4000000, 9000000)))

    # 10:12 a second operator on Parrot, same key.
    t = at(10, 12, 33)
    for src, name, req, cmd in [("sts.amazonaws.com", "GetCallerIdentity", None, "sts.get-caller-identity"),
                                ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, "s3api.list-buckets"),
                                ("s3.amazonaws.com", "GetBucketPolicy", {"bucketName": "acme-data-lake-raw", "Host": S3_HOST % ("acme-data-lake-raw", R), "policy": ""}, "s3api.get-bucket-policy"),
                                ("rds.amazonaws.com", "DescribeDBInstances", {"maxRecords": 100}, "rds.describe-db-instances"),
                                ("dynamodb.amazonaws.com", "ListTables", None, "dynamodb.list-tables")]:
        out.append(ct_record(t, k, src, name, region=R, ip=ATTACKER_PARROT, ua=ua_parrot(cmd), req=req,
                             error=("NoSuchBucketPolicy", "The bucket policy does not exist") if name == "GetBucketPolicy" else None))
        t += dt.timedelta(seconds=rng.randint(15, 50))
    out.append(s3_data(t, k, "ListObjects", "acme-data-lake-raw", ip=ATTACKER_PARROT, ua=ua_parrot("s3api.list-objects-v2"), prefix="events/"))
    for i in range(12):
        t += dt.timedelta(seconds=rng.randint(5, 25))
        out.append(s3_data(t, k, "GetObject", "acme-data-lake-raw", "events/dt=2026-11-19/part-%05d.parquet" % i,
                           ip=ATTACKER_PARROT, ua=ua_parrot("s3api.get-object")))

    # 10:40 a third box on Pentoo.
    t = at(10, 40, 9)
    for src, name, req, denied in [("sts.amazonaws.com", "GetCallerIdentity", None, None),
                                   ("iam.amazonaws.com", "ListRoles", None, None),
                                   ("iam.amazonaws.com", "CreateUser", {"userName": "svc-monitoring"}, "iam:CreateUser"),
                                   ("iam.amazonaws.com", "CreateAccessKey", {"userName": "ci-deploy"}, "iam:CreateAccessKey")]:
        out.append(ct_record(t, k, src, name, region=R, ip=ATTACKER_PENTOO, ua=UA_PENTOO, req=req,
                             error=access_denied(k, denied, "arn:aws:iam::%s:user/%s" % (ACCOUNT, req["userName"]), scp=True) if denied else None))
        t += dt.timedelta(seconds=rng.randint(15, 50))
    # Then an enumerate-iam style sweep: one read call after the other, across services,
    # to learn what the key may do; most of them are refused.
    def refused(src, name):
        action = "%s:%s" % (src.split(".")[0], name.replace("20150331", ""))
        if src == "ec2.amazonaws.com":
            return ("Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: %s is not authorized "
                    "to perform: %s because no identity-based policy allows the %s action" % (k["arn"], action, action))
        if src == "secretsmanager.amazonaws.com":
            return access_denied(k, action, scp=True)
        code, message = access_denied(k, action)
        return ("AccessDeniedException" if src in ("organizations.amazonaws.com", "lambda.amazonaws.com", "kms.amazonaws.com")
                else code, message)
    sweep = [("iam.amazonaws.com", "GetUser", None, True),
             ("iam.amazonaws.com", "ListGroups", None, False),
             ("iam.amazonaws.com", "ListPolicies", {"scope": "All", "onlyAttached": False}, False),
             ("iam.amazonaws.com", "GetAccountSummary", None, False),
             ("iam.amazonaws.com", "ListInstanceProfiles", None, False),
             ("iam.amazonaws.com", "ListVirtualMFADevices", None, False),
             ("iam.amazonaws.com", "ListSAMLProviders", None, False),
             ("iam.amazonaws.com", "ListOpenIDConnectProviders", None, False),
             ("iam.amazonaws.com", "GetCredentialReport", None, False),
             ("organizations.amazonaws.com", "DescribeOrganization", None, False),
             ("organizations.amazonaws.com", "ListAccounts", None, False),
             ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, True),
             ("ec2.amazonaws.com", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}, False),
             ("ec2.amazonaws.com", "DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "filterSet": {}}, False),
             ("ec2.amazonaws.com", "DescribeKeyPairs", {"keySet": {}, "filterSet": {}}, False),
             ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}, False),
             ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, True),
             ("lambda.amazonaws.com", "ListFunctions20150331", {"functionVersion": "ALL"}, False),
             ("kms.amazonaws.com", "ListKeys", None, False),
             ("secretsmanager.amazonaws.com", "ListSecrets", None, False),
             ("ecr.amazonaws.com", "DescribeRepositories", None, True),
             ("eks.amazonaws.com", "ListClusters", None, True),
             ("dynamodb.amazonaws.com", "ListTables", None, True)]
    for src, name, req, allowed in sweep:
        t += dt.timedelta(seconds=rng.randint(1, 4))
        out.append(ct_record(t, k, src, name, region=R, ip=ATTACKER_PENTOO, ua=UA_PENTOO_BOTO3, req=req,
                             error=None if allowed else refused(src, name)))
    for i in range(4):
        t += dt.timedelta(seconds=rng.randint(5, 25))
        out.append(s3_data(t, k, "GetObject", "acme-terraform-state", "prod/terraform.tfstate" if i == 0 else "prod/terraform.tfstate.backup",
                           ip=ATTACKER_PENTOO, ua=UA_PENTOO,
                           error=("AccessDenied", "Access Denied") if i > 1 else None))

    # 11:30 password spraying on the console from the address that then gets in as root:
    # IAM user names first (unknown names are hidden in the log), then root.
    t = at(11, 30, 14)
    for name in ("admin", "bob.martin", "administrator", "ci-deploy", "legacy-backup", "alice.nguyen"):
        user = {"bob.martin": BOB, "ci-deploy": CI_DEPLOY, "legacy-backup": BACKUP_USER}.get(name)
        if user:
            ui = {"type": "IAMUser", "principalId": user.id, "accountId": ACCOUNT, "accessKeyId": "", "userName": user.name}
            failure = "Failed authentication"
        else:
            ui = {"type": "IAMUser", "accountId": ACCOUNT, "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}
            failure = "No username found in supplied account"
        out.append(console_login(t, ui, ROOT_LOGIN_IP, UA_FIREFOX_ATTACKER, success=False, mfa=False, failure=failure))
        t += dt.timedelta(seconds=rng.randint(70, 95))

    # 11:39 root: a failed and then a successful console sign-in, without MFA, then API calls.
    root_signin = dict(root_identity(console=False), accessKeyId="")
    out.append(console_login(at(11, 39, 51), root_signin, ROOT_LOGIN_IP, UA_FIREFOX_ATTACKER, success=False, mfa=False))
    out.append(console_login(at(11, 42, 7), root_signin, ROOT_LOGIN_IP, UA_FIREFOX_ATTACKER, success=True, mfa=False))
    t = at(11, 42, 30)
    root = root_identity(console=True, created=at(11, 42, 7))
    for src, name, req, resp in [("iam.amazonaws.com", "GetAccountSummary", None, None),
                                 ("iam.amazonaws.com", "ListUsers", None, None),
                                 ("iam.amazonaws.com", "ListAccessKeys", None, None),
                                 ("iam.amazonaws.com", "CreateAccessKey", None,
                                  {"accessKey": {"accessKeyId": stable("AKIA", "root-key", 20), "status": "Active",
                                                 "createDate": "Nov 20, 2026, 11:44:12 AM"}}),
                                 ("account.amazonaws.com", "GetContactInformation", None, None)]:
        out.append(ct_record(t, root, src, name, region=R, ip=ROOT_LOGIN_IP, ua=UA_FIREFOX_ATTACKER, req=req, resp=resp, console=True,
                             tls_host="iam.amazonaws.com" if src.startswith("iam") else "account.us-east-1.amazonaws.com"))
        t += dt.timedelta(seconds=rng.randint(30, 90))
    # 12:28 the key runs a shell script on the batch host through Systems Manager: the miner,
    # and a backdoor that calls home (see flows_app_vpc and write_dns).
    out.append(ct_record(at(12, 28, 40), k, "ssm.amazonaws.com", "SendCommand", region=R, ip=ATTACKER_KALI,
                         ua=ua_kali("ssm.send-command"),
                         req={"instanceIds": [BATCH_HOST[0]], "documentName": "AWS-RunShellScript",
                              "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": False},
                         resp={"command": {"commandId": new_uuid(), "documentName": "AWS-RunShellScript", "documentVersion": "$DEFAULT",
                                           "instanceIds": [BATCH_HOST[0]], "status": "Pending", "statusDetails": "Pending",
                                           "requestedDateTime": "Nov 20, 2026, 12:28:40 PM", "targetCount": 1, "completedCount": 0,
                                           "errorCount": 0, "deliveryTimedOutCount": 0, "timeoutSeconds": 3600, "interactive": False}}))
    # 13:08 the web server's instance-role credentials, read from the metadata service
    # through the SSRF (13:05, see write_dns), are used from a Tor exit relay.
    web = WEB[0]
    stolen = WEB_ROLE.identity(web[0], ec2=True, created=at(12, 52, 19))
    t = at(13, 8, 26)
    for src, name, req, cmd, denied in [("sts.amazonaws.com", "GetCallerIdentity", None, "sts.get-caller-identity", None),
                                        ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, "s3.ls", None),
                                        ("iam.amazonaws.com", "ListAttachedRolePolicies", {"roleName": WEB_ROLE.name},
                                         "iam.list-attached-role-policies", "iam:ListAttachedRolePolicies")]:
        out.append(ct_record(t, stolen, src, name, region=R, ip=TOR_EXIT_API, ua=UA_CLI_UBUNTU + cmd, req=req,
                             error=access_denied(stolen, denied, WEB_ROLE.arn) if denied else None))
        t += dt.timedelta(seconds=rng.randint(10, 40))
    out.append(s3_data(t, stolen, "ListObjects", "acme-app-assets", ip=TOR_EXIT_API, ua=UA_CLI_UBUNTU + "s3.ls", prefix=""))
    for key in ("config/app-settings.json", "config/feature-flags.json", "img/logo.svg"):
        t += dt.timedelta(seconds=rng.randint(5, 20))
        out.append(s3_data(t, stolen, "GetObject", "acme-app-assets", key, ip=TOR_EXIT_API, ua=UA_CLI_UBUNTU + "s3.cp"))
    # 14:06 the key opens the Tor OR port (9001) of the EKS nodes' security group to the
    # internet, for the relay started through the privileged pod (see flows_eks_vpc).
    sg, rule = "sg-0e4f5a6b7c8d90799", "sgr-0a9b8c7d6e5f43210"
    out.append(kali(at(14, 6, 12), "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
                    {"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 9001, "toPort": 9001, "groups": {},
                                                                 "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                                                                 "ipv6Ranges": {}, "prefixListIds": {}}]}},
                    "ec2.authorize-security-group-ingress",
                    resp={"requestId": new_uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                        {"groupOwnerId": ACCOUNT, "groupId": sg, "securityGroupRuleId": rule, "isEgress": False,
                         "ipProtocol": "tcp", "fromPort": 9001, "toPort": 9001, "cidrIpv4": "0.0.0.0/0"}]}}))
    return out


def write_cloudtrail():
    base = "cloudtrail/AWSLogs/%s/%s/CloudTrail/%%s/2026/11/20/" % (ORG_ID, ACCOUNT)
    records = {"us-east-1": events_benign_us() + events_attack(), "eu-west-1": events_benign_eu()}
    written = []
    for region, recs in records.items():
        recs.sort(key=lambda r: r["eventTime"])
        hours = 2 if region == "us-east-1" else 6
        for w in range(0, 24, hours):
            lo, hi = at(w, 0), at(w, 0) + dt.timedelta(hours=hours)
            batch = [r for r in recs if iso(lo) <= r["eventTime"] < iso(hi)]
            if not batch:
                continue
            # CloudTrail does not order records within a file, but a record is never far
            # from its time: its files cover about five minutes each.
            chunks = {}
            for r in batch:
                chunks.setdefault(r["eventTime"][:15] + str(int(r["eventTime"][15]) // 5), []).append(r)
            batch = []
            for key in sorted(chunks):
                rng.shuffle(chunks[key])
                batch += chunks[key]
            delivered = hi + dt.timedelta(minutes=rng.randint(3, 9))
            if delivered.day != DAY.day:
                delivered = at(23, 59)
            name = "%s_CloudTrail_%s_%s_%s.json.gz" % (ACCOUNT, region, delivered.strftime("%Y%m%dT%H%MZ"), alnum(16))
            body = json.dumps({"Records": batch}, separators=(",", ":")).encode()
            write(base % region + name, body, compress=True)
            written.append((region, base % region + name, body, batch))
    # One digest file (a hash chain over the log files); readers must skip it.
    files = [w for w in written if w[0] == "us-east-1"][:6]
    digest = {"awsAccountId": ACCOUNT, "digestStartTime": "2026-11-20T00:00:00Z", "digestEndTime": "2026-11-20T12:00:00Z",
              "digestS3Bucket": "acme-org-cloudtrail-logs",
              "digestS3Object": "AWSLogs/%s/%s/CloudTrail-Digest/us-east-1/2026/11/20/%s_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261120T120000Z.json.gz" % (ORG_ID, ACCOUNT, ACCOUNT),
              "digestPublicKeyFingerprint": hexid(32), "digestSignatureAlgorithm": "SHA256withRSA",
              "newestEventTime": max(r["eventTime"] for f in files for r in f[3]),
              "oldestEventTime": min(r["eventTime"] for f in files for r in f[3]),
              "previousDigestS3Bucket": "acme-org-cloudtrail-logs",
              "previousDigestS3Object": "AWSLogs/%s/%s/CloudTrail-Digest/us-east-1/2026/11/19/%s_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261120T000000Z.json.gz" % (ORG_ID, ACCOUNT, ACCOUNT),
              "previousDigestHashValue": hexid(64), "previousDigestHashAlgorithm": "SHA-256",
              "previousDigestSignature": hexid(512),
              "logFiles": [{"s3Bucket": "acme-org-cloudtrail-logs", "s3Object": f[1].replace("cloudtrail/", "", 1),
                            "hashValue": hashlib.sha256(f[2]).hexdigest(), "hashAlgorithm": "SHA-256",
                            "newestEventTime": max(r["eventTime"] for r in f[3]),
                            "oldestEventTime": min(r["eventTime"] for r in f[3])} for f in files]}
    write("cloudtrail/" + digest["digestS3Object"], json.dumps(digest, separators=(",", ":")).encode(), compress=True)
    return sum(len(w[3]) for w in written), sum(1 for w in written for r in w[3] if r["eventCategory"] == "Data")


# --------------------------------------------------------------------------- VPC flow logs

V5_FIELDS = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
             "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type "
             "sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path").split()


def flow_pair(t, inst, local_port, remote_ip, remote_port, proto=6, initiated_by_local=True, action="ACCEPT",
              pkts=None, size=None, path_egress="1", reply=True, established=False):
    """The two records (egress and ingress) one connection leaves on an instance's ENI."""
    start = epoch(t)
    end = start + rng.randint(20, 59)
    pkts = pkts or rng.randint(4, 40)
    size = size or pkts * rng.randint(60, 1400)
    out_rec = {"srcaddr": inst[1], "dstaddr": remote_ip, "srcport": local_port, "dstport": remote_port,
               "direction": "egress", "flags": 3 if initiated_by_local else 19}
    in_rec = {"srcaddr": remote_ip, "dstaddr": inst[1], "srcport": remote_port, "dstport": local_port,
              "direction": "ingress", "flags": 19 if initiated_by_local else 3}
    first, second = (out_rec, in_rec) if initiated_by_local else (in_rec, out_rec)
    recs = []
    for i, r in enumerate([first, second] if reply and action == "ACCEPT" else [first]):
        recs.append(dict(inst=inst, proto=proto, pkts=max(1, pkts + rng.randint(-3, 3)), bytes=size if i == 0 else int(size * rng.uniform(0.3, 3)),
                         start=start, end=end, action=action, path=path_egress if r["direction"] == "egress" else "-",
                         flags=r["flags"] if proto == 6 and not established else 0, **{k: v for k, v in r.items() if k != "flags"}))
    return recs


def flow_record(inst, src, dst, sport, dport, start, end, pkts, size, direction, proto=6, flags=0, path="1"):
    """One record: one direction of one 5-tuple in one capture window."""
    return dict(inst=inst, srcaddr=src, dstaddr=dst, srcport=sport, dstport=dport, proto=proto, pkts=pkts, bytes=size,
                start=start, end=end, action="ACCEPT", direction=direction, path=path if direction == "egress" else "-",
                flags=flags if proto == 6 else 0)


def long_stream(inst, local_port, remote_ip, remote_port, proto, t, minutes, out_rate, out_size, in_rate, in_size,
                path="1"):
    """A connection (or UDP stream) the instance opens and keeps busy for some minutes: a record a minute each way,
    packet counts close to the given rates (packets a minute), `*_size` bytes a packet."""
    recs = []
    for m in range(minutes):
        start = epoch(t) + 60 * m
        for direction, rate, size in (("egress", out_rate, out_size), ("ingress", in_rate, in_size)):
            pkts = int(rate * rng.uniform(0.96, 1.04))
            src, dst, sport, dport = ((inst[1], remote_ip, local_port, remote_port) if direction == "egress"
                                      else (remote_ip, inst[1], remote_port, local_port))
            # SYN (egress) and SYN-ACK (ingress) in the first minute, FIN in the last.
            flags = ((2 if direction == "egress" else 18) if m == 0 else 0) | (1 if m == minutes - 1 else 0)
            recs.append(flow_record(inst, src, dst, sport, dport, start, start + 59, pkts, pkts * size, direction,
                                    proto=proto, flags=flags, path=path))
    return recs


def flow_lines(recs, v5):
    lines = []
    for r in recs:
        inst = r["inst"]
        if r.get("nodata"):
            base = ["2", ACCOUNT, inst[2], "-", "-", "-", "-", "-", "-", "-", str(r["start"]), str(r["end"]), "-", r["status"]]
        else:
            base = ["2", ACCOUNT, inst[2], r["srcaddr"], r["dstaddr"], str(r["srcport"]), str(r["dstport"]), str(r["proto"]),
                    str(r["pkts"]), str(r["bytes"]), str(r["start"]), str(r["end"]), r["action"], "OK"]
        if v5:
            base[0] = "5"
            vpc = VPC_APP if inst[3] in (SUB_WEB, SUB_APP, SUB_DB) else VPC_EKS
            if r.get("nodata"):
                base += [vpc, inst[3], inst[0], "-", "-", "-", "-", "us-east-1", "use1-az1", "-", "-", "-", "-", "-", "-"]
            else:
                base += [vpc, inst[3], inst[0], str(r["flags"]) if r["proto"] == 6 else "0", "IPv4", r["srcaddr"], r["dstaddr"],
                         "us-east-1", "use1-az1" if inst[3] != SUB_EKS_B else "use1-az2", "-", "-", "-", "-", r["direction"], r["path"]]
        lines.append(" ".join(base))
    return lines


def flows_app_vpc():
    """Custom v5 flow log of the application VPC (web and app tiers), delivered to S3."""
    recs = []
    eph = lambda: rng.randint(32768, 60999)
    for _ in range(420):  # internet clients reach the web tier on 443 through the load balancer... and directly
        t = rand_time(OFFICE)
        web = rng.choice(WEB)
        client = rng.choice(INTERNET_CLIENTS)
        cport = rng.randint(1024, 65535)
        if rng.random() < 0.02:
            cport = rng.choice([3333, 4444, 5555])  # a client behind carrier NAT: its port is arbitrary
        recs += flow_pair(t, web, 443, client, cport, initiated_by_local=False, path_egress="8")
    for _ in range(260):  # app tier to the database and the cache
        t = rand_time(OFFICE)
        app = rng.choice(APP[:2])
        recs += flow_pair(t, app, eph(), rng.choice([DB_IP, CACHE_IP]), rng.choice([5432, 6379]), path_egress="1")
    for _ in range(160):  # app tier to AWS APIs and to a payments provider over HTTPS, through the NAT gateway
        t = rand_time(OFFICE)
        app = rng.choice(APP)
        recs += flow_pair(t, app, eph(), rng.choice(["192.0.2.%d" % i for i in range(100, 120)] + ["203.0.113.200"]), 443, path_egress="1")
    for _ in range(90):  # NTP to the Amazon Time Sync Service, DNS to the resolver
        t = rand_time()
        inst = rng.choice(WEB + APP)
        if rng.random() < 0.5:
            recs += flow_pair(t, inst, 123, "169.254.169.123", 123, proto=17, pkts=1, size=76, path_egress="1")
        else:
            recs += flow_pair(t, inst, eph(), "10.0.0.2", 53, proto=17, pkts=2, size=140, path_egress="1")
    for _ in range(140):  # internet scanners knock on closed ports; the security group drops them
        t = rand_time()
        web = rng.choice(WEB)
        port = rng.choice([22, 23, 3389, 445, 8080, 3333, 4444, 6379, 9200, 2375])
        recs += flow_pair(t, web, port, rng.choice(INTERNET_CLIENTS + ["192.0.2.%d" % i for i in range(200, 250)]),
                          rng.randint(1024, 65535), initiated_by_local=False, action="REJECT", pkts=1, size=44)
    for _ in range(30):  # an internal job queue on port 9999 inside the VPC
        t = rand_time(OFFICE)
        recs += flow_pair(t, APP[0], eph(), "10.0.12.26", 9999, path_egress="1")
    for i in range(40):  # idle interfaces report NODATA
        t = rand_time()
        inst = rng.choice(WEB + APP)
        recs.append({"inst": inst, "nodata": True, "status": "NODATA", "start": epoch(t), "end": epoch(t) + 60})
    recs.append({"inst": WEB[1], "nodata": True, "status": "SKIPDATA", "start": epoch(at(3, 12)), "end": epoch(at(3, 13))})
    # Remote access. Admins' SSH sessions to the bastion and RDP sessions to the Windows
    # jump host from the office: one connection each, a record a minute while it lasts.
    for host, port, sessions in ((BASTION, 22, [(at(8, 41, 5), 34), (at(11, 2, 40), 18), (at(14, 27, 9), 51), (at(17, 55, 30), 12)]),
                                 (JUMP_WIN, 3389, [(at(9, 15, 44), 47), (at(13, 20, 2), 26), (at(16, 38, 51), 39)])):
        for start, minutes in sessions:
            ip, cport = rng.choice(OFFICE_IPS), rng.randint(49152, 65535)
            for m in range(minutes):
                recs += flow_pair(start + dt.timedelta(minutes=m), host, port, ip, cport, initiated_by_local=False,
                                  path_egress="8", established=m > 0)
    # The deploy job connects through the bastion from the CI NAT address: three short SSH
    # connections per hourly run.
    for hour in range(7, 24):
        t = at(hour, 47, rng.randrange(60))
        for _ in range(3):
            recs += flow_pair(t, BASTION, 22, CI_NAT_IP, eph(), initiated_by_local=False, path_egress="8")
            t += dt.timedelta(seconds=rng.randint(4, 20))
    # Scanners that try a handful of ports of one server at once (all dropped).
    for t, web, ip in ((at(16, 12, 31), WEB[0], "192.0.2.233"), (at(23, 53, 8), WEB[1], "203.0.113.244")):
        sport = rng.randint(40000, 60000)
        for port in (21, 22, 23, 25, 80, 110, 445, 3389, 8080):
            recs += flow_pair(t, web, port, ip, sport, initiated_by_local=False, action="REJECT", pkts=1, size=44)
            t += dt.timedelta(seconds=rng.randint(1, 3))
    # Heavy but ordinary traffic to the internet. The orders service's nightly settlement
    # run calls the payments API without reusing connections: 2,400 short HTTPS
    # connections in under a minute, each from its own port, a request and its answer each
    # (about 24,000 packets out in all).
    t = at(1, 0, 3)
    for cport in rng.sample(range(32768, 61000), 2400):
        recs += flow_pair(t, APP[0], cport, "203.0.113.200", 443, pkts=rng.randint(8, 12), path_egress="1")
        t += dt.timedelta(milliseconds=rng.randint(12, 28))
    # The bastion's IPsec tunnel to the office (NAT traversal, UDP 4500) carries the
    # nightly file sync: about 260,000 packets a minute out for 20 minutes.
    recs += long_stream(BASTION, 4500, OFFICE_IPS[0], 4500, 17, at(2, 0, 6), 20, 260000, 1290, 90000, 120, path="8")
    # orders-1 uploads the nightly export to S3 over one connection: some 95,000 packets a
    # minute from one source port, for three minutes.
    recs += long_stream(APP[0], eph(), "192.0.2.41", 443, 6, at(3, 10, 22), 3, 95000, 1440, 31000, 52)
    # Attack: from 12:31 the batch host keeps a stratum connection to two pools.
    # The stratum connections stay open: after the first minute the records carry no SYN/FIN.
    pool_port = 48812
    t = at(12, 31, 20)
    while t < at(23, 55):
        recs += flow_pair(t, BATCH_HOST, pool_port, POOL_IPS["xmr-eu1.nanopool.org"], 14444, pkts=rng.randint(6, 14),
                          size=rng.randint(900, 2600), established=t > at(12, 32))
        t += dt.timedelta(minutes=rng.randint(8, 14))
    t = at(15, 2, 41)
    while t < at(16, 30):
        recs += flow_pair(t, BATCH_HOST, 51930, POOL_IPS["pool.supportxmr.com"], 3333, pkts=rng.randint(6, 14),
                          size=rng.randint(900, 2600), established=t > at(15, 3))
        t += dt.timedelta(minutes=rng.randint(8, 14))
    # Attack: the backdoor dropped with the miner calls its controller over HTTPS after
    # each lookup of its name (see write_dns).
    for t in c2_beacons():
        recs += flow_pair(t + dt.timedelta(seconds=1), BATCH_HOST, eph(), C2_IP, 443, pkts=rng.randint(9, 16),
                          size=rng.randint(1800, 5200))
    # Attack: at 21:12 the batch host joins a flood against a web shop: a SYN flood on its
    # port 443 for 68 seconds at about 2,500 packets a second, the source port cycling
    # through 3,000 values (1025-4024). The flow log keeps one record per source port and
    # capture window (about 50 SYNs each in the first, full minute; 7 in the next 8
    # seconds). The target does not answer.
    t0, t1, rate, nports = at(21, 12, 14), at(21, 13, 22), 2500, 3000
    w = t0
    while w < t1:
        w_end = min(w + dt.timedelta(seconds=60), t1)
        per_port = rate * (w_end - w).total_seconds() / nports
        for i in range(nports):
            pkts = max(1, int(per_port * rng.uniform(0.95, 1.05)))
            start = epoch(w) + i // rate
            recs.append(flow_record(BATCH_HOST, BATCH_HOST[1], FLOOD_TARGET, 1025 + i, 443, start, epoch(w_end) - 1,
                                    pkts, pkts * 60, "egress", flags=2))
        w = w_end
    # Attack: at 13:11, right after using the stolen instance credentials through Tor, the
    # intruder tries the bastion's SSH through the same exit relay: three connections
    # that sshd accepts and closes (no key). The generator's random state is put back
    # afterwards, so the rest of the day stays as it was.
    state = rng.getstate()
    for i, cport in enumerate((47312, 47318, 47331)):
        recs += flow_pair(at(13, 11, 2 + 9 * i), BASTION, 22, TOR_EXIT_API, cport, initiated_by_local=False,
                          path_egress="8", pkts=12, size=2900)
    rng.setstate(state)
    # Attack: just before midnight an internet address guesses SSH passwords on the bastion
    # (a new connection every few seconds, each from its own port; sshd answers each),
    # and another guesses RDP passwords on the Windows jump host.
    for host, port, ip, t, n, gap in ((BASTION, 22, SSH_GUESSER, at(23, 46, 12), 46, (3, 7)),
                                      (JUMP_WIN, 3389, RDP_GUESSER, at(23, 50, 41), 34, (4, 9))):
        cport = rng.randint(38000, 42000)
        for _ in range(n):
            recs += flow_pair(t, host, port, ip, cport, initiated_by_local=False, path_egress="8",
                              pkts=rng.randint(10, 22), size=rng.randint(1800, 4200))
            cport += rng.randint(1, 3)
            t += dt.timedelta(seconds=rng.randint(*gap))
    # Attack: at 23:56 the batch host SYN-scans the top 100 TCP ports of orders-2, from one
    # source port, in random order. Its own interface lets the probes out; orders-2's
    # security group drops all but its job-queue port 9999, which answers.
    target = APP[1]
    ports = [7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143, 144, 179, 199,
             389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 646, 873, 990, 993, 995, 1025, 1026,
             1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1900, 2000, 2001, 2049, 2121, 2717, 3000, 3128, 3306, 3389,
             3986, 4899, 5000, 5009, 5051, 5060, 5101, 5190, 5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070,
             8000, 8008, 8009, 8080, 8081, 8443, 8888, 9100, 9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157]
    rng.shuffle(ports)
    t = at(23, 56, 3)
    sport = 58214
    for port in ports:
        start = epoch(t)
        opened = port == 9999
        probe = dict(srcaddr=BATCH_HOST[1], dstaddr=target[1], srcport=sport, dstport=port, proto=6, start=start,
                     end=start + rng.randint(1, 3), pkts=1 if opened else 2, bytes=44 if opened else 88, flags=2 if not opened else 6)
        recs.append(dict(probe, inst=BATCH_HOST, action="ACCEPT", direction="egress", path="1"))
        recs.append(dict(probe, inst=target, action="ACCEPT" if opened else "REJECT", direction="ingress", path="-"))
        if opened:
            answer = dict(probe, srcaddr=target[1], dstaddr=BATCH_HOST[1], srcport=port, dstport=sport, flags=18, bytes=44)
            recs.append(dict(answer, inst=target, action="ACCEPT", direction="egress", path="1"))
            recs.append(dict(answer, inst=BATCH_HOST, action="ACCEPT", direction="ingress", path="-"))
        t += dt.timedelta(milliseconds=rng.randint(150, 450))
    recs.sort(key=lambda r: (r["start"], r["inst"][2]))
    header = " ".join(V5_FIELDS)
    body = header + "\n" + "\n".join(flow_lines(recs, v5=True)) + "\n"
    write("vpcflow/AWSLogs/%s/vpcflowlogs/us-east-1/2026/11/20/%s_vpcflowlogs_us-east-1_fl-0a9b8c7d6e5f40312_20261120T0000Z_%s.log.gz"
          % (ACCOUNT, ACCOUNT, hexid(8)), body.encode(), compress=True)
    return len(recs)


def flows_eks_vpc():
    """Default v2 flow log of the EKS VPC, as exported from CloudWatch Logs (no header)."""
    recs = []
    eph = lambda: rng.randint(32768, 60999)
    pod_ip = lambda node: "10.1.%s.%d" % (node[1].split(".")[2], rng.randint(10, 250))
    for _ in range(330):  # pods (secondary addresses on the nodes' ENIs) to the API endpoint, ECR, and each other
        t = rand_time()
        node = rng.choice(NODES)
        local = node if rng.random() < 0.4 else (node[0], pod_ip(node)) + node[2:]
        port = rng.choice([443, 443, 8080, 53])
        if port == 53:  # the VPC resolver
            recs += flow_pair(t, local, eph(), "10.1.0.2", 53, proto=17, pkts=2, size=150)
            continue
        dst = rng.choice(["10.1.40.12", "10.1.41.87", "192.0.2.130", "192.0.2.131"] if port == 443 else [pod_ip(rng.choice(NODES))])
        recs += flow_pair(t, local, eph(), dst, port)
    for _ in range(200):  # kubelet health probes and metrics scraping inside the cluster
        t = rand_time()
        node = rng.choice(NODES)
        recs += flow_pair(t, node, eph(), pod_ip(node), rng.choice([8080, 9090, 10250]), pkts=rng.randint(4, 10))
    for _ in range(50):
        t = rand_time()
        recs.append({"inst": rng.choice(NODES), "nodata": True, "status": "NODATA", "start": epoch(t), "end": epoch(t) + 60})
    # A node downloads a large model file from a CDN over HTTP/3 (QUIC, UDP 443): about
    # 1.1 million packets a minute in, and 280,000 acknowledgements out, for four minutes.
    recs += long_stream(NODES[2], eph(), "192.0.2.190", 443, 17, at(5, 40, 31), 4, 280000, 78, 1100000, 1350)
    # Attack: after the privileged pod (12:16) the node's host network talks to a pool.
    t = at(12, 24, 5)
    while t < at(23, 50):
        recs += flow_pair(t, MINER_NODE, 43718, POOL_IPS["pool.supportxmr.com"], 3333, pkts=rng.randint(6, 14), size=rng.randint(900, 2600))
        t += dt.timedelta(minutes=rng.randint(10, 20))
    # Attack: from 14:12 the node runs a Tor relay, started from the privileged pod (the
    # leaked key opened the nodes' OR port, 9001, to the internet at 14:06). The relay
    # fetches the consensus from a directory port (9030) and connects to three relays on
    # their OR port; from 14:31 six relays connect to its own OR port, one every five
    # minutes or so. The OR connections stay open until 16:00: a record about every ten
    # minutes, no SYN after the first.
    conns = [(eph(), relay, port, True, at(14, 12, 9) + dt.timedelta(seconds=20 * i))
             for i, (relay, port) in enumerate([(TOR_DIRECTORY, 9030)] + [(g, 9001) for g in TOR_GUARDS])]
    conns += [(9001, relay, eph(), False, at(14, 31, 44) + dt.timedelta(minutes=5 * i, seconds=rng.randrange(60)))
              for i, relay in enumerate(TOR_PEERS)]
    for local_port, relay, relay_port, outbound, t in conns:
        first = t
        while t < at(16, 0):
            recs += flow_pair(t, MINER_NODE, local_port, relay, relay_port, initiated_by_local=outbound,
                              pkts=rng.randint(20, 400), established=t > first)
            if relay_port == 9030:
                break  # one download
            t += dt.timedelta(minutes=rng.randint(9, 13))
    # Attack: at 21:12:40 the node joins the flood on the web shop with UDP: eight sockets,
    # each with its own source port, to port 80, about 6,000 packets a second in all, for
    # two and a half minutes. A few records, a minute each, with very large packet counts.
    sports = rng.sample(range(32768, 61000), 8)
    t0, t1 = at(21, 12, 40), at(21, 15, 10)
    w = t0
    while w < t1:
        w_end = min(w + dt.timedelta(seconds=60), t1)
        per_socket = 6000 * (w_end - w).total_seconds() / len(sports)
        for sport in sports:
            pkts = int(per_socket * rng.uniform(0.97, 1.03))
            recs.append(flow_record(MINER_NODE, MINER_NODE[1], FLOOD_TARGET, sport, 80, epoch(w), epoch(w_end) - 1,
                                    pkts, pkts * 540, "egress", proto=17))
        w = w_end
    recs.sort(key=lambda r: (r["start"], r["inst"][2]))
    body = "\n".join(flow_lines(recs, v5=False)) + "\n"
    write("vpcflow/cloudwatch-export/eks-vpc-flowlogs-2026-11-20.log", body.encode())
    return len(recs)


# --------------------------------------------------------------------------- Route 53 Resolver query logs

BENIGN_NAMES = [
    ("sts.us-east-1.amazonaws.com", "A", ["192.0.2.40"]),
    ("s3.us-east-1.amazonaws.com", "A", ["192.0.2.41", "192.0.2.42"]),
    ("acme-app-assets.s3.us-east-1.amazonaws.com", "A", ["192.0.2.43"]),
    ("dynamodb.us-east-1.amazonaws.com", "A", ["192.0.2.44"]),
    ("secretsmanager.us-east-1.amazonaws.com", "A", ["192.0.2.45"]),
    ("ssm.us-east-1.amazonaws.com", "A", ["192.0.2.46"]),
    ("ec2messages.us-east-1.amazonaws.com", "A", ["192.0.2.47"]),
    ("logs.us-east-1.amazonaws.com", "A", ["192.0.2.48"]),
    ("kms.us-east-1.amazonaws.com", "A", ["192.0.2.49"]),
    ("orders-db.cluster-c9akq2x1y3zd.us-east-1.rds.amazonaws.com", "A", [DB_IP]),
    ("orders-cache.x1y2z3.ng.0001.use1.cache.amazonaws.com", "A", [CACHE_IP]),
    ("api.payments.example.com", "A", ["203.0.113.200"]),
    ("api.github.com", "A", ["192.0.2.140"]),
    ("registry-1.docker.io", "A", ["192.0.2.141"]),
    ("%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT, "A", ["192.0.2.130"]),
    ("prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com", "A", ["192.0.2.131"]),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9.gr7.us-east-1.eks.amazonaws.com", "A", ["10.1.40.12", "10.1.41.87"]),
    ("time.aws.com", "A", ["192.0.2.150"]),
    ("amazonlinux-2023-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com", "AAAA", ["2001:db8:1::42"]),
    ("minergate-removal-guide.example.com", "A", ["198.51.100.180"]),  # mentions a pool, is not one
]


def dns_record(t, inst, vpc, name, qtype="A", answers=(), rcode="NOERROR", srcaddr=None):
    return {"version": "1.100000", "account_id": ACCOUNT, "region": "us-east-1", "vpc_id": vpc,
            "query_timestamp": iso(t), "query_name": name + ".", "query_type": qtype, "query_class": "IN",
            "rcode": rcode,
            "answers": [{"Rdata": a if ":" in a or a[0].isdigit() else a + ".", "Type": qtype, "Class": "IN"} for a in answers],
            "srcaddr": srcaddr or inst[1], "srcport": str(rng.randint(32768, 60999)), "transport": "UDP",
            "srcids": {"instance": inst[0]}}


def write_dns():
    app_recs, eks_recs = [], []
    for _ in range(1900):
        t = rand_time(OFFICE)
        inst = rng.choice(WEB + APP)
        name, qtype, ans = rng.choice(BENIGN_NAMES[:12] + BENIGN_NAMES[17:])
        if rng.random() < 0.06:  # search-domain expansion that does not exist
            app_recs.append(dns_record(t, inst, VPC_APP, name + ".ec2.internal", qtype, (), rcode="NXDOMAIN"))
        else:
            app_recs.append(dns_record(t, inst, VPC_APP, name, qtype, ans))
    for _ in range(12):  # the metadata service's own name (benign)
        t = rand_time()
        inst = rng.choice(APP)
        app_recs.append(dns_record(t, inst, VPC_APP, "instance-data.ec2.internal", "A", ["169.254.169.254"]))
    for _ in range(900):
        t = rand_time()
        node = rng.choice(NODES)
        name, qtype, ans = rng.choice(BENIGN_NAMES[:2] + BENIGN_NAMES[12:19])
        eks_recs.append(dns_record(t, node, VPC_EKS, name, qtype, ans))
    # Long hashed names that are not a data channel. Each server's anti-virus agent checks
    # the same twelve file hashes (SHA-1, 40 hex characters) every four hours.
    av_names = ["%s.hash.av-reputation.example" % hashlib.sha1(("agent-file/%d" % i).encode()).hexdigest()
                for i in range(12)]
    for inst in WEB + APP:
        t = at(0, rng.randrange(60), rng.randrange(60))
        while t < at(24):
            for name in av_names:
                app_recs.append(dns_record(t, inst, VPC_APP, name, "A", ["127.0.0.1"]))
                t += dt.timedelta(milliseconds=rng.randint(200, 1500))
            t += dt.timedelta(hours=4)
    # A synthetic check on a node resolves the 22 load balancers of the cluster's
    # Services every three hours: long, high-entropy names, all different, but hyphenated
    # (a<32 hex>-<number>, as Kubernetes names them).
    lb_names = []
    for i in range(22):
        digest = hashlib.md5(("service/%d" % i).encode()).hexdigest()
        lb_names.append(("a%s-%d.us-east-1.elb.amazonaws.com" % (digest, 1000000000 + int(digest[:8], 16) % 999999999),
                         ["192.0.2.%d" % (160 + i)]))
    # Three of the names it checks belong to Services deleted last week, and fail
    # (NXDOMAIN): random-looking names that do not exist, but three domains, not eight.
    gone = []
    for i in range(3):
        digest = hashlib.md5(("service/deleted/%d" % i).encode()).hexdigest()
        gone.append("a%s-%d.us-east-1.elb.amazonaws.com" % (digest, 1000000000 + int(digest[:8], 16) % 999999999))
    for hour in range(1, 24, 3):
        t = at(hour, 5, rng.randrange(10))
        for name, ans in lb_names:
            eks_recs.append(dns_record(t, NODES[1], VPC_EKS, name, "A", ans))
            t += dt.timedelta(milliseconds=rng.randint(50, 400))
        for name in gone:
            eks_recs.append(dns_record(t, NODES[1], VPC_EKS, name, "A", (), rcode="NXDOMAIN"))
            t += dt.timedelta(milliseconds=rng.randint(50, 400))
    # Attack: from 13:41 the batch host sends data out over DNS: 480 queries in eight
    # minutes under a domain whose name server the attacker runs, each carrying 35 bytes as
    # a 56-character base32 first label, then a sequence number. The server answers
    # NXDOMAIN to each.
    t = at(13, 41, 12)
    for seq in range(480):
        chunk = base64.b32encode(bytes(rng.getrandbits(8) for _ in range(35))).decode().lower()
        app_recs.append(dns_record(t, BATCH_HOST, VPC_APP, "%s.%x.%s" % (chunk, seq, EXFIL_DOMAIN), "A", (), rcode="NXDOMAIN"))
        t += dt.timedelta(milliseconds=rng.randint(600, 1400))
    # Attack: SSRF probe with a rebinding name on web-1, then the miner's pool lookups.
    for s in (0, 2, 5):
        app_recs.append(dns_record(at(13, 5, 10 + s), WEB[0], VPC_APP, "169.254.169.254.nip.io", "A", ["169.254.169.254"]))
    t = at(12, 30, 58)
    while t < at(23, 55):
        name = "xmr-eu1.nanopool.org" if t.hour != 15 else rng.choice(["xmr-eu1.nanopool.org", "pool.supportxmr.com"])
        app_recs.append(dns_record(t, BATCH_HOST, VPC_APP, name, "A", [POOL_IPS[name]]))
        t += dt.timedelta(minutes=rng.randint(25, 50))
    app_recs.append(dns_record(at(15, 2, 39), BATCH_HOST, VPC_APP, "pool.supportxmr.com", "A", [POOL_IPS["pool.supportxmr.com"]]))
    # Attack: the backdoor dropped on the batch host with the miner looks up its controller
    # before each call home. At 17:31 the name no longer resolves (the registrar has
    # suspended cdnsync.example), and the backdoor falls back on its domain generation
    # algorithm: 16 names of 10 to 16 random letters under common TLDs, a few seconds
    # apart, none of them registered.
    for t in c2_beacons():
        app_recs.append(dns_record(t, BATCH_HOST, VPC_APP, C2_NAME, "A", [C2_IP]))
    t = at(17, 31, 2)
    app_recs.append(dns_record(t, BATCH_HOST, VPC_APP, C2_NAME, "A", (), rcode="NXDOMAIN"))
    for _ in range(16):
        t += dt.timedelta(seconds=rng.randint(4, 12))
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(10, 16)))
        app_recs.append(dns_record(t, BATCH_HOST, VPC_APP, "%s.%s" % (label, rng.choice(DGA_TLDS)), "A", (), rcode="NXDOMAIN"))
    t = at(12, 24, 1)
    while t < at(23, 50):
        name = rng.choice(["pool.supportxmr.com", "gulf.moneroocean.stream"])
        eks_recs.append(dns_record(t, MINER_NODE, VPC_EKS, name, "A", [POOL_IPS[name]]))
        t += dt.timedelta(minutes=rng.randint(30, 60))
    for recs, vpc in ((app_recs, VPC_APP), (eks_recs, VPC_EKS)):
        recs.sort(key=lambda r: r["query_timestamp"])
        half = len(recs) // 2
        for part, stamp in ((recs[:half], "20261120T1200Z"), (recs[half:], "20261121T0000Z")):
            body = "\n".join(json.dumps(r, separators=(",", ":")) for r in part) + "\n"
            write("dns/AWSLogs/%s/vpcdnsquerylogs/%s/2026/11/20/%s_vpcdnsquerylogs_%s_%s_%s.log.gz"
                  % (ACCOUNT, vpc, vpc, ACCOUNT, stamp, hexid(8)), body.encode(), compress=True)
    return len(app_recs) + len(eks_recs)


# --------------------------------------------------------------------------- EKS audit events

K8S_UA = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"
ALICE_K8S = "arn:aws:sts::%s:assumed-role/%s/alice.nguyen@example.com" % (ACCOUNT, SSO_ADMIN.name)
CI_K8S = CI_DEPLOY.arn


def k8s_user(username, groups=None):
    """A Kubernetes identity that is not an IAM principal (system users, service accounts)."""
    return {"username": username, "groups": groups or ["system:authenticated"]}


def k8s_iam_user(arn, canonical_arn, key, principal, session=""):
    """An IAM principal authenticated through an EKS access entry (username = the ARN)."""
    return {"username": arn, "uid": "aws-iam-authenticator:%s:%s" % (ACCOUNT, principal), "groups": ["system:authenticated"],
            "extra": {"accessKeyId": [key], "arn": [arn], "canonicalArn": [canonical_arn], "principalId": [principal],
                      "sessionName": [session], "sigs.k8s.io/aws-iam-authenticator/principalId": [principal]}}


def audit(t, user, verb, uri, resource=None, namespace=None, name=None, subresource=None, group="", version="v1",
          code=200, ips=("10.1.40.12",), ua=K8S_UA, req_obj=None, resp_obj=None, level="Metadata", reason=None,
          stage="ResponseComplete", decision="allow"):
    t = t + dt.timedelta(microseconds=rng.randint(0, 999999))
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": new_uuid(), "stage": stage,
         "requestURI": uri, "verb": verb, "user": user, "sourceIPs": list(ips), "userAgent": ua}
    if resource:
        ref = {"resource": resource}
        if namespace:
            ref["namespace"] = namespace
        if name:
            ref["name"] = name
        ref["apiGroup"] = group
        ref["apiVersion"] = version
        if subresource:
            ref["subresource"] = subresource
        e["objectRef"] = ref
    status = {"metadata": {}, "code": code}
    if code >= 400:
        status.update({"status": "Failure", "reason": {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "AlreadyExists"}.get(code, "BadRequest"),
                       "message": "%s is forbidden" % (resource or uri)})
        if code == 403 and resource:
            status["message"] = '%s "%s" is forbidden: User "%s" cannot %s resource "%s" in API group "%s"%s' % (
                resource, name or "", user["username"], verb, resource, group,
                ' in the namespace "%s"' % namespace if namespace else " at the cluster scope")
            status["details"] = {"name": name or "", "group": group, "kind": resource}
    e["responseStatus"] = status
    if req_obj is not None:
        e["requestObject"] = req_obj
    if resp_obj is not None:
        e["responseObject"] = resp_obj
    t2 = t + dt.timedelta(microseconds=rng.randint(900, 40000))
    e["requestReceivedTimestamp"] = iso_micro(t)
    e["stageTimestamp"] = iso_micro(t2)
    if code != 401:  # a request that fails authentication never reaches the authorizer
        default = "" if decision == "forbid" else ('RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole '
                                                   '"system:basic-user" to Group "system:authenticated"')
        e["annotations"] = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason or default}
    return e


def pod_spec(name, namespace, image, privileged=False, host_paths=(), host_network=False, host_pid=False, sa="default", owner=None):
    containers = [{"name": name.split("-")[0], "image": image, "resources": {},
                   "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                   "imagePullPolicy": "IfNotPresent"}]
    if privileged:
        containers[0]["securityContext"] = {"privileged": True}
    else:
        containers[0]["securityContext"] = {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                            "capabilities": {"drop": ["ALL"]}}
    volumes = []
    mounts = []
    for i, (path, mount) in enumerate(host_paths):
        volumes.append({"name": "host-%d" % i, "hostPath": {"path": path, "type": ""}})
        mounts.append({"name": "host-%d" % i, "mountPath": mount})
    if mounts:
        containers[0]["volumeMounts"] = mounts
    spec = {"volumes": volumes, "containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": sa, "securityContext": {}, "schedulerName": "default-scheduler",
            "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority"}
    if not volumes:
        del spec["volumes"]
    if host_network:
        spec["hostNetwork"] = True
    if host_pid:
        spec["hostPID"] = True
    meta = {"name": name, "namespace": namespace, "creationTimestamp": None, "labels": {"app": name.split("-")[0]}}
    if owner:
        meta["ownerReferences"] = [owner]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {}}


def write_eks():
    ev = []
    node_users = [k8s_user("system:node:" + n[4], groups=["system:nodes", "system:authenticated"]) for n in NODES]
    kcm = k8s_user("system:kube-controller-manager")
    sched = k8s_user("system:kube-scheduler")
    # Control-plane housekeeping: leader election and node leases.
    for _ in range(120):
        t = rand_time()
        who, lease, ns = rng.choice([(kcm, "kube-controller-manager", "kube-system"), (sched, "kube-scheduler", "kube-system")] +
                                    [(u, u["username"].split(":")[-1], "kube-node-lease") for u in node_users])
        verb = rng.choice(["get", "update"])
        ev.append(audit(t, who, verb, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s?timeout=5s" % (ns, lease),
                        "leases", ns, lease, group="coordination.k8s.io", ua="kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election"
                        if who is kcm else ("kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46" if who in node_users else "kube-scheduler/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election"),
                        reason='RBAC: allowed by ClusterRoleBinding "system:%s" of ClusterRole "system:%s" to User "%s"' % (lease, lease, who["username"]) if who in (kcm, sched) else ""))
    # System service accounts reading the API.
    sas = [("aws-node", "kube-system", "aws-node/v1.19.0 (linux/amd64) kubernetes/$Format", [("nodes", None), ("pods", None)]),
           ("coredns", "kube-system", "coredns/v1.11.3 (linux/amd64) kubernetes/v0.0.0", [("endpointslices", "discovery.k8s.io"), ("services", None), ("namespaces", None)]),
           ("argocd-application-controller", "argocd", "argocd-application-controller/v2.13.1 (linux/amd64) kubernetes/$Format", [("deployments", "apps"), ("services", None), ("configmaps", None)])]
    for _ in range(110):
        t = rand_time()
        name, ns, ua, res = rng.choice(sas)
        r, g = rng.choice(res)
        path = ("/apis/%s/v1/%s" % (g, r)) if g else ("/api/v1/%s" % r)
        ev.append(audit(t, k8s_user("system:serviceaccount:%s:%s" % (ns, name), groups=["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"]),
                        rng.choice(["list", "watch", "get"]), path + "?limit=500", r, group=g or "", ua=ua, ips=("10.1.%d.%d" % (rng.randint(34, 35), rng.randint(10, 250)),),
                        reason='RBAC: allowed by ClusterRoleBinding "%s" of ClusterRole "%s" to ServiceAccount "%s/%s"' % (name, name, name, ns)))
    # Load balancer health checks: anonymous and allowed by default.
    for _ in range(50):
        t = rand_time()
        path = rng.choice(["/readyz", "/livez", "/healthz", "/readyz?verbose", "/version"])
        ev.append(audit(t, k8s_user("system:anonymous", groups=["system:unauthenticated"]), "get", path,
                        ips=("10.1.%d.%d" % (rng.randint(40, 41), rng.randint(2, 250)),), ua="ELB-HealthChecker/2.0",
                        reason='RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"'))
    # Internet scanners probing the public endpoint: denied.
    for _ in range(14):
        t = rand_time()
        path = rng.choice(["/api/v1/namespaces/kube-system/secrets", "/api/v1/pods", "/apis/apps/v1/deployments"])
        res = path.rsplit("/", 1)[1]
        ev.append(audit(t, k8s_user("system:anonymous", groups=["system:unauthenticated"]), "list", path, res,
                        "kube-system" if "kube-system" in path else None, group="apps" if "apps" in path else "",
                        code=403, decision="forbid", ips=(rng.choice(["192.0.2.201", "192.0.2.202", "203.0.113.240"]),),
                        ua="python-requests/2.32.3"))
    # The daemon-set controller creates the VPC CNI pod on a new node: privileged, with host paths, in kube-system.
    cni_owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "aws-node", "uid": new_uuid(), "controller": True, "blockOwnerDeletion": True}
    for i in range(3):
        t = at(4, 11, 5 + i * 40)
        pod = pod_spec("aws-node-%s" % alnum(5).lower(), "kube-system", "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.19.0-eksbuild.1",
                       privileged=True, host_paths=[("/opt/cni/bin", "/host/opt/cni/bin"), ("/etc/cni/net.d", "/host/etc/cni/net.d"),
                                                     ("/var/log/aws-routed-eni", "/host/var/log/aws-routed-eni"), ("/var/run/aws-node", "/var/run/aws-node"),
                                                     ("/run/xtables.lock", "/run/xtables.lock")],
                       host_network=True, sa="aws-node", owner=cni_owner)
        ev.append(audit(t, k8s_user("system:serviceaccount:kube-system:daemon-set-controller",
                                    groups=["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]),
                        "create", "/api/v1/namespaces/kube-system/pods", "pods", "kube-system", None, code=201, level="RequestResponse",
                        ua="kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:daemon-set-controller",
                        req_obj=pod, reason='RBAC: allowed by ClusterRoleBinding "system:controller:daemon-set-controller" of ClusterRole "system:controller:daemon-set-controller" to ServiceAccount "daemon-set-controller/kube-system"'))
    # Alice (admin) and Carol (developer) at work.
    alice = k8s_iam_user(ALICE_K8S, SSO_ADMIN.arn, stable("ASIA", "eks-alice", 20), SSO_ADMIN.id + ":alice.nguyen@example.com",
                         "alice.nguyen@example.com")
    carol_arn = "arn:aws:sts::%s:assumed-role/%s/carol.diaz@example.com" % (ACCOUNT, SSO_DEV.name)
    carol = k8s_iam_user(carol_arn, SSO_DEV.arn, stable("ASIA", "eks-carol", 20), SSO_DEV.id + ":carol.diaz@example.com",
                         "carol.diaz@example.com")
    admin_reason = 'EKS Access Policy: allowed by ClusterRoleBinding "%s+arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" of ClusterRole "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" to User "%s"'
    for _ in range(70):
        t = rand_time(OFFICE, start=at(8), end=at(18))
        who, ip = rng.choice([(alice, OFFICE_IPS[0]), (carol, OFFICE_IPS[1])])
        ns = rng.choice(["shop", "shop", "argocd", "monitoring"])
        r = rng.choice(["pods", "pods", "deployments", "services", "events", "configmaps"])
        g = "apps" if r == "deployments" else ""
        path = ("/apis/apps/v1/namespaces/%s/%s" % (ns, r)) if g else ("/api/v1/namespaces/%s/%s" % (ns, r))
        ev.append(audit(t, who, "list", path + "?limit=500", r, ns, group=g, ips=(ip,),
                        reason=admin_reason % (who["username"], who["username"])))
    for _ in range(6):  # Carol may not read secrets
        t = rand_time(OFFICE, start=at(9), end=at(17))
        ev.append(audit(t, carol, "list", "/api/v1/namespaces/shop/secrets?limit=500", "secrets", "shop", code=403, decision="forbid", ips=(OFFICE_IPS[1],)))
    for i in range(3):  # Alice debugs the shop: exec into an application pod (not kube-system)
        t = at(10, 47, 12) + dt.timedelta(minutes=i * 7)
        pod = "catalog-7d9f8b6c5d-%s" % alnum(5).lower()
        ev.append(audit(t, alice, "get", "/api/v1/namespaces/shop/pods/%s/exec?command=sh&container=catalog&stdin=true&stdout=true&tty=true" % pod,
                        "pods", "shop", pod, subresource="exec", code=101, ips=(OFFICE_IPS[0],),
                        reason=admin_reason % (ALICE_K8S, ALICE_K8S)))
    # Alice installs Argo CD's binding (cluster-admin to a dedicated service account) and a log shipper.
    ev.append(audit(at(11, 5, 2), alice, "create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
                    "clusterrolebindings", None, "argocd-application-controller", group="rbac.authorization.k8s.io", code=201, level="RequestResponse",
                    ips=(OFFICE_IPS[0],), reason=admin_reason % (ALICE_K8S, ALICE_K8S),
                    req_obj={"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                             "metadata": {"name": "argocd-application-controller", "creationTimestamp": None},
                             "subjects": [{"kind": "ServiceAccount", "name": "argocd-application-controller", "namespace": "argocd"}],
                             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}))
    fluent = pod_spec("fluent-bit", "monitoring", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
                      host_paths=[("/var/log", "/var/log"), ("/var/lib/docker/containers", "/var/lib/docker/containers")], sa="fluent-bit")
    ds = {"kind": "DaemonSet", "apiVersion": "apps/v1", "metadata": {"name": "fluent-bit", "namespace": "monitoring", "creationTimestamp": None},
          "spec": {"selector": {"matchLabels": {"app": "fluent-bit"}}, "template": {"metadata": {"labels": {"app": "fluent-bit"}, "creationTimestamp": None},
                                                                                   "spec": fluent["spec"]}}}
    ev.append(audit(at(11, 9, 40), alice, "create", "/apis/apps/v1/namespaces/monitoring/daemonsets?fieldManager=helm",
                    "daemonsets", "monitoring", "fluent-bit", group="apps", code=201, level="RequestResponse", ips=(OFFICE_IPS[0],),
                    ua="Helm/3.16.3", req_obj=ds, reason=admin_reason % (ALICE_K8S, ALICE_K8S)))

    # ---- the attack, with the leaked ci-deploy key (it has an EKS access entry for deployments)
    ci = k8s_iam_user(CI_K8S, CI_K8S, CI_DEPLOY.key, CI_DEPLOY.id)
    ci_reason = admin_reason % (CI_K8S, CI_K8S)
    atk = []
    t = at(12, 3, 41)
    for r, ns in [("namespaces", None), ("pods", None), ("secrets", "kube-system"), ("serviceaccounts", "default")]:
        path = "/api/v1/%s" % r if not ns else "/api/v1/namespaces/%s/%s" % (ns, r)
        atk.append(audit(t, ci, "list", path + "?limit=500", r, ns, ips=(ATTACKER_KALI,), reason=ci_reason))
        t += dt.timedelta(seconds=rng.randint(5, 20))
    anon_crb = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": "system:kube-anon-read", "creationTimestamp": None},
                "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:anonymous"}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}
    atk.append(audit(at(12, 5, 17), ci, "create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
                     "clusterrolebindings", None, "system:kube-anon-read", group="rbac.authorization.k8s.io", code=201, level="RequestResponse",
                     ips=(ATTACKER_KALI,), req_obj=anon_crb, resp_obj=dict(anon_crb, metadata={"name": "system:kube-anon-read", "uid": new_uuid(),
                                                                                                 "resourceVersion": "48213377", "creationTimestamp": "2026-11-20T12:05:17Z"}),
                     reason=ci_reason))
    anon = k8s_user("system:anonymous", groups=["system:unauthenticated"])
    anon_reason = 'RBAC: allowed by ClusterRoleBinding "system:kube-anon-read" of ClusterRole "cluster-admin" to User "system:anonymous"'
    t = at(12, 7, 2)
    for path, r, ns in [("/api/v1/namespaces/kube-system/secrets", "secrets", "kube-system"), ("/api/v1/pods", "pods", None),
                        ("/api/v1/namespaces/shop/configmaps", "configmaps", "shop")]:
        atk.append(audit(t, anon, "list", path, r, ns, ips=(ATTACKER_PARROT,), ua="curl/8.11.0", reason=anon_reason))
        t += dt.timedelta(seconds=rng.randint(10, 40))
    kp = "kube-proxy-5kq7x"
    atk.append(audit(at(12, 10, 33), ci, "get", "/api/v1/namespaces/kube-system/pods/%s/exec?command=sh&command=-c&command=cat+%%2Fvar%%2Flib%%2Fkube-proxy%%2Fkubeconfig&container=kube-proxy&stderr=true&stdout=true" % kp,
                     "pods", "kube-system", kp, subresource="exec", code=101, ips=(ATTACKER_KALI,), reason=ci_reason))
    rb = {"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
          "metadata": {"name": "default-admin", "namespace": "default", "creationTimestamp": None},
          "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}
    atk.append(audit(at(12, 13, 8), ci, "create", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
                     "rolebindings", "default", "default-admin", group="rbac.authorization.k8s.io", code=201, level="RequestResponse",
                     ips=(ATTACKER_KALI,), req_obj=rb, reason=ci_reason))
    dbg = pod_spec("node-debugger-x7k2p", "default", "docker.io/library/alpine:3.20", privileged=True,
                   host_paths=[("/", "/host")], host_network=True, host_pid=True)
    dbg["spec"]["nodeName"] = MINER_NODE[4]
    dbg["spec"]["containers"][0]["command"] = ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sleep", "infinity"]
    create_dbg = audit(at(12, 16, 44), ci, "create", "/api/v1/namespaces/default/pods?fieldManager=kubectl-run",
                       "pods", "default", "node-debugger-x7k2p", code=201, level="RequestResponse", ips=(ATTACKER_KALI,),
                       req_obj=dbg, reason=ci_reason)
    exec_dbg = audit(at(12, 18, 2), ci, "get", "/api/v1/namespaces/default/pods/node-debugger-x7k2p/exec?command=sh&container=node&stdin=true&stdout=true&tty=true",
                     "pods", "default", "node-debugger-x7k2p", subresource="exec", code=101, ips=(ATTACKER_KALI,), reason=ci_reason)

    # The events from 12:15 to 13:30 arrive through a CloudWatch Logs subscription
    # (including the privileged pod); everything else is in the JSON lines export.
    everything = sorted(ev + atk + [create_dbg, exec_dbg], key=lambda e: e["requestReceivedTimestamp"])
    in_cw = [e for e in everything if "2026-11-20T12:15" <= e["requestReceivedTimestamp"] < "2026-11-20T13:30"]
    in_jsonl = [e for e in everything if not ("2026-11-20T12:15" <= e["requestReceivedTimestamp"] < "2026-11-20T13:30")]
    body = "\n".join(json.dumps(e, separators=(",", ":")) for e in in_jsonl) + "\n"
    write("eks/prod-cluster-audit-2026-11-20.jsonl", body.encode())
    cw_events = []
    for e in in_cw:
        ts_ms = int(dt.datetime.strptime(e["requestReceivedTimestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)
        cw_events.append({"id": str(rng.getrandbits(184)).zfill(56)[:56], "timestamp": ts_ms, "message": json.dumps(e, separators=(",", ":"))})
    payload = {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/aws/eks/%s/cluster" % CLUSTER,
               "logStream": "kube-apiserver-audit-%s" % hexid(32), "subscriptionFilters": ["picket-eks-audit"], "logEvents": cw_events}
    write("eks/cloudwatch-subscription-prod-cluster.json", json.dumps(payload, indent=1).encode())
    return len(everything)


# --------------------------------------------------------------------------- main

def main():
    for sub in ("cloudtrail", "vpcflow", "dns", "eks"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    n_ct, n_data = write_cloudtrail()
    n_flow = flows_app_vpc() + flows_eks_vpc()
    n_dns = write_dns()
    n_eks = write_eks()
    print("cloudtrail: %d records (%d management, %d S3 data)" % (n_ct, n_ct - n_data, n_data))
    print("vpcflow:    %d records" % n_flow)
    print("dns:        %d queries" % n_dns)
    print("eks:        %d audit events" % n_eks)


if __name__ == "__main__":
    main()
