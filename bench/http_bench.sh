#!/usr/bin/env bash
# HTTP load benchmark on loopback (DESIGN.md §7): a seeded renkei server on SQLite with audit
# on, 32 connections of wrk on the same machine, against
#   - GET /fhir/Patient/{id} (audited patient reads),
#   - POST /fhir/Coverage/$verify-eligibility (by insurance numbers, audited),
#   - nginx serving a 225-byte static JSON file (the HTTP limit of the machine).
# Usage: bench/http_bench.sh [PATIENTS]   (default 1000000; the dataset is cached in
# bench/data/ and reused). Environment: DURATION (default 30s), CONNECTIONS (32), THREADS (2),
# RENKEI_BIN (an existing binary), RENKEI_DB_OPTIONS (e.g. ?synchronous=normal),
# RENKEI_SERVE_ARGS (e.g. "--workers 16").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
patients=${1:-1000000}
source "$root/bench/lib.sh"
bench_prepare "$patients"

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

# 2. renkei on the seeded SQLite database.
bench_serve

# The Tokyo emergency hospital's physician: the reads are emergency reads (bench/wrk/patient_read.lua).
doctor=prac-13-hosp-physician-1
clerk=$(awk -F'\t' '$2 == "clerk" && $3 == "clinic" { print $1; exit }' "$data/keys/practitioners.tsv")
export RENKEI_IDS="$data/ids.txt" RENKEI_MEMBERS="$data/members.txt"
export RENKEI_TOKEN
RENKEI_TOKEN=$(bench_token "$doctor")
read_line=$(run_wrk patient_read "$root/bench/wrk/patient_read.lua" "$base")
RENKEI_TOKEN=$(bench_token "$clerk")
elig_line=$(run_wrk eligibility "$root/bench/wrk/eligibility.lua" "$base")
rss_kib=$(bench_rss_kib)

python3 "$root/bench/report.py" "$patients" "$connections" "$rss_kib" "$nginx_line" "$read_line" "$elig_line"
