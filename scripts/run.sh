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

doctor=$(python3 - "$demo/keys/manifest.json" <<'PY' 2>/dev/null || true
import json, sys
m = json.load(open(sys.argv[1]))
print(next(p["id"] for p in m["practitioners"] if p["qualification"] == "physician"))
PY
)
cat <<TXT

renkei demo data: $demo/renkei.db
Demo keys and manifest: $demo/keys (manifest.json lists facilities, practitioners, patients)
Try it (in another shell):
  TOKEN=\$($renkei token --keys $demo/keys --practitioner ${doctor:-<id from manifest>} --url http://$listen)
  curl -s -H "Authorization: Bearer \$TOKEN" "http://$listen/fhir/Patient?_count=2"
TXT
exec "$renkei" serve --db "sqlite:$demo/renkei.db" --listen "$listen"
