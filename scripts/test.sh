#!/usr/bin/env bash
# Quick start, part 2: installs what the tests need (PostgreSQL included), builds everything
# and runs the whole test suite. CTest starts and removes a throwaway PostgreSQL server itself.
# Extra arguments go to ctest (e.g. -L access).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RENKEI_TEST_BUILD_DIR:-$root/build-test}

bash "$root/scripts/install-deps.sh" test
bash "$root/scripts/build.sh" "$build" -DRENKEI_BUILD_TESTS=ON -DRENKEI_BUILD_BENCH=ON
cd "$build"
ctest --output-on-failure --timeout 1500 -j "$(nproc)" "$@"
