#!/usr/bin/env bash
# Deploys build-stack.yaml: a CodeBuild project that runs buildspec.yml
# (build.sh) on this repository and leaves packaged.yaml under
# s3://$LAMBDA_S3_BUCKET/$LAMBDA_S3_PREFIX/build/.
#
#   LAMBDA_S3_BUCKET=bucket LAMBDA_S3_PREFIX=prefix ./create-build-stack.sh [--dry-run] [Key=Value ...]
#
# Environment:
#   LAMBDA_S3_BUCKET, LAMBDA_S3_PREFIX  where builds put their output (required)
#   BUILD_STACK_NAME  stack (and project) name, default aurora-clone-manager-build
#   SOURCE_LOCATION   HTTPS GitHub URL to build, default: this clone's origin
#   ARCH              arm64 (default) or x86_64
#   DRY_RUN=1         print the aws commands instead of running them
# Key=Value arguments are extra parameter overrides (e.g. SourceVersion=dev).
set -euo pipefail

die() {
  printf 'create-build-stack.sh: %s\n' "$*" >&2
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

# git@github.com:owner/repo.git and ssh://git@github.com/owner/repo become
# https://github.com/owner/repo(.git), the form CodeBuild takes.
github_https_url() {
  local url=$1
  case "$url" in
    git@github.com:*) url="https://github.com/${url#git@github.com:}" ;;
    ssh://git@github.com/*) url="https://github.com/${url#ssh://git@github.com/}" ;;
  esac
  printf '%s\n' "$url"
}

dry_run=0
[[ "${DRY_RUN:-0}" == 1 ]] && dry_run=1
overrides=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [A-Za-z]*=*) overrides+=("$arg") ;;
    *) die "expected --dry-run or Key=Value, got '$arg'" ;;
  esac
done

[[ -n "${LAMBDA_S3_BUCKET:-}" ]] || die "LAMBDA_S3_BUCKET is not set: the S3 bucket that builds upload to"
[[ -n "${LAMBDA_S3_PREFIX:-}" ]] || die "LAMBDA_S3_PREFIX is not set: the key prefix within LAMBDA_S3_BUCKET"
cd "$(dirname "${BASH_SOURCE[0]}")"

build_stack_name="${BUILD_STACK_NAME:-aurora-clone-manager-build}"
source_location="${SOURCE_LOCATION:-$(git remote get-url origin 2>/dev/null || true)}"
[[ -n "$source_location" ]] || die "SOURCE_LOCATION is not set and this clone has no origin remote"
source_location="$(github_https_url "$source_location")"
arch="${ARCH:-arm64}"

run_aws aws cloudformation deploy \
  --template-file build-stack.yaml \
  --stack-name "$build_stack_name" \
  --capabilities CAPABILITY_IAM \
  --parameter-overrides \
  "LambdaS3Bucket=$LAMBDA_S3_BUCKET" \
  "LambdaS3Prefix=$LAMBDA_S3_PREFIX" \
  "SourceLocation=$source_location" \
  "Architecture=$arch" \
  "${overrides[@]}"

# If you forked this repository and administer the fork, uncomment the last two lines so that CodeBuild builds every push (connect CodeBuild to GitHub in the console first, once per account and Region).
# run_aws aws codebuild create-webhook --project-name "$build_stack_name" \
#   --filter-groups '[[{"type":"EVENT","pattern":"PUSH"}]]'
