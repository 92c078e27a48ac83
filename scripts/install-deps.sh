#!/usr/bin/env bash
# Installs the Debian 12 packages renkei builds, runs and tests with.
# Usage: scripts/install-deps.sh [run|test]   (test adds PostgreSQL, wrk, nginx)
set -euo pipefail
mode=${1:-run}
build_pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libspdlog-dev libfmt-dev libcli11-dev
  openssl sqlite3 curl)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev postgresql postgresql-client
  wrk nginx-light python3 jq)
pkgs=("${build_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
