#!/usr/bin/env bash
# The whole job on a laptop, against a local AWS emulator (moto): a CloudFormation Create
# through the Lambda handler, clones from the CLI, a maintenance run that makes a copy,
# the pool's status, a clone taken from the copy once the root is full, and a delete.
#
# Needs python3 (with venv) and cargo. On first use it creates .venv with moto and builds
# the binary; after that it takes well under a minute. Nothing leaves this machine: every
# AWS call goes to moto on a free 127.0.0.1 port, which is stopped on exit (also Ctrl-C).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly moto_requirement='moto[server]==5.2.5'
readonly root_cluster=prod-db
readonly reader_arn=arn:aws:iam::123456789012:role/developer
readonly binary=target/debug/aurora-clone-manager

if [[ -t 1 ]]; then
  readonly bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'
else
  readonly bold='' dim='' plain=''
fi

step() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s%s%s\n' "$dim" "$*" "$plain"; }
fail() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

# The demo deployment: its stack name gives the name prefix every clone and copy starts
# with (the clone manager may only create and delete clusters named so).
readonly stack=demo

# Runs the CLI against moto, showing the command first.
acm() {
  printf '%s$ aurora-clone-manager %s%s\n' "$bold" "$*" "$plain"
  "$binary" --endpoint-url "$endpoint" --stack "$stack" --poll-interval 1 "$@"
}

# Runs the CLI without echoing it and with its notes kept aside, shown only on failure.
acm_quietly() {
  if ! "$binary" --endpoint-url "$endpoint" --stack "$stack" --poll-interval 1 "$@" 2>"$work/stderr"; then
    cat "$work/stderr" >&2
    fail "aurora-clone-manager $* failed"
  fi
}

command -v python3 >/dev/null || fail "python3 is needed (for the moto emulator)"
command -v cargo >/dev/null || fail "cargo is needed (https://rustup.rs)"

step "Setting up: moto in .venv, and the binary"
if [[ ! -x .venv/bin/moto_server ]]; then
  say "creating .venv with $moto_requirement (once)"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "$moto_requirement"
fi
if [[ -x "$binary" ]]; then
  say "building $binary (only what changed)"
else
  say "building $binary for the first time: cargo compiles about 250 crates, which takes"
  say "about 2½ minutes on two cores (up to 5 on a slower machine); its progress follows"
fi
started_build=$SECONDS
cargo build
say "built $binary in $((SECONDS - started_build)) s"

work="$(mktemp -d)"
moto_pid=''
cleanup() {
  if [[ -n "$moto_pid" ]]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$work/moto.log" >&2; fail "moto did not start"; }
  sleep 0.2
done
say "moto is listening on $endpoint (pid $moto_pid)"

# Credentials and region for the emulator only; nothing from ~/.aws is read.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$work/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/no-aws-credentials"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL STACK_NAME
# The stack makes this table (its StateTableName output); here the demo makes it.
export STATE_TABLE="$stack-StateTable-DEMO"

step "Seeding the production root cluster $root_cluster (one writer instance) and the state table"
.venv/bin/python - "$endpoint" "$root_cluster" "$STATE_TABLE" <<'PYTHON'
import sys
import boto3

endpoint, cluster_id, table = sys.argv[1], sys.argv[2], sys.argv[3]
boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").create_table(
    TableName=table,
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    BillingMode="PAY_PER_REQUEST",
)
print(f"created the state table {table}")
rds = boto3.client("rds", endpoint_url=endpoint, region_name="us-east-1")
rds.create_db_cluster(
    DBClusterIdentifier=cluster_id,
    Engine="aurora-postgresql",
    MasterUsername="postgres",
    MasterUserPassword="demo-root-password",
    DatabaseName="app",
)
rds.create_db_instance(
    DBInstanceIdentifier=f"{cluster_id}-writer",
    DBClusterIdentifier=cluster_id,
    Engine="aurora-postgresql",
    DBInstanceClass="db.r6g.large",
)
print(f"created cluster {cluster_id} with instance {cluster_id}-writer (db.r6g.large)")
PYTHON
acm status --source "$root_cluster"

step "1. A CloudFormation Create event through the Lambda handler"
say "The sample event tests/fixtures/events/cloudformation-create.json asks for a clone of"
say "$root_cluster with its own password; the answer is printed instead of sent."
acm invoke tests/fixtures/events/cloudformation-create.json

step "2. Two clones from the CLI"
acm provision --source "$root_cluster" --cluster-id demo-alice --set-password --principal "$reader_arn" --wait
acm provision --source "$root_cluster" --cluster-id demo-bob --wait

step "3. Maintenance with a target of 20 free clone slots for $root_cluster"
printf '{:clusters [{:cluster-id "%s" :target-clone-slots 20}]}\n' "$root_cluster" >"$work/maintenance.edn"
say "config: $(cat "$work/maintenance.edn")"
acm maintain --config "$work/maintenance.edn" --dry-run
acm maintain --config "$work/maintenance.edn"

step "4. The pool"
acm status
say "The copy counts as soon as it is available with an instance; its state turns 'ready'"
say "with the next maintenance sweep or the RDS 'instance created' event."

step "5. Filling the root: 15 clones is all AWS allows per cluster volume"
used="$("$binary" --endpoint-url "$endpoint" --stack "$stack" --json status --source "$root_cluster" |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["roots"][0]["pool"]["root"]["usedSlots"])')"
for index in $(seq $((used + 1)) 15); do
  name="$(printf 'demo-team-%02d' "$index")"
  acm_quietly provision --source "$root_cluster" --cluster-id "$name" >"$work/stdout"
  say "  $(head -n 1 "$work/stdout")"
done
acm status --source "$root_cluster"

step "6. The next clone comes from the copy"
acm provision --source "$root_cluster" --cluster-id demo-carol --dry-run
acm provision --source "$root_cluster" --cluster-id demo-carol --wait

step "7. Deleting: a clone goes, with its password secret; the root is never touched"
acm delete demo-alice --yes
if acm delete "$root_cluster" --yes; then
  fail "the root was deleted"
fi
acm status --source "$root_cluster"

step "Done: stopping moto"
