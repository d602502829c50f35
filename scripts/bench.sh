#!/usr/bin/env bash
# Runs the benchmarks (cold start, memory, planner and flow timings, API calls) and writes BENCHMARKS.md.
#
#   scripts/bench.sh [bench options]
#
# Builds the x86_64 Lambda bootstrap.zip first (build.sh, dry run: no AWS call) when it
# is missing, older than the sources, or built for another architecture (build.sh builds
# arm64 by default, and every run of it writes the same zip), so that the cold-start
# numbers are of the current code on this machine; then runs `cargo bench --bench bench -- --markdown BENCHMARKS.md` and prints the
# file. Extra arguments go to the bench: `--quick` (fewer repetitions), `--only
# calls|refresh|latency|planner|cold-start`. The release build of the bench takes minutes on two
# cores; the run itself about a minute.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly zip=target/lambda/aurora-clone-manager/bootstrap.zip
readonly markdown=BENCHMARKS.md

# The ELF machine field of the bootstrap in the zip: "3e 00" is x86_64. build.sh builds
# arm64 unless told otherwise, and other runs of it write the same zip.
bootstrap_machine() {
  unzip -p "$zip" bootstrap 2>/dev/null | od -An -tx1 -j18 -N2 | tr -d ' \n' || true
}

bootstrap_is_current() {
  [[ -f "$zip" ]] || return 1
  [[ "$(bootstrap_machine)" == 3e00 ]] || return 1
  # Any source or manifest newer than the zip means the zip is stale.
  [[ -z "$(find src Cargo.toml Cargo.lock -newer "$zip" -print -quit)" ]]
}

if bootstrap_is_current; then
  echo "bench.sh: using $zip" >&2
else
  echo "bench.sh: building $zip (build.sh, x86_64, dry run)" >&2
  ARCH=x86_64 DRY_RUN=1 SKIP_TESTS=1 LAMBDA_S3_BUCKET=bench LAMBDA_S3_PREFIX=bench \
    ./build.sh >/dev/null
fi

cargo bench --locked --bench bench -- --markdown "$markdown" "$@"
echo
cat "$markdown"
