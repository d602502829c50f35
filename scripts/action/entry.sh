#!/usr/bin/env bash
# The GitHub Action's command (action.yml): makes the pull request's clone, or deletes it,
# with the aurora-clone-manager CLI, and sets the step outputs through the CLI's
# `--output github`. Provision makes the clone, or finds the one an earlier run made under
# the same name (its expiry stays as it was), waits until it is usable and sets host, port,
# username, database, secret-arn, cluster-id (and reader-host when there is one); delete
# sets cluster-id and deleted (false when there was no clone: a pull request closed again,
# or one whose clone was never made). Neither prints nor writes the password: it stays in
# the clone's secret, readable by the principals named.
#
# Environment (the action's inputs):
#   ACM_COMMAND            provision or delete
#   ACM_SOURCE             root cluster to clone (provision)
#   ACM_CLUSTER_ID         the clone's name [default: <name prefix>pr-<ACM_PULL_REQUEST>]
#   ACM_PULL_REQUEST       the pull request's number (for the default name)
#   ACM_TTL                delete the clone after this long if nobody does (provision)
#   ACM_STACK              the clone manager's stack name
#   ACM_NAME_PREFIX        its NamePrefix parameter [default: the stack name and a hyphen]
#   ACM_REGION             AWS region [default: the AWS configuration, e.g. AWS_REGION]
#   ACM_PRINCIPALS         IAM principal ARNs (space or line separated) that may read the
#                          clone's own password; none: the clone keeps its source's password
#   ACM_FUNCTION_ROLE_ARN  the deployment's RoleArn output, so its sweep can delete the clone
#   ACM_STATE_TABLE        the deployment's StateTableName output, where the CLI takes its leases
#   ACM_INSTANCE_CLASS     the clone's instance class [default: the source writer's]
#   ACM_ENDPOINT_URL       send every AWS call here (an emulator)
#   ACM_BINARY             the CLI [default: aurora-clone-manager on PATH]
set -euo pipefail

die() {
  printf 'aurora-clone-manager action: %s\n' "$*" >&2
  exit 1
}

# The clone's name: the one given, else one per pull request under the deployment's prefix
# (the clone manager makes and deletes only clusters whose names start with it).
cluster_id() {
  if [[ -n "${ACM_CLUSTER_ID:-}" ]]; then
    printf '%s\n' "$ACM_CLUSTER_ID"
    return
  fi
  local number="${ACM_PULL_REQUEST:-}"
  [[ "$number" =~ ^[0-9]+$ ]] ||
    die "no cluster-id input and no pull request number ('$number'): run on a pull_request event or pass cluster-id"
  printf '%spr-%s\n' "${ACM_NAME_PREFIX:-${ACM_STACK:-aurora-clone-manager}-}" "$number"
}

main() {
  local binary="${ACM_BINARY:-aurora-clone-manager}"
  local global=(--output github)
  [[ -n "${ACM_STACK:-}" ]] && global+=(--stack "$ACM_STACK")
  [[ -n "${ACM_NAME_PREFIX:-}" ]] && global+=(--name-prefix "$ACM_NAME_PREFIX")
  [[ -n "${ACM_REGION:-}" ]] && global+=(--region "$ACM_REGION")
  [[ -n "${ACM_ENDPOINT_URL:-}" ]] && global+=(--endpoint-url "$ACM_ENDPOINT_URL")
  [[ -n "${ACM_FUNCTION_ROLE_ARN:-}" ]] && global+=(--function-role-arn "$ACM_FUNCTION_ROLE_ARN")
  [[ -n "${ACM_STATE_TABLE:-}" ]] && global+=(--state-table "$ACM_STATE_TABLE")
  [[ -n "${GITHUB_OUTPUT:-}" ]] || die "GITHUB_OUTPUT is not set: this runs as a GitHub Actions step"

  local id
  id="$(cluster_id)"
  case "${ACM_COMMAND:-}" in
    provision)
      [[ -n "${ACM_SOURCE:-}" ]] || die "provision needs the source input: the root cluster to clone"
      # --reuse: a later push to the pull request gets the clone the first one made.
      local args=(provision --source "$ACM_SOURCE" --cluster-id "$id" --wait --reuse)
      [[ -n "${ACM_TTL:-}" ]] && args+=(--ttl "$ACM_TTL")
      [[ -n "${ACM_INSTANCE_CLASS:-}" ]] && args+=(--instance-class "$ACM_INSTANCE_CLASS")
      local principals=() principal
      read -r -d '' -a principals <<<"${ACM_PRINCIPALS:-}" || true
      if [[ "${#principals[@]}" -gt 0 ]]; then
        args+=(--set-password)
        for principal in "${principals[@]}"; do
          args+=(--principal "$principal")
        done
      fi
      echo "aurora-clone-manager action: provisioning $id from $ACM_SOURCE" >&2
      "$binary" "${global[@]}" --json "${args[@]}"
      ;;
    delete)
      echo "aurora-clone-manager action: deleting $id" >&2
      "$binary" "${global[@]}" --json delete "$id" --yes --missing-ok
      ;;
    *) die "command must be provision or delete, not '${ACM_COMMAND:-}'" ;;
  esac
}

main "$@"
