#!/usr/bin/env bash
# Clinical information sharing under load (issue "Clinical information sharing", DESIGN.md §7):
# a seeded renkei server on SQLite with audit on, 32 wrk connections on the same machine,
#   - register: POST /fhir/Bundle/$register-items, JP-CLINS bundles of 10 Conditions (the
#     demo hospital, new bundle identifiers, patients spread over the dataset);
#   - summary: GET /fhir/Patient/{id}/$summary by a clinic physician with the card consent of
#     each of the 100 patients that have card keys, each holding diagnoses, allergies and labs
#     of the demo hospital.
# Usage: bench/clinical_bench.sh [PATIENTS] (default 1000000; the dataset of http_bench.sh,
# cached in bench/data/). Environment as bench/lib.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
patients=${1:-1000000}
source "$root/bench/lib.sh"
bench_prepare "$patients"
bench_serve

hospital=prac-13-hosp-physician-1
clinic=prac-13-clinic-physician-1
hospital_token=$(bench_token "$hospital")
clinic_token=$(bench_token "$clinic")
valid="$root/tests/clinical/valid"

# The registration template: the test diagnoses bundle with 10 Conditions, no flags that hide.
python3 - "$valid/condition.json" "$work/template.json" <<'PY'
import copy, json, sys
bundle = json.load(open(sys.argv[1], encoding="utf-8"))
condition = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
entries = [bundle["entry"][0]]
for i in range(10):
    e = copy.deepcopy(condition)
    e["resource"]["id"] = f"c{i + 1}"
    e["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{i + 1:012d}"
    e["resource"]["meta"].pop("tag", None)
    if not e["resource"]["meta"]:
        del e["resource"]["meta"]
    entries.append(e)
bundle["entry"] = entries
for ident in bundle["entry"][0]["resource"]["identifier"]:
    if ident["system"].endswith("JP_Insurance_memberID"):
        ident["value"] = "__MEMBER__"
facility, year, _ = bundle["identifier"]["value"].split("^")
bundle["identifier"]["value"] = f"{facility}^{year}^__LOCALID__"
json.dump(bundle, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, separators=(",", ":"))
PY

# The summary's patients: the 100 with card keys, each with items of the hospital and a card
# consent at the clinic.
ls "$data/keys/cards" | sed 's/\.jwk$//' > "$work/consented.txt"
while read -r id; do
  member=$(awk -F'\t' -v id="$id" '$1 == id { print $2 ":" $3 ":" $4 ":" $5; exit }' "$data/keys/patients.tsv")
  for kind in condition allergy observation; do
    python3 - "$valid/$kind.json" "$member" "$id" > "$work/items.json" <<'PY'
import json, sys
bundle = json.load(open(sys.argv[1], encoding="utf-8"))
for ident in bundle["entry"][0]["resource"]["identifier"]:
    if ident["system"].endswith("JP_Insurance_memberID"):
        ident["value"] = sys.argv[2]
facility, year, local = bundle["identifier"]["value"].split("^")
bundle["identifier"]["value"] = f"{facility}^{year}^{local}-{sys.argv[3]}"
print(json.dumps(bundle, ensure_ascii=False))
PY
    curl -fsS -o /dev/null -X POST "$base/fhir/Bundle/\$register-items" -H "Authorization: Bearer $hospital_token" \
      -H 'Content-Type: application/fhir+json' --data-binary @"$work/items.json"
  done
  card=$("$renkei" card sign --keys "$data/keys" --patient "$id" --facility 1310000029 --purpose TREAT --categories all)
  curl -fsS -o /dev/null -X POST "$base/fhir/Consent/\$card" -H "Authorization: Bearer $clinic_token" \
    -H 'Content-Type: application/fhir+json' \
    -d "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"card\",\"valueString\":\"$card\"}]}"
done < "$work/consented.txt"

export RENKEI_MEMBERS="$data/members.txt" RENKEI_TEMPLATE="$work/template.json" RENKEI_TOKEN
RENKEI_TOKEN=$hospital_token
register_line=$(run_wrk register "$root/bench/wrk/register_items.lua" "$base")
export RENKEI_IDS="$work/consented.txt"
RENKEI_TOKEN=$clinic_token
summary_line=$(run_wrk summary "$root/bench/wrk/summary.lua" "$base")
rss_kib=$(bench_rss_kib)

python3 "$root/bench/report.py" "$patients" "$connections" "$rss_kib" "$register_line" "$summary_line"
