#!/usr/bin/env bash
# The prescription service under load (issue "Electronic prescriptions", DESIGN.md §7): a
# seeded renkei server on SQLite with audit on, 32 wrk connections on the same machine,
#   - check: POST /fhir/MedicationRequest/$check, 3 candidate drugs, by a pharmacist, for
#     patients spread over the dataset, each with a medication history (renkei seed-history:
#     about 5 drugs of the last 100 days, 3% of patients on 10-15);
#   - prescribe: POST /fhir/MedicationRequest/$prescribe, 2 drugs, by a hospital physician.
# Usage: bench/check_bench.sh [PATIENTS] (default 1000000; the dataset of http_bench.sh, cached
# in bench/data/, gets its histories once). Environment as bench/lib.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
patients=${1:-1000000}
source "$root/bench/lib.sh"
bench_prepare "$patients"
if [ ! -f "$data/history.done" ]; then
  echo "adding medication histories (once; cached in $data)"
  /usr/bin/time -f "seed-history: %e s, %M KiB max RSS" "$renkei" seed-history \
    --db "sqlite:$data/renkei.db?synchronous=normal"
  touch "$data/history.done"
fi
bench_serve

export RENKEI_IDS="$data/ids.txt" RENKEI_MEMBERS="$data/members.txt" RENKEI_TOKEN
RENKEI_TOKEN=$(bench_token prac-13-pharmacy-pharmacist-1)
check_line=$(run_wrk check "$root/bench/wrk/check.lua" "$base")
RENKEI_TOKEN=$(bench_token prac-13-hosp-physician-1)
prescribe_line=$(run_wrk prescribe "$root/bench/wrk/prescribe.lua" "$base")
rss_kib=$(bench_rss_kib)

python3 "$root/bench/report.py" "$patients" "$connections" "$rss_kib" "$check_line" "$prescribe_line"
