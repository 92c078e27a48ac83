#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: listens only on a unix socket in DIR, trust auth,
# fsync on (the tests check durability-relevant behaviour, not speed).
#   scripts/pg-fixture.sh start DIR PORT   # fresh cluster (a stale DIR is removed first),
#                                          # started, database `renkei` created
#   scripts/pg-fixture.sh stop DIR PORT    # fast shutdown, DIR removed
# Clients connect with postgresql:///renkei?host=DIR&port=PORT&user=postgres.
# Runs as root (the server then runs as the `postgres` OS user, as PostgreSQL refuses root)
# or as an ordinary user (the server runs as that user).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR PORT" >&2; exit 2; }
[ $# -eq 3 ] || usage
action=$1 dir=$2 port=$3
case "$dir" in /*) ;; *) echo "DIR must be absolute" >&2; exit 2 ;; esac

bindir=${RENKEI_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for v in 17 16 15 14 13; do
    if [ -x /usr/lib/postgresql/$v/bin/pg_ctl ]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
[ -n "$bindir" ] && [ -x "$bindir/pg_ctl" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "the postgres OS user does not exist" >&2; exit 1; }
  as_pg() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_pg() { "$@"; }
  owner=$(id -un)
fi

stop_server() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w -t 30 >/dev/null 2>&1 ||
      as_pg "$bindir/pg_ctl" -D "$dir/data" stop -m immediate -w -t 30 >/dev/null 2>&1 || true
  fi
}

cd /  # the server user may not be able to read the caller's working directory
case "$action" in
  start)
    # A stale directory from a crashed run: stop whatever still runs there, then start clean.
    stop_server
    rm -rf "$dir"
    mkdir -p "$dir"
    chown "$owner" "$dir"
    chmod 700 "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = on
max_connections = 200
shared_buffers = 64MB
log_min_messages = warning
CONF
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    as_pg "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
      -c "CREATE DATABASE renkei" >/dev/null
    echo "postgresql:///renkei?host=$dir&port=$port&user=postgres"
    ;;
  stop)
    stop_server
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
