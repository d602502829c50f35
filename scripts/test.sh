#!/usr/bin/env bash
# Runs every check a reviewer would, on a fresh machine as well as a warm one:
#   formatting, clippy with warnings denied, every Rust test (unit tests, flows against the
#   in-process fake AWS, flows against a local moto server, the CLI), the deployment checks
#   (cfn-lint, checkov, shellcheck, template, build.sh and aws-smoke.sh tests), and the Lambda binary:
#   build.sh builds the x86_64 bootstrap.zip (dry run: it prints the aws commands) and a
#   test runs that binary under a local Lambda runtime API.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    skip the Lambda build (the runtime test then runs the debug binary)
#
# Installs what it needs: a Python venv (.venv) with the pinned moto; cargo-lambda and zig
# into .venv-build (by build.sh); cfn-lint, checkov (.venv-lint) and shellcheck (by lint.sh).
# Moto servers are started by the tests themselves on free loopback ports and die with them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "test.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

step() {
  printf '\n== %s\n' "$*"
}

ensure_test_venv() {
  local requirements=scripts/requirements-test.txt stamp=.venv/.requirements.sha256 wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x .venv/bin/moto_server && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return
  fi
  step "installing the test tools into .venv"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
  printf '%s\n' "$wanted" >"$stamp"
}

ensure_test_venv
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
# Dummy credentials and a fixed region: tests only ever talk to 127.0.0.1.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "the shipped build leaves the in-process fake AWS out"
# Only tests and benchmarks turn on the port crate's `fake` feature (through the app's
# dev-dependency); a build without dev-dependencies, like the Lambda's and the CLI's, must not.
shipped_ports="$(cargo tree --locked -e normal -p aurora-clone-manager -f '{p} [{f}]' | grep -m1 'aurora-clone-aws')"
if [[ "$shipped_ports" == *fake* ]]; then
  echo "test.sh: the shipped build enables the 'fake' feature: ${shipped_ports}" >&2
  exit 1
fi
echo "the port crate in the shipped build: ${shipped_ports}"

step "the planner and the model build without an AWS SDK or an async runtime"
for pure in aurora-clone-planning aurora-clone-model; do
  if impure="$(cargo tree --locked -e normal -p "$pure" --prefix none -f '{p}' | grep -E '^(aws-|tokio |aurora-clone-aws )')"; then
    echo "test.sh: $pure depends on: $impure" >&2
    exit 1
  fi
done
echo "neither depends on an aws-* crate or tokio, directly or through another crate"

if [[ "$quick" == 0 ]]; then
  step "build.sh: x86_64 bootstrap.zip, aws commands printed (dry run)"
  ARCH=x86_64 DRY_RUN=1 SKIP_TESTS=1 LAMBDA_S3_BUCKET=ci-artifacts LAMBDA_S3_PREFIX=aurora-clone-manager \
    STACK_NAME=aurora-clone-manager ./build.sh MaxCopyAge=P2D
  # The runtime test runs the binary inside the zip, exactly as Lambda would get it.
  mkdir -p target/lambda-run
  python3 - <<'PY'
import os, zipfile
with zipfile.ZipFile("target/lambda/aurora-clone-manager/bootstrap.zip") as archive:
    archive.extract("bootstrap", "target/lambda-run")
os.chmod("target/lambda-run/bootstrap", 0o755)
PY
  export LAMBDA_BOOTSTRAP="$PWD/target/lambda-run/bootstrap"
fi

step "cargo test"
cargo test --locked --workspace

step "deployment checks"
scripts/test-deploy.sh

step "all checks passed"
