#!/usr/bin/env bash
# `make bench` (CLI part): `bulk-upload apply` of N new users with a default password into a
# fresh SQLite database, end to end (read, parse, plan, execute, results CSV). Targets:
# >= 100,000 rows/s without user emails, >= 30,000 rows/s with one .eml per user on disk.
set -euo pipefail
BIN=${BIN:-target/release/bulk-upload}
N=${BENCH_ROWS:-100000}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
awk -v n="$N" 'BEGIN {
  print "firstname,lastname,emailaddress,phonenumber,country,organisation,languagecode,addgroup";
  for (i = 1; i <= n; i++)
    printf "Person%d,Bench,person%d@example.org,+64 21 %07d,New Zealand,Bench Ltd,en-NZ,Sales\n", i, i, i;
}' > "$DIR/users.csv"
"$BIN" init --demo --db "$DIR/lms.sqlite3" > /dev/null
export BENCH_DEFAULT_PASSWORD="Bench-mark-2026-pw"
run() {
  local label=$1; shift
  rm -f "$DIR"/lms2.sqlite3*; rm -rf "$DIR/outbox" "$DIR/results"
  cp "$DIR/lms.sqlite3" "$DIR/lms2.sqlite3"
  local start end
  start=$(date +%s.%N)
  "$BIN" apply "$DIR/users.csv" --db "$DIR/lms2.sqlite3" --yes --color never \
    --site-url https://lms.example.invalid/ \
    --default-password-env BENCH_DEFAULT_PASSWORD --enrol course:induction-101 "$@" > /dev/null
  end=$(date +%s.%N)
  awk -v n="$N" -v s="$start" -v e="$end" -v l="$label" \
    'BEGIN { printf "cli apply %-45s %7d rows in %6.2f s = %8.0f rows/s\n", l, n, e - s, n / (e - s) }'
}
echo "cli apply targets: >= 100,000 rows/s without user emails, >= 30,000 rows/s with an .eml per user on disk"
run "(default password, no user emails)" --no-notification-email
run "(default password, .eml per user)"
# The same with the outbox in memory (tmpfs), to separate the engine and SQLite from the cost
# of creating 100,000 files on this machine's disk.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d /dev/shm/bulk-upload-bench.XXXXXX)
  trap 'rm -rf "$DIR" "$SHM"' EXIT
  run "(default password, .eml per user on tmpfs)" --outbox "$SHM/outbox"
fi
