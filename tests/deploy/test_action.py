"""The GitHub Action (action.yml) without GitHub: its install script against a fake
release served from 127.0.0.1, and its entry script against moto, end to end.

The fake release is made by scripts/release-assets.sh itself (its `package` and
`checksums` steps, with a stand-in binary), so the asset names the release workflow
attaches are the ones the install script downloads. The moto test runs the CLI binary
that `cargo build` / `cargo test` made (scripts/test.sh builds it before these tests;
ACM_CLI_BINARY names another), with moto from .venv (MOTO_SERVER names another).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts/action/install.sh"
ENTRY = ROOT / "scripts/action/entry.sh"
RELEASE_ASSETS = ROOT / "scripts/release-assets.sh"
ACTION = ROOT / "action.yml"
PRINCIPAL = "arn:aws:iam::123456789012:role/ci"
STUB_VERSION = "aurora-clone-manager 9.8.7-test"


def cli_binary() -> Path:
    named = os.environ.get("ACM_CLI_BINARY")
    if named:
        return Path(named)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "aurora-clone-manager"


def moto_server() -> Path:
    return Path(os.environ.get("MOTO_SERVER", ROOT / ".venv/bin/moto_server"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_outputs(path: Path) -> dict[str, str]:
    """The name=value lines of a GITHUB_OUTPUT file (these values have no line breaks)."""
    outputs = {}
    for line in path.read_text().splitlines():
        name, separator, value = line.partition("=")
        assert separator, f"not name=value: {line!r}"
        outputs[name] = value
    return outputs


class Served:
    """A directory served over HTTP on a free 127.0.0.1 port, until closed."""

    def __init__(self, directory: Path):
        handler = functools.partial(QuietHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class InstallTest(unittest.TestCase):
    """install.sh against a fake release: the good checksum installs, a bad one refuses."""

    def setUp(self):
        self.work = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.work)
        self.release = self.work / "release"
        stub = self.work / "bootstrap"
        stub.write_text(f'#!/bin/sh\necho "{STUB_VERSION}"\n')
        stub.chmod(0o755)
        zip_path = self.work / "bootstrap.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            archive.write(stub, "bootstrap")
        for arch in ("x86_64", "arm64"):
            self.run_script(RELEASE_ASSETS, "package", str(zip_path), arch, str(self.release))
        self.run_script(RELEASE_ASSETS, "checksums", str(self.release))
        served = Served(self.release)
        self.addCleanup(served.close)
        self.base_url = served.url
        self.install_dir = self.work / "bin"
        self.github_output = self.work / "github-output"
        self.github_output.write_text("")

    def run_script(self, script: Path, *args: str, env: dict | None = None):
        ran = subprocess.run(
            [str(script), *args], capture_output=True, text=True, timeout=120, env=env
        )
        self.assertEqual(ran.returncode, 0, f"{script.name} {args}: {ran.stderr}")
        return ran

    def install(self) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "ACM_VERSION": "v9.8.7",
            "ACM_REPOSITORY": "",
            "ACM_DOWNLOAD_BASE_URL": self.base_url,
            "ACM_INSTALL_DIR": str(self.install_dir),
            "GITHUB_OUTPUT": str(self.github_output),
        }
        return subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=120, env=env)

    def machine_asset(self) -> str:
        arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[os.uname().machine]
        return f"aurora-clone-manager-linux-{arch}.tar.gz"

    def test_the_release_lists_a_checksum_for_every_asset_the_action_can_download(self):
        listed = {line.split()[1] for line in (self.release / "SHA256SUMS").read_text().splitlines()}
        self.assertEqual(
            listed,
            {
                "aurora-clone-manager-linux-x86_64.tar.gz",
                "aurora-clone-manager-linux-aarch64.tar.gz",
                "aurora-clone-manager-lambda-x86_64.zip",
                "aurora-clone-manager-lambda-arm64.zip",
            },
        )
        ran = subprocess.run(
            ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=self.release, capture_output=True, text=True
        )
        self.assertEqual(ran.returncode, 0, ran.stdout + ran.stderr)

    def test_an_archive_that_matches_its_checksum_is_installed_and_named_as_the_step_output(self):
        ran = self.install()

        self.assertEqual(ran.returncode, 0, ran.stderr)
        installed = self.install_dir / "aurora-clone-manager"
        self.assertEqual(ran.stdout.strip(), str(installed))
        self.assertIn(f"{self.machine_asset()} matches its SHA-256 in SHA256SUMS", ran.stderr)
        version = subprocess.run([str(installed), "--version"], capture_output=True, text=True, check=True)
        self.assertEqual(version.stdout.strip(), STUB_VERSION)
        self.assertEqual(read_outputs(self.github_output), {"binary": str(installed)})

    def test_an_archive_whose_checksum_differs_is_refused_and_nothing_is_installed(self):
        asset = self.release / self.machine_asset()
        listed = (self.release / "SHA256SUMS").read_text()
        # Another archive under the same name: a damaged or substituted download.
        tampered = self.work / "tampered"
        tampered.mkdir()
        (tampered / "aurora-clone-manager").write_text("#!/bin/sh\necho tampered\n")
        subprocess.run(["tar", "-czf", str(asset), "-C", str(tampered), "aurora-clone-manager"], check=True)

        ran = self.install()

        self.assertEqual(ran.returncode, 1, ran.stderr)
        self.assertIn(f"checksum mismatch for {self.machine_asset()}", ran.stderr)
        self.assertIn("refusing to install it", ran.stderr)
        expected = next(line.split()[0] for line in listed.splitlines() if line.endswith(self.machine_asset()))
        self.assertIn(f"the release lists {expected}", ran.stderr)
        self.assertFalse((self.install_dir / "aurora-clone-manager").exists())
        self.assertEqual(self.github_output.read_text(), "")

    def test_an_archive_the_checksum_file_does_not_list_is_refused(self):
        sums = self.release / "SHA256SUMS"
        kept = [line for line in sums.read_text().splitlines() if not line.endswith(self.machine_asset())]
        sums.write_text("\n".join(kept) + "\n")

        ran = self.install()

        self.assertEqual(ran.returncode, 1, ran.stderr)
        self.assertIn(f"lists no checksum for {self.machine_asset()}; refusing to install it", ran.stderr)
        self.assertFalse((self.install_dir / "aurora-clone-manager").exists())

    def test_a_version_that_is_not_a_release_tag_is_refused_before_any_download(self):
        env = {**os.environ, "ACM_VERSION": "main", "ACM_DOWNLOAD_BASE_URL": self.base_url}
        ran = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=60, env=env)

        self.assertEqual(ran.returncode, 1)
        self.assertIn("version 'main' is not a release tag such as v1.2.0", ran.stderr)


class EntryAgainstMotoTest(unittest.TestCase):
    """entry.sh with the real CLI against moto: provision with outputs, again, delete."""

    @classmethod
    def setUpClass(cls):
        cls.binary = cli_binary()
        if not os.access(cls.binary, os.X_OK):
            raise AssertionError(
                f"no CLI binary at {cls.binary}: build it first (cargo build) or name one in ACM_CLI_BINARY"
            )
        server = moto_server()
        if not os.access(server, os.X_OK):
            raise AssertionError(f"no moto server at {server}: scripts/test.sh installs it into .venv")
        cls.python = server.parent / "python"
        cls.work = Path(tempfile.mkdtemp())
        port = free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.moto_log = open(cls.work / "moto.log", "w")
        cls.moto = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=cls.moto_log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{cls.endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if cls.moto.poll() is not None or time.monotonic() > deadline:
                    cls.tearDownClass()
                    raise AssertionError("moto did not start")
                time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.moto.terminate()
        cls.moto.wait(timeout=10)
        cls.moto_log.close()
        shutil.rmtree(cls.work, ignore_errors=True)

    def aws_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "ACM_", "GITHUB_")) and key not in ("STACK_NAME", "NAME_PREFIX")
        }
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(self.work / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.work / "no-aws-credentials"),
            }
        )
        return env

    def boto(self, script: str, *args: str) -> object:
        """Runs a boto3 script in moto's Python (`rds` and `secrets` are clients of moto);
        returns the JSON it prints."""
        prelude = (
            "import json, sys, boto3\n"
            "endpoint = sys.argv[1]\n"
            "rds = boto3.client('rds', endpoint_url=endpoint)\n"
            "secrets = boto3.client('secretsmanager', endpoint_url=endpoint)\n"
        )
        ran = subprocess.run(
            [str(self.python), "-c", prelude + script, self.endpoint, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.aws_env(),
        )
        self.assertEqual(ran.returncode, 0, ran.stderr)
        return json.loads(ran.stdout)

    def entry(self, command: str, github_output: Path, **inputs: str) -> subprocess.CompletedProcess:
        env = self.aws_env()
        env.update(
            {
                "ACM_COMMAND": command,
                "ACM_PULL_REQUEST": "42",
                "ACM_STACK": "aurora-clone-manager",
                "ACM_ENDPOINT_URL": self.endpoint,
                "ACM_BINARY": str(self.binary),
                "ACM_STATE_TABLE": "acm-StateTable-ACTION",
                "GITHUB_OUTPUT": str(github_output),
            }
        )
        env.update(inputs)
        return subprocess.run([str(ENTRY)], capture_output=True, text=True, timeout=300, env=env)

    def test_entry_provisions_a_clone_with_outputs_then_deletes_it_and_its_secret(self):
        self.boto(
            "rds.create_db_cluster(DBClusterIdentifier='prod-db', Engine='aurora-postgresql',"
            " MasterUsername='postgres', MasterUserPassword='root-password-0', DatabaseName='app')\n"
            "rds.create_db_instance(DBInstanceIdentifier='prod-db-writer', DBClusterIdentifier='prod-db',"
            " Engine='aurora-postgresql', DBInstanceClass='db.r6g.large')\n"
            "boto3.client('dynamodb', endpoint_url=endpoint).create_table(TableName='acm-StateTable-ACTION',"
            " AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'}, {'AttributeName': 'sk', 'AttributeType': 'S'}],"
            " KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'}, {'AttributeName': 'sk', 'KeyType': 'RANGE'}],"
            " BillingMode='PAY_PER_REQUEST')\n"
            "print('{}')"
        )
        provision_inputs = {"ACM_SOURCE": "prod-db", "ACM_TTL": "3d", "ACM_PRINCIPALS": PRINCIPAL}

        first_output = self.work / "provision-output"
        first_output.write_text("")
        provisioned = self.entry("provision", first_output, **provision_inputs)

        self.assertEqual(provisioned.returncode, 0, provisioned.stderr)
        outputs = read_outputs(first_output)
        cluster_id = "aurora-clone-manager-pr-42"
        self.assertEqual(outputs["cluster-id"], cluster_id)
        self.assertEqual(outputs["ready"], "true")
        self.assertEqual(outputs["port"], "5432")
        self.assertEqual(outputs["username"], "postgres")
        self.assertEqual(outputs["database"], "app")
        self.assertTrue(outputs["host"].startswith(f"{cluster_id}."), outputs["host"])
        self.assertRegex(outputs["secret-arn"], r"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:")
        result = json.loads(provisioned.stdout)
        self.assertEqual(result["clusterId"], cluster_id)
        self.assertEqual(result["outputs"]["Endpoint"], outputs["host"])
        clone = self.boto(
            "cluster = rds.describe_db_clusters(DBClusterIdentifier=sys.argv[2])['DBClusters'][0]\n"
            "print(json.dumps({tag['Key']: tag['Value'] for tag in cluster['TagList']}))",
            cluster_id,
        )
        self.assertIn("aurora-clone-manager:expires-at", clone)
        # The password is in the secret and nowhere the action wrote.
        secret = self.boto(
            "print(secrets.get_secret_value(SecretId=sys.argv[2])['SecretString'])", outputs["secret-arn"]
        )
        password = secret["password"]
        self.assertGreaterEqual(len(password), 16)
        for place, text in (
            ("GITHUB_OUTPUT", first_output.read_text()),
            ("stdout", provisioned.stdout),
            ("stderr", provisioned.stderr),
        ):
            self.assertNotIn(password, text, f"the password is in {place}")

        # A push to the pull request runs provision again: the same clone, the same outputs.
        again_output = self.work / "again-output"
        again_output.write_text("")
        again = self.entry("provision", again_output, **provision_inputs)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(read_outputs(again_output), outputs)
        self.assertIn(f"{cluster_id} exists already", again.stderr)
        self.assertNotIn(password, again.stdout + again.stderr + again_output.read_text())

        # The pull request is closed.
        delete_output = self.work / "delete-output"
        delete_output.write_text("")
        deleted = self.entry("delete", delete_output)
        self.assertEqual(deleted.returncode, 0, deleted.stderr)
        self.assertEqual(read_outputs(delete_output), {"cluster-id": cluster_id, "deleted": "true"})
        gone = self.boto(
            "from botocore.exceptions import ClientError\n"
            "def code(call):\n"
            "    try:\n"
            "        return call()\n"
            "    except ClientError as error:\n"
            "        return error.response['Error']['Code']\n"
            "cluster = code(lambda: rds.describe_db_clusters(DBClusterIdentifier=sys.argv[2])['DBClusters'][0]['Status'])\n"
            "secret = code(lambda: secrets.describe_secret(SecretId=sys.argv[3]).get('DeletedDate') and 'deleted')\n"
            "print(json.dumps({'cluster': cluster, 'secret': secret}))",
            cluster_id,
            outputs["secret-arn"],
        )
        self.assertIn(gone["cluster"], ("DBClusterNotFoundFault", "deleting"))
        self.assertIn(gone["secret"], ("ResourceNotFoundException", "deleted"))

        # Closed again (or reopened and closed): nothing left to delete, and no failure.
        again_deleted_output = self.work / "delete-again-output"
        again_deleted_output.write_text("")
        again_deleted = self.entry("delete", again_deleted_output)
        self.assertEqual(again_deleted.returncode, 0, again_deleted.stderr)
        self.assertEqual(read_outputs(again_deleted_output), {"cluster-id": cluster_id, "deleted": "false"})

    def test_entry_refuses_an_unknown_command_and_a_provision_without_source(self):
        github_output = self.work / "refused-output"
        github_output.write_text("")

        unknown = self.entry("rebuild", github_output)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("command must be provision or delete, not 'rebuild'", unknown.stderr)
        no_source = self.entry("provision", github_output)
        self.assertEqual(no_source.returncode, 1)
        self.assertIn("provision needs the source input", no_source.stderr)
        self.assertEqual(github_output.read_text(), "")


class ActionMetadataTest(unittest.TestCase):
    """action.yml hands every input to its scripts and every output from the CLI's step."""

    def test_every_input_reaches_a_script_and_every_output_comes_from_the_cli_step(self):
        text = ACTION.read_text()
        import yaml  # the lint venv has PyYAML (cfn-lint and checkov need it)

        action = yaml.safe_load(text)
        used = text.split("runs:", 1)[1]
        for name in action["inputs"]:
            self.assertIn("${{ inputs.%s }}" % name, used, f"input {name} is passed to no step")
        for name, output in action["outputs"].items():
            self.assertEqual(output["value"], "${{ steps.run.outputs.%s }}" % name)
        scripts = INSTALL.read_text() + ENTRY.read_text()
        for step in action["runs"]["steps"]:
            for variable in step.get("env", {}):
                if variable.startswith("ACM_"):
                    self.assertIn("${%s" % variable, scripts, f"{variable} is read by no script")


if __name__ == "__main__":
    unittest.main()
