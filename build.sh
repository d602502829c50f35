#!/usr/bin/env bash
# Builds the Lambda bootstrap.zip, runs the tests, packages template.yaml to S3
# and, when STACK_NAME is set, deploys it.
#
#   LAMBDA_S3_BUCKET=bucket LAMBDA_S3_PREFIX=prefix STACK_NAME=aurora-clone-manager \
#     ./build.sh [--dry-run] [--skip-tests] [--no-build] [Key=Value ...]
#
# Key=Value arguments become CloudFormation parameter overrides of the deploy,
# e.g. MaxCopyAge=P2D. Environment:
#   LAMBDA_S3_BUCKET, LAMBDA_S3_PREFIX  where `aws cloudformation package` uploads (required)
#   STACK_NAME   deploy to this stack; without it the script stops after packaging
#   ARCH         arm64 (default) or x86_64; passed on as the Architecture parameter
#   DRY_RUN=1    print the aws commands (shell-quoted, one per line) instead of
#                running them; the build and tests still run
#   SKIP_TESTS=1 do not run scripts/test.sh
# Flags: --dry-run, --skip-tests as above; --no-build uses an existing
# target/lambda/aurora-clone-manager/bootstrap.zip instead of building.
set -euo pipefail

readonly CARGO_LAMBDA_VERSION=1.9.2
readonly ZIGLANG_VERSION=0.17.1
readonly BOOTSTRAP_ZIP=target/lambda/aurora-clone-manager/bootstrap.zip
readonly BUILD_VENV=.venv-build

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  printf 'build.sh: %s\n' "$*" >&2
  exit 1
}

# Runs a command, or only prints it (shell-quoted, on one line) in a dry run.
run_aws() {
  if [[ "$dry_run" == 1 ]]; then
    local quoted
    printf -v quoted '%q ' "$@"
    printf '%s\n' "${quoted% }"
  else
    "$@"
  fi
}

# cargo-lambda cross-compiles with zig; both come from PyPI into a local venv
# when they are not on PATH already.
ensure_cargo_lambda() {
  if command -v cargo-lambda >/dev/null && command -v zig >/dev/null; then
    return
  fi
  if [[ ! -x "$BUILD_VENV/bin/cargo-lambda" ]] || ! "$BUILD_VENV/bin/python" -c 'import ziglang' 2>/dev/null; then
    echo "build.sh: installing cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIGLANG_VERSION into $BUILD_VENV" >&2
    python3 -m venv "$BUILD_VENV"
    "$BUILD_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
  fi
  # The ziglang wheel ships the zig binary inside the Python package; expose
  # it as `zig` so cargo-lambda (cargo-zigbuild) finds it without prompting.
  if [[ ! -x "$BUILD_VENV/bin/zig" ]]; then
    local zig_dir
    zig_dir="$("$BUILD_VENV/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')"
    ln -sf "$zig_dir/zig" "$BUILD_VENV/bin/zig"
  fi
  PATH="$PWD/$BUILD_VENV/bin:$PATH"
  export PATH
  command -v zig >/dev/null || die "zig not found after installing ziglang"
}

ensure_rust_target() {
  local target=$1
  if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
  fi
}

build_bootstrap() {
  local arch_flag target
  case "$arch" in
    arm64) arch_flag=--arm64 target=aarch64-unknown-linux-gnu ;;
    x86_64) arch_flag=--x86-64 target=x86_64-unknown-linux-gnu ;;
  esac
  ensure_cargo_lambda
  ensure_rust_target "$target"
  cargo lambda build --release "$arch_flag" --bin aurora-clone-manager --output-format zip
}

main() {
  dry_run=0
  [[ "${DRY_RUN:-0}" == 1 ]] && dry_run=1
  local skip_tests=0 no_build=0
  [[ "${SKIP_TESTS:-0}" == 1 ]] && skip_tests=1
  local overrides=()
  local arg
  for arg in "$@"; do
    case "$arg" in
      --dry-run) dry_run=1 ;;
      --skip-tests) skip_tests=1 ;;
      --no-build) no_build=1 ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $arg (see --help)" ;;
      [A-Za-z]*=*) overrides+=("$arg") ;;
      *) die "expected Key=Value for a parameter override, got '$arg'" ;;
    esac
  done

  [[ -n "${LAMBDA_S3_BUCKET:-}" ]] || die "LAMBDA_S3_BUCKET is not set: the S3 bucket that 'aws cloudformation package' uploads bootstrap.zip to"
  [[ -n "${LAMBDA_S3_PREFIX:-}" ]] || die "LAMBDA_S3_PREFIX is not set: the key prefix within LAMBDA_S3_BUCKET"
  arch="${ARCH:-arm64}"
  case "$arch" in
    arm64 | x86_64) ;;
    *) die "ARCH must be arm64 or x86_64, not '$arch'" ;;
  esac

  cd "$(dirname "${BASH_SOURCE[0]}")"

  if [[ "$no_build" == 1 ]]; then
    [[ -f "$BOOTSTRAP_ZIP" ]] || die "--no-build given but $BOOTSTRAP_ZIP does not exist; build it first"
  else
    build_bootstrap
    [[ -f "$BOOTSTRAP_ZIP" ]] || die "cargo lambda build did not produce $BOOTSTRAP_ZIP"
  fi
  local size_bytes
  size_bytes="$(wc -c <"$BOOTSTRAP_ZIP" | tr -d ' ')"
  echo "build.sh: $BOOTSTRAP_ZIP ($arch): $size_bytes bytes ($(( (size_bytes + 1023) / 1024 )) KiB)" >&2

  if [[ "$skip_tests" == 0 ]]; then
    [[ -x scripts/test.sh ]] || die "scripts/test.sh not found (pass --skip-tests or SKIP_TESTS=1 to skip the tests)"
    scripts/test.sh
  fi

  run_aws aws cloudformation package \
    --template-file template.yaml \
    --s3-bucket "$LAMBDA_S3_BUCKET" \
    --s3-prefix "$LAMBDA_S3_PREFIX" \
    --output-template-file packaged.yaml

  if [[ -n "${STACK_NAME:-}" ]]; then
    run_aws aws cloudformation deploy \
      --template-file packaged.yaml \
      --stack-name "$STACK_NAME" \
      --capabilities CAPABILITY_IAM \
      --parameter-overrides "Architecture=$arch" "${overrides[@]}"
  elif [[ "${#overrides[@]}" -gt 0 ]]; then
    echo "build.sh: STACK_NAME is not set, so the parameter overrides were not used (packaged.yaml only)" >&2
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
