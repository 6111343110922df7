#!/usr/bin/env bash
# A property-based run of schemathesis against web/openapi.yaml on a running
# `bulk-upload serve` (a fresh demo database, a signed-in session): every generated
# request, valid or not, must get an answer that is not a server error (5xx). Bounded by
# MAX_EXAMPLES per operation.
set -euo pipefail
BIN=${BIN:-target/debug/bulk-upload}
SCHEMATHESIS=${SCHEMATHESIS:-.venv/bin/schemathesis}
PY=${PY:-.venv/bin/python}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
DIR=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
export BULK_UPLOAD_INSECURE_FAST_HASHING=1 BULK_UPLOAD_ARGON2_MEMORY_KIB=64 BULK_UPLOAD_ARGON2_ITERATIONS=1
PASSWORD=$("$BIN" init --demo --db "$DIR/lms.sqlite3" 2>/dev/null | awk '/password:/ {print $2}')
"$BIN" serve --db "$DIR/lms.sqlite3" --listen 127.0.0.1:0 > "$DIR/serve.log" 2> "$DIR/serve.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$DIR/serve.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$DIR/serve.log" | cut -d: -f2)
BASE="http://127.0.0.1:$PORT"
SESSION=$(curl -sf -c "$DIR/cookies" -H "Origin: $BASE" -H 'Content-Type: application/json' \
  -d "{\"email\": \"admin@example.co.nz\", \"password\": \"$PASSWORD\"}" "$BASE/api/session")
CSRF=$(echo "$SESSION" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["csrf_token"])')
COOKIE=$(awk '$6 == "lbu_session" { print $7 }' "$DIR/cookies")
# Real ids to find: an upload, a plan and a finished run (up_1, pl_1, run_N).
curl -sf -b "$DIR/cookies" -H "X-CSRF-Token: $CSRF" -H "Origin: $BASE" \
  -H 'Content-Type: application/octet-stream' --data-binary @examples/data/users.csv \
  "$BASE/api/uploads?filename=users.csv" > /dev/null
# Signing out is left out: it would end the session the run uses.
"$SCHEMATHESIS" run web/openapi.yaml --url "$BASE" \
  -H "Cookie: lbu_session=$COOKIE" -H "X-CSRF-Token: $CSRF" -H "Origin: $BASE" \
  --checks not_a_server_error --max-examples "$MAX_EXAMPLES" --workers 1 \
  --exclude-method DELETE --suppress-health-check all --warnings off
if grep -qi "panicked" "$DIR/serve.err"; then
  echo "the server panicked:"; cat "$DIR/serve.err"; exit 1
fi
echo "schemathesis: no server error"
