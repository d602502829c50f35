#!/usr/bin/env bash
# Installs the aurora-clone-manager CLI from a GitHub release, for the GitHub Action in
# action.yml (also usable on its own). Downloads the archive for this machine (Linux
# x86_64 or aarch64) and the release's SHA256SUMS, and refuses to install when the
# archive's SHA-256 is not the one listed for it. Prints the installed binary's path and,
# in an Actions step, sets the step output `binary` to it.
#
# Environment:
#   ACM_VERSION            release tag, e.g. v1.2.0 (required)
#   ACM_REPOSITORY         owner/name of the repository whose releases to use (required
#                          unless ACM_DOWNLOAD_BASE_URL is set)
#   ACM_DOWNLOAD_BASE_URL  where the release's assets are [default:
#                          https://github.com/$ACM_REPOSITORY/releases/download/$ACM_VERSION]
#   ACM_INSTALL_DIR        where the binary goes [default: $RUNNER_TEMP (else the system's
#                          temporary directory)/aurora-clone-manager/$ACM_VERSION]
set -euo pipefail

readonly binary_name=aurora-clone-manager
readonly checksums_name=SHA256SUMS

die() {
  printf 'install: %s\n' "$*" >&2
  exit 1
}

# The release asset for this machine; the names are the ones .github/workflows/release.yml
# attaches.
asset_for_this_machine() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  [[ "$os" == Linux ]] || die "no release build for $os: the releases have Linux builds only"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no release build for $arch: the releases have x86_64 and aarch64 builds only" ;;
  esac
  printf '%s-linux-%s.tar.gz\n' "$binary_name" "$arch"
}

download() {
  local url=$1 target=$2
  curl --fail --silent --show-error --location --retry 3 --output "$target" "$url" ||
    die "could not download $url"
}

# The SHA-256 that the checksum file lists for the asset (sha256sum's format: the hash,
# two spaces or a space and an asterisk, the file name); exactly one line must name it.
listed_checksum() {
  local checksums=$1 asset=$2 found
  found="$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$checksums")"
  [[ -n "$found" ]] || die "$checksums_name of the release lists no checksum for $asset; refusing to install it"
  [[ "$found" != *$'\n'* ]] || die "$checksums_name of the release lists $asset more than once; refusing to install it"
  [[ "$found" =~ ^[0-9a-fA-F]{64}$ ]] || die "$checksums_name of the release has no SHA-256 for $asset ('$found'); refusing to install it"
  printf '%s\n' "${found,,}"
}

main() {
  local version="${ACM_VERSION:-}" repository="${ACM_REPOSITORY:-}"
  [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    die "version '$version' is not a release tag such as v1.2.0; pass the action's version input"
  local base_url="${ACM_DOWNLOAD_BASE_URL:-}"
  if [[ -z "$base_url" ]]; then
    [[ "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
      die "repository '$repository' is not owner/name; pass the action's repository input"
    base_url="https://github.com/$repository/releases/download/$version"
  fi
  base_url="${base_url%/}"
  local install_dir="${ACM_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/$binary_name/$version}"

  local asset work
  asset="$(asset_for_this_machine)"
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # the directory is known now and must be removed on any exit
  trap "rm -rf '$work'" EXIT

  download "$base_url/$asset" "$work/$asset"
  download "$base_url/$checksums_name" "$work/$checksums_name"
  local expected actual
  expected="$(listed_checksum "$work/$checksums_name" "$asset")"
  actual="$(sha256sum "$work/$asset" | cut -d' ' -f1)"
  if [[ "$actual" != "$expected" ]]; then
    die "checksum mismatch for $asset: the release lists $expected, the download has $actual; refusing to install it"
  fi
  echo "install: $asset matches its SHA-256 in $checksums_name ($actual)" >&2

  mkdir -p "$work/unpacked"
  tar -xzf "$work/$asset" -C "$work/unpacked" "$binary_name" ||
    die "$asset holds no $binary_name"
  mkdir -p "$install_dir"
  install -m 0755 "$work/unpacked/$binary_name" "$install_dir/$binary_name"
  local installed="$install_dir/$binary_name" runs
  runs="$("$installed" --version)" || die "the installed $installed does not run"
  echo "install: installed $runs as $installed" >&2
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'binary=%s\n' "$installed" >>"$GITHUB_OUTPUT"
  fi
  printf '%s\n' "$installed"
}

main "$@"
