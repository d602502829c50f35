"""iam_calls.py, the check that tests/it/iam_calls.rs runs on the calls its flows record:
each way it must fail, it does.
"""

from __future__ import annotations

import json
import unittest

from iam_calls import SERVICE_SIDE_ACTIONS, check

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acm-FunctionRole-1"
DEFAULT_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-4333-8444-555555555555"
OURS = {"aws:ResourceTag/aurora-clone-manager:stack": "acm"}


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def document(*calls: dict) -> dict:
    return {
        "stack_name": "acm",
        "region": REGION,
        "account": ACCOUNT,
        "role_arn": ROLE,
        "default_key_arn": DEFAULT_KEY,
        "parameters": {},
        "calls": list(calls),
    }


def call(action: str, resource: str, context: dict | None = None, **extra) -> dict:
    return {"action": action, "resource": resource, "context": context or {}, **extra}


def denied(problems: list[str]) -> list[str]:
    return [p for p in problems if p.startswith("denied:")]


class IamCallsCheckCanFail(unittest.TestCase):
    def test_an_allowed_call_is_not_reported(self):
        problems = check(document(call("rds:DeleteDBCluster", arn("rds", "cluster:acm-clone-1"), OURS)))
        self.assertEqual([], denied(problems))

    def test_a_call_the_template_does_not_allow_is_reported(self):
        problems = check(document(call("rds:DeleteDBCluster", arn("rds", "cluster:prod-db"), OURS)))
        self.assertEqual(1, len(denied(problems)), problems)
        self.assertIn("rds:DeleteDBCluster on arn:aws:rds:us-east-1:123456789012:cluster:prod-db", denied(problems)[0])

    def test_an_allowed_action_no_call_uses_is_reported(self):
        problems = check(document(call("rds:DescribeDBClusters", "*")))
        self.assertIn("unused: the template allows rds:DeleteDBCluster, which no flow calls", problems)
        self.assertNotIn("unused: the template allows rds:DescribeDBClusters, which no flow calls", problems)
        for action in SERVICE_SIDE_ACTIONS:
            self.assertFalse(any(action in p for p in problems), f"{action} is used by AWS on the role's behalf")

    def test_a_key_whose_policy_does_not_name_the_role_is_reported(self):
        account_only = json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]})
        names_role = json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [ROLE]}, "Action": ["kms:ScheduleKeyDeletion"], "Resource": "*"}]})
        key = arn("kms", "key/00000000-0000-4000-8000-000000000001")
        tagged = {**OURS, "aws:ResourceTag/aurora-clone-manager:disposable": "true"}
        problems = check(document(call("kms:ScheduleKeyDeletion", key, tagged, resource_policy=account_only)))
        self.assertEqual(1, len(denied(problems)), problems)
        problems = check(document(call("kms:ScheduleKeyDeletion", key, tagged, resource_policy=names_role)))
        self.assertEqual([], denied(problems))

    def test_a_grant_on_the_default_key_beyond_decrypt_is_reported(self):
        grantee = f"arn:aws:iam::{ACCOUNT}:role/developer"
        good = call("kms:CreateGrant", DEFAULT_KEY, {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": grantee})
        bad = call("kms:CreateGrant", DEFAULT_KEY, {"kms:GrantOperations": ["Decrypt", "ReEncryptFrom"], "kms:GranteePrincipal": grantee})
        self.assertEqual([], denied(check(document(good))))
        self.assertEqual(1, len(denied(check(document(bad)))))

    def test_a_secret_policy_that_denies_the_role_is_reported(self):
        secret = arn("secretsmanager", "secret:/aurora-clone-manager/acm/password/acm-clone-20260101T000000-AbCdEf")
        only_readers = json.dumps({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
             "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/developer"]}}}]})
        with_role = only_readers.replace('role/developer"]', f'role/developer", "{ROLE}"]')
        self.assertEqual(1, len(denied(check(document(call("secretsmanager:GetSecretValue", secret, resource_policy=only_readers))))))
        self.assertEqual([], denied(check(document(call("secretsmanager:GetSecretValue", secret, resource_policy=with_role)))))

    def test_tagging_a_new_key_is_judged_by_iam_alone(self):
        key = arn("kms", "key/00000000-0000-4000-8000-000000000001")
        request = {"aws:RequestTag/aurora-clone-manager:stack": "acm", "aws:TagKeys": ["aurora-clone-manager:stack"]}
        self.assertEqual([], denied(check(document(call("kms:TagResource", key, request, identity_only=True)))))
        foreign = {**request, "aws:TagKeys": ["aurora-clone-manager:stack", "owner"]}
        self.assertEqual(1, len(denied(check(document(call("kms:TagResource", key, foreign, identity_only=True))))))


if __name__ == "__main__":
    unittest.main()
