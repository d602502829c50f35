#!/usr/bin/env bash
# Checks, in a sandbox AWS account, what Aurora Clone Manager takes for granted about AWS:
# deploys the stack (with build.sh), makes a tiny root (or uses --root), makes one clone
# through the example stack (example/template.yaml) and one through the CLI, checks that
# the named principal can read the clone's password and another principal gets
# AccessDeniedException, optionally clones the root until AWS makes a full copy
# (--clone-limit) and clones a Serverless v2 cluster while its only instance is paused
# (--paused-source), then deletes everything it made. Ctrl-C or a failure also deletes what
# was made so far; whatever cannot be removed is listed at the end.
#
#   scripts/aws-smoke.sh --bucket BUCKET [options]
#
# Options:
#   --bucket NAME        S3 bucket that build.sh packages the function to (or LAMBDA_S3_BUCKET)
#   --prefix PREFIX      key prefix in that bucket (or LAMBDA_S3_PREFIX; default aurora-clone-manager-smoke)
#   --region REGION      AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)
#   --profile NAME       AWS CLI profile to work as (default: the standard credential chain)
#   --stack-name NAME    stack to deploy and delete (default acm-smoke-<run id>); must not exist
#   --root ID            clone this existing Aurora cluster instead of making one (it is
#                        never changed or deleted, and the stack protects it)
#   --instance-class C   class of the root's and the clones' instances (default db.t4g.medium)
#   --db-subnet-group G  DB subnet group for the root (default: the account's default VPC)
#   --clone-limit        after the checks, clone the root until AWS makes a full copy
#   --max-clones N       stop --clone-limit after N clones (default 20)
#   --paused-source      after the checks, make a Serverless v2 cluster whose only
#                        instance pauses (minimum 0 ACUs), wait until it is paused, and
#                        clone it with aurora-clone-manager provision --serverless 0-1
#   --cli PATH           aurora-clone-manager binary to use (default: built here with cargo)
#   --no-build           deploy the existing bootstrap.zip instead of building it
#   --keep               delete nothing at the end; list what was made instead
#   --yes                do not ask before starting (needed when standard input is not a terminal)
#   --dry-run            print every AWS call (aws and aurora-clone-manager command lines) in
#                        order and make none; needs neither credentials nor the aws binary
#   -h, --help           this text
#
# Needs the AWS CLI, Python 3, Rust (for build.sh and the CLI) and rights to deploy the
# stack, create IAM roles and RDS clusters. Results go to standard output (the command
# lines in a dry run), progress to standard error.
# Exit codes: 0 every check passed and everything made was removed; 1 a check or a step
# failed, the run was refused or interrupted, or something could not be removed; 2 usage.
set -euo pipefail

readonly default_instance_class=db.t4g.medium
readonly default_max_clones=20
readonly default_s3_prefix=aurora-clone-manager-smoke
readonly engine=aurora-postgresql
# Tags on what this script makes itself, so that a person can find it in the console.
readonly purpose_tag=Key=purpose,Value=aurora-clone-manager-smoke

# IAM is eventually consistent: a role that was just created may not be assumable at
# once, and a policy that names it may not apply at once
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
# Issue 10 gives "about two minutes" for principal propagation; the checks wait that long.
readonly iam_propagation_seconds=120

# Prices assumed for the estimate: USD, us-east-1 on-demand list prices, unverified
# (https://aws.amazon.com/rds/aurora/pricing/, https://aws.amazon.com/kms/pricing/,
# https://aws.amazon.com/secrets-manager/pricing/). Other regions differ.
readonly price_t4g_medium_hour=0.073 # db.t4g.medium, Aurora PostgreSQL, Aurora Standard
readonly price_kms_key_month=1.00
readonly price_secret_month=0.40
readonly price_storage_gb_month=0.10
readonly price_acu_hour=0.12 # Aurora Serverless v2, Aurora PostgreSQL, Aurora Standard
# Rough durations the estimate assumes: the whole run, and each --clone-limit clone.
readonly run_hours=1.5
readonly minutes_per_limit_clone=10
# --paused-source: how long a source's instance is idle before it pauses (the shortest AWS
# takes, ServerlessV2ScalingConfiguration.SecondsUntilAutoPause), how long to wait for the
# pause to show, and about how long the whole check takes.
readonly paused_source_seconds_until_pause=300
readonly paused_source_wait_seconds=1800
readonly paused_source_hours=1

