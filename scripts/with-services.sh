#!/usr/bin/env bash
# Runs a command with the services the tests need: PostgreSQL (LBU_PG_URL) and Redis
# (LBU_REDIS_URL). A URL already set is used as it is (the machine's own servers, say);
# otherwise a throwaway server is started for this run — `initdb` in a temporary folder and
# `redis-server` without persistence, each on a free port of 127.0.0.1 — and stopped when
# the command ends, whatever its outcome. Debian's packages are installed when a program is
# missing and apt is usable. Usage: scripts/with-services.sh make test-all
set -euo pipefail

log() { printf 'with-services: %s\n' "$*" >&2; }

need_packages=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "${LBU_PG_URL:-}" ] && [ ! -x "${pg_bin:-/nonexistent}/initdb" ]; then need_packages+=(postgresql); fi
if [ -z "${LBU_REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then need_packages+=(redis-server); fi
if [ ${#need_packages[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing ${need_packages[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_packages[@]}" >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  else
    log "the tests need PostgreSQL and Redis: install ${need_packages[*]}, or set LBU_PG_URL and LBU_REDIS_URL" && exit 1
  fi
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lbu-services.XXXXXX")
pg_pid_file=""
redis_pid=""
cleanup() {
  [ -n "$pg_pid_file" ] && run_as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` account.
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${LBU_PG_URL:-}" ]; then
  port=$(free_port)
  mkdir -p "$work/pg" "$work/pg-socket"
  [ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg" "$work/pg-socket"
  chmod 0711 "$work"
  run_as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust --no-sync >/dev/null
  run_as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
    -o "-p $port -k $work/pg-socket -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  pg_pid_file="$work/pg/postmaster.pid"
  run_as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
  export LBU_PG_URL="postgresql://postgres@127.0.0.1:$port/test"
  log "PostgreSQL for this run at $LBU_PG_URL"
fi

if [ -z "${LBU_REDIS_URL:-}" ]; then
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
    --logfile "$work/redis.log" &
  redis_pid=$!
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export LBU_REDIS_URL="redis://127.0.0.1:$port/0"
  log "Redis for this run at $LBU_REDIS_URL"
fi

"$@"
