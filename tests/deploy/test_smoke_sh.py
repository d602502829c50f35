"""scripts/aws-smoke.sh, run in a temporary copy of the repository with stand-ins
for aws and aurora-clone-manager on PATH. Nothing reaches AWS.

The dry-run tests put stand-ins first on PATH that record the call and fail:
a dry run must not call either. The other tests run the script for real
against scripted stand-ins (rules matched on the command line, in order) to
check what it does on success, on a failed check, on a failed step and on
Ctrl-C: every resource it recorded is removed, newest first, and nothing else.
"""

from __future__ import annotations

import json
import os
import pty
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_ZIP = Path("target/lambda/aurora-clone-manager/bootstrap.zip")

# Records the call and fails: for the dry runs, which must call nothing.
MUST_NOT_RUN = """#!/usr/bin/env bash
{ printf '%s\\n' "$(basename "$0")" "$@"; echo; } >>"$CALLS"
echo "$(basename "$0") must not be called in a dry run" >&2
exit 97
"""

# A scripted stand-in: records the call (with the credentials it saw) as one JSON
# line, then answers with the first rule whose regular expression matches the
# command line (and whose env entries match the environment). A rule with
# "outputs" answers the n-th matching call with the n-th output (the last one
# repeats). Unmatched calls succeed with no output.
SCRIPTED = """#!{python}
import json, os, re, sys, time
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps({{"tool": name, "args": args,
                          "key": os.environ.get("AWS_ACCESS_KEY_ID"),
                          "profile": os.environ.get("AWS_PROFILE")}}) + "\\n")
line = " ".join(args)
rules = json.load(open(os.environ["RULES"]))
for index, rule in enumerate(rules):
    if rule.get("tool", "aws") != name or not re.search(rule["match"], line):
        continue
    if any(os.environ.get(k) != v for k, v in rule.get("env", {{}}).items()):
        continue
    time.sleep(rule.get("sleep", 0))
    stdout = rule.get("stdout", "")
    if "outputs" in rule:
        counter = os.environ["RULES"] + ".%d" % index
        seen = int(open(counter).read()) if os.path.exists(counter) else 0
        open(counter, "w").write(str(seen + 1))
        stdout = rule["outputs"][min(seen, len(rule["outputs"]) - 1)]
    sys.stdout.write(stdout)
    sys.stderr.write(rule.get("stderr", ""))
    sys.exit(rule.get("exit", 0))
"""

ACCOUNT = "123456789012"
EXAMPLE_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:example-abc"
CLI_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:cli-abc"


def aws_error(code: str, operation: str, message: str = "refused") -> dict:
    return {"exit": 254, "stderr": f"\nAn error occurred ({code}) when calling the {operation} operation: {message}\n"}