usage() {
  sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

usage_error() {
  printf 'aws-smoke: %s (see --help)\n' "$*" >&2
  exit 2
}

say() {
  printf 'aws-smoke: %s\n' "$*" >&2
}

die() {
  printf 'aws-smoke: %s\n' "$*" >&2
  exit 1
}

# ------------------------------------------------------------------ options

bucket="${LAMBDA_S3_BUCKET:-}"
s3_prefix="${LAMBDA_S3_PREFIX:-$default_s3_prefix}"
region=''
profile=''
stack_name=''
root_given=''
instance_class=$default_instance_class
db_subnet_group=''
clone_limit=0
paused_source=0
max_clones=$default_max_clones
cli=''
no_build=0
keep=0
assume_yes=0
dry_run=0

parse_args() {
  local arg value inline
  while (($#)); do
    arg=$1
    shift
    value=''
    inline=0
    if [[ "$arg" == --*=* ]]; then
      value=${arg#*=}
      arg=${arg%%=*}
      inline=1
    fi
    case "$arg" in
      --bucket | --prefix | --region | --profile | --stack-name | --root | --instance-class | \
        --db-subnet-group | --max-clones | --cli)
        if ((!inline)); then
          (($#)) || usage_error "$arg needs a value"
          value=$1
          shift
        fi
        [[ -n "$value" ]] || usage_error "$arg needs a value"
        case "$arg" in
          --bucket) bucket=$value ;;
          --prefix) s3_prefix=$value ;;
          --region) region=$value ;;
          --profile) profile=$value ;;
          --stack-name) stack_name=$value ;;
          --root) root_given=$value ;;
          --instance-class) instance_class=$value ;;
          --db-subnet-group) db_subnet_group=$value ;;
          --max-clones) max_clones=$value ;;
          --cli) cli=$value ;;
        esac
        ;;
      --clone-limit | --paused-source | --no-build | --keep | --yes | --dry-run | -h | --help)
        ((!inline)) || usage_error "$arg takes no value"
        case "$arg" in
          --clone-limit) clone_limit=1 ;;
          --paused-source) paused_source=1 ;;
          --no-build) no_build=1 ;;
          --keep) keep=1 ;;
          --yes) assume_yes=1 ;;
          --dry-run) dry_run=1 ;;
          -h | --help)
            usage
            exit 0
            ;;
        esac
        ;;
      -*) usage_error "unknown option $arg" ;;
      *) usage_error "unexpected argument '$arg'" ;;
    esac
  done

  [[ -n "$bucket" ]] || usage_error "--bucket (or LAMBDA_S3_BUCKET) is required: the S3 bucket build.sh packages the function to"
  if [[ ! "$max_clones" =~ ^[1-9][0-9]{0,2}$ ]] || ((max_clones > 100)); then
    usage_error "--max-clones must be a whole number from 1 to 100, not '$max_clones'"
  fi
  # The example template takes the clone manager's stack name only in this form.
  if [[ -n "$stack_name" && ! "$stack_name" =~ ^[A-Za-z][A-Za-z0-9-]{0,63}$ ]]; then
    usage_error "--stack-name must start with a letter and hold only letters, digits and hyphens (at most 64)"
  fi
  if [[ -n "$root_given" && ! "$root_given" =~ ^[A-Za-z][A-Za-z0-9-]{0,62}$ ]]; then
    usage_error "--root must be a DB cluster identifier (a letter, then letters, digits, hyphens; at most 63)"
  fi
  [[ "$instance_class" =~ ^db\.[a-z0-9-]+\.[a-z0-9-]+$ ]] || usage_error "--instance-class must look like db.t4g.medium, not '$instance_class'"
  if [[ -n "$cli" && "$dry_run" == 0 ]]; then
    [[ -f "$cli" && -x "$cli" ]] || usage_error "--cli $cli is not an executable file"
    # The script works from the repository's root: keep the path valid there.
    cli="$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")"
  fi
}

# ------------------------------------------------------------------ running aws

# Standard output as it was at the start: the dry run's listing of command lines goes
# there even from inside $(...).
exec 3>&1

work=''
aws_globals=()
cli_globals=()

# Prints a command line, shell-quoted, to the listing.
show() {
  local quoted
  printf -v quoted '%q ' "$@"
  printf '%s\n' "${quoted% }" >&3
}

# A comment line in the listing.
listing_note() {
  if [[ "$dry_run" == 1 ]]; then
    printf '# %s\n' "$*" >&3
  fi
}

step() {
  printf '\n== %s\n' "$*" >&2
  listing_note "$*"
}

# Runs aws as the caller, output to the log, error text kept in $work/err for the
# caller to read (last_error, last_error_code). A dry run prints the command instead.
aws_run() {
  if [[ "$dry_run" == 1 ]]; then
    show aws "$@" "${aws_globals[@]}"
    return 0
  fi
  printf '+ aws %s\n' "$*" >>"$work/aws.log"
  aws "$@" "${aws_globals[@]}" >>"$work/aws.log" 2>"$work/err"
}

# Runs aws as the caller and prints its standard output; a dry run prints the command
# to the listing and $1 (a stand-in for the answer) to standard output.
aws_out() {
  local placeholder=$1
  shift
  if [[ "$dry_run" == 1 ]]; then
    show aws "$@" "${aws_globals[@]}"
    printf '%s\n' "$placeholder"
    return 0
  fi
  printf '+ aws %s\n' "$*" >>"$work/aws.log"
  aws "$@" "${aws_globals[@]}" 2>"$work/err"
}

# Runs the aurora-clone-manager CLI as the caller (it uses AWS the same way).
cli_run() {
  if [[ "$dry_run" == 1 ]]; then
    show aurora-clone-manager "${cli_globals[@]}" "$@"
    return 0
  fi
  printf '+ aurora-clone-manager %s\n' "$*" >>"$work/aws.log"
  "$cli" "${cli_globals[@]}" "$@"
}

# The last aws error, on one line.
last_error() {
  tr '\n' ' ' <"$work/err" | sed 's/  */ /g; s/ $//'
}

# The error code of the last aws error ("An error occurred (Code) when calling ...").
last_error_code() {
  sed -n 's/.*An error occurred (\([A-Za-z0-9_.]*\)).*/\1/p' "$work/err" | head -n 1
}

# ------------------------------------------------------------------ what was made

# Everything this run made, oldest first, as "kind|id"; recorded just before the call that
# makes it, so that an interruption between the call and the record cannot leak it.
made=()
not_removed=()
results=()
failures=0
interrupted=0
cleanup_stopped=0
cleaned=0
recorded=0

remember() {
  made+=("$1|$2")
  recorded=$((recorded + 1))
}

describe_made() {
  local kind=${1%%|*} id=${1#*|}
  case "$kind" in
    stack) printf 'CloudFormation stack %s' "$id" ;;
    role) printf 'IAM role %s' "$id" ;;
    cluster) printf 'DB cluster %s' "$id" ;;
    instance) printf 'DB instance %s' "$id" ;;
    cli-clones) printf 'clones the CLI made with the tag smoke-cli=%s' "$id" ;;
  esac
}

# Results of the checks; a dry run checks nothing, so it records none.
pass() {
  [[ "$dry_run" == 0 ]] || return 0
  results+=("PASS  $*")
  say "PASS: $*"
}

fail() {
  [[ "$dry_run" == 0 ]] || return 0
  results+=("FAIL  $*")
  failures=$((failures + 1))
  say "FAIL: $*"
}

info() {
  [[ "$dry_run" == 0 ]] || return 0
  results+=("INFO  $*")
  say "$*"
}

remove_stack() {
  local name=$1
  if ! aws_run cloudformation delete-stack --stack-name "$name"; then
    grep -q 'does not exist' "$work/err" && return 0
    say "could not delete stack $name: $(last_error)"
    return 1
  fi
  if ! aws_run cloudformation wait stack-delete-complete --stack-name "$name"; then
    say "stack $name was not deleted: $(last_error); see its events in the CloudFormation console"
    return 1
  fi
}

