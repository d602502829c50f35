"""template.yaml and example/template.yaml: least privilege and the pieces
users rely on.

Each check is a function of a resolved template that returns the problems it
finds. TemplateChecks asserts that the real template has none, for several
parameter sets; EveryCheckCanFail breaks the template in a targeted way for
each check and asserts that the check notices, so no assertion is vacuous.
IAM checks are behavioural where it matters: the role's statements are
evaluated against concrete requests ("delete a root cluster") as well as
inspected for shape.
"""

from __future__ import annotations

import copy
import json
import unittest
from typing import Callable

from cfn_eval import (
    ACCOUNT,
    PARTITION,
    REGION,
    STACK_NAME,
    Resolver,
    as_list,
    is_allowed,
    is_allowed_by_key,
    load,
    resolve,
    tags,
)

TEMPLATE = load("template.yaml")
EXAMPLE = load("example/template.yaml")

# Parameter sets the checks run against.
SCENARIOS: dict[str, dict[str, str]] = {
    "defaults": {},
    "everything optional set": {
        "ExtraSecretPrefixes": "/team-a/,/team-b/,/team-c/,/team-d/",
        "CreateDefaultKey": "false",
        "SetupDefaultAccess": "true",
        "DefaultAccessGroups": "developers,qa",
        "DefaultAccessRoles": "ci",
        "ProtectedClusterIds": "prod-db,billing-db,acm-test-legacy",
        "AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops",
        "Architecture": "x86_64",
        "LogRetentionDays": "30",
    },
    "default access with the default key": {
        "SetupDefaultAccess": "true",
        "DefaultAccessRoles": "ci",
        "ExtraSecretPrefixes": "/team-a/",
    },
    "a name prefix of its own, logs deleted with the stack": {
        "NamePrefix": "dev-clones-",
        "KeepLogsOnDelete": "false",
    },
}

OWNERSHIP = "aurora-clone-manager:stack"
OURS = {OWNERSHIP: STACK_NAME, "aurora-clone-manager:role": "clone"}
OTHER_DEPLOYMENT = {OWNERSHIP: "another-deployment", "aurora-clone-manager:role": "clone"}


def arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"


def name_prefix(res: Resolver) -> str:
    """The prefix every cluster and instance of the deployment is named with."""
    return res.parameters["NamePrefix"] or f"{STACK_NAME}-"


def ours(res: Resolver, kind: str, name: str) -> str:
    """The ARN of one of the deployment's own resources, e.g. ours(res, "cluster", "x")."""
    return arn("rds", f"{kind}:{name_prefix(res)}{name}")


ROOT_CLUSTER = arn("rds", "cluster:prod-db")
ROOT_INSTANCE = arn("rds", "db:prod-db-writer")
SUBNET_GROUP = arn("rds", "subgrp:default")
FUNCTION_ARN = arn("lambda", f"function:{STACK_NAME}")
LOG_GROUP = f"/aws/lambda/{STACK_NAME}"
# The function's role as IAM names it; the resolver leaves "<GetAtt:FunctionRole.Arn>"
# where the template refers to it.
ROLE = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{STACK_NAME}-FunctionRole-ABC123"
FOREIGN_KEY = arn("kms", "key/9999abcd-12ab-34cd-56ef-1234567890ab")
# The policy a key made by someone else usually has: the account's IAM policies decide.
FOREIGN_KEY_POLICY = [{"Effect": "Allow", "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]

RDS_CHANGES = [
    "rds:DeleteDBCluster",
    "rds:DeleteDBInstance",
    "rds:ModifyDBCluster",
    "rds:ModifyDBInstance",
    "rds:RemoveTagsFromResource",
    "rds:CreateDBClusterSnapshot",
    "rds:StartDBCluster",
    "rds:StopDBCluster",
]

# Actions allowed on Resource "*": they have no resource type, or (RDS
# Describe*) are authorised against all resources when no identifier is given.
STAR_RESOURCE_ACTIONS = {
    "rds:DescribeDBClusters",
    "rds:DescribeDBInstances",
    "secretsmanager:ListSecrets",
    "kms:ListAliases",
    "kms:ListKeys",
    "kms:CreateKey",
    # The Service Authorization Reference lists no resource type for GetMetricData
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html);
    # the sweep reads the clones' DatabaseConnections with it.
    "cloudwatch:GetMetricData",
}

REQUIRED_PARAMETERS = {
    "LogLevel": "info",
    "CustomResourceType": "Custom::AuroraClone",
    "MaxCopyAge": "P3D",
    "MaxClonesPerSource": "15",
    "MaintenanceSchedule": "cron(0 3 * * ? *)",
    "NamePrefix": "",
    "KeepLogsOnDelete": "true",
    "DefaultSecretPrefix": "/aurora-clone-manager/",
    "ExtraSecretPrefixes": "",
    "CreateDefaultKey": "true",
    "SetupDefaultAccess": "false",
    "DefaultAccessGroups": "",
    "DefaultAccessRoles": "",
    "CopyInstanceClass": "db.t4g.medium",
    "LogRetentionDays": None,
    "Architecture": "arm64",
    "AlarmTopicArn": "",
    "DefaultCloneTtl": "",
    "ExpiryWarning": "PT24H",
    "SweepSchedule": "rate(15 minutes)",
}

ENVIRONMENT_VARIABLES = {
    "STACK_NAME",
    "NAME_PREFIX",
    "FUNCTION_ROLE_ARN",
    "MAX_COPY_AGE",
    "MAX_CLONES_PER_SOURCE",
    "DEFAULT_SECRET_PREFIX",
    "ALLOWED_SECRET_PREFIXES",
    "DEFAULT_KMS_KEY_ID",
    "COPY_INSTANCE_CLASS",
    "MAINTENANCE_CONFIG_PARAMETER",
    "POLL_INTERVAL_SECONDS",
    "READY_TIMEOUT",
    "LOG_LEVEL",
    "EVENT_BUS_NAME",
    "RETRY_MODE",
    "RETRY_MAX_ATTEMPTS",
    "STATE_TABLE",
    "DEFAULT_CLONE_TTL",
    "EXPIRY_WARNING",
}

EMF_METRICS = [
    "FreeCloneSlots",
    "Copies",
    "Clones",
    "CopiesCreated",
    "CopiesPurged",
    "Failures",
    "PoolClusters",
    "PoolStorageGB",
    "EstimatedMonthlyCost",
    "EstimatedMonthlyCostMax",
]

CLONE_RETURN_VALUES = [
    "Arn",
    "ClusterId",
    "Endpoint",
    "ReaderEndpoint",
    "Port",
    "MasterUsername",
    "DatabaseName",
    "PasswordSecret",
    "PasswordSecretArn",
    "KmsKeyId",
    "ClonedFrom",
    "DataTimestamp",
]

# IAM size quotas, in characters without whitespace: all inline policies of
# a role together, and each managed policy.
ROLE_INLINE_POLICY_QUOTA = 10_240
MANAGED_POLICY_QUOTA = 6_144
# The largest policies we support: the longest stack name the function name
# allows, twenty protected roots and three long extra prefixes.
LARGEST_POLICIES = {
    "stack_name": "s" * 64,
    "ProtectedClusterIds": ",".join(f"production-cluster-{i:02d}" for i in range(20)),
    "ExtraSecretPrefixes": ",".join(f"/{c * 40}/" for c in "abc"),
    "SetupDefaultAccess": "true",
}

Problems = list[str]


# ------------------------------------------------------------------ helpers


def role_policy_documents(res: Resolver) -> tuple[list[dict], list[dict]]:
    """The function role's inline policy documents and those of the managed
    policies attached to it."""
    resources = res.resources()
    inline = [p["PolicyDocument"] for p in resources["FunctionRole"]["Properties"]["Policies"]]
    managed = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and "<Ref:FunctionRole>" in r["Properties"].get("Roles", [])
    ]
    return inline, managed


def role_statements(res: Resolver) -> list[dict]:
    inline, managed = role_policy_documents(res)
    return [s for document in inline + managed for s in as_list(document["Statement"])]