def happy_rules() -> list[dict]:
    """Answers of an account where everything works as the tool expects."""
    return [
        {"match": r"^sts get-caller-identity", "stdout": f"{ACCOUNT}\tarn:aws:iam::{ACCOUNT}:user/tester\n"},
        {"match": r"^cloudformation describe-stacks .*StackStatus",
         **aws_error("ValidationError", "DescribeStacks", "Stack with id x does not exist")},
        {"match": r"^cloudformation describe-stacks .*Outputs",
         "stdout": f"ClusterId\texample-clone\nPasswordSecretArn\t{EXAMPLE_SECRET}\n"},
        {"match": r"^sts assume-role --role-arn \S+acm-smoke-reader-", "stdout": "AKREADER\tSECRETR\tTOKENR\n"},
        {"match": r"^sts assume-role --role-arn \S+acm-smoke-other-", "stdout": "AKOTHER\tSECRETO\tTOKENO\n"},
        {"match": r"^secretsmanager get-secret-value", "env": {"AWS_ACCESS_KEY_ID": "AKOTHER"},
         **aws_error("AccessDeniedException", "GetSecretValue")},
        {"match": r"^secretsmanager get-secret-value", "stdout": "arn\n"},
        {"match": r"^rds describe-db-clusters .*smoke-cli", "stdout": "cli-clone\n"},
        {"tool": "aurora-clone-manager", "match": r" provision ",
         "stdout": json.dumps({"clusterId": "cli-clone", "ready": True, "state": "ready",
                               "outputs": {"PasswordSecretArn": CLI_SECRET}})},
    ]  # fmt: skip


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Sandbox:
    """A temporary repository copy with stand-in tools."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="aws-smoke-test-"))
        for name in ("scripts/aws-smoke.sh", "build.sh", "template.yaml", "example/template.yaml"):
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, self.dir / name)
        zip_path = self.dir / BOOTSTRAP_ZIP
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path, "w") as archive:
            archive.writestr("bootstrap", "#!/bin/sh\n")
        self.bin = self.dir / "fake-bin"
        self.calls_file = self.dir / "calls.log"
        self.calls_file.touch()
        self.rules_file = self.dir / "rules.json"
        self.cli = self.bin / "aurora-clone-manager"

    def forbid_tools(self) -> None:
        for name in ("aws", "aurora-clone-manager", "cargo"):
            write_executable(self.bin / name, MUST_NOT_RUN)

    def script_tools(self, rules: list[dict]) -> None:
        self.rules_file.write_text(json.dumps(rules))
        for name in ("aws", "aurora-clone-manager"):
            write_executable(self.bin / name, SCRIPTED.format(python=sys.executable))
        write_executable(self.bin / "cargo", MUST_NOT_RUN)

    def environment(self, **env: str | None) -> dict:
        environment = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.dir),
            "CALLS": str(self.calls_file),
            "RULES": str(self.rules_file),
        }
        environment.update(env)
        return {k: v for k, v in environment.items() if v is not None}

    def command(self, *args: str) -> list[str]:
        return ["bash", str(self.dir / "scripts" / "aws-smoke.sh"), *args]

    def run(self, *args: str, **env: str | None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            cwd=self.dir,
            env=self.environment(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def forbidden_calls(self) -> list[str]:
        return [block for block in self.calls_file.read_text().split("\n\n") if block.strip()]

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.calls_file.read_text().splitlines() if line.strip()]

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def listed_commands(stdout: str) -> list[list[str]]:
    """The command lines of a dry run's listing (comment lines dropped)."""
    return [shlex.split(line) for line in stdout.splitlines() if line.strip() and not line.startswith("#")]


def signature(command: list[str]) -> str:
    """'aws service operation' (or 'aws service wait waiter'), or 'aurora-clone-manager verb'."""
    if command[0] == "aws":
        words = command[1:4] if command[2] == "wait" else command[1:3]
        return " ".join(["aws", *words])
    verbs = {"status", "provision", "maintain", "delete", "invoke"}
    return "aurora-clone-manager " + next(word for word in command[1:] if word in verbs)