remove_role() {
  local name=$1
  if ! aws_run iam delete-role --role-name "$name"; then
    [[ "$(last_error_code)" == NoSuchEntity ]] && return 0
    say "could not delete role $name: $(last_error)"
    return 1
  fi
}

remove_instance() {
  local id=$1
  if ! aws_run rds delete-db-instance --db-instance-identifier "$id"; then
    case "$(last_error_code)" in
      DBInstanceNotFound*) return 0 ;;
      InvalidDBInstanceState*)
        # Still being created (wait, then delete) or already being deleted (the second
        # delete fails the same way and the wait below decides).
        aws_run rds wait db-instance-available --db-instance-identifier "$id" || true
        if ! aws_run rds delete-db-instance --db-instance-identifier "$id" &&
          [[ "$(last_error_code)" != InvalidDBInstanceState* ]]; then
          say "could not delete instance $id: $(last_error)"
          return 1
        fi
        ;;
      *)
        say "could not delete instance $id: $(last_error)"
        return 1
        ;;
    esac
  fi
  if ! aws_run rds wait db-instance-deleted --db-instance-identifier "$id"; then
    say "instance $id was not deleted in time: $(last_error)"
    return 1
  fi
}

remove_cluster() {
  local id=$1
  if ! aws_run rds delete-db-cluster --db-cluster-identifier "$id" --skip-final-snapshot; then
    case "$(last_error_code)" in
      DBClusterNotFound*) return 0 ;;
      InvalidDBClusterState*)
        aws_run rds wait db-cluster-available --db-cluster-identifier "$id" || true
        if ! aws_run rds delete-db-cluster --db-cluster-identifier "$id" --skip-final-snapshot &&
          [[ "$(last_error_code)" != InvalidDBClusterState* ]]; then
          say "could not delete cluster $id: $(last_error)"
          return 1
        fi
        ;;
      *)
        say "could not delete cluster $id: $(last_error)"
        return 1
        ;;
    esac
  fi
  if ! aws_run rds wait db-cluster-deleted --db-cluster-identifier "$id"; then
    say "cluster $id was not deleted in time: $(last_error)"
    return 1
  fi
}

# The CLI's clones are found by their tag, so that one whose provision was interrupted
# before it printed its identifier is removed as well. `delete` removes the clone with its
# secret and disposable key, under the CLI's own safety rules.
remove_cli_clones() {
  local tag_value=$1 ids id status=0
  if ! ids="$(aws_out CLI-CLONE-ID rds describe-db-clusters \
    --query "DBClusters[?TagList[?Key=='smoke-cli' && Value=='$tag_value']].DBClusterIdentifier" \
    --output text)"; then
    say "could not look for the CLI's clones: $(last_error)"
    return 1
  fi
  for id in $ids; do
    [[ "$id" == None ]] && continue
    if ! cli_run delete "$id" --yes >&2; then
      say "aurora-clone-manager delete $id failed"
      status=1
      continue
    fi
    if ! aws_run rds wait db-cluster-deleted --db-cluster-identifier "$id"; then
      say "clone $id was not deleted in time: $(last_error)"
      status=1
    fi
  done
  return "$status"
}

remove_made() {
  local kind=${1%%|*} id=${1#*|}
  case "$kind" in
    stack) remove_stack "$id" ;;
    role) remove_role "$id" ;;
    cluster) remove_cluster "$id" ;;
    instance) remove_instance "$id" ;;
    cli-clones) remove_cli_clones "$id" ;;
  esac
}