def identity_statements(res: Resolver) -> list[dict]:
    """The statements of every identity policy the template creates."""
    statements = role_statements(res)
    for resource in res.resources().values():
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            if "<Ref:FunctionRole>" not in resource["Properties"].get("Roles", []):
                statements += as_list(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def allows(statement: dict, action_prefix: str) -> bool:
    return statement["Effect"] == "Allow" and any(a.startswith(action_prefix) for a in as_list(statement["Action"]))


def condition_value(statement: dict, operator: str, key: str):
    return statement.get("Condition", {}).get(operator, {}).get(key)


def function(res: Resolver) -> dict:
    return res.resources()["Function"]["Properties"]


def expected_secret_prefixes(res: Resolver) -> list[str]:
    extras = res.parameters["ExtraSecretPrefixes"][:3]
    return [res.parameters["DefaultSecretPrefix"]] + [p for p in extras if p]


class Decisions:
    """Collects IAM decisions that differ from the expected ones."""

    def __init__(self, statements: list[dict]):
        self.statements = statements
        self.problems: Problems = []

    def expect(self, allowed: bool, action: str, resource: str, context: dict | None = None, why: str = "") -> None:
        if is_allowed(self.statements, action, resource, context) != allowed:
            verdict = "allowed" if allowed else "denied"
            self.problems.append(f"{action} on {resource} with {context or {}} should be {verdict}: {why}")


# ------------------------------------------------------------------- checks

CHECKS: dict[str, Callable[[Resolver], Problems]] = {}


def check(fn: Callable[[Resolver], Problems]) -> Callable[[Resolver], Problems]:
    CHECKS[fn.__name__] = fn
    return fn


@check
def no_wildcard_action(res: Resolver) -> Problems:
    problems = []
    for s in identity_statements(res):
        if s["Effect"] != "Allow":
            continue
        for action in as_list(s["Action"]):
            if action == "*" or action.endswith(":*"):
                problems.append(f"{s.get('Sid')}: wildcard action {action}")
            elif "*" in action and "*" in as_list(s["Resource"]):
                problems.append(f"{s.get('Sid')}: wildcard action {action} on Resource *")
    return problems


@check
def star_resource_only_for_actions_without_resources(res: Resolver) -> Problems:
    problems = []
    for s in identity_statements(res):
        if s["Effect"] == "Allow" and "*" in as_list(s["Resource"]):
            extra = set(as_list(s["Action"])) - STAR_RESOURCE_ACTIONS
            if extra:
                problems.append(f"{s.get('Sid')}: {sorted(extra)} on Resource *")
    return problems


@check
def rds_changes_only_on_our_names_and_tags(res: Resolver) -> Problems:
    statements = role_statements(res)
    prefix = name_prefix(res)
    problems = []
    # Shape: every Allow of a change on clusters or instances carries the tag condition
    # and names only resources with our prefix.
    for s in statements:
        if s["Effect"] != "Allow" or not set(as_list(s["Action"])) & set(RDS_CHANGES):
            continue
        if condition_value(s, "StringEquals", f"aws:ResourceTag/{OWNERSHIP}") != STACK_NAME and any(
            ":cluster:" in r or ":db:" in r for r in as_list(s["Resource"])
        ):
            problems.append(f"{s.get('Sid')}: RDS changes without aws:ResourceTag/{OWNERSHIP} = {STACK_NAME}")
        for r in as_list(s["Resource"]):
            kind = r.split(":")[5] if r.count(":") >= 6 else ""
            if kind in ("cluster", "db", "cluster-snapshot") and not r.split(":", 6)[6].startswith(prefix):
                problems.append(f"{s.get('Sid')}: RDS changes on {r}, not only on names starting with {prefix}")
    # Behaviour.
    d = Decisions(statements)
    clone, instance = ours(res, "cluster", "prod-db-clone-1"), ours(res, "db", "prod-db-clone-1-1")
    tagged_unprefixed = arn("rds", "cluster:prod-db-clone-1")
    for action in ("rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:RemoveTagsFromResource", "rds:CreateDBClusterSnapshot", "rds:StartDBCluster", "rds:StopDBCluster"):
        d.expect(False, action, ROOT_CLUSTER, {}, "a root has no ownership tag")
        d.expect(False, action, ROOT_CLUSTER, tags("aws:ResourceTag", OURS), "a root someone tagged as ours")
        d.expect(False, action, tagged_unprefixed, tags("aws:ResourceTag", OURS), "tagged as ours but not named so")
        d.expect(False, action, clone, tags("aws:ResourceTag", OTHER_DEPLOYMENT), "owned by another deployment")
        d.expect(True, action, clone, tags("aws:ResourceTag", OURS), "our clone")
    for action in ("rds:DeleteDBInstance", "rds:RemoveTagsFromResource"):
        d.expect(False, action, ROOT_INSTANCE, tags("aws:ResourceTag", OURS), "a root's instance, even tagged")
        d.expect(True, action, instance, tags("aws:ResourceTag", OURS), "our clone's instance")
    snapshot = ours(res, "cluster-snapshot", "prod-db-clone-1-final-20240101t000000")
    d.expect(True, "rds:DeleteDBCluster", snapshot, {}, "final snapshot on delete")
    d.expect(False, "rds:DeleteDBCluster", arn("rds", "cluster-snapshot:prod-db-final"), {}, "a snapshot not named ours")
    d.expect(True, "rds:DescribeDBClusters", "*", {}, "inventory")
    return problems + d.problems


@check
def rds_changes_outside_our_names_or_tags_are_explicitly_denied(res: Resolver) -> Problems:
    # Even with a careless extra policy attached to the role, roots stay safe.
    careless = {"Effect": "Allow", "Action": "rds:*", "Resource": "*"}
    d = Decisions(role_statements(res) + [careless])
    for action in RDS_CHANGES:
        d.expect(False, action, ROOT_CLUSTER, {}, "explicit deny for untagged clusters")
        d.expect(False, action, ROOT_INSTANCE, {}, "explicit deny for untagged instances")
    for action in ("rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:AddTagsToResource"):
        d.expect(False, action, ROOT_CLUSTER, tags("aws:ResourceTag", OURS), "explicit deny for names not ours")
    d.expect(False, "rds:DeleteDBInstance", ROOT_INSTANCE, tags("aws:ResourceTag", OURS), "explicit deny for names not ours")
    d.expect(False, "rds:AddTagsToResource", ours(res, "cluster", "x"), tags("aws:ResourceTag", OTHER_DEPLOYMENT), "another deployment's")
    return d.problems


@check
def rds_creates_require_our_names_and_request_tags(res: Resolver) -> Problems:
    statements = role_statements(res)
    problems = []
    for s in statements:
        if s["Effect"] == "Allow" and set(as_list(s["Action"])) & {"rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance"}:
            if condition_value(s, "StringEquals", f"aws:RequestTag/{OWNERSHIP}") != STACK_NAME:
                problems.append(f"{s.get('Sid')}: creates without aws:RequestTag/{OWNERSHIP} = {STACK_NAME}")
    d = Decisions(statements)
    request = tags("aws:RequestTag", OURS)
    new_clone, new_instance = ours(res, "cluster", "prod-db-clone-2"), ours(res, "db", "prod-db-clone-2-1")
    # A restore reads its source (a root or our copy) and makes a cluster named ours.
    for resource in (ROOT_CLUSTER, new_clone, SUBNET_GROUP):
        d.expect(True, "rds:RestoreDBClusterToPointInTime", resource, request, "restore with our tags")
        d.expect(False, "rds:RestoreDBClusterToPointInTime", resource, {}, "restore without tags")
        d.expect(False, "rds:RestoreDBClusterToPointInTime", resource, tags("aws:RequestTag", OTHER_DEPLOYMENT), "other tag")
    d.expect(False, "rds:RestoreDBClusterToPointInTime", new_clone, tags("aws:RequestTag", {OWNERSHIP: STACK_NAME}), "no role tag")
    # Its tags are authorised on the new cluster: only a name with our prefix.
    d.expect(True, "rds:AddTagsToResource", new_clone, request, "tag on create")
    d.expect(False, "rds:AddTagsToResource", arn("rds", "cluster:prod-db-2"), request, "a restore into a name not ours")
    d.expect(False, "rds:AddTagsToResource", new_clone, tags("aws:RequestTag", {"team": "x"}), "tags without ours")
    for resource in (new_instance, new_clone, SUBNET_GROUP):
        d.expect(True, "rds:CreateDBInstance", resource, request, "instance with our tags")
        d.expect(False, "rds:CreateDBInstance", resource, {}, "instance without tags")
    d.expect(True, "rds:AddTagsToResource", new_instance, request, "instance tag on create")
    return problems + d.problems


@check
def a_root_can_never_be_made_to_look_like_ours(res: Resolver) -> Problems:
    """The attack chains of the least-privilege review, each denied."""
    d = Decisions(role_statements(res))
    request, tagged = tags("aws:RequestTag", OURS), tags("aws:ResourceTag", OURS)
    # Tag a root, then delete or modify it.
    d.expect(False, "rds:AddTagsToResource", ROOT_CLUSTER, request, "tagging a root as ours")
    for action in ("rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:CreateDBClusterSnapshot"):
        d.expect(False, action, ROOT_CLUSTER, tagged, "changing a root tagged as ours")
    # Delete a root's instance (instances die even under deletion protection).
    d.expect(False, "rds:AddTagsToResource", ROOT_INSTANCE, request, "tagging a root's instance")
    d.expect(False, "rds:DeleteDBInstance", ROOT_INSTANCE, tagged, "deleting a root's instance tagged as ours")
    # Add an instance to a root.
    d.expect(False, "rds:CreateDBInstance", ROOT_CLUSTER, request, "an instance in a root")
    # Rename a root out of the way (and a clone into its name), or a clone out of our names.
    # A rename is authorised on the current ARN; the tests/it/iam_calls.rs recorder also asks
    # for the new name's ARN (whether RDS does is unverified), so both must be denied.
    clone, clone_instance = ours(res, "cluster", "prod-db-clone-1"), ours(res, "db", "prod-db-clone-1-1")
    d.expect(False, "rds:ModifyDBCluster", ROOT_CLUSTER, tagged, "renaming a root tagged as ours")
    d.expect(False, "rds:ModifyDBInstance", ROOT_INSTANCE, tagged, "renaming a root's instance tagged as ours")
    d.expect(False, "rds:ModifyDBCluster", ROOT_CLUSTER, tags("aws:ResourceTag", OURS), "renaming a clone into a root's name")
    d.expect(False, "rds:ModifyDBInstance", arn("rds", "db:outside-1"), tagged, "renaming our instance out of our names")
    d.expect(True, "rds:ModifyDBCluster", clone, tagged, "renaming our clone within our names")
    # Instances are never renamed (a rename reboots them): not even ours may be.
    d.expect(False, "rds:ModifyDBInstance", clone_instance, tagged, "renaming our instance")
    return d.problems


@check
def protected_roots_and_their_instances_are_denied_every_change(res: Resolver) -> Problems:
    protected = [p for p in res.parameters["ProtectedClusterIds"] if p]
    d = Decisions(role_statements(res))
    for cluster_id in protected:
        root = arn("rds", f"cluster:{cluster_id}")
        instance = arn("rds", f"db:{cluster_id}-instance-1")
        for action in ("rds:AddTagsToResource", "rds:CreateDBInstance"):
            d.expect(False, action, root, tags("aws:RequestTag", OURS), "protected root")
        for action in ("rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:StartDBCluster", "rds:StopDBCluster"):
            d.expect(False, action, root, tags("aws:ResourceTag", OURS), "protected even if tagged and named like ours")
        d.expect(False, "rds:DeleteDBInstance", instance, tags("aws:ResourceTag", OURS), "its instance, even tagged")
        d.expect(True, "rds:RestoreDBClusterToPointInTime", root, tags("aws:RequestTag", OURS), "roots are cloned")
    if "acm-test-legacy" in protected and name_prefix(res) == f"{STACK_NAME}-":
        # Named like ours and tagged: only the protection stops it.
        d.expect(False, "rds:DeleteDBInstance", arn("rds", "db:acm-test-legacy-1"), tags("aws:ResourceTag", OURS), "protected")
    if not protected:
        d.expect(True, "rds:AddTagsToResource", ours(res, "cluster", "x"), tags("aws:RequestTag", OURS), "no roots protected")
    return d.problems


@check
def secrets_only_under_our_path(res: Resolver) -> Problems:
    prefixes = expected_secret_prefixes(res)
    allowed_arns = {arn("secretsmanager", f"secret:{p}{STACK_NAME}/*") for p in prefixes}
    statements = role_statements(res)
    problems = []
    read_resources: set[str] = set()
    for s in statements:
        if not allows(s, "secretsmanager:") or as_list(s["Action"]) == ["secretsmanager:ListSecrets"]:
            continue
        outside = set(as_list(s["Resource"])) - allowed_arns
        if outside:
            problems.append(f"{s.get('Sid')}: secrets outside {sorted(allowed_arns)}: {sorted(outside)}")
        if "secretsmanager:GetSecretValue" in as_list(s["Action"]):
            read_resources |= set(as_list(s["Resource"]))
    if read_resources != allowed_arns:
        problems.append(f"readable secrets {sorted(read_resources)} != {sorted(allowed_arns)}")
    env_prefixes = [p for p in function(res)["Environment"]["Variables"]["ALLOWED_SECRET_PREFIXES"].split(",") if p]
    if env_prefixes != prefixes:
        problems.append(f"ALLOWED_SECRET_PREFIXES {env_prefixes} != IAM prefixes {prefixes}")
    d = Decisions(statements)
    ours_, request = tags("aws:ResourceTag", OURS), tags("aws:RequestTag", OURS)
    for prefix in prefixes:
        secret = arn("secretsmanager", f"secret:{prefix}{STACK_NAME}/password/acm-test-db-20240101T000000-AbCdEf")
        d.expect(True, "secretsmanager:GetSecretValue", secret, {}, "read ours")
        d.expect(True, "secretsmanager:CreateSecret", secret, request, "create with our tag")
        d.expect(False, "secretsmanager:CreateSecret", secret, {}, "create without our tag")
        for action in ("secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue"):
            d.expect(True, action, secret, ours_, "change ours")
            d.expect(False, action, secret, {}, "untagged secret under the path")
        d.expect(True, "secretsmanager:PutResourcePolicy", secret, {**ours_, "secretsmanager:BlockPublicPolicy": "true"}, "policy")
        d.expect(False, "secretsmanager:PutResourcePolicy", secret, ours_, "policy without BlockPublicPolicy")
        # Another deployment that shares the prefix: its own path.
        for other_stack in ("another-deployment", f"{STACK_NAME}2"):
            theirs = arn("secretsmanager", f"secret:{prefix}{other_stack}/password/x-20240101T000000-AbCdEf")
            for action in ("secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue"):
                d.expect(False, action, theirs, {**ours_, "secretsmanager:BlockPublicPolicy": "true"}, "another deployment's secret")
    elsewhere = arn("secretsmanager", "secret:prod/db/master-AbCdEf")
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy"):
        d.expect(False, action, elsewhere, {**ours_, "secretsmanager:BlockPublicPolicy": "true"}, "outside the prefixes")
    return problems + d.problems


@check
def rds_managed_and_other_deployments_secrets_stay_out_of_reach(res: Resolver) -> Problems:
    # Even with a careless extra policy attached to the role.
    careless = {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}
    d = Decisions(role_statements(res) + [careless])
    rds_managed = arn("secretsmanager", "secret:rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-AbCdEf")
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteSecret"):
        d.expect(False, action, rds_managed, {}, "a root's master password that RDS manages")
    theirs = arn("secretsmanager", f"secret:{res.parameters['DefaultSecretPrefix']}another-deployment/password/x-AbCdEf")
    for action in ("secretsmanager:TagResource", "secretsmanager:UntagResource"):
        d.expect(False, action, theirs, tags("aws:ResourceTag", OTHER_DEPLOYMENT), "re-tagging another deployment's secret")
    return d.problems


@check
def parameters_read_under_the_stack_path_and_only_earlier_leases_deleted(res: Resolver) -> Problems:
    path = arn("ssm", f"parameter/{STACK_NAME}/*")
    written = [arn("ssm", f"parameter/{STACK_NAME}/leases/*"), arn("ssm", f"parameter/{STACK_NAME}/deferred-clones/*")]
    problems = []
    for s in role_statements(res):
        if not allows(s, "ssm:"):
            continue
        reads = set(as_list(s["Action"])) <= {"ssm:GetParameter", "ssm:GetParametersByPath"}
        if as_list(s["Resource"]) != ([path] if reads else written):
            problems.append(f"{s.get('Sid')}: SSM {as_list(s['Action'])} on {s['Resource']}")
    d = Decisions(role_statements(res))
    config = arn("ssm", f"parameter/{STACK_NAME}/maintenance-config")
    lease = arn("ssm", f"parameter/{STACK_NAME}/leases/prod-db")
    waiting = arn("ssm", f"parameter/{STACK_NAME}/deferred-clones/clone-1")
    for parameter, why in ((config, "config"), (lease, "lease"), (waiting, "waiting clone")):
        d.expect(True, "ssm:GetParameter", parameter, {}, why)
    # An earlier version's leases and records are deleted once carried over; nothing is
    # written to SSM any more.
    d.expect(True, "ssm:DeleteParameter", lease, {}, "earlier lease")
    d.expect(True, "ssm:DeleteParameter", waiting, {}, "earlier waiting clone")
    d.expect(False, "ssm:DeleteParameter", config, {}, "the config is the operator's")
    for parameter in (lease, waiting, config):
        d.expect(False, "ssm:PutParameter", parameter, {}, "nothing is written to SSM")
    for action in ("ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"):
        d.expect(False, action, arn("ssm", "parameter/other-stack/maintenance-config"), {}, "other path")
    # Waiting clones are read back by their path.
    d.expect(True, "ssm:GetParametersByPath", arn("ssm", f"parameter/{STACK_NAME}/deferred-clones"), {}, "waiting clones")
    d.expect(False, "ssm:GetParametersByPath", arn("ssm", "parameter/other-stack/deferred-clones"), {}, "other path")
    return problems + d.problems


@check
def the_state_table_is_the_only_table_and_is_kept(res: Resolver) -> Problems:
    problems = []
    for s in role_statements(res):
        if allows(s, "dynamodb:"):
            actions = set(as_list(s["Action"]))
            if not actions <= {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"}:
                problems.append(f"{s.get('Sid')}: DynamoDB actions {sorted(actions)}")
            if as_list(s["Resource"]) != ["<GetAtt:StateTable.Arn>"]:
                problems.append(f"{s.get('Sid')}: DynamoDB on {s['Resource']}")
    table = res.resources()["StateTable"]
    properties = table["Properties"]
    if table.get("DeletionPolicy") != "Retain" or table.get("UpdateReplacePolicy") != "Retain":
        problems.append("the state table must be kept on delete and replacement")
    if "TableName" in properties:
        problems.append("a fixed TableName keeps a stack of the same name from being made again")
    if properties.get("KeySchema") != [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]:
        problems.append(f"key schema {properties.get('KeySchema')}")
    if properties.get("TimeToLiveSpecification") != {"AttributeName": "expires_at", "Enabled": True}:
        problems.append(f"TTL {properties.get('TimeToLiveSpecification')}")
    if properties.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append("the state table is billed per request")
    if properties.get("PointInTimeRecoverySpecification") != {"PointInTimeRecoveryEnabled": True}:
        problems.append("the state table keeps point-in-time recovery")
    return problems


@check
def events_only_on_the_default_bus(res: Resolver) -> Problems:
    bus = arn("events", "event-bus/default")
    problems = [
        f"{s.get('Sid')}: events on {s['Resource']}"
        for s in role_statements(res)
        if allows(s, "events:") and as_list(s["Resource"]) != [bus]
    ]
    d = Decisions(role_statements(res))
    ours = {"events:source": "aurora-clone-manager"}
    d.expect(True, "events:PutEvents", bus, ours, "lifecycle event")
    d.expect(False, "events:PutEvents", arn("events", "event-bus/other"), ours, "another bus")
    d.expect(False, "events:PutEvents", bus, {"events:source": "aws.rds"}, "another source")
    return problems + d.problems


@check
def invokes_only_itself(res: Resolver) -> Problems:
    actual = res.get_att("Function", "Arn")
    problems = [] if actual == FUNCTION_ARN else [f"function ARN {actual} != {FUNCTION_ARN}"]
    problems += [
        f"{s.get('Sid')}: lambda on {s['Resource']}"
        for s in role_statements(res)
        if allows(s, "lambda:") and (as_list(s["Action"]) != ["lambda:InvokeFunction"] or as_list(s["Resource"]) != [actual])
    ]
    d = Decisions(role_statements(res))
    d.expect(True, "lambda:InvokeFunction", FUNCTION_ARN, {}, "finisher hand-over")
    d.expect(False, "lambda:InvokeFunction", arn("lambda", "function:other"), {}, "another function")
    return problems + d.problems


@check
def logs_only_to_its_own_log_group(res: Resolver) -> Problems:
    d = Decisions(role_statements(res))
    stream = arn("logs", f"log-group:{LOG_GROUP}:log-stream:2024/01/01/[$LATEST]abc")
    d.expect(True, "logs:PutLogEvents", stream, {}, "own stream")
    d.expect(True, "logs:CreateLogStream", stream, {}, "own stream")
    d.expect(False, "logs:PutLogEvents", arn("logs", "log-group:/aws/lambda/other:log-stream:x"), {}, "other group")
    for group_arn in (arn("logs", f"log-group:{LOG_GROUP}"), arn("logs", f"log-group:{LOG_GROUP}:*")):
        d.expect(False, "logs:CreateLogGroup", group_arn, {}, "the template creates the group")
    create_group = [s.get("Sid") for s in role_statements(res) if s["Effect"] == "Allow" and "logs:CreateLogGroup" in as_list(s["Action"])]
    problems = d.problems + [f"{sid}: allows logs:CreateLogGroup" for sid in create_group]
    groups = {n: r for n, r in res.resources().items() if r["Type"] == "AWS::Logs::LogGroup"}
    if len(groups) != 1:
        return problems + [f"exactly one log group expected, found {sorted(groups)}"]
    (name, group), = groups.items()
    keep = res.parameters["KeepLogsOnDelete"] == "true"
    policies = (group.get("DeletionPolicy"), group.get("UpdateReplacePolicy"))
    if policies != (("Retain", "Retain") if keep else ("Delete", "Delete")):
        problems.append(f"log group {name} has {policies} with KeepLogsOnDelete={keep}")
    if function(res).get("LoggingConfig", {}).get("LogGroup") != LOG_GROUP:
        problems.append("the function must log to the template's log group")
    return problems


def default_key_policy(res: Resolver) -> list[dict]:
    statements = res.resources()["DefaultKey"]["Properties"]["KeyPolicy"]["Statement"]
    return json.loads(json.dumps(as_list(statements)).replace("<GetAtt:FunctionRole.Arn>", ROLE))


@check
def keys_only_by_key_policy(res: Resolver) -> Problems:
    statements = role_statements(res)
    problems = [
        f"{s.get('Sid')}: KMS rights by resource tag"
        for s in statements
        if allows(s, "kms:") and any(k.startswith("aws:ResourceTag/") for keys in s.get("Condition", {}).values() for k in keys)
    ]
    d = Decisions(statements)
    new_key = arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")
    request = {**tags("aws:RequestTag", OURS), "aws:TagKeys": list(OURS)}
    d.expect(True, "kms:CreateKey", "*", tags("aws:RequestTag", OURS), "create tagged")
    d.expect(False, "kms:CreateKey", "*", {}, "create untagged")
    d.expect(True, "kms:TagResource", new_key, request, "tag on create")
    d.expect(False, "kms:TagResource", new_key, {**request, "aws:TagKeys": [*OURS, "team"]}, "tags not ours")
    d.expect(False, "kms:PutKeyPolicy", new_key, {"kms:BypassPolicyLockoutSafetyCheck": "true"}, "lockout")
    d.expect(True, "kms:CreateAlias", arn("kms", f"alias/aurora-clone-manager/{STACK_NAME}/acm-test-db"), {}, "alias")
    d.expect(False, "kms:CreateAlias", arn("kms", "alias/prod-db"), {}, "alias outside our path")
    # A key someone else made: tagging it as ours gives nothing.
    disposable = tags("aws:ResourceTag", {**OURS, "aurora-clone-manager:disposable": "true"})
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:ListResourceTags", "kms:RevokeGrant"):
        if is_allowed_by_key(statements, FOREIGN_KEY_POLICY, ROLE, action, FOREIGN_KEY, disposable):
            problems.append(f"{action} on a foreign key tagged as our disposable key must be denied")
    grant = {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": f"arn:{PARTITION}:iam::{ACCOUNT}:role/attacker"}
    if is_allowed_by_key(statements, FOREIGN_KEY_POLICY, ROLE, "kms:CreateGrant", FOREIGN_KEY, grant):
        problems.append("granting Decrypt on a foreign key must be denied")
    via_rds = {"kms:ViaService": f"rds.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true"}
    if not is_allowed_by_key(statements, FOREIGN_KEY_POLICY, ROLE, "kms:CreateGrant", FOREIGN_KEY, via_rds):
        problems.append("RDS must be able to use an encrypted root's key on the role's behalf")
    if res.parameters["CreateDefaultKey"] == "true":
        key_policy = default_key_policy(res)
        key = "<GetAtt:DefaultKey.Arn>"
        member = f"arn:{PARTITION}:iam::{ACCOUNT}:role/developer"
        checks = [
            (True, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": member}, "Decrypt for a reader"),
            (True, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": f"arn:{PARTITION}:sts::{ACCOUNT}:assumed-role/dev/x"}, "a session"),
            (False, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt", "Encrypt"], "kms:GranteePrincipal": member}, "more than Decrypt"),
            (False, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": "arn:aws:iam::999999999999:root"}, "another account"),
            (False, "kms:CreateGrant", {"kms:GranteePrincipal": member}, "no operations named"),
            (True, "kms:ListGrants", {}, "finding grants"),
            (True, "kms:RevokeGrant", {}, "revoking grants"),
            (True, "kms:GenerateDataKey", {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}, "storing a secret"),
            (False, "kms:ScheduleKeyDeletion", {}, "the default key is never deleted"),
            (False, "kms:PutKeyPolicy", {}, "the default key's policy is the template's"),
            (False, "kms:Decrypt", {}, "no direct decryption"),
        ]
        for allowed, action, context, why in checks:
            if is_allowed_by_key(statements, key_policy, ROLE, action, key, context) != allowed:
                problems.append(f"default key: {action} with {context} should be {'allowed' if allowed else 'denied'}: {why}")
    return problems + d.problems


@check
def policies_fit_the_iam_quotas(res: Resolver) -> Problems:
    problems = []
    largest = resolve(res.template, **LARGEST_POLICIES)
    for label, r in (("these parameters", res), ("the largest parameters", largest)):
        inline, managed = role_policy_documents(r)
        sizes = [len(json.dumps(d, separators=(",", ":"))) for d in inline]
        if sum(sizes) > ROLE_INLINE_POLICY_QUOTA:
            problems.append(f"{label}: inline policies are {sum(sizes)} characters (quota {ROLE_INLINE_POLICY_QUOTA})")
        for document in managed:
            size = len(json.dumps(document, separators=(",", ":")))
            if size > MANAGED_POLICY_QUOTA:
                problems.append(f"{label}: a managed policy is {size} characters (quota {MANAGED_POLICY_QUOTA})")
    return problems


@check
def parameters_exist_with_their_defaults(res: Resolver) -> Problems:
    declared = res.template["Parameters"]
    problems = []
    for name, default in REQUIRED_PARAMETERS.items():
        if name not in declared:
            problems.append(f"parameter {name} missing")
        elif default is not None and str(declared[name].get("Default")) != default:
            problems.append(f"parameter {name} default {declared[name].get('Default')!r} != {default!r}")
    if declared.get("Architecture", {}).get("AllowedValues") != ["arm64", "x86_64"]:
        problems.append("Architecture must allow arm64 and x86_64")
    if not str(declared.get("MaintenanceSchedule", {}).get("Default", "")).startswith("cron("):
        problems.append("the maintenance runs nightly at a fixed hour by default (a cron expression)")
    patterns = {
        "DefaultSecretPrefix": "^/[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*/$",
        "ExtraSecretPrefixes": "^(/[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*/)?$",
        "NamePrefix": "^([a-z](-?[a-z0-9])*-)?$",
    }
    for name, pattern in patterns.items():
        if declared.get(name, {}).get("AllowedPattern") != pattern:
            problems.append(f"{name} must follow {pattern}")
    return problems


@check
def function_is_configured_for_the_finisher(res: Resolver) -> Problems:
    f = function(res)
    expected = {
        "Runtime": "provided.al2023",
        "Handler": "bootstrap",
        "Architectures": [res.parameters["Architecture"]],
        "Code": "target/lambda/aurora-clone-manager/bootstrap.zip",
        "MemorySize": 256,
        "Timeout": 900,
    }
    problems = [f"{k} is {f.get(k)!r}, expected {v!r}" for k, v in expected.items() if f.get(k) != v]
    if "ReservedConcurrentExecutions" in f:
        problems.append("ReservedConcurrentExecutions must not be set")
    variables = f["Environment"]["Variables"]
    if set(variables) != ENVIRONMENT_VARIABLES:
        problems.append(f"environment variables differ: {sorted(set(variables) ^ ENVIRONMENT_VARIABLES)}")
    p = res.parameters
    wanted = {
        "STACK_NAME": STACK_NAME,
        "NAME_PREFIX": name_prefix(res),
        "FUNCTION_ROLE_ARN": "<GetAtt:FunctionRole.Arn>",
        "MAX_COPY_AGE": p["MaxCopyAge"],
        "MAX_CLONES_PER_SOURCE": p["MaxClonesPerSource"],
        "DEFAULT_SECRET_PREFIX": p["DefaultSecretPrefix"],
        "DEFAULT_KMS_KEY_ID": "<Ref:DefaultKey>" if p["CreateDefaultKey"] == "true" else "",
        "COPY_INSTANCE_CLASS": p["CopyInstanceClass"],
        "MAINTENANCE_CONFIG_PARAMETER": f"/{STACK_NAME}/maintenance-config",
        "POLL_INTERVAL_SECONDS": "15",
        "READY_TIMEOUT": "PT50M",
        "LOG_LEVEL": p["LogLevel"],
        "EVENT_BUS_NAME": "default",
        "RETRY_MODE": "standard",
        "RETRY_MAX_ATTEMPTS": "8",
        "STATE_TABLE": "<Ref:StateTable>",
    }
    problems += [f"{k}={variables.get(k)!r}, expected {v!r}" for k, v in wanted.items() if variables.get(k) != v]
    invoke_config = res.resources().get("FunctionEventInvokeConfig", {}).get("Properties", {})
    if (invoke_config.get("MaximumRetryAttempts"), invoke_config.get("MaximumEventAgeInSeconds")) != (2, 3600):
        problems.append(f"EventInvokeConfig {invoke_config} should keep 2 retries and 3600 s")
    return problems


@check
def failed_invocations_are_kept_alarmed_and_answerable(res: Resolver) -> Problems:
    resources = res.resources()
    problems = []
    invoke_config = resources.get("FunctionEventInvokeConfig", {}).get("Properties", {})
    destination = invoke_config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination != "<GetAtt:FailedInvocationsQueue.Arn>":
        problems.append(f"failed asynchronous invocations must go to the queue, not {destination!r}")
    queue = resources.get("FailedInvocationsQueue", {})
    if queue.get("Type") != "AWS::SQS::Queue" or queue["Properties"].get("MessageRetentionPeriod") != 1209600:
        problems.append("the queue keeps records for 14 days")
    sends = [s for s in role_statements(res) if allows(s, "sqs:")]
    if [(as_list(s["Action"]), as_list(s["Resource"])) for s in sends] != [(["sqs:SendMessage"], [destination])]:
        problems.append(f"the role may only send to its own queue: {sends}")
    alarms = {r["Properties"]["MetricName"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    depth = alarms.get("ApproximateNumberOfMessagesVisible", {})
    if depth.get("Namespace") != "AWS/SQS" or depth.get("Dimensions") != [{"Name": "QueueName", "Value": "<GetAtt:FailedInvocationsQueue.QueueName>"}]:
        problems.append("an alarm on the queue's depth is missing")
    for metric in ("AsyncEventsDropped", "DestinationDeliveryFailures"):
        alarm = alarms.get(metric, {})
        if alarm.get("Namespace") != "AWS/Lambda" or alarm.get("Dimensions") != [{"Name": "FunctionName", "Value": STACK_NAME}]:
            problems.append(f"an alarm on the function's {metric} is missing")
    if "answer --from-queue" not in depth.get("AlarmDescription", ""):
        problems.append("the queue alarm must say how to answer the requests")
    if "FailedInvocationsQueueUrl" not in res.outputs():
        problems.append("the queue's URL must be an output")
    return problems


@check
def outputs_are_exported(res: Resolver) -> Problems:
    outputs = res.outputs()
    wanted = ["LambdaArn", "LambdaName", "RoleArn", "DefaultSecretPrefix", "CustomResourceType"]
    if res.parameters["CreateDefaultKey"] == "true":
        wanted.append("DefaultKmsKeyId")
    if res.parameters["SetupDefaultAccess"] == "true":
        wanted.append("DefaultAccessPolicyArn")
    problems = []
    for name in wanted:
        export = outputs.get(name, {}).get("Export", {}).get("Name")
        if export != f"{STACK_NAME}-{name}":
            problems.append(f"output {name} exported as {export!r}")
    if outputs.get("LambdaArn", {}).get("Value") != FUNCTION_ARN:
        problems.append("LambdaArn must be the function's ARN")
    return problems


@check
def schedule_and_rds_event_rules_invoke_the_function(res: Resolver) -> Problems:
    resources = res.resources()
    problems = []
    schedule = resources["MaintenanceScheduleRule"]["Properties"]
    target = schedule["Targets"][0]
    if schedule.get("ScheduleExpression") != res.parameters["MaintenanceSchedule"]:
        problems.append("schedule expression must be the MaintenanceSchedule parameter")
    if json.loads(target.get("Input", "null")) != {"source": "events", "action": "maintain!"}:
        problems.append(f"schedule input {target.get('Input')!r}")
    sweep = resources["SweepScheduleRule"]["Properties"]
    if sweep.get("ScheduleExpression") != res.parameters["SweepSchedule"]:
        problems.append("sweep schedule expression must be the SweepSchedule parameter")
    if json.loads(sweep["Targets"][0].get("Input", "null")) != {"action": "sweep"}:
        problems.append(f"sweep schedule input {sweep['Targets'][0].get('Input')!r}")
    rds_rule = resources["InstanceCreatedRule"]["Properties"]
    if rds_rule.get("EventPattern") != {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event"],
        "detail": {"EventID": ["RDS-EVENT-0005"]},
    }:
        problems.append(f"RDS event pattern {rds_rule.get('EventPattern')}")
    for rule_name, rule in (
        ("MaintenanceScheduleRule", schedule),
        ("SweepScheduleRule", sweep),
        ("InstanceCreatedRule", rds_rule),
    ):
        if [t["Arn"] for t in rule["Targets"]] != [FUNCTION_ARN]:
            problems.append(f"{rule_name} must target the function")
        permitted = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Permission"
            and r["Properties"].get("SourceArn") == f"<GetAtt:{rule_name}.Arn>"
            and r["Properties"].get("Principal") == "events.amazonaws.com"
        ]
        if len(permitted) != 1:
            problems.append(f"{rule_name} needs exactly one lambda permission, found {len(permitted)}")
    config = resources["MaintenanceConfig"]["Properties"]
    if (config.get("Name"), config.get("Type"), config.get("Value")) != (
        f"/{STACK_NAME}/maintenance-config",
        "String",
        "{:clusters []}",
    ):
        problems.append(f"maintenance config parameter {config}")
    return problems


@check
def logs_alarms_and_dashboard_exist(res: Resolver) -> Problems:
    resources = res.resources()
    problems = []
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    group = groups[0] if len(groups) == 1 else {}
    if group.get("LogGroupName") != LOG_GROUP or str(group.get("RetentionInDays")) != res.parameters["LogRetentionDays"]:
        problems.append(f"log group {group}")
    if function(res).get("LoggingConfig", {}).get("LogGroup") != LOG_GROUP:
        problems.append("the function must log to the template's log group")
    alarms = {r["Properties"]["MetricName"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    errors = alarms.get("Errors")
    if not errors or errors["Namespace"] != "AWS/Lambda" or errors["Dimensions"] != [{"Name": "FunctionName", "Value": STACK_NAME}]:
        problems.append("an alarm on the function's Errors metric is missing")
    topic = res.parameters["AlarmTopicArn"]
    for alarm in alarms.values():
        if alarm.get("AlarmActions", []) != ([topic] if topic else []):
            problems.append(f"alarm {alarm['MetricName']} actions {alarm.get('AlarmActions')}")
    dashboards = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    if len(dashboards) != 1:
        return problems + ["exactly one dashboard expected"]
    body = json.loads(dashboards[0]["DashboardBody"])
    expressions, lambda_metrics = [], set()
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            if isinstance(metric[0], dict):
                expressions.append(metric[0]["expression"])
            elif metric[0] == "AWS/Lambda" and metric[2:4] == ["FunctionName", STACK_NAME]:
                lambda_metrics.add(metric[1])
    for name in EMF_METRICS:
        if not any(
            e.startswith("SEARCH('{AuroraCloneManager,") and f'MetricName="{name}"' in e and f'Stack="{STACK_NAME}"' in e
            for e in expressions
        ):
            problems.append(f"dashboard has no SEARCH over AuroraCloneManager {name}")
    if not any("SourceClusterId" in e and "FreeCloneSlots" in e for e in expressions):
        problems.append("free clone slots must be shown per root (SourceClusterId)")
    missing = {"Errors", "Duration", "Invocations"} - lambda_metrics
    if missing:
        problems.append(f"dashboard lacks function metrics {sorted(missing)}")
    return problems


@check
def default_key_and_access_policy(res: Resolver) -> Problems:
    resources = res.resources()
    p = res.parameters
    problems = []
    key = resources.get("DefaultKey")
    if (key is not None) != (p["CreateDefaultKey"] == "true"):
        problems.append("the default key must exist exactly when CreateDefaultKey is true")
    if key:
        if {"Key": OWNERSHIP, "Value": STACK_NAME} not in key["Properties"].get("Tags", []):
            problems.append("the default key must carry the ownership tag")
        alias = resources.get("DefaultKeyAlias", {}).get("Properties", {}).get("AliasName")
        if alias != f"alias/{STACK_NAME}/default":
            problems.append(f"default key alias {alias}")
    policy = resources.get("DefaultAccessPolicy")
    if (policy is not None) != (p["SetupDefaultAccess"] == "true"):
        problems.append("the default access policy must exist exactly when SetupDefaultAccess is true")
    if policy:
        props = policy["Properties"]
        groups, roles = [g for g in p["DefaultAccessGroups"] if g], [r for r in p["DefaultAccessRoles"] if r]
        if props.get("Groups", []) != groups or props.get("Roles", []) != roles:
            problems.append(f"attachments {props.get('Groups')} {props.get('Roles')}")
        d = Decisions(as_list(props["PolicyDocument"]["Statement"]))
        secret = arn("secretsmanager", f"secret:{p['DefaultSecretPrefix']}{STACK_NAME}/password/acm-test-db-20240101T000000-AbCdEf")
        d.expect(True, "secretsmanager:GetSecretValue", secret, {}, "clone passwords")
        d.expect(False, "secretsmanager:GetSecretValue", arn("secretsmanager", "secret:prod/master-AbCdEf"), {}, "others")
        theirs = f"secret:{p['DefaultSecretPrefix']}another-deployment/password/x-20240101T000000-AbCdEf"
        d.expect(False, "secretsmanager:GetSecretValue", arn("secretsmanager", theirs), {}, "another deployment's")
        via = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
        d.expect(key is not None, "kms:Decrypt", "<GetAtt:DefaultKey.Arn>", via, "decrypt with the default key")
        problems += d.problems
    return problems


@check
def example_outputs_every_return_value(res: Resolver) -> Problems:
    raw_example = getattr(res, "example", EXAMPLE)
    example = resolve(raw_example, SourceClusterId="prod-db", AccessPrincipalArns="arn:aws:iam::111122223333:role/dev")
    clone = example.resources()["Clone"]
    props = clone["Properties"]
    problems = []
    if clone["Type"] != "Custom::AuroraClone":
        problems.append(f"clone type {clone['Type']}")
    if props.get("ServiceToken") != "<Import:aurora-clone-manager-LambdaArn>":
        problems.append(f"ServiceToken {props.get('ServiceToken')}")
    if props.get("SetPassword") != "true" or props.get("AccessPrincipalArns") != ["arn:aws:iam::111122223333:role/dev"]:
        problems.append("the example must set a password readable by AccessPrincipalArns")
    outputs = example.outputs()
    for name in CLONE_RETURN_VALUES:
        if outputs.get(name, {}).get("Value") != f"<GetAtt:Clone.{name}>":
            problems.append(f"example output {name} missing")
    for name in ("CloneManagerStackName", "SourceClusterId", "CopyCreatedSince", "AccessPrincipalArns"):
        if name not in raw_example["Parameters"]:
            problems.append(f"example parameter {name} missing")
    if raw_example["Parameters"].get("AccessPrincipalArns", {}).get("Type") != "CommaDelimitedList":
        problems.append("AccessPrincipalArns must be a CommaDelimitedList")
    return problems


# ------------------------------------------------------------------- tests


class TemplateChecks(unittest.TestCase):
    """The real templates pass every check under every scenario."""

    def assert_no_problems(self, check_name: str) -> None:
        for scenario, parameters in SCENARIOS.items():
            with self.subTest(scenario=scenario):
                self.assertEqual([], CHECKS[check_name](resolve(TEMPLATE, **parameters)))

    def test_no_statement_allows_a_wildcard_action(self):
        self.assert_no_problems("no_wildcard_action")

    def test_resource_star_only_for_actions_without_resource_types(self):
        self.assert_no_problems("star_resource_only_for_actions_without_resources")

    def test_rds_changes_only_on_resources_named_and_tagged_as_ours(self):
        self.assert_no_problems("rds_changes_only_on_our_names_and_tags")

    def test_rds_changes_outside_our_names_or_tags_are_explicitly_denied(self):
        self.assert_no_problems("rds_changes_outside_our_names_or_tags_are_explicitly_denied")

    def test_restores_and_instances_require_our_names_and_request_tags(self):
        self.assert_no_problems("rds_creates_require_our_names_and_request_tags")

    def test_a_root_tagged_deleted_modified_or_given_an_instance_is_denied(self):
        self.assert_no_problems("a_root_can_never_be_made_to_look_like_ours")

    def test_protected_roots_and_their_instances_are_denied_every_change(self):
        self.assert_no_problems("protected_roots_and_their_instances_are_denied_every_change")

    def test_secrets_only_under_this_deployments_path(self):
        self.assert_no_problems("secrets_only_under_our_path")

    def test_rds_managed_and_other_deployments_secrets_stay_out_of_reach(self):
        self.assert_no_problems("rds_managed_and_other_deployments_secrets_stay_out_of_reach")

    def test_the_state_table_is_the_only_table_and_is_kept(self):
        self.assert_no_problems("the_state_table_is_the_only_table_and_is_kept")

    def test_parameters_read_under_the_stack_path_and_only_earlier_leases_deleted(self):
        self.assert_no_problems("parameters_read_under_the_stack_path_and_only_earlier_leases_deleted")

    def test_events_only_on_the_default_bus(self):
        self.assert_no_problems("events_only_on_the_default_bus")

    def test_the_function_invokes_only_itself(self):
        self.assert_no_problems("invokes_only_itself")

    def test_logs_only_to_its_own_log_group(self):
        self.assert_no_problems("logs_only_to_its_own_log_group")

    def test_keys_only_by_key_policy_and_foreign_keys_out_of_reach(self):
        self.assert_no_problems("keys_only_by_key_policy")

    def test_policies_fit_the_iam_size_quotas(self):
        self.assert_no_problems("policies_fit_the_iam_quotas")

    def test_required_parameters_exist_with_their_defaults(self):
        self.assert_no_problems("parameters_exist_with_their_defaults")

    def test_function_is_configured_for_the_finisher(self):
        self.assert_no_problems("function_is_configured_for_the_finisher")

    def test_failed_invocations_are_kept_alarmed_and_answerable(self):
        self.assert_no_problems("failed_invocations_are_kept_alarmed_and_answerable")

    def test_outputs_are_exported_under_the_stack_name(self):
        self.assert_no_problems("outputs_are_exported")

    def test_schedule_and_rds_event_rules_invoke_the_function(self):
        self.assert_no_problems("schedule_and_rds_event_rules_invoke_the_function")

    def test_logs_alarms_and_dashboard_exist(self):
        self.assert_no_problems("logs_alarms_and_dashboard_exist")

    def test_default_key_and_access_policy_follow_their_parameters(self):
        self.assert_no_problems("default_key_and_access_policy")

    def test_example_outputs_every_return_value(self):
        self.assert_no_problems("example_outputs_every_return_value")

    def test_every_check_is_run(self):
        named = set()
        for name in dir(self):
            if name.startswith("test_"):
                named |= {c for c in getattr(self, name).__code__.co_consts if isinstance(c, str)}
        self.assertEqual(set(CHECKS), named & set(CHECKS))


# ---------------------------------------------------------------- mutations


def raw_documents(template: dict) -> dict[str, dict]:
    """The function's raw policy documents by name ("rds" and "rds-deny" are the managed ones)."""
    documents = {p["PolicyName"]: p["PolicyDocument"] for p in template["Resources"]["FunctionRole"]["Properties"]["Policies"]}
    documents["rds"] = template["Resources"]["FunctionRdsPolicy"]["Properties"]["PolicyDocument"]
    documents["rds-deny"] = template["Resources"]["FunctionRdsDenyPolicy"]["Properties"]["PolicyDocument"]
    return documents


def statement(template: dict, sid: str) -> dict:
    """The raw statement with this Sid (also inside Fn::If)."""
    for document in raw_documents(template).values():
        for s in document["Statement"]:
            candidates = [s] + [b for b in s.get("Fn::If", [])[1:] if isinstance(b, dict)]
            for c in candidates:
                if c.get("Sid") == sid:
                    return c
    raise KeyError(sid)


def policy(template: dict, name: str) -> list:
    return raw_documents(template)[name]["Statement"]


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _remove(template: dict, sid: str) -> None:
    for document in raw_documents(template).values():
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]


def _set(path: list, value) -> Callable[[dict, dict], None]:
    def mutate(template: dict, _example: dict) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path: list) -> Callable[[dict, dict], None]:
    def mutate(template: dict, _example: dict) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


FUNCTION_PROPS = ["Resources", "Function", "Properties"]

# (check, what is broken, how, parameters). Every check has at least one.
MUTATIONS: list[tuple[str, str, Callable[[dict, dict], None], dict]] = [
    ("no_wildcard_action", "an rds:* statement", lambda t, e: policy(t, "rds").append(
        {"Effect": "Allow", "Action": "rds:*", "Resource": sub("arn:${AWS::Partition}:rds:*:*:*")}), {}),
    ("no_wildcard_action", "rds:Describe* on *", lambda t, e: statement(t, "RdsReadInventory").update(
        Action="rds:Describe*"), {}),
    ("star_resource_only_for_actions_without_resources", "GetSecretValue on *", lambda t, e: statement(t, "SecretsList").update(
        Action=["secretsmanager:ListSecrets", "secretsmanager:GetSecretValue"]), {}),
    ("rds_changes_only_on_our_names_and_tags", "no tag condition", lambda t, e: statement(
        t, "RdsChangeOnlyOurNamedAndTaggedResources").pop("Condition"), {}),
    ("rds_changes_only_on_our_names_and_tags", "a fixed tag value", lambda t, e: statement(
        t, "RdsChangeOnlyOurNamedAndTaggedResources").update(Condition={"StringEquals": {f"aws:ResourceTag/{OWNERSHIP}": "x"}}), {}),
    ("rds_changes_only_on_our_names_and_tags", "changes on every cluster name", lambda t, e: statement(
        t, "RdsChangeOnlyOurNamedAndTaggedResources")["Resource"].append(
        sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*")), {}),
    ("rds_changes_only_on_our_names_and_tags", "final snapshot statement on clusters", lambda t, e: statement(
        t, "RdsFinalSnapshotOfOurClusters").update(Resource=sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:*")), {}),
    ("rds_changes_outside_our_names_or_tags_are_explicitly_denied", "no deny for untagged", lambda t, e: _remove(
        t, "RdsDenyChangesToUntaggedResources"), {}),
    ("rds_changes_outside_our_names_or_tags_are_explicitly_denied", "no deny outside our names", lambda t, e: _remove(
        t, "RdsDenyChangesOutsideOurNames"), {}),
    ("rds_changes_outside_our_names_or_tags_are_explicitly_denied", "no re-tagging deny", lambda t, e: _remove(
        t, "RdsDenyRetaggingOtherStacks") or _remove(t, "RdsDenyChangesOutsideOurNames"), {}),
    ("rds_creates_require_our_names_and_request_tags", "restore without request tag", lambda t, e: statement(
        t, "RdsRestoreWithOurTags").pop("Condition"), {}),
    ("rds_creates_require_our_names_and_request_tags", "instances without request tag", lambda t, e: statement(
        t, "RdsCreateInstancesOnlyInOurClusters").pop("Condition"), {}),
    ("rds_creates_require_our_names_and_request_tags", "tag-on-create without our tag", lambda t, e: statement(
        t, "RdsTagOnCreateOnlyOurNames").pop("Condition"), {}),
    ("rds_creates_require_our_names_and_request_tags", "tag-on-create on any name", lambda t, e: statement(
        t, "RdsTagOnCreateOnlyOurNames").update(Resource=sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*")), {}),
    ("a_root_can_never_be_made_to_look_like_ours", "tagging by tag alone, as before", lambda t, e: statement(
        t, "RdsTagOnCreateOnlyOurNames").update(Resource=sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:*")) or _remove(
        t, "RdsDenyChangesOutsideOurNames"), {}),
    ("a_root_can_never_be_made_to_look_like_ours", "instances into any cluster", lambda t, e: statement(
        t, "RdsCreateInstancesOnlyInOurClusters")["Resource"].append(
        sub("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*")), {}),
    ("protected_roots_and_their_instances_are_denied_every_change", "protected roots not denied", lambda t, e: policy(
        t, "rds").pop(), {"ProtectedClusterIds": "prod-db,acm-test-legacy"}),  # the Fn::If holding the deny
    ("protected_roots_and_their_instances_are_denied_every_change", "instances of protected roots not denied", lambda t, e: policy(
        t, "rds")[-1]["Fn::If"][1]["Resource"]["Fn::Split"][1]["Fn::Sub"].__setitem__(0, "arn:*:rds:*:*:cluster:${Ids}"),
        {"ProtectedClusterIds": "acm-test-legacy"}),
    ("secrets_only_under_our_path", "all secrets readable", lambda t, e: statement(
        t, "SecretsReadUnderOurPath")["Resource"].append(
        sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*")), {}),
    ("secrets_only_under_our_path", "the prefix without the stack's path", lambda t, e: statement(
        t, "SecretsChangeOnlyOurSecrets")["Resource"].__setitem__(0, sub(
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${DefaultSecretPrefix}*")), {}),
    ("secrets_only_under_our_path", "extra prefix missing in IAM", lambda t, e: statement(
        t, "SecretsReadUnderOurPath")["Resource"].pop(), {"ExtraSecretPrefixes": "/a/,/b/,/c/"}),
    ("secrets_only_under_our_path", "deletion of untagged secrets", lambda t, e: statement(
        t, "SecretsChangeOnlyOurSecrets").pop("Condition"), {}),
    ("secrets_only_under_our_path", "public resource policies", lambda t, e: statement(
        t, "SecretsResourcePolicyOnlyOurSecretsNeverPublic")["Condition"].pop("Bool"), {}),
    ("rds_managed_and_other_deployments_secrets_stay_out_of_reach", "no deny for RDS-managed secrets", lambda t, e: _remove(
        t, "SecretsDenyRdsManagedSecrets"), {}),
    ("rds_managed_and_other_deployments_secrets_stay_out_of_reach", "no re-tagging deny", lambda t, e: _remove(
        t, "SecretsDenyRetaggingOtherDeployments"), {}),
    ("parameters_read_under_the_stack_path_and_only_earlier_leases_deleted", "all parameters", lambda t, e: statement(
        t, "ParametersReadUnderOurPath").update(Resource=sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*")), {}),
    ("parameters_read_under_the_stack_path_and_only_earlier_leases_deleted", "the config writable", lambda t, e: statement(
        t, "EarlierLeasesAndRecordsDeletedUnderOurPath").update(Resource=sub(
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${AWS::StackName}/*")), {}),
    ("the_state_table_is_the_only_table_and_is_kept", "every table", lambda t, e: statement(
        t, "StateTableItems").update(Resource="*"), {}),
    ("the_state_table_is_the_only_table_and_is_kept", "deleted with the stack", lambda t, e: t["Resources"]["StateTable"].update(
        DeletionPolicy="Delete"), {}),
    ("events_only_on_the_default_bus", "every bus", lambda t, e: statement(t, "LifecycleEventsOnDefaultBus").update(
        Resource=sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/*")), {}),
    ("events_only_on_the_default_bus", "any source", lambda t, e: statement(t, "LifecycleEventsOnDefaultBus").pop(
        "Condition"), {}),
    ("invokes_only_itself", "every function", lambda t, e: statement(t, "InvokeOnlyItself").update(
        Resource=sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*")), {}),
    ("invokes_only_itself", "function renamed", _set(FUNCTION_PROPS + ["FunctionName"], "renamed"), {}),
    ("logs_only_to_its_own_log_group", "CreateLogGroup", lambda t, e: statement(t, "WriteOwnLogs")["Action"].append(
        "logs:CreateLogGroup"), {}),
    ("logs_only_to_its_own_log_group", "logs deleted with the stack by default", _delete(
        ["Resources", "FunctionLogGroup", "DeletionPolicy"]), {}),
    ("keys_only_by_key_policy", "untagged keys", lambda t, e: statement(t, "KmsCreateOnlyOurKeys").pop("Condition"), {}),
    ("keys_only_by_key_policy", "key administration by tag, as before", lambda t, e: policy(t, "kms").append({
        "Sid": "KmsAdministerOnlyOurDisposableKeys", "Effect": "Allow",
        "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
        "Resource": sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),
        "Condition": {"StringEquals": {
            "aws:ResourceTag/aurora-clone-manager:stack": {"Ref": "AWS::StackName"},
            "aws:ResourceTag/aurora-clone-manager:disposable": "true"}}}), {}),
    ("keys_only_by_key_policy", "grants of any operation on the default key", lambda t, e: t["Resources"]["DefaultKey"][
        "Properties"]["KeyPolicy"]["Statement"][1].pop("Condition"), {}),
    ("keys_only_by_key_policy", "direct decryption on any key", lambda t, e: statement(
        t, "KmsUseAnyKeyOnlyViaRdsOrSecretsManager").pop("Condition"), {}),
    ("policies_fit_the_iam_quotas", "a huge inline policy", lambda t, e: statement(t, "SecretsList").update(
        Sid="x" * 11_000), {}),
    ("policies_fit_the_iam_quotas", "a huge managed policy", lambda t, e: statement(t, "RdsReadInventory").update(
        Sid="x" * 7_000), {}),
    ("policies_fit_the_iam_quotas", "RDS back inline", lambda t, e: t["Resources"]["FunctionRole"]["Properties"][
        "Policies"].append({"PolicyName": "rds", "PolicyDocument": t["Resources"].pop("FunctionRdsPolicy")["Properties"][
        "PolicyDocument"]}) or t["Resources"]["Function"].pop("DependsOn"), {}),
    ("parameters_exist_with_their_defaults", "MaxCopyAge missing", _delete(["Parameters", "MaxCopyAge"]), {}),
    ("parameters_exist_with_their_defaults", "another default", _set(["Parameters", "MaxClonesPerSource", "Default"], 10), {}),
    ("parameters_exist_with_their_defaults", "daily at deploy time", _set(["Parameters", "MaintenanceSchedule", "Default"], "rate(1 day)"), {}),
    ("parameters_exist_with_their_defaults", "prefixes that reach rds!", _set(
        ["Parameters", "DefaultSecretPrefix", "AllowedPattern"], "^[A-Za-z0-9/_+=.@-]+$"), {}),
    ("function_is_configured_for_the_finisher", "short timeout", _set(FUNCTION_PROPS + ["Timeout"], 300), {}),
    ("function_is_configured_for_the_finisher", "variable renamed", lambda t, e: t["Resources"]["Function"]["Properties"][
        "Environment"]["Variables"].update(MAX_AGE=t["Resources"]["Function"]["Properties"]["Environment"][
        "Variables"].pop("MAX_COPY_AGE")), {}),
    ("function_is_configured_for_the_finisher", "no async retries", _set(
        ["Resources", "FunctionEventInvokeConfig", "Properties", "MaximumRetryAttempts"], 0), {}),
    ("function_is_configured_for_the_finisher", "no name prefix given to the function", lambda t, e: t["Resources"]["Function"][
        "Properties"]["Environment"]["Variables"].pop("NAME_PREFIX"), {}),
    ("failed_invocations_are_kept_alarmed_and_answerable", "no destination", _delete(
        ["Resources", "FunctionEventInvokeConfig", "Properties", "DestinationConfig"]), {}),
    ("failed_invocations_are_kept_alarmed_and_answerable", "no dropped-events alarm", _delete(
        ["Resources", "AsyncEventsDroppedAlarm"]), {}),
    ("failed_invocations_are_kept_alarmed_and_answerable", "no queue alarm", _delete(
        ["Resources", "FailedInvocationsAlarm"]), {}),
    ("outputs_are_exported", "export renamed", _set(["Outputs", "RoleArn", "Export", "Name"], sub("${AWS::StackName}-Role")), {}),
    ("outputs_are_exported", "key export missing", _delete(["Outputs", "DefaultKmsKeyId"]), {}),
    ("schedule_and_rds_event_rules_invoke_the_function", "schedule input changed", lambda t, e: t["Resources"][
        "MaintenanceScheduleRule"]["Properties"]["Targets"][0].update(Input='{"action":"maintain"}'), {}),
    ("schedule_and_rds_event_rules_invoke_the_function", "another RDS event", _set(
        ["Resources", "InstanceCreatedRule", "Properties", "EventPattern", "detail", "EventID"], ["RDS-EVENT-0006"]), {}),
    ("schedule_and_rds_event_rules_invoke_the_function", "no permission", _delete(
        ["Resources", "InstanceCreatedPermission"]), {}),
    ("logs_alarms_and_dashboard_exist", "no errors alarm", _delete(["Resources", "ErrorsAlarm"]), {}),
    ("logs_alarms_and_dashboard_exist", "dashboard without purges", lambda t, e: t["Resources"]["Dashboard"]["Properties"].update(
        DashboardBody=sub(t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"].replace(
            "CopiesPurged", "CopiesRemoved"))), {}),
    ("logs_alarms_and_dashboard_exist", "dashboard without the pool's cost", lambda t, e: t["Resources"]["Dashboard"][
        "Properties"].update(DashboardBody=sub(t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"].replace(
            "EstimatedMonthlyCost", "MonthlyCost"))), {}),
    ("logs_alarms_and_dashboard_exist", "dashboard without the pool's size", lambda t, e: t["Resources"]["Dashboard"][
        "Properties"].update(DashboardBody=sub(t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"].replace(
            "PoolStorageGB", "PoolStorage"))), {}),
    ("logs_alarms_and_dashboard_exist", "alarm without topic", _delete(
        ["Resources", "ThrottlesAlarm", "Properties", "AlarmActions"]), {"AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops"}),
    ("logs_alarms_and_dashboard_exist", "no retention parameter", _set(
        ["Resources", "FunctionLogGroup", "Properties", "RetentionInDays"], 7), {}),
    ("default_key_and_access_policy", "untagged default key", _delete(["Resources", "DefaultKey", "Properties", "Tags"]), {}),
    ("default_key_and_access_policy", "access policy reads all secrets", lambda t, e: t["Resources"]["DefaultAccessPolicy"][
        "Properties"]["PolicyDocument"]["Statement"][0].update(
        Resource=sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*")),
        {"SetupDefaultAccess": "true"}),
    ("example_outputs_every_return_value", "an output missing", lambda t, e: e["Outputs"].pop("DataTimestamp"), {}),
]


class EveryCheckCanFail(unittest.TestCase):
    """Breaking the template in a targeted way makes the matching check fail."""

    def test_each_mutation_is_caught_by_its_check(self):
        for check_name, broken, mutate, parameters in MUTATIONS:
            with self.subTest(check=check_name, broken=broken):
                template, example = copy.deepcopy(TEMPLATE), copy.deepcopy(EXAMPLE)
                mutate(template, example)
                res = resolve(template, **parameters)
                res.example = example
                self.assertNotEqual([], CHECKS[check_name](res), f"{check_name} did not notice: {broken}")

    def test_every_check_has_a_mutation(self):
        self.assertEqual(set(CHECKS), {m[0] for m in MUTATIONS})


if __name__ == "__main__":
    unittest.main()
