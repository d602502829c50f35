"""Checks template.yaml against the AWS calls the code makes, as recorded by the Rust
test tests/it/iam_calls.rs (run it with `cargo test --test it iam_calls`; it calls this file):

  python tests/deploy/iam_calls.py CALLS.json

1. Every recorded call is allowed: the function role's identity policies, with the
   resource policy in force where the service has one (a key's policy, the template's
   DefaultKey policy, a secret's policy), evaluated with cfn_eval.py.
2. Every action the template allows the role is one the recorded calls use, or one AWS
   uses with the role on its behalf (SERVICE_SIDE_ACTIONS); and the reverse follows from 1.

Exits 1 and prints the problems when either fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cfn_eval import (  # noqa: E402
    as_list,
    is_allowed,
    is_allowed_by_key,
    is_allowed_with_resource_policy,
    load,
    resolve,
)

# Actions the template allows the role that the code never calls itself: AWS performs them
# with the role. Each says who and why.
SERVICE_SIDE_ACTIONS = {
    "logs:CreateLogStream": "Lambda writes the function's logs with its role",
    "logs:PutLogEvents": "Lambda writes the function's logs with its role",
    "sqs:SendMessage": "Lambda sends the record of a failed asynchronous invocation to the on-failure destination with the role",
}


def role_identity_statements(res) -> list[dict]:
    resources = res.resources()
    documents = [p["PolicyDocument"] for p in resources["FunctionRole"]["Properties"]["Policies"]]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and "<Ref:FunctionRole>" in r["Properties"].get("Roles", [])
    ]
    return [s for d in documents for s in as_list(d["Statement"])]


def default_key_statements(res, role_arn: str) -> list[dict]:
    key = res.resources().get("DefaultKey")
    if key is None:
        return []
    text = json.dumps(as_list(key["Properties"]["KeyPolicy"]["Statement"]))
    return json.loads(text.replace("<GetAtt:FunctionRole.Arn>", role_arn))


def foreign_key_statements(account: str) -> list[dict]:
    """The policy a key the code did not make usually has (a KmsKeyId property's key): the
    account's IAM policies decide."""
    return [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]


def call_allowed(call: dict, document: dict, identity: list[dict], default_key: list[dict]) -> bool:
    principal = document["role_arn"]
    action, resource = call["action"], call["resource"]
    context: dict[str, Any] = {"aws:PrincipalAccount": document["account"], **call.get("context", {})}
    if call.get("identity_only"):
        return is_allowed(identity, action, resource, {"aws:PrincipalArn": principal, **context})
    if action.startswith("kms:") and ":key/" in resource:
        if resource == document["default_key_arn"]:
            key_policy = default_key
        elif call.get("resource_policy"):
            key_policy = as_list(json.loads(call["resource_policy"])["Statement"])
        else:
            key_policy = foreign_key_statements(document["account"])
        return is_allowed_by_key(identity, key_policy, principal, action, resource, context)
    if action.startswith("secretsmanager:") and call.get("resource_policy"):
        secret_policy = as_list(json.loads(call["resource_policy"])["Statement"])
        return is_allowed_with_resource_policy(identity, secret_policy, principal, action, resource, context)
    return is_allowed(identity, action, resource, {"aws:PrincipalArn": principal, **context})


def template_actions(identity: list[dict], default_key: list[dict], role_arn: str) -> set[str]:
    """Actions the template allows the role: its identity policies and the statements of
    the default key's policy that name it."""
    actions = {a for s in identity if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    for s in default_key:
        if s["Effect"] == "Allow" and role_arn in as_list(s.get("Principal", {}).get("AWS", [])):
            actions |= set(as_list(s["Action"]))
    return actions


def check(document: dict, template: dict | None = None) -> list[str]:
    res = resolve(
        template or load("template.yaml"),
        stack_name=document["stack_name"],
        region=document["region"],
        account=document["account"],
        **document.get("parameters", {}),
    )
    identity = role_identity_statements(res)
    # The table's name is CloudFormation's choice; the flows name theirs.
    if "state_table_arn" in document:
        text = json.dumps(identity).replace("<GetAtt:StateTable.Arn>", document["state_table_arn"])
        identity = json.loads(text)
    default_key = default_key_statements(res, document["role_arn"])
    problems: list[str] = []
    seen: set[tuple] = set()
    for call in document["calls"]:
        if call_allowed(call, document, identity, default_key):
            continue
        key = (call["action"], call["resource"])
        if key not in seen:
            seen.add(key)
            problems.append(f"denied: {call['action']} on {call['resource']} with {call.get('context', {})}")
    called = {call["action"] for call in document["calls"]}
    allowed = template_actions(identity, default_key, document["role_arn"])
    for action in sorted(allowed - called - set(SERVICE_SIDE_ACTIONS)):
        problems.append(f"unused: the template allows {action}, which no flow calls")
    for action in sorted(set(SERVICE_SIDE_ACTIONS) - allowed):
        problems.append(f"missing: {action} ({SERVICE_SIDE_ACTIONS[action]})")
    return problems


def main(path: str) -> int:
    document = json.loads(Path(path).read_text())
    problems = check(document)
    for problem in problems:
        print(problem)
    print(f"iam calls: {len(document['calls'])} calls, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
