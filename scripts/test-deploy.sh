#!/usr/bin/env bash
# Checks the deployment side: scripts/lint.sh (cfn-lint, checkov, actionlint,
# shell linting), then the unittests under tests/deploy (template least
# privilege, build.sh and create-build-stack.sh in dry-run, scripts/aws-smoke.sh's
# dry run and its cleanup against stand-ins for aws, the GitHub Action's install
# script against a fake release and its entry script against moto). Needs no AWS
# account and no network after the first run; the action's moto test needs the
# CLI binary that `cargo build` (or scripts/test.sh's `cargo test`) makes, and
# moto in .venv. Ends with a line "deploy: N passed, N failed".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/lint.sh

# The lint venv has cfn-lint, whose YAML decoder the template tests use.
# -B: no __pycache__ directories in the work tree.
.venv-lint/bin/python -B - <<'PY'
import sys
import unittest

suite = unittest.defaultTestLoader.discover("tests/deploy", pattern="test_*.py", top_level_dir="tests/deploy")
result = unittest.TextTestRunner(verbosity=1, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"deploy: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
PY