def value_of(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def signatures_of(calls: list[dict]) -> list[str]:
    return [signature([call["tool"], *call["args"]]) for call in calls]


def assert_in_order(test: unittest.TestCase, expected: list[str], actual: list[str]) -> None:
    """expected appears in actual as a subsequence."""
    position = 0
    for wanted in expected:
        try:
            position = actual.index(wanted, position) + 1
        except ValueError:
            test.fail(f"{wanted!r} missing or out of order in:\n" + "\n".join(actual))


DRY_RUN = ("--dry-run", "--bucket", "b", "--region", "eu-west-1")


class DryRun(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox()
        self.sandbox.forbid_tools()
        self.addCleanup(self.sandbox.remove)

    def dry_run(self, *extra: str) -> list[list[str]]:
        result = self.sandbox.run(*DRY_RUN, *extra)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([], self.sandbox.forbidden_calls(), "a dry run must call neither aws nor the CLI")
        commands = listed_commands(result.stdout)
        self.assertEqual([], [c for c in commands if c[0] not in ("aws", "aurora-clone-manager")],
                         "standard output holds only command lines and comments")
        return commands

    def test_the_dry_run_lists_every_call_in_order_and_makes_none(self):
        commands = self.dry_run()
        assert_in_order(self, [
            "aws sts get-caller-identity",
            # deploy (build.sh's own calls)
            "aws cloudformation package",
            "aws cloudformation deploy",
            "aws iam create-role",
            "aws iam create-role",
            # the root
            "aws rds create-db-cluster",
            "aws rds create-db-instance",
            "aws rds wait db-instance-available",
            # the two clones
            "aws cloudformation deploy",
            "aurora-clone-manager provision",
            # the principal checks
            "aws sts assume-role",
            "aws sts assume-role",
            "aws secretsmanager get-secret-value",
            "aws secretsmanager get-secret-value",
            "aws secretsmanager get-secret-value",
            "aws secretsmanager get-secret-value",
            # deleting, newest first
            "aurora-clone-manager delete",
            "aws cloudformation delete-stack",
            "aws rds delete-db-instance",
            "aws rds delete-db-cluster",
            "aws iam delete-role",
            "aws iam delete-role",
            "aws cloudformation delete-stack",
        ], [signature(command) for command in commands])  # fmt: skip

    def test_every_listed_call_names_the_region(self):
        for command in self.dry_run():
            if command[0] == "aws" and "package" not in command and "deploy" not in command[2:3]:
                self.assertEqual("eu-west-1", value_of(command, "--region"), command)

    def test_the_stacks_made_are_the_stacks_deleted(self):
        commands = self.dry_run("--stack-name", "smoke-s")
        deploys = [value_of(c, "--stack-name") for c in commands if signature(c) == "aws cloudformation deploy"]
        deletes = [value_of(c, "--stack-name") for c in commands if signature(c) == "aws cloudformation delete-stack"]
        self.assertEqual(["smoke-s", "smoke-s-example"], deploys)
        self.assertEqual(["smoke-s-example", "smoke-s"], deletes)

    def test_the_example_clone_and_the_cli_clone_name_the_reader_role(self):
        commands = self.dry_run()
        reader = value_of(next(c for c in commands if signature(c) == "aws iam create-role"), "--role-name")
        example = next(c for c in commands if signature(c) == "aws cloudformation deploy" and "example/template.yaml" in c)
        provision = next(c for c in commands if signature(c) == "aurora-clone-manager provision")
        self.assertIn(f"AccessPrincipalArns=arn:aws:iam::ACCOUNT-ID:role/{reader}", example)
        self.assertEqual(f"arn:aws:iam::ACCOUNT-ID:role/{reader}", value_of(provision, "--principal"))
        for flag in ("--set-password", "--wait", "--json"):
            self.assertIn(flag, provision)

    def test_the_root_password_is_never_on_a_command_line(self):
        create = next(c for c in self.dry_run() if signature(c) == "aws rds create-db-cluster")
        self.assertNotIn("--master-user-password", create)
        self.assertTrue(value_of(create, "--cli-input-json").startswith("file://"))

    def test_the_stack_protects_the_root(self):
        commands = self.dry_run()
        root = value_of(next(c for c in commands if signature(c) == "aws rds create-db-cluster"), "--db-cluster-identifier")
        deploy = next(c for c in commands if signature(c) == "aws cloudformation deploy")
        self.assertIn(f"ProtectedClusterIds={root}", deploy)
        self.assertIn("CreateDefaultKey=false", deploy)

    def test_a_given_root_is_used_and_never_made_or_deleted(self):
        commands = self.dry_run("--root", "prod-copy")
        names = [signature(c) for c in commands]
        self.assertNotIn("aws rds create-db-cluster", names)
        self.assertNotIn("aws rds create-db-instance", names)
        self.assertNotIn("aws rds delete-db-cluster", names)
        self.assertNotIn("aws rds delete-db-instance", names)
        self.assertIn("ProtectedClusterIds=prod-copy", next(c for c in commands if signature(c) == "aws cloudformation deploy"))
        self.assertEqual("prod-copy", value_of(next(c for c in commands if signature(c) == "aurora-clone-manager provision"), "--source"))

    def test_the_clone_limit_run_restores_copy_on_write_clones_and_deletes_them(self):
        commands = self.dry_run("--clone-limit", "--max-clones", "3")
        restore = next(c for c in commands if signature(c) == "aws rds restore-db-cluster-to-point-in-time")
        self.assertEqual("copy-on-write", value_of(restore, "--restore-type"))
        clone = value_of(restore, "--db-cluster-identifier")
        deleted = [value_of(c, "--db-cluster-identifier") for c in commands if signature(c) == "aws rds delete-db-cluster"]
        self.assertEqual(clone, deleted[0], "the newest cluster is deleted first")
        names = [signature(c) for c in commands]
        self.assertLess(names.index("aws secretsmanager get-secret-value"), names.index("aws rds restore-db-cluster-to-point-in-time"))

    def test_the_paused_source_check_waits_for_the_pause_then_clones_with_serverless(self):
        commands = self.dry_run("--paused-source")
        names = [signature(c) for c in commands]
        create = [c for c in commands if signature(c) == "aws rds create-db-cluster"][1]
        self.assertEqual("MinCapacity=0,MaxCapacity=1,SecondsUntilAutoPause=300",
                         value_of(create, "--serverless-v2-scaling-configuration"))
        self.assertTrue(value_of(create, "--cli-input-json").startswith("file://"))
        paused = value_of(create, "--db-cluster-identifier")
        instance = [c for c in commands if signature(c) == "aws rds create-db-instance"][1]
        self.assertEqual("db.serverless", value_of(instance, "--db-instance-class"))
        metric = next(c for c in commands if signature(c) == "aws cloudwatch get-metric-statistics")
        self.assertEqual("ServerlessDatabaseCapacity", value_of(metric, "--metric-name"))
        self.assertEqual(f"Name=DBInstanceIdentifier,Value={value_of(instance, '--db-instance-identifier')}",
                         value_of(metric, "--dimensions"))
        clone = [c for c in commands if signature(c) == "aurora-clone-manager provision"][1]
        self.assertEqual(paused, value_of(clone, "--source"))
        self.assertEqual("0-1", value_of(clone, "--serverless"))
        self.assertIn("--wait", clone)
        metric_at = names.index("aws cloudwatch get-metric-statistics")
        self.assertLess(names.index("aws secretsmanager get-secret-value"), names.index("aws rds create-db-cluster", 1 + names.index("aws rds create-db-cluster")))
        self.assertLess(metric_at, len(names) - names[::-1].index("aurora-clone-manager provision") - 1)
        deleted = [value_of(c, "--db-cluster-identifier") for c in commands if signature(c) == "aws rds delete-db-cluster"]
        self.assertEqual(paused, deleted[0], "the newest cluster is deleted first")

    def test_the_paused_source_check_is_in_the_plan_and_its_cost(self):
        result = self.sandbox.run(*DRY_RUN, "--paused-source")
        self.assertIn("a db.serverless clone of it made while it is paused (--paused-source)", result.stderr)
        self.assertIn("$0.12 per ACU-hour", result.stderr)

    def test_keep_deletes_nothing(self):
        names = [signature(c) for c in self.dry_run("--keep")]
        self.assertFalse([n for n in names if "delete" in n], names)

    def test_the_dry_run_needs_no_aws_binary(self):
        for name in ("aws", "aurora-clone-manager"):
            (self.sandbox.bin / name).unlink()
        path = f"{self.sandbox.bin}:/usr/bin:/bin"
        if shutil.which("aws", path=path):
            self.skipTest("an aws binary is installed in /usr/bin or /bin")
        result = self.sandbox.run(*DRY_RUN, PATH=path)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("aws rds create-db-cluster", result.stdout)

    def test_the_plan_and_a_marked_cost_estimate_are_printed(self):
        result = self.sandbox.run(*DRY_RUN)
        self.assertIn("Estimated cost (an estimate, not a quote)", result.stderr)
        self.assertIn("$0.073 per hour", result.stderr)
        self.assertIn("us-east-1", result.stderr)
        self.assertIn("eu-west-1 may differ", result.stderr)


class Usage(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox()
        self.sandbox.forbid_tools()
        self.addCleanup(self.sandbox.remove)

    def assert_usage_error(self, *args: str, saying: str, **env: str | None) -> None:
        result = self.sandbox.run(*args, **env)
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn(saying, result.stderr)
        self.assertEqual([], self.sandbox.forbidden_calls())

    def test_bad_flags_are_refused_with_exit_2(self):
        self.assert_usage_error(*DRY_RUN, "--frobnicate", saying="unknown option --frobnicate")
        self.assert_usage_error(*DRY_RUN, "extra", saying="unexpected argument 'extra'")
        self.assert_usage_error(*DRY_RUN, "--root", saying="--root needs a value")
        self.assertEqual(2, self.sandbox.run(*DRY_RUN, "--stack-name=").returncode)
        self.assert_usage_error(*DRY_RUN, "--yes=1", saying="--yes takes no value")
        self.assert_usage_error(*DRY_RUN, "--max-clones", "0", saying="--max-clones must be a whole number")
        self.assert_usage_error(*DRY_RUN, "--max-clones", "many", saying="--max-clones must be a whole number")
        self.assert_usage_error(*DRY_RUN, "--root", "9bad", saying="--root must be a DB cluster identifier")
        self.assert_usage_error(*DRY_RUN, "--stack-name", "a_b", saying="--stack-name must start with a letter")
        self.assert_usage_error(*DRY_RUN, "--stack-name", "s" * 65, saying="at most 64")
        self.assert_usage_error(*DRY_RUN, "--instance-class", "large", saying="--instance-class must look like")

    def test_the_bucket_is_required(self):
        self.assert_usage_error("--dry-run", "--region", "eu-west-1", saying="--bucket", LAMBDA_S3_BUCKET=None)

    def test_a_dry_run_without_a_region_is_refused(self):
        self.assert_usage_error("--dry-run", "--bucket", "b", saying="no AWS region", AWS_REGION=None, AWS_DEFAULT_REGION=None)

    def test_help_exits_0(self):
        result = self.sandbox.run("--help")
        self.assertEqual(0, result.returncode)
        self.assertIn("--clone-limit", result.stdout)
        self.assertIn("Exit codes", result.stdout)

    def test_without_yes_and_no_terminal_it_refuses_to_start(self):
        result = self.sandbox.run("--bucket", "b", "--region", "eu-west-1", "--cli", str(self.sandbox.cli))
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertIn("not started: standard input is not a terminal", result.stderr)
        self.assertEqual([], self.sandbox.forbidden_calls(), "nothing may be called before the run is confirmed")


REAL = ("--yes", "--no-build", "--bucket", "b", "--region", "eu-west-1", "--stack-name", "smoke-s")


class RealRun(unittest.TestCase):
    """The script for real, against scripted stand-ins."""

    def setUp(self):
        self.sandbox = Sandbox()
        self.addCleanup(self.sandbox.remove)

    def run_with(self, rules: list[dict], *extra: str) -> subprocess.CompletedProcess:
        self.sandbox.script_tools(rules)
        return self.sandbox.run(*REAL, "--cli", str(self.sandbox.cli), *extra)

    def deletions(self) -> list[str]:
        names = {"delete-stack", "delete-db-instance", "delete-db-cluster", "delete-role", "delete"}
        found = []
        for call in self.sandbox.calls():
            args = call["args"]
            if call["tool"] == "aws" and args[1] in names:
                found.append(f"{args[1]} {args[3]}")
            elif call["tool"] == "aurora-clone-manager" and "delete" in args:
                found.append(f"cli-delete {args[args.index('delete') + 1]}")
        return found

    def created(self, operation: str, option: str) -> list[str]:
        return [c["args"][c["args"].index(option) + 1] for c in self.sandbox.calls()
                if c["tool"] == "aws" and c["args"][1] == operation]  # fmt: skip

    def test_a_run_where_everything_holds_passes_and_removes_everything_newest_first(self):
        result = self.run_with(happy_rules())
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(2, result.stdout.count("is refused the password"), result.stdout)
        self.assertEqual(2, result.stdout.count("(named) can read the password"), result.stdout)
        self.assertNotIn("FAIL", result.stdout)
        root = self.created("create-db-cluster", "--db-cluster-identifier")[0]
        reader, other = self.created("create-role", "--role-name")
        self.assertEqual([
            "cli-delete cli-clone",
            "delete-stack smoke-s-example",
            f"delete-db-instance {root}-1",
            f"delete-db-cluster {root}",
            f"delete-role {other}",
            f"delete-role {reader}",
            "delete-stack smoke-s",
        ], self.deletions())  # fmt: skip
        self.assertNotIn("Not removed", result.stdout)

    def test_each_secret_is_read_with_the_assumed_role_and_not_the_profile(self):
        self.run_with(happy_rules(), "--profile", "sandbox")
        reads = [c for c in self.sandbox.calls() if c["args"][:2] == ["secretsmanager", "get-secret-value"]]
        self.assertEqual(
            [("AKREADER", EXAMPLE_SECRET), ("AKOTHER", EXAMPLE_SECRET), ("AKREADER", CLI_SECRET), ("AKOTHER", CLI_SECRET)],
            [(c["key"], c["args"][c["args"].index("--secret-id") + 1]) for c in reads],
        )
        self.assertEqual([None] * 4, [c["profile"] for c in reads])
        self.assertFalse([c for c in reads if "--profile" in c["args"]])
        deploys = [c for c in self.sandbox.calls() if c["args"][:2] == ["cloudformation", "deploy"]]
        self.assertEqual("sandbox", deploys[0]["profile"], "build.sh works as the profile")

    def test_a_principal_that_is_not_named_but_can_read_fails_the_run_and_still_cleans_up(self):
        rules = [r for r in happy_rules() if r.get("env") is None]
        result = self.run_with(rules)
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertEqual(2, result.stdout.count("(not named) could read the password"), result.stdout)
        self.assertEqual("delete-stack smoke-s", self.deletions()[-1])

    def test_a_denial_with_another_error_code_is_not_taken_for_access_denied(self):
        rules = happy_rules()
        rules.insert(0, {"match": r"^secretsmanager get-secret-value", "env": {"AWS_ACCESS_KEY_ID": "AKOTHER"},
                         **aws_error("ResourceNotFoundException", "GetSecretValue")})  # fmt: skip
        result = self.run_with(rules)
        self.assertEqual(1, result.returncode)
        self.assertIn("instead of AccessDeniedException", result.stdout)

    def test_a_failed_step_removes_only_what_was_made_and_goes_on_past_a_failed_removal(self):
        rules = happy_rules()
        rules[:0] = [
            {"match": r"^rds create-db-cluster", **aws_error("DBClusterQuotaExceededFault", "CreateDBCluster")},
            {"match": r"^rds delete-db-cluster", **aws_error("DBClusterNotFoundFault", "DeleteDBCluster")},
            {"match": r"^iam delete-role --role-name acm-smoke-other-", **aws_error("AccessDenied", "DeleteRole")},
        ]
        result = self.run_with(rules)
        self.assertEqual(1, result.returncode)
        self.assertIn("DBClusterQuotaExceededFault", result.stderr)
        root = self.created("create-db-cluster", "--db-cluster-identifier")[0]
        reader, other = self.created("create-role", "--role-name")
        self.assertEqual(
            [f"delete-db-cluster {root}", f"delete-role {other}", f"delete-role {reader}", "delete-stack smoke-s"],
            self.deletions(),
        )
        self.assertIn("Not removed (delete these yourself):", result.stdout)
        self.assertIn(f"IAM role {other}", result.stdout)
        self.assertNotIn(f"IAM role {reader}", result.stdout.split("Not removed")[1])

    def test_an_existing_stack_is_never_deployed_over_or_deleted(self):
        rules = happy_rules()
        rules.insert(0, {"match": r"^cloudformation describe-stacks --stack-name smoke-s ", "stdout": "CREATE_COMPLETE\n"})
        result = self.run_with(rules)
        self.assertEqual(1, result.returncode)
        self.assertIn("stack smoke-s already exists", result.stderr)
        self.assertEqual([], self.deletions())
        self.assertFalse([c for c in self.sandbox.calls() if c["args"][:2] == ["cloudformation", "deploy"]])

    def test_ctrl_c_removes_what_was_made_so_far(self):
        rules = happy_rules()
        rules.insert(0, {"match": r"^rds wait db-instance-available", "sleep": 60})
        self.sandbox.script_tools(rules)
        process = subprocess.Popen(
            self.sandbox.command(*REAL, "--cli", str(self.sandbox.cli)),
            cwd=self.sandbox.dir,
            env=self.sandbox.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.addCleanup(lambda: process.poll() is None and os.killpg(process.pid, signal.SIGKILL))
        deadline = time.monotonic() + 60
        while not any("db-instance-available" in c["args"] for c in self.sandbox.calls()):
            self.assertLess(time.monotonic(), deadline, "the run never reached the wait")
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        # A guard against a hang, not a speed check: the clean-up runs a dozen stand-in
        # tools, each a Python start, which on a loaded two-core machine can take a minute.
        stdout, stderr = process.communicate(timeout=300)
        self.assertEqual(1, process.returncode, stderr)
        self.assertIn("interrupted", stderr)
        root = self.created("create-db-cluster", "--db-cluster-identifier")[0]
        reader, other = self.created("create-role", "--role-name")
        self.assertEqual([
            f"delete-db-instance {root}-1",
            f"delete-db-cluster {root}",
            f"delete-role {other}",
            f"delete-role {reader}",
            "delete-stack smoke-s",
        ], self.deletions())  # fmt: skip
        self.assertFalse([c for c in self.sandbox.calls() if "provision" in c["args"]], "nothing after the interruption")

    def test_the_clone_limit_run_reports_the_restore_that_made_a_full_copy(self):
        rules = happy_rules()
        rules[:0] = [
            {"match": r"describe-db-clusters --db-cluster-identifier acm-smoke-limit-\S+-03 --query DBClusters\[0\]\.CloneGroupId",
             "stdout": "cluster-group-2\n"},
            {"match": r"describe-db-clusters --db-cluster-identifier \S+ --query DBClusters\[0\]\.CloneGroupId",
             "stdout": "cluster-group-1\n"},
            {"match": r"describe-db-clusters --db-cluster-identifier \S+ --query DBClusters\[0\]\.DBSubnetGroup",
             "stdout": "default\n"},
            {"match": r"describe-db-clusters --query length", "outputs": ["3\n", "4\n", "5\n"]},
        ]  # fmt: skip
        result = self.run_with(rules, "--clone-limit", "--max-clones", "5")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("AWS made a full copy at restore 3", result.stdout)
        self.assertIn("MaxClonesPerSource should be at most 4", result.stdout)
        clones = self.created("restore-db-cluster-to-point-in-time", "--db-cluster-identifier")
        self.assertEqual(3, len(clones))
        self.assertEqual([f"delete-db-cluster {c}" for c in reversed(clones)], self.deletions()[:3])

    def on_a_terminal_answering(self, answer: str) -> subprocess.CompletedProcess:
        rules = happy_rules()
        self.sandbox.script_tools(rules)
        controller, terminal = pty.openpty()
        self.addCleanup(os.close, controller)
        os.write(controller, answer.encode() + b"\n")  # typed ahead: the terminal keeps it
        with open(terminal, "rb", closefd=True) as stdin:
            return subprocess.run(
                self.sandbox.command(*[a for a in REAL if a != "--yes"], "--cli", str(self.sandbox.cli)),
                cwd=self.sandbox.dir,
                env=self.sandbox.environment(),
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=120,
            )

    def test_on_a_terminal_it_shows_the_plan_asks_and_makes_nothing_unless_told_yes(self):
        result = self.on_a_terminal_answering("n")
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertIn("Estimated cost", result.stderr)
        self.assertIn("Start? [y/N]", result.stderr)
        self.assertIn("not started: nothing was made", result.stderr)
        self.assertEqual(["aws sts get-caller-identity"], signatures_of(self.sandbox.calls()))

    def test_on_a_terminal_yes_starts_the_run(self):
        result = self.on_a_terminal_answering("y")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("aws rds create-db-cluster", signatures_of(self.sandbox.calls()))

    def test_a_given_root_is_checked_cloned_and_left_alone(self):
        rules = happy_rules()
        rules.insert(0, {"match": r"^rds describe-db-clusters --db-cluster-identifier prod-copy --query \S*Engine",
                         "stdout": "aurora-postgresql\t2\n"})  # fmt: skip
        result = self.run_with(rules, "--root", "prod-copy")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertFalse([d for d in self.deletions() if "prod-copy" in d])
        self.assertEqual([], self.created("create-db-cluster", "--db-cluster-identifier"))

    def test_a_given_root_without_an_instance_is_refused_before_cloning(self):
        rules = happy_rules()
        rules.insert(0, {"match": r"^rds describe-db-clusters --db-cluster-identifier prod-copy --query \S*Engine",
                         "stdout": "aurora-postgresql\t0\n"})  # fmt: skip
        result = self.run_with(rules, "--root", "prod-copy")
        self.assertEqual(1, result.returncode)
        self.assertIn("has no DB instance", result.stderr)
        self.assertFalse([c for c in self.sandbox.calls() if "provision" in c["args"]])


    def paused_rules(self) -> list[dict]:
        rules = happy_rules()
        rules[0:0] = [
            {"match": r"^cloudwatch get-metric-statistics .*ServerlessDatabaseCapacity", "outputs": ["1.0\n", "0.0\n"]},
            {"match": r"^rds describe-db-clusters .*smoke-cli.*-paused", "stdout": "paused-clone\n"},
            {"match": r"^rds describe-db-clusters --db-cluster-identifier paused-clone .*ServerlessV2ScalingConfiguration",
             "stdout": "0.0\t1.0\t300\n"},
            {"tool": "aurora-clone-manager", "match": r" provision --source acm-smoke-paused-",
             "stdout": json.dumps({"clusterId": "paused-clone", "ready": True, "state": "ready", "outputs": {}})},
        ]  # fmt: skip
        return rules

    def test_a_clone_of_a_paused_source_is_checked_and_everything_is_removed(self):
        result = self.run_with(self.paused_rules(), "--paused-source")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("while its only instance was paused", result.stdout)
        self.assertIn("has the capacity asked for (0 to 1 ACU, pausing after 300 s)", result.stdout)
        self.assertEqual(2, len([c for c in self.sandbox.calls() if c["args"][:2] == ["cloudwatch", "get-metric-statistics"]]),
                         "asked again until the capacity read 0")  # fmt: skip
        root, paused = self.created("create-db-cluster", "--db-cluster-identifier")
        self.assertEqual([
            "cli-delete paused-clone",
            f"delete-db-instance {paused}-1",
            f"delete-db-cluster {paused}",
        ], self.deletions()[:3])  # fmt: skip

    def test_a_version_that_cannot_scale_to_zero_fails_the_check_and_still_cleans_up(self):
        rules = self.paused_rules()
        rules.insert(0, {"match": r"^rds create-db-cluster --db-cluster-identifier acm-smoke-paused-",
                         **aws_error("InvalidParameterCombination", "CreateDBCluster", "MinCapacity 0 is not supported")})  # fmt: skip
        result = self.run_with(rules, "--paused-source")
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertIn("FAIL  AWS refused a aurora-postgresql cluster with a minimum of 0 ACUs", result.stdout)
        self.assertIn("InvalidParameterCombination", result.stdout)
        paused = self.created("create-db-cluster", "--db-cluster-identifier")[1]
        self.assertIn(f"delete-db-cluster {paused}", self.deletions())
        self.assertFalse([c for c in self.sandbox.calls() if "--serverless" in c["args"]])


if __name__ == "__main__":
    unittest.main()
