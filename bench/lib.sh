# Shared by the HTTP load benchmarks (sourced): the cached dataset, the server under test and
# wrk. Expects `root` (the repository) and sets renkei, data, work, base, server_pid.
# Environment: DURATION (default 30s), CONNECTIONS (32), THREADS (2), RENKEI_BIN (an existing
# binary instead of a Release build), RENKEI_DB_OPTIONS (e.g. ?synchronous=normal),
# RENKEI_SERVE_ARGS (more `renkei serve` options, e.g. "--workers 16").
duration=${DURATION:-30s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}

# bench_prepare PATIENTS: installs wrk and nginx, builds renkei (or takes RENKEI_BIN), seeds the
# dataset once into bench/data/pPATIENTS and writes its id and insurance-number lists.
bench_prepare() {
  local patients=$1
  data="$root/bench/data/p$patients"
  bash "$root/scripts/install-deps.sh" test
  if [ -n "${RENKEI_BIN:-}" ]; then
    renkei=$RENKEI_BIN
  else
    # RelWithDebInfo (-O2), as scripts/build.sh builds the server; GCC 12 -O3 raises false
    # -Wrestrict warnings in libstdc++ string code.
    bash "$root/scripts/build.sh" "$root/build-bench" -DRENKEI_BUILD_TESTS=OFF -DRENKEI_BUILD_BENCH=OFF
    renkei="$root/build-bench/src/app/renkei"
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
  trap bench_cleanup EXIT
  export RENKEI_WRK_DIR="$root/bench/wrk"
}

bench_cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}

# bench_serve: renkei on the dataset's SQLite database, the rate limit out of the way.
bench_serve() {
  "$renkei" serve --db "sqlite:$data/renkei.db${RENKEI_DB_OPTIONS:-}" --listen 127.0.0.1:0 \
    --port-file "$work/port" --rate 100000000 --burst 100000000 ${RENKEI_SERVE_ARGS:-} \
    > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.1; done
  base="http://127.0.0.1:$(cat "$work/port")"
  for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
}

# bench_token PRACTITIONER: an access token of a seeded practitioner.
bench_token() {
  "$renkei" token --keys "$data/keys" --practitioner "$1" --url "$base"
}

# run_wrk NAME SCRIPT URL: one wrk run; prints the script's RESULT line named NAME.
run_wrk() {
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$2" "$3" 2>&1)
  echo "$out" | grep RESULT | sed "s/^RESULT/$1/"
}

# bench_rss_kib: the server's peak resident set so far.
bench_rss_kib() {
  awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status"
}
