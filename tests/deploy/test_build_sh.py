"""build.sh and create-build-stack.sh, run in a temporary copy of the
repository with stand-ins for aws, cargo and rustup on PATH. Nothing is built
or deployed: the stand-ins record how they were called."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_ZIP = Path("target/lambda/aurora-clone-manager/bootstrap.zip")

# A stand-in command: appends its name and arguments (one per line, then a
# blank line) to $CALLS, then runs the optional behaviour for that command.
STAND_IN = """#!/usr/bin/env bash
{{ printf '%s\\n' "$(basename "$0")" "$@"; echo; }} >>"$CALLS"
{body}
"""


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Sandbox:
    """A temporary repository copy with stand-in tools."""

    def __init__(self, with_zip: bool = True):
        self.dir = Path(tempfile.mkdtemp(prefix="build-sh-test-"))
        for name in ("build.sh", "create-build-stack.sh", "template.yaml", "build-stack.yaml"):
            shutil.copy2(ROOT / name, self.dir / name)
        self.bin = self.dir / "fake-bin"
        self.calls_file = self.dir / "calls.log"
        self.calls_file.touch()
        self.stand_in("aws")
        self.stand_in("cargo", "exit 97  # must not be reached unless a test replaces it")
        self.stand_in("rustup", "exit 0")
        if with_zip:
            self.make_zip()

    def make_zip(self) -> None:
        path = self.dir / BOOTSTRAP_ZIP
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("bootstrap", "#!/bin/sh\n")

    def stand_in(self, name: str, body: str = "exit 0") -> None:
        write_executable(self.bin / name, STAND_IN.format(body=body))

    def calls(self, name: str | None = None) -> list[list[str]]:
        entries = [block.split("\n") for block in self.calls_file.read_text().split("\n\n") if block.strip()]
        return [e[1:] for e in entries if name is None or e[0] == name]

    def run(self, *args: str, script: str = "build.sh", **env: str) -> subprocess.CompletedProcess:
        environment = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.dir),
            "CALLS": str(self.calls_file),
            "LAMBDA_S3_BUCKET": "b",
            "LAMBDA_S3_PREFIX": "p",
        }
        environment.update(env)
        environment = {k: v for k, v in environment.items() if v is not None}
        return subprocess.run(
            ["bash", str(self.dir / script), *args],
            cwd=self.dir,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def printed_commands(stdout: str) -> list[list[str]]:
    return [shlex.split(line) for line in stdout.splitlines() if line.strip()]


PACKAGE = [
    "aws", "cloudformation", "package",
    "--template-file", "template.yaml",
    "--s3-bucket", "b",
    "--s3-prefix", "p",
    "--output-template-file", "packaged.yaml",
]  # fmt: skip


def deploy(*overrides: str, stack: str = "s") -> list[str]:
    return [
        "aws", "cloudformation", "deploy",
        "--template-file", "packaged.yaml",
        "--stack-name", stack,
        "--capabilities", "CAPABILITY_IAM",
        "--parameter-overrides", *overrides,
    ]  # fmt: skip


class BuildShDryRun(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox()
        self.addCleanup(self.sandbox.remove)

    def test_dry_run_prints_package_and_deploy_with_the_override(self):
        result = self.sandbox.run("--no-build", "MaxCopyAge=P2D", DRY_RUN="1", SKIP_TESTS="1", STACK_NAME="s")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([PACKAGE, deploy("Architecture=arm64", "MaxCopyAge=P2D")], printed_commands(result.stdout))
        self.assertEqual([], self.sandbox.calls("aws"), "a dry run must not call aws")
        self.assertEqual([], self.sandbox.calls("cargo"), "--no-build must not call cargo")

    def test_the_dry_run_flag_works_like_the_variable(self):
        result = self.sandbox.run("--dry-run", "--skip-tests", "--no-build", "MaxCopyAge=P2D", STACK_NAME="s")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([PACKAGE, deploy("Architecture=arm64", "MaxCopyAge=P2D")], printed_commands(result.stdout))
        self.assertEqual([], self.sandbox.calls("aws"))

    def test_printed_commands_are_shell_quoted(self):
        schedule = "MaintenanceSchedule=cron(0 3 * * ? *)"
        result = self.sandbox.run("--no-build", schedule, "LogLevel=debug", DRY_RUN="1", SKIP_TESTS="1", STACK_NAME="my stack")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(
            [PACKAGE, deploy("Architecture=arm64", schedule, "LogLevel=debug", stack="my stack")],
            printed_commands(result.stdout),
        )

    def test_reports_the_size_of_bootstrap_zip(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1")
        size = (self.sandbox.dir / BOOTSTRAP_ZIP).stat().st_size
        self.assertIn(f"{size} bytes", result.stderr)

    def test_without_stack_name_it_only_packages(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1", STACK_NAME=None)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([PACKAGE], printed_commands(result.stdout))

    def test_x86_64_is_passed_on_as_the_architecture(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1", STACK_NAME="s", ARCH="x86_64")
        self.assertEqual(deploy("Architecture=x86_64"), printed_commands(result.stdout)[1])


class BuildShFailsClearly(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox()
        self.addCleanup(self.sandbox.remove)

    def assert_fails_saying(self, result: subprocess.CompletedProcess, text: str) -> None:
        self.assertNotEqual(0, result.returncode)
        self.assertIn(text, result.stderr)
        self.assertEqual([], self.sandbox.calls("aws"))

    def test_missing_bucket_fails_with_a_message(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1", LAMBDA_S3_BUCKET=None)
        self.assert_fails_saying(result, "LAMBDA_S3_BUCKET is not set")

    def test_missing_prefix_fails_with_a_message(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1", LAMBDA_S3_PREFIX="")
        self.assert_fails_saying(result, "LAMBDA_S3_PREFIX is not set")

    def test_no_build_without_bootstrap_zip_fails(self):
        (self.sandbox.dir / BOOTSTRAP_ZIP).unlink()
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1")
        self.assert_fails_saying(result, "bootstrap.zip does not exist")

    def test_arguments_must_be_key_value_overrides(self):
        result = self.sandbox.run("--no-build", "P2D", DRY_RUN="1", SKIP_TESTS="1")
        self.assert_fails_saying(result, "expected Key=Value")

    def test_unknown_architecture_fails(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1", ARCH="armhf")
        self.assert_fails_saying(result, "ARCH must be arm64 or x86_64")


class BuildShRunsTheSteps(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox()
        self.addCleanup(self.sandbox.remove)
        self.test_script = self.sandbox.dir / "scripts" / "test.sh"

    def test_without_dry_run_it_packages_then_deploys(self):
        result = self.sandbox.run("--no-build", "--skip-tests", "MaxCopyAge=P2D", STACK_NAME="s")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual([PACKAGE[1:], deploy("Architecture=arm64", "MaxCopyAge=P2D")[1:]], self.sandbox.calls("aws"))

    def test_tests_run_unless_skipped(self):
        write_executable(self.test_script, '#!/usr/bin/env bash\necho ran >>"$CALLS.tests"\n')
        marker = Path(f"{self.sandbox.calls_file}.tests")
        self.sandbox.run("--no-build", DRY_RUN="1")
        self.assertTrue(marker.exists(), "scripts/test.sh should run by default")
        marker.unlink()
        self.sandbox.run("--no-build", "--skip-tests", DRY_RUN="1")
        self.sandbox.run("--no-build", DRY_RUN="1", SKIP_TESTS="1")
        self.assertFalse(marker.exists(), "--skip-tests and SKIP_TESTS=1 skip the tests")

    def test_failing_tests_stop_before_packaging(self):
        write_executable(self.test_script, "#!/usr/bin/env bash\nexit 1\n")
        result = self.sandbox.run("--no-build", STACK_NAME="s")
        self.assertNotEqual(0, result.returncode)
        self.assertEqual([], self.sandbox.calls("aws"))

    def test_missing_test_script_is_reported(self):
        result = self.sandbox.run("--no-build", DRY_RUN="1")
        self.assertNotEqual(0, result.returncode)
        self.assertIn("scripts/test.sh not found", result.stderr)

    def test_build_uses_cargo_lambda_for_arm64(self):
        # cargo-lambda and zig "installed": no venv is made. The stand-in cargo
        # produces the zip the way cargo lambda would.
        self.sandbox.stand_in("cargo-lambda")
        self.sandbox.stand_in("zig")
        self.sandbox.stand_in("rustup", 'if [ "$1 $2" = "target list" ]; then echo x86_64-unknown-linux-gnu; fi')
        zip_path = self.sandbox.dir / BOOTSTRAP_ZIP
        zip_path.unlink()
        self.sandbox.stand_in("cargo", f"mkdir -p '{zip_path.parent}' && echo zip >'{zip_path}'")
        result = self.sandbox.run("--skip-tests", DRY_RUN="1", STACK_NAME="s")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn(["target", "add", "aarch64-unknown-linux-gnu"], self.sandbox.calls("rustup"))
        self.assertEqual(
            [["lambda", "build", "--release", "--arm64", "--bin", "aurora-clone-manager", "--output-format", "zip"]],
            self.sandbox.calls("cargo"),
        )
        self.assertFalse((self.sandbox.dir / ".venv-build").exists())
        self.assertEqual(2, len(printed_commands(result.stdout)))


class CreateBuildStack(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox(with_zip=False)
        self.addCleanup(self.sandbox.remove)

    def test_dry_run_prints_the_build_stack_deploy(self):
        result = self.sandbox.run(
            "SourceVersion=dev",
            script="create-build-stack.sh",
            DRY_RUN="1",
            SOURCE_LOCATION="git@github.com:someone/aurora-clone-manager.git",
        )
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(
            [[
                "aws", "cloudformation", "deploy",
                "--template-file", "build-stack.yaml",
                "--stack-name", "aurora-clone-manager-build",
                "--capabilities", "CAPABILITY_IAM",
                "--parameter-overrides",
                "LambdaS3Bucket=b",
                "LambdaS3Prefix=p",
                "SourceLocation=https://github.com/someone/aurora-clone-manager.git",
                "Architecture=arm64",
                "SourceVersion=dev",
            ]],
            printed_commands(result.stdout),
        )  # fmt: skip
        self.assertEqual([], self.sandbox.calls("aws"))

    def test_missing_bucket_fails_with_a_message(self):
        result = self.sandbox.run(script="create-build-stack.sh", DRY_RUN="1", LAMBDA_S3_BUCKET=None, SOURCE_LOCATION="x")
        self.assertNotEqual(0, result.returncode)
        self.assertIn("LAMBDA_S3_BUCKET is not set", result.stderr)


if __name__ == "__main__":
    unittest.main()
