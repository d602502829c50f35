#!/usr/bin/env bash
# Lints the deployment side: cfn-lint on every template, checkov on the
# templates that create IAM and compute resources, actionlint on the GitHub
# workflows, the example workflow and the action's metadata, shellcheck on the
# shell scripts. Fails on any finding that is not skipped in the template with a
# reason. Idempotent; prints one line on success and the tools' output on
# failure. Tool pins: scripts/requirements-lint.txt (PyPI); the shell linter
# is Debian's package.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly venv=.venv-lint
readonly requirements=scripts/requirements-lint.txt
readonly templates=(template.yaml build-stack.yaml example/template.yaml example/lifecycle-events.yaml)
readonly checkov_templates=(template.yaml build-stack.yaml)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Runs a command with its output captured; on failure prints it and stops.
quietly() {
  local what=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    printf 'lint: %s failed:\n' "$what" >&2
    cat "$log" >&2
    exit 1
  fi
}

ensure_venv() {
  local wanted stamp="$venv/.requirements.sha256"
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/cfn-lint" && -x "$venv/bin/checkov" && -x "$venv/bin/actionlint" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return
  fi
  [[ -x "$venv/bin/python" ]] || quietly "creating $venv" python3 -m venv "$venv"
  quietly "installing $requirements" "$venv/bin/pip" install --disable-pip-version-check -r "$requirements"
  printf '%s\n' "$wanted" >"$stamp"
}

ensure_shellcheck() {
  command -v shellcheck >/dev/null && return
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "lint: shellcheck is missing and sudo is not available; install Debian's shellcheck" >&2; exit 1; }
    sudo=(sudo)
  fi
  if ! "${sudo[@]}" apt-get install -y -qq shellcheck >"$log" 2>&1; then
    quietly "apt-get update" "${sudo[@]}" apt-get update -qq
    quietly "installing shellcheck" "${sudo[@]}" apt-get install -y -qq shellcheck
  fi
}

ensure_venv
ensure_shellcheck

# cfn-lint exits non-zero for errors and warnings alike; rules a template
# really must break are ignored in that template's Metadata, with the reason.
quietly "cfn-lint" "$venv/bin/cfn-lint" -- "${templates[@]}"

# Checkov: every failed check fails the lint unless the resource skips it
# with a comment (Metadata: checkov: skip: [{id, comment}]).
checkov_args=()
for template in "${checkov_templates[@]}"; do
  checkov_args+=(-f "$template")
done
quietly "checkov" env BC_SKIP_MAPPING=TRUE "$venv/bin/checkov" "${checkov_args[@]}" \
  --framework cloudformation --quiet --compact --skip-download

# actionlint: the workflows and the example as they are (with shellcheck on their run:
# scripts), then action.yml through a copy of the example that uses the action from a
# local checkout: actionlint checks a local action's metadata and the inputs and outputs
# a workflow uses against it (an empty .git marks the copy's project root).
readonly workflows=(.github/workflows/*.yml example/pr-database.yml)
quietly "actionlint" "$venv/bin/actionlint" -no-color -- "${workflows[@]}"
action_check="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$action_check"' EXIT
mkdir -p "$action_check/.git" "$action_check/.github/workflows"
cp action.yml "$action_check/"
sed -E 's#uses: [A-Za-z0-9_.-]+/aurora-clone-manager@[^ ]+#uses: ./#' example/pr-database.yml \
  >"$action_check/.github/workflows/pr-database.yml"
if ! grep -q 'uses: \./$' "$action_check/.github/workflows/pr-database.yml"; then
  echo "lint: example/pr-database.yml does not use the action (uses: OWNER/aurora-clone-manager@TAG)" >&2
  exit 1
fi
actionlint_in_copy() {
  local actionlint="$PWD/$venv/bin/actionlint"
  (cd "$action_check" && "$actionlint" -no-color)
}
quietly "actionlint (action.yml through example/pr-database.yml)" actionlint_in_copy

shell_scripts=()
while IFS= read -r -d '' script; do
  shell_scripts+=("$script")
done < <(find . scripts scripts/action -maxdepth 1 -name '*.sh' -type f -not -path './.venv*' -print0 | sort -z -u)
quietly "shellcheck" shellcheck -x -- "${shell_scripts[@]}"

echo "lint: ok (cfn-lint: ${#templates[@]} templates, checkov: ${#checkov_templates[@]} templates, actionlint: ${#workflows[@]} workflows and action.yml, shellcheck: ${#shell_scripts[@]} scripts)"
