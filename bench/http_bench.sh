#!/usr/bin/env bash
# HTTP load benchmark on loopback (DESIGN.md §7): a seeded renkei server on SQLite with audit
# on, 32 connections of wrk on the same machine, against
#   - GET /fhir/Patient/{id} (audited patient reads),
#   - POST /fhir/Coverage/$verify-eligibility (by insurance numbers, audited),
#   - nginx serving a 225-byte static JSON file (the HTTP limit of the machine).
# Usage: bench/http_bench.sh [PATIENTS]   (default 1000000; the dataset is cached in
# bench/data/ and reused). Environment: DURATION (default 30s), CONNECTIONS (32), THREADS (2),
# RENKEI_BIN (an existing binary), RENKEI_DB_OPTIONS (e.g. ?synchronous=normal).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
patients=${1:-1000000}
duration=${DURATION:-30s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
data="$root/bench/data/p$patients"
build="$root/build-bench"

bash "$root/scripts/install-deps.sh" test
# RENKEI_BIN: benchmark an existing binary instead of building a Release one.
if [ -n "${RENKEI_BIN:-}" ]; then
  renkei=$RENKEI_BIN
else
  # RelWithDebInfo (-O2), as scripts/build.sh builds the server; GCC 12 -O3 raises false
  # -Wrestrict warnings in libstdc++ string code.
  bash "$root/scripts/build.sh" "$build" -DRENKEI_BUILD_TESTS=OFF -DRENKEI_BUILD_BENCH=OFF
  renkei="$build/src/app/renkei"
fi

mkdir -p "$data"
if [ ! -f "$data/renkei.db" ]; then
  echo "seeding $patients patients (once; cached in $data)"
  /usr/bin/time -f "seed: %e s, %M KiB max RSS" "$renkei" seed --db "sqlite:$data/renkei.db" \
    --out "$data/keys" --patients "$patients" --card-keys 100
fi
# Readable inputs for the load scripts: patient ids and insurance numbers of active coverages.
awk -F'\t' 'NR > 1 { print $1 }' "$data/keys/patients.tsv" > "$data/ids.txt"
awk -F'\t' 'NR > 1 && $6 == "active" { print $2 "," $3 "," $4 "," $5 }' "$data/keys/patients.tsv" > "$data/members.txt"

work=$(mktemp -d)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export RENKEI_WRK_DIR="$root/bench/wrk"
run_wrk() {  # name script url
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$2" "$3" 2>&1)
  echo "$out" | grep RESULT | sed "s/^RESULT/$1/"
}

# 1. nginx baseline with a 225-byte JSON file.
mkdir -p "$work/www"
python3 -c "import json;d={'resourceType':'OperationOutcome','issue':[{'severity':'information','code':'informational','diagnostics':'x'*120}]};s=json.dumps(d,separators=(',',':'));print(s+' '*(225-len(s)-1))" > "$work/www/static.json"
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:18081; root $work/www; }
}
NGINX
nginx -c "$work/nginx.conf"
sleep 0.5
nginx_line=$(run_wrk nginx_static "$root/bench/wrk/static.lua" "http://127.0.0.1:18081/static.json")
kill "$(cat "$work/nginx.pid")"; rm -f "$work/nginx.pid"

# 2. renkei on the seeded SQLite database, rate limit out of the way.
"$renkei" serve --db "sqlite:$data/renkei.db${RENKEI_DB_OPTIONS:-}" --listen 127.0.0.1:0 --port-file "$work/port" \
  --rate 100000000 --burst 100000000 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

# The Tokyo emergency hospital's physician: the reads are emergency reads (bench/wrk/patient_read.lua).
doctor=prac-13-hosp-physician-1
clerk=$(awk -F'\t' '$2 == "clerk" && $3 == "clinic" { print $1; exit }' "$data/keys/practitioners.tsv")
export RENKEI_IDS="$data/ids.txt" RENKEI_MEMBERS="$data/members.txt"
export RENKEI_TOKEN
RENKEI_TOKEN=$("$renkei" token --keys "$data/keys" --practitioner "$doctor" --url "$base")
read_line=$(run_wrk patient_read "$root/bench/wrk/patient_read.lua" "$base")
RENKEI_TOKEN=$("$renkei" token --keys "$data/keys" --practitioner "$clerk" --url "$base")
elig_line=$(run_wrk eligibility "$root/bench/wrk/eligibility.lua" "$base")
rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status")

python3 "$root/bench/report.py" "$patients" "$connections" "$rss_kib" "$nginx_line" "$read_line" "$elig_line"