# Removes what was made, newest first; goes on past failures and records them. Safe to
# call twice: what was removed (or given up on) is no longer recorded.
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  local entry
  if ((${#made[@]} > 0)); then
    step "deleting what this run made (Ctrl-C again stops and lists what is left)"
  fi
  while ((${#made[@]} > 0)); do
    entry=${made[${#made[@]}-1]}
    if ((cleanup_stopped)); then
      not_removed+=("$entry")
    elif remove_made "$entry"; then
      [[ "$dry_run" == 1 ]] || say "removed $(describe_made "$entry")"
    else
      not_removed+=("$entry")
    fi
    unset 'made[${#made[@]}-1]'
  done
}

report_leftovers() {
  ((${#not_removed[@]} > 0)) || return 0
  printf '\nNot removed (delete these yourself):\n'
  local entry
  for entry in "${not_removed[@]}"; do
    printf '  - %s\n' "$(describe_made "$entry")"
  done
}

# Lists whatever still carries this deployment's stack tag (secrets and keys of a provision
# that was interrupted, for instance). Informational: keys scheduled for deletion and
# resources being deleted may still be listed for a while.
list_tagged_leftovers() {
  [[ -n "$stack_name" ]] || return 0
  local arns
  arns="$(aws_out '' resourcegroupstaggingapi get-resources \
    --tag-filters "Key=aurora-clone-manager:stack,Values=$stack_name" \
    --query 'ResourceTagMappingList[].ResourceARN' --output text)" || return 0
  arns=$(printf '%s' "$arns" | tr '\t' '\n' | sed '/^None$/d; /^$/d')
  [[ -n "$arns" ]] || return 0
  printf '\nStill tagged aurora-clone-manager:stack=%s (keys pending deletion and resources being deleted stay listed for a while):\n' "$stack_name"
  printf '%s\n' "$arns" | sed 's/^/  /'
}

print_results() {
  ((${#results[@]} > 0)) || return 0
  printf '\nResults (account %s, region %s, run %s):\n' "$account" "$region" "$run_id"
  printf '  %s\n' "${results[@]}"
}

on_signal() {
  interrupted=1
  say "interrupted"
  exit 1
}

on_cleanup_signal() {
  cleanup_stopped=1
  say "stopping the cleanup: what is left is listed below"
}

on_exit() {
  local status=$?
  trap - EXIT
  trap on_cleanup_signal INT TERM
  ((interrupted)) && status=1
  # A dry run's standard output is only the listing of calls.
  [[ "$dry_run" == 0 ]] || exec 1>&2
  if ((keep)); then
    if ((${#made[@]} > 0)); then
      printf '\nKept (--keep):\n'
      local entry
      for entry in "${made[@]}"; do
        printf '  - %s\n' "$(describe_made "$entry")"
      done
    fi
  else
    cleanup
    ((recorded == 0)) || list_tagged_leftovers || true
  fi
  print_results
  report_leftovers
  ((${#not_removed[@]} == 0)) || status=1
  [[ -z "$work" ]] || rm -rf "$work"
  exit "$status"
}

# ------------------------------------------------------------------ the steps

account=''
partition=''
caller_arn=''
run_id=''
root_id=''
root_instance=''
example_stack=''
reader_role=''
other_role=''
reader_arn=''
other_arn=''
example_clone=''
example_secret=''
cli_clone=''
cli_secret=''

resolve_region() {
  region=${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
  if [[ -z "$region" && "$dry_run" == 0 ]] && command -v aws >/dev/null; then
    region="$(aws configure get region ${profile:+--profile "$profile"} 2>/dev/null || true)"
  fi
  [[ -n "$region" ]] || usage_error "no AWS region: pass --region (or set AWS_REGION)"
  aws_globals=(--region "$region")
  cli_globals=(--region "$region")
  if [[ -n "$profile" ]]; then
    aws_globals+=(--profile "$profile")
    cli_globals+=(--profile "$profile")
  fi
}

name_things() {
  run_id="$(date -u +%m%d%H%M)-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
  stack_name=${stack_name:-acm-smoke-$run_id}
  example_stack="$stack_name-example"
  reader_role="acm-smoke-reader-$run_id"
  other_role="acm-smoke-other-$run_id"
  if [[ -n "$root_given" ]]; then
    root_id=$root_given
  else
    root_id="acm-smoke-root-$run_id"
    root_instance="$root_id-1"
  fi
  paused_id="acm-smoke-paused-$run_id"
  paused_instance="$paused_id-1"
  cli_globals+=(--stack "$stack_name")
}

who_am_i() {
  local identity
  identity="$(aws_out $'ACCOUNT-ID\tarn:aws:iam::ACCOUNT-ID:user/YOU' sts get-caller-identity \
    --query '[Account,Arn]' --output text)" ||
    die "no usable AWS credentials: $(last_error)"
  account=${identity%%$'\t'*}
  caller_arn=${identity#*$'\t'}
  partition=$(printf '%s' "$caller_arn" | cut -d: -f2)
  reader_arn="arn:$partition:iam::$account:role/$reader_role"
  other_arn="arn:$partition:iam::$account:role/$other_role"
}

# An estimate, in dollars, from the assumed prices.
estimate() {
  local instances=$1 limit_hours=$2
  awk -v n="$instances" -v h="$run_hours" -v lh="$limit_hours" -v p="$price_t4g_medium_hour" \
    -v k="$price_kms_key_month" -v s="$price_secret_month" \
    'BEGIN { hours = h + lh; other = (2 * k + 2 * s) * hours / 730 + 0.05;
             printf "%.2f", n * p * hours + other }'
}

print_plan() {
  local instances=3 limit_hours=0
  [[ -z "$root_given" ]] || instances=2
  if ((clone_limit)); then
    limit_hours=$(awk -v n="$max_clones" -v m="$minutes_per_limit_clone" 'BEGIN { printf "%.1f", n * m / 60 }')
  fi
  {
    printf '\nAurora Clone Manager smoke run %s\n' "$run_id"
    printf '  account %s (%s), region %s\n\n' "$account" "$caller_arn" "$region"
    if ((keep)); then
      printf 'It makes (and, with --keep, leaves in place):\n'
    else
      printf 'It makes, and deletes at the end:\n'
    fi
    printf '  - stack %s: the clone manager (function, role, schedule, alarms, dashboard), deployed\n' "$stack_name"
    printf '    by build.sh through s3://%s/%s\n' "$bucket" "$s3_prefix"
    printf '  - IAM roles %s (named as the reader) and %s (not named),\n' "$reader_role" "$other_role"
    printf '    which principals of account %s may assume\n' "$account"
    if [[ -n "$root_given" ]]; then
      printf '  - nothing for the root: it clones %s, which it never changes or deletes\n' "$root_given"
    else
      printf '  - the root: Aurora PostgreSQL cluster %s with one %s instance\n' "$root_id" "$instance_class"
    fi
    printf '  - stack %s: one clone (%s) with its own password (a secret and a KMS key)\n' "$example_stack" "$instance_class"
    printf '  - one clone (%s) made by aurora-clone-manager provision, with its own password\n' "$instance_class"
    if ((clone_limit)); then
      printf '  - up to %s clones of the root without instances (--clone-limit), until AWS makes a full copy\n' "$max_clones"
    fi
    if ((paused_source)); then
      printf '  - Serverless v2 cluster %s (0 to 1 ACU, one db.serverless instance that pauses),\n' "$paused_id"
      printf '    and a db.serverless clone of it made while it is paused (--paused-source)\n'
    fi
    printf '\nEstimated cost (an estimate, not a quote). Prices assumed: us-east-1 on-demand list\n'
    printf 'prices, unverified; %s may differ:\n' "$region"
    printf '  Aurora PostgreSQL db.t4g.medium instance $%s per hour; KMS key $%s and secret $%s per\n' \
      "$price_t4g_medium_hour" "$price_kms_key_month" "$price_secret_month"
    printf '  month (prorated); Aurora storage $%s per GB-month (a few MB here); alarms and the\n' "$price_storage_gb_month"
    printf '  dashboard a few cents.\n'
    if [[ "$instance_class" != db.t4g.medium ]]; then
      printf '  The price of %s is not known to this script: the estimate uses db.t4g.medium'"'"'s.\n' "$instance_class"
    fi
    printf '  %s instances for about %s hours' "$instances" "$run_hours"
    if ((clone_limit)); then
      printf ', plus up to %s hours of --clone-limit' "$limit_hours"
    fi
    printf ': about $%s per hour, about $%s in all.\n' \
      "$(awk -v n="$instances" -v p="$price_t4g_medium_hour" 'BEGIN { printf "%.2f", n * p }')" \
      "$(estimate "$instances" "$limit_hours")"
    if ((paused_source)); then
      printf '  --paused-source: two Serverless v2 instances at most 1 ACU each ($%s per ACU-hour)\n' "$price_acu_hour"
      printf '  for about %s more hour: at most $%s more.\n' "$paused_source_hours" \
        "$(awk -v p="$price_acu_hour" -v h="$paused_source_hours" 'BEGIN { printf "%.2f", 2 * p * h }')"
    fi
    printf 'It takes about %s hours' "$run_hours"
    if ((clone_limit)); then
      printf ' plus about %s minutes per --clone-limit clone' "$minutes_per_limit_clone"
    fi
    if ((paused_source)); then
      printf ' plus about %s hour for --paused-source' "$paused_source_hours"
    fi
    printf ' (creating and deleting clusters is slow).\n\n'
  } >&2
}

confirm() {
  ((assume_yes || dry_run)) && return 0
  local answer=''
  printf 'Start? [y/N] ' >&2
  read -r answer || true
  case "$answer" in
    y | Y | yes | YES | Yes) ;;
    *) die "not started: nothing was made" ;;
  esac
}

resolve_cli() {
  if [[ "$dry_run" == 1 || -n "$cli" ]]; then
    return 0
  fi
  step "building the aurora-clone-manager CLI (cargo build --release)"
  cargo build --release --locked --bin aurora-clone-manager >&2 || die "cargo build failed; pass --cli PATH to use a built binary"
  cli="$PWD/target/release/aurora-clone-manager"
}

stack_must_not_exist() {
  local name=$1
  if aws_run cloudformation describe-stacks --stack-name "$name" --query 'Stacks[0].StackStatus' --output text; then
    [[ "$dry_run" == 1 ]] && return 0
    die "stack $name already exists; this run deploys and then deletes its own stacks: choose another --stack-name"
  fi
  grep -q 'does not exist' "$work/err" || die "could not check whether stack $name exists: $(last_error)"
}

# build.sh deploys the stack. A dry run shows the aws calls build.sh makes by running
# build.sh's own dry run on a scratch copy holding a stand-in bootstrap.zip, so nothing
# is built and build.sh's calls are never copied here.
deploy_stack() {
  step "deploying the clone manager stack $stack_name with build.sh"
  stack_must_not_exist "$stack_name"
  local overrides=(CreateDefaultKey=false LogRetentionDays=1 "ProtectedClusterIds=$root_id")
  local build_env=(LAMBDA_S3_BUCKET="$bucket" LAMBDA_S3_PREFIX="$s3_prefix" STACK_NAME="$stack_name"
    AWS_DEFAULT_REGION="$region" AWS_REGION="$region")
  [[ -z "$profile" ]] || build_env+=(AWS_PROFILE="$profile")
  local build_flags=(--skip-tests)
  ((no_build)) && build_flags+=(--no-build)
  remember stack "$stack_name"
  if [[ "$dry_run" == 1 ]]; then
    local preview="$work/build-preview"
    mkdir -p "$preview/target/lambda/aurora-clone-manager"
    cp build.sh template.yaml "$preview/"
    printf 'stand-in\n' >"$preview/target/lambda/aurora-clone-manager/bootstrap.zip"
    listing_note "$(printf '%q ' env "${build_env[@]}" ./build.sh "${build_flags[@]}" "${overrides[@]}")"
    listing_note "(builds bootstrap.zip, then makes these calls:)"
    env "${build_env[@]}" DRY_RUN=1 bash "$preview/build.sh" --no-build --skip-tests "${overrides[@]}" 2>"$work/err" >&3 ||
      die "build.sh's dry run failed: $(last_error)"
    return 0
  fi
  env "${build_env[@]}" ./build.sh "${build_flags[@]}" "${overrides[@]}" >&2 ||
    die "build.sh did not deploy $stack_name (its output is above)"
  pass "stack $stack_name deployed"
}

# The CLI takes its leases in the stack's state table: its name is the stack output
# StateTableName (read once, before the CLI's first call).
use_state_table() {
  local table
  table="$(aws_out "$stack_name-StateTable-EXAMPLE" cloudformation describe-stacks --stack-name "$stack_name" \
    --query "Stacks[0].Outputs[?OutputKey=='StateTableName'].OutputValue" --output text)" ||
    die "could not read the stack's StateTableName output: $(last_error)"
  cli_globals+=(--state-table "$table")
}

create_roles() {
  step "creating IAM roles $reader_role (named as the reader) and $other_role (not named)"
  # No permissions of their own: only the secret's resource policy (and the key's policy
  # or grants) can let them read a password. Same-account access is allowed by either the
  # resource policy or an identity policy
  # (https://docs.aws.amazon.com/secretsmanager/latest/userguide/determine-acccess_examine-iam-policies.html).
  local trust
  trust=$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}' \
    "$partition" "$account")
  local role
  for role in "$reader_role" "$other_role"; do
    remember role "$role"
    aws_run iam create-role --role-name "$role" --assume-role-policy-document "$trust" \
      --description "Aurora Clone Manager smoke run $run_id; deleted by the run" \
      --tags "$purpose_tag" "Key=smoke-run,Value=$run_id" ||
      die "could not create role $role: $(last_error)"
  done
}

# Writes a random master password as --cli-input-json for create-db-cluster, readable by
# this user only. The password goes in through a file, never on a command line
# (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-skeleton.html: values given
# on the command line and in --cli-input-json combine). Nobody logs in with it.
write_password_file() {
  [[ "$dry_run" == 0 ]] || return 0
  (
    umask 077
    printf '{"MasterUserPassword": "%s"}\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$1"
  )
}

make_root() {
  if [[ -n "$root_given" ]]; then
    step "checking the given root $root_id"
    local details engine_name members
    details="$(aws_out $'aurora-postgresql\t1' rds describe-db-clusters --db-cluster-identifier "$root_id" \
      --query 'DBClusters[0].[Engine,length(DBClusterMembers)]' --output text)" ||
      die "cannot use --root $root_id: $(last_error)"
    read -r engine_name members <<<"$details"
    [[ "$engine_name" == aurora* ]] || die "--root $root_id is a $engine_name cluster, not Aurora"
    # "You can only clone Aurora DB clusters that have at least one DB instance"
    # (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html).
    ((members > 0)) || die "--root $root_id has no DB instance, and a cluster without one cannot be cloned"
    return 0
  fi
  step "making the root: $engine cluster $root_id with one $instance_class instance"
  # The master password goes in through a file, never on a command line
  # (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-skeleton.html: values given
  # on the command line and in --cli-input-json combine). Nobody logs in to the root.
  local password_file="$work/root-password.json"
  write_password_file "$password_file"
  local subnet_args=()
  [[ -z "$db_subnet_group" ]] || subnet_args=(--db-subnet-group-name "$db_subnet_group")
  remember cluster "$root_id"
  aws_run rds create-db-cluster --db-cluster-identifier "$root_id" --engine "$engine" \
    --master-username postgres --database-name smoke --storage-encrypted --backup-retention-period 1 \
    --cli-input-json "file://$password_file" ${subnet_args[@]+"${subnet_args[@]}"} \
    --tags "$purpose_tag" "Key=smoke-run,Value=$run_id" ||
    die "could not create the root cluster $root_id: $(last_error)"
  rm -f "$password_file"
  remember instance "$root_instance"
  aws_run rds create-db-instance --db-instance-identifier "$root_instance" --db-cluster-identifier "$root_id" \
    --engine "$engine" --db-instance-class "$instance_class" --no-publicly-accessible \
    --tags "$purpose_tag" "Key=smoke-run,Value=$run_id" ||
    die "could not create the root's instance $root_instance: $(last_error)"
  [[ "$dry_run" == 1 ]] || say "waiting for $root_instance to be available (often 10 to 20 minutes)"
  aws_run rds wait db-instance-available --db-instance-identifier "$root_instance" ||
    die "$root_instance did not become available: $(last_error)"
  aws_run rds wait db-cluster-available --db-cluster-identifier "$root_id" ||
    die "$root_id did not become available: $(last_error)"
  pass "root $root_id made ($instance_class)"
}

clone_through_example_stack() {
  step "cloning $root_id through the example stack $example_stack (CloudFormation waits for the clone)"
  stack_must_not_exist "$example_stack"
  remember stack "$example_stack"
  [[ "$dry_run" == 1 ]] || say "waiting for $example_stack (the clone answers when usable: often 20 to 40 minutes)"
  if ! aws_run cloudformation deploy --template-file example/template.yaml --stack-name "$example_stack" \
    --parameter-overrides "CloneManagerStackName=$stack_name" "SourceClusterId=$root_id" \
    "AccessPrincipalArns=$reader_arn" "InstanceClass=$instance_class" \
    --tags purpose=aurora-clone-manager-smoke "smoke-run=$run_id"; then
    fail "the example stack did not create its clone: $(last_error) (the stack's events say why)"
    die "stopping: the checks need the example clone"
  fi
  local outputs key value
  outputs="$(aws_out $'ClusterId\tEXAMPLE-CLONE-ID\nPasswordSecretArn\tEXAMPLE-SECRET-ARN' \
    cloudformation describe-stacks --stack-name "$example_stack" \
    --query "Stacks[0].Outputs[?OutputKey=='ClusterId' || OutputKey=='PasswordSecretArn'].[OutputKey,OutputValue]" \
    --output text)" || die "could not read the outputs of $example_stack: $(last_error)"
  while IFS=$'\t' read -r key value; do
    case "$key" in
      ClusterId) example_clone=$value ;;
      PasswordSecretArn) example_secret=$value ;;
    esac
  done <<<"$outputs"
  [[ -n "$example_clone" && -n "$example_secret" ]] ||
    die "$example_stack has no ClusterId or PasswordSecretArn output"
  pass "clone $example_clone made through the example stack"
}

# Reads one field of the CLI's --json answer.
json_field() {
  python3 -c '
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = (value or {}).get(key)
print("" if value is None else value)
' "$@"
}

clone_through_cli() {
  use_state_table
  step "cloning $root_id with aurora-clone-manager provision --wait"
  remember cli-clones "$run_id"
  local answer="$work/provision.json"
  if ! cli_run --json provision --source "$root_id" --set-password --principal "$reader_arn" \
    --instance-class "$instance_class" --tag "smoke-cli=$run_id" --wait >"$answer"; then
    fail "aurora-clone-manager provision did not make a usable clone (its message is above)"
    die "stopping: the checks need the CLI's clone"
  fi
  if [[ "$dry_run" == 1 ]]; then
    cli_clone=CLI-CLONE-ID
    cli_secret=CLI-SECRET-ARN
    return 0
  fi
  [[ "$(json_field "$answer" ready)" == True ]] || die "the CLI's clone is not ready: $(json_field "$answer" state)"
  cli_clone="$(json_field "$answer" clusterId)"
  cli_secret="$(json_field "$answer" outputs PasswordSecretArn)"
  [[ -n "$cli_secret" ]] || die "the CLI's answer names no PasswordSecretArn for $cli_clone"
  pass "clone $cli_clone made by the CLI"
}

# Prints "KEY SECRET TOKEN" of a 15-minute session of a role, retrying while IAM makes
# the new role assumable.
assume_role() {
  local arn=$1 deadline=$((SECONDS + iam_propagation_seconds)) delay=2 credentials
  while :; do
    if credentials="$(aws_out 'KEY SECRET TOKEN' sts assume-role --role-arn "$arn" \
      --role-session-name "acm-smoke-$run_id" --duration-seconds 900 \
      --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"; then
      printf '%s\n' "$credentials"
      return 0
    fi
    ((SECONDS < deadline)) || return 1
    sleep "$delay"
    delay=$((delay < 16 ? delay * 2 : 16))
  done
}

# Reads a secret as the session in $1 ("KEY SECRET TOKEN"), printing only its ARN: the
# password is never shown or kept. Returns the aws exit status; the error is in $work/err.
read_secret_as() {
  local credentials=$1 role=$2 secret=$3 key secret_key token
  read -r key secret_key token <<<"$credentials"
  if [[ "$dry_run" == 1 ]]; then
    listing_note "as $role (the session from its assume-role above):"
    show aws secretsmanager get-secret-value --secret-id "$secret" --query ARN --output text --region "$region"
    return 0
  fi
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
    AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_SESSION_TOKEN="$token" \
    aws secretsmanager get-secret-value --secret-id "$secret" --query ARN --output text \
    --region "$region" >/dev/null 2>"$work/err"
}

# The named reader must read the password; a policy that was just written may take a
# moment to apply, so AccessDeniedException is retried for a while.
expect_readable() {
  local credentials=$1 what=$2 secret=$3 deadline=$((SECONDS + iam_propagation_seconds)) delay=2
  while ! read_secret_as "$credentials" "$reader_arn" "$secret"; do
    if [[ "$(last_error_code)" != AccessDeniedException ]] || ((SECONDS >= deadline)); then
      fail "$reader_role cannot read the password of $what: $(last_error)"
      return 0
    fi
    sleep "$delay"
    delay=$((delay < 16 ? delay * 2 : 16))
  done
  [[ "$dry_run" == 1 ]] || pass "$reader_role (named) can read the password of $what"
}

# Any other principal must be refused with AccessDeniedException
# (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html).
expect_denied() {
  local credentials=$1 what=$2 secret=$3
  if [[ "$dry_run" == 1 ]]; then
    read_secret_as "$credentials" "$other_arn" "$secret"
    listing_note "(expected: AccessDeniedException)"
    return 0
  fi
  if read_secret_as "$credentials" "$other_arn" "$secret"; then
    fail "$other_role (not named) could read the password of $what"
  elif [[ "$(last_error_code)" == AccessDeniedException ]]; then
    pass "$other_role (not named) is refused the password of $what (AccessDeniedException)"
  else
    fail "$other_role (not named) got $(last_error) instead of AccessDeniedException for $what"
  fi
}

check_principals() {
  step "checking who can read the passwords: $reader_role must, $other_role must not"
  local reader_session other_session
  reader_session="$(assume_role "$reader_arn")" ||
    die "could not assume $reader_arn within $iam_propagation_seconds s: $(last_error)"
  other_session="$(assume_role "$other_arn")" ||
    die "could not assume $other_arn within $iam_propagation_seconds s: $(last_error)"
  expect_readable "$reader_session" "the example clone $example_clone" "$example_secret"
  expect_denied "$other_session" "the example clone $example_clone" "$example_secret"
  expect_readable "$reader_session" "the CLI's clone $cli_clone" "$cli_secret"
  expect_denied "$other_session" "the CLI's clone $cli_clone" "$cli_secret"
}

# Clones the root (clusters without instances: storage only) until one lands outside the
# root's clone group, which is how a full copy shows in DescribeDBClusters: a clone joins
# its source's group (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBCluster.html).
# Two AWS pages disagree on the limit: the current cloning page
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html)
# allows as many clones as the Region's DB cluster quota; an older one
# (http://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/AuroraMySQL.Managing.Clone.html)
# 15 clones per copy, then only copies. This measures the account's real behaviour.
# Unverified: the same API reference says a point-in-time restore inherits the source's
# clone group; if a silent full copy does too, no difference shows and the run ends at
# --max-clones.
measure_clone_limit() {
  step "cloning $root_id until AWS makes a full copy (at most $max_clones clones)"
  local group subnet_group
  group="$(aws_out CLONE-GROUP-ID rds describe-db-clusters --db-cluster-identifier "$root_id" \
    --query 'DBClusters[0].CloneGroupId' --output text)" || die "could not read $root_id: $(last_error)"
  if [[ -z "$group" || "$group" == None ]]; then
    fail "$root_id has no CloneGroupId although it has clones: a full copy cannot be told from a clone"
    return 0
  fi
  subnet_group="$(aws_out SUBNET-GROUP rds describe-db-clusters --db-cluster-identifier "$root_id" \
    --query 'DBClusters[0].DBSubnetGroup' --output text)" || die "could not read $root_id: $(last_error)"
  local n id got size before=''
  for ((n = 1; n <= max_clones; n++)); do
    id=$(printf 'acm-smoke-limit-%s-%02d' "$run_id" "$n")
    before="$(aws_out GROUP-SIZE rds describe-db-clusters \
      --query "length(DBClusters[?CloneGroupId=='$group'])" --output text)" ||
      die "could not count $root_id's clone group: $(last_error)"
    remember cluster "$id"
    if ! aws_run rds restore-db-cluster-to-point-in-time --source-db-cluster-identifier "$root_id" \
      --db-cluster-identifier "$id" --restore-type copy-on-write --use-latest-restorable-time \
      --db-subnet-group-name "$subnet_group" --tags "$purpose_tag" "Key=smoke-run,Value=$run_id"; then
      if [[ "$(last_error_code)" == DBClusterQuotaExceeded* ]]; then
        info "clone limit: no full copy seen; the account's DB cluster quota stopped the run after $((n - 1)) clones (the clone group held $before clusters, root included)"
        return 0
      fi
      die "could not clone $root_id as $id: $(last_error)"
    fi
    aws_run rds wait db-cluster-available --db-cluster-identifier "$id" ||
      die "$id did not become available: $(last_error)"
    got="$(aws_out CLONE-GROUP-ID rds describe-db-clusters --db-cluster-identifier "$id" \
      --query 'DBClusters[0].CloneGroupId' --output text)" || die "could not read $id: $(last_error)"
    if [[ "$dry_run" == 1 ]]; then
      listing_note "(repeated, with the next identifier, until the CloneGroupId differs from the root's, at most $max_clones times)"
      return 0
    fi
    say "clone $n ($id): CloneGroupId $got; the root's is $group; the group held $before clusters before it"
    if [[ "$got" != "$group" ]]; then
      size=$((before - 1))
      info "clone limit: AWS made a full copy at restore $n ($id has CloneGroupId $got, the root $group); $size copy-on-write clones fitted on the root's volume: MaxClonesPerSource should be at most $size"
      return 0
    fi
  done
  info "clone limit: no full copy in $max_clones clones (the clone group held $((before + 1)) clusters, root included); the limit is at least $before clones here, or a full copy keeps the group (see docs/aws-facts.md)"
}

# The UTC time $1 minutes ago, as CloudWatch takes it.
minutes_ago() {
  python3 -c 'import datetime, sys
moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=int(sys.argv[1]))
print(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
}

# The latest one-minute maximum of ServerlessDatabaseCapacity of instance $1 in the last
# ten minutes ("None" when there is none yet).
latest_capacity() {
  local start end
  if [[ "$dry_run" == 1 ]]; then
    start=START end=END
  else
    start="$(minutes_ago 10)" end="$(minutes_ago 0)"
  fi
  aws_out 0.0 cloudwatch get-metric-statistics --namespace AWS/RDS \
    --metric-name ServerlessDatabaseCapacity --dimensions "Name=DBInstanceIdentifier,Value=$1" \
    --statistics Maximum --period 60 --start-time "$start" --end-time "$end" \
    --query 'sort_by(Datapoints,&Timestamp)[-1].Maximum' --output text
}

# --paused-source: can a clone be made while its source's only instance is auto-paused?
# The auto-pause page says "Creating an Aurora clone causes Aurora to resume the writer
# instance of the cluster that's being cloned"
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html);
# this checks it on the account. A paused instance stays "available" and reports
# ServerlessDatabaseCapacity 0 (same page), which is how this tells that it is paused.
# MinCapacity 0 needs an engine version with auto-pause (Aurora PostgreSQL 13.15, 14.12,
# 15.7, 16.3 or later); the cluster gets the region's default version, and AWS's refusal,
# if any, is reported as the check's failure.
check_paused_source() {
  step "making $paused_id: a Serverless v2 cluster (0 to 1 ACU) whose only instance pauses after $paused_source_seconds_until_pause s"
  local password_file="$work/paused-password.json" subnet_args=()
  write_password_file "$password_file"
  [[ -z "$db_subnet_group" ]] || subnet_args=(--db-subnet-group-name "$db_subnet_group")
  remember cluster "$paused_id"
  if ! aws_run rds create-db-cluster --db-cluster-identifier "$paused_id" --engine "$engine" \
    --master-username postgres --database-name smoke --storage-encrypted --backup-retention-period 1 \
    --serverless-v2-scaling-configuration "MinCapacity=0,MaxCapacity=1,SecondsUntilAutoPause=$paused_source_seconds_until_pause" \
    --cli-input-json "file://$password_file" ${subnet_args[@]+"${subnet_args[@]}"} \
    --tags "$purpose_tag" "Key=smoke-run,Value=$run_id"; then
    rm -f "$password_file"
    fail "AWS refused a $engine cluster with a minimum of 0 ACUs: $(last_error)"
    return 0
  fi
  rm -f "$password_file"
  remember instance "$paused_instance"
  aws_run rds create-db-instance --db-instance-identifier "$paused_instance" --db-cluster-identifier "$paused_id" \
    --engine "$engine" --db-instance-class db.serverless --no-publicly-accessible \
    --tags "$purpose_tag" "Key=smoke-run,Value=$run_id" ||
    die "could not create $paused_instance: $(last_error)"
  aws_run rds wait db-instance-available --db-instance-identifier "$paused_instance" ||
    die "$paused_instance did not become available: $(last_error)"

  step "waiting until $paused_instance is paused (ServerlessDatabaseCapacity 0; at most $((paused_source_wait_seconds / 60)) minutes)"
  local deadline=$((SECONDS + paused_source_wait_seconds)) capacity
  while :; do
    capacity="$(latest_capacity "$paused_instance")" || die "could not read the capacity of $paused_instance: $(last_error)"
    [[ "$capacity" == 0 || "$capacity" == 0.0 ]] && break
    if ((SECONDS >= deadline)); then
      fail "$paused_instance did not pause within $((paused_source_wait_seconds / 60)) minutes (last ServerlessDatabaseCapacity: $capacity); nothing was learnt about cloning a paused source"
      return 0
    fi
    sleep 60
  done
  [[ "$dry_run" == 1 ]] || say "$paused_instance is paused (ServerlessDatabaseCapacity 0)"

  step "cloning the paused $paused_id with aurora-clone-manager provision --serverless 0-1 --wait"
  remember cli-clones "$run_id-paused"
  local answer="$work/paused-provision.json"
  if ! cli_run --json provision --source "$paused_id" --serverless 0-1 --auto-pause PT5M \
    --tag "smoke-cli=$run_id-paused" --wait >"$answer"; then
    fail "no usable clone of $paused_id while its only instance was paused (the CLI's message is above)"
    return 0
  fi
  [[ "$dry_run" == 0 ]] || return 0
  local clone scaling
  clone="$(json_field "$answer" clusterId)"
  if [[ "$(json_field "$answer" ready)" != True ]]; then
    fail "the clone $clone of the paused $paused_id is not ready: $(json_field "$answer" state)"
    return 0
  fi
  pass "clone $clone of $paused_id made while its only instance was paused"
  scaling="$(aws_out '' rds describe-db-clusters --db-cluster-identifier "$clone" \
    --query 'DBClusters[0].ServerlessV2ScalingConfiguration.[MinCapacity,MaxCapacity,SecondsUntilAutoPause]' \
    --output text)" || die "could not read $clone: $(last_error)"
  if [[ "$(printf '%s' "$scaling" | tr -s '\t ' ' ')" =~ ^0(\.0)?\ 1(\.0)?\ 300$ ]]; then
    pass "the clone $clone has the capacity asked for (0 to 1 ACU, pausing after 300 s)"
  else
    fail "the clone $clone has MinCapacity, MaxCapacity, SecondsUntilAutoPause $scaling, not 0 1 300"
  fi
}

main() {
  parse_args "$@"
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  if [[ "$dry_run" == 0 && "$assume_yes" == 0 && ! -t 0 ]]; then
    die "not started: standard input is not a terminal, so nobody can confirm; pass --yes to start anyway (it makes billed AWS resources)"
  fi
  if [[ "$dry_run" == 0 ]]; then
    command -v aws >/dev/null || die "the AWS CLI (aws) is needed"
    command -v python3 >/dev/null || die "python3 is needed"
    [[ -n "$cli" ]] || command -v cargo >/dev/null || die "cargo is needed to build the CLI (or pass --cli PATH)"
  fi
  resolve_region
  work="$(mktemp -d)"
  export AWS_PAGER=''
  trap on_exit EXIT
  trap on_signal INT TERM
  name_things
  who_am_i
  print_plan
  confirm
  resolve_cli
  deploy_stack
  create_roles
  make_root
  clone_through_example_stack
  clone_through_cli
  check_principals
  if ((clone_limit)); then
    measure_clone_limit
  fi
  if ((paused_source)); then
    check_paused_source
  fi
  ((failures == 0)) || exit 1
}

main "$@"
