#!/usr/bin/env bash
# Builds a release's assets into a directory: for each of linux x86_64 and aarch64 the
# CLI (a tar.gz holding the binary aurora-clone-manager) and the Lambda bootstrap.zip, and
# SHA256SUMS listing every asset (sha256sum's format). One build serves both: the Lambda
# function and the CLI are the same binary. The names are the ones scripts/action/install.sh
# downloads:
#   aurora-clone-manager-linux-x86_64.tar.gz   aurora-clone-manager-lambda-x86_64.zip
#   aurora-clone-manager-linux-aarch64.tar.gz  aurora-clone-manager-lambda-arm64.zip
#   SHA256SUMS
#
#   scripts/release-assets.sh build OUT_DIR               build both (cargo-lambda and zig
#                                                         from PyPI, as build.sh installs them)
#   scripts/release-assets.sh package ZIP ARCH OUT_DIR    add one built bootstrap.zip
#                                                         (ARCH: x86_64 or arm64)
#   scripts/release-assets.sh checksums OUT_DIR           write OUT_DIR/SHA256SUMS
set -euo pipefail

readonly binary_name=aurora-clone-manager

die() {
  printf 'release-assets: %s\n' "$*" >&2
  exit 1
}

# The CLI's architecture name (uname -m on Linux) for a Lambda architecture name.
cli_arch() {
  case "$1" in
    x86_64) echo x86_64 ;;
    arm64) echo aarch64 ;;
    *) die "architecture must be x86_64 or arm64, not '$1'" ;;
  esac
}

# Adds one architecture's assets: the zip as it is, and the binary inside it as the CLI.
package() {
  local zip=$1 arch=$2 out=$3 unpacked
  [[ -f "$zip" ]] || die "$zip does not exist"
  mkdir -p "$out"
  unpacked="$(mktemp -d)"
  python3 - "$zip" "$unpacked/$binary_name" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive, archive.open("bootstrap") as source, open(sys.argv[2], "wb") as target:
    shutil.copyfileobj(source, target)
os.chmod(sys.argv[2], 0o755)
PY
  cp "$zip" "$out/$binary_name-lambda-$arch.zip"
  tar -czf "$out/$binary_name-linux-$(cli_arch "$arch").tar.gz" -C "$unpacked" "$binary_name"
  rm -rf "$unpacked"
}

checksums() {
  local out=$1
  (
    cd "$out"
    find . -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' \) -printf '%f\n' |
      sort | xargs -r sha256sum >SHA256SUMS
  )
  [[ -s "$out/SHA256SUMS" ]] || die "no assets in $out to list"
}

build() {
  local out=$1 arch
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  # build.sh's functions: cargo-lambda and zig from PyPI, the Rust target, the build.
  # shellcheck source=SCRIPTDIR/../build.sh
  source ./build.sh
  for arch in x86_64 arm64; do
    build_bootstrap
    package target/lambda/aurora-clone-manager/bootstrap.zip "$arch" "$out"
  done
  checksums "$out"
}

main() {
  case "${1:-}" in
    build)
      [[ $# == 2 ]] || die "usage: release-assets.sh build OUT_DIR"
      build "$(realpath -m "$2")"
      ;;
    package)
      [[ $# == 4 ]] || die "usage: release-assets.sh package ZIP ARCH OUT_DIR"
      cli_arch "$3" >/dev/null
      package "$2" "$3" "$4"
      ;;
    checksums)
      [[ $# == 2 ]] || die "usage: release-assets.sh checksums OUT_DIR"
      checksums "$2"
      ;;
    *) die "usage: release-assets.sh build OUT_DIR | package ZIP ARCH OUT_DIR | checksums OUT_DIR" ;;
  esac
}

main "$@"
