#!/usr/bin/env bash
# Quick start, part 1: installs what renkei needs, builds it, creates a SQLite database with
# demo data (renkei seed) and serves it on http://127.0.0.1:8080.
# Environment: RENKEI_DEMO_DIR (default ./demo), RENKEI_LISTEN (default 127.0.0.1:8080).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=${RENKEI_DEMO_DIR:-$root/demo}
listen=${RENKEI_LISTEN:-127.0.0.1:8080}

bash "$root/scripts/install-deps.sh" run
bash "$root/scripts/build.sh" "$root/build" -DRENKEI_BUILD_TESTS=OFF -DRENKEI_BUILD_BENCH=OFF
renkei="$root/build/src/app/renkei"

mkdir -p "$demo"
if [ ! -f "$demo/renkei.db" ]; then
  "$renkei" seed --db "sqlite:$demo/renkei.db" --out "$demo/keys"
fi

cat <<TXT

renkei demo data: $demo/renkei.db
Demo keys and manifest: $demo/keys (manifest.json lists facilities, practitioners, patients)
Try it (in another shell): a physician of the Tokyo hospital reads a patient after the
patient's card-reader consent (without it: 403).
  TOKEN=\$($renkei token --keys $demo/keys --practitioner prac-13-hosp-physician-1 --url http://$listen)
  CARD=\$($renkei card sign --keys $demo/keys --patient pat-000001 --facility 1310000011 --purpose TREAT --categories all)
  curl -s -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/fhir+json' \\
    -d "{\\"resourceType\\":\\"Parameters\\",\\"parameter\\":[{\\"name\\":\\"card\\",\\"valueString\\":\\"\$CARD\\"}]}" \\
    "http://$listen/fhir/Consent/\\\$card"
  curl -s -H "Authorization: Bearer \$TOKEN" "http://$listen/fhir/Patient/pat-000001"
TXT
exec "$renkei" serve --db "sqlite:$demo/renkei.db" --listen "$listen"
